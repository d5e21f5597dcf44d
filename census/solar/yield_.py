"""PV yield with pvlib, once per orientation node, applied to every site.

The physics chain (as pvlib's ModelChain with the PVWatts models):

1. sun position at mid-interval, extraterrestrial DNI, relative airmass
   (:mod:`census.solar.resource`);
2. plane-of-array irradiance by Perez (``dni_extra`` and airmass given);
3. incidence-angle modifiers: the beam's by ``iam_model``, sky-diffuse and
   ground-reflected light by Marion's integral of the same IAM;
4. cell temperature per archetype (SAPM, Faiman or PVsyst);
5. PVWatts DC power with the technology's temperature coefficient;
6. :func:`pvlib.pvsystem.pvwatts_losses` stack (from ``config.losses``);
7. PVWatts inverter sized by the archetype's DC/AC ratio.

Orientation binning: the chain runs on a grid of (tilt, azimuth) *nodes*
spaced ``bin_width_tilt_deg`` × ``bin_width_azimuth_deg``, for each (archetype,
technology) pair present, all nodes of a pair in one numpy broadcast (nodes ×
hours). A site takes the bilinear mix of its four surrounding nodes (or the
nearest node), so sites never trigger a pvlib call of their own. ``exact=True``
uses each distinct site orientation as its own node, for measuring the
binning error.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Mapping
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import pvlib
from pvlib.bifacial import infinite_sheds
from scipy import sparse

from census.exceptions import ConfigError, InputError
from census.hourly import SiteSeries
from census.schema import require_columns
from census.settings.pv import PVArchetype, PVConfig, PVTechnology
from census.solar.capacity import pv_rows
from census.solar.resource import sun_geometry
from census.solar.systems import cell_temperature
from census.units import HOURS_PER_YEAR, kwh_to_mwh, mw_to_kw

__all__ = [
    "add_pv_yield",
    "diffuse_iam",
    "lit_hours",
    "orientation_nodes",
    "simulate_nodes",
    "simulate_orientation",
    "specific_yield",
]

logger = logging.getLogger(__name__)

FrameT = TypeVar("FrameT", bound=pd.DataFrame)

_CHUNK_NODES = 64
"""Nodes per numpy broadcast; bounds memory to ~64 × 8760 × 8 B per array."""

_REAR_CHUNK_ELEMENTS = 2**17
"""Node-hours per pvlib infinite-sheds call; its largest temporaries are ~22 × this × 8 B."""

_SHEDS_DEFAULTS = inspect.signature(infinite_sheds.get_irradiance).parameters
_REAR_EFFECTS_FRAC = (1.0 + _SHEDS_DEFAULTS["shade_factor"].default) * (
    1.0 + _SHEDS_DEFAULTS["transmission_factor"].default
)
"""pvlib's default rear-side structure shading and transmission losses (0.98) [frac]."""

GCR_STEP_FRAC = 0.1
"""Largest spacing of the ground-coverage-ratio levels of bifacial rows [frac]. Linear
interpolation between levels 0.1 apart is within 0.01 % of the yield computed at the
site's own GCR (GCR 0.415-0.818, TOPCon on hillside rows, Hangzhou;
tests/solar/test_yield.py::test_bifacial_rear_side_sees_each_sites_own_gcr)."""


_NODE_OUTPUTS = ("poa_global", "effective_irradiance", "temp_cell", "p_dc", "p_ac")


# ---------------------------------------------------------------------------
# physics on many orientations at once
# ---------------------------------------------------------------------------
def lit_hours(weather: pd.DataFrame) -> np.ndarray:
    """Positions of the rows with light: GHI, DHI and DNI not all exactly 0.

    The PV chain gives 0 W m⁻² and 0 kW on the other rows (night) for any
    orientation, so it runs on these rows only. Rows with NaN irradiance are
    kept (they give NaN -> 0, as on every row).

    Parameters
    ----------
    weather : pandas.DataFrame
        ``ghi``, ``dhi``, ``dni`` [W m⁻²].

    Returns
    -------
    numpy.ndarray of int
        Row positions, ascending.
    """
    ghi, dhi, dni = (np.asarray(weather[k], dtype=float) for k in ("ghi", "dhi", "dni"))
    return np.flatnonzero(~((ghi == 0.0) & (dhi == 0.0) & (dni == 0.0)))


def simulate_nodes(
    weather: pd.DataFrame,
    sun: pd.DataFrame,
    *,
    archetype: PVArchetype,
    technology: PVTechnology,
    tilt_deg: np.ndarray,
    azimuth_deg: np.ndarray,
    config: PVConfig,
    outputs: tuple[str, ...] = ("p_ac",),
    gcr_frac: float | None = None,
) -> dict[str, np.ndarray]:
    """Run the PV chain for several orientations in one broadcast.

    Parameters
    ----------
    weather : pandas.DataFrame
        ``ghi``, ``dni``, ``dhi`` [W m⁻²], ``temp_air`` [°C], ``wind_speed``
        [m s⁻¹].
    sun : pandas.DataFrame
        Output of :func:`census.solar.resource.sun_geometry` for ``weather``.
    archetype : PVArchetype
        Albedo, thermal model and DC/AC ratio.
    technology : PVTechnology
        Temperature coefficient (and efficiency for the PVsyst thermal model).
    tilt_deg, azimuth_deg : numpy.ndarray
        Orientations, shape (n,). [deg]
    config : PVConfig
        Transposition, IAM, losses and inverter.
    outputs : tuple of str
        Which of ``poa_global``, ``effective_irradiance`` [W m⁻²],
        ``temp_cell`` [°C], ``p_dc``, ``p_ac`` [kW per kW DC at STC] to return.
    gcr_frac : float, optional
        Ground coverage ratio of the rows for the bifacial rear side [frac];
        default the archetype's ``coverage_frac``.

    Returns
    -------
    dict of str to numpy.ndarray
        Each of shape (n, hours).
    """
    unknown = set(outputs) - set(_NODE_OUTPUTS)
    if unknown:
        raise ValueError(f"outputs must be among {sorted(_NODE_OUTPUTS)}; got {sorted(unknown)}")
    lit = lit_hours(weather)
    if len(lit) < len(weather):
        # hours without light (night) give 0 W/m2 and 0 kW whatever the orientation: the
        # chain runs on the lit hours only; the cell temperature, when asked for, follows
        # the air temperature at night and is computed on every hour
        shape = (len(np.atleast_1d(tilt_deg)), len(weather))
        inner = [o for o in outputs if o != "temp_cell"]
        if "temp_cell" in outputs and "poa_global" not in inner:
            inner.append("poa_global")
        full = {k: np.zeros(shape) for k in inner}
        if len(lit) and inner:
            lit_results = simulate_nodes(
                weather.iloc[lit],
                sun.iloc[lit],
                archetype=archetype,
                technology=technology,
                tilt_deg=tilt_deg,
                azimuth_deg=azimuth_deg,
                config=config,
                outputs=tuple(inner),
                gcr_frac=gcr_frac,
            )
            for k, values in lit_results.items():
                full[k][:, lit] = values
        if "temp_cell" in outputs:
            full["temp_cell"] = np.broadcast_to(
                np.asarray(
                    cell_temperature(
                        full["poa_global"],
                        np.asarray(weather["temp_air"], dtype=float)[None, :],
                        np.asarray(weather["wind_speed"], dtype=float)[None, :],
                        archetype=archetype,
                        technology=technology,
                    ),
                    dtype=float,
                ),
                shape,
            )
        return {k: full[k] for k in outputs}

    tilt = np.asarray(tilt_deg, dtype=float)[:, None]
    azimuth = np.asarray(azimuth_deg, dtype=float)[:, None]

    def row(values: Any) -> np.ndarray:
        return np.asarray(values, dtype=float)[None, :]

    zenith, sun_azimuth = row(sun["apparent_zenith"]), row(sun["azimuth"])
    irradiance = pvlib.irradiance.get_total_irradiance(
        tilt,
        azimuth,
        zenith,
        sun_azimuth,
        row(weather["dni"]),
        row(weather["ghi"]),
        row(weather["dhi"]),
        dni_extra=row(sun["dni_extra"]),
        airmass=row(sun["airmass_relative"]),
        albedo=archetype.albedo_frac,
        model=config.transposition_model,
    )

    def part(name: str) -> np.ndarray:
        return np.maximum(np.nan_to_num(np.asarray(irradiance[name], dtype=float)), 0.0)

    poa_direct, poa_sky, poa_ground = (
        part("poa_direct"),
        part("poa_sky_diffuse"),
        part("poa_ground_diffuse"),
    )
    poa_global = poa_direct + poa_sky + poa_ground

    if config.iam_model == "none":
        iam = 1.0
    else:
        aoi = pvlib.irradiance.aoi(tilt, azimuth, zenith, sun_azimuth)
        iam = np.nan_to_num(getattr(pvlib.iam, config.iam_model)(aoi))
    iam_sky, iam_ground = diffuse_iam(tilt[:, 0], config=config)
    effective = poa_direct * iam + poa_sky * iam_sky[:, None] + poa_ground * iam_ground[:, None]
    rear = rear_irradiance(
        weather,
        sun,
        archetype=archetype,
        technology=technology,
        tilt_deg=tilt[:, 0],
        azimuth_deg=azimuth[:, 0],
        gcr_frac=gcr_frac,
    )
    if rear is not None:
        # bifacial gain enters the DC power; the cell temperature stays driven by the
        # front POA, as in PVsyst and SAM's bifacial models
        effective = effective + rear

    temp_cell = cell_temperature(
        poa_global,
        row(weather["temp_air"]),
        row(weather["wind_speed"]),
        archetype=archetype,
        technology=technology,
    )
    pdc0_kw = 1.0  # per kW of DC nameplate at STC
    p_dc = pvlib.pvsystem.pvwatts_dc(
        effective, temp_cell, pdc0_kw, technology.gamma_pdc_per_k, temp_ref=25.0
    )
    p_dc = p_dc * (1.0 - config.losses.total_frac())
    # PVWatts inverter: AC rating = DC nameplate / dc_ac_ratio; pvlib's pdc0 is the DC input
    # at that AC rating, pac0 / eta_inv_nom (Dobos 2014, NREL/TP-6A20-62641, eq. 10-11).
    pac0_kw = pdc0_kw / archetype.dc_ac_ratio
    p_ac = pvlib.inverter.pvwatts(
        p_dc,
        pac0_kw / config.inverter.eta_inv_nom_frac,
        eta_inv_nom=config.inverter.eta_inv_nom_frac,
        eta_inv_ref=config.inverter.eta_inv_ref_frac,
    )
    p_ac = np.maximum(np.nan_to_num(np.asarray(p_ac, dtype=float)), 0.0)
    results = {
        "poa_global": poa_global,
        "effective_irradiance": effective,
        "temp_cell": np.asarray(temp_cell, dtype=float),
        "p_dc": np.asarray(p_dc, dtype=float),
        "p_ac": p_ac,
    }
    shape = (tilt.shape[0], len(weather))
    return {k: np.broadcast_to(results[k], shape) for k in outputs}


def diffuse_iam(tilt_deg: np.ndarray, *, config: PVConfig) -> tuple[np.ndarray, np.ndarray]:
    """Incidence-angle modifiers of sky-diffuse and ground-reflected light.

    Marion's method integrates the beam IAM (``config.iam_model``) over the
    solid angle of the sky dome and of the ground seen by the module, treating
    both as isotropic; one value per tilt, so it is computed per orientation
    node, not per hour.

    Parameters
    ----------
    tilt_deg : numpy.ndarray
        Module tilts, shape (n,). [deg]
    config : PVConfig
        ``iam_model`` and ``diffuse_iam_model``.

    Returns
    -------
    iam_sky, iam_ground : numpy.ndarray
        Shape (n,); ones when either model is ``"none"``. [frac]

    References
    ----------
    .. [1] B. Marion, "Numerical method for angle-of-incidence correction
       factors for diffuse radiation incident photovoltaic modules," Solar
       Energy 147, 344-348, 2017, :doi:`10.1016/j.solener.2017.03.027`.
    """
    tilt = np.asarray(tilt_deg, dtype=float)
    if config.diffuse_iam_model == "none" or config.iam_model == "none":
        return np.ones_like(tilt), np.ones_like(tilt)
    # Marion's integral costs ~0.02 s per tilt, so it is computed once per whole degree
    # and cached; node tilts (multiples of the bin width) are whole degrees and exact,
    # other tilts (exact=True runs) interpolate linearly between whole degrees: below
    # 1e-5 for the sky IAM, below 1.5e-3 for the ground IAM above 2 deg tilt
    lo = np.floor(tilt)
    frac = tilt - lo
    sky_lo, ground_lo = _marion_whole_degrees(config.iam_model, lo)
    sky_hi, ground_hi = _marion_whole_degrees(config.iam_model, np.minimum(lo + 1.0, 180.0))
    sky = sky_lo + frac * (sky_hi - sky_lo)
    ground = ground_lo + frac * (ground_hi - ground_lo)
    return sky, ground


def _marion_whole_degrees(model: str, tilt_deg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    unique, inverse = np.unique(tilt_deg, return_inverse=True)
    values = np.array([_marion_one(model, float(t)) for t in unique]).reshape(-1, 2)
    return values[inverse, 0], values[inverse, 1]


@functools.lru_cache(maxsize=512)
def _marion_one(model: str, tilt_deg: float) -> tuple[float, float]:
    """Sky and ground IAM of Marion (2017) for one tilt [deg]; NaN (no view) -> 1."""
    function = getattr(pvlib.iam, model)
    sky, ground = (
        float(np.nan_to_num(pvlib.iam.marion_integrate(function, tilt_deg, region), nan=1.0))
        for region in ("sky", "ground")
    )
    return sky, ground


def has_rear_side(archetype: PVArchetype, technology: PVTechnology) -> bool:
    """Whether rows of this archetype and technology gain light on the rear side."""
    return not (
        technology.bifaciality_frac <= 0.0
        or archetype.mounting != "rows"
        or archetype.row_height_m is None
        or archetype.collector_width_m is None
    )


def gcr_levels(
    gcr_frac: np.ndarray, *, step_frac: float = GCR_STEP_FRAC
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ground coverage ratios to simulate, and each site's two levels and weight.

    The rear-side irradiance of bifacial rows depends on the ground coverage
    ratio (GCR), which the winter-solstice spacing sets per site from its slope
    and aspect. The yield is simulated at evenly spaced GCR levels from the
    smallest to the largest site value, at most ``step_frac`` apart, and
    interpolated linearly in between (as orientations are between nodes).

    Parameters
    ----------
    gcr_frac : numpy.ndarray
        GCR of each site, shape (n,) [frac]; NaN is not allowed.
    step_frac : float
        Largest spacing of the levels [frac].

    Returns
    -------
    levels : numpy.ndarray
        GCR levels, shape (m,) [frac]; one level (the mean) when the sites differ by
        less than 0.01.
    lower : numpy.ndarray of int
        Each site's lower level, shape (n,).
    weight_upper : numpy.ndarray
        Each site's weight on level ``lower + 1`` (0 with one level), shape (n,).
    """
    g = np.asarray(gcr_frac, dtype=float)
    lo, hi = float(g.min()), float(g.max())
    if hi - lo < 0.01:
        return np.array([float(g.mean())]), np.zeros(len(g), dtype=int), np.zeros(len(g))
    n = int(np.ceil((hi - lo) / step_frac)) + 1
    levels = np.linspace(lo, hi, n)
    lower = np.clip(np.searchsorted(levels, g, side="right") - 1, 0, n - 2)
    weight = (g - levels[lower]) / (levels[lower + 1] - levels[lower])
    return levels, lower, np.clip(weight, 0.0, 1.0)


def rear_irradiance(
    weather: pd.DataFrame,
    sun: pd.DataFrame,
    *,
    archetype: PVArchetype,
    technology: PVTechnology,
    tilt_deg: np.ndarray,
    azimuth_deg: np.ndarray,
    gcr_frac: float | None = None,
) -> np.ndarray | None:
    """Bifacial rear-side irradiance, weighted by bifaciality, for rows of modules.

    Uses pvlib's infinite-sheds model (Mikofski et al. 2019) with the archetype's
    ground coverage ratio, row height and row width, Hay-Davies sky diffuse and the
    archetype's albedo; pvlib's default structure shading of the rear (2 %). The
    same numbers as ``infinite_sheds.get_irradiance(...)["poa_global"] - ["poa_front"]``
    per node, but only the rear side, only the lit hours, and one pvlib call for all
    nodes of a tilt.

    Parameters
    ----------
    weather : pandas.DataFrame
        ``ghi``, ``dni``, ``dhi`` [W m⁻²].
    sun : pandas.DataFrame
        :func:`census.solar.resource.sun_geometry` output.
    archetype : PVArchetype
        Must be ``mounting == "rows"`` with ``row_height_m`` and
        ``collector_width_m`` set, else there is no rear gain.
    technology : PVTechnology
        ``bifaciality_frac`` > 0, else there is no rear gain.
    tilt_deg, azimuth_deg : numpy.ndarray
        Node orientations, shape (n,). [deg]
    gcr_frac : float, optional
        Ground coverage ratio [frac]; default the archetype's ``coverage_frac``
        (rows spaced by the winter-solstice rule have their own per site).

    Returns
    -------
    numpy.ndarray or None
        ``bifaciality x rear irradiance``, shape (n, hours) [W m⁻²]; None when the
        archetype or technology has no rear gain.

    References
    ----------
    .. [1] M. Mikofski, R. Darawali, M. Hamer, A. Neubert and J. Newmiller,
       "Bifacial Performance Modeling in Large Arrays," 2019 IEEE 46th PVSC,
       pp. 1282-1287, :doi:`10.1109/PVSC40753.2019.8980572`.
    """
    if not has_rear_side(archetype, technology):
        return None
    tilt = np.asarray(tilt_deg, dtype=float)
    azimuth = np.asarray(azimuth_deg, dtype=float)
    gcr = archetype.coverage_frac if gcr_frac is None else float(gcr_frac)
    pitch_m = archetype.collector_width_m / gcr
    out = np.zeros((len(tilt), len(weather)))
    if len(tilt) == 0:
        return out

    # hours without any light give 0 (pvlib's result there: 0 or NaN -> 0)
    lit = lit_hours(weather)
    if len(lit) == 0:
        return out
    ghi, dhi, dni = (np.asarray(weather[k], dtype=float)[lit] for k in ("ghi", "dhi", "dni"))
    zenith = np.asarray(sun["apparent_zenith"], dtype=float)[lit]
    sun_azimuth = np.asarray(sun["azimuth"], dtype=float)[lit]
    dni_extra = np.asarray(sun["dni_extra"], dtype=float)[lit]
    # pvlib's get_irradiance_poa(model="haydavies") moves the circumsolar light from DHI to
    # DNI with two haydavies calls that depend on the sun only, then runs the isotropic
    # model on the adjusted DHI and DNI. Done here once for all nodes, with pvlib's calls
    # (the test against infinite_sheds.get_irradiance guards this equivalence).
    horizontal = pvlib.irradiance.haydavies(
        0, 180, dhi, dni, dni_extra, zenith, sun_azimuth, return_components=True
    )
    normal = pvlib.irradiance.haydavies(
        zenith, sun_azimuth, dhi, dni, dni_extra, zenith, sun_azimuth, return_components=True
    )
    dhi_iso = dhi - np.asarray(horizontal["poa_circumsolar"], dtype=float)
    dni_iso = dni + np.asarray(normal["poa_circumsolar"], dtype=float)
    weight = technology.bifaciality_frac * _REAR_EFFECTS_FRAC
    n_lit = len(lit)
    # one pvlib call per distinct tilt (its view factors depend on the tilt only), all
    # nodes of that tilt stacked along pvlib's time axis (azimuth may be an array of the
    # time length), at most _REAR_CHUNK_ELEMENTS values per call to bound memory
    per_call = max(1, _REAR_CHUNK_ELEMENTS // n_lit)
    for t in np.unique(tilt):
        nodes = np.flatnonzero(tilt == t)
        # the rear side of a row: pvlib's infinite_sheds._backside
        back_tilt = 180.0 - float(t)
        for first in range(0, len(nodes), per_call):
            part = nodes[first : first + per_call]
            k = len(part)
            back_azimuth = np.repeat((180.0 + azimuth[part]) % 360.0, n_lit)
            res = infinite_sheds.get_irradiance_poa(
                back_tilt,
                back_azimuth,
                np.tile(zenith, k),
                np.tile(sun_azimuth, k),
                gcr,
                archetype.row_height_m,
                pitch_m,
                np.tile(ghi, k),
                np.tile(dhi_iso, k),
                np.tile(dni_iso, k),
                archetype.albedo_frac,
                model="isotropic",
            )
            rear = np.asarray(res["poa_global"], dtype=float).reshape(k, n_lit) * weight
            out[np.ix_(part, lit)] = np.maximum(np.nan_to_num(rear), 0.0)
    return out


def _annual_factor_h(weather: pd.DataFrame) -> float:
    """Hours per time step times the factor that scales the data period to a year."""
    step_h = (weather.index[1] - weather.index[0]) / pd.Timedelta(hours=1)
    covered_h = step_h * len(weather)
    return step_h * HOURS_PER_YEAR / covered_h


def simulate_orientation(
    weather: pd.DataFrame,
    metadata: Mapping[str, Any],
    *,
    archetype: str,
    technology: str | None = None,
    tilt_deg: float | None = None,
    azimuth_deg: float | None = None,
    config: PVConfig,
) -> pd.DataFrame:
    """Hourly PV chain for one orientation (for checks and plots).

    Parameters
    ----------
    weather, metadata
        As returned by :func:`census.io.weather.read_weather`.
    archetype : str
        Key of ``config.archetypes``.
    technology : str, optional
        Key of ``config.technologies``; the archetype's default if None.
    tilt_deg, azimuth_deg : float, optional
        Orientation [deg]; the archetype's defaults if None.
    config : PVConfig
        PV assumptions.

    Returns
    -------
    pandas.DataFrame
        Index of ``weather``; ``poa_global``, ``effective_irradiance`` [W m⁻²],
        ``temp_cell`` [°C], ``p_dc``, ``p_ac`` [kW per kW DC].
    """
    arch, tech = _lookup(config, archetype, technology)
    tilt = arch.tilt_deg if tilt_deg is None else float(tilt_deg)
    azimuth = arch.azimuth_deg if azimuth_deg is None else float(azimuth_deg)
    names = ("poa_global", "effective_irradiance", "temp_cell", "p_dc", "p_ac")
    res = simulate_nodes(
        weather,
        sun_geometry(weather, metadata),
        archetype=arch,
        technology=tech,
        tilt_deg=np.array([tilt]),
        azimuth_deg=np.array([azimuth]),
        config=config,
        outputs=names,
    )
    return pd.DataFrame({k: res[k][0] for k in names}, index=weather.index)


def specific_yield(
    weather: pd.DataFrame,
    metadata: Mapping[str, Any],
    *,
    archetype: str,
    technology: str | None = None,
    tilt_deg: float | None = None,
    azimuth_deg: float | None = None,
    config: PVConfig,
) -> float:
    """Annual AC specific yield of one orientation.

    Parameters
    ----------
    weather, metadata
        As returned by :func:`census.io.weather.read_weather`.
    archetype : str
        Key of ``config.archetypes``.
    technology : str, optional
        Key of ``config.technologies``; the archetype's default if None.
    tilt_deg, azimuth_deg : float, optional
        Orientation [deg]; the archetype's defaults if None.
    config : PVConfig
        PV assumptions.

    Returns
    -------
    float
        AC energy per kW of DC nameplate in a year [kWh kWp⁻¹ yr⁻¹].
    """
    hourly = simulate_orientation(
        weather,
        metadata,
        archetype=archetype,
        technology=technology,
        tilt_deg=tilt_deg,
        azimuth_deg=azimuth_deg,
        config=config,
    )
    return float(hourly["p_ac"].sum() * _annual_factor_h(weather))


# ---------------------------------------------------------------------------
# orientation nodes
# ---------------------------------------------------------------------------
def orientation_nodes(
    tilt_deg: np.ndarray,
    azimuth_deg: np.ndarray,
    *,
    bin_width_tilt_deg: float,
    bin_width_azimuth_deg: float,
    method: str = "bilinear",
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Map site orientations onto grid nodes with weights.

    Tilt nodes are ``0, w, 2w, ...`` up to 90 (90 always included); azimuth
    nodes ``0, w, ...`` wrapping at 360. At tilt 0 every azimuth is the same
    node.

    Parameters
    ----------
    tilt_deg, azimuth_deg : numpy.ndarray
        Site orientations, shape (n,). Tilt in [0, 90]. [deg]
    bin_width_tilt_deg, bin_width_azimuth_deg : float
        Node spacing. [deg]
    method : {"bilinear", "nearest"}
        Four weighted corners, or the nearest node with weight 1.

    Returns
    -------
    node_tilt_deg, node_azimuth_deg : numpy.ndarray
        Distinct nodes, shape (m,). [deg]
    site_node : numpy.ndarray of int
        Node index of each site corner, shape (n, k) with k = 4 or 1.
    site_weight : numpy.ndarray
        Weights, shape (n, k), summing to 1 per site. [frac]
    """
    tilt = np.asarray(tilt_deg, dtype=float)
    azimuth = np.mod(np.asarray(azimuth_deg, dtype=float), 360.0)
    t_nodes = np.unique(np.r_[np.arange(0.0, 90.0, bin_width_tilt_deg), 90.0])
    a_nodes = np.unique(np.r_[np.arange(0.0, 360.0, bin_width_azimuth_deg), 360.0])

    def cell(values: np.ndarray, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        i = np.clip(np.searchsorted(nodes, values, side="right") - 1, 0, len(nodes) - 2)
        frac = (values - nodes[i]) / (nodes[i + 1] - nodes[i])
        return i, np.clip(frac, 0.0, 1.0)

    ti, tf = cell(tilt, t_nodes)
    ai, af = cell(azimuth, a_nodes)
    if method == "bilinear":
        corner_t = np.stack([ti, ti + 1, ti, ti + 1], axis=1)
        corner_a = np.stack([ai, ai, ai + 1, ai + 1], axis=1)
        weight = np.stack([(1 - tf) * (1 - af), tf * (1 - af), (1 - tf) * af, tf * af], axis=1)
    elif method == "nearest":
        corner_t = (ti + (tf >= 0.5))[:, None]
        corner_a = (ai + (af >= 0.5))[:, None]
        weight = np.ones((len(tilt), 1))
    else:
        raise ValueError(f"method must be 'bilinear' or 'nearest'; got {method!r}")
    # one integer key per node (azimuth 360 wraps to 0; tilt 0 is one node whatever the
    # azimuth), 0 .. n_t x n_a; the keys present and each corner's rank among them come
    # from a table of that size (as np.unique(keys, return_inverse=True), without its sort)
    n_a = len(a_nodes) - 1 if np.isclose(a_nodes[-1], 360.0) else len(a_nodes)
    a_idx = np.mod(corner_a, n_a)
    keys = np.where(t_nodes[corner_t] == 0.0, 0, corner_t * n_a + a_idx + 1).ravel()
    present = np.zeros(len(t_nodes) * n_a + 1, dtype=bool)
    present[keys] = True
    unique_keys = np.flatnonzero(present) - 1
    inverse = (np.cumsum(present) - 1)[keys]
    flat = unique_keys == -1
    u_t = np.where(flat, 0, unique_keys // n_a)
    u_a = np.where(flat, 0, unique_keys % n_a)
    node_tilt = np.where(flat, 0.0, t_nodes[u_t])
    node_azimuth = np.where(flat, 180.0, np.mod(a_nodes[u_a], 360.0))
    return node_tilt, node_azimuth, inverse.reshape(corner_t.shape), weight


# ---------------------------------------------------------------------------
# the site-table gateway
# ---------------------------------------------------------------------------
def add_pv_yield(
    sites: FrameT,
    weather: pd.DataFrame,
    metadata: Mapping[str, Any],
    config: PVConfig,
    *,
    exact: bool = False,
    return_series: bool = False,
) -> tuple[FrameT, pd.DataFrame] | tuple[FrameT, pd.DataFrame, SiteSeries]:
    """Add specific yield, annual energy and capacity factor to PV sites.

    Parameters
    ----------
    sites : pandas.DataFrame or geopandas.GeoDataFrame
        Site table with ``pv_archetype``, ``pv_technology``, ``capacity_mw_dc``
        [MW DC], ``category``, and optionally ``surface_tilt_deg`` and
        ``surface_azimuth_deg`` [deg] (NaN or absent: the archetype's default).
        Rows without ``pv_archetype`` are not PV and are left untouched.
    weather, metadata
        As returned by :func:`census.io.weather.read_weather`.
    config : PVConfig
        PV assumptions, including the node spacing.
    exact : bool, default False
        Compute every distinct site orientation exactly instead of on the
        node grid (slower; for measuring the binning error).
    return_series : bool, default False
        Also return the hourly AC output of every orientation node and each PV
        site's weights on them, the very series the annual energy is summed
        from (for :mod:`census.profiles`).

    Returns
    -------
    sites : same type as ``sites``
        A copy with, on PV rows, ``specific_yield_kwh_kwp`` (AC energy per kW
        DC, [kWh kWp⁻¹ yr⁻¹]), ``energy_mwh_yr`` (AC, [MWh yr⁻¹]) and
        ``capacity_factor`` (AC energy over DC nameplate × 8760 h, [frac]).
    profile : pandas.DataFrame
        Hourly AC power of all PV sites per ``category`` [MW]; index of
        ``weather`` (see ``metadata["interval_label"]``), one column per
        category with PV rows.
    series : census.hourly.SiteSeries
        Only with ``return_series``: node series [MW per MW DC] and weights
        (capacity_mw_dc x node weight) [MW DC] of the PV rows.

    Raises
    ------
    SchemaError
        If a required column is missing.
    ConfigError
        If a row names an unknown archetype or technology.
    InputError
        If a tilt is outside [0, 90] deg.
    """
    required = ["pv_archetype", "pv_technology", "capacity_mw_dc", "category"]
    require_columns(
        sites,
        required,
        what="add_pv_yield",
        fix="Run census.solar.capacity.add_pv_capacity first.",
    )
    # with pandas' Copy-on-Write (always from pandas 3) a shallow copy is enough: the
    # columns written below are copied then, the caller's table never changes; a deep
    # copy of a 1e6-site table with its geometry costs ~1 s
    out = sites.copy(deep=not _copy_on_write())
    for col in ("specific_yield_kwh_kwp", "energy_mwh_yr", "capacity_factor"):
        if col not in out.columns:
            out[col] = np.nan
    is_pv = pv_rows(out)
    categories = sorted(out.loc[is_pv, "category"].astype(str).unique())
    profile = pd.DataFrame(0.0, index=weather.index, columns=pd.Index(categories, name="category"))
    if not is_pv.any():
        if return_series:
            return out, profile, _site_series(weather, metadata, out.index[:0], [], [])
        return out, profile

    # only the columns read below: a copy of the PV rows' geometry would cost more than
    # the rest of the table
    used = [
        c
        for c in (*required, "surface_tilt_deg", "surface_azimuth_deg", "pv_coverage_frac")
        if c in out.columns
    ]
    pv = pd.DataFrame(out[used]).loc[is_pv]
    arch_names = pv["pv_archetype"].astype(str).to_numpy()
    unknown = sorted(set(pd.unique(arch_names)) - set(config.archetypes))
    if unknown:
        raise ConfigError(
            f"column 'pv_archetype' has value(s) {unknown}; expected one of "
            f"{sorted(config.archetypes)}."
        )
    tech_default = (
        pd.Series(arch_names)
        .map({k: a.technology for k, a in config.archetypes.items()})
        .to_numpy(dtype=object)
    )
    tech_given = pv["pv_technology"]
    tech_names = np.where(
        tech_given.notna().to_numpy(), tech_given.astype(str).to_numpy(), tech_default
    )
    unknown = sorted(set(pd.unique(tech_names)) - set(config.technologies))
    if unknown:
        raise ConfigError(
            f"column 'pv_technology' has value(s) {unknown}; expected one of "
            f"{sorted(config.technologies)}."
        )
    tilt = _orientation(pv, "surface_tilt_deg", arch_names, config, "tilt_deg")
    azimuth = _orientation(pv, "surface_azimuth_deg", arch_names, config, "azimuth_deg")
    bad = ~((tilt >= 0.0) & (tilt <= 90.0))
    if bad.any():
        raise InputError(
            f"column 'surface_tilt_deg' is outside [0, 90] deg for {int(bad.sum())} PV site(s) "
            f"(first: {tilt[bad][0]}); tilt is measured from horizontal. Fix the screening "
            "stage's terrain or roof tilt."
        )
    azimuth = np.mod(azimuth, 360.0)
    capacity_mw_dc = pd.to_numeric(pv["capacity_mw_dc"], errors="coerce").to_numpy(float)
    cat_codes = pd.Categorical(pv["category"].astype(str), categories=categories).codes

    sun = sun_geometry(weather, metadata)
    factor_h = _annual_factor_h(weather)
    yield_kwh_kwp = np.full(len(pv), np.nan)
    profile_mw = np.zeros((len(weather), len(categories)))

    groups = pd.DataFrame({"a": arch_names, "t": tech_names}).groupby(["a", "t"]).indices
    n_nodes_total = 0
    blocks: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # (rows, weights, p_ac)
    node_p_ac: list[np.ndarray] = []
    for (arch_name, tech_name), rows in groups.items():
        arch, tech = config.archetypes[arch_name], config.technologies[tech_name]
        if exact:
            keys = np.stack([tilt[rows], np.where(tilt[rows] == 0.0, 180.0, azimuth[rows])], 1)
            unique, inverse = np.unique(keys, axis=0, return_inverse=True)
            node_t, node_a = unique[:, 0], unique[:, 1]
            site_node, site_w = inverse.reshape(-1, 1), np.ones((len(rows), 1))
        else:
            node_t, node_a, site_node, site_w = orientation_nodes(
                tilt[rows],
                azimuth[rows],
                bin_width_tilt_deg=config.bin_width_tilt_deg,
                bin_width_azimuth_deg=config.bin_width_azimuth_deg,
                method=config.bin_interpolation,
            )
        # bifacial rows: the rear side sees the site's own ground coverage ratio, which
        # the winter-solstice spacing sets per site (hillsides); nodes get a GCR level.
        # pv_coverage_frac (module area per map area) stands for the GCR: on east or west
        # slopes it is GCR / cos(axis dip), <= 1.5 % more at 10 deg, which moves the rear
        # gain by far less than 0.01 % of the yield
        gcrs: np.ndarray = np.array([np.nan])
        if has_rear_side(arch, tech):
            site_gcr = (
                pd.to_numeric(pv["pv_coverage_frac"].iloc[rows], errors="coerce").to_numpy(float)
                if "pv_coverage_frac" in pv.columns
                else np.full(len(rows), np.nan)
            )
            # sites without modules (0 coverage: ineligible, or capped away) keep the
            # typical GCR of the others; they carry no capacity
            has_mw = np.nan_to_num(capacity_mw_dc[rows]) > 0.0
            ok = np.isfinite(site_gcr) & (site_gcr > 0.0) & (site_gcr < 1.0) & has_mw
            typical = float(np.median(site_gcr[ok])) if ok.any() else arch.coverage_frac
            site_gcr = np.where(ok, site_gcr, typical)
            gcrs, lower, upper_w = gcr_levels(site_gcr)
            if len(gcrs) > 1:
                n_orient = len(node_t)
                node_t, node_a = np.tile(node_t, len(gcrs)), np.tile(node_a, len(gcrs))
                site_node = np.concatenate(
                    [
                        site_node + (lower * n_orient)[:, None],
                        site_node + ((lower + 1) * n_orient)[:, None],
                    ],
                    axis=1,
                )
                site_w = np.concatenate(
                    [site_w * (1.0 - upper_w)[:, None], site_w * upper_w[:, None]], axis=1
                )
        node_gcr = np.repeat(gcrs, len(node_t) // len(gcrs))
        n_nodes = len(node_t)
        n_nodes_total += n_nodes
        # capacity of each node per category: sum over sites of capacity x weight
        cap = np.nan_to_num(capacity_mw_dc[rows])
        node_cat_mw = np.zeros((n_nodes, len(categories)))
        np.add.at(
            node_cat_mw,
            (site_node.ravel(), np.repeat(cat_codes[rows], site_node.shape[1])),
            (site_w * cap[:, None]).ravel(),
        )
        node_yield = np.empty(n_nodes)
        if return_series:
            node_p_ac.append(np.empty((n_nodes, len(weather))))
        n_per_level = n_nodes // len(gcrs)
        start = 0
        while start < n_nodes:
            # chunks never straddle two GCR levels
            stop = min(start + _CHUNK_NODES, (start // n_per_level + 1) * n_per_level)
            part = slice(start, stop)
            p_ac = simulate_nodes(
                weather,
                sun,
                archetype=arch,
                technology=tech,
                tilt_deg=node_t[part],
                azimuth_deg=node_a[part],
                config=config,
                gcr_frac=None if np.isnan(node_gcr[start]) else float(node_gcr[start]),
            )["p_ac"]
            node_yield[part] = p_ac.sum(axis=1) * factor_h
            if return_series:
                node_p_ac[-1][part] = p_ac
            # [kW/kWp] x [MW] = [MW]
            profile_mw += p_ac.T @ node_cat_mw[part]
            start = stop
        yield_kwh_kwp[rows] = (node_yield[site_node] * site_w).sum(axis=1)
        if return_series:
            blocks.append((rows, site_node, site_w * cap[:, None]))
    logger.debug(
        "PV yield: %d sites on %d orientation nodes (exact=%s)", len(pv), n_nodes_total, exact
    )

    energy_mwh_yr = kwh_to_mwh(yield_kwh_kwp * mw_to_kw(capacity_mw_dc))
    out.loc[is_pv, "specific_yield_kwh_kwp"] = yield_kwh_kwp
    out.loc[is_pv, "energy_mwh_yr"] = energy_mwh_yr
    out.loc[is_pv, "capacity_factor"] = yield_kwh_kwp / HOURS_PER_YEAR
    profile.loc[:, :] = profile_mw
    if return_series:
        series = _site_series(weather, metadata, pv.index, blocks, node_p_ac)
        return out, profile, series
    return out, profile


def _site_series(
    weather: pd.DataFrame,
    metadata: Mapping[str, Any],
    pv_index: pd.Index,
    blocks: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
    node_p_ac: list[np.ndarray],
) -> SiteSeries:
    """Sparse (PV sites x nodes) weights [MW DC] and node series [kW per kW DC]."""
    rows, cols, vals = [], [], []
    offset = 0
    for (site_rows, site_node, weight_mw), p_ac in zip(blocks, node_p_ac, strict=True):
        rows.append(np.repeat(site_rows, site_node.shape[1]))
        cols.append(site_node.ravel() + offset)
        vals.append(weight_mw.ravel())
        offset += p_ac.shape[0]
    weights = sparse.csr_matrix(
        (
            np.concatenate(vals) if vals else np.empty(0),
            (
                np.concatenate(rows) if rows else np.empty(0, int),
                np.concatenate(cols) if cols else np.empty(0, int),
            ),
        ),
        shape=(len(pv_index), offset),
    )
    unit = np.concatenate(node_p_ac, axis=0) if node_p_ac else np.empty((0, len(weather)))
    return SiteSeries(
        index=weather.index,
        interval_label=str(metadata.get("interval_label", "beginning")),
        site_index=pv_index,
        weights=weights,
        unit_power_mw=unit,  # [kW per kW DC] = [MW per MW DC]
        annual_factor_h=_annual_factor_h(weather),
    )


def _copy_on_write() -> bool:
    """Whether pandas copies shared data when it is written (Copy-on-Write)."""
    if int(pd.__version__.split(".", 1)[0]) >= 3:
        return True
    return pd.get_option("mode.copy_on_write") is True


def _orientation(
    pv: pd.DataFrame, column: str, arch_names: np.ndarray, config: PVConfig, attr: str
) -> np.ndarray:
    codes, names = pd.factorize(arch_names)
    default = np.array([getattr(config.archetypes[a], attr) for a in names], dtype=float)[codes]
    if column not in pv.columns:
        return default
    given = pd.to_numeric(pv[column], errors="coerce").to_numpy(float)
    return np.where(np.isnan(given), default, given)


def _lookup(
    config: PVConfig, archetype: str, technology: str | None
) -> tuple[PVArchetype, PVTechnology]:
    if archetype not in config.archetypes:
        raise ConfigError(
            f"unknown PV archetype {archetype!r}; expected one of {sorted(config.archetypes)}"
        )
    arch = config.archetypes[archetype]
    tech_name = arch.technology if technology is None else technology
    if tech_name not in config.technologies:
        raise ConfigError(
            f"unknown PV technology {tech_name!r}; expected one of {sorted(config.technologies)}"
        )
    return arch, config.technologies[tech_name]
