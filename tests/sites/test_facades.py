"""BIPV facades (category ``facade``, plan task 11): geometry, neighbour shading, vertical yield."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pvlib
import pytest
import shapely
from numpy.testing import assert_allclose

from census.exceptions import SchemaError
from census.io.weather import read_weather
from census.resources import load_assumptions
from census.settings.pv import PVConfig
from census.sites.rules import RulesConfig
from census.sites.screen import screen_sites
from census.solar.capacity import add_pv_capacity
from census.solar.facade import expand_facades, facade_edges, facades_from_footprints
from census.solar.yield_ import add_pv_yield

X0, Y0 = 500_000.0, 3_340_000.0
CRS = "EPSG:4549"
EPW = Path(__file__).resolve().parents[2] / "data/raw/weather/CHN_Zhejiang.Hangzhou.584570_CSWD.epw"
K = 1.21  # rules.yaml facade.shading_distance_factor (大寒日 noon shadow at 30.32 N)
NO_SCENIC = {"scenic_areas": gpd.GeoSeries([], crs=CRS)}  # the heritage rule's layer, empty


@pytest.fixture(scope="module")
def rules() -> RulesConfig:
    values, _ = load_assumptions("rules")
    values["categories"]["facade"]["facade"]["min_building_height_m"] = 0.0
    return RulesConfig.model_validate(values)


def _box(x: float, y: float, w: float, h: float) -> shapely.Polygon:
    return shapely.box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + h)


def _footprints(geoms, heights, ids=None) -> gpd.GeoDataFrame:
    n = len(geoms)
    gdf = gpd.GeoDataFrame(
        {
            "site_id": ids or [f"facades:B{i}" for i in range(n)],
            "category": "facade",
            "district": "Test",
            "adcode": pd.array([330106] * n, dtype="Int64"),
            "height_m": heights,
        },
        geometry=geoms,
        crs=CRS,
    )
    gdf["area_m2"] = gdf.geometry.area
    return gdf


def _facades(geoms, heights, **kw):
    return facades_from_footprints(
        gpd.GeoSeries(geoms, crs=CRS),
        np.asarray(heights, float),
        shading_distance_factor=K,
        party_wall_m=1.0,
        strip_depth_m=2.0,
        **kw,
    ).set_index("facade_side")


def test_box_facades_by_hand():
    # a 20 m x 10 m box, 15 m high, long side facing south
    f = _facades([_box(0, 0, 20, 10)], [15.0])
    assert sorted(f.index) == ["E", "S", "W"]  # north dropped
    assert_allclose(f.loc["S", "wall_area_m2"], 20 * 15, rtol=1e-12)
    assert_allclose(f.loc[["E", "W"], "wall_area_m2"], [10 * 15, 10 * 15], rtol=1e-12)
    assert_allclose(f.loc[["S", "E", "W"], "facade_azimuth_deg"], [180, 90, 270], atol=1e-9)
    assert (f["shaded_frac"] == 0).all()
    # the geometry is a 2 m strip in front of each wall, outside the building
    assert_allclose(f.geometry.area.loc[["S", "E", "W"]], [40, 20, 20], rtol=1e-9)
    assert not shapely.intersects(f.geometry.values, _box(0.001, 0.001, 19.998, 9.998)).any()
    # clockwise input rings give the same facades
    cw = shapely.Polygon(list(_box(0, 0, 20, 10).exterior.coords)[::-1])
    assert_allclose(
        _facades([cw], [15.0])["wall_area_m2"].sort_index(), f["wall_area_m2"].sort_index()
    )


def test_l_shape_merges_edges_per_side_and_rotation():
    # an L of 30 x 30 m with a 20 x 20 m notch (NE): east walls 10 + 20 m, south 30 m
    ell = shapely.Polygon([(0, 0), (30, 0), (30, 10), (10, 10), (10, 30), (0, 30)])
    ell = shapely.affinity.translate(ell, X0, Y0)
    f = _facades([ell], [10.0])
    assert_allclose(f.loc[["S", "E", "W"], "facade_length_m"], [30, 30, 30], rtol=1e-12)
    # rotated 30 deg counter-clockwise: the south wall's normal turns to 180 - 30 = 150 deg
    rot = _facades([shapely.affinity.rotate(_box(0, 0, 20, 10), 30.0)], [15.0])
    assert_allclose(rot.loc["S", "facade_azimuth_deg"], 150.0, atol=1e-9)
    assert_allclose(rot.loc["S", "wall_area_m2"], 300.0, rtol=1e-9)  # rotation rounding
    edges = facade_edges(np.array([_box(0, 0, 20, 10)]))
    assert sorted(edges["side"]) == [0, 1, 2, 3]


def test_neighbour_shading_by_hand():
    box = _box(0, 0, 20, 10)  # 15 m high: rays reach 1.21 x 15 = 18.15 m
    # a 20 m building 12 m south (12 < 18.15, taller): the south facade is shaded
    near_tall = _box(0, -20, 20, 8)
    # a 10 m building 12 m west: not taller, no shade
    near_low = _box(-20, 0, 8, 10)
    # a 30 m building 25 m east: taller but beyond 18.15 m
    far_tall = _box(45, 0, 10, 10)
    f = _facades(
        [box, near_tall, near_low, far_tall],
        [15.0, 20.0, 10.0, 30.0],
        keep=np.array([True, False, False, False]),
    )
    assert_allclose(f.loc[["S", "E", "W"], "shaded_frac"], [1.0, 0.0, 0.0], atol=1e-12)
    # a taller neighbour covering the west half of the south front: rays at 5 m and 10 m
    # (x = 5, 10) meet it, the ray at 15 m does not: 2 of 3 rays blocked
    half = _box(-5, -20, 15.5, 8)
    f = _facades([box, half], [15.0, 20.0], keep=np.array([True, False]))
    assert_allclose(f.loc["S", "shaded_frac"], 2 / 3, rtol=1e-12)
    # a low building 0.5 m east: a party wall, whatever its height
    f = _facades([box, _box(20.5, 0, 10, 10)], [15.0, 5.0], keep=np.array([True, False]))
    assert_allclose(f.loc["E", "shaded_frac"], 1.0)


def test_screening_window_share_and_shaded_drop(rules):
    box = _box(0, 0, 20, 10)
    sites = _footprints([box, _box(0, -20, 20, 8)], [15.0, 20.0], ids=["facades:A", "facades:T"])
    fac = expand_facades(sites, rules)
    assert set(fac["site_id"]) >= {"facades:A:S", "facades:A:E", "facades:A:W"}
    s = screen_sites(fac, rules, NO_SCENIC).sites.set_index("site_id")
    # south facade of A lies in T's noon shadow: dropped
    assert s.loc["facades:A:S", "exclusion_reasons"] == "facade_shaded"
    assert not s.loc["facades:A:S", "eligible"]
    # by hand: east wall 10 m x 15 m = 150 m2 less 35 % windows (JGJ 134-2010) = 97.5 m2
    assert_allclose(s.loc["facades:A:E", "usable_area_m2"], 150 * 0.65, rtol=1e-9)
    assert_allclose(s.loc["facades:A:E", "area_m2"], 150.0, rtol=1e-12)
    assert s.loc["facades:A:E", "surface_tilt_deg"] == 90.0
    assert_allclose(s.loc["facades:A:E", "surface_azimuth_deg"], 90.0, atol=1e-9)
    # T's own south facade: 20 m x 20 m = 400 m2 less 45 % windows = 220 m2
    assert_allclose(s.loc["facades:T:S", "usable_area_m2"], 400 * 0.55, rtol=1e-9)
    assert set(s["technology"]) == {"pv_bipv"} and set(s["pv_archetype"]) == {"bipv_facade"}
    assert (s["district"] == "Test").all()


def test_missing_height_field_and_bad_heights(rules):
    sites = _footprints([_box(0, 0, 20, 10)], [15.0]).drop(columns="height_m")
    with pytest.raises(SchemaError, match="height_m"):
        expand_facades(sites, rules)
    sites = _footprints([_box(0, 0, 20, 10), _box(100, 0, 20, 10)], [np.nan, 15.0])
    with pytest.warns(UserWarning, match="1 of 2 buildings"):
        out = expand_facades(sites, rules)
    assert sorted(out["site_id"]) == ["facades:B1:E", "facades:B1:S", "facades:B1:W"]


def test_low_buildings_give_no_facades_but_still_shade():
    values, _ = load_assumptions("rules")
    rules = RulesConfig.model_validate(values)  # min_building_height_m = 24 m
    sites = _footprints([_box(0, 0, 20, 10), _box(0, -20, 20, 8)], [15.0, 30.0])
    out = expand_facades(sites, rules).set_index("site_id")
    assert sorted(out.index) == ["facades:B1:E", "facades:B1:S", "facades:B1:W"]


def test_neighbours_outside_the_run_shade_but_give_no_facades(rules):
    # A (15 m) in the run's district; T (20 m, taller) 12 m south of it, in the next
    # district: 12 m < 1.21 x 15 m = 18.15 m, so T shades A's south wall (by hand)
    a = _footprints([_box(0, 0, 20, 10)], [15.0], ids=["facades:A"])
    t = _footprints([_box(0, -20, 20, 8)], [20.0], ids=["facades:T"])
    alone = expand_facades(a, rules).set_index("site_id")
    assert_allclose(alone.loc["facades:A:S", "shaded_frac"], 0.0)
    fac = expand_facades(a, rules, neighbours=t).set_index("site_id")
    assert sorted(fac.index) == ["facades:A:E", "facades:A:S", "facades:A:W"]  # none of T
    assert_allclose(fac.loc["facades:A:S", "shaded_frac"], 1.0)
    assert_allclose(fac.loc[["facades:A:E", "facades:A:W"], "shaded_frac"], [0.0, 0.0])
    # the same as when both are sites of the run
    both = expand_facades(pd.concat([a, t], ignore_index=True), rules).set_index("site_id")
    assert_allclose(both.loc[fac.index, "shaded_frac"], fac["shaded_frac"], rtol=0)


def test_vertical_yield_matches_pvlib_modelchain(rules):
    # the demo's weather year, with its one-hour shift (default.toml [weather] time_shift_h)
    weather, meta = read_weather(EPW, tz="Asia/Shanghai", time_shift_h=-1.0)
    values, _ = load_assumptions("pv")
    values["diffuse_iam_model"] = "none"  # pvlib's ModelChain applies the IAM to beam only
    cfg = PVConfig.model_validate(values)
    fac = expand_facades(_footprints([_box(0, 0, 40, 20)], [30.0]), rules)
    sites = add_pv_capacity(screen_sites(fac, rules, NO_SCENIC).sites, cfg)
    out, _ = add_pv_yield(sites, weather, meta, cfg)
    got = out.set_index("site_id")["specific_yield_kwh_kwp"]

    # reference: pvlib ModelChain (PVWatts DC/AC/losses, Perez, physical IAM, SAPM
    # insulated-back temperature of the archetype), CdTe gamma -0.32 %/K (First Solar
    # Series 7), DC/AC 1.3, inverter 98.5 %; EPW hours labelled at their start, so the
    # sun is placed at mid-hour by shifting the index 30 min
    loc = pvlib.location.Location(
        meta["latitude"], meta["longitude"], "Asia/Shanghai", meta["altitude"]
    )
    wx = weather.copy()
    wx.index = wx.index + pd.Timedelta(minutes=30)
    losses = {k.removesuffix("_frac"): v * 100 for k, v in values["losses"].items()}
    for side, az in (("S", 180.0), ("E", 90.0), ("W", 270.0)):
        system = pvlib.pvsystem.PVSystem(
            surface_tilt=90.0,
            surface_azimuth=az,
            albedo=0.18,
            module_parameters={"pdc0": 1.0, "gamma_pdc": -0.0032},
            temperature_model_parameters={"a": -2.81, "b": -0.0455, "deltaT": 0.0},
            inverter_parameters={"pdc0": 1.0 / 1.3 / 0.985, "eta_inv_nom": 0.985},
            losses_parameters=losses,
        )
        mc = pvlib.modelchain.ModelChain(
            system,
            loc,
            transposition_model="perez",
            aoi_model="physical",
            spectral_model="no_loss",
            dc_model="pvwatts",
            ac_model="pvwatts",
            losses_model="pvwatts",
            temperature_model="sapm",
        )
        mc.run_model(wx)
        expected = float(mc.results.ac.clip(lower=0).sum())
        # same models on both sides; 0.5 % allows for the airmass and solar-position
        # inputs ModelChain derives itself (pressure, refraction)
        assert_allclose(got[f"facades:B0:{side}"], expected, rtol=5e-3)
        # plausibility: performance ratio = yield / plane-of-array insolation in 0.65-0.85
        pr = expected / (mc.results.total_irrad["poa_global"].sum() / 1000.0)
        assert 0.65 < pr < 0.85, (side, pr)
    assert got["facades:B0:E"] < got["facades:B0:S"] and got["facades:B0:W"] < got["facades:B0:S"]


def test_sources_cite_the_rules():
    _, ledger = load_assumptions("rules")
    src = {r["key"]: r["source"] for r in ledger if ".facade." in r["key"]}
    assert "日照" in src["rules.categories.facade.facade.shading_distance_factor"]
    assert "JGJ 134-2010" in src["rules.categories.facade.facade.window_to_wall_frac"]
    _, pv_ledger = load_assumptions("pv")
    tech = {r["key"]: r["source"] for r in pv_ledger}
    assert "emerging" in tech["pv.technologies.perovskite.label"]


@pytest.mark.slow
def test_demo_district_with_facades_in_every_output(tmp_path):
    """The demo's facade layer switched on for one district: facades reach every output."""
    from census.pipeline import run_census

    cfg = tmp_path / "facades.toml"
    from tests.conftest import DEMO_DIR

    demo = (DEMO_DIR / "demo_sites.gpkg").as_posix()
    # the facades alone (the other demo layers off) keep the run short
    others = ("rooftops", "ponds", "mines", "landfills", "forest", "mudflats", "agri", "sewage")
    cfg.write_text(
        f'[layers.facades]\npath = "{demo}"\nlayer = "rooftops"\ncategory = "facade"\n'
        'id_field = "building_id"\nsynthetic = true\n\n[outputs]\nlanguage = "en"\n\n'
        + "".join(f"[layers.{name}]\nenabled = false\n\n" for name in others),
        encoding="utf-8",
    )
    res = run_census(cfg, ["Binjiang"], out_dir=tmp_path / "out")
    fac = res.sites[res.sites["category"] == "facade"]
    assert len(fac) > 100 and fac["eligible"].any()
    assert fac["site_id"].str.match(r"^facades:B\d{6}:[SEW]$").all()
    ok = fac[fac["eligible"]]
    assert (ok["surface_tilt_deg"] == 90.0).all() and (ok["pv_technology"] == "cdte").all()
    assert (ok["capacity_mw_dc"] > 0).all() and (ok["energy_mwh_yr"] > 0).all()
    # the roll-up counts them once: the facade row of the district table equals the sites
    by = res.by_district
    row = by[by["category"] == "facade"]
    assert_allclose(row["capacity_mw_dc"].sum(), ok["capacity_mw_dc"].sum(), rtol=1e-9)
    run = tmp_path / "out"
    table = pd.read_csv(run / "summary_by_district_category.csv")
    assert "facade" in set(table["category"])
    assert "BIPV facades" in (run / "report.html").read_text(encoding="utf-8")
    assert "Facade (" in (run / "map.html").read_text(encoding="utf-8")  # the layer toggle


def test_osm_prepare_offers_facades_switched_off(tmp_path):
    """`census data prepare --osm`: rooftops with heights give a [layers.facades], off."""
    pytest.importorskip("osmium", reason="pyosmium writes the PBF fixture: pip install osmium")
    import tomllib

    from census.pipeline import run_census
    from census.prepare import prepare_data
    from tests.io.test_osm import PBF

    lon, lat = 119.995, 30.2
    b = PBF()
    b.box(lon, lat, 0.0004, 0.0002, {"building": "office", "height": "45 m"})  # w1
    b.box(lon + 0.001, lat, 0.0003, 0.0003, {"building": "yes"})  # w2: no height
    pbf = b.write(tmp_path / "b.osm.pbf")
    area = gpd.GeoDataFrame(
        {"adcode": [330110], "name_zh": ["余杭区"], "name_en": ["Yuhang"]},
        geometry=gpd.GeoSeries([shapely.box(119.99, 30.19, 120.02, 30.21)], crs=4326)
        .to_crs(CRS)
        .values,
        crs=CRS,
    )
    area.to_file(tmp_path / "area.gpkg", layer="districts")
    with pytest.warns(UserWarning) as record:
        result = prepare_data(osm=pbf, study_area=tmp_path / "area.gpkg", out=tmp_path / "out")
    messages = [str(w.message) for w in record]
    assert any("[layers.facades]" in m and "1 of 2 buildings" in m for m in messages)
    assert not any("switches off the default [layers.facades]" in m for m in messages)
    text = result.config.read_text(encoding="utf-8")
    facades = tomllib.loads(text)["layers"]["facades"]
    assert facades == {
        "enabled": False,
        "path": "sites.gpkg",
        "layer": "rooftops",
        "crs": "EPSG:4549",
        "category": "facade",
        "id_field": "osm_id",
        "synthetic": False,
    }
    # switched on, the 45 m office gives its S, E and W facades
    on = tmp_path / "out" / "on.toml"
    on.write_text(
        text.replace("[layers.facades]\nenabled = false", "[layers.facades]\nenabled = true"),
        encoding="utf-8",
    )
    res = run_census(on, write=False)
    fac = res.sites[res.sites["category"] == "facade"]
    assert sorted(fac["site_id"]) == ["facades:w1:E", "facades:w1:S", "facades:w1:W"]


def test_a_district_run_sees_the_neighbours_across_its_border(tmp_path, monkeypatch):
    """Binjiang's walls are shaded as in a run that also holds Xiaoshan (its land
    neighbour): a district run (and census batch) reads the buildings across the
    border within reach. Without them one Binjiang wall of the demo lost 2/3 of its
    shade."""
    from census.pipeline import run_census
    from tests.conftest import DEMO_DIR

    demo = (DEMO_DIR / "demo_sites.gpkg").as_posix()
    others = ("rooftops", "ponds", "mines", "landfills", "forest", "mudflats", "agri", "sewage")
    cfg = tmp_path / "facades.toml"
    cfg.write_text(
        f'[layers.facades]\npath = "{demo}"\nlayer = "rooftops"\ncategory = "facade"\n'
        'id_field = "building_id"\nsynthetic = true\n\n'
        + "".join(f"[layers.{name}]\nenabled = false\n\n" for name in others),
        encoding="utf-8",
    )
    alone = run_census(cfg, ["Binjiang"], write=False).sites.set_index("site_id")
    pair = run_census(cfg, ["Binjiang", "Xiaoshan"], write=False).sites.set_index("site_id")
    pair = pair[pair["adcode"] == 330108]
    assert sorted(alone.index) == sorted(pair.index) and len(alone) > 100
    assert_allclose(
        alone["shaded_frac"].to_numpy(), pair.loc[alone.index, "shaded_frac"].to_numpy(), rtol=0
    )
    # without the neighbour read (the old behaviour) some Binjiang wall differs, so the
    # demo does test it
    import census.stages.load as load_stage

    monkeypatch.setattr(load_stage, "facade_neighbours", lambda *a, **k: None)
    blind = run_census(cfg, ["Binjiang"], write=False).sites.set_index("site_id")
    assert (blind.loc[alone.index, "shaded_frac"] < alone["shaded_frac"]).any()
