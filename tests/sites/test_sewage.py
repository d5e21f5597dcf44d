"""Sewage-treatment basin covers (category ``sewage_cover``, plan task 27)."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely
from numpy.testing import assert_allclose

from census.resources import load_assumptions
from census.settings.pv import PVConfig
from census.sites.registry import rule_needs
from census.sites.rules import RulesConfig
from census.sites.screen import screen_sites
from census.solar.capacity import add_pv_capacity
from census.solar.systems import gcr_no_winter_shading

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


def _sites(rows: list[tuple[str, shapely.Geometry, str | None, str | None]]) -> gpd.GeoDataFrame:
    gdf = gpd.GeoDataFrame(
        {
            "site_id": [r[0] for r in rows],
            "category": "sewage_cover",
            "kind": [r[2] for r in rows],
            "basin_type": [r[3] for r in rows],
        },
        geometry=[r[1] for r in rows],
        crs=CRS,
    )
    gdf["area_m2"] = gdf.geometry.area
    return gdf


def test_basins_plants_and_closed_tanks(rules):
    plant_a = shapely.box(X0, Y0, X0 + 400.0, Y0 + 300.0)  # holds the next three basins
    aeration = shapely.box(X0 + 20.0, Y0 + 20.0, X0 + 120.0, Y0 + 60.0)  # 100 x 40 m
    clarifier = shapely.Point(X0 + 200.0, Y0 + 150.0).buffer(20.0, quad_segs=64)
    digester = shapely.Point(X0 + 300.0, Y0 + 150.0).buffer(12.0)
    plant_b = shapely.box(X0 + 1000.0, Y0, X0 + 1200.0, Y0 + 150.0)  # outline only
    sump = shapely.box(X0 + 2000.0, Y0, X0 + 2010.0, Y0 + 10.0)  # 100 m2
    sites = _sites(
        [
            ("plantA", plant_a, "plant", None),
            ("aer", aeration, "basin", "aeration"),
            ("clar", clarifier, None, "clarifier"),
            ("dig", digester, "basin", "Digester"),
            ("plantB", plant_b, "wastewater_plant", None),
            ("sump", sump, "basin", None),
        ]
    )
    s = screen_sites(sites, rules, {}).sites.set_index("site_id")
    assert s["eligible"].to_dict() == {
        "plantA": False,
        "aer": True,
        "clar": True,
        "dig": False,
        "plantB": True,
        "sump": False,
    }
    # the plant holding basins counts through them; a digester is a closed tank (biogas)
    assert s.loc["plantA", "exclusion_reasons"] == "plant_has_basins"
    assert s.loc["dig", "exclusion_reasons"] == "closed_tank"
    assert s.loc["sump", "exclusion_reasons"] == "min_area"
    # by hand: 100 m x 40 m = 4000 m2, no edge strip, less 15 % openings = 3400 m2
    assert_allclose(s.loc["aer", "usable_area_m2"], 4000.0 * 0.85, rtol=1e-9)
    # a 20 m radius clarifier: pi r^2 = 1256.6 m2 (64 segments per quarter: 1e-4 of it)
    assert_allclose(s.loc["clar", "usable_area_m2"], 3.14159265 * 400.0 * 0.85, rtol=2e-4)
    # an outline only: 200 m x 150 m = 30 000 m2, 30 % under basins, less 15 % = 7650 m2
    assert_allclose(s.loc["plantB", "usable_area_m2"], 30_000.0 * 0.3 * 0.85, rtol=1e-9)
    assert set(s["pv_archetype"]) == {"basin_cover"}
    assert set(s["technology"]) == {"pv_rooftop"}


def test_basin_cover_capacity(rules, pv):
    sites = _sites([("aer", shapely.box(X0, Y0, X0 + 100.0, Y0 + 40.0), "basin", "aeration")])
    cap = add_pv_capacity(screen_sites(sites, rules, {}).sites, pv).iloc[0]
    # the archetype's GCR is GB 50797-2012's winter-solstice spacing at 10 deg and 30.23 N
    assert_allclose(gcr_no_winter_shading(10.0, 30.23), 0.77, atol=0.005)
    # by hand: 3400 m2 x GCR 0.77 x 22.5 % (TOPCon) x 1000 W/m2 = 0.589050 MW DC; / 1.15 AC
    assert_allclose(cap["capacity_mw_dc"], 3400.0 * 0.77 * 0.225 * 1e-3, rtol=1e-9)
    assert_allclose(cap["capacity_mw_ac"], 3400.0 * 0.77 * 0.225 * 1e-3 / 1.15, rtol=1e-9)
    assert cap["pv_technology"] == "mono_si_topcon"


def test_layer_without_kind_or_type_fields_is_all_basins(rules):
    sites = _sites([("b", shapely.box(X0, Y0, X0 + 50.0, Y0 + 40.0), None, None)])
    sites = sites.drop(columns=["kind", "basin_type"])
    s = screen_sites(sites, rules, {}).sites.iloc[0]
    assert s["eligible"]
    assert_allclose(s["usable_area_m2"], 2000.0 * 0.85, rtol=1e-9)


def test_needs_are_optional_fields(rules):
    needs = [n for n in rule_needs(rules.categories["sewage_cover"]) if n.family == "basin_cover"]
    assert {(n.name, n.required) for n in needs} == {("kind", False), ("basin_type", False)}


def test_sources_are_given():
    _, ledger = load_assumptions("rules")
    src = {r["key"]: r["source"] for r in ledger}
    assert "task 27" in src["rules.categories.sewage_cover.technology"]
    assert src["rules.categories.sewage_cover.basin_cover.plant_basin_share_frac"].startswith(
        "assumption:"
    )
    _, pv_ledger = load_assumptions("pv")
    gcr = next(r for r in pv_ledger if r["key"] == "pv.archetypes.basin_cover.coverage_frac")
    assert "GB 50797-2012" in gcr["source"]


def test_osm_prepare_reads_plants_basins_and_digesters(tmp_path):
    """OSM wastewater tags (osm_tags.yaml layer ``sewage``) into a sewage_cover layer."""
    pytest.importorskip("osmium", reason="pyosmium writes the PBF fixture: pip install osmium")
    import pyogrio

    from census.prepare import prepare_data
    from tests.io.test_osm import PBF

    lon, lat = 119.995, 30.2
    b = PBF()
    b.box(lon, lat, 0.004, 0.003, {"man_made": "wastewater_plant", "name": "WWTP"})  # w1
    b.box(lon + 0.0005, lat + 0.0005, 0.001, 0.0004, {"natural": "water", "water": "wastewater"})
    b.box(lon + 0.002, lat + 0.0005, 0.0004, 0.0004, {"man_made": "clarifier"})  # w3
    b.box(lon + 0.003, lat + 0.002, 0.0003, 0.0003, {"man_made": "bioreactor"})  # w4
    b.box(lon + 0.0005, lat + 0.002, 0.001, 0.0005, {"landuse": "basin", "basin": "aeration"})
    b.box(lon + 0.01, lat, 0.002, 0.002, {"natural": "water", "water": "pond"})  # w6: a pond
    b.box(lon + 0.0025, lat + 0.0022, 0.0004, 0.0004, {"natural": "water"})  # w7: in the plant
    b.box(lon + 0.0025, lat + 0.0012, 0.0004, 0.0003, {"natural": "water", "water": "pond"})
    b.box(lon + 0.015, lat, 0.001, 0.001, {"natural": "water"})  # w9: water outside any plant
    pbf = b.write(tmp_path / "wwtp.osm.pbf")
    to_m = gpd.GeoSeries([shapely.box(119.99, 30.19, 120.02, 30.21)], crs=4326).to_crs(CRS)
    area = gpd.GeoDataFrame(
        {"adcode": [330110], "name_zh": ["余杭区"], "name_en": ["Yuhang"]},
        geometry=to_m.values,
        crs=CRS,
    )
    area.to_file(tmp_path / "area.gpkg", layer="districts")
    with pytest.warns(UserWarning):
        result = prepare_data(osm=pbf, study_area=tmp_path / "area.gpkg", out=tmp_path / "out")
    sewage = pyogrio.read_dataframe(result.layers["sewage"], layer="sewage").set_index("osm_id")
    # water inside the plant's outline (w7 untagged, w8 a pond by its tags) is its basins;
    # w9 lies in no plant and is no sewage site
    assert sorted(sewage.index) == ["w1", "w2", "w3", "w4", "w5", "w7", "w8"]
    assert sewage["kind"].to_dict() == {
        "w1": "plant",
        "w2": "basin",
        "w3": "basin",
        "w4": "basin",
        "w5": "basin",
        "w7": "basin",
        "w8": "basin",
    }
    assert sewage.loc[["w2", "w3", "w4", "w5"], "basin_type"].tolist() == [
        "basin",
        "clarifier",
        "digester",
        "aeration",
    ]
    # the aeration basin (landuse=basin) and the pond inside the plant are the sewage
    # layer's, not ponds
    ponds = pyogrio.read_dataframe(result.layers["ponds"], layer="ponds")
    assert ponds["osm_id"].tolist() == ["w6"]
    assert any("inside a 'plant' outline" in w for w in result.warnings)
    # the written config screens the layer as sewage_cover
    import tomllib

    cfg = tomllib.loads((tmp_path / "out" / "census.toml").read_text(encoding="utf-8"))
    assert cfg["layers"]["sewage"]["category"] == "sewage_cover"
