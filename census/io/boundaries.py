"""District boundaries: adcode, Chinese and English names, in the metric CRS."""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd

from census.crs import METRIC_CRS
from census.exceptions import InputError, SchemaError
from census.io.vector import apply_field_map, read_vector, repair_geometries, to_metric
from census.schema import require_columns

__all__ = ["BOUNDARY_COLUMNS", "read_districts", "select_districts"]

logger = logging.getLogger(__name__)

BOUNDARY_COLUMNS = ("adcode", "name_zh", "name_en")
"""Columns every district table carries besides ``geometry``."""


def read_districts(
    path: str | Path,
    *,
    layer: str | None = None,
    crs: str | None = None,
    fields: dict[str, str] | None = None,
    metric_crs: str = METRIC_CRS,
) -> gpd.GeoDataFrame:
    """Read district boundaries into the metric CRS.

    Parameters
    ----------
    path : str or pathlib.Path
        Vector file with one polygon per district.
    layer : str, optional
        Layer name in a multi-layer file.
    crs : str, optional
        Declared CRS, e.g. ``"GCJ-02"`` for the shipped Amap boundaries.
    fields : dict, optional
        Maps ``adcode``, ``name_zh``, ``name_en`` to the file's column names.
    metric_crs : str, default "EPSG:4549"

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``adcode`` (int), ``name_zh``, ``name_en``, ``area_m2``, ``geometry``
        in ``metric_crs``, sorted by adcode.
    """
    gdf = read_vector(path, layer=layer, crs=crs, name="districts")
    if fields:
        gdf = apply_field_map(gdf, fields, layer="districts", path=path)
    require_columns(
        gdf,
        BOUNDARY_COLUMNS,
        what=f"District boundaries {path}",
        fix="Map them with [study_area.fields] in your config.",
    )
    gdf, _ = repair_geometries(gdf, layer="districts")
    gdf = to_metric(gdf, layer="districts", metric_crs=metric_crs)
    out = gdf[list(BOUNDARY_COLUMNS) + [gdf.geometry.name]].copy()
    try:
        out["adcode"] = out["adcode"].astype("int64")
    except (TypeError, ValueError) as exc:
        raise SchemaError(
            f"District boundaries {path}: 'adcode' must be integers ({exc})."
        ) from exc
    out["name_zh"] = out["name_zh"].astype(str)
    out["name_en"] = out["name_en"].astype(str)
    if out["adcode"].duplicated().any():
        dup = sorted(out.loc[out["adcode"].duplicated(), "adcode"].unique().tolist())
        raise InputError(f"District boundaries {path}: duplicated adcodes {dup}.")
    out["area_m2"] = out.geometry.area
    return out.sort_values("adcode").reset_index(drop=True)


def select_districts(
    districts: gpd.GeoDataFrame, wanted: list[str | int] | None
) -> gpd.GeoDataFrame:
    """Select districts by adcode, Chinese name or English name (case-insensitive).

    Raises
    ------
    InputError
        For an unknown district; the message lists every valid name.
    """
    if not wanted:
        return districts
    keys: dict[str, int] = {}
    for row in districts.itertuples():
        keys[str(row.adcode)] = row.adcode
        keys[str(row.name_zh)] = row.adcode
        keys[str(row.name_en).lower()] = row.adcode
        # accept "Linan" for "Lin'an" and names without the district suffix (区/县/市)
        keys[str(row.name_en).lower().replace("'", "")] = row.adcode
        keys[str(row.name_zh).rstrip("区县市")] = row.adcode
    chosen: list[int] = []
    unknown: list[str] = []
    for item in wanted:
        key = str(item).strip()
        code = keys.get(key, keys.get(key.lower()))
        if code is None:
            unknown.append(key)
        elif code not in chosen:
            chosen.append(code)
    if unknown:
        valid = ", ".join(f"{r.name_en} ({r.name_zh}, {r.adcode})" for r in districts.itertuples())
        raise InputError(
            f"Unknown district {', '.join(map(repr, unknown))}. Valid districts: {valid}."
        )
    return districts[districts["adcode"].isin(chosen)].reset_index(drop=True)
