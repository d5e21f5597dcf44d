"""`census data prepare`: OSM, DEM, WorldCover and wind-atlas sources -> census inputs.

Every input is made here in tmp_path: a PBF written with pyosmium (test-only
dependency), GeoTIFFs written with rasterio, study-area polygons with geopandas.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import rasterio
import shapely
from numpy.testing import assert_allclose
from pyproj import Geod, Transformer
from rasterio.transform import from_origin

from census.config import load_config
from census.exceptions import InputError, MissingCRSError, OutputExistsError
from census.prepare import clip_to_area, derive_fields, load_osm_tags, prepare_data

from .conftest import BOUNDARIES
from .io.test_osm import PBF

pytest.importorskip("osmium", reason="pyosmium writes the PBF fixtures: pip install osmium")

LON, LAT = 120.2, 30.2  # Binjiang, Hangzhou
STUDY_BOX = (120.17, 30.17, 120.25, 30.25)  # lon/lat box over Binjiang, Shangcheng, Xiaoshan

pytestmark = pytest.mark.skipif(not BOUNDARIES.exists(), reason="district boundaries missing")


# ---------------------------------------------------------------- fixtures


def city_pbf(path: Path) -> Path:
    b = PBF()
    d = 0.001  # about 96 m east-west, 111 m north-south here
    b.box(LON, LAT, d, d, {"building": "yes", "roof:shape": "flat", "height": "12 m"})  # w1
    b.box(
        LON + 0.002,
        LAT,
        d,
        d,
        {"building": "house", "roof:shape": "gabled", "building:levels": "3"},
    )  # w2
    b.box(
        LON + 0.004, LAT, d, d, {"building": "yes", "roof:shape": "hipped", "roof:angle": "30"}
    )  # w3
    b.box(LON + 0.006, LAT, d, d, {"building": "no"})  # w4: not a building
    b.box(LON, LAT + 0.005, 0.002, 0.002, {"natural": "water", "water": "pond"})  # w5
    b.box(LON + 0.003, LAT + 0.005, 0.002, 0.002, {"landuse": "aquaculture"})  # w6
    b.box(LON + 0.006, LAT + 0.005, 0.002, 0.002, {"natural": "water", "water": "reservoir"})  # w7
    b.box(LON, LAT + 0.01, 0.002, 0.002, {"landuse": "quarry"})  # w8: active
    b.box(LON + 0.003, LAT + 0.01, 0.002, 0.002, {"disused:landuse": "quarry"})  # w9: abandoned
    b.box(
        LON + 0.006, LAT + 0.01, 0.002, 0.002, {"landuse": "landfill", "end_date": "2015-06"}
    )  # w10
    b.box(LON, LAT + 0.015, 0.004, 0.004, {"landuse": "forest"})  # w11
    b.box(LON + 0.005, LAT + 0.015, 0.002, 0.002, {"natural": "wood"})  # w12
    b.box(
        LON - 0.02, LAT - 0.02, 0.006, 0.006, {"natural": "wetland", "wetland": "tidalflat"}
    )  # w13
    b.box(LON - 0.012, LAT - 0.02, 0.003, 0.003, {"wetland": "tidalflat"})  # w14: no natural=*
    b.box(LON - 0.008, LAT - 0.02, 0.003, 0.003, {"natural": "mud"})  # w15
    b.box(
        LON + 0.03, LAT + 0.03, 0.004, 0.004, {"aeroway": "aerodrome", "name": "Test airfield"}
    )  # w16
    outer = b.box(LON - 0.02, LAT + 0.02, 0.005, 0.005, {})  # w17, untagged outer way
    b.multipolygon(outer, {"boundary": "protected_area", "name": "Reserve"}, rel_id=1)
    b.way(
        [(LON - 0.02, LAT + 0.01), (LON + 0.02, LAT + 0.01)], {"highway": "primary"}, closed=False
    )  # w18
    b.way(
        [(LON - 0.02, LAT + 0.012), (LON + 0.02, LAT + 0.012)],
        {"highway": "residential"},
        closed=False,
    )  # w19
    b.box(121.5, 29.0, d, d, {"building": "yes"})  # w20: far outside the study area
    return b.write(path)


def write_tif(path: Path, data: np.ndarray, *, transform, crs="EPSG:4326", nodata=None) -> Path:
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=data.shape[1],
        height=data.shape[0],
        count=1,
        dtype=data.dtype,
        crs=crs,
        transform=transform,
        nodata=nodata,
    ) as dst:
        dst.write(data, 1)
    return path


def dem_plane(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Elevation [m] of the fixture DEM: a plane rising 1 m per 0.001 deg east."""
    return 10.0 + 1000.0 * (lon - 120.1) + 0.0 * lat


def dem_tiles(folder: Path) -> list[Path]:
    res = 0.001
    paths = []
    for i, west in enumerate((120.1, 120.2)):  # two tiles side by side: mosaicked
        cols = np.arange(100) * res + west + res / 2
        lon = np.broadcast_to(cols, (200, 100))
        data = dem_plane(lon, 0).astype("float32")
        paths.append(
            write_tif(
                folder / f"dem_{i}.tif",
                data,
                transform=from_origin(west, 30.3, res, res),
                nodata=-9999.0,
            )
        )
    return paths


def landcover_tile(folder: Path) -> Path:
    res = 0.0005
    data = np.full((400, 400), 80, dtype="uint8")  # permanent water
    data[:, :200] = 10  # tree cover west of 120.2 E
    return write_tif(
        folder / "ESA_WorldCover_10m_2021_v200_N30E120_Map.tif",
        data,
        transform=from_origin(120.1, 30.3, res, res),
        nodata=0,
    )


def atlas_folder(folder: Path) -> Path:
    folder.mkdir()
    res = 0.0025
    rows, cols = np.mgrid[0:200, 0:200]
    for name, base in (
        ("CHN_wind-speed_100m.tif", 5.0),
        ("CHN_combined-Weibull-A_100m.tif", 6.0),
        ("CHN_combined-Weibull-k_100m.tif", 2.0),
    ):
        data = (base + 0.001 * rows + 0.0001 * cols).astype("float32")
        write_tif(folder / name, data, transform=from_origin(120.0, 30.5, res, res))
    return folder


def study_area_file(path: Path) -> Path:
    gdf = gpd.GeoDataFrame(
        {"label": ["test area"]}, geometry=[shapely.box(*STUDY_BOX)], crs="EPSG:4326"
    )
    gdf.to_file(path)
    return path


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    root = tmp_path_factory.mktemp("prepare")
    src = root / "src"
    src.mkdir()
    with pytest.warns(UserWarning) as record:
        result = prepare_data(
            osm=city_pbf(src / "city.osm.pbf"),
            dem=dem_tiles(src),
            landcover=[landcover_tile(src)],
            wind_atlas=atlas_folder(src / "gwa"),
            study_area=study_area_file(src / "area.geojson"),
            out=root / "out",
        )
    return result, [str(w.message) for w in record]


def read(result, name: str) -> gpd.GeoDataFrame:
    return pyogrio.read_dataframe(result.layers[name], layer=name)


# ---------------------------------------------------------------- categories


def test_layers_and_categories(prepared):
    result, _ = prepared
    ids = {
        name: sorted(read(result, name)["osm_id"]) for name in result.layers if name != "districts"
    }
    assert ids["rooftops"] == ["w1", "w2", "w3"]  # building=no and the far building left out
    assert ids["ponds"] == ["w5", "w6", "w7"]
    assert ids["mines"] == ["w8", "w9"]
    assert ids["landfills"] == ["w10"]
    assert ids["forest"] == ["w11", "w12"]
    assert ids["mudflats"] == ["w13", "w14", "w15"]
    assert ids["airport"] == ["w16"]
    assert ids["protected_areas"] == ["r1"]
    assert ids["roads"] == ["w18"]
    assert ids["drinking_water"] == ["w7"]
    assert ids["ecological_redline"] == []


def test_rooftop_attributes(prepared):
    result, _ = prepared
    roofs = read(result, "rooftops").set_index("osm_id")
    assert roofs.loc["w1", "roof_type"] == "flat" and roofs.loc["w1", "roof_pitch_deg"] == 0.0
    assert roofs.loc["w1", "height_m"] == 12.0
    # gabled, no roof:angle: the default pitch; height from 3 levels x 3.0 m storeys
    assert roofs.loc["w2", "roof_type"] == "pitched" and roofs.loc["w2", "roof_pitch_deg"] == 25.0
    assert roofs.loc["w2", "height_m"] == 9.0 and roofs.loc["w2", "building_levels"] == 3
    assert roofs.loc["w3", "roof_type"] == "pitched" and roofs.loc["w3", "roof_pitch_deg"] == 30.0
    assert roofs.crs.to_epsg() == 4549
    assert set(roofs.geom_type) == {"MultiPolygon"}


def test_site_attributes(prepared):
    result, _ = prepared
    ponds = read(result, "ponds").set_index("osm_id")
    assert ponds["water_use"].to_dict() == {"w5": "pond", "w6": "aquaculture", "w7": "reservoir"}
    mines = read(result, "mines").set_index("osm_id")
    assert mines["status"].to_dict() == {"w8": "active", "w9": "abandoned"}
    landfill = read(result, "landfills").iloc[0]
    assert landfill["status"] == "closed" and landfill["closed_year"] == 2015
    assert set(read(result, "forest")["forest_class"]) == {"unclassified"}
    assert read(result, "airport").iloc[0]["name"] == "Test airfield"


def test_derive_fields_steps_in_order():
    spec = load_osm_tags()
    fields = spec.layers["rooftops"].fields
    tags = pd.DataFrame(
        {
            "roof:shape": ["skillion", None, "dome"],
            "roof:angle": [None, None, "40°"],
            "building:levels": ["2.5", "4", None],
            "height": [None, "20,5", None],
        }
    )
    out = derive_fields(tags, fields, parameters=spec.parameter_values)
    assert out["roof_type"].tolist() == ["pitched", "flat", "other"]
    assert out["roof_pitch_deg"].tolist() == [25.0, 0.0, 40.0]
    assert out["height_m"].tolist()[:2] == [7.5, 20.5] and np.isnan(out["height_m"].iloc[2])
    assert out["building_levels"].tolist() == [2, 4, pd.NA]


# ---------------------------------------------------------------- geometry


def test_clip_keeps_exact_share_in_metric_crs():
    # a 100 m x 100 m square, half outside a 1 km study square: 5,000 m2 left
    area = shapely.box(500_000, 3_340_000, 501_000, 3_341_000)
    gdf = gpd.GeoDataFrame(
        {"k": [1, 2, 3]},
        geometry=[
            shapely.box(500_950, 3_340_100, 501_050, 3_340_200),  # half outside
            shapely.box(500_100, 3_340_100, 500_200, 3_340_200),  # inside
            shapely.box(502_000, 3_340_100, 502_100, 3_340_200),  # outside
        ],
        crs="EPSG:4549",
    )
    out = clip_to_area(gdf, area, kind="polygon")
    assert out["k"].tolist() == [1, 2]
    assert_allclose(out.geometry.area.to_numpy(), [5_000.0, 10_000.0], rtol=1e-12)
    # a polygon touching the edge only along a line leaves no stray line behind
    touching = gpd.GeoDataFrame(
        geometry=[shapely.box(501_000, 3_340_100, 501_100, 3_340_200)], crs="EPSG:4549"
    )
    assert len(clip_to_area(touching, area, kind="polygon")) == 0


def test_reprojection_and_clip_on_the_central_meridian(tmp_path: Path):
    # A lon/lat square symmetric about 120 E, the central meridian of EPSG:4549, and a
    # study area ending at x = 500,000 m (the meridian's image): exactly the western half
    # is kept, by the symmetry of the transverse Mercator projection.
    b = PBF()
    b.box(119.999, 30.2, 0.002, 0.002, {"natural": "water", "water": "pond"})
    pbf = b.write(tmp_path / "cm.osm.pbf")
    to_metric = Transformer.from_crs("EPSG:4326", "EPSG:4549", always_xy=True)
    x0, y0 = to_metric.transform(119.99, 30.19)
    _, y1 = to_metric.transform(119.99, 30.21)
    area = gpd.GeoDataFrame(
        {"adcode": [330110], "name_zh": ["余杭区"], "name_en": ["Yuhang"]},
        geometry=[shapely.box(x0, y0, 500_000.0, y1)],
        crs="EPSG:4549",
    )
    area.to_file(tmp_path / "area.gpkg", layer="districts")
    with pytest.warns(UserWarning):
        result = prepare_data(osm=pbf, study_area=tmp_path / "area.gpkg", out=tmp_path / "out")
    pond = read(result, "ponds")
    assert len(pond) == 1
    # the centre meridian maps to x = 500,000 m exactly (false easting, scale factor 1)
    assert_allclose(pond.total_bounds[2], 500_000.0, rtol=0, atol=1e-6)
    # geodesic area of the lon/lat square (GRS80 ~ CGCS2000): the scale error of EPSG:4549
    # within 100 m of its meridian is below 1e-9, straight vs. geodesic edges below 1e-7
    lons = [119.999, 120.001, 120.001, 119.999]
    lats = [30.2, 30.2, 30.202, 30.202]
    full_m2 = abs(Geod(ellps="GRS80").polygon_area_perimeter(lons, lats)[0])
    assert_allclose(pond.geometry.area.iloc[0], full_m2 / 2, rtol=1e-6)


# ---------------------------------------------------------------- rasters


def test_dem_mosaicked_reprojected_bilinear(prepared):
    result, _ = prepared
    with rasterio.open(result.rasters["dem"]) as src:
        assert src.crs.to_epsg() == 4549
        assert src.res == (30.0, 30.0)
        assert src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
        data = src.read(1)
        rows, cols = np.mgrid[5 : data.shape[0] - 5 : 7, 5 : data.shape[1] - 5 : 7]
        xs, ys = rasterio.transform.xy(src.transform, rows.ravel(), cols.ravel())
    lon, lat = Transformer.from_crs("EPSG:4549", "EPSG:4326", always_xy=True).transform(xs, ys)
    values = data[rows.ravel(), cols.ravel()]
    assert np.isfinite(values).all()  # the two tiles join without a seam
    # bilinear interpolation of a plane is the plane (float32 storage: rtol 1e-5)
    assert_allclose(values, dem_plane(np.asarray(lon), np.asarray(lat)), rtol=1e-5)


def test_landcover_nearest_keeps_classes(prepared):
    result, _ = prepared
    with rasterio.open(result.rasters["landcover"]) as src:
        assert src.crs.to_epsg() == 4549 and src.dtypes[0] == "uint8"
        data = src.read(1)
        x, y = Transformer.from_crs("EPSG:4326", "EPSG:4549", always_xy=True).transform(
            [120.18, 120.24], [30.2, 30.2]
        )
        west, east = (
            data[r, c] for r, c in (src.index(xx, yy) for xx, yy in zip(x, y, strict=True))
        )
    assert set(np.unique(data)) == {10, 80}  # never an interpolated class
    assert (west, east) == (10, 80)


def test_wind_atlas_cropped_and_renamed(prepared):
    result, _ = prepared
    assert {k for k in result.rasters if k.startswith("wind/")} == {
        "wind/wind_speed_100m",
        "wind/weibull_a_100m",
        "wind/weibull_k_100m",
    }
    with rasterio.open(result.rasters["wind/wind_speed_100m"]) as src:
        assert src.crs.to_epsg() == 4326
        assert_allclose(src.res, (0.0025, 0.0025))
        left, bottom, right, top = src.bounds
        assert left <= STUDY_BOX[0] and right >= STUDY_BOX[2]
        assert bottom <= STUDY_BOX[1] and top >= STUDY_BOX[3]
        assert src.width < 200 and src.height < 200  # cropped
        # values copied cell for cell: source row r, col c holds 5 + 0.001 r + 0.0001 c
        r0 = round((30.5 - top) / 0.0025)
        c0 = round((left - 120.0) / 0.0025)
        data = src.read(1)
    assert_allclose(data[0, 0], 5.0 + 0.001 * r0 + 0.0001 * c0, rtol=1e-6)


# ---------------------------------------------------------------- config and run


def test_config_and_sources(prepared):
    result, _ = prepared
    toml = tomllib.loads(result.config.read_text(encoding="utf-8"))
    assert toml["layers"]["rooftops"] == {
        "path": "sites.gpkg",
        "layer": "rooftops",
        "crs": "EPSG:4549",
        "category": "rooftop",
        "id_field": "osm_id",
        # OSM building=industrial / warehouse roofs are reported as park_rooftop
        "category_field": "building",
        "categories": {"industrial": "park_rooftop", "warehouse": "park_rooftop"},
        "synthetic": False,
    }
    assert toml["exclusions"]["roads"]["path"] == "exclusions.gpkg"
    assert toml["terrain"] == {"dem": "dem.tif", "landcover": "landcover.tif", "synthetic": False}
    assert toml["wind"]["resource"]["atlas_dir"] == "wind"
    assert toml["wind"]["resource"]["atlas_heights_m"] == [100]
    loaded = load_config(result.config)
    assert loaded.config.layers["ponds"].path == result.out / "sites.gpkg"
    assert not any(layer.synthetic for layer in loaded.config.layers.values())
    sources = json.loads(result.sources.read_text(encoding="utf-8"))
    kinds = sorted(s["kind"] for s in sources["sources"])
    assert kinds == [
        "dem",
        "dem",
        "landcover",
        "osm",
        "study_area",
        "wind_atlas",
        "wind_atlas",
        "wind_atlas",
    ]
    assert all(len(s["sha256"]) == 64 for s in sources["sources"])
    assert (
        "OpenStreetMap contributors"
        in next(s for s in sources["sources"] if s["kind"] == "osm")["attribution"]
    )


def test_districts_cut_to_study_area(prepared):
    result, _ = prepared
    districts = read(result, "districts")
    assert {"Binjiang"} <= set(districts["name_en"])
    box = gpd.GeoSeries([shapely.box(*STUDY_BOX)], crs="EPSG:4326").to_crs("EPSG:4549").iloc[0]
    assert_allclose(districts.geometry.area.sum(), box.area, rtol=1e-6)


def test_empty_category_warns(prepared):
    _, messages = prepared
    redline = [m for m in messages if "'ecological_redline'" in m]
    assert redline and "written with zero rows" in redline[0]
    assert not any("packaged default" in m for m in messages)


def test_census_run_on_prepared_output(prepared):
    from census.pipeline import run_census

    result, _ = prepared
    run = run_census(result.config, write=False)
    assert len(run.sites) > 0
    assert set(run.sites["category"]) >= {"rooftop", "pond", "mine", "forest", "mudflat"}
    assert run.provenance["synthetic_inputs"] is False


def test_cli_run_on_prepared_output(prepared, tmp_path: Path):
    from typer.testing import CliRunner

    from census.cli import app

    result, _ = prepared
    res = CliRunner().invoke(
        app, ["run", "--config", str(result.config), "--out", str(tmp_path / "run")]
    )
    assert res.exit_code == 0, res.output


# ---------------------------------------------------------------- bad input


def test_pbf_without_wanted_tags(tmp_path: Path):
    b = PBF()
    b.node(LON, LAT, {"amenity": "bench"})
    b.box(LON, LAT, 0.001, 0.001, {"amenity": "parking"})
    pbf = b.write(tmp_path / "nothing.osm.pbf")
    src = tmp_path / "src"
    src.mkdir()
    with pytest.warns(UserWarning, match="'rooftops' \\(category 'rooftop'\\) is empty") as record:
        result = prepare_data(
            osm=pbf,
            dem=dem_tiles(src),
            landcover=[landcover_tile(src)],
            wind_atlas=atlas_folder(src / "gwa"),
            study_area=study_area_file(src / "area.geojson"),
            out=tmp_path / "out",
        )
    messages = [str(w.message) for w in record]
    assert any("building=*" in m for m in messages)  # names the tags looked for
    for name in ("rooftops", "ponds", "mines", "landfills", "forest", "mudflats"):
        gdf = read(result, name)
        assert len(gdf) == 0 and "osm_id" in gdf.columns
    assert {"roof_type", "roof_pitch_deg"} <= set(read(result, "rooftops").columns)
    assert "status" in read(result, "mines").columns
    from census.pipeline import run_census

    run = run_census(result.config, write=False)
    assert len(run.sites) == 0
    assert any("is empty" in w for w in run.provenance["warnings"])


def test_raster_without_crs_names_the_file(tmp_path: Path):
    pbf = PBF()
    pbf.node(LON, LAT, {"amenity": "bench"})
    path = pbf.write(tmp_path / "x.osm.pbf")
    bad = write_tif(
        tmp_path / "no_crs_dem.tif",
        np.zeros((10, 10), "float32"),
        transform=from_origin(120.1, 30.3, 0.01, 0.01),
        crs=None,
    )
    with pytest.raises(MissingCRSError, match="no_crs_dem.tif"):
        with pytest.warns(UserWarning):
            prepare_data(
                osm=path,
                dem=[bad],
                study_area=study_area_file(tmp_path / "a.geojson"),
                out=tmp_path / "out",
            )
    assert not (tmp_path / "out").exists()
    assert not list(tmp_path.glob(".out.tmp*"))


def test_refuses_to_overwrite(prepared):
    result, _ = prepared
    with pytest.raises(OutputExistsError, match="--overwrite"):
        prepare_data(osm=None, out=result.out)


def test_bad_tag_file_names_file_and_key(tmp_path: Path):
    bad = tmp_path / "tags.yaml"
    bad.write_text(
        "layers:\n  rooftops:\n    output: sites\n    osm_layers: [multipolygons]\n    match: []\n"
    )
    with pytest.raises(InputError, match="(?s)tags.yaml.*needs a category"):
        load_osm_tags(bad)
    bad.write_text(
        "layers:\n  r:\n    output: exclusions\n    osm_layers: [lines]\n    match: []\n"
        "    fields:\n      h: {type: float, from: [{param: nope}]}\n"
    )
    with pytest.raises(InputError, match="layers.r.fields.h uses parameter 'nope'"):
        load_osm_tags(bad)


def test_packaged_tag_parameters_have_sources():
    spec = load_osm_tags()
    assert {r["key"] for r in spec.ledger} == {
        "osm_tags.parameters.storey_height_m",
        "osm_tags.parameters.pitched_roof_pitch_deg",
        "osm_tags.parameters.flat_roof_pitch_deg",
    }
    assert all(r["source"] for r in spec.ledger)


def test_cli_data_prepare(tmp_path: Path):
    pytest.importorskip("osmium")
    from typer.testing import CliRunner

    from census.cli import app

    pbf = city_pbf(tmp_path / "city.osm.pbf")
    args = [
        "data",
        "prepare",
        "--osm",
        str(pbf),
        "--out",
        str(tmp_path / "out"),
        "--study-area",
        str(study_area_file(tmp_path / "area.geojson")),
    ]
    (tmp_path / "dem").mkdir()
    for tile in dem_tiles(tmp_path / "dem"):
        args += ["--dem", str(tile)]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "census.toml" in res.output and "rooftops" in res.output
    again = CliRunner().invoke(app, args)  # never overwrites without --overwrite
    assert again.exit_code == 2 and "overwrite" in again.output
