"""Agri-PV (category ``agri``): the cultivated-land rule of the 2023 notice and the archetype."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from numpy.testing import assert_allclose

from census.resources import load_assumptions
from census.settings.pv import PVConfig
from census.sites.rules import RulesConfig
from census.sites.screen import screen_sites
from census.solar.capacity import add_pv_capacity

X0, Y0 = 500_000.0, 3_340_000.0
CRS = "EPSG:4549"


@pytest.fixture(scope="module")
def rules() -> RulesConfig:
    values, _ = load_assumptions("rules")
    return RulesConfig.model_validate(values)


@pytest.fixture(scope="module")
def pv() -> PVConfig:
    values, _ = load_assumptions("pv")
    return PVConfig.model_validate(values)


def _plots(land_use: list[str | None], *, w: float = 100.0, h: float = 50.0) -> gpd.GeoDataFrame:
    geoms = [
        shapely.box(X0 + 200.0 * i, Y0, X0 + 200.0 * i + w, Y0 + h) for i in range(len(land_use))
    ]
    gdf = gpd.GeoDataFrame(
        {
            "site_id": [f"a{i}" for i in range(len(land_use))],
            "category": "agri",
            "land_use": land_use,
        },
        geometry=geoms,
        crs=CRS,
    )
    gdf["area_m2"] = gdf.geometry.area
    return gdf


def test_cultivated_land_is_closed_greenhouses_and_facility_land_open(rules):
    uses = ["greenhouse", "facility_agriculture", "cultivated", "水田", None]
    res = screen_sites(_plots(uses), rules, {})
    s = res.sites.set_index("site_id")
    assert s["eligible"].tolist() == [True, True, False, False, True]
    assert s.loc["a2", "exclusion_reasons"] == "cultivated_land"
    assert s.loc["a3", "exclusion_reasons"] == "cultivated_land"
    # by hand: a 100 m x 50 m plot less a 3 m edge strip = 94 m x 44 m = 4136 m2,
    # less 10 % for lanes and posts (DIN SPEC 91434 land-loss limit) = 3722.4 m2
    assert_allclose(s.loc["a0", "usable_area_m2"], 94.0 * 44.0 * 0.9, rtol=1e-9)
    assert (s.loc[["a2", "a3"], "usable_area_m2"] == 0.0).all()
    assert set(s["pv_archetype"]) == {"agri_elevated"}
    assert set(s["technology"]) == {"pv_ground"}


def test_small_plots_fail(rules):
    # 40 m x 40 m = 1600 m2 < min_area_m2 2000
    res = screen_sites(_plots(["greenhouse"], w=40.0, h=40.0), rules, {})
    assert res.sites["exclusion_reasons"].iloc[0] == "min_area"


def test_elevated_archetype_capacity_and_cover_cap(rules, pv):
    res = screen_sites(_plots(["greenhouse"]), rules, {})
    cap = add_pv_capacity(res.sites, pv)
    # by hand: 3722.4 m2 x GCR 0.35 x 22.5 % (TOPCon) x 1000 W/m2 = 0.293139 MW DC;
    # the projection 0.35 x cos 22 deg = 0.3245 stays under the 0.4 cover cap
    assert_allclose(cap["capacity_mw_dc"].iloc[0], 3722.4 * 0.35 * 0.225 * 1e-3, rtol=1e-9)
    assert_allclose(cap["capacity_mw_ac"].iloc[0], 3722.4 * 0.35 * 0.225 * 1e-3 / 1.25, rtol=1e-9)
    # a denser layout is held to the cap: coverage = 0.4 / cos 22 deg = 0.43141
    values, _ = load_assumptions("pv")
    values["archetypes"]["agri_elevated"]["coverage_frac"] = 0.6
    dense = add_pv_capacity(res.sites, PVConfig.model_validate(values))
    assert_allclose(dense["pv_coverage_frac"].iloc[0], 0.4 / np.cos(np.radians(22.0)), rtol=1e-9)


def test_rules_cite_the_notice_and_din_spec():
    _, ledger = load_assumptions("rules")
    src = {r["key"]: r["source"] for r in ledger if r["key"].startswith("rules.categories.agri")}
    assert "自然资办发〔2023〕12号" in src["rules.categories.agri.attribute_rules"]
    assert "DIN SPEC 91434" in src["rules.categories.agri.obstruction_frac"]
    _, pv_ledger = load_assumptions("pv")
    clearance = next(r for r in pv_ledger if r["key"] == "pv.archetypes.agri_elevated.row_height_m")
    assert "2.1 m" in clearance["source"]
