"""Checks that a table has the columns a function needs.

One helper for every stage, writer and reader, so that each "needs columns" error
says the same three things: what was expected, what was received, and the fix.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pandas as pd

from census.exceptions import CensusError, SchemaError

__all__ = ["missing_columns", "require_columns"]

Column = str | tuple[str, ...]
"""A column name, or a tuple of names of which any one will do."""


def _label(col: Column) -> str:
    if isinstance(col, tuple):
        return " or ".join(repr(c) for c in col)
    return repr(col)


def missing_columns(columns: Iterable[str], required: Sequence[Column]) -> list[Column]:
    """Return the required columns (or groups of alternatives) that ``columns`` lacks.

    Parameters
    ----------
    columns : iterable of str
        Column names present.
    required : sequence of str or tuple of str
        Names needed; a tuple is satisfied by any one of its names.

    Returns
    -------
    list
        The entries of ``required`` not satisfied, in their order.

    Examples
    --------
    >>> missing_columns(["a", "c"], ["a", "b", ("c", "d")])
    ['b']
    """
    present = set(columns)
    out: list[Column] = []
    for col in required:
        names = col if isinstance(col, tuple) else (col,)
        if not any(n in present for n in names):
            out.append(col)
    return out


def require_columns(
    df: pd.DataFrame,
    required: Sequence[Column],
    *,
    what: str,
    fix: str = "",
    error: type[CensusError] = SchemaError,
) -> None:
    """Raise if ``df`` lacks any required column.

    Parameters
    ----------
    df : pandas.DataFrame
        The table to check (a GeoDataFrame's geometry column counts as a column).
    required : sequence of str or tuple of str
        Names needed; a tuple is satisfied by any one of its names
        (``("adcode", "district")``).
    what : str
        Who needs them, the start of the message: a function (``"rollup"``), a file
        (``"/runs/a/summary_city.csv"``) or a layer (``"weather file 'x.epw'"``).
    fix : str, optional
        How to fix it, appended to the message.
    error : type, default SchemaError
        The :class:`~census.exceptions.CensusError` subclass to raise (for example
        :class:`~census.exceptions.WeatherError` for a weather table).

    Raises
    ------
    SchemaError
        (or ``error``) ``"<what> needs columns [...]; missing [...], got [...]. <fix>"``.

    Examples
    --------
    >>> import pandas as pd
    >>> require_columns(pd.DataFrame({"a": [1]}), ["a", "b"], what="f")
    Traceback (most recent call last):
    ...
    census.exceptions.SchemaError: f needs columns ['a', 'b']; missing ['b'], got ['a'].
    """
    missing = missing_columns(df.columns, required)
    if not missing:
        return
    needed = "[" + ", ".join(_label(c) for c in required) + "]"
    lacking = "[" + ", ".join(_label(c) for c in missing) + "]"
    msg = f"{what} needs columns {needed}; missing {lacking}, got {list(df.columns)}."
    if fix:
        msg = f"{msg} {fix.strip()}"
    raise error(msg)
