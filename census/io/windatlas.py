"""Read and sample wind-atlas rasters in the form of the Global Wind Atlas.

The Global Wind Atlas (GWA 3, DTU and World Bank) publishes one GeoTIFF per
variable and height: mean wind speed [m s⁻¹] and the Weibull scale A
[m s⁻¹] and shape k [-], in EPSG:4326. This module finds such files in a
folder by a name pattern (``{variable}_{height}m.tif`` by default), reads them
with rioxarray into one :class:`xarray.Dataset` with a ``height`` dimension and
the rasters' CRS (:func:`read_wind_atlas`; only the cells around the sites when
points are given), samples it at site points (:func:`sample_atlas`, points
reprojected to the atlas CRS) and interpolates it to hub height in xarray
(:func:`atlas_at_hub_height`: mean speed linear in ln h, Weibull A a power law,
k linear in h, between the two layers around the hub).

Sampling is ``"bilinear"`` (default; between the four nearest cell centres, as
STYLE.md asks for continuous fields) or ``"nearest"`` (the cell that contains
the point). Where a bilinear neighbourhood touches a nodata cell, the nearest
cell's value is used instead.

Hub heights between two layers use those two layers; census before 2026-11
(and windpowerlib's ``logarithmic_interpolation_extrapolation``) used the two
layers *nearest* the hub, which differs only when a lower layer is nearer than
the upper one of the pair around the hub (e.g. layers 10/50/100 m and a hub
below 55 m); ``tests/io/test_windatlas_xarray.py`` checks equality for the Global
Wind Atlas layers 50-200 m and hubs of 60-230 m.
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import xarray as xr

from census.exceptions import InputError, MissingCRSError

__all__ = [
    "ATLAS_UNITS",
    "ATLAS_VARIABLES",
    "atlas_at_hub_height",
    "atlas_column",
    "atlas_frame_to_dataset",
    "atlas_mean_speed",
    "atlas_paths",
    "interp_height",
    "read_wind_atlas",
    "sample_atlas",
    "sample_wind_atlas",
]

logger = logging.getLogger(__name__)

ATLAS_VARIABLES: tuple[str, ...] = ("wind_speed", "weibull_a", "weibull_k")
"""Variables of a wind atlas: mean wind speed, Weibull scale A, Weibull shape k."""

ATLAS_UNITS: dict[str, str] = {"wind_speed": "m_s", "weibull_a": "m_s", "weibull_k": ""}
"""Unit token of each variable, used in column names (k is dimensionless)."""


_CF_UNITS = {"wind_speed": "m s-1", "weibull_a": "m s-1", "weibull_k": "1"}
_LONG_NAMES = {
    "wind_speed": "mean wind speed",
    "weibull_a": "Weibull scale parameter A",
    "weibull_k": "Weibull shape parameter k",
}
_COLUMN = re.compile(r"(?P<var>wind_speed|weibull_a|weibull_k)_(?P<h>\d+)m(_m_s)?")


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
    atlas = read_wind_atlas(paths, points=geoms)
    sampled = sample_atlas(atlas, geoms, resampling=resampling)
    out = pd.DataFrame(index=points.index)
    for (variable, height), path in sorted(paths.items()):
        values = sampled[variable].sel(height=float(height)).to_numpy()
        if np.isnan(values).any():
            warnings.warn(
                f"wind-atlas raster {str(path)!r} has nodata at {int(np.isnan(values).sum())} "
                "site(s); their value is NaN and the atlas is not used for them.",
                stacklevel=2,
            )
        out[atlas_column(variable, height)] = values
    return out


def _open_layer(path: Path) -> xr.DataArray:
    """One atlas GeoTIFF as a lazily read (y, x) DataArray with its CRS; nodata -> NaN."""
    import rioxarray

    if not path.is_file():
        raise InputError(f"wind-atlas raster {str(path)!r} does not exist.")
    da = rioxarray.open_rasterio(path, masked=True)
    if da.rio.crs is None:
        raise InputError(
            f"wind-atlas raster {str(path)!r} has no CRS; Global Wind Atlas files are in "
            "EPSG:4326. Set it, e.g. `rio edit-info --crs EPSG:4326 FILE`, and rerun."
        )
    return da.isel(band=0, drop=True)


def _clip_to_points(da: xr.DataArray, geoms: gpd.GeoSeries, path: Path) -> xr.DataArray:
    """Clip to the cells around the points (two cells of margin); error if one is outside."""
    if len(geoms) == 0:
        return da.isel(x=slice(0, 0), y=slice(0, 0))
    pts = geoms.to_crs(da.rio.crs)
    x, y = pts.x.to_numpy(float), pts.y.to_numpy(float)
    left, bottom, right, top = da.rio.bounds()
    outside = ~((x >= left) & (x <= right) & (y >= bottom) & (y <= top))
    if outside.any():
        first = list(geoms.index[outside][:5])
        raise InputError(
            f"{int(outside.sum())} point(s) lie outside wind-atlas raster {str(path)!r} "
            f"(bounds {tuple(round(b, 4) for b in (left, bottom, right, top))} in "
            f"{da.rio.crs.to_string()}), e.g. site index {first}. Use a raster that covers "
            "the study area."
        )
    res_x, res_y = (abs(r) for r in da.rio.resolution())
    return da.rio.clip_box(
        x.min() - 2 * res_x, y.min() - 2 * res_y, x.max() + 2 * res_x, y.max() + 2 * res_y
    )


def read_wind_atlas(
    paths: Mapping[tuple[str, int], str | Path],
    *,
    points: gpd.GeoSeries | None = None,
) -> xr.Dataset:
    """Read wind-atlas rasters into one Dataset with a ``height`` dimension.

    Parameters
    ----------
    paths : mapping
        ``{(variable, height_m): path}`` (see :func:`atlas_paths`).
    points : geopandas.GeoSeries, optional
        Read only the cells around these points (any CRS); each must lie inside
        every raster.

    Returns
    -------
    xarray.Dataset
        Variables of :data:`ATLAS_VARIABLES` present, each (height, y, x): mean
        wind speed [m s⁻¹], Weibull A [m s⁻¹], Weibull k [-]; ``height`` in [m];
        NaN where a raster has nodata or a variable lacks a height. The CRS of
        the first raster (``ds.rio.crs``); rasters on another grid are
        reprojected onto it (bilinear).

    Raises
    ------
    InputError
        If a raster is missing, has no CRS, or a point lies outside it.
    """
    from rasterio.enums import Resampling

    layers: dict[str, list[xr.DataArray]] = {}
    ref: xr.DataArray | None = None
    for (variable, height), path in sorted(paths.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        if variable not in ATLAS_UNITS:
            raise ValueError(f"variable must be one of {ATLAS_VARIABLES}; got {variable!r}")
        da = _open_layer(Path(path))
        if points is not None:
            da = _clip_to_points(da, points, Path(path))
        da = da.astype("float64")
        if ref is None:
            ref = da
        elif da.shape != ref.shape or not (
            np.allclose(da["x"], ref["x"]) and np.allclose(da["y"], ref["y"])
        ):
            da = da.rio.reproject_match(ref, resampling=Resampling.bilinear)
            da = da.assign_coords(x=ref["x"], y=ref["y"])
        layers.setdefault(variable, []).append(
            da.drop_vars("spatial_ref", errors="ignore").expand_dims(height=[float(height)])
        )
    if ref is None:
        raise InputError("no wind-atlas rasters given; check wind.resource.atlas_dir.")
    ds = xr.Dataset({v: xr.concat(das, dim="height") for v, das in layers.items()})
    ds = ds.sortby("height")
    ds["height"].attrs.update({"units": "m", "long_name": "height above ground"})
    for v in ds.data_vars:
        ds[v].attrs.update({"units": _CF_UNITS[v], "long_name": _LONG_NAMES[v]})
    return ds.rio.write_crs(ref.rio.crs)


def sample_atlas(
    atlas: xr.Dataset,
    points: gpd.GeoSeries,
    *,
    resampling: Literal["bilinear", "nearest"] = "bilinear",
) -> xr.Dataset:
    """Sample an atlas Dataset at points.

    Parameters
    ----------
    atlas : xarray.Dataset
        :func:`read_wind_atlas` output (with a CRS).
    points : geopandas.GeoSeries
        Points in any CRS.
    resampling : {"bilinear", "nearest"}, default "bilinear"
        Linear between the four surrounding cell centres, or the cell holding the
        point. Where a bilinear neighbourhood touches nodata (or a point is beyond
        the outermost cell centres), the nearest cell's value is used.

    Returns
    -------
    xarray.Dataset
        The atlas variables over (height, site), ``site`` in the order of
        ``points``.
    """
    pts = points.to_crs(atlas.rio.crs)
    x = xr.DataArray(pts.x.to_numpy(float), dims="site")
    y = xr.DataArray(pts.y.to_numpy(float), dims="site")
    atlas = atlas.drop_vars("spatial_ref", errors="ignore")
    if len(pts) == 0:
        return atlas.isel(x=x.astype(int), y=y.astype(int))
    nearest = atlas.sel(x=x, y=y, method="nearest")
    if resampling == "nearest":
        return nearest.drop_vars(["x", "y"])
    linear = atlas.interp(x=x, y=y, method="linear")
    return linear.drop_vars(["x", "y"]).fillna(nearest.drop_vars(["x", "y"]))


def atlas_frame_to_dataset(frame: pd.DataFrame) -> xr.Dataset:
    """Turn sampled atlas columns (``wind_speed_100m_m_s`` ...) into a (site, height) Dataset.

    Parameters
    ----------
    frame : pandas.DataFrame
        Columns named by :func:`atlas_column`; other columns are ignored.

    Returns
    -------
    xarray.Dataset
        One variable per atlas variable over (site, height), ``site`` = the
        frame's index; NaN where a height is missing.
    """
    found: dict[str, dict[float, np.ndarray]] = {}
    for col in frame.columns:
        match = _COLUMN.fullmatch(str(col))
        if match:
            found.setdefault(match["var"], {})[float(match["h"])] = pd.to_numeric(
                frame[col], errors="coerce"
            ).to_numpy(float)
    data = {}
    for var, by_height in found.items():
        heights = sorted(by_height)
        data[var] = xr.DataArray(
            np.stack([by_height[h] for h in heights], axis=1),
            dims=("site", "height"),
            coords={"site": frame.index.to_numpy(), "height": heights},
        )
    return xr.Dataset(data) if data else xr.Dataset(coords={"site": frame.index.to_numpy()})


def interp_height(
    da: xr.DataArray,
    height_m: float,
    *,
    log_height: bool,
    log_value: bool = False,
) -> xr.DataArray:
    """Interpolate atlas layers to one height, linearly in (log) height.

    Between the two layers around ``height_m``, or, outside the atlas heights,
    from the two nearest (linear extrapolation). ``log_height`` interpolates in
    ln(height) (the log law between two heights, as windpowerlib's
    ``logarithmic_interpolation_extrapolation``); with ``log_value`` too, ln of
    the value is linear in ln(height): a power law (the shear exponent of
    Weibull A). Heights where every value is NaN are dropped first.

    Parameters
    ----------
    da : xarray.DataArray
        With a ``height`` dimension [m].
    height_m : float
        Target height above ground. [m]
    log_height, log_value : bool
        Interpolate in ln(height), and in ln(value).

    Returns
    -------
    xarray.DataArray
        Without ``height``; NaN where fewer than two heights are usable (unless
        ``height_m`` is one of them).

    Examples
    --------
    Power law through 6 m/s at 50 m and 7 m/s at 100 m, at 200 m:
    7 x (7/6)^1 = 8.1667 m/s.

    >>> a = xr.DataArray([6.0, 7.0], dims="height", coords={"height": [50.0, 100.0]})
    >>> round(float(interp_height(a, 200.0, log_height=True, log_value=True)), 4)
    8.1667
    """
    da = da.dropna("height", how="all")
    heights = da["height"].to_numpy().astype(float)
    if np.any(np.isclose(heights, height_m)):
        return da.isel(height=int(np.argmin(np.abs(heights - height_m)))).drop_vars("height")
    if len(heights) < 2:
        return xr.full_like(
            da.isel(height=0, drop=True) if len(heights) else da.sum("height"), np.nan
        )
    coord = np.log(heights) if log_height else heights
    target = np.log(height_m) if log_height else float(height_m)
    values = np.log(da) if log_value else da
    out = values.assign_coords(height=coord).interp(
        height=target, method="linear", kwargs={"fill_value": "extrapolate"}
    )
    out = out.drop_vars("height")
    return np.exp(out) if log_value else out


def atlas_at_hub_height(atlas: xr.Dataset, hub_height_m: float) -> xr.Dataset:
    """Atlas values at hub height: mean wind speed, Weibull A and k.

    Mean wind speed: log law between the atlas heights (linear in ln h); when
    the atlas has no mean-speed layers, the Weibull means A Γ(1 + 1/k) at each
    height. Weibull A: power law (ln A linear in ln h). Weibull k: linear in h.
    The same rules as :func:`census.wind.yield_.atlas_mean_wind_speed_at_hub`
    and :func:`~census.wind.yield_.atlas_weibull_at_hub`.

    Parameters
    ----------
    atlas : xarray.Dataset
        Atlas variables with a ``height`` dimension (:func:`read_wind_atlas`,
        :func:`sample_atlas` or :func:`atlas_frame_to_dataset`).
    hub_height_m : float
        Hub height above ground. [m]

    Returns
    -------
    xarray.Dataset
        ``wind_speed`` [m s⁻¹], ``weibull_a`` [m s⁻¹], ``weibull_k`` [-] without
        the ``height`` dimension (those the atlas allows; NaN where not).
    """
    out = {}
    if "weibull_a" in atlas and "weibull_k" in atlas:
        a, k = atlas["weibull_a"], atlas["weibull_k"]
        usable = (a > 0) & (k > 0)
        out["weibull_a"] = interp_height(
            a.where(usable), hub_height_m, log_height=True, log_value=True
        )
        out["weibull_k"] = interp_height(k.where(usable), hub_height_m, log_height=False)
    speed = atlas_mean_speed(atlas)
    if speed is not None:
        out["wind_speed"] = interp_height(speed, hub_height_m, log_height=True)
    return xr.Dataset(out)


def atlas_mean_speed(atlas: xr.Dataset) -> xr.DataArray | None:
    """Mean wind speed at each atlas height: the mean-speed layers, else A Γ(1 + 1/k).

    Parameters
    ----------
    atlas : xarray.Dataset
        Atlas variables with a ``height`` dimension.

    Returns
    -------
    xarray.DataArray or None
        Mean wind speed [m s⁻¹] over ``height``; per place, the Weibull means
        where the mean-speed layers have no value at any height. None without
        either.
    """
    from scipy import special

    weibull = None
    if "weibull_a" in atlas and "weibull_k" in atlas:
        a, k = atlas["weibull_a"], atlas["weibull_k"]
        weibull = a.where(k > 0) * special.gamma(1 + 1 / k.where(k > 0))
    if "wind_speed" not in atlas:
        return weibull
    speed = atlas["wind_speed"]
    if weibull is None:
        return speed
    return speed.where(speed.notnull().any("height"), weibull)
