"""Fast tests of the candidate-site maps: structure, escaping, offline, simplification."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from numpy.testing import assert_allclose

from census.exceptions import InputError, MissingCRSError, OutputExistsError, SchemaError
from census.maps import (
    build_map,
    district_map_filename,
    embedded_assets,
    maps_from_run,
    save_map,
    write_maps,
)
from tests.test_maps_payload import decode_sites

X0, Y0 = 500_000.0, 3_340_000.0
HOSTILE = (
    '<script>window.__xss=1</script>" onmouseover="window.__xss=2" <img src=x onerror=alert(1)>'
)


def make_layers(n_rooftops: int = 6):
    """Two 10 km x 10 km districts, rooftops in the first, ponds and a mudflat in the second."""
    districts = gpd.GeoDataFrame(
        {
            "adcode": [330102, 330106],
            "name_zh": ["上城区", "西湖区"],
            "name_en": ["Shangcheng", "Xihu"],
        },
        geometry=[
            shapely.box(X0, Y0, X0 + 10_000, Y0 + 10_000),
            shapely.box(X0 + 10_000, Y0, X0 + 20_000, Y0 + 10_000),
        ],
        crs="EPSG:4549",
    )
    rows = []
    for i in range(n_rooftops):
        x = X0 + 1_000 + (i % 10) * 150
        y = Y0 + 1_000 + (i // 10) * 150
        rows.append(
            {
                "site_id": f"R{i}",
                "category": "rooftop",
                "district": "Shangcheng",
                "adcode": 330102,
                "eligible": i % 3 != 0,
                "technology": "pv_rooftop",
                "name": f"Roof {i}",
                "geometry": shapely.box(x, y, x + 20, y + 20),
            }  # 400 m2
        )
    rows += [
        {
            "site_id": "P1",
            "category": "pond",
            "district": "Xihu",
            "adcode": 330106,
            "eligible": True,
            "technology": "pv_floating",
            "name": HOSTILE,
            "geometry": shapely.box(X0 + 12_000, Y0 + 2_000, X0 + 12_100, Y0 + 2_100),
        },
        {
            "site_id": "P2",
            "category": "pond",
            "district": "Xihu",
            "adcode": 330106,
            "eligible": False,
            "technology": "pv_floating",
            "name": None,
            "geometry": shapely.box(X0 + 13_000, Y0 + 2_000, X0 + 13_100, Y0 + 2_100),
        },
        {
            "site_id": "M1",
            "category": "mudflat",
            "district": "Xihu",
            "adcode": 330106,
            "eligible": True,
            "technology": "wind",
            "name": "Flat",
            "geometry": shapely.box(X0 + 15_000, Y0 + 5_000, X0 + 17_000, Y0 + 6_000),
        },
    ]
    sites = gpd.GeoDataFrame(rows, crs="EPSG:4549")
    sites["layer"] = sites["category"]
    sites["area_m2"] = sites.area
    sites["usable_area_m2"] = sites.area * 0.5
    sites["exclusion_reasons"] = np.where(sites["eligible"], "", "slope;protected_area")
    sites["clipped_by"] = ""
    sites["capacity_mw_dc"] = sites["usable_area_m2"] * 1e-4  # 100 W/m2
    sites["energy_mwh_yr"] = sites["capacity_mw_dc"] * 1_000.0
    sites["specific_yield_kwh_kwp"] = np.where(sites["technology"] == "wind", np.nan, 1_000.0)
    sites["capacity_factor"] = 0.114
    sites["n_turbines"] = np.where(sites["technology"] == "wind", 2, np.nan)
    turbines = gpd.GeoDataFrame(
        {"site_id": ["M1", "M1"], "turbine_id": ["M1-T1", "M1-T2"], "energy_mwh_yr": [5e3, 5.1e3]},
        geometry=[shapely.Point(X0 + 15_500, Y0 + 5_500), shapely.Point(X0 + 16_500, Y0 + 5_500)],
        crs="EPSG:4549",
    )
    return sites, districts, turbines


class _Tags(HTMLParser):
    """Collect start tags with their attributes, and the text of JSON script elements."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.json: dict[str, str] = {}
        self._json_id: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag == "script" and a.get("type") == "application/json":
            self._json_id = a["id"]
            self.json[self._json_id] = ""

    def handle_endtag(self, tag):
        self._json_id = None

    def handle_data(self, data):
        if self._json_id is not None:
            self.json[self._json_id] += data


def parse(path: Path) -> _Tags:
    p = _Tags()
    p.feed(path.read_text(encoding="utf-8"))
    return p


def payloads(path: Path) -> list[dict]:
    return [json.loads(t) for t in parse(path).json.values()]


def site_payloads(path: Path) -> dict[str, dict]:
    """Site layers by category, with their packed data decoded into ``rows`` and ``geoms``."""
    out = {}
    for p in payloads(path):
        if "category" in p.get("meta", {}):
            p["rows"], p["geoms"] = decode_sites(p)
            out[p["meta"]["category"]] = p
    return out


@pytest.fixture
def layers():
    return make_layers()


@pytest.fixture
def city_html(layers, tmp_path) -> Path:
    sites, districts, turbines = layers
    m = build_map(sites, districts, turbines=turbines, title="City map", synthetic=True)
    return save_map(m, tmp_path / "map.html")


def test_layers_legend_banner_and_bounds(city_html):
    text = city_html.read_text(encoding="utf-8")
    # One overlay per category plus districts and turbines in the layer control.
    for name in ("Districts", "Rooftop (6)", "Pond (2)", "Mudflat (1)", "Wind turbines (2)"):
        assert json.dumps(name) in text
    assert "Demo: synthetic site layers" in text
    assert 'id="census-legend"' in text and "Excluded site" in text and "Wind turbine" in text
    assert ".fitBounds(" in text
    sp = site_payloads(city_html)
    assert {k: len(v["rows"]) for k, v in sp.items()} == {"rooftop": 6, "pond": 2, "mudflat": 1}
    # Popups carry the numbers with units.
    labels = {tuple(f[:2]) for f in sp["pond"]["meta"]["fields"]}
    assert {("Area", "m²"), ("Capacity", "MW"), ("Energy", "MWh/yr")} <= labels
    assert ("Reasons for exclusion", "") in labels
    p2 = next(r for r in sp["pond"]["rows"] if r[0] == "P2")
    assert p2[2] == 0 and "slope; protected_area" in p2
    p1 = next(r for r in sp["pond"]["rows"] if r[0] == "P1")
    assert p1[2:4] == [1, "Xihu"] and p1[5:8] == [10_000, 5_000, 0.5]  # 100 m x 100 m, 100 W/m2


def test_no_banner_without_synthetic(layers, tmp_path):
    sites, districts, _ = layers
    path = save_map(build_map(sites, districts, title="x"), tmp_path / "m.html")
    text = path.read_text(encoding="utf-8")
    assert "Demo: synthetic" not in text and 'id="census-synthetic-banner"' not in text


def test_districts_carry_names_and_totals(layers, tmp_path):
    sites, districts, _ = layers
    totals = pd.DataFrame(
        {
            "adcode": [330102, 330106],
            "name_zh": ["上城区", "西湖区"],
            "name_en": ["Shangcheng", "Xihu"],
            "capacity_mw_dc": [1.5, 2.5],
            "pv_capacity_mw": [1.5, 0.5],
            "wind_capacity_mw": [0.0, 2.0],
            "energy_gwh_yr": [1.0, 3.0],
            "eligible_sites": [4, 2],
        }
    )
    path = save_map(
        build_map(sites, districts, district_totals=totals, title="x"), tmp_path / "m.html"
    )
    d = next(p for p in payloads(path) if "labels" in p)
    assert [r[:3] for r in d["rows"]] == [
        [330102, "上城区", "Shangcheng"],
        [330106, "西湖区", "Xihu"],
    ]
    assert [r[3:] for r in d["rows"]] == [[1.5, 1.5, 0.0, 1.0, 4], [2.5, 0.5, 2.0, 3.0, 2]]
    assert len(d["labels"]) == 2 and all(len(pt) == 2 for pt in d["labels"])


def test_totals_from_sites_when_none_given(city_html, layers):
    sites, _, _ = layers
    d = next(p for p in payloads(city_html) if "labels" in p)
    fields = [f[0] for f in d["meta"]["fields"]]
    cap = {r[0]: r[3 + fields.index("Capacity")] for r in d["rows"]}
    eligible = sites[sites["eligible"]]
    expected = eligible.groupby("adcode")["capacity_mw_dc"].sum()
    assert_allclose([cap[330102], cap[330106]], expected.loc[[330102, 330106]], atol=0.05)


def test_no_external_url(city_html):
    text = city_html.read_text(encoding="utf-8")
    tags = parse(city_html).tags
    for tag, attrs in tags:
        assert not (tag == "script" and attrs.get("src")), attrs
        assert not (tag == "link" and attrs.get("href")), attrs
        assert tag not in {"img", "iframe"}
    # Once the embedded libraries are cut out, no URL is left in the page.
    for asset in embedded_assets().values():
        assert asset in text
        text = text.replace(asset, "")
    assert re.search(r"https?:|//cdn|@import|url\(\s*['\"]?(?!data:)", text, re.I) is None
    assert "data:image/png;base64," in embedded_assets()["leaflet.css"]


def test_tiles_are_the_only_url(layers, tmp_path):
    sites, districts, _ = layers
    url = "https://tiles.example.org/{z}/{x}/{y}.png"
    m = build_map(sites, districts, title="x", tiles=url, attribution="© Example <b>tiles</b>")
    text = save_map(m, tmp_path / "m.html").read_text(encoding="utf-8")
    for asset in embedded_assets().values():
        text = text.replace(asset, "")
    assert re.findall(r"https?://[^\"'\s]*", text) == [url]
    assert "<b>tiles" not in text and "\\u0026lt;b\\u0026gt;tiles" in text


def test_bad_tiles_template(layers):
    sites, districts, _ = layers
    with pytest.raises(ValueError, match="tiles=None"):
        build_map(sites, districts, title="x", tiles="OpenStreetMap")


def test_hostile_text_is_escaped(layers, tmp_path):
    sites, districts, turbines = layers
    sites.loc[sites["site_id"] == "M1", "category"] = HOSTILE
    turbines.loc[0, "turbine_id"] = HOSTILE
    districts.loc[1, "name_en"] = HOSTILE
    m = build_map(sites, districts, turbines=turbines, title=HOSTILE)
    path = save_map(m, tmp_path / "m.html")
    text = path.read_text(encoding="utf-8")
    tags = parse(path).tags
    # Nothing from the data became markup: no handler attributes, no images, and every
    # script element is one of ours (inline code or JSON data).
    assert all(not k.startswith("on") for _, a in tags for k in a), "event handler attribute"
    assert not [t for t, _ in tags if t == "img"]
    scripts = [a for t, a in tags if t == "script"]
    assert all(set(a) <= {"type", "id"} for a in scripts)
    assert "<script>window.__xss" not in text
    assert text.count("<script") == len(scripts)
    # In markup (title, legend, layer names) it is HTML-escaped ...
    assert "<title>&lt;script&gt;window.__xss=1&lt;/script&gt;&quot; onmouseover=" in text
    assert '<div class="census-title" id="census-title">&lt;script&gt;' in text
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in text.split('id="census-legend"')[1]
    # ... and in data it is JSON-escaped for a script element and decodes back intact.
    assert "\\u003cscript\\u003ewindow.__xss=1\\u003c/script\\u003e" in text
    sp = site_payloads(path)
    assert HOSTILE in sp
    assert any(r[1] == HOSTILE for r in sp["pond"]["rows"])
    d = next(p for p in payloads(path) if "labels" in p)
    assert d["rows"][1][2] == HOSTILE
    t = next(p for p in payloads(path) if "points" in p)
    assert t["rows"][0][0] == HOSTILE


def test_no_innerhtml_of_data_in_census_js():
    js = embedded_assets()["census.js"]
    assert "innerHTML" not in js and "insertAdjacentHTML" not in js and "eval(" not in js
    assert "textContent" in js


def test_geometry_simplified_and_rounded(layers, tmp_path):
    sites, districts, _ = layers
    circle = shapely.Point(X0 + 5_000, Y0 + 7_000).buffer(500.0, quad_segs=256)  # 1025 vertices
    forest = gpd.GeoDataFrame(
        {"site_id": ["F1"], "category": ["forest"], "eligible": [True], "adcode": [330102]},
        geometry=[circle],
        crs="EPSG:4549",
    )
    wiggly = shapely.Polygon(
        [(X0 + 10_000 + 0.01 * (i % 2), Y0 + i * 10.0) for i in range(1001)]
        + [(X0 + 20_000, Y0 + 10_000), (X0 + 20_000, Y0)]
    )
    districts.loc[1, "geometry"] = wiggly
    both = pd.concat([sites, forest], ignore_index=True)
    path = save_map(build_map(both, districts, title="x"), tmp_path / "m.html")
    geom = site_payloads(path)["forest"]["geoms"][0]
    n_vertices = len(geom["coordinates"][0])
    assert 10 < n_vertices < 200  # 1025 vertices before; tolerance 1 % of sqrt(area) = 8.9 m
    simplified = gpd.GeoSeries([shapely.Polygon(geom["coordinates"][0])], crs="EPSG:4326")
    area_m2 = simplified.to_crs("EPSG:4549").area.iloc[0]
    assert_allclose(area_m2, circle.area, rtol=0.02)  # display shape keeps its area within 2 %
    d = next(p for p in payloads(path) if "labels" in p)
    assert len(d["geoms"][1]["coordinates"][0]) < 20  # 1003 vertices; 25 m tolerance
    # Every coordinate has at most 5 decimals (about 1 m).
    text = path.read_text(encoding="utf-8")
    blob = "".join(parse(path).json.values())
    assert re.search(r"\d+\.\d{6,}", blob) is None
    assert len(text) < 400_000


def test_many_sites_are_aggregated(tmp_path):
    sites, districts, _ = make_layers(n_rooftops=60)
    m = build_map(sites, districts, title="x", max_sites_detail=10, aggregate_cell_m=500.0)
    sp = site_payloads(save_map(m, tmp_path / "m.html"))
    roof = sp["rooftop"]
    cells = roof["meta"]["cells"]
    assert sp["pond"]["meta"]["cells"] is None  # small layers stay detailed
    # Rooftop centroids at x = 1010 + 150 i (i < 10), y = 1010 + 150 j (j < 6): 3 x 2 cells.
    assert len(cells) == 6
    assert sum(c[6] for c in cells) == 60
    assert [c[5] - c[4] for c in cells] == [c[6] for c in cells]
    assert cells[0][4] == 0 and cells[-1][5] == 60
    rooftops = sites[sites["category"] == "rooftop"]
    assert sum(c[7] for c in cells) == rooftops["eligible"].sum()
    assert_allclose(
        sum(c[8] for c in cells),
        rooftops.loc[rooftops["eligible"], "capacity_mw_dc"].sum(),
        rtol=1e-9,
    )
    # Rows are sorted by cell: each cell's rows are its own sites.
    for c in cells:
        ids = [r[0] for r in roof["rows"][c[4] : c[5]]]
        assert len(ids) == c[6]
        for geom in roof["geoms"][c[4] : c[5]]:
            lon, lat = np.mean(geom["coordinates"][0][:4], axis=0)
            assert c[1] - 1e-3 <= lon <= c[3] + 1e-3 and c[0] - 1e-3 <= lat <= c[2] + 1e-3


def test_input_errors(layers):
    sites, districts, _ = layers
    with pytest.raises(SchemaError, match="eligible"):
        build_map(sites.drop(columns="eligible"), districts, title="x")
    with pytest.raises(SchemaError, match="name_zh"):
        build_map(sites, districts.drop(columns="name_zh"), title="x")
    with pytest.raises(MissingCRSError, match="set_crs"):
        build_map(sites.set_crs(None, allow_override=True), districts, title="x")
    with pytest.raises(TypeError, match="GeoDataFrame"):
        build_map(pd.DataFrame(sites.drop(columns="geometry")), districts, title="x")


def test_sites_in_degrees_are_accepted(layers, tmp_path):
    sites, districts, _ = layers
    path = save_map(build_map(sites.to_crs("EPSG:4326"), districts, title="x"), tmp_path / "m.html")
    assert len(site_payloads(path)["rooftop"]["rows"]) == 6


def test_save_map_refuses_cdn_assets_and_is_atomic(layers, tmp_path):
    sites, districts, _ = layers
    m = build_map(sites, districts, title="x")
    target = tmp_path / "m.html"
    save_map(m, target)
    before = target.read_bytes()
    from folium.plugins import MarkerCluster

    MarkerCluster().add_to(m)
    with pytest.raises(ValueError, match="offline"):
        save_map(m, target)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.html"]


def test_district_map_filename():
    assert district_map_filename(330185, "Lin'an") == "330185_Lin_an.html"
    assert district_map_filename(330102, "Shangcheng") == "330102_Shangcheng.html"
    name = district_map_filename(1, "../../etc/passwd")
    assert "/" not in name and ".." not in name
    assert district_map_filename(2, "上城区") == "2_district.html"


def test_write_maps_city_and_districts(layers, tmp_path):
    sites, districts, turbines = layers
    paths = write_maps(tmp_path, sites, districts, turbines=turbines, synthetic=True)
    assert [p.relative_to(tmp_path).as_posix() for p in paths] == [
        "map.html",
        "maps/330102_Shangcheng.html",
        "maps/330106_Xihu.html",
    ]
    sp = site_payloads(paths[1])
    assert set(sp) == {"rooftop"} and len(sp["rooftop"]["rows"]) == 6
    sp = site_payloads(paths[2])
    assert set(sp) == {"pond", "mudflat"}
    assert len(next(p for p in payloads(paths[2]) if "points" in p)["rows"]) == 2
    assert "西湖区 Xihu: candidate sites" in paths[2].read_text(encoding="utf-8")
    assert not any(p.name.startswith(".") for p in tmp_path.rglob("*"))


def test_write_maps_never_overwrites_silently(layers, tmp_path):
    sites, districts, _ = layers
    write_maps(tmp_path, sites, districts)
    stamp = (tmp_path / "map.html").stat().st_mtime_ns
    with pytest.raises(OutputExistsError, match="overwrite=True"):
        write_maps(tmp_path, sites, districts)
    assert (tmp_path / "map.html").stat().st_mtime_ns == stamp
    assert len(write_maps(tmp_path, sites, districts, overwrite=True)) == 3


def test_write_maps_district_filter(layers, tmp_path):
    sites, districts, _ = layers
    paths = write_maps(tmp_path, sites, districts, districts_filter=["西湖区"])
    assert [p.name for p in paths] == ["330106_Xihu.html"]
    assert not (tmp_path / "map.html").exists()
    assert [
        p.name for p in write_maps(tmp_path / "b", sites, districts, districts_filter=330102)
    ] == ["330102_Shangcheng.html"]
    with pytest.raises(ValueError, match="Unknown district.*Shangcheng"):
        write_maps(tmp_path / "c", sites, districts, districts_filter=["Nowhere"])


def write_run(run: Path, layers, *, synthetic: bool = True) -> None:
    sites, districts, turbines = layers
    run.mkdir()
    sites.to_file(run / "sites.gpkg", layer="sites", driver="GPKG")
    turbines.to_file(run / "sites.gpkg", layer="turbines", driver="GPKG")
    districts.to_file(run / "districts.gpkg", layer="districts", driver="GPKG")
    pd.DataFrame(
        {
            "adcode": [330102, 330106],
            "name_zh": ["上城区", "西湖区"],
            "name_en": ["Shangcheng", "Xihu"],
            "capacity_mw_dc": [7.0, 8.0],
            "pv_capacity_mw": [7.0, 0.5],
            "wind_capacity_mw": [0.0, 7.5],
            "energy_gwh_yr": [0.1, 0.2],
            "eligible_sites": [4, 2],
        }
    ).to_csv(run / "summary_by_district.csv", index=False, encoding="utf-8-sig")
    (run / "provenance.json").write_text(json.dumps({"synthetic_inputs": synthetic}))


def test_maps_from_run(layers, tmp_path):
    run = tmp_path / "run"
    write_run(run, layers)
    paths = maps_from_run(run)
    assert [p.name for p in paths] == ["map.html", "330102_Shangcheng.html", "330106_Xihu.html"]
    assert "Demo: synthetic site layers" in paths[0].read_text(encoding="utf-8")
    d = next(p for p in payloads(paths[0]) if "labels" in p)
    assert d["rows"][0][:4] == [330102, "上城区", "Shangcheng", 7.0]  # from the CSV, BOM read
    assert len(next(p for p in payloads(paths[0]) if "points" in p)["rows"]) == 2
    assert any(r[1] == HOSTILE for r in site_payloads(paths[0])["pond"]["rows"])
    with pytest.raises(OutputExistsError):
        maps_from_run(run, districts=["Xihu"])
    assert [p.name for p in maps_from_run(run, districts=["Xihu"], overwrite=True)] == [
        "330106_Xihu.html"
    ]


def test_maps_from_run_needs_a_run(tmp_path):
    with pytest.raises(InputError, match="census run"):
        maps_from_run(tmp_path)


def test_build_map_returns_folium_map(layers):
    sites, districts, _ = layers
    assert isinstance(build_map(sites, districts, title="x"), folium.Map)
