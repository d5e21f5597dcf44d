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
    reason="demo layers not generated (scripts/make_demo_data.py)",
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


def test_district_totals_sum_to_city_total(demo_run):
    by = demo_run.by_district
    city = demo_run.city
    tot = city[city.category == "all"].iloc[0]
    assert_allclose(by.capacity_mw.sum(), tot.capacity_mw, rtol=1e-12)
    assert_allclose(by.energy_mwh_yr.sum(), tot.energy_mwh_yr, rtol=1e-12)
    s = demo_run.sites
    assert_allclose(s.loc[s.eligible, "capacity_mw"].sum(), tot.capacity_mw, rtol=1e-9)
    # the CSV on disk holds the same numbers
    csv = pd.read_csv(demo_run.run_dir / "summary_by_district.csv", encoding="utf-8-sig")
    assert_allclose(csv.capacity_mw.sum(), demo_run.district_totals.capacity_mw.sum(), rtol=1e-9)


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
    assert s.loc[s.technology.str.startswith("pv") & s.eligible, "capacity_mw"].sum() > 0
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
    cfg.write_text('[layers.ponds]\npath = "nowhere.gpkg"\n', encoding="utf-8")
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
    cfg.write_text('[layers.ponds]\npath = "nocrs.shp"\nlayer = "nocrs"\n', encoding="utf-8")
    res = CliRunner().invoke(
        app, ["run", "--config", str(cfg), "--out", str(tmp_path / "o"), "--quiet"]
    )
    assert res.exit_code == 2
    assert "no CRS" in res.output and "nocrs.shp" in res.output


def test_config_show_prints_toml():
    res = CliRunner().invoke(app, ["config", "show"])
    assert res.exit_code == 0
    assert "pv_2025_mw = 4800.0" in res.output


def test_empty_layer_warns_and_run_completes(tmp_path):
    empty = gpd.GeoDataFrame(
        {"pond_id": pd.Series(dtype=str)}, geometry=gpd.GeoSeries([], crs="EPSG:4549")
    )
    empty.to_file(tmp_path / "empty.gpkg", layer="ponds")
    cfg = tmp_path / "c.toml"
    cfg.write_text('[layers.ponds]\npath = "empty.gpkg"\nlayer = "ponds"\n', encoding="utf-8")
    res = run_census(cfg, ["Binjiang"], out_dir=tmp_path / "out")
    assert any("empty" in w for w in res.provenance["warnings"])
    assert (res.sites.category != "pond").all()
    assert res.city.loc[res.city.category == "all", "capacity_mw"].iloc[0] > 0  # rooftops remain
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
    cfg.write_text('[layers.ponds]\npath = "bt.gpkg"\nlayer = "ponds"\n', encoding="utf-8")
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
