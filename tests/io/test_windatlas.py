"""Tests of census.io.windatlas: finding and sampling wind-atlas GeoTIFFs."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from numpy.testing import assert_allclose
from rasterio.transform import from_origin

from census.exceptions import InputError, MissingCRSError
from census.io.windatlas import atlas_column, atlas_paths, sample_wind_atlas

# 0.01 deg cells over the Qiantang estuary, origin (lon 120.0, lat 30.5), 40 x 40 cells
ORIGIN_LON, ORIGIN_LAT, RES = 120.0, 30.5, 0.01


def _linear_field(a: float, b: float, c: float) -> np.ndarray:
    """Value a + b*lon + c*lat at the 40 x 40 cell centres (bilinear reproduces it)."""
    cols = np.arange(40)
    rows = np.arange(40)
    lon = ORIGIN_LON + (cols + 0.5) * RES
    lat = ORIGIN_LAT - (rows + 0.5) * RES
    return (a + b * lon[None, :] + c * lat[:, None]).astype("float32")


def _write(path: Path, data: np.ndarray, *, crs: str | None = "EPSG:4326", nodata=None) -> Path:
    profile = dict(
        driver="GTiff",
        width=data.shape[1],
        height=data.shape[0],
        count=1,
        dtype="float32",
        transform=from_origin(ORIGIN_LON, ORIGIN_LAT, RES, RES),
        nodata=nodata,
    )
    if crs is not None:
        profile["crs"] = crs
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)
    return path


def _points(lonlat, crs="EPSG:4326") -> gpd.GeoSeries:
    pts = gpd.GeoSeries(shapely.points(np.asarray(lonlat)), crs="EPSG:4326", index=[10, 11, 12])
    return pts.to_crs(crs)


LONLAT = [(120.123, 30.312), (120.2, 30.2), (120.301, 30.405)]


def test_bilinear_reproduces_linear_field_from_metric_points(tmp_path):
    tif = _write(tmp_path / "wind_speed_100m.tif", _linear_field(-100.0, 1.0, 0.5))
    # points given in EPSG:4549 must be reprojected to the raster's EPSG:4326
    out = sample_wind_atlas(_points(LONLAT, "EPSG:4549"), paths={("wind_speed", 100): tif})
    expected = [-100.0 + lon + 0.5 * lat for lon, lat in LONLAT]
    assert list(out.columns) == ["wind_speed_100m_m_s"]
    assert list(out.index) == [10, 11, 12]
    # float32 raster + round trip through EPSG:4549: 1e-5 relative is ample
    assert_allclose(out["wind_speed_100m_m_s"], expected, rtol=1e-5)


def test_nearest_takes_containing_cell(tmp_path):
    data = np.arange(1600, dtype="float32").reshape(40, 40)
    tif = _write(tmp_path / "weibull_k_100m.tif", data)
    out = sample_wind_atlas(_points(LONLAT), paths={("weibull_k", 100): tif}, resampling="nearest")
    rows = [int((ORIGIN_LAT - lat) / RES) for _, lat in LONLAT]
    cols = [int((lon - ORIGIN_LON) / RES) for lon, _ in LONLAT]
    assert_allclose(out["weibull_k_100m"], data[rows, cols], rtol=0)


def test_nodata_falls_back_to_nearest_then_nan(tmp_path):
    data = _linear_field(5.0, 0.0, 0.0)
    data[:, 30:] = -9999.0  # no data east of lon 120.30
    tif = _write(tmp_path / "wind_speed_50m.tif", data, nodata=-9999.0)
    with pytest.warns(UserWarning, match="nodata at 1 site"):
        out = sample_wind_atlas(_points(LONLAT), paths={("wind_speed", 50): tif})
    values = out["wind_speed_50m_m_s"].to_numpy()
    assert_allclose(values[:2], 5.0, rtol=1e-6)
    assert np.isnan(values[2])


def test_raster_without_crs_names_file(tmp_path):
    tif = _write(tmp_path / "weibull_a_100m.tif", _linear_field(7, 0, 0), crs=None)
    with pytest.raises(InputError, match=r"weibull_a_100m\.tif.*no CRS"):
        sample_wind_atlas(_points(LONLAT), paths={("weibull_a", 100): tif})


def test_point_outside_raster(tmp_path):
    tif = _write(tmp_path / "wind_speed_100m.tif", _linear_field(7, 0, 0))
    with pytest.raises(InputError, match=r"outside wind-atlas raster .*wind_speed_100m\.tif"):
        sample_wind_atlas(
            _points([(120.1, 30.3), (121.5, 30.3), (120.2, 30.2)]), paths={("wind_speed", 100): tif}
        )


def test_points_without_crs():
    pts = gpd.GeoSeries(shapely.points([(0, 0)]))
    with pytest.raises(MissingCRSError, match="set_crs"):
        sample_wind_atlas(pts, paths={})


def test_polygons_are_sampled_at_representative_point(tmp_path):
    tif = _write(tmp_path / "wind_speed_100m.tif", _linear_field(6.0, 0, 0))
    polys = gpd.GeoSeries([shapely.box(120.1, 30.2, 120.12, 30.22)], crs="EPSG:4326")
    out = sample_wind_atlas(polys, paths={("wind_speed", 100): tif})
    assert_allclose(out.iloc[0, 0], 6.0, rtol=1e-6)


def test_atlas_paths_finds_pattern_and_skips_missing(tmp_path):
    for name in ("wind_speed_50m.tif", "wind_speed_100m.tif", "weibull_a_100m.tif"):
        _write(tmp_path / name, _linear_field(1, 0, 0))
    found = atlas_paths(tmp_path, heights_m=(50, 100, 150))
    assert set(found) == {("wind_speed", 50), ("wind_speed", 100), ("weibull_a", 100)}
    with pytest.raises(InputError, match="has none of the files"):
        atlas_paths(tmp_path, pattern="gwa_{variable}_{height}.tif")
    with pytest.raises(InputError, match="does not exist"):
        atlas_paths(tmp_path / "missing")


def test_atlas_column_names():
    assert atlas_column("wind_speed", 150) == "wind_speed_150m_m_s"
    assert atlas_column("weibull_a", 50) == "weibull_a_50m_m_s"
    assert atlas_column("weibull_k", 100) == "weibull_k_100m"
