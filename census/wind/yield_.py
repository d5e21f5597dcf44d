"""Annual energy of wind sites: hub-height wind, wakes, losses, Weibull integral.

The time-series path follows windpowerlib's ModelChain step by step, with the
same functions (wind profile, temperature gradient, air density, density-
corrected power curve), so that one turbine's energy equals ModelChain's.
On top of it:

* the weather series may be scaled, site by site, to a wind atlas's long-term
  mean at hub height (the station's 10 m wind rarely represents a site);
* sites with two or more turbines lose energy to wakes through windpowerlib's
  wind-farm efficiency curves (:mod:`windpowerlib.wake_losses`: dena-Netzstudie
  II or Knorr 2016, which reduce the free wind speed as a function of itself);
* availability and electrical efficiency from the config multiply the result.

The Weibull path, :func:`annual_energy_weibull`, integrates a power curve over
a Weibull distribution exactly (piecewise-linear curve, incomplete gamma
function), for atlas A and k.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import sparse, special
from windpowerlib import power_output as wpl_power_output
from windpowerlib import wake_losses as wpl_wake_losses

from census.exceptions import ConfigError, SchemaError, WeatherError
from census.hourly import SiteSeries
from census.io.windatlas import atlas_at_hub_height, atlas_frame_to_dataset, atlas_mean_speed
from census.schema import require_columns
from census.settings.wind import WindConfig
from census.units import HOURS_PER_YEAR, w_to_mw, wh_to_mwh

from .profile import (
    air_density_hub,
    roughness_length_by_category,
    wind_speed_at_height,
    wind_speed_two_step,
)
from .turbines import TurbineSpec, make_turbine

__all__ = [
    "RHO_STANDARD_KG_M3",
    "add_wind_yield",
    "check_full_load_hours",
    "annual_energy_weibull",
    "atlas_mean_wind_speed_at_hub",
    "density_corrected_curve",
    "turbine_energy_mwh_yr",
]

logger = logging.getLogger(__name__)

RHO_STANDARD_KG_M3 = 1.225
"""Air density of power curves, ISO standard atmosphere at sea level [kg m⁻³]
(IEC 61400-12-1; the value windpowerlib's density correction uses)."""

_WEATHER_COLUMNS = ("wind_speed", "temp_air", "pressure")


def density_corrected_curve(power_curve: pd.DataFrame, density_kg_m3: float) -> pd.DataFrame:
    """Shift a power curve's wind speeds to another constant air density.

    Same correction as windpowerlib's
    :func:`~windpowerlib.power_output.power_curve_density_correction`:
    v_site = v_std (ρ₀/ρ)^p(v_std), with p = 1/3 up to 7.5 m s⁻¹, 2/3 from
    12.5 m s⁻¹ and linear in between.

    Parameters
    ----------
    power_curve : pandas.DataFrame
        Columns ``wind_speed`` [m s⁻¹] and ``value`` [W] at 1.225 kg m⁻³.
    density_kg_m3 : float
        Site air density at hub height. [kg m⁻³]

    Returns
    -------
    pandas.DataFrame
        Same columns, wind speeds shifted.

    References
    ----------
    .. [1] L. Svenningsen, "Power Curve Air Density Correction And Other Power
       Curve Options in WindPRO", EMD International A/S, 2010.
    """
    ws = power_curve["wind_speed"].to_numpy(float)
    exponent = np.interp(ws, [7.5, 12.5], [1 / 3, 2 / 3])
    return pd.DataFrame(
        {
            "wind_speed": ws * (RHO_STANDARD_KG_M3 / density_kg_m3) ** exponent,
            "value": power_curve["value"].to_numpy(float),
        }
    )


def annual_energy_weibull(
    power_curve: pd.DataFrame,
    a_m_s: float | np.ndarray,
    k: float | np.ndarray,
    *,
    density_kg_m3: float | None = None,
) -> float | np.ndarray:
    """Annual energy of one turbine from a Weibull wind-speed distribution.

    The power curve is linear between its points and zero outside them (as in
    windpowerlib), so the expected power is an exact sum over segments:
    ∫ (p₀ + s(v - v₀)) f(v) dv = (p₀ - s v₀) ΔF + s ΔM, with the Weibull
    CDF F(v) = 1 - exp(-(v/A)^k) and the partial mean
    M(v) = A Γ(1 + 1/k) P(1 + 1/k, (v/A)^k), P the regularized lower
    incomplete gamma function (:func:`scipy.special.gammainc`).

    Parameters
    ----------
    power_curve : pandas.DataFrame
        Columns ``wind_speed`` [m s⁻¹] (strictly increasing) and ``value`` [W].
    a_m_s : float or numpy.ndarray
        Weibull scale parameter A at hub height. [m s⁻¹]
    k : float or numpy.ndarray
        Weibull shape parameter k, same shape as ``a_m_s``. [-]
    density_kg_m3 : float, optional
        Air density at hub height; None uses the curve as given (1.225). [kg m⁻³]

    Returns
    -------
    float or numpy.ndarray
        Gross annual energy (no wakes or losses), 8760 h a year. [MWh yr⁻¹]

    Examples
    --------
    A turbine giving 1 MW at every wind speed from 0 to 100 m s⁻¹ produces
    8760 MWh a year for any Weibull distribution:

    >>> import pandas as pd
    >>> curve = pd.DataFrame({"wind_speed": [0.0, 100.0], "value": [1e6, 1e6]})
    >>> round(float(annual_energy_weibull(curve, 7.0, 2.0)), 3)
    8760.0
    """
    if density_kg_m3 is not None:
        power_curve = density_corrected_curve(power_curve, density_kg_m3)
    a = np.asarray(a_m_s, dtype=float)
    kk = np.asarray(k, dtype=float)
    if np.any(a <= 0) or np.any(kk <= 0):
        raise ValueError(f"Weibull A and k must be > 0; got A={a_m_s!r}, k={k!r}")
    ws = power_curve["wind_speed"].to_numpy(float)
    p = power_curve["value"].to_numpy(float)
    a_, k_ = a[..., None], kk[..., None]
    x = (ws / a_) ** k_
    cdf = -np.expm1(-x)
    partial_mean = a_ * special.gamma(1 + 1 / k_) * special.gammainc(1 + 1 / k_, x)
    slope = np.diff(p) / np.diff(ws)
    intercept = p[:-1] - slope * ws[:-1]
    mean_power_w = np.sum(
        intercept * np.diff(cdf, axis=-1) + slope * np.diff(partial_mean, axis=-1), axis=-1
    )
    energy = wh_to_mwh(mean_power_w * HOURS_PER_YEAR)
    return float(energy) if np.ndim(energy) == 0 else energy


def power_curve_w(
    wind_speed_m_s: Any,
    curve_wind_speed_m_s: Any,
    curve_power_w: Any,
    density_kg_m3: Any,
    density_correction: bool,
) -> np.ndarray:
    """Turbine power from its power curve, as windpowerlib's ``power_curve`` [W].

    With ``density_correction`` this is windpowerlib's
    :func:`~windpowerlib.power_output.power_curve_density_correction` (Svenningsen
    2010: each hour's curve speeds scaled by ``(1.225 / density) ** p(v)``, p from 1/3
    below 7.5 m/s to 2/3 above 12.5 m/s; zero outside the curve) with the per-hour
    ``np.interp`` of windpowerlib's implementation (a Python ``map`` over the hours,
    ~7 µs each) done for all hours at once: the hour's curve segment is found by
    counting curve speeds at or below the wind speed. Written here because
    windpowerlib has no vectorised form; tests/wind/test_power_curve.py checks it
    against windpowerlib's own call. Without the correction windpowerlib is called.

    Parameters
    ----------
    wind_speed_m_s : array-like
        Hub-height wind speed per hour [m s⁻¹]; NaN gives NaN.
    curve_wind_speed_m_s, curve_power_w : array-like
        Power curve: increasing wind speeds [m s⁻¹] and power [W].
    density_kg_m3 : array-like
        Air density at hub height per hour [kg m⁻³] (used with the correction).
    density_correction : bool
        Apply the density correction.

    Returns
    -------
    numpy.ndarray
        Power per hour [W].
    """
    v = np.asarray(wind_speed_m_s, dtype=float)
    ws = np.asarray(curve_wind_speed_m_s, dtype=float)
    pw = np.asarray(curve_power_w, dtype=float)
    if not density_correction:
        return np.asarray(
            wpl_power_output.power_curve(v, ws, pw, density_kg_m3, False), dtype=float
        )
    if density_kg_m3 is None:
        raise TypeError("density_kg_m3 is needed for the density-corrected power curve")
    rho = np.broadcast_to(np.asarray(density_kg_m3, dtype=float), v.shape)
    exponent = np.interp(ws, [7.5, 12.5], [1 / 3, 2 / 3])
    curves = ((1.225 / rho).reshape(-1, 1) ** exponent) * ws  # (hours, curve points)
    if len(ws) < 2 or not (np.diff(curves, axis=1) > 0).all():
        # a curve with repeated speeds: np.interp's own tie rules, hour by hour
        return np.asarray(wpl_power_output.power_curve(v, ws, pw, rho, True), dtype=float)
    n_le = (curves <= v[:, None]).sum(axis=1)  # curve points at or below v
    j = np.clip(n_le - 1, 0, len(ws) - 2)
    rows = np.arange(len(v))
    x0, x1 = curves[rows, j], curves[rows, j + 1]
    out = pw[j] + (v - x0) * (pw[j + 1] - pw[j]) / (x1 - x0)
    out = np.where(n_le == 0, 0.0, out)  # below the curve: left=0
    at_end = v == curves[:, -1]
    out = np.where(n_le == len(ws), np.where(at_end, pw[-1], 0.0), out)  # above: right=0
    return np.where(np.isnan(v), np.nan, out)


def turbine_energy_mwh_yr(
    wind_speed_hub: pd.Series,
    density_hub: pd.Series | None,
    power_curve: pd.DataFrame,
    *,
    density_correction: bool,
) -> float:
    """Annual energy of one turbine from a hub-height time series.

    Parameters
    ----------
    wind_speed_hub : pandas.Series
        Wind speed at hub height. [m s⁻¹]
    density_hub : pandas.Series or None
        Air density at hub height; needed if ``density_correction``. [kg m⁻³]
    power_curve : pandas.DataFrame
        Columns ``wind_speed`` [m s⁻¹] and ``value`` [W].
    density_correction : bool
        Use windpowerlib's density-corrected power curve.

    Returns
    -------
    float
        Mean power x 8760 h: energy of a (typical) year whatever the series'
        length. [MWh yr⁻¹]
    """
    power_w = power_curve_w(
        wind_speed_hub,
        power_curve["wind_speed"],
        power_curve["value"],
        density_hub,
        density_correction,
    )
    return float(wh_to_mwh(np.mean(power_w) * HOURS_PER_YEAR))


def atlas_weibull_at_hub(atlas_row: pd.Series, *, hub_height_m: float) -> tuple[float, float]:
    """Weibull A and k at hub height from the atlas heights around it.

    A follows a power law between the two atlas heights around the hub (the
    shear exponent of the scale parameter, ln(A2/A1)/ln(h2/h1)); k is linear
    in height, as the Global Wind Atlas layers vary smoothly with height. The
    interpolation runs on xarray (:func:`census.io.windatlas.atlas_at_hub_height`).

    Parameters
    ----------
    atlas_row : pandas.Series
        One site's sampled atlas values (``weibull_a_<h>m_m_s``, ``weibull_k_<h>m``).
    hub_height_m : float
        Hub height above ground. [m]

    Returns
    -------
    a_m_s, k : float
        Weibull scale [m s⁻¹] and shape [-] at hub height; NaN without two usable
        heights (or one at the hub).
    """
    hub = atlas_at_hub_height(atlas_frame_to_dataset(atlas_row.to_frame().T), hub_height_m)
    if "weibull_a" not in hub:
        return float("nan"), float("nan")
    return float(hub["weibull_a"].to_numpy()[0]), float(hub["weibull_k"].to_numpy()[0])


def atlas_mean_wind_speed_at_hub(
    atlas_row: pd.Series,
    *,
    hub_height_m: float,
    roughness_length_m: float,
) -> float:
    """Long-term mean wind speed at hub height from sampled atlas values.

    Uses the atlas mean wind speed layers (``wind_speed_<h>m_m_s``), or, when
    there are none, the Weibull means A Γ(1 + 1/k). With two or more heights,
    logarithmic interpolation between the two heights around the hub (linear
    in ln h, as windpowerlib's ``logarithmic_interpolation_extrapolation``; on
    xarray, :func:`census.io.windatlas.atlas_at_hub_height`); with one height,
    the log law with the site roughness.

    Parameters
    ----------
    atlas_row : pandas.Series
        One site's sampled atlas values, named as
        :func:`census.io.windatlas.atlas_column` does.
    hub_height_m : float
        Hub height above ground. [m]
    roughness_length_m : float
        Site roughness length, used with a single atlas height. [m]

    Returns
    -------
    float
        Mean wind speed at hub height; NaN if the row has no usable value. [m s⁻¹]
    """
    atlas = atlas_frame_to_dataset(atlas_row.to_frame().T)
    speed = atlas_mean_speed(atlas)
    if speed is None:
        return float("nan")
    usable = speed.isel(site=0).dropna("height")
    if usable.sizes["height"] == 1 and not np.isclose(usable["height"].item(), hub_height_m):
        return float(
            wind_speed_at_height(
                usable.to_numpy(),
                height_ref_m=usable["height"].item(),
                height_m=hub_height_m,
                method="log",
                roughness_length_m=roughness_length_m,
            )[0]
        )
    return float(atlas_at_hub_height(atlas, hub_height_m)["wind_speed"].to_numpy()[0])


def _station_only(res_cfg: Any) -> None:
    """Refuse, or warn about, wind energy from the weather station alone (no atlas)."""
    if not res_cfg.station_extrapolation:
        raise ConfigError(
            "wind sites but no wind atlas: [wind.resource] atlas_dir is not set (or "
            "scale_series_to_atlas = false), and the weather station's 10 m wind does not "
            "represent the sites. Set [wind.resource] atlas_dir to a folder of Global Wind "
            "Atlas rasters (`census data prepare` fetches them), or accept a rough estimate "
            "with [wind.resource] station_extrapolation = true."
        )
    warnings.warn(
        "wind energy from the weather station alone (no atlas): its wind is lifted to "
        f"{res_cfg.blending_height_m:g} m over the station roughness "
        f"{res_cfg.station_roughness_length_m:g} m and brought to hub height over each site's "
        "roughness (Wieringa 1986). A rough estimate: give [wind.resource] atlas_dir for "
        "planning numbers.",
        UserWarning,
        stacklevel=3,
    )


def check_full_load_hours(
    energy_mwh_yr: pd.Series,
    capacity_mw: pd.Series,
    *,
    plausible_h: tuple[float, float] | list[float],
) -> float:
    """Full-load hours of a set of wind sites, with a warning outside a plausible range.

    Parameters
    ----------
    energy_mwh_yr : pandas.Series
        Net annual energy of each site. [MWh yr⁻¹]
    capacity_mw : pandas.Series
        Rated (AC) capacity of each site. [MW]
    plausible_h : (float, float)
        Low and high plausible full-load hours (``wind.resource.full_load_hours_range_h``). [h]

    Returns
    -------
    float
        Total energy / total capacity; NaN without capacity. [h]
    """
    cap = float(pd.to_numeric(capacity_mw, errors="coerce").fillna(0.0).sum())
    if cap <= 0:
        return float("nan")
    flh = float(pd.to_numeric(energy_mwh_yr, errors="coerce").fillna(0.0).sum()) / cap
    lo, hi = float(plausible_h[0]), float(plausible_h[1])
    if not lo <= flh <= hi:
        warnings.warn(
            f"wind full-load hours {flh:,.0f} h/yr are outside the plausible range "
            f"{lo:,.0f}-{hi:,.0f} h of [wind.resource] full_load_hours_range_h (NEA provincial "
            "statistics); check the wind atlas, the roughness lengths, the hub height and the "
            "turbine before using these numbers.",
            UserWarning,
            stacklevel=3,
        )
    return flh


def _check_weather(weather: pd.DataFrame) -> pd.DataFrame:
    if "pressure" not in weather.columns and "atmospheric_pressure" in weather.columns:
        # pvlib.iotools.read_epw (>= 0.11) names station pressure 'atmospheric_pressure'
        weather = weather.rename(columns={"atmospheric_pressure": "pressure"})
    require_columns(
        weather,
        _WEATHER_COLUMNS,
        what="wind yield (weather)",
        fix="Use pvlib names and units: wind_speed [m/s], temp_air [°C], pressure [Pa].",
        error=WeatherError,
    )
    for col in _WEATHER_COLUMNS:
        n_bad = int(weather[col].isna().sum())
        if n_bad:
            raise WeatherError(
                f"weather column {col!r} has {n_bad} missing values; fill the gaps (e.g. "
                "interpolate) before the wind yield."
            )
    if (weather["wind_speed"] < 0).any():
        raise WeatherError(
            "weather column 'wind_speed' has negative values; wind speed is >= 0 m/s."
        )
    if not weather["pressure"].between(50_000, 110_000).all():
        raise WeatherError(
            "weather column 'pressure' is outside 50 000-110 000 Pa; it must be station "
            "pressure in Pa (convert hPa with census.units.hpa_to_pa)."
        )
    return weather


def add_wind_yield(
    sites: gpd.GeoDataFrame,
    turbines: gpd.GeoDataFrame,
    weather: pd.DataFrame,
    metadata: Mapping[str, Any],
    config: WindConfig,
    *,
    atlas: pd.DataFrame | None = None,
    turbine: TurbineSpec | None = None,
    return_series: bool = False,
) -> (
    tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]
    | tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, SiteSeries]
):
    """Add capacity, annual energy and capacity factor to the wind sites.

    Parameters
    ----------
    sites : geopandas.GeoDataFrame
        Site table; rows with ``technology == "wind"`` are computed, others
        are returned unchanged. Uses ``site_id``, ``category`` (roughness from
        ``wind.profile.roughness_length_m``) and, if present, ``elevation_m``
        [m above sea level] and ``roughness_length_m`` [m].
    turbines : geopandas.GeoDataFrame
        Turbine points from :func:`census.wind.layout.layout_turbines`
        (``site_id``, ``turbine_id``).
    weather : pandas.DataFrame
        Hourly series with pvlib names: ``wind_speed`` [m s⁻¹] at
        ``metadata["wind_height_m"]``, ``temp_air`` [°C], ``pressure`` [Pa]
        (station pressure; ``atmospheric_pressure`` as pvlib's read_epw names
        it is accepted too).
    metadata : mapping
        ``altitude`` of the weather station [m]; ``wind_height_m`` [m]
        (default ``wind.profile.measurement_height_m``).
    config : WindConfig
        The ``wind`` config section.
    atlas : pandas.DataFrame, optional
        Sampled atlas values per site (index = site index), from
        :func:`census.io.windatlas.sample_wind_atlas`. With
        ``wind.resource.scale_series_to_atlas``, each site's hub-height series
        is scaled so its mean equals the atlas mean at hub height.
    turbine : TurbineSpec, optional
        Turbine to use; default :func:`census.wind.turbines.make_turbine` of
        ``config.turbine``.
    return_series : bool, default False
        Also return the hourly power series the annual energy comes from (one
        per distinct resource key, free or waked) and each wind site's weight on
        them (for :mod:`census.profiles`).

    Returns
    -------
    sites : geopandas.GeoDataFrame
        Copy with, on wind rows: ``n_turbines``, ``capacity_mw_ac`` and
        ``capacity_mw_dc`` (both the turbines' AC rating) [MW],
        ``energy_mwh_yr`` [MWh yr⁻¹] (net of wakes, availability and
        electrical losses), ``capacity_factor`` [frac] (NaN without turbines),
        ``wind_speed_hub_m_s`` (mean free-stream wind at hub height)
        [m s⁻¹], ``wake_loss_frac`` [frac], ``air_density_hub_kg_m3``
        (mean) [kg m⁻³] and ``atlas_scale_frac`` (factor applied to the
        series; 1 without atlas) [-].
    turbines : geopandas.GeoDataFrame
        Copy with ``energy_mwh_yr`` [MWh yr⁻¹]: the site's net energy shared
        equally (the efficiency curves give a farm mean, not per turbine).
    series : census.hourly.SiteSeries
        Only with ``return_series``: per-turbine AC power series [MW] and, per
        wind site, turbines x availability x electrical efficiency x the ratio of
        the annual energy to the series' energy (1 for the time-series method;
        the Weibull method's correction otherwise) [-].

    Raises
    ------
    SchemaError
        If ``sites`` or ``turbines`` lacks a required column.
    WeatherError
        If the weather lacks a column, has gaps or implausible values.
    ConfigError
        If a site category has no roughness length or the turbine type is unknown.
    """
    for name, frame, cols in (
        ("sites", sites, ("site_id", "category", "technology")),
        ("turbines", turbines, ("site_id",)),
    ):
        require_columns(frame, cols, what=f"add_wind_yield ({name})")
    if "altitude" not in metadata:
        raise SchemaError(
            "weather metadata has no 'altitude' [m] of the station; pvlib.iotools.read_epw "
            "gives it, otherwise add it."
        )
    weather = _check_weather(weather)
    dup = sites.loc[sites["technology"].eq("wind"), "site_id"]
    dup = dup[dup.duplicated()]
    if len(dup):
        raise SchemaError(
            f"site_id must be unique among wind sites; {sorted(set(dup.astype(str)))[:5]} repeat."
        )
    turbine = turbine or make_turbine(config.turbine)
    prof, losses = config.profile, config.losses
    station_alt_m = float(metadata["altitude"])
    wind_height_m = float(metadata.get("wind_height_m") or prof.measurement_height_m)

    sites = sites.copy()
    turbines = turbines.copy()
    is_wind = sites["technology"].eq("wind")
    wind = sites.loc[is_wind]

    n_by_site = turbines.groupby("site_id").size()
    n_turbines = wind["site_id"].map(n_by_site).fillna(0).astype(int)
    override = wind["roughness_length_m"] if "roughness_length_m" in wind.columns else None
    z0 = roughness_length_by_category(
        wind["category"], prof.roughness_length_m, override_m=override
    )
    if "elevation_m" in wind.columns:
        elevation_m = wind["elevation_m"].astype(float).fillna(station_alt_m)
    else:
        elevation_m = pd.Series(station_alt_m, index=wind.index)
    res_cfg = config.resource
    use_atlas = atlas is not None and res_cfg.scale_series_to_atlas
    if atlas is not None and not res_cfg.scale_series_to_atlas:
        logger.info("atlas given but wind.resource.scale_series_to_atlas is false; not used")
    if not use_atlas and len(wind):
        _station_only(res_cfg)
    atlas_rows = atlas.reindex(wind.index) if use_atlas else None

    hub_m = turbine.hub_height_m
    curve = turbine.power_curve
    use_weibull = use_atlas and res_cfg.energy_method == "weibull"
    wake_model = config.wake.model
    ws_weather = weather["wind_speed"].astype(float)
    # one computation per distinct (roughness, elevation, atlas scale, Weibull A, k): sites
    # differing in any of them, the atlas Weibull parameters included, get their own energy
    cache: dict[tuple[float, ...], dict[str, Any]] = {}
    results = {}
    series_keys: dict[Any, tuple[tuple[float, ...], bool, int]] = {}
    for idx in wind.index:
        # two steps: station roughness up to the blending height, site roughness down to the
        # hub (one step when both roughness lengths are equal); the atlas, when given, then
        # sets the level and this profile only shapes the series
        v_hub = wind_speed_two_step(
            ws_weather,
            height_ref_m=wind_height_m,
            height_m=hub_m,
            station_roughness_length_m=res_cfg.station_roughness_length_m,
            site_roughness_length_m=float(z0[idx]),
            blending_height_m=res_cfg.blending_height_m,
            method=prof.method,
            hellman_exponent=prof.hellman_exponent,
            obstacle_height_m=prof.obstacle_height_m,
        )
        scale = 1.0
        a_hub = k_hub = float("nan")
        if atlas_rows is not None:
            target = atlas_mean_wind_speed_at_hub(
                atlas_rows.loc[idx], hub_height_m=hub_m, roughness_length_m=float(z0[idx])
            )
            if np.isfinite(target) and v_hub.mean() > 0:
                scale = float(target / v_hub.mean())
            else:
                logger.warning(
                    "site %s: no atlas value; series not scaled", wind.at[idx, "site_id"]
                )
            if use_weibull:
                a_hub, k_hub = atlas_weibull_at_hub(atlas_rows.loc[idx], hub_height_m=hub_m)
        key = (float(z0[idx]), float(elevation_m[idx]), scale, a_hub, k_hub)
        if key not in cache:
            v_hub = v_hub * scale
            rho = air_density_hub(
                weather["temp_air"].astype(float),
                weather["pressure"].astype(float),
                temperature_height_asl_m=station_alt_m + prof.temperature_height_m,
                pressure_height_asl_m=station_alt_m,
                hub_height_asl_m=float(elevation_m[idx]) + hub_m,
                model=prof.density_model,
            )
            # one power series per key serves the energy (its mean, as
            # turbine_energy_mwh_yr) and the hourly profiles
            series_w = _power_series_w(v_hub, rho, curve, prof.density_correction, wake_model)
            free = float(wh_to_mwh(np.mean(series_w[False]) * HOURS_PER_YEAR))
            waked = float(wh_to_mwh(np.mean(series_w[True]) * HOURS_PER_YEAR))
            if np.isfinite(a_hub) and np.isfinite(k_hub):
                # the atlas distribution sets the gross energy; the series' wake fraction
                # and mean density carry over (the efficiency curve needs a series)
                wake_frac = waked / free if free > 0 else 1.0
                free = float(
                    annual_energy_weibull(
                        curve,
                        a_hub,
                        k_hub,
                        density_kg_m3=float(np.mean(rho)) if prof.density_correction else None,
                    )
                )
                waked = free * wake_frac
            cache[key] = {
                "free": free,
                "waked": waked,
                "v_mean": float(v_hub.mean()),
                "rho_mean": float(np.mean(rho)),
            }
            if return_series:
                cache[key]["series_w"] = series_w
        res = cache[key]
        n = int(n_turbines[idx])
        per_turbine = res["waked"] if n >= 2 else res["free"]
        if return_series:
            series_keys[idx] = (key, n >= 2, n)
        results[idx] = {
            "n_turbines": n,
            "energy_mwh_yr": per_turbine
            * n
            * losses.availability_frac
            * losses.electrical_efficiency_frac,
            "wind_speed_hub_m_s": res["v_mean"],
            "wake_loss_frac": 1.0 - per_turbine / res["free"] if res["free"] > 0 else 0.0,
            "air_density_hub_kg_m3": res["rho_mean"],
            "atlas_scale_frac": key[2],
        }
    table = pd.DataFrame.from_dict(results, orient="index")
    if len(table) == 0:
        table = pd.DataFrame(
            columns=[
                "n_turbines",
                "energy_mwh_yr",
                "wind_speed_hub_m_s",
                "wake_loss_frac",
                "air_density_hub_kg_m3",
                "atlas_scale_frac",
            ],
            dtype=float,
        )
    # a turbine's rating is AC; wind has one capacity, written to both columns
    table["capacity_mw_ac"] = table["n_turbines"] * turbine.rated_power_mw
    table["capacity_mw_dc"] = table["capacity_mw_ac"]
    with np.errstate(invalid="ignore", divide="ignore"):
        cf = table["energy_mwh_yr"] / (table["capacity_mw_ac"] * HOURS_PER_YEAR)
    table["capacity_factor"] = cf.where(table["capacity_mw_ac"] > 0)

    for col in table.columns:
        if col not in sites.columns:
            dtype = "Int64" if col == "n_turbines" else "float64"
            empty = pd.NA if dtype == "Int64" else np.nan
            sites[col] = pd.Series(empty, index=sites.index, dtype=dtype)
        sites.loc[table.index, col] = table[col].to_numpy()

    wind_rows = sites.loc[is_wind]
    n_float = wind_rows["n_turbines"].astype(float)
    per_turbine_mwh = (wind_rows["energy_mwh_yr"].astype(float) / n_float).where(n_float > 0)
    share = pd.Series(per_turbine_mwh.to_numpy(), index=wind_rows["site_id"].to_numpy())
    turbines["energy_mwh_yr"] = turbines["site_id"].map(share).astype(float)
    eligible = (
        wind_rows["eligible"].astype(bool)
        if "eligible" in wind_rows
        else pd.Series(True, index=wind_rows.index)
    )
    check_full_load_hours(
        wind_rows.loc[eligible, "energy_mwh_yr"],
        wind_rows.loc[eligible, "capacity_mw_ac"],
        plausible_h=res_cfg.full_load_hours_range_h,
    )
    logger.info(
        "wind: %d sites, %d turbines, %.1f MW, %.0f MWh/yr",
        len(table),
        int(table["n_turbines"].sum()),
        float(table["capacity_mw_dc"].sum()),
        float(table["energy_mwh_yr"].sum()),
    )
    if return_series:
        return sites, turbines, _wind_site_series(weather, metadata, cache, series_keys, losses)
    return sites, turbines


def _power_series_w(
    v_hub: pd.Series, rho: pd.Series, curve: pd.DataFrame, density_correction: bool, wake: str
) -> dict[bool, np.ndarray]:
    """Return one turbine's hourly power, free-stream (False) and waked (True) [W]."""
    free = power_curve_w(v_hub, curve["wind_speed"], curve["value"], rho, density_correction)
    if wake == "none":
        return {False: free, True: free}
    v_waked = wpl_wake_losses.reduce_wind_speed(v_hub, wind_efficiency_curve_name=wake)
    waked = power_curve_w(v_waked, curve["wind_speed"], curve["value"], rho, density_correction)
    return {False: free, True: np.asarray(waked, dtype=float)}


def _wind_site_series(
    weather: pd.DataFrame,
    metadata: Mapping[str, Any],
    cache: Mapping[tuple[float, float, float], Mapping[str, Any]],
    series_keys: Mapping[Any, tuple[tuple[float, float, float], bool, int]],
    losses: Any,
) -> SiteSeries:
    """Sparse (wind sites x series) weights and per-turbine series [MW].

    A site's weight is turbines x availability x electrical efficiency x (the
    per-turbine annual energy used above / the series' own annual energy), so its
    hourly output sums to its ``energy_mwh_yr`` whether the energy came from the
    series or from the atlas Weibull integral.
    """
    columns: dict[tuple[tuple[float, float, float], bool], int] = {}
    unit: list[np.ndarray] = []
    rows, cols, vals = [], [], []
    step_h = (weather.index[1] - weather.index[0]) / pd.Timedelta(hours=1)
    factor_h = step_h * HOURS_PER_YEAR / (step_h * len(weather))
    for pos, (key, waked, n) in enumerate(series_keys.values()):
        res = cache[key]
        if (key, waked) not in columns:
            columns[(key, waked)] = len(unit)
            unit.append(w_to_mw(res["series_w"][waked]))
        power_mw = unit[columns[(key, waked)]]
        series_mwh_yr = float(power_mw.sum() * factor_h)
        energy = res["waked"] if waked else res["free"]
        ratio = energy / series_mwh_yr if series_mwh_yr > 0 else 0.0
        rows.append(pos)
        cols.append(columns[(key, waked)])
        vals.append(n * losses.availability_frac * losses.electrical_efficiency_frac * ratio)
    site_index = pd.Index(list(series_keys))
    weights = sparse.csr_matrix(
        (np.asarray(vals, float), (np.asarray(rows, int), np.asarray(cols, int))),
        shape=(len(site_index), len(unit)),
    )
    return SiteSeries(
        index=weather.index,
        interval_label=str(metadata.get("interval_label", "beginning")),
        site_index=site_index,
        weights=weights,
        unit_power_mw=np.vstack(unit) if unit else np.empty((0, len(weather))),
        annual_factor_h=factor_h,
    )
