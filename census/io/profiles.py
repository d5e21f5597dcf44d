"""Write and read hourly-profile Datasets as NetCDF-4 (h5netcdf) or Zarr.

NetCDF has no time-zone-aware time type: the file stores ``time`` in UTC
(CF ``units = "hours since 1970-01-01 00:00:00"``, no offset) and the zone in
the Dataset attribute ``time_zone``; :func:`read_profiles` restores the
tz-aware stamps. ``xarray.open_dataset`` alone reads the UTC stamps, dimensions,
units and names (NetCDF-4 strings keep the Chinese district names).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import xarray as xr

from census.exceptions import CensusError

__all__ = [
    "merge_profiles",
    "read_profiles",
    "to_file_dataset",
    "write_profiles",
    "write_pypsa_csv_folder",
]

logger = logging.getLogger(__name__)

_FLOAT_VARS = ("generation_mw", "capacity_factor")


def to_file_dataset(ds: xr.Dataset) -> xr.Dataset:
    """Return a copy with UTC time stamps, ready for NetCDF or Zarr.

    Parameters
    ----------
    ds : xarray.Dataset
        A profiles Dataset (:func:`census.profiles.build_profiles`) whose ``time``
        may be tz-aware.

    Returns
    -------
    xarray.Dataset
        ``time`` as naive UTC ``datetime64`` (attribute ``time_zone`` keeps the
        zone of the original stamps).
    """
    out = ds.copy()
    index = ds.indexes["time"]
    if isinstance(index, pd.DatetimeIndex) and index.tz is not None:
        utc = index.tz_convert("UTC").tz_localize(None)
        out = out.assign_coords(time=("time", utc.to_numpy(), dict(ds["time"].attrs)))
        out.attrs["time_zone"] = str(index.tz)
    out["time"].attrs["long_name"] = "time (UTC)"
    return out


def _encoding(ds: xr.Dataset, *, zarr: bool) -> dict[str, dict]:
    enc: dict[str, dict] = {
        "time": {"units": "hours since 1970-01-01 00:00:00", "calendar": "proleptic_gregorian"}
    }
    for name in ds.data_vars:
        if name in _FLOAT_VARS:
            # float32: 7 significant digits, far below the model's own error; halves the file
            enc[name] = {"dtype": "float32"}
            if not zarr:
                enc[name].update({"zlib": True, "complevel": 4, "shuffle": True})
    return enc


def write_profiles(
    ds: xr.Dataset,
    path: str | Path,
    *,
    format: Literal["netcdf", "zarr"] = "netcdf",
) -> Path:
    """Write a profiles Dataset to a NetCDF-4 file or a Zarr store.

    Parameters
    ----------
    ds : xarray.Dataset
        From :func:`census.profiles.build_profiles`.
    path : str or pathlib.Path
        ``.nc`` file or Zarr folder to create (replaced if it exists; run
        folders write into their temporary folder).
    format : {"netcdf", "zarr"}, default "netcdf"
        NetCDF-4 through h5netcdf (compressed), or Zarr (needs ``zarr``).

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    CensusError
        If the engine's package is not installed (the message has the pip line).
    """
    path = Path(path)
    out = to_file_dataset(ds)
    if format == "netcdf":
        try:
            import h5netcdf  # noqa: F401
        except ImportError as err:  # pragma: no cover - a declared dependency
            raise CensusError("writing profiles.nc needs h5netcdf: pip install h5netcdf") from err
        out.to_netcdf(path, engine="h5netcdf", encoding=_encoding(out, zarr=False))
    elif format == "zarr":
        try:
            import zarr  # noqa: F401
        except ImportError as err:
            raise CensusError(
                "[outputs] zarr = true needs the zarr package: pip install zarr"
            ) from err
        out.to_zarr(path, mode="w", encoding=_encoding(out, zarr=True), consolidated=False)
    else:
        raise ValueError(f"format must be 'netcdf' or 'zarr'; got {format!r}")
    logger.info("wrote hourly profiles %s", path)
    return path


def read_profiles(path: str | Path) -> xr.Dataset:
    """Read a profiles file or store back with tz-aware time stamps.

    Parameters
    ----------
    path : str or pathlib.Path
        ``profiles.nc`` or a ``.zarr`` folder written by :func:`write_profiles`.

    Returns
    -------
    xarray.Dataset
        Loaded into memory; ``time`` in the zone of the ``time_zone`` attribute.
    """
    path = Path(path)
    if not path.exists():
        raise CensusError(f"profiles file {str(path)!r} does not exist.")
    if path.is_dir():
        ds = xr.open_zarr(path, consolidated=False).load()
    else:
        with xr.open_dataset(path, engine="h5netcdf") as f:
            ds = f.load()
    tz = ds.attrs.get("time_zone")
    if tz:
        attrs = dict(ds["time"].attrs)
        local = pd.DatetimeIndex(ds.indexes["time"]).tz_localize("UTC").tz_convert(tz)
        ds = ds.assign_coords(time=("time", local, attrs))
    return ds


def write_pypsa_csv_folder(ds: xr.Dataset, folder: str | Path, *, dim: str = "district") -> Path:
    """Write ``buses.csv``, ``generators.csv``, ``generators-p_max_pu.csv``, ``snapshots.csv``.

    Parameters
    ----------
    ds : xarray.Dataset
        Profiles Dataset.
    folder : str or pathlib.Path
        Folder to create (must not exist).
    dim : str, default "district"
        The place dimension.

    Returns
    -------
    pathlib.Path
        ``folder``; ``pypsa.Network().import_from_csv_folder(folder)`` reads it.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=False)
    from census.profiles.pypsa import generator_tables

    buses, generators, p_max_pu = generator_tables(ds, dim=dim)
    buses.to_csv(folder / "buses.csv", encoding="utf-8")
    generators.to_csv(folder / "generators.csv", encoding="utf-8")
    p_max_pu.to_csv(folder / "generators-p_max_pu.csv", encoding="utf-8")
    pd.DataFrame(index=p_max_pu.index).to_csv(folder / "snapshots.csv", encoding="utf-8")
    return folder


def merge_profiles(paths: list[str | Path], *, dim: str = "district") -> xr.Dataset:
    """Merge the profiles of runs on disjoint districts (a batch's district folders).

    Parameters
    ----------
    paths : list of str or pathlib.Path
        ``profiles.nc`` files of runs with the same weather-year length.
    dim : str, default "district"
        The place dimension to join along.

    Returns
    -------
    xarray.Dataset
        Places of every run in order; technologies the union (0 MW and NaN
        capacity factor where a run has none); time, attributes of the first.

    Raises
    ------
    CensusError
        If a place appears twice or the runs' time axes differ in length.
    """
    parts = [read_profiles(p) for p in paths]
    if not parts:
        raise CensusError("merge_profiles needs at least one profiles file.")
    n_time = parts[0].sizes["time"]
    for path, ds in zip(paths, parts, strict=True):
        if ds.sizes["time"] != n_time:
            raise CensusError(
                f"{path}: {ds.sizes['time']} time steps, the first file has {n_time}; runs "
                "of one batch need the same weather year."
            )
    ids = np.concatenate([ds[dim].to_numpy() for ds in parts])
    if len(set(ids.tolist())) != len(ids):
        raise CensusError(f"the profiles to merge share {dim} ids; each run must cover others.")
    time = parts[0].indexes["time"]
    parts = [ds.assign_coords(time=time) for ds in parts]
    fill = {
        "generation_mw": 0.0,
        "capacity_mw_ac": 0.0,
        "capacity_mw_dc": 0.0,
        "energy_mwh_yr": 0.0,
        "capacity_factor": np.nan,
    }
    merged = xr.concat(parts, dim=dim, join="outer", fill_value=fill, combine_attrs="override")
    for name in merged.variables:
        if name in parts[0].variables:
            merged[name].attrs = dict(parts[0][name].attrs)
    return merged
