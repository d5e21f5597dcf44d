"""Hostile names in input data: formulas, markup, paths, non-Latin text.

The run completes; every CSV has formula-like text neutralised (OWASP CSV
injection: a leading single quote) while numbers stay numbers; HTML escapes
markup; a path-like name never writes outside the run folder; Chinese text
survives the round trip.
"""

from __future__ import annotations

import csv

import geopandas as gpd
import pandas as pd

from census.io.outputs import FORMULA_PREFIXES

from .conftest import rooftops, run_case, write_study_area

HOSTILE_IDS = ['=HYPERLINK("http://example.invalid","x")', "=1+1", "@SUM(1)", "+1+1", "-1+2", "\tx"]


def _rename_districts(case, name_en: list[str], name_zh: list[str]) -> None:
    path = write_study_area(case.folder)
    gdf = gpd.read_file(path, layer="districts")
    gdf["name_en"], gdf["name_zh"] = name_en, name_zh
    path.unlink()
    gdf.to_file(path, layer="districts")


def _roofs_with_ids(case, ids: list[str]) -> None:
    path = case.folder / "sites.gpkg"
    ponds = gpd.read_file(path, layer="ponds")
    path.unlink()
    roofs = rooftops(len(ids))
    roofs["building_id"] = ids
    roofs.to_file(path, layer="rooftops")
    ponds.to_file(path, layer="ponds")


def _cells(path):
    with open(path, encoding="utf-8-sig", newline="") as fh:
        for row in csv.reader(fh):
            yield from row


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_formula_names_are_neutralised_in_every_csv(case, tmp_path):
    _rename_districts(case, ['=HYPERLINK("http://example.invalid")', "@SUM(1)"], ["+1+1", "-2+3"])
    _roofs_with_ids(case, HOSTILE_IDS)
    out = tmp_path / "out"
    res = run_case(case, out)
    assert res.exit_code == 0, res.output
    csvs = sorted(out.glob("*.csv"))
    assert {"summary_by_district.csv", "supply_curve.csv"} <= {p.name for p in csvs}
    seen_quoted = set()
    for path in csvs:
        for cell in _cells(path):
            if cell.startswith(FORMULA_PREFIXES):
                assert _is_number(cell), (path.name, cell)  # e.g. -0.25: a number, kept
            if cell.startswith("'") and cell[1:].startswith(FORMULA_PREFIXES):
                seen_quoted.add(cell[1:])
    # the hostile district names reached the summaries, neutralised
    assert {'=HYPERLINK("http://example.invalid")', "@SUM(1)", "+1+1", "-2+3"} <= seen_quoted
    # the supply curve carries the site ids, neutralised too
    assert any(s.startswith("rooftops:") for s in _cells(out / "supply_curve.csv"))
    summary = pd.read_csv(out / "summary_by_district.csv", encoding="utf-8-sig")
    assert summary["capacity_mw_dc"].dtype.kind == "f"  # numbers stay numbers


def test_markup_in_names_is_escaped_in_html(case, tmp_path):
    evil = "<script>alert('census')</script>"
    _rename_districts(case, [evil, "<img src=x onerror=alert(1)>"], ["<b>甲</b>", "乙区"])
    case.write_config({"outputs": {"map": True}})
    out = tmp_path / "out"
    res = run_case(case, out)
    assert res.exit_code == 0, res.output
    htmls = sorted(out.rglob("*.html"))
    assert htmls
    for path in htmls:
        text = path.read_text(encoding="utf-8")
        assert evil not in text, path.name
        assert "<img src=x onerror" not in text, path.name


def test_path_like_names_stay_inside_the_run_folder(case, tmp_path):
    _rename_districts(case, ["../../escaped", "..\\..\\escaped2"], ["/etc/passwd", "C:\\x"])
    case.write_config({"outputs": {"map": True}})
    out = tmp_path / "runs" / "out"
    res = run_case(case, out)
    assert res.exit_code == 0, res.output
    outside = [p for p in tmp_path.rglob("*escaped*") if out not in p.parents]
    assert outside == []
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["out"]


def test_chinese_names_survive_the_csv(case, tmp_path):
    _rename_districts(case, ["Alpha", "Beta"], ["上城区", "临安区"])
    out = tmp_path / "out"
    res = run_case(case, out)
    assert res.exit_code == 0, res.output
    summary = pd.read_csv(out / "summary_by_district.csv", encoding="utf-8-sig")
    assert set(summary["name_zh"]) == {"上城区", "临安区"}
    assert (out / "summary_by_district.csv").read_bytes().startswith(b"\xef\xbb\xbf")
