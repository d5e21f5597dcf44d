"""Checks of the committed SYNTHETIC demo data in ``data/raw/demo``.

The files are made by ``census/demo/generate.py``; these tests read them as shipped
and check their schema, counts, placement and physical plausibility.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pytest
import rasterio
import rasterio.features
import rasterio.transform
import shapely
from numpy.testing import assert_allclose
from scipy.special import gamma

from census.crs import gcj02_to_wgs84_gdf
from census.io.boundaries import read_districts

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data/raw/demo"
SITES = DEMO / "demo_sites.gpkg"
EXCL = DEMO / "demo_exclusions.gpkg"

# layer: (EPSG code, count range, {column: kind}); kinds: str, int, float, num
SITE_SCHEMA = {
    "rooftops": (
        4549,
        (30_000, 50_000),
        {
            "building_id": "str",
            "height_m": "float",
            "floors": "int",
            "roof_type": "str",
            "roof_pitch_deg": "float",
            "use": "str",
            "name": "str",
        },
    ),
    "ponds": (4326, (1_500, 3_000), {"pond_id": "str", "pond_type": "str", "water_use": "str"}),
    "mines": (
        4549,
        (100, 200),
        {"mine_id": "str", "name": "str", "status": "str", "mineral": "str"},
    ),
    # closed_year is an integer column with nulls; pyogrio reads it as float64
    "landfills": (
        4549,
        (10, 20),
        {
            "landfill_id": "str",
            "name": "str",
            "status": "str",
            "closed_year": "num",
            "cap_area_m2": "float",
        },
    ),
    "forest": (
        4549,
        (500, 1_000),
        {
            "forest_id": "str",
            "forest_class": "str",
            "forest_type": "str",
            "shrub_cover_frac": "float",
        },
    ),
    "mudflats": (4549, (15, 30), {"mudflat_id": "str", "name": "str"}),
    "agri": (4549, (40, 150), {"agri_id": "str", "land_use": "str"}),
    "sewage": (
        4549,
        (30, 120),
        {"sewage_id": "str", "plant": "str", "plant_zh": "str", "kind": "str", "basin_type": "str"},
    ),
}
# layer: (area range [m2], categorical columns and their allowed values)
SITE_VALUES = {
    "rooftops": (
        (150.0, 30_000.0),
        {
            "roof_type": {"flat", "pitched"},
            "use": {"residential", "commercial", "industrial", "logistics", "public"},
        },
    ),
    "ponds": (
        (0.2e4, 60e4),
        {
            "pond_type": {"fish", "pit"},
            "water_use": {"aquaculture", "idle", "drinking_water", "scenic"},
        },
    ),
    "mines": (
        (1e4, 40e4),
        {
            "status": {"abandoned", "closed", "active"},
            "mineral": {"limestone", "granite", "clay", "tuff"},
        },
    ),
    "landfills": ((3e4, 50e4), {"status": {"closed", "operating"}}),
    "forest": (
        (5e4, 150e4),
        {
            "forest_class": {"commercial", "ecological_public_welfare", "nature_reserve"},
            "forest_type": {"tree", "bamboo", "shrub"},
        },
    ),
    "mudflats": ((0.5e6, 12e6), {}),
    # plots of 40-120 m x 60-260 m (census/demo/generate.py AGRI_WIDTH_M, AGRI_LENGTH_M)
    "agri": (
        (40 * 60.0, 120 * 260.0),
        {"land_use": {"greenhouse", "facility_agriculture", "cultivated"}},
    ),
    # a digester of radius 11 m (380 m2) up to the Qige outline of 700 m x 500 m
    # (census/demo/generate.py SEWAGE_DIGESTER_R_M, SEWAGE_PLANTS)
    "sewage": (
        (370.0, 700 * 500.0),
        {"kind": {"plant", "basin"}, "basin_type": {"aeration", "clarifier", "digester"}},
    ),
}
EXCL_SCHEMA = {
    "protected_areas": ("Polygon", ["name", "kind"]),
    "drinking_water": ("Polygon", ["name"]),
    "ecological_redline": ("Polygon", ["name"]),
    "roads": ("LineString", ["name", "road_class"]),
    "airport": ("Polygon", ["name"]),
    "seawalls": ("LineString", ["name"]),
    "navigation_channels": ("LineString", ["name"]),
    "residential": ("Polygon", ["name"]),
}
KIND_CHECK = {
    "str": pd.api.types.is_string_dtype,
    "int": pd.api.types.is_integer_dtype,
    "float": pd.api.types.is_float_dtype,
    "num": pd.api.types.is_numeric_dtype,
}


@pytest.fixture(scope="module")
def districts():
    return read_districts(
        ROOT / "data/raw/boundaries/hangzhou_districts_2021_gcj02.geojson", crs="GCJ-02"
    )


@pytest.fixture(scope="module")
def city(districts):
    # 1 m tolerance: ponds make a round trip through EPSG:4326
    outline = shapely.union_all(districts.geometry.to_numpy()).buffer(1.0)
    shapely.prepare(outline)
    return outline


@pytest.fixture(scope="module")
def sites():
    return {name: pyogrio.read_dataframe(SITES, layer=name) for name in SITE_SCHEMA}


@pytest.fixture(scope="module")
def scenic():
    return gcj02_to_wgs84_gdf(pyogrio.read_dataframe(DEMO / "scenic_areas_gcj02.geojson"))


def test_readme_says_synthetic():
    first = (DEMO / "README.md").read_text(encoding="utf-8").splitlines()[0]
    assert "SYNTHETIC" in first


@pytest.mark.parametrize("layer", list(SITE_SCHEMA))
def test_site_layer_schema_and_counts(sites, layer):
    epsg, (lo, hi), columns = SITE_SCHEMA[layer]
    gdf = sites[layer]
    assert gdf.crs.to_epsg() == epsg
    assert lo <= len(gdf) <= hi
    assert set(gdf.columns) == set(columns) | {"geometry"}
    for col, kind in columns.items():
        assert KIND_CHECK[kind](gdf[col]), f"{layer}.{col} is {gdf[col].dtype}, expected {kind}"
    id_col = next(iter(columns))
    assert gdf[id_col].is_unique
    assert set(gdf.geom_type) == {"Polygon"}
    assert shapely.is_valid(gdf.geometry.to_numpy()).all()


@pytest.mark.parametrize("layer", list(SITE_SCHEMA))
def test_site_values(sites, layer):
    gdf = sites[layer].to_crs("EPSG:4549")
    (a_lo, a_hi), allowed = SITE_VALUES[layer]
    area = gdf.area.to_numpy()
    # 1 % slack: areas are drawn in EPSG:4549, ponds then pass through EPSG:4326
    assert area.min() >= a_lo * 0.99 and area.max() <= a_hi * 1.01
    for col, values in allowed.items():
        assert set(gdf[col].dropna()) <= values


def test_sites_inside_city(sites, city):
    for layer, gdf in sites.items():
        geoms = gdf.to_crs("EPSG:4549").geometry.to_numpy()
        assert shapely.contains(city, geoms).all(), layer


def test_rooftop_details(sites):
    r = sites["rooftops"]
    flat = r.roof_type == "flat"
    assert (r.loc[flat, "roof_pitch_deg"] == 0).all()
    assert r.loc[~flat, "roof_pitch_deg"].between(15, 35).all()
    assert (r.height_m > 0).all() and (r.floors >= 1).all()
    assert 0 < r.name.notna().mean() < 0.05
    area = r.to_crs("EPSG:4549").area
    assert area[r.use == "residential"].between(150 * 0.99, 1500 * 1.01).all()
    assert area[r.use.isin(["industrial", "logistics"])].between(2000 * 0.99, 30000 * 1.01).all()


def test_ponds_long_tail(sites):
    ha = sites["ponds"].to_crs("EPSG:4549").area / 1e4
    assert (ha < 1).sum() > 50
    assert 1 <= (ha > 50).sum() <= 10


def test_pond_straddles_district_border(sites, districts):
    pond = sites["ponds"].to_crs("EPSG:4549").geometry.iloc[0]
    assert shapely.intersects(districts.geometry.to_numpy(), pond).sum() >= 2


def test_sewage_plants_hold_their_basins(sites):
    w = sites["sewage"]
    plants = w[w["kind"] == "plant"].set_index("sewage_id")
    basins = w[w["kind"] == "basin"]
    assert len(plants) == 7
    # every basin lies inside its own plant's outline, and basins do not overlap
    owner = basins["sewage_id"].str.split("-").str[0]
    inside = shapely.within(basins.geometry.to_numpy(), plants.geometry.loc[owner].to_numpy())
    assert inside.all()
    assert (
        not shapely.STRtree(basins.geometry.to_numpy())
        .query(basins.geometry.to_numpy(), predicate="overlaps")
        .size
    )
    # one plant is mapped as an outline only (screened with the basin share of its area)
    assert (~plants.index.isin(owner)).sum() == 1


def test_landfills(sites):
    lf = sites["landfills"]
    tz = lf[lf.name == "Tianziling (demo)"]
    assert len(tz) == 1 and tz.status.iloc[0] == "closed"
    c = tz.to_crs("EPSG:4326").geometry.iloc[0].centroid
    assert abs(c.x - 120.18) < 0.02 and abs(c.y - 30.35) < 0.02
    assert lf.loc[lf.status == "operating", "closed_year"].isna().all()
    assert lf.loc[lf.status == "closed", "closed_year"].notna().all()
    assert (lf.cap_area_m2 <= lf.area).all()


def test_exclusion_layers():
    layers = dict(pyogrio.list_layers(EXCL))
    assert set(layers) == set(EXCL_SCHEMA)
    for name, (geom_type, columns) in EXCL_SCHEMA.items():
        gdf = pyogrio.read_dataframe(EXCL, layer=name)
        assert gdf.crs.to_epsg() == 4549
        assert set(gdf.geom_type) == {geom_type}, name
        assert set(columns) <= set(gdf.columns), name
        assert shapely.is_valid(gdf.geometry.to_numpy()).all(), name
        assert len(gdf) >= 1


def test_scenic_geojson_is_gcj02_without_crs(sites, scenic):
    raw = json.loads((DEMO / "scenic_areas_gcj02.geojson").read_text(encoding="utf-8"))
    assert "crs" not in raw
    assert set(scenic.kind) <= {"heritage", "scenic"}
    west_lake = scenic.loc[scenic.kind == "heritage"].to_crs("EPSG:4549").geometry.iloc[0]
    c = scenic.loc[scenic.kind == "heritage"].geometry.iloc[0].centroid
    assert abs(c.x - 120.145) < 0.02 and abs(c.y - 30.245) < 0.02
    roofs = sites["rooftops"].to_crs("EPSG:4549").geometry.to_numpy()
    inside = shapely.within(roofs, west_lake)
    assert 100 <= inside.sum() <= 2000
    straddle = shapely.intersects(roofs, west_lake) & ~inside
    assert straddle.any()


def test_dem(districts):
    with rasterio.open(DEMO / "dem_100m.tif") as src:
        assert src.crs.to_epsg() == 4549
        assert src.res == (100.0, 100.0)
        assert src.nodata is not None
        assert src.compression.name.lower() == "deflate" and src.profile["tiled"]
        dem = src.read(1, masked=True)
        city_mask = rasterio.features.geometry_mask(
            districts.geometry, out_shape=dem.shape, transform=src.transform, invert=True
        )
    ncol = dem.shape[1]
    assert dem[:, : ncol // 3].mean() > dem[:, -ncol // 4 :].mean() + 100
    in_city = np.ma.masked_where(~city_mask, dem)
    west, east = in_city[:, : ncol // 2], in_city[:, -ncol // 4 :]
    assert west.mean() > east.mean() + 200
    assert 1000 <= dem.max() <= 1600
    assert np.ma.median(east) < 20
    gy, gx = np.gradient(dem.filled(np.nan).astype(float), 100.0)
    slope = np.degrees(np.arctan(np.hypot(gx, gy)))
    hills = slope[dem.filled(0) > 150]
    assert np.nanpercentile(hills, 50) > 8
    assert np.nanpercentile(hills, 99) < 40


def _wind(var, h):
    with rasterio.open(DEMO / "wind" / f"{var}_{h}m.tif") as src:
        assert src.crs.to_epsg() == 4326
        assert_allclose(src.res, (0.0025, 0.0025), rtol=1e-9)
        return src.read(1), src.transform


def test_wind_rasters_consistent():
    speeds = {}
    for h in (50, 100, 150):
        v, _ = _wind("wind_speed", h)
        a, _ = _wind("weibull_a", h)
        k, _ = _wind("weibull_k", h)
        assert v.dtype == np.float32
        assert (k > 1.7).all() and (k < 2.5).all()
        # float32 storage: relative error of A*gamma(1+1/k) about 1e-7
        assert_allclose(a * gamma(1 + 1 / k.astype(float)), v, rtol=1e-5)
        speeds[h] = v.astype(float)
    assert (speeds[150] > speeds[100]).all() and (speeds[100] > speeds[50]).all()
    alpha = np.log(speeds[150] / speeds[100]) / np.log(1.5)
    assert alpha.min() > 0.1 and alpha.max() < 0.22


def test_wind_windier_over_mudflats(sites):
    v, transform = _wind("wind_speed", 100)
    flats = sites["mudflats"].to_crs("EPSG:4326").geometry.representative_point()
    row, col = rasterio.transform.rowcol(transform, flats.x.to_numpy(), flats.y.to_numpy())
    over_flats = v[np.asarray(row), np.asarray(col)]
    assert over_flats.min() > 5.6 and over_flats.max() < 7.0
    row, col = rasterio.transform.rowcol(transform, 120.25, 30.08)  # ~25 km inland
    assert 4.4 < v[row, col] < 5.3


def test_landcover_codes():
    with (
        rasterio.open(DEMO / "landcover_100m.tif") as lc_src,
        rasterio.open(DEMO / "dem_100m.tif") as dem_src,
    ):
        assert lc_src.crs == dem_src.crs and lc_src.transform == dem_src.transform
        lc = lc_src.read(1)
    assert lc.dtype == np.uint8
    assert set(np.unique(lc)) <= {10, 20, 30, 40, 50, 60, 80, 90}


def test_parks_zone_layer_holds_the_park_rooftops(sites, city):
    from census.zones import split_by_zone

    parks = pyogrio.read_dataframe(DEMO / "demo_zones.gpkg", layer="parks")
    assert parks.crs.to_epsg() == 4549
    assert parks["name"].is_unique and parks["name"].str.endswith("(demo)").all()
    assert {"industrial", "logistics"} == set(parks["kind"])
    assert parks["name"].str.startswith("Tonglu logistics").any()
    assert shapely.contains(city, parks.geometry.to_numpy()).all()
    # parks do not overlap: their areas add up to the area of their union
    union = shapely.union_all(parks.geometry.to_numpy())
    assert_allclose(parks.area.sum(), union.area, rtol=1e-9)
    roofs = sites["rooftops"]
    park_roofs = roofs[roofs["use"].isin(["industrial", "logistics"])]
    pieces = split_by_zone(park_roofs, parks, zone_field="name")
    # every roof's shares sum to 1; about half of the industrial and logistics roof area lies
    # in the parks (the rest is the few per cent of such roofs in urban and town clusters)
    assert_allclose(pieces.groupby("site_index")["share_frac"].sum(), 1.0, rtol=1e-9)
    inside = pieces[pieces["zone"] != "(outside zones)"]
    area = park_roofs.area
    share_in = (inside["share_frac"] * area.loc[inside["site_index"]].to_numpy()).sum()
    assert share_in / area.sum() > 0.5
    # inside the parks, industrial and logistics roofs are most of the roof area
    in_park = split_by_zone(roofs, parks, zone_field="name")
    in_park = in_park[in_park["zone"] != "(outside zones)"]
    roof_area = roofs.area.loc[in_park["site_index"]].to_numpy() * in_park["share_frac"]
    is_park_use = roofs["use"].isin(["industrial", "logistics"]).loc[in_park["site_index"]]
    assert roof_area[is_park_use.to_numpy()].sum() / roof_area.sum() > 0.5
