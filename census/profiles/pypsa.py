"""PyPSA generator tables from a profiles Dataset (PyPSA itself is not needed).

One generator per place x technology with capacity: ``p_nom`` = AC capacity
[MW], ``p_max_pu`` = the hourly capacity factor (AC output / AC capacity) [-],
on a bus per place. The tables follow PyPSA's component attribute names, so a
PyPSA user feeds them to ``Network.add`` (or writes them as a CSV folder for
``Network.import_from_csv_folder`` with
:func:`census.io.profiles.write_pypsa_csv_folder`); see ``docs/profiles.md``.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import xarray as xr

__all__ = ["generator_tables"]

logger = logging.getLogger(__name__)


def generator_tables(
    ds: xr.Dataset, *, dim: str = "district"
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Buses, generators and ``p_max_pu`` for PyPSA.

    Parameters
    ----------
    ds : xarray.Dataset
        :func:`census.profiles.build_profiles` output, or
        :func:`census.io.profiles.read_profiles` of a ``profiles.nc``.
    dim : str, default "district"
        The place dimension; one bus per place.

    Returns
    -------
    buses : pandas.DataFrame
        Index bus name (the place id as text); ``name_zh``, ``name_en``.
    generators : pandas.DataFrame
        Index ``<place>_<technology>``; ``bus``, ``carrier`` (the technology),
        ``p_nom`` [MW AC], ``p_nom_extendable`` (False), ``marginal_cost``
        (0) [currency MWh⁻¹]. Only place x technology pairs with capacity.
    p_max_pu : pandas.DataFrame
        Index snapshots (local time without zone, interval start, as PyPSA
        snapshots are naive), one column per generator [-].
    """
    cap = ds["capacity_mw_ac"].transpose(dim, "technology").to_pandas()
    stacked = cap.stack()
    stacked = stacked[stacked > 0]
    places = stacked.index.get_level_values(0)
    techs = stacked.index.get_level_values(1)
    names = [f"{p}_{t}" for p, t in zip(places, techs, strict=True)]
    generators = pd.DataFrame(
        {
            "bus": [str(p) for p in places],
            "carrier": list(techs),
            "p_nom": stacked.to_numpy(float),
            "p_nom_extendable": False,
            "marginal_cost": 0.0,
        },
        index=pd.Index(names, name="Generator"),
    )
    buses = pd.DataFrame(index=pd.Index([str(p) for p in ds[dim].to_numpy()], name="Bus"))
    for col in ("name_zh", "name_en"):
        if col in ds.coords:
            buses[col] = ds[col].to_numpy()
    index = pd.DatetimeIndex(ds.indexes["time"])
    if index.tz is None and ds.attrs.get("time_zone"):
        index = index.tz_localize("UTC").tz_convert(ds.attrs["time_zone"])
    snapshots = index.tz_localize(None) if index.tz is not None else index
    cf = ds["capacity_factor"].transpose("time", dim, "technology")
    columns = {}
    for name, p, t in zip(names, places, techs, strict=True):
        columns[name] = np.nan_to_num(cf.sel({dim: p, "technology": t}).to_numpy().astype(float))
    p_max_pu = pd.DataFrame(columns, index=pd.Index(snapshots, name="snapshot"))
    return buses, generators, p_max_pu
