"""The site table as GeoParquet 1.1 (``sites.parquet``), written whole or streamed.

GeoParquet is the exchange format for tables of a million sites and more: a
columnar file that geopandas, DuckDB, GDAL/QGIS (Parquet driver, GDAL >= 3.5)
and Arrow-based tools read directly, several times faster to write and read than
a GeoPackage. Every file census writes is

- in :data:`census.crs.METRIC_CRS` (EPSG:4549), stated as PROJJSON in the
  ``geo`` metadata;
- GeoParquet 1.1.0 with WKB geometry and a ``bbox`` covering column
  (struct of ``xmin, ymin, xmax, ymax``) so readers can skip row groups by
  extent (GeoParquet 1.1 spec, "covering",
  https://geoparquet.org/releases/v1.1.0/);
- split into row groups of :data:`ROW_GROUP_ROWS` rows.

:func:`write_geoparquet` writes a GeoDataFrame through geopandas
(``to_parquet(schema_version="1.1.0", write_covering_bbox=True)``).
:class:`GeoParquetAppender` streams one table from many GeoDataFrames (a batch's
districts) as row groups, never holding more than one of them, and rewrites the
file-level ``geo`` metadata (geometry types, total extent) when it closes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from census.crs import METRIC_CRS
from census.exceptions import CensusError

__all__ = [
    "ROW_GROUP_ROWS",
    "SITES_PARQUET",
    "GeoParquetAppender",
    "geoparquet_metadata",
    "write_geoparquet",
]

#: File name of the site table in a run folder.
SITES_PARQUET = "sites.parquet"

#: Rows per row group: the unit a reader skips by bbox. 64 Ki rows keeps a group
#: at a few MB for rooftops (the GDAL driver's default is also 65,536 rows).
ROW_GROUP_ROWS = 65_536

#: Snappy: the fastest codec pyarrow has and the GeoParquet/GDAL default; zstd
#: would save about a third of the bytes at roughly twice the write time.
COMPRESSION = "snappy"


class GeoParquetWriteError(CensusError, OSError):
    """A GeoParquet file could not be written (disk full, no permission...)."""


def _metric(gdf: gpd.GeoDataFrame, *, what: str) -> gpd.GeoDataFrame:
    if gdf.crs is None:
        raise CensusError(
            f"{what}: the table has no CRS, so it cannot be written as GeoParquet in "
            f"{METRIC_CRS}. Set its CRS (GeoDataFrame.set_crs) before writing."
        )
    if not gdf.crs.equals(METRIC_CRS):
        gdf = gdf.to_crs(METRIC_CRS)
    return gdf


def _plain_strings(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return the table with object columns as pandas ``string`` columns.

    pyarrow cannot convert object columns holding mixed values; ``string``
    makes the Parquet type explicit (as the GeoPackage write does).
    """
    out = None
    for col in gdf.columns:
        if col == gdf.geometry.name:
            continue
        if gdf[col].dtype == object:
            if out is None:
                out = gdf.copy(deep=False)
            out[col] = gdf[col].astype("string")
    return gdf if out is None else out


def write_geoparquet(
    path: str | Path,
    gdf: gpd.GeoDataFrame,
    *,
    row_group_rows: int = ROW_GROUP_ROWS,
) -> Path:
    """Write a GeoDataFrame as GeoParquet 1.1 in EPSG:4549 with bbox covering.

    Parameters
    ----------
    path : str or pathlib.Path
        Target file (normally inside a run's temporary folder).
    gdf : geopandas.GeoDataFrame
        Table to write; reprojected to EPSG:4549 if it is in another CRS.
    row_group_rows : int, default :data:`ROW_GROUP_ROWS`
        Rows per Parquet row group.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    GeoParquetWriteError
        When the file cannot be written; names the file and the cause.
    """
    path = Path(path)
    gdf = _plain_strings(_metric(gdf, what=str(path)))
    try:
        gdf.to_parquet(
            path,
            index=False,
            compression=COMPRESSION,
            schema_version="1.1.0",
            write_covering_bbox=True,
            row_group_size=row_group_rows,
        )
    except OSError as exc:
        path.unlink(missing_ok=True)
        raise GeoParquetWriteError(
            f"Could not write {path}: {exc.strerror or exc}. Free disk space or choose a "
            "writable --out."
        ) from exc
    return path


def geoparquet_metadata(path: str | Path) -> dict[str, Any]:
    """Return the decoded ``geo`` file metadata of a GeoParquet file.

    Raises
    ------
    CensusError
        When the file has no ``geo`` metadata (it is plain Parquet).
    """
    meta = pq.read_schema(path).metadata or {}
    if b"geo" not in meta:
        raise CensusError(
            f"{path} has no 'geo' metadata: it is plain Parquet, not GeoParquet. "
            "Write it with census or geopandas' to_parquet."
        )
    return json.loads(meta[b"geo"])


class GeoParquetAppender:
    """Stream GeoDataFrames into one GeoParquet file, one or more row groups each.

    The first table fixes the schema (columns and their types); later tables are
    cast to it (a column missing from a later table is written as nulls, an extra
    one is an error). Memory holds one table at a time. On :meth:`close` the
    ``geo`` metadata is rewritten with the union of geometry types and the total
    extent, so the file is indistinguishable from one written whole.

    The file is written to ``<path>.part`` and renamed on close, so a killed
    writer leaves no file that looks complete.

    Parameters
    ----------
    path : str or pathlib.Path
        Target file.
    row_group_rows : int, default :data:`ROW_GROUP_ROWS`
        Rows per row group.

    Examples
    --------
    >>> with GeoParquetAppender(out / "sites.parquet") as w:   # doctest: +SKIP
    ...     for part in district_tables:
    ...         w.append(part)
    """

    def __init__(self, path: str | Path, *, row_group_rows: int = ROW_GROUP_ROWS) -> None:
        self.path = Path(path)
        self.part = self.path.with_name(self.path.name + ".part")
        self.row_group_rows = row_group_rows
        self.rows = 0
        self._writer: pq.ParquetWriter | None = None
        self._schema: pa.Schema | None = None
        self._geo: dict[str, Any] | None = None
        self._pandas: bytes | None = None
        self._types: set[str] = set()
        self._bbox = np.array([np.inf, np.inf, -np.inf, -np.inf])

    def __enter__(self) -> GeoParquetAppender:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def append(self, gdf: gpd.GeoDataFrame) -> None:
        """Append one table's rows (reprojected to EPSG:4549 if needed)."""
        # geopandas' own GeoParquet encoder (private, but it is exactly the
        # GeoDataFrame -> Arrow step of to_parquet); used so the streamed file
        # has the bytes of a whole write. Pinned by tests/io/test_geoparquet.py.
        from geopandas.io.arrow import _geopandas_to_arrow

        if len(gdf) == 0:
            return
        gdf = _plain_strings(_metric(gdf, what=str(self.path)))
        table = _geopandas_to_arrow(
            gdf, index=False, schema_version="1.1.0", write_covering_bbox=True
        )
        geo = json.loads(table.schema.metadata[b"geo"])
        col = geo["primary_column"]
        self._types |= set(geo["columns"][col].get("geometry_types", []))
        bbox = geo["columns"][col].get("bbox")
        if bbox:
            self._bbox = np.concatenate(
                [np.minimum(self._bbox[:2], bbox[:2]), np.maximum(self._bbox[2:], bbox[2:])]
            )
        try:
            if self._writer is None:
                self._geo = geo
                # the file-level "geo" entry is written once, on close (a key
                # given here too would be kept in place of the final one)
                # (and, with store_schema=False, the Arrow schema is not stored:
                # its copy of the metadata would win over the final one)
                self._pandas = table.schema.metadata.get(b"pandas")
                self._schema = table.schema.with_metadata({})
                self.part.parent.mkdir(parents=True, exist_ok=True)
                self._writer = pq.ParquetWriter(
                    self.part, self._schema, compression=COMPRESSION, store_schema=False
                )
            table = self._conform(table)
            self._writer.write_table(table, row_group_size=self.row_group_rows)
        except OSError as exc:
            self.abort()
            raise GeoParquetWriteError(
                f"Could not write {self.path}: {exc.strerror or exc}. Free disk space or "
                "choose a writable folder."
            ) from exc
        self.rows += len(table)

    def _conform(self, table: pa.Table) -> pa.Table:
        assert self._schema is not None
        extra = set(table.column_names) - set(self._schema.names)
        if extra:
            raise CensusError(
                f"{self.path}: a later table has columns {sorted(extra)} the first one had "
                "not; every part of a streamed site table needs the same columns."
            )
        cols = []
        for fld in self._schema:
            if fld.name in table.column_names:
                cols.append(table[fld.name].cast(fld.type))
            else:
                cols.append(pa.nulls(len(table), type=fld.type))
        return pa.Table.from_arrays(cols, schema=self._schema)

    def close(self) -> Path | None:
        """Finish the file: final ``geo`` metadata, footer, rename into place.

        Returns
        -------
        pathlib.Path or None
            The file, or ``None`` when nothing was appended (no file is written).
        """
        if self._writer is None:
            return None
        assert self._geo is not None
        col = self._geo["primary_column"]
        self._geo["columns"][col]["geometry_types"] = sorted(self._types)
        if np.isfinite(self._bbox).all():
            self._geo["columns"][col]["bbox"] = [float(v) for v in self._bbox]
        extra = {"geo": json.dumps(self._geo)}
        if self._pandas is not None:
            extra["pandas"] = self._pandas
        self._writer.add_key_value_metadata(extra)
        self._writer.close()
        self._writer = None
        os.replace(self.part, self.path)
        return self.path

    def abort(self) -> None:
        """Drop the partial file."""
        if self._writer is not None:
            try:
                self._writer.close()
            except OSError:
                pass
            self._writer = None
        self.part.unlink(missing_ok=True)
