"""Tests of census.report: self-contained HTML report, XLSX workbook, pipeline hook."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import openpyxl
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import census.supply
from census.config import TargetsConfig, load_config
from census.io.existing import read_existing_capacity
from census.io.runfolder import RunFolder
from census.report import NO_EXISTING_NOTE, build_report_html, write_report_outputs, write_workbook
from census.rollup import city_table, district_table, summarize_by_district, targets_table
from census.stages import RunContext, roll_up
from census.supply import CostsConfig, existing_by_district, existing_gap, supply_curve

HOSTILE = "<script>alert('x')</script>"

DISTRICTS = pd.DataFrame(
    {
        "adcode": [330102, 330106],
        "name_zh": ["上城区", "西湖区" + HOSTILE],
        "name_en": ["Shangcheng", "Xihu " + HOSTILE],
    }
)
# Centralized: ground 200 + floating 50 + wind 30 = 280 MW -> storage 28 MW, 56 MWh (2 h).
# Rooftop 100 MW carries no storage: including it would give 38 MW.
SITES = pd.DataFrame(
    {
        "site_id": ["r1", '<img src=x onerror="alert(1)">', "p1", "w1", "x1"],
        "category": ["rooftop", "mine", "pond", "mudflat", "rooftop"],
        "district": ["Shangcheng", "Xihu", "Xihu", "Xihu", "Shangcheng"],
        "adcode": [330102, 330106, 330106, 330106, 330102],
        "eligible": [True, True, True, True, False],
        "usable_area_m2": [5e5, 2e6, 5e5, 1e6, 0.0],
        "technology": ["pv_rooftop", "pv_ground", "pv_floating", "wind", "pv_rooftop"],
        "capacity_mw_dc": [100.0, 200.0, 50.0, 30.0, 7.0],
        "capacity_mw_ac": [80.0, 160.0, 40.0, 30.0, 5.6],
        "energy_mwh_yr": [100_000.0, 230_000.0, 55_000.0, 66_000.0, 7000.0],
        "specific_yield_kwh_kwp": [1000.0, 1150.0, 1100.0, np.nan, 1000.0],
        "capacity_factor": [0.114, 0.131, 0.126, 0.251, 0.114],
        "n_turbines": [0, 0, 0, 6, 0],
        "exclusion_reasons": ["", "", "", "", "slope" + HOSTILE],
    }
)
TARGETS = TargetsConfig.model_validate(
    {
        "records": {
            name: {
                "label": label,
                "technologies": ["wind"] if name.startswith("wind") else ["pv"],
                "year": 2025,
                "capacity_mw": mw,
                "capacity_basis": "dc",
                "source": "test",
            }
            for name, label, mw in (
                ("pv_2025", "PV 2025", 300.0),
                ("pv_2030", "PV 2030", 650.0),
                ("wind_2025_ensured", "Wind 2025 (ensured)", 10.0),
                ("wind_2025_strived", "Wind 2025 (strived)", 20.0),
            )
        },
        "existing_pv_dc_ac_ratio": 1.25,
        "storage_min_frac": 0.1,
        "storage_duration_h": 2.0,
        "storage_basis": "dc",
        "storage_technologies": ["pv_ground", "pv_floating", "wind"],
        "emission_factor_preset": "test_factor",
        "emission_factors": {"test_factor": 0.5},
    }
)
COSTS = CostsConfig.model_validate(
    {
        "discount_rate_frac": 0.06,
        "technologies": {
            t: {
                "capex_cny_kw": c,
                "opex_cny_kw_yr": 40.0,
                "lifetime_yr": 25,
                "degradation_frac_yr": 0.0,
            }
            for t, c in (
                ("pv_rooftop", 3200.0),
                ("pv_ground", 3400.0),
                ("pv_floating", 3900.0),
                ("pv_bipv", 6000.0),
                ("wind", 5800.0),
            )
        },
    }
)


def _result(*, synthetic: bool = True) -> SimpleNamespace:
    by = summarize_by_district(
        SITES,
        DISTRICTS,
        storage_technologies=TARGETS.storage_technologies,
        storage_min_frac=TARGETS.storage_min_frac,
        storage_duration_h=TARGETS.storage_duration_h,
        grid_emission_factor_tco2_mwh=0.5,
    )
    prov = {
        "census_run": {
            "config_hash": "abc123def456",
            "started_utc": "2024-01-01T00:00:00+00:00",
            "config_file": None,
            "districts": list(DISTRICTS["name_en"]),
        },
        "synthetic_inputs": synthetic,
        "synthetic_layers": ["layers.rooftops"] if synthetic else [],
        "note": (
            "DEMO: the site layers are SYNTHETIC <b>not survey data</b>." if synthetic else ""
        ),
        "config": {"targets": TARGETS.model_dump(mode="json")},
        "assumptions": [
            {
                "key": "targets.records",
                "value": 300.0,
                "unit": "mw",
                "source": "plan " + HOSTILE,
                "overridden": False,
            },
            {
                "key": "costs.discount_rate_frac",
                "value": 0.06,
                "unit": "frac",
                "source": "assumption: test",
                "overridden": True,
            },
        ],
        "inputs": [{"path": "/data/sites.gpkg", "bytes": 10, "sha256": "f" * 64}],
        "warnings": ["UserWarning: " + HOSTILE],
        "packages": {"census": "0.1.0"},
    }
    return SimpleNamespace(
        sites=SITES,
        by_district=by,
        district_totals=district_table(by),
        city=city_table(by),
        targets=targets_table(by, TARGETS),
        tally=pd.DataFrame({"rule": ["slope"], "sites": [1]}),
        provenance=prov,
    )


@pytest.fixture(scope="module")
def html() -> str:
    res = _result()
    curve = supply_curve(res.sites, COSTS, targets=TARGETS)
    return build_report_html(res, title="Census " + HOSTILE, supply=curve)


def _section(html: str, start: str, end: str) -> str:
    return html[html.index(f'id="{start}"') : html.index(f'id="{end}"')]


class _Attrs(HTMLParser):
    """Collect the attribute values of real tags (escaped text is not a tag)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.urls += [
            v or "" for k, v in attrs if k in ("src", "href", "action", "data", "poster", "srcset")
        ]


def test_no_external_url(html):
    parser = _Attrs()
    parser.feed(html)
    attrs = parser.urls
    assert attrs, "expected chart images and in-page links"
    assert not parser.tags & {"script", "link", "iframe", "object", "embed"}
    for value in attrs:
        assert value.startswith(("data:image/png;base64,", "#")), value
        assert "//" not in value.split(",", 1)[0]
    assert "http://" not in html and "https://" not in html
    assert "url(" not in html and "@import" not in html
    assert "<link" not in html and "<script" not in html.replace("&lt;script", "")


def test_hostile_strings_escaped(html):
    assert "<script>" not in html
    assert "&lt;script&gt;alert(" in html
    assert "<img src=x onerror" not in html
    assert "&lt;img src=x onerror=" in html
    assert "<b>not survey data</b>" not in html


def test_synthetic_banner_first(html):
    assert html.index("Synthetic inputs: not for planning") < html.index('id="summary"')
    assert "DEMO: the site layers are SYNTHETIC" in html
    assert "layers.rooftops" in html


def test_no_banner_for_real_inputs():
    out = build_report_html(_result(synthetic=False), title="t", charts=False)
    assert "Synthetic inputs: not for planning" not in out


def test_storage_is_ten_percent_of_centralized_only(html):
    sec = _section(html, "storage", "co2")
    city = sec[sec.index("City total") :]
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", city)
    assert cells[:2] == ["28.0", "56.0"]  # 0.1 x (200 + 50 + 30) MW, x 2 h
    assert "38.0" not in sec  # rooftop PV would add 10 MW
    assert "pv_ground, pv_floating, wind" in sec
    summary = _section(html, "summary", "targets")
    assert "28.0" in summary and "56.0" in summary


def test_sections_present(html):
    for text in (
        "Progress against the city targets",
        "Supply curve",
        "上城区",
        "Shangcheng",
        "330102",
        "CO2 avoided",
        "Assumption ledger",
        "costs.discount_rate_frac",
        "assumption: test",
        "f" * 64,
        "/data/sites.gpkg",
        "pv_2025",
        "wind_2025_strived",
    ):
        assert text in html, text
    assert html.count("data:image/png;base64,") == 2  # targets chart, supply curve chart
    assert "reaches_target" in html


def test_without_existing_table_says_potential_not_gap(html):
    sec = _section(html, "targets", "supply")
    assert "potential, not a gap: no existing-capacity table given" in sec.lower()
    assert NO_EXISTING_NOTE.split(":")[0] in sec


def test_with_existing_table_shows_gap():
    res = _result()
    existing = pd.DataFrame(
        {"adcode": [330102, 330106], "technology": ["pv", "wind"], "capacity_mw_dc": [40.0, 2.0]}
    )
    gap = existing_gap(res.by_district, existing, TARGETS)
    per = existing_by_district(res.by_district, existing)
    out = build_report_html(res, title="t", gap=gap, existing_districts=per, charts=False)
    sec = _section(out, "targets", "supply")
    assert "Potential, not a gap" not in sec
    assert "Gap after existing capacity" in sec and "shortfall_mw" in sec


def test_workbook_matches_csv(tmp_path):
    res = _result()
    tables = {
        "summary_by_district": res.district_totals,
        "by_district_category": res.by_district,
        "supply_curve": supply_curve(res.sites, COSTS, targets=TARGETS),
        "a/b:c*?[x] name much longer than thirty-one chars": pd.DataFrame(
            {"text": ["=1+1", "plain"], "flag": [True, False]}
        ),
    }
    path = write_workbook(tmp_path / "census.xlsx", tables)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[:3] == ["summary_by_district", "by_district_category", "supply_curve"]
    assert all(len(n) <= 31 and not set(n) & set("[]:*?/\\") for n in wb.sheetnames)
    for name in ("summary_by_district", "by_district_category", "supply_curve"):
        csv = tmp_path / f"{name}.csv"
        tables[name].to_csv(csv, index=False, encoding="utf-8-sig")  # as RunFolder.write_csv
        back = pd.read_csv(csv, encoding="utf-8-sig", keep_default_na=False, na_values=[""])
        ws = wb[name]
        rows = list(ws.iter_rows(values_only=True))
        assert list(rows[0]) == list(back.columns)
        assert all(c.font.bold for c in ws[1])
        assert ws.column_dimensions["A"].width and ws.freeze_panes == "A2"
        assert len(rows) - 1 == len(back)
        for j, col in enumerate(back.columns):
            xl = [r[j] for r in rows[1:]]
            if pd.api.types.is_numeric_dtype(back[col]) and back[col].dtype != bool:
                got = np.array([np.nan if v is None else v for v in xl], dtype=float)
                assert all(isinstance(v, (int, float)) or v is None for v in xl), col
                # openpyxl writes 16 significant digits (Excel keeps 15): equal to 1e-15
                assert_allclose(got, back[col].to_numpy(float), rtol=1e-15, equal_nan=True)
            elif back[col].dtype == bool:
                assert xl == list(back[col])
            else:
                assert [("" if v is None else str(v)) for v in xl] == [
                    ("" if pd.isna(v) else str(v)) for v in back[col]
                ], col
    other = wb[wb.sheetnames[3]]
    assert other["A2"].value == "=1+1" and other["A2"].data_type == "s"  # no formula
    assert other["B2"].value is True


def _rolled_up(*, existing_csv: Path | None = None, costs: bool = True, synthetic: bool = True):
    """The hand-made SITES through the roll-up stage alone (it computes curve and gap)."""
    targets = TARGETS.model_dump(mode="json")
    if existing_csv is not None:
        targets["existing_capacity"] = str(existing_csv)
    overrides = {"targets": targets, "study_area": {"name": "Hangzhou <demo>"}}
    if costs:
        overrides["costs"] = COSTS.model_dump(mode="json")
    loaded = load_config(overrides=overrides)
    ctx = RunContext(loaded=loaded)
    ctx.districts = DISTRICTS
    if existing_csv is not None:
        ctx.existing_capacity = read_existing_capacity(existing_csv)  # the load stage's part
    sites, ctx = roll_up(SITES.copy(), ctx)
    ctx.tally = pd.DataFrame({"rule": ["slope"], "sites": [1]})
    ctx.provenance = _result(synthetic=synthetic).provenance
    return ctx.to_result(sites), loaded.config


def test_write_report_outputs(tmp_path):
    existing_csv = tmp_path / "existing.csv"
    existing_csv.write_text(
        "district,technology,capacity_mw_dc\nShangcheng,pv,40\n", encoding="utf-8-sig"
    )
    res, cfg = _rolled_up(existing_csv=existing_csv)
    with RunFolder(tmp_path / "run") as run:
        out = write_report_outputs(run, res, cfg)
    for name in (
        "report.html",
        "census.xlsx",
        "supply_curve.csv",
        "supply_curve.png",
        "existing_gap.csv",
    ):
        assert out[name] == tmp_path / "run" / name and out[name].is_file(), name
    curve = pd.read_csv(out["supply_curve.csv"], encoding="utf-8-sig")
    assert_allclose(curve.loc[curve.curve == "pv", "cumulative_capacity_mw"].iloc[-1], 350.0)
    assert curve["lcoe_cny_kwh"].notna().all()
    assert out["supply_curve.png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = out["report.html"].read_text(encoding="utf-8")
    assert "Hangzhou &lt;demo&gt;" in text and "Gap after existing capacity" in text
    assert "existing_gap" in openpyxl.load_workbook(out["census.xlsx"]).sheetnames


def test_write_report_outputs_renders_the_results_tables(tmp_path, mocker):
    # the writer only renders: it computes no supply curve or gap of its own
    res, cfg = _rolled_up()
    spy = mocker.spy(census.supply, "supply_curve")
    res.supply_curve = res.supply_curve.assign(lcoe_cny_kwh=0.123)
    with RunFolder(tmp_path / "run") as run:
        out = write_report_outputs(run, res, cfg)
    assert spy.call_count == 0
    curve = pd.read_csv(out["supply_curve.csv"], encoding="utf-8-sig")
    assert_allclose(curve["lcoe_cny_kwh"], 0.123, rtol=0)


def test_write_report_outputs_without_costs_or_existing(tmp_path):
    res, cfg = _rolled_up(costs=False, synthetic=False)
    res.supply_curve = supply_curve(res.sites, None, targets=TARGETS)  # ranked by resource
    with RunFolder(tmp_path / "run") as run:
        out = write_report_outputs(run, res, cfg)
    assert "existing_gap.csv" not in out
    text = Path(out["report.html"]).read_text(encoding="utf-8")
    assert "no existing-capacity table given" in text
    assert "ranked by resource" in text


def test_thin_curve_keeps_ends_and_targets():
    import numpy as np
    import pandas as pd

    from census.report import thin_curve

    n = 50_000
    curve = pd.DataFrame(
        {
            "curve": ["pv"] * (n - 100) + ["wind"] * 100,
            "cumulative_capacity_mw": np.arange(n, dtype=float),
            "reaches_target": [""] * n,
        }
    )
    curve.loc[12_345, "reaches_target"] = "pv_2025"
    thin = thin_curve(curve, max_rows=1_000)
    assert len(thin) <= 1_000 + 3
    assert 12_345 in thin.index  # the row where a target is reached is kept
    # both curves keep their first and last rows, so cumulative totals survive
    for _name, part in curve.groupby("curve"):
        assert part.index[0] in thin.index and part.index[-1] in thin.index
    assert thin_curve(curve.head(10), max_rows=1_000) is not None
    assert len(thin_curve(curve.head(10), max_rows=1_000)) == 10
