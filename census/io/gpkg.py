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

import signal
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import shapely

__all__ = [
    "SLICE_ROWS",
    "ParquetCopyProcess",
    "layer_geometry_type",
    "write_gpkg_from_parquet",
    "write_gpkg_layer",
    "write_gpkg_stream",
]

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


def _crs_text(crs: Any) -> str | None:
    if crs is None:
        return None
    epsg = crs.to_epsg()
    return f"EPSG:{epsg}" if epsg else crs.to_wkt("WKT1_GDAL")


def write_gpkg_stream(
    path: str | Path,
    layer: str,
    parts: Iterable[gpd.GeoDataFrame],
    *,
    layer_type: str,
    crs: Any,
) -> int:
    """Write GeoDataFrames one after another as one layer of a GeoPackage.

    Parameters
    ----------
    path : str or pathlib.Path
        GeoPackage; created, or given one more layer if it exists.
    layer : str
        Layer name (must not exist in the file).
    parts : iterable of geopandas.GeoDataFrame
        The rows, in pieces with the same columns; consumed lazily, one at a time.
    layer_type : str
        GeoPackage geometry type (:func:`layer_geometry_type`, ``" Z"`` appended for 3D).
    crs : pyproj.CRS or None
        CRS of the layer.

    Returns
    -------
    int
        Rows written.
    """
    from pyogrio.raw import write_arrow

    path = Path(path)
    base = layer_type.removesuffix(" Z")
    it = iter(parts)
    first_part = next(it, None)
    if first_part is None:
        raise ValueError(f"no rows or columns to write to layer {layer!r} of {path}")
    first = _slice_table(first_part, base)
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
    rows = [0]
    raised: list[BaseException] = []

    def batches() -> Iterator[pa.RecordBatch]:
        try:
            rows[0] += first.num_rows
            yield from _conform(first, schema).to_batches()
            for part in it:
                if len(part):
                    table = _conform(_slice_table(part, base), schema)
                    rows[0] += table.num_rows
                    yield from table.to_batches()
        except GeneratorExit:  # closed by the reader: not an error of ours
            raise
        except BaseException as exc:
            raised.append(exc)
            raise

    signals: list[BaseException] = []
    try:
        with _signals_noted(signals):
            write_arrow(
                pa.RecordBatchReader.from_batches(schema, batches()),
                path,
                layer=layer,
                driver="GPKG",
                geometry_name="geometry",
                geometry_type=layer_type,
                crs=_crs_text(crs),
                append=path.exists(),
            )
    except Exception:
        # GDAL pulls the batches through the Arrow C stream, which turns whatever the
        # Python side raised -- a bad part, or the KeyboardInterrupt of Ctrl-C (census
        # turns SIGTERM into one too), raised in the generator or by pyarrow's own check
        # for signals between batches -- into pyogrio's "Error while accessing batch
        # from stream": raise the original
        if raised:
            raise raised[0] from None
        if signals:  # what the signal's handler raised (KeyboardInterrupt, SystemExit ...)
            raise signals[0] from None
        raise
    return rows[0]


@contextmanager
def _signals_noted(noted: list[BaseException]) -> Iterator[None]:
    """Keep in ``noted`` what SIGINT's and SIGTERM's handlers raise while the block runs.

    The handlers run as before; only signals with a Python handler (Ctrl-C's
    KeyboardInterrupt, census's SIGTERM handler) are wrapped, and only in the main
    thread, where handlers run. A handler that raises nothing notes nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {}
    for signum in (signal.SIGINT, signal.SIGTERM):
        handler = signal.getsignal(signum)
        if callable(handler):
            previous[signum] = handler

            def noting(num: int, frame: Any, handler: Any = handler) -> Any:
                try:
                    return handler(num, frame)
                except BaseException as exc:
                    noted.append(exc)
                    raise

            signal.signal(signum, noting)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


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
    geom = gdf.geometry.to_numpy()
    ids = pd.unique(shapely.get_type_id(geom))
    layer_type = layer_geometry_type(_TYPE_NAMES.get(int(t)) for t in ids)
    if layer_type != "Unknown" and len(gdf) and bool(shapely.has_z(geom).any()):
        layer_type += " Z"
    slices = (
        gdf.iloc[start : start + slice_rows] for start in range(0, max(len(gdf), 1), slice_rows)
    )
    write_gpkg_stream(path, layer, slices, layer_type=layer_type, crs=gdf.crs)


def write_gpkg_from_parquet(
    parquet: str | Path, path: str | Path, layer: str, *, batch_rows: int = SLICE_ROWS
) -> int:
    """Copy a GeoParquet file (census.io.geoparquet) into a GeoPackage layer, streamed.

    Only one batch of rows is in memory at a time; the layer type comes from the
    file's ``geometry_types`` metadata and the ``bbox`` covering column is left out.

    Parameters
    ----------
    parquet : str or pathlib.Path
        GeoParquet file with one geometry column.
    path : str or pathlib.Path
        GeoPackage; created, or given one more layer.
    layer : str
        Layer name.
    batch_rows : int
        Rows read and converted at a time.

    Returns
    -------
    int
        Rows written.
    """
    import pyarrow.parquet as pq
    from pyproj import CRS

    from census.io.geoparquet import geoparquet_metadata

    meta = geoparquet_metadata(parquet)
    name = meta["primary_column"]
    col = meta["columns"][name]
    crs = CRS.from_user_input(col["crs"]) if col.get("crs") is not None else None
    layer_type = layer_geometry_type(t.removesuffix(" Z") for t in col.get("geometry_types", []))
    if layer_type != "Unknown" and any(t.endswith(" Z") for t in col.get("geometry_types", [])):
        layer_type += " Z"
    covering = (col.get("covering") or {}).get("bbox", {}).get("xmin", [None])[0]
    pf = pq.ParquetFile(parquet)
    columns = [c for c in pf.schema_arrow.names if c != covering]

    def parts() -> Iterator[gpd.GeoDataFrame]:
        empty = True
        for batch in pf.iter_batches(batch_size=batch_rows, columns=columns):
            empty = False
            frame = batch.to_pandas()
            geom = gpd.GeoSeries.from_wkb(frame.pop(name), crs=crs)
            yield gpd.GeoDataFrame(frame, geometry=geom.rename("geometry"), crs=crs)
        if empty:
            frame = pf.schema_arrow.empty_table().select(columns).to_pandas()
            geom = gpd.GeoSeries.from_wkb(frame.pop(name), crs=crs)
            yield gpd.GeoDataFrame(frame, geometry=geom.rename("geometry"), crs=crs)

    return write_gpkg_stream(path, layer, parts(), layer_type=layer_type, crs=crs)


class ParquetCopyProcess:
    """:func:`write_gpkg_from_parquet` run by ``python -m census.io.gpkg`` in a child process.

    A subprocess rather than multiprocessing: a dask worker (``census batch``) is a
    daemonic process, which may not start multiprocessing children.

    Parameters
    ----------
    parquet, path, layer
        As :func:`write_gpkg_from_parquet`.
    """

    def __init__(self, parquet: str | Path, path: str | Path, layer: str) -> None:
        import subprocess
        import sys
        import tempfile

        self.path = Path(path)
        self._stderr = tempfile.TemporaryFile()
        from census.children import die_with_parent

        self._proc = subprocess.Popen(
            # killed with this process (a batch worker closed mid-district, kill -9)
            [*die_with_parent(), sys.executable, "-m", "census.io.gpkg"]
            + [str(parquet), str(path), layer],
            stdout=subprocess.DEVNULL,
            stderr=self._stderr,
        )

    def wait(self) -> None:
        """Wait for the copy to finish.

        Raises
        ------
        OSError
            The copy failed; the message is the child's reason (pyogrio's or the OS's).
        """
        rc = self._proc.wait()
        self._stderr.seek(0)
        err = self._stderr.read().decode("utf-8", "replace").strip()
        self._stderr.close()
        if rc != 0:
            reason = err.splitlines()[-1] if err else f"the writer process exited with {rc}"
            raise OSError(f"GeoPackage writer process failed: {reason}")

    def cancel(self) -> None:
        """Stop the copy if it still runs (the caller removes the partial file)."""
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        if not self._stderr.closed:
            self._stderr.close()


def main(argv: list[str] | None = None) -> int:
    """``python -m census.io.gpkg PARQUET GPKG LAYER``: the copy in its own process.

    The outputs stage of a large run writes its GeoPackage this way while it draws the
    maps and the report (GDAL's GeoPackage writer holds the GIL, so a thread would not
    run beside them). Exit status 0, or 1 with the reason on stderr.
    """
    import sys

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 3:
        print("usage: python -m census.io.gpkg PARQUET GPKG LAYER", file=sys.stderr)
        return 2
    try:
        write_gpkg_from_parquet(args[0], args[1], args[2])
    except (OSError, ValueError, RuntimeError) as exc:  # pyogrio's errors are RuntimeErrors
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # Ctrl-C reaches the whole process group: the parent says it
        return 130
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
