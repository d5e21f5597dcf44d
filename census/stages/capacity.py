"""Capacity stage: PV capacity from usable area, wind turbines laid out in usable areas.

A wind site where no turbine fits is no longer eligible (reason ``no_turbine_room``);
that is decided here, and the screening tally is taken again so that it agrees
with ``eligible``.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from census.exceptions import ConfigError
from census.sites.screen import REASON_SEP, tally_reasons
from census.solar.capacity import add_pv_capacity
from census.stages.context import RunContext
from census.wind.layout import layout_turbines, resolve_prevailing_direction_deg
from census.wind.turbines import make_turbine

__all__ = ["NO_TURBINE_ROOM", "empty_turbines", "size_capacity"]

NO_TURBINE_ROOM = "no_turbine_room"
"""Reason code of an eligible wind site whose usable area holds no turbine."""


def empty_turbines(crs: object) -> gpd.GeoDataFrame:
    """Return a turbine table with no rows (``site_id``, ``turbine_id``, ``energy_mwh_yr``)."""
    return gpd.GeoDataFrame(
        {
            "site_id": pd.Series(dtype=str),
            "turbine_id": pd.Series(dtype=str),
            "energy_mwh_yr": pd.Series(dtype=float),
        },
        geometry=gpd.GeoSeries([], crs=crs),
    )


def size_capacity(sites: gpd.GeoDataFrame, ctx: RunContext) -> tuple[gpd.GeoDataFrame, RunContext]:
    """Add PV capacity and lay out wind turbines.

    Parameters
    ----------
    sites : geopandas.GeoDataFrame
        Screened site table.
    ctx : RunContext
        Uses ``config.pv``, ``config.wind.layout``, ``turbine``, ``usable_geometry``
        and ``weather_groups`` (the prevailing wind direction of each year).

    Returns
    -------
    sites : geopandas.GeoDataFrame
        With ``capacity_mw_dc``, ``capacity_mw_ac``, ``pv_technology`` (PV rows),
        ``n_turbines`` and ``wind_speed_hub_m_s`` (NaN until the yield stage);
        eligible wind sites without room for one turbine become ineligible with
        reason ``no_turbine_room`` and no usable area.
    ctx : RunContext
        With ``turbines`` (points, metric CRS) and ``tally`` taken again.
    """
    sites = add_pv_capacity(sites, ctx.config.pv)
    for col, val in (("n_turbines", 0), ("wind_speed_hub_m_s", np.nan)):
        if col not in sites:
            sites[col] = val
    is_wind = (sites["technology"] == "wind").to_numpy()
    if not is_wind.any():
        ctx.turbines = empty_turbines(sites.crs)
        return sites, ctx
    turbines = _layout(sites, is_wind, ctx)
    placed = sites["site_id"].isin(turbines["site_id"]).to_numpy()
    no_room = is_wind & sites["eligible"].to_numpy() & ~placed
    if no_room.any():
        sites = sites.copy()
        sites.loc[no_room, "eligible"] = False
        sites.loc[no_room, "usable_area_m2"] = 0.0
        sites.loc[no_room, "exclusion_reasons"] = [
            REASON_SEP.join([r for r in (s, NO_TURBINE_ROOM) if r])
            for s in sites.loc[no_room, "exclusion_reasons"]
        ]
    ctx.tally = tally_reasons(sites)
    ctx.turbines = turbines
    return sites, ctx


def _layout(sites: gpd.GeoDataFrame, is_wind: np.ndarray, ctx: RunContext) -> gpd.GeoDataFrame:
    """Turbines of every wind site, each weather year giving its own prevailing direction."""
    cfg = ctx.config
    if ctx.turbine is None:  # a site table passed in directly, not through the load stage
        ctx.turbine = make_turbine(cfg.wind.turbine)
    usable = ctx.usable_geometry if ctx.usable_geometry is not None else sites.geometry
    pairs = ctx.weather_masks(sites) or [(None, np.ones(len(sites), dtype=bool))]
    parts = []
    for group, rows in pairs:
        mask = is_wind & rows
        if not mask.any():
            continue
        frame = gpd.GeoDataFrame(
            sites.loc[mask, ["site_id", "eligible", "technology"]],
            geometry=np.asarray(usable.values)[mask],
            crs=sites.crs,
        )
        if group is None and cfg.wind.layout.prevailing_direction_deg is None:
            raise ConfigError(
                "the wind layout needs a prevailing direction: run the load stage (its weather "
                "year gives the wind rose) or set wind.layout.prevailing_direction_deg."
            )
        direction = resolve_prevailing_direction_deg(
            group.weather if group is not None else None, cfg.wind.layout
        )
        parts.append(
            layout_turbines(
                frame,
                rotor_diameter_m=ctx.turbine.rotor_diameter_m,
                spacing_along_d=cfg.wind.layout.spacing_along_d,
                spacing_across_d=cfg.wind.layout.spacing_across_d,
                prevailing_direction_deg=direction,
            )
        )
    if not parts:
        return empty_turbines(sites.crs)
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=sites.crs)
