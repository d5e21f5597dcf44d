"""Low-level writers of output files (CSV, JSON) and provenance helpers.

Run folders themselves (layout, marker, atomic commit, readers) are
:mod:`census.io.runfolder`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.metadata
import json
import logging
import platform
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pandas as pd

__all__ = [
    "FORMULA_PREFIXES",
    "file_sha256",
    "inputs_provenance",
    "neutralise_formulas",
    "package_versions",
    "write_csv",
    "write_csv_rows",
    "write_json",
]

logger = logging.getLogger(__name__)

_PACKAGES = (
    "census",
    "numpy",
    "pandas",
    "geopandas",
    "shapely",
    "pyogrio",
    "pyproj",
    "rasterio",
    "exactextract",
    "xarray",
    "pvlib",
    "windpowerlib",
    "folium",
    "pydantic",
    "dask",
    "distributed",
    "openpyxl",
)


def file_sha256(path: str | Path, *, chunk_bytes: int = 1 << 20) -> str:
    """Return the SHA-256 hex digest of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(chunk_bytes):
            h.update(chunk)
    return h.hexdigest()


def package_versions() -> dict[str, str]:
    """Return the versions of Python, GDAL, PROJ and census's dependencies."""
    out = {"python": sys.version.split()[0], "platform": platform.platform()}
    for name in _PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    try:
        import pyogrio
        import pyproj

        out["gdal"] = pyogrio.__gdal_version_string__
        out["proj"] = pyproj.proj_version_str
    except (ImportError, AttributeError):  # pragma: no cover - informative only
        pass
    return out


def _json_default(obj: Any) -> Any:
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, (dt.datetime, dt.date)):
        return obj.isoformat()
    if hasattr(obj, "item"):
        return obj.item()
    if isinstance(obj, set):
        return sorted(obj)
    raise TypeError(f"cannot serialise {type(obj).__name__}")


def write_json(path: str | Path, data: Any) -> None:
    """Write ``data`` as indented UTF-8 JSON."""
    Path(path).write_text(
        json.dumps(data, indent=2, ensure_ascii=False, default=_json_default), encoding="utf-8"
    )


_ARROW_CSV_MIN_ROWS = 50_000


FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a text cell as a formula (OWASP
"CSV Injection": equals, plus, minus, at, tab, carriage return)."""


def _neutralise_text(values: pd.Series | pd.Index) -> pd.Series | pd.Index:
    """Prefix a single quote to text that starts with a formula character."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        cats = values.cat.categories if isinstance(values, pd.Series) else values.categories
        new = _neutralise_text(pd.Index(cats))
        if isinstance(values, pd.Series):
            return values.cat.rename_categories(list(new))
        return values.rename_categories(list(new))
    if not (values.dtype == object or isinstance(values.dtype, pd.StringDtype)):
        return values  # numbers (a negative number included), booleans, dates stay as they are
    try:
        starts = values.str.startswith(FORMULA_PREFIXES)
    except AttributeError:  # an object column without any text
        return values
    mask = np.asarray(pd.Series(starts).fillna(False), dtype=bool)
    if not mask.any():
        return values
    out = values.to_numpy(dtype=object, copy=True)
    out[mask] = ["'" + v for v in out[mask]]
    if isinstance(values, pd.Series):
        return pd.Series(out, index=values.index, name=values.name, dtype=values.dtype)
    return pd.Index(out, name=values.name, dtype=values.dtype)


def neutralise_formulas(table: pd.DataFrame) -> pd.DataFrame:
    """Return ``table`` with formula-like text cells made inert for spreadsheets.

    Follows OWASP's CSV-injection rule: a text cell (or column name, or index
    label) that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
    gets a leading single quote, which spreadsheets read as "this is text".
    Numeric columns are never touched, so a negative number stays a number.

    Parameters
    ----------
    table : pandas.DataFrame

    Returns
    -------
    pandas.DataFrame
        A copy when anything changed, else ``table`` itself.
    """
    changed = False
    cols = {}
    for name in table.columns:
        col = table[name]
        new = _neutralise_text(col)
        changed |= new is not col
        cols[name] = new
    names = [
        "'" + c if isinstance(c, str) and c.startswith(FORMULA_PREFIXES) else c
        for c in table.columns
    ]
    index = _neutralise_text(table.index)
    if not changed and names == list(table.columns) and index is table.index:
        return table
    out = pd.DataFrame({i: cols[c] for i, c in enumerate(table.columns)})
    out.columns = names
    out.index = index
    return out


def write_csv(path: str | Path, table: pd.DataFrame, *, index: bool = False) -> None:
    """Write UTF-8 CSV with a BOM (Excel then shows Chinese names); the one CSV writer.

    Every CSV census writes goes through here, so that text from input data can
    never become a spreadsheet formula (:func:`neutralise_formulas`).
    Large tables go through pyarrow's multi-threaded CSV writer, about 5x faster
    than pandas for a million rows of floats; small ones through pandas.
    """
    if len(table) < _ARROW_CSV_MIN_ROWS:
        neutralise_formulas(table).to_csv(path, index=index, encoding="utf-8-sig")
        return
    with open(path, "wb") as fh:
        fh.write("\ufeff".encode())
        write_csv_rows(fh, table.reset_index() if index else table, header=True)


def write_csv_rows(fh: BinaryIO, table: pd.DataFrame, *, header: bool) -> None:
    """Append rows to an open binary CSV file with pyarrow's writer, formulas made inert.

    The large-table path of :func:`write_csv`, also used by the batch merge, which
    writes a city's supply curve block by block (pandas' ``to_csv`` was ~5x slower).
    Texts are quoted, numbers are not; the index is not written.

    Parameters
    ----------
    fh : binary file
        Open for writing (the caller writes the UTF-8 BOM first).
    table : pandas.DataFrame
        Rows to write.
    header : bool
        Write the column names first.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    table = neutralise_formulas(table)
    frame = pd.DataFrame(
        {
            c: (table[c].astype("string") if table[c].dtype == object else table[c])
            for c in table.columns
        }
    )
    pacsv.write_csv(
        pa.Table.from_pandas(frame, preserve_index=False),
        fh,
        write_options=pacsv.WriteOptions(include_header=header, quoting_style="needed"),
    )


def inputs_provenance(paths: Iterable[Path]) -> list[dict[str, Any]]:
    """Return path, size and SHA-256 of each distinct input file."""
    seen: dict[Path, dict[str, Any]] = {}
    for p in paths:
        p = Path(p).resolve()
        if p in seen or not p.exists() or not p.is_file():
            continue
        seen[p] = {"path": str(p), "bytes": p.stat().st_size, "sha256": file_sha256(p)}
    return list(seen.values())
