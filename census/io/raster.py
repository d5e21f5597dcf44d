"""Rasters (GeoTIFF): read once onto a metric grid with explicit resampling."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from affine import Affine
from pyproj import CRS

from census.crs import METRIC_CRS
from census.exceptions import InputError, MissingCRSError

__all__ = ["EXTENT_MARGIN_CELLS", "MetricRaster", "read_raster_metric"]

logger = logging.getLogger(__name__)

EXTENT_MARGIN_CELLS = 4
"""Cells read beyond an extent on each side: slope (Horn's method) needs one neighbour."""


@dataclass(frozen=True)
class MetricRaster:
    """A single-band raster on a metric grid.

    Attributes
    ----------
    data : numpy.ndarray
        2-D float32 values (exact for class codes, ~0.1 mm for elevations); nodata
        cells are NaN.
    transform : affine.Affine
        Pixel-to-CRS transform; pixel size in metres.
    crs : str
        A projected CRS in metres.
    path : str
        File it came from.
    """

    data: np.ndarray
    transform: Affine
    crs: str
    path: str

    @property
    def resolution_m(self) -> tuple[float, float]:
        """Return the cell width and height [m]."""
        return abs(self.transform.a), abs(self.transform.e)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """Return (minx, miny, maxx, maxy) in the raster CRS [m]."""
        h, w = self.data.shape
        x0, y0 = self.transform @ (0, 0)
        x1, y1 = self.transform @ (w, h)
        return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)


def read_raster_metric(
    path: str | Path,
    *,
    crs: str | None = None,
    metric_crs: str = METRIC_CRS,
    resolution_m: float | None = None,
    resampling: Literal["nearest", "bilinear", "average", "cubic"] = "bilinear",
    extent: tuple[float, float, float, float] | None = None,
    margin_cells: int = EXTENT_MARGIN_CELLS,
) -> MetricRaster:
    """Read band 1 of a raster onto a metric grid.

    A raster already in ``metric_crs`` at the wanted resolution is read as is;
    otherwise it is reprojected once with rasterio. Use ``nearest`` for
    categorical rasters (land cover) and ``bilinear``/``average`` for continuous
    ones (elevation).

    Parameters
    ----------
    path : str or pathlib.Path
        GeoTIFF (or any GDAL raster).
    crs : str, optional
        CRS to assume when the file has none.
    metric_crs : str, default "EPSG:4549"
    resolution_m : float, optional
        Output cell size [m]; default keeps the source resolution (or its metric
        equivalent after reprojection).
    resampling : {"nearest", "bilinear", "average", "cubic"}, default "bilinear"
    extent : (float, float, float, float), optional
        ``(xmin, ymin, xmax, ymax)`` in ``metric_crs`` [m]: read only the cells of the
        metric grid covering this box plus ``margin_cells`` on each side, when the raster
        is already on the metric grid (a window of the file: every cell read has the
        value a whole read gives it). A raster that needs reprojection is read whole
        (a warp of part of the grid does not reproduce the whole warp's values), and
        so is one the box misses. Default: the whole raster.
    margin_cells : int, default :data:`EXTENT_MARGIN_CELLS`
        Cells added on each side of ``extent`` (slope needs a cell's neighbours).

    Raises
    ------
    InputError
        Missing or unreadable file.
    MissingCRSError
        The file has no CRS and ``crs`` is not given.
    """
    import rasterio
    from rasterio.errors import RasterioError, RasterioIOError

    path = Path(path)
    if not path.exists():
        raise InputError(f"Raster file not found: {path}. Check the path in your config.")
    try:
        src_ctx = rasterio.open(path)
    except RasterioIOError as exc:
        raise InputError(f"Cannot read raster {path}: {exc}") from exc
    try:
        data, transform, target, nodata, same_grid = _read_band(
            src_ctx,
            path,
            crs=crs,
            metric_crs=metric_crs,
            resolution_m=resolution_m,
            resampling=resampling,
            extent=extent,
            margin_cells=margin_cells,
        )
    except RasterioError as exc:
        raise InputError(
            f"Raster {path} could not be read: its header opens but its data are incomplete "
            f"or corrupt ({exc}). Copy or download the file again; `gdalinfo -checksum "
            f"{path.name}` shows whether GDAL can read every block."
        ) from exc
    if nodata is not None and same_grid:
        data[data == nodata] = np.nan
    return MetricRaster(data=data, transform=transform, crs=target.to_string(), path=str(path))


def _grid_window(transform: Affine, width: int, height: int, extent, margin_cells: int):
    """Return the window of a grid covering ``extent`` plus a margin, or None.

    None when the box misses the grid or covers all of it (then the whole grid is read).
    """
    from rasterio.windows import Window, from_bounds

    x0, y0, x1, y1 = extent
    win = from_bounds(x0, y0, x1, y1, transform=transform)
    col0 = int(np.floor(win.col_off)) - margin_cells
    row0 = int(np.floor(win.row_off)) - margin_cells
    col1 = int(np.ceil(win.col_off + win.width)) + margin_cells
    row1 = int(np.ceil(win.row_off + win.height)) + margin_cells
    col0, row0 = max(col0, 0), max(row0, 0)
    col1, row1 = min(col1, width), min(row1, height)
    if col1 <= col0 or row1 <= row0:
        return None
    if (col0, row0, col1, row1) == (0, 0, width, height):
        return None
    return Window(col0, row0, col1 - col0, row1 - row0)


def _read_band(
    src_ctx,
    path: Path,
    *,
    crs,
    metric_crs,
    resolution_m,
    resampling,
    extent=None,
    margin_cells: int = EXTENT_MARGIN_CELLS,
):
    """Read band 1 onto the metric grid; rasterio errors propagate to the caller."""
    import rasterio
    from rasterio.warp import Resampling, calculate_default_transform, reproject

    with src_ctx as src:
        src_crs = src.crs if src.crs is not None else (CRS.from_user_input(crs) if crs else None)
        if src_crs is None:
            raise MissingCRSError(
                f'Raster {path} has no CRS. Declare it in the config (crs = "EPSG:...") or '
                "fix the file, e.g. `gdal_edit.py -a_srs EPSG:4549 FILE`."
            )
        src_crs = CRS.from_user_input(src_crs)
        nodata = src.nodata
        target = CRS.from_user_input(metric_crs)
        same_grid = src_crs == target and (
            resolution_m is None or np.isclose(abs(src.transform.a), resolution_m)
        )
        if same_grid:
            win = (
                None
                if extent is None
                else _grid_window(src.transform, src.width, src.height, extent, margin_cells)
            )
            if win is None:
                data = src.read(1).astype("float32")
                transform = src.transform
            else:
                data = src.read(1, window=win).astype("float32")
                transform = src.window_transform(win)
                logger.info("raster %s: read window %s of the extent", path, win)
        else:
            kwargs = {"resolution": resolution_m} if resolution_m else {}
            transform, width, height = calculate_default_transform(
                src_crs, target, src.width, src.height, *src.bounds, **kwargs
            )
            # read whole even with an extent: GDAL's approximate transformer interpolates
            # each row between points that depend on the warped area, so a warp of part
            # of the grid differs from the whole warp (up to 5 m of elevation measured on
            # the demo DEM in EPSG:4326); the extent read would not keep the numbers
            data = np.full((height, width), np.nan, dtype="float32")
            reproject(
                source=rasterio.band(src, 1),
                destination=data,
                src_transform=src.transform,
                src_crs=src_crs,
                src_nodata=nodata,
                dst_transform=transform,
                dst_crs=target,
                dst_nodata=np.nan,
                resampling=getattr(Resampling, resampling),
            )
            logger.info("reprojected raster %s from %s to %s", path, src_crs, metric_crs)
    return data, transform, target, nodata, same_grid
