"""Maps above map_max_sites: index maps of cells linking to detail maps (no browser)."""

from __future__ import annotations

import json
import re

import geopandas as gpd
import numpy as np
import pytest
import shapely

from census.exceptions import OutputExistsError
from census.maps import write_maps
from census.maps_scale import kd_parts
from tests.test_maps_payload import decode_sites

X0, Y0 = 500_000.0, 3_340_000.0


def test_kd_parts_by_hand():
    # ten points on a line, at most 3 a part: 10 -> 5 + 5 -> (2 + 3) + (2 + 3)
    x = np.arange(10.0)
    parts = kd_parts(x, np.zeros(10), max_size=3)
    assert [p.tolist() for p in parts] == [[0, 1], [2, 3, 4], [5, 6], [7, 8, 9]]
    # the cut is along the longer side: a tall column is cut by y
    parts = kd_parts(np.zeros(4), np.array([3.0, 0.0, 2.0, 1.0]), max_size=2)
    assert [sorted(p.tolist()) for p in parts] == [[1, 3], [0, 2]]
    assert [p.tolist() for p in kd_parts(x, x, max_size=10)] == [list(range(10))]
    with pytest.raises(ValueError, match="max_size"):
        kd_parts(x, x, max_size=0)


def _layers():
    districts = gpd.GeoDataFrame(
        {"adcode": [1, 2], "name_zh": ["甲区", "乙区"], "name_en": ["Alpha", "Beta"]},
        geometry=[
            shapely.box(X0, Y0, X0 + 10_000, Y0 + 10_000),
            shapely.box(X0 + 10_000, Y0, X0 + 20_000, Y0 + 10_000),
        ],
        crs="EPSG:4549",
    )
    # 50 rooftops in Alpha on a 10 x 5 grid of 300 m steps, 6 ponds in Beta
    xs = [X0 + 100 + 300 * (i % 10) for i in range(50)] + [X0 + 12_000 + 500 * i for i in range(6)]
    ys = [Y0 + 100 + 300 * (i // 10) for i in range(50)] + [Y0 + 5_000] * 6
    sites = gpd.GeoDataFrame(
        {
            "site_id": [f"S{i}" for i in range(56)],
            "category": ["rooftop"] * 50 + ["pond"] * 6,
            "adcode": [1] * 50 + [2] * 6,
            "eligible": [True] * 56,
            "capacity_mw_dc": [0.1] * 56,
            "energy_mwh_yr": [100.0] * 56,
        },
        geometry=[shapely.box(x, y, x + 20, y + 20) for x, y in zip(xs, ys, strict=True)],
        crs="EPSG:4549",
    )
    return sites, districts


def _payloads(path):
    text = path.read_text(encoding="utf-8")
    blobs = re.findall(r'<script type="application/json" id="[^"]+">(.*?)</script>', text, re.S)
    return [json.loads(b) for b in blobs]


def _site_payloads(path):
    out = [p for p in _payloads(path) if "cells" in p.get("meta", {})]
    for p in out:
        p["rows"], p["geoms"] = decode_sites(p)
    return out


def test_index_map_links_every_site_to_one_detail_map(tmp_path):
    sites, districts = _layers()
    written = write_maps(tmp_path, sites, districts, max_sites_per_map=20)
    names = [str(p.relative_to(tmp_path)) for p in written]
    # Alpha's 50 sites: 50 -> 25 + 25 -> (12 + 13) + (12 + 13), four parts and an index;
    # Beta's 6 fit one map
    assert names == [
        "map.html",
        "maps/1_Alpha-1.html",
        "maps/1_Alpha-2.html",
        "maps/1_Alpha-3.html",
        "maps/1_Alpha-4.html",
        "maps/1_Alpha.html",
        "maps/2_Beta.html",
    ]
    # the city map draws no single site: cells only, each linking into maps/
    city = _site_payloads(tmp_path / "map.html")
    assert all(p["rows"] == [] and p["geoms"] == [] for p in city)
    assert sum(c[6] for p in city for c in p["meta"]["cells"]) == 56
    links = {p["meta"]["links"][c[10]] for p in city for c in p["meta"]["cells"]}
    assert links <= {n for n in names if n.startswith("maps/")}
    assert "maps/2_Beta.html" in links
    # each site is drawn on exactly one detail map
    drawn: list[str] = []
    for n in names:
        for p in _site_payloads(tmp_path / n):
            drawn += [r[0] for r in p["rows"]]
    assert sorted(drawn) == sorted(sites.site_id)
    # the parts hold 12, 13, 12, 13 sites
    sizes = [sum(len(p["rows"]) for p in _site_payloads(tmp_path / n)) for n in names[1:5]]
    assert sizes == [12, 13, 12, 13]
    # Alpha's own map is an index of its parts (links relative to maps/)
    alpha = _site_payloads(tmp_path / "maps/1_Alpha.html")
    assert {lk for p in alpha for lk in p["meta"]["links"]} == {
        f"1_Alpha-{k}.html" for k in range(1, 5)
    }


def test_below_the_limit_nothing_changes(tmp_path):
    sites, districts = _layers()
    written = write_maps(tmp_path, sites, districts, max_sites_per_map=56)
    assert [str(p.relative_to(tmp_path)) for p in written] == [
        "map.html",
        "maps/1_Alpha.html",
        "maps/2_Beta.html",
    ]
    city = _site_payloads(tmp_path / "map.html")
    assert sum(len(p["rows"]) for p in city) == 56


def test_existing_part_is_not_overwritten(tmp_path):
    sites, districts = _layers()
    (tmp_path / "maps").mkdir()
    (tmp_path / "maps" / "1_Alpha-3.html").write_text("mine", encoding="utf-8")
    with pytest.raises(OutputExistsError, match="1_Alpha-3.html"):
        write_maps(tmp_path, sites, districts, max_sites_per_map=20)
    assert not (tmp_path / "map.html").exists()
    assert (tmp_path / "maps" / "1_Alpha-3.html").read_text(encoding="utf-8") == "mine"


def test_braces_in_data_are_shown_not_evaluated(tmp_path):
    # folium compiles rendered macros as Jinja templates again; data holding "{{ ... }}"
    # must reach the page as text (it was evaluated before: 6*7 became 42)
    from census.maps import build_map, save_map

    sites, districts = _layers()
    sites = sites.iloc[:3].copy()
    sites["name"] = ["{{ 6*7 }}", "{% if 1 %}x{% endif %}", "plain"]
    sites["category"] = ["{{ 3*11 }}", "rooftop", "rooftop"]
    districts = districts.assign(name_zh=["{{ 7*7 }}", "乙区"])
    m = build_map(
        sites,
        districts,
        title="T {{ 5*5 }}",
        tiles="tiles/{z}/{x}/{y}.png",
        attribution="{{ 4*4 }}",
    )
    text = save_map(m, tmp_path / "m.html").read_text(encoding="utf-8")
    for raw in ("{{ 6*7 }}", "{% if 1 %}x{% endif %}", "{{ 7*7 }}"):
        assert raw in text  # in the JSON data, verbatim
    assert "T &#123;&#123; 5*5 &#125;&#125;" in text  # title: HTML entities
    assert "&#123;&#123; 3*11 &#125;&#125;" in text  # layer name
    assert "&#123;&#123; 4*4 &#125;&#125;" in text.replace("\\u0026", "&")  # attribution


def test_vectorised_clean_equals_the_loop():
    # the fast path of census.maps._clean gives the values of the per-value loop
    import pandas as pd

    from census.maps import _clean

    rng = np.random.default_rng(3)
    x = rng.normal(0, 1e4, 2_000) * rng.choice([1e-6, 1, 1e3], 2_000)
    x[::17] = np.nan
    x[::29] = np.inf
    for dec in (0, 1, 3):
        fast = _clean(pd.Series(x), dec)
        slow = _clean(list(x), dec)
        assert [v is None for v in fast] == [v is None for v in slow]
        f = np.array([np.nan if v is None else v for v in fast], dtype=float)
        s = np.array([np.nan if v is None else v for v in slow], dtype=float)
        # equal up to binary ties at the last decimal: at most one unit of it
        assert np.nanmax(np.abs(f - s)) <= 10.0**-dec * 1.000001
    text = pd.Series(["a", "", None, "b"], dtype="string")
    assert _clean(text, None) == ["a", None, None, "b"]
    assert _clean(pd.Series([True, False]), 0) == [1, 0]


def test_zones_are_on_the_index_map_too(tmp_path):
    # above max_sites_per_map the city map is an index; the zone outlines stay on it
    # (as below the limit and in a batch city), and the maps of Alpha (its index and its
    # parts) draw the zone, which is Alpha; Beta's map, which only shares a border, not
    sites, districts = _layers()
    zones = gpd.GeoDataFrame(
        {"zone": ["Park 1"]}, geometry=[districts.geometry.iloc[0]], crs=districts.crs
    )
    written = write_maps(tmp_path, sites, districts, max_sites_per_map=20, zones=zones)
    pages = {p.name: p.read_text(encoding="utf-8") for p in written}
    assert "Zones (1)" in pages["map.html"] and "Park 1" in pages["map.html"]
    alpha = [n for n in pages if n.startswith("1_Alpha")]
    # 50 sites, at most 20 a map: halved into 25 + 25, each halved again: 4 parts + index
    assert len(alpha) == 5
    assert all("Zones (1)" in pages[n] and "Park 1" in pages[n] for n in alpha)
    assert "Zones (" not in pages["2_Beta.html"]
