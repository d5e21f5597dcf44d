"""Maps at any size: index maps of cells that link to detail maps of single sites.

A map file that embeds every site stops opening comfortably somewhere above a
few hundred thousand sites (about 300 bytes of HTML per rooftop; see
``benchmarks/RESULTS.md``). Above ``max_sites_per_map`` sites :func:`write_maps_split`
therefore writes

- ``map.html``, the **city index map**: districts, turbines and, per category,
  square cells (count, eligible count, capacity, energy) -- no single sites. A
  cell's popup links to the detail map holding most of its sites, opened at the
  cell (``maps/<file>.html#zoom/lat/lon``);
- ``maps/<adcode>_<name>.html`` per district: the usual district map (cells at
  city zoom, single sites from ``detail_min_zoom``), when the district has at
  most ``max_sites_per_map`` sites;
- for a larger district, ``maps/<adcode>_<name>.html`` is itself an index map
  and its sites are split into ``maps/<adcode>_<name>-<k>.html`` parts by
  recursive median cuts of the site centroids along the longer side of their
  extent (a k-d split: parts of equal size, each compact in space), until every
  part has at most ``max_sites_per_map`` sites.

So every site is on exactly one detail map, and every detail map is one click
from the city map. Everything stays offline, self-contained and escaped as in
:mod:`census.maps` (the same :func:`census.maps.build_map` builds every file).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from census.exceptions import SchemaError

__all__ = ["kd_parts", "write_maps_split"]


def kd_parts(x: np.ndarray, y: np.ndarray, *, max_size: int) -> list[np.ndarray]:
    """Split points into parts of at most ``max_size`` by recursive median cuts.

    Each cut halves a part at the median along the longer side of its extent,
    so parts have equal counts (within one) and stay compact.

    Parameters
    ----------
    x, y : numpy.ndarray
        Point coordinates in a metric CRS. [m]
    max_size : int
        Largest part (>= 1).

    Returns
    -------
    list of numpy.ndarray
        Positional indices into ``x``/``y``, one array per part, ordered west/south first.
    """
    if max_size < 1:
        raise ValueError(f"max_size must be >= 1; got {max_size}.")
    out: list[np.ndarray] = []
    stack = [np.arange(len(x))]
    while stack:
        idx = stack.pop()
        if len(idx) <= max_size:
            out.append(idx)
            continue
        px, py = x[idx], y[idx]
        axis = px if np.ptp(px) >= np.ptp(py) else py
        order = np.argsort(axis, kind="stable")
        half = len(idx) // 2
        # pushed east/north first, so the west/south half is split (and listed) first
        stack.append(idx[order[half:]])
        stack.append(idx[order[:half]])
    return out


def _district_of(sites: gpd.GeoDataFrame, districts: gpd.GeoDataFrame) -> np.ndarray:
    """Adcode of each site's district (-1 when it has none)."""
    if "adcode" in sites.columns:
        codes = pd.to_numeric(sites["adcode"], errors="coerce")
    elif "district" in sites.columns:
        by_name = dict(zip(districts["name_en"].astype(str), districts["adcode"], strict=True))
        codes = pd.to_numeric(sites["district"].astype(str).map(by_name), errors="coerce")
    else:
        raise SchemaError(
            "write_maps needs an 'adcode' or 'district' column in sites to split them by "
            f"district; got {list(sites.columns)}."
        )
    return codes.fillna(-1).astype(np.int64).to_numpy()


def write_maps_split(
    folder: str | os.PathLike[str],
    sites: gpd.GeoDataFrame,
    districts: gpd.GeoDataFrame,
    *,
    max_sites_per_map: int,
    turbines: gpd.GeoDataFrame | None = None,
    district_totals: pd.DataFrame | None = None,
    districts_filter: Iterable[Any] | None = None,
    synthetic: bool = False,
    tiles: str | None = None,
    attribution: str | None = None,
    overwrite: bool = False,
    city_name: str = "Hangzhou",
    max_sites_detail: int = 5_000,
    lang: str = "en",
    zones: gpd.GeoDataFrame | None = None,
    zone_totals: pd.DataFrame | None = None,
    zone_field: str = "zone",
) -> list[Path]:
    """Write the city index map, district maps and, for large districts, their parts.

    Parameters are those of :func:`census.maps.write_maps`, plus
    ``max_sites_per_map``, the most sites one detail map draws. Zones are drawn on
    the city index map, and on each district's maps (its index and its parts) those
    that meet the district.

    Returns
    -------
    list of pathlib.Path
        The files written, city map first (none when ``districts_filter`` is given).

    Raises
    ------
    OutputExistsError
        A target file exists and ``overwrite`` is False; nothing is written.
    """
    from census.i18n import Translator
    from census.maps import (
        _CENTROID_X,
        _CENTROID_Y,
        _map_columns,
        _metric,
        _select_districts,
        build_map,
        district_map_filename,
        refuse_existing,
        save_map,
        zones_by_district,
    )

    if max_sites_per_map < 1:
        raise ValueError(f"max_sites_per_map must be >= 1; got {max_sites_per_map}.")
    tr = Translator(lang)  # type: ignore[arg-type]
    folder = Path(folder).expanduser()
    sites = _map_columns(_metric(sites, "sites"))
    drawn = ~(sites.geometry.isna() | sites.geometry.is_empty)
    sites = (sites if drawn.all() else sites[drawn]).reset_index(drop=True)
    adcode = _district_of(sites, districts)
    by_adcode = {int(a): i for i, a in enumerate(districts["adcode"])}
    if districts_filter is not None:
        if isinstance(districts_filter, str | int):
            districts_filter = [districts_filter]
        chosen = _select_districts(districts, districts_filter)
    else:
        chosen = [int(a) for a in districts["adcode"]]
    cent = sites.geometry.centroid
    cx, cy = cent.x.to_numpy(), cent.y.to_numpy()
    # every map's cells need them: computed once
    sites = sites.assign(**{_CENTROID_X: cx, _CENTROID_Y: cy}, **_as_categories(sites))

    link = pd.Series("", index=sites.index, dtype=object)  # detail file per site (in maps/)
    # (path, title, site positions or None, detail links relative to the file or None, adcode)
    jobs: list[tuple[Path, str, np.ndarray, pd.Series | None, int | None]] = []
    for code in [int(a) for a in districts["adcode"]]:
        pos = np.flatnonzero(adcode == code)
        row = districts.iloc[by_adcode[code]]
        name = district_map_filename(code, row["name_en"])
        title = tr(
            "map.district_title",
            name=row["name_zh"] if tr.zh else f"{row['name_zh']} {row['name_en']}",
        )
        if len(pos) <= max_sites_per_map:
            link.iloc[pos] = name
            if code in chosen:
                jobs.append((folder / "maps" / name, title, pos, None, code))
            continue
        parts = kd_parts(cx[pos], cy[pos], max_size=max_sites_per_map)
        stem = name.removesuffix(".html")
        for k, part in enumerate(parts, start=1):
            part_name = f"{stem}-{k}.html"
            link.iloc[pos[part]] = part_name
            if code in chosen:
                jobs.append(
                    (
                        folder / "maps" / part_name,
                        title + tr("map.part_of", k=k, n=len(parts)),
                        pos[part],
                        None,
                        code,
                    )
                )
        if code in chosen:
            jobs.append((folder / "maps" / name, title, pos, link.iloc[pos], code))
    if districts_filter is None:
        outside = np.flatnonzero(adcode == -1)
        if len(outside):  # sites in no district: detail maps of their own
            parts = kd_parts(cx[outside], cy[outside], max_size=max_sites_per_map)
            for k, part in enumerate(parts, start=1):
                part_name = f"outside_districts-{k}.html"
                link.iloc[outside[part]] = part_name
                path = folder / "maps" / part_name
                jobs.append((path, tr("map.outside_title"), outside[part], None, None))
        title = tr("map.city_title", city=city_name)
        jobs.insert(0, (folder / "map.html", title, np.arange(len(sites)), "maps/" + link, None))

    refuse_existing([p for p, *_ in jobs], overwrite=overwrite)

    common: dict[str, Any] = {
        "synthetic": synthetic,
        "tiles": tiles,
        "attribution": attribution,
        "max_sites_detail": max_sites_detail,
        "lang": lang,
    }
    # each turbine's row in `sites` (-1: its site is not on any map), once: a per-map
    # isin over string ids cost seconds at 1e6 sites
    turbine_row = np.full(0, -1, dtype=np.int64)
    if turbines is not None and len(turbines):
        first_row = pd.Series(np.arange(len(sites)), index=sites["site_id"].astype(str).to_numpy())
        first_row = first_row[~first_row.index.duplicated()]
        turbine_row = first_row.reindex(turbines["site_id"].astype(str).to_numpy()).to_numpy()
        turbine_row = np.where(np.isnan(turbine_row), -1, turbine_row).astype(np.int64)
    district_zones = zones_by_district(zones, districts)
    written: list[Path] = []
    for path, title, pos, links, code in jobs:
        # the city index map draws every site: no copy of the whole table
        everything = len(pos) == len(sites) and bool(np.all(pos == np.arange(len(sites))))
        sub = sites if everything else sites.iloc[pos]
        if code is None:
            dist = districts
        else:
            dist = districts.iloc[[by_adcode[code]]]
        sub_turbines = None
        if turbines is not None and len(turbines):
            sub_turbines = (
                turbines
                if code is None and links is not None
                else turbines[_rows_in(turbine_row, pos, len(sites))]
            )
        totals = district_totals
        if code is not None and district_totals is not None and "adcode" in district_totals:
            totals = district_totals[
                pd.to_numeric(district_totals["adcode"], errors="coerce") == code
            ]
        m = build_map(
            sub,
            dist,
            turbines=sub_turbines,
            district_totals=totals,
            title=title,
            detail_links=links,  # aligned with sub (same index, same order)
            **common,
            zones=zones if code is None and links is not None else district_zones.get(code),
            zone_totals=zone_totals,
            zone_field=zone_field,
        )
        written.append(save_map(m, path))
    return written


def _as_categories(sites: pd.DataFrame) -> dict[str, Any]:
    """Text columns in forms that are cheap to copy for each map, same values.

    Copying a column of Arrow strings copies every string (three times per site), and
    each map turned its ids into Python strings again: repeated texts become
    categoricals (``category`` only without missing values, whose text it is), ids and
    names Python strings once.
    """
    out: dict[str, Any] = {}
    for col in ("category", "district", "technology", "exclusion_reasons", "clipped_by"):
        if col not in sites.columns or not isinstance(sites[col].dtype, pd.StringDtype):
            continue
        if col != "category" or not sites[col].hasnans:
            out[col] = pd.Categorical(sites[col])
    for col in ("site_id", "name"):
        if col in sites.columns and isinstance(sites[col].dtype, pd.StringDtype):
            out[col] = sites[col].astype(object)
    return out


def _rows_in(rows: np.ndarray, pos: np.ndarray, n: int) -> np.ndarray:
    """Mask of ``rows`` (row numbers in a table of ``n``, -1 for none) that are in ``pos``."""
    member = np.zeros(n + 1, dtype=bool)  # the extra last slot is for -1
    member[pos] = True
    return member[rows]
