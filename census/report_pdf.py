"""The planning report as PDF (``report.pdf``): headless Chromium, else reportlab.

The PDF shows the same :func:`census.report.report_context` as ``report.html`` and
``report.docx``. Two renderers, tried in this order:

1. **Chromium** (``chromium --headless --print-to-pdf``) prints ``report.html`` itself,
   so the PDF looks exactly like the HTML report. It is found as ``$CENSUS_CHROMIUM``,
   then ``chromium``, ``chromium-browser``, ``google-chrome`` on the PATH. The page has
   no external URL, and Chromium runs with networking off (``--proxy-server`` to a
   closed port), so printing needs no internet.
2. **reportlab** draws the same headings, tables and charts from the context. Chinese
   text uses reportlab's built-in CID font STSong-Light (Adobe-GB1), which PDF readers
   supply, so no font file is needed.

When neither works the run still succeeds: a warning says why and lands in the run's
provenance.
"""

from __future__ import annotations

import io
import logging
import os
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from census.children import die_with_parent

__all__ = ["find_chromium", "html_to_pdf_chromium", "write_report_pdf", "build_pdf_reportlab"]

logger = logging.getLogger(__name__)

CHROMIUM_TIMEOUT_S = 120.0
"""Longest wait for Chromium to print the report. [s]"""

_CJK_CID_FONT = "STSong-Light"
_LATIN_FONT = "Helvetica"


def find_chromium() -> str | None:
    """Return the Chromium (or Chrome) executable to print with, or None."""
    env = os.environ.get("CENSUS_CHROMIUM")
    if env and (Path(env).is_file() or shutil.which(env)):
        return shutil.which(env) or env
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


class PdfCancelled(Exception):
    """The PDF was not finished: the run that asked for it is stopping (Ctrl-C)."""


def html_to_pdf_chromium(
    html_path: Path, pdf_path: Path, *, chromium: str, cancel: threading.Event | None = None
) -> None:
    """Print an HTML file to PDF with headless Chromium.

    Parameters
    ----------
    html_path : pathlib.Path
        The self-contained report page.
    pdf_path : pathlib.Path
        The PDF to write.
    chromium : str
        The browser executable.
    cancel : threading.Event, optional
        Set by another thread to stop Chromium (the run is being interrupted).

    Raises
    ------
    RuntimeError
        Chromium failed, timed out or wrote no PDF (the message holds its stderr).
    PdfCancelled
        ``cancel`` was set; Chromium was killed.
    """
    with tempfile.TemporaryDirectory(prefix="census-chromium-") as profile:
        args = [
            chromium,
            "--headless",
            "--no-sandbox",  # root in containers; the page is our own and offline
            "--disable-gpu",
            "--disable-extensions",
            "--no-first-run",
            "--proxy-server=127.0.0.1:9",  # no network, even if the page asked for it
            f"--user-data-dir={profile}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf_path}",
            html_path.resolve().as_uri(),
        ]
        # a headless Chromium outlives a parent that is killed (a batch worker closed
        # mid-district, kill -9) and prints on forever: the kernel kills it with its parent
        args = [*die_with_parent(), *args]
        try:
            proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        except OSError as exc:
            raise RuntimeError(f"{chromium} could not print the report: {exc}") from exc
        # waited for in short steps, so that an interrupted run need not wait for it
        deadline = time.monotonic() + CHROMIUM_TIMEOUT_S
        while True:
            try:
                _, stderr = proc.communicate(timeout=0.2)
                break
            except subprocess.TimeoutExpired:
                stopping = cancel is not None and cancel.is_set()
                if stopping or time.monotonic() > deadline:
                    proc.kill()
                    proc.communicate()
                    if stopping:
                        raise PdfCancelled(f"{chromium} was stopped") from None
                    raise RuntimeError(
                        f"{chromium} could not print the report: no PDF after "
                        f"{CHROMIUM_TIMEOUT_S:.0f} s"
                    ) from None
    if cancel is not None and cancel.is_set():  # ended by the same Ctrl-C, most likely
        raise PdfCancelled(f"{chromium} ended while the run was stopping")
    if proc.returncode != 0 or not pdf_path.is_file() or pdf_path.stat().st_size == 0:
        tail = (stderr or "").strip().splitlines()[-3:]
        raise RuntimeError(
            f"{chromium} exited with {proc.returncode} and wrote no PDF: {' | '.join(tail)}"
        )


def _reportlab() -> Any:
    try:
        import reportlab  # noqa: F401
    except ImportError as exc:
        raise RuntimeError(
            "no Chromium found and reportlab is not installed: pip install 'reportlab>=4'"
        ) from exc


def build_pdf_reportlab(ctx: dict[str, Any]) -> bytes:
    """Draw the report with reportlab from a :func:`census.report.report_context`.

    Parameters
    ----------
    ctx : dict
        The report context.

    Returns
    -------
    bytes
        The PDF: A4 landscape, same sections, tables, charts and captions as the HTML.
    """
    _reportlab()
    from xml.sax.saxutils import escape

    from reportlab.lib import colors
    from reportlab.lib.enums import TA_RIGHT
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.lib.units import cm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import (
        Image,
        LongTable,
        PageBreak,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        TableStyle,
    )

    tr = ctx["tr"]
    font = _LATIN_FONT
    if tr.zh:
        pdfmetrics.registerFont(UnicodeCIDFont(_CJK_CID_FONT))
        font = _CJK_CID_FONT
    base = getSampleStyleSheet()
    body = ParagraphStyle("census-body", parent=base["BodyText"], fontName=font, fontSize=9.5)
    cell = ParagraphStyle("census-cell", parent=body, fontSize=7, leading=8.5)
    cell_r = ParagraphStyle("census-cell-r", parent=cell, alignment=TA_RIGHT)
    head = ParagraphStyle("census-head", parent=cell, textColor=colors.black)
    caption = ParagraphStyle("census-caption", parent=body, fontSize=8.5, spaceBefore=6)
    warn = ParagraphStyle("census-warn", parent=body, textColor=colors.HexColor("#c0392b"))
    h1 = ParagraphStyle("census-h1", parent=base["Heading1"], fontName=font)
    h2 = ParagraphStyle("census-h2", parent=base["Heading2"], fontName=font)
    title = ParagraphStyle("census-title", parent=base["Title"], fontName=font)

    def p(text: str, style: Any = body) -> Any:
        return Paragraph(escape(str(text)), style)

    def table(t: dict[str, Any], width: float) -> list[Any]:
        if not t or not t.get("headers"):
            return []
        rows = [[Paragraph(escape(str(h)), head) for h in t["headers"]]]
        for r in t["rows"]:
            rows.append(
                [
                    Paragraph(escape(str(v)), cell_r if t["numeric"][j] else cell)
                    for j, v in enumerate(r)
                ]
            )
        n = len(t["headers"])
        lt = LongTable(rows, repeatRows=1, colWidths=[width / n] * n)
        lt.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef4f7")),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ]
            )
        )
        return [lt, Spacer(1, 6)]

    def figure(png: bytes, cap: str, width: float) -> list[Any]:
        from reportlab.lib.utils import ImageReader

        w, h = ImageReader(io.BytesIO(png)).getSize()
        scale = min(width / w, 9 * cm / h)
        return [Image(io.BytesIO(png), width=w * scale, height=h * scale), p(cap, caption)]

    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=landscape(A4),
        leftMargin=1.5 * cm,
        rightMargin=1.5 * cm,
        topMargin=1.5 * cm,
        bottomMargin=1.5 * cm,
        title=ctx["title"],
        author="census",
    )
    width = doc.width
    caps = ctx["captions"]
    run = ctx["run"]
    story: list[Any] = [p(ctx["title"], title)]
    story.append(p(f"{tr('report.meta_run')} {run.get('config_hash') or '–'}"))
    story.append(p(f"{tr('report.meta_started')} {run.get('started_utc') or '–'}"))
    story.append(p(f"{tr('report.meta_generated')} {ctx['generated']} · census {ctx['version']}"))
    story.append(p(tr("report.meta_districts") + ctx["sep"].join(ctx["run_districts"])))
    if ctx["synthetic"]:
        story += [Spacer(1, 12), p(tr("report.synthetic_heading"), h1)]
        story.append(p(ctx["note"] or tr("report.synthetic_default"), warn))
    else:
        story.append(p(tr("report.no_synthetic")))
    story += [p(n) for n in ctx["notices"]]
    story.append(PageBreak())

    story.append(p(tr("report.summary"), h1))
    cards = {
        "headers": [tr("col.key"), tr("col.value")],
        "rows": [[k, v] for k, v in ctx["cards"]],
        "numeric": [False, True],
    }
    story += table(cards, width / 2)
    story.append(p(tr("report.summary_note", storage_rule=ctx["storage_rule"])))
    story += [p(tr("report.city_heading"), h2), p(caps["city"], caption)]
    story += table(ctx["city"], width)

    story.append(p(tr("report.targets"), h1))
    if "targets" in ctx["figures"]:
        story += figure(ctx["figures"]["targets"], caps["targets_chart"], width)
    story += [p(caps["targets"], caption), *table(ctx["targets"], width)]
    if ctx["gap"]:
        story += [p(tr("report.gap_heading"), h2), p(caps["gap"], caption)]
        story += table(ctx["gap"], width)
        story += [p(tr("report.existing_heading"), h2), p(caps["existing"], caption)]
        story += table(ctx["existing_districts"], width)
    else:
        story.append(p(ctx["no_existing_note"]))

    story += [p(tr("report.supply"), h1), p(ctx["supply_note"])]
    if "supply" in ctx["figures"]:
        story += figure(ctx["figures"]["supply"], caps["supply_chart"], width)
    for heading, t, cap in ctx["supply_tables"]:
        story += [p(heading, h2), p(cap, caption), *table(t, width)]

    story += [p(tr("report.districts"), h1), p(caps["districts"], caption)]
    story += table(ctx["districts"], width)
    story += [p(tr("report.by_district_heading"), h2), p(caps["by_district"], caption)]
    story += table(ctx["by_district"], width)
    if ctx.get("zones"):
        story += [
            p(tr("report.zones"), h1),
            p(tr("report.zones_note", field=ctx["zone_field"], outside=tr("report.zones_outside"))),
        ]
        story += [p(caps["zones"], caption), *table(ctx["zones"], width)]
    story += [p(tr("report.storage"), h1)]
    story += [p(tr("report.storage_note", storage_rule=ctx["storage_rule"]))]
    story += [p(caps["storage"], caption), *table(ctx["storage"], width / 2)]
    if ctx.get("shift_table"):
        story += [p(ctx["shift_heading"], h2), p(ctx["shift_note"]), p(caps["shift"], caption)]
        story += table(ctx["shift_table"], width)
    if ctx.get("profiles_heading"):
        story += [p(ctx["profiles_heading"], h2), p(ctx["profiles_note"])]
        if "profiles" in ctx["figures"]:
            story += figure(ctx["figures"]["profiles"], caps["profiles_chart"], width)
    story += [p(tr("report.co2"), h1), p(ctx["co2_rule"]), p(caps["co2"], caption)]
    story += table(ctx["co2"], width * 0.6)

    story += [p(tr("report.assumptions"), h1), p(tr("report.assumptions_note"))]
    if ctx["assumptions"]["rows"]:
        story += [p(caps["assumptions"], caption), *table(ctx["assumptions"], width)]
    story += [p(tr("report.glossary"), h2), p(caps["glossary"], caption)]
    story += table(ctx["glossary"], width)
    story.append(p(tr("report.provenance"), h1))
    if ctx["inputs"]["rows"]:
        story += [p(caps["inputs"], caption), *table(ctx["inputs"], width)]
    if ctx["warnings_list"]:
        story.append(p(tr("report.warnings"), h2))
        story += [p(f"• {w}") for w in ctx["warnings_list"]]
    if ctx["packages"]["rows"]:
        story += [p(tr("report.software"), h2), *table(ctx["packages"], width / 2)]
    doc.build(story)
    return buf.getvalue()


def write_report_pdf(
    pdf_path: str | Path,
    ctx: dict[str, Any],
    *,
    html_path: str | Path | None = None,
    renderer: str = "auto",
    cancel: threading.Event | None = None,
) -> tuple[Path | None, str]:
    """Write ``report.pdf``: print the HTML with Chromium, else draw it with reportlab.

    Parameters
    ----------
    pdf_path : str or pathlib.Path
        The PDF to write.
    ctx : dict
        :func:`census.report.report_context` (used by the reportlab renderer).
    html_path : str or pathlib.Path, optional
        The written ``report.html`` (needed by the Chromium renderer).
    renderer : {"auto", "chromium", "reportlab"}
        ``auto`` tries Chromium, then reportlab.
    cancel : threading.Event, optional
        Set by another thread to stop Chromium (:class:`PdfCancelled` is raised).

    Returns
    -------
    path : pathlib.Path or None
        ``pdf_path``, or None when no renderer worked.
    how : str
        ``"chromium"`` or ``"reportlab"``, or why no PDF was written.
    """
    pdf_path = Path(pdf_path)
    reasons = []
    if renderer in ("auto", "chromium"):
        chromium = find_chromium()
        if chromium is None:
            reasons.append("no Chromium found (apt-get install chromium, or set CENSUS_CHROMIUM)")
        elif html_path is None:
            reasons.append("no report.html to print")
        else:
            try:
                html_to_pdf_chromium(Path(html_path), pdf_path, chromium=chromium, cancel=cancel)
                return pdf_path, "chromium"
            except RuntimeError as exc:
                reasons.append(str(exc))
    if renderer in ("auto", "reportlab"):
        if cancel is not None and cancel.is_set():  # the run is stopping: no fallback
            raise PdfCancelled("the run is stopping")
        try:
            pdf_path.write_bytes(build_pdf_reportlab(ctx))
            return pdf_path, "reportlab"
        except RuntimeError as exc:
            reasons.append(str(exc))
    return None, "; ".join(reasons)
