"""Tests of census.solar.capacity.add_pv_capacity."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from census.exceptions import ConfigError, SchemaError
from census.settings.pv import default_pv_config
from census.solar.capacity import add_pv_capacity


@pytest.fixture
def sites():
    return pd.DataFrame(
        {
            "site_id": ["g1", "g2", "r1", "w1", "f1"],
            "eligible": [True, False, True, True, True],
            "usable_area_m2": [10_000.0, 10_000.0, 500.0, 1e6, 2_000.0],
            "pv_archetype": ["ground", "ground", "rooftop_pitched", None, "bipv_facade"],
            "technology": ["pv_ground", "pv_ground", "pv_rooftop", "wind", "pv_bipv"],
            "capacity_mw_dc": [np.nan, np.nan, np.nan, 12.0, np.nan],
        }
    )


LAT = 30.23


def test_capacity_hand_values(sites):
    out = add_pv_capacity(sites, default_pv_config(), latitude_deg=LAT)
    # ground on level ground: 10 000 m2 x GCR 0.61596 (GB 50797-2012 rule at 30.23 N, 22 deg,
    # hand-worked in tests/solar/test_spacing.py) x 22.5 % x 1000 W/m2 = 1.38591 MW
    # pitched roof: 500 m2 x packing 0.85 x 21.2 % (PERC) x 1000 W/m2 = 0.0901 MW
    # facade: 2000 m2 x 0.6 x 18.8 % (CdTe) x 1000 W/m2 = 0.2256 MW
    assert_allclose(out["capacity_mw_dc"].iloc[[2, 4]], [0.0901, 0.2256], rtol=1e-12)
    # GCR hand value to 5 digits: rtol 1e-4
    assert_allclose(out["capacity_mw_dc"].iloc[0], 1.38591, rtol=1e-4)
    assert out["capacity_mw_dc"].iloc[1] == 0.0  # ineligible PV row
    # AC = DC / the archetype's dc_ac_ratio, read from the config (not re-derived here)
    ratios = [default_pv_config().archetypes[a].dc_ac_ratio for a in ("ground", "bipv_facade")]
    assert_allclose(
        out["capacity_mw_ac"].iloc[[0, 4]],
        out["capacity_mw_dc"].iloc[[0, 4]].to_numpy() / ratios,
        rtol=1e-12,
    )
    assert out["capacity_mw_ac"].iloc[1] == 0.0
    assert out["technology"].tolist()[:3] == ["pv_ground", "pv_ground", "pv_rooftop"]
    assert out["technology"].iloc[4] == "pv_bipv"
    assert out["pv_technology"].iloc[4] == "cdte"


def test_non_pv_rows_untouched_and_input_not_modified(sites):
    before = sites.copy()
    out = add_pv_capacity(sites, default_pv_config(), latitude_deg=LAT)
    assert out.loc[3, "technology"] == "wind" and out.loc[3, "capacity_mw_dc"] == 12.0
    pd.testing.assert_frame_equal(sites, before)


def test_technology_override(sites):
    sites["pv_technology"] = [None, None, "perovskite", None, None]
    out = add_pv_capacity(sites, default_pv_config(), latitude_deg=LAT)
    # 500 x 0.85 x 0.114 (MicroQuanta alpha module, pv.yaml) x 1000 W = 0.04845 MW
    assert_allclose(out["capacity_mw_dc"].iloc[2], 0.04845, rtol=1e-12)


def test_errors(sites):
    with pytest.raises(SchemaError, match="usable_area_m2"):
        add_pv_capacity(sites.drop(columns="usable_area_m2"), default_pv_config())
    # winter-solstice rows need a latitude: no geometry and no keyword
    with pytest.raises(SchemaError, match="latitude_deg"):
        add_pv_capacity(sites, default_pv_config())
    sites.loc[0, "pv_archetype"] = "carport"
    with pytest.raises(ConfigError, match="carport"):
        add_pv_capacity(sites, default_pv_config(), latitude_deg=LAT)


def test_geodataframe_type_kept(sites):
    gpd = pytest.importorskip("geopandas")
    gdf = gpd.GeoDataFrame(
        sites,
        geometry=gpd.points_from_xy(500_000.0 + np.arange(5.0), 3_345_000.0 + np.arange(5.0)),
        crs="EPSG:4549",
    )
    out = add_pv_capacity(gdf, default_pv_config())
    assert isinstance(out, gpd.GeoDataFrame) and out.crs == gdf.crs


def test_latitude_from_geometry():
    # a site at EPSG:4549 (CM 120 E, false easting 500 km) x = 500 000, y = 3 345 000 lies on
    # the central meridian; its latitude comes from an independent pyproj transform
    gpd = pytest.importorskip("geopandas")
    from pyproj import Transformer

    lat = Transformer.from_crs("EPSG:4549", "EPSG:4326", always_xy=True).transform(
        500_000.0, 3_345_000.0
    )[1]
    frame = pd.DataFrame(
        {"eligible": [True], "usable_area_m2": [10_000.0], "pv_archetype": ["ground"]}
    )
    gdf = gpd.GeoDataFrame(
        frame, geometry=gpd.points_from_xy([500_000.0], [3_345_000.0]), crs="EPSG:4549"
    )
    by_geometry = add_pv_capacity(gdf, default_pv_config())
    by_keyword = add_pv_capacity(frame, default_pv_config(), latitude_deg=lat)
    assert_allclose(by_geometry["capacity_mw_dc"], by_keyword["capacity_mw_dc"], rtol=1e-12)


def test_hillside_follows_slope():
    # same 10 000 m2 hillside patch on level ground, a 10 deg south and a 10 deg north slope;
    # GCRs hand-worked in tests/solar/test_spacing.py: 0.61596, 0.81784, 0.41407
    frame = pd.DataFrame(
        {
            "eligible": [True] * 3,
            "usable_area_m2": [10_000.0] * 3,
            "pv_archetype": ["hillside"] * 3,
            "slope_deg": [0.0, 10.0, 10.0],
            "aspect_deg": [180.0, 180.0, 0.0],
        }
    )
    out = add_pv_capacity(frame, default_pv_config(), latitude_deg=LAT)
    # 10 000 m2 x GCR x 22.5 % x 1000 W/m2
    assert_allclose(out["capacity_mw_dc"], [1.38591, 1.84014, 0.93166], rtol=1e-4)
    assert_allclose(out["pv_coverage_frac"], [0.61596, 0.81784, 0.41407], rtol=1e-4)
    # level axes: orientation stays the archetype's
    assert_allclose(out["surface_tilt_deg"], 22.0, rtol=1e-9)
    assert_allclose(out["surface_azimuth_deg"], 180.0, rtol=1e-9)


def test_hillside_cap_and_given_orientation_kept():
    frame = pd.DataFrame(
        {
            "eligible": [True, True],
            "usable_area_m2": [10_000.0, 10_000.0],
            "pv_archetype": ["hillside", "hillside"],
            "slope_deg": [25.0, 10.0],
            "aspect_deg": [180.0, 90.0],
            "surface_tilt_deg": [np.nan, 30.0],
            "surface_azimuth_deg": [np.nan, 170.0],
        }
    )
    config = default_pv_config()
    out = add_pv_capacity(frame, config, latitude_deg=LAT)
    # a 25 deg south slope would let rows nearly touch: capped at max_gcr_frac (level axis)
    assert_allclose(out["pv_coverage_frac"].iloc[0], config.archetypes["hillside"].max_gcr_frac)
    # a site that gives its orientation keeps it
    assert out["surface_tilt_deg"].iloc[1] == 30.0 and out["surface_azimuth_deg"].iloc[1] == 170.0


def test_floating_cover_cap_applied_once():
    # 10 000 m2 of water; GCR 0.74 at 12 deg tilt would project 0.74 x cos 12 = 0.7238 of the
    # water; the cap (0.5 of the water under the modules' projection) gives module area
    # 0.5 / cos 12 = 0.5 / 0.97815 = 0.51117 per m2 of water, and
    # 10 000 x 0.51117 x 22.5 % x 1000 W/m2 = 1.15013 MW (not 10 000 x 0.5 x 0.74 x ... = 0.8325)
    frame = pd.DataFrame(
        {"eligible": [True], "usable_area_m2": [10_000.0], "pv_archetype": ["floating"]}
    )
    config = default_pv_config()
    assert config.archetypes["floating"].max_cover_frac == 0.5
    out = add_pv_capacity(frame, config)
    assert_allclose(out["capacity_mw_dc"], 1.15013, rtol=1e-5)
    projected = out["pv_coverage_frac"] * np.cos(np.radians(12.0))
    assert_allclose(projected, 0.5, rtol=1e-12)


def test_hopeless_slope_warns_and_gets_zero():
    # a 60 deg north-facing slope falls away faster than the winter sun's rays (see
    # tests/solar/test_spacing.py::test_cap_and_hopeless_slopes): no spacing avoids shade
    frame = pd.DataFrame(
        {
            "site_id": ["h1"],
            "eligible": [True],
            "usable_area_m2": [10_000.0],
            "pv_archetype": ["hillside"],
            "slope_deg": [60.0],
            "aspect_deg": [0.0],
        }
    )
    with pytest.warns(UserWarning, match="max_slope_deg"):
        out = add_pv_capacity(frame, default_pv_config(), latitude_deg=LAT)
    assert out["capacity_mw_dc"].iloc[0] == 0.0
