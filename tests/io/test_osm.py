"""Reading OSM PBF extracts through GDAL's OSM driver (census.io.osm).

The PBF fixtures are written in tmp_path with pyosmium's SimpleWriter (a test-only
dependency: pip install osmium).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from census.exceptions import InputError
from census.io.osm import parse_other_tags, read_osm, tag_filter_sql, tags_match

osmium = pytest.importorskip(
    "osmium", reason="pyosmium writes the PBF fixtures: pip install osmium"
)


class PBF:
    """Build a tiny .osm.pbf: closed ways from lon/lat rings, open ways, relations."""

    def __init__(self) -> None:
        self.nodes: list[tuple[int, tuple[float, float], dict[str, str]]] = []
        self.ways: list[tuple[int, list[int], dict[str, str]]] = []
        self.relations: list[tuple[int, list[tuple[str, int, str]], dict[str, str]]] = []
        self._node_id = 0
        self._way_id = 0

    def node(self, lon: float, lat: float, tags: dict[str, str] | None = None) -> int:
        self._node_id += 1
        self.nodes.append((self._node_id, (lon, lat), tags or {}))
        return self._node_id

    def way(self, coords: Iterable[tuple[float, float]], tags: dict[str, str], *, closed: bool):
        ids = [self.node(x, y) for x, y in coords]
        if closed:
            ids.append(ids[0])
        self._way_id += 1
        self.ways.append((self._way_id, ids, tags))
        return self._way_id

    def box(self, lon: float, lat: float, d_lon: float, d_lat: float, tags: dict[str, str]) -> int:
        ring = [(lon, lat), (lon + d_lon, lat), (lon + d_lon, lat + d_lat), (lon, lat + d_lat)]
        return self.way(ring, tags, closed=True)

    def multipolygon(self, outer_way: int, tags: dict[str, str], rel_id: int) -> None:
        self.relations.append(
            (rel_id, [("w", outer_way, "outer")], {"type": "multipolygon", **tags})
        )

    def write(self, path: Path) -> Path:
        from osmium.osm.mutable import Node, Relation, Way

        writer = osmium.SimpleWriter(str(path))
        try:
            for nid, loc, tags in self.nodes:
                writer.add_node(Node(id=nid, location=loc, tags=tags))
            for wid, refs, tags in self.ways:
                writer.add_way(Way(id=wid, nodes=refs, tags=tags))
            for rid, members, tags in self.relations:
                writer.add_relation(Relation(id=rid, members=members, tags=tags))
        finally:
            writer.close()
        return path


LON, LAT = 120.2, 30.2


@pytest.fixture
def small_pbf(tmp_path: Path) -> Path:
    b = PBF()
    b.box(
        LON,
        LAT,
        0.001,
        0.001,
        {
            "building": "yes",
            "roof:shape": "gabled",
            "building:levels": "3",
            "name": 'Hall "A", \\1',
        },
    )
    b.box(LON + 0.01, LAT, 0.001, 0.001, {"disused:landuse": "quarry"})
    b.box(LON + 0.02, LAT, 0.001, 0.001, {"wetland": "tidalflat"})
    outer = b.box(LON + 0.03, LAT, 0.002, 0.002, {})
    b.multipolygon(outer, {"boundary": "protected_area"}, rel_id=7)
    b.way([(LON, LAT + 0.01), (LON + 0.01, LAT + 0.01)], {"highway": "primary"}, closed=False)
    b.node(LON, LAT + 0.02, {"amenity": "bench"})
    return b.write(tmp_path / "small.osm.pbf")


def test_parse_other_tags_keys_and_escapes():
    s = pd.Series(
        [
            '"roof:shape"=>"gabled","building:levels"=>"3"',
            '"a\\"b"=>"x,\\"roof:shape\\"=>\\"flat"',
            None,
        ]
    )
    out = parse_other_tags(s, keys=["roof:shape", "building:levels", 'a"b'])
    assert out["roof:shape"].tolist() == ["gabled", pd.NA, pd.NA]
    assert out["building:levels"].tolist() == ["3", pd.NA, pd.NA]
    # a value holding text that looks like a pair is not mistaken for one
    assert out['a"b'].tolist() == [pd.NA, 'x,"roof:shape"=>"flat', pd.NA]
    every = parse_other_tags(s)
    assert set(every.columns) == {"roof:shape", "building:levels", 'a"b'}
    assert every.loc[0, "roof:shape"] == "gabled"


def test_tags_match_any_of_all():
    tags = pd.DataFrame({"natural": ["water", "water", None], "water": ["pond", "lake", None]})
    cond = [{"natural": "water", "water": ["pond", "basin"]}]
    assert tags_match(tags, cond).tolist() == [True, False, False]
    assert tags_match(tags, [{"natural": "*"}]).tolist() == [True, True, False]
    assert tags_match(tags, [{"missing_key": "*"}, {"water": "lake"}]).tolist() == [
        False,
        True,
        False,
    ]
    assert tags_match(tags, []).tolist() == [False, False, False]


def test_tag_filter_sql_uses_columns_and_other_tags():
    sql = tag_filter_sql([{"building": "*", "roof:shape": ["flat", "o'k"]}], fields=["building"])
    assert sql == (
        '("building" IS NOT NULL AND (other_tags LIKE \'%"roof:shape"=>"flat%\' OR '
        "other_tags LIKE '%\"roof:shape\"=>\"o''k%'))"
    )
    assert tag_filter_sql([], fields=[]) is None


def test_read_osm_multipolygons(small_pbf: Path):
    gdf = read_osm(
        small_pbf,
        layer="multipolygons",
        conditions=[
            {"building": "*"},
            {"disused:landuse": "quarry"},
            {"wetland": "tidalflat"},
            {"boundary": "*"},
        ],
        tag_keys=["roof:shape", "building:levels", "disused:landuse", "wetland"],
        polygon_keys=["disused:landuse", "wetland"],
    )
    assert gdf.crs.to_epsg() == 4326
    by_id = gdf.set_index("osm_id")
    assert set(by_id.index) == {"w1", "w2", "w3", "r7"}
    assert by_id.loc["w1", "roof:shape"] == "gabled"
    assert by_id.loc["w1", "building:levels"] == "3"
    assert by_id.loc["w1", "name"] == 'Hall "A", \\1'
    # closed ways tagged only with keys outside GDAL's polygon list become polygons
    assert by_id.loc["w2", "disused:landuse"] == "quarry"
    assert by_id.loc["w3", "wetland"] == "tidalflat"
    assert by_id.loc["r7", "boundary"] == "protected_area"
    assert set(gdf.geom_type) == {"MultiPolygon"}
    # the lon/lat box of w1 comes back unchanged
    np.testing.assert_allclose(
        by_id.loc["w1"].geometry.bounds, (LON, LAT, LON + 0.001, LAT + 0.001), atol=1e-7
    )


def test_read_osm_lines_points_and_prefilter(small_pbf: Path):
    lines = read_osm(small_pbf, layer="lines", conditions=[{"highway": ["primary"]}])
    assert lines["osm_id"].tolist() == ["w5"]
    points = read_osm(small_pbf, layer="points")
    assert points["osm_id"].str.startswith("n").all()
    assert parse_other_tags(points["other_tags"], keys=["amenity"])["amenity"].tolist() == ["bench"]
    none = read_osm(small_pbf, layer="lines", conditions=[{"highway": "motorway"}])
    assert len(none) == 0


def test_read_osm_bbox(small_pbf: Path):
    gdf = read_osm(
        small_pbf, layer="multipolygons", bbox=(LON - 0.001, LAT - 0.001, LON + 0.002, LAT + 0.002)
    )
    assert gdf["osm_id"].tolist() == ["w1"]


def test_read_osm_errors(tmp_path: Path):
    with pytest.raises(InputError, match="not found"):
        read_osm(tmp_path / "missing.osm.pbf", layer="points")
    bad = tmp_path / "bad.osm.pbf"
    bad.write_bytes(b"not a pbf")
    with pytest.raises(InputError, match="bad.osm.pbf"):
        read_osm(bad, layer="points")
