"""QGIS layer styles in sites.gpkg: the HTML map's category colours, read back with sqlite3."""

from __future__ import annotations

import sqlite3
import xml.etree.ElementTree as ET

import geopandas as gpd
import pyogrio
import pytest
import shapely

from census.io.qgis_styles import (
    categories_in_map_order,
    sites_style_qml,
    style_run_geopackages,
    turbines_style_qml,
    write_layer_styles,
)
from census.maps import CATEGORY_COLORS


def _gpkg(tmp_path):
    path = tmp_path / "sites.gpkg"
    sites = gpd.GeoDataFrame(
        {
            "site_id": ["a", "b", "c"],
            "category": ["pond", "rooftop", "solar_canopy"],
            "eligible": [True, False, True],
        },
        geometry=[
            shapely.box(0, 0, 10, 10),
            shapely.box(20, 0, 30, 10),
            shapely.box(40, 0, 50, 10),
        ],
        crs="EPSG:4549",
    )
    turbines = gpd.GeoDataFrame(
        {"turbine_id": ["t1"]}, geometry=[shapely.Point(5, 5)], crs="EPSG:4549"
    )
    pyogrio.write_dataframe(sites, path, layer="sites")
    pyogrio.write_dataframe(turbines, path, layer="turbines", append=True)
    return path, sites


def _rules(qml):
    root = ET.fromstring(qml.split("\n", 1)[1])  # past the DOCTYPE line
    renderer = root.find("renderer-v2")
    symbols = {
        s.get("name"): {p.get("k"): p.get("v") for p in s.iter("prop")}
        for s in renderer.find("symbols")
    }
    return renderer, {r.get("filter"): symbols[r.get("symbol")] for r in renderer.iter("rule")}


def test_categories_follow_the_map_order():
    # known categories in CATEGORY_COLORS order, then the others sorted
    assert categories_in_map_order(["solar_canopy", "pond", "rooftop", "pond", "a_new"]) == [
        "rooftop",
        "pond",
        "a_new",
        "solar_canopy",
    ]


def test_site_rules_use_the_map_colours():
    cats = ["rooftop", "pond", "solar_canopy"]
    renderer, rules = _rules(sites_style_qml(cats))
    assert renderer.get("type") == "RuleRenderer"
    # rooftop #d95f02 = (217, 95, 2); eligible fill 60 % opaque = 153/255, as styleE on the map
    assert CATEGORY_COLORS["rooftop"] == "#d95f02"
    rooftop = rules['"category" = \'rooftop\' AND "eligible"']
    assert rooftop["color"] == "217,95,2,153" and rooftop["outline_color"] == "217,95,2,242"
    pond = rules['"category" = \'pond\' AND "eligible"']
    assert pond["color"] == "31,120,180,153"  # #1f78b4
    # an unknown category takes the map's first extra colour at its index (2): #a6761d
    extra = rules['"category" = \'solar_canopy\' AND "eligible"']
    assert extra["color"] == "166,118,29,153"
    # excluded sites: grey #a8a8a8 at 35 % (89/255), dashed #555 outline, as styleX
    excluded = rules['NOT coalesce("eligible", 0)']
    assert excluded["color"] == "168,168,168,89" and excluded["outline_style"] == "dash"


def test_quotes_in_a_category_are_escaped():
    _, rules = _rules(sites_style_qml(["farmer's roofs"]))
    assert "\"category\" = 'farmer''s roofs' AND \"eligible\"" in rules


def test_styles_written_as_defaults_and_layers_unchanged(tmp_path):
    path, sites = _gpkg(tmp_path)
    before = [tuple(x) for x in pyogrio.list_layers(path)]
    write_layer_styles(path, {"sites": sites_style_qml(categories_in_map_order(sites["category"]))})
    write_layer_styles(path, {"turbines": turbines_style_qml()})
    # writing again replaces the default, it does not add a second one
    write_layer_styles(path, {"sites": sites_style_qml(["pond"])})
    with sqlite3.connect(path) as con:
        rows = con.execute(
            "SELECT f_table_name, f_geometry_column, useAsDefault, styleQML FROM layer_styles "
            "ORDER BY f_table_name"
        ).fetchall()
    assert [(r[0], r[1], r[2]) for r in rows] == [("sites", "geom", 1), ("turbines", "geom", 1)]
    _, rules = _rules(rows[0][3])
    assert list(rules)[1] == '"category" = \'pond\' AND "eligible"'
    # GDAL still sees the same two layers (and the styles as a table without geometry)
    after = [tuple(x) for x in pyogrio.list_layers(path)]
    assert [x for x in after if x[1] is not None] == before
    assert ("layer_styles", None) in after
    assert len(pyogrio.read_dataframe(path, layer="sites")) == 3


def _every_category(folder):
    """A run folder's two GeoPackages: one eligible site per map category, and more.

    Sites: each category of CATEGORY_COLORS (eligible), a category the map does not
    know (eligible) and one excluded rooftop.
    """
    folder.mkdir(exist_ok=True)
    cats = [*CATEGORY_COLORS, "zz_new_kind"]
    n = len(cats) + 1
    sites = gpd.GeoDataFrame(
        {
            "site_id": [f"s{i}" for i in range(n)],
            "category": [*cats, "rooftop"],
            "eligible": [True] * len(cats) + [False],
        },
        geometry=[shapely.box(20 * i, 0, 20 * i + 10, 10) for i in range(n)],
        crs="EPSG:4549",
    )
    districts = gpd.GeoDataFrame(
        {"adcode": [1]}, geometry=[shapely.box(0, 0, 20 * n, 10)], crs="EPSG:4549"
    )
    pyogrio.write_dataframe(sites, folder / "sites.gpkg", layer="sites")
    pyogrio.write_dataframe(districts, folder / "districts.gpkg", layer="districts")
    return sites


def test_run_folder_styles_name_every_map_category_with_its_colour(tmp_path):
    from census.maps import _EXTRA_COLORS

    sites = _every_category(tmp_path / "run")
    style_run_geopackages(tmp_path / "run", sites["category"], turbines=False)
    with sqlite3.connect(tmp_path / "run" / "sites.gpkg") as con:
        rows = con.execute(
            "SELECT f_table_name, useAsDefault, styleQML FROM layer_styles"
        ).fetchall()
        kind = con.execute(
            "SELECT data_type FROM gpkg_contents WHERE table_name = 'layer_styles'"
        ).fetchone()
    assert [(r[0], r[1]) for r in rows] == [("sites", 1)] and kind == ("attributes",)
    _, rules = _rules(rows[0][2])
    for category, color in CATEGORY_COLORS.items():
        r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
        # eligible fill at 60 % opacity (153/255), as the map's styleE
        assert rules[f'"category" = \'{category}\' AND "eligible"']["color"] == f"{r},{g},{b},153"
    # the unknown category comes last in the map's order: extra colour at its index
    extra = _EXTRA_COLORS[len(CATEGORY_COLORS) % len(_EXTRA_COLORS)]
    r, g, b = (int(extra[i : i + 2], 16) for i in (1, 3, 5))
    assert rules['"category" = \'zz_new_kind\' AND "eligible"']["color"] == f"{r},{g},{b},153"
    with sqlite3.connect(tmp_path / "run" / "districts.gpkg") as con:
        assert con.execute("SELECT f_table_name FROM layer_styles").fetchall() == [("districts",)]


QGIS_CHECK = """
import os, sys
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from qgis.core import QgsApplication, QgsRenderContext, QgsVectorLayer
app = QgsApplication([], False)
app.initQgis()
vl = QgsVectorLayer(sys.argv[1] + "|layername=sites", "sites", "ogr")
msg, ok = vl.loadDefaultStyle()
r = vl.renderer()
ctx = QgsRenderContext()
r.startRender(ctx, vl.fields())
for f in vl.getFeatures():
    print(f["site_id"], ",".join(s.color().name() for s in r.symbolsForFeature(f, ctx)))
r.stopRender(ctx)
print("renderer", r.type(), ok, flush=True)
os._exit(0)  # QGIS may crash in its exit handlers; the answer is printed
"""


def test_qgis_opens_the_sites_styled_like_the_map(tmp_path):
    # only where Debian's python3-qgis is installed (not in CI: ~170 packages)
    import shutil
    import subprocess

    from census.maps import _category_color

    py = shutil.which("python3", path="/usr/bin")
    probe = py and subprocess.run([py, "-c", "import qgis.core"], capture_output=True)
    if not probe or probe.returncode != 0:
        pytest.skip("QGIS (Debian python3-qgis) not installed: styles checked without it above")
    sites = _every_category(tmp_path / "run")
    style_run_geopackages(tmp_path / "run", sites["category"], turbines=False)
    out = subprocess.run(
        [py, "-c", QGIS_CHECK, str(tmp_path / "run" / "sites.gpkg")],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path)},
        check=False,
        timeout=120,
    ).stdout.splitlines()
    assert "renderer RuleRenderer True" in out
    # QGIS's own renderer gives each eligible site its category's map colour (the
    # known ones from CATEGORY_COLORS, the new one the map's extra colour at its index),
    # and the excluded rooftop the map's grey #a8a8a8
    expected = {
        f"s{i} {_category_color(c, i)}"
        for i, c in enumerate(categories_in_map_order(sites["category"]))
    }
    assert expected | {f"s{len(sites) - 1} #a8a8a8"} <= set(out), out


def test_a_file_sqlite_cannot_write_is_a_clear_error(tmp_path):
    from census.exceptions import OutputWriteError

    bad = tmp_path / "sites.gpkg"
    bad.write_bytes(b"not a GeoPackage, not SQLite" * 100)
    with pytest.raises(OutputWriteError, match="Cannot write the QGIS styles into .*sites.gpkg"):
        write_layer_styles(bad, {"sites": sites_style_qml(["pond"])})
