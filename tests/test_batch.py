"""Batch runs on dask.distributed: equal to one run, resumable."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
from numpy.testing import assert_allclose

from census.batch import district_folder, run_batch
from census.pipeline import run_census

from .conftest import DEMO_DIR

pytestmark = [
    pytest.mark.skipif(
        not (DEMO_DIR / "demo_sites.gpkg").exists(),
        reason="demo layers not generated (census/demo/generate.py)",
    ),
    pytest.mark.slow,
]

DISTRICTS = ["Binjiang", "Shangcheng"]  # the two smallest urban districts: fast


def test_batch_equals_single_run_and_resumes(tmp_path):
    out = tmp_path / "batch"
    first = run_batch(None, DISTRICTS, out_dir=out, workers=2)
    assert not first.failed, first.failed
    assert sorted(first.done) == sorted(DISTRICTS)
    merged = pd.read_csv(first.city_dir / "summary_by_district.csv", encoding="utf-8-sig")

    single = run_census(None, DISTRICTS, write=False)
    ref = single.district_totals.sort_values("adcode").reset_index(drop=True)
    merged = merged.sort_values("adcode").reset_index(drop=True)
    assert merged.adcode.tolist() == ref.adcode.tolist()
    for col in ("sites", "eligible_sites", "capacity_mw_dc", "energy_mwh_yr", "storage_mw"):
        assert_allclose(merged[col].to_numpy(float), ref[col].to_numpy(float), rtol=1e-9)
    # the city folder's hourly profiles are the districts' (issue 20)
    from census.io.profiles import read_profiles

    city_profiles = read_profiles(first.city_dir / "profiles.nc")
    assert sorted(city_profiles["district"].to_numpy()) == sorted(ref["adcode"])
    assert_allclose(
        city_profiles["generation_mw"]
        .sum(["time", "technology"])
        .sel(district=ref["adcode"].to_numpy()),
        ref["energy_mwh_yr"].to_numpy(float),
        rtol=1e-3,  # float32 on disk
    )

    # the city folder is a complete run folder: census map and census compare accept it
    from typer.testing import CliRunner

    from census.cli import app
    from census.io.runfolder import MARKER

    city = first.city_dir
    for name in (MARKER, "provenance.json", "districts.gpkg", "sites.gpkg", "report.html"):
        assert (city / name).is_file(), name
    assert_allclose(
        pd.read_csv(city / "supply_curve.csv", encoding="utf-8-sig")
        .groupby("curve")["capacity_mw_dc"]
        .sum()
        .to_numpy(float),
        single.supply_curve.groupby("curve")["capacity_mw_dc"].sum().to_numpy(float),
        rtol=1e-9,
    )
    runner = CliRunner()
    res = runner.invoke(app, ["map", str(city), "-d", "Binjiang", "--overwrite"])
    assert res.exit_code == 0, res.output
    assert any(line.endswith(".html") and "Binjiang" in line for line in res.stdout.splitlines())
    district_run = district_folder(out, 330108, "Binjiang")
    res = runner.invoke(app, ["compare", str(district_run), str(city)])
    assert res.exit_code == 0, res.output
    assert "Shangcheng" in res.stdout  # in the city run only

    # the city folder's GeoParquet holds every district's sites
    import geopandas as gpd

    city_sites = gpd.read_parquet(first.city_dir / "sites.parquet")
    assert city_sites.crs.to_epsg() == 4549
    assert len(city_sites) == int(ref.sites.sum())

    # an interrupted batch: one district's folder is gone; the rerun recomputes only that one
    folders = sorted((out / "districts").iterdir())
    shutil.rmtree(folders[0])
    second = run_batch(None, DISTRICTS, out_dir=out, workers=1)
    assert len(second.done) == 1 and len(second.skipped) == 1
    assert not second.failed


def test_district_folder_name_is_safe(tmp_path):
    assert district_folder(tmp_path, 330112, "Lin'an").name == "330112_Lin_an"


def test_failing_district_is_reported_and_others_finish(tmp_path):
    from typer.testing import CliRunner

    from census.cli import app

    cfg = tmp_path / "c.toml"
    cfg.write_text('[weather.districts]\nBinjiang = "missing.epw"\n', encoding="utf-8")
    res = CliRunner().invoke(
        app,
        [
            "batch",
            "--config",
            str(cfg),
            "-d",
            "Binjiang",
            "-d",
            "Shangcheng",
            "--workers",
            "1",
            "--out",
            str(tmp_path / "b"),
            "-q",
        ],
    )
    assert res.exit_code == 1
    assert "Binjiang" in res.output and "missing.epw" in res.output
    done = [p.name for p in (tmp_path / "b" / "districts").iterdir()]
    assert done == ["330102_Shangcheng"]
