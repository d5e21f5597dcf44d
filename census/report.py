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
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from census.config import CensusConfig
from census.io.runfolder import RunFolder
from census.result import CensusResult

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

NO_EXISTING_NOTE = (
    "Potential, not a gap: no existing-capacity table given. Set [targets] "
    'existing_capacity = "existing.csv" (columns adcode or district, technology, '
    "capacity_mw_ac or capacity_mw_dc) to compare the targets with installed capacity."
)


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


def supply_curve_figure(curve: pd.DataFrame, *, targets: Any = None) -> Figure:
    """Draw the supply curves (PV and wind) with vertical lines at the targets.

    Parameters
    ----------
    curve : pandas.DataFrame
        Output of :func:`census.supply.supply_curve`.
    targets : pandas.DataFrame or TargetsConfig, optional
        City targets; drawn as vertical lines on the matching curve. [MW]

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
    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=(9.0, 3.6), layout="constrained")
        axes = fig.subplots(1, 2)
        for ax, name, label in zip(axes, ("pv", "wind"), ("PV", "Wind"), strict=True):
            part = curve[curve["curve"] == name] if "curve" in curve else curve.iloc[0:0]
            # a chart needs a few thousand steps, not a million (matplotlib would take minutes);
            # thinned rows keep their own cumulative capacity, so the steps stay in place
            part = thin_curve(part, max_rows=_CHART_MAX_STEPS)
            has_cost = "lcoe_cny_kwh" in part and part["lcoe_cny_kwh"].notna().any()
            if has_cost:
                y = part["lcoe_cny_kwh"].to_numpy(float)
                ylabel = "LCOE [CNY/kWh]"
            elif name == "pv" and "specific_yield_kwh_kwp" in part:
                y = part["specific_yield_kwh_kwp"].to_numpy(float)
                ylabel = "specific yield [kWh/kWp/yr]"
            elif "capacity_factor" in part:
                y = part["capacity_factor"].to_numpy(float)
                ylabel = "capacity factor [frac]"
            else:
                y = part.get("energy_kwh_kw_yr", pd.Series(dtype=float)).to_numpy(float)
                ylabel = "energy [kWh/kW/yr]"
            y = np.where(np.isfinite(y), y, np.nan)
            cum = part["cumulative_capacity_mw"].to_numpy(float) if len(part) else np.array([])
            if len(part):
                ax.stairs(
                    y, np.concatenate([[0.0], cum]), color="#1f6f8b", linewidth=1.5, baseline=None
                )
            else:
                ax.text(
                    0.5, 0.5, "no eligible sites", ha="center", va="center", transform=ax.transAxes
                )
            for spec in goals:
                if spec.curve == name:
                    # the axis is DC capacity; an AC target sits where the AC sum reaches it
                    value = _x_on_dc_axis(part, spec.capacity_mw, spec.capacity_basis)
                    ax.axvline(value, color="#c0392b", linestyle="--", linewidth=1)
                    ax.annotate(
                        f"{spec.label} ({spec.capacity_basis.upper()})",
                        (value, 1.0),
                        xycoords=("data", "axes fraction"),
                        rotation=90,
                        va="top",
                        ha="right",
                        fontsize=7,
                        color="#c0392b",
                    )
            ax.set_title(f"{label} supply curve")
            ax.set_xlabel("cumulative capacity [MW DC]")
            ax.set_ylabel(ylabel)
            ax.set_xlim(left=0)
            ax.set_ylim(bottom=0)
    return fig


def targets_figure(targets: pd.DataFrame, gap: pd.DataFrame | None = None) -> Figure:
    """Draw the census potential (and existing capacity) against each target.

    Parameters
    ----------
    targets : pandas.DataFrame
        :func:`census.rollup.targets_table`: ``target``, ``target_mw``, ``potential_mw``. [MW]
    gap : pandas.DataFrame, optional
        :func:`census.supply.existing_gap`; with existing capacity the bars stack
        existing and potential capacity. [MW]

    Returns
    -------
    matplotlib.figure.Figure
        Horizontal bars in percent of each target, with the 100 % line.
    """
    matplotlib, Figure = _matplotlib()
    t = targets.reset_index(drop=True)
    labels = t["label"] if "label" in t else t["target"]
    names = [str(n) for n in labels]
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
    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=(7.5, 0.5 + 0.55 * max(len(t), 1)), layout="constrained")
        ax = fig.subplots()
        ypos = np.arange(len(t))[::-1]
        if with_existing:
            ax.barh(ypos, 100 * ex_share, color="#7f8c8d", label="existing")
        ax.barh(
            ypos,
            100 * pot_share,
            left=100 * ex_share if with_existing else 0,
            color="#27ae60",
            label="census potential",
        )
        ax.axvline(100, color="#c0392b", linestyle="--", linewidth=1, label="target")
        for y, p, e, mw in zip(ypos, pot_share, ex_share, tgt, strict=True):
            total = (p + e) if with_existing else p
            if np.isfinite(total):
                ax.text(
                    100 * total,
                    y,
                    f" {100 * total:,.0f} % of {mw:,.0f} MW",
                    va="center",
                    fontsize=7,
                )
        ax.set_yticks(ypos, names)
        ax.set_xlabel("share of target [%]")
        ax.legend(loc="lower right", fontsize=7, frameon=False)
    return fig


# ----------------------------------------------------------------------------- tables

_FMT3 = re.compile(r"(capacity_factor|_frac$|ratio|lcoe)")


def _fmt(col: str, value: Any) -> str:
    if value is None or value is pd.NA:
        return "–"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}" if col != "adcode" else str(int(value))
    if isinstance(value, (float, np.floating)):
        x = float(value)
        if math.isnan(x):
            return "–"
        if math.isinf(x):
            return "∞" if x > 0 else "-∞"
        if col == "adcode" and x.is_integer():
            return str(int(x))
        if _FMT3.search(col):
            return f"{x:,.3f}"
        if abs(x) >= 10 or x == 0:
            return f"{x:,.1f}"
        return f"{x:,.2f}" if abs(x) >= 1 else f"{x:.3g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )


def _table(df: pd.DataFrame | None, columns: list[str] | None = None) -> dict[str, Any]:
    """Turn a table into headers and formatted cells for the template (escaped there)."""
    if df is None:
        return {"headers": [], "rows": [], "numeric": []}
    cols = [c for c in (columns or list(df.columns)) if c in df.columns]
    rows = []
    numeric = [False] * len(cols)
    for rec in df[cols].itertuples(index=False, name=None):
        cells = []
        for j, (c, v) in enumerate(zip(cols, rec, strict=True)):
            if _is_number(v):
                numeric[j] = True
            cells.append(_fmt(c, v))
        rows.append(cells)
    return {"headers": [str(c) for c in cols], "rows": rows, "numeric": numeric}


def _with_city_row(df: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    out = df[["adcode", "name_zh", "name_en", *cols]].copy()
    total = {
        "adcode": None,
        "name_zh": "全市",
        "name_en": "City total",
        **{c: df[c].sum().item() if hasattr(df[c].sum(), "item") else df[c].sum() for c in cols},
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
.wide{overflow-x:auto}img.chart{max-width:100%;height:auto;border:1px solid #eee;
background:#fff}
nav a{margin-right:.8rem}code{font-size:.8rem;word-break:break-all}
"""

_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title><style>{{ css }}</style></head>
<body><main>
{%- macro table(t, total_last=False) -%}
<div class="wide"><table><thead><tr>{% for h in t.headers %}<th>{{ h }}</th>{% endfor %}
</tr></thead><tbody>
{%- for row in t.rows %}<tr{% if total_last and loop.last %} class="total"{% endif %}>
{%- for cell in row %}<td{% if t.numeric[loop.index0] %} class="n"{% endif %}>{{ cell }}</td>
{%- endfor %}</tr>
{%- endfor %}</tbody></table></div>
{%- endmacro %}
<h1>{{ title }}</h1>
{% if synthetic %}
<section class="banner" id="synthetic">
<h2>Synthetic inputs: not for planning</h2>
<p>{{ note or "Some inputs of this run are synthetic." }}</p>
{% if synthetic_layers %}<p>Synthetic inputs: {{ synthetic_layers | join(", ") }}.</p>{% endif %}
</section>
{% else %}
<p class="ok">Inputs: no layer of this run is marked synthetic.</p>
{% endif %}
<p class="meta">Run {{ run.config_hash or "–" }} · started {{ run.started_utc or "–" }}
{%- if run.config_file %} · config {{ run.config_file }}{% endif %}
 · report generated {{ generated }} by census {{ version }}.<br>
Districts: {{ run.districts | join(", ") if run.districts else "–" }}</p>
<nav><a href="#summary">Summary</a><a href="#targets">Targets</a><a href="#supply">Supply
curve</a><a href="#districts">Districts</a><a href="#storage">Storage</a><a href="#co2">CO2</a>
<a href="#assumptions">Assumptions</a><a href="#provenance">Provenance</a></nav>

<h2 id="summary">Summary</h2>
<div class="cards">
{% for k, v in cards %}<div class="card"><div class="v">{{ v }}</div><div class="k">{{ k }}</div>
</div>{% endfor %}
</div>
<p>Potential of eligible sites after screening. PV capacity is given as DC (module
nameplate, MWp) and AC (inverter output); wind as the turbines' rating. Storage is the
obligation on centralized PV and wind only ({{ storage_rule }}).</p>
<p class="basis">{{ basis_note }}</p>
<h3>City totals by category and technology</h3>
{{ table(city, total_last=True) }}

<h2 id="targets">Progress against the city targets</h2>
{% if targets_chart %}<img class="chart" alt="Potential against each target"
src="{{ targets_chart }}">{% endif %}
{{ table(targets) }}
{% if gap %}
<h3>Gap after existing capacity</h3>
{{ table(gap) }}
<h3>Existing capacity and potential by district</h3>
{{ table(existing_districts, total_last=True) }}
{% else %}
<p class="notice">{{ no_existing_note }}</p>
{% endif %}

<h2 id="supply">Supply curve</h2>
<p>{{ supply_note }}</p>
{% if supply_chart %}<img class="chart" alt="Supply curves with target lines"
src="{{ supply_chart }}">{% endif %}
{% for name, t in supply_tables %}
<h3>{{ name }}</h3>
{{ table(t) }}
{% endfor %}

<h2 id="districts">Districts</h2>
{{ table(districts, total_last=True) }}
<h3>By district, category and technology</h3>
{{ table(by_district) }}

<h2 id="storage">Storage obligation</h2>
<p>{{ storage_rule }}. Power in MW, energy in MWh.</p>
{{ table(storage, total_last=True) }}
{% if shift_table %}<h3>{{ shift_heading }}</h3>
<p>{{ shift_note }}</p>
{{ table(shift_table) }}{% endif %}
{% if profiles_heading %}<h3>{{ profiles_heading }}</h3><p>{{ profiles_note }}</p>
{% if profiles_chart %}<img class="chart" alt="{{ profiles_heading }}"
src="{{ profiles_chart }}">{% endif %}{% endif %}

<h2 id="co2">CO2 avoided</h2>
<p>{{ co2_rule }}</p>
{{ table(co2, total_last=True) }}

<h2 id="assumptions">Assumption ledger</h2>
<p>Every value the run used, with unit and source; "overridden" marks values set in the
user's config.</p>
{% if assumptions.rows %}{{ table(assumptions) }}{% else %}
<p class="notice">No assumption ledger in the provenance of this run.</p>{% endif %}

<h2 id="provenance">Input provenance</h2>
{% if inputs.rows %}{{ table(inputs) }}{% else %}
<p class="notice">No input files recorded.</p>{% endif %}
{% if warnings_list %}<h3>Warnings during the run</h3><ul>
{% for w in warnings_list %}<li>{{ w }}</li>{% endfor %}</ul>{% endif %}
{% if packages.rows %}<h3>Software</h3>{{ table(packages) }}{% endif %}
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


def build_report_html(
    result_like: Any,
    *,
    title: str,
    supply: pd.DataFrame | None = None,
    gap: pd.DataFrame | None = None,
    existing_districts: pd.DataFrame | None = None,
    max_sites: int = 25,
    charts: bool = True,
) -> str:
    """Build the planning report as one self-contained HTML page.

    Parameters
    ----------
    result_like : CensusResult or mapping
        Anything with ``by_district`` (required), and optionally
        ``district_totals``, ``city``, ``targets`` and ``provenance`` (as
        :class:`census.pipeline.CensusResult` has them); missing tables are
        computed from ``by_district`` with :mod:`census.rollup`.
    title : str
        Page title.
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

    Returns
    -------
    str
        The HTML document: CSS inline, charts as ``data:`` PNG, no external URL;
        all data text escaped.
    """
    from jinja2 import Environment

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

    has_gap = gap is not None and len(gap) > 0 and bool(gap["has_existing"].all())
    city_all = city[city["category"] == "all"]
    tot = city_all.iloc[0] if len(city_all) else city.sum(numeric_only=True)
    pv_mw = float(totals.get("pv_capacity_mw", pd.Series([0.0])).sum())
    wind_mw = float(totals.get("wind_capacity_mw", pd.Series([0.0])).sum())
    cards = [
        ("PV potential [MW]", f"{pv_mw:,.1f}"),
        ("wind potential [MW]", f"{wind_mw:,.1f}"),
        ("energy [GWh/yr]", f"{float(tot['energy_gwh_yr']):,.1f}"),
        ("storage obligation [MW]", f"{float(tot['storage_mw']):,.1f}"),
        ("storage obligation [MWh]", f"{float(tot['storage_mwh']):,.1f}"),
        ("CO2 avoided [t/yr]", f"{float(tot['co2_avoided_t_yr']):,.0f}"),
        ("eligible / candidate sites", f"{int(tot['eligible_sites']):,} / {int(tot['sites']):,}"),
    ]
    frac = tcfg.get("storage_min_frac")
    techs = tcfg.get("storage_technologies")
    dur = tcfg.get("storage_duration_h")
    if frac is not None and techs:
        storage_rule = (
            f"storage of at least {100 * float(frac):g} % of the installed capacity "
            f"of {', '.join(map(str, techs))}"
            + (f", for {float(dur):g} h" if dur is not None else "")
        )
    else:
        storage_rule = "storage obligation as computed by the run's roll-up"
    preset = tcfg.get("emission_factor_preset")
    ef = (tcfg.get("emission_factors") or {}).get(preset)
    co2_rule = "Energy of eligible sites times the grid emission factor" + (
        f" '{preset}', {float(ef):g} tCO2/MWh." if ef is not None else "."
    )
    basis_note = _basis_note(targets, tcfg, (prov.get("config") or {}).get("wind") or {})

    targets_chart = supply_chart = None
    if charts and targets is not None and len(targets):
        targets_chart = _data_uri(targets_figure(targets, gap if has_gap else None))
    supply_tables = []
    if supply is not None:
        has_cost = "lcoe_cny_kwh" in supply and supply["lcoe_cny_kwh"].notna().any()
        supply_note = (
            "Eligible sites ranked by levelised cost of electricity (LCOE, "
            "no storage, grid or land cost), cheapest first; the red lines are the "
            "targets. The site marked in 'reaches_target' is the one whose "
            "cumulative capacity reaches that target."
            if has_cost
            else "No cost assumptions given: eligible sites are ranked by resource "
            "quality (PV by specific yield, wind by capacity factor), best first."
        )
        if charts:
            supply_chart = _data_uri(supply_curve_figure(supply, targets=targets))
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
        for name, label in (("pv", "PV"), ("wind", "Wind")):
            part = supply[supply["curve"] == name]
            marked = part[part["reaches_target"].astype(str) != ""]
            head = part.head(max_sites)
            later = marked[~marked["rank"].isin(head["rank"])]
            shown = pd.concat([head, later])
            heading = f"{label}: first {len(head)} of {len(part)} sites" + (
                ", and the later sites that reach a target" if len(later) else ""
            )
            supply_tables.append((heading, _table(shown, cols)))
    else:
        supply_note = "No supply curve was computed for this report."

    storage_cols = ["storage_mw", "storage_mwh"]
    ledger = pd.DataFrame(prov.get("assumptions") or [])
    if len(ledger):
        if "overridden" not in ledger:
            ledger["overridden"] = False
        ledger = ledger[
            [c for c in ("key", "value", "unit", "source", "overridden") if c in ledger]
        ]
    packages = prov.get("packages") or {}
    context = {
        "title": title,
        "css": _CSS,
        "synthetic": bool(prov.get("synthetic_inputs")),
        "note": prov.get("note") or "",
        "synthetic_layers": list(prov.get("synthetic_layers") or []),
        "run": run,
        "generated": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "version": _version(),
        "cards": cards,
        "storage_rule": storage_rule,
        "co2_rule": co2_rule,
        "basis_note": basis_note,
        "city": _table(city),
        "targets": _table(targets),
        "targets_chart": targets_chart,
        "gap": _table(gap) if has_gap else None,
        "existing_districts": _table(
            _with_city_row(
                existing_districts, [c for c in existing_districts.columns if c.endswith("_mw")]
            )
        )
        if has_gap and existing_districts is not None
        else {"headers": [], "rows": [], "numeric": []},
        "no_existing_note": NO_EXISTING_NOTE,
        "supply_note": supply_note,
        "supply_chart": supply_chart,
        "supply_tables": supply_tables,
        "districts": _table(
            _with_city_row(
                totals, [c for c in totals.columns if c not in ("adcode", "name_zh", "name_en")]
            )
        ),
        "by_district": _table(by[by["technology"].astype(str) != ""]),
        "storage": _table(_with_city_row(totals, storage_cols)),
        "co2": _table(_with_city_row(totals, ["energy_gwh_yr", "co2_avoided_t_yr"])),
        "assumptions": _table(ledger),
        "inputs": _table(pd.DataFrame(prov.get("inputs") or [])),
        "warnings_list": list(prov.get("warnings") or []),
        "packages": _table(
            pd.DataFrame(
                {"package": list(packages), "version": [str(v) for v in packages.values()]}
            )
        ),
    }
    from census.profiles.report import report_context  # hourly-profile block (issue 20)

    profile_block = report_context(result_like, charts=charts)
    if profile_block["shift_table"] is not None:
        profile_block["shift_table"] = _table(profile_block["shift_table"])
    context.update(profile_block)
    env = Environment(autoescape=True, trim_blocks=False, lstrip_blocks=False)
    return env.from_string(_TEMPLATE).render(**context)


def _basis_note(targets: Any, tcfg: Mapping[str, Any], wcfg: Mapping[str, Any]) -> str:
    """One sentence naming the capacity bases, emission factor and turbine of the run."""
    parts = []
    if isinstance(targets, pd.DataFrame) and "capacity_basis" in targets and len(targets):
        bases = ", ".join(
            f"{lab} on {b.upper()}"
            for lab, b in zip(
                targets.get("label", targets["target"]), targets["capacity_basis"], strict=True
            )
        )
        parts.append(f"Targets compared on their stated capacity basis: {bases}.")
    if tcfg.get("storage_basis"):
        parts.append(f"Storage sized on {str(tcfg['storage_basis']).upper()} capacity.")
    preset = tcfg.get("emission_factor_preset")
    ef = (tcfg.get("emission_factors") or {}).get(preset)
    if ef is not None:
        parts.append(f"CO2 avoided with the emission factor '{preset}' ({float(ef):g} tCO2/MWh).")
    turbine = wcfg.get("turbine") or {}
    if turbine.get("type"):
        parts.append(
            f"Wind turbine {turbine['type']} at {float(turbine.get('hub_height_m') or 0):g} m hub "
            "height."
        )
    return " ".join(parts)


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
    run_folder: RunFolder, result: CensusResult, config: CensusConfig
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

    Returns
    -------
    dict of str to pathlib.Path
        Final paths of ``supply_curve.csv``, ``supply_curve.png``,
        ``census.xlsx``, ``report.html`` and, with an existing-capacity table,
        ``existing_gap.csv`` and ``existing_by_district.csv``.
    """
    prov = result.provenance
    curve = result.supply_curve
    has_existing = result.existing_capacity is not None
    gap, per_district = result.existing_gap, result.existing_by_district
    out: dict[str, Path] = {}
    out["supply_curve.csv"] = run_folder.write_csv("supply_curve.csv", curve)
    png = run_folder.file("supply_curve.png")
    png.write_bytes(_png_bytes(supply_curve_figure(curve, targets=config.targets)))
    out["supply_curve.png"] = run_folder.final("supply_curve.png")
    if has_existing:
        out["existing_gap.csv"] = run_folder.write_csv("existing_gap.csv", gap)
        out["existing_by_district.csv"] = run_folder.write_csv(
            "existing_by_district.csv", per_district
        )
    tables: dict[str, pd.DataFrame] = {
        "summary_by_district": result.district_totals,
        "by_district_category": result.by_district,
        "summary_city": result.city,
        "targets": result.targets,
    }
    if has_existing:
        tables["existing_gap"] = gap
        tables["existing_by_district"] = per_district
    tables["supply_curve"] = thin_curve(curve, max_rows=XLSX_MAX_CURVE_ROWS)
    from census.profiles.report import workbook_tables  # monthly energy, storage shift

    tables.update(workbook_tables(result))
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
    out["census.xlsx"] = run_folder.final("census.xlsx")
    write_workbook(run_folder.file("census.xlsx"), tables)
    html = build_report_html(
        result,
        title=f"Renewable-resource census: {config.study_area.name or 'study area'}",
        supply=curve,
        gap=gap if has_existing else None,
        existing_districts=per_district if has_existing else None,
    )
    out["report.html"] = run_folder.write_text("report.html", html)
    return out
