"""Roll-up stage: district and city tables, targets, supply curve, existing-capacity gap."""

from __future__ import annotations

import geopandas as gpd

from census.rollup import city_table, district_table, summarize_by_district, targets_table
from census.stages.context import RunContext
from census.supply import existing_by_district, existing_gap, supply_curve

__all__ = ["ADDITIVE_SITE_COLUMNS", "roll_up"]

ADDITIVE_SITE_COLUMNS = ("capacity_mw_dc", "capacity_mw_ac", "energy_mwh_yr")
"""Site columns summed by the roll-up; a site without a value counts 0."""


def roll_up(sites: gpd.GeoDataFrame, ctx: RunContext) -> tuple[gpd.GeoDataFrame, RunContext]:
    """Summarize the site table by district, category and technology, against the targets.

    Parameters
    ----------
    sites : geopandas.GeoDataFrame
        Site table after the yield stage.
    ctx : RunContext
        Uses ``districts``, ``config.targets``, ``config.costs`` and
        ``existing_capacity``.

    Returns
    -------
    sites : geopandas.GeoDataFrame
        With missing capacity and energy set to 0.
    ctx : RunContext
        With ``by_district``, ``district_totals``, ``city``, ``targets``,
        ``supply_curve``, ``existing_gap`` and ``existing_by_district``.
    """
    targets = ctx.config.targets
    sites = sites.copy()
    for col in ADDITIVE_SITE_COLUMNS:
        sites[col] = sites[col].fillna(0.0) if col in sites else 0.0
    by = summarize_by_district(
        sites,
        ctx.districts,
        storage_technologies=targets.storage_technologies,
        storage_min_frac=targets.storage_min_frac,
        storage_duration_h=targets.storage_duration_h,
        grid_emission_factor_tco2_mwh=targets.grid_emission_factor_tco2_mwh,
    )
    ctx.by_district = by
    ctx.district_totals = district_table(by)
    ctx.city = city_table(by)
    ctx.targets = targets_table(by, targets)
    ctx.supply_curve = supply_curve(sites, ctx.config.costs, targets=targets)
    ctx.existing_gap = existing_gap(by, ctx.existing_capacity, targets)
    ctx.existing_by_district = existing_by_district(by, ctx.existing_capacity)
    return sites, ctx
