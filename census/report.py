"""Planning-report outputs: one self-contained HTML report and an XLSX workbook.

The HTML report is a single file that opens without internet: CSS is inline,
charts are PNG images embedded as ``data:`` URIs, and no element refers to an
external URL (planners' machines often have no internet). Every text that comes
from data (district names, site ids, sources, file paths) is escaped by jinja2's
autoescape.

:func:`write_report_outputs` is what the pipeline calls inside its
``with run:`` block; it writes ``report.html``, ``census.xlsx``,
``supply_curve.csv`` and ``supply_curve.png`` (and ``existing_gap.csv`` when a
table of existing capacity is configured).
"""

from __future__ import annotations

import base64
import datetime as dt
import importlib.metadata
import io
import logging
import math
import re
import threading
import warnings
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from census.config import CensusConfig
from census.i18n import (
    Translator,
    cjk_font,
    district_names,
    format_cell,
    load_strings,
    load_terms,
    localize_table,
)
from census.io.runfolder import LAYOUT, RunFolder
from census.result import CensusResult
from census.units import (
    capacity_factor_to_full_load_hours,
    gwh_to_yi_kwh,
    mw_to_wan_kw,
    mwh_to_wan_kwh,
    t_to_wan_t,
)

if TYPE_CHECKING:  # matplotlib loads only when a chart is drawn
    from matplotlib.figure import Figure

__all__ = [
    "build_report_html",
    "supply_curve_figure",
    "targets_figure",
    "write_report_outputs",
    "write_workbook",
]

logger = logging.getLogger(__name__)

ZONE_COLUMNS = (
    "zone",
    "sites",
    "eligible_sites",
    "capacity_mw_dc",
    "capacity_mw_ac",
    "energy_gwh_yr",
    "storage_mw",
    "co2_avoided_t_yr",
    "population",
    "pv_kw_dc_per_person",
    "pv_kw_ac_per_person",
)
"""Columns of the roll-up by zone the report shows (those present)."""

NO_EXISTING_NOTE = (
    "Potential, not a gap: no existing-capacity table given. Set [targets] "
    'existing_capacity = "existing.csv" (columns adcode or district, technology, '
    "capacity_mw_ac or capacity_mw_dc) to compare the targets with installed capacity."
)


def _mw_text(mw: float, tr: Translator) -> str:
    """Capacity as Chinese plans write it (万千瓦 alongside MW) or in MW."""
    if tr.zh:
        wan = format_cell("wan_kw", float(mw_to_wan_kw(mw)))
        return f"{wan} {tr.term('unit.wan_kw')}（{mw:,.0f} MW）"
    return f"{mw:,.0f} MW"


def _target_label(tr: Translator, name: Any, label: Any) -> str:
    """Return a target's shown name: the plan's Chinese term if any, else its label."""
    if tr.zh and f"target.{name}" in load_terms():
        return tr.term(f"target.{name}")
    return str(label)


def _x_on_dc_axis(part: pd.DataFrame, value: float, basis: str) -> float:
    """Where on the curve's DC capacity axis a target on ``basis`` is reached [MW]."""
    if basis != "ac" or "cumulative_capacity_mw_ac" not in part or not len(part):
        return value
    ac = part["cumulative_capacity_mw_ac"].to_numpy(float)
    dc = part["cumulative_capacity_mw"].to_numpy(float)
    return float(np.interp(value, np.concatenate([[0.0], ac]), np.concatenate([[0.0], dc])))


# ----------------------------------------------------------------------------- charts


def _matplotlib() -> Any:
    try:
        import matplotlib
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "census reports need matplotlib for charts: pip install 'matplotlib>=3.7'"
        ) from exc
    return matplotlib, Figure


_RC = {
    "text.parse_math": False,
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def _png_bytes(fig: Figure) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*[Gg]lyph.*missing.*")
        fig.savefig(buf, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    return buf.getvalue()


def _data_uri(fig: Figure) -> str:
    return "data:image/png;base64," + base64.b64encode(_png_bytes(fig)).decode("ascii")


_CHART_MAX_STEPS = 4_000


def _chart_language(tr: Translator | None) -> tuple[Translator, dict[str, Any]]:
    """Return the translator and rc settings of a chart (Chinese needs a CJK font).

    Without an installed CJK font a Chinese chart would show empty boxes for every
    character, so its labels fall back to English (the report says so).
    """
    tr = tr or Translator("en")
    if not tr.zh:
        return tr, {}
    font = cjk_font()
    if font is None:
        return Translator("en"), {}
    # named families, not the generic "sans-serif": texts keep their family list, and the
    # figure is saved after the rc context has closed
    return tr, {"font.family": [font[0], "DejaVu Sans"]}


def supply_curve_figure(
    curve: pd.DataFrame, *, targets: Any = None, tr: Translator | None = None
) -> Figure:
    """Draw the supply curves (PV and wind) with vertical lines at the targets.

    Parameters
    ----------
    curve : pandas.DataFrame
        Output of :func:`census.supply.supply_curve`.
    targets : pandas.DataFrame or TargetsConfig, optional
        City targets; drawn as vertical lines on the matching curve. [MW]
    tr : census.i18n.Translator, optional
        Language of the labels (default English).

    Returns
    -------
    matplotlib.figure.Figure
        One panel per curve: x is cumulative capacity [MW], y the LCOE
        [CNY kWh⁻¹], or the resource ranking (specific yield [kWh kWp⁻¹ yr⁻¹]
        for PV, capacity factor [frac] for wind) when no costs were given.
    """
    from census.rollup import target_records

    matplotlib, Figure = _matplotlib()
    goals = target_records(targets)
    tr, rc = _chart_language(tr)
    with matplotlib.rc_context({**_RC, **rc}):
        fig = Figure(figsize=(9.0, 3.6), layout="constrained")
        axes = fig.subplots(1, 2)
        labels = (tr.code("technology", "pv"), tr("chart.wind"))
        for ax, name, label in zip(axes, ("pv", "wind"), labels, strict=True):
            part = curve[curve["curve"] == name] if "curve" in curve else curve.iloc[0:0]
            # a chart needs a few thousand steps, not a million (matplotlib would take minutes);
            # thinned rows keep their own cumulative capacity, so the steps stay in place
            part = thin_curve(part, max_rows=_CHART_MAX_STEPS)
            has_cost = "lcoe_cny_kwh" in part and part["lcoe_cny_kwh"].notna().any()
            if has_cost:
                y = part["lcoe_cny_kwh"].to_numpy(float)
                ylabel = tr.header("lcoe_cny_kwh")
            elif name == "pv" and "specific_yield_kwh_kwp" in part:
                y = part["specific_yield_kwh_kwp"].to_numpy(float)
                ylabel = tr.header("specific_yield_kwh_kwp")
            elif "capacity_factor" in part:
                y = part["capacity_factor"].to_numpy(float)
                ylabel = tr.header("capacity_factor")
                if tr.zh:
                    y = capacity_factor_to_full_load_hours(y)
            else:
                y = part.get("energy_kwh_kw_yr", pd.Series(dtype=float)).to_numpy(float)
                ylabel = tr.header("energy_kwh_kw_yr")
            y = np.where(np.isfinite(y), y, np.nan)
            cum = part["cumulative_capacity_mw"].to_numpy(float) if len(part) else np.array([])
            if len(part):
                ax.stairs(
                    y, np.concatenate([[0.0], cum]), color="#1f6f8b", linewidth=1.5, baseline=None
                )
            else:
                ax.text(
                    0.5, 0.5, tr("chart.no_sites"), ha="center", va="center", transform=ax.transAxes
                )
            for spec in goals:
                if spec.curve == name:
                    # the axis is DC capacity; an AC target sits where the AC sum reaches it
                    value = _x_on_dc_axis(part, spec.capacity_mw, spec.capacity_basis)
                    ax.axvline(value, color="#c0392b", linestyle="--", linewidth=1)
                    ax.annotate(
                        _target_label(tr, spec.name, spec.label)
                        + f" ({spec.capacity_basis.upper()})",
                        (value, 1.0),
                        xycoords=("data", "axes fraction"),
                        rotation=90,
                        va="top",
                        ha="right",
                        fontsize=7,
                        color="#c0392b",
                    )
            ax.set_title(tr("chart.supply_title", what=label))
            ax.set_xlabel(tr.header("cumulative_capacity_mw", scale="site"))
            ax.set_ylabel(ylabel)
            ax.set_xlim(left=0)
            ax.set_ylim(bottom=0)
    return fig


def targets_figure(
    targets: pd.DataFrame, gap: pd.DataFrame | None = None, *, tr: Translator | None = None
) -> Figure:
    """Draw the census potential (and existing capacity) against each target.

    Parameters
    ----------
    targets : pandas.DataFrame
        :func:`census.rollup.targets_table`: ``target``, ``target_mw``, ``potential_mw``. [MW]
    gap : pandas.DataFrame, optional
        :func:`census.supply.existing_gap`; with existing capacity the bars stack
        existing and potential capacity. [MW]
    tr : census.i18n.Translator, optional
        Language of the labels (default English).

    Returns
    -------
    matplotlib.figure.Figure
        Horizontal bars in percent of each target, with the 100 % line.
    """
    matplotlib, Figure = _matplotlib()
    tr, rc = _chart_language(tr)
    t = targets.reset_index(drop=True)
    labels = t["label"] if "label" in t else t["target"]
    names = [_target_label(tr, n, lab) for n, lab in zip(t["target"], labels, strict=True)]
    tgt = t["target_mw"].to_numpy(float)
    pot = t["potential_mw"].to_numpy(float)
    existing = np.zeros(len(t))
    with_existing = gap is not None and bool(gap["has_existing"].all()) and len(gap)
    if with_existing:
        ex = gap.set_index("target")["existing_mw"]
        existing = t["target"].map(ex).fillna(0.0).to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ex_share = np.where(tgt > 0, existing / tgt, np.nan)
        pot_share = np.where(tgt > 0, pot / tgt, np.nan)
    with matplotlib.rc_context({**_RC, **rc}):
        fig = Figure(figsize=(7.5, 0.5 + 0.55 * max(len(t), 1)), layout="constrained")
        ax = fig.subplots()
        ypos = np.arange(len(t))[::-1]
        if with_existing:
            ax.barh(ypos, 100 * ex_share, color="#7f8c8d", label=tr("chart.existing"))
        ax.barh(
            ypos,
            100 * pot_share,
            left=100 * ex_share if with_existing else 0,
            color="#27ae60",
            label=tr("chart.potential"),
        )
        ax.axvline(100, color="#c0392b", linestyle="--", linewidth=1, label=tr("chart.target"))
        for y, p, e, mw in zip(ypos, pot_share, ex_share, tgt, strict=True):
            total = (p + e) if with_existing else p
            if np.isfinite(total):
                ax.text(
                    100 * total,
                    y,
                    " " + tr("chart.share_of", pct=f"{100 * total:,.0f}", target=_mw_text(mw, tr)),
                    va="center",
                    fontsize=7,
                )
        ax.set_yticks(ypos, names)
        ax.set_xlabel(tr("chart.share_axis"))
        ax.legend(loc="lower right", fontsize=7, frameon=False)
    return fig


# ----------------------------------------------------------------------------- tables


def _fmt(col: str, value: Any) -> str:
    return format_cell(col, value)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )


def _table(
    df: pd.DataFrame | None,
    columns: list[str] | None = None,
    *,
    tr: Translator | None = None,
    scale: str = "aggregate",
    data_lang: str | None = None,
) -> dict[str, Any]:
    """Turn a table into headers and formatted cells for the template (escaped there).

    The table is first localized (:func:`census.i18n.localize_table`): translated
    headers and codes, values in the language's display units. ``local`` keeps that
    table for the workbook and the Word report, so every format shows the same numbers.
    """
    if df is None:
        return {"headers": [], "rows": [], "numeric": [], "local": None, "data_lang": None}
    tr = tr or Translator("en")
    local = localize_table(df, tr, columns=columns, scale=scale)  # type: ignore[arg-type]
    rows = []
    numeric = [False] * len(local.columns)
    for rec in local.frame.itertuples(index=False, name=None):
        cells = []
        for j, (key, v) in enumerate(zip(local.formats, rec, strict=True)):
            if _is_number(v):
                numeric[j] = True
            cells.append(format_cell(key, v))
        rows.append(cells)
    return {
        "headers": local.headers,
        "rows": rows,
        "numeric": numeric,
        "local": local,
        "data_lang": data_lang if tr.zh else None,
    }


def _targets_shown(targets: pd.DataFrame | None, tr: Translator) -> pd.DataFrame | None:
    """Return the targets table as the report shows it.

    In Chinese the plan's term replaces the record's English ``label``, and the
    records' citations (English text, kept in targets.csv, the workbook and the
    assumption ledger) are left out of the table.
    """
    if targets is None or not tr.zh:
        return targets
    return targets.drop(columns=[c for c in ("label", "source") if c in targets])


def _column_total(s: pd.Series) -> Any:
    """Sum of a numeric column; a text column (a basis, a factor name) keeps its one value."""
    if pd.api.types.is_numeric_dtype(s) and s.dtype != bool:
        total = s.sum()
        return total.item() if hasattr(total, "item") else total
    values = s.dropna().unique()
    return values[0] if len(values) == 1 else None


def _with_city_row(df: pd.DataFrame, cols: list[str], tr: Translator | None = None) -> pd.DataFrame:
    out = df[["adcode", "name_zh", "name_en", *cols]].copy()
    total = {
        "adcode": None,
        "name_zh": tr("report.city_total") if tr is not None and tr.zh else "全市",
        "name_en": "City total",
        **{c: _column_total(df[c]) for c in cols},
    }
    out = out.astype({"adcode": object})
    return pd.concat([out, pd.DataFrame([total])], ignore_index=True)


# ----------------------------------------------------------------------------- HTML

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI","Microsoft YaHei","PingFang SC",
"Noto Sans CJK SC",sans-serif;margin:0;color:#222;background:#fafafa;line-height:1.45}
main{max-width:1100px;margin:0 auto;padding:1rem 1.5rem 3rem}
h1{font-size:1.6rem;margin:.4rem 0}h2{font-size:1.25rem;border-bottom:2px solid #1f6f8b;
padding-bottom:.2rem;margin-top:2.2rem}h3{font-size:1.05rem}
.meta{color:#555;font-size:.9rem}
.banner{border:3px solid #c0392b;background:#fdecea;padding:1rem 1.2rem;margin:1rem 0;
font-size:1.05rem}
.banner h2{border:0;color:#c0392b;margin:0 0 .4rem;font-size:1.4rem}
.ok{border:2px solid #27ae60;background:#eafaf1;padding:.6rem 1rem}
.notice{border-left:5px solid #e67e22;background:#fef5e7;padding:.6rem 1rem;margin:.8rem 0}
.cards{display:flex;flex-wrap:wrap;gap:.8rem;margin:.8rem 0}
.card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:.6rem .9rem;min-width:10rem}
.card .v{font-size:1.35rem;font-weight:600}.card .k{color:#555;font-size:.8rem}
table{border-collapse:collapse;margin:.6rem 0;font-size:.82rem;background:#fff}
th,td{border:1px solid #ddd;padding:.2rem .45rem;vertical-align:top}
th{background:#eef4f7;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}
tr.total td{font-weight:600;background:#f4f4f4}
.caption{color:#333;font-size:.85rem;font-weight:600;margin:.8rem 0 .2rem}
.wide{overflow-x:auto}img.chart{max-width:100%;height:auto;border:1px solid #eee;
background:#fff}
@page{size:A4 landscape;margin:12mm}
@media print{body{background:#fff}main{max-width:none;padding:0}nav{display:none}
table{font-size:.68rem}h2{break-after:avoid}img.chart{max-height:12cm}}
nav a{margin-right:.8rem}code{font-size:.8rem;word-break:break-all}
"""

_TEMPLATE = """<!DOCTYPE html>
<html lang="{{ html_lang }}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title><style>{{ css }}</style></head>
<body><main>
{%- macro table(t, total_last=False, caption=None) -%}
{% if caption %}<p class="caption">{{ caption }}</p>{% endif %}
<div class="wide"><table><thead><tr>{% for h in t.headers %}<th>{{ h }}</th>{% endfor %}
</tr></thead><tbody{% if t.data_lang %} lang="{{ t.data_lang }}"{% endif %}>
{%- for row in t.rows %}<tr{% if total_last and loop.last %} class="total"{% endif %}>
{%- for cell in row %}<td{% if t.numeric[loop.index0] %} class="n"{% endif %}>{{ cell }}</td>
{%- endfor %}</tr>
{%- endfor %}</tbody></table></div>
{%- endmacro %}
<h1>{{ title }}</h1>
{% if synthetic %}
<section class="banner" id="synthetic">
<h2>{{ t("report.synthetic_heading") }}</h2>
<p>{{ note or t("report.synthetic_default") }}</p>
{% if synthetic_layers %}<p>{{ t("report.synthetic_layers") }}{{ synthetic_layers | join(", ")
}}</p>{% endif %}
</section>
{% else %}
<p class="ok">{{ t("report.no_synthetic") }}</p>
{% endif %}
<p class="meta">{{ t("report.meta_run") }} {{ run.config_hash or "–" }} ·
{{ t("report.meta_started") }} {{ run.started_utc or "–" }}
{%- if run.config_file %} · {{ t("report.meta_config") }} {{ run.config_file }}{% endif %}
 · {{ t("report.meta_generated") }} {{ generated }} · census {{ version }}<br>
{{ t("report.meta_districts") }}{{ run_districts | join(sep) if run_districts else "–" }}</p>
<nav><a href="#summary">{{ t("report.summary") }}</a><a href="#targets">{{ t("report.nav_targets")
}}</a><a href="#supply">{{ t("report.supply") }}</a><a href="#districts">{{ t("report.districts")
}}</a>{% if zones %}<a href="#zones">{{ t("report.zones") }}</a>{% endif %}<a href="#storage">{{
t("report.nav_storage") }}</a><a href="#co2">{{ t("report.co2") }}</a>
<a href="#assumptions">{{ t("report.nav_assumptions") }}</a><a href="#provenance">{{
t("report.nav_provenance") }}</a></nav>
{% for n in notices %}<p class="notice">{{ n }}</p>{% endfor %}

<h2 id="summary">{{ t("report.summary") }}</h2>
<div class="cards">
{% for k, v in cards %}<div class="card"><div class="v">{{ v }}</div><div class="k">{{ k }}</div>
</div>{% endfor %}
</div>
<p>{{ t("report.summary_note", storage_rule=storage_rule) }}</p>
<p class="basis">{{ basis_note }}</p>
<h3>{{ t("report.city_heading") }}</h3>
{{ table(city, total_last=True, caption=captions.city) }}

<h2 id="targets">{{ t("report.targets") }}</h2>
{% if targets_chart %}<img class="chart" alt="{{ t('report.targets_chart_alt') }}"
src="{{ targets_chart }}"><p class="caption">{{ captions.targets_chart }}</p>{% endif %}
{{ table(targets, caption=captions.targets) }}
{% if gap %}
<h3>{{ t("report.gap_heading") }}</h3>
{{ table(gap, caption=captions.gap) }}
<h3>{{ t("report.existing_heading") }}</h3>
{{ table(existing_districts, total_last=True, caption=captions.existing) }}
{% else %}
<p class="notice">{{ no_existing_note }}</p>
{% endif %}

<h2 id="supply">{{ t("report.supply") }}</h2>
<p>{{ supply_note }}</p>
{% if supply_chart %}<img class="chart" alt="{{ t('report.supply_chart_alt') }}"
src="{{ supply_chart }}"><p class="caption">{{ captions.supply_chart }}</p>{% endif %}
{% for name, tab, cap in supply_tables %}
<h3>{{ name }}</h3>
{{ table(tab, caption=cap) }}
{% endfor %}

<h2 id="districts">{{ t("report.districts") }}</h2>
{{ table(districts, total_last=True, caption=captions.districts) }}
<h3>{{ t("report.by_district_heading") }}</h3>
{{ table(by_district, caption=captions.by_district) }}
{% if zones %}
<h2 id="zones">{{ t("report.zones") }}</h2>
<p>{{ t("report.zones_note", field=zone_field, outside=t("report.zones_outside")) }}</p>
{{ table(zones, total_last=True, caption=captions.zones) }}
{% endif %}

<h2 id="storage">{{ t("report.storage") }}</h2>
<p>{{ t("report.storage_note", storage_rule=storage_rule) }}</p>
{{ table(storage, total_last=True, caption=captions.storage) }}
{% if shift_table %}<h3>{{ shift_heading }}</h3>
<p>{{ shift_note }}</p>
{{ table(shift_table, caption=captions.shift) }}{% endif %}
{% if profiles_heading %}<h3>{{ profiles_heading }}</h3><p>{{ profiles_note }}</p>
{% if profiles_chart %}<img class="chart" alt="{{ profiles_heading }}"
src="{{ profiles_chart }}"><p class="caption">{{ captions.profiles_chart }}</p>{% endif %}
{% endif %}

<h2 id="co2">{{ t("report.co2") }}</h2>
<p>{{ co2_rule }}</p>
{{ table(co2, total_last=True, caption=captions.co2) }}

<h2 id="assumptions">{{ t("report.assumptions") }}</h2>
<p>{{ t("report.assumptions_note") }}</p>
{% if assumptions.rows %}{{ table(assumptions, caption=captions.assumptions) }}{% else %}
<p class="notice">{{ t("report.no_ledger") }}</p>{% endif %}

<h3>{{ t("report.glossary") }}</h3>
{{ table(glossary, caption=captions.glossary) }}

<h2 id="provenance">{{ t("report.provenance") }}</h2>
{% if inputs.rows %}{{ table(inputs, caption=captions.inputs) }}{% else %}
<p class="notice">{{ t("report.no_inputs") }}</p>{% endif %}
{% if warnings_list %}<h3>{{ t("report.warnings") }}</h3><ul lang="en">
{% for w in warnings_list %}<li>{{ w }}</li>{% endfor %}</ul>{% endif %}
{% if packages.rows %}<h3>{{ t("report.software") }}</h3>{{ table(packages) }}{% endif %}
</main></body></html>
"""


def _get(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _version() -> str:
    try:
        return importlib.metadata.version("census")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover
        return "unknown"


def report_context(
    result_like: Any,
    *,
    title: str | None = None,
    supply: pd.DataFrame | None = None,
    gap: pd.DataFrame | None = None,
    existing_districts: pd.DataFrame | None = None,
    max_sites: int = 25,
    charts: bool = True,
    lang: str = "en",
    study_area: str | None = None,
) -> dict[str, Any]:
    """Build everything the report shows, once, for every format (HTML, DOCX, PDF).

    Parameters are those of :func:`build_report_html`.

    Returns
    -------
    dict
        Title, language, run metadata, summary cards, sentences, the localized
        tables (each a dict with ``headers``, ``rows``, ``numeric`` and the
        :class:`~census.i18n.LocalTable` as ``local``), numbered captions and
        the charts as PNG bytes (``figures``: key -> bytes).
    """
    from census.rollup import city_table, district_table, targets_table

    by = _get(result_like, "by_district")
    if not isinstance(by, pd.DataFrame):
        raise TypeError(
            "build_report_html needs a result with a 'by_district' DataFrame "
            f"(census.pipeline.CensusResult); got {type(result_like).__name__}."
        )
    prov = _get(result_like, "provenance") or {}
    totals = _get(result_like, "district_totals")
    totals = district_table(by) if totals is None else totals
    city = _get(result_like, "city")
    city = city_table(by) if city is None else city
    targets = _get(result_like, "targets")
    tcfg = (prov.get("config") or {}).get("targets") or {}
    if targets is None and tcfg:
        targets = targets_table(by, _Obj(tcfg))
    run = prov.get("census_run") or {}
    tr = Translator(lang, district_names=district_names(totals))  # type: ignore[arg-type]
    if title is None:
        title = tr("report.title", name=study_area or tr("report.study_area"))

    has_gap = gap is not None and len(gap) > 0 and bool(gap["has_existing"].all())
    city_all = city[city["category"] == "all"]
    tot = city_all.iloc[0] if len(city_all) else city.sum(numeric_only=True)
    pv_mw = float(totals.get("pv_capacity_mw", pd.Series([0.0])).sum())
    wind_mw = float(totals.get("wind_capacity_mw", pd.Series([0.0])).sum())
    energy_gwh = float(tot["energy_gwh_yr"])
    co2_t = float(tot["co2_avoided_t_yr"])
    if tr.zh:
        cards = [
            (tr("card.pv"), _mw_text(pv_mw, tr)),
            (tr("card.wind"), _mw_text(wind_mw, tr)),
            (
                tr("card.energy"),
                f"{float(gwh_to_yi_kwh(energy_gwh)):,.2f} {tr.term('unit.yi_kwh_yr')}",
            ),
            (tr("card.storage_mw"), _mw_text(float(tot["storage_mw"]), tr)),
            (
                tr("card.storage_mwh"),
                f"{float(mwh_to_wan_kwh(float(tot['storage_mwh']))):,.2f} "
                f"{tr.term('unit.wan_kwh')}",
            ),
            (tr("card.co2"), f"{float(t_to_wan_t(co2_t)):,.2f} {tr.term('unit.wan_t_yr')}"),
        ]
    else:
        cards = [
            (tr("card.pv"), f"{pv_mw:,.1f}"),
            (tr("card.wind"), f"{wind_mw:,.1f}"),
            (tr("card.energy"), f"{energy_gwh:,.1f}"),
            (tr("card.storage_mw"), f"{float(tot['storage_mw']):,.1f}"),
            (tr("card.storage_mwh"), f"{float(tot['storage_mwh']):,.1f}"),
            (tr("card.co2"), f"{co2_t:,.0f}"),
        ]
    cards.append((tr("card.sites"), f"{int(tot['eligible_sites']):,} / {int(tot['sites']):,}"))
    frac = tcfg.get("storage_min_frac")
    techs = tcfg.get("storage_technologies")
    dur = tcfg.get("storage_duration_h")
    sep = "、" if tr.zh else ", "
    if frac is not None and techs:
        storage_rule = tr(
            "report.storage_rule",
            pct=f"{100 * float(frac):g}",
            techs=sep.join(tr.code("technology", x) for x in techs),
        ) + (tr("report.storage_duration", hours=f"{float(dur):g}") if dur is not None else "")
    else:
        storage_rule = tr("report.storage_rule_unknown")
    preset = tcfg.get("emission_factor_preset")
    ef = (tcfg.get("emission_factors") or {}).get(preset)
    co2_rule = (
        tr(
            "report.co2_rule",
            preset=tr.code("emission_factor", preset) if tr.zh else preset,
            ef=f"{float(ef):g}",
        )
        if ef is not None
        else tr("report.co2_rule_no_ef")
    )
    basis_note = _basis_note(targets, tcfg, (prov.get("config") or {}).get("wind") or {}, tr)

    # captions are numbered in the order the report shows them (表1/图1, Table 1/Figure 1)
    counters = {"table": 0, "figure": 0}

    def caption(kind: str, key: str, **values: Any) -> str:
        counters[kind] += 1
        return tr(f"caption.{kind}", n=counters[kind], text=tr(key, **values))

    figures: dict[str, bytes] = {}
    captions: dict[str, str] = {}
    captions["city"] = caption("table", "caption.city")
    if charts and targets is not None and len(targets):
        figures["targets"] = _png_bytes(targets_figure(targets, gap if has_gap else None, tr=tr))
        captions["targets_chart"] = caption("figure", "caption.targets_chart")
    captions["targets"] = caption("table", "caption.targets")
    if has_gap:
        captions["gap"] = caption("table", "caption.gap")
        captions["existing"] = caption("table", "caption.existing")
    supply_tables = []
    if supply is not None:
        has_cost = "lcoe_cny_kwh" in supply and supply["lcoe_cny_kwh"].notna().any()
        supply_note = tr("report.supply_note_cost") if has_cost else tr("report.supply_note_rank")
        if charts:
            figures["supply"] = _png_bytes(supply_curve_figure(supply, targets=targets, tr=tr))
            captions["supply_chart"] = caption("figure", "caption.supply_chart")
        cols = [
            "rank",
            "site_id",
            "adcode",
            "district",
            "category",
            "technology",
            "capacity_mw_dc",
            "energy_gwh_yr",
            "specific_yield_kwh_kwp",
            "capacity_factor",
            "lcoe_cny_kwh",
            "cumulative_capacity_mw",
            "cumulative_energy_gwh_yr",
            "reaches_target",
        ]
        for name in ("pv", "wind"):
            label = tr.code("technology", name) if name == "pv" else tr("chart.wind")
            part = supply[supply["curve"] == name]
            marked = part[part["reaches_target"].fillna("").astype(str) != ""]
            head = part.head(max_sites)
            later = marked[~marked["rank"].isin(head["rank"])]
            shown = pd.concat([head, later])
            heading = tr("report.supply_heading", what=label, n=len(head), total=len(part)) + (
                tr("report.supply_heading_later") if len(later) else ""
            )
            supply_tables.append(
                (
                    heading,
                    _table(shown, cols, tr=tr, scale="site"),
                    caption("table", "caption.supply", what=label),
                )
            )
    else:
        supply_note = tr("report.no_supply")
    captions["districts"] = caption("table", "caption.districts")
    captions["by_district"] = caption("table", "caption.by_district")
    by_zone = _get(result_like, "by_zone")
    zone_table = None
    if isinstance(by_zone, pd.DataFrame) and len(by_zone):
        zone_table = _zone_rows(
            by_zone, total_label=tr("report.zones_total"), outside_label=tr("report.zones_outside")
        )
        captions["zones"] = caption("table", "caption.zones")
    captions["storage"] = caption("table", "caption.storage")
    profile_block = _profile_block(result_like, tr, charts=charts)
    if profile_block["shift_table"] is not None:
        profile_block["shift_table"] = _table(profile_block["shift_table"], tr=tr)
        captions["shift"] = caption("table", "caption.shift")
    if profile_block["profiles_chart"]:
        captions["profiles_chart"] = caption("figure", "caption.profiles_chart")
        figures["profiles"] = base64.b64decode(profile_block["profiles_chart"].split(",", 1)[1])
    captions["co2"] = caption("table", "caption.co2")

    storage_cols = ["storage_mw", "storage_mwh"]
    ledger = pd.DataFrame(prov.get("assumptions") or [])
    if len(ledger):
        if "overridden" not in ledger:
            ledger["overridden"] = False
        ledger = ledger[
            [c for c in ("key", "value", "unit", "source", "overridden") if c in ledger]
        ]
        ledger = ledger.assign(value=ledger["value"].map(_ledger_value))
        captions["assumptions"] = caption("table", "caption.assumptions")
    glossary = glossary_table()
    captions["glossary"] = caption("table", "caption.glossary")
    inputs = pd.DataFrame(prov.get("inputs") or [])
    if len(inputs):
        captions["inputs"] = caption("table", "caption.inputs")
    packages = prov.get("packages") or {}
    synthetic = bool(prov.get("synthetic_inputs"))
    note = prov.get("note") or ""
    if synthetic and tr.zh:
        note = tr("report.synthetic_note")  # the provenance note is English
    notices = []
    if tr.zh and charts and cjk_font() is None:
        notices.append(tr("report.no_cjk_font"))
    return {
        "tr": tr,
        "lang": tr.lang,
        "html_lang": "zh-CN" if tr.zh else "en",
        "title": title,
        "synthetic": synthetic,
        "note": note,
        "synthetic_layers": list(prov.get("synthetic_layers") or []),
        "run": run,
        "run_districts": [
            tr.district_names.get(int(a), str(a)) for a in totals["adcode"] if pd.notna(a)
        ]
        if tr.zh
        else list(run.get("districts") or []),
        "sep": sep,
        "generated": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "version": _version(),
        "cards": cards,
        "storage_rule": storage_rule,
        "co2_rule": co2_rule,
        "basis_note": basis_note,
        "city": _table(city, tr=tr),
        "targets": _table(_targets_shown(targets, tr), tr=tr),
        "gap": _table(gap, tr=tr) if has_gap else None,
        "existing_districts": _table(
            _with_city_row(
                existing_districts,
                [c for c in existing_districts.columns if c.endswith("_mw")],
                tr,
            ),
            tr=tr,
        )
        if has_gap and existing_districts is not None
        else {"headers": [], "rows": [], "numeric": [], "local": None},
        "no_existing_note": tr("report.no_existing") if tr.zh else NO_EXISTING_NOTE,
        "supply_note": supply_note,
        "supply_tables": supply_tables,
        "districts": _table(
            _with_city_row(
                totals,
                [c for c in totals.columns if c not in ("adcode", "name_zh", "name_en")],
                tr,
            ),
            tr=tr,
        ),
        "by_district": _table(by[by["technology"].astype(str) != ""], tr=tr),
        "zones": _table(zone_table, tr=tr) if zone_table is not None else None,
        "zone_field": str(((prov.get("config") or {}).get("zones") or {}).get("field") or "zone"),
        "storage": _table(_with_city_row(totals, storage_cols, tr), tr=tr),
        "co2": _table(_with_city_row(totals, ["energy_gwh_yr", "co2_avoided_t_yr"], tr), tr=tr),
        "assumptions": _table(ledger, tr=tr, data_lang="en"),
        "inputs": _table(inputs, tr=tr, data_lang="en"),
        "glossary": _table(glossary, tr=tr, data_lang="en"),
        "warnings_list": list(prov.get("warnings") or []),
        "packages": _table(
            pd.DataFrame(
                {"package": list(packages), "version": [str(v) for v in packages.values()]}
            ),
            tr=tr,
            data_lang="en",
        ),
        "captions": captions,
        "figures": figures,
        "notices": notices,
        **profile_block,
    }


def _zone_rows(by_zone: pd.DataFrame, *, total_label: str, outside_label: str) -> pd.DataFrame:
    """Return the zone table as shown: :data:`ZONE_COLUMNS` present, energy in GWh, a total row.

    The total row sums the additive columns over every zone (and the part outside the
    zones), so it equals the district totals of the same run.
    """
    from census.units import mwh_to_gwh

    df = by_zone.copy()
    if "energy_gwh_yr" not in df.columns and "energy_mwh_yr" in df.columns:
        df["energy_gwh_yr"] = mwh_to_gwh(df["energy_mwh_yr"])
    cols = [c for c in ZONE_COLUMNS if c in df.columns]
    df = df[cols]
    from census.zones import OUTSIDE

    df = df.assign(zone=df["zone"].astype(str).replace({OUTSIDE: outside_label}))
    total: dict[str, Any] = {"zone": total_label}
    for c in cols[1:]:
        if c.endswith("_per_person"):
            total[c] = None
        else:
            total[c] = _column_total(df[c])
    return pd.concat([df, pd.DataFrame([total])], ignore_index=True)


def _profile_block(result_like: Any, tr: Translator, *, charts: bool) -> dict[str, Any]:
    """Return the hourly-profile block (census.profiles.report) in the report's language."""
    import matplotlib

    from census.profiles.report import TEXT_EN
    from census.profiles.report import report_context as profile_context

    chart_tr, rc = _chart_language(tr)
    text = {k: tr(f"profile.{k}") for k in TEXT_EN}
    if chart_tr is not tr:  # no CJK font: the chart keeps English words
        for k in ("title", "xlabel", "ylabel", "DJF", "MAM", "JJA", "SON"):
            text[k] = TEXT_EN[k]
    with matplotlib.rc_context(rc):
        return profile_context(result_like, text=text, charts=charts)


def glossary_table() -> pd.DataFrame:
    """Return the glossary: the terms of the plan and statistics, in both languages.

    Returns
    -------
    pandas.DataFrame
        ``zh``, ``en``, ``source`` of every ``glossary`` entry of ``terms.yaml``.
    """
    rows = [(t.zh, t.en, t.source) for t in load_terms().values() if t.glossary]
    return pd.DataFrame(rows, columns=["zh", "en", "source"])


def _ledger_value(v: Any) -> Any:
    if isinstance(v, (list, tuple, dict)):
        return ", ".join(map(str, v)) if not isinstance(v, dict) else str(v)
    return v


def build_report_html(
    result_like: Any,
    *,
    title: str | None = None,
    supply: pd.DataFrame | None = None,
    gap: pd.DataFrame | None = None,
    existing_districts: pd.DataFrame | None = None,
    max_sites: int = 25,
    charts: bool = True,
    lang: str = "en",
    study_area: str | None = None,
    context: dict[str, Any] | None = None,
) -> str:
    """Build the planning report as one self-contained HTML page.

    Parameters
    ----------
    result_like : CensusResult or mapping
        Anything with ``by_district`` (required), and optionally
        ``district_totals``, ``city``, ``targets`` and ``provenance`` (as
        :class:`census.pipeline.CensusResult` has them); missing tables are
        computed from ``by_district`` with :mod:`census.rollup`.
    title : str, optional
        Page title; default "<study area>：可再生能源资源普查报告" or
        "Renewable-resource census: <study area>".
    supply : pandas.DataFrame, optional
        :func:`census.supply.supply_curve` output; without it the section says so.
    gap : pandas.DataFrame, optional
        :func:`census.supply.existing_gap` output computed with an existing-capacity
        table. ``None`` (or ``has_existing`` false) prints that the numbers are
        potential, not a gap.
    existing_districts : pandas.DataFrame, optional
        :func:`census.supply.existing_by_district` output, shown with the gap.
    max_sites : int, default 25
        Sites listed per supply curve (the chart shows all).
    charts : bool, default True
        Draw charts (needs matplotlib).
    lang : {"en", "zh"}, default "en"
        Language of every label, sentence and unit (see :mod:`census.i18n`).
    study_area : str, optional
        Name of the study area, for the default title.
    context : dict, optional
        A :func:`report_context` already built (the DOCX and PDF writers share it).

    Returns
    -------
    str
        The HTML document: CSS inline, charts as ``data:`` PNG, no external URL;
        all data text escaped.
    """
    from jinja2 import Environment

    ctx = context or report_context(
        result_like,
        title=title,
        supply=supply,
        gap=gap,
        existing_districts=existing_districts,
        max_sites=max_sites,
        charts=charts,
        lang=lang,
        study_area=study_area,
    )
    figs = ctx["figures"]
    env = Environment(autoescape=True, trim_blocks=False, lstrip_blocks=False)
    return env.from_string(_TEMPLATE).render(
        **ctx,
        css=_CSS,
        t=ctx["tr"],
        targets_chart=_data_uri_png(figs["targets"]) if "targets" in figs else None,
        supply_chart=_data_uri_png(figs["supply"]) if "supply" in figs else None,
    )


def _data_uri_png(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _basis_note(
    targets: Any, tcfg: Mapping[str, Any], wcfg: Mapping[str, Any], tr: Translator
) -> str:
    """One sentence naming the capacity bases, emission factor and turbine of the run."""
    parts = []
    sep = "、" if tr.zh else ", "
    if isinstance(targets, pd.DataFrame) and "capacity_basis" in targets and len(targets):
        labels = targets.get("label", targets["target"])
        bases = sep.join(
            tr(
                "report.basis_target_item",
                label=_target_label(tr, name, lab),
                basis=tr.code("basis", b),
            )
            for name, lab, b in zip(
                targets["target"], labels, targets["capacity_basis"], strict=True
            )
        )
        parts.append(tr("report.basis_targets", bases=bases))
    if tcfg.get("storage_basis"):
        parts.append(tr("report.basis_storage", basis=tr.code("basis", tcfg["storage_basis"])))
    preset = tcfg.get("emission_factor_preset")
    ef = (tcfg.get("emission_factors") or {}).get(preset)
    if ef is not None:
        shown = tr.code("emission_factor", preset) if tr.zh else preset
        parts.append(tr("report.basis_co2", preset=shown, ef=f"{float(ef):g}"))
    turbine = wcfg.get("turbine") or {}
    if turbine.get("type"):
        hub = f"{float(turbine.get('hub_height_m') or 0):g}"
        parts.append(tr("report.basis_turbine", type=turbine["type"], hub=hub))
    return ("" if tr.zh else " ").join(parts)


class _Obj:
    """Attribute access to a mapping (a targets section read from provenance JSON)."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.__dict__.update(data)


# ----------------------------------------------------------------------------- XLSX

_BAD_SHEET = re.compile(r"[\[\]:*?/\\]")
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _sheet_name(name: str, used: set[str]) -> str:
    base = _BAD_SHEET.sub("_", str(name)).strip("'") or "sheet"
    base = base[:31]
    out, i = base, 2
    while out.lower() in used:
        suffix = f"_{i}"
        out = base[: 31 - len(suffix)] + suffix
        i += 1
    used.add(out.lower())
    return out


def _cell_value(v: Any) -> Any:
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        x = float(v)
        return None if math.isnan(x) or math.isinf(x) else x
    if isinstance(v, int):
        return v
    if isinstance(v, (dt.datetime, dt.date)):
        return v
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime().replace(tzinfo=None)
    if isinstance(v, (list, tuple, set, dict)):
        v = ", ".join(map(str, v)) if not isinstance(v, dict) else str(v)
    return _ILLEGAL_XML.sub("", str(v))


def _width(values: list[Any]) -> int:
    width = 0
    for v in values:
        if isinstance(v, str):
            width = max(width, min(len(v), 60))
        elif isinstance(v, float):
            width = max(width, min(len(f"{v:,.4g}"), 20))
        elif v is not None:
            width = max(width, len(str(v)))
    return width


XLSX_MAX_CURVE_ROWS = 10_000
"""Rows of the supply curve kept in the workbook; the CSV always holds every site."""


def thin_curve(curve: pd.DataFrame, *, max_rows: int = 10_000) -> pd.DataFrame:
    """Thin a long supply curve for a spreadsheet, keeping its shape and every target row.

    Keeps, per curve (column ``curve`` when present), evenly spaced ranks, the
    first and last site, and every site where ``reaches_target`` is set, so the
    cumulative columns still end at the curve's totals. Excel holds at most
    1,048,576 rows and openpyxl writes about 10^4 rows per second, so a city of a
    million rooftops cannot go into a workbook whole; ``supply_curve.csv`` keeps
    every site.

    Parameters
    ----------
    curve : pandas.DataFrame
        Output of :func:`census.supply.supply_curve`.
    max_rows : int, default 10000
        Upper bound on the rows kept (plus target rows).

    Returns
    -------
    pandas.DataFrame
        ``curve`` itself when short enough, else a subset in the same order.
    """
    if len(curve) <= max_rows:
        return curve
    groups = (
        curve.groupby("curve", sort=False).indices
        if "curve" in curve.columns
        else {"all": np.arange(len(curve))}
    )
    keep: list[np.ndarray] = []
    for rows in groups.values():
        share = max(2, int(max_rows * len(rows) / len(curve)))
        keep.append(rows[np.unique(np.linspace(0, len(rows) - 1, share).round().astype(int))])
    mask = np.zeros(len(curve), bool)
    mask[np.concatenate(keep)] = True
    if "reaches_target" in curve.columns:
        mask |= curve["reaches_target"].fillna("").astype(str).str.len().to_numpy() > 0
    return curve.loc[mask]


def write_workbook(path: str | Path, tables: Mapping[str, pd.DataFrame]) -> Path:
    """Write tables to an XLSX workbook, one sheet per table.

    Parameters
    ----------
    path : str or pathlib.Path
        The ``.xlsx`` file to write (replaced if it exists).
    tables : mapping of str to pandas.DataFrame
        Sheet name (made valid for Excel and shortened to 31 characters when
        needed) -> table.

    Returns
    -------
    pathlib.Path
        ``path``.

    Notes
    -----
    Numbers are written as numbers (openpyxl keeps 16 significant digits, Excel
    shows 15: the CSV values to that precision), NaN and infinity as empty
    cells, booleans as booleans. Text is never turned into a formula, even when
    it starts with ``=``. The header row is bold and frozen; column widths
    follow the content.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    path = Path(path)
    if not tables:
        raise ValueError("write_workbook needs at least one table.")
    wb = Workbook(write_only=True)
    used: set[str] = set()
    bold = Font(bold=True)
    for name, df in tables.items():
        if not isinstance(df, pd.DataFrame):
            raise TypeError(f"table {name!r} is a {type(df).__name__}, not a pandas DataFrame.")
        ws = wb.create_sheet(_sheet_name(name, used))
        rows = [[_cell_value(v) for v in rec] for rec in df.itertuples(index=False, name=None)]
        header = [_cell_value(c) for c in df.columns]
        for j, head in enumerate(header):
            width = max(len(str(head)), _width([r[j] for r in rows]))
            ws.column_dimensions[get_column_letter(j + 1)].width = min(max(width + 2, 8), 62)
        ws.freeze_panes = "A2"
        cells = []
        for head in header:
            cell = WriteOnlyCell(ws, value=head)
            cell.font = bold
            cell.data_type = "s"
            cells.append(cell)
        ws.append(cells)
        for row in rows:
            for j, v in enumerate(row):
                if isinstance(v, str) and v.startswith("="):
                    cell = WriteOnlyCell(ws, value=v)
                    cell.data_type = "s"  # text, never a formula
                    row[j] = cell
            ws.append(row)
    wb.save(path)
    return path


# ----------------------------------------------------------------------------- pipeline hook


def write_report_outputs(
    run_folder: RunFolder, result: CensusResult, config: CensusConfig, *, lang: str | None = None
) -> dict[str, Path]:
    """Render the planning-report outputs of a finished run into its run folder.

    Only renders: the supply curve, the existing-capacity gap and every table
    come from ``result`` (the roll-up stage computed them).

    Parameters
    ----------
    run_folder : census.io.runfolder.RunFolder
        The open run folder.
    result : census.result.CensusResult
        The run's result: ``by_district``, ``district_totals``, ``city``,
        ``targets``, ``tally``, ``supply_curve``, ``existing_gap``,
        ``existing_by_district``, ``existing_capacity``, ``provenance``.
    config : CensusConfig
        The run's configuration (``targets`` for the chart's lines,
        ``study_area.name`` for the title).
    lang : {"zh", "en"}, optional
        Language of the report and workbook; default the run's resolved
        ``[outputs] language`` (``provenance["language"]``), else English.

    Returns
    -------
    dict of str to pathlib.Path
        Final paths of ``supply_curve.csv``, ``supply_curve.png``,
        ``census.xlsx``, ``report.html``, ``report.docx``, ``report.pdf`` (when a
        renderer is available) and, with an existing-capacity table,
        ``existing_gap.csv`` and ``existing_by_district.csv``.
    """
    prov = result.provenance
    curve = result.supply_curve
    has_existing = result.existing_capacity is not None
    gap, per_district = result.existing_gap, result.existing_by_district
    out: dict[str, Path] = {}
    lang = lang or prov.get("language") or "en"
    totals = result.district_totals
    tr = Translator(lang, district_names=district_names(totals))  # type: ignore[arg-type]
    area = getattr(config, "study_area", None)
    name = getattr(area, "name", None)
    if lang == "zh" and getattr(area, "name_zh", None):
        name = area.name_zh
    ctx = report_context(
        result,
        study_area=name,
        supply=curve,
        gap=gap if has_existing else None,
        existing_districts=per_district if has_existing else None,
        lang=lang,
    )
    out[LAYOUT.report] = run_folder.write_text(
        LAYOUT.report, build_report_html(result, context=ctx)
    )
    # Chromium prints the PDF in its own process while this one writes the rest; if this
    # thread is interrupted (Ctrl-C), Chromium is stopped rather than waited for
    cancel = threading.Event()
    with (
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="census-pdf") as pool,
        _set_on_exit(cancel),
    ):
        pdf = pool.submit(_write_pdf, run_folder, ctx, prov, cancel)
        out[LAYOUT.supply_curve] = run_folder.write_csv(LAYOUT.supply_curve, curve)
        out[LAYOUT.supply_curve_png] = run_folder.write_bytes(
            LAYOUT.supply_curve_png,
            _png_bytes(supply_curve_figure(curve, targets=config.targets, tr=tr)),
        )
        if has_existing:
            out[LAYOUT.existing_gap] = run_folder.write_csv(LAYOUT.existing_gap, gap)
            out[LAYOUT.existing_by_district] = run_folder.write_csv(
                LAYOUT.existing_by_district, per_district
            )
        out[LAYOUT.workbook] = run_folder.final(LAYOUT.workbook)
        write_workbook(
            run_folder.file(LAYOUT.workbook),
            localize_workbook(_workbook_tables(result, curve, prov), tr),
        )
        from census.report_docx import write_report_docx

        write_report_docx(run_folder.file("report.docx"), ctx)
        out["report.docx"] = run_folder.final("report.docx")
        out.update(pdf.result())
    _record_missing_terms(prov, tr, ctx["tr"])
    return out


def _workbook_tables(
    result: CensusResult, curve: pd.DataFrame, prov: dict[str, Any]
) -> dict[str, pd.DataFrame]:
    """Return the workbook's sheets by key, in their order (before localisation)."""
    has_existing = result.existing_capacity is not None
    tables: dict[str, pd.DataFrame] = {
        "summary_by_district": result.district_totals,
        "by_district_category": result.by_district,
        "summary_city": result.city,
        "targets": result.targets,
    }
    if has_existing:
        tables["existing_gap"] = result.existing_gap
        tables["existing_by_district"] = result.existing_by_district
    tables["supply_curve"] = thin_curve(curve, max_rows=XLSX_MAX_CURVE_ROWS)
    from census.profiles.report import workbook_tables  # monthly energy, storage shift

    tables.update(workbook_tables(result))
    if isinstance(result.by_zone, pd.DataFrame) and len(result.by_zone):
        tables["summary_by_zone"] = result.by_zone
    if isinstance(result.tally, pd.DataFrame):
        tables["screening_tally"] = result.tally
    tables["assumptions"] = pd.DataFrame(
        prov.get("assumptions") or [],
        columns=None if prov.get("assumptions") else ["key", "value", "unit", "source"],
    )
    tables["inputs"] = pd.DataFrame(
        prov.get("inputs") or [],
        columns=None if prov.get("inputs") else ["path", "bytes", "sha256"],
    )
    return tables


@contextmanager
def _set_on_exit(event: threading.Event) -> Iterator[None]:
    """Set ``event`` when the block is left by an exception (before the pool waits)."""
    try:
        yield
    except BaseException:
        event.set()
        raise


def _write_pdf(
    run_folder: RunFolder,
    ctx: dict[str, Any],
    prov: dict[str, Any],
    cancel: threading.Event | None = None,
) -> dict[str, Path]:
    """Write report.pdf (Chromium, else reportlab); without either, warn and say why."""
    from census.report_pdf import write_report_pdf

    pdf = run_folder.tmp / "report.pdf"
    path, how = write_report_pdf(pdf, ctx, html_path=run_folder.tmp / "report.html", cancel=cancel)
    if path is None:
        msg = f"report.pdf was not written: {how}"
        logger.warning(msg)
        prov.setdefault("warnings", []).append(f"UserWarning: {msg}")
        return {}
    run_folder.file("report.pdf")
    prov["report_pdf"] = {"renderer": how}
    return {"report.pdf": run_folder.final("report.pdf")}


def localize_workbook(
    tables: Mapping[str, pd.DataFrame], tr: Translator
) -> dict[str, pd.DataFrame]:
    """Give a workbook's tables the sheet names, headers and units of a language.

    Values are converted with :func:`census.i18n.localize_table` (Chinese: 万千瓦,
    亿千瓦时, 万吨, 年利用小时数 in the roll-up sheets; MW and MWh per site in the supply
    curve) at full precision; the CSV files keep the machine names and units.
    """
    out: dict[str, pd.DataFrame] = {}
    for key, df in tables.items():
        sheet = tr(f"sheet.{key}") if f"sheet.{key}" in load_strings() else key
        scale = "site" if key == "supply_curve" else "aggregate"
        out[sheet] = localize_table(df, tr, scale=scale).with_headers()  # type: ignore[arg-type]
    return out


def _record_missing_terms(prov: dict[str, Any], *trs: Translator) -> None:
    """Warn (and note in provenance) about data codes shown without a term."""
    missing = sorted(set().union(*(t.missing for t in trs)))
    if missing:
        msg = (
            f"no {trs[0].lang} term for {', '.join(missing)}: shown as in the data. Add them to "
            "census/resources/terms.yaml."
        )
        logger.warning(msg)
        prov.setdefault("warnings", []).append(f"UserWarning: {msg}")
