"""Sun geometry for a weather year: position at mid-interval, DNI_extra, airmass.

An hourly-mean weather row stands for the whole hour, so the sun's position is
taken at the middle of the hour (pvlib's documentation does the same for TMY3
data: "TMY timestamp is at end of hour, so shift to center of interval").
``metadata["interval_label"]`` from :func:`census.io.weather.read_weather`
says which end the time stamp labels. Results keep the weather's own index.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import pandas as pd
import pvlib

from census.exceptions import WeatherError

__all__ = ["evaluation_times", "sun_geometry"]

logger = logging.getLogger(__name__)


def evaluation_times(index: pd.DatetimeIndex, metadata: Mapping[str, Any]) -> pd.DatetimeIndex:
    """Return the instants at which each weather row is representative.

    Parameters
    ----------
    index : pandas.DatetimeIndex
        Tz-aware, regular weather index.
    metadata : mapping
        Needs ``interval_label`` ("beginning", "ending" or "instantaneous");
        ``time_offset_h`` [h] is added for instantaneous data when present.

    Returns
    -------
    pandas.DatetimeIndex
        ``index + step/2`` (beginning), ``index - step/2`` (ending) or
        ``index + time_offset_h`` (instantaneous).

    Raises
    ------
    WeatherError
        If the label is unknown or the index has fewer than 2 rows.
    """
    label = metadata.get("interval_label")
    if label == "instantaneous":
        return index + pd.Timedelta(hours=float(metadata.get("time_offset_h", 0.0)))
    if label not in ("beginning", "ending"):
        raise WeatherError(
            f"weather metadata interval_label is {label!r}; expected 'beginning', 'ending' or "
            f"'instantaneous' (source {metadata.get('source_path')!r}). Read the file with "
            "census.io.weather.read_weather, which sets it."
        )
    if len(index) < 2:
        raise WeatherError("weather needs at least 2 rows to know its time step")
    half_step = (index[1] - index[0]) / 2
    return index + half_step if label == "beginning" else index - half_step


def sun_geometry(weather: pd.DataFrame, metadata: Mapping[str, Any]) -> pd.DataFrame:
    """Solar position, extraterrestrial DNI and relative airmass per weather row.

    Parameters
    ----------
    weather : pandas.DataFrame
        Weather table with ``pressure`` [Pa] and ``temp_air`` [°C] (used for
        refraction); tz-aware index.
    metadata : mapping
        ``latitude``, ``longitude`` [deg], ``altitude`` [m], ``interval_label``
        and optionally ``time_offset_h`` [h].

    Returns
    -------
    pandas.DataFrame
        Same index as ``weather``; columns ``apparent_zenith``, ``zenith``,
        ``azimuth`` [deg], ``dni_extra`` [W m⁻²] and ``airmass_relative`` [-]
        (Kasten and Young 1989, NaN when the sun is down), all evaluated at
        :func:`evaluation_times`.

    References
    ----------
    .. [1] I. Reda and A. Andreas, "Solar position algorithm for solar radiation
       applications," Solar Energy 76(5), 577-589, 2004,
       :doi:`10.1016/j.solener.2003.12.003`.
    .. [2] F. Kasten and A. T. Young, "Revised optical air mass tables and
       approximation formula," Applied Optics 28(22), 4735-4738, 1989,
       :doi:`10.1364/AO.28.004735`.
    """
    times = evaluation_times(weather.index, metadata)
    position = pvlib.solarposition.get_solarposition(
        times,
        latitude=metadata["latitude"],
        longitude=metadata["longitude"],
        altitude=metadata["altitude"],
        pressure=weather["pressure"].to_numpy(),
        temperature=weather["temp_air"].to_numpy(),
    )
    out = pd.DataFrame(
        {
            "apparent_zenith": position["apparent_zenith"].to_numpy(),
            "zenith": position["zenith"].to_numpy(),
            "azimuth": position["azimuth"].to_numpy(),
            "dni_extra": pvlib.irradiance.get_extra_radiation(times).to_numpy(),
        },
        index=weather.index,
    )
    out["airmass_relative"] = pvlib.atmosphere.get_relative_airmass(
        out["apparent_zenith"].to_numpy(), model="kastenyoung1989"
    )
    return out
