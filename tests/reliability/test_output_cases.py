"""Output folders: an earlier run is never replaced unasked; a file is never taken for a folder.

Cases that depend on the run-folder safety work of issue 16 items 6, 7 and 9 (foreign
folders, --out holding inputs, unwritable --out) are added with that work.
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
