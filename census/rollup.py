"""Roll-up: district and city tables, targets, storage obligation and CO2 avoided.

Targets are records (``[targets.records.<name>]``: label, technologies, year,
capacity, capacity basis, source), so another city's targets need no code. Each
target is compared with the census potential and the existing capacity on its own
basis: PV potential is summed from ``capacity_mw_ac`` or ``capacity_mw_dc``;
wind has one capacity, its AC rating, on both.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from census.schema import require_columns
from census.units import HOURS_PER_YEAR, m2_to_km2, mwh_to_gwh

__all__ = [
    "NO_EXISTING_NOTE",
    "TargetSpec",
    "city_table",
    "district_table",
    "existing_on_basis",
    "summarize_by_district",
    "target_records",
    "targets_table",
    "technology_mask",
]

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
    storage_basis: str = "dc",
) -> pd.DataFrame:
    d = df.assign(
        _elig=df["eligible"].astype(bool),
        _cap=np.where(df["eligible"], df["capacity_mw_dc"].fillna(0.0), 0.0),
        _cap_ac=np.where(df["eligible"], df["capacity_mw_ac"].fillna(0.0), 0.0),
        _en=np.where(df["eligible"], df["energy_mwh_yr"].fillna(0.0), 0.0),
        _area=np.where(df["eligible"], df["usable_area_m2"].fillna(0.0), 0.0),
    )
    store_cap = d["_cap_ac"] if storage_basis == "ac" else d["_cap"]
    d["_store"] = np.where(d["technology"].isin(storage_tech), store_cap, 0.0)
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
    storage_basis: str = "dc",
    emission_factor_name: str | None = None,
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
    storage_basis : {"ac", "dc"}, default "dc"
        Capacity the storage share is taken of (``targets.storage_basis``).
    emission_factor_name : str, optional
        Name of the emission-factor preset; written to the column
        ``emission_factor`` (with its value) so every table names it.

    Returns
    -------
    pandas.DataFrame
        One row per (district, category, technology): ``adcode``, ``name_zh``,
        ``name_en``, ``category``, ``technology``, ``sites``, ``eligible_sites``,
        ``usable_area_km2``, ``capacity_mw_dc``, ``capacity_mw_ac``, ``energy_mwh_yr``,
        ``energy_gwh_yr``,
        ``capacity_factor``, ``storage_mw``, ``storage_mwh``, ``co2_avoided_t_yr``,
        ``storage_basis`` and ``emission_factor`` (text).
    """
    _check(sites)
    if storage_basis not in ("ac", "dc"):
        raise ValueError(f"storage_basis must be 'ac' or 'dc'; got {storage_basis!r}")
    g = _aggregate(
        sites,
        ["adcode", "category", "technology"],
        set(storage_technologies),
        storage_min_frac,
        storage_duration_h,
        grid_emission_factor_tco2_mwh,
        storage_basis,
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
    out["storage_basis"] = storage_basis
    out["emission_factor"] = _factor_label(emission_factor_name, grid_emission_factor_tco2_mwh)
    return out.sort_values(["adcode", "category", "technology"]).reset_index(drop=True)


def _factor_label(name: str | None, value: float) -> str:
    return f"{name or 'grid emission factor'} ({value:g} tCO2/MWh)"


_LABEL_COLUMNS = ("storage_basis", "emission_factor")
"""Text columns of the district table that name the run's bases; carried to every table."""


def _carry_labels(src: pd.DataFrame, dst: pd.DataFrame) -> pd.DataFrame:
    for col in _LABEL_COLUMNS:
        if col in src.columns and len(src):
            dst[col] = src[col].iloc[0]
    return dst


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
    pv_ac = (
        by_district[by_district["technology"].str.startswith("pv")]
        .groupby("adcode")["capacity_mw_ac"]
        .sum()
    )
    g["pv_capacity_mw"] = g["adcode"].map(pv).fillna(0.0)
    g["pv_capacity_mw_ac"] = g["adcode"].map(pv_ac).fillna(0.0)
    g["wind_capacity_mw"] = g["adcode"].map(wind).fillna(0.0)
    return _carry_labels(by_district, g)


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
    return _carry_labels(by_district, pd.concat([g, total], ignore_index=True))


NO_EXISTING_NOTE = (
    "no existing-capacity table given: existing capacity and remaining need are unknown, "
    "the potential is compared with the whole target (set [targets] existing_capacity)"
)
"""Note of every target row when no existing-capacity table was given."""


@dataclass(frozen=True)
class TargetSpec:
    """One enabled city target, as the roll-up uses it.

    Attributes
    ----------
    name : str
        Stable name (the record's key), e.g. ``"pv_2025"``.
    label : str
        Name shown in reports.
    technologies : tuple of str
        Site-table technologies counted (``"pv"`` = every ``pv_*``).
    year : int
        Target year.
    capacity_mw : float
        Target capacity. [MW]
    capacity_basis : {"ac", "dc"}
        Basis of the target.
    source : str
        Citation of the target.
    """

    name: str
    label: str
    technologies: tuple[str, ...]
    year: int
    capacity_mw: float
    capacity_basis: str
    source: str

    @property
    def curve(self) -> str:
        """``"pv"``, ``"wind"`` or ``"mixed"``: which supply curve the target belongs to."""
        kinds = {"pv" if t == "pv" or t.startswith("pv_") else t for t in self.technologies}
        return kinds.pop() if len(kinds) == 1 and kinds <= {"pv", "wind"} else "mixed"


def _get(obj: Any, key: str, default: Any = None) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(key, default)
    return getattr(obj, key, default)


def target_records(targets: Any) -> list[TargetSpec]:
    """Return the enabled targets of a targets section, in configuration order.

    Parameters
    ----------
    targets : TargetsConfig, mapping or pandas.DataFrame
        The ``targets`` config section (or its JSON dump from ``provenance.json``),
        or a :func:`targets_table` result.

    Returns
    -------
    list of TargetSpec
    """
    if targets is None:
        return []
    if isinstance(targets, pd.DataFrame):
        require_columns(targets, ["target", "target_mw"], what="targets table")
        out = []
        for row in targets.to_dict("records"):
            name = str(row["target"])
            techs = row.get("technologies")
            out.append(
                TargetSpec(
                    name=name,
                    label=str(row.get("label") or name),
                    technologies=tuple(str(techs).split(";"))
                    if isinstance(techs, str) and techs
                    else (("wind",) if name.startswith("wind") else ("pv",)),
                    year=int(row["year"]) if pd.notna(row.get("year", np.nan)) else 0,
                    capacity_mw=float(row["target_mw"]),
                    capacity_basis=str(row.get("capacity_basis") or "dc"),
                    source=str(row.get("source") or ""),
                )
            )
        return out
    records = _get(targets, "records")
    if records is None:
        raise TypeError(
            f"targets must be a targets config section with 'records' or a targets table; "
            f"got {type(targets).__name__}."
        )
    out = []
    for name, rec in dict(records).items():
        if not _get(rec, "enabled", True):
            continue
        out.append(
            TargetSpec(
                name=str(name),
                label=str(_get(rec, "label") or name),
                technologies=tuple(_get(rec, "technologies")),
                year=int(_get(rec, "year")),
                capacity_mw=float(_get(rec, "capacity_mw")),
                capacity_basis=str(_get(rec, "capacity_basis")),
                source=str(_get(rec, "source") or ""),
            )
        )
    return out


def technology_mask(technology: pd.Series, technologies: Iterable[str]) -> pd.Series:
    """Rows whose technology a target counts (``"pv"`` matches every ``pv_*``).

    Parameters
    ----------
    technology : pandas.Series
        Technology of each row.
    technologies : iterable of str
        A target's technologies.

    Returns
    -------
    pandas.Series of bool
    """
    tech = technology.astype(str)
    mask = np.zeros(len(tech), dtype=bool)
    for t in technologies:
        mask |= (tech == t).to_numpy()
        if t == "pv":
            mask |= tech.str.startswith("pv_").to_numpy()
    return pd.Series(mask, index=technology.index)


def existing_on_basis(existing: pd.DataFrame, basis: str, *, pv_dc_ac_ratio: float) -> pd.Series:
    """Existing capacity of each row of an existing-capacity table on one basis.

    A row given on the other basis is converted: wind is the same on both; PV
    AC = DC / ``pv_dc_ac_ratio`` (``targets.existing_pv_dc_ac_ratio``).

    Parameters
    ----------
    existing : pandas.DataFrame
        :func:`census.io.existing.read_existing_capacity` output (``technology``,
        ``capacity_mw_ac``, ``capacity_mw_dc``). [MW]
    basis : {"ac", "dc"}
        Basis wanted.
    pv_dc_ac_ratio : float
        DC/AC ratio for converting PV rows. [-]

    Returns
    -------
    pandas.Series
        Capacity on ``basis``, same index as ``existing``. [MW]
    """
    if basis not in ("ac", "dc"):
        raise ValueError(f"basis must be 'ac' or 'dc'; got {basis!r}")
    other = "dc" if basis == "ac" else "ac"
    cols = {b: f"capacity_mw_{b}" for b in ("ac", "dc")}
    require_columns(
        existing, ["technology", (cols["ac"], cols["dc"])], what="existing-capacity table"
    )
    nan = pd.Series(np.nan, index=existing.index)
    same = pd.to_numeric(existing[cols[basis]], errors="coerce") if cols[basis] in existing else nan
    given = (
        pd.to_numeric(existing[cols[other]], errors="coerce") if cols[other] in existing else nan
    )
    is_pv = existing["technology"].astype(str).str.startswith("pv")
    factor = 1.0 / pv_dc_ac_ratio if basis == "ac" else pv_dc_ac_ratio
    converted = given * np.where(is_pv, factor, 1.0)
    return same.where(same.notna(), converted).fillna(0.0).astype(float)


def targets_table(
    by_district: pd.DataFrame,
    targets: Any,
    *,
    existing: pd.DataFrame | None = None,
    pv_dc_ac_ratio: float | None = None,
) -> pd.DataFrame:
    """Census potential and existing capacity against each city target.

    Targets are cumulative: the remaining need is the target minus the capacity
    already installed, and the potential is set against that need. Potential and
    existing capacity are both taken on the target's ``capacity_basis``.

    Parameters
    ----------
    by_district : pandas.DataFrame
        :func:`summarize_by_district` output (``technology``, ``capacity_mw_dc``,
        ``capacity_mw_ac``). [MW]
    targets : TargetsConfig or mapping
        The ``targets`` section: ``records``, ``existing_pv_dc_ac_ratio``.
    existing : pandas.DataFrame, optional
        Existing installed capacity (:func:`census.io.existing.read_existing_capacity`).
        ``None``: existing and remaining need are NaN and ``note`` says why.
    pv_dc_ac_ratio : float, optional
        Overrides ``targets.existing_pv_dc_ac_ratio`` for converting existing PV
        rows given on the other basis. [-]

    Returns
    -------
    pandas.DataFrame
        One row per enabled target: ``target``, ``label``, ``technologies``
        (``;``-joined), ``year``, ``capacity_basis``, ``target_mw``,
        ``potential_mw`` (on the target's basis), ``potential_mw_dc``,
        ``potential_mw_ac``, ``existing_mw``, ``remaining_mw`` (target minus
        existing, at least 0), ``potential_to_target_ratio``,
        ``potential_to_remaining_ratio`` (inf when nothing remains),
        ``shortfall_mw`` (remaining minus potential, at least 0),
        ``has_existing``, ``note`` and ``source``. [MW]
    """
    require_columns(
        by_district, ["technology", "capacity_mw_dc", "capacity_mw_ac"], what="targets_table"
    )
    ratio = pv_dc_ac_ratio
    if ratio is None:
        ratio = float(_get(targets, "existing_pv_dc_ac_ratio", 1.0) or 1.0)
    rows = []
    converted = False
    for spec in target_records(targets):
        mask = technology_mask(by_district["technology"], spec.technologies)
        pot_dc = float(by_district.loc[mask, "capacity_mw_dc"].sum())
        pot_ac = float(by_district.loc[mask, "capacity_mw_ac"].sum())
        potential = pot_ac if spec.capacity_basis == "ac" else pot_dc
        if existing is None:
            ex = remaining = shortfall = to_remaining = np.nan
            note = NO_EXISTING_NOTE
        else:
            ex_mask = technology_mask(existing["technology"], spec.technologies)
            own = f"capacity_mw_{spec.capacity_basis}"
            if own in existing.columns:
                converted |= bool(
                    (ex_mask & existing[own].isna() & existing["technology"].str.startswith("pv"))
                    .fillna(False)
                    .any()
                )
            ex = float(
                existing_on_basis(existing, spec.capacity_basis, pv_dc_ac_ratio=ratio)[
                    ex_mask
                ].sum()
            )
            remaining = max(spec.capacity_mw - ex, 0.0)
            shortfall = max(remaining - potential, 0.0)
            to_remaining = potential / remaining if remaining > 0 else np.inf
            note = "existing capacity from the existing-capacity table"
        rows.append(
            {
                "target": spec.name,
                "label": spec.label,
                "technologies": ";".join(spec.technologies),
                "year": spec.year,
                "capacity_basis": spec.capacity_basis,
                "target_mw": spec.capacity_mw,
                "potential_mw": potential,
                "potential_mw_dc": pot_dc,
                "potential_mw_ac": pot_ac,
                "existing_mw": ex,
                "remaining_mw": remaining,
                "potential_to_target_ratio": potential / spec.capacity_mw
                if spec.capacity_mw > 0
                else np.nan,
                "potential_to_remaining_ratio": to_remaining,
                "shortfall_mw": shortfall,
                "has_existing": existing is not None,
                "note": note,
                "source": spec.source,
            }
        )
    if converted:
        warnings.warn(
            f"existing-capacity table: PV rows given on one basis only were converted to the "
            f"targets' basis with a DC/AC ratio of {ratio:g} (targets.existing_pv_dc_ac_ratio); "
            "give both capacity_mw_ac and capacity_mw_dc for exact figures.",
            UserWarning,
            stacklevel=2,
        )
    return pd.DataFrame(rows, columns=_TARGET_COLUMNS)


_TARGET_COLUMNS = [
    "target",
    "label",
    "technologies",
    "year",
    "capacity_basis",
    "target_mw",
    "potential_mw",
    "potential_mw_dc",
    "potential_mw_ac",
    "existing_mw",
    "remaining_mw",
    "potential_to_target_ratio",
    "potential_to_remaining_ratio",
    "shortfall_mw",
    "has_existing",
    "note",
    "source",
]
