"""census batch --province: cities on one cluster, city and province roll-ups, resuming."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from numpy.testing import assert_allclose

import census
from census.batch import run_province
from census.exceptions import ConfigError
from census.province import load_province

from .conftest import DEMO_DIR

PROVINCE = """
[province]
name = "Test province"
name_zh = "测试省"

[[province.cities]]
name = "East"
name_zh = "东市"
districts = ["Binjiang"]

[[province.cities]]
name = "West"
config = "west.toml"
districts = ["Shangcheng"]
"""

slow = pytest.mark.slow
needs_demo = pytest.mark.skipif(
    not (DEMO_DIR / "demo_sites.gpkg").exists(),
    reason="demo layers not generated (census/demo/generate.py)",
)


def _finished_districts(out: Path) -> list[str]:
    # a district folder appears only when its run is committed (atomic rename)
    return sorted(p.name for p in (out / "districts").glob("*/[0-9]*") if p.is_dir())


@slow
@needs_demo
def test_province_rolls_up_cities_and_resumes_after_a_kill(tmp_path):
    (tmp_path / "west.toml").write_text("[outputs]\nmap_max_sites = 3000\n", encoding="utf-8")
    prov = tmp_path / "province.toml"
    prov.write_text(PROVINCE, encoding="utf-8")
    out = tmp_path / "out"
    repo = Path(census.__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(repo)}
    cmd = [sys.executable, "-m", "census.cli", "batch", "--province", str(prov)]
    cmd += ["--out", str(out), "--workers", "1", "-q"]
    # the first batch is killed (with its workers: one process group) once a district is done
    proc = subprocess.Popen(cmd, env=env, start_new_session=True, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 600
        while not _finished_districts(out) and time.monotonic() < deadline:
            assert proc.poll() is None, proc.stderr.read().decode()
            time.sleep(0.2)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    first = _finished_districts(out)
    assert len(first) == 1, first  # one of the two districts, then the kill
    assert not (out / "province").exists()

    result = run_province(prov, out_dir=out, workers=1)
    assert not result.failed, result.failed
    done = [d for r in result.cities.values() for d in r.done]
    skipped = [d for r in result.cities.values() for d in r.skipped]
    assert len(done) == 1 and len(skipped) == 1  # only the missing district recomputed
    assert _finished_districts(out) == ["330102_Shangcheng", "330108_Binjiang"]

    # the layout: a run folder per city, the province roll-up
    east, west = out / "cities" / "East", out / "cities" / "West"
    assert result.cities["East"].city_dir == east and result.cities["West"].city_dir == west
    assert (west / "maps" / "330102_Shangcheng-2.html").is_file()  # West's own config
    by_city = pd.read_csv(out / "province" / "summary_by_city.csv", encoding="utf-8-sig")
    assert by_city["city"].tolist() == ["East", "West", "all (Test province)"]
    for col in ("sites", "eligible_sites", "capacity_mw_dc", "energy_mwh_yr", "storage_mw"):
        per_city = [
            pd.read_csv(d / "summary_by_district.csv", encoding="utf-8-sig")[col].sum()
            for d in (east, west)
        ]
        assert_allclose(by_city[col].to_numpy(float), [*per_city, sum(per_city)], rtol=1e-12)
    assert by_city["sites"].dtype.kind == "i" and by_city["districts"].tolist() == [1, 1, 2]
    dist = pd.read_csv(out / "province" / "summary_by_district.csv", encoding="utf-8-sig")
    assert dist[["city", "name_en"]].values.tolist() == [
        ["East", "Binjiang"],
        ["West", "Shangcheng"],
    ]
    total = pd.read_csv(out / "province" / "summary_province.csv", encoding="utf-8-sig")
    assert_allclose(
        total.loc[total["category"] == "all", "capacity_mw_dc"].to_numpy(float),
        by_city["capacity_mw_dc"].iloc[-1],
        rtol=1e-12,
    )
    targets = pd.read_csv(out / "province" / "targets_by_city.csv", encoding="utf-8-sig")
    assert set(targets["city"]) == {"East", "West"}
    prov_json = (out / "province" / "provenance.json").read_text(encoding="utf-8")
    assert '"Test province"' in prov_json and str(east) in prov_json

    # nothing left to do: a rerun recomputes no district and keeps the city folders
    merged_at = (east / "provenance.json").stat().st_mtime_ns
    again = run_province(prov, out_dir=out, workers=1)
    assert [d for r in again.cities.values() for d in r.done] == []
    assert (east / "provenance.json").stat().st_mtime_ns == merged_at
    assert again.province_dir == out / "province"


def test_province_file_errors_name_the_fix(tmp_path):
    bad = tmp_path / "p.toml"
    bad.write_text('[province]\nname = "P"\ncities = []\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="province.cities"):
        load_province(bad)
    bad.write_text(
        '[province]\nname = "P"\n[[province.cities]]\nname = "A"\nconfig = "nope.toml"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="nope.toml.*does not exist"):
        load_province(bad)
    bad.write_text(
        '[province]\nname = "P"\n[[province.cities]]\nname = "A b"\n'
        '[[province.cities]]\nname = "A-b"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="same folder name"):
        load_province(bad)
    bad.write_text('[study_area]\nname = "X"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[province\]"):
        load_province(bad)
    with pytest.raises(ConfigError, match="not found"):
        load_province(tmp_path / "missing.toml")
