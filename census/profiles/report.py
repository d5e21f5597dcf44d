"""Report and workbook pieces made from the hourly profiles.

:func:`typical_day_figure` draws the mean day of each season; the text on it
(titles, season names, axis labels) is passed in, so that a translated report
passes its own. :func:`report_context` and :func:`workbook_tables` are the hooks
that ``census.report`` calls.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

__all__ = [
    "SEASONS",
    "monthly_energy_table",
    "report_context",
    "typical_day_figure",
    "typical_day_table",
    "workbook_tables",
]

logger = logging.getLogger(__name__)

SEASONS: dict[str, tuple[int, ...]] = {
    "DJF": (12, 1, 2),
    "MAM": (3, 4, 5),
    "JJA": (6, 7, 8),
    "SON": (9, 10, 11),
}
"""Meteorological seasons of the northern hemisphere by month."""

TEXT_EN: dict[str, str] = {
    "title": "Typical day per season: mean hourly output of all districts",
    "xlabel": "hour of the day (local time, interval start)",
    "ylabel": "AC output [MW]",
    "DJF": "winter (Dec-Feb)",
    "MAM": "spring (Mar-May)",
    "JJA": "summer (Jun-Aug)",
    "SON": "autumn (Sep-Nov)",
    "shift_heading": "What the obligated storage could shift (from the hourly profiles)",
    "shift_note": (
        "Per district, the hourly output of the technologies that carry the obligation above "
        "an export limit of {limit:g} % of their AC capacity; the storage charges at most its "
        "power each hour and its energy each day, and gives back {eta:g} % of it in hours "
        "below the limit. Energies in MWh/yr."
    ),
    "profiles_heading": "Hourly profiles",
    "profiles_note": (
        "profiles.nc holds the hourly AC output by district and technology (see "
        "docs/profiles.md); its annual sums are the energy of the tables above."
    ),
}
"""English text of the figure and the report block; pass a translated copy."""


def _local_index(ds: xr.Dataset) -> pd.DatetimeIndex:
    index = pd.DatetimeIndex(ds.indexes["time"])
    if index.tz is None and ds.attrs.get("time_zone"):
        index = index.tz_localize("UTC").tz_convert(ds.attrs["time_zone"])
    return index


def typical_day_table(ds: xr.Dataset, *, dim: str = "district") -> pd.DataFrame:
    """Mean output by season, hour of the day and technology, summed over places.

    Parameters
    ----------
    ds : xarray.Dataset
        :func:`census.profiles.build_profiles` output.
    dim : str, default "district"
        The place dimension summed over.

    Returns
    -------
    pandas.DataFrame
        Index (season, hour) with season in :data:`SEASONS` order and hour 0-23
        (local, as labelled); one column per technology. [MW]
    """
    index = _local_index(ds)
    city = ds["generation_mw"].sum(dim).transpose("time", "technology").to_numpy()
    frame = pd.DataFrame(city, columns=list(ds["technology"].to_numpy()))
    month = index.month.to_numpy()
    season = np.empty(len(index), dtype=object)
    for name, months in SEASONS.items():
        season[np.isin(month, months)] = name
    frame["season"] = pd.Categorical(season, categories=list(SEASONS), ordered=True)
    frame["hour"] = index.hour.to_numpy()
    return frame.groupby(["season", "hour"], observed=False).mean()


def typical_day_figure(ds: xr.Dataset, *, text: Mapping[str, str] | None = None) -> Any:
    """Draw the typical day of each season, one line per technology.

    Parameters
    ----------
    ds : xarray.Dataset
        :func:`census.profiles.build_profiles` output.
    text : mapping, optional
        Title, axis labels and season names (keys of :data:`TEXT_EN`); default
        English.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    words = {**TEXT_EN, **(text or {})}
    table = typical_day_table(ds)
    fig = Figure(figsize=(10, 6.5), layout="constrained")
    axes = fig.subplots(2, 2, sharex=True, sharey=True)
    for ax, season in zip(axes.ravel(), SEASONS, strict=True):
        part = table.loc[season]
        for tech in part.columns:
            if float(np.nanmax(np.abs(table[tech].to_numpy()), initial=0.0)) > 0:
                ax.plot(part.index, part[tech], label=str(tech), lw=1.6)
        ax.set_title(words[season])
        ax.set_xticks(range(0, 24, 3))
        ax.grid(alpha=0.3)
    for ax in axes[1]:
        ax.set_xlabel(words["xlabel"])
    for ax in axes[:, 0]:
        ax.set_ylabel(words["ylabel"])
    handles, labels = axes[0, 0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="outside lower center", ncols=len(labels))
    fig.suptitle(words["title"])
    return fig


def monthly_energy_table(ds: xr.Dataset, *, dim: str = "district") -> pd.DataFrame:
    """Energy per month by place and technology.

    Parameters
    ----------
    ds : xarray.Dataset
        :func:`census.profiles.build_profiles` output.
    dim : str, default "district"
        The place dimension.

    Returns
    -------
    pandas.DataFrame
        One row per (place, technology) with capacity: ``adcode`` (the ``dim``
        coordinate), ``name_zh``, ``name_en``, ``technology``, ``energy_mwh_01``
        ... ``energy_mwh_12`` and ``energy_mwh_yr``. Each hour counts
        ``annual_factor_h`` hours, so the months add up to ``energy_mwh_yr``.
        [MWh]
    """
    index = _local_index(ds)
    factor = float(ds.attrs.get("annual_factor_h", 1.0))
    monthly = (
        ds["generation_mw"]
        .assign_coords(month=("time", index.month.to_numpy()))
        .groupby("month")
        .sum("time")
        * factor
    )
    frame = monthly.transpose(dim, "technology", "month").to_series().unstack("month")
    frame = frame.reindex(columns=range(1, 13), fill_value=0.0)
    frame.columns = [f"energy_mwh_{m:02d}" for m in frame.columns]
    frame["energy_mwh_yr"] = frame.sum(axis=1)
    frame = frame.reset_index().rename(columns={dim: "adcode"})
    cap = ds["capacity_mw_ac"].to_series().rename("capacity_mw_ac").reset_index()
    cap = cap.rename(columns={dim: "adcode"})
    frame = frame.merge(cap, on=["adcode", "technology"], how="left")
    frame = frame[frame["capacity_mw_ac"] > 0].drop(columns="capacity_mw_ac")
    for col in ("name_en", "name_zh"):
        if col in ds.coords:
            names = pd.Series(ds[col].to_numpy(), index=ds[dim].to_numpy())
            frame.insert(1, col, frame["adcode"].map(names).to_numpy())
    return frame.reset_index(drop=True)


def report_context(
    result_like: Any, *, text: Mapping[str, str] | None = None, charts: bool = True
) -> dict[str, Any]:
    """Context entries of the report's profile block (used by ``census.report``).

    Parameters
    ----------
    result_like : CensusResult or mapping
        With ``profiles`` (Dataset) and ``storage_shift`` (DataFrame), either may
        be missing.
    text : mapping, optional
        Translated text (keys of :data:`TEXT_EN`).
    charts : bool, default True
        Draw the typical-day chart.

    Returns
    -------
    dict
        ``profiles_chart`` (a PNG data URI or None), ``profiles_heading``,
        ``profiles_note``, ``shift_heading``, ``shift_note`` and ``shift_table``
        (a DataFrame or None).
    """
    words = {**TEXT_EN, **(text or {})}

    def get(name: str) -> Any:
        if isinstance(result_like, Mapping):
            return result_like.get(name)
        return getattr(result_like, name, None)

    ds = get("profiles")
    shift = get("storage_shift")
    prov = get("provenance") or {}
    chart = None
    if charts and isinstance(ds, xr.Dataset) and ds.sizes.get("time", 0):
        from census.report import _data_uri

        chart = _data_uri(typical_day_figure(ds, text=words))
    cfg = (prov.get("config") or {}).get("storage_shift") or {}
    note = ""
    if cfg:
        note = words["shift_note"].format(
            limit=100 * float(cfg["export_limit_frac"]),
            eta=100 * float(cfg["round_trip_efficiency_frac"]),
        )
    return {
        "profiles_chart": chart,
        "profiles_heading": words["profiles_heading"] if isinstance(ds, xr.Dataset) else "",
        "profiles_note": words["profiles_note"],
        "shift_heading": words["shift_heading"],
        "shift_note": note,
        "shift_table": shift if isinstance(shift, pd.DataFrame) and len(shift) else None,
    }


def workbook_tables(result: Any) -> dict[str, pd.DataFrame]:
    """Workbook sheets from the profiles: ``monthly_energy`` and ``storage_shift``."""
    out: dict[str, pd.DataFrame] = {}
    ds = getattr(result, "profiles", None)
    if isinstance(ds, xr.Dataset):
        out["monthly_energy"] = monthly_energy_table(ds)
    shift = getattr(result, "storage_shift", None)
    if isinstance(shift, pd.DataFrame):
        out["storage_shift"] = shift
    return out
