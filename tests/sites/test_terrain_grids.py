"""terrain_grids: slope and the aspect's sine and cosine straight from Horn's gradients."""

from __future__ import annotations

import numpy as np
from affine import Affine

from census.io.raster import MetricRaster
from census.sites.terrain import slope_aspect, terrain_grids


def _raster(z: np.ndarray, cell_m: float = 30.0) -> MetricRaster:
    return MetricRaster(
        data=z.astype("float32"),
        transform=Affine(cell_m, 0.0, 500_000.0, 0.0, -cell_m, 3_300_000.0),
        crs="EPSG:4549",
        path="test",
    )


def test_plane_rising_east_faces_west():
    # z = 0.1 m per m eastwards: slope atan(0.1) = 5.7106 deg (by hand), downslope
    # towards the west: aspect 270 deg, sin -1, cos 0
    x = np.arange(40) * 30.0
    z = np.tile(0.1 * x, (30, 1))
    g = terrain_grids(_raster(z))
    np.testing.assert_allclose(g["slope_deg"], np.degrees(np.arctan(0.1)), atol=1e-4)
    np.testing.assert_allclose(g["aspect_sin"], -1.0, atol=1e-6)
    np.testing.assert_allclose(g["aspect_cos"], 0.0, atol=1e-6)
    np.testing.assert_allclose(g["elevation_m"], z, atol=1e-3)


def test_flat_and_nodata_cells_have_no_direction_and_match_slope_aspect():
    rng = np.random.default_rng(3)
    z = rng.normal(100.0, 5.0, (50, 60)).cumsum(axis=1)  # rough terrain
    z[:10, :10] = 42.0  # flat corner
    z[30:35, 40:45] = np.nan  # nodata hole
    g = terrain_grids(_raster(z))
    slope, aspect = slope_aspect(z.astype("float32"), cell_x_m=30.0, cell_y_m=30.0)
    rad = np.radians(aspect)
    np.testing.assert_allclose(g["slope_deg"], slope, atol=1e-4, equal_nan=True)
    # the former trigonometric route: sin/cos of aspect, 0 where it is undefined
    np.testing.assert_allclose(g["aspect_sin"], np.nan_to_num(np.sin(rad)), atol=1e-5)
    np.testing.assert_allclose(g["aspect_cos"], np.nan_to_num(np.cos(rad)), atol=1e-5)
    assert (g["aspect_sin"][1:9, 1:9] == 0).all() and (g["aspect_cos"][1:9, 1:9] == 0).all()
    assert np.isnan(g["slope_deg"][31:34, 41:44]).all()
    assert not np.isnan(g["aspect_sin"]).any() and not np.isnan(g["aspect_cos"]).any()
    assert all(a.dtype == np.float32 for a in g.values())
