"""The planning report as a Word document (``report.docx``), with python-docx.

The document shows the same :func:`census.report.report_context` as ``report.html``:
the same localized tables (real Word tables, not pictures), the same charts (PNG),
the same numbered captions. Captions carry Word ``SEQ`` fields (表/图 or Table/Figure),
so Word renumbers them when a planner inserts a table of their own.

Chinese text needs an East Asian font: every style used sets ``w:eastAsia`` to 宋体
(SimSun), and the document's font table names SimSun as its alternative, so Word on
Windows, WPS and LibreOffice (which substitutes a CJK font such as Noto Serif CJK)
all draw the characters.
"""

from __future__ import annotations

import io
import logging
import re
from pathlib import Path
from typing import Any

__all__ = ["build_report_docx", "write_report_docx"]

logger = logging.getLogger(__name__)

EAST_ASIA_FONT = "宋体"
"""East Asian font of every style (w:eastAsia); its font-table alternative is SimSun."""
EAST_ASIA_FONT_ALT = "SimSun"
LATIN_FONT = "Times New Roman"
"""Font of Latin letters and digits (w:ascii, w:hAnsi)."""

_CAPTION = re.compile(r"^(表|图|Table |Figure )(\d+)(?::\s*|\s+)(.*)$", re.DOTALL)


def _docx() -> Any:
    try:
        import docx
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "census writes report.docx with python-docx: pip install 'python-docx>=1.1'"
        ) from exc
    return docx


def _set_fonts(style: Any, *, size_pt: float | None = None, bold: bool | None = None) -> None:
    """Give a style the Latin font and the East Asian font (w:eastAsia)."""
    from docx.oxml.ns import qn
    from docx.shared import Pt

    font = style.font
    font.name = LATIN_FONT
    if size_pt is not None:
        font.size = Pt(size_pt)
    if bold is not None:
        font.bold = bold
    rpr = style.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:cs"):
        fonts.set(qn(attr), LATIN_FONT)
    fonts.set(qn("w:eastAsia"), EAST_ASIA_FONT)
    # a theme font would override the explicit names in Word
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attr), None)


def _font_table_fallback(document: Any) -> None:
    """Name SimSun as the alternative of 宋体 in the font table (for non-Chinese Word)."""
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    part = document.part
    for rel in part.rels.values():
        if rel.reltype == RT.FONT_TABLE:
            table = rel.target_part
            xml = table.blob if not hasattr(table, "element") else None
            element = table.element if hasattr(table, "element") else parse_xml(xml)
            font = parse_xml(
                f'<w:font {nsdecls("w")} w:name="{EAST_ASIA_FONT}">'
                f'<w:altName w:val="{EAST_ASIA_FONT_ALT}"/><w:charset w:val="86"/>'
                '<w:family w:val="roman"/><w:pitch w:val="variable"/></w:font>'
            )
            element.append(font)
            if not hasattr(table, "element"):
                from lxml import etree

                table._blob = etree.tostring(element, xml_declaration=True, encoding="UTF-8")
            return


def _caption(document: Any, text: str) -> None:
    """Add a numbered caption: 表/图 or Table/Figure, a SEQ field, the text."""
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    p = document.add_paragraph(style="Caption")
    m = _CAPTION.match(text)
    if m is None:
        p.add_run(text)
        return
    label, number, rest = m.group(1), m.group(2), m.group(3)
    p.add_run(label)
    seq = label.strip()
    field = parse_xml(
        f'<w:fldSimple {nsdecls("w")} w:instr=" SEQ {seq} \\* ARABIC "><w:r><w:t>{number}</w:t>'
        "</w:r></w:fldSimple>"
    )
    p._p.append(field)
    p.add_run((" " if label in ("表", "图") else ": ") + rest)


def _table(document: Any, t: dict[str, Any], *, total_last: bool = False) -> None:
    """Add a real Word table: header row repeated on each page, numbers right-aligned."""
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    headers, rows, numeric = t["headers"], t["rows"], t["numeric"]
    if not headers:
        return
    table = document.add_table(rows=1 + len(rows), cols=len(headers))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    # one pass over the rows: table.rows[i] walks the table each time (quadratic)
    word_rows = list(table.rows)
    head = word_rows[0]
    trpr = head._tr.get_or_add_trPr()
    flag = OxmlElement("w:tblHeader")
    flag.set(qn("w:val"), "true")
    trpr.append(flag)
    for cell, h in zip(head.cells, headers, strict=True):
        run = cell.paragraphs[0].add_run(str(h))
        run.bold = True
    for i, (word_row, row) in enumerate(zip(word_rows[1:], rows, strict=True), start=1):
        cells = word_row.cells
        last = total_last and i == len(rows)
        for j, value in enumerate(row):
            para = cells[j].paragraphs[0]
            run = para.add_run(str(value))
            if last:
                run.bold = True
            if numeric[j]:
                para.alignment = WD_ALIGN_PARAGRAPH.RIGHT


def _figure(document: Any, png: bytes, caption: str) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm

    document.add_picture(io.BytesIO(png), width=Cm(16))
    document.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
    _caption(document, caption)


def build_report_docx(ctx: dict[str, Any]) -> Any:
    """Build the Word report from a :func:`census.report.report_context`.

    Parameters
    ----------
    ctx : dict
        The report context (tables, captions, charts, sentences in one language).

    Returns
    -------
    docx.document.Document
        Title page (title, run id, date, synthetic-data warning), summary, targets
        with chart, supply curve, district table, storage, CO2, assumptions and
        sources with the glossary, provenance.
    """
    docx = _docx()
    from docx.enum.section import WD_ORIENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
    from docx.shared import Cm, Pt, RGBColor

    tr = ctx["tr"]
    document = docx.Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE  # the district tables are wide
    section.page_width, section.page_height = Cm(29.7), Cm(21.0)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(1.8))
    styles = document.styles
    _set_fonts(styles["Normal"], size_pt=10.5)
    for name, size in (("Title", 24), ("Heading 1", 16), ("Heading 2", 13), ("Caption", 9.5)):
        _set_fonts(styles[name], size_pt=size)
    _set_fonts(styles["Table Grid"], size_pt=8)
    _font_table_fallback(document)
    core = document.core_properties
    core.title = ctx["title"]
    core.author = "census"
    core.language = "zh-CN" if tr.zh else "en"

    # ------------------------------------------------------------------ title page
    document.add_paragraph(ctx["title"], style="Title")
    run = ctx["run"]
    for label, value in (
        (tr("report.meta_run"), run.get("config_hash") or "–"),
        (tr("report.meta_started"), run.get("started_utc") or "–"),
        (tr("report.meta_generated"), ctx["generated"]),
        (tr("report.meta_districts").rstrip("：: "), ctx["sep"].join(ctx["run_districts"])),
        ("census", ctx["version"]),
    ):
        p = document.add_paragraph()
        p.add_run(f"{label}：" if tr.zh else f"{label}: ").bold = True
        p.add_run(str(value))
    if ctx["synthetic"]:
        p = document.add_paragraph()
        p.paragraph_format.space_before = Pt(18)
        r = p.add_run(tr("report.synthetic_heading"))
        r.bold = True
        r.font.size = Pt(16)
        r.font.color.rgb = RGBColor(0xC0, 0x39, 0x2B)
        p = document.add_paragraph()
        r = p.add_run(ctx["note"] or tr("report.synthetic_default"))
        r.bold = True
        r.font.color.rgb = RGBColor(0xC0, 0x39, 0x2B)
        if ctx["synthetic_layers"]:
            document.add_paragraph(
                tr("report.synthetic_layers") + ", ".join(ctx["synthetic_layers"])
            )
    else:
        document.add_paragraph(tr("report.no_synthetic"))
    for note in ctx["notices"]:
        document.add_paragraph(note)
    document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)

    # ------------------------------------------------------------------ summary
    caps = ctx["captions"]
    document.add_heading(tr("report.summary"), level=1)
    cards = {
        "headers": [tr("col.key"), tr("col.value")],
        "rows": [[k, v] for k, v in ctx["cards"]],
        "numeric": [False, True],
    }
    _table(document, cards)
    document.add_paragraph(tr("report.summary_note", storage_rule=ctx["storage_rule"]))
    document.add_heading(tr("report.city_heading"), level=2)
    _caption(document, caps["city"])
    _table(document, ctx["city"], total_last=True)

    # ------------------------------------------------------------------ targets
    document.add_heading(tr("report.targets"), level=1)
    if "targets" in ctx["figures"]:
        _figure(document, ctx["figures"]["targets"], caps["targets_chart"])
    _caption(document, caps["targets"])
    _table(document, ctx["targets"])
    if ctx["gap"]:
        document.add_heading(tr("report.gap_heading"), level=2)
        _caption(document, caps["gap"])
        _table(document, ctx["gap"])
        document.add_heading(tr("report.existing_heading"), level=2)
        _caption(document, caps["existing"])
        _table(document, ctx["existing_districts"], total_last=True)
    else:
        document.add_paragraph(ctx["no_existing_note"])

    # ------------------------------------------------------------------ supply curve
    document.add_heading(tr("report.supply"), level=1)
    document.add_paragraph(ctx["supply_note"])
    if "supply" in ctx["figures"]:
        _figure(document, ctx["figures"]["supply"], caps["supply_chart"])
    for heading, t, cap in ctx["supply_tables"]:
        document.add_heading(heading, level=2)
        _caption(document, cap)
        _table(document, t)

    # ------------------------------------------------------------------ districts
    document.add_heading(tr("report.districts"), level=1)
    _caption(document, caps["districts"])
    _table(document, ctx["districts"], total_last=True)
    document.add_heading(tr("report.by_district_heading"), level=2)
    _caption(document, caps["by_district"])
    _table(document, ctx["by_district"])
    if ctx.get("zones"):
        document.add_heading(tr("report.zones"), level=1)
        document.add_paragraph(
            tr("report.zones_note", field=ctx["zone_field"], outside=tr("report.zones_outside"))
        )
        _caption(document, caps["zones"])
        _table(document, ctx["zones"], total_last=True)

    # ------------------------------------------------------------------ storage, CO2
    document.add_heading(tr("report.storage"), level=1)
    document.add_paragraph(tr("report.storage_note", storage_rule=ctx["storage_rule"]))
    _caption(document, caps["storage"])
    _table(document, ctx["storage"], total_last=True)
    if ctx.get("shift_table"):
        document.add_heading(ctx["shift_heading"], level=2)
        document.add_paragraph(ctx["shift_note"])
        _caption(document, caps["shift"])
        _table(document, ctx["shift_table"])
    if ctx.get("profiles_heading"):
        document.add_heading(ctx["profiles_heading"], level=2)
        document.add_paragraph(ctx["profiles_note"])
        if "profiles" in ctx["figures"]:
            _figure(document, ctx["figures"]["profiles"], caps["profiles_chart"])
    document.add_heading(tr("report.co2"), level=1)
    document.add_paragraph(ctx["co2_rule"])
    _caption(document, caps["co2"])
    _table(document, ctx["co2"], total_last=True)

    # ------------------------------------------------------------------ assumptions
    document.add_heading(tr("report.assumptions"), level=1)
    document.add_paragraph(tr("report.assumptions_note"))
    if ctx["assumptions"]["rows"]:
        _caption(document, caps["assumptions"])
        _table(document, ctx["assumptions"])
    else:
        document.add_paragraph(tr("report.no_ledger"))
    document.add_heading(tr("report.glossary"), level=2)
    _caption(document, caps["glossary"])
    _table(document, ctx["glossary"])

    # ------------------------------------------------------------------ provenance
    document.add_heading(tr("report.provenance"), level=1)
    if ctx["inputs"]["rows"]:
        _caption(document, caps["inputs"])
        _table(document, ctx["inputs"])
    else:
        document.add_paragraph(tr("report.no_inputs"))
    if ctx["warnings_list"]:
        document.add_heading(tr("report.warnings"), level=2)
        for w in ctx["warnings_list"]:
            document.add_paragraph(str(w), style="List Bullet")
    if ctx["packages"]["rows"]:
        document.add_heading(tr("report.software"), level=2)
        _table(document, ctx["packages"])
    for p in document.paragraphs:
        if p.style.name == "Title":
            p.alignment = WD_ALIGN_PARAGRAPH.LEFT
    return document


def write_report_docx(path: str | Path, ctx: dict[str, Any]) -> Path:
    """Write ``report.docx`` from a report context.

    Parameters
    ----------
    path : str or pathlib.Path
        File to write (replaced if it exists; the run folder makes it atomic).
    ctx : dict
        :func:`census.report.report_context`.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    path = Path(path)
    build_report_docx(ctx).save(str(path))
    return path
