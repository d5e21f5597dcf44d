"""Roll-up stage: district and city tables, targets, supply curve, existing-capacity gap."""

from __future__ import annotations

import functools
from typing import Any

import geopandas as gpd

from census.population import load_population, per_person_table
from census.profiles import build_profiles, storage_shift_by_district
from census.rollup import city_table, district_table, summarize_by_district, targets_table
from census.stages.context import RunContext
from census.supply import existing_by_district, existing_gap, existing_in_run, supply_curve
from census.zones import summarize_by_zone

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
        ``supply_curve``, ``existing_gap``, ``existing_by_district`` and, from the
        yield stage's hourly series, ``profiles`` and ``storage_shift``.
    """
    targets = ctx.config.targets
    sites = sites.copy(deep=False)  # copy on write: only the columns set below are new
    for col in ADDITIVE_SITE_COLUMNS:
        sites[col] = sites[col].fillna(0.0) if col in sites else 0.0
    summarize = functools.partial(
        summarize_by_district,
        storage_technologies=targets.storage_technologies,
        storage_min_frac=targets.storage_min_frac,
        storage_duration_h=targets.storage_duration_h,
        grid_emission_factor_tco2_mwh=targets.grid_emission_factor_tco2_mwh,
        storage_basis=targets.storage_basis,
        emission_factor_name=targets.emission_factor_preset,
    )
    by = summarize(sites, ctx.districts)
    ctx.by_district = by
    ctx.district_totals = district_table(by)
    ctx.city = city_table(by)
    # targets are cumulative: potential, existing, remaining need, each on its stated basis
    ctx.targets = targets_table(by, targets, existing=existing_in_run(ctx.existing_capacity, by))
    ctx.supply_curve = supply_curve(sites, ctx.config.costs, targets=targets)
    ctx.existing_gap = existing_gap(by, ctx.existing_capacity, targets)
    pv_bases = [r.capacity_basis for r in targets.active_records.values()]
    ctx.existing_by_district = existing_by_district(
        by,
        ctx.existing_capacity,
        basis=pv_bases[0] if pv_bases else "ac",
        pv_dc_ac_ratio=targets.existing_pv_dc_ac_ratio,
    )
    ctx.per_person = per_person_table(by, load_population())
    if ctx.zones is not None:
        zc = ctx.config.zones
        ctx.by_zone = summarize_by_zone(
            sites,
            ctx.zones,
            zone_field=str(zc.field),
            summarize=summarize,
            population_field=zc.population_field,
        )
    ctx.profiles = _profiles(sites, ctx)
    if ctx.profiles is not None:
        ctx.storage_shift = storage_shift_by_district(
            ctx.profiles,
            by,
            technologies=list(targets.storage_technologies),
            export_limit_frac=ctx.config.storage_shift.export_limit_frac,
            round_trip_efficiency_frac=ctx.config.storage_shift.round_trip_efficiency_frac,
        )
    return sites, ctx


def _profiles(sites: gpd.GeoDataFrame, ctx: RunContext) -> Any:
    """Hourly profiles by district and technology (census.profiles), None without series."""
    hourly = ctx.hourly_series
    if not any(s is not None and s.weights.shape[0] for s in hourly):
        return None
    return build_profiles(sites, hourly, ctx.districts[["adcode", "name_zh", "name_en"]])
