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
            "technology": [None, None, None, "wind", None],
            "capacity_mw_dc": [np.nan, np.nan, np.nan, 12.0, np.nan],
        }
    )


def test_capacity_hand_values(sites):
    out = add_pv_capacity(sites, default_pv_config())
    # ground: 10 000 m2 x GCR 0.62 x 22.5 % x 1000 W/m2 = 1.395 MW (pv.yaml values)
    # pitched roof: 500 m2 x packing 0.85 x 21.2 % (PERC) x 1000 W/m2 = 0.0901 MW
    # facade: 2000 m2 x 0.6 x 18.8 % (CdTe) x 1000 W/m2 = 0.2256 MW
    assert_allclose(out["capacity_mw_dc"].iloc[[0, 2, 4]], [1.395, 0.0901, 0.2256], rtol=1e-12)
    assert out["capacity_mw_dc"].iloc[1] == 0.0  # ineligible PV row
    # AC = DC / the archetype's dc_ac_ratio, read from the config (not re-derived here)
    ratios = [default_pv_config().archetypes[a].dc_ac_ratio for a in ("ground", "bipv_facade")]
    assert_allclose(
        out["capacity_mw_ac"].iloc[[0, 4]], [1.395 / ratios[0], 0.2256 / ratios[1]], rtol=1e-12
    )
    assert out["capacity_mw_ac"].iloc[1] == 0.0
    assert out["technology"].tolist()[:3] == ["pv_ground", "pv_ground", "pv_rooftop"]
    assert out["technology"].iloc[4] == "pv_bipv"
    assert out["pv_technology"].iloc[4] == "cdte"


def test_non_pv_rows_untouched_and_input_not_modified(sites):
    before = sites.copy()
    out = add_pv_capacity(sites, default_pv_config())
    assert out.loc[3, "technology"] == "wind" and out.loc[3, "capacity_mw_dc"] == 12.0
    pd.testing.assert_frame_equal(sites, before)


def test_technology_override(sites):
    sites["pv_technology"] = [None, None, "perovskite", None, None]
    out = add_pv_capacity(sites, default_pv_config())
    # 500 x 0.85 x 0.17 x 1000 W = 0.07225 MW
    assert_allclose(out["capacity_mw_dc"].iloc[2], 0.07225, rtol=1e-12)


def test_errors(sites):
    with pytest.raises(SchemaError, match="usable_area_m2"):
        add_pv_capacity(sites.drop(columns="usable_area_m2"), default_pv_config())
    sites.loc[0, "pv_archetype"] = "carport"
    with pytest.raises(ConfigError, match="carport"):
        add_pv_capacity(sites, default_pv_config())


def test_geodataframe_type_kept(sites):
    gpd = pytest.importorskip("geopandas")
    gdf = gpd.GeoDataFrame(
        sites, geometry=gpd.points_from_xy(np.arange(5.0), np.arange(5.0)), crs="EPSG:4549"
    )
    out = add_pv_capacity(gdf, default_pv_config())
    assert isinstance(out, gpd.GeoDataFrame) and out.crs == gdf.crs
