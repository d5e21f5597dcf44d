"""Tests of census.wind.layout: turbine grid inside sites, prevailing direction."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from scipy.spatial.distance import pdist

from census.exceptions import CRSError, MissingCRSError, SchemaError, WeatherError
from census.settings.wind import LayoutConfig
from census.wind.layout import (
    layout_turbines,
    prevailing_direction_deg,
    resolve_prevailing_direction_deg,
)

X0, Y0 = 520_000.0, 3_350_000.0  # EPSG:4549 metres, near the Qiantang estuary
ROTOR_M = 126.0


def _sites() -> gpd.GeoDataFrame:
    l_shape = shapely.union(
        shapely.box(X0, Y0, X0 + 6000, Y0 + 1500), shapely.box(X0, Y0, X0 + 1500, Y0 + 5000)
    )
    return gpd.GeoDataFrame(
        {
            "site_id": ["MF1", "MF2", "MF3", "MF4"],
            "eligible": [True, True, False, True],
            "technology": ["wind", "wind", "wind", "pv_ground"],
        },
        geometry=[
            l_shape,
            shapely.Point(X0 + 10_000, Y0).buffer(1800),
            shapely.box(X0 + 20_000, Y0, X0 + 25_000, Y0 + 5000),
            shapely.box(X0 + 30_000, Y0, X0 + 35_000, Y0 + 5000),
        ],
        crs="EPSG:4549",
    )


@pytest.mark.parametrize("direction", [0.0, 30.0, 60.0, 135.0, 247.5])
def test_spacing_and_containment(direction):
    sites = _sites()
    along, across = 8.0, 5.0
    turbines = layout_turbines(
        sites,
        rotor_diameter_m=ROTOR_M,
        spacing_along_d=along,
        spacing_across_d=across,
        prevailing_direction_deg=direction,
    )
    assert turbines.crs == sites.crs
    assert list(turbines.columns) == ["site_id", "turbine_id", "geometry"]
    assert set(turbines["site_id"]) == {"MF1", "MF2"}  # MF3 ineligible, MF4 not wind
    assert turbines["turbine_id"].is_unique
    for site_id, group in turbines.groupby("site_id"):
        poly = sites.set_index("site_id").geometry[site_id]
        assert shapely.contains_xy(poly, group.geometry.x, group.geometry.y).all()
        xy = np.column_stack([group.geometry.x, group.geometry.y])
        # lattice: nearest neighbours are `across` D apart; 1e-6 m for float rounding
        assert pdist(xy).min() >= across * ROTOR_M - 1e-6


def test_rows_run_across_the_wind():
    """Wind from the north: turbines in a row share y, rows are 8 D apart in y."""
    sites = gpd.GeoDataFrame(
        {"site_id": ["A"], "eligible": [True]},
        geometry=[shapely.box(0, 0, 5000, 5000)],
        crs="EPSG:4549",
    )
    t = layout_turbines(
        sites,
        rotor_diameter_m=100.0,
        spacing_along_d=8,
        spacing_across_d=4,
        prevailing_direction_deg=0.0,
    )
    ys = np.unique(np.round(t.geometry.y.to_numpy(), 6))
    xs = np.unique(np.round(t.geometry.x.to_numpy(), 6))
    np.testing.assert_allclose(np.diff(ys), 800.0, rtol=1e-9)
    np.testing.assert_allclose(np.diff(xs), 400.0, rtol=1e-9)
    # 5000 m / 800 m -> at most 7 rows; 5000 m / 400 m -> at most 13 columns (interior)
    assert len(t) == 7 * 13


def test_small_site_gets_no_turbine_and_empty_result_keeps_schema():
    sites = gpd.GeoDataFrame(
        {"site_id": ["tiny"], "eligible": [True]},
        geometry=[shapely.box(0, 0, 10, 10)],
        crs="EPSG:4549",
    )
    t = layout_turbines(
        sites,
        rotor_diameter_m=126,
        spacing_along_d=8,
        spacing_across_d=5,
        prevailing_direction_deg=90,
    )
    assert len(t) <= 1
    empty = layout_turbines(
        sites.iloc[:0],
        rotor_diameter_m=126,
        spacing_along_d=8,
        spacing_across_d=5,
        prevailing_direction_deg=90,
    )
    assert list(empty.columns) == ["site_id", "turbine_id", "geometry"] and len(empty) == 0


def test_crs_errors():
    sites = _sites()
    kw = dict(
        rotor_diameter_m=126, spacing_along_d=8, spacing_across_d=5, prevailing_direction_deg=0
    )
    with pytest.raises(CRSError, match=r'to_crs\("EPSG:4549"\)'):
        layout_turbines(sites.to_crs("EPSG:4326"), **kw)
    with pytest.raises(MissingCRSError, match="set_crs"):
        layout_turbines(sites.set_crs(None, allow_override=True), **kw)
    with pytest.raises(SchemaError, match="eligible"):
        layout_turbines(sites.drop(columns="eligible"), **kw)
    with pytest.raises(ValueError, match="spacing_across_d"):
        layout_turbines(sites, **{**kw, "spacing_across_d": 0})


def test_prevailing_direction_energy_weighted():
    # many light winds from the east, few strong from the north-west sector (300-330 deg)
    direction = np.r_[np.full(100, 90.0), np.full(10, 305.0), np.full(5, 0.0)]
    speed = np.r_[np.full(100, 3.0), np.full(10, 10.0), np.zeros(5)]
    # energy: east 100 * 27 = 2700 < north-west 10 * 1000 = 10000
    assert prevailing_direction_deg(direction, speed) == 300.0
    assert prevailing_direction_deg(direction, speed, n_sectors=4) == 270.0
    # sector 0 spans 345..15 deg
    assert prevailing_direction_deg([350.0, 10.0, 100.0], [5.0, 5.0, 6.0]) == 0.0


def test_prevailing_direction_errors():
    with pytest.raises(WeatherError, match="no record"):
        prevailing_direction_deg([0.0, 90.0], [0.0, 0.0])
    with pytest.raises(WeatherError, match="equal length"):
        prevailing_direction_deg([0.0, 90.0], [1.0])


def test_resolve_direction_config_wins():
    weather = pd.DataFrame({"wind_speed": [5.0, 6.0], "wind_direction": [90.0, 95.0]})
    cfg = dict(spacing_along_d=8, spacing_across_d=5, direction_sectors=12)
    assert (
        resolve_prevailing_direction_deg(
            weather, LayoutConfig(prevailing_direction_deg=45.0, **cfg)
        )
        == 45.0
    )
    assert (
        resolve_prevailing_direction_deg(
            weather, LayoutConfig(prevailing_direction_deg=None, **cfg)
        )
        == 90.0
    )
    with pytest.raises(WeatherError, match="wind_direction"):
        resolve_prevailing_direction_deg(
            weather.drop(columns="wind_direction"),
            LayoutConfig(prevailing_direction_deg=None, **cfg),
        )
