"""Output folders: an earlier run is never replaced unasked; a file is never taken for a folder.

Also: --overwrite replaces only folders census wrote, and only its own files in them;
--out may not be or hold an input; an unwritable --out is refused before any work.
"""

from __future__ import annotations

from .conftest import assert_clear_error, run_case


def _tree(folder):
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_existing_run_is_kept_without_overwrite(case, tmp_path):
    out = tmp_path / "run1"
    first = run_case(case, out)
    assert first.exit_code == 0, first.output
    before = _tree(out)
    inputs = case.digests()
    res = run_case(case, out)
    assert_clear_error(res, str(out), "already exists", "--overwrite")
    assert _tree(out) == before
    assert case.digests() == inputs
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_out_is_an_existing_file(case, tmp_path):
    target = tmp_path / "notes.txt"
    target.write_text("my notes\n", encoding="utf-8")
    res = run_case(case, target, "--overwrite")
    assert_clear_error(res, "notes.txt", "not a folder")
    assert target.read_text(encoding="utf-8") == "my notes\n"


def test_overwrite_refuses_a_foreign_folder_with_a_provenance_json(case, tmp_path):
    # another tool's output folder: it has a provenance.json, but no census marker
    folder = tmp_path / "qgis_project"
    folder.mkdir()
    (folder / "provenance.json").write_text('{"tool": "other"}', encoding="utf-8")
    (folder / "parcels.shp").write_bytes(b"user data")
    before = _tree(folder)
    res = run_case(case, folder, "--overwrite")
    assert_clear_error(res, str(folder), "--overwrite only replaces folders census wrote")
    assert _tree(folder) == before


def test_overwrite_refuses_a_census_folder_holding_user_files(case, tmp_path):
    out = tmp_path / "run1"
    assert run_case(case, out).exit_code == 0
    (out / "my_notes.docx").write_bytes(b"planner's notes")
    before = _tree(out)
    res = run_case(case, out, "--overwrite")
    assert_clear_error(res, "my_notes.docx", "census did not write")
    assert _tree(out) == before


def test_out_that_holds_the_inputs_is_refused(case, tmp_path):
    before = case.digests()
    res = run_case(case, case.folder, "--overwrite")
    assert_clear_error(res, str(case.folder), "is or contains the input")
    assert case.digests() == before


def test_out_inside_an_input_folder_is_refused(case, tmp_path):
    # the wind atlas is a folder input: a run folder inside it is refused too
    atlas = case.folder / "atlas"
    atlas.mkdir()
    case.write_config({"wind": {"resource": {"atlas_dir": "atlas"}}})
    before = case.digests()
    res = run_case(case, atlas, "--overwrite")
    assert_clear_error(res, "is or contains the input")
    assert case.digests() == before


def test_unwritable_out_is_refused_before_any_work(case, tmp_path):
    # a parent that is a file cannot hold a folder (a permission test would pass as root)
    blocker = tmp_path / "blocker"
    blocker.write_text("x", encoding="utf-8")
    res = run_case(case, blocker / "run")
    assert_clear_error(res, "Cannot write in", str(blocker))
    assert blocker.read_text(encoding="utf-8") == "x"
