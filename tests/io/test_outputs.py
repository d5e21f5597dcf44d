"""Tests of census.io.outputs (provenance helpers) and the atomic commit of run folders."""

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
    assert sorted(p.name for p in target.iterdir()) == ["a.csv", "census-folder.json", "p.json"]
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
    (target / "keep.txt").unlink()  # an empty folder may be used
    with RunFolder(target, overwrite=True) as run:
        run.write_text("new.txt", "x")
    assert sorted(p.name for p in target.iterdir()) == ["census-folder.json", "new.txt"]


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


def test_csv_rows_appended_block_by_block_read_back_as_one_table(tmp_path):
    """The batch merge writes its supply curve in blocks: one header, formulas inert."""
    from census.io.outputs import write_csv, write_csv_rows

    blocks = [
        pd.DataFrame({"site_id": ["=HYPERLINK(1)", "r2"], "mw": [1.5, float("nan")]}),
        pd.DataFrame({"site_id": ["-3", "甲"], "mw": [-2.0, 0.1]}),
    ]
    path = tmp_path / "blocks.csv"
    with open(path, "wb") as fh:
        fh.write("\ufeff".encode())
        for k, block in enumerate(blocks):
            write_csv_rows(fh, block, header=k == 0)
    got = pd.read_csv(path, encoding="utf-8-sig")
    # by hand: text starting with = or - gets a leading quote; numbers stay numbers
    assert got["site_id"].tolist() == ["'=HYPERLINK(1)", "r2", "'-3", "甲"]
    assert got["mw"].tolist()[2:] == [-2.0, 0.1] and pd.isna(got["mw"][1])
    # the same rows through write_csv (its pandas path, below 50,000 rows) read the same
    whole = tmp_path / "whole.csv"
    write_csv(whole, pd.concat(blocks, ignore_index=True))
    pd.testing.assert_frame_equal(got, pd.read_csv(whole, encoding="utf-8-sig"))
