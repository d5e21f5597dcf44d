"""Bad vector layers: missing, without CRS, in the wrong place, of the wrong shape.

Errors end in exit code 2 with one message naming the layer and the file; warnings
(part of a layer outside the study area, an empty layer, repaired geometry) let the
run finish and are printed and recorded in provenance.json.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import shapely
from numpy.testing import assert_allclose

from ..conftest import X0, Y0
from .conftest import (
    ROOFTOP_M,
    assert_clear_error,
    assert_nothing_lost,
    assert_warned,
    provenance,
    rooftops,
    run_case,
)


def _replace_rooftops(case, gdf: gpd.GeoDataFrame, **write) -> None:
    path = case.folder / "sites.gpkg"
    ponds = gpd.read_file(path, layer="ponds")
    path.unlink()
    gdf.to_file(path, layer="rooftops", **write)
    ponds.to_file(path, layer="ponds")


def _error(case, tmp_path, *needles):
    before = case.digests()
    out = tmp_path / "out"
    res = run_case(case, out)
    assert_clear_error(res, *needles)
    assert_nothing_lost(case, before, out)


def test_layer_file_missing(case, tmp_path):
    case.write_config({"layers": {"rooftops": {"path": "roofs_2023.gpkg"}}})
    _error(case, tmp_path, "roofs_2023.gpkg", "not found", "config")


def test_layer_name_not_in_file(case, tmp_path):
    case.write_config({"layers": {"rooftops": {"layer": "roofs"}}})
    _error(case, tmp_path, "'roofs'", "sites.gpkg", "'rooftops'", "'ponds'")


def test_layer_without_crs(case, tmp_path):
    gdf = rooftops().set_crs(None, allow_override=True)
    gdf.to_file(case.folder / "nocrs.shp")
    case.write_config({"layers": {"rooftops": {"path": "nocrs.shp", "layer": "nocrs"}}})
    _error(case, tmp_path, "no CRS", "nocrs.shp", 'crs = "EPSG:4326"')


def test_layer_declared_in_a_wrong_crs(case, tmp_path):
    # EPSG:4549 metres read as web-mercator metres land near 4.5 E, 29 N: outside the zone
    case.write_config({"layers": {"rooftops": {"crs": "EPSG:3857"}}})
    _error(case, tmp_path, "Layer 'rooftops'", "longitudes", "its CRS is wrong", "metric_crs")


def test_layer_with_lon_lat_swapped(case, tmp_path):
    gdf = rooftops().to_crs("EPSG:4326")
    swapped = gdf.set_geometry(
        shapely.transform(gdf.geometry.values, lambda xy: xy[:, ::-1]), crs="EPSG:4326"
    )
    _replace_rooftops(case, swapped)
    _error(case, tmp_path, "Layer 'rooftops'", "longitudes 30.", "longitude and latitude swapped")


def test_layer_wholly_outside_the_study_area(case, tmp_path):
    # 60 km north of the two districts, still in the CRS zone: "wrong district" data
    roofs = rooftops()
    roofs["geometry"] = roofs.translate(yoff=60_000.0)
    _replace_rooftops(case, roofs)
    _error(
        case,
        tmp_path,
        "Layer 'rooftops'",
        "sites.gpkg",
        "none of its 4 sites lies inside the study area 'Tiny'",
        "GCJ-02",
        "crs",
    )


def test_layer_partly_outside_the_study_area_warns_with_the_count(case, tmp_path):
    # two of six roofs 60 km away (e.g. a neighbouring city in the same extract)
    roofs = rooftops(6)
    roofs.loc[[4, 5], "geometry"] = roofs.loc[[4, 5]].translate(yoff=60_000.0)
    _replace_rooftops(case, roofs)
    out = tmp_path / "out"
    res = run_case(case, out)
    prov = assert_warned(res, out, "2 of 6 sites lie outside the study area 'Tiny'")
    report = next(r for r in prov["layers"] if r["name"] == "rooftops")
    assert report["outside_study_area"] == 2 and report["rows_kept"] == 4


def test_points_instead_of_polygons(case, tmp_path):
    pts = rooftops().copy()
    pts["geometry"] = pts.geometry.centroid
    _replace_rooftops(case, pts)
    _error(case, tmp_path, "Layer 'rooftops'", "polygons", "Point")


def test_id_field_missing(case, tmp_path):
    case.write_config({"layers": {"rooftops": {"id_field": "osm_id"}}})
    _error(case, tmp_path, "id_field 'osm_id'", "building_id", "[layers.rooftops]")


def test_duplicated_ids(case, tmp_path):
    roofs = rooftops()
    roofs["building_id"] = ["b0", "b1", "b1", "b3"]
    _replace_rooftops(case, roofs)
    _error(case, tmp_path, "Layer 'rooftops'", "duplicated", "'b1'")


def test_field_mapping_names_a_missing_column(case, tmp_path):
    case.write_config({"layers": {"ponds": {"fields": {"water_use": "yongtu"}}}})
    _error(case, tmp_path, "Layer 'ponds'", "yongtu", "[layers.ponds.fields]")


def test_corrupt_geopackage(case, tmp_path):
    (case.folder / "broken.gpkg").write_bytes(b"SQLite format 3\x00" + b"\x17" * 2000)
    case.write_config({"layers": {"rooftops": {"path": "broken.gpkg", "layer": None}}})
    _error(case, tmp_path, "broken.gpkg")


def test_empty_layer_warns_and_the_run_completes(case, tmp_path):
    empty = gpd.GeoDataFrame(
        {"building_id": pd.Series(dtype=str)}, geometry=gpd.GeoSeries([], crs="EPSG:4549")
    )
    _replace_rooftops(case, empty)
    out = tmp_path / "out"
    res = run_case(case, out)
    assert_warned(res, out, "Layer 'rooftops'", "is empty")
    # the ponds still count: 2 ponds of 200 m x 200 m are eligible
    summary = pd.read_csv(out / "summary_by_district.csv", encoding="utf-8-sig")
    assert summary["eligible_sites"].sum() == 2


def test_bow_tie_is_repaired_counted_and_never_grows(case, tmp_path):
    x, y = X0 + 3_000.0, Y0 + 3_000.0
    bowtie = shapely.Polygon([(x, y), (x + 300, y + 300), (x + 300, y), (x, y + 300)])
    roofs = rooftops(2)
    roofs.loc[1, "geometry"] = bowtie
    _replace_rooftops(case, roofs)
    out = tmp_path / "out"
    res = run_case(case, out)
    assert res.exit_code == 0, res.output
    prov = provenance(out)
    report = next(r for r in prov["layers"] if r["name"] == "rooftops")
    assert report["repaired"] == 1
    sites = gpd.read_file(out / "sites.gpkg", layer="sites").set_index("site_id")
    # two triangles of base 300 m and height 150 m (worked by hand): 2 * 0.5 * 300 * 150
    assert_allclose(sites.loc["rooftops:b1", "area_m2"], 45_000.0, rtol=1e-9)
    assert_allclose(sites.loc["rooftops:b0", "area_m2"], ROOFTOP_M**2, rtol=1e-9)


def test_rows_without_geometry_are_dropped_with_a_warning(case, tmp_path):
    roofs = rooftops(3)
    roofs.loc[2, "geometry"] = None
    _replace_rooftops(case, roofs)
    out = tmp_path / "out"
    res = run_case(case, out)
    assert_warned(res, out, "dropped 1 rows with empty or missing geometry")
