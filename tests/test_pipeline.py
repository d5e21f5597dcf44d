"""End-to-end tests of `census run` on the embedded demo, and of the CLI's error paths."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from typer.testing import CliRunner

from census.cli import app
from census.pipeline import run_census

from .conftest import DEMO_DIR

pytestmark = pytest.mark.skipif(
    not (DEMO_DIR / "demo_sites.gpkg").exists(),
    reason="demo layers not generated (census/demo/generate.py)",
)

# Qiantang has rooftops, ponds and the estuary mudflats: PV and wind in one small district.
DISTRICT = "Qiantang"


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "qiantang"
    return run_census(None, [DISTRICT], out_dir=out)


def test_outputs_written(demo_run):
    names = {p.name for p in demo_run.run_dir.iterdir()}
    assert {"sites.gpkg", "summary_by_district.csv", "map.html", "provenance.json"} <= names
    assert not list(demo_run.run_dir.parent.glob(".*tmp*"))


def test_sites_parquet_is_the_site_table(demo_run):
    # sites.parquet (GeoParquet, EPSG:4549) holds the same rows as sites.gpkg
    from census.io.geoparquet import geoparquet_metadata

    path = demo_run.run_dir / "sites.parquet"
    assert geoparquet_metadata(path)["columns"]["geometry"]["crs"]["id"]["code"] == 4549
    pq_sites = gpd.read_parquet(path)
    gpkg = gpd.read_file(demo_run.run_dir / "sites.gpkg", layer="sites")
    assert pq_sites.site_id.tolist() == gpkg.site_id.tolist()
    assert_allclose(pq_sites.capacity_mw_dc, gpkg.capacity_mw_dc, rtol=1e-12)
    assert_allclose(pq_sites.geometry.area, gpkg.geometry.area, rtol=1e-12)


def test_district_totals_sum_to_city_total(demo_run):
    by = demo_run.by_district
    city = demo_run.city
    tot = city[city.category == "all"].iloc[0]
    assert_allclose(by.capacity_mw_dc.sum(), tot.capacity_mw_dc, rtol=1e-12)
    assert_allclose(by.energy_mwh_yr.sum(), tot.energy_mwh_yr, rtol=1e-12)
    s = demo_run.sites
    assert_allclose(s.loc[s.eligible, "capacity_mw_dc"].sum(), tot.capacity_mw_dc, rtol=1e-9)
    # the CSV on disk holds the same numbers
    csv = pd.read_csv(demo_run.run_dir / "summary_by_district.csv", encoding="utf-8-sig")
    assert_allclose(
        csv.capacity_mw_dc.sum(), demo_run.district_totals.capacity_mw_dc.sum(), rtol=1e-9
    )


def test_every_site_in_exactly_one_district(demo_run):
    s = demo_run.sites
    assert s["district"].notna().all()
    assert (s["district"] == DISTRICT).all()
    d = demo_run.districts
    pts = gpd.GeoDataFrame(geometry=s.geometry.representative_point(), crs=s.crs)
    hits = gpd.sjoin(pts, d[["adcode", "geometry"]], predicate="within")
    assert hits.index.value_counts().max() == 1
    assert len(hits) == len(s)


def test_capacity_factors_in_unit_interval(demo_run):
    cf = demo_run.sites.loc[demo_run.sites.eligible, "capacity_factor"].to_numpy(dtype=float)
    cf = cf[~np.isnan(cf)]
    assert len(cf) > 0
    assert ((cf >= 0) & (cf <= 1)).all()


def test_eligible_sites_have_usable_area(demo_run):
    s = demo_run.sites
    assert s.eligible.any()
    assert (s.loc[s.eligible, "usable_area_m2"] > 0).all()
    assert (s.loc[s.eligible, "exclusion_reasons"] == "").all()
    assert (s.loc[~s.eligible, "exclusion_reasons"] != "").all()


def test_pv_and_wind_both_present(demo_run):
    s = demo_run.sites
    assert s.loc[s.technology.str.startswith("pv") & s.eligible, "capacity_mw_dc"].sum() > 0
    assert s.loc[(s.technology == "wind") & s.eligible, "n_turbines"].sum() > 0
    assert len(demo_run.turbines) > 0


def test_provenance(demo_run):
    prov = json.loads((demo_run.run_dir / "provenance.json").read_text(encoding="utf-8"))
    assert prov["synthetic_inputs"] is True
    assert "SYNTHETIC" in prov["note"]
    shas = {Path(i["path"]).name: i["sha256"] for i in prov["inputs"]}
    # SOURCES.md checksum of the shipped EPW
    assert shas["CHN_Zhejiang.Hangzhou.584570_CSWD.epw"] == (
        "9dcae54e106556e926a9177af67cff562e61dcda6798cbc23d52a627be0ba1b1"
    )
    keys = {r["key"] for r in prov["assumptions"]}
    assert "targets.storage_min_frac" in keys
    assert set(prov["timings_s"]) >= {"load inputs", "screen sites", "roll-up"}
    assert prov["packages"]["pvlib"]


def test_existing_out_is_not_overwritten(demo_run):
    before = (demo_run.run_dir / "provenance.json").read_bytes()
    res = CliRunner().invoke(
        app, ["run", "--district", DISTRICT, "--out", str(demo_run.run_dir), "--quiet"]
    )
    assert res.exit_code != 0
    assert "--overwrite" in res.output
    assert (demo_run.run_dir / "provenance.json").read_bytes() == before


def test_cli_unknown_district_lists_valid_names(tmp_path):
    res = CliRunner().invoke(
        app, ["run", "--district", "Atlantis", "--out", str(tmp_path / "x"), "--quiet"]
    )
    assert res.exit_code == 2
    assert "Atlantis" in res.output and "Xihu (西湖区, 330106)" in res.output
    assert "Traceback" not in res.output
    assert not (tmp_path / "x").exists()


def test_cli_missing_file_one_line_error(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        'allow_synthetic_mix = true\n[layers.ponds]\npath = "nowhere.gpkg"\ncategory = "pond"\n',
        encoding="utf-8",
    )
    res = CliRunner().invoke(
        app, ["run", "--config", str(cfg), "--out", str(tmp_path / "o"), "--quiet"]
    )
    assert res.exit_code == 2
    assert "nowhere.gpkg" in res.output and "not found" in res.output
    assert "Traceback" not in res.output
    assert not (tmp_path / "o").exists()


def test_cli_config_typo(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text("[rules.categories.pond]\nmin_aera_m2 = 1.0\n", encoding="utf-8")
    res = CliRunner().invoke(app, ["run", "--config", str(cfg), "--quiet"])
    assert res.exit_code == 2
    assert "min_aera_m2" in res.output and str(cfg) in res.output


def test_cli_layer_without_crs(tmp_path):
    import shapely

    gdf = gpd.GeoDataFrame({"pond_id": ["a"]}, geometry=[shapely.box(0, 0, 1, 1)])
    gdf.to_file(tmp_path / "nocrs.shp")
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        'allow_synthetic_mix = true\n[layers.ponds]\npath = "nocrs.shp"\n'
        'layer = "nocrs"\ncategory = "pond"\n',
        encoding="utf-8",
    )
    res = CliRunner().invoke(
        app, ["run", "--config", str(cfg), "--out", str(tmp_path / "o"), "--quiet"]
    )
    assert res.exit_code == 2
    assert "no CRS" in res.output and "nocrs.shp" in res.output


def test_config_show_prints_toml():
    res = CliRunner().invoke(app, ["config", "show"])
    assert res.exit_code == 0
    assert "[targets.records.pv_2025]" in res.output
    assert "capacity_mw = 4800.0" in res.output


def test_empty_layer_warns_and_run_completes(tmp_path):
    empty = gpd.GeoDataFrame(
        {"pond_id": pd.Series(dtype=str)}, geometry=gpd.GeoSeries([], crs="EPSG:4549")
    )
    empty.to_file(tmp_path / "empty.gpkg", layer="ponds")
    cfg = tmp_path / "c.toml"
    demo = DEMO_DIR / "demo_sites.gpkg"
    cfg.write_text(
        '[layers.ponds]\npath = "empty.gpkg"\nlayer = "ponds"\ncategory = "pond"\n'
        "synthetic = true\n\n"
        f'[layers.rooftops]\npath = "{demo.as_posix()}"\nlayer = "rooftops"\n'
        'category = "rooftop"\nid_field = "building_id"\nsynthetic = true\n',
        encoding="utf-8",
    )
    res = run_census(cfg, ["Binjiang"], out_dir=tmp_path / "out")
    assert any("empty" in w for w in res.provenance["warnings"])
    assert (res.sites.category != "pond").all()
    assert res.city.loc[res.city.category == "all", "capacity_mw_dc"].iloc[0] > 0  # rooftops remain
    assert (tmp_path / "out" / "provenance.json").exists()


def test_invalid_geometry_is_repaired_and_counted(tmp_path):
    import shapely

    # a bow-tie pond inside Binjiang: make_valid repairs it, provenance counts it
    d = run_census(None, ["Binjiang"], write=False).districts
    c = d.geometry.iloc[0].representative_point()
    x, y = c.x, c.y
    bowtie = shapely.Polygon([(x, y), (x + 300, y + 300), (x + 300, y), (x, y + 300)])
    gdf = gpd.GeoDataFrame(
        {"pond_id": ["bt"], "water_use": ["aquaculture"]}, geometry=[bowtie], crs="EPSG:4549"
    )
    gdf.to_file(tmp_path / "bt.gpkg", layer="ponds")
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        '[layers.ponds]\npath = "bt.gpkg"\nlayer = "ponds"\ncategory = "pond"\n'
        'id_field = "pond_id"\nsynthetic = true\n',
        encoding="utf-8",
    )
    res = run_census(cfg, ["Binjiang"], write=False)
    ponds = [r for r in res.provenance["layers"] if r["name"] == "ponds"][0]
    assert ponds["repaired"] == 1
    row = res.sites[res.sites.site_id == "ponds:bt"].iloc[0]
    assert_allclose(row.area_m2, 2 * 0.5 * 300 * 150, rtol=1e-9)  # two triangles, by hand


@pytest.mark.slow
def test_sigterm_leaves_no_partial_outputs(tmp_path):
    # SIGTERM at several moments of a run: afterwards there is either a complete run folder
    # or nothing at all, never a hidden temporary folder.
    import signal
    import subprocess
    import sys
    import time

    for delay in (2.0, 3.0, 4.0, 5.0):
        out = tmp_path / f"run{delay:g}"
        proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from census.cli import main; main()",
                "run",
                "-q",
                "--district",
                "Binjiang",
                "--out",
                str(out),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(delay)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
        assert leftovers == [], leftovers
        if out.exists():
            assert (out / "provenance.json").exists()


def _plain_csv_weather(path, scale):
    """Write the shipped weather year, irradiance scaled, in census's plain CSV format."""
    from census.config import load_config
    from census.io.weather import read_weather

    cfg = load_config().config
    data, meta = read_weather(cfg.weather.path, time_shift_h=cfg.weather.time_shift_h)
    frame = data.copy()
    for col in ("ghi", "dni", "dhi"):
        frame[col] = frame[col] * scale
    frame.insert(0, "time", [t.isoformat() for t in frame.index])
    header = (
        f"# latitude: {meta['latitude']}\n# longitude: {meta['longitude']}\n"
        f"# altitude: {meta['altitude']}\n# interval_label: beginning\n"
    )
    path.write_text(header + frame.to_csv(index=False), encoding="utf-8")


def test_weather_per_district(tmp_path):
    # Binjiang gets a year with 80 % of the irradiance; Shangcheng keeps the city file.
    _plain_csv_weather(tmp_path / "dim.csv", 0.8)
    cfg = tmp_path / "c.toml"
    cfg.write_text('[weather.districts]\nBinjiang = "dim.csv"\n', encoding="utf-8")
    base = run_census(None, ["Binjiang", "Shangcheng"], write=False)
    dim = run_census(cfg, ["Binjiang", "Shangcheng"], write=False)

    def yields(res, district):
        s = res.sites[(res.sites.district == district) & res.sites.eligible]
        return s.set_index("site_id")["specific_yield_kwh_kwp"]

    # Shangcheng: identical; Binjiang: lower by roughly the irradiance scale. Not exactly 0.8:
    # Perez's brightness coefficients change with DHI, cooler cells and less inverter clipping
    # move steep and poorly oriented faces either way (seen 0.72-0.93 on pitched roofs).
    assert_allclose(yields(dim, "Shangcheng"), yields(base, "Shangcheng"), rtol=1e-12)
    ratio = (yields(dim, "Binjiang") / yields(base, "Binjiang")).to_numpy()
    assert ((ratio > 0.65) & (ratio < 0.95)).all(), (ratio.min(), ratio.max())
    lo, hi = np.percentile(ratio, [5, 95])
    assert 0.75 < lo and hi < 0.85, (lo, hi)
    assert abs(np.median(ratio) - 0.8) < 0.02
    assert len(dim.provenance["weather"]) == 2
    # the hourly profile still sums to the energy of all PV sites
    pv = dim.sites[dim.sites.technology.str.startswith("pv") & dim.sites.eligible]
    assert_allclose(dim.pv_profile_mw.to_numpy().sum(), pv.energy_mwh_yr.sum(), rtol=1e-6)


def test_cli_map_rebuilds_from_finished_run(demo_run):
    before = (demo_run.run_dir / "map.html").stat().st_mtime_ns
    res = CliRunner().invoke(app, ["map", str(demo_run.run_dir)])
    assert res.exit_code == 2 and "overwrite" in res.output  # never overwrites silently
    assert (demo_run.run_dir / "map.html").stat().st_mtime_ns == before
    res = CliRunner().invoke(
        app, ["map", str(demo_run.run_dir), "--district", "Qiantang", "--overwrite"]
    )
    assert res.exit_code == 0, res.output
    assert "330114_Qiantang.html" in res.output


def test_cli_compare_two_runs_with_different_rules(demo_run, tmp_path):
    cfg = tmp_path / "strict.toml"
    cfg.write_text("[rules.categories.pond]\nmin_area_m2 = 50000.0\n", encoding="utf-8")
    strict = run_census(cfg, [DISTRICT], out_dir=tmp_path / "strict")
    out = tmp_path / "diff.csv"
    res = CliRunner().invoke(
        app, ["compare", str(demo_run.run_dir), str(strict.run_dir), "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    diff = pd.read_csv(out, encoding="utf-8-sig")
    row = diff[
        (diff.technology == "pv_floating")
        & (diff.metric == "capacity_mw_dc")
        & (diff.adcode == 330114)
    ].iloc[0]
    # stricter pond rules can only remove floating PV; the difference is b - a, by definition
    assert row.b <= row.a
    assert_allclose(row.b_minus_a, row.b - row.a, rtol=1e-12, atol=1e-9)
    a_ponds = demo_run.sites[(demo_run.sites.category == "pond") & demo_run.sites.eligible]
    assert_allclose(row.a, a_ponds.capacity_mw_dc.sum(), rtol=1e-9)
    res = CliRunner().invoke(app, ["compare", str(demo_run.run_dir), str(tmp_path / "nope")])
    assert res.exit_code == 2 and "nope" in res.output


def test_gcj02_tiles_are_warned_about(tmp_path):
    from census.config import load_config

    amap = "https://webrd01.is.autonavi.com/appmaptile?x={x}&y={y}&z={z}&style=8"
    loaded = load_config(overrides={"outputs": {"map_tiles": amap}})
    res = run_census(loaded, ["Binjiang"], out_dir=tmp_path / "o")
    assert any("GCJ-02" in w for w in res.provenance["warnings"])


def test_failed_demo_generation_is_a_clear_error_and_leaves_nothing(tmp_path, monkeypatch):
    import census.demo.generate as generate
    import census.io.demo as demo
    from census.config import load_config
    from census.exceptions import InputError

    def full_disk(out):
        (out / "demo_sites.gpkg").write_bytes(b"half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(demo, "DEMO_DIR", tmp_path / "demo")
    monkeypatch.setattr(generate, "build", full_disk)
    with pytest.raises(InputError, match=r"No space left.*writable"):
        demo.ensure_demo_data(load_config().config)
    assert list(tmp_path.iterdir()) == []  # neither the folder nor its temporary copy


def test_demo_from_another_generator_version_is_regenerated(tmp_path, monkeypatch):
    import census.demo.generate as generate
    import census.io.demo as demo
    from census.config import load_config

    calls = []

    def tiny_build(out):
        calls.append(out)
        (out / "demo_sites.gpkg").write_bytes(b"new")
        return {}

    monkeypatch.setattr(demo, "DEMO_DIR", tmp_path / "demo")
    monkeypatch.setattr(generate, "build", tiny_build)
    cfg = load_config().config
    assert demo.ensure_demo_data(cfg) is True  # first use
    assert demo.ensure_demo_data(cfg) is False  # same generator: kept
    # a folder written by another version (its stamp differs) is replaced, not trusted
    (tmp_path / "demo" / demo.STAMP_FILE).write_text("0" * 64, encoding="utf-8")
    (tmp_path / "demo" / "demo_sites.gpkg").write_bytes(b"old")
    assert demo.ensure_demo_data(cfg) is True
    assert (tmp_path / "demo" / "demo_sites.gpkg").read_bytes() == b"new"
    stamp = (tmp_path / "demo" / demo.STAMP_FILE).read_text(encoding="utf-8").strip()
    assert stamp == demo.generator_fingerprint() and len(calls) == 2
