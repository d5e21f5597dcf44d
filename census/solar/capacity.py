"""DC capacity of PV sites from usable area, coverage and module efficiency.

``capacity_mw_dc = usable_area_m2 × coverage_frac × efficiency_frac × 1000 W m⁻²``
``capacity_mw_ac = capacity_mw_dc / dc_ac_ratio`` (the archetype's inverter sizing)

``coverage_frac`` is the archetype's ground coverage ratio for tilted rows
(module slant area per ground area) and its packing fraction for flush or
vertical mounting (module area per roof or facade area); ``efficiency_frac``
is the module technology's STC efficiency, i.e. DC watts per m² of module at
1000 W m⁻². No single "MW per km²" number is assumed.
"""

from __future__ import annotations

import logging
from typing import TypeVar

import numpy as np
import pandas as pd

from census.exceptions import ConfigError
from census.schema import require_columns
from census.settings.pv import PVConfig
from census.solar.systems import capacity_density_w_m2
from census.units import w_to_mw

__all__ = ["add_pv_capacity", "pv_rows"]

logger = logging.getLogger(__name__)

FrameT = TypeVar("FrameT", bound=pd.DataFrame)


def pv_rows(sites: pd.DataFrame) -> np.ndarray:
    """Boolean mask of PV rows: ``pv_archetype`` is a non-empty string.

    Parameters
    ----------
    sites : pandas.DataFrame
        Site table with a ``pv_archetype`` column.

    Returns
    -------
    numpy.ndarray of bool
    """
    archetype = sites["pv_archetype"]
    return (archetype.notna() & (archetype.astype("string").str.strip() != "")).to_numpy(dtype=bool)


def add_pv_capacity(sites: FrameT, config: PVConfig) -> FrameT:
    """Add the DC capacity, site technology and module technology of PV sites.

    Parameters
    ----------
    sites : pandas.DataFrame or geopandas.GeoDataFrame
        Site table with ``eligible`` (bool), ``usable_area_m2`` [m²] and
        ``pv_archetype`` (a key of ``config.archetypes``; missing for rows that
        are not PV, which are left untouched). An optional ``pv_technology``
        column overrides the archetype's module technology where it is set.
    config : PVConfig
        Archetypes and technologies.

    Returns
    -------
    same type as ``sites``
        A copy with ``technology`` (e.g. ``pv_rooftop``), ``pv_technology``
        (module technology), ``capacity_mw_dc`` (module nameplate at STC) [MW]
        and ``capacity_mw_ac`` (inverter rating, DC / the archetype's
        ``dc_ac_ratio``) [MW] set on PV rows; 0 MW for ineligible PV rows.

    Raises
    ------
    SchemaError
        If a required column is missing.
    ConfigError
        If a row names an archetype or technology that ``config`` lacks.
    ValueError
        If a PV row has a negative or missing ``usable_area_m2`` while eligible.

    Examples
    --------
    A 10 000 m² ground site with GCR 0.62 and 22.5 % modules:
    10 000 × 0.62 × 0.225 × 1000 W = 1.395 MW.
    """
    required = ["eligible", "usable_area_m2", "pv_archetype"]
    require_columns(sites, required, what="add_pv_capacity", fix="Run the screening stage first.")
    out = sites.copy()
    is_pv = pv_rows(out)
    for col, dtype in (("technology", "object"), ("pv_technology", "object")):
        if col not in out.columns:
            out[col] = pd.Series(None, index=out.index, dtype=dtype)
        else:
            out[col] = out[col].astype("object")
    for col in ("capacity_mw_dc", "capacity_mw_ac"):
        if col not in out.columns:
            out[col] = np.nan
    if not is_pv.any():
        return out

    archetypes = out.loc[is_pv, "pv_archetype"].astype(str)
    unknown = sorted(set(archetypes) - set(config.archetypes))
    if unknown:
        raise ConfigError(
            f"column 'pv_archetype' has value(s) {unknown} that are not PV archetypes; "
            f"expected one of {sorted(config.archetypes)}. Fix the screening rules or add "
            "the archetype under [pv.archetypes]."
        )
    default_tech = archetypes.map({k: a.technology for k, a in config.archetypes.items()})
    given = out.loc[is_pv, "pv_technology"]
    tech = given.where(given.notna() & (given.astype("string") != ""), default_tech).astype(str)
    unknown_tech = sorted(set(tech) - set(config.technologies))
    if unknown_tech:
        raise ConfigError(
            f"column 'pv_technology' has value(s) {unknown_tech}; expected one of "
            f"{sorted(config.technologies)}. Add the technology under [pv.technologies]."
        )

    eligible = out.loc[is_pv, "eligible"].fillna(False).astype(bool).to_numpy()
    area_m2 = pd.to_numeric(out.loc[is_pv, "usable_area_m2"], errors="coerce").to_numpy(float)
    bad = eligible & ~(area_m2 >= 0)
    if bad.any():
        raise ValueError(
            f"column 'usable_area_m2' is negative or missing for {int(bad.sum())} eligible PV "
            "site(s); the screening stage must give every eligible site an area >= 0 [m2]."
        )
    # one density per distinct (archetype, technology) pair, then a vectorized lookup
    pairs = pd.MultiIndex.from_arrays([archetypes.to_numpy(), tech.to_numpy()])
    distinct = pairs.unique()
    lookup = pd.Series(
        [capacity_density_w_m2(config.archetypes[a], config.technologies[t]) for a, t in distinct],
        index=distinct,
    )
    density_w_m2 = lookup.reindex(pairs).to_numpy(dtype=float)
    capacity_mw_dc = np.where(eligible, w_to_mw(area_m2 * density_w_m2), 0.0)
    dc_ac_ratio = archetypes.map({k: a.dc_ac_ratio for k, a in config.archetypes.items()})
    capacity_mw_ac = capacity_mw_dc / dc_ac_ratio.to_numpy(dtype=float)

    out.loc[is_pv, "technology"] = archetypes.map(config.category_technology).to_numpy()
    out.loc[is_pv, "pv_technology"] = tech.to_numpy()
    out.loc[is_pv, "capacity_mw_dc"] = capacity_mw_dc
    out.loc[is_pv, "capacity_mw_ac"] = capacity_mw_ac
    logger.debug("PV capacity: %d sites, %.1f MW DC", int(is_pv.sum()), float(capacity_mw_dc.sum()))
    return out
