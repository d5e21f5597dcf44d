"""Streaming merge of a batch's district runs into one city run folder.

:func:`merge_district_runs` builds the city folder of ``census batch`` without ever
holding the city's site table in one process. Every number of the city folder is
the one a single ``census run`` over the same districts gives, because everything
the roll-up computes is additive over districts:

- the district x category x technology table is the districts' tables stacked
  (each row belongs to one district); the district, city, target, existing-gap
  and per-person tables are computed from it by the same functions the roll-up
  stage uses;
- the screening tally and the zone table are sums of the districts' tables;
- the hourly profiles are the districts' profiles side by side;
- ``sites.parquet`` and ``sites.gpkg`` are the districts' site tables appended one
  district at a time (GeoParquet row groups, GeoPackage appends);
- ``supply_curve.csv`` is a k-way merge of the districts' curves (each is sorted by
  the same key), read in chunks, with rank, cumulative sums and the targets
  reached recomputed as the rows stream out;
- the district maps are the districts' own map files (the same files a single run
  writes); the city map is drawn from all sites while they number at most
  ``[outputs] map_max_sites`` and otherwise is an index map of cells computed per
  district (:func:`census.maps.build_map` with pre-aggregated cells).

Memory is bounded by the largest district's site table, plus the chunks of the
curve merge (``chunk_rows`` rows per district) and a supply curve of at most
:data:`KEEP_CURVE_ROWS` rows kept for the report (longer curves are thinned for the
report and workbook as :func:`census.report.thin_curve` does; the CSV keeps every
site).
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from census.config import LoadedConfig
from census.exceptions import InputError
from census.io.existing import read_existing_capacity
from census.io.geoparquet import GeoParquetAppender
from census.io.outputs import write_csv_rows
from census.io.profiles import merge_profiles
from census.io.qgis_styles import style_run_geopackages
from census.io.runfolder import LAYOUT, RunFolder, RunReader, open_run
from census.pipeline import collect_warnings, config_hash
from census.population import load_population, per_person_table
from census.profiles import storage_shift_by_district
from census.rollup import city_table, district_table, target_records, targets_table
from census.stages import RunContext, record_provenance
from census.stages.capacity import empty_turbines
from census.stages.load import protected_paths
from census.stages.outputs import write_tables
from census.stages.yield_ import sum_profiles
from census.supply import CURVES, existing_by_district, existing_gap, existing_in_run
from census.zones import OUTSIDE

__all__ = [
    "KEEP_CURVE_ROWS",
    "district_cells",
    "index_map_from_cells",
    "merge_district_runs",
    "merge_supply_curves",
    "merge_tallies",
]

logger = logging.getLogger(__name__)

KEEP_CURVE_ROWS = 200_000
"""Longest supply curve the merge keeps whole in memory for the report and workbook.

A longer curve reaches the report thinned (the first :data:`_CURVE_HEAD_ROWS` sites of
each curve, evenly spaced ranks, the last site and every target row): about 50 MB of
rows at this size, independent of the city's size. ``supply_curve.csv`` keeps every site.
"""

_CURVE_HEAD_ROWS = 1_000
"""Cheapest sites of each curve always kept (the report lists the first 25)."""

_CURVE_SPACED_ROWS = 10_000
"""Evenly spaced ranks kept from a thinned curve (as census.report.XLSX_MAX_CURVE_ROWS)."""

_CURVE_COLUMNS = (
    "curve",
    "rank",
    "site_id",
    "district",
    "adcode",
    "category",
    "technology",
    "capacity_mw_dc",
    "capacity_mw_ac",
    "energy_mwh_yr",
    "energy_gwh_yr",
    "energy_kwh_kw_yr",
    "specific_yield_kwh_kwp",
    "capacity_factor",
    "lcoe_cny_kwh",
    "cumulative_capacity_mw",
    "cumulative_capacity_mw_ac",
    "cumulative_energy_gwh_yr",
    "reaches_target",
)
"""Columns of :func:`census.supply.supply_curve`, in its order."""

# pandas >= 3 parses floats to the bits written; 2.x needs the round-trip parser for that
_EXACT: dict[str, Any] = (
    {} if int(pd.__version__.split(".")[0]) >= 3 else {"float_precision": "round_trip"}
)

_TEXT = {"site_id": str, "district": str, "category": str, "technology": str}


def _csv(path: Path, **kw: Any) -> pd.DataFrame:
    """Read a census CSV back (pandas >= 3 parses floats to the written bits)."""
    try:
        return pd.read_csv(path, encoding="utf-8-sig", **_EXACT, **kw)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a readable CSV ({exc}); rerun that district.") from exc


# ----------------------------------------------------------------------------- tables


def _by_district(runs: list[RunReader]) -> pd.DataFrame:
    """Stack the districts' district x category x technology tables, sorted as one run's."""
    parts = []
    for run in runs:
        t = _csv(run.file(LAYOUT.summary_by_district_category))
        for col in ("category", "technology"):
            t[col] = t[col].fillna("").astype(str)
        parts.append(t)
    by = pd.concat(parts, ignore_index=True)
    by["adcode"] = by["adcode"].astype("int64")
    by[["sites", "eligible_sites"]] = by[["sites", "eligible_sites"]].astype("int64")
    # the order summarize_by_district gives
    return by.sort_values(["adcode", "category", "technology"]).reset_index(drop=True)


def merge_tallies(tallies: list[pd.DataFrame]) -> pd.DataFrame:
    """Add up screening tallies of disjoint runs (:func:`census.sites.screen.tally_reasons`).

    Sites and area failing each (category, reason) add up; each category's
    ``sites_total`` and ``eligible_sites`` add up over the runs. A category with
    no failing site in any run keeps one row with an empty reason, as in one run.

    Parameters
    ----------
    tallies : list of pandas.DataFrame
        Tallies with ``category``, ``reason``, ``sites``, ``area_m2`` [m2],
        ``sites_total`` and ``eligible_sites``.

    Returns
    -------
    pandas.DataFrame
        The tally of all the runs' sites together.
    """
    cols = ["category", "reason", "sites", "area_m2", "sites_total", "eligible_sites"]
    parts = [t[cols] for t in tallies if len(t)]
    if not parts:
        return pd.DataFrame(columns=cols)
    t = pd.concat(parts, ignore_index=True)
    t["reason"] = t["reason"].fillna("").astype(str)
    # categories are repeated per reason within a run: count each run's totals once
    per_run = [
        p.groupby("category", as_index=False)[["sites_total", "eligible_sites"]].first()
        for p in parts
    ]
    totals = pd.concat(per_run).groupby("category", as_index=False).sum()
    failed = (
        t[t["reason"] != ""]
        .groupby(["category", "reason"], as_index=False)[["sites", "area_m2"]]
        .sum()
    )
    out = failed.merge(totals, on="category", how="right").fillna(
        {"reason": "", "sites": 0, "area_m2": 0.0}
    )
    return out.sort_values(["category", "reason"]).reset_index(drop=True)


def _merge_zones(tables: list[pd.DataFrame]) -> pd.DataFrame:
    """Add up the zone tables of disjoint runs (:func:`census.zones.summarize_by_zone`)."""
    t = pd.concat(tables, ignore_index=True)
    t["zone"] = t["zone"].astype(str)
    per_person = [c for c in t.columns if c.startswith("pv_kw_") and c.endswith("_per_person")]
    for c in per_person:  # back to kW of PV, which add up
        t[c] = t[c] * t["population"]
    skip = {"zone", "population", "capacity_factor"}
    numeric = [c for c in t.columns if c not in skip and pd.api.types.is_numeric_dtype(t[c])]
    out = t.groupby("zone", as_index=False, sort=True)[numeric].sum(min_count=1)
    for c in ("sites", "eligible_sites"):
        if c in out:
            out[c] = out[c].fillna(0).astype("int64")
    if "population" in t.columns:
        out["population"] = out["zone"].map(t.groupby("zone")["population"].first())
        persons = out["population"].where(out["population"] > 0)
        for c in per_person:
            out[c] = out[c] / persons
    out = out[[c for c in t.columns if c in out.columns]]
    return out.sort_values("zone", key=lambda s: s == OUTSIDE, kind="stable").reset_index(drop=True)


def _roll_up_tables(ctx: RunContext, by: pd.DataFrame) -> None:
    """Compute the roll-up stage's tables from the district x category table (stages.rollup)."""
    targets = ctx.config.targets
    ctx.by_district = by
    ctx.district_totals = district_table(by)
    ctx.city = city_table(by)
    ctx.targets = targets_table(by, targets, existing=existing_in_run(ctx.existing_capacity, by))
    ctx.existing_gap = existing_gap(by, ctx.existing_capacity, targets)
    pv_bases = [r.capacity_basis for r in targets.active_records.values()]
    ctx.existing_by_district = existing_by_district(
        by,
        ctx.existing_capacity,
        basis=pv_bases[0] if pv_bases else "ac",
        pv_dc_ac_ratio=targets.existing_pv_dc_ac_ratio,
    )
    ctx.per_person = per_person_table(by, load_population())


# ----------------------------------------------------------------------------- supply curve


def _chunks(path: Path, chunk_rows: int) -> Iterator[pd.DataFrame]:
    reader = pd.read_csv(
        path,
        encoding="utf-8-sig",
        **_EXACT,
        dtype={k: v for k, v in _TEXT.items()} | {"reaches_target": str},
        keep_default_na=True,
        chunksize=chunk_rows,
    )
    with reader:
        yield from reader


class _CurveKey:
    """Sort key of a supply curve row: (curve, key value, site id), as supply_curve sorts.

    ``supply_curve`` sorts each curve by its key (LCOE ascending with costs, else PV by
    specific yield and wind by capacity factor, descending), NaN last, then by site
    id; PV rows come first.
    """

    def __init__(self, columns: set[str], *, has_costs: bool) -> None:
        self.spec: dict[str, tuple[str, bool]] = {}
        for curve in CURVES:
            if has_costs:
                self.spec[curve] = ("lcoe_cny_kwh", True)
            elif curve == "pv":
                col = "specific_yield_kwh_kwp" if "specific_yield_kwh_kwp" in columns else None
                self.spec[curve] = (col or "energy_kwh_kw_yr", False)
            else:
                col = "capacity_factor" if "capacity_factor" in columns else None
                self.spec[curve] = (col or "energy_kwh_kw_yr", False)

    def __call__(self, df: pd.DataFrame) -> pd.DataFrame:
        c = df["curve"].map({k: i for i, k in enumerate(CURVES)}).to_numpy(np.int64)
        s = np.full(len(df), np.inf)
        for i, curve in enumerate(CURVES):
            col, ascending = self.spec[curve]
            m = c == i
            v = pd.to_numeric(df.loc[m, col], errors="coerce").to_numpy(float)
            v = v if ascending else -v
            s[m] = np.where(np.isnan(v), np.inf, v)  # NaN last
        return pd.DataFrame({"c": c, "s": s, "sid": df["site_id"].astype(str).to_numpy()})


def _le(keys: pd.DataFrame, limit: tuple[int, float, str]) -> np.ndarray:
    """Rows of ``keys`` at or before ``limit`` in the (curve, key, site id) order."""
    c, s, sid = keys["c"].to_numpy(), keys["s"].to_numpy(), keys["sid"].to_numpy()
    lc, ls, lsid = limit
    return (c < lc) | ((c == lc) & ((s < ls) | ((s == ls) & (sid <= lsid))))


def _cumsum(start: float, values: pd.Series) -> np.ndarray:
    """Return the running sum of ``values`` continuing from ``start``.

    Added in the order one cumsum over the whole curve adds, so the merged curve has
    the single run's bits, not a re-associated sum.
    """
    return np.cumsum(np.r_[start, values.to_numpy(float)])[1:]


class _CurveWriter:
    """Number the merged rows, accumulate, mark targets, write CSV, keep a bounded copy."""

    def __init__(
        self, path: Path, columns: list[str], targets: Any, lengths: dict[str, int]
    ) -> None:
        self.path = path
        self.columns = columns
        self.goals = target_records(targets)
        self.lengths = lengths
        self.rank = dict.fromkeys(CURVES, 0)
        self.cum = {k: {"dc": 0.0, "ac": 0.0, "gwh": 0.0} for k in CURVES}
        self.hit: set[str] = set()
        self.kept: list[pd.DataFrame] = []
        self.thin = sum(lengths.values()) > KEEP_CURVE_ROWS
        self.spaced = {}
        total = max(sum(lengths.values()), 1)
        for k, n in lengths.items():  # the ranks thin_curve would keep
            share = max(2, int(_CURVE_SPACED_ROWS * n / total))
            self.spaced[k] = np.unique(np.linspace(0, max(n - 1, 0), share).round().astype(int)) + 1
        self.rows = 0
        self._fh = open(path, "wb")  # noqa: SIM115
        self._fh.write("\ufeff".encode())  # UTF-8 BOM, as census.io.outputs.write_csv

    def write(self, block: pd.DataFrame) -> None:
        out = []
        for curve in CURVES:
            part = block[block["curve"] == curve].copy()
            if not len(part):
                continue
            n0 = self.rank[curve]
            part["rank"] = np.arange(n0 + 1, n0 + len(part) + 1)
            acc = self.cum[curve]
            part["cumulative_capacity_mw"] = _cumsum(acc["dc"], part["capacity_mw_dc"])
            if "capacity_mw_ac" in part.columns:
                ac = pd.to_numeric(part["capacity_mw_ac"], errors="coerce").fillna(0.0)
                part["cumulative_capacity_mw_ac"] = _cumsum(acc["ac"], ac)
            part["cumulative_energy_gwh_yr"] = _cumsum(acc["gwh"], part["energy_gwh_yr"])
            reached = [""] * len(part)
            for spec in self.goals:
                if spec.curve != curve or spec.name in self.hit:
                    continue
                col = (
                    "cumulative_capacity_mw_ac"
                    if spec.capacity_basis == "ac" and "cumulative_capacity_mw_ac" in part
                    else "cumulative_capacity_mw"
                )
                cum = part[col].to_numpy()
                start = acc["ac"] if col.endswith("_ac") else acc["dc"]
                before = np.concatenate([[start], cum[:-1]])
                hit = np.nonzero((before < spec.capacity_mw) & (cum >= spec.capacity_mw))[0]
                if spec.capacity_mw <= 0:
                    hit = np.array([0]) if n0 == 0 else np.array([], dtype=int)
                for i in hit[:1]:
                    reached[i] = f"{reached[i]};{spec.name}" if reached[i] else spec.name
                    self.hit.add(spec.name)
            part["reaches_target"] = reached
            if "cumulative_capacity_mw_ac" in part.columns:
                acc["ac"] = float(part["cumulative_capacity_mw_ac"].iloc[-1])
            acc["dc"] = float(part["cumulative_capacity_mw"].iloc[-1])
            acc["gwh"] = float(part["cumulative_energy_gwh_yr"].iloc[-1])
            self.rank[curve] = n0 + len(part)
            out.append(part)
        if not out:
            return
        rows = pd.concat(out)[self.columns]
        write_csv_rows(self._fh, rows, header=self.rows == 0)
        self.rows += len(rows)
        if not self.thin:
            self.kept.append(rows)
            return
        rank = rows["rank"].to_numpy()
        keep = rows["reaches_target"].astype(str).str.len().to_numpy() > 0
        keep |= rank <= _CURVE_HEAD_ROWS
        for curve in CURVES:
            m = (rows["curve"] == curve).to_numpy()
            keep |= m & np.isin(rank, self.spaced.get(curve, []))
            keep |= m & (rank == self.lengths.get(curve, -1))
        self.kept.append(rows[keep])

    def close(self) -> pd.DataFrame:
        if self.rows == 0:
            write_csv_rows(self._fh, pd.DataFrame(columns=self.columns), header=True)
        self._fh.close()
        if not self.kept:
            return pd.DataFrame(columns=self.columns)
        return pd.concat(self.kept, ignore_index=True)


def merge_supply_curves(
    paths: list[Path],
    out: Path,
    *,
    targets: Any,
    has_costs: bool,
    chunk_rows: int = 100_000,
) -> pd.DataFrame:
    """Merge the supply curves of disjoint runs into one curve, streaming.

    Each run's ``supply_curve.csv`` is sorted by the curve's key, so a k-way merge of
    chunks gives the order :func:`census.supply.supply_curve` gives for all the sites
    together; rank, cumulative capacity and energy and ``reaches_target`` are
    recomputed as rows are written.

    Parameters
    ----------
    paths : list of pathlib.Path
        The runs' ``supply_curve.csv`` files.
    out : pathlib.Path
        The merged ``supply_curve.csv`` (UTF-8 with BOM).
    targets : TargetsConfig
        The targets whose crossing rows are marked.
    has_costs : bool
        The curves were ranked by LCOE (``costs`` given); else by resource quality.
    chunk_rows : int, default 100000
        Rows read at a time from each file.

    Returns
    -------
    pandas.DataFrame
        The merged curve when it has at most :data:`KEEP_CURVE_ROWS` rows, else a
        thinned copy (head, evenly spaced ranks, last row and target rows of each curve).
    """
    columns: set[str] = set()
    lengths = dict.fromkeys(CURVES, 0)
    for p in paths:  # a first, cheap pass: header and rows per curve
        for chunk in pd.read_csv(p, encoding="utf-8-sig", usecols=["curve"], chunksize=1_000_000):
            for k, n in chunk["curve"].value_counts().items():
                lengths[str(k)] = lengths.get(str(k), 0) + int(n)
        columns |= set(pd.read_csv(p, encoding="utf-8-sig", nrows=0).columns)
    keyf = _CurveKey(columns, has_costs=has_costs)
    order = [c for c in _CURVE_COLUMNS if c in columns]
    writer = _CurveWriter(out, order, targets, lengths)
    readers = [_chunks(p, chunk_rows) for p in paths]
    buffers: list[pd.DataFrame | None] = [None] * len(paths)
    keys: list[pd.DataFrame | None] = [None] * len(paths)
    open_ = [True] * len(paths)
    while True:
        for i, rd in enumerate(readers):  # refill empty buffers
            while open_[i] and (buffers[i] is None or not len(buffers[i])):
                chunk = next(rd, None)
                if chunk is None:
                    open_[i] = False
                else:
                    buffers[i] = chunk.reset_index(drop=True)
                    keys[i] = keyf(buffers[i])
        live = [i for i in range(len(paths)) if buffers[i] is not None and len(buffers[i])]
        if not live:
            break
        # rows of every buffer up to the smallest last key of a file not yet exhausted
        # are final: nothing later in any file sorts before them
        lasts = [tuple(keys[i].iloc[-1]) for i in live if open_[i]]
        limit = min(lasts) if lasts else None
        take, rest_b, rest_k = [], {}, {}
        for i in live:
            m = np.ones(len(buffers[i]), bool) if limit is None else _le(keys[i], limit)
            take.append((buffers[i][m], keys[i][m]))
            rest_b[i], rest_k[i] = buffers[i][~m], keys[i][~m]
        for i in live:
            buffers[i] = rest_b[i].reset_index(drop=True)
            keys[i] = rest_k[i].reset_index(drop=True)
        block = pd.concat([b for b, _ in take], ignore_index=True)
        bkeys = pd.concat([k for _, k in take], ignore_index=True)
        order_ix = bkeys.sort_values(["c", "s", "sid"], kind="mergesort").index
        block = block.loc[order_ix].reset_index(drop=True)
        block["capacity_mw_dc"] = pd.to_numeric(block["capacity_mw_dc"], errors="coerce")
        writer.write(block)
    return writer.close()


# ----------------------------------------------------------------------------- maps


def _link_names(
    code: int, name_en: str, cx: np.ndarray, cy: np.ndarray, max_sites: int
) -> np.ndarray:
    """Detail-map file of each site of one district (as census.maps_scale names them)."""
    from census.maps import district_map_filename
    from census.maps_scale import kd_parts

    name = district_map_filename(code, name_en)
    links = np.full(len(cx), name, dtype=object)
    if len(cx) > max_sites:
        stem = name.removesuffix(".html")
        for k, part in enumerate(kd_parts(cx, cy, max_size=max_sites), start=1):
            links[part] = f"{stem}-{k}.html"
    return links


def district_cells(
    sites: gpd.GeoDataFrame,
    *,
    adcode: int,
    name_en: str,
    max_sites_per_map: int,
    cell_m: float = 1_000.0,
) -> pd.DataFrame:
    """Aggregate one district's sites into the cells of a city index map.

    The cells are those :func:`census.maps.build_map` draws on an index map: squares
    of ``cell_m`` in the metric CRS, per category, with the count of sites and of
    eligible sites and the eligible capacity and energy, here also split by the
    detail map each site is drawn on (the district's map, or its part when the
    district has more than ``max_sites_per_map`` sites, as
    :func:`census.maps_scale.write_maps_split` names them).

    Parameters
    ----------
    sites : geopandas.GeoDataFrame
        The district's sites (metric CRS): ``category``, ``eligible``,
        ``capacity_mw_dc`` [MW], ``energy_mwh_yr`` [MWh yr⁻¹].
    adcode : int
        District code.
    name_en : str
        English district name (for the map file name).
    max_sites_per_map : int
        ``[outputs] map_max_sites``.
    cell_m : float, default 1000
        Cell side. [m]

    Returns
    -------
    pandas.DataFrame
        ``category``, ``ix``, ``iy`` (cell indices), ``link`` (detail map file in
        ``maps/``), ``_cell_sites``, ``_cell_eligible``, ``capacity_mw_dc`` and
        ``energy_mwh_yr`` (of eligible sites).
    """
    sites = sites[~(sites.geometry.isna() | sites.geometry.is_empty)]
    cent = sites.geometry.centroid
    cx, cy = cent.x.to_numpy(), cent.y.to_numpy()
    links = _link_names(int(adcode), str(name_en), cx, cy, max_sites_per_map)
    elig = sites["eligible"].fillna(False).astype(bool).to_numpy()

    def eligible_sum(col: str) -> np.ndarray:
        if col not in sites:
            return np.zeros(len(sites))
        v = pd.to_numeric(sites[col], errors="coerce").fillna(0.0).to_numpy(float)
        return np.where(elig, v, 0.0)

    df = pd.DataFrame(
        {
            "category": sites["category"].astype(str).to_numpy(),
            "ix": np.floor(cx / cell_m).astype(np.int64),
            "iy": np.floor(cy / cell_m).astype(np.int64),
            "link": links,
            "_cell_sites": np.ones(len(sites), np.int64),
            "_cell_eligible": elig.astype(np.int64),
            "capacity_mw_dc": eligible_sum("capacity_mw_dc"),
            "energy_mwh_yr": eligible_sum("energy_mwh_yr"),
        }
    )
    return df.groupby(["category", "ix", "iy", "link"], as_index=False, sort=True).sum()


def index_map_from_cells(
    cells: pd.DataFrame,
    districts: gpd.GeoDataFrame,
    *,
    crs: Any,
    cell_m: float = 1_000.0,
    **build_map_kwargs: Any,
) -> Any:
    """Build the city index map from :func:`district_cells` of every district.

    Each cell row becomes one point at the cell's centre carrying its counts, so
    :func:`census.maps.build_map` draws the cells a map of all sites would draw
    (same bounds, counts, capacity, energy and linked detail map) from a table the
    size of the cell grid.

    Parameters
    ----------
    cells : pandas.DataFrame
        :func:`district_cells` outputs, concatenated.
    districts : geopandas.GeoDataFrame
        District boundaries (metric CRS).
    crs : pyproj.CRS or str
        CRS of the cell indices (the sites' metric CRS).
    cell_m : float, default 1000
        Cell side used for ``cells``. [m]
    **build_map_kwargs
        ``turbines``, ``district_totals``, ``title``, ``synthetic``, ``tiles``,
        ``attribution``, ``lang`` of :func:`census.maps.build_map`.

    Returns
    -------
    folium.Map
    """
    from census.maps import build_map

    df = cells.reset_index(drop=True)
    x, y = (df["ix"].to_numpy() + 0.5) * cell_m, (df["iy"].to_numpy() + 0.5) * cell_m
    agg = gpd.GeoDataFrame(
        {
            "site_id": [f"cell-{i}" for i in range(len(df))],
            "category": df["category"].astype(str),
            # capacity and energy are of the eligible sites already
            "eligible": np.ones(len(df), bool),
            "capacity_mw_dc": df["capacity_mw_dc"].to_numpy(float),
            "energy_mwh_yr": df["energy_mwh_yr"].to_numpy(float),
            "_cell_sites": df["_cell_sites"].to_numpy(np.int64),
            "_cell_eligible": df["_cell_eligible"].to_numpy(np.int64),
        },
        geometry=gpd.points_from_xy(x, y),
        crs=crs,
    )
    return build_map(
        agg,
        districts,
        detail_links="maps/" + df["link"].astype(str),
        aggregate_cell_m=cell_m,
        **build_map_kwargs,
    )


def _index_map(
    run: RunFolder,
    ctx: RunContext,
    cells: list[pd.DataFrame],
    turbines: gpd.GeoDataFrame | None,
    *,
    cell_m: float,
    crs: Any,
) -> None:
    """Write the city index map from the districts' cells (the one map.html a run writes)."""
    from census.i18n import Translator
    from census.maps import save_map

    cfg = ctx.config
    lang = ctx.provenance["language"]
    m = index_map_from_cells(
        pd.concat(cells, ignore_index=True),
        ctx.districts,
        crs=crs,
        cell_m=cell_m,
        turbines=turbines,
        district_totals=ctx.district_totals,
        title=Translator(lang)("map.city_title", city=_city_name(ctx)),
        synthetic=bool(ctx.provenance["synthetic_inputs"]),
        tiles=cfg.outputs.map_tiles,
        attribution=cfg.outputs.map_tiles_attribution,
        lang=lang,
    )
    save_map(m, run.tmp / LAYOUT.city_map)
    _register(run, ctx, run.tmp / LAYOUT.city_map)


def _city_map(
    run: RunFolder, ctx: RunContext, sites: gpd.GeoDataFrame, turbines: gpd.GeoDataFrame
) -> None:
    """Write map.html with every site, as write_maps does for a city under map_max_sites."""
    from census.i18n import Translator
    from census.maps import build_map, save_map

    cfg = ctx.config
    lang = ctx.provenance["language"]
    zones = None
    if cfg.zones.path is not None:  # the zone outlines a run's city map draws
        from census.stages.load import _zones  # the load stage's reader of [zones]

        zones = _zones(cfg, cfg.study_area.metric_crs)
    m = build_map(
        sites,
        ctx.districts,
        turbines=turbines,
        district_totals=ctx.district_totals,
        title=Translator(lang)("map.city_title", city=_city_name(ctx)),
        synthetic=bool(ctx.provenance["synthetic_inputs"]),
        tiles=cfg.outputs.map_tiles,
        attribution=cfg.outputs.map_tiles_attribution,
        lang=lang,
        zones=zones,
        zone_totals=ctx.by_zone,
        zone_field=cfg.zones.field or "zone",
    )
    save_map(m, run.tmp / LAYOUT.city_map)
    _register(run, ctx, run.tmp / LAYOUT.city_map)


def _city_name(ctx: RunContext) -> str:
    area = ctx.config.study_area
    return area.name_zh if ctx.provenance["language"] == "zh" and area.name_zh else area.name


def _register(run: RunFolder, ctx: RunContext, path: Path) -> None:
    rel = run.add(path)
    ctx.outputs[rel] = run.final(rel)


def _copy_district_maps(run: RunFolder, ctx: RunContext, folder: Path) -> None:
    """Copy a district run's map files: they are the files a single run writes for it."""
    src = folder / LAYOUT.maps_dir
    if not src.is_dir():
        return
    dst = run.tmp / LAYOUT.maps_dir
    dst.mkdir(exist_ok=True)
    for f in sorted(src.glob("*.html")):
        shutil.copyfile(f, dst / f.name)
        _register(run, ctx, dst / f.name)


# ----------------------------------------------------------------------------- the merge


def merge_district_runs(
    folders: list[Path],
    districts: gpd.GeoDataFrame,
    loaded: LoadedConfig,
    out: Path,
    *,
    overwrite: bool = False,
    chunk_rows: int = 100_000,
) -> Path:
    """Merge finished district runs into a city run folder, one district at a time.

    The city folder is a complete run folder (sites as GeoParquet and GeoPackage,
    districts, summaries, supply curve, report, maps, ``provenance.json``) whose
    numbers equal one ``census run`` over the same districts, built without holding
    more than one district's site table in memory (see the module docstring).

    Parameters
    ----------
    folders : list of pathlib.Path
        Finished district run folders.
    districts : geopandas.GeoDataFrame
        The districts of the batch (metric CRS).
    loaded : LoadedConfig
        The batch's configuration.
    out : pathlib.Path
        The city folder.
    overwrite : bool, default False
        Replace ``out`` if it is a census folder.
    chunk_rows : int, default 100000
        Rows read at a time from each district's supply curve.

    Returns
    -------
    pathlib.Path
        The city folder.

    Raises
    ------
    InputError
        A district folder is not a finished run (names the file missing).
    """
    cfg = loaded.config
    need = [LAYOUT.sites_parquet, LAYOUT.provenance, LAYOUT.summary_by_district_category]
    runs = [open_run(f, need=need) for f in folders]
    provs = [r.provenance() for r in runs]
    ctx = RunContext(loaded=loaded, config_hash=config_hash(cfg))
    ctx.all_districts = ctx.districts = districts
    if cfg.targets.existing_capacity is not None:
        ctx.existing_capacity = read_existing_capacity(cfg.targets.existing_capacity)
    for prov in provs:  # the districts' warnings are the city's
        ctx.warnings.extend(prov.get("warnings") or [])
    turbine_parts = [t for t in (r.turbines() for r in runs) if t is not None and len(t)]
    profiles = [p for p in (r.pv_profile() for r in runs) if p is not None]
    ctx.pv_profile_mw = sum_profiles(profiles) if profiles else pd.DataFrame()
    with RunFolder(out, overwrite=overwrite, inputs=protected_paths(loaded)) as run:
        ctx.run_folder = run
        with collect_warnings(ctx.warnings):
            _roll_up_tables(ctx, _by_district(runs))
            ctx.tally = merge_tallies([_csv(r.file(LAYOUT.tally)) for r in runs])
            zone_files = [r.file(LAYOUT.by_zone) for r in runs]
            if zone_files and all(p.is_file() for p in zone_files):
                ctx.by_zone = _merge_zones([_csv(p) for p in zone_files])
            nc = [Path(f) / "profiles.nc" for f in folders]
            if nc and all(p.is_file() for p in nc):  # hourly profiles (census.profiles, #20)
                ctx.profiles = merge_profiles(nc)
                targets = cfg.targets
                ctx.storage_shift = storage_shift_by_district(
                    ctx.profiles,
                    ctx.by_district,
                    technologies=list(targets.storage_technologies),
                    export_limit_frac=cfg.storage_shift.export_limit_frac,
                    round_trip_efficiency_frac=cfg.storage_shift.round_trip_efficiency_frac,
                )
            full_curve = run.tmp / f".{LAYOUT.supply_curve}.merged"
            ctx.supply_curve = merge_supply_curves(
                [r.file(LAYOUT.supply_curve) for r in runs],
                full_curve,
                targets=cfg.targets,
                has_costs=cfg.costs is not None,
                chunk_rows=chunk_rows,
            )
            n_sites = int(ctx.district_totals["sites"].sum())
            turbines = (
                gpd.GeoDataFrame(pd.concat(turbine_parts, ignore_index=True))
                if turbine_parts
                else None
            )
            stub = gpd.GeoDataFrame({"eligible": pd.Series([], dtype=bool)}, geometry=[])
            ctx.turbines = turbines if turbines is not None else empty_turbines(districts.crs)
            _, ctx = record_provenance(stub, ctx)
            ctx.provenance["counts"] = {
                "sites": n_sites,
                "eligible_sites": int(ctx.district_totals["eligible_sites"].sum()),
                "turbines": 0 if turbines is None else len(turbines),
            }
            ctx.provenance["layers"] = [row for p in provs for row in p.get("layers") or []]
            ctx.provenance["weather"] = [row for p in provs for row in p.get("weather") or []]
            ctx.provenance["batch"] = {
                "districts": [str(Path(f).resolve()) for f in folders],
                "config_hashes": sorted(
                    {p.get("census_run", {}).get("config_hash") for p in provs}
                ),
                "merge": "streamed: one district's site table in memory at a time",
            }
            # sites: GeoParquet row groups, one district at a time
            cell_m = 1_000.0  # census.maps.build_map's aggregate_cell_m
            max_map = cfg.outputs.map_max_sites
            whole_map = cfg.outputs.map and n_sites <= max_map
            kept: list[gpd.GeoDataFrame] = []
            cells: list[pd.DataFrame] = []
            columns: list[str] | None = None
            crs = None
            n_rows = 0
            with GeoParquetAppender(run.file(LAYOUT.sites_parquet)) as parquet:
                for r, row in zip(runs, districts.itertuples(), strict=True):
                    part = gpd.read_parquet(r.file(LAYOUT.sites_parquet))
                    crs = crs or part.crs
                    columns = columns or list(part.columns)
                    part = part.reindex(columns=columns)
                    parquet.append(part)
                    n_rows += len(part)
                    if not cfg.outputs.map:
                        continue
                    shown = part[~(part.geometry.isna() | part.geometry.is_empty)]
                    if whole_map:
                        kept.append(shown)
                    elif len(shown):
                        cells.append(
                            district_cells(
                                shown,
                                adcode=int(row.adcode),
                                name_en=str(row.name_en),
                                max_sites_per_map=max_map,
                                cell_m=cell_m,
                            )
                        )
                    del part, shown
            # sites.gpkg: copied from the merged sites.parquet in one stream (one bulk
            # R-tree) by a child process while the maps and the report are written
            copy = None
            if n_rows:
                copy = run.copy_layer_in_background(
                    LAYOUT.sites, LAYOUT.sites_layer, LAYOUT.sites_parquet
                )
            else:  # no district had a site: an empty layer, as a run writes
                empty = gpd.GeoDataFrame(columns=columns or ["site_id"], geometry=[], crs=crs)
                run.write_layers(LAYOUT.sites, {LAYOUT.sites_layer: empty})
            try:
                ctx.outputs[LAYOUT.sites_parquet] = run.final(LAYOUT.sites_parquet)
                if cfg.outputs.map:
                    for f in folders:
                        _copy_district_maps(run, ctx, Path(f))
                    if whole_map:
                        sites = gpd.GeoDataFrame(pd.concat(kept, ignore_index=True), crs=crs)
                        _city_map(run, ctx, sites, turbines)
                        del sites, kept
                    elif cells:
                        _index_map(run, ctx, cells, turbines, cell_m=cell_m, crs=crs)
                _write_rest(run, ctx, stub)
                if copy is not None:
                    copy.wait()
            finally:
                if copy is not None:
                    copy.cancel()
            if turbines is not None:
                run.write_layers(LAYOUT.sites, {LAYOUT.turbines_layer: turbines})
            ctx.outputs[LAYOUT.sites] = run.final(LAYOUT.sites)
            _finish(run, ctx)
            full_curve.replace(run.tmp / LAYOUT.supply_curve)  # every site, not the thinned copy
    return run.path


def _write_rest(run: RunFolder, ctx: RunContext, stub: gpd.GeoDataFrame) -> None:
    """Write the tables and report as the outputs stage does (sites and maps elsewhere)."""
    # census.stages.write_outputs without the site files and maps, which the merge wrote
    from census.report import write_report_outputs

    cfg = ctx.config
    out = ctx.outputs
    out[LAYOUT.districts] = run.write_layers(
        LAYOUT.districts, {LAYOUT.districts_layer: ctx.districts}
    )
    out.update(write_tables(ctx, stub))
    out.update(write_report_outputs(run, ctx.to_result(stub), cfg))


def _finish(run: RunFolder, ctx: RunContext) -> None:
    """Style the GeoPackages once every layer is in, then write provenance.json last."""
    import datetime as dt

    # QGIS opens both styled like the HTML map (census.io.qgis_styles), as after a run
    by = ctx.by_district
    categories = sorted(set(by.loc[by["sites"] > 0, "category"].astype(str)) - {""})
    style_run_geopackages(run.tmp, categories, turbines=ctx.provenance["counts"]["turbines"] > 0)
    ctx.provenance["outputs"] = sorted({*run.files, LAYOUT.provenance})
    ctx.provenance["finished_utc"] = dt.datetime.now(dt.UTC).isoformat()
    ctx.outputs[LAYOUT.provenance] = run.write_json(LAYOUT.provenance, ctx.provenance)
