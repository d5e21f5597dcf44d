"""Reader of a user's table of existing installed capacity per district.

The CSV (UTF-8, with or without BOM) has one row per district and technology, and
declares the capacity basis of its numbers::

    adcode,technology,capacity_mw_ac
    330102,pv_rooftop,35.5
    330102,wind,0

The capacity column is ``capacity_mw_ac`` (inverter output, as NEA statistics count PV),
``capacity_mw_dc`` (module nameplate), both, or ``capacity_mw`` with a column
``capacity_basis`` of ``ac``/``dc`` per row. A bare ``capacity_mw`` without a basis is
refused: a PV figure means 1.2 times more on DC than on AC.
``district`` (Chinese or English name) may stand instead of, or beside, ``adcode``.
``technology`` is a site-table technology (``pv_rooftop``, ``pv_ground``,
``pv_floating``, ``pv_bipv``, ``wind``) or ``pv`` for PV of any kind.
Errors name the file, the row (as a spreadsheet shows it: the header is row 1)
and the column.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from census.exceptions import InputError, SchemaError
from census.schema import require_columns

__all__ = ["CAPACITY_COLUMNS", "EXISTING_TECHNOLOGIES", "read_existing_capacity"]

logger = logging.getLogger(__name__)

EXISTING_TECHNOLOGIES: frozenset[str] = frozenset(
    {"pv", "pv_rooftop", "pv_ground", "pv_floating", "pv_bipv", "wind"}
)
"""Technology names accepted in an existing-capacity table."""

CAPACITY_COLUMNS: tuple[str, ...] = ("capacity_mw_ac", "capacity_mw_dc")
"""Capacity columns of the result, one per basis [MW]; NaN where the file gives the other."""

_HEADER_HINT = "adcode,technology,capacity_mw_ac (or capacity_mw_dc)"


def read_existing_capacity(path: str | Path) -> pd.DataFrame:
    """Read a CSV of existing installed capacity per district and technology.

    Parameters
    ----------
    path : str or pathlib.Path
        CSV file with columns ``adcode`` or ``district`` (or both),
        ``technology`` and the capacity on a declared basis: ``capacity_mw_ac``,
        ``capacity_mw_dc`` (or both), or ``capacity_mw`` with ``capacity_basis``
        (``ac``/``dc`` per row). Extra columns are kept.

    Returns
    -------
    pandas.DataFrame
        ``adcode`` (nullable Int64; missing when the file has only names),
        ``district`` (when given), ``technology`` (lower case, stripped),
        ``capacity_mw_ac`` and ``capacity_mw_dc`` (float, >= 0; NaN where the
        row gives the other basis only) [MW], plus any extra columns.

    Raises
    ------
    InputError
        If the file is missing, unreadable or empty, or a value is wrong; the
        message names the file, the row and the column.
    SchemaError
        If a required column is missing, or the capacity has no declared basis.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise InputError(
            f"Existing-capacity table {path} not found. Set [targets] "
            "existing_capacity to a CSV file, or remove the key."
        )
    try:
        df = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text ({exc}); save it as UTF-8 CSV.") from exc
    except pd.errors.EmptyDataError as exc:
        raise InputError(
            f"{path}: the file is empty; it needs a header row '{_HEADER_HINT}'."
        ) from exc
    except pd.errors.ParserError as exc:
        raise InputError(f"{path}: not a valid CSV file ({exc}).") from exc
    df.columns = [str(c).strip() for c in df.columns]
    value_cols = [c for c in CAPACITY_COLUMNS if c in df.columns]
    per_row = "capacity_mw" in df.columns and "capacity_basis" in df.columns
    required: list[str | tuple[str, ...]] = [("adcode", "district"), "technology"]
    if not value_cols and not per_row:
        if "capacity_mw" in df.columns:
            raise SchemaError(
                f"{path}: column 'capacity_mw' does not say its capacity basis. Rename it "
                "'capacity_mw_ac' (inverter output, as the NEA statistics count PV) or "
                "'capacity_mw_dc' (module nameplate), or add a column 'capacity_basis' with "
                "'ac' or 'dc' on every row."
            )
        required.append(CAPACITY_COLUMNS)
    require_columns(df, required, what=f"{path}: existing-capacity table")
    if value_cols and per_row:
        raise SchemaError(
            f"{path}: give the capacity either as {value_cols} or as 'capacity_mw' with "
            "'capacity_basis', not both."
        )
    if df.empty:
        raise InputError(f"{path}: the table has a header but no rows.")
    for col in df.columns:
        df[col] = df[col].str.strip()

    def where(i: int, col: str) -> str:
        return f"{path}, row {i + 2}, column '{col}'"

    if "adcode" in df.columns:
        codes: list[int | None] = []
        for i, v in enumerate(df["adcode"]):
            if v == "":
                if "district" not in df.columns or df["district"].iloc[i] == "":
                    raise InputError(
                        f"{where(i, 'adcode')}: empty; give the 6-digit adcode or "
                        "the district name."
                    )
                codes.append(None)
                continue
            try:
                number = float(v)
            except ValueError:
                raise InputError(
                    f"{where(i, 'adcode')}: {v!r} is not an adcode; expected an "
                    "integer such as 330102."
                ) from None
            if not number.is_integer():
                raise InputError(f"{where(i, 'adcode')}: {v!r} is not an integer adcode.")
            codes.append(int(number))
        df["adcode"] = pd.array(codes, dtype="Int64")
    else:
        empty = np.nonzero((df["district"] == "").to_numpy())[0]
        if len(empty):
            raise InputError(f"{where(int(empty[0]), 'district')}: empty district name.")
    techs = df["technology"].str.lower()
    for i, t in enumerate(techs):
        if t not in EXISTING_TECHNOLOGIES:
            raise InputError(
                f"{where(i, 'technology')}: {df['technology'].iloc[i]!r} is not a "
                f"technology; expected one of {sorted(EXISTING_TECHNOLOGIES)}."
            )
    df["technology"] = techs
    if per_row:
        basis = df["capacity_basis"].str.lower()
        for i, b in enumerate(basis):
            if b not in ("ac", "dc"):
                raise InputError(
                    f"{where(i, 'capacity_basis')}: {df['capacity_basis'].iloc[i]!r} is not a "
                    "capacity basis; write 'ac' (inverter output) or 'dc' (module nameplate)."
                )
        mw = _capacities(df, "capacity_mw", where, allow_empty=False)
        df["capacity_basis"] = basis
        for b in ("ac", "dc"):
            df[f"capacity_mw_{b}"] = np.where(basis == b, mw, np.nan)
    else:
        both = len(value_cols) == 2
        for col in value_cols:
            df[col] = _capacities(df, col, where, allow_empty=both)
        if both:
            empty = np.nonzero(df[list(value_cols)].isna().all(axis=1).to_numpy())[0]
            if len(empty):
                raise InputError(
                    f"{where(int(empty[0]), 'capacity_mw_ac')}: no capacity on either basis; "
                    "fill capacity_mw_ac or capacity_mw_dc."
                )
        for col in CAPACITY_COLUMNS:
            if col not in df.columns:
                df[col] = np.nan
    logger.info("read %d existing-capacity rows from %s", len(df), path)
    return df


def _capacities(df: pd.DataFrame, col: str, where: Any, *, allow_empty: bool) -> np.ndarray:
    """Parse one capacity column as MW >= 0; empty cells are NaN when ``allow_empty``."""
    values = []
    for i, v in enumerate(df[col]):
        if v == "" and allow_empty:
            values.append(np.nan)
            continue
        try:
            x = float(v)
        except ValueError:
            raise InputError(
                f"{where(i, col)}: {v!r} is not a number; give the "
                "capacity in MW without units or thousands separators."
            ) from None
        if not np.isfinite(x) or x < 0:
            raise InputError(f"{where(i, col)}: {v!r} must be a finite number >= 0 (MW).")
        values.append(x)
    return np.asarray(values, dtype=float)
