"""The CLI's streams and exit codes: results on stdout, warnings and errors on stderr.

Runs use a tiny config (two hand-made roofs in Binjiang, no maps) so they take seconds.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time

import geopandas as gpd
import pytest
import shapely
from typer.testing import CliRunner

from census.cli import INTERRUPTED, app
from census.io.boundaries import read_districts, select_districts
from census.io.runfolder import MARKER

from .conftest import BOUNDARIES


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A config with two roofs in Binjiang (EPSG:4549) and no maps."""
    folder = tmp_path_factory.mktemp("tiny")
    binjiang = select_districts(read_districts(BOUNDARIES, crs="GCJ-02"), ["Binjiang"]).iloc[0]
    p = binjiang.geometry.representative_point()
    roofs = gpd.GeoDataFrame(
        {"roof_id": ["r1", "r2"]},
        geometry=[
            shapely.box(p.x, p.y, p.x + 30, p.y + 20),
            shapely.box(p.x + 100, p.y, p.x + 140, p.y + 25),
        ],
        crs="EPSG:4549",
    )
    roofs.to_file(folder / "roofs.gpkg", layer="roofs")
    config = folder / "tiny.toml"
    config.write_text(
        "allow_synthetic_mix = true\n"
        '[layers.roofs]\npath = "roofs.gpkg"\ncategory = "rooftop"\nid_field = "roof_id"\n'
        "[outputs]\nmap = false\n",
        encoding="utf-8",
    )
    return config


def _run(*args):
    return CliRunner().invoke(app, ["run", *map(str, args)])


def test_results_on_stdout_warnings_on_stderr(tiny, tmp_path):
    res = _run("--config", tiny, "-d", "Binjiang", "--out", tmp_path / "run", "--lang", "en")
    assert res.exit_code == 0, res.output
    prov = json.loads((tmp_path / "run" / "provenance.json").read_text(encoding="utf-8"))
    assert prov["warnings"], "the shipped weather year always warns about GHI = 0 hours"
    assert "Census potential by district" in res.stdout and "Binjiang" in res.stdout
    assert "GHI = 0" in res.stderr and "GHI = 0" not in res.stdout  # `> out.txt` keeps it visible
    assert "Traceback" not in res.output


def test_quiet_prints_one_line_warning_count(tiny, tmp_path):
    res = _run("--config", tiny, "-d", "Binjiang", "--out", tmp_path / "run", "-q")
    assert res.exit_code == 0, res.output
    prov = json.loads((tmp_path / "run" / "provenance.json").read_text(encoding="utf-8"))
    n = len(prov["warnings"])
    assert res.stdout == ""
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"census: {n} warning")


def test_disk_full_is_a_clear_error_and_leaves_nothing(tiny, tmp_path, monkeypatch):
    import pyogrio.raw

    def full(stream, path, **kwargs):  # the GeoPackage writer (census.io.gpkg)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(pyogrio.raw, "write_arrow", full)
    out = tmp_path / "runs" / "r1"
    res = _run("--config", tiny, "-d", "Binjiang", "--out", out)
    assert res.exit_code == 2
    assert "census: error: Could not write " in res.stderr
    assert "sites.gpkg" in res.stderr and "no space left" in res.stderr
    assert "Traceback" not in res.output
    assert list((tmp_path / "runs").iterdir()) == []  # no folder, no hidden temp


def test_out_holding_the_config_is_refused_before_work(tiny, tmp_path):
    res = _run("--config", tiny, "--out", tiny.parent, "--overwrite")
    assert res.exit_code == 2
    assert "census: error:" in res.stderr and "outside your inputs" in res.stderr
    assert tiny.is_file() and (tiny.parent / "roofs.gpkg").is_file()


def test_overwrite_replaces_only_census_folders(tiny, tmp_path):
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "provenance.json").write_text("{}")  # another tool's file of that name
    res = _run("--config", tiny, "-d", "Binjiang", "--out", theirs, "--overwrite")
    assert res.exit_code == 2 and MARKER in res.stderr
    assert (theirs / "provenance.json").read_text() == "{}"


def _census_run(tiny, out, *, code="from census.cli import main; main()"):
    """The command line of `census run` on Binjiang with the tiny config, via ``code``."""
    args = ["run", "--config", str(tiny), "-d", "Binjiang", "--out", str(out)]
    return [sys.executable, "-c", code, *args]


def _open_run_folder(parent):
    return next((p for p in parent.glob(".*.tmp-*") if p.is_dir()), None)


def _written_into(parent):
    folder = _open_run_folder(parent)
    return folder is not None and any(
        p.is_file() and p.name != ".census-tmp.json" for p in folder.rglob("*")
    )


@pytest.mark.parametrize(
    "when",
    [
        # the run folder exists, the layers are being read
        pytest.param(lambda parent: _open_run_folder(parent) is not None, id="loading"),
        # the outputs stage has written its first file (CI, 2026-12-07: a Ctrl-C during
        # the GeoPackage layers came out as pyogrio's RuntimeError, exit 1)
        pytest.param(_written_into, id="writing"),
    ],
)
def test_sigint_says_nothing_written(tiny, tmp_path, when):
    out = tmp_path / "run"
    proc = subprocess.Popen(
        _census_run(tiny, out),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # a pytest-xdist worker ignores SIGINT and a child inherits that: give the run
        # Python's own Ctrl-C back, as a terminal would
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    # the signal goes when the run reaches the point, not after a fixed time
    deadline = time.monotonic() + 120
    while not when(tmp_path) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    if proc.returncode == 0:
        pytest.skip("the run finished before the signal (machine too fast)")
    assert proc.returncode == 130, stderr
    assert INTERRUPTED in stderr
    assert "Exception ignored" not in stderr and "Traceback" not in stderr
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_interruption_after_a_folder_was_committed_says_it_is_complete(monkeypatch, tmp_path):
    # e.g. Ctrl-C during the PostGIS export that follows the run folder's commit
    from census.cli import interrupted_message
    from census.io import runfolder

    monkeypatch.setattr(runfolder, "COMMITTED", [])
    assert interrupted_message() == INTERRUPTED
    monkeypatch.setattr(runfolder, "COMMITTED", [tmp_path / "run"])
    msg = interrupted_message()
    assert str(tmp_path / "run") in msg and "complete" in msg and "census export" in msg
    monkeypatch.setattr(runfolder, "COMMITTED", [tmp_path / "a", tmp_path / "b"])
    msg = interrupted_message()
    assert "2 run folders" in msg and str(tmp_path / "b") in msg


def test_gpkg_written_by_a_child_process_equals_the_inline_one(tiny, tmp_path, monkeypatch):
    """A large run copies sites.gpkg from sites.parquet in a child process: same layer."""
    import pyogrio

    import census.stages.outputs as outputs

    res = _run("--config", tiny, "-d", "Binjiang", "--out", tmp_path / "inline")
    assert res.exit_code == 0, res.output
    monkeypatch.setattr(outputs, "BACKGROUND_GPKG_MIN_SITES", 0)  # the path of a 1e6 run
    res = _run("--config", tiny, "-d", "Binjiang", "--out", tmp_path / "child")
    assert res.exit_code == 0, res.output
    a, b = tmp_path / "inline" / "sites.gpkg", tmp_path / "child" / "sites.gpkg"
    info = [pyogrio.read_info(p, layer="sites")["geometry_type"] for p in (a, b)]
    assert info[0] == info[1]
    ra, rb = pyogrio.read_dataframe(a, layer="sites"), pyogrio.read_dataframe(b, layer="sites")
    assert len(rb) == 2
    assert ra.drop(columns="geometry").equals(rb.drop(columns="geometry"))
    assert shapely.equals(ra.geometry.to_numpy(), rb.geometry.to_numpy()).all()
    # the QGIS styles are added after the child finished
    styles = pyogrio.read_dataframe(b, layer="layer_styles", read_geometry=False)
    assert "sites" in set(styles["f_table_name"])


def test_gpkg_child_process_failure_is_a_clear_error_and_leaves_nothing(
    tiny, tmp_path, monkeypatch
):
    import census.io.gpkg as gpkg
    import census.stages.outputs as outputs

    monkeypatch.setattr(outputs, "BACKGROUND_GPKG_MIN_SITES", 0)
    real_init = gpkg.ParquetCopyProcess.__init__

    def broken(self, parquet, path, layer):  # the child finds no parquet file
        real_init(self, tmp_path / "gone.parquet", path, layer)

    monkeypatch.setattr(gpkg.ParquetCopyProcess, "__init__", broken)
    out = tmp_path / "runs" / "r1"
    res = _run("--config", tiny, "-d", "Binjiang", "--out", out)
    assert res.exit_code == 2, res.output
    assert "census: error: Could not write " in res.stderr and "sites.gpkg" in res.stderr
    assert "GeoPackage writer process failed" in res.stderr
    assert "Traceback" not in res.output
    assert list((tmp_path / "runs").iterdir()) == []


def test_ctrl_c_in_a_half_written_workbook_is_quiet(tiny, tmp_path):
    # a Ctrl-C while openpyxl streams a sheet left its lxml generators to be closed at
    # exit, each printing "Exception ignored in ..." after "interrupted, nothing written"
    # (found by signalling `census run` at 30 points in time, 2026-12-07)
    code = (
        # the Ctrl-C lands when every sheet has its rows and none is closed yet
        "from openpyxl import Workbook\n"
        "def ctrl_c(*args):\n"
        "    raise KeyboardInterrupt\n"
        "Workbook.save = ctrl_c\n"
        "from census.cli import main\n"
        "main()\n"
    )
    out = tmp_path / "run"
    proc = subprocess.run(
        _census_run(tiny, out, code=code),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 130, proc.stderr
    assert INTERRUPTED in proc.stderr
    assert "Exception ignored" not in proc.stderr and "Traceback" not in proc.stderr
    assert not out.exists()


def test_ctrl_c_after_a_finished_run_keeps_its_success(tiny, tmp_path):
    # `census run` exits about 0.5 s after its last line (the interpreter shuts down); a
    # Ctrl-C there killed the process (-SIGINT, 130 in a shell) with the folder complete
    started = tmp_path / "shutting-down"
    code = (
        "import atexit, pathlib, time\n"
        "def slow_exit():\n"
        f"    pathlib.Path({str(started)!r}).touch()\n"
        "    time.sleep(3)\n"
        "atexit.register(slow_exit)\n"
        "from census.cli import main\n"
        "main()\n"
    )
    out = tmp_path / "run"
    proc = subprocess.Popen(
        _census_run(tiny, out, code=code),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # as above
    )
    deadline = time.monotonic() + 120
    while not started.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr
    assert "Exception ignored" not in stderr and "Traceback" not in stderr
    assert (out / MARKER).is_file()


def test_ctrl_c_stops_a_batch_and_its_workers_cleanly(tiny, tmp_path):
    # Ctrl-C in a terminal reaches the batch and its dask workers (one process group):
    # each worker printed a KeyboardInterrupt traceback and left its district's temporary
    # folder behind (found stopping `census batch` at 8 points in time, 2026-12-07)
    out = tmp_path / "batch"
    proc = subprocess.Popen(
        [sys.executable, "-c", "from census.cli import main; main()", "batch"]
        + ["--config", str(tiny), "-d", "Binjiang", "-d", "Xihu", "--workers", "1"]
        + ["--out", str(out), "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's job
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # as above
    )
    try:
        deadline = time.monotonic() + 300
        while (
            _open_run_folder(out / "districts") is None
            and proc.poll() is None
            and time.monotonic() < deadline
        ):
            time.sleep(0.005)
        assert _open_run_folder(out / "districts") is not None, "no district started"
        os.killpg(proc.pid, signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
    assert proc.returncode == 130, stderr
    assert "census: interrupted" in stderr
    assert "KeyboardInterrupt" not in stderr  # from no worker
    assert [p.name for p in out.rglob(".*") if ".tmp-" in p.name] == []
