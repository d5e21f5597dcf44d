"""Open exported maps in headless Chromium from ``file://`` with the network blocked.

Needs Debian's ``chromium`` (``apt-get install chromium``) and the ``playwright``
Python package, driven with ``executable_path="/usr/bin/chromium"``; never run
``playwright install``. Run with ``pytest -m browser tests/browser``.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from census.maps import build_map, save_map

CHROMIUM = os.environ.get("CENSUS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Belt and braces: no name resolves and every proxied request fails.
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--proxy-server=127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>",
]

pytestmark = pytest.mark.browser

if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
    pytest.skip(
        f"Chromium not found at {CHROMIUM}; install it with `apt-get install -y chromium "
        "chromium-driver` (or set CENSUS_CHROMIUM)",
        allow_module_level=True,
    )
sync_api = pytest.importorskip(
    "playwright.sync_api",
    reason="playwright is not installed; pip install playwright (never `playwright install`)",
)

HOSTILE = (
    '<script>window.__xss=1</script>" onmouseover="window.__xss=2" '
    'x=\'<img src=x onerror="window.__xss=3;alert(1)">'
)
X0, Y0 = 500_000.0, 3_340_000.0
N_ROOFTOPS = 60


def make_layers():
    districts = gpd.GeoDataFrame(
        {
            "adcode": [330102, 330106],
            "name_zh": ["上城区", "西湖区"],
            "name_en": ["Shangcheng", HOSTILE],
        },
        geometry=[
            shapely.box(X0, Y0, X0 + 10_000, Y0 + 10_000),
            shapely.box(X0 + 10_000, Y0, X0 + 20_000, Y0 + 10_000),
        ],
        crs="EPSG:4549",
    )
    rows = []
    for i in range(N_ROOFTOPS):
        x = X0 + 1_000 + (i % 10) * 150
        y = Y0 + 1_000 + (i // 10) * 150
        rows.append(
            {
                "site_id": f"R{i}",
                "category": "rooftop",
                "adcode": 330102,
                "eligible": i % 3 != 0,
                "technology": "pv_rooftop",
                "name": f"Roof {i}",
                "geometry": shapely.box(x, y, x + 20, y + 20),
            }
        )
    rows += [
        {
            "site_id": "P1",
            "category": "pond",
            "adcode": 330106,
            "eligible": True,
            "technology": "pv_floating",
            "name": HOSTILE,
            "geometry": shapely.box(X0 + 12_000, Y0 + 2_000, X0 + 12_400, Y0 + 2_400),
        },
        {
            "site_id": "P2",
            "category": "pond",
            "adcode": 330106,
            "eligible": False,
            "technology": "pv_floating",
            "name": None,
            "geometry": shapely.box(X0 + 13_000, Y0 + 2_000, X0 + 13_400, Y0 + 2_400),
        },
        {
            "site_id": "M1",
            "category": "mudflat",
            "adcode": 330106,
            "eligible": True,
            "technology": "wind",
            "name": "Mudflat one",
            "geometry": shapely.box(X0 + 16_000, Y0 + 7_000, X0 + 18_000, Y0 + 8_000),
        },
    ]
    sites = gpd.GeoDataFrame(rows, crs="EPSG:4549")
    sites["category"] = (
        sites["category"].replace({"pond": HOSTILE}).where(sites["site_id"] != "P2", "pond")
    )  # one category name is hostile too
    sites["area_m2"] = sites.area
    sites["usable_area_m2"] = sites.area * 0.7
    sites["exclusion_reasons"] = np.where(sites["eligible"], "", "slope;<b>protected</b>")
    sites["capacity_mw_dc"] = sites["usable_area_m2"] * 1e-4
    sites["energy_mwh_yr"] = sites["capacity_mw_dc"] * 1100.0
    sites["specific_yield_kwh_kwp"] = np.where(sites["technology"] == "wind", np.nan, 1100.0)
    sites["capacity_factor"] = 0.13
    turbines = gpd.GeoDataFrame(
        {"site_id": ["M1", "M1"], "turbine_id": ["M1-T1", HOSTILE], "energy_mwh_yr": [5e3, 5.1e3]},
        geometry=[shapely.Point(X0 + 16_300, Y0 + 7_200), shapely.Point(X0 + 17_700, Y0 + 7_200)],
        crs="EPSG:4549",
    )
    return sites, districts, turbines


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


class Page:
    """A page opened offline that records console errors, dialogs and requests."""

    def __init__(self, browser, path: Path) -> None:
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.requests: list[str] = []
        self.context = browser.new_context(offline=True, viewport={"width": 1280, "height": 800})
        self.context.route(
            "**/*",
            lambda route: (
                route.continue_()
                if route.request.url.startswith(("file:", "data:"))
                else route.abort()
            ),
        )
        page = self.context.new_page()
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        page.on("requestfailed", lambda r: self.errors.append(f"request failed: {r.url}"))
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page = page
        page.goto(path.as_uri())
        page.wait_for_function("window.census && window.census.isReady === true", timeout=30_000)

    def drawn(self) -> dict[str, int]:
        return self.page.evaluate("census.drawn(census.maps[0].map)")

    def count(self, selector: str) -> int:
        return self.page.locator(selector).count()

    def popup_text(self) -> str:
        """Text of the open popup, once the previous one has faded out."""
        self.page.wait_for_function(
            "document.querySelectorAll('.leaflet-popup-content').length === 1"
        )
        return self.page.locator(".leaflet-popup-content").inner_text()

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def city_page(browser, tmp_path):
    sites, districts, turbines = make_layers()
    m = build_map(sites, districts, turbines=turbines, title=f"City {HOSTILE}", synthetic=True)
    page = Page(browser, save_map(m, tmp_path / "map.html"))
    yield page
    page.close()


def test_map_loads_offline_and_draws_every_feature(city_page):
    p = city_page
    assert p.errors == []
    assert all(u.startswith(("file:", "data:")) for u in p.requests), p.requests
    assert p.count("path.census-site") == N_ROOFTOPS + 3
    assert p.count("path.census-eligible") == N_ROOFTOPS - N_ROOFTOPS // 3 + 2
    assert p.count("path.census-excluded") == N_ROOFTOPS // 3 + 1
    assert p.count("path.census-district") == 2
    assert p.count("path.census-turbine") == 2
    assert p.drawn() == {"site": N_ROOFTOPS + 3, "cell": 0, "district": 2, "label": 2, "turbine": 2}
    assert p.page.locator("#census-synthetic-banner").inner_text() == "Demo: synthetic site layers"
    assert p.page.locator(".census-legend").is_visible()
    # Names in Chinese and English and the totals are on the labels.
    labels = p.page.locator(".census-label").all_inner_texts()
    assert any("上城区" in t and "Shangcheng" in t and "MW" in t for t in labels)
    assert p.page.evaluate("window.__xss") is None
    assert p.dialogs == []


def test_layer_toggle_hides_and_shows_a_category(city_page):
    p = city_page
    rooftops = "path.census-cat-0"
    assert p.count(rooftops) == N_ROOFTOPS
    box = p.page.locator(
        ".leaflet-control-layers-overlays label", has_text=re.compile(r"^\s*Rooftop")
    )
    box.locator("input").click()
    assert p.count(rooftops) == 0
    assert p.count("path.census-site") == 3
    box.locator("input").click()
    assert p.count(rooftops) == N_ROOFTOPS
    assert p.errors == []


def test_popup_opens_with_numbers(city_page):
    p = city_page
    index = p.page.evaluate(
        "Object.values(census.maps[0].sites).find(s => s.meta.category === 'mudflat').meta.index"
    )
    mudflat = p.page.locator(f"path.census-cat-{index}")
    assert mudflat.count() == 1
    mudflat.click()
    text = p.popup_text()
    assert "Mudflat one" in text and "Site M1" in text and "Eligible" in text
    assert "MW" in text and "MWh/yr" in text and "m²" in text
    assert p.errors == []


def test_hostile_text_is_shown_not_run(city_page):
    p = city_page
    page = p.page
    # Hover each site until the tooltip shows the hostile name, then click it.
    hostile_group = page.locator(".leaflet-control-layers-overlays label", has_text="<script>")
    assert hostile_group.count() == 1  # the hostile category name is shown as text
    paths = page.locator("path.census-site")
    hostile = None
    for i in range(paths.count()):
        path = paths.nth(i)
        path.hover(force=True)
        tip = page.locator(".leaflet-tooltip")
        if tip.count() and "<script>" in tip.last.inner_text():
            hostile = path
            break
    assert hostile is not None, "no site tooltip showed the hostile name as text"
    hostile.click(force=True)
    assert "<script>window.__xss=1</script>" in p.popup_text()
    assert "<b>protected</b>" not in p.popup_text()  # P1 is eligible: no reasons
    assert page.locator(".leaflet-popup-content").locator("script, img, b").count() == 0
    # Hostile turbine id and district name: open their popups too.
    page.locator("path.census-turbine").nth(1).click(force=True)
    assert "Turbine <script>" in p.popup_text()
    page.locator(".census-label", has_text="onerror").click(force=True)
    assert "onerror" in p.popup_text()
    assert page.title().startswith("City <script>")
    assert page.evaluate("window.__xss") is None
    assert p.dialogs == []
    assert page.locator("img[src='x']").count() == 0
    assert p.errors == []


def test_many_sites_are_aggregated_until_zoomed_in(browser, tmp_path):
    sites, districts, turbines = make_layers()
    m = build_map(
        sites,
        districts,
        turbines=turbines,
        title="Aggregated",
        max_sites_detail=10,
        aggregate_cell_m=500.0,
        detail_min_zoom=15,
    )
    p = Page(browser, save_map(m, tmp_path / "agg.html"))
    try:
        drawn = p.drawn()
        # Rooftop centroids at x = 1010 + 150 i (i < 10), y = 1010 + 150 j (j < 6) from the
        # origin fall into 3 x 2 cells of 500 m.
        assert drawn["cell"] == 6
        assert drawn["site"] == 3  # pond x2 and mudflat stay detailed
        lat, lon = _lat_lon(X0 + 1_000, Y0 + 1_000)
        p.page.evaluate(f"census.maps[0].map.setView([{lat}, {lon}], 17)")
        p.page.wait_for_function("census.drawn(census.maps[0].map).cell === 0")
        drawn = p.drawn()
        assert 0 < drawn["site"]
        # A canvas draws these, so click through Leaflet's own hit test.
        p.page.mouse.click(640, 400)
        assert "Roof" in p.popup_text()
        p.page.evaluate("census.maps[0].map.setZoom(12)")
        p.page.wait_for_function("census.drawn(census.maps[0].map).cell === 6")
        assert p.errors == []
    finally:
        p.close()


def _lat_lon(x: float, y: float) -> tuple[float, float]:
    pt = gpd.GeoSeries([shapely.Point(x + 10, y + 10)], crs="EPSG:4549").to_crs("EPSG:4326")
    return float(pt.y.iloc[0]), float(pt.x.iloc[0])


@pytest.mark.skipif(
    not (Path(__file__).resolve().parents[2] / "data/raw/demo/demo_sites.gpkg").exists(),
    reason="demo layers not generated",
)
def test_demo_run_maps_pass_offline(browser, tmp_path):
    # the maps `census run` writes for the embedded demo (Qiantang: rooftops, ponds, mudflats
    # and turbines), opened from file:// with the network blocked
    from census.pipeline import run_census

    result = run_census(None, ["Qiantang"], out_dir=tmp_path / "run")
    assert result.provenance["language"] == "zh"  # language auto: Hangzhou is in China
    for path in (result.run_dir / "map.html", result.run_dir / "maps/330114_Qiantang.html"):
        p = Page(browser, path)
        try:
            assert p.errors == []
            assert all(u.startswith(("file:", "data:")) for u in p.requests), p.requests[:5]
            drawn = p.drawn()
            assert drawn["site"] == len(result.sites)
            assert drawn["turbine"] == len(result.turbines) > 0
            assert drawn["district"] == 1
            assert p.page.locator("#census-synthetic-banner").is_visible()
            # toggle the rooftop layer off and on
            box = p.page.locator(".leaflet-control-layers-overlays label", has_text="建筑屋顶")
            n_roofs = int((result.sites.category == "rooftop").sum())
            assert p.count("path.census-site") == len(result.sites)
            box.locator("input").click()
            assert p.count("path.census-site") == len(result.sites) - n_roofs
            box.locator("input").click()
            # a popup opens on a mudflat with its numbers
            index = p.page.evaluate(
                "Object.values(census.maps[0].sites).find(s => s.meta.category === 'mudflat')"
                ".meta.index"
            )
            p.page.locator(f"path.census-cat-{index}").first.click()
            text = p.popup_text()
            assert "MW" in text and "MWh/年" in text and "年利用小时数" in text
            assert p.errors == []
        finally:
            p.close()


def test_index_map_links_to_detail_maps(browser, tmp_path):
    # above max_sites_per_map the city map draws cells only; a cell's popup links to the
    # detail map of its sites, which opens at that cell with the single sites drawn
    from census.maps import write_maps

    sites, districts, turbines = make_layers()
    write_maps(tmp_path, sites, districts, turbines=turbines, max_sites_per_map=20)
    p = Page(browser, tmp_path / "map.html")
    try:
        drawn = p.drawn()
        # rooftop centroids x = 1010..2360 m, y = 1010..1760 m from the origin: 2 cells of
        # 1 km; the two ponds (two categories, one hostile) and the mudflat 1 cell each
        assert drawn["site"] == 0 and drawn["cell"] == 5
        assert drawn["turbine"] == 2
        p.page.evaluate(
            "Object.values(census.maps[0].sites).find(s => s.meta.category === 'rooftop')"
            ".cells.openPopup()"
        )
        text = p.popup_text()
        assert "Open the detail map here" in text
        link = p.page.locator(".leaflet-popup-content a.census-link")
        href = link.get_attribute("href")
        assert re.fullmatch(r"maps/330102_Shangcheng-\d\.html#15/\d+\.\d+/\d+\.\d+", href), href
        link.click()
        p.page.wait_for_function("window.census && window.census.isReady === true")
        # 60 rooftops in parts of 15: the part's sites, at the cell's centre and zoom 15
        assert p.page.evaluate("census.maps[0].map.getZoom()") == 15
        assert p.drawn()["site"] == 15
        assert p.errors == []
        assert all(u.startswith(("file:", "data:")) for u in p.requests), p.requests
        assert p.page.evaluate("window.__xss") is None
    finally:
        p.close()


def test_zone_layer_popup_shows_totals_and_text_names(browser, tmp_path):
    """The zones layer (census run --zones): a dashed outline whose popup gives the totals."""
    import pandas as pd

    sites, districts, turbines = make_layers()
    zones = gpd.GeoDataFrame(
        {"village": [f"村 {HOSTILE}"]},
        geometry=[shapely.box(X0 + 6_000, Y0 + 6_000, X0 + 8_000, Y0 + 8_000)],
        crs="EPSG:4549",
    )
    totals = pd.DataFrame(
        {
            "zone": [f"村 {HOSTILE}"],
            "sites": [7],
            "eligible_sites": [5],
            "capacity_mw_dc": [12.5],
            "capacity_mw_ac": [10.0],
            "energy_gwh_yr": [13.0],
        }
    )
    m = build_map(
        sites,
        districts,
        turbines=turbines,
        title="zones",
        zones=zones,
        zone_totals=totals,
        zone_field="village",
    )
    p = Page(browser, save_map(m, tmp_path / "zones.html"))
    try:
        assert p.errors == []
        assert p.count("path.census-zone") == 1
        p.page.locator("path.census-zone").click(force=True)
        text = p.popup_text()
        assert "<script>window.__xss=1</script>" in text and "Zone" in text
        assert "12.5 MW" in text and "10 MW" in text and "13 GWh/yr" in text
        assert p.page.locator(".leaflet-popup-content").locator("script, img").count() == 0
        assert p.page.evaluate("window.__xss") is None and p.dialogs == []
        label = p.page.locator(".leaflet-control-layers-overlays label", has_text="Zones (1)")
        label.locator("input").click()
        assert p.count("path.census-zone") == 0
    finally:
        p.close()
