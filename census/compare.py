"""Compare two finished run folders district by district and technology by technology.

A run folder is recognised by ``summary_by_district_category.csv`` (UTF-8 with
BOM, as :class:`census.io.outputs.RunFolder` writes it) and ``provenance.json``.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from census.exceptions import InputError
from census.schema import require_columns

__all__ = ["COMPARED_METRICS", "compare_runs", "format_comparison", "read_run_summary"]

logger = logging.getLogger(__name__)

SUMMARY = "summary_by_district_category.csv"
PROVENANCE = "provenance.json"

COMPARED_METRICS: tuple[str, ...] = (
    "eligible_sites",
    "usable_area_km2",
    "capacity_mw_dc",
    "energy_gwh_yr",
    "storage_mw",
    "storage_mwh",
    "co2_avoided_t_yr",
)
"""Columns of the district table that :func:`compare_runs` compares."""

_KEYS = ["adcode", "name_zh", "name_en", "technology"]


def read_run_summary(run_dir: str | Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Read a run folder's district x category table and provenance.

    Parameters
    ----------
    run_dir : str or pathlib.Path
        A finished run folder.

    Returns
    -------
    table : pandas.DataFrame
        ``summary_by_district_category.csv``.
    provenance : dict
        ``provenance.json``.

    Raises
    ------
    InputError
        If the folder or one of the two files is missing or unreadable; the
        message names the folder and the file.
    """
    folder = Path(run_dir).expanduser()
    if not folder.is_dir():
        raise InputError(
            f"Run folder {folder} does not exist or is not a folder. Pass the "
            "folder a `census run` wrote (it holds provenance.json)."
        )
    for name in (SUMMARY, PROVENANCE):
        if not (folder / name).is_file():
            raise InputError(
                f"{folder} is not a census run folder: {name} is missing. Pass "
                "the folder a finished `census run` wrote."
            )
    try:
        prov = json.loads((folder / PROVENANCE).read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{folder / PROVENANCE}: not valid JSON ({exc}).") from exc
    try:
        table = pd.read_csv(folder / SUMMARY, encoding="utf-8-sig")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"{folder / SUMMARY}: not a readable CSV ({exc}).") from exc
    needed = [*_KEYS, "capacity_mw_dc", "energy_gwh_yr"]
    require_columns(table, needed, what=str(folder / SUMMARY))
    return table, prov


def _by_tech(table: pd.DataFrame) -> tuple[pd.DataFrame, set[int]]:
    t = table.copy()
    t["adcode"] = pd.to_numeric(t["adcode"], errors="raise").astype("int64")
    present = set(t["adcode"])
    t["technology"] = t["technology"].astype("string").fillna("")
    t = t[t["technology"] != ""]
    metrics = [m for m in COMPARED_METRICS if m in t.columns]
    g = t.groupby(_KEYS, as_index=False, dropna=False)[metrics].sum()
    return g, present


def compare_runs(run_a: str | Path, run_b: str | Path) -> pd.DataFrame:
    """Differences between two runs by district and technology.

    Parameters
    ----------
    run_a, run_b : str or pathlib.Path
        Finished run folders; ``b`` is compared against ``a``.

    Returns
    -------
    pandas.DataFrame
        Long table, one row per (district, technology, metric), plus city rows
        (``adcode`` NA, ``name_en`` "City total"): ``adcode``, ``name_zh``,
        ``name_en``, ``technology``, ``metric`` (a column of the district table,
        units in its name), ``a``, ``b``, ``b_minus_a``, ``ratio_b_to_a``
        (NaN when ``a`` is 0). A district that one run did not cover has NaN
        for that run; a technology a covered district lacks counts as 0.
        ``attrs`` holds ``run_a``, ``run_b``, ``config_hash_a``, ``config_hash_b``.

    Raises
    ------
    InputError
        If a folder is missing or is not a run folder (names the missing file).
    """
    ta, pa = read_run_summary(run_a)
    tb, pb = read_run_summary(run_b)
    ga, present_a = _by_tech(ta)
    gb, present_b = _by_tech(tb)
    metrics = [m for m in COMPARED_METRICS if m in ga.columns and m in gb.columns]
    la = ga.melt(id_vars=_KEYS, value_vars=metrics, var_name="metric", value_name="a")
    lb = gb.melt(id_vars=_KEYS, value_vars=metrics, var_name="metric", value_name="b")
    names = pd.concat(
        [ga[["adcode", "name_zh", "name_en"]], gb[["adcode", "name_zh", "name_en"]]]
    ).drop_duplicates("adcode")
    la = la.drop(columns=["name_zh", "name_en"])
    lb = lb.drop(columns=["name_zh", "name_en"])
    m = la.merge(lb, on=["adcode", "technology", "metric"], how="outer")
    m["a"] = np.where(m["a"].isna() & m["adcode"].isin(present_a), 0.0, m["a"])
    m["b"] = np.where(m["b"].isna() & m["adcode"].isin(present_b), 0.0, m["b"])
    m = m.merge(names, on="adcode", how="left")
    city = m.groupby(["technology", "metric"], as_index=False)[["a", "b"]].sum(min_count=1)
    city["adcode"] = pd.NA
    city["name_zh"] = "全市"
    city["name_en"] = "City total"
    m["adcode"] = m["adcode"].astype("Int64")
    city["adcode"] = city["adcode"].astype("Int64")
    out = pd.concat([m, city], ignore_index=True)
    out["b_minus_a"] = out["b"] - out["a"]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["ratio_b_to_a"] = np.where(out["a"] != 0, out["b"] / out["a"], np.nan)
    order = {k: i for i, k in enumerate(metrics)}
    out["_m"] = out["metric"].map(order)
    out["_city"] = out["adcode"].isna()
    out = (
        out.sort_values(["_city", "adcode", "technology", "_m"], na_position="last")
        .drop(columns=["_m", "_city"])
        .reset_index(drop=True)
    )
    out = out[
        [
            "adcode",
            "name_zh",
            "name_en",
            "technology",
            "metric",
            "a",
            "b",
            "b_minus_a",
            "ratio_b_to_a",
        ]
    ]
    out.attrs.update(
        {
            "run_a": str(Path(run_a)),
            "run_b": str(Path(run_b)),
            "config_hash_a": (pa.get("census_run") or {}).get("config_hash"),
            "config_hash_b": (pb.get("census_run") or {}).get("config_hash"),
        }
    )
    return out


def format_comparison(
    df: pd.DataFrame, *, metrics: list[str] | None = None, changed_only: bool = False
) -> str:
    """Format a :func:`compare_runs` table as plain text for a terminal.

    Parameters
    ----------
    df : pandas.DataFrame
        Output of :func:`compare_runs`.
    metrics : list of str, optional
        Metrics to show; default ``capacity_mw_dc``, ``energy_gwh_yr``, ``storage_mw``.
    changed_only : bool, default False
        Show only rows where ``b`` differs from ``a``.

    Returns
    -------
    str
        A header naming both runs and their config hashes, then one aligned
        table per metric.
    """
    metrics = metrics or ["capacity_mw_dc", "energy_gwh_yr", "storage_mw"]
    a = df.attrs
    lines = [
        f"A: {a.get('run_a', '?')} (config {a.get('config_hash_a') or '?'})",
        f"B: {a.get('run_b', '?')} (config {a.get('config_hash_b') or '?'})",
    ]
    if a.get("config_hash_a") and a.get("config_hash_a") == a.get("config_hash_b"):
        lines.append("The two runs have the same configuration hash.")
    for metric in metrics:
        part = df[df["metric"] == metric]
        if changed_only:
            same = np.isclose(
                part["a"].astype(float),
                part["b"].astype(float),
                rtol=1e-12,
                atol=0.0,
                equal_nan=True,
            )
            part = part[~same]
        lines.append("")
        lines.append(f"== {metric} ==")
        if part.empty:
            lines.append("(no differences)" if changed_only else "(no rows)")
            continue
        view = pd.DataFrame(
            {
                "adcode": [("" if pd.isna(x) else str(int(x))) for x in part["adcode"]],
                "district": [
                    f"{zh} {en}" for zh, en in zip(part["name_zh"], part["name_en"], strict=True)
                ],
                "technology": part["technology"].astype(str).to_numpy(),
                "a": [_num(x) for x in part["a"]],
                "b": [_num(x) for x in part["b"]],
                "b - a": [_num(x, signed=True) for x in part["b_minus_a"]],
                "b / a": [("–" if pd.isna(x) else f"{x:.3f}") for x in part["ratio_b_to_a"]],
            }
        )
        lines.append(view.to_string(index=False))
    return "\n".join(lines)


def _num(x: Any, *, signed: bool = False) -> str:
    if x is None or pd.isna(x):
        return "–"
    return f"{float(x):+,.3f}" if signed else f"{float(x):,.3f}"
