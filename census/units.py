"""Named unit conversions; nothing else lives here.

Convert only through these functions, never with a bare ``x / 1000``, so that
every conversion in the code base reads as what it is.
"""

from __future__ import annotations

from typing import TypeVar

T = TypeVar("T")

HOURS_PER_YEAR: float = 8760.0
"""Hours in a non-leap year [h]."""


def w_to_kw(x: T) -> T:
    """Convert [W] to [kW]."""
    return x / 1e3  # type: ignore[operator]


def kw_to_w(x: T) -> T:
    """Convert [kW] to [W]."""
    return x * 1e3  # type: ignore[operator]


def kw_to_mw(x: T) -> T:
    """Convert [kW] to [MW]."""
    return x / 1e3  # type: ignore[operator]


def mw_to_kw(x: T) -> T:
    """Convert [MW] to [kW]."""
    return x * 1e3  # type: ignore[operator]


def w_to_mw(x: T) -> T:
    """Convert [W] to [MW]."""
    return x / 1e6  # type: ignore[operator]


def mw_to_gw(x: T) -> T:
    """Convert [MW] to [GW]."""
    return x / 1e3  # type: ignore[operator]


def gw_to_mw(x: T) -> T:
    """Convert [GW] to [MW]."""
    return x * 1e3  # type: ignore[operator]


def wh_to_kwh(x: T) -> T:
    """Convert [Wh] to [kWh]."""
    return x / 1e3  # type: ignore[operator]


def kwh_to_mwh(x: T) -> T:
    """Convert [kWh] to [MWh]."""
    return x / 1e3  # type: ignore[operator]


def mwh_to_kwh(x: T) -> T:
    """Convert [MWh] to [kWh]."""
    return x * 1e3  # type: ignore[operator]


def mwh_to_gwh(x: T) -> T:
    """Convert [MWh] to [GWh]."""
    return x / 1e3  # type: ignore[operator]


def wh_to_mwh(x: T) -> T:
    """Convert [Wh] to [MWh]."""
    return x / 1e6  # type: ignore[operator]


def m2_to_km2(x: T) -> T:
    """Convert [m²] to [km²]."""
    return x / 1e6  # type: ignore[operator]


def km2_to_m2(x: T) -> T:
    """Convert [km²] to [m²]."""
    return x * 1e6  # type: ignore[operator]


def mw_per_km2_to_w_per_m2(x: T) -> T:
    """Convert a power density [MW km⁻²] to [W m⁻²] (the two are equal)."""
    return x * 1.0  # type: ignore[operator]


def celsius_to_kelvin(x: T) -> T:
    """Convert [°C] to [K]."""
    return x + 273.15  # type: ignore[operator]


def hpa_to_pa(x: T) -> T:
    """Convert [hPa] to [Pa]."""
    return x * 100.0  # type: ignore[operator]


def frac_to_percent(x: T) -> T:
    """Convert a fraction [0-1] to percent, for display only."""
    return x * 100.0  # type: ignore[operator]


# Chinese counting units used by national statistics and plans: 万 = 1e4, 亿 = 1e8.
def mw_to_wan_kw(x: T) -> T:
    """Megawatts to 万千瓦 (10^4 kW = 10 MW)."""
    return x / 10.0  # type: ignore[operator]


def mwh_to_wan_kwh(x: T) -> T:
    """Megawatt-hours to 万千瓦时 (10^4 kWh = 10 MWh)."""
    return x / 10.0  # type: ignore[operator]


def gwh_to_yi_kwh(x: T) -> T:
    """Gigawatt-hours to 亿千瓦时 (10^8 kWh = 100 GWh)."""
    return x / 100.0  # type: ignore[operator]


def t_to_wan_t(x: T) -> T:
    """Tonnes to 万吨 (10^4 t)."""
    return x / 1e4  # type: ignore[operator]


def capacity_factor_to_full_load_hours(x: T) -> T:
    """Capacity factor [frac] to full-load hours per year (年利用小时数) [h yr⁻¹]."""
    return x * HOURS_PER_YEAR  # type: ignore[operator]
