"""Vector layers: GeoPackage, GeoJSON, Shapefile, FlatGeobuf, GeoParquet.

Read through pyogrio (GeoParquet through geopandas/pyarrow), then brought into the
metric CRS with a declared or embedded CRS, GCJ-02 included.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from census.crs import GCJ02, METRIC_CRS, check_zone, gcj02_to_wgs84_gdf, require_crs
from census.exceptions import InputError, SchemaError

__all__ = [
    "EXTENT_MARGIN_M",
    "VECTOR_SUFFIXES",
    "count_features",
    "extent_in_layer_crs",
    "list_layers",
    "read_vector",
    "repair_geometries",
    "to_metric",
]

logger = logging.getLogger(__name__)

VECTOR_SUFFIXES = (".gpkg", ".geojson", ".json", ".shp", ".fgb", ".parquet", ".geoparquet")
"""File suffixes read as vector layers."""

EXTENT_MARGIN_M = 100.0
"""Margin [m] added around an extent before it is transformed into a layer's CRS."""

#: Extra margin [deg] around an extent for GCJ-02 files: the GCJ-02 offset from WGS84 is
#: at most about 0.01 deg in China (~0.005 deg lon, 0.003 deg lat in Hangzhou).
GCJ02_MARGIN_DEG = 0.02

_PARQUET = (".parquet", ".geoparquet")


def _check_path(path: Path, what: str) -> Path:
    if not path.exists():
        raise InputError(
            f"{what} file not found: {path}. Check the path in your config (relative "
            "paths are resolved against the config file's folder)."
        )
    return path


def list_layers(path: str | Path) -> list[str]:
    """Return the layer names in a vector file (one name for single-layer formats)."""
    import pyogrio

    path = _check_path(Path(path), "Vector")
    if path.suffix.lower() in (".parquet", ".geoparquet"):
        return [path.stem]
    return [str(name) for name, _ in pyogrio.list_layers(path)]


def read_vector(
    path: str | Path,
    *,
    layer: str | None = None,
    crs: str | None = None,
    name: str | None = None,
    extent: tuple[float, float, float, float] | None = None,
    extent_crs: str = METRIC_CRS,
) -> gpd.GeoDataFrame:
    """Read one vector layer as it is stored, with its CRS checked.

    Parameters
    ----------
    path : str or pathlib.Path
        GeoPackage, GeoJSON, Shapefile, FlatGeobuf or GeoParquet file.
    layer : str, optional
        Layer name inside a multi-layer file (GeoPackage). Required when the file
        has more than one layer.
    crs : str, optional
        CRS to assume when the file has none, or to override a wrong one; may be
        ``"GCJ-02"`` (the coordinates are then GCJ-02 lon/lat and the returned
        frame carries EPSG:4326 after conversion to WGS84).
    name : str, optional
        Name of the layer for messages (defaults to ``layer`` or the file stem).
    extent : (float, float, float, float), optional
        ``(xmin, ymin, xmax, ymax)`` in ``extent_crs``: read only the features whose
        bounding box meets this box (transformed into the layer's CRS with
        :func:`extent_in_layer_crs`, so a little more may be read, never less).
        Default: the whole layer. The frame's ``attrs["extent_read"]`` says whether
        the extent was used (a file without a CRS is read whole, so that the
        missing CRS is reported as usual).
    extent_crs : str, default "EPSG:4549"
        CRS of ``extent``.

    Returns
    -------
    geopandas.GeoDataFrame
        In the file's CRS (or WGS84 for GCJ-02 input); rows in file order (index
        0..n-1 when read by extent).

    Raises
    ------
    InputError
        Missing file, unknown layer, or a file that cannot be read.
    MissingCRSError
        If neither the file nor ``crs`` gives a CRS.
    """
    import pyogrio

    path = _check_path(Path(path), "Vector")
    label = name or layer or path.stem
    suffix = path.suffix.lower()
    try:
        if suffix not in _PARQUET and layer is not None:
            available = [str(n) for n, _ in pyogrio.list_layers(path)]
            if layer not in available:
                raise InputError(
                    f"Layer '{layer}' not found in {path}; the file has layers "
                    f"{available}. Fix the layer name in your config."
                )
        bbox = None
        if extent is not None:
            stored = _stored_crs(path, layer=layer, crs=crs)
            if stored is not None:
                bbox = extent_in_layer_crs(extent, extent_crs, stored, gcj02=_is_gcj02(crs))
        if suffix in _PARQUET:
            gdf = gpd.read_parquet(path) if bbox is None else _read_parquet_bbox(path, bbox)
        else:
            gdf = pyogrio.read_dataframe(path, layer=layer, bbox=bbox)
    except InputError:
        raise
    except (
        pyogrio.errors.DataSourceError,
        pyogrio.errors.DataLayerError,
        OSError,
        ValueError,
    ) as exc:
        raise InputError(f"Cannot read layer '{label}' from {path}: {exc}") from exc
    if crs is not None:
        if _is_gcj02(crs):
            gdf = gcj02_to_wgs84_gdf(gdf)
            gdf.attrs["source_crs"] = GCJ02
        else:
            if gdf.crs is not None:
                logger.info(
                    "layer %s: declared CRS %s overrides the file's %s", label, crs, gdf.crs
                )
            gdf = gdf.set_crs(crs, allow_override=True)
            gdf.attrs["source_crs"] = crs
    else:
        require_crs(gdf, layer=label, path=str(path))
        gdf.attrs["source_crs"] = gdf.crs.to_string()
    gdf.attrs["extent_read"] = bbox is not None
    return gdf


def _is_gcj02(crs: str | None) -> bool:
    return crs is not None and crs.upper().replace("_", "-") in (GCJ02, "GCJ02")


def _stored_crs(path: Path, *, layer: str | None, crs: str | None):
    """CRS of the coordinates as stored in the file (declared ``crs`` first); None if unknown."""
    from pyproj import CRS

    if crs is not None:
        return CRS.from_user_input("EPSG:4326" if _is_gcj02(crs) else crs)
    if path.suffix.lower() in _PARQUET:
        from census.io.geoparquet import geoparquet_metadata

        geo = geoparquet_metadata(path)
        column = geo["columns"][geo["primary_column"]]
        if "crs" not in column:
            return CRS.from_user_input("OGC:CRS84")  # GeoParquet spec: a missing crs is CRS84
        return None if column["crs"] is None else CRS.from_user_input(column["crs"])
    import pyogrio

    info_crs = pyogrio.read_info(path, layer=layer).get("crs")
    return CRS.from_user_input(info_crs) if info_crs else None


def extent_in_layer_crs(
    extent: tuple[float, float, float, float],
    extent_crs: str,
    layer_crs,
    *,
    margin_m: float = EXTENT_MARGIN_M,
    gcj02: bool = False,
) -> tuple[float, float, float, float]:
    """Transform a box into a layer's CRS, grown so that it covers the box's whole area.

    Parameters
    ----------
    extent : (float, float, float, float)
        ``(xmin, ymin, xmax, ymax)`` in ``extent_crs`` [m].
    extent_crs : str
        A projected CRS in metres.
    layer_crs : pyproj.CRS or str
        CRS of the layer's stored coordinates (EPSG:4326 for GCJ-02 files).
    margin_m : float, default :data:`EXTENT_MARGIN_M`
        Margin added on every side before the transformation [m].
    gcj02 : bool, default False
        The coordinates are GCJ-02: grow the box by a further
        :data:`GCJ02_MARGIN_DEG` [deg] to cover the GCJ-02 offset.

    Returns
    -------
    (float, float, float, float)
        ``(xmin, ymin, xmax, ymax)`` in ``layer_crs`` (x = longitude for geographic CRS),
        from pyproj's ``transform_bounds`` with 21 points densified on each edge.
    """
    from pyproj import CRS

    from census.crs import transformer

    x0, y0, x1, y1 = (float(v) for v in extent)
    box = (x0 - margin_m, y0 - margin_m, x1 + margin_m, y1 + margin_m)
    target = CRS.from_user_input(layer_crs)
    if target.equals(CRS.from_user_input(extent_crs)):
        return box
    out = transformer(extent_crs, target).transform_bounds(*box, densify_pts=21)
    if gcj02:
        m = GCJ02_MARGIN_DEG
        out = (out[0] - m, out[1] - m, out[2] + m, out[3] + m)
    return tuple(float(v) for v in out)


def _read_parquet_bbox(path: Path, bbox: tuple[float, float, float, float]) -> gpd.GeoDataFrame:
    """Read the rows of a GeoParquet file whose bounding box meets ``bbox``.

    With a ``bbox`` covering column (GeoParquet 1.1) pyarrow skips the other rows before
    their geometries are decoded; without one every geometry is decoded and the rows
    are filtered by their bounds (the saving is then in what the caller does next).
    """
    from census.io.geoparquet import geoparquet_metadata

    covering = geoparquet_metadata(path)["columns"]
    if any("covering" in c for c in covering.values()):
        return gpd.read_parquet(path, bbox=bbox).reset_index(drop=True)
    gdf = gpd.read_parquet(path)
    b = shapely.bounds(gdf.geometry.values)
    keep = ~((b[:, 0] > bbox[2]) | (b[:, 1] > bbox[3]) | (b[:, 2] < bbox[0]) | (b[:, 3] < bbox[1]))
    return gdf.loc[keep].reset_index(drop=True)


def count_features(path: str | Path, *, layer: str | None = None) -> int | None:
    """Return the number of features of a layer from its metadata, or None when unknown.

    Cheap: GeoPackage and GeoParquet store the count; other formats may need a scan.
    """
    import pyogrio

    path = Path(path)
    if path.suffix.lower() in _PARQUET:
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(path).metadata.num_rows)
    n = int(pyogrio.read_info(path, layer=layer).get("features", -1))
    return None if n < 0 else n


def repair_geometries(
    gdf: gpd.GeoDataFrame, *, layer: str = "layer"
) -> tuple[gpd.GeoDataFrame, int]:
    """Repair invalid geometries with ``make_valid`` and drop empty or missing ones.

    Polygon layers keep only the polygonal parts of a repaired geometry (a
    bow-tie becomes two triangles, not a collection with a stray line).

    Returns
    -------
    gdf : geopandas.GeoDataFrame
        A copy with valid, non-empty geometries.
    n_repaired : int
        How many geometries were invalid and repaired.
    """
    geoms = gdf.geometry.values
    missing = np.asarray(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if missing.any():
        warnings.warn(
            f"Layer '{layer}': dropped {int(missing.sum())} rows with empty or missing geometry.",
            UserWarning,
            stacklevel=2,
        )
    gdf = gdf.loc[~missing].copy()
    invalid = ~np.asarray(shapely.is_valid(gdf.geometry.values))
    n_invalid = int(invalid.sum())
    if n_invalid:
        fixed = shapely.make_valid(gdf.geometry.values[invalid])
        polygonal = (
            np.isin(shapely.get_type_id(gdf.geometry.values[~invalid]), [3, 6]).all()
            if ((~invalid).any())
            else True
        )
        if polygonal:
            # keep polygon parts only: extract from collections
            parts = []
            for geom in fixed:
                if geom.geom_type in ("Polygon", "MultiPolygon"):
                    parts.append(geom)
                else:
                    polys = [
                        g
                        for g in getattr(geom, "geoms", [])
                        if g.geom_type in ("Polygon", "MultiPolygon")
                    ]
                    parts.append(shapely.union_all(polys) if polys else shapely.Polygon())
            fixed = np.array(parts, dtype=object)
        geoms = gdf.geometry.values.copy()
        geoms[invalid] = fixed
        gdf = gdf.set_geometry(gpd.GeoSeries(geoms, index=gdf.index, crs=gdf.crs))
        logger.info("layer %s: repaired %d invalid geometries", layer, n_invalid)
        empty = np.asarray(shapely.is_empty(gdf.geometry.values))
        gdf = gdf.loc[~empty].copy()
    return gdf, n_invalid


def apply_field_map(
    gdf: gpd.GeoDataFrame, fields: Mapping[str, str], *, layer: str, path: str | Path
) -> gpd.GeoDataFrame:
    """Rename source columns to census names; ``fields`` maps census name -> source column.

    Raises
    ------
    SchemaError
        If a mapped source column is missing; the message lists the columns present.
    """
    missing = {k: v for k, v in fields.items() if v not in gdf.columns}
    if missing:
        raise SchemaError(
            f"Layer '{layer}' in {path}: the field mapping names columns "
            f"{sorted(missing.values())} (for {sorted(missing)}) that the layer does not have; "
            "it has "
            f"{[c for c in gdf.columns if c != gdf.geometry.name]}. Fix [layers.{layer}.fields] "
            "in your config."
        )
    rename = {src: dst for dst, src in fields.items() if src != dst}
    clash = [dst for dst in rename.values() if dst in gdf.columns and dst not in rename]
    if clash:
        gdf = gdf.drop(columns=clash)
    return gdf.rename(columns=rename)


def to_metric(
    gdf: gpd.GeoDataFrame,
    *,
    layer: str = "layer",
    metric_crs: str = METRIC_CRS,
    check_lon: tuple[float, float] | None = None,
) -> gpd.GeoDataFrame:
    """Project a layer to the metric CRS after checking it lies in the CRS zone.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Layer with a CRS.
    layer : str
        Name for messages.
    metric_crs : str, default "EPSG:4549"
    check_lon : (float, float), optional
        Longitude range for the zone guard; ``None`` uses :data:`census.crs.ZONE_LON_RANGE`.
    """
    if check_lon is None:
        check_lon = zone_lon_range(metric_crs)
    check_zone(gdf, layer=layer, lon_range=check_lon)
    if gdf.crs is not None and gdf.crs.equals(metric_crs):
        return gdf  # geopandas would transform every vertex even for the same CRS
    return gdf.to_crs(metric_crs)


def zone_lon_range(metric_crs: str) -> tuple[float, float]:
    """Return the longitudes [deg] a metric CRS serves.

    Hangzhou's range for EPSG:4549, else the CRS's area of use widened by 0.5 deg.
    """
    from pyproj import CRS

    from census.crs import ZONE_LON_RANGE

    crs = CRS.from_user_input(metric_crs)
    if crs == CRS.from_user_input(METRIC_CRS) or crs.area_of_use is None:
        return ZONE_LON_RANGE
    return crs.area_of_use.west - 0.5, crs.area_of_use.east + 0.5
