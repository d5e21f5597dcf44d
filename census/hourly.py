"""Hourly output of many sites as a sparse mix of a few shared series.

PV yield is computed once per orientation node and wind yield once per distinct
(roughness, elevation, atlas scale) key; every site's hourly output is a weighted
sum of those few series. :class:`SiteSeries` keeps exactly that: the shared
series and a sparse site x series weight matrix, so that hourly generation of any
grouping of sites (districts, zones, technologies) is two matrix products,
however many sites there are (see :mod:`census.profiles`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

__all__ = ["SiteSeries", "concat_site_series"]


@dataclass(frozen=True)
class SiteSeries:
    """Hourly AC output of sites as ``weights @ unit_power_mw``.

    Attributes
    ----------
    index : pandas.DatetimeIndex
        Time stamps of the weather year (tz-aware), labelled as
        ``interval_label`` says.
    interval_label : str
        ``"beginning"`` (a row is the mean over ``[t, t + step)``), ``"ending"``
        or ``"instantaneous"``, from the weather metadata.
    site_index : pandas.Index
        Index labels, in the site table, of the rows of ``weights``.
    weights : scipy.sparse.csr_matrix
        Shape (sites, series): how much of each shared series a site produces.
        PV: capacity_mw_dc x the site's node weight [MW DC]; wind: turbines x
        losses x the annual-energy correction [-].
    unit_power_mw : numpy.ndarray
        Shape (series, hours): AC power per unit weight. PV: per MW DC
        [MW MW⁻¹]; wind: one turbine [MW].
    annual_factor_h : float
        Hours per step x (8760 h / hours covered): a site's ``energy_mwh_yr`` is
        ``(weights @ unit_power_mw).sum(axis=1) * annual_factor_h``. [h]
    """

    index: pd.DatetimeIndex
    interval_label: str
    site_index: pd.Index
    weights: sparse.csr_matrix
    unit_power_mw: np.ndarray
    annual_factor_h: float

    def __post_init__(self) -> None:
        n_sites, n_series = self.weights.shape
        if n_sites != len(self.site_index) or self.unit_power_mw.shape != (
            n_series,
            len(self.index),
        ):
            raise ValueError(
                f"SiteSeries shapes disagree: weights {self.weights.shape}, "
                f"{len(self.site_index)} sites, unit_power_mw {self.unit_power_mw.shape}, "
                f"{len(self.index)} time steps."
            )

    def site_power_mw(self) -> np.ndarray:
        """Return the hourly AC power of every site, shape (sites, hours) [MW].

        Dense: use it for a few sites, and :func:`census.profiles.group_generation`
        for many.
        """
        return np.asarray(self.weights @ self.unit_power_mw)


def concat_site_series(parts: list[SiteSeries]) -> SiteSeries | None:
    """Stack the series of disjoint site sets that share one weather year.

    Parameters
    ----------
    parts : list of SiteSeries
        Same time index length and annual factor; different sites.

    Returns
    -------
    SiteSeries or None
        One block-diagonal :class:`SiteSeries` on the first part's index; None if
        ``parts`` is empty.
    """
    if not parts:
        return None
    first = parts[0]
    for p in parts[1:]:
        if len(p.index) != len(first.index):
            raise ValueError(
                f"cannot stack hourly series of {len(p.index)} and {len(first.index)} steps"
            )
    return SiteSeries(
        index=first.index,
        interval_label=first.interval_label,
        site_index=pd.Index(np.concatenate([np.asarray(p.site_index) for p in parts])),
        weights=sparse.block_diag([p.weights for p in parts], format="csr"),
        unit_power_mw=np.concatenate([p.unit_power_mw for p in parts], axis=0),
        annual_factor_h=first.annual_factor_h,
    )
