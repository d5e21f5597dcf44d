"""Tests of census.io.outputs: atomic run folders and provenance helpers."""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest

from census.exceptions import OutputExistsError
from census.io.outputs import file_sha256, inputs_provenance, package_versions
from census.io.runfolder import RunFolder


def test_commit_moves_everything_into_place(tmp_path):
    target = tmp_path / "run1"
    with RunFolder(target) as run:
        run.write_csv("a.csv", pd.DataFrame({"x": [1]}))
        run.write_json("p.json", {"k": "西湖"})
        assert not target.exists()  # nothing visible before commit
    assert sorted(p.name for p in target.iterdir()) == ["a.csv", "p.json"]
    assert not list(tmp_path.glob(".run1.tmp-*"))


def test_failure_leaves_nothing_behind(tmp_path):
    target = tmp_path / "run1"
    with pytest.raises(RuntimeError), RunFolder(target) as run:
        run.write_text("half.txt", "...")
        raise RuntimeError("boom")
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_existing_folder_needs_overwrite(tmp_path):
    target = tmp_path / "mine"
    target.mkdir()
    (target / "keep.txt").write_text("user file")
    with pytest.raises(OutputExistsError, match="--overwrite"):
        RunFolder(target)
    assert (target / "keep.txt").read_text() == "user file"
    # --overwrite never deletes a folder that is not census output (a user's documents)
    with pytest.raises(OutputExistsError, match="holds no census output"):
        RunFolder(target, overwrite=True)
    assert (target / "keep.txt").read_text() == "user file"
    (target / "provenance.json").write_text("{}")
    with RunFolder(target, overwrite=True) as run:
        run.write_text("new.txt", "x")
    assert [p.name for p in target.iterdir()] == ["new.txt"]


def test_sha256_and_inputs(tmp_path):
    p = tmp_path / "f.bin"
    p.write_bytes(b"census")
    assert file_sha256(p) == hashlib.sha256(b"census").hexdigest()
    rows = inputs_provenance([p, p, tmp_path / "missing"])
    assert len(rows) == 1 and rows[0]["bytes"] == 6


def test_package_versions_lists_physics_libraries():
    v = package_versions()
    for name in ("python", "pvlib", "windpowerlib", "geopandas", "shapely", "gdal"):
        assert name in v
