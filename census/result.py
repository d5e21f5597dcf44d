"""What a census run returns: :class:`CensusResult`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

__all__ = ["CensusResult"]


@dataclass
class CensusResult:
    """Everything a census run produces: all the report shows, written or not.

    Attributes
    ----------
    sites : geopandas.GeoDataFrame
        The site table (metric CRS), one row per candidate site.
    turbines : geopandas.GeoDataFrame
        Turbine points of the wind layout (metric CRS).
    districts : geopandas.GeoDataFrame
        The districts of the run (metric CRS).
    by_district : pandas.DataFrame
        District x category x technology table.
    district_totals : pandas.DataFrame
        One row per district.
    city : pandas.DataFrame
        City totals per category and technology, plus an ``all`` row.
    targets : pandas.DataFrame
        Potential against each city target.
    tally : pandas.DataFrame
        Sites failing each screening rule, per category (agrees with ``eligible``).
    pv_profile_mw : pandas.DataFrame
        Hourly AC PV output per category for the whole run. [MW]
    provenance : dict
        What ``provenance.json`` holds.
    supply_curve : pandas.DataFrame, optional
        Eligible sites ranked by LCOE, with cumulative capacity and the targets reached.
    existing_gap : pandas.DataFrame, optional
        Each target against existing capacity plus potential (gap columns NaN and
        ``has_existing`` false without an existing-capacity table).
    existing_by_district : pandas.DataFrame, optional
        Installed capacity beside the potential, per district.
    existing_capacity : pandas.DataFrame, optional
        The existing-capacity table as read, or ``None``.
    profiles : xarray.Dataset or None
        Hourly generation by district and technology
        (:func:`census.profiles.build_profiles`); None without PV or wind sites.
    storage_shift : pandas.DataFrame or None
        What the obligated storage could shift per district
        (:func:`census.profiles.storage_shift_by_district`).
    warnings : list of str
        Every warning of the run (also in ``provenance["warnings"]``).
    run_dir : pathlib.Path or None
        The run folder, when outputs were written.
    outputs : dict of str to pathlib.Path
        Output files by name.
    """

    sites: gpd.GeoDataFrame
    turbines: gpd.GeoDataFrame
    districts: gpd.GeoDataFrame
    by_district: pd.DataFrame
    district_totals: pd.DataFrame
    city: pd.DataFrame
    targets: pd.DataFrame
    tally: pd.DataFrame
    pv_profile_mw: pd.DataFrame
    provenance: dict[str, Any]
    supply_curve: pd.DataFrame | None = None
    existing_gap: pd.DataFrame | None = None
    existing_by_district: pd.DataFrame | None = None
    existing_capacity: pd.DataFrame | None = None
    profiles: Any = None
    storage_shift: pd.DataFrame | None = None
    warnings: list[str] = field(default_factory=list)
    run_dir: Path | None = None
    outputs: dict[str, Path] = field(default_factory=dict)
