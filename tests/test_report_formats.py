"""report.docx and report.pdf of `census run --lang zh|en`: tables equal the CSVs."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from census.cli import app

docx = pytest.importorskip("docx", reason="pip install python-docx")

# Display units and their factors from the stored units, by definition: 万 = 1e4, 亿 = 1e8;
# 1 万千瓦 = 10 MW, 1 万千瓦时 = 10 MWh, 1 亿千瓦时 = 100 GWh, 1 万吨 = 1e4 t,
# 年利用小时数 = capacity factor x 8760 h.
FACTORS = {
    "万千瓦": 0.1,
    "万千瓦时": 0.1,
    "万千瓦时/年": 0.1,
    "亿千瓦时/年": 0.01,
    "万吨/年": 1e-4,
    "小时": 8760.0,
}


def _run(tmp_path_factory, lang: str, district: str):
    out = tmp_path_factory.mktemp(f"run-{lang}") / "run"
    res = CliRunner().invoke(
        app, ["run", "--lang", lang, "--district", district, "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    return out, res.output


@pytest.fixture(scope="module")
def zh_run(tmp_path_factory):
    return _run(tmp_path_factory, "zh", "Qiantang")  # rooftops, ponds and wind


@pytest.fixture(scope="module")
def en_run(tmp_path_factory):
    return _run(tmp_path_factory, "en", "Binjiang")


def _csv(run, name):
    return pd.read_csv(run / name, encoding="utf-8-sig")


def _docx_table(document, caption_text: str):
    """The Word table right after the caption that contains ``caption_text``."""
    body = document.element.body
    seen = False
    for child in body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            text = "".join(t.text or "" for t in child.iter() if t.tag.endswith("}t"))
            seen = caption_text in text
        elif tag == "tbl" and seen:
            return [
                [
                    "".join(t.text or "" for t in tc.iter() if t.tag.endswith("}t"))
                    for tc in tr
                    if tc.tag.endswith("}tc")
                ]
                for tr in child.iter()
                if tr.tag.endswith("}tr")
            ]
    raise AssertionError(f"no table after a caption with {caption_text!r}")


def _number(text: str) -> float:
    return float(text.replace(",", "")) if text not in ("–", "") else np.nan


def _unit(header: str) -> str | None:
    m = re.search(r"（([^（）]+)）$", header) or re.search(r"\[([^\]]+)\]$", header)
    return m.group(1) if m else None


def _check_against_csv(rows, csv: pd.DataFrame, columns: list[str], *, zh: bool):
    """Every numeric cell equals the CSV value in the header's unit, to the shown digits."""
    header, body = rows[0], rows[1:]
    assert len(header) == len(columns)
    for j, col in enumerate(columns):
        if col in ("name_zh", "name_en", "adcode") or not pd.api.types.is_numeric_dtype(csv[col]):
            continue
        if csv[col].dtype == bool:  # shown as 是/否
            assert [r[j] for r in body] == ["是" if v else "否" for v in csv[col]]
            continue
        unit = _unit(header[j])
        factor = FACTORS.get(unit, 1.0) if zh else 1.0
        for i in range(len(csv)):
            shown = body[i][j]
            want = float(csv[col].iloc[i]) * factor
            if np.isnan(want):
                assert shown == "–", (col, i, shown)
                continue
            digits = len(shown.split(".")[1]) if "." in shown else 0
            # the cell is the value rounded to the digits shown (3 significant at least)
            assert abs(_number(shown) - want) <= 0.5 * 10**-digits + 1e-9 * abs(want), (
                col,
                i,
                shown,
                want,
            )


def test_zh_docx_tables_equal_the_csvs(zh_run):
    run, _ = zh_run
    document = docx.Document(str(run / "report.docx"))
    totals = _csv(run, "summary_by_district.csv")
    rows = _docx_table(document, "分区县开发潜力")
    cols = [c for c in totals.columns if c != "name_en"]
    assert rows[0][cols.index("capacity_mw_dc")] == "直流侧装机容量（万千瓦）"
    assert rows[1][cols.index("name_zh")] == "钱塘区"
    _check_against_csv(rows, totals, cols, zh=True)
    # the city row sums the districts
    assert rows[-1][cols.index("name_zh")] == "全市"
    targets = _csv(run, "targets.csv")
    rows = _docx_table(document, "普查潜力与规划目标")
    # the zh report leaves out the records' English label and citation (kept in the CSV)
    cols = [c for c in targets.columns if c not in ("label", "source")]
    assert rows[1][cols.index("target")] == "2025年光伏装机目标"
    # 4,800 MW = 480 万千瓦, as the plan writes it
    assert rows[1][cols.index("target_mw")] == "480.0"
    assert rows[1][cols.index("capacity_basis")] == "交流侧"
    _check_against_csv(rows, targets, cols, zh=True)
    city = _csv(run, "summary_city.csv")
    rows = _docx_table(document, "全市分资源类型和开发方式的开发潜力")
    _check_against_csv(rows, city, list(city.columns), zh=True)


def test_zh_docx_is_chinese_with_real_tables_fonts_and_captions(zh_run):
    run, output = zh_run
    document = docx.Document(str(run / "report.docx"))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "光伏和风能资源普查报告" in text
    assert "合成数据：不得用于规划" in text  # the demo's synthetic layers
    prov = pd.read_json(run / "provenance.json", typ="series")
    assert prov["census_run"]["config_hash"] in text  # run id on the title page
    assert (
        len(document.tables) >= 10 and len(document.inline_shapes) == 3
    )  # targets, supply curve, typical day
    xml = document.element.xml
    assert "SEQ 表" in xml and "SEQ 图" in xml  # Word caption numbering
    normal = document.styles["Normal"].element.rPr.rFonts
    assert (
        normal.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia")
        == "宋体"
    )
    fonts = [p for p in document.part.package.parts if p.partname.endswith("fontTable.xml")][0]
    assert 'w:altName w:val="SimSun"' in fonts.blob.decode("utf-8")
    assert "分区县普查潜力" in output and "万千瓦" in output  # the CLI table


def test_en_docx_tables_equal_the_csvs(en_run):
    run, output = en_run
    document = docx.Document(str(run / "report.docx"))
    totals = _csv(run, "summary_by_district.csv")
    rows = _docx_table(document, "Potential by district")
    cols = list(totals.columns)
    assert rows[0][cols.index("capacity_mw_dc")] == "capacity DC [MW]"
    assert rows[1][cols.index("name_en")] == "Binjiang"
    _check_against_csv(rows, totals, cols, zh=False)
    text = "\n".join(p.text for p in document.paragraphs)
    assert "Renewable-resource census" in text and "Synthetic inputs: not for planning" in text
    assert "Census potential by district" in output


def _pdf_text(path) -> str:
    pypdf = pytest.importorskip("pypdf")
    return "\n".join(page.extract_text() or "" for page in pypdf.PdfReader(str(path)).pages)


def test_pdf_written_with_the_csv_figures(zh_run, en_run):
    for (run, _), zh in ((zh_run, True), (en_run, False)):
        pdf = run / "report.pdf"
        assert pdf.read_bytes()[:5] == b"%PDF-"
        # Chromium's PDFs map some CJK glyphs to radicals on extraction: NFKC folds them
        text = unicodedata.normalize("NFKC", _pdf_text(pdf))
        compact = re.sub(r"\s+", "", text)
        totals = _csv(run, "summary_by_district.csv")
        targets = _csv(run, "targets.csv")
        # a few figures: district capacity, energy and the PV 2025 target, as the CSVs hold them
        cap = float(totals["capacity_mw_dc"].iloc[0]) * (0.1 if zh else 1.0)
        energy = float(totals["energy_gwh_yr"].iloc[0]) * (0.01 if zh else 1.0)
        for value in (cap, energy):
            shown = f"{value:,.1f}" if abs(value) >= 10 else f"{value:,.2f}"
            assert shown in compact, (shown, zh)
        target = float(targets["target_mw"].iloc[0]) * (0.1 if zh else 1.0)
        assert f"{target:,.1f}" in compact
        if zh:
            assert "资源普查报告" in compact and "分区县开发潜力" in compact


def test_pdf_without_chromium_uses_reportlab(zh_run, monkeypatch):
    import json

    from census import report_pdf
    from census.report import report_context

    run, _ = zh_run
    monkeypatch.setattr(report_pdf, "find_chromium", lambda: None)
    r = lambda n: pd.read_csv(run / n, encoding="utf-8-sig", keep_default_na=False, na_values=[""])  # noqa: E731
    from types import SimpleNamespace

    res = SimpleNamespace(
        by_district=r("summary_by_district_category.csv"),
        district_totals=r("summary_by_district.csv"),
        city=r("summary_city.csv"),
        targets=r("targets.csv"),
        provenance=json.loads((run / "provenance.json").read_text(encoding="utf-8")),
    )
    ctx = report_context(res, lang="zh", study_area="杭州市", charts=False)
    path, how = report_pdf.write_report_pdf(run.parent / "r.pdf", ctx, html_path=None)
    assert how == "reportlab" and path.read_bytes()[:5] == b"%PDF-"
    assert b"STSong-Light" in path.read_bytes()  # the CID font PDF readers supply
    compact = re.sub(r"\s+", "", _pdf_text(path))
    cap = float(res.district_totals["capacity_mw_dc"].iloc[0]) / 10.0  # MW -> 万千瓦
    assert f"{cap:,.1f}" in compact and "分区县开发潜力" in compact and "钱塘区" in compact
    # nothing at all: the reason is returned (the pipeline warns with it)
    monkeypatch.setattr(report_pdf, "build_pdf_reportlab", _raise)
    path, how = report_pdf.write_report_pdf(run.parent / "s.pdf", ctx, html_path=None)
    assert path is None and "no Chromium found" in how and "reportlab" in how


def _raise(ctx):
    raise RuntimeError("no Chromium found and reportlab is not installed")


def test_zh_workbook_sheets_headers_and_values(zh_run):
    import openpyxl
    from numpy.testing import assert_allclose

    run, _ = zh_run
    wb = openpyxl.load_workbook(run / "census.xlsx", read_only=True)
    assert wb.sheetnames[:4] == ["分区县汇总", "分区县分类型", "全市汇总", "规划目标"]
    rows = list(wb["分区县汇总"].iter_rows(values_only=True))
    totals = _csv(run, "summary_by_district.csv")
    cols = [c for c in totals.columns if c != "name_en"]
    assert rows[0][cols.index("co2_avoided_t_yr")] == "二氧化碳减排量（万吨/年）"
    for j, col in enumerate(cols):
        if col in ("name_zh",):
            assert [r[j] for r in rows[1:]] == list(totals[col])
            continue
        if col == "storage_basis":  # the run's basis, named in Chinese
            assert {r[j] for r in rows[1:]} == {"交流侧"}
            continue
        if (
            col == "emission_factor"
        ):  # 2023年全国电力平均二氧化碳排放因子（0.5306 吨二氧化碳/兆瓦时）
            assert all("排放因子" in r[j] and "吨二氧化碳/兆瓦时" in r[j] for r in rows[1:])
            continue
        factor = FACTORS.get(_unit(rows[0][j]), 1.0)
        # full precision in the workbook: only the unit conversion differs from the CSV
        assert_allclose([r[j] for r in rows[1:]], totals[col].to_numpy(float) * factor, rtol=1e-12)


def test_zh_run_report_and_map_legend_have_no_untranslated_label(zh_run):
    from tests.i18n_scan import english_words, visible_text

    run, _ = zh_run
    names = set(_csv(run, "summary_by_district.csv")["name_en"])  # proper names
    html = (run / "report.html").read_text(encoding="utf-8")
    left = english_words(visible_text(html), proper_names=names)
    assert not left, f"English words in the zh report of a run: {sorted(set(left))}"
    page = (run / "map.html").read_text(encoding="utf-8")
    start = page.index('id="census-legend"')
    legend = visible_text("<div " + page[start : page.index("</div></div>", start)] + "</div>")
    assert "图例" in legend and not english_words(legend, proper_names=names), legend


def _stand_in_browser(folder: Path, script: str) -> Path:
    """An executable shell script run in Chromium's place (arguments ignored)."""
    browser = folder / "stand-in-chromium"
    browser.write_text(f"#!/bin/sh\n{script}\n", encoding="utf-8")
    browser.chmod(0o755)
    return browser


def test_chromium_is_stopped_when_the_run_is_interrupted(tmp_path):
    # `census batch` stopped by Ctrl-C during a merge hung 2 min: the main thread's
    # interruption waited for the PDF thread, which waited for Chromium (2026-12-07).
    # A stand-in browser that never finishes is stopped once `cancel` is set.
    import threading
    import time

    from census import report_pdf

    browser = _stand_in_browser(tmp_path, "exec sleep 60")
    html = tmp_path / "r.html"
    html.write_text("<p>r</p>", encoding="utf-8")
    cancel = threading.Event()
    threading.Timer(0.5, cancel.set).start()
    t0 = time.monotonic()
    with pytest.raises(report_pdf.PdfCancelled):
        report_pdf.html_to_pdf_chromium(
            html, tmp_path / "r.pdf", chromium=str(browser), cancel=cancel
        )
    assert time.monotonic() - t0 < 10  # 0.5 s, then one 0.2 s poll; not sleep's 60 s
    assert not (tmp_path / "r.pdf").exists()


def test_chromium_dies_with_a_killed_run(tmp_path):
    # a batch worker killed mid-district (its cluster closed on Ctrl-C) left its headless
    # Chromium printing forever, 220 MB each (9 found after stopping batches, 2026-12-07)
    import subprocess
    import sys

    from census.children import die_with_parent

    from .procs import kill_parent_expect_child_gone

    if not die_with_parent():
        pytest.skip("no setpriv --pdeathsig on this machine")
    pid_file = tmp_path / "browser.pid"
    browser = _stand_in_browser(tmp_path, f"echo $$ > {pid_file}\nexec sleep 60")
    (tmp_path / "r.html").write_text("<p>r</p>", encoding="utf-8")
    code = (
        "import sys; from pathlib import Path; from census.report_pdf import html_to_pdf_chromium\n"
        "html_to_pdf_chromium(Path(sys.argv[1]), Path(sys.argv[2]), chromium=sys.argv[3])\n"
    )
    run = subprocess.Popen(
        [sys.executable, "-c", code, str(tmp_path / "r.html"), str(tmp_path / "r.pdf")]
        + [str(browser)]
    )
    kill_parent_expect_child_gone(run, pid_file, "browser")


def test_no_fallback_pdf_while_the_run_stops(tmp_path, monkeypatch):
    # Chromium gets the same Ctrl-C as the run and ends by itself: that must not count as
    # a failed print and start reportlab's PDF while the run waits (review, 2026-12-07)
    import threading

    from census import report_pdf

    browser = _stand_in_browser(tmp_path, "exit 1")
    html = tmp_path / "r.html"
    html.write_text("<p>r</p>", encoding="utf-8")
    cancel = threading.Event()
    cancel.set()
    drawn = []
    monkeypatch.setattr(report_pdf, "build_pdf_reportlab", lambda ctx: drawn.append(1) or b"")
    monkeypatch.setattr(report_pdf, "find_chromium", lambda: str(browser))
    with pytest.raises(report_pdf.PdfCancelled):
        report_pdf.write_report_pdf(tmp_path / "r.pdf", {}, html_path=html, cancel=cancel)
    with pytest.raises(report_pdf.PdfCancelled):  # reportlab alone: not started either
        report_pdf.write_report_pdf(tmp_path / "s.pdf", {}, renderer="reportlab", cancel=cancel)
    assert drawn == []
    # without the stop, the same browser is a failed print and reportlab draws the PDF
    path, how = report_pdf.write_report_pdf(tmp_path / "t.pdf", {}, html_path=html)
    assert (path, how, drawn) == (tmp_path / "t.pdf", "reportlab", [1])
