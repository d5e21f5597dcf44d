"""Roll-up: district and city tables, targets, storage obligation and CO2 avoided."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from census.schema import require_columns
from census.units import HOURS_PER_YEAR, m2_to_km2, mwh_to_gwh

__all__ = ["district_table", "city_table", "targets_table", "summarize_by_district"]

logger = logging.getLogger(__name__)

_REQUIRED = (
    "district",
    "adcode",
    "category",
    "technology",
    "eligible",
    "usable_area_m2",
    "capacity_mw_dc",
    "capacity_mw_ac",
    "energy_mwh_yr",
)


SUM_COLUMNS = (
    "sites",
    "eligible_sites",
    "usable_area_km2",
    "capacity_mw_dc",
    "capacity_mw_ac",
    "energy_mwh_yr",
    "energy_gwh_yr",
    "storage_mw",
    "storage_mwh",
    "co2_avoided_t_yr",
)
"""Additive columns of the district table (summed from districts to the city)."""


def _check(sites: pd.DataFrame) -> None:
    require_columns(sites, _REQUIRED, what="rollup")


def _aggregate(
    df: pd.DataFrame,
    keys: list[str],
    storage_tech: set[str],
    storage_frac: float,
    duration_h: float,
    ef: float,
) -> pd.DataFrame:
    d = df.assign(
        _elig=df["eligible"].astype(bool),
        _cap=np.where(df["eligible"], df["capacity_mw_dc"].fillna(0.0), 0.0),
        _cap_ac=np.where(df["eligible"], df["capacity_mw_ac"].fillna(0.0), 0.0),
        _en=np.where(df["eligible"], df["energy_mwh_yr"].fillna(0.0), 0.0),
        _area=np.where(df["eligible"], df["usable_area_m2"].fillna(0.0), 0.0),
    )
    d["_store"] = np.where(d["technology"].isin(storage_tech), d["_cap"], 0.0)
    g = (
        d.groupby(keys, dropna=False, sort=True)
        .agg(
            sites=("site_id", "size"),
            eligible_sites=("_elig", "sum"),
            usable_area_km2=("_area", "sum"),
            capacity_mw_dc=("_cap", "sum"),
            capacity_mw_ac=("_cap_ac", "sum"),
            energy_mwh_yr=("_en", "sum"),
            storage_base_mw=("_store", "sum"),
        )
        .reset_index()
    )
    g["usable_area_km2"] = m2_to_km2(g["usable_area_km2"])
    g["energy_gwh_yr"] = mwh_to_gwh(g["energy_mwh_yr"])
    with np.errstate(invalid="ignore", divide="ignore"):
        g["capacity_factor"] = np.where(
            g["capacity_mw_dc"] > 0,
            g["energy_mwh_yr"] / (g["capacity_mw_dc"] * HOURS_PER_YEAR),
            np.nan,
        )
    g["storage_mw"] = g.pop("storage_base_mw") * storage_frac
    g["storage_mwh"] = g["storage_mw"] * duration_h
    g["co2_avoided_t_yr"] = g["energy_mwh_yr"] * ef
    return g


def summarize_by_district(
    sites: pd.DataFrame,
    districts: pd.DataFrame,
    *,
    storage_technologies: list[str],
    storage_min_frac: float,
    storage_duration_h: float,
    grid_emission_factor_tco2_mwh: float,
) -> pd.DataFrame:
    """District x category x technology table.

    Parameters
    ----------
    sites : pandas.DataFrame
        Site table with ``district``, ``adcode``, ``category``, ``technology``,
        ``eligible``, ``usable_area_m2``, ``capacity_mw_dc``, ``capacity_mw_ac``,
        ``energy_mwh_yr``.
    districts : pandas.DataFrame
        ``adcode``, ``name_zh``, ``name_en`` of the districts in the run (every
        district gets rows, zero where it has no sites).
    storage_technologies : list of str
        Technologies that carry the storage obligation.
    storage_min_frac : float
        Storage power as a share of their capacity. [frac]
    storage_duration_h : float
        Storage duration. [h]
    grid_emission_factor_tco2_mwh : float
        CO2 avoided per MWh generated. [tCO2 MWh⁻¹]

    Returns
    -------
    pandas.DataFrame
        One row per (district, category, technology): ``adcode``, ``name_zh``,
        ``name_en``, ``category``, ``technology``, ``sites``, ``eligible_sites``,
        ``usable_area_km2``, ``capacity_mw_dc``, ``capacity_mw_ac``, ``energy_mwh_yr``,
        ``energy_gwh_yr``,
        ``capacity_factor``, ``storage_mw``, ``storage_mwh``, ``co2_avoided_t_yr``.
    """
    _check(sites)
    g = _aggregate(
        sites,
        ["adcode", "category", "technology"],
        set(storage_technologies),
        storage_min_frac,
        storage_duration_h,
        grid_emission_factor_tco2_mwh,
    )
    names = pd.DataFrame(districts[["adcode", "name_zh", "name_en"]]).copy()
    names["adcode"] = names["adcode"].astype("int64")
    g["adcode"] = g["adcode"].astype("int64")
    out = names.merge(g, on="adcode", how="left")
    numeric = list(SUM_COLUMNS)
    out[numeric] = out[numeric].fillna(0)
    out[["sites", "eligible_sites"]] = out[["sites", "eligible_sites"]].astype("int64")
    out["category"] = out["category"].fillna("")
    out["technology"] = out["technology"].fillna("")
    return out.sort_values(["adcode", "category", "technology"]).reset_index(drop=True)


def district_table(by_district: pd.DataFrame) -> pd.DataFrame:
    """Collapse the district x category table to one row per district."""
    cols = list(SUM_COLUMNS)
    g = by_district.groupby(["adcode", "name_zh", "name_en"], as_index=False)[cols].sum()
    pv = (
        by_district[by_district["technology"].str.startswith("pv")]
        .groupby("adcode")["capacity_mw_dc"]
        .sum()
    )
    wind = (
        by_district[by_district["technology"] == "wind"].groupby("adcode")["capacity_mw_dc"].sum()
    )
    g["pv_capacity_mw"] = g["adcode"].map(pv).fillna(0.0)
    g["wind_capacity_mw"] = g["adcode"].map(wind).fillna(0.0)
    return g


def city_table(by_district: pd.DataFrame) -> pd.DataFrame:
    """City totals per category and technology (sums of the district rows)."""
    cols = list(SUM_COLUMNS)
    rows = by_district[by_district["technology"] != ""]
    g = rows.groupby(["category", "technology"], as_index=False)[cols].sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        g["capacity_factor"] = np.where(
            g["capacity_mw_dc"] > 0,
            g["energy_mwh_yr"] / (g["capacity_mw_dc"] * HOURS_PER_YEAR),
            np.nan,
        )
    total = g[cols].sum().to_frame().T
    # PV capacity is DC (module nameplate), wind capacity AC (turbine rating)
    total.insert(0, "technology", "all (PV MW DC + wind MW AC)")
    total.insert(0, "category", "all")
    return pd.concat([g, total], ignore_index=True)


def targets_table(by_district: pd.DataFrame, targets) -> pd.DataFrame:
    """Census potential against each city target.

    Returns
    -------
    pandas.DataFrame
        ``target``, ``target_mw``, ``potential_mw``, ``potential_to_target_ratio``.
        Without a table of existing capacity the potential is not a gap analysis.
    """
    pv = float(
        by_district.loc[by_district["technology"].str.startswith("pv"), "capacity_mw_dc"].sum()
    )
    wind = float(by_district.loc[by_district["technology"] == "wind", "capacity_mw_dc"].sum())
    rows = [
        ("pv_2025", targets.pv_2025_mw, pv),
        ("pv_2030", targets.pv_2030_mw, pv),
        ("wind_2025_ensured", targets.wind_2025_ensured_mw, wind),
        ("wind_2025_strived", targets.wind_2025_strived_mw, wind),
    ]
    df = pd.DataFrame(rows, columns=["target", "target_mw", "potential_mw"])
    df["potential_to_target_ratio"] = df["potential_mw"] / df["target_mw"].where(
        df["target_mw"] > 0
    )
    return df
