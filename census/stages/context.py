"""The run context: what the stages of one run share besides the site table."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from census.config import CensusConfig, LoadedConfig
from census.io.layers import LayerReport
from census.io.raster import MetricRaster
from census.io.runfolder import RunFolder
from census.result import CensusResult
from census.wind.turbines import TurbineSpec

__all__ = ["RunContext", "WeatherGroup"]


@dataclass
class WeatherGroup:
    """One weather year and the districts that use it.

    Attributes
    ----------
    weather : pandas.DataFrame
        Hourly weather with pvlib names (``ghi``, ``dni``, ``dhi`` [W m⁻²],
        ``temp_air`` [°C], ``wind_speed`` [m s⁻¹], ``pressure`` [Pa]).
    metadata : dict
        The file's metadata (``latitude``, ``longitude``, ``altitude`` [m] ...).
    adcodes : list of int
        Districts (adcodes) of this run that use this year.
    """

    weather: pd.DataFrame
    metadata: dict[str, Any]
    adcodes: list[int]


@dataclass
class RunContext:
    """Everything the stages of one run share besides the site table.

    Each stage reads what earlier stages put here and fills its own part; the
    orchestrator (:func:`census.pipeline.run_census`) only passes it along.

    Attributes
    ----------
    loaded : LoadedConfig
        The resolved configuration, where it came from and its assumption ledger.
    requested_districts : list of str or int, optional
        Districts asked for (adcode, Chinese or English name); ``None`` for all.
    started : datetime.datetime
        Start of the run (UTC).
    config_hash : str
        Short SHA-256 of the resolved configuration.
    run_folder : RunFolder, optional
        The open run folder when the run writes outputs.

    all_districts, districts : geopandas.GeoDataFrame
        Every district of the study area, and those of this run (metric CRS). [load]
    layer_reports : list of LayerReport
        What each site layer held and what was repaired. [load]
    exclusions : dict of str to geopandas.GeoSeries
        Exclusion layers the rules of this run's categories need. [load]
    dem, landcover : MetricRaster, optional
        Terrain and land-cover rasters on a metric grid. [load]
    weather_groups : list of WeatherGroup
        Weather years, each with the districts that use it. [load]
    existing_capacity : pandas.DataFrame, optional
        Installed capacity by district and technology ([targets] existing_capacity). [load]
    turbine : TurbineSpec, optional
        The run's wind turbine, built once (its power curve read once). [load]
    wind_atlas : pandas.DataFrame, optional
        Atlas values sampled at each wind site (index = site index). [load]

    usable_geometry : geopandas.GeoSeries
        Usable geometry of each site after setbacks and exclusion cuts. [screen]
    tally : pandas.DataFrame
        Sites failing each rule, per category, agreeing with ``eligible``. [screen, capacity]
    turbines : geopandas.GeoDataFrame
        Turbine points of the wind layout; ``energy_mwh_yr`` after the yield stage. [capacity]
    pv_profile_mw : pandas.DataFrame
        Hourly AC PV output per category for the run [MW]. [yield]
    hourly_series : list
        The yield functions' hourly node and turbine series (``return_series``), for
        :mod:`census.profiles`. [yield]
    by_district, district_totals, city, targets : pandas.DataFrame
        Roll-up tables. [roll-up]
    supply_curve : pandas.DataFrame
        Eligible sites ranked by LCOE with cumulative capacity. [roll-up]
    profiles : xarray.Dataset or None
        Hourly generation by district and technology (:func:`census.profiles.build_profiles`);
        None without PV or wind series. [roll-up]
    storage_shift : pandas.DataFrame or None
        What the obligated storage could shift per district. [roll-up]
    existing_gap, existing_by_district : pandas.DataFrame
        Targets against existing capacity plus potential (the gap columns are NaN
        without an existing-capacity table), and installed capacity per district. [roll-up]
    provenance : dict
        What ``provenance.json`` holds. [outputs]
    warnings : list of str
        Every warning of the run, ``"<Category>: <message>"``, in order.
    timings_s : dict of str to float
        Seconds per stage. [s]
    outputs : dict of str to pathlib.Path
        Files written, by name. [outputs]
    """

    loaded: LoadedConfig
    requested_districts: list[str | int] | None = None
    started: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    config_hash: str = ""
    run_folder: RunFolder | None = None

    all_districts: gpd.GeoDataFrame | None = None
    districts: gpd.GeoDataFrame | None = None
    layer_reports: list[LayerReport] = field(default_factory=list)
    exclusions: dict[str, gpd.GeoSeries] = field(default_factory=dict)
    dem: MetricRaster | None = None
    landcover: MetricRaster | None = None
    weather_groups: list[WeatherGroup] = field(default_factory=list)
    existing_capacity: pd.DataFrame | None = None
    turbine: TurbineSpec | None = None
    wind_atlas: pd.DataFrame | None = None

    usable_geometry: gpd.GeoSeries | None = None
    tally: pd.DataFrame | None = None
    turbines: gpd.GeoDataFrame | None = None
    pv_profile_mw: pd.DataFrame | None = None
    hourly_series: list[Any] = field(default_factory=list)

    by_district: pd.DataFrame | None = None
    district_totals: pd.DataFrame | None = None
    city: pd.DataFrame | None = None
    targets: pd.DataFrame | None = None
    supply_curve: pd.DataFrame | None = None
    existing_gap: pd.DataFrame | None = None
    existing_by_district: pd.DataFrame | None = None
    profiles: Any = None
    storage_shift: pd.DataFrame | None = None

    provenance: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    timings_s: dict[str, float] = field(default_factory=dict)
    outputs: dict[str, Path] = field(default_factory=dict)

    @property
    def config(self) -> CensusConfig:
        """The run's :class:`~census.config.CensusConfig`."""
        return self.loaded.config

    @property
    def metric_crs(self) -> str:
        """The study area's metric CRS (``[study_area] metric_crs``)."""
        return self.config.study_area.metric_crs

    def weather_masks(self, sites: pd.DataFrame) -> list[tuple[WeatherGroup, np.ndarray]]:
        """Pair each weather year with the rows of ``sites`` (by ``adcode``) that use it.

        With one weather year every row uses it, whatever its ``adcode``.
        """
        if len(self.weather_groups) <= 1:
            return [(g, np.ones(len(sites), dtype=bool)) for g in self.weather_groups]
        adcodes = pd.to_numeric(sites["adcode"], errors="coerce").to_numpy()
        return [(g, np.isin(adcodes, g.adcodes)) for g in self.weather_groups]

    def to_result(self, sites: gpd.GeoDataFrame) -> CensusResult:
        """Collect the site table and this context into a :class:`~census.result.CensusResult`."""
        return CensusResult(
            sites=sites,
            turbines=self.turbines,
            districts=self.districts,
            by_district=self.by_district,
            district_totals=self.district_totals,
            city=self.city,
            targets=self.targets,
            tally=self.tally,
            pv_profile_mw=self.pv_profile_mw,
            provenance=self.provenance,
            supply_curve=self.supply_curve,
            existing_gap=self.existing_gap,
            existing_by_district=self.existing_by_district,
            existing_capacity=self.existing_capacity,
            profiles=self.profiles,
            storage_shift=self.storage_shift,
            warnings=self.warnings,
            run_dir=self.run_folder.path if self.run_folder is not None and self.outputs else None,
            outputs=self.outputs,
        )

    @classmethod
    def from_config(cls, config: LoadedConfig | CensusConfig, **kwargs: Any) -> RunContext:
        """Return a context for ``config`` (a bare CensusConfig gets an empty ledger)."""
        if isinstance(config, CensusConfig):
            config = LoadedConfig(config=config, user_path=None, user_toml={}, ledger=[])
        return cls(loaded=config, **kwargs)
