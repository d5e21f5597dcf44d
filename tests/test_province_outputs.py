"""The province folder's workbook and map (census.province.write_province).

Two small "cities" of the demo (one and two districts) are run once for the module;
the province roll-up is then written from their run folders, as ``census batch
--province`` writes it after the city merges.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from census.exceptions import InputError
from census.i18n import Translator
from census.io.runfolder import LAYOUT
from census.pipeline import run_census
from census.province import ProvinceConfig, _city_codes, city_outlines, write_province

from .conftest import DEMO_DIR

needs_demo = pytest.mark.skipif(
    not (DEMO_DIR / "demo_sites.gpkg").exists(),
    reason="demo layers not generated (census/demo/generate.py)",
)

PROVINCE = ProvinceConfig(
    name="Test province",
    name_zh="测试省",
    cities=[
        {"name": "East", "name_zh": "东市", "districts": ["Binjiang"]},
        {"name": "West", "districts": ["Shangcheng", "Gongshu"]},  # neighbours
    ],
)


@pytest.fixture(scope="module")
def province(tmp_path_factory) -> tuple[Path, dict[str, Path]]:
    root = tmp_path_factory.mktemp("province")
    dirs = {}
    for city in PROVINCE.cities:
        dirs[city.name] = root / "cities" / city.name
        run_census(None, city.districts, out_dir=dirs[city.name])
    return write_province(PROVINCE, dirs, root / "province"), dirs


def _payloads(path: Path) -> list[dict]:
    text = path.read_text(encoding="utf-8")
    blocks = re.findall(r'<script type="application/json" id="[^"]+">(.*?)</script>', text)
    return [json.loads(b) for b in blocks]


def test_city_codes_are_the_cities_adcodes_or_numbers():
    def frame(*codes: int) -> pd.DataFrame:
        return pd.DataFrame({"adcode": list(codes)})

    # GB/T 2260: a district's first four digits are its city's (Hangzhou 3301, Ningbo 3302)
    assert _city_codes([frame(330102, 330106), frame(330203)]) == [330100, 330200]
    # two cities with the same code (copies of one city) or a city across two codes
    assert _city_codes([frame(330102), frame(330106)]) == [1, 2]
    assert _city_codes([frame(330102, 330203), frame(330300)]) == [1, 2]


@needs_demo
def test_province_workbook_holds_the_tables_in_chinese(province):
    folder, dirs = province
    assert (folder / LAYOUT.workbook).is_file()
    wb = openpyxl.load_workbook(folder / LAYOUT.workbook, read_only=True)
    assert wb.sheetnames == ["分市汇总", "分区县汇总", "全省汇总", "各市规划目标"]
    rows = list(wb["分市汇总"].iter_rows(values_only=True))
    header = list(rows[0])
    tr = Translator("zh")
    cap = header.index(tr.header("capacity_mw_dc"))
    assert "万千瓦" in header[cap]
    by_city = {r[header.index(tr.header("city"))]: r for r in rows[1:]}
    for name, d in dirs.items():
        # the city's capacity from its own district table, in 万千瓦 (1 万千瓦 = 10 MW)
        mw = pd.read_csv(d / "summary_by_district.csv", encoding="utf-8-sig")["capacity_mw_dc"]
        assert_allclose(by_city[name][cap], mw.sum() / 10.0, rtol=1e-12)
    assert by_city["East"][header.index(tr.header("city_zh"))] == "东市"
    assert "区县数" in header and by_city["West"][header.index("区县数")] == 2


@needs_demo
def test_province_map_draws_each_city_with_its_totals_and_a_link(province):
    folder, dirs = province
    path = folder / LAYOUT.city_map
    cities = next(p for p in _payloads(path) if p.get("meta", {}).get("kind") == "city")
    meta, rows = cities["meta"], cities["rows"]
    # both cities are Hangzhou districts (code 330100 twice): numbered instead
    assert [r[:3] for r in rows] == [[1, "东市", "East"], [2, "West", "West"]]
    assert meta["links"] == ["../cities/East/map.html", "../cities/West/map.html"]
    for link in meta["links"]:
        assert (folder / link).resolve().is_file()
    labels = [f[0] for f in meta["fields"]]
    cap, energy = labels.index("直流侧装机容量"), labels.index("年发电量")
    for row, name in zip(rows, ("East", "West"), strict=True):
        t = pd.read_csv(dirs[name] / "summary_by_district.csv", encoding="utf-8-sig")
        # shown with 2 decimals: 1 万千瓦 = 10 MW, 1 亿千瓦时 = 1e5 MWh
        assert_allclose(row[3 + cap], t["capacity_mw_dc"].sum() / 10.0, atol=0.005)
        assert_allclose(row[3 + energy], t["energy_mwh_yr"].sum() / 1e5, atol=0.005)
    text = path.read_text(encoding="utf-8")
    assert "测试省" in text and "城市边界" in text and "不适宜场址" not in text


@needs_demo
def test_city_outline_is_the_union_of_its_districts(province):
    folder, dirs = province
    outlines = city_outlines(PROVINCE, dirs)
    assert outlines.crs.to_epsg() == 4549
    for city, outline in zip(PROVINCE.cities, outlines.geometry, strict=True):
        d = gpd.read_file(dirs[city.name] / LAYOUT.districts, layer=LAYOUT.districts_layer)
        # the districts tile the city: the outline's area is the sum of theirs (the
        # boundaries, converted from GCJ-02, may leave slivers: 1e-6 relative)
        assert_allclose(outline.area, d.geometry.area.sum(), rtol=1e-6)
        assert len(d) == len(city.districts) and outline.geom_type == "Polygon"


@needs_demo
@pytest.mark.browser
def test_province_map_opens_and_links_to_the_city_map(province):
    # the map browser tests' page opener (skips this test without Chromium or playwright)
    from tests.test_maps_browser import _open_and_evaluate

    folder, dirs = province
    rows = {  # each city's capacity in 万千瓦 (1 万千瓦 = 10 MW), as its label shows it
        name: pd.read_csv(d / "summary_by_district.csv", encoding="utf-8-sig")[
            "capacity_mw_dc"
        ].sum()
        / 10.0
        for name, d in dirs.items()
    }
    errors, (links,) = _open_and_evaluate(
        folder / LAYOUT.city_map,
        """(() => { const out = [];
        census.maps[0].map.eachLayer(l => {
          if (l.censusKind !== "label") { return; }
          l.openPopup();
          const a = l.getPopup().getElement().querySelector("a.census-link");
          const sub = l.getPopup().getElement().querySelector(".census-popup .s");
          out.push([a.textContent, a.href, l.getElement().innerText.split("\\n"),
                    sub.textContent]);
        });
        return out; })()""",
    )
    assert errors == []
    cities = {c: (folder / "../cities" / c / "map.html").resolve() for c in ("East", "West")}
    assert sorted(link[:2] for link in links) == sorted(
        ["打开本市地图", path.as_uri()] for path in cities.values()
    )
    # the labels: Chinese name, English name when it differs, capacity in 万千瓦
    # the cities are numbered (both are Hangzhou's, 330100): no code in the popup
    assert [link[3] for link in links] == ["城市", "城市"]
    labels = {link[2][0]: link[2][1:] for link in links}
    assert labels["东市"][0] == "East" and labels["West"][0].endswith(" 万千瓦")
    shown = float(labels["West"][0].split()[0].replace(",", ""))
    assert_allclose(shown, rows["West"], atol=0.05)
    # the link's target, the city's own map, opens too
    errors, (n_maps,) = _open_and_evaluate(cities["East"], "census.maps.length")
    assert errors == [] and n_maps == 1


def test_a_city_without_its_map_or_districts(province, tmp_path, caplog):
    folder, dirs = province
    west = tmp_path / "cities" / "West"
    shutil.copytree(dirs["West"], west)
    (west / LAYOUT.city_map).unlink()  # a city run with [outputs] map = false
    copies = {"East": dirs["East"], "West": west}
    out = write_province(PROVINCE, copies, tmp_path / "province")
    assert "city 'West' has no" in caplog.text and "West/map.html" in caplog.text
    meta = next(p for p in _payloads(out / LAYOUT.city_map) if p.get("meta", {}).get("kind"))
    assert meta["meta"]["links"] == [os.path.relpath(dirs["East"] / "map.html", out), None]
    (west / LAYOUT.districts).unlink()
    with pytest.raises(InputError, match=r"city 'West' of the province.*districts\.gpkg"):
        write_province(PROVINCE, copies, tmp_path / "province2")
    assert not (tmp_path / "province2").exists()


def test_a_city_may_not_take_the_total_rows_name():
    with pytest.raises(ValueError, match="kept for the province's total row"):
        ProvinceConfig(name="P", cities=[{"name": "all (P)"}])
