"""Configuration of the wind part of a census run.

The models hold no assumption values of their own: every default comes from
``census/resources/wind.yaml``, with unit and source, through
:func:`census.resources.load_assumptions`::

    from census.resources import load_assumptions
    config = WindConfig.model_validate(load_assumptions("wind")[0])

A user's TOML overrides any value key by key (``[wind.turbine] hub_height_m = 140``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from census.settings.base import Strict

__all__ = [
    "WAKE_MODELS",
    "LayoutConfig",
    "LossesConfig",
    "ProfileConfig",
    "ResourceConfig",
    "TurbineConfig",
    "WakeConfig",
    "WindConfig",
]

WakeModel = Literal[
    "dena_mean",
    "knorr_mean",
    "dena_extreme1",
    "dena_extreme2",
    "knorr_extreme1",
    "knorr_extreme2",
    "knorr_extreme3",
    "none",
]
WAKE_MODELS: tuple[str, ...] = WakeModel.__args__  # type: ignore[attr-defined]
"""Names of windpowerlib's wind-farm efficiency curves, plus ``"none"``."""


class TurbineConfig(Strict, frozen=True):
    """Turbine model and its placement height.

    Attributes
    ----------
    library : {"turbine-models", "windpowerlib"}
        Where ``type`` is looked up: NREL's turbine-models package (current
        low-specific-power machines) or windpowerlib's oedb library.
    type : str
        Turbine name in that library (e.g. ``"2020ATB_NREL_Reference_5.5MW_175"``
        or ``"V126/3450"``), or a free label when ``power_curve_csv`` is given.
    hub_height_m : float
        Hub height above ground. [m]
    rotor_diameter_m : float or None
        Rotor diameter; None takes it from the turbine library. Required with
        ``power_curve_csv``. [m]
    power_curve_csv : pathlib.Path or None
        User power curve (see :mod:`census.io.powercurve`); replaces the
        library curve.
    """

    library: Literal["turbine-models", "windpowerlib"]
    type: str = Field(min_length=1)
    hub_height_m: float = Field(gt=0)
    rotor_diameter_m: float | None = Field(gt=0)
    power_curve_csv: Path | None

    @model_validator(mode="after")
    def _rotor_with_user_curve(self) -> TurbineConfig:
        if self.power_curve_csv is not None and self.rotor_diameter_m is None:
            raise ValueError(
                "wind.turbine.power_curve_csv is set but rotor_diameter_m is not; give the "
                "rotor diameter [m] of the turbine the curve belongs to (the layout spaces "
                "turbines in rotor diameters)."
            )
        if self.rotor_diameter_m is not None and self.hub_height_m <= 0.5 * self.rotor_diameter_m:
            raise ValueError(
                f"wind.turbine.hub_height_m ({self.hub_height_m} m) must exceed half the rotor "
                f"diameter ({self.rotor_diameter_m} m / 2); raise the hub height."
            )
        return self


class ProfileConfig(Strict, frozen=True):
    """Vertical wind profile, air density and reference heights.

    Attributes
    ----------
    method : {"log", "hellman"}
        Log law with a roughness length, or power law with a Hellman exponent.
    roughness_length_m : dict of str to float
        Roughness length z0 by site ``category``. [m]
    hellman_exponent : float or None
        Hellman exponent for ``method="hellman"``; None derives it from the
        roughness length as 1 / ln(h_hub / z0), as windpowerlib does. [-]
    obstacle_height_m : float
        Height of obstacles around the turbine for the log law's displacement
        (0.7 x obstacle height). [m]
    measurement_height_m : float
        Wind-speed measurement height used when the weather metadata has no
        ``wind_height_m``. [m]
    temperature_height_m : float
        Height of the air-temperature sensor above the station ground. [m]
    density_model : {"barometric", "ideal_gas"}
        windpowerlib's air-density model at hub height.
    density_correction : bool
        Correct the power curve for air density (windpowerlib).
    """

    method: Literal["log", "hellman"]
    roughness_length_m: dict[str, float]
    hellman_exponent: float | None = Field(gt=0, lt=1)
    obstacle_height_m: float = Field(ge=0)
    measurement_height_m: float = Field(gt=0)
    temperature_height_m: float = Field(ge=0)
    density_model: Literal["barometric", "ideal_gas"]
    density_correction: bool

    @model_validator(mode="after")
    def _positive_roughness(self) -> ProfileConfig:
        bad = {k: v for k, v in self.roughness_length_m.items() if not v > 0}
        if bad:
            raise ValueError(
                f"wind.profile.roughness_length_m must be > 0 m for every category; got {bad}."
            )
        return self


class LayoutConfig(Strict, frozen=True):
    """Turbine spacing and orientation of the layout grid.

    Attributes
    ----------
    spacing_along_d : float
        Spacing along the prevailing wind direction, in rotor diameters. [-]
    spacing_across_d : float
        Spacing across the prevailing wind direction, in rotor diameters. [-]
    prevailing_direction_deg : float or None
        Direction the prevailing wind comes from, clockwise from North; None
        takes it from the weather's wind rose. [deg]
    direction_sectors : int
        Number of wind-rose sectors for the prevailing direction.
    """

    spacing_along_d: float = Field(gt=0)
    spacing_across_d: float = Field(gt=0)
    prevailing_direction_deg: float | None = Field(ge=0, lt=360)
    direction_sectors: int = Field(ge=4, le=72)


class LossesConfig(Strict, frozen=True):
    """Losses applied after wakes.

    Attributes
    ----------
    availability_frac : float
        Fraction of the time the turbines are available. [frac]
    electrical_efficiency_frac : float
        Energy delivered at the grid connection per energy at the turbine
        terminals (collection grid and transformers). [frac]
    """

    availability_frac: float = Field(gt=0, le=1)
    electrical_efficiency_frac: float = Field(gt=0, le=1)


class WakeConfig(Strict, frozen=True):
    """Wake-loss model.

    Attributes
    ----------
    model : str
        One of windpowerlib's wind-farm efficiency curves
        (:data:`WAKE_MODELS`), applied to sites with two or more turbines, or
        ``"none"``.
    """

    model: WakeModel


class ResourceConfig(Strict, frozen=True):
    """Optional wind-atlas rasters and how they are used.

    Attributes
    ----------
    atlas_dir : pathlib.Path or None
        Folder of Global-Wind-Atlas-style GeoTIFFs; None uses no atlas.
    atlas_pattern : str
        File-name pattern with ``{variable}`` and ``{height}`` fields.
    atlas_heights_m : list of int
        Heights of the atlas rasters. [m]
    atlas_resampling : {"bilinear", "nearest"}
        How rasters are sampled at site points.
    scale_series_to_atlas : bool
        Scale the weather series at hub height so that its mean equals the
        atlas's long-term mean at each site.
    energy_method : {"weibull", "series"}
        Gross energy from the atlas Weibull A, k at hub height (when the atlas
        has them), or from the scaled hourly series.
    station_extrapolation : bool
        Without an atlas, allow the weather station's wind to be carried to
        the sites (two-step extrapolation through a blending height); false
        refuses such a run.
    station_roughness_length_m : float
        Roughness length around the weather station's anemometer. [m]
    blending_height_m : float
        Height where the wind no longer feels the local surface; the station
        wind is lifted to it over the station's roughness and brought down to
        hub height over the site's. [m]
    full_load_hours_range_h : list of float
        Plausible ``[low, high]`` annual full-load hours of wind in the region;
        a run outside it warns. [h]
    """

    atlas_dir: Path | None
    atlas_pattern: str = Field(min_length=1)
    atlas_heights_m: list[int] = Field(min_length=1)
    atlas_resampling: Literal["bilinear", "nearest"]
    scale_series_to_atlas: bool
    energy_method: Literal["weibull", "series"]
    station_extrapolation: bool
    station_roughness_length_m: float = Field(gt=0)
    blending_height_m: float = Field(gt=0)
    full_load_hours_range_h: list[float] = Field(min_length=2, max_length=2)

    @model_validator(mode="after")
    def _range_ordered(self) -> ResourceConfig:
        lo, hi = self.full_load_hours_range_h
        if not 0 <= lo < hi <= 8760:
            raise ValueError(
                f"wind.resource.full_load_hours_range_h must be [low, high] with "
                f"0 <= low < high <= 8760 h; got {self.full_load_hours_range_h}."
            )
        return self

    @model_validator(mode="after")
    def _pattern_fields(self) -> ResourceConfig:
        if "{variable}" not in self.atlas_pattern or "{height}" not in self.atlas_pattern:
            raise ValueError(
                f"wind.resource.atlas_pattern must contain '{{variable}}' and '{{height}}'; got "
                f"{self.atlas_pattern!r}, e.g. '{{variable}}_{{height}}m.tif'."
            )
        return self


class WindConfig(Strict, frozen=True):
    """Wind section of a run's configuration (see ``census/resources/wind.yaml``)."""

    turbine: TurbineConfig
    profile: ProfileConfig
    layout: LayoutConfig
    losses: LossesConfig
    wake: WakeConfig
    resource: ResourceConfig
