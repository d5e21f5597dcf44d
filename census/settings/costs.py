"""Cost assumptions of the supply curve (the ``costs`` section of a run's config).

Every value, with unit and source, lives in ``census/resources/costs.yaml``; the
supply curve itself is computed by :mod:`census.supply`.
"""

from __future__ import annotations

from pydantic import Field

from census.settings.base import Strict

__all__ = ["CostsConfig", "TechnologyCost"]


class TechnologyCost(Strict, frozen=True):
    """Cost of one technology.

    Attributes
    ----------
    capex_cny_kw : float
        Overnight installed cost per kW of the site table's capacity (DC kWp for
        PV, rated kW for wind). [CNY kW⁻¹]
    opex_cny_kw_yr : float
        Fixed operation and maintenance cost per kW and year. [CNY kW⁻¹ yr⁻¹]
    lifetime_yr : int
        Economic lifetime. [yr]
    degradation_frac_yr : float
        Yearly decline of output after the first year, applied geometrically
        (year ``t`` gives ``(1 - d)^(t - 1)`` of the first year's energy). [frac yr⁻¹]
    """

    capex_cny_kw: float = Field(gt=0)
    opex_cny_kw_yr: float = Field(ge=0)
    lifetime_yr: int = Field(gt=0, le=100)
    degradation_frac_yr: float = Field(ge=0, lt=1)


class CostsConfig(Strict, frozen=True):
    """Cost assumptions of the supply curve (the ``costs`` section of a run's config).

    No field has a default: every value, with unit and source, lives in
    ``census/resources/costs.yaml``.

    Attributes
    ----------
    discount_rate_frac : float
        Real discount rate, 0-1. [frac]
    technologies : dict of str to TechnologyCost
        Costs by site-table technology (``pv_rooftop``, ``pv_ground``,
        ``pv_floating``, ``pv_bipv``, ``wind``).
    """

    discount_rate_frac: float = Field(ge=0, lt=1)
    technologies: dict[str, TechnologyCost]
