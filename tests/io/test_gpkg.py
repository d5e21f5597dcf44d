"""census.io.gpkg: a layer streamed in slices reads back as pyogrio's one-shot write."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from census.io.gpkg import layer_geometry_type, write_gpkg_layer, write_gpkg_stream


def _frame(n: int) -> gpd.GeoDataFrame:
    x = np.arange(n, dtype=float) * 20.0
    geoms = list(shapely.box(x, 0.0, x + 10.0, 5.0))  # 10 m x 5 m = 50 m2 each
    # every 7th row a two-part MultiPolygon: 50 m2 + 1 m2
    for i in range(0, n, 7):
        geoms[i] = shapely.MultiPolygon([geoms[i], shapely.box(x[i], 6.0, x[i] + 1.0, 7.0)])
    return gpd.GeoDataFrame(
        {
            "site_id": [f"s{i}" for i in range(n)],
            "capacity_mw": np.arange(n) * 0.5,
            "n": pd.array(np.arange(n), dtype="Int64"),
            # None in the first slice only: Arrow types it null there, text later
            "note": [None if i < 3 else "x" for i in range(n)],
        },
        geometry=geoms,
        crs="EPSG:4549",
    )


def test_layer_geometry_type_follows_pyogrio() -> None:
    assert layer_geometry_type(["Polygon"]) == "Polygon"
    assert layer_geometry_type(["Polygon", "MultiPolygon", None]) == "MultiPolygon"
    assert layer_geometry_type(["Point", "Polygon"]) == "Unknown"
    assert layer_geometry_type([]) == "Unknown"


def test_sliced_stream_reads_back_whole(tmp_path) -> None:
    gdf = _frame(23)
    path = tmp_path / "t.gpkg"
    write_gpkg_layer(path, "sites", gdf, slice_rows=3)  # 8 slices, the last of 2 rows
    write_gpkg_layer(path, "more", gdf.iloc[:2][["site_id", "geometry"]])  # a second layer
    assert sorted(pyogrio.list_layers(path)[:, 0]) == ["more", "sites"]
    info = pyogrio.read_info(path, layer="sites")
    assert info["features"] == 23
    assert info["geometry_type"] == "MultiPolygon"  # singles promoted, as pyogrio does
    assert info["crs"] == "EPSG:4549"
    back = pyogrio.read_dataframe(path, layer="sites")
    assert back["site_id"].tolist() == gdf["site_id"].tolist()
    np.testing.assert_allclose(back["capacity_mw"], np.arange(23) * 0.5, rtol=0, atol=0)
    assert back["note"].isna().sum() == 3 and (back["note"].iloc[3:] == "x").all()
    # areas by hand: 50 m2, and 51 m2 on every 7th row (rows 0, 7, 14, 21)
    expected = np.where(np.arange(23) % 7 == 0, 51.0, 50.0)
    np.testing.assert_allclose(back.geometry.area, expected, rtol=0, atol=1e-9)
    # the R-tree GDAL builds at the end of the stream answers a box query
    hits = pyogrio.read_dataframe(path, layer="sites", bbox=(95.0, 0.0, 125.0, 5.0))
    assert sorted(hits["site_id"]) == ["s5", "s6"]  # boxes [100, 110] and [120, 130]


def test_empty_layer_is_written(tmp_path) -> None:
    empty = gpd.GeoDataFrame({"site_id": pd.Series([], dtype=object)}, geometry=[], crs=4549)
    path = tmp_path / "e.gpkg"
    write_gpkg_layer(path, "sites", empty)
    assert pyogrio.read_info(path, layer="sites")["features"] == 0


@pytest.mark.parametrize("n", [1, 100])
def test_matches_write_dataframe(tmp_path, n) -> None:
    gdf = _frame(n)
    a, b = tmp_path / "a.gpkg", tmp_path / "b.gpkg"
    write_gpkg_layer(a, "sites", gdf, slice_rows=30)
    pyogrio.write_dataframe(gdf, b, layer="sites", driver="GPKG", use_arrow=True)
    ra, rb = pyogrio.read_dataframe(a), pyogrio.read_dataframe(b)
    assert pyogrio.read_info(a)["geometry_type"] == pyogrio.read_info(b)["geometry_type"]
    pd.testing.assert_frame_equal(
        pd.DataFrame(ra.drop(columns="geometry")), pd.DataFrame(rb.drop(columns="geometry"))
    )
    assert shapely.equals(ra.geometry.to_numpy(), rb.geometry.to_numpy()).all()


def test_copy_from_geoparquet_equals_direct_write(tmp_path) -> None:
    from census.io.geoparquet import write_geoparquet
    from census.io.gpkg import main, write_gpkg_from_parquet

    gdf = _frame(40)
    pq = write_geoparquet(tmp_path / "s.parquet", gdf, row_group_rows=16)
    assert write_gpkg_from_parquet(pq, tmp_path / "a.gpkg", "sites", batch_rows=7) == 40
    write_gpkg_layer(tmp_path / "b.gpkg", "sites", gdf)
    ra, rb = (
        pyogrio.read_dataframe(tmp_path / "a.gpkg"),
        pyogrio.read_dataframe(tmp_path / "b.gpkg"),
    )
    assert "bbox" not in ra.columns  # the GeoParquet covering column stays out
    assert pyogrio.read_info(tmp_path / "a.gpkg")["geometry_type"] == "MultiPolygon"
    assert pyogrio.read_info(tmp_path / "a.gpkg")["crs"] == "EPSG:4549"
    pd.testing.assert_frame_equal(
        pd.DataFrame(ra.drop(columns="geometry")), pd.DataFrame(rb.drop(columns="geometry"))
    )
    assert shapely.equals(ra.geometry.to_numpy(), rb.geometry.to_numpy()).all()
    # the command the outputs stage runs in its own process; a missing file is exit 1
    assert main([str(pq), str(tmp_path / "c.gpkg"), "sites"]) == 0
    assert pyogrio.read_info(tmp_path / "c.gpkg")["features"] == 40
    assert main([str(tmp_path / "missing.parquet"), str(tmp_path / "d.gpkg"), "sites"]) == 1


@pytest.mark.parametrize("error", [KeyboardInterrupt, ValueError])
def test_what_a_part_raises_comes_out(tmp_path, error) -> None:
    # GDAL pulls the parts through the Arrow C stream, and pyogrio reports whatever the
    # Python side raised as "Error while accessing batch from stream" (CI, 2026-12-07: a
    # Ctrl-C during the districts layer came out as that RuntimeError, not as exit 130)
    gdf = _frame(6)

    def parts():
        yield gdf.iloc[:3]
        raise error("stopped in the second part")

    with pytest.raises(error, match="stopped in the second part"):
        write_gpkg_stream(
            tmp_path / "t.gpkg", "sites", parts(), layer_type="MultiPolygon", crs=gdf.crs
        )


def test_ctrl_c_caught_by_pyarrow_comes_out_as_keyboardinterrupt(tmp_path, monkeypatch) -> None:
    # A Ctrl-C handled outside census's generator (pyarrow's reader checks signals as it
    # pulls batches) ends in pyogrio's RuntimeError with nothing of ours raised; seen when
    # `census batch` was stopped during a merge (2026-12-07). Here the signal is raised in
    # a generator wrapped around ours, as pyarrow's side.
    import signal
    import sys
    import threading

    import pyarrow as pa

    import census.io.gpkg as gpkg

    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signal handlers can only be set in the main thread")
    real = pa.RecordBatchReader.from_batches

    def from_batches(schema, batches):
        def outside():
            for i, batch in enumerate(batches):
                if i == 1:
                    signal.raise_signal(signal.SIGINT)
                yield batch

        return real(schema, outside())

    class PyArrow:  # pyarrow as census.io.gpkg sees it, with that reader (its type is immutable)
        RecordBatchReader = type(
            "RecordBatchReader", (), {"from_batches": staticmethod(from_batches)}
        )

        def __getattr__(self, name):
            return getattr(pa, name)

    monkeypatch.setattr(gpkg, "pa", PyArrow())
    gdf = _frame(6)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # xdist ignores it
    try:
        with pytest.raises(KeyboardInterrupt):
            write_gpkg_layer(tmp_path / "t.gpkg", "sites", gdf, slice_rows=3)
        # what the handler raises comes out, not always KeyboardInterrupt (a service's
        # handler may call sys.exit)
        signal.signal(signal.SIGINT, lambda num, frame: sys.exit(3))
        with pytest.raises(SystemExit) as exited:
            write_gpkg_layer(tmp_path / "u.gpkg", "sites", gdf, slice_rows=3)
        assert exited.value.code == 3
    finally:
        signal.signal(signal.SIGINT, previous)
    assert signal.getsignal(signal.SIGINT) is previous  # the noting handler is gone


def test_geopackage_writer_process_dies_with_its_parent(tmp_path) -> None:
    # A batch worker killed mid-district left its `python -m census.io.gpkg` child
    # writing into a folder being removed (review, 2026-12-07). The child here waits
    # forever on a FIFO given as its GeoParquet file; its parent is then killed.
    import os
    import subprocess
    import sys

    from census.children import die_with_parent

    from ..procs import kill_parent_expect_child_gone

    if not die_with_parent():
        pytest.skip("no setpriv --pdeathsig on this machine")
    fifo = tmp_path / "sites.parquet"
    os.mkfifo(fifo)
    pid_file = tmp_path / "child.pid"
    code = (
        "import sys, time; from pathlib import Path\n"
        "from census.io.gpkg import ParquetCopyProcess\n"
        "p = ParquetCopyProcess(sys.argv[1], sys.argv[2], 'sites')\n"
        "Path(sys.argv[3]).write_text(str(p._proc.pid))\n"
        "time.sleep(120)\n"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", code, str(fifo), str(tmp_path / "s.gpkg"), str(pid_file)]
    )
    kill_parent_expect_child_gone(parent, pid_file, "GeoPackage writer")
