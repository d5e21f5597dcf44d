"""Supply curve (sites ranked by LCOE) and the gap to the city targets.

The supply curve ranks the **eligible** sites of a run from cheapest to dearest
levelised cost of electricity (LCOE), separately for PV (every ``pv_*``
technology) and wind, and accumulates their capacity and energy. Where the
cumulative capacity crosses a city target, the site that crosses it is marked:
its LCOE is the marginal cost of reaching that target from the census potential.

Cost assumptions live in ``census/resources/costs.yaml`` (config section
``costs``) and reach :class:`CostsConfig` without Python defaults::

    values, ledger = load_assumptions("costs")
    costs = CostsConfig.model_validate(values)

Without costs the sites are ranked by resource quality: PV by specific yield
and wind by capacity factor, best first.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from census.exceptions import ConfigError, InputError, SchemaError
from census.schema import require_columns
from census.settings.costs import CostsConfig, TechnologyCost
from census.units import mwh_to_gwh

__all__ = [
    "CURVES",
    "CostsConfig",
    "TechnologyCost",
    "capital_recovery_factor",
    "existing_by_district",
    "existing_gap",
    "existing_in_run",
    "lcoe_cny_kwh",
    "lifetime_energy_factor",
    "supply_curve",
    "target_values",
]

logger = logging.getLogger(__name__)

CURVES: dict[str, str] = {"pv": "pv_", "wind": "wind"}
"""Supply curves and the technology prefix each one gathers."""


def capital_recovery_factor(
    rate_frac: float | npt.ArrayLike, lifetime_yr: float | npt.ArrayLike
) -> float | np.ndarray:
    """Capital recovery factor: the annuity that repays 1 over a lifetime.

    ``CRF = r (1 + r)^n / ((1 + r)^n - 1)``, and ``1 / n`` when ``r == 0``.

    Parameters
    ----------
    rate_frac : float or array_like
        Discount rate per year, 0-1. [frac]
    lifetime_yr : float or array_like
        Lifetime; must be > 0. [yr]

    Returns
    -------
    float or numpy.ndarray
        Annual payment per unit of capital. [yr⁻¹]

    Raises
    ------
    ValueError
        If a rate is negative or not below 1, or a lifetime is not positive.

    Examples
    --------
    >>> round(capital_recovery_factor(0.0, 25), 6)
    0.04
    """
    r = np.asarray(rate_frac, dtype=float)
    n = np.asarray(lifetime_yr, dtype=float)
    if np.any(r < 0) or np.any(r >= 1):
        raise ValueError(
            f"rate_frac must be in [0, 1) (a fraction, not percent); got {rate_frac!r}"
        )
    if np.any(n <= 0):
        raise ValueError(f"lifetime_yr must be > 0; got {lifetime_yr!r}")
    growth = np.power(1.0 + r, n)
    with np.errstate(invalid="ignore", divide="ignore"):
        crf = np.where(r > 0, r * growth / (growth - 1.0), 1.0 / n)
    return float(crf) if crf.ndim == 0 else crf


def lifetime_energy_factor(
    rate_frac: float | npt.ArrayLike,
    lifetime_yr: float | npt.ArrayLike,
    degradation_frac_yr: float | npt.ArrayLike,
) -> float | np.ndarray:
    """Discounted lifetime energy per discounted year of first-year output.

    ``F = Σ_{t=1..n} (1 - d)^(t-1) / (1 + r)^t  /  Σ_{t=1..n} 1 / (1 + r)^t``:
    the share of a constant-output plant's discounted energy that a plant
    losing ``d`` of its output each year delivers. 1 when ``d == 0``.

    Parameters
    ----------
    rate_frac : float or array_like
        Discount rate per year, 0-1. [frac]
    lifetime_yr : float or array_like
        Lifetime, > 0. [yr]
    degradation_frac_yr : float or array_like
        Yearly output decline after year 1, 0-1. [frac yr⁻¹]

    Returns
    -------
    float or numpy.ndarray
        Levelised output factor, in (0, 1]. [frac]

    Examples
    --------
    Two years, no discounting, 10 % decline: (1 + 0.9) / 2 = 0.95.

    >>> round(lifetime_energy_factor(0.0, 2, 0.1), 12)
    0.95
    """
    r = np.asarray(rate_frac, dtype=float)
    n = np.asarray(lifetime_yr, dtype=float)
    d = np.asarray(degradation_frac_yr, dtype=float)
    if np.any(d < 0) or np.any(d >= 1):
        raise ValueError(
            f"degradation_frac_yr must be in [0, 1) (a fraction, not percent); got "
            f"{degradation_frac_yr!r}"
        )
    capital_recovery_factor(r, n)  # validates r and n

    def annuity(q: np.ndarray) -> np.ndarray:
        # Σ_{k=0..n-1} q^k, the geometric series (n where q == 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(np.isclose(q, 1.0), n, (1.0 - np.power(q, n)) / (1.0 - q))

    factor = annuity((1.0 - d) / (1.0 + r)) / annuity(1.0 / (1.0 + r))
    return float(factor) if np.ndim(factor) == 0 else factor


def lcoe_cny_kwh(
    capex_cny_kw: float | npt.ArrayLike,
    opex_cny_kw_yr: float | npt.ArrayLike,
    energy_kwh_kw_yr: float | npt.ArrayLike,
    *,
    discount_rate_frac: float | npt.ArrayLike,
    lifetime_yr: float | npt.ArrayLike,
    degradation_frac_yr: float | npt.ArrayLike = 0.0,
) -> float | np.ndarray:
    """Levelised cost of electricity: discounted costs over discounted lifetime energy.

    ``LCOE = (capex + Σ opex / (1 + r)^t) / Σ E (1 - d)^(t-1) / (1 + r)^t`` over
    years ``t = 1..n``, capex at ``t = 0``. Dividing through by the annuity
    ``Σ 1 / (1 + r)^t = 1 / CRF`` gives ``(capex × CRF + opex) / (E × F)`` with
    ``F`` the :func:`lifetime_energy_factor`; ``E`` is the first-year energy
    per kW (the specific yield for PV, ``8760 × capacity factor`` for wind).

    Parameters
    ----------
    capex_cny_kw : float or array_like
        Installed cost. [CNY kW⁻¹]
    opex_cny_kw_yr : float or array_like
        Fixed O&M cost. [CNY kW⁻¹ yr⁻¹]
    energy_kwh_kw_yr : float or array_like
        First-year energy per kW of capacity. [kWh kW⁻¹ yr⁻¹]
    discount_rate_frac : float or array_like
        Real discount rate, 0-1. [frac]
    lifetime_yr : float or array_like
        Economic lifetime. [yr]
    degradation_frac_yr : float or array_like, default 0
        Yearly output decline after the first year. [frac yr⁻¹]

    Returns
    -------
    float or numpy.ndarray
        LCOE; ``inf`` where the energy is 0, NaN where it is NaN. [CNY kWh⁻¹]

    Examples
    --------
    >>> round(lcoe_cny_kwh(4000.0, 40.0, 1000.0, discount_rate_frac=0.0, lifetime_yr=25), 6)
    0.2
    """
    crf = capital_recovery_factor(discount_rate_frac, lifetime_yr)
    factor = lifetime_energy_factor(discount_rate_frac, lifetime_yr, degradation_frac_yr)
    annual = np.asarray(capex_cny_kw, dtype=float) * crf + np.asarray(opex_cny_kw_yr, dtype=float)
    e = np.asarray(energy_kwh_kw_yr, dtype=float) * factor
    with np.errstate(divide="ignore", invalid="ignore"):
        per_kwh = annual / np.where(e > 0, e, 1.0)
        out = np.where(e > 0, per_kwh, np.where(np.isnan(e), np.nan, np.inf))
    return float(out) if out.ndim == 0 else out


def target_values(targets: Any) -> dict[str, float]:
    """Return ``{target name: target [MW]}`` from a targets table or a targets section.

    Parameters
    ----------
    targets : pandas.DataFrame, TargetsConfig, mapping or None
        A :func:`census.rollup.targets_table` (columns ``target``, ``target_mw``),
        or the ``targets`` config section (its ``records``). [MW]

    Returns
    -------
    dict of str to float
        E.g. ``{"pv_2025": 4800.0, ...}`` for the enabled targets; empty for ``None``.
    """
    from census.rollup import target_records

    return {spec.name: spec.capacity_mw for spec in target_records(targets)}


def _curve_of(technology: pd.Series) -> pd.Series:
    tech = technology.astype("string").fillna("")
    return pd.Series(
        np.where(
            tech.str.startswith(CURVES["pv"]), "pv", np.where(tech == CURVES["wind"], "wind", "")
        ),
        index=technology.index,
    )


_SITE_COLUMNS = ("site_id", "technology", "eligible", "capacity_mw_dc", "energy_mwh_yr")
# columns of the site table a supply curve carries along, when present
_CARRIED = (
    "site_id",
    "district",
    "adcode",
    "category",
    "technology",
    "capacity_mw_dc",
    "capacity_mw_ac",
    "energy_mwh_yr",
    "specific_yield_kwh_kwp",
    "capacity_factor",
)
_CURVE_COLUMNS = (
    "curve",
    "rank",
    *_CARRIED[:8],
    "energy_gwh_yr",
    "energy_kwh_kw_yr",
    *_CARRIED[8:],
    "lcoe_cny_kwh",
    "cumulative_capacity_mw",
    "cumulative_capacity_mw_ac",
    "cumulative_energy_gwh_yr",
    "reaches_target",
)


def supply_curve(
    sites: pd.DataFrame,
    costs: CostsConfig | None,
    *,
    technologies: Sequence[str] | None = None,
    targets: Any = None,
) -> pd.DataFrame:
    """Rank eligible sites by LCOE and accumulate capacity and energy.

    Parameters
    ----------
    sites : pandas.DataFrame
        Site table with ``site_id``, ``technology``, ``eligible``,
        ``capacity_mw_dc`` [MW], ``energy_mwh_yr`` [MWh yr⁻¹]; ``district``,
        ``adcode``, ``category``, ``specific_yield_kwh_kwp`` and
        ``capacity_factor`` are carried along when present.
    costs : CostsConfig or None
        Cost assumptions. ``None`` ranks PV by ``specific_yield_kwh_kwp`` and
        wind by ``capacity_factor``, highest first, and leaves ``lcoe_cny_kwh`` NaN.
    technologies : sequence of str, optional
        Technologies to include; default all.
    targets : pandas.DataFrame or TargetsConfig, optional
        City targets (see :func:`target_values`); targets named ``pv_*`` mark the
        PV curve, ``wind_*`` the wind curve.

    Returns
    -------
    pandas.DataFrame
        One row per eligible site with capacity > 0: ``curve`` (``pv`` or
        ``wind``), ``rank`` (1 = cheapest within its curve), the site columns,
        ``energy_gwh_yr``, ``energy_kwh_kw_yr``, ``lcoe_cny_kwh``,
        ``cumulative_capacity_mw`` (DC), ``cumulative_capacity_mw_ac`` (when the
        sites carry ``capacity_mw_ac``), ``cumulative_energy_gwh_yr``, and
        ``reaches_target``: names of the targets whose value the cumulative
        capacity on the target's own basis reaches at this site (``;``-separated, empty elsewhere).
        PV rows come first. The last row of each curve has the total eligible
        capacity of that curve.

    Raises
    ------
    SchemaError
        If a required column is missing.
    ConfigError
        If ``costs`` has no entry for a technology in the table.
    """
    require_columns(sites, _SITE_COLUMNS, what="supply_curve")
    # only the columns the curve carries (a 1e6-site table has ~50 others)
    carry = [c for c in (*_CARRIED, "eligible") if c in sites.columns]
    df = pd.DataFrame({c: sites[c] for c in carry})
    df["capacity_mw_dc"] = pd.to_numeric(df["capacity_mw_dc"], errors="coerce")
    df["energy_mwh_yr"] = pd.to_numeric(df["energy_mwh_yr"], errors="coerce").fillna(0.0)
    keep = df["eligible"].fillna(False).astype(bool) & (df["capacity_mw_dc"].fillna(0.0) > 0)
    if technologies is not None:
        keep &= df["technology"].isin(list(technologies))
    df = df[keep].copy()
    df["curve"] = _curve_of(df["technology"])
    other = sorted(df.loc[df["curve"] == "", "technology"].astype(str).unique())
    if other:
        warnings.warn(
            f"supply_curve: technologies {other} are neither pv_* nor wind and are "
            "left out of the supply curve.",
            stacklevel=2,
        )
        df = df[df["curve"] != ""]
    # MWh / MW == kWh / kW: a ratio of like units, no conversion needed.
    df["energy_kwh_kw_yr"] = df["energy_mwh_yr"] / df["capacity_mw_dc"]
    df["energy_gwh_yr"] = mwh_to_gwh(df["energy_mwh_yr"])
    if costs is not None:
        needed = sorted(df["technology"].astype(str).unique())
        absent = [t for t in needed if t not in costs.technologies]
        if absent:
            raise ConfigError(
                f"costs has no entry for technologies {absent} (have "
                f"{sorted(costs.technologies)}). Add [costs.technologies.{absent[0]}] with "
                "capex_cny_kw, opex_cny_kw_yr, lifetime_yr and degradation_frac_yr to your config."
            )
        # each site's technology as a code into its few distinct names (a map of a
        # million texts through a dict cost ~0.4 s per cost figure)
        tech_code, tech_names = pd.factorize(df["technology"].astype(str))

        def per_site(attr: str) -> np.ndarray:
            per_tech = [float(getattr(costs.technologies[t], attr)) for t in tech_names]
            return np.asarray(per_tech, dtype=float)[tech_code]

        df["lcoe_cny_kwh"] = (
            lcoe_cny_kwh(
                per_site("capex_cny_kw"),
                per_site("opex_cny_kw_yr"),
                df["energy_kwh_kw_yr"].to_numpy(float),
                discount_rate_frac=costs.discount_rate_frac,
                lifetime_yr=per_site("lifetime_yr"),
                degradation_frac_yr=per_site("degradation_frac_yr"),
            )
            if len(df)
            else np.array([], dtype=float)
        )
    else:
        df["lcoe_cny_kwh"] = np.nan
    from census.rollup import target_records

    goals = target_records(targets)
    parts = []
    for curve in CURVES:
        part = df[df["curve"] == curve].copy()
        if costs is not None:
            key, ascending = "lcoe_cny_kwh", True
        elif curve == "pv":
            key, ascending = (
                (
                    "specific_yield_kwh_kwp"
                    if "specific_yield_kwh_kwp" in part
                    else "energy_kwh_kw_yr"
                ),
                False,
            )
        else:
            key, ascending = (
                ("capacity_factor" if "capacity_factor" in part else "energy_kwh_kw_yr"),
                False,
            )
        part["_key"] = pd.to_numeric(part[key], errors="coerce")
        part["_sid"] = part["site_id"].astype(str)
        part = part.sort_values(
            ["_key", "_sid"], ascending=[ascending, True], na_position="last", kind="mergesort"
        )
        part = part.drop(columns=["_key", "_sid"])
        part["rank"] = np.arange(1, len(part) + 1)
        part["cumulative_capacity_mw"] = part["capacity_mw_dc"].cumsum()
        if "capacity_mw_ac" in part.columns:
            ac = pd.to_numeric(part["capacity_mw_ac"], errors="coerce").fillna(0.0)
            part["cumulative_capacity_mw_ac"] = ac.cumsum()
        part["cumulative_energy_gwh_yr"] = part["energy_gwh_yr"].cumsum()
        reached = [""] * len(part)
        for spec in goals:
            if spec.curve != curve or not len(part):
                continue
            # a target is reached on its own capacity basis
            col = (
                "cumulative_capacity_mw_ac"
                if spec.capacity_basis == "ac" and "cumulative_capacity_mw_ac" in part
                else "cumulative_capacity_mw"
            )
            cum = part[col].to_numpy()
            before = np.concatenate([[0.0], cum[:-1]])
            name, value = spec.name, spec.capacity_mw
            hit = np.nonzero((before < value) & (cum >= value))[0]
            if value <= 0:
                hit = np.array([0])
            for i in hit[:1]:
                reached[i] = f"{reached[i]};{name}" if reached[i] else name
        part["reaches_target"] = reached
        parts.append(part)
    out = pd.concat(parts, ignore_index=True) if parts else df.iloc[0:0]
    cols = [c for c in _CURVE_COLUMNS if c in out.columns]
    return out[cols].reset_index(drop=True)


def _existing_with_adcode(existing: pd.DataFrame, by_district: pd.DataFrame) -> pd.DataFrame:
    """Give every row of the existing-capacity table the adcode of its district."""
    ex = existing.copy()
    if "adcode" in ex.columns and ex["adcode"].notna().all():
        ex["adcode"] = ex["adcode"].astype("int64")
        return ex
    if "district" not in ex.columns:
        raise SchemaError(
            "existing-capacity table needs a column 'adcode' or 'district'; "
            f"got {list(ex.columns)}."
        )
    names = by_district[["adcode", "name_zh", "name_en"]].drop_duplicates()
    lookup: dict[str, int] = {}
    for code, zh, en in names.itertuples(index=False):
        for key in (zh, en, str(code)):
            if isinstance(key, str) and key:
                lookup[key.strip().casefold()] = int(code)
    codes = []
    for name, code in zip(
        ex["district"], ex.get("adcode", pd.Series([pd.NA] * len(ex))), strict=True
    ):
        if pd.notna(code):
            codes.append(int(code))
            continue
        key = str(name).strip().casefold()
        if key not in lookup:
            known = sorted(str(n) for n in names["name_en"])
            raise InputError(
                f"existing-capacity table: district {name!r} is not a district of this run "
                f"(known: {known}). Use the adcode, the Chinese or the English name."
            )
        codes.append(lookup[key])
    ex["adcode"] = pd.Series(codes, index=ex.index, dtype="int64")
    return ex


def existing_in_run(
    existing: pd.DataFrame | None, by_district: pd.DataFrame
) -> pd.DataFrame | None:
    """Rows of an existing-capacity table inside the run's districts, with their adcode.

    Parameters
    ----------
    existing : pandas.DataFrame or None
        :func:`census.io.existing.read_existing_capacity` output.
    by_district : pandas.DataFrame
        District x category x technology table (``adcode``, ``name_zh``, ``name_en``).

    Returns
    -------
    pandas.DataFrame or None
        ``existing`` with an integer ``adcode`` on every row, without rows of
        districts outside the run (they are named in a warning); ``None`` stays ``None``.
    """
    if existing is None:
        return None
    ex = _existing_with_adcode(existing, by_district)
    inside = ex["adcode"].isin(set(by_district["adcode"].astype("int64")))
    if not inside.all():
        warnings.warn(
            f"existing-capacity rows for adcodes {sorted(set(ex.loc[~inside, 'adcode']))} are "
            "outside this run's districts and are left out of the targets.",
            stacklevel=2,
        )
    return ex[inside].reset_index(drop=True)


def existing_by_district(
    by_district: pd.DataFrame,
    existing: pd.DataFrame | None,
    *,
    basis: str = "ac",
    pv_dc_ac_ratio: float = 1.0,
) -> pd.DataFrame:
    """Existing installed capacity beside the census potential, per district.

    Parameters
    ----------
    by_district : pandas.DataFrame
        District x category x technology table of :func:`census.rollup.summarize_by_district`.
    existing : pandas.DataFrame or None
        Existing capacity from :func:`census.io.existing.read_existing_capacity`
        (``adcode`` or ``district``, ``technology``, ``capacity_mw_ac`` /
        ``capacity_mw_dc`` [MW]).
    basis : {"ac", "dc"}, default "ac"
        Capacity basis of every column (potential and existing).
    pv_dc_ac_ratio : float, default 1.0
        Converts existing PV rows given on the other basis
        (``targets.existing_pv_dc_ac_ratio``). [-]

    Returns
    -------
    pandas.DataFrame
        ``adcode``, ``name_zh``, ``name_en``, ``capacity_basis``,
        ``pv_potential_mw``, ``pv_existing_mw``, ``wind_potential_mw``,
        ``wind_existing_mw`` [MW]; the ``*_existing_mw`` columns are NaN without
        an existing table.
    """
    from census.rollup import existing_on_basis

    names = (
        by_district[["adcode", "name_zh", "name_en"]]
        .drop_duplicates("adcode")
        .sort_values("adcode")
        .reset_index(drop=True)
    )
    curve = _curve_of(by_district["technology"])
    cap_col = "capacity_mw_ac" if basis == "ac" else "capacity_mw_dc"
    out = names.copy()
    out["capacity_basis"] = basis
    for c in CURVES:
        pot = by_district[curve == c].groupby("adcode")[cap_col].sum()
        out[f"{c}_potential_mw"] = out["adcode"].map(pot).fillna(0.0).astype(float)
        out[f"{c}_existing_mw"] = np.nan
    if existing is not None:
        ex = _existing_with_adcode(existing, by_district)
        ex["_mw"] = existing_on_basis(ex, basis, pv_dc_ac_ratio=pv_dc_ac_ratio)
        ex_curve = np.where(
            ex["technology"].astype(str).str.startswith("pv"),
            "pv",
            np.where(ex["technology"].astype(str) == "wind", "wind", ""),
        )
        outside = sorted(set(ex["adcode"]) - set(out["adcode"]))
        if outside:
            warnings.warn(
                f"existing-capacity rows for adcodes {outside} are outside this run's "
                "districts and are left out.",
                stacklevel=3,
            )
        for c in CURVES:
            got = ex[ex_curve == c].groupby("adcode")["_mw"].sum()
            out[f"{c}_existing_mw"] = out["adcode"].map(got).fillna(0.0).astype(float)
    return out[
        [
            "adcode",
            "name_zh",
            "name_en",
            "capacity_basis",
            "pv_potential_mw",
            "pv_existing_mw",
            "wind_potential_mw",
            "wind_existing_mw",
        ]
    ]


def existing_gap(
    by_district: pd.DataFrame, existing: pd.DataFrame | None, targets: Any
) -> pd.DataFrame:
    """Targets against existing capacity and census potential.

    The gap columns of :func:`census.rollup.targets_table` (one computation, one
    place), kept for the report's gap section.

    Parameters
    ----------
    by_district : pandas.DataFrame
        District x category x technology table (:func:`census.rollup.summarize_by_district`).
    existing : pandas.DataFrame or None
        Existing installed capacity (:func:`census.io.existing.read_existing_capacity`).
        ``None``: the result is potential, not a gap (the gap columns are NaN).
    targets : TargetsConfig or mapping
        The ``targets`` config section (records on a stated basis). [MW]

    Returns
    -------
    pandas.DataFrame
        One row per target: ``target``, ``capacity_basis``, ``target_mw``,
        ``existing_mw``, ``remaining_mw`` (target minus existing, at least 0),
        ``potential_mw``, ``potential_to_remaining_ratio``, ``shortfall_mw``
        (remaining minus potential, at least 0), ``has_existing`` (bool). [MW]
    """
    from census.rollup import targets_table

    table = targets_table(by_district, targets, existing=existing_in_run(existing, by_district))
    return table[
        [
            "target",
            "capacity_basis",
            "target_mw",
            "existing_mw",
            "remaining_mw",
            "potential_mw",
            "potential_to_remaining_ratio",
            "shortfall_mw",
            "has_existing",
        ]
    ].reset_index(drop=True)
