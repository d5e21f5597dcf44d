"""Tests of screening with hand-made geometries whose answers are worked out by hand."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from affine import Affine
from numpy.testing import assert_allclose

from census.exceptions import ConfigError, SchemaError
from census.io.raster import MetricRaster
from census.sites.rooftops import pitched_faces, ridge_azimuths_deg
from census.sites.rules import CategoryRules, RulesConfig, cut_exclusions
from census.sites.screen import screen_sites, tally_reasons
from census.sites.terrain import site_terrain, slope_aspect

X0, Y0 = 500_000.0, 3_340_000.0
CRS = "EPSG:4549"


def _sites(geoms, category="pond", **cols):
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


def test_square_minus_buffered_line():
    # 100 m x 100 m square; a line through it at x = 50 m buffered by 20 m removes a 40 m strip:
    # 10,000 - 40 * 100 = 6,000 m2 (by hand).
    square = shapely.box(X0, Y0, X0 + 100, Y0 + 100)
    line = shapely.LineString([(X0 + 50, Y0 - 500), (X0 + 50, Y0 + 500)])
    zones = gpd.GeoSeries([line], crs=CRS).buffer(20.0)
    cut, touched = cut_exclusions(gpd.GeoSeries([square], crs=CRS), zones)
    assert touched.tolist() == [True]
    assert_allclose(cut.area.iloc[0], 6_000.0, rtol=1e-6)  # buffer arcs lie outside the square


def test_partial_exclusion_keeps_the_rest():
    square = shapely.box(X0, Y0, X0 + 100, Y0 + 100)
    road = gpd.GeoSeries([shapely.LineString([(X0 + 50, Y0 - 500), (X0 + 50, Y0 + 500)])], crs=CRS)
    rules = _rules(
        pond={
            "technology": "pv_floating",
            "pv_archetype": "floating",
            "min_usable_area_m2": 5_000.0,
            "exclusions": [{"layer": "roads", "buffer_m": 20.0, "code": "road"}],
        }
    )
    res = screen_sites(_sites([square]), rules, {"roads": road})
    row = res.sites.iloc[0]
    assert bool(row.eligible)
    assert row.exclusion_reasons == ""
    assert row.clipped_by == "road"
    assert_allclose(row.usable_area_m2, 6_000.0, rtol=1e-6)
    # raise the minimum above what is left: the site is dropped for min_usable_area only
    rules.categories["pond"].min_usable_area_m2 = 7_000.0
    res = screen_sites(_sites([square]), rules, {"roads": road})
    assert not res.sites.iloc[0].eligible
    assert res.sites.iloc[0].exclusion_reasons == "min_usable_area"
    assert res.sites.iloc[0].usable_area_m2 == 0.0


def test_setback_coverage_and_obstruction():
    # 100 x 100 m with a 5 m inward setback -> 90 x 90 = 8,100 m2; x (1 - 0.2) x 0.5 = 3,240 m2
    square = shapely.box(X0, Y0, X0 + 100, Y0 + 100)
    rules = _rules(
        pond={
            "technology": "pv_floating",
            "pv_archetype": "floating",
            "edge_setback_m": 5.0,
            "obstruction_frac": 0.2,
            "coverage_cap_frac": 0.5,
        }
    )
    res = screen_sites(_sites([square]), rules, {})
    assert_allclose(res.sites.usable_area_m2.iloc[0], 3_240.0, rtol=1e-9)
    assert_allclose(res.usable_geometry.area.iloc[0], 8_100.0, rtol=1e-9)


def test_site_failing_three_rules_lists_all_three():
    small = shapely.box(X0, Y0, X0 + 50, Y0 + 50)  # 2,500 m2
    zone = gpd.GeoSeries([shapely.box(X0 - 10, Y0 - 10, X0 + 10, Y0 + 10)], crs=CRS)
    rules = _rules(
        pond={
            "technology": "pv_floating",
            "pv_archetype": "floating",
            "min_area_m2": 10_000.0,
            "attribute_rules": [
                {"field": "water_use", "exclude": ["drinking_water"], "code": "water_use"}
            ],
            "exclusions": [
                {"layer": "scenic", "buffer_m": 0.0, "mode": "drop", "code": "heritage_scenic"}
            ],
        }
    )
    res = screen_sites(_sites([small], water_use=["drinking_water"]), rules, {"scenic": zone})
    reasons = set(res.sites.exclusion_reasons.iloc[0].split(";"))
    assert reasons == {"min_area", "water_use", "heritage_scenic"}
    tally = tally_reasons(res.sites)
    assert set(tally.reason) == reasons
    assert (tally.sites == 1).all()


def test_eligible_sites_have_no_reasons_and_positive_area():
    sq = [shapely.box(X0 + i * 300, Y0, X0 + i * 300 + 200, Y0 + 200) for i in range(3)]
    rules = _rules(
        pond={"technology": "pv_floating", "pv_archetype": "floating", "min_area_m2": 30_000.0}
    )
    res = screen_sites(_sites(sq), rules, {})
    s = res.sites
    assert (s.eligible == (s.exclusion_reasons == "")).all()
    assert (s.loc[s.eligible, "usable_area_m2"] > 0).all()


def test_missing_exclusion_layer_and_field_name_both():
    rules = _rules(
        pond={
            "technology": "pv_floating",
            "pv_archetype": "floating",
            "exclusions": [{"layer": "airport", "buffer_m": 0, "code": "ab"}],
        }
    )
    with pytest.raises(ConfigError, match=r"'ab'.*'pond'.*'airport'"):
        screen_sites(_sites([shapely.box(X0, Y0, X0 + 1, Y0 + 1)]), rules, {})
    rules = _rules(
        pond={
            "technology": "pv_floating",
            "pv_archetype": "floating",
            "attribute_rules": [{"field": "status", "allow": ["closed"], "code": "status"}],
        }
    )
    with pytest.raises(SchemaError, match=r"'status'.*'pond'|'pond'.*'status'"):
        screen_sites(_sites([shapely.box(X0, Y0, X0 + 1, Y0 + 1)]), rules, {})


def test_category_without_rules_is_an_error():
    with pytest.raises(ConfigError, match="rules.categories.quarry"):
        screen_sites(
            _sites([shapely.box(X0, Y0, X0 + 1, Y0 + 1)], category="quarry"),
            _rules(pond={"technology": "pv_floating"}),
            {},
        )


def test_landfill_years_since_closure():
    geoms = [shapely.box(X0 + i * 300, Y0, X0 + i * 300 + 200, Y0 + 200) for i in range(3)]
    rules = _rules(
        landfill={
            "technology": "pv_ground",
            "pv_archetype": "ground",
            "min_years_since_closure": 3.0,
        }
    )
    res = screen_sites(
        _sites(geoms, category="landfill", closed_year=[2010, 2024, None]), rules, {}
    )
    assert res.sites.exclusion_reasons.tolist() == [
        "",
        "years_since_closure",
        "years_since_closure",
    ]


def test_ridge_and_faces_of_pitched_roofs():
    # 20 m (east-west) x 10 m roof: ridge runs east-west (90 deg), faces N and S; keep S only.
    ew = shapely.box(X0, Y0, X0 + 20, Y0 + 10)
    # the same roof rotated 30 deg clockwise (as seen on a north-up map): ridge at 120 deg
    rot = shapely.affinity.rotate(ew, -30, origin="centroid")
    # float64 at 5e5 m easting leaves ~1e-4 deg of rounding in the rotated rectangle
    assert_allclose(ridge_azimuths_deg(np.array([ew, rot])), [90.0, 120.0], atol=1e-3)
    az, kept = pitched_faces(np.array([ew, rot]))
    assert_allclose(az, [180.0, 210.0], atol=1e-3)
    assert_allclose(kept, [0.5, 0.5])
    # a north-south ridge: faces east (90) and west (270); with a 100 deg limit both kept
    ns = shapely.box(X0, Y0, X0 + 10, Y0 + 20)
    az, kept = pitched_faces(np.array([ns]), max_from_south_deg=100.0)
    assert az[0] in (90.0, 270.0)
    assert_allclose(kept, [1.0])


def test_pitched_roof_usable_area():
    # 20 x 10 m footprint at 30 deg pitch, E-W ridge: south face = 100 m2 / cos(30) = 115.47 m2,
    # no setback, no obstruction.
    roof = shapely.box(X0, Y0, X0 + 20, Y0 + 10)
    rules = _rules(
        rooftop={
            "technology": "pv_rooftop",
            "pv_archetype": "rooftop_flat",
            "pv_archetype_pitched": "rooftop_pitched",
        }
    )
    res = screen_sites(
        _sites([roof], category="rooftop", roof_type=["pitched"], roof_pitch_deg=[30.0]), rules, {}
    )
    row = res.sites.iloc[0]
    assert row.pv_archetype == "rooftop_pitched"
    assert_allclose(row.usable_area_m2, 100.0 / np.cos(np.radians(30.0)), rtol=1e-9)
    assert_allclose([row.surface_tilt_deg, row.surface_azimuth_deg], [30.0, 180.0], atol=1e-6)


def _plane_dem(slope_x: float, slope_y: float) -> MetricRaster:
    res = 10.0
    ny, nx = 300, 300
    ys = Y0 + ny * res - (np.arange(ny) + 0.5) * res
    xs = X0 + (np.arange(nx) + 0.5) * res
    xx, yy = np.meshgrid(xs, ys)
    z = 100.0 + slope_x * (xx - X0) + slope_y * (yy - Y0)
    return MetricRaster(z, Affine(res, 0, X0, 0, -res, Y0 + ny * res), CRS, "plane")


def test_tilted_plane_slope_and_aspect_everywhere():
    # z rises 0.3 m per m towards north: slope atan(0.3) = 16.699 deg, faces south (180 deg)
    dem = _plane_dem(0.0, 0.3)
    slope, aspect = slope_aspect(dem.data, cell_x_m=10.0, cell_y_m=10.0)
    assert_allclose(slope, np.degrees(np.arctan(0.3)), rtol=1e-9)
    assert_allclose(aspect, 180.0, atol=1e-9)
    sites = _sites(
        [
            shapely.box(X0 + 100, Y0 + 100, X0 + 600, Y0 + 400),
            shapely.Polygon(
                [(X0 + 1000, Y0 + 1000), (X0 + 1500, Y0 + 1100), (X0 + 1200, Y0 + 1600)]
            ),
        ]
    )
    terr = site_terrain(sites, dem, max_slope_deg=20.0)
    assert_allclose(terr.slope_deg, np.degrees(np.arctan(0.3)), rtol=1e-6)
    assert_allclose(terr.aspect_deg, 180.0, atol=1e-6)
    assert_allclose(terr.slope_ok_frac, 1.0)
    # mean elevation of the box = plane at its centroid: 100 + 0.3 * 250 = 175 m
    assert_allclose(terr.elevation_m.iloc[0], 175.0, rtol=1e-9)


def test_slope_and_aspect_rules():
    # east-facing 0.5 slope (26.6 deg) with a 25 deg limit and a south-only aspect range fails both
    dem = _plane_dem(-0.5, 0.0)
    rules = _rules(
        mine={
            "technology": "pv_ground",
            "pv_archetype": "ground",
            "max_slope_deg": 25.0,
            "aspect_range_deg": (135.0, 225.0),
        }
    )
    res = screen_sites(
        _sites([shapely.box(X0 + 100, Y0 + 100, X0 + 600, Y0 + 400)], category="mine"),
        rules,
        {},
        dem=dem,
    )
    assert set(res.sites.exclusion_reasons.iloc[0].split(";")) == {"slope", "aspect"}
    assert_allclose(res.sites.aspect_deg.iloc[0], 90.0, atol=1e-6)


def test_screen_keeps_index_and_input_unchanged():
    sq = _sites([shapely.box(X0, Y0, X0 + 200, Y0 + 200)])
    before = sq.copy()
    screen_sites(sq, _rules(pond={"technology": "pv_floating", "pv_archetype": "floating"}), {})
    pd.testing.assert_frame_equal(
        pd.DataFrame(sq.drop(columns="geometry")), pd.DataFrame(before.drop(columns="geometry"))
    )


def test_min_width_drops_thin_strips():
    # 200 m x 8 m strip has 1,600 m2 but is too narrow for a 10 m minimum width
    strip = shapely.box(X0, Y0, X0 + 200, Y0 + 8)
    wide = shapely.box(X0, Y0 + 100, X0 + 40, Y0 + 140)
    rules = _rules(
        pond={"technology": "pv_floating", "pv_archetype": "floating", "min_width_m": 10.0}
    )
    res = screen_sites(_sites([strip, wide]), rules, {})
    assert res.sites.exclusion_reasons.tolist() == ["min_width", ""]


def test_landcover_share_scales_usable_area():
    # a 200 m x 200 m site on a raster whose western half is class 10 (tree), east half 40 (crop);
    # allowing only 40 leaves half the area: 20,000 m2 (by hand)
    res_m = 10.0
    data = np.full((100, 100), 40.0)
    data[:, :50] = 10.0
    lc = MetricRaster(data, Affine(res_m, 0, X0, 0, -res_m, Y0 + 1000), CRS, "lc")
    site = shapely.box(X0 + 400, Y0 + 400, X0 + 600, Y0 + 600)
    rules = _rules(
        mine={
            "technology": "pv_ground",
            "pv_archetype": "ground",
            "landcover_allow": [40],
            "landcover_min_allowed_frac": 0.4,
        }
    )
    res = screen_sites(_sites([site], category="mine"), rules, {}, landcover=lc)
    assert_allclose(res.sites.usable_area_m2.iloc[0], 20_000.0, rtol=1e-9)
    rules.categories["mine"].landcover_min_allowed_frac = 0.6
    res = screen_sites(_sites([site], category="mine"), rules, {}, landcover=lc)
    assert res.sites.exclusion_reasons.iloc[0] == "landcover"
    with pytest.raises(ConfigError, match="landcover"):
        screen_sites(_sites([site], category="mine"), rules, {})


def test_optional_exclusion_layer_is_skipped_when_absent():
    rules = _rules(
        landfill={
            "technology": "pv_ground",
            "pv_archetype": "ground",
            "exclusions": [
                {
                    "layer": "gas_infrastructure",
                    "buffer_m": 30.0,
                    "code": "gas_setback",
                    "optional": True,
                }
            ],
        }
    )
    site = shapely.box(X0, Y0, X0 + 200, Y0 + 200)
    res = screen_sites(_sites([site], category="landfill"), rules, {})
    assert bool(res.sites.eligible.iloc[0])
    # given, it cuts: a gas pipe along the western edge removes a 30 m strip (by hand 6,000 m2)
    pipe = gpd.GeoSeries([shapely.LineString([(X0, Y0 - 100), (X0, Y0 + 300)])], crs=CRS)
    res = screen_sites(_sites([site], category="landfill"), rules, {"gas_infrastructure": pipe})
    assert_allclose(res.sites.usable_area_m2.iloc[0], 200 * 200 - 30 * 200, rtol=1e-6)
    assert res.sites.clipped_by.iloc[0] == "gas_setback"


def test_pitched_roof_without_pitch_is_an_input_error():
    from census.exceptions import InputError

    roof = shapely.box(X0, Y0, X0 + 20, Y0 + 10)
    rules = _rules(
        rooftop={
            "technology": "pv_rooftop",
            "pv_archetype": "rooftop_flat",
            "pv_archetype_pitched": "rooftop_pitched",
        }
    )
    for pitch in (np.nan, 95.0):
        with pytest.raises(InputError, match="roof_pitch_deg.*s0"):
            screen_sites(
                _sites([roof], category="rooftop", roof_type=["pitched"], roof_pitch_deg=[pitch]),
                rules,
                {},
            )
