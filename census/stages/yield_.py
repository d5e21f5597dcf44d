"""Yield stage: PV energy by orientation bins (pvlib), wind energy per site (windpowerlib)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from census.exceptions import ConfigError
from census.solar.yield_ import add_pv_yield
from census.stages.capacity import empty_turbines
from census.stages.context import RunContext
from census.wind.yield_ import add_wind_yield

__all__ = ["estimate_yield", "put_back"]


def estimate_yield(sites: gpd.GeoDataFrame, ctx: RunContext) -> tuple[gpd.GeoDataFrame, RunContext]:
    """Add annual energy and capacity factor to every PV and wind site.

    Each weather year of the run is applied to the sites of its districts.

    Parameters
    ----------
    sites : geopandas.GeoDataFrame
        Site table after the capacity stage.
    ctx : RunContext
        Uses ``weather_groups``, ``config.pv``, ``config.wind``, ``turbine``,
        ``turbines`` and ``wind_atlas``.

    Returns
    -------
    sites : geopandas.GeoDataFrame
        With ``specific_yield_kwh_kwp`` (PV), ``energy_mwh_yr`` [MWh yr⁻¹],
        ``capacity_factor`` [frac] and the wind columns of
        :func:`census.wind.yield_.add_wind_yield`.
    ctx : RunContext
        With ``pv_profile_mw`` (hourly AC PV output per category [MW]),
        ``hourly_series`` and the turbines' ``energy_mwh_yr``.

    Raises
    ------
    ConfigError
        Without a weather year (run the load stage first).
    """
    pairs = ctx.weather_masks(sites)
    if not pairs:
        raise ConfigError("the yield stage needs a weather year: run the load stage first.")
    cfg = ctx.config
    turbines = ctx.turbines if ctx.turbines is not None else empty_turbines(sites.crs)
    is_wind = (sites["technology"] == "wind").to_numpy()
    profiles, turbine_parts = [], []
    for group, rows in pairs:
        whole = bool(rows.all())
        sub = sites if whole else sites.loc[rows]
        sub, profile, series = add_pv_yield(
            sub, group.weather, group.metadata, cfg.pv, return_series=True
        )
        profiles.append(profile)
        ctx.hourly_series.append(series)  # for census.profiles (roll-up stage)
        if (is_wind & rows).any():
            tur = turbines[turbines["site_id"].isin(sub.loc[is_wind[rows], "site_id"])]
            sub, tur, series = add_wind_yield(
                sub,
                tur,
                group.weather,
                group.metadata,
                cfg.wind,
                atlas=ctx.wind_atlas,
                turbine=ctx.turbine,
                return_series=True,
            )
            turbine_parts.append(tur)
            ctx.hourly_series.append(series)
        sites = sub if whole else put_back(sites, sub)
    ctx.pv_profile_mw = _sum_profiles(profiles)
    if turbine_parts:
        ctx.turbines = gpd.GeoDataFrame(pd.concat(turbine_parts, ignore_index=True), crs=sites.crs)
    else:
        ctx.turbines = turbines
    return sites, ctx


def put_back(sites: gpd.GeoDataFrame, sub: pd.DataFrame) -> gpd.GeoDataFrame:
    """Write the rows of ``sub`` (a subset of ``sites`` by index) back into ``sites``."""
    sites = sites.copy()
    for col in sub.columns:
        if col == sites.geometry.name:
            continue
        if col not in sites.columns:
            sites[col] = pd.Series(
                np.nan if sub[col].dtype.kind in "fiu" else None,
                index=sites.index,
                dtype="float64" if sub[col].dtype.kind in "fiu" else object,
            )
        if sites[col].dtype != sub[col].dtype:
            sites[col] = sites[col].astype(object)
        sites.loc[sub.index, col] = sub[col]
    if "eligible" in sites:
        sites["eligible"] = sites["eligible"].astype(bool)
    return sites


def _sum_profiles(profiles: list[pd.DataFrame]) -> pd.DataFrame:
    """Sum hourly profiles of several weather years (aligned hour by hour of the year)."""
    ref = profiles[0].index
    total = None
    for prof in profiles:
        prof = prof.set_axis(ref)
        total = prof if total is None else total.add(prof, fill_value=0.0)
    return total.fillna(0.0)
