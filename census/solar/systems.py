"""PV system archetypes: row spacing, capacity density and cell temperature.

The archetypes themselves (values and sources) are data in
``census/resources/pv.yaml``; this module holds the physics that turns them
into numbers: the coverage ratio that avoids winter shading, the DC capacity
per m² of usable area, and the cell temperature of each mounting.
"""

from __future__ import annotations

import logging

import numpy as np
import pvlib

from census.settings.pv import PVArchetype, PVTechnology

__all__ = [
    "STC_IRRADIANCE_W_M2",
    "capacity_density_w_m2",
    "cell_temperature",
    "gcr_no_winter_shading",
]

logger = logging.getLogger(__name__)

STC_IRRADIANCE_W_M2 = 1000.0
"""Irradiance of Standard Test Conditions (IEC 60904-3) [W m⁻²]."""


def gcr_no_winter_shading(tilt_deg: float, latitude_deg: float) -> float:
    """Ground coverage ratio of rows that do not shade each other at winter solstice.

    The Chinese PV design code rule (GB 50797-2012, as usually quoted) spaces
    south-facing rows so that no row shades the next between 09:00 and 15:00
    true solar time on the winter solstice:
    ``D = 0.707 H / tan(asin(0.648 cos φ - 0.399 sin φ))`` with ``H`` the height
    of the row's upper edge above its lower edge and ``D`` the clear gap. For
    a module slant length ``L`` at tilt ``β``, ``H = L sin β``, the pitch is
    ``L cos β + D`` and ``GCR = L / pitch``.

    Parameters
    ----------
    tilt_deg : float
        Module tilt from horizontal. [deg]
    latitude_deg : float
        Site latitude, northern hemisphere. [deg]

    Returns
    -------
    float
        Ground coverage ratio, module slant length over row pitch. [frac]

    Raises
    ------
    ValueError
        If the tilt is outside [0, 90) or the latitude outside (0, 66).

    Examples
    --------
    >>> round(gcr_no_winter_shading(22.0, 30.23), 2)
    0.62
    """
    if not 0.0 <= tilt_deg < 90.0:
        raise ValueError(f"tilt_deg must be in [0, 90) for rows; got {tilt_deg}")
    if not 0.0 < latitude_deg < 66.0:
        raise ValueError(
            f"latitude_deg must be in (0, 66) (northern hemisphere, sun up at solstice); "
            f"got {latitude_deg}"
        )
    phi = np.radians(latitude_deg)
    elevation = np.arcsin(0.648 * np.cos(phi) - 0.399 * np.sin(phi))
    beta = np.radians(tilt_deg)
    gap_per_slant = 0.707 * np.sin(beta) / np.tan(elevation)
    return float(1.0 / (np.cos(beta) + gap_per_slant))


def capacity_density_w_m2(archetype: PVArchetype, technology: PVTechnology) -> float:
    """DC capacity per m² of usable area.

    ``coverage_frac × efficiency_frac × 1000 W m⁻²``: module area per usable
    area (ground coverage ratio for rows, packing fraction for flush and
    vertical mounting) times the module's STC power per m² of module.

    Parameters
    ----------
    archetype : PVArchetype
        Gives ``coverage_frac`` [frac].
    technology : PVTechnology
        Gives ``efficiency_frac`` [frac].

    Returns
    -------
    float
        DC capacity density [W m⁻²], numerically equal to [MW km⁻²].
    """
    return archetype.coverage_frac * technology.efficiency_frac * STC_IRRADIANCE_W_M2


def cell_temperature(
    poa_global: np.ndarray,
    temp_air: np.ndarray,
    wind_speed: np.ndarray,
    *,
    archetype: PVArchetype,
    technology: PVTechnology,
) -> np.ndarray:
    """Cell temperature of an archetype's mounting, by its pvlib model.

    Parameters
    ----------
    poa_global : array_like
        Plane-of-array irradiance (front). [W m⁻²]
    temp_air : array_like
        Air temperature. [°C]
    wind_speed : array_like
        Wind speed; SAPM coefficients were fitted to 10 m wind (King et al.
        2004), as in EPW/TMY3 files. [m s⁻¹]
    archetype : PVArchetype
        ``temperature_model`` and ``temperature_params``.
    technology : PVTechnology
        ``efficiency_frac`` enters the PVsyst model.

    Returns
    -------
    numpy.ndarray
        Cell temperature, broadcast shape of the inputs. [°C]

    References
    ----------
    .. [1] D. L. King, W. E. Boyson, J. A. Kratochvil, "Photovoltaic Array
       Performance Model," SAND2004-3535, Sandia National Laboratories, 2004,
       :doi:`10.2172/919131`.
    .. [2] D. Faiman, "Assessing the outdoor operating temperature of
       photovoltaic modules," Prog. Photovolt. 16(4), 307-315, 2008,
       :doi:`10.1002/pip.813`.
    """
    params = archetype.temperature_params
    if archetype.temperature_model == "sapm":
        return pvlib.temperature.sapm_cell(
            poa_global, temp_air, wind_speed, params["a"], params["b"], params["deltaT"]
        )
    if archetype.temperature_model == "faiman":
        return pvlib.temperature.faiman(
            poa_global, temp_air, wind_speed, u0=params["u0"], u1=params["u1"]
        )
    return pvlib.temperature.pvsyst_cell(
        poa_global,
        temp_air,
        wind_speed,
        u_c=params["u_c"],
        u_v=params["u_v"],
        module_efficiency=technology.efficiency_frac,
        alpha_absorption=params.get("alpha_absorption", 0.9),
    )
