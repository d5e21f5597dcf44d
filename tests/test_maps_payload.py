"""The packed site data of the maps: varints, columns and geometries, decoded independently.

``decode_sites`` is a reference decoder written from the format's description (not from
the encoder's code); the other map tests read site layers through it.
"""

from __future__ import annotations

import base64
import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from census.maps import (
    _clean,
    _display_geoms,
    _packed_column,
    _packed_geoms,
    _varints,
    _zigzag,
)

X0, Y0 = 500_000.0, 3_340_000.0
KINDS = ["", "Point", "LineString", "Polygon", "MultiPoint", "MultiLineString", "MultiPolygon"]


def read_varints(text: str) -> list[int]:
    """LEB128: 7 bits a byte, least significant first, high bit set on all but the last."""
    out, value, shift = [], 0, 0
    for byte in base64.b64decode(text):
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            out.append(value)
            value, shift = 0, 0
    assert shift == 0, "truncated varint"
    return out


def unzig(u: int) -> int:
    return -(u + 1) // 2 if u % 2 else u // 2


def decode_column(col: dict | None, n: int) -> list:
    if col is None:
        return [None] * n
    if "j" in col:
        return col["j"]
    v = read_varints(col["v"])
    assert len(v) == n
    if "c" in col:
        return [col["c"][k - 1] if k else None for k in v]
    d = col["n"]
    return [None if k == 0 else (unzig(k - 1) / 10**d if d else unzig(k - 1)) for k in v]


def decode_geoms(g: dict, n: int) -> list[dict | None]:
    if n == 0:
        return []
    kinds = [g["kind"]] * n if g["kind"] else read_varints(g["kinds"])
    parts, rings = iter(read_varints(g["parts"])), iter(read_varints(g["rings"]))
    lens, d = iter(read_varints(g["lens"])), read_varints(g["xy"])
    xs = np.cumsum([unzig(u) for u in d[0::2]]) / g["scale"]
    ys = np.cumsum([unzig(u) for u in d[1::2]]) / g["scale"]
    coords = iter(zip(xs.tolist(), ys.tolist(), strict=True))

    def point():
        return list(next(coords))

    def line():
        return [point() for _ in range(next(lens))]

    def polygon():
        return [line() for _ in range(next(rings))]

    out: list[dict | None] = []
    for k, kind in enumerate(kinds):
        if kind == 0:
            out.append(None)
        elif kind == 7:
            out.append(g["extra"][str(k)])
        else:
            one = {1: point, 2: line, 0: polygon}[kind % 3]
            if kind < 4:
                out.append({"type": KINDS[kind], "coordinates": one()})
            else:
                out.append(
                    {"type": KINDS[kind], "coordinates": [one() for _ in range(next(parts))]}
                )
    assert next(coords, None) is None, "coordinates left over"
    return out


def decode_sites(payload: dict) -> tuple[list[list], list[dict | None]]:
    """Rows ``[site_id, name, eligible, values aligned with meta.fields...]`` and geometries."""
    n = payload["n"]
    if n == 0:
        return [], []
    cols = payload["cols"]
    columns = [
        decode_column(cols["id"], n),
        decode_column(cols["name"], n),
        decode_column(cols["eligible"], n),
    ] + [decode_column(c, n) for c in cols["fields"]]
    rows = [list(r) for r in zip(*columns, strict=True)]
    return rows, decode_geoms(payload["geom"], n)


def test_varints_by_hand():
    # 0 -> 00; 127 -> 7f; 128 -> 80 01; 300 = 0b10_0101100 -> ac 02; 2**53 -> 7 bytes + 1
    raw = base64.b64decode(_varints(np.array([0, 127, 128, 300, 2**53])))
    assert raw[:7] == bytes([0x00, 0x7F, 0x80, 0x01, 0xAC, 0x02, 0x80])
    assert read_varints(_varints(np.array([0, 127, 128, 300, 2**53]))) == [
        0,
        127,
        128,
        300,
        2**53,
    ]
    assert _zigzag(np.array([0, -1, 1, -2, 2])).tolist() == [0, 1, 2, 3, 4]
    rng = np.random.default_rng(1)
    values = (rng.random(5_000) * 2.0 ** rng.integers(0, 62, 5_000)).astype(np.int64)
    assert read_varints(_varints(values)) == values.tolist()
    assert _varints(np.array([], dtype=np.int64)) == ""


def test_columns_show_what_the_json_rows_showed():
    # the values of the packed columns are those census.maps._clean gives (the JSON rows
    # the maps had before), exactly: k / 10**d is the double np.round(x, d) gives
    rng = np.random.default_rng(5)
    x = rng.normal(0, 1e4, 3_000) * rng.choice([1e-6, 1, 1e3], 3_000)
    x[::17] = np.nan
    x[::29] = np.inf
    for dec in (0, 1, 3):
        got = decode_column(json.loads(json.dumps(_packed_column(pd.Series(x), dec))), len(x))
        assert got == _clean(pd.Series(x), dec)
    flags = pd.Series([True, False, True])
    assert decode_column(_packed_column(flags, 0), 3) == [1, 0, 1]
    text = pd.Series(["slope; shading", "", None, "slope; shading", "<b>"] * 10, dtype=object)
    col = _packed_column(text, None)
    assert col["c"] == ["slope; shading", "<b>"]  # repeated texts: a table and codes
    assert decode_column(col, 50) == _clean(text, None)
    ids = pd.Series([f"S{k}" for k in range(40)])
    assert _packed_column(ids, None, categorical=False) == {"j": _clean(ids, None)}
    mixed = pd.Series([1.5, "n/a", None], dtype=object)  # not numeric: as JSON, as before
    assert decode_column(_packed_column(mixed, 1), 3) == _clean(mixed, 1) == [1.5, "n/a", None]
    huge = pd.Series([1e300, 2.0])
    assert decode_column(_packed_column(huge, 3), 2) == _clean(huge, 3)


def _geojson(geoms, tol):
    texts = _display_geoms(np.asarray(geoms, dtype=object), crs="EPSG:4549", tolerance_m=tol)
    return [None if t is None else json.loads(t) for t in texts]


def test_geometries_are_the_geojson_coordinates():
    # every kind of geometry, missing and empty ones, holes, a simplified circle and a
    # collection; decoded they equal the GeoJSON of census.maps._display_geoms exactly
    box = shapely.box(X0, Y0, X0 + 20, Y0 + 20)
    holed = shapely.box(X0, Y0, X0 + 100, Y0 + 100).difference(
        shapely.box(X0 + 40, Y0 + 40, X0 + 60, Y0 + 60)
    )
    circle = shapely.Point(X0 + 500, Y0).buffer(300.0, quad_segs=64)
    geoms = [
        box,
        None,
        shapely.Point(X0 + 1, Y0 + 2),
        shapely.LineString([(X0, Y0), (X0 + 50, Y0 + 7), (X0 + 90, Y0)]),
        holed,
        shapely.Polygon(),
        shapely.MultiPoint([(X0, Y0), (X0 + 3, Y0 + 4)]),
        shapely.MultiLineString([[(X0, Y0), (X0 + 5, Y0)], [(X0, Y0 + 9), (X0 + 5, Y0 + 9)]]),
        shapely.MultiPolygon([box, shapely.box(X0 + 30, Y0, X0 + 40, Y0 + 10)]),
        circle,
        shapely.GeometryCollection([shapely.Point(X0, Y0), box]),
    ]
    tol = np.array([1.0] * 9 + [3.0, 1.0])
    packed = json.loads(
        json.dumps(_packed_geoms(np.array(geoms, dtype=object), crs="EPSG:4549", tolerance_m=tol))
    )
    assert packed["kind"] == 0
    got = decode_geoms(packed, len(geoms))
    want = _geojson(geoms, tol)
    assert got == want
    assert len(got[9]["coordinates"][0]) < 60  # 257 vertices, simplified as before
    # one kind for all: no kind per site
    boxes = [shapely.box(X0 + 30 * i, Y0, X0 + 30 * i + 20, Y0 + 20) for i in range(50)]
    packed = _packed_geoms(np.array(boxes, dtype=object), crs="EPSG:4549", tolerance_m=1.0)
    assert packed["kind"] == 3 and "kinds" not in packed
    assert decode_geoms(packed, 50) == _geojson(boxes, 1.0)
    # 50 rooftops of 5 vertices: a few bytes each, against ~130 as GeoJSON text
    size = sum(len(v) for v in packed.values() if isinstance(v, str))
    assert size < 50 * 30


@pytest.mark.parametrize("crs", ["EPSG:4549", "EPSG:32651"])
def test_geometries_in_another_metric_crs(crs):
    pts = gpd.GeoSeries([shapely.box(X0, Y0, X0 + 50, Y0 + 30)], crs="EPSG:4549").to_crs(crs)
    packed = _packed_geoms(pts.values, crs=crs, tolerance_m=1.0)
    got = decode_geoms(packed, 1)
    texts = _display_geoms(pts.values, crs=crs, tolerance_m=1.0)
    assert got == [json.loads(texts[0])]
