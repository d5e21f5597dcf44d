"""Coordinate reference systems: the metric CRS, the display CRS and GCJ-02.

Every area, length, buffer and raster cell in census is computed in
:data:`METRIC_CRS` (EPSG:4549, CGCS2000 / 3-degree Gauss-Kruger CM 120E, metres).
:data:`DISPLAY_CRS` (EPSG:4326) is used only for maps and exchange files.

Chinese web-map data (Amap, Tencent) is in GCJ-02, an obfuscated datum that no
EPSG code describes. This module converts it to and from WGS84. No maintained
library offers a vectorized GCJ-02 transform over arrays (``prcoords`` and
``eviltransform`` work point by point), so the published formula is written out
here with numpy and tested against ``prcoords`` in ``tests/test_crs.py``.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

import numpy as np
import shapely
from pyproj import CRS, Transformer

from census.exceptions import CRSError, MissingCRSError

__all__ = [
    "DISPLAY_CRS",
    "GCJ02",
    "METRIC_CRS",
    "ZONE_LON_RANGE",
    "check_zone",
    "gcj02_to_wgs84",
    "gcj02_to_wgs84_gdf",
    "in_china",
    "require_crs",
    "require_projected",
    "transformer",
    "valid_crs_string",
    "wgs84_to_gcj02",
    "wgs84_to_gcj02_gdf",
]

logger = logging.getLogger(__name__)

METRIC_CRS = "EPSG:4549"
"""CGCS2000 / 3-degree Gauss-Kruger CM 120E [m]; area scale within 0.06 % over Hangzhou."""

DISPLAY_CRS = "EPSG:4326"
"""WGS84 longitude/latitude [deg]; only for maps and exchange files."""

GCJ02 = "GCJ-02"
"""The name config uses for layers in the Chinese GCJ-02 datum."""

ZONE_LON_RANGE = (118.0, 122.0)
"""Longitudes [deg] where EPSG:4549 is used here: its 118.5-121.5 E area of use
plus a margin that keeps Hangzhou's western tip (118.34 E) inside."""

# Krasovsky 1940 ellipsoid, as used by the GCJ-02 formula (public reimplementations,
# e.g. prcoords and eviltransform, use the same two constants).
_A = 6378245.0
_EE = 0.00669342162296594323

# Rough bounding box inside which GCJ-02 applies its shift; outside it GCJ-02 equals
# WGS84. This is the same box as prcoords' ``sanity_in_china_p``.
_CHINA_LAT = (0.8293, 55.8271)
_CHINA_LON = (72.004, 137.8347)


def in_china(lon: Any, lat: Any) -> np.ndarray:
    """Return where GCJ-02 shifts coordinates (a rough box around China).

    Parameters
    ----------
    lon, lat : array_like
        Longitude and latitude. [deg]

    Returns
    -------
    numpy.ndarray of bool
    """
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    return (
        (lon >= _CHINA_LON[0])
        & (lon <= _CHINA_LON[1])
        & (lat >= _CHINA_LAT[0])
        & (lat <= _CHINA_LAT[1])
    )


def _delta(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 minus WGS84 at a WGS84 position, in degrees (the published formula)."""
    x = lon - 105.0
    y = lat - 35.0
    sqrt_abs_x = np.sqrt(np.abs(x))
    pi = np.pi
    common = (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    d_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt_abs_x
    d_lat = d_lat + common
    d_lat = d_lat + (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
    d_lat = d_lat + (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2.0 / 3.0
    d_lon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt_abs_x
    d_lon = d_lon + common
    d_lon = d_lon + (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
    d_lon = d_lon + (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0
    rad_lat = np.radians(lat)
    magic = 1.0 - _EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * pi)
    d_lon = (d_lon * 180.0) / (_A / sqrt_magic * np.cos(rad_lat) * pi)
    return d_lon, d_lat


def wgs84_to_gcj02(lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
    """Convert WGS84 coordinates to GCJ-02.

    Parameters
    ----------
    lon, lat : array_like
        WGS84 longitude and latitude. [deg]

    Returns
    -------
    lon, lat : numpy.ndarray
        GCJ-02 longitude and latitude [deg]; points outside China unchanged.
    """
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    d_lon, d_lat = _delta(lon, lat)
    inside = in_china(lon, lat)
    return np.where(inside, lon + d_lon, lon), np.where(inside, lat + d_lat, lat)


def gcj02_to_wgs84(
    lon: Any, lat: Any, *, tolerance_deg: float = 1e-9, max_iter: int = 20
) -> tuple[np.ndarray, np.ndarray]:
    """Convert GCJ-02 coordinates to WGS84 by fixed-point iteration.

    The forward transform has no closed inverse; starting from the GCJ-02
    position, the WGS84 estimate is corrected by the forward error until it is
    below ``tolerance_deg`` (1e-9 deg is about 0.1 mm), usually in 3 to 4 steps.

    Parameters
    ----------
    lon, lat : array_like
        GCJ-02 longitude and latitude. [deg]
    tolerance_deg : float, default 1e-9
        Largest forward-transform error accepted. [deg]
    max_iter : int, default 20
        Maximum number of correction steps.

    Returns
    -------
    lon, lat : numpy.ndarray
        WGS84 longitude and latitude [deg]; points outside China unchanged.
    """
    g_lon = np.asarray(lon, dtype=float)
    g_lat = np.asarray(lat, dtype=float)
    w_lon, w_lat = g_lon.copy(), g_lat.copy()
    for _ in range(max_iter):
        f_lon, f_lat = wgs84_to_gcj02(w_lon, w_lat)
        e_lon, e_lat = f_lon - g_lon, f_lat - g_lat
        w_lon = w_lon - e_lon
        w_lat = w_lat - e_lat
        if not (
            np.nanmax(np.abs(e_lon), initial=0.0) > tolerance_deg
            or np.nanmax(np.abs(e_lat), initial=0.0) > tolerance_deg
        ):
            break
    return w_lon, w_lat


def _transform_geoms(geoms: Any, func: Any) -> np.ndarray:
    def _xy(coords: np.ndarray) -> np.ndarray:
        x, y = func(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(np.asarray(geoms), _xy)


def gcj02_to_wgs84_gdf(gdf: Any) -> Any:
    """Convert a GeoDataFrame or GeoSeries of GCJ-02 lon/lat geometries to WGS84.

    Works for every geometry type (vectorized over all vertices with shapely 2).

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame or geopandas.GeoSeries
        Geometries whose coordinates are GCJ-02 longitude/latitude [deg]. Any CRS
        it carries is ignored (GCJ-02 files usually claim EPSG:4326).

    Returns
    -------
    Same type as ``gdf``, a copy, with CRS EPSG:4326.
    """
    out = gdf.copy()
    geoms = _transform_geoms(out.geometry.values, gcj02_to_wgs84)
    if hasattr(out, "set_geometry"):
        out = out.set_geometry(geoms, crs=DISPLAY_CRS)
    else:
        out = type(out)(geoms, index=out.index, crs=DISPLAY_CRS, name=out.name)
    return out


def wgs84_to_gcj02_gdf(gdf: Any) -> Any:
    """Convert a GeoDataFrame or GeoSeries in EPSG:4326 to GCJ-02 lon/lat.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame or geopandas.GeoSeries
        Geometries in WGS84 (any CRS is first transformed to EPSG:4326).

    Returns
    -------
    Same type as ``gdf``, a copy whose coordinates are GCJ-02 [deg]. Its CRS is
    left as EPSG:4326 because GCJ-02 has no EPSG code; keep track of it.
    """
    require_crs(gdf)
    out = gdf.to_crs(DISPLAY_CRS)
    geoms = _transform_geoms(out.geometry.values, wgs84_to_gcj02)
    if hasattr(out, "set_geometry"):
        return out.set_geometry(geoms, crs=DISPLAY_CRS)
    return type(out)(geoms, index=out.index, crs=DISPLAY_CRS, name=out.name)


@functools.lru_cache(maxsize=64)
def transformer(src: Any, dst: Any) -> Transformer:
    """Return a cached ``pyproj.Transformer`` from ``src`` to ``dst`` (x = lon/easting).

    Building a transformer looks the operation up in PROJ's database (~50 ms for
    EPSG:4549 -> EPSG:4326 here); a run needs the same few dozens of times
    (per map, per layer check). Transformers are safe to reuse in one thread.

    Parameters
    ----------
    src, dst : pyproj.CRS or str
        Source and target CRS (anything ``pyproj.CRS.from_user_input`` takes; hashable).
    """
    return Transformer.from_crs(src, dst, always_xy=True)


def require_crs(gdf: Any, *, layer: str = "layer", path: str | None = None) -> CRS:
    """Return the layer's CRS, or raise :class:`MissingCRSError` saying how to fix it.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame or geopandas.GeoSeries
    layer : str
        Name of the layer, for the message.
    path : str, optional
        File the layer came from, for the message.
    """
    crs = getattr(gdf, "crs", None)
    if crs is None:
        where = f" in {path}" if path else ""
        raise MissingCRSError(
            f"Layer '{layer}'{where} has no CRS. Set it in the config (crs = \"EPSG:4326\", "
            f'or crs = "GCJ-02" for Amap/Tencent data) or with gdf.set_crs(...) before '
            "calling census."
        )
    return CRS.from_user_input(crs)


def require_projected(gdf: Any, *, layer: str = "layer") -> CRS:
    """Raise unless the layer is in a projected CRS whose unit is the metre.

    Metric functions call this first: geopandas only warns about areas taken in
    degrees, census refuses them.
    """
    crs = require_crs(gdf, layer=layer)
    units = {axis.unit_name for axis in crs.axis_info}
    if not crs.is_projected or not units <= {"metre", "meter"}:
        raise CRSError(
            f"Layer '{layer}' is in {crs.to_string()}, which is not a projected CRS in "
            f'metres; areas and lengths need one. Use gdf.to_crs("{METRIC_CRS}") first.'
        )
    return crs


def check_zone(
    gdf: Any, *, layer: str = "layer", lon_range: tuple[float, float] = ZONE_LON_RANGE
) -> None:
    """Raise when a layer lies outside the longitudes the metric CRS serves well.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame or geopandas.GeoSeries
        Layer with a CRS.
    layer : str
        Name of the layer, for the message.
    lon_range : (float, float)
        Accepted longitudes. [deg]
    """
    if len(gdf) == 0:
        return
    crs = require_crs(gdf, layer=layer)
    bounds = gdf.total_bounds
    if not np.all(np.isfinite(bounds)):
        return
    if crs.is_geographic and crs.equals(CRS.from_user_input(DISPLAY_CRS), ignore_axis_order=True):
        minx, miny, maxx, maxy = bounds
    else:
        # transform the bounding box (densified edges), not every vertex of the layer
        tr = transformer(crs, DISPLAY_CRS)
        minx, miny, maxx, maxy = tr.transform_bounds(*bounds, densify_pts=21)
    if minx < lon_range[0] or maxx > lon_range[1]:
        raise CRSError(
            f"Layer '{layer}' spans longitudes {minx:.3f} to {maxx:.3f} E, outside "
            f"{lon_range[0]}-{lon_range[1]} E where the metric CRS {METRIC_CRS} keeps areas "
            "true. If the layer is for this city, its CRS is wrong: check [layers.<name>] crs "
            "(a projected file read as another CRS, or longitude and latitude swapped). For "
            "another city set [study_area] metric_crs to its own Gauss-Kruger zone (e.g. "
            "EPSG:4548 for CM 117E) in your config."
        )


def valid_crs_string(value: str, *, key: str = "crs", metric: bool = False) -> str:
    """Check a CRS string from a config and return it unchanged.

    Parameters
    ----------
    value : str
        Anything pyproj accepts (``"EPSG:4549"``, WKT, PROJ string), or
        ``"GCJ-02"`` unless ``metric``.
    key : str
        Config key, for the message.
    metric : bool, default False
        Require a projected CRS in metres (``[study_area] metric_crs``).

    Raises
    ------
    ValueError
        Saying what was wrong and how to write the key (pydantic turns it into a
        :class:`~census.exceptions.ConfigError` naming the key and the file).
    """
    from pyproj.exceptions import CRSError as ProjCRSError

    if not metric and value.strip().upper().replace("_", "-") in (GCJ02, "GCJ02"):
        return value
    try:
        crs = CRS.from_user_input(value)
    except ProjCRSError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValueError(
            f"{key} = {value!r} is not a coordinate reference system pyproj knows ({first}). "
            f'Write an EPSG code such as "{METRIC_CRS}"'
            + ("" if metric else ' or "EPSG:4326", or "GCJ-02" for Amap/Tencent data')
        ) from None
    if metric:
        units = {axis.unit_name for axis in crs.axis_info}
        if not crs.is_projected or not units <= {"metre", "meter"}:
            raise ValueError(
                f"{key} = {value!r} is not a projected CRS in metres; areas and lengths need "
                f'one. Use the Gauss-Kruger zone of the study area, e.g. "{METRIC_CRS}" '
                "(CGCS2000, CM 120E) for Hangzhou"
            )
    return value
