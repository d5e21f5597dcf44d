"""How much of the centralized PV and wind output the obligated storage could shift.

The storage obligation (a share of the capacity of centralized PV and wind, for
a number of hours) is a power and an energy. Against an export limit (a share of
the district's AC capacity of those technologies that the grid accepts at once),
the hourly profile says how much energy the storage could actually take:

* surplus(t) = max(G(t) - L, 0), the output above the export limit L;
* each hour the storage charges at most min(surplus(t), P) (power P);
* each day it takes at most its energy E in total (one cycle a day, empty at the
  start of each day: the daily model of the obligation's duration);
* it gives back the charged energy times the round-trip efficiency, limited by
  the room under the limit on the same day, sum over hours of min(L - G(t), P)
  where G(t) < L.

This is a bound on what the obligated storage can do for curtailment, not a
dispatch optimisation; it ignores prices and the order of hours within a day.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import xarray as xr

from census.exceptions import SchemaError

__all__ = ["storage_shift", "storage_shift_by_district"]

logger = logging.getLogger(__name__)


def storage_shift(
    generation_mw: np.ndarray,
    days: np.ndarray,
    *,
    export_limit_mw: np.ndarray,
    storage_mw: np.ndarray,
    storage_mwh: np.ndarray,
    round_trip_efficiency_frac: float,
    step_h: float = 1.0,
) -> dict[str, np.ndarray]:
    """Energy above an export limit and what a daily-cycling storage could shift.

    Parameters
    ----------
    generation_mw : numpy.ndarray
        Shape (hours, places): AC output of the technologies that carry the
        obligation. [MW]
    days : numpy.ndarray
        Shape (hours,): a label of each step's day (local calendar date).
    export_limit_mw : numpy.ndarray
        Shape (places,): the most the grid takes at once. [MW]
    storage_mw, storage_mwh : numpy.ndarray
        Shape (places,): storage power [MW] and energy [MWh].
    round_trip_efficiency_frac : float
        Energy given back per energy taken. [frac]
    step_h : float, default 1
        Length of a step. [h]

    Returns
    -------
    dict of str to numpy.ndarray
        Shape (places,) each: ``generation_mwh``, ``surplus_mwh`` (above the
        limit), ``hours_above_limit`` [h], ``charged_mwh``, ``delivered_mwh``
        (after losses and the room under the limit), ``spilled_mwh`` (surplus not
        taken), all over the series (not scaled to a year).

    Examples
    --------
    One place, limit 7 MW, storage 1 MW / 2 MWh, one day with 9 MW for 4 h and
    nothing otherwise: 8 MWh above the limit, 4 MWh at 1 MW, the day takes 2 MWh
    and gives back 1.7 MWh at 85 %:

    >>> g = np.zeros((24, 1)); g[10:14] = 9.0
    >>> r = storage_shift(g, np.zeros(24), export_limit_mw=np.array([7.0]),
    ...                   storage_mw=np.array([1.0]), storage_mwh=np.array([2.0]),
    ...                   round_trip_efficiency_frac=0.85)
    >>> float(r["surplus_mwh"][0]), float(r["charged_mwh"][0]), float(r["delivered_mwh"][0])
    (8.0, 2.0, 1.7)
    """
    g = np.asarray(generation_mw, dtype=float)
    if g.ndim != 2 or len(days) != g.shape[0]:
        raise ValueError(
            f"generation_mw must be (hours, places) with one day label per hour; got "
            f"{g.shape} and {len(days)} labels."
        )
    limit = np.asarray(export_limit_mw, float)[None, :]
    p = np.asarray(storage_mw, float)[None, :]
    e = np.asarray(storage_mwh, float)
    surplus = np.maximum(g - limit, 0.0)
    charge_mwh = np.minimum(surplus, p) * step_h
    room_mwh = np.minimum(np.maximum(limit - g, 0.0), p) * step_h
    codes, _ = pd.factorize(np.asarray(days))
    n_days = int(codes.max()) + 1 if len(codes) else 0
    day_charge = np.zeros((n_days, g.shape[1]))
    day_room = np.zeros((n_days, g.shape[1]))
    np.add.at(day_charge, codes, charge_mwh)
    np.add.at(day_room, codes, room_mwh)
    charged = np.minimum(day_charge, e[None, :])
    delivered = np.minimum(charged * round_trip_efficiency_frac, day_room)
    surplus_mwh = surplus.sum(axis=0) * step_h
    charged_mwh = charged.sum(axis=0)
    return {
        "generation_mwh": g.sum(axis=0) * step_h,
        "surplus_mwh": surplus_mwh,
        "hours_above_limit": (surplus > 0).sum(axis=0) * step_h,
        "charged_mwh": charged_mwh,
        "delivered_mwh": delivered.sum(axis=0),
        "spilled_mwh": surplus_mwh - charged_mwh,
    }


def storage_shift_by_district(
    profiles: xr.Dataset,
    by_district: pd.DataFrame,
    *,
    technologies: list[str],
    export_limit_frac: float,
    round_trip_efficiency_frac: float,
    dim: str = "district",
) -> pd.DataFrame:
    """Storage-shift table per district from the hourly profiles.

    Parameters
    ----------
    profiles : xarray.Dataset
        :func:`census.profiles.build_profiles` output (tz-aware ``time``).
    by_district : pandas.DataFrame
        The roll-up's district x category table with ``adcode``, ``storage_mw``
        and ``storage_mwh`` (the obligation, on the roll-up's capacity basis).
    technologies : list of str
        Technologies that carry the obligation (``targets.storage_technologies``).
    export_limit_frac : float
        Export limit as a share of their AC capacity. [frac]
    round_trip_efficiency_frac : float
        Storage round-trip efficiency. [frac]
    dim : str, default "district"
        The profiles' group dimension.

    Returns
    -------
    pandas.DataFrame
        One row per district: ``adcode``, ``name_zh``, ``name_en``,
        ``capacity_mw_ac``, ``export_limit_mw``, ``storage_mw``, ``storage_mwh``,
        ``energy_mwh_yr``, ``above_limit_mwh_yr``, ``hours_above_limit``,
        ``charged_mwh_yr``, ``delivered_mwh_yr``, ``spilled_mwh_yr``,
        ``above_limit_frac`` (of the energy), ``shifted_frac`` (charged share of
        the energy above the limit; NaN without any). Energies are scaled to a
        year with the profiles' ``annual_factor_h``.
    """
    for col in ("adcode", "storage_mw", "storage_mwh"):
        if col not in by_district.columns:
            raise SchemaError(f"storage_shift_by_district needs by_district column {col!r}.")
    techs = [t for t in technologies if t in set(profiles["technology"].to_numpy())]
    ids = profiles[dim].to_numpy()
    if techs:
        gen = profiles["generation_mw"].sel(technology=techs).sum("technology")
        cap = profiles["capacity_mw_ac"].sel(technology=techs).sum("technology").to_numpy()
    else:
        gen = xr.zeros_like(profiles["generation_mw"].isel(technology=0))
        cap = np.zeros(len(ids))
    g = gen.transpose("time", dim).to_numpy()
    index = pd.DatetimeIndex(profiles.indexes["time"])
    days = index.normalize().to_numpy() if len(index) else np.array([])
    step_h = (index[1] - index[0]) / pd.Timedelta(hours=1) if len(index) > 1 else 1.0
    obligation = by_district.groupby("adcode")[["storage_mw", "storage_mwh"]].sum()
    obligation = obligation.reindex(ids).fillna(0.0)
    limit = cap * export_limit_frac
    res = storage_shift(
        g,
        days,
        export_limit_mw=limit,
        storage_mw=obligation["storage_mw"].to_numpy(float),
        storage_mwh=obligation["storage_mwh"].to_numpy(float),
        round_trip_efficiency_frac=round_trip_efficiency_frac,
        step_h=step_h,
    )
    # per step -> per year: annual_factor_h = step x 8760 / hours covered, so divide the step out
    year = float(profiles.attrs.get("annual_factor_h", step_h)) / step_h
    out = pd.DataFrame({"adcode": ids})
    for col in ("name_zh", "name_en"):
        if col in profiles.coords:
            out[col] = profiles[col].to_numpy()
    out["capacity_mw_ac"] = cap
    out["export_limit_mw"] = limit
    out["storage_mw"] = obligation["storage_mw"].to_numpy(float)
    out["storage_mwh"] = obligation["storage_mwh"].to_numpy(float)
    out["energy_mwh_yr"] = res["generation_mwh"] * year
    out["above_limit_mwh_yr"] = res["surplus_mwh"] * year
    out["hours_above_limit"] = res["hours_above_limit"]
    out["charged_mwh_yr"] = res["charged_mwh"] * year
    out["delivered_mwh_yr"] = res["delivered_mwh"] * year
    out["spilled_mwh_yr"] = res["spilled_mwh"] * year
    with np.errstate(invalid="ignore", divide="ignore"):
        out["above_limit_frac"] = np.where(
            out["energy_mwh_yr"] > 0, out["above_limit_mwh_yr"] / out["energy_mwh_yr"], np.nan
        )
        out["shifted_frac"] = np.where(
            out["above_limit_mwh_yr"] > 0,
            out["charged_mwh_yr"] / out["above_limit_mwh_yr"],
            np.nan,
        )
    return out
