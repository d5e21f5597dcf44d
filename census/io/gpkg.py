"""GeoPackage layers written as one stream of Arrow batches.

pyogrio's ``write_dataframe`` writes a whole table at once (an Arrow copy of a
1e6-site table is about 1 GiB); writing it in slices with ``append=True`` bounds
that copy but reopens the file for every slice, and every appended row then goes
through the GeoPackage's R-tree triggers one by one, which doubles the write time
of a 1e6-site layer. Here the slices go to GDAL as one Arrow stream
(``pyogrio.raw.write_arrow`` with a ``pyarrow.RecordBatchReader``): one open
file, one layer creation, and GDAL builds the R-tree in bulk when the layer is
finished, while only one slice is held in Arrow form at a time.

pyogrio has no streaming counterpart of ``write_dataframe`` (it takes one table),
so the conversion of each slice below follows what ``write_dataframe`` does for
``use_arrow=True``: geometries as WKB, promoted to their multi type when the
layer mixes single and multi parts, strings as Arrow strings.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import shapely

__all__ = ["SLICE_ROWS", "layer_geometry_type", "write_gpkg_layer"]

SLICE_ROWS = 100_000
"""Rows converted to Arrow at a time (bounds the Arrow copy of a large layer)."""

_TYPE_NAMES = {
    0: "Point",
    1: "LineString",
    2: "LineString",  # a LinearRing is written as a LineString
    3: "Polygon",
    4: "MultiPoint",
    5: "MultiLineString",
    6: "MultiPolygon",
    7: "GeometryCollection",
}
"""shapely.get_type_id -> geometry type name (-1, a missing geometry, has none)."""

_MULTI = {"Point": "MultiPoint", "LineString": "MultiLineString", "Polygon": "MultiPolygon"}


def layer_geometry_type(geom_types: Iterable[str]) -> str:
    """Return the GeoPackage layer type for a set of shapely geometry type names.

    One type is that type; a single type with its multi type is the multi type (the
    singles are promoted when written); anything else, or nothing, is ``"Unknown"``
    (any geometry), as pyogrio's ``write_dataframe`` decides.

    Parameters
    ----------
    geom_types : iterable of str
        Geometry type names (``"Polygon"``, ``"MultiPolygon"``, ...); None ignored.

    Returns
    -------
    str
    """
    types = {t for t in geom_types if t}
    if len(types) == 1:
        return next(iter(types))
    if len(types) == 2:
        for single, multi in _MULTI.items():
            if types == {single, multi}:
                return multi
    return "Unknown"


def _slice_table(part: gpd.GeoDataFrame, layer_type: str) -> pa.Table:
    geom = part.geometry.to_numpy()
    if layer_type.startswith("Multi"):
        single = layer_type.removeprefix("Multi")
        is_single = shapely.get_type_id(geom) == shapely.GeometryType[single.upper()]
        if is_single.any():
            geom = geom.copy()
            make = {
                "Point": shapely.multipoints,
                "LineString": shapely.multilinestrings,
                "Polygon": shapely.multipolygons,
            }[single]
            # one multi geometry per single one (one column each), as pyogrio does
            geom[is_single] = make(np.atleast_2d(geom[is_single]), axis=0)
    frame = pd.DataFrame(part, copy=False).drop(columns=[part.geometry.name])
    for col in frame.columns:
        if frame[col].dtype != object:
            continue
        # as pyogrio: strings stay strings, other objects Arrow cannot type become text
        if pd.api.types.infer_dtype(frame[col], skipna=True) == "string":
            frame[col] = frame[col].astype("string")
            continue
        try:
            pa.array(frame[col], from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            frame[col] = frame[col].astype("string")
    frame["geometry"] = shapely.to_wkb(geom)
    return pa.Table.from_pandas(frame, preserve_index=False)


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """Cast a slice to the first slice's schema (an all-null column infers as null)."""
    if table.schema.equals(schema):
        return table
    return table.select(schema.names).cast(schema)


def write_gpkg_layer(
    path: str | Path,
    layer: str,
    gdf: gpd.GeoDataFrame,
    *,
    slice_rows: int = SLICE_ROWS,
) -> None:
    """Write a GeoDataFrame as one layer of a GeoPackage, streamed in slices.

    Parameters
    ----------
    path : str or pathlib.Path
        GeoPackage; created, or given one more layer if it exists.
    layer : str
        Layer name (must not exist in the file).
    gdf : geopandas.GeoDataFrame
        Rows to write; its CRS becomes the layer's.
    slice_rows : int
        Rows converted to Arrow at a time.
    """
    from pyogrio.raw import write_arrow

    path = Path(path)
    geom = gdf.geometry
    ids = pd.unique(shapely.get_type_id(geom.to_numpy()))
    layer_type = layer_geometry_type(_TYPE_NAMES.get(int(t)) for t in ids)
    has_z = bool(len(gdf)) and bool(shapely.has_z(geom.to_numpy()).any())
    if has_z and layer_type != "Unknown":
        layer_type += " Z"
    base = layer_type.removesuffix(" Z")
    first = _slice_table(gdf.iloc[:slice_rows], base)
    # an all-null column has Arrow's null type, which GDAL cannot write: text instead
    schema = pa.schema(
        [
            f.with_type(pa.binary())
            if f.name == "geometry"
            else f.with_type(pa.string())
            if pa.types.is_null(f.type)
            else f
            for f in first.schema
        ]
    )

    def batches() -> Iterator[pa.RecordBatch]:
        yield from _conform(first, schema).to_batches()
        for start in range(slice_rows, len(gdf), slice_rows):
            table = _conform(_slice_table(gdf.iloc[start : start + slice_rows], base), schema)
            yield from table.to_batches()

    crs = None
    if gdf.crs is not None:
        epsg = gdf.crs.to_epsg()
        crs = f"EPSG:{epsg}" if epsg else gdf.crs.to_wkt("WKT1_GDAL")
    write_arrow(
        pa.RecordBatchReader.from_batches(schema, batches()),
        path,
        layer=layer,
        driver="GPKG",
        geometry_name="geometry",
        geometry_type=layer_type,
        crs=crs,
        append=path.exists(),
    )
