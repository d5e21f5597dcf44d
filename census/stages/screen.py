"""Screening stage: eligibility, every reason behind it, usable area and geometry."""

from __future__ import annotations

import geopandas as gpd

from census.sites.screen import screen_sites
from census.stages.context import RunContext

__all__ = ["screen"]


def screen(sites: gpd.GeoDataFrame, ctx: RunContext) -> tuple[gpd.GeoDataFrame, RunContext]:
    """Screen every site by the rules of its category.

    Parameters
    ----------
    sites : geopandas.GeoDataFrame
        Site table from the load stage, in the metric CRS.
    ctx : RunContext
        Uses ``config.rules``, ``exclusions``, ``dem`` and ``landcover``.

    Returns
    -------
    sites : geopandas.GeoDataFrame
        With ``eligible``, ``exclusion_reasons``, ``clipped_by``, ``usable_area_m2``,
        ``slope_deg``, ``aspect_deg``, ``elevation_m``, ``surface_tilt_deg``,
        ``surface_azimuth_deg``, ``technology``, ``pv_archetype``.
    ctx : RunContext
        With ``usable_geometry`` and ``tally``.
    """
    result = screen_sites(
        sites, ctx.config.rules, ctx.exclusions, dem=ctx.dem, landcover=ctx.landcover
    )
    ctx.usable_geometry = result.usable_geometry
    ctx.tally = result.tally
    return result.sites, ctx
