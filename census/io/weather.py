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

import datetime
import json
import logging
import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
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
    "StudyArea",
    "WeatherKind",
    "alignment_table",
    "check_place_and_time_zone",
    "clearsky_year",
    "default_checks",
    "nearest_weather",
    "read_weather",
    "require_full_year",
    "study_area_for_weather",
    "validate_weather",
    "weather_district",
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

_ALIGNMENT_SHIFTS_H = tuple(float(h) for h in range(-12, 13))
"""Trial shifts of the alignment check: every whole hour a wrong time zone can give. [h]"""

_HOURS_PER_YEAR = (8760, 8784)
"""Rows of a full hourly year (non-leap, leap)."""

_NOCT_TEMP_AIR_C = 20.0
"""Ambient temperature of the NOCT conditions (IEC 61215: 800 W m⁻², 20 °C, 1 m s⁻¹) [°C]."""
_NOCT_WIND_SPEED_M_S = 1.0
"""Wind speed of the NOCT conditions (IEC 61215) [m s⁻¹]."""


@dataclass(frozen=True)
class StudyArea:
    """Where and in which time zone a weather year is used.

    Attributes
    ----------
    name : str
        For messages (``[study_area] name`` or the districts served).
    geometry : shapely geometry
        The area the weather serves, in WGS84 longitude/latitude (EPSG:4326). [deg]
    tz : str
        IANA time zone of the study area, e.g. ``"Asia/Shanghai"``.
    """

    name: str
    geometry: Any
    tz: str


def default_checks() -> dict[str, float]:
    """Return the packaged thresholds of the weather checks (``resources/weather.yaml``).

    Returns
    -------
    dict
        ``max_distance_m`` [m], ``max_night_ghi_frac`` [frac], ``min_clearsky_corr`` [-].
    """
    from census.resources import load_assumptions

    values, _ = load_assumptions("weather")
    return dict(values["checks"])


def study_area_for_weather(config: Any, districts: Any, *, part: bool = False) -> StudyArea:
    """Describe the districts a weather file serves, for :func:`read_weather`.

    Parameters
    ----------
    config : census.config.CensusConfig
        For ``[study_area] name`` and ``tz``.
    districts : geopandas.GeoDataFrame
        The districts the file is used for (any CRS), with ``name_en``.
    part : bool, default False
        The districts are part of the study area (a ``[weather.districts]`` file):
        their names are added to the study area's in messages.

    Returns
    -------
    StudyArea
        Their union in WGS84, and the study area's time zone: ``[study_area] tz``,
        or without it the whole-hour zone of the area's central longitude
        (``Etc/GMT-8`` for 120 E, i.e. UTC+8).
    """
    union = districts.to_crs("EPSG:4326").geometry.union_all()
    tz = config.study_area.tz
    if tz is None:
        hours = int(round(union.centroid.x / 15.0))
        tz = "UTC" if hours == 0 else f"Etc/GMT{-hours:+d}"  # Etc signs are inverted
    name = config.study_area.name
    if part:
        name = f"{name}: {', '.join(str(n) for n in districts['name_en'])}"
    return StudyArea(name=name, geometry=union, tz=tz)


def weather_district(districts: Any, key: str) -> Any:
    """Return the district a ``[weather.districts]`` key names.

    Raises
    ------
    ConfigError
        For an unknown key, naming it and listing the valid districts.
    """
    from census.exceptions import ConfigError
    from census.io.boundaries import select_districts

    try:
        return select_districts(districts, [key])
    except InputError as exc:
        valid = str(exc).partition("Valid districts: ")[2].rstrip(".")
        raise ConfigError(
            f"[weather.districts] key {key!r} is not a district of the study area. Write an "
            f"adcode, Chinese or English name: {valid}."
        ) from None


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
    study_area: StudyArea | None = None,
    checks: Mapping[str, float] | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Read one full weather year into pvlib-named columns with a tz-aware index.

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
        Compare the irradiance with the sun's path at every whole-hour shift from
        -12 h to +12 h (see :func:`alignment_table`): refuse a year that no shift
        explains, or whose labels put more than ``checks["max_night_ghi_frac"]`` of
        the GHI at night; warn when a smaller misfit is fixed by another shift.
    study_area : StudyArea, optional
        Refuse a file whose coordinates lie more than ``checks["max_distance_m"]``
        from this area, or whose declared time zone (EPW, TMY3: local standard
        time) differs from the area's (see :func:`check_place_and_time_zone`).
    checks : mapping, optional
        Thresholds ``max_distance_m`` [m], ``max_night_ghi_frac`` [frac] and
        ``min_clearsky_corr`` [-]; default :func:`default_checks`.

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
        If the file lacks a column, has gaps, duplicated hours, NaN or negative
        irradiance, is not a full year, lies far from the study area, declares
        another time zone, has timestamps that do not match the sun, or cannot be
        parsed. The message names the file, the column or time stamp, and the fix.

    Notes
    -----
    A year must be complete: 8,760 hourly rows (8,784 with 29 February); a part of
    a year is never scaled up. Rows finer than an hour (a step dividing the hour,
    e.g. 10, 15 or 30 min) are averaged to hourly means over the same interval
    convention (``beginning``: ``[t, t + 1 h)``, ``ending``: ``(t - 1 h, t]``;
    each hour needs all its samples; wind direction is a vector mean);
    instantaneous values keep their whole-hour samples. The step is recorded
    in ``metadata["resampled_from_step_min"]`` and ``metadata["notes"]``.

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
    # the offset the file declares, before any conversion (EPW/TMY3: local standard time)
    offset = data.index[0].utcoffset() if len(data) else None
    meta["file_utc_offset_h"] = offset / pd.Timedelta(hours=1) if offset is not None else None
    if tz is not None:
        data = data.tz_convert(tz)
    meta["tz"] = str(data.index.tz)
    data = _finish_columns(data, meta, path)
    validate_weather(data, source=str(path))
    data = _to_hourly(data, meta, source=str(path))
    require_full_year(data, source=str(path))
    checks = {**default_checks(), **(checks or {})}
    if study_area is not None:
        check_place_and_time_zone(
            meta, study_area, max_distance_m=float(checks["max_distance_m"]), source=str(path)
        )
    if time_shift_h:
        rows = float(time_shift_h)  # hourly rows from here on
        if not np.isclose(rows, round(rows)):
            raise WeatherError(
                f"time_shift_h = {time_shift_h} is not a whole number of 1 h steps of "
                f"{str(path)!r}; use a multiple of 1."
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
        _check_alignment(data, meta, checks, source=str(path), time_shift_h=time_shift_h)
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


def _check_alignment(
    data: pd.DataFrame,
    meta: dict[str, Any],
    checks: Mapping[str, float],
    *,
    source: str,
    time_shift_h: float,
) -> None:
    """Refuse or warn about timestamps that do not match the sun (see read_weather)."""
    table = alignment_table(data, meta)
    meta["alignment_night_ghi_frac"] = table["night_ghi_frac"].to_dict()
    meta["alignment_clearsky_corr"] = table["clearsky_corr"].to_dict()
    night, corr = table["night_ghi_frac"], table["clearsky_corr"]
    # best shift: highest correlation with clear sky; ties go to the smallest shift
    order = sorted(table.index, key=lambda h: (-round(float(corr[h]), 6), abs(h)))
    best = float(order[0])
    max_night = float(checks["max_night_ghi_frac"])
    min_corr = float(checks["min_clearsky_corr"])
    where = f"{meta['latitude']:.2f} N, {meta['longitude']:.2f} E"
    if corr[best] < min_corr or night[best] > max_night:
        raise WeatherError(
            f"weather file {source!r}: its irradiance does not follow the sun at {where} for "
            f"any time shift from -12 h to +12 h (best {best:+g} h: correlation with clear "
            f"sky {corr[best]:.2f}, below {min_corr:g}, or {night[best]:.1%} of the GHI at "
            f"night, above {max_night:.0%}). The file is not an hourly year for this place "
            "(wrong station, shuffled or corrupt rows, or other quantities in the irradiance "
            "columns): use a weather file for the study area."
        )
    total = float(time_shift_h) + best
    if night[0.0] > max_night:
        raise WeatherError(
            f"weather file {source!r}: {night[0.0]:.1%} of the year's GHI falls while the sun "
            f"is below the horizon at {where} (more than {max_night:.0%}); the time stamps "
            f"are {abs(best):g} h {'late' if best < 0 else 'early'} (shifted by {best:+g} h, "
            f"{night[best]:.2%} falls at night). Check the file's time zone and labels, and "
            f"set [weather] time_shift_h = {total:g} in your config (per-district files: "
            "[weather.districts_time_shift_h]) once you have checked the source."
        )
    if best != 0.0 and night[0.0] > 0.003 and night[best] < night[0.0] / 4:
        warnings.warn(
            f"weather file {source!r}: {night[0.0]:.1%} of the year's GHI falls while the sun "
            f"is below the horizon; shifting the rows by {best:+g} h leaves {night[best]:.2%}. "
            f"The file's timestamps look {abs(best):g} h "
            f"{'late' if best < 0 else 'early'}: set [weather] time_shift_h = {total:g} in "
            "your config after checking the source.",
            UserWarning,
            stacklevel=3,
        )


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


def alignment_table(
    data: pd.DataFrame,
    metadata: Mapping[str, Any],
    *,
    shifts_h: tuple[float, ...] = _ALIGNMENT_SHIFTS_H,
) -> pd.DataFrame:
    """How well the irradiance follows the sun for each trial time shift.

    A correctly stamped year puts almost no irradiance at night (only twilight
    and rounding) and its hourly GHI rises and falls with clear-sky GHI; a file
    stamped an hour late puts the morning's first hour in the dark, one in the
    wrong time zone puts the day at night. These are the simplest of the
    timestamp checks of PV data quality work (e.g. pvanalytics' comparisons
    with solar position and clear sky).

    Parameters
    ----------
    data : pandas.DataFrame
        With ``ghi`` [W m⁻²] and a tz-aware regular index.
    metadata : mapping
        ``latitude``, ``longitude`` [deg], ``interval_label``.
    shifts_h : tuple of float
        Trial shifts of the true time relative to the labels; default every whole
        hour from -12 to +12. [h]

    Returns
    -------
    pandas.DataFrame
        Index: shift [h]. Columns ``night_ghi_frac``, the share of annual GHI with
        the sun below the horizon [frac], and ``clearsky_corr``, the Pearson
        correlation of hourly GHI with Haurwitz clear-sky GHI [-] (0 when either
        is constant).
    """
    from census.solar.resource import evaluation_times

    ghi = data["ghi"].to_numpy(dtype=float)
    total = ghi.sum()
    base = evaluation_times(data.index, metadata).tz_convert("UTC").as_unit("ns").asi8
    shifts = np.asarray(shifts_h, dtype=float)
    # one solar-position call for every shift: rows of (shift, hour)
    stamps = (base[None, :] + (shifts[:, None] * 3.6e12).astype("int64")).ravel()
    times = pd.DatetimeIndex(pd.to_datetime(stamps, unit="ns", utc=True))
    with warnings.catch_warnings():
        # pvlib 0.16 calls DatetimeIndex.dayofyear, deprecated in pandas 3
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        zen = pvlib.solarposition.ephemeris(times, metadata["latitude"], metadata["longitude"])[
            "zenith"
        ].to_numpy()
        clear = pvlib.clearsky.haurwitz(pd.Series(zen))["ghi"].to_numpy()
    zen = zen.reshape(len(shifts), -1)
    clear = np.nan_to_num(clear.reshape(len(shifts), -1))
    night = (
        np.where(zen >= 90.0, ghi[None, :], 0.0).sum(axis=1) / total if total > 0 else 0 * shifts
    )
    corr = np.zeros(len(shifts))
    for i in range(len(shifts)):
        if ghi.std() > 0 and clear[i].std() > 0:
            corr[i] = np.corrcoef(ghi, clear[i])[0, 1]
    return pd.DataFrame(
        {"night_ghi_frac": night, "clearsky_corr": corr},
        index=pd.Index(shifts, name="shift_h"),
    )


def timestamp_alignment(
    data: pd.DataFrame,
    metadata: Mapping[str, Any],
    *,
    shifts_h: tuple[float, ...] = _ALIGNMENT_SHIFTS_H,
) -> dict[float, float]:
    """Share of GHI recorded while the sun is below the horizon, per trial time shift.

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
    table = alignment_table(data, metadata, shifts_h=shifts_h)
    return {float(k): float(v) for k, v in table["night_ghi_frac"].items()}


def check_place_and_time_zone(
    metadata: dict[str, Any],
    study_area: StudyArea,
    *,
    max_distance_m: float,
    source: str,
) -> float:
    """Refuse a weather file from elsewhere or in another time zone than the study area.

    Parameters
    ----------
    metadata : dict
        From :func:`read_weather` (``latitude``, ``longitude``, ``kind``,
        ``file_utc_offset_h``); ``distance_to_study_area_m`` is added. [deg], [h]
    study_area : StudyArea
        Area (WGS84) and time zone the file is used for.
    max_distance_m : float
        Largest accepted distance of the file's coordinates from the area's
        edge; 0 inside it. [m]
    source : str
        File name for messages.

    Returns
    -------
    float
        Geodesic distance from the file's coordinates to the area. [m]

    Raises
    ------
    WeatherError
        Naming the file, its place or time zone, the study area's, and the fix.

    Notes
    -----
    The distance is measured in an azimuthal equidistant projection centred on
    the file's coordinates, where distances from the centre are true. Only EPW
    and TMY3 files are checked for their time zone: their hours are local
    standard time with the offset in the header; PVGIS files are UTC by
    definition and plain CSV files give the offset of every time stamp.
    """
    import geopandas as gpd
    import shapely

    lat, lon = float(metadata["latitude"]), float(metadata["longitude"])
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        raise WeatherError(
            f"weather file {source!r}: its header gives latitude {lat} and longitude {lon}, "
            "which are not coordinates; correct the header (decimal degrees, north and east "
            "positive)."
        )
    aeqd = f"+proj=aeqd +lat_0={lat} +lon_0={lon} +datum=WGS84 +units=m +no_defs"
    area = gpd.GeoSeries([study_area.geometry], crs="EPSG:4326").to_crs(aeqd)
    dist = float(area.distance(shapely.Point(0.0, 0.0)).iloc[0])
    metadata["distance_to_study_area_m"] = dist
    if dist > max_distance_m:
        raise WeatherError(
            f"weather file {source!r} is for {lat:.2f} N, {lon:.2f} E "
            f"({_place_name(metadata)}), {dist / 1000:,.0f} km from the study area "
            f"'{study_area.name}' (at most {max_distance_m / 1000:g} km allowed). Use a "
            "weather file for the study area, or raise [weather.checks] max_distance_m if "
            "the station really represents it."
        )
    declared = metadata.get("file_utc_offset_h")
    if metadata.get("kind") not in ("epw", "tmy3") or declared is None:
        return dist
    from zoneinfo import ZoneInfo

    # EPW and TMY3 hours are local *standard* time: the smaller of the winter and summer
    # offsets (daylight saving adds an hour)
    zone = ZoneInfo(study_area.tz)
    expected = min(
        zone.utcoffset(datetime.datetime(TYPICAL_YEAR, month, 1)) / datetime.timedelta(hours=1)
        for month in (1, 7)
    )
    if not math.isclose(float(declared), float(expected)):
        raise WeatherError(
            f"weather file {source!r} declares time zone UTC{float(declared):+g} in its header, "
            f"but the study area '{study_area.name}' is in {study_area.tz} "
            f"(UTC{float(expected):+g}): its hours would be read "
            f"{abs(float(expected) - float(declared)):g} h off the sun. Use a weather file "
            "for the study area; if its hours are in fact local standard time of the study "
            f"area, correct the header's time-zone field to {float(expected):g}."
        )
    return dist


def _place_name(metadata: Mapping[str, Any]) -> str:
    fm = metadata.get("file_metadata") or {}
    if isinstance(fm, Mapping):
        parts = [str(fm.get(k)) for k in ("city", "state-prov", "country", "Name") if fm.get(k)]
        if parts:
            return ", ".join(parts)
    return "as its header says"


def require_full_year(data: pd.DataFrame, *, source: str = "<weather>") -> None:
    """Refuse anything but one full hourly year.

    Parameters
    ----------
    data : pandas.DataFrame
        Regular hourly table (after :func:`validate_weather`).
    source : str
        File name for messages.

    Raises
    ------
    WeatherError
        With fewer or more rows than 8,760 (8,784 when the rows hold 29
        February), naming the first missing (or first extra) hour.
    """
    idx = data.index
    step = idx[1] - idx[0]
    if step != pd.Timedelta(hours=1):
        raise WeatherError(
            f"weather file {source!r} has a time step of {step}; census needs hourly rows. "
            "Resample the file to hourly values."
        )
    has_leap_day = bool(((idx.month == 2) & (idx.day == 29)).any())
    need = _HOURS_PER_YEAR[1] if has_leap_day else _HOURS_PER_YEAR[0]
    n = len(idx)
    if n == need:
        return
    if n < need:
        raise WeatherError(
            f"weather file {source!r} holds {n:,} hourly rows ({idx[0]} to {idx[-1]}); a "
            f"full year needs {need:,}. The first missing hour is {idx[-1] + step}. census "
            "never scales part of a year up to a year: use a complete year (a typical year "
            "such as CSWD, TMYx or PVGIS TMY) or fill the missing hours."
        )
    raise WeatherError(
        f"weather file {source!r} holds {n:,} hourly rows ({idx[0]} to {idx[-1]}), more than "
        f"one year ({need:,}); the first extra hour is {idx[need]}. Cut the file to one year."
    )


def _to_hourly(data: pd.DataFrame, meta: dict[str, Any], *, source: str) -> pd.DataFrame:
    """Average a sub-hourly year to hourly means (see read_weather, Notes)."""
    step = data.index[1] - data.index[0]
    hour = pd.Timedelta(hours=1)
    if step >= hour:
        return data
    if hour % step != pd.Timedelta(0):
        raise WeatherError(
            f"weather file {source!r} has a time step of {step}, which does not divide an "
            "hour; resample it to hourly values (or to 10, 15 or 30 min)."
        )
    n = int(hour / step)
    label = meta["interval_label"]
    if label == "instantaneous":
        on_hour = (data.index - data.index.floor("1h")) == pd.Timedelta(0)
        out = data.loc[on_hour]
        how = "kept the instantaneous values at whole hours"
    else:
        side = "left" if label == "beginning" else "right"
        groups = data.resample("1h", closed=side, label=side)
        counts = groups.size()
        short = counts[counts != n]
        if len(short):
            raise WeatherError(
                f"weather file {source!r}: the hour labelled {short.index[0]} has "
                f"{int(short.iloc[0])} of its {n} samples of {step}; fill the missing samples "
                "or start and end the file on whole hours."
            )
        out = groups.mean()
        if "wind_direction" in data.columns:
            rad = np.radians(data["wind_direction"])
            sin = np.sin(rad).resample("1h", closed=side, label=side).mean()
            cos = np.cos(rad).resample("1h", closed=side, label=side).mean()
            out["wind_direction"] = np.degrees(np.arctan2(sin, cos)) % 360.0
        how = f"averaged to hourly means (interval {label}, {n} samples per hour)"
    meta["resampled_from_step_min"] = step / pd.Timedelta(minutes=1)
    meta["notes"].append(f"rows every {step} {how}")
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
    if data.index.has_duplicates:
        first_dup = data.index[data.index.duplicated()][0]
        raise WeatherError(
            f"weather file {source!r}: the time stamp {first_dup} appears more than once "
            f"({int(data.index.duplicated().sum())} repeated row(s)). Remove the duplicated "
            "rows (a typical year's months must come from one year each)."
        )
    if not data.index.is_monotonic_increasing:
        back = int(np.flatnonzero(np.diff(data.index.asi8) < 0)[0])
        raise WeatherError(
            f"weather file {source!r}: time stamps are not in order (column 'time'): "
            f"{data.index[back + 1]} comes after {data.index[back]}. Sort the rows."
        )
    step = data.index[1] - data.index[0]
    steps = np.diff(data.index.asi8)
    bad = np.flatnonzero(steps != steps[0])
    if bad.size:
        first = data.index[bad[0]]
        raise WeatherError(
            f"weather file {source!r} has a gap in column 'time' after {first}: the first "
            f"missing time stamp is {first + step} (expected a step of {step}; {bad.size} "
            "irregular step(s)). Fill the gap with interpolated or typical values before "
            "running census."
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
