"""Bad rasters (DEM, land cover): missing, not a raster, without CRS, truncated body.

Each is refused with exit code 2 and a message naming the file.
"""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from ..conftest import X0, Y0
from .conftest import assert_clear_error, assert_nothing_lost, run_case


def _write_dem(path, *, crs: str | None = "EPSG:4549") -> None:
    """A 700 x 400 grid of 30 m cells over both districts: a plane rising 1 m per cell."""
    rows, cols = 400, 700
    z = np.add.outer(np.arange(rows, dtype="float32"), np.zeros(cols, dtype="float32"))
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=cols,
        height=rows,
        count=1,
        dtype="float32",
        crs=crs,
        transform=from_origin(X0 - 500, Y0 + 11_000, 30.0, 30.0),
        nodata=-9999.0,
    ) as dst:
        dst.write(z, 1)


def _refused(case, tmp_path, key: str, name: str, *needles):
    # synthetic = false: the default [terrain] table flags the demo rasters as synthetic
    case.write_config({"terrain": {key: name, "synthetic": False}})
    before = case.digests()
    out = tmp_path / "out"
    res = run_case(case, out)
    assert_clear_error(res, name, *needles)
    assert_nothing_lost(case, before, out)


@pytest.mark.parametrize("key", ["dem", "landcover"])
def test_truncated_raster_body_names_the_file(case, tmp_path, key):
    # the header (and its tile offsets) survives, the pixel data is cut at 60 %
    good = tmp_path / "good.tif"
    _write_dem(good)
    data = good.read_bytes()
    (case.folder / f"{key}.tif").write_bytes(data[: int(len(data) * 0.6)])
    _refused(case, tmp_path, key, f"{key}.tif", "incomplete or corrupt", "gdalinfo -checksum")


def test_raster_that_is_not_a_raster(case, tmp_path):
    (case.folder / "dem.tif").write_bytes(b"this is a text file, saved as .tif by mistake\n")
    _refused(case, tmp_path, "dem", "dem.tif", "Cannot read raster")


def test_raster_without_crs(case, tmp_path):
    _write_dem(case.folder / "dem.tif", crs=None)
    _refused(case, tmp_path, "dem", "dem.tif", "has no CRS", "gdal_edit.py")


def test_raster_missing(case, tmp_path):
    _refused(case, tmp_path, "dem", "srtm_30m.tif", "not found")
