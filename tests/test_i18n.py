"""Tests of census.i18n: terms as data, language choice, units, and Chinese outputs."""

from __future__ import annotations

import ast
import json
import re
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import yaml
from numpy.testing import assert_allclose

from census.i18n import (
    Translator,
    cjk_font,
    load_strings,
    load_terms,
    localize_table,
    resolve_language,
)
from census.report import build_report_html, supply_curve_figure, targets_figure
from census.resources import read_text
from census.supply import supply_curve
from tests.i18n_scan import english_words, visible_text
from tests.test_maps_payload import decode_sites
from tests.test_report import COSTS, SITES, TARGETS, _result

_WORKBOOK_SHEETS = (
    "summary_by_district",
    "by_district_category",
    "summary_city",
    "targets",
    "existing_gap",
    "existing_by_district",
    "supply_curve",
    "screening_tally",
    "assumptions",
    "inputs",
)
CENSUS = Path(__file__).resolve().parent.parent / "census"
RESOURCES = CENSUS / "resources"

# ----------------------------------------------------------------------------- keys


_FAMILIES = "word|report|card|caption|chart|sheet|map|cli|docx|pdf|term|unit|col|profile"
_KEY = rf"(?:{_FAMILIES}|category|technology|reason|target)\.[a-z_.0-9]+"


def _literal_keys() -> set[str]:
    """Keys passed as string literals to tr(...), t(...), tr.term(...) and tr.code(...)."""
    keys: set[str] = set()
    for path in CENSUS.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            first = node.args[0]
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in ("tr", "t", "term", "T") and isinstance(first, ast.Constant):
                if isinstance(first.value, str) and re.fullmatch(_KEY, first.value):
                    keys.add(first.value)
            if name == "code" and len(node.args) == 2 and isinstance(first, ast.Constant):
                second = node.args[1]
                if isinstance(second, ast.Constant):
                    keys.add(f"{first.value}.{second.value}")
        # keys inside the jinja template and in dict literals of map strings: "map.xxx"
        keys |= set(re.findall(rf"""\bt\(["']({_KEY})["']""", text))
        keys |= set(re.findall(rf"""["']((?:{_FAMILIES})\.[a-z_0-9]+)["']""", text))
    files = re.compile(r"\.(html|csv|png|xlsx|docx|pdf|toml|yaml|json|gpkg)$")
    return {k for k in keys if not files.search(k)}


def _walk_codes(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "code" and isinstance(v, str):
                yield v
            else:
                yield from _walk_codes(v)
    elif isinstance(node, list):
        for v in node:
            yield from _walk_codes(v)


def _rules_codes() -> tuple[set[str], set[str]]:
    """Categories and reason codes: from the resolved rules and from the screening code."""
    from census.config import load_config
    from census.sites.screen import DERIVED_REASON

    rules = load_config().config.rules.model_dump(mode="json")
    categories = set(rules["categories"])
    codes = set(_walk_codes(rules)) | {DERIVED_REASON}
    screen = "".join(p.read_text(encoding="utf-8") for p in (CENSUS / "sites").glob("*.py"))
    # rule outcomes with a fail mask are reason codes (None = only an area factor)
    codes |= set(re.findall(r'RuleOutcome\("([a-z_]+)", (?!None)', screen))
    codes |= set(re.findall(r'\bfail\("([a-z_]+)"', screen))
    codes |= set(re.findall(r'fails\["([a-z_]+)"\]', screen))
    return categories, codes


def _dynamic_keys() -> set[str]:
    """Keys built from data: categories, technologies, reasons, targets, table columns."""
    categories, codes = _rules_codes()
    keys = {f"category.{c}" for c in categories} | {f"reason.{c}" for c in codes}
    keys |= {f"technology.{t}" for t in ("pv_rooftop", "pv_ground", "pv_floating", "pv_bipv")}
    keys |= {"technology.wind", "technology.all", "technology.pv", "category.all"}
    keys |= {
        f"target.{t}" for t in ("pv_2025", "pv_2030", "wind_2025_ensured", "wind_2025_strived")
    }
    # capacity bases, the roll-up's fixed target notes, and every emission-factor preset
    keys |= {"basis.ac", "basis.dc", "note.no_existing", "note.from_existing"}
    presets = yaml.safe_load(read_text("targets.yaml"))["emission_factors"]
    keys |= {"emission_factor.grid_emission_factor"} | {f"emission_factor.{k}" for k in presets}
    res = _result()
    curve = supply_curve(res.sites, COSTS, targets=TARGETS)
    from census.supply import existing_by_district, existing_gap

    existing = pd.DataFrame({"adcode": [330102], "technology": ["pv"], "capacity_mw_dc": [1.0]})
    tables = [
        res.by_district,
        res.district_totals,
        res.city,
        res.targets,
        curve,
        existing_gap(res.by_district, existing, TARGETS),
        existing_by_district(res.by_district, existing),
        pd.DataFrame(columns=["category", "reason", "sites", "area_m2", "sites_total"]),
        pd.DataFrame(columns=["key", "value", "unit", "source", "default", "overridden"]),
        pd.DataFrame(columns=["path", "bytes", "sha256", "package", "version"]),
        SITES,
    ]
    for df in tables:
        keys |= {f"col.{c}" for c in df.columns if c != "geometry"}
    from census.maps import _DISTRICT_FIELDS, _SITE_FIELDS
    from census.report import glossary_table

    keys |= {f"col.{c}" for c, *_ in _SITE_FIELDS + _DISTRICT_FIELDS}
    keys |= {f"col.{c}" for c in glossary_table().columns}
    keys |= {f"sheet.{name}" for name in _WORKBOOK_SHEETS}
    keys |= {"caption.table", "caption.figure"}  # tr(f"caption.{kind}")
    from census.profiles.report import TEXT_EN

    keys |= {f"profile.{k}" for k in TEXT_EN}  # tr(f"profile.{k}")
    keys |= {f"sheet.{k}" for k in ("monthly_energy", "storage_shift")}
    keys |= {f"col.energy_mwh_{m:02d}" for m in range(1, 13)}  # monthly energy sheet
    shift_cols = ["export_limit_mw", "above_limit_mwh_yr", "hours_above_limit", "charged_mwh_yr"]
    shift_cols += ["delivered_mwh_yr", "spilled_mwh_yr", "above_limit_frac", "shifted_frac"]
    keys |= {f"col.{c}" for c in shift_cols}  # census.profiles.storage table
    from census.province import PROVINCE_SHEETS

    # the province tables' own columns (census.province.province_tables) and sheets
    keys |= {"col.city", "col.city_zh", "col.districts"}
    keys |= {f"sheet.{name}" for name in PROVINCE_SHEETS.values()}
    from census.report import ZONE_COLUMNS

    keys |= {f"col.{c}" for c in ZONE_COLUMNS}  # the report's zone table (census run --zones)
    # units the display tables use, per stored unit token
    tr_zh, tr_en = Translator("zh"), Translator("en")
    for term in load_terms().values():
        if term.key.startswith("col."):
            for tr in (tr_zh, tr_en):
                for scale in ("aggregate", "site"):
                    tr.unit(term.unit, scale=scale)
    keys |= {"unit.h", "unit.wan_kw", "unit.wan_kwh", "unit.yi_kwh_yr", "unit.wan_t_yr"}
    keys |= {k for k in load_terms() if k.startswith("unit.")} & {
        f"unit.{u}" for u in ("mw", "mwh", "mwh_yr", "gwh_yr", "t_yr", "km2", "m2", "kwh_kwp_yr")
    } | {"unit.kwh_kw_yr", "unit.cny_kwh", "unit.ratio", "unit.frac", "unit.wan_kwh_yr"}
    keys |= {"unit.kw_per_person"}  # the zone table's kW per person
    return keys


def test_terms_have_both_languages_unit_and_source():
    terms = load_terms()
    assert len(terms) > 100
    for t in terms.values():
        assert t.zh and t.en and t.unit and t.source, t
        assert re.search(r"[\u4e00-\u9fff]|MW|MWh|GWh|/", t.zh), f"{t.key}: zh is not Chinese"
    # the plan's words and the statistics' units are there, with their sources
    for key, zh in {
        "term.installed_capacity": "装机容量",
        "term.annual_generation": "年发电量",
        "term.full_load_hours": "年利用小时数",
        "term.storage_allocation": "储能配置",
        "term.co2_reduction": "二氧化碳减排量",
        "term.fishery_pv": "渔光互补",
        "term.forest_pv": "林光互补",
        "term.whole_village_pv": "整村推进光伏",
        "term.distributed_pv": "分布式光伏",
        "term.centralized_pv": "集中式光伏",
        "term.dc_ac_ratio": "容配比",
        "unit.wan_kw": "万千瓦",
        "unit.yi_kwh_yr": "亿千瓦时/年",
        "unit.wan_t_yr": "万吨/年",
    }.items():
        assert terms[key].zh == zh, key
    assert "杭政函〔2024〕42号" in terms["target.pv_2025"].source


def test_every_key_used_exists_in_both_languages():
    strings, terms = load_strings(), load_terms()
    used = _literal_keys() | _dynamic_keys()
    missing = sorted(k for k in used if k not in strings and k not in terms)
    assert not missing, f"add these keys to census/resources/terms.yaml or strings.yaml: {missing}"
    for key in used:
        entry = strings.get(key) or {"zh": terms[key].zh, "en": terms[key].en}
        assert entry["zh"].strip() and entry["en"].strip(), key


def test_every_term_is_used_or_glossary():
    used = _literal_keys() | _dynamic_keys()
    unused = sorted(k for k, t in load_terms().items() if k not in used and not t.glossary)
    assert not unused, f"terms neither used by the code nor marked glossary: {unused}"
    # glossary terms are shown in the report's glossary table
    from census.report import glossary_table

    assert len(glossary_table()) == sum(t.glossary for t in load_terms().values()) >= 15
    unused_strings = sorted(k for k in load_strings() if k not in used)
    assert not unused_strings, f"strings.yaml entries no code uses: {unused_strings}"


def test_placeholders_equal_in_both_languages():
    for key, entry in load_strings().items():
        zh = set(re.findall(r"\{(\w+)\}", entry["zh"]))
        en = set(re.findall(r"\{(\w+)\}", entry["en"]))
        assert zh == en, key


# ----------------------------------------------------------------------------- language


def _square(lon: float, lat: float) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"adcode": [1]}, geometry=[shapely.box(lon, lat, lon + 0.1, lat + 0.1)], crs="EPSG:4326"
    )


def test_auto_language_from_the_boundaries_location():
    hangzhou = _square(120.1, 30.2).to_crs("EPSG:4549")  # any CRS: looked at in EPSG:4326
    assert resolve_language("auto", hangzhou) == "zh"
    assert resolve_language("auto", _square(13.4, 52.5)) == "en"  # Berlin
    assert resolve_language("auto", _square(-74.0, 40.7)) == "en"  # New York
    assert resolve_language("en", hangzhou) == "en"
    assert resolve_language("ZH", None) == "zh"
    assert resolve_language("auto", None) == "en"
    with pytest.raises(ValueError, match="'auto', 'zh' or 'en'"):
        resolve_language("fr", hangzhou)


def test_demo_boundaries_give_chinese():
    from census.config import load_config
    from census.io.boundaries import read_districts

    cfg = load_config().config
    d = read_districts(cfg.study_area.boundaries, crs=cfg.study_area.crs)
    assert resolve_language(cfg.outputs.language, d) == "zh"


# ----------------------------------------------------------------------------- units


def test_chinese_units_convert_exactly():
    # 1 万千瓦 = 10^4 kW = 10 MW; 1 亿千瓦时 = 10^8 kWh = 100 GWh; 1 万千瓦时 = 10 MWh;
    # 1 万吨 = 10^4 t; full-load hours = capacity factor x 8760 h (non-leap year)
    df = pd.DataFrame(
        {
            "capacity_mw_dc": [4800.0, 100.0],
            "energy_gwh_yr": [250.0, 1.0],
            "energy_mwh_yr": [250_000.0, 1000.0],
            "storage_mwh": [20.0, 0.0],
            "co2_avoided_t_yr": [134_150.0, 5000.0],
            "capacity_factor": [0.5, 0.1],
            "usable_area_km2": [1.5, 0.25],
        }
    )
    zh = localize_table(df, Translator("zh")).frame
    assert_allclose(zh["capacity_mw_dc"], [480.0, 10.0], rtol=1e-12)
    assert_allclose(zh["energy_gwh_yr"], [2.5, 0.01], rtol=1e-12)
    assert_allclose(zh["energy_mwh_yr"], [25_000.0, 100.0], rtol=1e-12)
    assert_allclose(zh["storage_mwh"], [2.0, 0.0], rtol=1e-12)
    assert_allclose(zh["co2_avoided_t_yr"], [13.415, 0.5], rtol=1e-12)
    assert_allclose(zh["capacity_factor"], [4380.0, 876.0], rtol=1e-12)
    assert_allclose(zh["usable_area_km2"], [1.5, 0.25], rtol=1e-12)
    site = localize_table(df, Translator("zh"), scale="site").frame
    assert_allclose(site["capacity_mw_dc"], [4800.0, 100.0], rtol=1e-12)  # MW per site
    en = localize_table(df, Translator("en"))
    assert_allclose(en.frame.to_numpy(float), df.to_numpy(float), rtol=0)
    headers = dict(zip(en.columns, en.headers, strict=True))
    assert headers["capacity_mw_dc"] == "capacity DC [MW]"
    zh_headers = dict(zip(df.columns, localize_table(df, Translator("zh")).headers, strict=True))
    assert zh_headers["capacity_mw_dc"] == "直流侧装机容量（万千瓦）"
    assert zh_headers["capacity_factor"] == "年利用小时数（小时）"
    assert zh_headers["co2_avoided_t_yr"] == "二氧化碳减排量（万吨/年）"


def test_codes_translated_and_unknown_codes_reported():
    tr = Translator("zh")
    df = pd.DataFrame(
        {
            "category": ["pond", "quarry_x"],
            "technology": ["pv_floating", "wind"],
            "reaches_target": ["pv_2025, pv_2030", ""],
        }
    )
    out = localize_table(df, tr).frame
    assert list(out["category"]) == ["坑塘水面", "quarry_x"]
    assert list(out["technology"]) == ["水面光伏（渔光互补）", "分散式风电"]
    assert out["reaches_target"].iloc[0] == "2025年光伏装机目标、2030年光伏装机目标"
    assert tr.missing == {"category.quarry_x"}


# ----------------------------------------------------------------------------- Chinese report


@pytest.fixture(scope="module")
def zh_html() -> str:
    res = _result()
    curve = supply_curve(res.sites, COSTS, targets=TARGETS)
    return build_report_html(res, supply=curve, lang="zh", study_area="杭州市")


def test_chinese_report_has_no_untranslated_label(zh_html):
    text = visible_text(zh_html)
    # district names are proper names; the test data's hostile site id is data, not a label
    # "test" is the fixture targets' citation (data)
    names = {"Shangcheng", "Xihu", "img", "src", "x", "onerror", "alert", "test"}
    left = english_words(text, proper_names=names)
    assert not left, f"English words in the zh report: {sorted(set(left))}"
    for zh in ("概要", "规划目标完成情况", "供给曲线", "分区县结果", "储能配置", "二氧化碳减排"):
        assert zh in text
    assert '<html lang="zh-CN">' in zh_html
    assert "表1 " in text and "图1 " in text  # numbered captions


def test_scanner_finds_english_words():
    # the scanner itself must fail on an English label (so the test above can fail)
    assert english_words("装机容量 Capacity（万千瓦）") == ["Capacity"]
    assert english_words("场址 forest:F0012 330102 rules.pv_2025 MW") == []
    html = "<p>概要</p><table><tbody lang='en'><tr><td>source text</td></tr></tbody></table>"
    assert english_words(visible_text(html)) == []
    assert english_words(visible_text("<h2>Summary</h2>")) == ["Summary"]


def test_chinese_report_numbers_in_chinese_units(zh_html):
    # district table: 上城区 has rooftop PV 100 MW -> 10 万千瓦; storage city total
    # 0.1 x (200 + 50 + 30) MW = 28 MW -> 2.8 万千瓦, x 2 h = 56 MWh -> 5.6 万千瓦时
    sec = zh_html[zh_html.index('id="storage"') : zh_html.index('id="co2"')]
    city = sec[sec.index("全市") :]
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", city)
    assert cells[:2] == ["2.80", "5.60"]
    assert "储能配置功率（万千瓦）" in sec and "储能配置容量（万千瓦时）" in sec


def test_chinese_map_legend_and_popups(tmp_path):
    from census.maps import build_map, save_map

    districts = gpd.GeoDataFrame(
        {"adcode": [330102], "name_zh": ["上城区"], "name_en": ["Shangcheng"]},
        geometry=[shapely.box(500_000, 3_340_000, 510_000, 3_350_000)],
        crs="EPSG:4549",
    )
    sites = gpd.GeoDataFrame(
        {
            "site_id": ["pond:P1", "pond:P2", "mudflat:M1"],
            "category": ["pond", "pond", "mudflat"],
            "district": ["Shangcheng"] * 3,
            "adcode": [330102] * 3,
            "eligible": [True, False, True],
            "technology": ["pv_floating", "pv_floating", "wind"],
            "capacity_mw_dc": [1.0, 0.0, 6.0],
            "energy_mwh_yr": [1000.0, 0.0, 15000.0],
            "capacity_factor": [0.114, np.nan, 0.285],
            "exclusion_reasons": ["", "water_use;min_area", ""],
        },
        geometry=[
            shapely.box(501_000 + i * 2000, 3_341_000, 501_500 + i * 2000, 3_341_500)
            for i in range(3)
        ],
        crs="EPSG:4549",
    )
    turbines = gpd.GeoDataFrame(
        {"site_id": ["mudflat:M1"], "turbine_id": ["T1"], "energy_mwh_yr": [15000.0]},
        geometry=[shapely.Point(505_200, 3_341_200)],
        crs="EPSG:4549",
    )
    m = build_map(
        sites,
        districts,
        turbines=turbines,
        title="杭州市光伏和风电候选场址",
        lang="zh",
        synthetic=True,
    )
    html = save_map(m, tmp_path / "m.html").read_text(encoding="utf-8")
    legend = html[
        html.index('id="census-legend"') : html.index(
            "</div></div>", html.index('id="census-legend"')
        )
    ]
    legend_text = visible_text("<div " + legend + "</div>")
    assert "图例" in legend_text and "坑塘水面" in legend_text and "滩涂" in legend_text
    assert not english_words(legend_text), english_words(legend_text)
    assert "演示：合成场址图层" in html
    # popups: Chinese field names, translated codes, capacity factor as full-load hours
    assert '"年利用小时数","小时",0' in html
    assert '"水体用途受限；面积不足"' in html
    blobs = re.findall(r'<script type="application/json" id="[^"]+">(.*?)</script>', html)
    layers = [p for p in map(json.loads, blobs) if "cells" in p.get("meta", {})]
    row = next(r for p in layers for r in decode_sites(p)[0] if r[0] == "pond:P1")
    assert row[:5] == ["pond:P1", None, 1, "上城区", "水面光伏（渔光互补）"]
    # 0.114 x 8760 h = 998.64 h, shown as 999
    assert 999 in row[5:]


@pytest.mark.skipif(cjk_font() is None, reason="no CJK font (apt-get install fonts-noto-cjk)")
def test_chinese_charts_have_every_glyph():
    res = _result()
    curve = supply_curve(res.sites, COSTS, targets=TARGETS)
    tr = Translator("zh")
    for fig in (
        supply_curve_figure(curve, targets=res.targets, tr=tr),
        targets_figure(res.targets, tr=tr),
    ):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fig.savefig(Path("/dev/null"), format="png")
        missing = [str(w.message) for w in caught if "missing" in str(w.message).lower()]
        assert not missing, missing
        texts = [
            t.get_text() for ax in fig.axes for t in (ax.title, ax.xaxis.label, ax.yaxis.label)
        ]
        assert any(re.search(r"[\u4e00-\u9fff]", t) for t in texts), texts
