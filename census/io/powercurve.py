"""Read user power curves of wind turbines from CSV files.

Many Chinese low-wind turbine models are not in windpowerlib's turbine library,
so a run may name a CSV with the manufacturer's power curve instead. The file
has a header row and two columns:

* wind speed, named ``wind_speed`` or ``wind_speed_m_s`` [m s⁻¹], strictly
  increasing from row to row;
* electrical power, named ``value`` or ``power_w`` [W], ``power_kw`` [kW] or
  ``power_mw`` [MW], never negative. Power may fall again above rated speed or
  at cut-out.

Lines starting with ``#`` are comments. Power is converted to [W] here, at the
edge, and the result uses windpowerlib's convention: columns ``wind_speed``
[m s⁻¹] and ``value`` [W].
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from census.exceptions import InputError, SchemaError
from census.units import kw_to_w, mw_to_kw

__all__ = ["POWER_COLUMNS", "WIND_SPEED_COLUMNS", "read_power_curve"]

logger = logging.getLogger(__name__)

WIND_SPEED_COLUMNS: tuple[str, ...] = ("wind_speed", "wind_speed_m_s")
"""Accepted names of the wind-speed column [m s⁻¹]."""

POWER_COLUMNS: dict[str, float] = {
    "value": 1.0,
    "power_w": 1.0,
    "power_kw": kw_to_w(1.0),
    "power_mw": kw_to_w(mw_to_kw(1.0)),
}
"""Accepted names of the power column and their factor to [W]."""


def read_power_curve(path: str | Path) -> pd.DataFrame:
    """Read and validate a turbine power curve from a CSV file.

    Parameters
    ----------
    path : str or pathlib.Path
        CSV file with a header row, a wind-speed column (``wind_speed`` or
        ``wind_speed_m_s``, [m s⁻¹]) and one power column (``value`` or
        ``power_w`` [W], ``power_kw`` [kW], ``power_mw`` [MW]).

    Returns
    -------
    pandas.DataFrame
        Columns ``wind_speed`` [m s⁻¹] and ``value`` [W] (windpowerlib's
        convention), one row per point of the curve, in file order.

    Raises
    ------
    InputError
        If the file is missing, has fewer than two rows, a non-numeric or
        missing value, wind speeds that do not strictly increase, or negative
        power. The message names the file and the 1-based data row (the first
        row after the header is row 1).
    SchemaError
        If the wind-speed column or a power column is missing, or several
        power columns are given.

    Examples
    --------
    A file with the lines ``wind_speed_m_s,power_kw``, ``3,0``, ``12,3000``
    gives ``wind_speed = [3.0, 12.0]`` and ``value = [0.0, 3.0e6]``.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(
            f"power curve file {str(path)!r} does not exist; check turbine.power_curve_csv "
            "in the wind config."
        )
    raw = pd.read_csv(path, comment="#", dtype=str, skipinitialspace=True)
    raw.columns = [str(c).strip().lower() for c in raw.columns]

    ws_cols = [c for c in WIND_SPEED_COLUMNS if c in raw.columns]
    p_cols = [c for c in POWER_COLUMNS if c in raw.columns]
    if len(ws_cols) != 1 or len(p_cols) != 1:
        raise SchemaError(
            f"power curve {str(path)!r} needs exactly one wind-speed column of "
            f"{list(WIND_SPEED_COLUMNS)} [m/s] and one power column of {list(POWER_COLUMNS)}; "
            f"got columns {list(raw.columns)}. Rename the header, e.g. 'wind_speed_m_s,power_kw'."
        )
    ws_col, p_col = ws_cols[0], p_cols[0]
    if len(raw) < 2:
        raise InputError(
            f"power curve {str(path)!r} has {len(raw)} data row(s); a curve needs at least two "
            "points (cut-in and rated)."
        )

    values = {}
    for col in (ws_col, p_col):
        text = raw[col].str.strip()
        numbers = pd.to_numeric(text, errors="coerce")
        bad = np.flatnonzero(numbers.isna().to_numpy() | ~np.isfinite(numbers.to_numpy(float)))
        if bad.size:
            row = int(bad[0]) + 1
            raise InputError(
                f"power curve {str(path)!r}, data row {row} (file line {row + 1}): column "
                f"{col!r} has {raw[col].iloc[bad[0]]!r}, not a finite number. Fill in a number "
                "or delete the row."
            )
        values[col] = numbers.to_numpy(float)

    wind_speed = values[ws_col]
    power_w = values[p_col] * POWER_COLUMNS[p_col]

    negative_ws = np.flatnonzero(wind_speed < 0)
    if negative_ws.size:
        row = int(negative_ws[0]) + 1
        raise InputError(
            f"power curve {str(path)!r}, data row {row} (file line {row + 1}): wind speed "
            f"{wind_speed[row - 1]} m/s is negative. Wind speeds are in m/s and >= 0."
        )
    steps = np.diff(wind_speed)
    not_increasing = np.flatnonzero(steps <= 0)
    if not_increasing.size:
        row = int(not_increasing[0]) + 2
        raise InputError(
            f"power curve {str(path)!r}, data row {row} (file line {row + 1}): wind speed "
            f"{wind_speed[row - 1]} m/s does not exceed the previous row's "
            f"{wind_speed[row - 2]} m/s; wind speed must be strictly increasing. Sort the rows "
            "by wind speed and remove duplicates."
        )
    negative_p = np.flatnonzero(power_w < 0)
    if negative_p.size:
        row = int(negative_p[0]) + 1
        raise InputError(
            f"power curve {str(path)!r}, data row {row} (file line {row + 1}): power "
            f"{values[p_col][row - 1]} in column {p_col!r} is negative. Power must be >= 0; "
            "set parasitic consumption to 0."
        )
    if not np.any(power_w > 0):
        raise InputError(
            f"power curve {str(path)!r}: every power value is 0; check the power column "
            f"{p_col!r} and its unit."
        )
    logger.debug("read power curve %s: %d points, max %.0f W", path, len(wind_speed), power_w.max())
    return pd.DataFrame({"wind_speed": wind_speed, "value": power_w})
