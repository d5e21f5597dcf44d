"""Tests of the screening rule registry: families, switches, rasters without data."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from affine import Affine
from numpy.testing import assert_allclose

from census.exceptions import InputError
from census.io.raster import MetricRaster
from census.sites.registry import RULE_FAMILIES, rule_needs
from census.sites.rules import CategoryRules, RulesConfig
from census.sites.screen import screen_sites

X0, Y0 = 500_000.0, 3_340_000.0
CRS = "EPSG:4549"


def _sites(geoms, category="mine", **cols):
    gdf = gpd.GeoDataFrame(
        {"site_id": [f"s{i}" for i in range(len(geoms))], "category": category, **cols},
        geometry=list(geoms),
        crs=CRS,
    )
    gdf["area_m2"] = gdf.geometry.area
    return gdf


def _rules(**cats):
    return RulesConfig(
        reference_year=2025, categories={k: CategoryRules(**v) for k, v in cats.items()}
    )


def _south_dem(nodata_west: bool = False, path: str = "dem.tif") -> MetricRaster:
    # a 3 km x 3 km plane rising 0.1 m per m towards north: slope atan(0.1) = 5.71 deg, south
    res = 10.0
    ys = Y0 + 3000 - (np.arange(300) + 0.5) * res
    z = np.tile((100.0 + 0.1 * (ys - Y0))[:, None], (1, 300)).astype("float32")
    if nodata_west:
        z[:, :150] = np.nan  # western half (x < X0 + 1500 m) has no data
    return MetricRaster(z, Affine(res, 0, X0, 0, -res, Y0 + 3000), CRS, path)


MINE = {
    "technology": "pv_ground",
    "pv_archetype": "ground",
    "max_slope_deg": 25.0,
    "aspect_range_deg": (90.0, 270.0),
}


def test_registry_lists_every_family_in_order():
    assert list(RULE_FAMILIES) == [
        "area",
        "attributes",
        "forest_type",
        "exclusions",
        "setbacks",
        "land_cover",
        "terrain",
        "roof_geometry",
        "basin_cover",
        "facade",
        "coverage",
    ]


def test_sites_without_terrain_data_get_their_own_reason_and_a_warning():
    west = shapely.box(X0 + 100, Y0 + 100, X0 + 600, Y0 + 600)  # on the nodata half
    east = shapely.box(X0 + 2000, Y0 + 100, X0 + 2500, Y0 + 600)
    outside = shapely.box(X0 + 9000, Y0, X0 + 9500, Y0 + 500)  # off the raster
    with pytest.warns(UserWarning, match=r"2 of 3 sites have no data in the DEM dem\.tif"):
        res = screen_sites(
            _sites([west, east, outside]),
            _rules(mine=MINE),
            {},
            dem=_south_dem(nodata_west=True),
        )
    s = res.sites
    assert s.exclusion_reasons.tolist() == ["no_terrain_data", "", "no_terrain_data"]
    # the covered site: slope atan(0.1) (by hand), whole area usable (slope < 25 deg)
    assert_allclose(s.slope_deg.iloc[1], np.degrees(np.arctan(0.1)), rtol=1e-6)
    assert_allclose(s.usable_area_m2.iloc[1], 250_000.0, rtol=1e-9)


def test_dem_covering_no_site_is_an_error_naming_the_file():
    outside = shapely.box(X0 + 9000, Y0, X0 + 9500, Y0 + 500)
    with pytest.raises(InputError, match=r"DEM /data/my_dem\.tif has no data under any of the 1"):
        screen_sites(
            _sites([outside]), _rules(mine=MINE), {}, dem=_south_dem(path="/data/my_dem.tif")
        )


def test_landcover_without_data_gets_its_own_reason():
    data = np.full((100, 100), 60.0, dtype="float32")
    data[:, :50] = np.nan
    lc = MetricRaster(data, Affine(10.0, 0, X0, 0, -10.0, Y0 + 1000), CRS, "lc.tif")
    rules = _rules(
        mine={"technology": "pv_ground", "pv_archetype": "ground", "landcover_allow": [60]}
    )
    west = shapely.box(X0 + 100, Y0 + 100, X0 + 300, Y0 + 300)
    east = shapely.box(X0 + 700, Y0 + 100, X0 + 900, Y0 + 300)
    with pytest.warns(UserWarning, match="1 of 2 sites have no data in the land-cover raster"):
        res = screen_sites(_sites([west, east]), rules, {}, landcover=lc)
    assert res.sites.exclusion_reasons.tolist() == ["no_landcover_data", ""]
    with pytest.raises(InputError, match=r"land-cover raster lc\.tif has no data"):
        screen_sites(_sites([west]), rules, {}, landcover=lc)


def test_disabled_rules_switch_off_a_family_or_a_code():
    # a 2,500 m2 site under a 10,000 m2 minimum, on a 25 deg limit it passes
    small = shapely.box(X0 + 2000, Y0 + 100, X0 + 2050, Y0 + 150)
    rules = _rules(mine={**MINE, "min_area_m2": 10_000.0})
    assert screen_sites(_sites([small]), rules, {}).sites.exclusion_reasons.iloc[0] == "min_area"
    rules.categories["mine"].disabled_rules = ["min_area"]
    assert bool(screen_sites(_sites([small]), rules, {}).sites.eligible.iloc[0])
    rules.categories["mine"].disabled_rules = ["area"]
    assert bool(screen_sites(_sites([small]), rules, {}).sites.eligible.iloc[0])
    # the terrain family off: a DEM that covers nothing no longer stops the run
    rules.categories["mine"].disabled_rules = ["area", "terrain"]
    far = _sites([shapely.box(X0 + 9000, Y0, X0 + 9100, Y0 + 100)])
    assert bool(screen_sites(far, rules, {}, dem=_south_dem()).sites.eligible.iloc[0])
    assert [n.family for n in rule_needs(rules.categories["mine"])] == []


def test_rule_needs_name_fields_layers_and_rasters():
    rules = CategoryRules(
        technology="pv_ground",
        pv_archetype="ground",
        max_slope_deg=25.0,
        landcover_allow=[60],
        min_years_since_closure=3.0,
        attribute_rules=[{"field": "status", "allow": ["closed"], "code": "status"}],
        exclusions=[
            {"layer": "roads", "code": "road_setback"},
            {"layer": "gas", "code": "gas_setback", "optional": True},
        ],
    )
    got = {(n.kind, n.name, n.required) for n in rule_needs(rules)}
    assert got == {
        ("field", "status", True),
        ("field", "closed_year", True),
        ("exclusion", "roads", True),
        ("exclusion", "gas", False),
        ("raster", "landcover", True),
        ("raster", "dem", False),
    }
