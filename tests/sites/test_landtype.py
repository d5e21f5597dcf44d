"""Forest-type and cultivated-land rule (自然资办发〔2023〕12号) with hand-worked cases."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from affine import Affine
from numpy.testing import assert_allclose

from census.exceptions import ConfigError, InputError
from census.io.raster import MetricRaster
from census.resources import load_assumptions
from census.sites.landtype import classify_values, shrub_allowed
from census.sites.rules import CategoryRules, LandTypesConfig, RulesConfig
from census.sites.screen import screen_sites

X0, Y0 = 500_000.0, 3_340_000.0
CRS = "EPSG:4549"


@pytest.fixture(scope="module")
def land_types() -> LandTypesConfig:
    values, _ = load_assumptions("rules")
    return LandTypesConfig.model_validate(values["land_types"])


def _rules(land_types, **extra):
    forest = {"technology": "pv_ground", "pv_archetype": "hillside", "land_type_rule": True}
    return RulesConfig(
        reference_year=2025,
        land_types=land_types,
        categories={"forest": CategoryRules(**{**forest, **extra})},
    )


def _sites(geoms, **cols):
    gdf = gpd.GeoDataFrame(
        {"site_id": [f"s{i}" for i in range(len(geoms))], "category": "forest", **cols},
        geometry=list(geoms),
        crs=CRS,
    )
    gdf["area_m2"] = gdf.geometry.area
    return gdf


def test_values_map_to_types_by_name_chinese_name_and_survey_code(land_types):
    values = pd.Series(
        ["乔木林地", "tree", "0302", "竹林地", "0305", "灌木林地", "0307", "0101", "0103", "耕地"]
        + ["0404", "1104", "", None]
    )
    got = classify_values(values, land_types).tolist()
    assert got == [
        "tree_forest",
        "tree_forest",
        "bamboo_forest",
        "bamboo_forest",
        "shrub_forest",
        "shrub_forest",
        "other_forest",
        "cultivated",  # GB/T 21010-2017 0101 水田 is 01xx cultivated land
        "cultivated",
        "cultivated",
        "grassland",
        "other_land",  # 1104 坑塘水面
        None,
        None,
    ]
    with pytest.raises(InputError, match=r"'forest_type' has value\(s\) \['pine'\]"):
        classify_values(pd.Series(["pine"]), land_types)


def test_shrub_conditions_of_the_notice(land_types):
    # 自然资办发〔2023〕12号: shrub land with cover under 50 % where precipitation >= 400 mm
    cover = np.array([0.3, 0.49, 0.5, 0.8, np.nan])
    assert shrub_allowed(cover, land_types).tolist() == [True, True, False, False, False]
    # under 400 mm a year any shrub land may carry co-use
    dry = land_types.model_copy(update={"annual_precipitation_mm": 350.0})
    assert shrub_allowed(cover, dry).tolist() == [True] * 5


def test_forest_type_attribute_gives_one_reason_per_site(land_types):
    geoms = [shapely.box(X0 + i * 300, Y0, X0 + i * 300 + 200, Y0 + 200) for i in range(6)]
    sites = _sites(
        geoms,
        forest_type=["tree", "bamboo", "shrub", "shrub", "shrub", "0101"],
        shrub_cover_frac=[np.nan, np.nan, 0.3, 0.7, np.nan, np.nan],
    )
    res = screen_sites(sites, _rules(land_types), {})
    s = res.sites
    assert s.exclusion_reasons.tolist() == [
        "forest_tree",
        "forest_bamboo",
        "",
        "forest_shrub_dense",
        "forest_shrub_cover_unknown",
        "cultivated_land",
    ]
    # the eligible shrub site keeps its whole area (no other rule here): 200 x 200 m
    assert_allclose(s.usable_area_m2.iloc[2], 40_000.0, rtol=1e-12)
    assert s.land_type.tolist()[:3] == ["tree_forest", "bamboo_forest", "shrub_forest"]
    assert "1 m above the shrubs" in s.land_use_conditions.iloc[2]
    assert s.land_use_conditions.iloc[0] == ""


def _half_raster(west: float, east: float) -> MetricRaster:
    # 1 km x 1 km at 10 m; west half (x < X0 + 500 m) one class, east half another
    data = np.full((100, 100), east, dtype="float32")
    data[:, :50] = west
    return MetricRaster(data, Affine(10.0, 0, X0, 0, -10.0, Y0 + 1000), CRS, "lc.tif")


def test_land_cover_shares_when_no_attribute(land_types):
    # a 200 m x 200 m site centred on the class boundary: half tree cover (10), half grass (30)
    site = shapely.box(X0 + 400, Y0 + 400, X0 + 600, Y0 + 600)
    res = screen_sites(_sites([site]), _rules(land_types), {}, landcover=_half_raster(10, 30))
    row = res.sites.iloc[0]
    # open share 0.5 >= min_open_frac 0.5: kept, the tree half taken off: 20,000 m2 (by hand)
    assert bool(row.eligible)
    assert_allclose(row.usable_area_m2, 20_000.0, rtol=1e-9)
    assert row.land_type == "mixed"
    # shifted 40 m west, 60 % of it is tree cover: out as forest_tree
    site = shapely.box(X0 + 360, Y0 + 400, X0 + 560, Y0 + 600)
    res = screen_sites(_sites([site]), _rules(land_types), {}, landcover=_half_raster(10, 30))
    assert res.sites.exclusion_reasons.iloc[0] == "forest_tree"
    assert res.sites.land_type.iloc[0] == "tree_forest"
    # cropland (40) majority: cultivated_land
    res = screen_sites(_sites([site]), _rules(land_types), {}, landcover=_half_raster(40, 30))
    assert res.sites.exclusion_reasons.iloc[0] == "cultivated_land"
    # shrubland (20) without a known cover: forest_shrub_cover_unknown
    res = screen_sites(_sites([site]), _rules(land_types), {}, landcover=_half_raster(20, 30))
    assert res.sites.exclusion_reasons.iloc[0] == "forest_shrub_cover_unknown"


def test_attribute_wins_over_land_cover(land_types):
    site = shapely.box(X0 + 360, Y0 + 400, X0 + 560, Y0 + 600)  # 60 % tree cover on the raster
    sites = _sites([site], forest_type=["shrub"], shrub_cover_frac=[0.2])
    res = screen_sites(sites, _rules(land_types), {}, landcover=_half_raster(10, 30))
    assert bool(res.sites.eligible.iloc[0])
    assert_allclose(res.sites.usable_area_m2.iloc[0], 40_000.0, rtol=1e-12)


def test_no_attribute_and_no_land_cover_is_an_error(land_types):
    site = shapely.box(X0, Y0, X0 + 200, Y0 + 200)
    with pytest.raises(ConfigError, match=r"forest_type.*landcover"):
        screen_sites(_sites([site]), _rules(land_types), {})
    # switched off, the rule is not applied
    res = screen_sites(_sites([site]), _rules(land_types, disabled_rules=["forest_type"]), {})
    assert bool(res.sites.eligible.iloc[0])


def test_default_rules_cite_the_notice_and_apply_to_forest():
    values, ledger = load_assumptions("rules")
    assert values["categories"]["forest"]["land_type_rule"] is True
    sources = " ".join(r["source"] for r in ledger if r["key"].startswith("rules.land_types"))
    assert "自然资办发〔2023〕12号" in sources and "GB/T 21010-2017" in sources
    codes = {c["code"] for c in values["land_types"]["classes"].values()}
    assert {"forest_tree", "forest_bamboo", "forest_shrub_dense", "cultivated_land"} <= codes
