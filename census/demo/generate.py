"""Generate the SYNTHETIC demo layers for the Hangzhou census demo.

No public building, water, terrain or wind extract of Hangzhou could be shipped, so
this script makes plausible stand-ins, placed where the real things are (see
``/work/shared/data/DEMO-HINTS.md``) inside the real district boundaries:

- ``demo_sites.gpkg``: rooftops, ponds (EPSG:4326), mines, landfills, forest, mudflats, agri,
  sewage;
- ``demo_exclusions.gpkg``: protected areas, drinking water, ecological red line, roads,
  airport, seawalls, navigation channels, residential areas;
- ``demo_zones.gpkg``: industrial and logistics park outlines (zone layer ``parks``);
- ``scenic_areas_gcj02.geojson``: West Lake and two other scenic areas in GCJ-02;
- ``dem_100m.tif``: elevation [m] on a 100 m grid in EPSG:4549;
- ``landcover_100m.tif``: ESA WorldCover class codes on the same grid;
- ``wind/``: Global-Wind-Atlas-style mean wind speed and Weibull A, k at 50, 100, 150 m;
- ``README.md``: what every layer is, labelled synthetic.

Nothing here is survey data. The output is deterministic: fixed seeds, same content
on every run. ``census run`` calls :func:`write_demo` in process when the demo layers
are missing (into ``data/raw/demo`` of a checkout, or the user's cache folder for an
installed wheel; :func:`census.paths.demo_dir`). By hand::

    python -m census.demo.generate [--out FOLDER] [--overwrite]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import rasterio
import shapely
import shapely.geometry
from pyproj import Transformer
from rasterio import features
from rasterio.transform import from_origin
from scipy import ndimage, special

from census.crs import METRIC_CRS, wgs84_to_gcj02_gdf
from census.io.boundaries import read_districts
from census.paths import RAW_DIR, demo_dir

logger = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------
# Tunable numbers
# ---------------------------------------------------------------------------------
SEED = 20240320  # master seed; every layer draws from its own child stream of it
BOUNDARIES = RAW_DIR / "boundaries/hangzhou_districts_2021_gcj02.geojson"  # real
GPKG_DATE = "2024-03-20T00:00:00Z"  # fixed GeoPackage timestamp, for identical bytes
INSIDE_MARGIN_M = 10.0  # sites must lie this far inside the city outline [m]

# terrain (dem_100m.tif)
DEM_RES_M = 100.0  # cell size of the DEM and land cover [m]
DEM_MARGIN_M = 3000.0  # margin around the city's bounding box [m]
DEM_NODATA = -9999.0  # nodata value of the DEM [m]
RELIEF_BETA = 3.0  # spectral exponent of the fractal relief (power ~ k^-beta) [-]
RELIEF_SMOOTH_M = 300.0  # shortest relief wavelength kept [m]; smaller = steeper
RELIEF_LONGEST_M = 80_000.0  # longest relief wavelength kept [m]
RELIEF_POWER = 1.3  # >1 flattens valley floors and sharpens summits [-]
HILL_AMPLITUDE_M = 850.0  # typical summit height in the western hills [m]
HILL_EDGE_SIGMA_M = 3500.0  # width of the plain-to-hill transition [m]
PLAIN_LEVEL_M = (2.5, 8.5)  # range of plain elevations [m]
VALLEY_HALF_WIDTH_M = 2500.0  # width scale of the Fuchun river valley floor [m]
TOWN_BASIN_RADIUS_M = 2800.0  # radius of the flat basin around each western town [m]
QIANDAO_LEVEL_M = 108.0  # water level of Qiandao Lake [m]
WEST_LAKE_LEVEL_M = 7.0  # water level of West Lake [m]

# rooftops
ROOF_OVERSAMPLE = 1.0  # scales every cluster's candidate count (rejections drop ~20 %)
ROOF_MAX_SLOPE_DEG = {
    "core": 5.0,
    "urban": 5.0,
    "industrial": 4.0,
    "logistics": 4.0,
    "town": 9.0,
    "village": 12.0,
    "scenic": 25.0,
}  # site slope limit [deg]
L_SHAPE_FRAC = 0.15  # share of residential/commercial/public footprints that are L-shaped
NAMED_FRAC = 0.01  # share of buildings with a name
N_VILLAGES = 160  # number of village clusters scattered over the hills and plain
VILLAGE_SIZE = (15, 70)  # buildings per village (min, max)

# ponds (stored in EPSG:4326)
N_PONDS = 3600  # pond candidates on the plains (before rejection)
N_XIXI_PONDS = 90  # pond candidates inside Xixi wetland
POND_MEDIAN_HA = 2.0  # median pond area [ha]
POND_SIGMA = 1.0  # log-normal sigma of pond areas [-]
POND_AREA_HA = (0.2, 60.0)  # clip range of pond areas [ha]
N_BIG_PONDS = 4  # ponds kept above 50 ha (from BIG_POND_SPOTS)
POND_MAX_SLOPE_DEG = 3.0  # ponds sit on flat ground [deg]

# mines, landfills, forest, mudflats
N_MINES = 190  # quarry candidates (before rejection)
MINE_MEDIAN_HA = 5.0  # median quarry area [ha]
MINE_AREA_HA = (1.0, 40.0)  # clip range of quarry areas [ha]
MINE_SLOPE_DEG = (8.0, 32.0)  # quarries sit on hillsides in this slope range [deg]
LANDFILL_AREA_HA = (3.0, 50.0)  # clip range of landfill areas [ha]
N_FOREST = 1000  # forest-patch candidates (before rejection)
FOREST_MEDIAN_HA = 28.0  # median forest-patch area [ha]
FOREST_AREA_HA = (5.0, 150.0)  # clip range of forest-patch areas [ha]
FOREST_MIN_SLOPE_DEG = 8.0  # forest patches sit on hillsides [deg]
# forest type shares of the demo patches: assumption for a plausible demo, after Zhejiang's
# forest make-up (tree forest dominant, bamboo a large second in Lin'an and the west,
# shrub land a small rest); not survey data
FOREST_TYPE_SHARES = {"tree": 0.68, "bamboo": 0.24, "shrub": 0.08}
SHRUB_COVER_RANGE = (0.2, 0.9)  # shrub cover of shrub-land patches [frac]
FOREST_MIN_ELEV_M = 100.0  # and above this elevation [m]
MUDFLAT_SPAN_LON = (120.36, 120.71)  # stretch of the estuary lined with flats [deg E]
MUDFLAT_LENGTH_M = (1500.0, 4500.0)  # length of one flat along the river [m]
MUDFLAT_WIDTH_M = (400.0, 1300.0)  # width of one flat across the river [m]
MUDFLAT_GAP_M = (200.0, 800.0)  # gap between neighbouring flats [m]
MUDFLAT_AREA_KM2 = (0.5, 12.0)  # accepted mudflat areas [km2]

# wind rasters (Global Wind Atlas layout)
WIND_BOUNDS = (120.20, 30.05, 120.95, 30.45)  # lon min, lat min, lon max, lat max [deg]
WIND_RES_DEG = 0.0025  # cell size [deg], about 250 m
WIND_HEIGHTS_M = (50, 100, 150)  # heights of the layers [m]
WIND_INLAND_100_M_S = 4.75  # mean wind speed at 100 m far inland [m s-1]
WIND_ESTUARY_GAIN_M_S = 1.55  # extra mean speed at 100 m over the estuary [m s-1]
WIND_BAY_GAIN_M_S = 0.45  # further extra speed towards Hangzhou Bay (east) [m s-1]
WIND_EXPOSURE_DECAY_M = 6000.0  # e-folding distance of the estuary effect inland [m]
WIND_K_INLAND = 1.92  # Weibull k far inland [-]
WIND_K_GAIN = 0.32  # extra Weibull k over the estuary [-]
WIND_ALPHA_INLAND = 0.20  # power-law shear exponent far inland [-]
WIND_ALPHA_ESTUARY = 0.125  # power-law shear exponent over the flats [-]

# ---------------------------------------------------------------------------------
# Where things are (WGS84 lon, lat; approximate, from DEMO-HINTS.md and maps)
# ---------------------------------------------------------------------------------
# Qiantang / Fuchun / Xin'an river centre line: lon, lat, half width [m]
RIVER = [
    (119.215, 29.485, 150),
    (119.265, 29.535, 200),
    (119.330, 29.575, 220),
    (119.420, 29.620, 250),
    (119.520, 29.700, 280),
    (119.620, 29.762, 300),
    (119.690, 29.800, 330),
    (119.780, 29.880, 350),
    (119.880, 29.975, 380),
    (119.960, 30.040, 420),
    (120.040, 30.090, 460),
    (120.100, 30.140, 500),
    (120.140, 30.188, 560),
    (120.180, 30.212, 620),
    (120.220, 30.238, 680),
    (120.262, 30.272, 760),
    (120.300, 30.280, 850),
    (120.345, 30.262, 950),
    (120.400, 30.298, 1050),
    (120.460, 30.325, 1150),
    (120.530, 30.343, 1250),
    (120.600, 30.347, 1350),
    (120.680, 30.348, 1550),
    (120.760, 30.352, 2200),
    (120.900, 30.360, 4000),
]
# the north-east plain (Hangjiahu and Xiaoshao plains); everything else is hills
PLAIN = [
    (119.86, 30.65),
    (120.95, 30.65),
    (120.95, 29.98),
    (120.55, 29.98),
    (120.42, 30.07),
    (120.35, 30.06),
    (120.27, 30.05),
    (120.21, 30.09),
    (120.16, 30.15),
    (120.12, 30.185),
    (120.162, 30.222),
    (120.168, 30.262),
    (120.125, 30.278),
    (120.04, 30.245),
    (119.97, 30.262),
    (119.91, 30.33),
    (119.86, 30.39),
    (119.83, 30.47),
]
# extra summit height [m] around named massifs: lon, lat, e-folding radius [m], height [m]
MASSIFS = [
    (119.44, 30.35, 14_000, 780),  # Tianmu Mountain (Lin'an)
    (118.90, 30.10, 13_000, 650),  # Qingliangfeng (Lin'an / Anhui border)
    (119.10, 29.35, 18_000, 260),  # southern Chun'an
    (119.55, 29.35, 16_000, 240),  # Jiande south
    (119.55, 30.00, 14_000, 220),  # Tonglu north
    (120.15, 30.16, 24_000, -430),  # lower hills round the city (West Lake hills ~400 m)
]
# western towns and their flat basins: name, lon, lat
TOWNS = [
    ("Fuyang", 119.960, 30.050),
    ("Lin'an", 119.720, 30.235),
    ("Tonglu", 119.690, 29.800),
    ("Jiande", 119.290, 29.465),
    ("Meicheng", 119.270, 29.548),
    ("Qiandaohu", 119.040, 29.605),
    ("Changhua", 119.230, 30.160),
    ("Fenshui", 119.420, 29.920),
    ("Shouchang", 119.220, 29.370),
    ("Weiping", 118.890, 29.720),
    ("Xindeng", 119.760, 29.880),
    ("Tangjia", 119.520, 30.280),
]
WEST_LAKE_WATER = [
    (120.137, 30.262),
    (120.152, 30.263),
    (120.160, 30.258),
    (120.163, 30.246),
    (120.160, 30.235),
    (120.152, 30.228),
    (120.142, 30.231),
    (120.136, 30.240),
    (120.134, 30.252),
]
WEST_LAKE_SCENIC = [
    (120.104, 30.255),
    (120.118, 30.266),
    (120.140, 30.268),
    (120.158, 30.266),
    (120.1665, 30.258),
    (120.1675, 30.246),
    (120.165, 30.232),
    (120.155, 30.220),
    (120.132, 30.214),
    (120.112, 30.218),
    (120.101, 30.236),
]
QIANDAO_TRUNK = [
    (119.215, 29.50),
    (119.13, 29.57),
    (119.03, 29.61),
    (118.95, 29.635),
    (118.87, 29.665),
    (118.79, 29.69),
    (118.71, 29.72),
]  # main basin of the lake
QIANDAO_REACH_M = 5500.0  # how far arms of Qiandao Lake reach from the trunk valley [m]
AIRPORT = (120.434, 30.229, 4200.0, 2000.0, 68.0)  # lon, lat, length, width [m], axis [deg]


_TO_M = Transformer.from_crs("EPSG:4326", METRIC_CRS, always_xy=True)
_TO_LL = Transformer.from_crs(METRIC_CRS, "EPSG:4326", always_xy=True)


def to_m(lon, lat):
    """Project WGS84 lon/lat [deg] to EPSG:4549 x, y [m]."""
    return _TO_M.transform(np.asarray(lon, float), np.asarray(lat, float))


def poly_m(coords) -> shapely.Polygon:
    """Build a metric polygon from WGS84 ``(lon, lat)`` vertices."""
    lon, lat = np.asarray(coords, float).T
    x, y = to_m(lon, lat)
    return shapely.make_valid(shapely.Polygon(np.column_stack([x, y])))


def line_m(coords) -> shapely.LineString:
    """Build a metric line from WGS84 ``(lon, lat)`` vertices."""
    lon, lat = np.asarray(coords, float).T[:2]
    x, y = to_m(lon, lat)
    return shapely.LineString(np.column_stack([x, y]))


def point_m(lon: float, lat: float) -> tuple[float, float]:
    """Project one WGS84 point [deg] to metric x, y [m]."""
    x, y = to_m(lon, lat)
    return float(x), float(y)


# ---------------------------------------------------------------------------------
# Geometry helpers (vectorized with shapely 2)
# ---------------------------------------------------------------------------------
def blobs(rng, cx, cy, area_m2, *, n_vert=20, rough=0.25, aspect=None, angle_deg=None):
    """Star-shaped smooth random polygons with exact target areas.

    Parameters
    ----------
    rng : numpy.random.Generator
    cx, cy : array_like
        Centres in EPSG:4549. [m]
    area_m2 : array_like
        Target areas. [m2]
    n_vert : int
        Vertices per polygon.
    rough : float
        Amplitude of the radial harmonics (0 = ellipse). [-]
    aspect : array_like, optional
        Length over width of the underlying ellipse. [-]
    angle_deg : array_like, optional
        Orientation of the long axis, counter-clockwise from east. [deg]

    Returns
    -------
    numpy.ndarray of shapely.Polygon
        Always simple (star-shaped about the centre), hence valid.
    """
    cx = np.asarray(cx, float)
    n = cx.size
    theta = np.linspace(0, 2 * np.pi, n_vert, endpoint=False)
    r = np.ones((n, n_vert))
    for k in range(2, 6):
        amp = rng.uniform(0, rough / (k - 1), (n, 1))
        phase = rng.uniform(0, 2 * np.pi, (n, 1))
        r += amp * np.cos(k * theta + phase)
    r = np.clip(r, 0.35, None)
    aspect = np.ones(n) if aspect is None else np.broadcast_to(aspect, (n,))
    ang = rng.uniform(0, 180, n) if angle_deg is None else np.broadcast_to(angle_deg, (n,))
    x = r * np.cos(theta) * np.sqrt(aspect)[:, None]
    y = r * np.sin(theta) / np.sqrt(aspect)[:, None]
    a = np.radians(ang)[:, None]
    xr = x * np.cos(a) - y * np.sin(a)
    yr = x * np.sin(a) + y * np.cos(a)
    area0 = 0.5 * np.abs(np.sum(xr * np.roll(yr, -1, 1) - np.roll(xr, -1, 1) * yr, axis=1))
    s = np.sqrt(np.asarray(area_m2, float) / area0)[:, None]
    xs = cx[:, None] + xr * s
    ys = np.asarray(cy, float)[:, None] + yr * s
    ring = np.stack([np.concatenate([xs, xs[:, :1]], 1), np.concatenate([ys, ys[:, :1]], 1)], -1)
    return shapely.polygons(ring)


def rectangles(cx, cy, w, length, angle_deg):
    """Rotated rectangles of width ``w`` and ``length`` [m] about centres [m]."""
    ux = np.array([-0.5, 0.5, 0.5, -0.5, -0.5])
    uy = np.array([-0.5, -0.5, 0.5, 0.5, -0.5])
    return _place(ux[None, :] * w[:, None], uy[None, :] * length[:, None], cx, cy, angle_deg)


def l_shapes(cx, cy, w, length, a, b, angle_deg):
    """L-shaped footprints: a ``w`` x ``length`` rectangle less an ``a*w`` x ``b*length`` corner."""
    w_, l_, a_, b_ = (v[:, None] for v in (w, length, a, b))
    ux = np.array([0, 1, 1, 1, 1, 0, 0], float)[None, :] * w_
    uy = np.array([0, 0, 1, 1, 1, 1, 0], float)[None, :] * l_
    ux[:, 3] = ux[:, 4] = (1 - a_[:, 0]) * w
    uy[:, 2] = uy[:, 3] = (1 - b_[:, 0]) * length
    return _place(ux - w_ / 2, uy - l_ / 2, cx, cy, angle_deg)


def _place(ux, uy, cx, cy, angle_deg):
    t = np.radians(angle_deg)[:, None]
    x = cx[:, None] + ux * np.cos(t) - uy * np.sin(t)
    y = cy[:, None] + ux * np.sin(t) + uy * np.cos(t)
    return shapely.polygons(np.stack([x, y], -1))


def drop_overlaps(geoms) -> np.ndarray:
    """Return a keep-mask that drops every polygon intersecting an earlier kept one."""
    geoms = np.asarray(geoms)
    tree = shapely.STRtree(geoms)
    i, j = tree.query(geoms, predicate="intersects")
    sel = i < j
    keep = np.ones(len(geoms), bool)
    for a, b in sorted(zip(i[sel].tolist(), j[sel].tolist(), strict=True)):
        if keep[a] and keep[b]:
            keep[b] = False
    return keep


def hits(geoms, obstacles) -> np.ndarray:
    """Return where ``geoms`` intersect any of ``obstacles`` (a list of geometries)."""
    geoms = np.asarray(geoms)
    obstacles = [g for g in obstacles if g is not None and not g.is_empty]
    if not obstacles or len(geoms) == 0:
        return np.zeros(len(geoms), bool)
    tree = shapely.STRtree(np.asarray(obstacles))
    i, _ = tree.query(geoms, predicate="intersects")
    out = np.zeros(len(geoms), bool)
    out[i] = True
    return out


def random_points_in(rng, geom, n):
    """Draw ``n`` uniform random points inside ``geom`` (rejection sampling)."""
    minx, miny, maxx, maxy = geom.bounds
    shapely.prepare(geom)
    xs, ys = [], []
    got = 0
    while got < n:
        x = rng.uniform(minx, maxx, 4 * n)
        y = rng.uniform(miny, maxy, 4 * n)
        ok = shapely.contains_xy(geom, x, y)
        xs.append(x[ok])
        ys.append(y[ok])
        got += int(ok.sum())
    return np.concatenate(xs)[:n], np.concatenate(ys)[:n]


def river_polygon() -> shapely.Geometry:
    """Return the Qiantang-Fuchun-Xin'an river as a polygon of varying width (metric CRS)."""
    lon, lat, hw = np.array(RIVER, float).T
    x, y = to_m(lon, lat)
    parts = []
    for k in range(len(x) - 1):
        seg = np.linspace(0, 1, 8)
        px = x[k] + (x[k + 1] - x[k]) * seg
        py = y[k] + (y[k + 1] - y[k]) * seg
        pw = hw[k] + (hw[k + 1] - hw[k]) * seg
        parts.extend(shapely.buffer(shapely.points(px, py), pw, quad_segs=8))
        parts.append(
            shapely.buffer(
                shapely.LineString([(x[k], y[k]), (x[k + 1], y[k + 1])]), min(hw[k], hw[k + 1])
            )
        )
    return shapely.union_all(parts).buffer(50).buffer(-50)


def qiandao_lake(rng, grid) -> shapely.Geometry:
    """Return a many-armed Qiandao Lake in Chun'an, 29.55-29.75 N, 118.70-119.20 E (metric CRS).

    The lake is the low part of a noise field that deepens towards a trunk valley,
    vectorized from the DEM grid and smoothed: arms, bays and islands come out of it.
    """
    transform, shape = grid["transform"], grid["shape"]
    trunk = line_m(QIANDAO_TRUNK)
    on_trunk = features.rasterize(
        [(trunk, 1)], out_shape=shape, transform=transform, dtype="uint8", all_touched=True
    )
    d_trunk = ndimage.distance_transform_edt(1 - on_trunk) * DEM_RES_M
    noise = fractal_field(rng, shape, DEM_RES_M, beta=3.0, smooth_m=500, longest_m=12_000)
    wet = noise * 0.9 + 1.1 - (d_trunk / QIANDAO_REACH_M) ** 1.3 * 2.0 > 0
    x, y = to_m([118.70, 119.20], [29.55, 29.75])
    box = features.rasterize(
        [(shapely.box(x[0], y[0], x[1], y[1]), 1)],
        out_shape=shape,
        transform=transform,
        dtype="uint8",
    )
    wet &= box > 0
    labels, _ = ndimage.label(wet)
    keep = np.unique(labels[(on_trunk > 0) & wet])
    wet = np.isin(labels, keep[keep > 0])
    polys = [
        shapely.geometry.shape(g)
        for g, v in features.shapes(wet.astype("uint8"), mask=wet, transform=transform)
        if v == 1
    ]
    lake = shapely.union_all(polys).buffer(150).buffer(-250).buffer(100)
    return shapely.simplify(lake, 40)


# ---------------------------------------------------------------------------------
# Terrain
# ---------------------------------------------------------------------------------
def fractal_field(rng, shape, res_m, *, beta, smooth_m, longest_m) -> np.ndarray:
    """Zero-mean, unit-std fractal noise by spectral synthesis (power ~ k^-beta)."""
    ny, nx = shape
    white = np.fft.rfft2(rng.standard_normal(shape))
    ky = np.fft.fftfreq(ny, d=res_m)[:, None]
    kx = np.fft.rfftfreq(nx, d=res_m)[None, :]
    k = np.hypot(kx, ky)
    k[0, 0] = 1.0 / longest_m
    amp = k ** (-beta / 2) * np.exp(-((k * smooth_m) ** 2)) * (1 - np.exp(-((k * longest_m) ** 2)))
    amp[0, 0] = 0
    f = np.fft.irfft2(white * amp, s=shape)
    return (f - f.mean()) / f.std()


def make_terrain(rng, city, grid):
    """Build the synthetic DEM [m] and the geography used by the other layers."""
    transform, shape = grid["transform"], grid["shape"]
    ny, nx = shape
    xs = transform.c + DEM_RES_M * (np.arange(nx) + 0.5)
    ys = transform.f - DEM_RES_M * (np.arange(ny) + 0.5)
    X, Y = np.meshgrid(xs, ys)

    def raster(geoms, fill=0, value=1):
        shapes = [(g, value) for g in np.atleast_1d(geoms) if g is not None and not g.is_empty]
        return features.rasterize(
            shapes, out_shape=shape, transform=transform, fill=fill, dtype="uint8"
        )

    plain = raster(poly_m(PLAIN))
    hill = ndimage.gaussian_filter((1 - plain).astype("float32"), HILL_EDGE_SIGMA_M / DEM_RES_M)
    amp = np.full(shape, HILL_AMPLITUDE_M, "float32")
    for lon, lat, rad, height in MASSIFS:
        mx, my = point_m(lon, lat)
        amp += height * np.exp(-((X - mx) ** 2 + (Y - my) ** 2) / rad**2)
    relief = fractal_field(
        rng,
        shape,
        DEM_RES_M,
        beta=RELIEF_BETA,
        smooth_m=RELIEF_SMOOTH_M,
        longest_m=RELIEF_LONGEST_M,
    )
    relief = 0.5 * (1 + special.erf(relief / np.sqrt(2)))  # to uniform [0, 1]
    ridges = fractal_field(rng, shape, DEM_RES_M, beta=3.2, smooth_m=700, longest_m=20_000)
    ridges = 1 - np.abs(np.tanh(ridges))
    hills = amp * hill * (0.04 + 0.96 * relief**RELIEF_POWER) * (0.8 + 0.2 * ridges)

    river = river_polygon()
    lake = qiandao_lake(rng, grid)
    west_lake = poly_m(WEST_LAKE_WATER)
    d_river = ndimage.distance_transform_edt(1 - raster(river)) * DEM_RES_M
    d_lake = ndimage.distance_transform_edt(1 - raster(lake)) * DEM_RES_M
    valley = 1 - np.exp(-((d_river / VALLEY_HALF_WIDTH_M) ** 2))
    valley *= 1 - np.exp(-((d_lake / 1200.0) ** 2))
    for _, lon, lat in TOWNS:
        tx, ty = point_m(lon, lat)
        valley *= 1 - np.exp(-((X - tx) ** 2 + (Y - ty) ** 2) / TOWN_BASIN_RADIUS_M**2)
    micro = fractal_field(rng, shape, DEM_RES_M, beta=3.0, smooth_m=1500, longest_m=30_000)
    base = PLAIN_LEVEL_M[0] + (PLAIN_LEVEL_M[1] - PLAIN_LEVEL_M[0]) * 0.5 * (1 + np.tanh(micro))
    # the valley floor rises upstream (west) and around Qiandao Lake
    x_w, _ = point_m(119.2, 29.5)
    x_e, _ = point_m(120.2, 30.2)
    base += 22.0 * np.clip((x_e - X) / (x_e - x_w), 0, 1) ** 1.5 * hill
    base += (QIANDAO_LEVEL_M - base) * np.exp(-((d_lake / 9000.0) ** 2))
    dem = base + valley * hills
    river_level = 3.0 + 20.0 * np.clip((x_e - X) / (x_e - x_w), 0, 1) ** 1.5
    dem = np.where(raster(river) > 0, np.minimum(dem, river_level), dem)
    dem = np.where(raster(lake) > 0, QIANDAO_LEVEL_M, dem)
    dem = np.where(raster(west_lake) > 0, WEST_LAKE_LEVEL_M, dem)
    # 0.1 m steps on the plain, 1 m in the hills: keeps the plain smooth, the file small
    dem = np.where(dem < 50, np.round(dem, 1), np.round(dem)).astype("float32")
    geo = {"river": river, "qiandao": lake, "west_lake": west_lake}
    return dem, geo


def slope_deg(dem):
    """Slope of a DEM on the metric grid [deg]."""
    gy, gx = np.gradient(dem.astype("float64"), DEM_RES_M)
    return np.degrees(np.arctan(np.hypot(gx, gy)))


class Sampler:
    """Look up DEM elevation and slope at metric points."""

    def __init__(self, dem, slope, transform):
        self.dem, self.slope, self.t = dem, slope, transform

    def _rc(self, x, y):
        col = np.floor((np.asarray(x) - self.t.c) / self.t.a).astype(int)
        row = np.floor((np.asarray(y) - self.t.f) / self.t.e).astype(int)
        return (np.clip(row, 0, self.dem.shape[0] - 1), np.clip(col, 0, self.dem.shape[1] - 1))

    def elev(self, x, y):
        """Elevation [m] at points."""
        return self.dem[self._rc(x, y)]

    def slp(self, x, y):
        """Slope [deg] at points."""
        return self.slope[self._rc(x, y)]


# ---------------------------------------------------------------------------------
# Site layers
# ---------------------------------------------------------------------------------
# rooftop clusters: name, lon, lat, sigma [m], candidates, profile, street-grid angle [deg]
ROOF_CLUSTERS = [
    ("Wulin", 120.170, 30.275, 2200, 6500, "core", 0),
    ("Gongshu", 120.145, 30.320, 2400, 5200, "core", 8),
    ("Qianjiang New Town", 120.215, 30.252, 1400, 2600, "core", 38),
    ("Wensan", 120.115, 30.285, 1700, 3200, "core", 3),
    ("Binjiang", 120.200, 30.200, 1900, 3600, "core", 30),
    ("Jianggan", 120.245, 30.300, 1900, 2600, "core", 20),
    ("Xiaoshan", 120.265, 30.165, 2700, 3600, "urban", 12),
    ("Future Sci-Tech City", 120.010, 30.290, 2200, 2000, "urban", 0),
    ("Liangzhu", 120.040, 30.395, 1800, 1100, "urban", 25),
    ("Linping", 120.300, 30.420, 2200, 2400, "urban", 15),
    ("Xiasha", 120.335, 30.310, 1800, 1700, "urban", 0),
    ("Fuyang", 119.960, 30.050, 1500, 1300, "town", 40),
    ("Lin'an", 119.720, 30.235, 1500, 1300, "town", 10),
    ("Tonglu", 119.690, 29.800, 1300, 1000, "town", 35),
    ("Jiande", 119.290, 29.465, 1000, 650, "town", 45),
    ("Meicheng", 119.270, 29.548, 700, 280, "town", 20),
    ("Qiandaohu", 119.040, 29.605, 900, 650, "town", 60),
    ("Xiasha industrial", 120.375, 30.305, 1600, 900, "industrial", 0),
    ("Dajiangdong", 120.560, 30.280, 2600, 1000, "industrial", 5),
    ("Xiaoshan ETDZ", 120.300, 30.205, 1400, 650, "industrial", 12),
    ("Airport logistics", 120.470, 30.200, 1100, 330, "logistics", 68),
    ("Tonglu logistics", 119.720, 29.780, 1100, 380, "logistics", 35),
    ("Tonglu Jiangnan logistics", 119.655, 29.830, 700, 170, "logistics", 35),
    ("Yuhang logistics", 119.985, 30.420, 1300, 420, "logistics", 0),
    ("Linping industrial", 120.250, 30.455, 1400, 650, "industrial", 15),
    ("Yinhu", 120.040, 30.085, 1100, 320, "industrial", 30),
    ("Jiande high-tech", 119.330, 29.500, 800, 170, "industrial", 45),
    ("Qingshanhu", 119.840, 30.275, 900, 220, "industrial", 10),
    ("Longjing", 120.124, 30.229, 380, 140, "scenic", 20),
    ("Lingyin", 120.108, 30.243, 330, 90, "scenic", 0),
    ("Maojiabu", 120.133, 30.247, 260, 70, "scenic", 0),
    ("Hupao", 120.133, 30.218, 300, 70, "scenic", 30),
]
# per profile: use shares, flat-roof share, residential median footprint [m2]
ROOF_PROFILES = {
    "core": (
        {
            "residential": 0.62,
            "commercial": 0.22,
            "public": 0.10,
            "industrial": 0.04,
            "logistics": 0.02,
        },
        0.92,
        650,
    ),
    "urban": (
        {
            "residential": 0.66,
            "commercial": 0.16,
            "public": 0.08,
            "industrial": 0.07,
            "logistics": 0.03,
        },
        0.80,
        500,
    ),
    "town": (
        {
            "residential": 0.72,
            "commercial": 0.12,
            "public": 0.07,
            "industrial": 0.07,
            "logistics": 0.02,
        },
        0.45,
        320,
    ),
    "village": (
        {
            "residential": 0.90,
            "commercial": 0.04,
            "public": 0.03,
            "industrial": 0.03,
            "logistics": 0.0,
        },
        0.20,
        220,
    ),
    "industrial": (
        {
            "residential": 0.0,
            "commercial": 0.05,
            "public": 0.05,
            "industrial": 0.75,
            "logistics": 0.15,
        },
        0.97,
        400,
    ),
    "logistics": (
        {
            "residential": 0.0,
            "commercial": 0.05,
            "public": 0.0,
            "industrial": 0.20,
            "logistics": 0.75,
        },
        0.98,
        400,
    ),
    "scenic": (
        {
            "residential": 0.50,
            "commercial": 0.30,
            "public": 0.20,
            "industrial": 0.0,
            "logistics": 0.0,
        },
        0.20,
        220,
    ),
}
USES = ["residential", "commercial", "public", "industrial", "logistics"]
# footprint area per use: median [m2], log-normal sigma, clip range [m2]
USE_AREA = {
    "residential": (None, 0.45, 150, 1500),
    "commercial": (1500, 0.6, 300, 8000),
    "public": (1200, 0.6, 300, 6000),
    "industrial": (7000, 0.6, 2000, 30000),
    "logistics": (11000, 0.55, 2000, 30000),
}
USE_ASPECT = {
    "residential": (1.4, 3.5),
    "commercial": (1.0, 2.5),
    "public": (1.0, 2.5),
    "industrial": (1.2, 3.0),
    "logistics": (1.8, 4.0),
}  # length/width range [-]


def _floors(rng, use, profile):
    n = len(use)
    f = np.ones(n, int)
    res = use == "residential"
    big = {
        "core": (6, 33),
        "urban": (4, 26),
        "town": (2, 9),
        "village": (1, 4),
        "scenic": (1, 3),
        "industrial": (2, 6),
        "logistics": (2, 6),
    }[profile]
    f[res] = np.round(big[0] + (big[1] - big[0]) * rng.beta(1.3, 2.5, res.sum()))
    com = use == "commercial"
    hi = {"core": 40, "urban": 25, "town": 8}.get(profile, 3)
    f[com] = np.round(1 + (hi - 1) * rng.beta(1.1, 3.0, com.sum()))
    pub = use == "public"
    f[pub] = rng.integers(1, 7, pub.sum())
    ind = use == "industrial"
    f[ind] = rng.integers(1, 5, ind.sum())
    log = use == "logistics"
    f[log] = rng.integers(1, 3, log.sum())
    return np.maximum(f, 1)


def _height(rng, use, floors):
    per = np.select(
        [use == "industrial", use == "logistics", use == "commercial"], [5.5, 9.0, 3.9], 3.0
    )
    return np.round(floors * per + rng.uniform(0.5, 3.0, len(use)), 1)


def make_rooftops(rng, city_in, samp, obstacles, villages):
    """Make building footprints in EPSG:4549 (see README for the schema)."""
    frames = []
    clusters = list(ROOF_CLUSTERS) + villages
    for cname, lon, lat, sigma, n, profile, grid_angle in clusters:
        n = int(round(n * ROOF_OVERSAMPLE))
        cx0, cy0 = point_m(lon, lat)
        cx = cx0 + rng.normal(0, sigma, n)
        cy = cy0 + rng.normal(0, sigma, n)
        shares, flat_share, res_median = ROOF_PROFILES[profile]
        p = np.array([shares[u] for u in USES])
        use = np.array(USES)[rng.choice(len(USES), n, p=p / p.sum())]
        area = np.empty(n)
        for u in USES:
            sel = use == u
            med, sig, lo, hi = USE_AREA[u]
            med = res_median if med is None else med
            area[sel] = np.clip(med * np.exp(rng.normal(0, sig, sel.sum())), lo, hi)
        asp = np.empty(n)
        for u in USES:
            sel = use == u
            asp[sel] = rng.uniform(*USE_ASPECT[u], sel.sum())
        aligned = rng.random(n) < (
            0.85 if profile in ("core", "urban", "industrial", "logistics") else 0.55
        )
        angle = np.where(
            aligned,
            grid_angle + 90 * rng.integers(0, 2, n) + rng.normal(0, 2, n),
            rng.uniform(0, 180, n),
        )
        lshape = np.isin(use, ["residential", "commercial", "public"])
        lshape &= rng.random(n) < L_SHAPE_FRAC
        a = rng.uniform(0.35, 0.6, n)
        b = rng.uniform(0.35, 0.6, n)
        w = np.sqrt(area / asp / np.where(lshape, 1 - a * b, 1.0))
        ln = w * asp
        geoms = np.empty(n, object)
        geoms[~lshape] = rectangles(
            cx[~lshape], cy[~lshape], w[~lshape], ln[~lshape], angle[~lshape]
        )
        if lshape.any():
            geoms[lshape] = l_shapes(
                cx[lshape], cy[lshape], w[lshape], ln[lshape], a[lshape], b[lshape], angle[lshape]
            )
        flat = np.isin(use, ["industrial", "logistics"]) | (rng.random(n) < flat_share)
        flat |= rng.random(n) < (flat_share if profile in ("industrial", "logistics") else 0)
        floors = _floors(rng, use, profile)
        frames.append(
            pd.DataFrame(
                {
                    "cluster": cname,
                    "profile": profile,
                    "use": use,
                    "floors": floors,
                    "height_m": _height(rng, use, floors),
                    "roof_type": np.where(flat, "flat", "pitched"),
                    "roof_pitch_deg": np.where(flat, 0.0, np.round(rng.uniform(15, 35, n), 1)),
                    "geometry": geoms,
                    "cx": cx,
                    "cy": cy,
                }
            )
        )
    df = pd.concat(frames, ignore_index=True)
    # a commercial building straddling the West Lake scenic-area boundary (east shore)
    scenic = poly_m(WEST_LAKE_SCENIC)
    bx, by = point_m(120.1669, 30.2505)
    edge = shapely.line_interpolate_point(
        scenic.exterior, scenic.exterior.project(shapely.Point(bx, by))
    )
    straddle = rectangles(
        np.array([edge.x]), np.array([edge.y]), np.array([28.0]), np.array([46.0]), np.array([0.0])
    )[0]
    extra = pd.DataFrame(
        {
            "cluster": ["Hubin"],
            "profile": ["core"],
            "use": ["commercial"],
            "floors": [5],
            "height_m": [19.5],
            "roof_type": ["flat"],
            "roof_pitch_deg": [0.0],
            "geometry": [straddle],
            "cx": [edge.x],
            "cy": [edge.y],
        }
    )
    df = pd.concat([extra, df], ignore_index=True)
    max_slope = df["profile"].map(ROOF_MAX_SLOPE_DEG).to_numpy()
    ok = samp.slp(df.cx, df.cy) <= max_slope
    ok &= shapely.contains_properly(city_in, df.geometry.to_numpy())
    ok &= ~hits(df.geometry.to_numpy(), obstacles)
    df = df[ok].reset_index(drop=True)
    df = df[drop_overlaps(df.geometry.to_numpy())].reset_index(drop=True)
    n = len(df)
    named = rng.random(n) < NAMED_FRAC
    named[0] = True  # the straddling Hubin building
    names = np.array([None] * n, object)
    for i in np.flatnonzero(named):
        kind = {
            "residential": "Residence",
            "commercial": "Plaza",
            "public": "Hall",
            "industrial": "Factory",
            "logistics": "Warehouse",
        }[df.at[i, "use"]]
        names[i] = f"{df.at[i, 'cluster']} {kind} {i} (demo)"
    names[0] = "Hubin Building (demo)"
    gdf = gpd.GeoDataFrame(
        {
            "building_id": [f"B{i:06d}" for i in range(1, n + 1)],
            "height_m": df["height_m"].astype("float64"),
            "floors": df["floors"].astype("int32"),
            "roof_type": df["roof_type"].astype(str),
            "roof_pitch_deg": df["roof_pitch_deg"].astype("float64"),
            "use": df["use"].astype(str),
            "name": names,
        },
        geometry=df.geometry.to_numpy(),
        crs=METRIC_CRS,
    )
    return gdf


# industrial and logistics parks (zone layer ``parks`` of demo_zones.gpkg): Chinese
# names of the rooftop clusters of profile industrial / logistics (ROOF_CLUSTERS)
PARK_NAMES_ZH = {
    "Xiasha industrial": "下沙工业园区",
    "Dajiangdong": "大江东产业集聚区",
    "Xiaoshan ETDZ": "萧山经济技术开发区",
    "Airport logistics": "萧山空港物流园区",
    "Tonglu logistics": "桐庐物流园区",
    "Tonglu Jiangnan logistics": "桐庐江南物流园区",
    "Yuhang logistics": "余杭物流园区",
    "Linping industrial": "临平工业园区",
    "Yinhu": "银湖工业园区",
    "Jiande high-tech": "建德高新技术产业园区",
    "Qingshanhu": "青山湖工业园区",
}
PARK_REACH_SIGMA = 2.0  # a park holds its cluster's industrial roofs within this many sigma [-]
PARK_BUFFER_M = 60.0  # margin of a park's outline around its outermost roofs [m]


# Qianjiang New City (钱江新城), Hangzhou's high-rise business district on the north bank
# of the Qiantang in Shangcheng: lon/lat box of the demo's facade (BIPV) buildings
FACADE_DEMO_BOX = (120.19, 30.23, 120.23, 30.26)


def facade_buildings(rooftops):
    """Return the rooftops of the facade demo area, the low ones too (they shade walls).

    BIPV facades of every high-rise in the demo (~37,000 walls) would double the
    demo run; the CBD's ~720 buildings of 24 m and more keep the category in every
    output at a few per cent of the run time.
    """
    lon, lat = FACADE_DEMO_BOX[0::2], FACADE_DEMO_BOX[1::2]
    x0, y0 = to_m(lon[0], lat[0])
    x1, y1 = to_m(lon[1], lat[1])
    c = rooftops.geometry.centroid
    inside = (c.x > min(x0, x1)) & (c.x < max(x0, x1)) & (c.y > min(y0, y1)) & (c.y < max(y0, y1))
    return rooftops[inside.to_numpy()].reset_index(drop=True)


def make_parks(rooftops, city_in):
    """Industrial and logistics park outlines around their clusters' roofs (EPSG:4549).

    Each park is the convex hull of the industrial and logistics roofs of one cluster
    (within ``PARK_REACH_SIGMA`` of its centre) grown by ``PARK_BUFFER_M``, inside the
    city and clear of the parks drawn before it.
    """
    centroids = rooftops.geometry.centroid
    parky = rooftops["use"].isin(["industrial", "logistics"]).to_numpy()
    names, names_zh, kinds, geoms = [], [], [], []
    taken = shapely.Polygon()
    for cname, lon, lat, sigma, _n, profile, _angle in ROOF_CLUSTERS:
        if profile not in ("industrial", "logistics"):
            continue
        x0, y0 = point_m(lon, lat)
        near = centroids.distance(shapely.Point(x0, y0)).to_numpy() < PARK_REACH_SIGMA * sigma
        roofs = rooftops.geometry.to_numpy()[near & parky]
        if len(roofs) < 3:
            continue
        outline = shapely.convex_hull(shapely.union_all(roofs)).buffer(PARK_BUFFER_M)
        outline = outline.intersection(city_in).difference(taken)
        if outline.geom_type == "MultiPolygon":
            outline = max(outline.geoms, key=lambda g: g.area)
        taken = taken.union(outline)
        names.append(f"{cname} park (demo)")
        names_zh.append(f"{PARK_NAMES_ZH[cname]}（示例）")
        kinds.append(profile)
        geoms.append(outline)
    return gpd.GeoDataFrame(
        {"name": names, "name_zh": names_zh, "kind": kinds}, geometry=geoms, crs=METRIC_CRS
    )


def make_villages(rng, districts, samp, obstacles, city_in):
    """Village cluster specs on gentle ground across the districts."""
    weights = {
        "Lin'an": 0.2,
        "Chun'an": 0.15,
        "Jiande": 0.12,
        "Tonglu": 0.12,
        "Fuyang": 0.15,
        "Yuhang": 0.08,
        "Xiaoshan": 0.1,
        "Linping": 0.04,
        "Qiantang": 0.04,
    }
    out = []
    for name, wgt in weights.items():
        geom = districts.loc[districts.name_en == name].geometry.iloc[0]
        k = int(round(N_VILLAGES * wgt))
        x, y = random_points_in(rng, geom.buffer(-800), 12 * k)
        ok = (samp.slp(x, y) < 6) & (samp.elev(x, y) < 400)
        ok &= ~hits(shapely.points(x, y), obstacles)
        x, y = x[ok][:k], y[ok][:k]
        lon, lat = _TO_LL.transform(x, y)
        for j in range(len(x)):
            out.append(
                (
                    f"{name} village {j + 1}",
                    float(lon[j]),
                    float(lat[j]),
                    float(rng.uniform(150, 350)),
                    int(rng.integers(VILLAGE_SIZE[0], VILLAGE_SIZE[1])),
                    "village",
                    float(rng.uniform(0, 90)),
                )
            )
    return out


# pond clusters on the plains: lon, lat, sigma [m], share of N_PONDS
POND_CLUSTERS = [
    (120.080, 30.440, 4500, 0.15),
    (119.960, 30.390, 4000, 0.08),
    (120.150, 30.450, 3500, 0.07),
    (120.260, 30.470, 4000, 0.11),
    (120.370, 30.360, 2500, 0.06),
    (120.360, 30.170, 4500, 0.12),
    (120.460, 30.170, 3000, 0.06),
    (120.610, 30.250, 4000, 0.13),
    (120.670, 30.290, 2500, 0.07),
    (120.300, 30.110, 2500, 0.05),
    (120.040, 30.330, 3000, 0.06),
    (120.470, 30.290, 2500, 0.04),
]
XIXI = (120.070, 30.270)  # Xixi National Wetland Park centre (lon, lat)
BIG_POND_SPOTS = [
    (120.620, 30.245),
    (120.665, 30.270),
    (120.100, 30.470),
    (120.220, 30.490),
    (120.470, 30.150),
    (120.350, 30.140),
]  # open aquaculture land (lon, lat)


def make_ponds(rng, city_in, samp, obstacles, districts):
    """Fish and pit ponds, built in EPSG:4549 and returned in EPSG:4326."""
    cx, cy, zone = [], [], []
    for lon, lat, sigma, share in POND_CLUSTERS:
        n = int(round(N_PONDS * share))
        x0, y0 = point_m(lon, lat)
        cx.append(x0 + rng.normal(0, sigma, n))
        cy.append(y0 + rng.normal(0, sigma, n))
        zone.append(np.full(n, "plain"))
    x0, y0 = point_m(*XIXI)
    cx.append(x0 + rng.normal(0, 900, N_XIXI_PONDS))
    cy.append(y0 + rng.normal(0, 700, N_XIXI_PONDS))
    zone.append(np.full(N_XIXI_PONDS, "xixi"))
    # a pond straddling the Yuhang-Linping border
    yu = districts.loc[districts.name_en == "Yuhang"].geometry.iloc[0]
    lp = districts.loc[districts.name_en == "Linping"].geometry.iloc[0]
    border = shapely.line_merge(shapely.intersection(yu.boundary, lp.boundary))
    pts = shapely.line_interpolate_point(border, np.linspace(0.2, 0.8, 25), normalized=True)
    bx, by = shapely.get_x(pts), shapely.get_y(pts)
    j = int(np.argmin(samp.slp(bx, by) + 100 * (samp.elev(bx, by) > 20)))
    # candidates for the few ponds above 50 ha, early in the list so they win overlaps
    for lon, lat in BIG_POND_SPOTS[::-1]:
        x0, y0 = point_m(lon, lat)
        cx.insert(0, x0 + rng.normal(0, 1500, 3))
        cy.insert(0, y0 + rng.normal(0, 1500, 3))
        zone.insert(0, np.full(3, "big"))
    cx.insert(0, np.array([bx[j]]))
    cy.insert(0, np.array([by[j]]))
    zone.insert(0, np.array(["border"]))
    cx, cy, zone = np.concatenate(cx), np.concatenate(cy), np.concatenate(zone)
    n = len(cx)
    area_ha = np.clip(POND_MEDIAN_HA * np.exp(rng.normal(0, POND_SIGMA, n)), *POND_AREA_HA)
    area_ha[zone == "xixi"] = np.clip(area_ha[zone == "xixi"] * 0.5, 0.2, 8)
    big = zone == "big"
    area_ha[big] = rng.uniform(50.5, POND_AREA_HA[1], big.sum())
    area_ha[0] = 4.0
    pit = (rng.random(n) < 0.2) & (zone != "big")
    fish_geoms = blobs(
        rng, cx, cy, area_ha * 1e4, n_vert=16, rough=0.12, aspect=rng.uniform(1.3, 2.6, n)
    )
    pit_geoms = blobs(
        rng, cx, cy, area_ha * 1e4, n_vert=24, rough=0.35, aspect=rng.uniform(1.0, 1.8, n)
    )
    geoms = np.where(pit, pit_geoms, fish_geoms)
    ok = shapely.contains_properly(city_in, geoms)
    flat = (samp.slp(cx, cy) <= POND_MAX_SLOPE_DEG) & (samp.elev(cx, cy) < 30)
    ok &= flat | (zone == "xixi")
    ok &= ~hits(geoms, obstacles)
    geoms, zone, area_ha, pit = geoms[ok], zone[ok], area_ha[ok], pit[ok]
    keep = drop_overlaps(geoms)
    geoms, zone, area_ha, pit = geoms[keep], zone[keep], area_ha[keep], pit[keep]
    # keep at most N_BIG_PONDS of the big candidates
    extra_big = np.flatnonzero(zone == "big")[N_BIG_PONDS:]
    keep = ~np.isin(np.arange(len(geoms)), extra_big)
    geoms, zone, area_ha, pit = geoms[keep], zone[keep], area_ha[keep], pit[keep]
    n = len(geoms)
    u = rng.random(n)
    water_use = np.where(
        pit,
        np.where(u < 0.55, "idle", np.where(u < 0.9, "aquaculture", "drinking_water")),
        np.where(u < 0.9, "aquaculture", np.where(u < 0.98, "idle", "drinking_water")),
    )
    water_use = np.where(zone == "xixi", "scenic", water_use)
    gdf = gpd.GeoDataFrame(
        {
            "pond_id": [f"P{i:05d}" for i in range(1, n + 1)],
            "pond_type": np.where(pit, "pit", "fish"),
            "water_use": water_use,
        },
        geometry=geoms,
        crs=METRIC_CRS,
    )
    return gdf


# agricultural land on the plains: vegetable and flower greenhouse areas (lon, lat, sigma [m], n)
AGRI_CLUSTERS = [
    (120.300, 30.430, 3000, 40),  # Linping: Yunhe / Tangqi vegetable bases
    (119.960, 30.400, 2500, 25),  # Yuhang: Jingshan / Pingyao
    (120.330, 30.090, 3000, 40),  # Xiaoshan south: Yiqiao / Suoqian
    (120.560, 30.220, 2500, 25),  # Qiantang / Xiaoshan east: reclaimed farmland
    (119.930, 30.060, 2000, 20),  # Fuyang: Xindeng / Lushan
    (119.680, 29.820, 1500, 15),  # Tonglu: Fengchuan
]
AGRI_MAX_SLOPE_DEG = 3.0  # farm plots and greenhouses sit on flat ground [deg]
AGRI_WIDTH_M = (40.0, 120.0)  # plot width range [m]
AGRI_LENGTH_M = (60.0, 260.0)  # plot length range [m]
AGRI_LAND_USE = {"greenhouse": 0.45, "facility_agriculture": 0.25, "cultivated": 0.30}


def make_agri(rng, city_in, samp, obstacles):
    """Greenhouse blocks, facility farm land and cultivated plots on the plains (EPSG:4549).

    ``land_use`` is ``greenhouse``, ``facility_agriculture`` (GB/T 21010 1202) or
    ``cultivated`` (01xx): the agri-PV rules keep arrays off the last one.
    """
    cx, cy = [], []
    for lon, lat, sigma, n in AGRI_CLUSTERS:
        x0, y0 = point_m(lon, lat)
        cx.append(x0 + rng.normal(0, sigma, n))
        cy.append(y0 + rng.normal(0, sigma, n))
    cx, cy = np.concatenate(cx), np.concatenate(cy)
    n = len(cx)
    w = rng.uniform(*AGRI_WIDTH_M, n)
    length = rng.uniform(*AGRI_LENGTH_M, n)
    # long axis roughly east-west, as the plain's field system (+-15 deg)
    angle = 90.0 + rng.uniform(-15.0, 15.0, n)
    geoms = rectangles(cx, cy, w, length, angle)
    ok = shapely.contains_properly(city_in, geoms)
    ok &= (samp.slp(cx, cy) <= AGRI_MAX_SLOPE_DEG) & (samp.elev(cx, cy) < 30)
    ok &= ~hits(geoms, obstacles)
    geoms = geoms[ok]
    geoms = geoms[drop_overlaps(geoms)]
    n = len(geoms)
    uses = list(AGRI_LAND_USE)
    land_use = rng.choice(uses, n, p=[AGRI_LAND_USE[u] for u in uses])
    return gpd.GeoDataFrame(
        {"agri_id": [f"A{i:04d}" for i in range(1, n + 1)], "land_use": land_use},
        geometry=geoms,
        crs=METRIC_CRS,
    )


# municipal sewage-treatment plants (plan task 27), placed near where Hangzhou's large plants
# are: (name, Chinese name, lon, lat, outline width x height [m], basins mapped?)
SEWAGE_PLANTS = [
    ("Qige", "七格污水处理厂", 120.300, 30.300, (700.0, 500.0), True),
    ("Sibao", "四堡污水处理厂", 120.225, 30.238, (400.0, 300.0), True),
    ("Linping", "临平净水厂", 120.320, 30.445, (400.0, 300.0), True),
    ("Xiaoshan Qianjiang", "萧山钱江污水处理厂", 120.380, 30.160, (500.0, 350.0), True),
    ("Liangzhu", "良渚污水处理厂", 120.020, 30.380, (300.0, 250.0), True),
    ("Fuyang", "富阳污水处理厂", 119.985, 30.035, (300.0, 220.0), True),
    ("Tonglu", "桐庐城南污水处理厂", 119.700, 29.785, (260.0, 200.0), False),
]
SEWAGE_AERATION_M = ((80.0, 120.0), (28.0, 40.0))  # aeration tank length, width ranges [m]
SEWAGE_CLARIFIER_R_M = (16.0, 24.0)  # secondary clarifier radius range [m]
SEWAGE_DIGESTER_R_M = 11.0  # anaerobic digester radius [m]


def _plant_basins(rng, x0, y0, w, h):
    """Basins of one plant in its local frame: aeration rows west, clarifiers east, a digester."""
    geoms, types = [], []
    n_rows = max(2, int(h // 70.0))
    length = rng.uniform(*SEWAGE_AERATION_M[0])
    for i in range(n_rows):
        width = rng.uniform(*SEWAGE_AERATION_M[1])
        y = y0 - h / 2 + 30.0 + i * (h - 60.0) / max(n_rows - 1, 1)
        x = x0 - w / 2 + 30.0 + length / 2
        geoms.append(shapely.box(x - length / 2, y - width / 2, x + length / 2, y + width / 2))
        types.append("aeration")
    r = rng.uniform(*SEWAGE_CLARIFIER_R_M)
    n_clar = max(2, int(h // (2 * r + 20.0)))
    for i in range(n_clar):
        y = y0 - h / 2 + r + 15.0 + i * (2 * r + 20.0)
        geoms.append(shapely.Point(x0 + w / 2 - r - 30.0, y).buffer(r, quad_segs=16))
        types.append("clarifier")
    if w >= 350.0:
        geoms.append(shapely.Point(x0 + 40.0, y0 + h / 2 - 40.0).buffer(SEWAGE_DIGESTER_R_M))
        types.append("digester")
    return geoms, types


def make_sewage(rng, city_in, obstacles):
    """Sewage-treatment plants and their basins (EPSG:4549), the plan's task 27 sites.

    Each plant is its outline (``kind = plant``) plus its basins (``kind = basin`` with
    ``basin_type`` aeration, clarifier or digester); the last plant is an outline only.
    A plant is moved outward on a spiral until its outline is clear of other layers.
    """
    rows = []
    tree = shapely.STRtree(np.asarray([g for g in obstacles if g is not None]))
    for k, (name, name_zh, lon, lat, (w, h), mapped) in enumerate(SEWAGE_PLANTS):
        cx, cy = point_m(lon, lat)
        for step in range(3000):
            ang, rad = step * 2.4, 80.0 * np.sqrt(step)  # golden-angle spiral, out to 4.4 km
            x, y = cx + rad * np.cos(ang), cy + rad * np.sin(ang)
            outline = shapely.box(x - w / 2, y - h / 2, x + w / 2, y + h / 2)
            if city_in.contains_properly(outline) and not len(tree.query(outline, "intersects")):
                break
        else:
            raise RuntimeError(f"could not place sewage plant {name}")
        pid = f"W{k + 1:02d}"
        label = f"{name} sewage plant (demo)"
        rows.append((pid, label, f"{name_zh}（示例）", "plant", None, outline))
        if mapped:
            geoms, types = _plant_basins(rng, x, y, w, h)
            for j, (g, t) in enumerate(zip(geoms, types, strict=True)):
                rows.append((f"{pid}-{j + 1:02d}", label, f"{name_zh}（示例）", "basin", t, g))
    return gpd.GeoDataFrame(
        {
            "sewage_id": [r[0] for r in rows],
            "plant": [r[1] for r in rows],
            "plant_zh": [r[2] for r in rows],
            "kind": [r[3] for r in rows],
            "basin_type": [r[4] for r in rows],
        },
        geometry=[r[5] for r in rows],
        crs=METRIC_CRS,
    )


def make_mines(rng, districts, city_in, samp, obstacles):
    """Quarries on hillsides of the western districts (EPSG:4549)."""
    weights = {"Fuyang": 0.28, "Jiande": 0.25, "Tonglu": 0.25, "Lin'an": 0.12, "Yuhang": 0.10}
    rows = []
    for name, wgt in weights.items():
        geom = districts.loc[districts.name_en == name].geometry.iloc[0]
        k = int(round(N_MINES * wgt))
        x, y = random_points_in(rng, geom, 40 * k)
        s, z = samp.slp(x, y), samp.elev(x, y)
        ok = (s >= MINE_SLOPE_DEG[0]) & (s <= MINE_SLOPE_DEG[1]) & (z > 40) & (z < 500)
        rows.append(pd.DataFrame({"district": name, "x": x[ok][:k], "y": y[ok][:k]}))
    df = pd.concat(rows, ignore_index=True)
    n = len(df)
    area = np.clip(MINE_MEDIAN_HA * np.exp(rng.normal(0, 0.8, n)), *MINE_AREA_HA) * 1e4
    geoms = blobs(
        rng,
        df.x.to_numpy(),
        df.y.to_numpy(),
        area,
        n_vert=18,
        rough=0.3,
        aspect=rng.uniform(1.0, 2.2, n),
    )
    ok = shapely.contains_properly(city_in, geoms) & ~hits(geoms, obstacles)
    df, geoms = df[ok].reset_index(drop=True), geoms[ok]
    keep = drop_overlaps(geoms)
    df, geoms = df[keep].reset_index(drop=True), geoms[keep]
    n = len(df)
    status = rng.choice(["abandoned", "closed", "active"], n, p=[0.5, 0.3, 0.2])
    mineral = rng.choice(["limestone", "granite", "clay", "tuff"], n, p=[0.5, 0.2, 0.15, 0.15])
    names = [
        f"{d} {m.capitalize()} Quarry {i + 1} (demo)"
        for i, (d, m) in enumerate(zip(df.district, mineral, strict=True))
    ]
    return gpd.GeoDataFrame(
        {
            "mine_id": [f"M{i:04d}" for i in range(1, n + 1)],
            "name": names,
            "status": status,
            "mineral": mineral,
        },
        geometry=geoms,
        crs=METRIC_CRS,
    )


# landfills: name, lon, lat, area [ha], status, closed year (None when operating)
LANDFILLS = [
    ("Tianziling (demo)", 120.180, 30.350, 38.0, "closed", 2007),
    ("Xiaoshan Yiqiao landfill (demo)", 120.400, 30.080, 22.0, "closed", 2015),
    ("Fuyang Yinhu landfill (demo)", 119.905, 30.060, 14.0, "closed", 2012),
    ("Lin'an Jincheng landfill (demo)", 119.680, 30.215, 9.0, "closed", 2016),
    ("Tonglu Fengchuan landfill (demo)", 119.640, 29.820, 11.0, "closed", 2018),
    ("Jiande Meicheng landfill (demo)", 119.250, 29.530, 6.0, "closed", 2013),
    ("Chun'an Qiandaohu landfill (demo)", 119.080, 29.640, 4.5, "closed", 2019),
    ("Yuhang Pingyao landfill (demo)", 119.960, 30.440, 17.0, "closed", 2010),
    ("Linping Qiaosi landfill (demo)", 120.330, 30.460, 12.0, "closed", 2014),
    ("Qiantang Linjiang landfill (demo)", 120.610, 30.250, 26.0, "operating", None),
    ("Xiaoshan Dongpian landfill (demo)", 120.330, 30.140, 45.0, "operating", None),
    ("Jiande Dayang landfill (demo)", 119.400, 29.560, 8.0, "operating", None),
    ("Fuyang Dongzhou landfill (demo)", 120.030, 30.070, 7.0, "closed", 2011),
    ("Xihu Zhuantang landfill (demo)", 120.060, 30.180, 3.5, "closed", 2009),
]


def make_landfills(rng, city_in, obstacles):
    """Make closed and operating landfills (EPSG:4549); the first is Tianziling."""
    rows, geoms = [], []
    for name, lon, lat, area_ha, status, year in LANDFILLS:
        x0, y0 = point_m(lon, lat)
        for attempt in range(200):
            jit = 0 if attempt == 0 else min(150 * attempt, 4000)
            x, y = x0 + rng.normal(0, jit + 1e-9), y0 + rng.normal(0, jit + 1e-9)
            area_m2 = np.clip(area_ha, *LANDFILL_AREA_HA) * 1e4
            g = blobs(
                rng, [x], [y], [area_m2], n_vert=14, rough=0.15, aspect=[rng.uniform(1.0, 1.8)]
            )[0]
            if (
                city_in.contains_properly(g)
                and not hits([g] + geoms, obstacles)[0]
                and not any(g.intersects(h) for h in geoms)
            ):
                break
        else:
            raise RuntimeError(f"could not place landfill {name}")
        geoms.append(g)
        rows.append((name, status, year, round(g.area * rng.uniform(0.7, 0.95), 1)))
    n = len(rows)
    return gpd.GeoDataFrame(
        {
            "landfill_id": [f"L{i:02d}" for i in range(1, n + 1)],
            "name": [r[0] for r in rows],
            "status": [r[1] for r in rows],
            "closed_year": pd.array([r[2] for r in rows], dtype="Int32"),
            "cap_area_m2": np.array([r[3] for r in rows], float),
        },
        geometry=geoms,
        crs=METRIC_CRS,
    )


TIANMU = (119.43, 30.33)  # Tianmu Mountain National Nature Reserve (lon, lat)


def make_forest(rng, districts, city_in, samp, obstacles, reserve):
    """Mountain forest patches on hillsides of the west and south-west (EPSG:4549)."""
    weights = {"Lin'an": 0.30, "Chun'an": 0.25, "Jiande": 0.15, "Tonglu": 0.15, "Fuyang": 0.15}
    xs, ys = [], []
    for name, wgt in weights.items():
        geom = districts.loc[districts.name_en == name].geometry.iloc[0]
        k = int(round(N_FOREST * wgt))
        x, y = random_points_in(rng, geom, 12 * k)
        ok = (samp.slp(x, y) >= FOREST_MIN_SLOPE_DEG) & (samp.elev(x, y) >= FOREST_MIN_ELEV_M)
        xs.append(x[ok][:k])
        ys.append(y[ok][:k])
    tx, ty = point_m(*TIANMU)
    k = 70
    x = tx + rng.normal(0, 5000, 10 * k)
    y = ty + rng.normal(0, 5000, 10 * k)
    ok = (samp.slp(x, y) >= FOREST_MIN_SLOPE_DEG) & (samp.elev(x, y) >= FOREST_MIN_ELEV_M)
    xs.insert(0, x[ok][:k])
    ys.insert(0, y[ok][:k])
    x, y = np.concatenate(xs), np.concatenate(ys)
    n = len(x)
    area = np.clip(FOREST_MEDIAN_HA * np.exp(rng.normal(0, 0.8, n)), *FOREST_AREA_HA) * 1e4
    geoms = blobs(rng, x, y, area, n_vert=28, rough=0.4, aspect=rng.uniform(1.0, 2.5, n))
    ok = shapely.contains_properly(city_in, geoms) & ~hits(geoms, obstacles)
    geoms = geoms[ok]
    geoms = geoms[drop_overlaps(geoms)]
    n = len(geoms)
    cls = rng.choice(["commercial", "ecological_public_welfare"], n, p=[0.55, 0.45])
    in_reserve = shapely.intersects(reserve, geoms)
    cls = np.where(in_reserve, "nature_reserve", cls)
    # forest type (drawn last, so the patches themselves are as before): the hills are
    # mostly tree and bamboo forest, with some shrub land of varied cover
    ftype = rng.choice(list(FOREST_TYPE_SHARES), n, p=list(FOREST_TYPE_SHARES.values()))
    cover = np.round(rng.uniform(*SHRUB_COVER_RANGE, n), 2)
    cover = np.where(ftype == "shrub", cover, np.nan)
    return gpd.GeoDataFrame(
        {
            "forest_id": [f"F{i:04d}" for i in range(1, n + 1)],
            "forest_class": cls,
            "forest_type": ftype,
            "shrub_cover_frac": cover,
        },
        geometry=geoms,
        crs=METRIC_CRS,
    )


def _river_frame(lon):
    """Centre (x, y) [m], unit tangent and half width [m] of the estuary at ``lon``."""
    rlon, rlat, hw = np.array(RIVER, float).T
    lat = np.interp(lon, rlon, rlat)
    x, y = to_m(lon, lat)
    x2, y2 = to_m(lon + 0.002, np.interp(lon + 0.002, rlon, rlat))
    t = np.array([x2 - x, y2 - y])
    t /= np.hypot(*t)
    return float(x), float(y), t, float(np.interp(lon, rlon, hw))


def make_mudflats(rng, city_in):
    """Tidal flats along both banks of the Qiantang estuary (EPSG:4549).

    Flats are laid one after another downstream on each bank, elongated along the
    river, between the channel and the seawall.
    """
    geoms, names = [], []
    m_per_deg = 96_000.0  # east-west metres per degree of longitude at 30.3 N [m]
    for bank, sign in (("North", 1), ("South", -1)):
        cursor = MUDFLAT_SPAN_LON[0] + rng.uniform(0, 0.01)
        k = 0
        while True:
            length = rng.uniform(*MUDFLAT_LENGTH_M)
            width = rng.uniform(*MUDFLAT_WIDTH_M)
            lon = cursor + length / 2 / m_per_deg
            cursor += (length + rng.uniform(*MUDFLAT_GAP_M)) / m_per_deg
            if lon > MUDFLAT_SPAN_LON[1]:
                break
            x, y, t, hw = _river_frame(lon)
            nrm = np.array([-t[1], t[0]]) * sign
            off = hw + width / 2 + 30
            g = blobs(
                rng,
                [x + nrm[0] * off],
                [y + nrm[1] * off],
                [np.pi / 4 * width * length],
                n_vert=24,
                rough=0.12,
                aspect=[length / width],
                angle_deg=[np.degrees(np.arctan2(t[1], t[0]))],
            )[0]
            g = shapely.make_valid(g.intersection(city_in))
            if g.geom_type == "MultiPolygon":
                g = max(g.geoms, key=lambda p: p.area)
            if g.geom_type != "Polygon":
                continue
            if not (MUDFLAT_AREA_KM2[0] * 1e6 <= g.area <= MUDFLAT_AREA_KM2[1] * 1e6):
                continue
            if any(g.intersects(h) for h in geoms):
                continue
            k += 1
            geoms.append(g)
            names.append(f"Qiantang {bank} Flat {k} (demo)")
    n = len(geoms)
    return gpd.GeoDataFrame(
        {"mudflat_id": [f"MF{i:02d}" for i in range(1, n + 1)], "name": names},
        geometry=geoms,
        crs=METRIC_CRS,
    )


# ---------------------------------------------------------------------------------
# Exclusion layers
# ---------------------------------------------------------------------------------
# protected areas: name, kind, lon, lat, area [km2]
PROTECTED = [
    ("Tianmu Mountain National Nature Reserve (demo)", "nature_reserve", *TIANMU, 45.0),
    ("Xixi National Wetland Park (demo)", "wetland_park", *XIXI, 11.5),
    ("Qingliangfeng Nature Reserve (demo)", "nature_reserve", 118.930, 30.110, 60.0),
    ("Fuchunjiang Forest Park (demo)", "forest_park", 119.880, 29.995, 22.0),
    ("Daqi Mountain Forest Park (demo)", "forest_park", 119.580, 29.870, 20.0),
    ("Dayang Mountain Forest Park (demo)", "forest_park", 119.420, 29.400, 28.0),
    ("Qiandaohu Forest Park (demo)", "forest_park", 119.080, 29.700, 40.0),
]
# reservoirs besides Qiandao Lake: name, lon, lat, area [km2]
RESERVOIRS = [
    ("Qingshan Reservoir (demo)", 119.780, 30.245, 8.0),
    ("Siling Reservoir (demo)", 119.860, 30.410, 3.0),
]
# ecological red line blobs: lon, lat, area [km2]
REDLINE = [
    (119.43, 30.33, 140),
    (119.22, 30.25, 180),
    (118.78, 30.02, 160),
    (118.82, 29.42, 200),
    (119.25, 29.30, 150),
    (119.55, 29.38, 120),
    (119.48, 29.97, 130),
    (119.80, 29.86, 90),
]
# district and town centres for the road network: lon, lat
NODES = {
    "Hangzhou": (120.165, 30.265),
    "Xiaoshan": (120.265, 30.165),
    "Yuhang": (120.010, 30.290),
    "Linping": (120.300, 30.420),
    "Xiasha": (120.360, 30.310),
    "Binjiang": (120.200, 30.200),
    "Fuyang": (119.960, 30.050),
    "Lin'an": (119.720, 30.235),
    "Tonglu": (119.690, 29.800),
    "Jiande": (119.290, 29.465),
    "Meicheng": (119.270, 29.548),
    "Qiandaohu": (119.040, 29.605),
    "Airport": (120.434, 30.229),
    "Dajiangdong": (120.560, 30.280),
    "Changhua": (119.230, 30.160),
    "Fenshui": (119.420, 29.920),
    "Weiping": (118.890, 29.720),
    "Shouchang": (119.220, 29.370),
    "Liangzhu": (120.040, 30.395),
    "Tangjia": (119.520, 30.280),
}
ROADS = [
    (
        "G60 Shanghai-Kunming Expressway (demo)",
        "expressway",
        [(120.46, 30.46), "Xiasha", (120.30, 30.20), (120.20, 30.05), (120.12, 29.90)],
    ),
    (
        "G25 Changchun-Shenzhen Expressway (demo)",
        "expressway",
        [(120.06, 30.60), "Liangzhu", "Yuhang", (119.99, 30.15), "Fuyang", (119.85, 29.90)],
    ),
    (
        "G56 Hangzhou-Ruili Expressway (demo)",
        "expressway",
        ["Hangzhou", "Yuhang", "Lin'an", "Tangjia", "Changhua", (118.60, 30.08)],
    ),
    (
        "Hangxinjing Expressway (demo)",
        "expressway",
        ["Binjiang", "Fuyang", "Tonglu", (119.45, 29.62), "Meicheng", "Jiande"],
    ),
    ("Qiandaohu Expressway (demo)", "expressway", ["Jiande", (119.16, 29.53), "Qiandaohu"]),
    (
        "Hangzhou Bay Ring Expressway (demo)",
        "expressway",
        ["Xiaoshan", "Airport", "Dajiangdong", (120.78, 30.28)],
    ),
    ("Airport Expressway (demo)", "expressway", ["Hangzhou", (120.30, 30.24), "Airport"]),
    ("Xiaoshan-Hangzhou trunk road (demo)", "trunk", ["Hangzhou", "Binjiang", "Xiaoshan"]),
    ("Linping trunk road (demo)", "trunk", ["Hangzhou", (120.23, 30.35), "Linping"]),
    ("Xiasha trunk road (demo)", "trunk", ["Hangzhou", "Xiasha", "Dajiangdong"]),
    ("Fuyang-Xiaoshan trunk road (demo)", "trunk", ["Fuyang", (120.10, 30.10), "Xiaoshan"]),
    ("Lin'an-Fuyang trunk road (demo)", "trunk", ["Lin'an", (119.85, 30.14), "Fuyang"]),
    ("Tonglu-Fenshui trunk road (demo)", "trunk", ["Tonglu", "Fenshui", "Tangjia"]),
    ("Jiande-Shouchang trunk road (demo)", "trunk", ["Jiande", "Shouchang"]),
    ("Qiandaohu-Weiping trunk road (demo)", "trunk", ["Qiandaohu", "Weiping"]),
    ("Linping-Liangzhu road (demo)", "primary", ["Linping", "Liangzhu"]),
    ("Qiantang riverside road (demo)", "primary", ["Xiasha", (120.45, 30.30), "Dajiangdong"]),
    ("Binjiang-Xiaoshan road (demo)", "primary", ["Binjiang", (120.24, 30.18), "Xiaoshan"]),
    ("Yuhang-Xixi road (demo)", "primary", ["Yuhang", (120.07, 30.28), "Hangzhou"]),
    ("Meicheng-Tonglu road (demo)", "primary", ["Meicheng", (119.50, 29.66), "Tonglu"]),
]
GRAND_CANAL = [
    (120.190, 30.520),
    (120.175, 30.460),
    (120.160, 30.400),
    (120.150, 30.350),
    (120.145, 30.320),
    (120.150, 30.300),
    (120.170, 30.290),
    (120.200, 30.285),
    (120.235, 30.275),
    (120.255, 30.268),
]
SCENIC = [
    ("West Lake Scenic Area (demo)", "heritage", WEST_LAKE_SCENIC),
    ("Xianghu Scenic Area (demo)", "scenic", (120.215, 30.135, 15.0)),
    ("Fuchun River Yanziling Scenic Area (demo)", "scenic", (119.610, 29.770, 8.0)),
]


def _blob_at(rng, lon, lat, area_km2, rough=0.25, n_vert=28, aspect=None):
    x, y = point_m(lon, lat)
    asp = [rng.uniform(1.0, 1.8)] if aspect is None else [aspect]
    return blobs(rng, [x], [y], [area_km2 * 1e6], n_vert=n_vert, rough=rough, aspect=asp)[0]


def _wiggly(rng, pts_m, jitter_frac=0.04):
    """Densify a polyline with jittered midpoints so roads do not look ruled."""
    out = [pts_m[0]]
    for a, b in zip(pts_m[:-1], pts_m[1:], strict=True):
        a, b = np.asarray(a), np.asarray(b)
        d = b - a
        nrm = np.array([-d[1], d[0]]) / (np.hypot(*d) + 1e-9)
        for f in (0.25, 0.5, 0.75):
            out.append(tuple(a + d * f + nrm * rng.normal(0, jitter_frac) * np.hypot(*d)))
        out.append(tuple(b))
    return shapely.LineString(out)


def _bank_line(sign, offset_m, lon0=120.40, lon1=120.76):
    pts = []
    for lon in np.arange(lon0, lon1 + 1e-9, 0.005):
        x, y, t, hw = _river_frame(lon)
        nrm = np.array([-t[1], t[0]]) * sign
        pts.append((x + nrm[0] * (hw + offset_m), y + nrm[1] * (hw + offset_m)))
    return shapely.LineString(pts)


def make_exclusions(rng, geo):
    """All exclusion layers (EPSG:4549), plus the scenic areas (EPSG:4326, WGS84)."""
    out = {}
    prot = [
        (_blob_at(rng, lon, lat, a, rough=0.2), name, kind) for name, kind, lon, lat, a in PROTECTED
    ]
    out["protected_areas"] = gpd.GeoDataFrame(
        {"name": [p[1] for p in prot], "kind": [p[2] for p in prot]},
        geometry=[p[0] for p in prot],
        crs=METRIC_CRS,
    )
    lake = geo["qiandao"]
    if lake.geom_type == "MultiPolygon":
        lake = max(lake.geoms, key=lambda p: p.area)
    dw = [(lake, "Qiandao Lake (demo)")] + [
        (_blob_at(rng, lon, lat, a, rough=0.35, n_vert=32), name)
        for name, lon, lat, a in RESERVOIRS
    ]
    out["drinking_water"] = gpd.GeoDataFrame(
        {"name": [d[1] for d in dw]}, geometry=[d[0] for d in dw], crs=METRIC_CRS
    )
    red = [
        _blob_at(rng, lon, lat, a, rough=0.35, n_vert=36, aspect=rng.uniform(1.0, 2.0))
        for lon, lat, a in REDLINE
    ]
    out["ecological_redline"] = gpd.GeoDataFrame(
        {"name": [f"Ecological red line zone {i + 1} (demo)" for i in range(len(red))]},
        geometry=red,
        crs=METRIC_CRS,
    )
    lines, names, classes = [], [], []
    for name, cls, stops in ROADS:
        pts = [point_m(*(NODES[s] if isinstance(s, str) else s)) for s in stops]
        lines.append(_wiggly(rng, pts, 0.03 if cls == "expressway" else 0.05))
        names.append(name)
        classes.append(cls)
    ring = []
    cx, cy = point_m(120.17, 30.26)
    for a in np.linspace(0, 2 * np.pi, 37):
        r = 14_000 * (1 + 0.12 * np.sin(2 * a + 0.7))
        ring.append((cx + r * np.cos(a), cy + 0.85 * r * np.sin(a)))
    lines.append(shapely.LineString(ring))
    names.append("Hangzhou Ring Expressway (demo)")
    classes.append("expressway")
    out["roads"] = gpd.GeoDataFrame(
        {"name": names, "road_class": classes}, geometry=lines, crs=METRIC_CRS
    )
    lon, lat, length, width, bearing = AIRPORT
    ax, ay = point_m(lon, lat)
    apt = rectangles(
        np.array([ax]),
        np.array([ay]),
        np.array([length]),
        np.array([width]),
        np.array([90.0 - bearing]),
    )[0]
    out["airport"] = gpd.GeoDataFrame(
        {"name": ["Hangzhou Xiaoshan International Airport (demo)"]}, geometry=[apt], crs=METRIC_CRS
    )
    walls = [_bank_line(1, 1500.0), _bank_line(-1, 1500.0)]
    out["seawalls"] = gpd.GeoDataFrame(
        {"name": ["Qiantang north-bank seawall (demo)", "Qiantang south-bank seawall (demo)"]},
        geometry=walls,
        crs=METRIC_CRS,
    )
    rlon, rlat, _ = np.array(RIVER, float).T
    sel = (rlon >= 119.95) & (rlon <= 120.77)
    fairway = line_m(list(zip(rlon[sel], rlat[sel], strict=True)))
    out["navigation_channels"] = gpd.GeoDataFrame(
        {"name": ["Qiantang River fairway (demo)", "Grand Canal (demo)"]},
        geometry=[fairway, line_m(GRAND_CANAL)],
        crs=METRIC_CRS,
    )
    scen = []
    for name, kind, spec in SCENIC:
        g = poly_m(spec) if isinstance(spec[0], tuple) else _blob_at(rng, *spec, rough=0.2)
        scen.append((g, name, kind))
    out["scenic_wgs84"] = gpd.GeoDataFrame(
        {"name": [s[1] for s in scen], "kind": [s[2] for s in scen]},
        geometry=[s[0] for s in scen],
        crs=METRIC_CRS,
    ).to_crs("EPSG:4326")
    return out


def make_residential(rng, mudflats):
    """Villages and towns behind the seawalls, for wind-turbine noise setbacks."""
    geoms, names = [], []
    flats = shapely.union_all(mudflats.geometry.to_numpy())
    for bank, sign, lons in (
        ("south", -1, np.arange(120.44, 120.71, 0.03)),
        ("north", 1, np.arange(120.47, 120.71, 0.06)),
    ):
        for k, lon in enumerate(lons):
            x, y, t, hw = _river_frame(lon + rng.uniform(-0.005, 0.005))
            nrm = np.array([-t[1], t[0]]) * sign
            off = hw + 1500 + rng.uniform(400, 2500)
            g = blobs(
                rng,
                [x + nrm[0] * off],
                [y + nrm[1] * off],
                [rng.uniform(0.3, 1.5) * 1e6],
                n_vert=20,
                rough=0.25,
                aspect=[rng.uniform(1.0, 2.5)],
            )[0]
            if g.intersects(flats):
                continue
            geoms.append(g)
            names.append(f"Qiantang {bank}-bank village {k + 1} (demo)")
    return gpd.GeoDataFrame({"name": names}, geometry=geoms, crs=METRIC_CRS)


# ---------------------------------------------------------------------------------
# Wind resource (Global Wind Atlas layout) and land cover
# ---------------------------------------------------------------------------------
def make_wind(rng, estuary):
    """Mean wind speed and Weibull A, k at WIND_HEIGHTS_M on a lon/lat grid.

    Returns
    -------
    dict
        ``{(variable, height_m): float32 array}`` and the grid ``transform``.
    """
    lon0, lat0, lon1, lat1 = WIND_BOUNDS
    nx = int(round((lon1 - lon0) / WIND_RES_DEG))
    ny = int(round((lat1 - lat0) / WIND_RES_DEG))
    lon = lon0 + WIND_RES_DEG * (np.arange(nx) + 0.5)
    lat = lat1 - WIND_RES_DEG * (np.arange(ny) + 0.5)
    LON, LAT = np.meshgrid(lon, lat)
    x, y = to_m(LON.ravel(), LAT.ravel())
    shapely.prepare(estuary)
    dist = shapely.distance(estuary, shapely.points(x, y)).reshape(ny, nx)
    expo = np.exp(-dist / WIND_EXPOSURE_DECAY_M)
    east = np.clip((LON - 120.40) / 0.5, 0, 1)
    noise = fractal_field(rng, (ny, nx), 250.0, beta=3.0, smooth_m=1500, longest_m=40_000)
    v100 = (
        WIND_INLAND_100_M_S
        + WIND_ESTUARY_GAIN_M_S * expo
        + WIND_BAY_GAIN_M_S * expo * east
        + 0.08 * noise
    )
    k100 = WIND_K_INLAND + WIND_K_GAIN * expo + 0.02 * noise
    alpha = WIND_ALPHA_INLAND + (WIND_ALPHA_ESTUARY - WIND_ALPHA_INLAND) * expo
    out = {}
    for h in WIND_HEIGHTS_M:
        v = v100 * (h / 100.0) ** alpha
        k = k100 + 0.04 * (h - 100) / 50
        a = v / special.gamma(1 + 1 / k)
        out[("wind_speed", h)] = v.astype("float32")
        out[("weibull_k", h)] = k.astype("float32")
        out[("weibull_a", h)] = a.astype("float32")
    return out, from_origin(lon0, lat1, WIND_RES_DEG, WIND_RES_DEG)


def make_landcover(grid, hill_frac, dem, slope, layers, geo, water_extra):
    """ESA WorldCover class codes on the DEM grid, consistent with the layers."""
    transform, shape = grid["transform"], grid["shape"]

    def burn(arr, geoms, value, all_touched=False):
        geoms = [g for g in geoms if g is not None and not g.is_empty]
        if geoms:
            features.rasterize(
                [(g, value) for g in geoms], out=arr, transform=transform, all_touched=all_touched
            )

    lc = np.where(hill_frac > 0.5, 10, 40).astype("uint8")
    lc[(slope < 3.0) & (dem < 250)] = 40  # flat valley floors in the hills are farmed
    roofs = layers["rooftops"]
    cx = shapely.get_x(shapely.centroid(roofs.geometry.to_numpy()))
    cy = shapely.get_y(shapely.centroid(roofs.geometry.to_numpy()))
    col = ((cx - transform.c) / transform.a).astype(int)
    row = ((cy - transform.f) / transform.e).astype(int)
    count = np.zeros(shape, "float32")
    np.add.at(count, (row, col), 1)
    built = (count > 0) | (ndimage.uniform_filter(count, 5) > 0.15)
    lc[built] = 50
    lf = layers["landfills"]
    burn(lc, lf.geometry[lf.status == "closed"], 30)
    burn(lc, lf.geometry[lf.status != "closed"], 60)
    burn(lc, layers["mines"].geometry, 60)
    fo = layers["forest"]
    burn(lc, fo.geometry[fo.forest_type != "shrub"], 10)
    burn(lc, fo.geometry[fo.forest_type == "shrub"], 20)
    burn(lc, list(layers["ponds_m"].geometry) + water_extra, 80)
    burn(lc, [geo["river"], geo["qiandao"], geo["west_lake"]], 80, all_touched=True)
    burn(lc, layers["mudflats"].geometry, 90)
    return lc


# ---------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------
def write_gpkg(path, layers):
    """Write GeoDataFrames as layers of one GeoPackage (fixed timestamp)."""
    for name, gdf in layers.items():
        pyogrio.write_dataframe(
            gdf, path, layer=name, driver="GPKG", layer_options={"SPATIAL_INDEX": "NO"}
        )


def write_tif(path, arr, transform, crs, nodata, *, predictor):
    """Write a tiled, DEFLATE-compressed single-band GeoTIFF."""
    profile = {
        "driver": "GTiff",
        "height": arr.shape[0],
        "width": arr.shape[1],
        "count": 1,
        "dtype": arr.dtype.name,
        "crs": crs,
        "transform": transform,
        "nodata": nodata,
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
        "compress": "deflate",
        "predictor": predictor,
        "zlevel": 9,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(arr, 1)


def build(out: Path) -> dict:
    """Generate every demo file into the (new, empty) folder ``out``; return a summary."""
    t0 = time.perf_counter()
    root = np.random.SeedSequence(SEED)
    (s_dem, s_roof, s_vil, s_pond, s_mine, s_lf, s_for, s_mud, s_exc, s_res, s_wind, s_agri) = (
        np.random.default_rng(s) for s in root.spawn(12)
    )
    # later layers take later children, so the earlier layers keep their content
    s_sew = np.random.default_rng(root.spawn(1)[0])
    districts = read_districts(BOUNDARIES, crs="GCJ-02")
    city = shapely.union_all(districts.geometry.to_numpy())
    city_in = city.buffer(-INSIDE_MARGIN_M)
    shapely.prepare(city_in)

    minx, miny, maxx, maxy = city.bounds
    x0 = np.floor((minx - DEM_MARGIN_M) / DEM_RES_M) * DEM_RES_M
    y1 = np.ceil((maxy + DEM_MARGIN_M) / DEM_RES_M) * DEM_RES_M
    nx = int(np.ceil((maxx + DEM_MARGIN_M - x0) / DEM_RES_M))
    ny = int(np.ceil((y1 - (miny - DEM_MARGIN_M)) / DEM_RES_M))
    grid = {"transform": from_origin(x0, y1, DEM_RES_M, DEM_RES_M), "shape": (ny, nx)}
    dem, geo = make_terrain(s_dem, city, grid)
    samp = Sampler(dem, slope_deg(dem), grid["transform"])
    logger.info("terrain done in %.1f s", time.perf_counter() - t0)

    exc = make_exclusions(s_exc, geo)
    mudflats = make_mudflats(s_mud, city_in)
    canal = line_m(GRAND_CANAL).buffer(40)
    water = [geo["river"], geo["qiandao"], geo["west_lake"], canal, *exc["drinking_water"].geometry]
    airport = exc["airport"].geometry.iloc[0]
    base_obstacles = water + [airport, *mudflats.geometry]
    villages = make_villages(s_vil, districts, samp, base_obstacles, city_in)
    landfills = make_landfills(s_lf, city_in, base_obstacles)
    rooftops = make_rooftops(
        s_roof, city_in, samp, base_obstacles + list(landfills.geometry), villages
    )
    roofs = list(rooftops.geometry)
    ponds_m = make_ponds(
        s_pond, city_in, samp, base_obstacles + roofs + list(landfills.geometry), districts
    )
    taken = base_obstacles + roofs + list(landfills.geometry) + list(ponds_m.geometry)
    mines = make_mines(s_mine, districts, city_in, samp, taken)
    reserve = exc["protected_areas"].geometry.iloc[0]
    forest = make_forest(s_for, districts, city_in, samp, taken + list(mines.geometry), reserve)
    residential = make_residential(s_res, mudflats)
    agri = make_agri(s_agri, city_in, samp, taken + list(mines.geometry) + list(forest.geometry))
    sewage = make_sewage(
        s_sew, city_in, taken + list(mines.geometry) + list(forest.geometry) + list(agri.geometry)
    )
    logger.info("vector layers done in %.1f s", time.perf_counter() - t0)

    ponds = ponds_m.to_crs("EPSG:4326")
    sites = {
        "rooftops": rooftops,
        "facade_buildings": facade_buildings(rooftops),
        "ponds": ponds,
        "mines": mines,
        "landfills": landfills,
        "forest": forest,
        "mudflats": mudflats,
        "agri": agri,
        "sewage": sewage,
    }
    exclusions = {
        k: exc[k]
        for k in (
            "protected_areas",
            "drinking_water",
            "ecological_redline",
            "roads",
            "airport",
            "seawalls",
            "navigation_channels",
        )
    }
    exclusions["residential"] = residential
    write_gpkg(out / "demo_sites.gpkg", sites)
    write_gpkg(out / "demo_exclusions.gpkg", exclusions)
    parks = make_parks(rooftops, city_in)
    write_gpkg(out / "demo_zones.gpkg", {"parks": parks})
    scenic_gcj = wgs84_to_gcj02_gdf(exc["scenic_wgs84"])
    fc = json.loads(scenic_gcj.to_json(drop_id=True))
    fc.pop("crs", None)
    fc = {"type": "FeatureCollection", "name": "scenic_areas_gcj02", "features": fc["features"]}
    text = json.dumps(fc, ensure_ascii=False, separators=(",", ":"))
    (out / "scenic_areas_gcj02.geojson").write_text(text + "\n", encoding="utf-8")

    dem_out = np.where(np.isfinite(dem), dem, DEM_NODATA).astype("float32")
    write_tif(out / "dem_100m.tif", dem_out, grid["transform"], METRIC_CRS, DEM_NODATA, predictor=3)
    hill = ndimage.gaussian_filter(
        1.0
        - features.rasterize(
            [(poly_m(PLAIN), 1)],
            out_shape=grid["shape"],
            transform=grid["transform"],
            dtype="uint8",
        ),
        5,
    )
    lc = make_landcover(
        grid,
        hill,
        dem,
        samp.slope,
        {**sites, "ponds_m": ponds_m},
        geo,
        list(exc["drinking_water"].geometry) + [canal],
    )
    write_tif(out / "landcover_100m.tif", lc, grid["transform"], METRIC_CRS, 0, predictor=2)

    estuary = shapely.union_all(
        [
            geo["river"].intersection(shapely.box(point_m(120.30, 29.0)[0], 0, 1e7, 1e8)),
            *mudflats.geometry,
        ]
    )
    wind, wtf = make_wind(s_wind, estuary)
    (out / "wind").mkdir()
    for (var, h), arr in wind.items():
        write_tif(out / "wind" / f"{var}_{h}m.tif", arr, wtf, "EPSG:4326", -9999.0, predictor=3)
    elapsed = time.perf_counter() - t0
    summary = {
        "sites": sites,
        "exclusions": exclusions,
        "parks": parks,
        "scenic": scenic_gcj,
        "dem": dem_out,
        "landcover": lc,
        "wind": wind,
        "grid": grid,
        "elapsed_s": elapsed,
    }
    write_readme(out, summary)
    return summary


def _fmt_range(values, fmt="{:,.1f}"):
    return f"{fmt.format(np.min(values))} to {fmt.format(np.max(values))}"


def write_readme(out: Path, s: dict) -> None:
    """Write README.md describing every generated layer, with its counts."""
    sites, exc = s["sites"], s["exclusions"]
    ha = {k: (g.to_crs(METRIC_CRS).area / 1e4).to_numpy() for k, g in sites.items()}
    roofs = sites["rooftops"]
    roof_area = roofs.area.to_numpy()
    use_counts = roofs["use"].value_counts().to_dict()
    flat_frac = float((roofs.roof_type == "flat").mean())
    dem = s["dem"]
    v100 = s["wind"][("wind_speed", 100)]
    k100 = s["wind"][("weibull_k", 100)]
    lc_codes = {
        int(c): int(n) for c, n in zip(*np.unique(s["landcover"], return_counts=True), strict=True)
    }
    ny, nx = dem.shape
    t = s["grid"]["transform"]
    excl_lines = "\n".join(
        f"| `{k}` | {g.geom_type.iloc[0]} | {len(g)} | "
        f"{', '.join('`' + c + '`' for c in g.columns if c != 'geometry')} |"
        for k, g in exc.items()
    )
    columns = {
        "rooftops": "`building_id`, `height_m`, `floors`, `roof_type`, "
        "`roof_pitch_deg`, `use`, `name`",
        "facade_buildings": "as `rooftops` (the rooftops of Qianjiang New City, for the "
        "BIPV facade category)",
        "ponds": "`pond_id`, `pond_type`, `water_use`",
        "mines": "`mine_id`, `name`, `status`, `mineral`",
        "landfills": "`landfill_id`, `name`, `status`, `closed_year`, `cap_area_m2`",
        "forest": "`forest_id`, `forest_class`, `forest_type`, `shrub_cover_frac`",
        "mudflats": "`mudflat_id`, `name`",
        "agri": "`agri_id`, `land_use`",
        "sewage": "`sewage_id`, `plant`, `plant_zh`, `kind`, `basin_type`",
    }
    rows = []
    for name, gdf in sites.items():
        crs = f"EPSG:{gdf.crs.to_epsg()}"
        if name == "mudflats":
            rng_txt = _fmt_range(ha[name] / 100, "{:.2f}") + " km²"
        elif name in ("rooftops", "facade_buildings"):
            rng_txt = _fmt_range(gdf.area.to_numpy(), "{:,.0f}") + " m²"
        else:
            rng_txt = _fmt_range(ha[name], "{:.2f}" if name == "ponds" else "{:.1f}") + " ha"
        crs = f"**{crs}**" if name == "ponds" else crs
        rows.append(f"| `{name}` | {crs} | {len(gdf):,} | {rng_txt} | {columns[name]} |")
    site_rows = "\n".join(rows)
    text = f"""\
# SYNTHETIC demo data: every layer in this folder is made up, not survey data

Every layer in this folder is **SYNTHETIC**. The script
`census/demo/generate.py` generated all of it from random numbers with a fixed seed.
It is **not survey data**, not OpenStreetMap, not satellite data, and not any official
data set. Buildings, ponds, mines, landfills, forest patches, mudflats, protected areas,
roads, terrain, land cover and wind are all invented. They are placed where the real
things roughly are, inside the real 2021 district boundaries
(`data/raw/boundaries/hangzhou_districts_2021_gcj02.geojson`), so that the Hangzhou demo
gives plausible numbers. Do not use any figure derived from them for planning. Every
named feature carries "(demo)" in its name. Every report built from these layers must
say it is synthetic.

## Regenerate

```
python -m census.demo.generate --out data/raw/demo --overwrite
```

- Seed: `SEED = {SEED}` (numpy `SeedSequence`; each layer has its own child stream).
- The output is deterministic: every run writes the same content. GeoPackages carry the
  fixed timestamp {GPKG_DATE}.
- The script builds a temporary folder next to the target and then renames it, so the
  swap is atomic. It refuses to replace an existing folder unless you pass `--overwrite`.
- Generation takes about 10-15 s on a laptop.
- The tunable numbers sit at the top of the script as named constants, each with a
  comment.

Read with census's usual readers. `ponds` is stored in EPSG:4326 on purpose, to exercise
reprojection. `scenic_areas_gcj02.geojson` is GCJ-02 and has no `crs` member: declare
`crs = "GCJ-02"` for it, as the default config does.

## Site layers: `demo_sites.gpkg` (GeoPackage, one Polygon layer each)

All site polygons are valid and lie at least {INSIDE_MARGIN_M:.0f} m inside the city outline,
which is the union of the 13 districts.

| layer | CRS | count | area range | columns |
|---|---|---|---|---|
{site_rows}

### `rooftops`: building footprints

Rotated rectangles; about {L_SHAPE_FRAC:.0%} of homes, shops and public buildings are
L-shaped.

| column | type | unit | values |
|---|---|---|---|
| `building_id` | text, unique | - | `B000001`, ... |
| `height_m` | float | m | {_fmt_range(roofs.height_m)} |
| `floors` | integer | - | {roofs.floors.min()} to {roofs.floors.max()} |
| `roof_type` | text | - | `flat` ({flat_frac:.0%}) or `pitched` |
| `roof_pitch_deg` | float | deg | 0 for flat; 15 to 35 for pitched |
| `use` | text | - | {", ".join(f"`{k}` ({v:,})" for k, v in sorted(use_counts.items()))} |
| `name` | text or null | - | null for about 99 %; a few end in "(demo)" |

Footprints: residential {_fmt_range(roof_area[roofs.use == "residential"], "{:,.0f}")} m²;
industrial and logistics
{_fmt_range(roof_area[roofs.use.isin(["industrial", "logistics"])], "{:,.0f}")} m².
Buildings do not overlap each other.

Where they imitate real places:
- The dense centre: Wulin, Gongshu, Wensan (Xihu), Qianjiang New Town, Jianggan
  (Shangcheng) and Binjiang. Roofs there are mostly flat.
- Urban clusters: Xiaoshan, Future Sci-Tech City and Liangzhu (Yuhang), Linping, and
  Xiasha (Qiantang).
- Small towns: Fuyang, Lin'an, Tonglu, Jiande (Xin'anjiang and Meicheng), and
  Qiandaohu (Chun'an). There are also {N_VILLAGES} or so villages on gentle ground.
  Roofs here are more often pitched.
- Industrial and logistics parks with large flat roofs: Xiasha and Dajiangdong (Qiantang),
  Xiaoshan ETDZ, Xiaoshan airport logistics, Tonglu logistics parks (two), Yuhang,
  Linping, Yinhu (Fuyang), Jiande and Qingshanhu (Lin'an).
- A few hundred buildings inside the West Lake scenic area: Longjing, Lingyin, Maojiabu
  and Hupao. They give the heritage exclusion something to exclude.
- Awkward case: `Hubin Building (demo)` (`B000001`) straddles the east boundary of the
  West Lake scenic area.

### `ponds`: fish and pit ponds (irregular smooth polygons; stored in EPSG:4326)

| column | type | values |
|---|---|---|
| `pond_id` | text, unique | `P00001`, ... |
| `pond_type` | text | `fish`, `pit` |
| `water_use` | text | `aquaculture`, `idle`, `drinking_water`, `scenic` (Xixi wetland) |

Areas follow a log-normal distribution with a median of {POND_MEDIAN_HA} ha and a long
tail: {int((ha["ponds"] < 1).sum())} ponds are smaller than 1 ha and
{int((ha["ponds"] > 50).sum())} are larger than 50 ha.

Where they imitate real places: the Yuhang, Linping, Xiaoshan and Qiantang (Dajiangdong)
plains, plus Xixi wetland.

Awkward case: `P00001` straddles the border between Yuhang and Linping.

### `mines`: quarries on hillsides

Each quarry's centre has a DEM slope of {MINE_SLOPE_DEG[0]:.0f} to {MINE_SLOPE_DEG[1]:.0f}°.

- Columns: `mine_id` (text), `name` (text, "(demo)"), `status`
  (`abandoned`, `closed`, `active`), `mineral` (`limestone`, `granite`, `clay`, `tuff`).
- Districts: Fuyang, Jiande and Tonglu, with some in Lin'an and Yuhang.

### `landfills`

| column | type | unit | values |
|---|---|---|---|
| `landfill_id` | text | - | `L01`, ... |
| `name` | text | - | `L01` is `Tianziling (demo)` at 30.35 N, 120.18 E (closed) |
| `status` | text | - | `closed`, `operating` |
| `closed_year` | integer or null | year | null when operating |
| `cap_area_m2` | float | m² | 70 to 95 % of the polygon area |

### `forest`: mountain forest patches on hillsides

Each patch's centre has a slope of at least {FOREST_MIN_SLOPE_DEG:.0f}° and an elevation of at
least {FOREST_MIN_ELEV_M:.0f} m.

- Columns: `forest_id` (text), `forest_class` (`commercial`,
  `ecological_public_welfare`, `nature_reserve`), `forest_type` (`tree`, `bamboo`,
  `shrub`; drawn with shares {FOREST_TYPE_SHARES}) and `shrub_cover_frac` (shrub cover
  0-1 of shrub-land patches, uniform in {SHRUB_COVER_RANGE}; empty otherwise).
  `nature_reserve` marks the patches that touch the Tianmu Mountain reserve.
- Districts: Lin'an (more of them around Tianmu Mountain), Chun'an, Jiande, Tonglu and
  Fuyang.

### `mudflats`: tidal flats along both banks of the Qiantang estuary

- Columns: `mudflat_id` (text) and `name` (text).
- They are elongated along the river and lie between about 120.43 and 120.71 E, in the
  Qiantang district. They are clipped to the city outline.

### `agri`: greenhouses, facility farm land and cultivated plots on the plains

- Columns: `agri_id` (text) and `land_use` (`greenhouse`, `facility_agriculture`,
  `cultivated`; drawn with shares {AGRI_LAND_USE}).
- Rectangular plots of {AGRI_WIDTH_M[0]:.0f}-{AGRI_WIDTH_M[1]:.0f} m by
  {AGRI_LENGTH_M[0]:.0f}-{AGRI_LENGTH_M[1]:.0f} m on flat ground, long axis near east-west.
- Districts: the vegetable and flower areas of Linping, Yuhang, Xiaoshan, Qiantang,
  Fuyang and Tonglu. The agri-PV rules keep arrays off the `cultivated` plots
  (自然资办发〔2023〕12号).

### `sewage`: sewage-treatment plants and their basins (plan task 27)

- Columns: `sewage_id` (text; `Wnn` a plant, `Wnn-mm` its basins), `plant`, `plant_zh`,
  `kind` (`plant`: the plant's outline, `basin`: one basin) and `basin_type` (`aeration`,
  `clarifier`, `digester`; empty for outlines).
- {len(SEWAGE_PLANTS)} plants near where Hangzhou's large plants are (Qige, Sibao,
  Linping, Xiaoshan, Liangzhu, Fuyang, Tonglu), each moved until clear of the other layers;
  rectangular aeration tanks, round clarifiers and, in the larger plants, a digester
  (a closed tank that carries no PV cover). The last plant is mapped as an outline only.

## Exclusion layers: `demo_exclusions.gpkg` (all EPSG:4549)

| layer | geometry | count | columns |
|---|---|---|---|
{excl_lines}

- `protected_areas`: Tianmu Mountain National Nature Reserve (30.33 N, 119.43 E),
  Xixi National Wetland Park (30.27 N, 120.07 E), Qingliangfeng, and forest parks in the
  western hills. `kind` is one of `nature_reserve`, `wetland_park`, `forest_park`.
- `drinking_water`: Qiandao Lake (a many-armed lake inside 29.55-29.75 N,
  118.70-119.20 E), Qingshan Reservoir and Siling Reservoir.
- `ecological_redline`: large zones in the western hills. They overlap part of the
  forest patches.
- `roads`: the expressways, trunk and primary roads between district centres, and a ring
  expressway. `road_class` is one of `expressway`, `trunk`, `primary`.
- `airport`: a 4.2 km × 2.0 km rectangle at Hangzhou Xiaoshan International Airport
  (30.229 N, 120.434 E), with its long axis at 068°.
- `seawalls`: one line along each bank of the estuary, on the landward side of the
  mudflats.
- `navigation_channels`: the Qiantang River fairway from Fuyang to the bay, and the
  Grand Canal through the city.
- `residential`: villages behind the seawalls, for wind-turbine noise setbacks.

## Zones: `demo_zones.gpkg` (EPSG:4549)

- `parks`: {len(s["parks"])} industrial and logistics park outlines (Polygon), for roll-ups
  by zone (`--zones data/raw/demo/demo_zones.gpkg:parks --zone-field name`). Each is the
  convex hull of its cluster's industrial and logistics roofs grown by
  {PARK_BUFFER_M:.0f} m. Columns: `name` ("... park (demo)"), `name_zh` (Chinese name with
  （示例）) and `kind` (`industrial`, `logistics`). They include the Tonglu logistics
  parks and the Qiantang (Xiasha, Dajiangdong) and Xiaoshan (ETDZ, airport) parks.
- The rooftops of `use` `industrial` and `logistics` are screened as category
  `park_rooftop` in the default configuration (`[layers.rooftops] category_field`).

## Scenic areas: `scenic_areas_gcj02.geojson` (**GCJ-02**, no `crs` member)

- The file was written as if traced from Amap. The polygons were drawn in WGS84 and
  converted with `census.crs.wgs84_to_gcj02_gdf`. Declare `crs = "GCJ-02"` when you
  read it.
- Columns: `name` and `kind` (`heritage` or `scenic`).
- {len(s["scenic"])} Polygons: the West Lake Scenic Area (heritage). It covers about 6 km ×
  6 km around 30.245 N, 120.145 E: the lake and the hills west of it. The other two are
  Xianghu (Xiaoshan) and Fuchun River Yanziling (Tonglu).

## Rasters

### `dem_100m.tif`: elevation [m]

- Format: EPSG:4549, 100 m cells, {nx} × {ny} cells, float32, nodata {DEM_NODATA:g},
  DEFLATE-compressed, 256 × 256 tiles.
- Origin: ({t.c:.0f}, {t.f:.0f}). The grid covers the city's bounding box plus
  {DEM_MARGIN_M / 1000:.0f} km.
- Range: {dem.min():.1f} to {dem.max():.1f} m.
- Shape: fractal relief made by spectral synthesis, weighted by a smoothed hill mask.
  - The north-east (Hangjiahu and Xiaoshao plains) is a flat plain,
    {PLAIN_LEVEL_M[0]}-{PLAIN_LEVEL_M[1]} m high.
  - Hills and mountains rise in the west and south-west. Peaks reach over 1,000 m near
    Tianmu Mountain, and 500-1,000 m in Chun'an, Jiande, Tonglu and Fuyang. The hills
    round West Lake are lower.
  - The Fuchun-Qiantang valley, the town basins, West Lake ({WEST_LAKE_LEVEL_M:g} m) and
    Qiandao Lake ({QIANDAO_LEVEL_M:g} m) are low and flat.
  - Hillside slopes are mostly 5-30°.

### `landcover_100m.tif`: ESA WorldCover class codes

- Format: the same grid as the DEM, uint8, nodata 0.
- Classes:
  - 10 tree cover: the hills and the tree and bamboo forest patches.
  - 20 shrubland: the shrub-land forest patches.
  - 30 grassland: capped landfills.
  - 40 cropland: the rest of the plain and flat valley floors in the hills.
  - 50 built-up: where rooftops cluster.
  - 60 bare: mines and operating landfills.
  - 80 water: ponds, rivers, lakes and reservoirs.
  - 90 herbaceous wetland: the mudflats.
- Cell counts: {lc_codes}.

### `wind/`: wind resource in the form of the Global Wind Atlas GeoTIFFs

- Format: EPSG:4326, {WIND_RES_DEG}° cells (about 250 m), covering
  {WIND_BOUNDS[0]}-{WIND_BOUNDS[2]} E and {WIND_BOUNDS[1]}-{WIND_BOUNDS[3]} N, float32,
  nodata -9999 (no cell is nodata).
- Files, for h in {", ".join(str(h) for h in WIND_HEIGHTS_M)}:
  - `wind_speed_{{h}}m.tif`: long-term mean wind speed [m s⁻¹].
  - `weibull_a_{{h}}m.tif`: Weibull scale A [m s⁻¹].
  - `weibull_k_{{h}}m.tif`: Weibull shape k [-].
- Mean speed at 100 m: {v100.min():.2f} to {v100.max():.2f} m s⁻¹. It is highest over the
  estuary, the mudflats and towards Hangzhou Bay, and lowest inland.
- k at 100 m: {k100.min():.2f} to {k100.max():.2f}.
- The files are consistent with each other:
  - At every height, mean = A·Γ(1 + 1/k); A was computed from the mean and k.
  - Between heights, the mean follows a power law. The exponent α is about
    {WIND_ALPHA_ESTUARY} over the flats and {WIND_ALPHA_INLAND} inland.
  - k changes by 0.04 per 50 m of height.
"""
    (out / "README.md").write_text(text, encoding="utf-8")


def write_demo(out: Path, *, overwrite: bool = False) -> dict:
    """Generate the demo layers into ``out``, atomically (a temporary folder renamed).

    Parameters
    ----------
    out : pathlib.Path
        Folder to create.
    overwrite : bool, default False
        Replace ``out`` if it exists; otherwise an existing ``out`` is left as it is
        (another process may just have written it) and nothing is generated.

    Returns
    -------
    dict
        ``elapsed_s`` and the site layers (``sites``); empty when nothing was written.
    """
    out = Path(out).resolve()
    if out.exists() and not overwrite:
        return {}
    previous = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": GPKG_DATE})
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.tmp-{os.getpid()}"
    old = out.parent / f".{out.name}.old-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        summary = build(tmp)
        if out.exists():
            if not overwrite:  # written by another process meanwhile: keep theirs
                shutil.rmtree(tmp, ignore_errors=True)
                return summary
            out.rename(old)
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        # the fixed GeoPackage date is for the demo's identical bytes only
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": previous})
    shutil.rmtree(old, ignore_errors=True)
    return summary


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point (``python -m census.demo.generate``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=None, help="output folder (default: census.paths.demo_dir())"
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="replace the output folder if it exists"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("pyogrio").setLevel(logging.WARNING)
    out = (args.out or demo_dir()).resolve()
    if out.exists() and not args.overwrite:
        print(f"{out} exists; pass --overwrite to replace it.", file=sys.stderr)
        return 1
    summary = write_demo(out, overwrite=args.overwrite)
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    logger.info("wrote %s (%.1f MB) in %.1f s", out, size / 1e6, summary["elapsed_s"])
    for name, gdf in summary["sites"].items():
        logger.info("  %-10s %6d", name, len(gdf))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
