"""Tests of census.crs: GCJ-02 against an independent implementation, CRS guards."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from numpy.testing import assert_allclose

from census.crs import (
    METRIC_CRS,
    check_zone,
    gcj02_to_wgs84,
    gcj02_to_wgs84_gdf,
    require_crs,
    require_projected,
    wgs84_to_gcj02,
    wgs84_to_gcj02_gdf,
)
from census.exceptions import CRSError, MissingCRSError

prcoords = pytest.importorskip("prcoords")

# Hangzhou's extent (SOURCES.md: lon 118.34-120.72, lat 29.19-30.57) with a margin.
RNG = np.random.default_rng(20261124)
LON = RNG.uniform(118.2, 120.9, 2000)
LAT = RNG.uniform(29.0, 30.7, 2000)
METRES_PER_DEG_LAT = 110_900.0  # at 30 N (WGS84 meridian arc), for tolerances in metres


def test_forward_matches_prcoords():
    # prcoords 1.0 is an independent implementation of the same published formula;
    # float64 arithmetic in a different order agrees to ~1e-12 deg.
    ref = np.array([prcoords.wgs_gcj((lat, lon)) for lon, lat in zip(LON, LAT, strict=True)])
    lon_g, lat_g = wgs84_to_gcj02(LON, LAT)
    assert_allclose(lon_g, ref[:, 1], rtol=0, atol=1e-10)
    assert_allclose(lat_g, ref[:, 0], rtol=0, atol=1e-10)


def test_shift_size_in_hangzhou():
    # SOURCES.md: in Hangzhou GCJ-02 minus WGS84 is about +0.0047 deg lon and -0.0024 deg lat.
    lon_g, lat_g = wgs84_to_gcj02(120.17, 30.23)
    assert_allclose(lon_g - 120.17, 0.0047, atol=0.0006)
    assert_allclose(lat_g - 30.23, -0.0024, atol=0.0004)


def test_inverse_under_half_a_metre():
    lon_g, lat_g = wgs84_to_gcj02(LON, LAT)
    lon_w, lat_w = gcj02_to_wgs84(lon_g, lat_g)
    err_m = np.hypot(
        (lon_w - LON) * METRES_PER_DEG_LAT * np.cos(np.radians(LAT)),
        (lat_w - LAT) * METRES_PER_DEG_LAT,
    )
    assert err_m.max() < 0.5
    assert err_m.max() < 1e-3  # the iteration actually reaches millimetres


def test_inverse_agrees_with_prcoords_exact_inverse():
    # prcoords.gcj_wgs_bored iterates the same way; both must land on the same WGS84 point
    lon_g, lat_g = wgs84_to_gcj02(LON[:300], LAT[:300])
    ref = np.array([prcoords.gcj_wgs_bored((la, lo)) for lo, la in zip(lon_g, lat_g, strict=True)])
    lon_w, lat_w = gcj02_to_wgs84(lon_g, lat_g)
    assert_allclose(lon_w, ref[:, 1], atol=1e-7)  # 1e-7 deg ~ 1 cm
    assert_allclose(lat_w, ref[:, 0], atol=1e-7)


def test_outside_china_unshifted():
    lon = np.array([2.35, -74.0, 151.2])  # Paris, New York, Sydney
    lat = np.array([48.85, 40.7, -33.9])
    lon_g, lat_g = wgs84_to_gcj02(lon, lat)
    assert_allclose(lon_g, lon, rtol=0, atol=0)
    assert_allclose(lat_g, lat, rtol=0, atol=0)
    lon_w, lat_w = gcj02_to_wgs84(lon, lat)
    assert_allclose(lon_w, lon, rtol=0, atol=0)


@pytest.mark.parametrize(
    "geom",
    [
        shapely.Point(120.1, 30.2),
        shapely.LineString([(120.1, 30.2), (120.2, 30.3)]),
        shapely.box(120.1, 30.2, 120.2, 30.3),
        shapely.MultiPolygon(
            [shapely.box(120.1, 30.2, 120.2, 30.3), shapely.box(119.0, 29.5, 119.1, 29.6)]
        ),
        shapely.GeometryCollection([shapely.Point(120.0, 30.0), shapely.box(119, 29, 119.1, 29.1)]),
    ],
)
def test_gdf_round_trip_all_geometry_types(geom):
    gdf = gpd.GeoDataFrame({"name": ["x"]}, geometry=[geom], crs="EPSG:4326")
    there = wgs84_to_gcj02_gdf(gdf)
    back = gcj02_to_wgs84_gdf(there)
    assert back.crs == "EPSG:4326"
    assert back.geometry.iloc[0].geom_type == geom.geom_type
    a = shapely.get_coordinates(back.geometry.values)
    b = shapely.get_coordinates(gdf.geometry.values)
    assert_allclose(a, b, atol=1e-8)  # ~1 mm
    # and the shift really happened
    assert np.abs(shapely.get_coordinates(there.geometry.values) - b).max() > 1e-3


def test_gdf_matches_pointwise():
    pts = gpd.GeoSeries(gpd.points_from_xy(LON[:50], LAT[:50]), crs="EPSG:4326")
    conv = gcj02_to_wgs84_gdf(pts)
    lon_w, lat_w = gcj02_to_wgs84(LON[:50], LAT[:50])
    assert_allclose(conv.x.to_numpy(), lon_w, rtol=0, atol=0)
    assert_allclose(conv.y.to_numpy(), lat_w, rtol=0, atol=0)


def test_missing_crs_message_says_how_to_fix():
    gdf = gpd.GeoDataFrame(geometry=[shapely.Point(0, 0)])
    with pytest.raises(MissingCRSError, match="set_crs") as info:
        require_crs(gdf, layer="ponds", path="ponds.shp")
    assert "ponds" in str(info.value) and "GCJ-02" in str(info.value)


def test_require_projected_refuses_degrees():
    gdf = gpd.GeoDataFrame(geometry=[shapely.Point(120, 30)], crs="EPSG:4326")
    with pytest.raises(CRSError, match="to_crs"):
        require_projected(gdf, layer="ponds")
    assert require_projected(gdf.to_crs(METRIC_CRS)).to_epsg() == 4549


def test_square_area_in_metric_crs():
    # a 100 m x 100 m square in EPSG:4549 has area 10,000 m2 exactly
    sq = gpd.GeoSeries([shapely.box(500_000, 3_340_000, 500_100, 3_340_100)], crs=METRIC_CRS)
    assert_allclose(sq.area.iloc[0], 10_000.0, rtol=1e-12)


def test_metric_round_trip():
    pts = gpd.GeoSeries(gpd.points_from_xy(LON[:100], LAT[:100]), crs="EPSG:4326")
    back = pts.to_crs(METRIC_CRS).to_crs("EPSG:4326")
    assert_allclose(back.x, pts.x, atol=1e-9)
    assert_allclose(back.y, pts.y, atol=1e-9)


def test_zone_guard():
    inside = gpd.GeoSeries(
        [shapely.Point(118.35, 29.5), shapely.Point(120.7, 30.5)], crs="EPSG:4326"
    )
    check_zone(inside)  # Hangzhou's western tip is accepted
    beijing = gpd.GeoSeries([shapely.Point(116.4, 39.9)], crs="EPSG:4326")
    with pytest.raises(CRSError, match="metric_crs"):
        check_zone(beijing, layer="rooftops")
