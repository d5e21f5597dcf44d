"""DC capacity of PV sites from usable area, coverage and module efficiency.

``capacity_mw_dc = usable_area_m2 × coverage × efficiency_frac × 1000 W m⁻²``
``capacity_mw_ac = capacity_mw_dc / dc_ac_ratio`` (the archetype's inverter sizing)

``coverage`` (column ``pv_coverage_frac``) is module area per usable area:

* flush or vertical mounting: the archetype's packing fraction ``coverage_frac``;
* rows with ``row_spacing = "fixed"``: the archetype's ground coverage ratio;
* rows with ``row_spacing = "winter_solstice"``: the site's own shade-free GCR on
  its slope and aspect (:func:`census.solar.spacing.row_layout`, GB 50797-2012
  clause 7.2.2), capped by ``max_gcr_frac``; such rows follow the terrain, so
  their module tilt and azimuth are written to ``surface_tilt_deg`` and
  ``surface_azimuth_deg`` where the site gives none;
* then, once, ``max_cover_frac`` limits the modules' horizontal projection to
  that share of the usable area: ``coverage ≤ max_cover_frac / cos(tilt)``.

``efficiency_frac`` is the module technology's STC efficiency, i.e. DC watts
per m² of module at 1000 W m⁻². No single "MW per km²" number is assumed.
"""

from __future__ import annotations

import logging
import warnings
from typing import TypeVar

import numpy as np
import pandas as pd

from census.crs import DISPLAY_CRS
from census.exceptions import ConfigError, InputError, SchemaError
from census.schema import require_columns
from census.settings.pv import PVConfig
from census.solar.spacing import row_layout
from census.solar.systems import STC_IRRADIANCE_W_M2
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


def add_pv_capacity(
    sites: FrameT, config: PVConfig, *, latitude_deg: float | None = None
) -> FrameT:
    """Add the DC capacity and module technology of PV sites.

    Parameters
    ----------
    sites : pandas.DataFrame or geopandas.GeoDataFrame
        Site table with ``eligible`` (bool), ``usable_area_m2`` [m²],
        ``technology`` (the site technology screening took from the category's
        rules) and ``pv_archetype`` (a key of ``config.archetypes``; missing for
        rows that are not PV, which are left untouched). An optional ``pv_technology``
        column overrides the archetype's module technology where it is set.
        Archetypes whose ``row_spacing`` is ``"winter_solstice"`` also read
        ``slope_deg`` and ``aspect_deg`` [deg] (absent or NaN: level ground).
    config : PVConfig
        Archetypes and technologies.
    latitude_deg : float, optional
        Latitude of every site [deg], for the winter-solstice row spacing. By
        default each site's own, from its geometry's centroid (a GeoDataFrame
        with a CRS); needed only when ``sites`` has no geometry.

    Returns
    -------
    same type as ``sites``
        A copy with ``pv_technology`` (module technology), ``pv_coverage_frac``
        (module area per usable area) [frac], ``capacity_mw_dc`` (module nameplate
        at STC) [MW] and ``capacity_mw_ac`` (inverter rating, DC / the archetype's
        ``dc_ac_ratio``) [MW] set on PV rows; 0 MW for ineligible PV rows.
        Rows under winter-solstice spacing also get ``surface_tilt_deg`` and
        ``surface_azimuth_deg`` where those are missing (rows follow the terrain).

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
    A 10 000 m² ground site on level ground at 30.23 N (winter-solstice GCR
    0.616 at 22 deg tilt) with 22.5 % modules: 10 000 × 0.616 × 0.225 × 1000 W
    = 1.386 MW.
    """
    # the site technology (pv_rooftop, pv_ground ...) is the category's, set by screening
    # from rules.yaml; this stage only adds the module technology and the capacity
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
    unknown = sorted(set(archetypes.unique()) - set(config.archetypes))
    if unknown:
        raise ConfigError(
            f"column 'pv_archetype' has value(s) {unknown} that are not PV archetypes; "
            f"expected one of {sorted(config.archetypes)}. Fix the screening rules or add "
            "the archetype under [pv.archetypes]."
        )
    default_tech = archetypes.map({k: a.technology for k, a in config.archetypes.items()})
    given = out.loc[is_pv, "pv_technology"]
    tech = given.where(given.notna() & (given.astype("string") != ""), default_tech).astype(str)
    unknown_tech = sorted(set(tech.unique()) - set(config.technologies))
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
    coverage = _coverage(out, is_pv, archetypes.to_numpy(), config, latitude_deg)
    efficiency = tech.map({k: t.efficiency_frac for k, t in config.technologies.items()})
    density_w_m2 = coverage * efficiency.to_numpy(dtype=float) * STC_IRRADIANCE_W_M2
    capacity_mw_dc = np.where(eligible, w_to_mw(area_m2 * density_w_m2), 0.0)
    dc_ac_ratio = archetypes.map({k: a.dc_ac_ratio for k, a in config.archetypes.items()})
    capacity_mw_ac = capacity_mw_dc / dc_ac_ratio.to_numpy(dtype=float)

    out.loc[is_pv, "pv_coverage_frac"] = coverage
    out.loc[is_pv, "pv_technology"] = tech.to_numpy()
    out.loc[is_pv, "capacity_mw_dc"] = capacity_mw_dc
    out.loc[is_pv, "capacity_mw_ac"] = capacity_mw_ac
    logger.debug("PV capacity: %d sites, %.1f MW DC", int(is_pv.sum()), float(capacity_mw_dc.sum()))
    return out


def _coverage(
    out: pd.DataFrame,
    is_pv: np.ndarray,
    archetypes: np.ndarray,
    config: PVConfig,
    latitude_deg: float | None,
) -> np.ndarray:
    """Return module area per usable area of each PV row; fill terrain-following orientations.

    Writes ``surface_tilt_deg`` / ``surface_azimuth_deg`` into ``out`` (in place)
    where winter-solstice rows have none.
    """
    if "pv_coverage_frac" not in out.columns:
        out["pv_coverage_frac"] = np.nan
    for col in ("surface_tilt_deg", "surface_azimuth_deg"):
        if col not in out.columns:
            out[col] = np.nan
    pv_index = out.index[is_pv]
    coverage = (
        pd.Series(archetypes)
        .map({k: a.coverage_frac for k, a in config.archetypes.items()})
        .to_numpy(float, copy=True)
    )
    tilt = pd.to_numeric(out.loc[pv_index, "surface_tilt_deg"], errors="coerce").to_numpy(float)
    tilt = tilt.copy()
    for name in sorted(pd.unique(archetypes)):
        arch = config.archetypes[name]
        rows = np.flatnonzero(archetypes == name)
        if arch.row_spacing == "winter_solstice":
            idx = pv_index[rows]
            layout = row_layout(
                _latitudes(out, idx, latitude_deg),
                tilt_deg=arch.tilt_deg,
                azimuth_deg=arch.azimuth_deg,
                slope_deg=_column(out, idx, "slope_deg", 0.0),
                aspect_deg=_column(out, idx, "aspect_deg", 180.0),
                max_gcr_frac=arch.max_gcr_frac,
            )
            coverage[rows] = layout["module_area_per_map_area_frac"].to_numpy()
            hopeless = (layout["gcr_frac"].to_numpy() <= 0.0) & (
                out.loc[idx, "eligible"].fillna(False).astype(bool).to_numpy()
            )
            if hopeless.any():
                warnings.warn(
                    f"{int(hopeless.sum())} eligible '{name}' PV site(s) lie on slopes so steep "
                    "away from the sun that no row spacing avoids winter shade (GB 50797-2012 "
                    "cl. 7.2.2); they get 0 MW. Tighten the category's max_slope_deg or "
                    "aspect_range_deg to screen them out.",
                    stacklevel=3,
                )
            given_tilt = tilt[rows]
            missing = np.isnan(given_tilt)
            tilt[rows] = np.where(missing, layout["surface_tilt_deg"].to_numpy(), given_tilt)
            for col in ("surface_tilt_deg", "surface_azimuth_deg"):
                given = pd.to_numeric(out.loc[idx, col], errors="coerce").to_numpy(float)
                out.loc[idx, col] = np.where(missing, layout[col].to_numpy(), given)
        if arch.max_cover_frac is not None:
            # the horizontal projection of a module of tilt t covers cos(t) of its area
            t = np.where(np.isnan(tilt[rows]), arch.tilt_deg, tilt[rows])
            cap = arch.max_cover_frac / np.cos(np.radians(np.minimum(t, 89.0)))
            coverage[rows] = np.minimum(coverage[rows], cap)
    return coverage


def _column(out: pd.DataFrame, idx: pd.Index, column: str, default: float) -> np.ndarray:
    if column not in out.columns:
        return np.full(len(idx), default)
    values = pd.to_numeric(out.loc[idx, column], errors="coerce").to_numpy(float)
    return np.where(np.isnan(values), default, values)


def _latitudes(out: pd.DataFrame, idx: pd.Index, latitude_deg: float | None) -> np.ndarray:
    """Latitude of each site [deg]: the keyword, else the geometry's centroid."""
    if latitude_deg is not None:
        return np.full(len(idx), float(latitude_deg))
    geometry = getattr(out, "geometry", None) if "geometry" in out.columns else None
    crs = getattr(out, "crs", None)
    if geometry is None or crs is None:
        raise SchemaError(
            "add_pv_capacity needs each site's latitude for the winter-solstice row spacing: "
            "give a GeoDataFrame with a CRS, or latitude_deg=<degrees north>."
        )
    centroids = out.loc[idx].geometry.centroid.to_crs(DISPLAY_CRS)
    lat = centroids.y.to_numpy(dtype=float)
    bad = ~((lat > 0.0) & (lat < 66.0))
    if bad.any():
        ids = out.loc[idx[bad], "site_id"].tolist()[:5] if "site_id" in out.columns else []
        raise InputError(
            f"{int(bad.sum())} PV site(s) lie outside latitudes 0-66 N (e.g. {ids}), where the "
            "winter-solstice row spacing is not defined; check the layer's CRS."
        )
    return lat
