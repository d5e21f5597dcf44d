"""Hourly generation by place and technology as an xarray Dataset.

The series come from the yield stage itself (:class:`census.hourly.SiteSeries`:
the PV orientation nodes' hourly AC output and the wind resource keys' turbine
power), so the Dataset's annual sums are the annual tables' ``energy_mwh_yr``
by construction of the same numbers, not by a second model. Grouping a million
sites costs two sparse products: ``(groups x sites) @ (sites x series)`` then
``@ (series x hours)``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr
from scipy import sparse

from census.exceptions import SchemaError
from census.hourly import SiteSeries

__all__ = ["build_profiles", "group_generation"]

logger = logging.getLogger(__name__)

_VARIABLE_ATTRS = {
    "generation_mw": {
        "long_name": "AC electrical power generation, mean over the time interval",
        "units": "MW",
        "cell_methods": "time: mean",
    },
    "capacity_mw_ac": {
        "long_name": "installed AC capacity of eligible sites (PV inverter rating, wind "
        "turbine rating)",
        "units": "MW",
    },
    "capacity_mw_dc": {
        "long_name": "installed DC capacity of eligible sites (PV module nameplate at STC; "
        "wind: turbine rating)",
        "units": "MW",
    },
    "capacity_factor": {
        "long_name": "AC generation per MW of AC capacity (PyPSA p_max_pu)",
        "units": "1",
        "valid_min": 0.0,
        "valid_max": 1.0,
        "cell_methods": "time: mean",
    },
    "energy_mwh_yr": {
        "long_name": "annual AC energy: generation_mw summed over time times annual_factor_h",
        "units": "MW h a-1",
    },
}


def group_generation(
    series: SiteSeries,
    sites: pd.DataFrame,
    *,
    by: Sequence[str],
    mask: np.ndarray | None = None,
    shares: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Sum the hourly output of sites by groups.

    Parameters
    ----------
    series : census.hourly.SiteSeries
        Shared series and site weights from the yield stage.
    sites : pandas.DataFrame
        The site table; the rows named by ``series.site_index`` must be in it.
    by : sequence of str
        Columns of ``sites`` to group by (e.g. ``["adcode", "technology"]`` or a
        zone column).
    mask : numpy.ndarray of bool, optional
        Rows of ``sites`` (positional, full length) to count; default the
        ``eligible`` column, as the roll-up counts.
    shares : pandas.DataFrame, optional
        Sites shared between groups (:func:`census.zones.split_by_zone`):
        ``site_index`` (index label in ``sites``), ``by[0]`` (the group key) and
        ``share_frac`` [frac]. The other ``by`` columns come from ``sites``.

    Returns
    -------
    keys : pandas.DataFrame
        One row per group with the ``by`` columns.
    generation_mw : numpy.ndarray
        Shape (groups, hours): AC power of each group. [MW]

    Raises
    ------
    SchemaError
        If a grouping column is missing or a site of ``series`` is not in ``sites``.
    """
    missing = [c for c in (by if shares is None else by[1:]) if c not in sites.columns]
    if shares is not None:
        missing += [c for c in ("site_index", by[0], "share_frac") if c not in shares.columns]
    if missing:
        raise SchemaError(
            f"group_generation needs columns {list(by)}; missing {missing}, got "
            f"{list(sites.columns)}."
        )
    pos = sites.index.get_indexer(series.site_index)
    if (pos < 0).any():
        raise SchemaError(
            f"{int((pos < 0).sum())} site(s) of the hourly series are not in the site table "
            "(index labels differ); pass the site table the yield stage returned."
        )
    if mask is None:
        mask = (
            sites["eligible"].fillna(False).to_numpy(bool)
            if "eligible" in sites
            else np.ones(len(sites), bool)
        )
    if shares is None:
        column = np.arange(len(pos))  # position of each piece's site in the series
        weight = np.ones(len(pos))
        frame = sites.iloc[pos][list(by)].reset_index(drop=True)
        keep = np.asarray(mask, bool)[pos]
    else:
        column = pd.Index(series.site_index).get_indexer(shares["site_index"])
        inside = column >= 0  # pieces of sites of other series (e.g. wind for PV) drop out
        piece = shares.loc[inside]
        column = column[inside]
        weight = pd.to_numeric(piece["share_frac"], errors="coerce").fillna(0.0).to_numpy()
        site_pos = sites.index.get_indexer(piece["site_index"])
        frame = sites.iloc[site_pos][list(by[1:])].reset_index(drop=True)
        frame.insert(0, by[0], piece[by[0]].to_numpy())
        keep = np.asarray(mask, bool)[site_pos]
    if len(frame) == 0:
        return pd.DataFrame(columns=list(by)), np.zeros((0, len(series.index)))
    codes, keys = _factorize(frame)
    keep &= codes >= 0  # a NaN key: group it nowhere, as pandas' groupby drops NaN keys
    n_groups = len(keys)
    member = sparse.csr_matrix(
        (weight[keep], (codes[keep], column[keep])),
        shape=(n_groups, len(pos)),
    )
    # (groups x sites) @ (sites x series) stays sparse and small; then one dense product
    group_weights = member @ series.weights
    generation = np.asarray(group_weights @ series.unit_power_mw)
    return keys, generation


def _factorize(frame: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
    """Integer code of each row's key (-1 if any part is NaN) and the distinct keys.

    One integer per row from per-column codes: ~10x faster than factorizing a
    MultiIndex of a million tuples.
    """
    parts = [pd.factorize(frame[c]) for c in frame.columns]
    combined = np.zeros(len(frame), dtype=np.int64)
    valid = np.ones(len(frame), dtype=bool)
    for codes, uniques in parts:
        combined = combined * max(len(uniques), 1) + np.maximum(codes, 0)
        valid &= codes >= 0
    distinct, inverse = np.unique(combined[valid], return_inverse=True)
    out = np.full(len(frame), -1, dtype=np.int64)
    out[valid] = inverse
    keys = {}
    rest = distinct
    for col, (_, uniques) in zip(reversed(frame.columns), reversed(parts), strict=True):
        size = max(len(uniques), 1)
        keys[col] = np.asarray(uniques)[rest % size]
        rest = rest // size
    return out, pd.DataFrame({c: keys[c] for c in frame.columns})


def build_profiles(
    sites: pd.DataFrame,
    series: Sequence[SiteSeries],
    groups: pd.DataFrame,
    *,
    group_column: str = "adcode",
    dim: str = "district",
    label_columns: Sequence[str] = ("name_zh", "name_en"),
    technologies: Sequence[str] | None = None,
    shares: pd.DataFrame | None = None,
) -> xr.Dataset:
    """Hourly generation, capacity and capacity factor by group and technology.

    Parameters
    ----------
    sites : pandas.DataFrame
        Site table after the yield stage: ``technology``, ``eligible``,
        ``capacity_mw_ac``, ``capacity_mw_dc`` and ``group_column``.
    series : sequence of census.hourly.SiteSeries
        The PV and wind series of the run (one pair per weather year). Series
        of different weather years are aligned hour of the year by hour of the
        year on the first one's time stamps (as the PV profile CSV is).
    groups : pandas.DataFrame
        Every group of the run (also those without sites): ``group_column`` and
        ``label_columns``.
    group_column : str, default "adcode"
        Column of ``sites`` and ``groups`` that names a group (any grouping: a
        zone column works the same way).
    dim : str, default "district"
        Name of the group dimension.
    label_columns : sequence of str, default ("name_zh", "name_en")
        Columns of ``groups`` that become coordinates along ``dim``.
    technologies : sequence of str, optional
        Technologies along ``technology``; default every technology of ``sites``.
    shares : pandas.DataFrame, optional
        Sites shared between groups by area (:func:`census.zones.split_by_zone`,
        with its ``zone`` column as ``group_column``): generation and capacity
        are split by ``share_frac``, so zone profiles add up to the districts'.

    Returns
    -------
    xarray.Dataset
        Dimensions ``time`` (the weather year's tz-aware stamps), ``dim`` and
        ``technology``; variables ``generation_mw`` (time, dim, technology)
        [MW AC], ``capacity_factor`` (same; generation over AC capacity, NaN
        without capacity) [-], ``capacity_mw_ac``, ``capacity_mw_dc`` [MW] and
        ``energy_mwh_yr`` [MWh yr⁻¹] (dim, technology); CF-style attributes
        (``units``, ``long_name``) on each, and ``interval_label``,
        ``time_zone`` and ``annual_factor_h`` on the Dataset.

    Raises
    ------
    SchemaError
        If a column is missing, or the series have different lengths.
    """
    need = ["technology", "capacity_mw_ac", "capacity_mw_dc"]
    need += [group_column] if shares is None else []
    missing = [c for c in need if c not in sites.columns]
    if missing:
        raise SchemaError(
            f"build_profiles needs site columns {need}; missing {missing}. Run the capacity "
            "and yield stages first."
        )
    series = [s for s in series if s is not None]
    if not series:
        raise SchemaError("build_profiles needs at least one hourly series from the yield stage.")
    index = series[0].index
    for s in series[1:]:
        if len(s.index) != len(index):
            raise SchemaError(
                f"hourly series of {len(s.index)} and {len(index)} steps cannot be combined; "
                "every weather file of a run needs the same hourly year."
            )
    eligible = (
        sites["eligible"].fillna(False).to_numpy(bool)
        if "eligible" in sites
        else np.ones(len(sites), bool)
    )
    tech_col = sites["technology"].astype("string")
    if technologies is None:
        technologies = sorted(t for t in tech_col.dropna().unique() if t)
    techs = list(technologies)
    group_ids = groups[group_column].to_numpy()
    gen = np.zeros((len(index), len(group_ids), len(techs)))
    g_pos = pd.Index(group_ids)
    t_pos = pd.Index(techs)
    for s in series:
        keys, power = group_generation(
            s, sites, by=[group_column, "technology"], mask=eligible, shares=shares
        )
        gi = g_pos.get_indexer(keys[group_column])
        ti = t_pos.get_indexer(keys["technology"].astype("string"))
        ok = (gi >= 0) & (ti >= 0)
        if (~ok).any():
            logger.debug("hourly profiles: %d groups outside the run's groups", int((~ok).sum()))
        gen[:, gi[ok], ti[ok]] += power[ok].T  # keys are unique within one series

    if shares is None:
        elig = sites.loc[eligible]
        share = pd.Series(1.0, index=elig.index)
        group_key = elig[group_column]
    else:
        pos = sites.index.get_indexer(shares["site_index"])
        ok = (pos >= 0) & eligible[np.where(pos >= 0, pos, 0)]
        elig = sites.iloc[pos[ok]]
        share = pd.Series(shares["share_frac"].to_numpy(float)[ok], index=elig.index)
        group_key = pd.Series(shares[group_column].to_numpy()[ok], index=elig.index)
    cap = {}
    for col in ("capacity_mw_ac", "capacity_mw_dc"):
        values = pd.Series(
            pd.to_numeric(elig[col], errors="coerce").fillna(0.0).to_numpy() * share.to_numpy()
        )
        table = values.groupby(
            [group_key.to_numpy(), elig["technology"].astype("string").to_numpy()]
        ).sum()
        table.index = table.index.set_names([group_column, "technology"])
        cap[col] = (
            table.unstack("technology").reindex(index=group_ids, columns=techs).fillna(0.0)
        ).to_numpy(float)
    factor_h = series[0].annual_factor_h
    with np.errstate(invalid="ignore", divide="ignore"):
        cf = np.where(cap["capacity_mw_ac"][None] > 0, gen / cap["capacity_mw_ac"][None], np.nan)
    coords: dict[str, tuple[str, np.ndarray] | np.ndarray] = {
        "time": index,
        dim: group_ids,
        "technology": np.array(techs, dtype=object),
    }
    for col in label_columns:
        coords[col] = (dim, groups[col].astype(str).to_numpy(dtype=object))
    ds = xr.Dataset(
        {
            "generation_mw": (("time", dim, "technology"), gen),
            "capacity_factor": (("time", dim, "technology"), cf),
            "capacity_mw_ac": ((dim, "technology"), cap["capacity_mw_ac"]),
            "capacity_mw_dc": ((dim, "technology"), cap["capacity_mw_dc"]),
            "energy_mwh_yr": ((dim, "technology"), gen.sum(axis=0) * factor_h),
        },
        coords=coords,
    )
    for name, attrs in _VARIABLE_ATTRS.items():
        ds[name].attrs.update(attrs)
    ds["time"].attrs.update({"standard_name": "time", "axis": "T", "long_name": "time"})
    ds[dim].attrs.update({"long_name": f"{dim} ({group_column})"})
    ds["technology"].attrs.update({"long_name": "generation technology"})
    label = series[0].interval_label
    ds.attrs.update(
        {
            "Conventions": "CF-1.10",
            "title": f"Hourly AC generation by {dim} and technology",
            "source": "census: the yield stage's orientation-node (PV) and turbine (wind) series",
            "interval_label": label,
            "time_note": (
                "each time stamp labels the START of its interval; values are interval means"
                if label == "beginning"
                else f"time stamps label the {label} of each interval"
            ),
            "time_zone": str(index.tz) if index.tz is not None else "UTC",
            "annual_factor_h": float(factor_h),
            "annual_factor_note": (
                "energy_mwh_yr = generation_mw summed over time x annual_factor_h "
                "(= 1 h for a 8760-hour year; scales other lengths to 8760 h)"
            ),
            "capacity_basis": "capacity_factor is over AC capacity (capacity_mw_ac)",
        }
    )
    return ds
