"""Overture Maps buildings -> rooftop layer -> census run, on a fixture in Overture's schema.

The fixture is written the way `overturemaps download -f geoparquet --type=building`
writes its files: WKB ``geometry`` in WGS84 with GeoParquet ``geo`` metadata, a
``bbox`` struct, ``names`` and nested ``sources`` structs, and Overture's field names
and value lists (schema reference, buildings/building, v1.18.0).
"""

from __future__ import annotations

import json
import math
import tomllib
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pyogrio
import pytest
import shapely
from numpy.testing import assert_allclose
from typer.testing import CliRunner

from census.cli import app
from census.exceptions import InputError
from census.io.overture import read_overture_buildings
from census.prepare import prepare_data

# a point in Xihu district, in EPSG:4549 [m] (120.10 E, 30.28 N)
X0, Y0 = 509_600.0, 3_351_150.0


def _rect(cx, cy, length_m, width_m, angle_deg=0.0):
    box = shapely.box(-length_m / 2, -width_m / 2, length_m / 2, width_m / 2)
    rot = shapely.affinity.rotate(box, angle_deg, origin=(0, 0))
    return shapely.affinity.translate(rot, cx, cy)


# id, footprint (EPSG:4549), attributes in Overture's schema
BUILDINGS = [
    (
        "08b31a0000000001",
        _rect(X0, Y0, 20, 10, angle_deg=30),  # 200 m2, 10 m wide, turned 30 deg
        dict(
            subtype="residential",
            cls="apartments",
            height=18.0,
            num_floors=6,
            roof_shape="gabled",
            roof_height=2.5,
            name="甲楼",
            datasets=["OpenStreetMap", "Microsoft ML Buildings"],
        ),
    ),
    (
        "08b31a0000000002",
        _rect(X0 + 100, Y0, 40, 30),  # 1200 m2, 30 m wide
        dict(
            subtype="industrial",
            cls="warehouse",
            num_floors=2,
            roof_shape="skillion",
            roof_height=3.0,
            datasets=["OpenStreetMap"],
        ),
    ),
    ("08b31a0000000003", _rect(X0 + 200, Y0, 15, 15), dict(subtype="commercial")),
    ("08b31a0000000004", _rect(X0, Y0 + 100, 20, 20), dict(subtype="religious", roof_shape="dome")),
    (
        "08b31a0000000005",
        _rect(X0 + 100, Y0 + 100, 24, 12),
        dict(cls="house", roof_shape="gabled", height=9.0),
    ),
    ("08b31a0000000006", _rect(X0 + 200, Y0 + 100, 30, 30), dict(is_underground=True)),
    # in Shanghai (121.47 E, 31.23 N): outside Hangzhou, clipped away
    ("08b31a0000000007", None, dict(lonlat=(121.47, 31.23), subtype="residential")),
]


def _sources_type():
    return pa.list_(
        pa.struct(
            [
                ("property", pa.string()),
                ("dataset", pa.string()),
                ("record_id", pa.string()),
                ("update_time", pa.string()),
                ("confidence", pa.float64()),
                ("between", pa.list_(pa.float64())),
            ]
        )
    )


def write_overture_fixture(path: Path, buildings=BUILDINGS, *, feature_type="building") -> Path:
    geoms_4549 = []
    for _, geom, attrs in buildings:
        if geom is None:
            lon, lat = attrs["lonlat"]
            pt = gpd.GeoSeries([shapely.Point(lon, lat)], crs="EPSG:4326").to_crs("EPSG:4549")
            geom = shapely.buffer(pt.iloc[0], 10, quad_segs=2)
        geoms_4549.append(geom)
    wgs = gpd.GeoSeries(geoms_4549, crs="EPSG:4549").to_crs("EPSG:4326")
    bounds = wgs.bounds
    rows = [attrs for _, _, attrs in buildings]
    names_type = pa.struct(
        [
            ("primary", pa.string()),
            ("common", pa.map_(pa.string(), pa.string())),
            (
                "rules",
                pa.list_(pa.struct([("variant", pa.string()), ("value", pa.string())])),
            ),
        ]
    )
    table = pa.table(
        {
            "id": pa.array([b[0] for b in buildings], pa.string()),
            "geometry": pa.array(shapely.to_wkb(wgs.values), pa.binary()),
            "bbox": pa.array(
                [
                    {"xmin": r.minx, "xmax": r.maxx, "ymin": r.miny, "ymax": r.maxy}
                    for r in bounds.itertuples()
                ],
                pa.struct(
                    [
                        ("xmin", pa.float32()),
                        ("xmax", pa.float32()),
                        ("ymin", pa.float32()),
                        ("ymax", pa.float32()),
                    ]
                ),
            ),
            "theme": pa.array(["buildings"] * len(rows)),
            "type": pa.array([feature_type] * len(rows)),
            "version": pa.array([0] * len(rows), pa.int32()),
            "sources": pa.array(
                [
                    [
                        {
                            "property": "",
                            "dataset": d,
                            "record_id": f"w{i}",
                            "update_time": "2024-01-01T00:00:00Z",
                            "confidence": None,
                            "between": None,
                        }
                        for d in r.get("datasets", ["Esri Community Maps"])
                    ]
                    for i, r in enumerate(rows)
                ],
                _sources_type(),
            ),
            "level": pa.array([None] * len(rows), pa.int32()),
            "subtype": pa.array([r.get("subtype") for r in rows], pa.string()),
            "class": pa.array([r.get("cls") for r in rows], pa.string()),
            "height": pa.array([r.get("height") for r in rows], pa.float64()),
            "names": pa.array(
                [
                    {"primary": r["name"], "common": None, "rules": None} if "name" in r else None
                    for r in rows
                ],
                names_type,
            ),
            "has_parts": pa.array([False] * len(rows)),
            "is_underground": pa.array([r.get("is_underground", False) for r in rows]),
            "num_floors": pa.array([r.get("num_floors") for r in rows], pa.int32()),
            "num_floors_underground": pa.array([None] * len(rows), pa.int32()),
            "min_height": pa.array([None] * len(rows), pa.float64()),
            "min_floor": pa.array([None] * len(rows), pa.int32()),
            "facade_color": pa.array([None] * len(rows), pa.string()),
            "facade_material": pa.array([None] * len(rows), pa.string()),
            "roof_material": pa.array([None] * len(rows), pa.string()),
            "roof_shape": pa.array([r.get("roof_shape") for r in rows], pa.string()),
            "roof_direction": pa.array([None] * len(rows), pa.float64()),
            "roof_orientation": pa.array([None] * len(rows), pa.string()),
            "roof_color": pa.array([None] * len(rows), pa.string()),
            "roof_height": pa.array([r.get("roof_height") for r in rows], pa.float64()),
        }
    )
    geo = {
        "version": "1.1.0",
        "primary_column": "geometry",
        "columns": {
            "geometry": {
                "encoding": "WKB",
                "geometry_types": ["Polygon", "MultiPolygon"],
                "covering": {
                    "bbox": {
                        "xmin": ["bbox", "xmin"],
                        "ymin": ["bbox", "ymin"],
                        "xmax": ["bbox", "xmax"],
                        "ymax": ["bbox", "ymax"],
                    }
                },
            }
        },
    }
    table = table.replace_schema_metadata({b"geo": json.dumps(geo).encode()})
    pq.write_table(table, path)
    return path


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("overture")
    src = write_overture_fixture(tmp / "hangzhou_buildings.parquet")
    with pytest.warns(UserWarning):
        result = prepare_data(osm=None, overture_buildings=src, out=tmp / "prepared")
    return result


def _roofs(result):
    gdf = pyogrio.read_dataframe(result.layers["rooftops"], layer="rooftops")
    return gdf.set_index("building_id")


def test_reader_keeps_overture_fields(tmp_path):
    src = write_overture_fixture(tmp_path / "b.parquet")
    gdf = read_overture_buildings(src)
    assert gdf.crs.to_epsg() == 4326 or gdf.crs.to_string() == "OGC:CRS84"
    assert len(gdf) == len(BUILDINGS)
    first = gdf.iloc[0]
    assert first["name"] == "甲楼"
    assert first["source_datasets"] == "OpenStreetMap; Microsoft ML Buildings"
    # the bbox prefilter drops the Shanghai building before its geometry is decoded
    hz = read_overture_buildings(src, bbox_4326=(118.33, 29.19, 120.72, 30.57))
    assert "08b31a0000000007" not in set(hz["id"]) and len(hz) == len(BUILDINGS) - 1


def test_rooftop_layer_mapped_fields(prepared):
    roofs = _roofs(prepared)
    # underground (6) dropped, Shanghai (7) outside the study area
    assert sorted(roofs.index) == [f"08b31a000000000{i}" for i in range(1, 6)]
    assert roofs.crs.to_epsg() == 4549
    # areas survive the WGS84 round trip of the fixture (exact rectangles in EPSG:4549)
    assert_allclose(
        roofs.geometry.area.loc[["08b31a0000000001", "08b31a0000000002"]],
        [200.0, 1200.0],
        rtol=1e-6,
    )
    a, b, c, d, e = (roofs.loc[f"08b31a000000000{i}"] for i in range(1, 6))
    # gabled, 10 m wide, ridge 2.5 m above the eaves: rises over 5 m -> atan(2.5 / 5)
    assert a.roof_type == "pitched"
    assert_allclose(a.roof_pitch_deg, math.degrees(math.atan(2.5 / 5.0)), rtol=1e-6)
    assert (a.use, a.floors, a.height_m, a["name"]) == ("residential", 6, 18.0, "甲楼")
    # skillion, 30 m wide, 3 m rise over the whole width -> atan(3 / 30)
    assert_allclose(b.roof_pitch_deg, math.degrees(math.atan(3.0 / 30.0)), rtol=1e-6)
    # class (warehouse) wins over subtype (industrial); height from 2 floors x 3.0 m
    assert b.use == "logistics"
    assert_allclose(b.height_m, 2 * 3.0, rtol=1e-12)
    # no roof_shape: flat, the rule default; use from subtype
    assert (c.roof_type, c.roof_pitch_deg, c.use) == ("flat", 0.0, "commercial")
    assert (d.roof_type, d.use, d.roof_shape) == ("other", "public", "dome")
    # gabled without roof_height: osm_tags.yaml's pitched_roof_pitch_deg (25 deg)
    assert (e.roof_type, e.roof_pitch_deg, e.use) == ("pitched", 25.0, "residential")
    assert pd.isna(e.floors)


def test_config_and_sources(prepared):
    cfg = tomllib.loads(prepared.config.read_text(encoding="utf-8"))
    roofs = cfg["layers"]["rooftops"]
    assert roofs == {
        "path": "sites.gpkg",
        "layer": "rooftops",
        "crs": "EPSG:4549",
        "category": "rooftop",
        "id_field": "building_id",
        "synthetic": False,
        # Overture gives no building use: no park_rooftop typing (an empty category_field)
        "category_field": "",
    }
    sources = json.loads(prepared.sources.read_text(encoding="utf-8"))
    kinds = [s["kind"] for s in sources["sources"]]
    assert "overture_buildings" in kinds
    entry = sources["sources"][kinds.index("overture_buildings")]
    assert "Overture Maps Foundation" in entry["attribution"] and len(entry["sha256"]) == 64
    assert sources["overture_buildings"]["underground_dropped"] == 1
    assert sources["overture_buildings"]["pitch_from_roof_height"] == 2
    assert prepared.counts["rooftops"] == 5


def test_overture_extract_becomes_a_census_run(prepared):
    from census.pipeline import run_census

    run = run_census(prepared.config, ["Xihu"], write=False)
    roofs = run.sites[run.sites["category"] == "rooftop"].set_index("site_id")
    assert len(roofs) == 5
    assert roofs.index.str.startswith("rooftops:08b31a").all()
    # the 1200 m2 flat-ish warehouse roof is eligible and carries PV capacity
    warehouse = roofs.loc["rooftops:08b31a0000000002"]
    assert warehouse["eligible"] and warehouse["capacity_mw_dc"] > 0
    assert run.sites["capacity_mw_dc"].sum() > 0


def test_cli_prepare_with_overture(tmp_path):
    src = write_overture_fixture(tmp_path / "b.parquet")
    res = CliRunner().invoke(
        app, ["data", "prepare", "--overture-buildings", str(src), "--out", str(tmp_path / "o")]
    )
    assert res.exit_code == 0, res.output
    assert "rooftops: 5 features" in res.stdout


def test_not_parquet_is_a_clear_error(tmp_path):
    bad = tmp_path / "b.parquet"
    bad.write_text("not parquet")
    with pytest.raises(InputError, match="not a \\(Geo\\)Parquet file.*overturemaps download"):
        read_overture_buildings(bad)


def test_building_parts_are_refused(tmp_path):
    src = write_overture_fixture(tmp_path / "p.parquet", feature_type="building_part")
    with pytest.raises(InputError, match="building_part.*--type=building"):
        read_overture_buildings(src)


def test_missing_id_column(tmp_path):
    path = tmp_path / "x.parquet"
    pq.write_table(pa.table({"geometry": pa.array([b"\x00"], pa.binary())}), path)
    with pytest.raises(InputError, match=r"no column\(s\) \['id'\]"):
        read_overture_buildings(path)
