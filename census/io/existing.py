"""Reader of a user's table of existing installed capacity per district.

The CSV (UTF-8, with or without BOM) has one row per district and technology::

    adcode,technology,capacity_mw_dc
    330102,pv_rooftop,35.5
    330102,wind,0

or ``district`` (Chinese or English name) instead of, or beside, ``adcode``.
``technology`` is a site-table technology (``pv_rooftop``, ``pv_ground``,
``pv_floating``, ``pv_bipv``, ``wind``) or ``pv`` for PV of any kind.
Errors name the file, the row (as a spreadsheet shows it: the header is row 1)
and the column.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from census.exceptions import InputError
from census.schema import require_columns

__all__ = ["EXISTING_TECHNOLOGIES", "read_existing_capacity"]

logger = logging.getLogger(__name__)

EXISTING_TECHNOLOGIES: frozenset[str] = frozenset(
    {"pv", "pv_rooftop", "pv_ground", "pv_floating", "pv_bipv", "wind"}
)
"""Technology names accepted in an existing-capacity table."""


def read_existing_capacity(path: str | Path) -> pd.DataFrame:
    """Read a CSV of existing installed capacity per district and technology.

    Parameters
    ----------
    path : str or pathlib.Path
        CSV file with columns ``adcode`` or ``district`` (or both),
        ``technology`` and ``capacity_mw_dc``. Extra columns are kept.

    Returns
    -------
    pandas.DataFrame
        ``adcode`` (nullable Int64; missing when the file has only names),
        ``district`` (when given), ``technology`` (lower case, stripped) and
        ``capacity_mw_dc`` (float, >= 0) [MW], plus any extra columns.

    Raises
    ------
    InputError
        If the file is missing, unreadable or empty, or a value is wrong; the
        message names the file, the row and the column.
    SchemaError
        If a required column is missing.
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
            f"{path}: the file is empty; it needs a header row 'adcode,technology,capacity_mw_dc'."
        ) from exc
    except pd.errors.ParserError as exc:
        raise InputError(f"{path}: not a valid CSV file ({exc}).") from exc
    df.columns = [str(c).strip() for c in df.columns]
    require_columns(
        df,
        [("adcode", "district"), "technology", "capacity_mw_dc"],
        what=f"{path}: existing-capacity table",
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
    values = []
    for i, v in enumerate(df["capacity_mw_dc"]):
        try:
            x = float(v)
        except ValueError:
            raise InputError(
                f"{where(i, 'capacity_mw_dc')}: {v!r} is not a number; give the "
                "capacity in MW without units or thousands separators."
            ) from None
        if not np.isfinite(x) or x < 0:
            raise InputError(
                f"{where(i, 'capacity_mw_dc')}: {v!r} must be a finite number >= 0 (MW)."
            )
        values.append(x)
    df["capacity_mw_dc"] = np.asarray(values, dtype=float)
    logger.info("read %d existing-capacity rows from %s", len(df), path)
    return df
