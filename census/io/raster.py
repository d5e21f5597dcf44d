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

__all__ = ["MetricRaster", "read_raster_metric"]

logger = logging.getLogger(__name__)


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


def _read_band(src_ctx, path: Path, *, crs, metric_crs, resolution_m, resampling):
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
            data = src.read(1).astype("float32")
            transform = src.transform
        else:
            kwargs = {"resolution": resolution_m} if resolution_m else {}
            transform, width, height = calculate_default_transform(
                src_crs, target, src.width, src.height, *src.bounds, **kwargs
            )
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
