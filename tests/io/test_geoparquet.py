"""GeoParquet site tables: spec metadata, bbox covering, readers, streamed appends."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import shapely
from numpy.testing import assert_allclose

from census.exceptions import CensusError
from census.io.geoparquet import (
    GeoParquetAppender,
    geoparquet_metadata,
    write_geoparquet,
)

# Two rectangles and a point in EPSG:4549 (metres); their extents by hand:
# box A x 500000..500040, y 3340000..3340010; box B x 501000..501005, y 3341000..3341020;
# point C at (499990, 3339995).
A = shapely.box(500_000, 3_340_000, 500_040, 3_340_010)
B = shapely.box(501_000, 3_341_000, 501_005, 3_341_020)
C = shapely.Point(499_990, 3_339_995)


def _sites(geoms, **cols) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(cols, geometry=list(geoms), crs="EPSG:4549")


def test_metadata_is_geoparquet_1_1_with_bbox_covering(tmp_path):
    path = write_geoparquet(
        tmp_path / "s.parquet",
        _sites([A, B], site_id=["a", "b"], capacity_mw_dc=[0.1, 0.02]),
    )
    geo = geoparquet_metadata(path)
    # GeoParquet 1.1.0 spec (geoparquet.org/releases/v1.1.0): version, primary column,
    # WKB encoding, PROJJSON crs, optional bbox, covering.bbox pointing at struct fields
    assert geo["version"] == "1.1.0"
    col = geo["columns"][geo["primary_column"]]
    assert col["encoding"] == "WKB"
    assert col["geometry_types"] == ["Polygon"]
    assert col["crs"]["id"] == {"authority": "EPSG", "code": 4549}
    assert_allclose(col["bbox"], [500_000, 3_340_000, 501_005, 3_341_020], rtol=0, atol=1e-9)
    assert col["covering"]["bbox"] == {
        "xmin": ["bbox", "xmin"],
        "ymin": ["bbox", "ymin"],
        "xmax": ["bbox", "xmax"],
        "ymax": ["bbox", "ymax"],
    }
    # the covering column holds each row's own extent
    bbox = pq.read_table(path, columns=["bbox"]).column("bbox").to_pylist()
    assert bbox[1] == {
        "xmin": 501_000.0,
        "ymin": 3_341_000.0,
        "xmax": 501_005.0,
        "ymax": 3_341_020.0,
    }


def test_reprojected_to_metric_crs_and_read_back_by_geopandas(tmp_path):
    sites = _sites([A, B], site_id=["a", "b"]).to_crs("EPSG:4326")
    path = write_geoparquet(tmp_path / "s.parquet", sites)
    back = gpd.read_parquet(path)
    assert back.crs.to_epsg() == 4549
    # the round trip 4549 -> 4326 -> 4549 moves vertices by far less than a millimetre
    assert_allclose(back.geometry.area, [400.0, 100.0], rtol=1e-9)
    assert back.site_id.tolist() == ["a", "b"]


def test_no_crs_is_a_clear_error(tmp_path):
    with pytest.raises(CensusError, match="no CRS"):
        write_geoparquet(tmp_path / "s.parquet", gpd.GeoDataFrame(geometry=[A]))


def test_row_groups_and_duckdb_reads_bbox(tmp_path):
    duckdb = pytest.importorskip("duckdb")
    n = 10
    geoms = [
        shapely.box(500_000 + 100 * i, 3_340_000, 500_010 + 100 * i, 3_340_010) for i in range(n)
    ]
    path = write_geoparquet(
        tmp_path / "s.parquet",
        _sites(geoms, site_id=[f"s{i}" for i in range(n)], capacity_mw_dc=np.arange(n) / 10),
        row_group_rows=4,
    )
    assert pq.ParquetFile(path).metadata.num_row_groups == 3  # 4 + 4 + 2 rows
    con = duckdb.connect()
    # DuckDB reads the covering struct as plain columns: filter sites by extent
    rows = con.execute(
        "SELECT site_id, capacity_mw_dc FROM read_parquet(?) "
        "WHERE bbox.xmin >= 500500 AND bbox.xmax <= 500710 ORDER BY site_id",
        [str(path)],
    ).fetchall()
    assert [r[0] for r in rows] == ["s5", "s6", "s7"]
    assert_allclose([r[1] for r in rows], [0.5, 0.6, 0.7], rtol=1e-12)


def test_appender_equals_a_whole_write(tmp_path):
    part1 = _sites([A, B], site_id=["a", "b"], capacity_mw_dc=[1.0, 2.0])
    part2 = _sites([C], site_id=["c"])  # lacks capacity_mw_dc: written as null
    with GeoParquetAppender(tmp_path / "s.parquet", row_group_rows=2) as w:
        w.append(part1)
        w.append(_sites([], site_id=[]))  # an empty district adds nothing
        w.append(part2)
    assert w.rows == 3
    assert not (tmp_path / "s.parquet.part").exists()
    geo = geoparquet_metadata(tmp_path / "s.parquet")
    col = geo["columns"]["geometry"]
    assert col["geometry_types"] == ["Point", "Polygon"]
    # union of the three extents, by hand: x 499990..501005, y 3339995..3341020
    assert_allclose(col["bbox"], [499_990, 3_339_995, 501_005, 3_341_020], rtol=0, atol=1e-9)
    back = gpd.read_parquet(tmp_path / "s.parquet")
    assert back.site_id.tolist() == ["a", "b", "c"]
    assert back.capacity_mw_dc.iloc[:2].tolist() == [1.0, 2.0]
    assert pd.isna(back.capacity_mw_dc.iloc[2])
    assert back.geometry.iloc[2].equals(C)
    assert pq.ParquetFile(tmp_path / "s.parquet").metadata.num_row_groups == 2


def test_appender_rejects_new_columns_and_leaves_no_file(tmp_path):
    target = tmp_path / "s.parquet"
    with pytest.raises(CensusError, match="'extra'"):
        with GeoParquetAppender(target) as w:
            w.append(_sites([A], site_id=["a"]))
            w.append(_sites([B], site_id=["b"], extra=[1]))
    assert not target.exists()
    assert not (tmp_path / "s.parquet.part").exists()


def test_plain_parquet_is_not_geoparquet(tmp_path):
    pd.DataFrame({"a": [1]}).to_parquet(tmp_path / "p.parquet")
    with pytest.raises(CensusError, match="not GeoParquet"):
        geoparquet_metadata(tmp_path / "p.parquet")


def test_geo_metadata_is_valid_json_for_gdal(tmp_path):
    # GDAL's Parquet driver (what QGIS uses) needs "geo" with version, primary_column and
    # a WKB column whose crs is PROJJSON; checked here field by field because the GDAL
    # in this environment is built without the Parquet driver.
    path = write_geoparquet(tmp_path / "s.parquet", _sites([A], site_id=["a"]))
    raw = pq.read_schema(path).metadata[b"geo"]
    geo = json.loads(raw)
    assert set(geo) >= {"version", "primary_column", "columns"}
    crs = geo["columns"]["geometry"]["crs"]
    assert crs["type"] == "ProjectedCRS" and "CGCS2000" in crs["name"]
