"""Read hourly weather years for PV yield: EPW, PVGIS TMY, TMY3 and plain CSV.

Every reader returns ``(data, metadata)`` the way :mod:`pvlib.iotools` does,
with columns in pvlib's glossary names and units:

========================  ============  ==========================================
column                    unit          note
========================  ============  ==========================================
``ghi``, ``dni``, ``dhi``  [W m⁻²]      mean (or instantaneous) irradiance
``temp_air``              [°C]          dry-bulb air temperature
``wind_speed``            [m s⁻¹]       at ``metadata["wind_height_m"]``
``pressure``              [Pa]          filled from altitude when missing
``wind_direction``        [deg]         only when the file has it
========================  ============  ==========================================

The index is a timezone-aware :class:`pandas.DatetimeIndex`.
``metadata["interval_label"]`` says what a timestamp means:

* ``"beginning"``: the row holds the mean over ``[t, t + 1 h)``. EPW files number
  hours 1..24 and so label the *end* of each hour; :func:`pvlib.iotools.read_epw`
  stamps row ``hour`` with ``hour - 1``, i.e. the beginning. TMY3 rows
  (01:00..24:00, end of hour) are shifted back by one hour here so that every
  hourly-mean source comes out labelled the same way.
* ``"instantaneous"``: PVGIS satellite values valid at ``t + time_offset_h``.

:mod:`census.solar.resource` takes the sun's position at the middle of each
interval (or at the instant) from these two keys.

Only this module reads weather files (the ``io`` rule of DESIGN.md).
"""

from __future__ import annotations

import json
import logging
import math
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pvlib

from census.exceptions import InputError, SchemaError, WeatherError
from census.schema import require_columns
from census.units import hpa_to_pa

__all__ = [
    "TYPICAL_YEAR",
    "WEATHER_COLUMNS",
    "WeatherKind",
    "clearsky_year",
    "nearest_weather",
    "read_weather",
    "validate_weather",
]

logger = logging.getLogger(__name__)

WeatherKind = Literal["auto", "epw", "pvgis_csv", "pvgis_json", "tmy3", "csv"]

WEATHER_COLUMNS: tuple[str, ...] = ("ghi", "dni", "dhi", "temp_air", "wind_speed", "pressure")
"""Columns every weather table has after reading (pvlib glossary names)."""

TYPICAL_YEAR = 2005
"""Year PVGIS typical years are coerced to: non-leap, and the year the shipped CSWD EPW
rows carry, so that hourly profiles from different weather files line up."""

_IRRADIANCE_COLUMNS = ("ghi", "dni", "dhi")
_OPTIONAL_COLUMNS = ("wind_direction",)

_NOCT_TEMP_AIR_C = 20.0
"""Ambient temperature of the NOCT conditions (IEC 61215: 800 W m⁻², 20 °C, 1 m s⁻¹) [°C]."""
_NOCT_WIND_SPEED_M_S = 1.0
"""Wind speed of the NOCT conditions (IEC 61215) [m s⁻¹]."""


# ---------------------------------------------------------------------------
# public entry points
# ---------------------------------------------------------------------------
def read_weather(
    path: str | Path,
    *,
    kind: WeatherKind = "auto",
    tz: str | None = None,
    coerce_year: int | None = None,
    time_shift_h: float = 0.0,
    check_alignment: bool = True,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Read one weather year into pvlib-named columns with a tz-aware index.

    Parameters
    ----------
    path : str or Path
        Weather file.
    kind : {"auto", "epw", "pvgis_csv", "pvgis_json", "tmy3", "csv"}, default "auto"
        File format. ``"auto"`` decides from the extension and the first line:
        ``.epw`` is EPW, ``.json`` is a PVGIS TMY JSON export, a ``.csv`` whose
        first line starts with ``Latitude (decimal degrees)`` is a PVGIS TMY CSV
        export, one whose second line starts with ``Date (MM/DD/YYYY)`` is TMY3,
        and any other ``.csv`` is the plain format (see Notes).
    tz : str, optional
        Convert the index to this time zone (e.g. ``"Asia/Shanghai"``). PVGIS
        files are in UTC and are converted only when ``tz`` is given.
    coerce_year : int, optional
        Put every row in this year (typical years mix years by month); use a
        non-leap year for 8760-row files. PVGIS TMY files are always coerced, to
        :data:`TYPICAL_YEAR` (2005) when this is None.
    time_shift_h : float, default 0
        Correct a file whose rows are labelled a whole number of time steps late
        (negative) or early (positive): the values are rolled by that many rows
        within the year, so a row's label becomes its true time. [h]
    check_alignment : bool, default True
        Warn when the irradiance fits the sun's path much better with another
        whole-hour shift (see :func:`timestamp_alignment`).

    Returns
    -------
    data : pandas.DataFrame
        Columns ``ghi``, ``dni``, ``dhi`` [W m⁻²], ``temp_air`` [°C],
        ``wind_speed`` [m s⁻¹], ``pressure`` [Pa], and ``wind_direction`` [deg]
        when present. Tz-aware hourly index, sorted, without gaps.
    metadata : dict
        ``latitude``, ``longitude`` [deg], ``altitude`` [m], ``tz`` (str),
        ``interval_label`` ("beginning", "ending" or "instantaneous"),
        ``time_offset_h`` [h] (instant of PVGIS values after the stamp; 0
        otherwise), ``source_path``, ``kind``, ``wind_height_m`` [m],
        ``clearsky_fallback`` (False), ``notes`` (list of str), and
        ``file_metadata`` (what pvlib returned).

    Raises
    ------
    WeatherError
        If the file lacks a column, has gaps, NaN or negative irradiance, or
        cannot be parsed. The message names the file, the column and the fix.

    Notes
    -----
    The plain CSV format has a ``time`` column (ISO 8601; with a UTC offset, or
    naive and then ``tz`` is required) and the columns ``ghi``, ``dni``,
    ``dhi`` [W m⁻²], ``temp_air`` [°C], ``wind_speed`` [m s⁻¹]; ``pressure``
    [Pa] and ``wind_direction`` [deg] are optional. Leading lines
    ``# key: value`` give ``latitude``, ``longitude``, ``altitude`` (required)
    and optionally ``interval_label`` (default ``beginning``) and
    ``wind_height_m`` (default 10).

    Examples
    --------
    >>> data, meta = read_weather("data/raw/weather/CHN_Zhejiang.Hangzhou.584570_CSWD.epw")
    ... # doctest: +SKIP
    >>> meta["interval_label"]  # doctest: +SKIP
    'beginning'
    """
    path = Path(path)
    if not path.is_file():
        raise WeatherError(
            f"weather file {str(path)!r} does not exist; check the path in the config's "
            "weather section."
        )
    if kind == "auto":
        kind = _detect_kind(path)
    readers = {
        "epw": _read_epw,
        "pvgis_csv": _read_pvgis,
        "pvgis_json": _read_pvgis,
        "tmy3": _read_tmy3,
        "csv": _read_plain_csv,
    }
    if kind not in readers:
        raise ValueError(f"kind must be one of {['auto', *readers]}; got {kind!r}.")
    try:
        data, meta = readers[kind](path, kind=kind, tz=tz)
    except (WeatherError, SchemaError):
        raise
    except (ValueError, KeyError, IndexError, OSError, json.JSONDecodeError) as err:
        raise WeatherError(
            f"weather file {str(path)!r} could not be read as {kind!r}: {err!r}. Check that the "
            "file is a complete, unedited export in that format, or pass the right kind=."
        ) from err

    if kind == "pvgis_csv" or kind == "pvgis_json":
        coerce_year = coerce_year if coerce_year is not None else TYPICAL_YEAR
    elif coerce_year is None and kind in ("epw", "tmy3") and data.index.year.nunique() > 1:
        # typical years (TMYx, IWEC, TMY3) take each month from a different year; put them
        # in one year, as pvlib's own readers offer (coerce_year), keeping the row order
        coerce_year = TYPICAL_YEAR
        meta["notes"].append(
            f"months come from different years; coerced to {TYPICAL_YEAR} (typical year)"
        )
    if coerce_year is not None:
        data = _coerce_year(data, coerce_year, meta)
    if tz is not None:
        data = data.tz_convert(tz)
    meta["tz"] = str(data.index.tz)
    data = _finish_columns(data, meta, path)
    validate_weather(data, source=str(path))
    if time_shift_h:
        step_h = (data.index[1] - data.index[0]) / pd.Timedelta(hours=1)
        rows = time_shift_h / step_h
        if not np.isclose(rows, round(rows)):
            raise WeatherError(
                f"time_shift_h = {time_shift_h} is not a whole number of {step_h:g} h steps of "
                f"{str(path)!r}; use a multiple of {step_h:g}."
            )
        # a row labelled t holds the values of t + shift: new[t] = old[t - shift]
        data = pd.DataFrame(
            np.roll(data.to_numpy(), int(round(rows)), axis=0),
            index=data.index,
            columns=data.columns,
        ).astype(data.dtypes.to_dict())
        meta["time_shift_h"] = float(time_shift_h)
        meta["notes"].append(
            f"values rolled by {time_shift_h:+g} h within the year (time_shift_h) so that labels "
            "match the sun"
        )
    if check_alignment and {"ghi"} <= set(data.columns):
        fit = timestamp_alignment(data, meta)
        meta["alignment_night_ghi_frac"] = fit
        best = min(fit, key=fit.get)
        if best != 0.0 and fit[0.0] > 0.003 and fit[best] < fit[0.0] / 4:
            warnings.warn(
                f"weather file {str(path)!r}: {fit[0.0]:.1%} of the year's GHI falls while the sun "
                f"is below the horizon; shifting the rows by {best:+g} h leaves {fit[best]:.2%}. "
                f"The file's timestamps look {abs(best):g} h "
                f"{'late' if best < 0 else 'early'}: set [weather] time_shift_h = {best:g} in "
                "your config after checking the source.",
                UserWarning,
                stacklevel=2,
            )
    if check_alignment and {"ghi"} <= set(data.columns):
        n_zero = zero_daylight_hours(data, meta)
        meta["zero_ghi_daylight_hours"] = n_zero
        if n_zero > 24:
            warnings.warn(
                f"weather file {str(path)!r}: {n_zero} hours with the sun more than 20 deg up "
                "have GHI = 0, which overcast skies never give; they are probably missing data "
                "stored as zero, and they lower the PV yield. Fill them from another source or "
                "use another weather file.",
                UserWarning,
                stacklevel=2,
            )
    return data, meta


def zero_daylight_hours(data: pd.DataFrame, metadata: Mapping[str, Any]) -> int:
    """Count rows with GHI exactly 0 while the sun is more than 20 deg above the horizon.

    Parameters
    ----------
    data : pandas.DataFrame
        With ``ghi`` [W m⁻²] and a tz-aware regular index.
    metadata : mapping
        ``latitude``, ``longitude`` [deg], ``interval_label``.

    Returns
    -------
    int
        Number of such rows (missing data recorded as zero, in practice).
    """
    from census.solar.resource import evaluation_times

    times = evaluation_times(data.index, metadata)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        zen = pvlib.solarposition.ephemeris(times, metadata["latitude"], metadata["longitude"])[
            "zenith"
        ].to_numpy()
    return int(((zen < 70.0) & (data["ghi"].to_numpy(dtype=float) == 0.0)).sum())


def timestamp_alignment(
    data: pd.DataFrame,
    metadata: Mapping[str, Any],
    *,
    shifts_h: tuple[float, ...] = (-2.0, -1.0, 0.0, 1.0, 2.0),
) -> dict[float, float]:
    """Share of GHI recorded while the sun is below the horizon, per trial time shift.

    A correctly stamped year puts almost no irradiance at night (only twilight
    and rounding); a file stamped an hour late puts the morning's first hour in
    the dark. This is the simplest of the timestamp checks used in PV data
    quality work (e.g. pvanalytics' solar-position comparisons).

    Parameters
    ----------
    data : pandas.DataFrame
        With ``ghi`` [W m⁻²] and a tz-aware regular index.
    metadata : mapping
        ``latitude``, ``longitude`` [deg], ``interval_label``.
    shifts_h : tuple of float
        Trial shifts of the true time relative to the labels. [h]

    Returns
    -------
    dict of float to float
        Shift [h] -> share of annual GHI with the sun below the horizon. [frac]
    """
    from census.solar.resource import evaluation_times

    ghi = data["ghi"].to_numpy(dtype=float)
    total = ghi.sum()
    base = evaluation_times(data.index, metadata)
    out: dict[float, float] = {}
    for shift in shifts_h:
        times = base + pd.Timedelta(hours=shift)
        with warnings.catch_warnings():
            # pvlib 0.16 calls DatetimeIndex.dayofyear, deprecated in pandas 3
            warnings.simplefilter("ignore", FutureWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            zen = pvlib.solarposition.ephemeris(times, metadata["latitude"], metadata["longitude"])[
                "zenith"
            ].to_numpy()
        out[float(shift)] = float(ghi[zen >= 90.0].sum() / total) if total > 0 else 0.0
    return out


def validate_weather(data: pd.DataFrame, *, source: str = "<weather>") -> None:
    """Check a weather table for missing columns, gaps and impossible values.

    Parameters
    ----------
    data : pandas.DataFrame
        Table as returned by :func:`read_weather`.
    source : str, default "<weather>"
        File name used in error messages.

    Raises
    ------
    WeatherError
        Naming the file and the offending column, with the fix.
    """
    require_columns(
        data,
        WEATHER_COLUMNS,
        what=f"weather file {source!r}",
        fix="Add the column (pvlib names: ghi, dni, dhi [W m-2], temp_air [degC], "
        "wind_speed [m s-1], pressure [Pa]) or use a complete export.",
        error=WeatherError,
    )
    if not isinstance(data.index, pd.DatetimeIndex) or data.index.tz is None:
        raise WeatherError(
            f"weather file {source!r}: the index must be a timezone-aware DatetimeIndex; "
            f"got {type(data.index).__name__} with tz={getattr(data.index, 'tz', None)}. "
            "Give timestamps with a UTC offset or pass tz=."
        )
    if len(data) < 2:
        raise WeatherError(f"weather file {source!r} has {len(data)} rows; need a year of hours.")
    if not data.index.is_monotonic_increasing or data.index.has_duplicates:
        raise WeatherError(
            f"weather file {source!r}: time stamps are not strictly increasing "
            f"(column 'time'). Sort the rows and remove duplicates."
        )
    step = data.index[1] - data.index[0]
    steps = np.diff(data.index.asi8)
    bad = np.flatnonzero(steps != steps[0])
    if bad.size:
        first = data.index[bad[0]]
        raise WeatherError(
            f"weather file {source!r} has a gap in column 'time' after {first} "
            f"(expected a step of {step}; {bad.size} irregular step(s)). Fill the gap "
            "with interpolated or typical values before running census."
        )
    for col in (*WEATHER_COLUMNS, *[c for c in _OPTIONAL_COLUMNS if c in data.columns]):
        values = pd.to_numeric(data[col], errors="coerce")
        nan = values.isna().to_numpy()
        if nan.any():
            raise WeatherError(
                f"weather file {source!r} has {int(nan.sum())} missing value(s) in column "
                f"{col!r}, first at {data.index[np.flatnonzero(nan)[0]]}. Fill the gaps "
                "(interpolate, or take them from a nearby station) before running census."
            )
    for col in _IRRADIANCE_COLUMNS:
        neg = (data[col].to_numpy(dtype=float) < 0).nonzero()[0]
        if neg.size:
            raise WeatherError(
                f"weather file {source!r} has {neg.size} negative value(s) in column {col!r} "
                f"(first {data[col].iloc[neg[0]]} W m-2 at {data.index[neg[0]]}). Irradiance "
                "cannot be negative: set night-time offsets to 0 in the file."
            )
    if (data["wind_speed"].to_numpy(dtype=float) < 0).any():
        raise WeatherError(
            f"weather file {source!r} has negative values in column 'wind_speed'; "
            "wind speed is a magnitude [m s-1]: correct the file."
        )
    if (data["pressure"].to_numpy(dtype=float) <= 0).any():
        raise WeatherError(
            f"weather file {source!r} has non-positive values in column 'pressure' [Pa]; "
            "check the unit (hPa must be converted to Pa) or drop the column."
        )


def clearsky_year(
    latitude: float,
    longitude: float,
    altitude: float,
    *,
    tz: str,
    year: int = 2005,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Build a clear-sky hourly year as an explicit, warned fallback.

    Irradiance is pvlib's Ineichen-Perez clear sky with the Linke turbidity
    climatology that ships with pvlib, evaluated at mid-hour. Air temperature
    and wind speed are the NOCT conditions (20 °C, 1 m s⁻¹, IEC 61215),
    because a clear-sky model has no weather. Yields from it are upper bounds.

    Parameters
    ----------
    latitude, longitude : float
        Site position, WGS84. [deg]
    altitude : float
        Site elevation above sea level. [m]
    tz : str
        Time zone of the index, e.g. ``"Asia/Shanghai"``.
    year : int, default 2005
        Calendar year of the index (non-leap years give 8760 rows).

    Returns
    -------
    data : pandas.DataFrame
        Same columns as :func:`read_weather`; index labels interval beginning.
    metadata : dict
        As :func:`read_weather`, with ``clearsky_fallback`` True and ``kind``
        ``"clearsky"``.

    Warns
    -----
    UserWarning
        Always: the result is not measured weather.
    """
    warnings.warn(
        f"no weather file given: using a clear-sky year (pvlib Ineichen, Linke turbidity "
        f"climatology) at {latitude:.3f} N, {longitude:.3f} E with constant 20 degC air and "
        "1 m/s wind. PV yields are upper bounds; set a weather file in the config.",
        UserWarning,
        stacklevel=2,
    )
    index = pd.date_range(f"{year}-01-01", f"{year + 1}-01-01", freq="1h", tz=tz, inclusive="left")
    location = pvlib.location.Location(latitude, longitude, tz=tz, altitude=altitude)
    mid = index + pd.Timedelta(minutes=30)
    clear = location.get_clearsky(mid, model="ineichen")
    clear.index = index
    data = pd.DataFrame(
        {
            "ghi": clear["ghi"].clip(lower=0.0),
            "dni": clear["dni"].clip(lower=0.0),
            "dhi": clear["dhi"].clip(lower=0.0),
            "temp_air": _NOCT_TEMP_AIR_C,
            "wind_speed": _NOCT_WIND_SPEED_M_S,
            "pressure": float(pvlib.atmosphere.alt2pres(altitude)),
        },
        index=index,
    )
    meta = _base_meta(Path("<clearsky>"), "clearsky", latitude, longitude, altitude)
    meta.update(
        tz=str(index.tz),
        interval_label="beginning",
        wind_height_m=10.0,
        clearsky_fallback=True,
    )
    meta["notes"] += [
        "clear-sky fallback: pvlib.location.Location.get_clearsky(model='ineichen') with "
        "pvlib's Linke turbidity climatology, evaluated at mid-hour",
        "temp_air 20 degC and wind_speed 1 m/s are the NOCT conditions (IEC 61215), not weather",
        "pressure from altitude by pvlib.atmosphere.alt2pres",
    ]
    return data, meta


def nearest_weather(
    points: pd.DataFrame,
    stations: pd.DataFrame,
    *,
    id_column: str = "station_id",
) -> pd.Series:
    """Pick the nearest weather station for each point (great-circle distance).

    Parameters
    ----------
    points : pandas.DataFrame
        Columns ``latitude`` and ``longitude`` (WGS84) [deg], e.g. district
        centroids converted to EPSG:4326.
    stations : pandas.DataFrame
        Columns ``latitude``, ``longitude`` [deg] and ``id_column``.
    id_column : str, default "station_id"
        Column of ``stations`` returned for each point.

    Returns
    -------
    pandas.Series
        Station id per point, same index as ``points``; its ``attrs["distance_m"]``
        holds the distances as a Series [m].

    Raises
    ------
    SchemaError
        If a column is missing.
    InputError
        If ``stations`` is empty.
    """
    for name, frame, cols in (
        ("points", points, ("latitude", "longitude")),
        ("stations", stations, ("latitude", "longitude", id_column)),
    ):
        require_columns(frame, cols, what=f"nearest_weather ({name})")
    if len(stations) == 0:
        raise InputError("nearest_weather: no stations given; list at least one weather file.")
    lat1 = np.radians(points["latitude"].to_numpy(dtype=float))[:, None]
    lon1 = np.radians(points["longitude"].to_numpy(dtype=float))[:, None]
    lat2 = np.radians(stations["latitude"].to_numpy(dtype=float))[None, :]
    lon2 = np.radians(stations["longitude"].to_numpy(dtype=float))[None, :]
    # haversine; mean Earth radius 6 371 008.8 m (IUGG, Moritz 2000)
    hav = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    )
    dist_m = 2 * 6_371_008.8 * np.arcsin(np.sqrt(hav))
    best = dist_m.argmin(axis=1)
    ids = pd.Series(stations[id_column].to_numpy()[best], index=points.index, name=id_column)
    ids.attrs["distance_m"] = pd.Series(dist_m[np.arange(len(best)), best], index=points.index)
    return ids


# ---------------------------------------------------------------------------
# format readers
# ---------------------------------------------------------------------------
def _detect_kind(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix == ".epw":
        return "epw"
    if suffix == ".json":
        return "pvgis_json"
    with open(path, encoding="utf-8", errors="replace") as f:
        first, second = f.readline(), f.readline()
    if first.startswith("Latitude (decimal degrees)"):
        return "pvgis_csv"
    if second.startswith("Date (MM/DD/YYYY)"):
        return "tmy3"
    if suffix in (".csv", ".txt"):
        return "csv"
    raise WeatherError(
        f"cannot tell the format of weather file {str(path)!r} from its name or first lines; "
        "pass kind= one of 'epw', 'pvgis_csv', 'pvgis_json', 'tmy3', 'csv'."
    )


def _base_meta(path: Path, kind: str, lat: float, lon: float, alt: float) -> dict[str, Any]:
    return {
        "latitude": float(lat),
        "longitude": float(lon),
        "altitude": float(alt),
        "tz": None,
        "interval_label": "beginning",
        "time_offset_h": 0.0,
        "source_path": str(path),
        "kind": kind,
        "wind_height_m": 10.0,
        "clearsky_fallback": False,
        "notes": [],
    }


def _read_epw(path: Path, *, kind: str, tz: str | None) -> tuple[pd.DataFrame, dict[str, Any]]:
    raw, file_meta = pvlib.iotools.read_epw(path)
    _require(raw, path, ("ghi", "dni", "dhi", "temp_air", "wind_speed"))
    meta = _base_meta(
        path, kind, file_meta["latitude"], file_meta["longitude"], file_meta["altitude"]
    )
    meta["file_metadata"] = file_meta
    meta["notes"].append(
        "EPW hours 1..24 label the end of each hour; pvlib.iotools.read_epw stamps each row "
        "with the start of its hour, so the index labels interval beginning"
    )
    data = raw.rename(columns={"atmospheric_pressure": "pressure"})
    # EPW marks missing pressure with 999999 Pa (EnergyPlus Auxiliary Programs, EPW format)
    if "pressure" in data and (data["pressure"] >= 999999).all():
        data = data.drop(columns="pressure")
    if "wind_direction" in data and (data["wind_direction"] >= 999).all():
        data = data.drop(columns="wind_direction")
    return data, meta


def _read_tmy3(path: Path, *, kind: str, tz: str | None) -> tuple[pd.DataFrame, dict[str, Any]]:
    raw, file_meta = pvlib.iotools.read_tmy3(path, map_variables=True)
    _require(raw, path, ("ghi", "dni", "dhi", "temp_air", "wind_speed"))
    meta = _base_meta(
        path, kind, file_meta["latitude"], file_meta["longitude"], file_meta["altitude"]
    )
    meta["file_metadata"] = file_meta
    data = raw.copy()
    # TMY3 stamps 01:00..24:00 at the end of each hour (TMY3 User's Manual, NREL/TP-581-43156);
    # shift back one hour so that the index labels interval beginning like EPW.
    data.index = data.index - pd.Timedelta(hours=1)
    meta["notes"].append(
        "TMY3 time stamps label the end of each hour; shifted back 1 h to label the beginning"
    )
    if "pressure" in data:
        data["pressure"] = hpa_to_pa(data["pressure"].astype(float))  # file in mbar == hPa
    return data, meta


def _read_pvgis(path: Path, *, kind: str, tz: str | None) -> tuple[pd.DataFrame, dict[str, Any]]:
    fmt = "json" if kind == "pvgis_json" else "csv"
    raw, file_meta = pvlib.iotools.read_pvgis_tmy(path, pvgis_format=fmt, map_variables=True)
    _require(raw, path, ("ghi", "dni", "dhi", "temp_air", "wind_speed"))
    if fmt == "json":
        loc = file_meta["inputs"]["location"]
        lat, lon, alt = loc["latitude"], loc["longitude"], loc["elevation"]
    else:
        inputs = file_meta["inputs"]
        lat, lon, alt = inputs["latitude"], inputs["longitude"], inputs["elevation"]
    meta = _base_meta(path, kind, lat, lon, alt)
    meta["file_metadata"] = file_meta
    offset_h = _pvgis_time_offset_h(file_meta)
    meta["interval_label"] = "instantaneous"
    meta["time_offset_h"] = offset_h
    meta["notes"].append(
        "PVGIS TMY irradiance is satellite-derived and valid at the time stamp (UTC) plus the "
        f"irradiance time offset of {offset_h} h; the sun's position is taken at that instant"
    )
    if tz is None:
        meta["notes"].append("PVGIS time stamps are UTC; pass tz= to convert to local time")
    return raw.astype(float), meta


def _pvgis_time_offset_h(file_meta: Mapping[str, Any]) -> float:
    inputs = file_meta.get("inputs", {})
    for key in ("irradiance time offset", "irradiance_time_offset"):
        if key in inputs:
            return float(inputs[key])
    return 0.0


def _read_plain_csv(
    path: Path, *, kind: str, tz: str | None
) -> tuple[pd.DataFrame, dict[str, Any]]:
    header: dict[str, str] = {}
    n_comment = 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.startswith("#"):
                break
            n_comment += 1
            key, sep, value = line[1:].partition(":")
            if sep:
                header[key.strip().lower()] = value.strip()
    missing_meta = [k for k in ("latitude", "longitude", "altitude") if k not in header]
    if missing_meta:
        raise WeatherError(
            f"weather file {str(path)!r} lacks header line(s) {missing_meta}; start the file with "
            "lines like '# latitude: 30.23', '# longitude: 120.17', '# altitude: 41.7'."
        )
    raw = pd.read_csv(path, skiprows=n_comment)
    _require(raw, path, ("time", "ghi", "dni", "dhi", "temp_air", "wind_speed"))
    index = pd.DatetimeIndex(pd.to_datetime(raw["time"], format="ISO8601"))
    if index.tz is None:
        if tz is None:
            raise WeatherError(
                f"weather file {str(path)!r}: column 'time' has no UTC offset; write times like "
                "'2005-01-01T00:00+08:00' or pass tz='Asia/Shanghai'."
            )
        index = index.tz_localize(tz)
    data = raw.drop(columns="time").set_index(index)
    label = header.get("interval_label", "beginning")
    if label not in ("beginning", "ending", "instantaneous"):
        raise WeatherError(
            f"weather file {str(path)!r}: header interval_label is {label!r}; use "
            "'beginning', 'ending' or 'instantaneous'."
        )
    meta = _base_meta(
        path, kind, float(header["latitude"]), float(header["longitude"]), float(header["altitude"])
    )
    meta["interval_label"] = label
    meta["wind_height_m"] = float(header.get("wind_height_m", 10.0))
    meta["file_metadata"] = header
    return data, meta


# ---------------------------------------------------------------------------
# shared steps
# ---------------------------------------------------------------------------
def _require(data: pd.DataFrame, path: Path, columns: tuple[str, ...]) -> None:
    require_columns(
        data,
        columns,
        what=f"weather file {str(path)!r} (after mapping to pvlib names)",
        fix="Use a complete export of that format, or rename the column.",
        error=WeatherError,
    )


def _coerce_year(data: pd.DataFrame, year: int, meta: dict[str, Any]) -> pd.DataFrame:
    """Put all rows in ``year`` keeping clock time, then sort (typical years mix years)."""
    leap_day = (data.index.month == 2) & (data.index.day == 29)
    if leap_day.any() and not pd.Timestamp(year=year, month=1, day=1).is_leap_year:
        data = data.loc[~leap_day]
        meta["notes"].append(f"{int(leap_day.sum())} row(s) of 29 February dropped (year {year})")
    idx = data.index
    naive = idx.tz_localize(None)
    new = pd.to_datetime(
        {
            "year": np.full(len(idx), year),
            "month": naive.month,
            "day": naive.day,
            "hour": naive.hour,
            "minute": naive.minute,
        }
    )
    out = data.copy()
    out.index = pd.DatetimeIndex(new).tz_localize(idx.tz)
    out = out.sort_index()
    if not (idx.year == year).all():
        meta["notes"].append(f"typical-year rows from several years coerced to the year {year}")
    return out


def _finish_columns(data: pd.DataFrame, meta: dict[str, Any], path: Path) -> pd.DataFrame:
    """Keep the weather columns, fill pressure from altitude, wrap times into one year."""
    out = pd.DataFrame(index=data.index)
    for col in ("ghi", "dni", "dhi", "temp_air", "wind_speed"):
        out[col] = pd.to_numeric(data[col], errors="coerce").astype(float)
    if "pressure" in data.columns:
        out["pressure"] = pd.to_numeric(data["pressure"], errors="coerce").astype(float)
    else:
        out["pressure"] = float(pvlib.atmosphere.alt2pres(meta["altitude"]))
        meta["notes"].append(
            f"file has no pressure: filled with {out['pressure'].iloc[0]:.0f} Pa from altitude "
            f"{meta['altitude']} m (pvlib.atmosphere.alt2pres, standard atmosphere)"
        )
        meta["pressure_filled"] = True
    if "wind_direction" in data.columns:
        out["wind_direction"] = pd.to_numeric(data["wind_direction"], errors="coerce").astype(float)
    if meta["kind"] in ("pvgis_csv", "pvgis_json") and len(out) == 8760:
        # after converting UTC to local time a few hours spill into the next year; roll them
        # back to the start so the year is complete in local time (as get_pvgis_tmy's
        # roll_utc_offset does).
        year = int(out.index[0].year)
        spill = out.index.year != year
        if spill.any() and not math.isclose(float(spill.mean()), 1.0):
            out.index = pd.DatetimeIndex(
                [t.replace(year=year) if s else t for t, s in zip(out.index, spill, strict=True)]
            )
            out = out.sort_index()
            meta["notes"].append(
                f"{int(spill.sum())} hour(s) past the year end in local time rolled to the start"
            )
    logger.debug("read weather %s: %d rows, tz %s", path, len(out), meta["tz"])
    return out
