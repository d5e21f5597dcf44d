"""Turbine layout inside usable site areas, and the prevailing wind direction.

Turbines go on a rectangular grid whose rows run across the prevailing wind:
``spacing_along_d`` rotor diameters apart along the wind and
``spacing_across_d`` apart across it. For each site the grid is rotated to the
wind direction, shifted over a few fractional offsets, and the offset that
fits the most turbines inside the site's usable polygon is kept
(vectorized with shapely 2). Because the grid is a lattice, no two turbines of
one site are closer than ``min(spacing_along_d, spacing_across_d)`` rotor
diameters.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from census.crs import require_projected
from census.exceptions import InputError, WeatherError
from census.schema import require_columns
from census.settings.wind import LayoutConfig

__all__ = [
    "layout_turbines",
    "prevailing_direction_deg",
    "resolve_prevailing_direction_deg",
]

logger = logging.getLogger(__name__)

_N_OFFSETS = 4
"""Grid offsets tried per axis (4 x 4 = 16 candidate grids per site)."""


def prevailing_direction_deg(
    wind_direction_deg: pd.Series | np.ndarray,
    wind_speed_m_s: pd.Series | np.ndarray,
    *,
    n_sectors: int = 12,
) -> float:
    """Direction of the energy-carrying wind from an energy-weighted wind rose.

    Each record is put in one of ``n_sectors`` equal sectors centred on North
    (sector 0 spans ±180/n_sectors deg around 0 deg); every sector sums the
    cube of the wind speed (proportional to wind power). The centre of the
    sector with the largest sum is returned.

    Parameters
    ----------
    wind_direction_deg : array-like
        Direction the wind comes from, clockwise from North. [deg]
    wind_speed_m_s : array-like
        Wind speed at any one height. [m s⁻¹]
    n_sectors : int, default 12
        Number of sectors (12 x 30 deg as in the European Wind Atlas, Troen &
        Petersen 1989).

    Returns
    -------
    float
        Centre of the sector with the most wind energy, in [0, 360). [deg]

    Raises
    ------
    WeatherError
        If the inputs differ in length, or no record has wind (all calm or NaN).

    Examples
    --------
    >>> prevailing_direction_deg([10, 95, 100, 260], [9.0, 5, 5, 7])
    0.0
    """
    direction = np.asarray(wind_direction_deg, dtype=float)
    speed = np.asarray(wind_speed_m_s, dtype=float)
    if direction.shape != speed.shape:
        raise WeatherError(
            f"wind direction and speed must have equal length; got {direction.shape} and "
            f"{speed.shape}."
        )
    if not n_sectors >= 1:
        raise ValueError(f"n_sectors must be >= 1; got {n_sectors}")
    ok = np.isfinite(direction) & np.isfinite(speed) & (speed > 0)
    if not ok.any():
        raise WeatherError(
            "no record has a wind speed > 0 and a direction; cannot build a wind rose. Check "
            "the weather's wind_speed and wind_direction columns, or set "
            "wind.layout.prevailing_direction_deg."
        )
    width = 360.0 / n_sectors
    sector = np.floor(((direction[ok] + width / 2) % 360.0) / width).astype(int) % n_sectors
    energy = np.bincount(sector, weights=speed[ok] ** 3, minlength=n_sectors)
    return float(np.argmax(energy) * width)


def resolve_prevailing_direction_deg(weather: pd.DataFrame, layout: LayoutConfig) -> float:
    """Prevailing direction from the config, else from the weather's wind rose.

    Parameters
    ----------
    weather : pandas.DataFrame
        Columns ``wind_speed`` [m s⁻¹] and ``wind_direction`` [deg] (pvlib
        names); only read when the config gives no direction.
    layout : LayoutConfig
        ``wind.layout``; ``prevailing_direction_deg`` wins when not None.

    Returns
    -------
    float
        Direction the prevailing wind comes from. [deg]
    """
    if layout.prevailing_direction_deg is not None:
        return float(layout.prevailing_direction_deg)
    require_columns(
        weather,
        ("wind_speed", "wind_direction"),
        what="the wind rose (weather)",
        fix="Set wind.layout.prevailing_direction_deg instead.",
        error=WeatherError,
    )
    direction = prevailing_direction_deg(
        weather["wind_direction"], weather["wind_speed"], n_sectors=layout.direction_sectors
    )
    logger.info("prevailing wind direction from the wind rose: %.0f deg", direction)
    return direction


def _grid_in_polygon(
    geom: shapely.Geometry, *, along_m: float, across_m: float, direction_deg: float
) -> np.ndarray:
    """Turbine coordinates (n, 2) of the best-fitting rotated grid inside ``geom``."""
    theta = np.deg2rad(direction_deg)
    u = np.array([np.sin(theta), np.cos(theta)])  # along the wind (x east, y north)
    w = np.array([np.cos(theta), -np.sin(theta)])  # across the wind
    xy = shapely.get_coordinates(geom)
    a, c = xy @ u, xy @ w
    n_a = int(np.floor((a.max() - a.min()) / along_m)) + 2
    n_c = int(np.floor((c.max() - c.min()) / across_m)) + 2
    ka, kc = np.meshgrid(np.arange(n_a), np.arange(n_c), indexing="ij")
    ka, kc = ka.ravel(), kc.ravel()
    shapely.prepare(geom)
    best = np.empty((0, 2))
    offsets = (np.arange(_N_OFFSETS) + 0.5) / _N_OFFSETS  # never on the bounding box edge
    for fa in offsets:
        for fc in offsets:
            ga = a.min() + (fa + ka) * along_m
            gc = c.min() + (fc + kc) * across_m
            pts = np.outer(ga, u) + np.outer(gc, w)
            inside = shapely.contains_xy(geom, pts[:, 0], pts[:, 1])
            if inside.sum() > len(best):
                best = pts[inside]
    return best


def layout_turbines(
    sites: gpd.GeoDataFrame,
    *,
    rotor_diameter_m: float,
    spacing_along_d: float,
    spacing_across_d: float,
    prevailing_direction_deg: float,
) -> gpd.GeoDataFrame:
    """Place turbines on a wind-aligned grid inside each eligible site.

    Parameters
    ----------
    sites : geopandas.GeoDataFrame
        Site table in a projected CRS in metres (EPSG:4549). Uses columns
        ``site_id``, ``eligible`` and ``geometry`` (the usable area after
        setbacks); rows with ``eligible`` not True get no turbines, and when a
        ``technology`` column exists only rows with ``"wind"`` are laid out.
    rotor_diameter_m : float
        Rotor diameter. [m]
    spacing_along_d, spacing_across_d : float
        Spacing along and across the prevailing wind, in rotor diameters. [-]
    prevailing_direction_deg : float
        Direction the prevailing wind comes from, clockwise from North. [deg]

    Returns
    -------
    geopandas.GeoDataFrame
        One Point per turbine, same CRS as ``sites``; columns ``site_id``,
        ``turbine_id`` (``"<site_id>-001"``, ...) and ``geometry``. Every point
        lies strictly inside its site's polygon.

    Raises
    ------
    MissingCRSError, CRSError
        If ``sites`` has no CRS or one that is not projected in metres.
    SchemaError
        If ``site_id``, ``eligible`` or ``geometry`` is missing.
    ValueError
        If a diameter or spacing is not positive.

    Notes
    -----
    Turbines of neighbouring sites are placed independently; keep sites
    separated by setbacks of at least the across-wind spacing if they touch.
    Grid north of EPSG:4549 is within 1 deg of true north over Hangzhou, so
    the direction is used without meridian-convergence correction.
    """
    require_projected(sites, layer="wind sites")
    require_columns(
        sites,
        ("site_id", "eligible", "geometry"),
        what="layout_turbines",
        fix="Run the screening stage first.",
    )
    for name, value in (
        ("rotor_diameter_m", rotor_diameter_m),
        ("spacing_along_d", spacing_along_d),
        ("spacing_across_d", spacing_across_d),
    ):
        if not (np.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be a positive number; got {value!r}")
    if not np.isfinite(prevailing_direction_deg):
        raise ValueError(f"prevailing_direction_deg must be finite; got {prevailing_direction_deg}")

    use = sites["eligible"].eq(True)
    if "technology" in sites.columns:
        use &= sites["technology"].eq("wind")
    along_m = spacing_along_d * rotor_diameter_m
    across_m = spacing_across_d * rotor_diameter_m

    site_ids: list[object] = []
    turbine_ids: list[str] = []
    coords: list[np.ndarray] = []
    for site_id, geom in zip(sites.loc[use, "site_id"], sites.loc[use].geometry, strict=True):
        if geom is None or geom.is_empty:
            continue
        if geom.geom_type not in ("Polygon", "MultiPolygon"):
            raise InputError(
                f"site {site_id!r}: the usable area must be a (Multi)Polygon; got "
                f"{geom.geom_type}. Fix the screening output."
            )
        pts = _grid_in_polygon(
            geom, along_m=along_m, across_m=across_m, direction_deg=prevailing_direction_deg
        )
        site_ids += [site_id] * len(pts)
        turbine_ids += [f"{site_id}-{k:03d}" for k in range(1, len(pts) + 1)]
        coords.append(pts)
    xy = np.concatenate(coords) if coords else np.empty((0, 2))
    turbines = gpd.GeoDataFrame(
        {"site_id": site_ids, "turbine_id": turbine_ids},
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs=sites.crs,
    )
    logger.info(
        "laid out %d turbines in %d sites (%.0f m x %.0f m grid, wind from %.0f deg)",
        len(turbines),
        turbines["site_id"].nunique(),
        along_m,
        across_m,
        prevailing_direction_deg,
    )
    return turbines
