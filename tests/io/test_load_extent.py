"""Reading only the selected districts' extent: the same rows, honest reports, no false warnings."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from affine import Affine

from census.config import ExclusionLayerConfig, LayerConfig
from census.crs import wgs84_to_gcj02
from census.exceptions import InputError
from census.io.layers import load_exclusions, load_sites
from census.io.raster import read_raster_metric
from census.io.vector import extent_in_layer_crs, read_vector

from ..conftest import X0, Y0

# the box of district Alpha (conftest: 10 km x 10 km at X0, Y0, EPSG:4549)
ALPHA = (X0, Y0, X0 + 10_000, Y0 + 10_000)


def _squares(xs_m, *, y_m=Y0 + 5_000, side_m=100.0):
    """Squares of ``side_m`` [m] with their lower-left corners at (x, y_m), EPSG:4549."""
    return [shapely.box(x, y_m, x + side_m, y_m + side_m) for x in xs_m]


def test_extent_in_layer_crs_covers_the_box():
    # every point of the metric box (densified edges) lies inside the lon/lat box
    box = extent_in_layer_crs(ALPHA, "EPSG:4549", "EPSG:4326", margin_m=0.0)
    edge = shapely.segmentize(shapely.box(*ALPHA).exterior, 50.0)
    pts = gpd.GeoSeries([edge], crs="EPSG:4549").to_crs("EPSG:4326").get_coordinates()
    assert (pts.x >= box[0]).all() and (pts.x <= box[2]).all()
    assert (pts.y >= box[1]).all() and (pts.y <= box[3]).all()
    # the same CRS: the box plus the margin, untransformed
    assert extent_in_layer_crs(ALPHA, "EPSG:4549", "EPSG:4549", margin_m=5.0) == (
        ALPHA[0] - 5.0,
        ALPHA[1] - 5.0,
        ALPHA[2] + 5.0,
        ALPHA[3] + 5.0,
    )


@pytest.mark.parametrize("fmt", ["gpkg_4326", "parquet_covering", "parquet_plain", "gcj02"])
def test_read_by_extent_gives_the_rows_meeting_the_box(tmp_path, fmt):
    # squares at x = X0 - 5 km ... X0 + 15 km every 1 km: those meeting Alpha's box (plus the
    # 100 m margin) are the ones starting at X0 - 1 km ... X0 + 10 km (12 of 21)
    xs = X0 + 1_000.0 * np.arange(-5, 16)
    gdf = gpd.GeoDataFrame({"pid": [f"p{i}" for i in range(len(xs))]}, geometry=_squares(xs))
    gdf = gdf.set_crs("EPSG:4549")
    crs = None
    if fmt == "gpkg_4326":
        path = tmp_path / "l.gpkg"
        gdf.to_crs("EPSG:4326").to_file(path, layer="l")
    elif fmt.startswith("parquet"):
        path = tmp_path / "l.parquet"
        gdf.to_parquet(path, schema_version="1.1.0", write_covering_bbox=fmt.endswith("covering"))
    else:  # a GCJ-02 file declared as such: shifted by the GCJ-02 offset (~500 m here)
        wgs = gdf.to_crs("EPSG:4326")
        gcj = wgs.geometry.apply(
            lambda g: shapely.transform(g, lambda c: np.column_stack(wgs84_to_gcj02(*c.T)))
        )
        path = tmp_path / "l.geojson"
        gpd.GeoDataFrame({"pid": gdf.pid}, geometry=gcj.values, crs="EPSG:4326").to_file(path)
        crs = "GCJ-02"
    whole = read_vector(path, crs=crs)
    part = read_vector(path, crs=crs, extent=ALPHA)
    assert whole.attrs["extent_read"] is False and part.attrs["extent_read"] is True
    # worked out by hand: squares from X0 - 1 km (its right edge X0 - 900 m is outside the
    # 100 m margin, so not that one) ... X0 + 10 km; the GCJ-02 read keeps its 0.02 deg
    # margin (~2 km), so it may read more, never fewer
    want = [f"p{i}" for i in range(5, 16)]
    got = part["pid"].tolist()
    if fmt == "gcj02":
        assert set(want) <= set(got) and len(got) <= len(want) + 6
    else:
        assert got == want
    # rows read are exactly those of the whole read, in file order
    same = whole.set_index("pid").loc[got]
    assert shapely.equals_exact(same.geometry.values, part.geometry.values, tolerance=0).all()


def test_site_layer_by_extent_keeps_the_sites_and_counts_honestly(tmp_path, two_districts):
    # 5 squares outside the city, 10 in Alpha, 10 in Beta, and one just west of the city
    # (X0 - 150 ... X0 - 50 m: within the 100 m margin of the extent)
    xs = np.append(X0 + 1_000.0 * np.arange(-5, 20), X0 - 150.0)
    gdf = gpd.GeoDataFrame({"pid": [f"p{i}" for i in range(len(xs))]}, geometry=_squares(xs))
    gdf.set_crs("EPSG:4549").to_file(tmp_path / "s.gpkg", layer="s")
    cfg = LayerConfig(path=tmp_path / "s.gpkg", layer="s", category="pond", id_field="pid")
    alpha = two_districts.iloc[[0]]
    with warnings.catch_warnings(record=True) as w_whole:
        warnings.simplefilter("always")
        whole, (r_whole,) = load_sites({"s": cfg}, alpha, study_area=two_districts)
    with warnings.catch_warnings(record=True) as w_part:
        warnings.simplefilter("always")
        part, (r_part,) = load_sites({"s": cfg}, alpha, study_area=two_districts, extent=ALPHA)
    assert (
        part["site_id"].tolist() == whole["site_id"].tolist() == [f"s:p{i}" for i in range(5, 15)]
    )
    np.testing.assert_array_equal(part["area_m2"], whole["area_m2"])
    # whole read: 26 rows, 16 outside Alpha, 6 of them outside the city
    assert (r_whole.rows_read, r_whole.dropped_outside, r_whole.outside_study_area) == (26, 16, 6)
    # by extent: the 10 of Alpha, Beta's first (X0 + 10 km) and the one west of the city
    assert (r_part.rows_read, r_part.dropped_outside, r_part.outside_study_area) == (12, 2, 1)
    assert any(n.startswith("read by extent") for n in r_part.notes)
    msgs = [str(x.message) for x in w_part]
    assert any("1 of 12 sites read within the selected districts' extent" in m for m in msgs)
    assert len(w_whole) == len(w_part) == 1


def test_site_layer_without_rows_in_extent_is_read_whole(tmp_path, two_districts):
    # a layer in the wrong CRS (metres read as lon/lat would not even pass; here the layer
    # is declared EPSG:4549 but lies 50 km east): refused as by a whole run
    far = gpd.GeoDataFrame({"pid": ["a"]}, geometry=_squares([X0 + 50_000.0]), crs="EPSG:4549")
    far.to_file(tmp_path / "far.gpkg", layer="far")
    cfg = LayerConfig(path=tmp_path / "far.gpkg", layer="far", category="pond", id_field="pid")
    alpha = two_districts.iloc[[0]]
    with pytest.raises(InputError, match="none of its 1 sites"):
        load_sites({"far": cfg}, alpha, study_area=two_districts, extent=ALPHA)
    # a layer only in Beta: nothing in Alpha's extent, read whole, no site, no warning
    beta = gpd.GeoDataFrame({"pid": ["b"]}, geometry=_squares([X0 + 15_000.0]), crs="EPSG:4549")
    beta.to_file(tmp_path / "beta.gpkg", layer="b")
    cfg = LayerConfig(path=tmp_path / "beta.gpkg", layer="b", category="pond", id_field="pid")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sites, (report,) = load_sites({"b": cfg}, alpha, study_area=two_districts, extent=ALPHA)
    assert len(sites) == 0 and report.rows_read == 1 and report.dropped_outside == 1
    assert any(n.startswith("read whole") for n in report.notes)


def test_exclusion_by_extent_no_false_empty_warning(tmp_path):
    zone = shapely.box(X0 - 400.0, Y0 + 5_000, X0 - 300.0, Y0 + 5_100)  # 300 m west of Alpha
    gpd.GeoDataFrame(geometry=[zone], crs="EPSG:4549").to_file(tmp_path / "x.gpkg", layer="x")
    gpd.GeoDataFrame(geometry=gpd.GeoSeries([], crs="EPSG:4549")).to_file(
        tmp_path / "e.gpkg", layer="e"
    )
    cfgs = {
        "x": ExclusionLayerConfig(path=tmp_path / "x.gpkg", layer="x"),
        "e": ExclusionLayerConfig(path=tmp_path / "e.gpkg", layer="e"),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the zone exists, just not near: no 'empty' warning
        got = load_exclusions(cfgs, {"x"}, extents={"x": ALPHA})
    assert len(got["x"]) == 0
    # grown by a 500 m buffer, the box reaches the zone (its buffer cuts sites in Alpha)
    x0, y0, x1, y1 = ALPHA
    got = load_exclusions(cfgs, {"x"}, extents={"x": (x0 - 500, y0 - 500, x1 + 500, y1 + 500)})
    assert len(got["x"]) == 1 and got["x"].iloc[0].equals(zone)
    with pytest.warns(UserWarning, match="is empty"):  # a really empty layer still warns
        load_exclusions(cfgs, {"e"}, extents={"e": ALPHA})


def test_raster_window_equals_whole_read(tmp_path):
    # a 30 m grid in EPSG:4549 with nodata; the window's cells are the whole read's cells
    rng = np.random.default_rng(7)
    data = rng.normal(100.0, 20.0, (400, 500)).astype("float32")
    data[100:110, 270:290] = -9999.0
    transform = Affine(30.0, 0.0, X0 - 3_000.0, 0.0, -30.0, Y0 + 11_000.0)
    path = tmp_path / "dem.tif"
    with rasterio.open(
        path, "w", driver="GTiff", width=500, height=400, count=1, dtype="float32",
        crs="EPSG:4549", transform=transform, nodata=-9999.0,
    ) as dst:  # fmt: skip
        dst.write(data, 1)
    whole = read_raster_metric(path)
    part = read_raster_metric(path, extent=(X0 + 5_000.0, Y0 + 7_000.0, X0 + 6_000.0, Y0 + 8_000.0))
    # by hand: columns floor(8000 / 30) - 4 = 262 ... ceil(9000 / 30) + 4 = 304, rows
    # floor((11000 - 8000) / 30) - 4 = 96 ... ceil((11000 - 7000) / 30) + 4 = 138
    assert part.data.shape == (138 - 96, 304 - 262)
    col0 = round((part.transform.c - whole.transform.c) / 30.0)
    row0 = round((whole.transform.f - part.transform.f) / 30.0)
    assert (col0, row0) == (262, 96)
    h, w = part.data.shape
    np.testing.assert_array_equal(part.data, whole.data[row0 : row0 + h, col0 : col0 + w])
    assert np.isnan(part.data).sum() == 10 * 20  # the nodata block lies in the window
    # a box that misses the raster reads it whole
    assert read_raster_metric(path, extent=(0.0, 0.0, 10.0, 10.0)).data.shape == (400, 500)


# Four demo districts: small urban (Binjiang), hills with forest on the DEM (Xihu), the
# estuary with mudflats and wind (Xiaoshan), the large western county (Chun'an).
@pytest.mark.slow
@pytest.mark.parametrize("district", ["Binjiang", "Xihu", "Xiaoshan", "Chun'an"])
def test_demo_district_same_sites_with_and_without_extent_read(monkeypatch, district):
    import census.stages.load as load_stage
    from census.config import load_config
    from census.pipeline import run_census

    from ..conftest import DEMO_DIR

    if not (DEMO_DIR / "demo_sites.gpkg").exists():
        pytest.skip("demo layers not generated")
    loaded = load_config(None)
    runs = {}
    for on in (True, False):
        monkeypatch.setattr(load_stage, "READ_DISTRICT_EXTENT", on)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = run_census(loaded, [district], write=False)
        sites = result.sites.sort_values("site_id").reset_index(drop=True)
        runs[on] = (sites, sorted({str(w.message) for w in caught}))
    (a, warn_a), (b, warn_b) = runs[True], runs[False]
    assert len(a) > 0
    assert a["site_id"].tolist() == b["site_id"].tolist()
    assert a["eligible"].tolist() == b["eligible"].tolist()
    assert a["exclusion_reasons"].tolist() == b["exclusion_reasons"].tolist()
    # identical numbers: tolerance zero (the same rows, cells and zones reach every site)
    for col in ("area_m2", "usable_area_m2", "capacity_mw_dc", "energy_mwh_yr"):
        np.testing.assert_array_equal(a[col].to_numpy(float), b[col].to_numpy(float), col)
    # the extent read raises no warning the whole read does not
    assert set(warn_a) <= set(warn_b), set(warn_a) - set(warn_b)
