"""Run-folder hook: write the hourly profiles and the tables made from them."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from census.io.profiles import write_profiles

__all__ = ["write_profile_outputs"]

logger = logging.getLogger(__name__)


def write_profile_outputs(run_folder: Any, result: Any, config: Any) -> dict[str, Path]:
    """Write ``profiles.nc`` (and ``profiles.zarr`` with ``[outputs] zarr``) into a run folder.

    Parameters
    ----------
    run_folder : census.io.outputs.RunFolder
        The open run folder.
    result : census.pipeline.CensusResult
        With ``profiles`` (an xarray Dataset).
    config : CensusConfig or LoadedConfig
        ``outputs.zarr`` switches the Zarr store on.

    Returns
    -------
    dict of str to pathlib.Path
        Final paths by output name.
    """
    cfg = getattr(config, "config", config)
    ds = result.profiles
    out: dict[str, Path] = {}
    write_profiles(ds, run_folder.file("profiles.nc"))
    out["profiles.nc"] = run_folder.final("profiles.nc")
    shift = getattr(result, "storage_shift", None)
    if shift is not None:
        out["storage_shift_by_district.csv"] = run_folder.write_csv(
            "storage_shift_by_district.csv", shift
        )
    if bool(getattr(getattr(cfg, "outputs", None), "zarr", False)):
        write_profiles(ds, run_folder.file("profiles.zarr"), format="zarr")
        out["profiles.zarr"] = run_folder.final("profiles.zarr")
    return out
