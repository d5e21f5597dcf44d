"""A large run's maps drawn by a child process (census.maps_process) are the inline maps."""

from __future__ import annotations

import json
import re

import geopandas as gpd
import pytest
import shapely
from typer.testing import CliRunner

from census.cli import app
from census.exceptions import OutputWriteError
from census.io.boundaries import read_districts, select_districts
from census.maps_process import MapsProcess
from tests.conftest import BOUNDARIES


@pytest.fixture(scope="module")
def three_roofs(tmp_path_factory):
    """Three roofs in Binjiang; at most one site per map, so the city map is an index."""
    folder = tmp_path_factory.mktemp("roofs")
    binjiang = select_districts(read_districts(BOUNDARIES, crs="GCJ-02"), ["Binjiang"]).iloc[0]
    p = binjiang.geometry.representative_point()
    roofs = gpd.GeoDataFrame(
        {"roof_id": ["r1", "r2", "=r3"], "name": ["甲 <b>", None, "c"]},
        geometry=[
            shapely.box(p.x, p.y, p.x + 30, p.y + 20),
            shapely.box(p.x + 100, p.y, p.x + 140, p.y + 25),
            shapely.box(p.x + 300, p.y + 50, p.x + 320, p.y + 90),
        ],
        crs="EPSG:4549",
    )
    roofs.to_file(folder / "roofs.gpkg", layer="roofs")
    config = folder / "roofs.toml"
    config.write_text(
        "allow_synthetic_mix = true\n"
        '[layers.roofs]\npath = "roofs.gpkg"\ncategory = "rooftop"\nid_field = "roof_id"\n'
        '[layers.roofs.fields]\nname = "name"\n'
        "[outputs]\nmap = true\nmap_max_sites = 1\n",
        encoding="utf-8",
    )
    return config


def _run(*args):
    return CliRunner().invoke(app, ["run", *map(str, args)])


def _page(path):  # folium names its elements with random hex ids
    return re.sub(r"_[0-9a-f]{32}", "_ID", path.read_text(encoding="utf-8"))


def test_maps_from_the_child_equal_the_inline_maps(three_roofs, tmp_path, monkeypatch):
    import census.stages.outputs as outputs

    res = _run("--config", three_roofs, "-d", "Binjiang", "--out", tmp_path / "inline")
    assert res.exit_code == 0, res.output
    monkeypatch.setattr(outputs, "BACKGROUND_MAPS_MIN_SITES", 0)  # the path of a 1e6 run
    drawn = []
    real_wait = MapsProcess.wait

    def spy(self):
        drawn.append(real_wait(self))
        return drawn[-1]

    monkeypatch.setattr(MapsProcess, "wait", spy)
    res = _run("--config", three_roofs, "-d", "Binjiang", "--out", tmp_path / "child")
    assert res.exit_code == 0, res.output
    assert len(drawn) == 1 and len(drawn[0]) == 5  # the child drew all five maps
    inline, child = tmp_path / "inline", tmp_path / "child"

    def pages(folder):
        return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.html"))

    # one site per map: an index city map, and Binjiang's map an index of its 3 parts
    want = [
        "map.html",
        "maps/330108_Binjiang-1.html",
        "maps/330108_Binjiang-2.html",
        "maps/330108_Binjiang-3.html",
        "maps/330108_Binjiang.html",
        "report.html",
    ]
    assert pages(inline) == pages(child) == want
    for name in want:
        if name != "report.html":
            assert _page(child / name) == _page(inline / name), name
    # the maps are outputs of the run, and the child's job files are gone
    prov = json.loads((child / "provenance.json").read_text(encoding="utf-8"))
    assert set(want) - {"report.html"} <= set(prov["outputs"])
    assert not [p.name for p in child.rglob(".*")]
    marker = json.loads((child / "census-folder.json").read_text(encoding="utf-8"))
    assert "maps/330108_Binjiang-3.html" in marker["files"]
    assert not [f for f in marker["files"] if "maps-job" in f or "maps-result" in f]


def test_failing_map_process_is_a_clear_error_and_leaves_nothing(
    three_roofs, tmp_path, monkeypatch
):
    import census.stages.outputs as outputs

    monkeypatch.setattr(outputs, "BACKGROUND_MAPS_MIN_SITES", 0)
    real_init = MapsProcess.__init__

    def broken(self, folder, parquet, columns, kwargs):  # the child finds no parquet file
        real_init(self, folder, tmp_path / "gone.parquet", columns, kwargs)

    monkeypatch.setattr(MapsProcess, "__init__", broken)
    out = tmp_path / "runs" / "r1"
    res = _run("--config", three_roofs, "-d", "Binjiang", "--out", out)
    assert res.exit_code == 2, res.output
    assert "census: error: Could not write the maps in " in res.stderr
    assert "gone.parquet" in res.stderr  # the child's reason
    assert "Traceback" not in res.output
    assert list((tmp_path / "runs").iterdir()) == []


def test_wait_and_cancel_remove_the_job_files(tmp_path):
    proc = MapsProcess(tmp_path, tmp_path / "none.parquet", ["geometry"], {"districts": None})
    with pytest.raises(OutputWriteError, match="Could not write the maps in"):
        proc.wait()
    assert list(tmp_path.iterdir()) == []
    proc = MapsProcess(tmp_path, tmp_path / "none.parquet", ["geometry"], {"districts": None})
    proc.cancel()
    proc.cancel()  # twice is fine
    assert list(tmp_path.iterdir()) == []
