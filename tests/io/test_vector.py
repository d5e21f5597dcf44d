"""Tests of census.io.vector, census.io.boundaries and census.io.layers."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pytest
import shapely
from numpy.testing import assert_allclose

from census.config import LayerConfig
from census.crs import wgs84_to_gcj02
from census.exceptions import InputError, MissingCRSError, SchemaError
from census.io.boundaries import read_districts, select_districts
from census.io.layers import assign_districts, load_sites
from census.io.vector import read_vector, repair_geometries

from ..conftest import BOUNDARIES, X0, Y0

SQUARE = shapely.box(X0 + 1000, Y0 + 1000, X0 + 1100, Y0 + 1100)  # 100 m x 100 m


@pytest.mark.parametrize(
    "suffix,driver",
    [
        (".gpkg", "GPKG"),
        (".geojson", "GeoJSON"),
        (".shp", "ESRI Shapefile"),
        (".fgb", "FlatGeobuf"),
    ],
)
def test_read_each_format(tmp_path, suffix, driver):
    gdf = gpd.GeoDataFrame({"pond_id": ["a"]}, geometry=[SQUARE], crs="EPSG:4549")
    path = tmp_path / f"ponds{suffix}"
    gdf.to_file(path, driver=driver)
    back = read_vector(path)
    assert back.crs.to_epsg() == 4549
    assert_allclose(back.geometry.area.iloc[0], 10_000.0, rtol=1e-9)


def test_read_geoparquet(tmp_path):
    pytest.importorskip("pyarrow")
    gdf = gpd.GeoDataFrame({"pond_id": ["a"]}, geometry=[SQUARE], crs="EPSG:4549")
    path = tmp_path / "ponds.parquet"
    gdf.to_parquet(path)
    assert_allclose(read_vector(path).geometry.area.iloc[0], 10_000.0, rtol=1e-9)


def test_missing_file_and_layer(tmp_path):
    with pytest.raises(InputError, match="not found"):
        read_vector(tmp_path / "nope.gpkg")
    gdf = gpd.GeoDataFrame({"a": [1]}, geometry=[SQUARE], crs="EPSG:4549")
    gdf.to_file(tmp_path / "x.gpkg", layer="ponds")
    with pytest.raises(InputError, match=r"Layer 'pond' not found.*\['ponds'\]"):
        read_vector(tmp_path / "x.gpkg", layer="pond")


def test_no_crs_is_an_error_with_fix(tmp_path):
    path = tmp_path / "nocrs.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {},
                        "geometry": shapely.geometry.mapping(SQUARE),
                    }
                ],
            }
        )
    )
    # GeoJSON readers assume EPSG:4326 for files without a crs member; shapefiles without .prj
    # are the real case of a missing CRS
    gdf = gpd.GeoDataFrame({"a": [1]}, geometry=[SQUARE])
    gdf.to_file(tmp_path / "nocrs.shp")
    with pytest.raises(MissingCRSError, match="set_crs|crs ="):
        read_vector(tmp_path / "nocrs.shp", name="ponds")
    # declaring it in the config fixes it
    assert read_vector(tmp_path / "nocrs.shp", crs="EPSG:4549").crs.to_epsg() == 4549


def test_gcj02_layer_is_converted(tmp_path):
    lon, lat = 120.15, 30.25
    glon, glat = wgs84_to_gcj02(lon, lat)
    gdf = gpd.GeoDataFrame({"name": ["p"]}, geometry=[shapely.Point(glon, glat)], crs="EPSG:4326")
    gdf.to_file(tmp_path / "amap.geojson")
    back = read_vector(tmp_path / "amap.geojson", crs="GCJ-02")
    assert_allclose([back.geometry.x.iloc[0], back.geometry.y.iloc[0]], [lon, lat], atol=1e-8)
    assert back.attrs["source_crs"] == "GCJ-02"


def test_repair_bowtie_counts_and_keeps_area():
    # a bow-tie (self-intersecting) 2 x 2 m: make_valid gives two triangles of 1 m2 each
    bowtie = shapely.Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])
    gdf = gpd.GeoDataFrame({"a": [1, 2]}, geometry=[bowtie, SQUARE], crs="EPSG:4549")
    fixed, n = repair_geometries(gdf, layer="t")
    assert n == 1
    assert shapely.is_valid(fixed.geometry.values).all()
    assert_allclose(fixed.geometry.area.iloc[0], 2.0, rtol=1e-12)


def test_real_boundaries():
    d = read_districts(BOUNDARIES, crs="GCJ-02")
    assert len(d) == 13
    assert d.crs.to_epsg() == 4549
    assert set(d.columns) >= {"adcode", "name_zh", "name_en", "area_m2"}
    # SOURCES.md: total 16,875 km2 (Albers equal-area); EPSG:4549 agrees within 0.06 % + margin
    assert_allclose(d.area_m2.sum() / 1e6, 16_875, rtol=2e-3)
    # Chun'an 4,423.0 km2 and Binjiang 71.1 km2 (SOURCES.md table)
    areas = d.set_index("name_en").area_m2 / 1e6
    assert_allclose(areas["Chun'an"], 4423.0, rtol=2e-3)
    assert_allclose(areas["Binjiang"], 71.1, rtol=4e-3)
    # no pairwise overlap (SOURCES.md): the union's area equals the sum
    assert_allclose(d.geometry.union_all().area, d.area_m2.sum(), rtol=1e-6)


def test_select_districts_by_any_name():
    d = read_districts(BOUNDARIES, crs="GCJ-02")
    assert select_districts(d, ["Xihu"]).adcode.tolist() == [330106]
    assert select_districts(d, ["西湖区", "330108", "linan"]).adcode.tolist() == [
        330106,
        330108,
        330112,
    ]
    with pytest.raises(InputError) as info:
        select_districts(d, ["Xiacheng"])
    msg = str(info.value)
    assert "Xiacheng" in msg and "Binjiang (滨江区, 330108)" in msg


def test_assign_districts_each_site_once(two_districts):
    # a site straddling the border counts in the district holding its representative point
    straddle = shapely.box(X0 + 9_900, Y0 + 100, X0 + 10_300, Y0 + 200)  # 100 m in A, 300 m in B
    inside_a = shapely.box(X0 + 100, Y0 + 100, X0 + 200, Y0 + 200)
    outside = shapely.box(X0 - 500, Y0 - 500, X0 - 400, Y0 - 400)
    sites = gpd.GeoDataFrame(geometry=[straddle, inside_a, outside], crs="EPSG:4549")
    got = assign_districts(sites, two_districts)
    assert got["district"].tolist()[1] == "Alpha"
    assert got["district"].iloc[0] in ("Alpha", "Beta")
    assert got["adcode"].isna().tolist() == [False, False, True]


def test_load_sites_schema_and_errors(tmp_path, two_districts):
    gdf = gpd.GeoDataFrame(
        {"pid": ["p1", "p2"], "category": ["x", "y"]},
        geometry=[SQUARE, shapely.box(X0 - 500, Y0 - 500, X0 - 400, Y0 - 400)],
        crs="EPSG:4549",
    )
    gdf.to_file(tmp_path / "ponds.gpkg", layer="ponds")
    cfg = LayerConfig(path=tmp_path / "ponds.gpkg", layer="ponds", category="pond", id_field="pid")
    sites, reports = load_sites({"ponds": cfg}, two_districts)
    assert sites["site_id"].tolist() == ["ponds:p1"]  # the second lies outside both districts
    assert sites["src_category"].tolist() == ["x"]  # source column renamed, not clobbered
    assert sites["category"].tolist() == ["pond"]
    assert_allclose(sites["area_m2"], [10_000.0], rtol=1e-12)
    assert reports[0].dropped_outside == 1
    bad = LayerConfig(path=tmp_path / "ponds.gpkg", layer="ponds", category="pond", id_field="nope")
    with pytest.raises(SchemaError, match="id_field 'nope'"):
        load_sites({"ponds": bad}, two_districts)


def test_empty_layer_warns_and_gives_no_rows(tmp_path, two_districts):
    gdf = gpd.GeoDataFrame({"pid": []}, geometry=gpd.GeoSeries([], crs="EPSG:4549"))
    gdf.to_file(tmp_path / "e.gpkg", layer="ponds")
    cfg = LayerConfig(path=tmp_path / "e.gpkg", layer="ponds", category="pond")
    with pytest.warns(UserWarning, match="empty"):
        sites, _ = load_sites({"ponds": cfg}, two_districts)
    assert len(sites) == 0


def test_points_in_site_layer_are_refused(tmp_path, two_districts):
    gdf = gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.Point(X0 + 10, Y0 + 10)], crs="EPSG:4549")
    gdf.to_file(tmp_path / "p.gpkg", layer="pts")
    cfg = LayerConfig(path=tmp_path / "p.gpkg", layer="pts", category="pond")
    with pytest.raises(SchemaError, match="polygons"):
        load_sites({"pts": cfg}, two_districts)


def test_geometries_stay_valid_after_reprojection(tmp_path, two_districts):
    wgs = gpd.GeoDataFrame({"pid": ["a"]}, geometry=[SQUARE], crs="EPSG:4549").to_crs("EPSG:4326")
    wgs.to_file(tmp_path / "w.gpkg", layer="ponds")
    cfg = LayerConfig(path=tmp_path / "w.gpkg", layer="ponds", category="pond")
    sites, _ = load_sites({"ponds": cfg}, two_districts)
    assert_allclose(sites["area_m2"], [10_000.0], rtol=1e-6)  # round trip through WGS84
    assert np.all(shapely.is_valid(sites.geometry.values))


def test_site_on_the_border_gets_one_district(two_districts):
    # a 2 m x 100 m strip centred on the shared border x = X0 + 10,000: its representative
    # point lies on the border, "within" neither district; it must still get one
    strip = shapely.box(X0 + 9_999, Y0 + 100, X0 + 10_001, Y0 + 200)
    sites = gpd.GeoDataFrame(geometry=[strip], crs="EPSG:4549")
    got = assign_districts(sites, two_districts)
    assert got["district"].iloc[0] in ("Alpha", "Beta")
