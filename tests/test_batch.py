"""Batch runs on dask.distributed: equal to one run, resumable."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess

import geopandas as gpd
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
    # Shangcheng has over 5,000 demo sites: above 3,000 the city map is an index and
    # Shangcheng's map is split into parts, so the merge builds the index from cells
    cfg = tmp_path / "c.toml"
    cfg.write_text("[outputs]\nmap_max_sites = 3000\n", encoding="utf-8")
    out = tmp_path / "batch"
    first = run_batch(cfg, DISTRICTS, out_dir=out, workers=2)
    assert not first.failed, first.failed
    assert sorted(first.done) == sorted(DISTRICTS)
    merged = pd.read_csv(first.city_dir / "summary_by_district.csv", encoding="utf-8-sig")

    single = run_census(cfg, DISTRICTS, out_dir=tmp_path / "single")
    ref = single.district_totals.sort_values("adcode").reset_index(drop=True)
    merged = merged.sort_values("adcode").reset_index(drop=True)
    assert merged.adcode.tolist() == ref.adcode.tolist()
    for col in ("sites", "eligible_sites", "capacity_mw_dc", "energy_mwh_yr", "storage_mw"):
        assert_allclose(merged[col].to_numpy(float), ref[col].to_numpy(float), rtol=1e-9)
    # every table of the streamed city folder equals the single run's file
    city, one = first.city_dir, single.run_dir
    for name in (
        "summary_by_district.csv",
        "summary_by_district_category.csv",
        "summary_city.csv",
        "targets.csv",
        "screening_tally.csv",
        "per_person_by_district.csv",
        "supply_curve.csv",
        "pv_hourly_profile_mw.csv",
    ):
        got = pd.read_csv(city / name, encoding="utf-8-sig")
        want = pd.read_csv(one / name, encoding="utf-8-sig")
        pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-9, obj=name)
    # the maps: the same files; district maps byte for byte, the index map's cells equal
    from .test_batch_merge import _cells_of

    def maps(folder):
        return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.html"))

    def page(path):  # folium names its elements with random hex ids
        return re.sub(r"_[0-9a-f]{32}", "_ID", path.read_text(encoding="utf-8"))

    assert maps(city) == maps(one)
    assert "maps/330102_Shangcheng-2.html" in maps(city)
    for name in maps(one):
        if name.startswith("maps/"):
            assert page(city / name) == page(one / name), name
    assert _cells_of(city / "map.html") == _cells_of(one / "map.html")
    n_sites = len(single.sites)
    assert sum(c[4] for cs in _cells_of(city / "map.html").values() for c in cs) == n_sites

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
    second = run_batch(cfg, DISTRICTS, out_dir=out, workers=1)
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


@pytest.fixture(scope="module")
def binjiang_batch(tmp_path_factory):
    """One district through census batch on a LocalCluster (shared by the tests below)."""
    from census.config import DEMO_DIR

    base = tmp_path_factory.mktemp("binjiang")
    cfg = base / "zones.toml"  # with the demo's zones: the zone table and layer are merged too
    cfg.write_text(
        f'[zones]\npath = "{(DEMO_DIR / "demo_zones.gpkg").as_posix()}"\nlayer = "parks"\n'
        'field = "name"\n',
        encoding="utf-8",
    )
    result = run_batch(cfg, ["Binjiang"], out_dir=base / "batch", workers=1)
    assert not result.failed, result.failed
    result.config = cfg
    return result


def test_merge_below_map_max_sites_draws_every_site_on_the_city_map(binjiang_batch, tmp_path):
    import json

    from census.batch_merge import merge_district_runs
    from census.config import load_config
    from census.io.runfolder import open_run
    from tests.test_maps_payload import decode_sites

    first, out = binjiang_batch, binjiang_batch.out_dir
    districts = open_run(first.city_dir).districts()
    folders = [district_folder(out, r.adcode, r.name_en) for r in districts.itertuples()]
    sites = gpd.read_parquet(first.city_dir / "sites.parquet")
    # the city map of the merge (a few thousand sites < 300,000) holds every site once
    text = (first.city_dir / "map.html").read_text(encoding="utf-8")
    blobs = re.findall(r'<script type="application/json" id="[^"]+">(.*?)</script>', text, re.S)
    payloads = [p for p in map(json.loads, blobs) if "cells" in p.get("meta", {})]
    drawn = [r[0] for p in payloads for r in decode_sites(p)[0]]  # packed site data
    assert sorted(drawn) == sorted(sites["site_id"].astype(str))
    # a second merge of the same folders into another folder gives the same tables
    # the zones: the zone table adds up to the district table, the city map has the layer
    zones = pd.read_csv(first.city_dir / "summary_by_zone.csv", encoding="utf-8-sig")
    totals = pd.read_csv(first.city_dir / "summary_by_district.csv", encoding="utf-8-sig")
    assert zones["sites"].sum() == totals["sites"].sum() == len(sites)
    assert_allclose(zones["capacity_mw_dc"].sum(), totals["capacity_mw_dc"].sum(), rtol=1e-9)
    assert "census.addZones(" in text  # the zone outlines a run's city map draws
    loaded = load_config(binjiang_batch.config)
    again = merge_district_runs(folders, districts, loaded, tmp_path / "again")
    for name in (
        "summary_city.csv",
        "supply_curve.csv",
        "screening_tally.csv",
        "summary_by_zone.csv",
    ):
        pd.testing.assert_frame_equal(
            pd.read_csv(again / name, encoding="utf-8-sig"),
            pd.read_csv(first.city_dir / name, encoding="utf-8-sig"),
            obj=name,
        )


def _start(args, *, cwd, env):
    # its own session, so the process and every child it forks can be stopped together
    return subprocess.Popen(
        args,
        cwd=cwd,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _stop(proc):
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def test_batch_on_a_real_multi_process_cluster_equals_the_local_cluster(binjiang_batch, tmp_path):
    """`dask scheduler` and two `dask worker` processes, as on a cluster (here on localhost)."""
    import json
    import sys
    import time
    from pathlib import Path

    from dask.distributed import Client

    import census

    dask_cli = Path(sys.executable).with_name("dask")
    if not dask_cli.is_file():
        pytest.skip("the dask command is not installed next to this Python")
    repo = Path(census.__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(repo)}  # the workers import this census
    info = tmp_path / "scheduler.json"
    procs = [
        _start(
            [
                str(dask_cli),
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--no-dashboard",
                "--scheduler-file",
                str(info),
            ],
            cwd=tmp_path,
            env=env,
        )
    ]
    try:
        deadline = time.monotonic() + 60
        while not info.is_file() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert info.is_file(), "dask scheduler did not start"
        address = json.loads(info.read_text())["address"]
        for k in range(2):
            procs.append(
                _start(
                    [
                        str(dask_cli),
                        "worker",
                        "--scheduler-file",
                        str(info),
                        "--nthreads",
                        "1",
                        "--no-dashboard",
                        "--name",
                        f"w{k}",
                        "--local-directory",
                        str(tmp_path / f"w{k}"),
                    ],
                    cwd=tmp_path,
                    env=env,
                )
            )
        with Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=60)
            assert len(client.scheduler_info()["workers"]) == 2
        remote = run_batch(
            binjiang_batch.config, ["Binjiang"], out_dir=tmp_path / "b", scheduler=address
        )
    finally:
        for proc in reversed(procs):
            _stop(proc)
    assert not remote.failed, remote.failed
    assert remote.done == ["Binjiang"]
    local = binjiang_batch.city_dir
    for name in (
        "summary_by_district_category.csv",
        "targets.csv",
        "supply_curve.csv",
        "summary_by_zone.csv",
    ):
        pd.testing.assert_frame_equal(
            pd.read_csv(remote.city_dir / name, encoding="utf-8-sig"),
            pd.read_csv(local / name, encoding="utf-8-sig"),
            obj=name,
        )
    a = gpd.read_parquet(remote.city_dir / "sites.parquet").sort_values("site_id")
    b = gpd.read_parquet(local / "sites.parquet").sort_values("site_id")
    assert a["site_id"].tolist() == b["site_id"].tolist()
    # the same computation on other processes: equal to the last bit
    assert_allclose(a["energy_mwh_yr"].to_numpy(float), b["energy_mwh_yr"].to_numpy(float), rtol=0)
