"""Read and sample wind-atlas rasters in the form of the Global Wind Atlas.

The Global Wind Atlas (GWA 3, DTU and World Bank) publishes one GeoTIFF per
variable and height: mean wind speed [m s⁻¹] and the Weibull scale A
[m s⁻¹] and shape k [-], in EPSG:4326. This module finds such files in a
folder by a name pattern (``{variable}_{height}m.tif`` by default) and
samples them at site points, reprojecting the points to each raster's CRS.

Sampling is ``"bilinear"`` (default; between the four nearest cell centres, as
STYLE.md asks for continuous fields) or ``"nearest"`` (the cell that contains
the point). Where a bilinear neighbourhood touches a nodata cell, the nearest
cell's value is used instead.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
from rasterio.windows import Window
from scipy import ndimage

from census.exceptions import InputError, MissingCRSError

__all__ = [
    "ATLAS_UNITS",
    "ATLAS_VARIABLES",
    "atlas_column",
    "atlas_paths",
    "sample_wind_atlas",
]

logger = logging.getLogger(__name__)

ATLAS_VARIABLES: tuple[str, ...] = ("wind_speed", "weibull_a", "weibull_k")
"""Variables of a wind atlas: mean wind speed, Weibull scale A, Weibull shape k."""

ATLAS_UNITS: dict[str, str] = {"wind_speed": "m_s", "weibull_a": "m_s", "weibull_k": ""}
"""Unit token of each variable, used in column names (k is dimensionless)."""


def atlas_column(variable: str, height_m: int) -> str:
    """Column name of a sampled atlas variable, e.g. ``wind_speed_100m_m_s``.

    Parameters
    ----------
    variable : str
        One of :data:`ATLAS_VARIABLES`.
    height_m : int
        Height above ground of the layer. [m]

    Returns
    -------
    str

    Examples
    --------
    >>> atlas_column("weibull_k", 100)
    'weibull_k_100m'
    """
    if variable not in ATLAS_UNITS:
        raise ValueError(f"variable must be one of {ATLAS_VARIABLES}; got {variable!r}")
    unit = ATLAS_UNITS[variable]
    return f"{variable}_{int(height_m)}m" + (f"_{unit}" if unit else "")


def atlas_paths(
    folder: str | Path,
    *,
    pattern: str = "{variable}_{height}m.tif",
    heights_m: Iterable[int] = (50, 100, 150),
    variables: Iterable[str] = ATLAS_VARIABLES,
) -> dict[tuple[str, int], Path]:
    """Find the atlas rasters in a folder.

    Parameters
    ----------
    folder : str or pathlib.Path
        Folder holding the GeoTIFFs.
    pattern : str, default "{variable}_{height}m.tif"
        File-name pattern with ``{variable}`` and ``{height}`` fields.
    heights_m : iterable of int, default (50, 100, 150)
        Heights to look for. [m]
    variables : iterable of str, default :data:`ATLAS_VARIABLES`
        Variables to look for.

    Returns
    -------
    dict
        ``{(variable, height_m): path}`` for the files that exist.

    Raises
    ------
    InputError
        If the folder does not exist or holds none of the files.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(
            f"wind-atlas folder {str(folder)!r} does not exist; check wind.resource.atlas_dir."
        )
    found: dict[tuple[str, int], Path] = {}
    missing: list[str] = []
    for variable in variables:
        for height in heights_m:
            path = folder / pattern.format(variable=variable, height=int(height))
            if path.is_file():
                found[(variable, int(height))] = path
            else:
                missing.append(path.name)
    if not found:
        raise InputError(
            f"wind-atlas folder {str(folder)!r} has none of the files {missing}; check "
            "wind.resource.atlas_pattern and atlas_heights_m."
        )
    if missing:
        logger.info("wind atlas %s: files not found and skipped: %s", folder, missing)
    return found


def sample_wind_atlas(
    points: gpd.GeoSeries | gpd.GeoDataFrame,
    *,
    paths: Mapping[tuple[str, int], str | Path],
    resampling: Literal["bilinear", "nearest"] = "bilinear",
) -> pd.DataFrame:
    """Sample wind-atlas rasters at points.

    Parameters
    ----------
    points : geopandas.GeoSeries or geopandas.GeoDataFrame
        Site locations in any CRS (they are reprojected to each raster's CRS).
        Non-point geometries are sampled at their representative point, which
        lies inside the shape.
    paths : mapping
        ``{(variable, height_m): path}``, variable in :data:`ATLAS_VARIABLES`
        (see :func:`atlas_paths`).
    resampling : {"bilinear", "nearest"}, default "bilinear"
        How a value is read between cell centres.

    Returns
    -------
    pandas.DataFrame
        Index of ``points``; one column per raster named by
        :func:`atlas_column`, e.g. ``wind_speed_100m_m_s`` [m s⁻¹],
        ``weibull_a_100m_m_s`` [m s⁻¹], ``weibull_k_100m`` [-]. NaN where the
        raster has nodata (with a warning).

    Raises
    ------
    MissingCRSError
        If ``points`` has no CRS.
    InputError
        If a raster is missing, has no CRS, or a point lies outside it; the
        message names the file.
    """
    if points.crs is None:
        raise MissingCRSError(
            "the points to sample the wind atlas at have no CRS; set it with "
            "gdf.set_crs(...) (sites are in EPSG:4549)."
        )
    if resampling not in ("bilinear", "nearest"):
        raise ValueError(f"resampling must be 'bilinear' or 'nearest'; got {resampling!r}")
    geoms = points.geometry if isinstance(points, gpd.GeoDataFrame) else points
    if len(geoms) and not (geoms.geom_type == "Point").all():
        geoms = geoms.representative_point()
    out = pd.DataFrame(index=points.index)
    for (variable, height), path in sorted(paths.items()):
        out[atlas_column(variable, height)] = _sample_one(Path(path), geoms, resampling)
    return out


def _sample_one(path: Path, geoms: gpd.GeoSeries, resampling: str) -> np.ndarray:
    if not path.is_file():
        raise InputError(f"wind-atlas raster {str(path)!r} does not exist.")
    with rasterio.open(path) as src:
        if src.crs is None:
            raise InputError(
                f"wind-atlas raster {str(path)!r} has no CRS; Global Wind Atlas files are in "
                "EPSG:4326. Set it, e.g. `rio edit-info --crs EPSG:4326 FILE`, and rerun."
            )
        if len(geoms) == 0:
            return np.empty(0)
        pts = geoms.to_crs(src.crs)
        inv = ~src.transform
        x, y = pts.x.to_numpy(float), pts.y.to_numpy(float)
        col_f = inv.a * x + inv.b * y + inv.c
        row_f = inv.d * x + inv.e * y + inv.f
        outside = ~((col_f >= 0) & (col_f <= src.width) & (row_f >= 0) & (row_f <= src.height))
        if outside.any():
            first = list(geoms.index[outside][:5])
            raise InputError(
                f"{int(outside.sum())} point(s) lie outside wind-atlas raster {str(path)!r} "
                f"(bounds {tuple(round(b, 4) for b in src.bounds)} in {src.crs.to_string()}), "
                f"e.g. site index {first}. Use a raster that covers the study area."
            )
        r0 = max(int(np.floor(row_f.min())) - 1, 0)
        c0 = max(int(np.floor(col_f.min())) - 1, 0)
        r1 = min(int(np.ceil(row_f.max())) + 1, src.height)
        c1 = min(int(np.ceil(col_f.max())) + 1, src.width)
        band = src.read(1, window=Window(c0, r0, c1 - c0, r1 - r0), masked=True)
        arr = np.ma.filled(band.astype("float64"), np.nan)
    rows_near = np.clip(np.floor(row_f).astype(int) - r0, 0, arr.shape[0] - 1)
    cols_near = np.clip(np.floor(col_f).astype(int) - c0, 0, arr.shape[1] - 1)
    nearest = arr[rows_near, cols_near]
    if resampling == "nearest":
        values = nearest
    else:
        # cell centres are at half-integer pixel coordinates
        coords = np.vstack([row_f - 0.5 - r0, col_f - 0.5 - c0])
        values = ndimage.map_coordinates(arr, coords, order=1, mode="nearest")
        values = np.where(np.isnan(values), nearest, values)
    if np.isnan(values).any():
        warnings.warn(
            f"wind-atlas raster {str(path)!r} has nodata at {int(np.isnan(values).sum())} "
            "site(s); their value is NaN and the atlas is not used for them.",
            stacklevel=3,
        )
    return values
