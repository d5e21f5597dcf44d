"""The browser decodes the packed site data to the values the Python reference decoder gives.

Headless Chromium (Debian's ``chromium``, driven by playwright as in tests/browser); run
with ``pytest -m browser``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from census.maps import build_map, save_map
from tests.test_maps_payload import decode_sites

CHROMIUM = os.environ.get("CENSUS_CHROMIUM", "/usr/bin/chromium")
pytestmark = pytest.mark.browser
if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
    pytest.skip(f"Chromium not found at {CHROMIUM}", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")

X0, Y0 = 500_000.0, 3_340_000.0


def _sites() -> gpd.GeoDataFrame:
    box = shapely.box(X0, Y0, X0 + 20, Y0 + 20)
    holed = shapely.box(X0 + 200, Y0, X0 + 300, Y0 + 100).difference(
        shapely.box(X0 + 240, Y0 + 40, X0 + 260, Y0 + 60)
    )
    geoms = [
        box,
        shapely.Point(X0 + 500, Y0 + 50),
        shapely.LineString([(X0 + 600, Y0), (X0 + 650, Y0 + 7), (X0 + 690, Y0)]),
        holed,
        shapely.MultiPolygon([shapely.box(X0 + 800, Y0, X0 + 820, Y0 + 20), box]),
        shapely.MultiLineString([[(X0 + 900, Y0), (X0 + 905, Y0)], [(X0 + 900, Y0 + 9), (X0, Y0)]]),
        shapely.Point(X0 + 1_000, Y0 + 50).buffer(300.0, quad_segs=64),  # simplified
        None,
    ]
    # (MultiPoint and GeometryCollection sites: test_multipart_and_uncategorised_sites_draw)
    n = len(geoms)
    return gpd.GeoDataFrame(
        {
            "site_id": [f"S{k}" for k in range(n)],
            "category": "mine",
            "eligible": [k % 2 == 0 for k in range(n)],
            "name": ["甲 <b>", None, "", "d", "e", "f", "g", "h"],
            "technology": ["pv_ground"] * (n - 1) + [None],
            "area_m2": [400.0, np.nan, -3.5, 1e12, 0.4, 0.5, 1.5, 2.5],
            "capacity_mw_dc": [0.0123456, -0.0005, np.inf, 5e6, 1.0, 2.0, 3.0, 4.0],
            "exclusion_reasons": ["slope;shading", "", None, "slope", "", "", "", ""],
        },
        geometry=geoms,
        crs="EPSG:4549",
    )


def _open_and_evaluate(path: Path, *scripts: str) -> tuple[list[str], list]:
    """Open a map offline in Chromium; return its page errors and each script's value."""
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            page = browser.new_context(offline=True).new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(path.as_uri())
            page.wait_for_function("window.census && window.census.isReady === true")
            return errors, [page.evaluate(script) for script in scripts]
        finally:
            browser.close()


def test_browser_decodes_what_python_decodes(tmp_path):
    sites = _sites()
    districts = gpd.GeoDataFrame(
        {"adcode": [1], "name_zh": ["甲区"], "name_en": ["Alpha"]},
        geometry=[shapely.box(X0 - 1_000, Y0 - 1_000, X0 + 3_000, Y0 + 1_000)],
        crs="EPSG:4549",
    )
    path = save_map(build_map(sites, districts, title="decode"), tmp_path / "m.html")
    text = path.read_text(encoding="utf-8")
    blob = re.findall(r'<script type="application/json" id="[^"]+">(.*?)</script>', text)
    payload = next(p for p in map(json.loads, blob) if p.get("meta", {}).get("category"))
    rows, geoms = decode_sites(payload)
    errors, (got,) = _open_and_evaluate(
        path,
        "(() => { const s = Object.values(census.maps[0].sites)[0]; const out = [];"
        " for (let k = 0; k < s.n; k++) { out.push(s.site(k)); } return out; })()",
    )
    assert errors == []
    assert len(got) == len(rows) == 7  # the site without geometry is not drawn
    for site, row, geom in zip(got, rows, geoms, strict=True):
        assert [site["id"], site["name"], site["eligible"], *site["values"]] == row
        assert site["geometry"] == geom
    # the values themselves, worked out by hand: rounded as the fields' decimals say
    # (area 0, MW 3), missing and non-finite numbers as null, empty texts as null
    assert rows[0][:3] == ["S0", "甲 <b>", 1] and rows[2][1] is None
    fields = [f[0] for f in payload["meta"]["fields"]]
    area, mw = fields.index("Area"), fields.index("Capacity")
    assert [r[3 + area] for r in rows[:4]] == [400, None, -4, 1_000_000_000_000]
    assert [r[3 + mw] for r in rows[:4]] == [0.012, -0.0, None, 5_000_000.0]
    assert geoms[1] == {"type": "Point", "coordinates": geoms[1]["coordinates"]}
    assert geoms[5]["type"] == "MultiLineString" and geoms[3]["type"] == "Polygon"
    assert len(geoms[3]["coordinates"]) == 2  # the hole


def test_multipart_and_uncategorised_sites_draw(tmp_path):
    """A MultiPoint and a GeometryCollection site are drawn part by part (they used to
    stop the page: Leaflet's tooltip asked the nested group for getElement), and a site
    without a category gets its own "(no category)" layer instead of being dropped."""
    box = shapely.box(X0, Y0, X0 + 20, Y0 + 20)
    sites = gpd.GeoDataFrame(
        {
            "site_id": ["box", "multi", "collection", "nocat"],
            "category": ["mine", "mine", "mine", None],
            "eligible": [True, False, True, True],
        },
        geometry=[
            box,
            shapely.MultiPoint([(X0 + 100, Y0), (X0 + 130, Y0 + 40)]),
            shapely.GeometryCollection([shapely.Point(X0 + 300, Y0), box]),
            shapely.Point(X0 + 400, Y0),
        ],
        crs="EPSG:4549",
    )
    districts = gpd.GeoDataFrame(
        {"adcode": [1], "name_zh": ["甲区"], "name_en": ["Alpha"]},
        geometry=[shapely.box(X0 - 1_000, Y0 - 1_000, X0 + 1_000, Y0 + 1_000)],
        crs="EPSG:4549",
    )
    path = save_map(build_map(sites, districts, title="parts"), tmp_path / "m.html")
    errors, (drawn, layers, tips) = _open_and_evaluate(
        path,
        "census.drawn(census.maps[0].map)",
        "Object.values(census.maps[0].sites).map(s => [s.meta.label, s.n])",
        # hover every drawn part: the layer's tooltip opens with the part's site
        "(() => { const out = []; const m = census.maps[0].map;"
        " m.eachLayer(l => { if (l.censusKind !== 'site') { return; }"
        " const at = l.getLatLng ? l.getLatLng() : l.getBounds().getCenter();"
        " l.fire('mouseover', {latlng: at, originalEvent: {}}, true);"
        " const open = [...document.querySelectorAll('.leaflet-tooltip')]"
        ".filter(t => t.style.opacity !== '0');"  # closed ones fade out for 200 ms
        " out.push(open.map(t => t.textContent).join('|'));"
        " l.fire('mouseout', {latlng: at, originalEvent: {}}, true); });"
        " return out.sort(); })()",
    )
    assert errors == []
    # parts drawn, by hand: box 1 + MultiPoint 2 + collection (point, box) 2 + point 1
    assert drawn["site"] == 6
    assert sorted(layers) == [["(no category)", 1], ["Mine", 3]]
    assert tips == [
        "Site box",
        "Site collection",
        "Site collection",
        "Site multi (excluded)",
        "Site multi (excluded)",
        "Site nocat",
    ]
