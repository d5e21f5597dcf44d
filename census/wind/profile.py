"""Vertical wind profile and air density at hub height.

Thin, unit-explicit wrappers around windpowerlib's functions
(:mod:`windpowerlib.wind_speed`, :mod:`windpowerlib.temperature`,
:mod:`windpowerlib.density`), so that every call in census states its heights
and units. Heights of measurements and hubs are above ground unless a name
says ``_asl_m`` (above sea level).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Literal, TypeVar

import numpy as np
import pandas as pd
from windpowerlib import density as wpl_density
from windpowerlib import temperature as wpl_temperature
from windpowerlib import wind_speed as wpl_wind_speed

from census.exceptions import ConfigError
from census.units import celsius_to_kelvin

__all__ = [
    "air_density_hub",
    "roughness_length_by_category",
    "wind_speed_at_height",
    "wind_speed_two_step",
]

logger = logging.getLogger(__name__)

T = TypeVar("T", pd.Series, np.ndarray)


def wind_speed_at_height(
    wind_speed: T,
    *,
    height_ref_m: float,
    height_m: float,
    method: Literal["log", "hellman"],
    roughness_length_m: float,
    hellman_exponent: float | None = None,
    obstacle_height_m: float = 0.0,
) -> T:
    """Extrapolate wind speed from a measurement height to another height.

    Parameters
    ----------
    wind_speed : pandas.Series or numpy.ndarray
        Wind speed at ``height_ref_m``. [m s⁻¹]
    height_ref_m, height_m : float
        Measurement height and target height above ground. [m]
    method : {"log", "hellman"}
        ``"log"``: logarithmic profile (windpowerlib
        ``logarithmic_profile``); ``"hellman"``: power law (windpowerlib
        ``hellman``).
    roughness_length_m : float
        Roughness length z0, > 0. [m]
    hellman_exponent : float, optional
        Power-law exponent for ``"hellman"``; None derives it from
        ``roughness_length_m`` as 1 / ln(height_m / z0). [-]
    obstacle_height_m : float, default 0
        Obstacle height for the log law's displacement 0.7 x height. [m]

    Returns
    -------
    pandas.Series or numpy.ndarray
        Wind speed at ``height_m``, same type and index as the input. [m s⁻¹]

    Raises
    ------
    ValueError
        If a height or the roughness length is not positive, or ``method`` is
        unknown.

    References
    ----------
    .. [1] E. Hau, "Windkraftanlagen", 4th ed., Springer, 2008, pp. 515-517.

    Examples
    --------
    >>> import numpy as np
    >>> v = wind_speed_at_height(np.array([5.0]), height_ref_m=10, height_m=100,
    ...                          method="log", roughness_length_m=0.0003)
    >>> round(float(v[0]), 3)
    6.105
    """
    if not (height_ref_m > 0 and height_m > 0):
        raise ValueError(
            f"heights must be > 0 m; got height_ref_m={height_ref_m}, height_m={height_m}"
        )
    if not roughness_length_m > 0:
        raise ValueError(f"roughness_length_m must be > 0 m; got {roughness_length_m}")
    if method == "log":
        return wpl_wind_speed.logarithmic_profile(
            wind_speed, height_ref_m, height_m, roughness_length_m, obstacle_height_m
        )
    if method == "hellman":
        return wpl_wind_speed.hellman(
            wind_speed, height_ref_m, height_m, roughness_length_m, hellman_exponent
        )
    raise ValueError(f"method must be 'log' or 'hellman'; got {method!r}")


def wind_speed_two_step(
    wind_speed: T,
    *,
    height_ref_m: float,
    height_m: float,
    station_roughness_length_m: float,
    site_roughness_length_m: float,
    blending_height_m: float,
    method: Literal["log", "hellman"] = "log",
    hellman_exponent: float | None = None,
    obstacle_height_m: float = 0.0,
) -> T:
    """Carry a station's wind to a site of other roughness through a blending height.

    Step 1 lifts the measured wind to the blending height over the station's
    roughness; step 2 brings it to ``height_m`` over the site's roughness. At the
    blending height the wind no longer depends on the local surface, so one value
    there serves both surfaces. With equal roughness the two steps equal one.

    Parameters
    ----------
    wind_speed : pandas.Series or numpy.ndarray
        Wind speed measured at ``height_ref_m`` at the station. [m s⁻¹]
    height_ref_m, height_m : float
        Measurement height (station) and target height (site), above ground. [m]
    station_roughness_length_m, site_roughness_length_m : float
        Roughness length z0 around the station and at the site, > 0. [m]
    blending_height_m : float
        Blending height. [m]
    method : {"log", "hellman"}, default "log"
        Profile of each step (see :func:`wind_speed_at_height`).
    hellman_exponent : float, optional
        Power-law exponent for ``"hellman"``; None derives it per step from that
        step's roughness. [-]
    obstacle_height_m : float, default 0
        Obstacle height at the site for the log law's displacement. [m]

    Returns
    -------
    pandas.Series or numpy.ndarray
        Wind speed at ``height_m`` at the site. [m s⁻¹]

    References
    ----------
    .. [1] J. Wieringa, "Roughness-dependent geographical interpolation of surface
       wind speed averages", Q. J. R. Meteorol. Soc., vol. 112, pp. 867-889, 1986,
       :doi:`10.1002/qj.49711247316`.
    .. [2] I. Troen and E. L. Petersen, "European Wind Atlas", Risø National
       Laboratory, Roskilde, 1989.

    Examples
    --------
    10 m wind of 3 m/s over a suburb (z0 = 0.5 m) to 140 m over a mudflat
    (z0 = 0.0003 m) through 60 m: 3 ln(60/0.5)/ln(10/0.5) ln(140/0.0003)/ln(60/0.0003)

    >>> import numpy as np
    >>> v = wind_speed_two_step(np.array([3.0]), height_ref_m=10, height_m=140,
    ...     station_roughness_length_m=0.5, site_roughness_length_m=0.0003,
    ...     blending_height_m=60)
    >>> round(float(v[0]), 3)
    5.127
    """
    at_blend = wind_speed_at_height(
        wind_speed,
        height_ref_m=height_ref_m,
        height_m=blending_height_m,
        method=method,
        roughness_length_m=station_roughness_length_m,
        hellman_exponent=hellman_exponent,
    )
    return wind_speed_at_height(
        at_blend,
        height_ref_m=blending_height_m,
        height_m=height_m,
        method=method,
        roughness_length_m=site_roughness_length_m,
        hellman_exponent=hellman_exponent,
        obstacle_height_m=obstacle_height_m,
    )


def air_density_hub(
    temp_air: T,
    pressure: T,
    *,
    temperature_height_asl_m: float,
    pressure_height_asl_m: float,
    hub_height_asl_m: float,
    model: Literal["barometric", "ideal_gas"] = "ideal_gas",
) -> T:
    """Air density at hub height from surface temperature and pressure.

    Temperature is carried to hub height with the standard lapse rate
    (-6.5 K km⁻¹, windpowerlib ``linear_gradient``) and pressure with
    -1/8 hPa m⁻¹ inside windpowerlib's density models. All heights are above
    sea level, so a site above or below the weather station is corrected for
    its elevation.

    Parameters
    ----------
    temp_air : pandas.Series or numpy.ndarray
        Air temperature at ``temperature_height_asl_m``. [°C]
    pressure : pandas.Series or numpy.ndarray
        Air pressure at ``pressure_height_asl_m`` (station pressure). [Pa]
    temperature_height_asl_m : float
        Height of the temperature sensor: station altitude + sensor height. [m]
    pressure_height_asl_m : float
        Height of the pressure reading: station altitude. [m]
    hub_height_asl_m : float
        Hub height: site elevation + hub height above ground. [m]
    model : {"barometric", "ideal_gas"}, default "ideal_gas"
        windpowerlib density model.

    Returns
    -------
    pandas.Series or numpy.ndarray
        Air density at hub height. [kg m⁻³]

    Examples
    --------
    >>> import numpy as np
    >>> rho = air_density_hub(np.array([15.0]), np.array([101325.0]),
    ...                       temperature_height_asl_m=0, pressure_height_asl_m=0,
    ...                       hub_height_asl_m=0)
    >>> round(float(rho[0]), 3)
    1.225
    """
    temp_hub_k = wpl_temperature.linear_gradient(
        celsius_to_kelvin(temp_air), temperature_height_asl_m, hub_height_asl_m
    )
    if model == "ideal_gas":
        return wpl_density.ideal_gas(pressure, pressure_height_asl_m, hub_height_asl_m, temp_hub_k)
    if model == "barometric":
        return wpl_density.barometric(pressure, pressure_height_asl_m, hub_height_asl_m, temp_hub_k)
    raise ValueError(f"model must be 'barometric' or 'ideal_gas'; got {model!r}")


def roughness_length_by_category(
    categories: pd.Series,
    table_m: Mapping[str, float],
    *,
    override_m: pd.Series | None = None,
) -> pd.Series:
    """Look up the roughness length of each site from its category.

    Parameters
    ----------
    categories : pandas.Series
        Site ``category`` values (e.g. ``"mudflat"``).
    table_m : mapping of str to float
        Roughness length by category, from ``wind.profile.roughness_length_m``. [m]
    override_m : pandas.Series, optional
        Per-site roughness length, e.g. from land cover (site column
        ``roughness_length_m``); used where it is not NaN. [m]

    Returns
    -------
    pandas.Series
        Roughness length per site, same index as ``categories``. [m]

    Raises
    ------
    ConfigError
        If a category has no roughness length and no override.
    """
    z0 = categories.map(dict(table_m)).astype(float)
    if override_m is not None:
        z0 = override_m.astype(float).where(override_m.notna(), z0)
    missing = sorted(set(categories[z0.isna()].astype(str)))
    if missing:
        raise ConfigError(
            f"wind.profile.roughness_length_m has no value for site categories {missing}; "
            f"known: {sorted(table_m)}. Add e.g. [wind.profile.roughness_length_m] "
            f"{missing[0]} = 0.03 to the config, or give a site column 'roughness_length_m'."
        )
    bad = z0[~(z0 > 0)]
    if len(bad):
        raise ConfigError(
            f"roughness length must be > 0 m; got {bad.iloc[0]} for site index {bad.index[0]!r}."
        )
    return z0
