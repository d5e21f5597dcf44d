"""``census validate`` lists every problem at once; ``census init`` writes a config that runs."""

from __future__ import annotations

import tomllib
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from typer.testing import CliRunner

from census.cli import app

# a point on the Fuyang hills and one on the Yuhang plain, in EPSG:4549 (CGCS2000 / 3-degree
# GK CM 120E); the layers are written in EPSG:3857, as a planner's web-map export would be
FUYANG = (495_500.0, 3_325_500.0)  # about 119.95 E, 30.05 N
YUHANG = (500_000.0, 3_364_000.0)  # about 120.00 E, 30.40 N


def _square(x, y, side):
    return shapely.box(x, y, x + side, y + side)


def _write_layers(folder: Path) -> dict[str, Path]:
    """Ponds (with water use in a column named 'usage'), mines, roads: EPSG:3857 files."""
    ponds = gpd.GeoDataFrame(
        {"pond_id": ["P1", "P2"], "usage": ["fishery", "fishery"]},
        geometry=[_square(*YUHANG, 200.0), _square(YUHANG[0] + 500, YUHANG[1], 150.0)],
        crs="EPSG:4549",
    ).to_crs("EPSG:3857")
    mines = gpd.GeoDataFrame(
        {"mine_id": ["M1"], "status": ["abandoned"]},
        geometry=[_square(*FUYANG, 300.0)],
        crs="EPSG:4549",
    ).to_crs("EPSG:3857")
    # a road through the eastern pond: cut with the pond's... (ponds have no road rule) and a
    # road past the mine, outside it
    roads = gpd.GeoDataFrame(
        {"name": ["G1"]},
        geometry=[
            shapely.LineString(
                [(FUYANG[0] - 2000, FUYANG[1] - 500), (FUYANG[0] + 2000, FUYANG[1] - 500)]
            )
        ],
        crs="EPSG:4549",
    ).to_crs("EPSG:3857")
    paths = {
        "ponds": folder / "ponds.gpkg",
        "mines": folder / "mines.gpkg",
        "roads": folder / "roads.gpkg",
    }
    ponds.to_file(paths["ponds"])
    mines.to_file(paths["mines"])
    roads.to_file(paths["roads"])
    return paths


def _write_dem(path: Path, *, centre=FUYANG, far: bool = False) -> Path:
    """A 6 km DEM in EPSG:3857 rising 0.1 m per m towards north (south-facing, 5.7 deg)."""
    import rasterio
    from pyproj import Transformer
    from rasterio.transform import from_origin

    x, y = Transformer.from_crs("EPSG:4549", "EPSG:3857", always_xy=True).transform(*centre)
    if far:
        x, y = x + 5e6, y + 5e6  # another continent
    res, n = 30.0, 200
    west, north = x - n * res / 2, y + n * res / 2
    rows = north - (np.arange(n) + 0.5) * res
    z = np.tile((200.0 + 0.1 * (rows - rows.min()))[:, None], (1, n)).astype("float32")
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=n,
        height=n,
        count=1,
        dtype="float32",
        crs="EPSG:3857",
        transform=from_origin(west, north, res, res),
        nodata=-9999.0,
    ) as dst:
        dst.write(z, 1)
    return path


def test_validate_lists_every_problem_in_one_run(tmp_path):
    paths = _write_layers(tmp_path)
    _write_dem(tmp_path / "far_dem.tif", far=True)
    cfg = tmp_path / "census.toml"
    cfg.write_text(
        f"""
[weather]
path = "no_such_weather.epw"
[layers.ponds]
path = "{paths["ponds"].name}"
category = "pond"
[layers.mines]
path = "{paths["mines"].name}"
category = "mine"
[layers.quarries]
path = "{paths["mines"].name}"
category = "quarry"
[exclusions.roads]
path = "{paths["roads"].name}"
[terrain]
dem = "far_dem.tif"
landcover = ""
[wind.resource]
atlas_dir = ""
""",
        encoding="utf-8",
    )
    res = CliRunner().invoke(app, ["validate", "--config", str(cfg)])
    assert res.exit_code == 2, res.output
    out = res.output
    # 1. a field a rule needs: ponds lack water_use (it is called 'usage' there)
    assert "rule 'water_use' of category 'pond' needs the field 'water_use'" in out
    # 2. exclusion layers the rules name but the config lacks, each with its rules
    for layer in ("protected_areas", "drinking_water", "scenic_areas", "navigation_channels"):
        assert f"name the exclusion layer '{layer}'" in out, layer
    # 3. a category without rules
    assert "category 'quarry' has no screening rules" in out
    # 4. a DEM with no data under the sites
    assert "far_dem.tif has no data under any of the 1 sites" in out
    # 5. an unreadable weather file
    assert "no_such_weather.epw" in out
    assert out.count("fix:") >= 8
    # the same config runs into the first of them
    run = CliRunner().invoke(app, ["run", "--config", str(cfg), "--out", str(tmp_path / "r")])
    assert run.exit_code == 2


def test_validate_demo_is_clean():
    res = CliRunner().invoke(app, ["validate"])
    assert res.exit_code == 0, res.output
    assert "configuration OK" in res.output


def test_init_then_one_edit_then_run(tmp_path):
    # a planner's own ponds, mines and roads in EPSG:3857 and their own DEM
    paths = _write_layers(tmp_path)
    dem = _write_dem(tmp_path / "dem.tif")
    cfg = tmp_path / "census.toml"
    runner = CliRunner()
    res = runner.invoke(
        app,
        ["init", *map(str, paths.values()), "--dem", str(dem), "--out", str(cfg)],
    )
    assert res.exit_code == 0, res.output
    text = cfg.read_text(encoding="utf-8")
    tree = tomllib.loads(text)
    assert tree["layers"]["ponds"]["category"] == "pond"
    assert tree["layers"]["mines"]["category"] == "mine"
    assert tree["layers"]["mines"]["fields"] == {"status": "status"}
    assert tree["exclusions"] == {"roads": {"path": "roads.gpkg"}}
    assert tree["terrain"] == {"dem": "dem.tif", "landcover": ""}
    # what the data cannot support is switched off, each with its reason
    assert "water_use" in tree["rules"]["categories"]["pond"]["disabled_rules"]
    assert "no 'protected_areas' layer given" in text
    assert "your layer has no field for 'water_use'" in text
    assert "exclusion layer 'roads' (given)" not in text  # ponds and mines have no road rule
    # init never overwrites
    again = runner.invoke(app, ["init", str(paths["ponds"]), "--out", str(cfg)])
    assert again.exit_code == 2 and "--overwrite" in again.output
    # the one edit: map the pond layer's 'usage' column to water_use and switch the rule on
    text = text.replace('    "water_use",', "")
    text = text.replace(
        'category = "pond"\n', 'category = "pond"\nfields = { water_use = "usage" }\n'
    )
    cfg.write_text(text, encoding="utf-8")
    val = runner.invoke(app, ["validate", "--config", str(cfg)])
    assert val.exit_code == 0, val.output
    run = runner.invoke(
        app,
        [
            "run",
            "--config",
            str(cfg),
            "-d",
            "Fuyang",
            "-d",
            "Yuhang",
            "--out",
            str(tmp_path / "run"),
        ],
    )
    assert run.exit_code == 0, run.output
    sites = gpd.read_file(tmp_path / "run" / "sites.gpkg", layer="sites")
    by_id = sites.set_index("site_id")
    # pond P1: 200 m x 200 m = 40,000 m2 (EPSG:4549, by hand; 3857 round trip < 1e-6)
    assert by_id.loc["ponds:P1", "area_m2"] == pytest.approx(40_000.0, rel=1e-6)
    assert bool(by_id.loc["ponds:P1", "eligible"])
    # mine M1 on the user's DEM: the plane rises 0.1 m per EPSG:3857 metre, and a 3857 metre
    # is cos(lat) ground metres, so the ground slope is atan(0.1 / cos(lat)) (by hand)
    from pyproj import Transformer

    _, lat = Transformer.from_crs("EPSG:4549", "EPSG:4326", always_xy=True).transform(*FUYANG)
    slope = np.degrees(np.arctan(0.1 / np.cos(np.radians(lat))))
    assert by_id.loc["mines:M1", "slope_deg"] == pytest.approx(slope, rel=1e-2)
    assert bool(by_id.loc["mines:M1", "eligible"])
