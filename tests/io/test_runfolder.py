"""Tests of census.io.runfolder: marker, safe overwrite, inputs, write errors, stale temps."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from census.exceptions import InputError, OutputExistsError, OutputWriteError
from census.io.runfolder import (
    LAYOUT,
    MARKER,
    SCHEMA_VERSION,
    RunFolder,
    clean_stale_temporaries,
    open_run,
    register_files,
    write_file_atomic,
)


def _write_run(path, **kwargs):
    with RunFolder(path, **kwargs) as run:
        run.write_csv("a.csv", pd.DataFrame({"x": [1]}))
        run.write_text("sub/b.txt", "b")
    return path


def test_marker_lists_kind_schema_and_every_file(tmp_path):
    _write_run(tmp_path / "run")
    marker = json.loads((tmp_path / "run" / MARKER).read_text(encoding="utf-8"))
    assert marker["census_folder"] == "run" and marker["schema"] == SCHEMA_VERSION
    assert marker["files"] == ["a.csv", "sub/b.txt"]
    on_disk = sorted(
        p.relative_to(tmp_path / "run").as_posix()
        for p in (tmp_path / "run").rglob("*")
        if p.is_file()
    )
    assert on_disk == sorted([*marker["files"], MARKER])


def test_overwrite_refuses_another_tools_provenance_json(tmp_path):
    # issue 16.6: a folder with some tool's provenance.json is not census output
    target = tmp_path / "theirs"
    target.mkdir()
    (target / "provenance.json").write_text("{}")
    (target / "thesis.docx").write_text("years of work")
    with pytest.raises(OutputExistsError, match=MARKER):
        RunFolder(target, overwrite=True)
    assert (target / "thesis.docx").read_text() == "years of work"


def test_overwrite_refuses_census_folder_holding_user_files(tmp_path):
    run = _write_run(tmp_path / "run")
    (run / "notes.txt").write_text("mine")
    with pytest.raises(OutputExistsError, match=r"notes\.txt"):
        RunFolder(run, overwrite=True)
    assert (run / "notes.txt").read_text() == "mine"


def test_overwrite_replaces_a_census_folder(tmp_path):
    run = _write_run(tmp_path / "run")
    with RunFolder(run, overwrite=True) as again:
        again.write_text("new.txt", "x")
    assert sorted(p.name for p in run.iterdir()) == [MARKER, "new.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["run"]  # no backup or temp left


@pytest.mark.parametrize("where", ["is", "contains"])
def test_out_that_is_or_contains_an_input_is_refused(tmp_path, where):
    data = tmp_path / "project"
    data.mkdir()
    config = data / "census.toml"
    config.write_text("# mine")
    out = data if where == "is" else tmp_path
    with pytest.raises(OutputExistsError, match="outside your inputs"):
        RunFolder(out, overwrite=True, inputs=[config])
    assert config.read_text() == "# mine"


def test_out_inside_an_input_folder_is_allowed_when_not_an_input_itself(tmp_path):
    inputs = [tmp_path / "layers" / "roofs.gpkg"]
    _write_run(tmp_path / "runs" / "r1", inputs=inputs)  # beside the inputs: fine


def test_unwritable_parent_is_an_error_before_any_work(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    with pytest.raises(OutputWriteError, match="Cannot write in"):
        RunFolder(blocker / "run")


@pytest.mark.parametrize(
    ("code", "words"), [(errno.ENOSPC, "no space left"), (errno.EACCES, "no permission")]
)
def test_write_error_names_file_and_fix_and_leaves_nothing(tmp_path, monkeypatch, code, words):
    import pyogrio.raw

    def full(stream, path, **kwargs):
        raise OSError(code, os.strerror(code), str(path))

    monkeypatch.setattr(pyogrio.raw, "write_arrow", full)
    gdf = gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.Point(0, 0)], crs="EPSG:4549")
    with pytest.raises(OutputWriteError) as info, RunFolder(tmp_path / "run") as run:
        run.write_csv("ok.csv", pd.DataFrame({"x": [1]}))
        run.write_layers("sites.gpkg", {"sites": gdf})
    msg = str(info.value)
    assert str(tmp_path / "run" / "sites.gpkg") in msg and words in msg
    assert "another --out" in msg  # the fix
    assert list(tmp_path.iterdir()) == []  # no half-written folder, no temp


def test_write_error_of_a_writer_writing_into_the_temp_folder(tmp_path):
    # maps, workbook and chart writers write into run.tmp themselves
    with pytest.raises(OutputWriteError, match=r"maps/x\.html"), RunFolder(tmp_path / "r") as run:
        path = run.tmp / "maps" / "x.html"
        raise OSError(errno.ENOSPC, "No space left on device", str(path))
    assert list(tmp_path.iterdir()) == []


def test_stale_temporary_of_a_killed_run_is_cleaned(tmp_path):
    # a real dead process: spawn one, let it exit, reuse its pid in the marker
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    import socket

    def fake(name, pid, host=None):
        d = tmp_path / name
        d.mkdir()
        info = {"pid": pid, "host": host or socket.gethostname()}
        (d / ".census-tmp.json").write_text(json.dumps(info))
        return d

    stale = fake(".run1.tmp-deadbeef", int(dead.stdout))
    alive = fake(".run2.tmp-0badf00d", os.getpid())  # a run still working
    elsewhere = fake(".run3.tmp-12345678", int(dead.stdout), host="another-machine")
    foreign = tmp_path / ".cache.tmp-1"
    foreign.mkdir()  # no census marker: not ours
    _write_run(tmp_path / "next")  # the next run beside them cleans up
    assert not stale.exists()
    assert alive.exists() and elsewhere.exists() and foreign.exists()
    assert clean_stale_temporaries(tmp_path) == []


def test_reader_reads_what_the_writer_wrote(tmp_path):
    sites = gpd.GeoDataFrame(
        {"site_id": ["a"], "eligible": [True]}, geometry=[shapely.box(0, 0, 1, 1)], crs=4549
    )
    with RunFolder(tmp_path / "run") as run:
        run.write_layers(LAYOUT.sites, {LAYOUT.sites_layer: sites})
        run.write_csv(LAYOUT.summary_city, pd.DataFrame({"category": ["all"], "sites": [1]}))
        run.write_json(LAYOUT.provenance, {"census_run": {"config_hash": "abc"}})
    reader = open_run(tmp_path / "run", need=[LAYOUT.sites])
    assert reader.sites()["site_id"].tolist() == ["a"]
    assert bool(reader.sites()["eligible"].iloc[0]) is True
    assert reader.turbines() is None
    assert reader.provenance()["census_run"]["config_hash"] == "abc"
    assert list(reader.summaries()) == ["city"]
    with pytest.raises(InputError, match="districts.gpkg"):
        open_run(tmp_path / "run", need=[LAYOUT.districts])


def test_reader_refuses_newer_schema_and_non_runs(tmp_path):
    run = _write_run(tmp_path / "run")
    marker = json.loads((run / MARKER).read_text())
    marker["schema"] = SCHEMA_VERSION + 1
    (run / MARKER).write_text(json.dumps(marker))
    with pytest.raises(InputError, match="newer census"):
        open_run(run)
    (tmp_path / "plain").mkdir()
    with pytest.raises(InputError, match="not a census run folder"):
        open_run(tmp_path / "plain")


def test_register_files_keeps_overwrite_possible(tmp_path):
    run = _write_run(tmp_path / "run")
    (run / "map.html").write_text("<html>")
    register_files(run, ["map.html"])
    RunFolder(run, overwrite=True)  # every file is census's again: no error


def test_write_file_atomic_leaves_nothing_on_error(tmp_path):
    def boom(path):
        path.write_text("half")
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    with pytest.raises(OutputWriteError, match="no space left"):
        write_file_atomic(tmp_path / "diff.csv", boom)
    assert list(tmp_path.iterdir()) == []


def test_marker_lists_files_a_writer_put_in_a_folder_of_its_own(tmp_path):
    # e.g. a Zarr store: a folder of many files written by xarray, not file by file
    with RunFolder(tmp_path / "run") as run:
        store = run.file("profiles.zarr")
        store.mkdir()
        (store / ".zgroup").write_text("{}")
        (store / "gen" / "0.0").parent.mkdir()
        (store / "gen" / "0.0").write_bytes(b"\0")
    marker = json.loads((tmp_path / "run" / MARKER).read_text(encoding="utf-8"))
    assert marker["files"] == ["profiles.zarr/.zgroup", "profiles.zarr/gen/0.0"]
    RunFolder(tmp_path / "run", overwrite=True)  # only census files: replaceable
