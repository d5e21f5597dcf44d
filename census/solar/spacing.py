"""Row spacing of fixed-tilt rows on sloped terrain: the winter-solstice rule.

The Chinese PV plant design code GB 50797-2012 (光伏发电站设计规范), clause
7.2.2 item 2, requires the rows and columns of an array to be spaced so that
they do not shade each other between 09:00 and 15:00 true solar time; designers
apply it on the winter solstice, the day with the lowest sun. This module turns
that rule into the ground coverage ratio (GCR) of rows on a slope of any
aspect, vectorized over sites.

Geometry (all from pvlib, Anderson & Mikofski 2020; Anderson & Jensen 2024):

* the rows follow the terrain, as hillside plants are built (tables on posts
  of equal length): a row's long axis runs perpendicular to the module
  azimuth and is tilted along the slope (:func:`pvlib.tracking.calc_axis_tilt`);
  the line joining the row bases across the axes has the *cross-axis slope*
  (:func:`pvlib.tracking.calc_cross_axis_tilt`); the modules are rotated by the
  archetype tilt about that axis, so on east/west slopes the module plane
  turns toward the downhill side (:func:`pvlib.tracking.calc_surface_orientation`);
* the sun at 09:00-15:00 true solar time on the December solstice comes from
  the hour angle and pvlib's declination and analytical zenith/azimuth;
* the shaded fraction of :func:`pvlib.shading.shaded_fraction1d` (eq. 12 of
  Anderson & Jensen 2024) is linear in the pitch, so the smallest shade-free
  horizontal pitch has a closed form: with projected solar zenith ``θs``
  (:func:`pvlib.shading.projected_solar_zenith_angle`), rotation ``R`` and
  cross-axis slope ``βc``, ``p = ℓ |cos(R - θs)| cos βc / cos(θs - βc)``; the
  largest ``p`` over the day is the governing one and ``GCR = ℓ / p``.

``GCR`` follows pvlib's convention: collector slant width over the
*horizontal* pitch measured perpendicular to the rows, i.e. module area per
map (planimetric) area when the axis is level. With the axis tilted by
``θa`` along the slope, a row carries ``1 / cos θa`` m² of module per m² of
its map strip, so the module area per map area is ``GCR / cos θa``.

On flat ground this is the hand formula ``pitch = L cos β + L sin β cos(Δγ) /
tan(α)`` at the governing hour (sun elevation ``α``, azimuth difference ``Δγ``).
"""

from __future__ import annotations

import logging

import numpy as np
import numpy.typing as npt
import pandas as pd
import pvlib

__all__ = [
    "SOLSTICE_DAY_OF_YEAR",
    "cross_axis_slope_deg",
    "row_layout",
    "winter_solstice_sun",
]

logger = logging.getLogger(__name__)

SOLSTICE_DAY_OF_YEAR = 355
"""Day of year of the December solstice (21 December in a common year)."""

_HOUR_ANGLE_LIMIT_DEG = 45.0
"""09:00 and 15:00 true solar time are hour angles of -45 and +45 deg (15 deg per hour)."""


def winter_solstice_sun(
    latitude_deg: npt.ArrayLike, *, n_times: int = 25
) -> tuple[np.ndarray, np.ndarray]:
    """Sun positions from 09:00 to 15:00 true solar time on the December solstice.

    Parameters
    ----------
    latitude_deg : array_like
        Site latitudes, shape (n,), northern hemisphere. [deg]
    n_times : int, default 25
        Instants, evenly spaced in hour angle from -45 to +45 deg (25: every
        15 min, both ends included).

    Returns
    -------
    zenith_deg, azimuth_deg : numpy.ndarray
        Solar zenith and azimuth (clockwise from North), shape (n, n_times). [deg]

    Notes
    -----
    True solar time is set by the hour angle, so no clock time, longitude or
    equation of time enters. Declination is Spencer's (1971) series for the
    solstice day (-23.42 deg); zenith and azimuth are pvlib's analytical
    expressions (Duffie & Beckman), without refraction, as design codes use.
    """
    lat = np.radians(np.atleast_1d(np.asarray(latitude_deg, dtype=float)))[:, None]
    hour_angle = np.radians(np.linspace(-_HOUR_ANGLE_LIMIT_DEG, _HOUR_ANGLE_LIMIT_DEG, n_times))
    declination = float(
        np.asarray(pvlib.solarposition.declination_spencer71(np.array([SOLSTICE_DAY_OF_YEAR])))[0]
    )
    zenith = pvlib.solarposition.solar_zenith_analytical(lat, hour_angle[None, :], declination)
    azimuth = pvlib.solarposition.solar_azimuth_analytical(
        lat, hour_angle[None, :], declination, zenith
    )
    return np.degrees(zenith), np.degrees(azimuth)


def cross_axis_slope_deg(
    slope_azimuth_deg: npt.ArrayLike,
    slope_deg: npt.ArrayLike,
    axis_azimuth_deg: npt.ArrayLike,
    axis_tilt_deg: npt.ArrayLike,
) -> np.ndarray:
    """Cross-axis slope of the terrain, element-wise (as pvlib.tracking.calc_cross_axis_tilt).

    pvlib's function takes one site at a time (it uses ``np.dot`` on the normal
    vector), so its two equations are written out here for arrays; a test
    compares both over a grid of slopes and aspects.

    Parameters
    ----------
    slope_azimuth_deg, slope_deg : array_like
        Direction the slope faces and its tilt from horizontal. [deg]
    axis_azimuth_deg, axis_tilt_deg : array_like
        Row axis direction and tilt (:func:`pvlib.tracking.calc_axis_tilt`). [deg]

    Returns
    -------
    numpy.ndarray
        Cross-axis slope, right-handed about the axis. [deg]

    References
    ----------
    .. [1] K. Anderson and M. Mikofski, NREL/TP-5K00-76626, 2020, eqs. 22 and 26,
       :doi:`10.2172/1660126`.
    """
    dg = np.radians(np.asarray(axis_azimuth_deg, dtype=float) - slope_azimuth_deg)
    ba = np.radians(np.asarray(axis_tilt_deg, dtype=float))
    bg = np.radians(np.asarray(slope_deg, dtype=float))
    # eq. 22: tracker normal, cross product of the axis and the slope's unit normal
    vx = np.sin(dg) * np.cos(ba) * np.cos(bg)
    vy = np.sin(ba) * np.sin(bg) + np.cos(dg) * np.cos(ba) * np.cos(bg)
    vz = -np.sin(dg) * np.sin(bg) * np.cos(ba)
    norm = np.sqrt(vx * vx + vy * vy + vz * vz)
    # eq. 26
    sin_bc = ((vx * np.cos(dg) - vy * np.sin(dg)) * np.sin(ba) + vz * np.cos(ba)) / norm
    return np.degrees(np.arcsin(np.clip(sin_bc, -1.0, 1.0)))


def row_layout(
    latitude_deg: npt.ArrayLike,
    *,
    tilt_deg: npt.ArrayLike,
    azimuth_deg: npt.ArrayLike = 180.0,
    slope_deg: npt.ArrayLike = 0.0,
    aspect_deg: npt.ArrayLike = 180.0,
    max_gcr_frac: float | npt.ArrayLike = 1.0,
    n_times: int = 25,
) -> pd.DataFrame:
    """Shade-free ground coverage ratio and module orientation of rows on a slope.

    Parameters
    ----------
    latitude_deg : array_like
        Site latitude, northern hemisphere, in (0, 66). [deg]
    tilt_deg : array_like
        Module tilt about the row axis (the rack's design tilt). [deg]
    azimuth_deg : array_like, default 180
        Direction the modules face on level ground (South = 180). [deg]
    slope_deg : array_like, default 0
        Terrain slope; NaN is taken as level ground. [deg]
    aspect_deg : array_like, default 180
        Direction the slope faces (downhill), clockwise from North; ignored
        where the slope is 0 or NaN. [deg]
    max_gcr_frac : float or array_like, default 1.0
        Upper limit of the GCR (e.g. a maintenance aisle between rows). [frac]
    n_times : int, default 25
        Instants between 09:00 and 15:00 at which the rule is checked.

    Returns
    -------
    pandas.DataFrame
        One row per input (broadcast), columns:

        ``gcr_rule_frac``
            GCR at which no row shades the next from 09:00 to 15:00 on the
            winter solstice, before the cap; 0 where the terrain is so steep
            away from the sun that no spacing avoids shade. [frac]
        ``gcr_frac``
            ``min(gcr_rule_frac, max_gcr_frac)``: collector width over the
            horizontal pitch (pvlib's GCR). [frac]
        ``module_area_per_map_area_frac``
            ``gcr_frac / cos(axis_tilt)``: module area per m² of map area. [frac]
        ``axis_tilt_deg``, ``cross_axis_slope_deg``
            Row axis tilt and cross-axis slope (pvlib signs). [deg]
        ``surface_tilt_deg``, ``surface_azimuth_deg``
            Module orientation of rows that follow the terrain. [deg]

    Raises
    ------
    ValueError
        If a latitude is outside (0, 66) or a tilt outside [0, 90).

    References
    ----------
    .. [1] GB 50797-2012, Code for design of photovoltaic power station
       (光伏发电站设计规范), clause 7.2.2 (2).
    .. [2] K. Anderson and M. Mikofski, "Slope-Aware Backtracking for Single-Axis
       Trackers," NREL/TP-5K00-76626, 2020, :doi:`10.2172/1660126`.
    .. [3] K. S. Anderson and A. R. Jensen, "Shaded fraction and backtracking in
       single-axis trackers on rolling terrain," J. Renewable Sustainable Energy
       16(2), 023504, 2024, :doi:`10.1063/5.0202220`.

    Examples
    --------
    Level ground at Hangzhou (30.23 N), 22 deg tilt:

    >>> round(float(row_layout(30.23, tilt_deg=22.0)["gcr_frac"].iloc[0]), 3)
    0.616
    """
    lat, tilt, azimuth, slope, aspect, cap = np.broadcast_arrays(
        *(
            np.atleast_1d(np.asarray(v, dtype=float))
            for v in (latitude_deg, tilt_deg, azimuth_deg, slope_deg, aspect_deg, max_gcr_frac)
        )
    )
    if not np.all((lat > 0.0) & (lat < 66.0)):
        raise ValueError(
            "latitude_deg must be in (0, 66) (northern hemisphere, sun up at the winter "
            f"solstice); got {lat[~((lat > 0.0) & (lat < 66.0))][:3]}"
        )
    if not np.all((tilt >= 0.0) & (tilt < 90.0)):
        raise ValueError(f"tilt_deg must be in [0, 90) for rows; got {tilt[~(tilt < 90.0)][:3]}")
    slope = np.where(np.isnan(slope), 0.0, slope)
    aspect = np.where(np.isnan(aspect), 180.0, aspect)
    # a fixed-tilt row is a tracker at a fixed rotation: its axis points 90 deg
    # counter-clockwise of the module azimuth, and a positive (right-handed)
    # rotation then tilts the modules toward that azimuth (pvlib.shading docs)
    axis_azimuth = np.mod(azimuth - 90.0, 360.0)
    axis_tilt = np.asarray(pvlib.tracking.calc_axis_tilt(aspect, slope, axis_azimuth), dtype=float)
    cross = cross_axis_slope_deg(aspect, slope, axis_azimuth, axis_tilt)
    zenith, sun_azimuth = winter_solstice_sun(lat, n_times=n_times)
    theta_s = pvlib.shading.projected_solar_zenith_angle(
        zenith, sun_azimuth, axis_tilt[:, None], axis_azimuth[:, None]
    )
    rotation = tilt[:, None]
    beta_c = np.radians(cross)[:, None]
    # zero of eq. 12 of Anderson & Jensen (2024) with equal rows and no axis offset:
    # shade-free when pitch / width >= |cos(R - θs)| cos βc / cos(θs - βc)
    cos_sun_slope = np.cos(np.radians(theta_s) - beta_c)
    cos_row_sun = np.abs(np.cos(np.radians(rotation - theta_s)))
    with np.errstate(divide="ignore", invalid="ignore"):
        gcr_t = np.where(cos_sun_slope > 0.0, cos_sun_slope / (cos_row_sun * np.cos(beta_c)), 0.0)
    gcr_rule = np.clip(np.min(gcr_t, axis=1), 0.0, None)
    gcr = np.minimum(gcr_rule, cap)
    surface = pvlib.tracking.calc_surface_orientation(tilt, axis_tilt, axis_azimuth)
    return pd.DataFrame(
        {
            "gcr_rule_frac": gcr_rule,
            "gcr_frac": gcr,
            "module_area_per_map_area_frac": gcr / np.cos(np.radians(axis_tilt)),
            "axis_tilt_deg": axis_tilt,
            "cross_axis_slope_deg": cross,
            "surface_tilt_deg": np.broadcast_to(
                np.asarray(surface["surface_tilt"], dtype=float), gcr.shape
            ),
            "surface_azimuth_deg": np.broadcast_to(
                np.asarray(surface["surface_azimuth"], dtype=float), gcr.shape
            ),
        }
    )
