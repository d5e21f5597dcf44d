"""Screening: eligibility, every reason behind it, and usable area per site.

Rules come from :class:`census.sites.rules.RulesConfig`. Every rule is evaluated
for every site, so ``exclusion_reasons`` lists all the rules a site fails (as
stable codes separated by ``;``), not only the first.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from census.crs import require_projected
from census.exceptions import ConfigError, InputError, SchemaError
from census.io.raster import MetricRaster
from census.sites.rooftops import pitched_faces
from census.sites.rules import (
    CategoryRules,
    RulesConfig,
    cut_exclusions,
    overlaps_any,
    threaded,
)
from census.sites.terrain import site_terrain, terrain_grids

__all__ = ["ScreeningResult", "required_exclusions", "screen_sites", "tally_reasons"]

logger = logging.getLogger(__name__)

REASON_SEP = ";"
"""Separator of reason codes in ``exclusion_reasons``."""


@dataclass
class ScreeningResult:
    """Screened sites plus what the later stages need.

    Attributes
    ----------
    sites : geopandas.GeoDataFrame
        The site table with the screening columns added.
    usable_geometry : geopandas.GeoSeries
        Usable geometry of each site (after setbacks and exclusion cuts), same index.
    tally : pandas.DataFrame
        Sites failing each rule, per category: columns ``category``, ``reason``,
        ``sites``, ``area_m2``.
    """

    sites: gpd.GeoDataFrame
    usable_geometry: gpd.GeoSeries
    tally: pd.DataFrame


def required_exclusions(rules: RulesConfig, categories: list[str]) -> set[str]:
    """Return the exclusion layer names the rules of these categories use."""
    names: set[str] = set()
    for cat in categories:
        if cat in rules.categories:
            names.update(e.layer for e in rules.categories[cat].exclusions)
    return names


def _attribute_fail(sub: pd.DataFrame, rule, category: str) -> np.ndarray:
    col = rule.field if rule.field in sub.columns else f"src_{rule.field}"
    if col not in sub.columns:
        raise SchemaError(
            f"Rule '{rule.code}' of category '{category}' needs the field '{rule.field}', which "
            f"the layer does not have (columns: {[c for c in sub.columns if c != 'geometry']}). "
            "Map it with [layers.<name>.fields] or remove the rule in [rules.categories."
            f"{category}]."
        )
    values = sub[col].astype("string").str.strip().str.lower()
    if rule.allow is not None:
        ok = values.isin([v.lower() for v in rule.allow])
    else:
        ok = ~values.isin([v.lower() for v in rule.exclude])
    return ~ok.fillna(False).to_numpy(dtype=bool)


def screen_sites(
    sites: gpd.GeoDataFrame,
    rules: RulesConfig,
    exclusions: dict[str, gpd.GeoSeries],
    *,
    dem: MetricRaster | None = None,
    landcover: MetricRaster | None = None,
) -> ScreeningResult:
    """Screen every site by the rules of its category.

    Parameters
    ----------
    sites : geopandas.GeoDataFrame
        Site table from io (``site_id``, ``category``, ``area_m2``, geometry) in a
        projected metric CRS.
    rules : RulesConfig
    exclusions : dict of str to geopandas.GeoSeries
        Exclusion layers by name, in the sites' CRS.
    dem : MetricRaster, optional
        Elevation for slope and aspect rules; without it those rules are skipped
        with a warning in the log.
    landcover : MetricRaster, optional
        Land-cover class codes (e.g. ESA WorldCover) for the land-cover rules;
        usable area is scaled by the share of the site in allowed classes.

    Returns
    -------
    ScreeningResult
        Sites with ``eligible``, ``exclusion_reasons``, ``clipped_by``,
        ``usable_area_m2``, ``slope_deg``, ``aspect_deg``, ``elevation_m``,
        ``surface_tilt_deg``, ``surface_azimuth_deg``, ``technology``,
        ``pv_archetype``; the usable geometry; the tally of reasons.

    Raises
    ------
    ConfigError
        A site category without rules, or a rule naming a missing exclusion layer.
    """
    require_projected(sites, layer="sites")
    out = sites.copy()
    n = len(out)
    for col, val in (
        ("eligible", False),
        ("exclusion_reasons", ""),
        ("clipped_by", ""),
        ("usable_area_m2", 0.0),
        ("slope_deg", np.nan),
        ("aspect_deg", np.nan),
        ("elevation_m", np.nan),
        ("surface_tilt_deg", np.nan),
        ("surface_azimuth_deg", np.nan),
    ):
        out[col] = pd.Series([val] * n, index=out.index, dtype=None if val == "" else type(val))
    out["technology"] = pd.Series([None] * n, index=out.index, dtype="object")
    out["pv_archetype"] = pd.Series([None] * n, index=out.index, dtype="object")
    usable = gpd.GeoSeries(out.geometry.values.copy(), index=out.index, crs=out.crs)
    # reason codes per site (by position), built with vectorized string adds per rule
    reasons = np.full(n, "", dtype=object)
    clipped = np.full(n, "", dtype=object)
    categories = out["category"].to_numpy()
    buffered: dict[tuple[str, float], gpd.GeoSeries] = {}
    grids: dict[str, np.ndarray] | None = None  # terrain grids, computed once when needed

    for category in pd.unique(out["category"]):
        if category not in rules.categories:
            raise ConfigError(
                f"No screening rules for category '{category}'. Add [rules.categories."
                f"{category}] to your config (see `census config show` for an example), or fix "
                "the layer's category."
            )
        rule: CategoryRules = rules.categories[category]
        pos = np.flatnonzero(categories == category)
        idx = out.index[pos]
        sub = out.iloc[pos]
        fails: dict[str, np.ndarray] = {}
        area = sub["area_m2"].to_numpy()
        fails["min_area"] = area < rule.min_area_m2
        if rule.max_area_m2 is not None:
            fails["max_area"] = area > rule.max_area_m2
        for arule in rule.attribute_rules:
            fails[arule.code] = fails.get(arule.code, np.zeros(len(sub), bool)) | _attribute_fail(
                sub, arule, category
            )
        if rule.min_years_since_closure is not None:
            col = "closed_year" if "closed_year" in sub.columns else "src_closed_year"
            if col not in sub.columns:
                raise SchemaError(
                    f"Rule 'min_years_since_closure' of category '{category}' needs the field "
                    "'closed_year', which the layer lacks. Map it with [layers.<name>.fields] or "
                    f"unset rules.categories.{category}.min_years_since_closure."
                )
            years = rules.reference_year - pd.to_numeric(sub[col], errors="coerce").to_numpy()
            fails["years_since_closure"] = ~(years >= rule.min_years_since_closure)

        geoms = gpd.GeoSeries(sub.geometry.values, index=idx, crs=out.crs)
        for ex in rule.exclusions:
            if ex.layer not in exclusions and ex.optional:
                logger.info(
                    "category %s: optional exclusion layer '%s' not given; rule '%s' skipped",
                    category,
                    ex.layer,
                    ex.code,
                )
                continue
            if ex.layer not in exclusions:
                raise ConfigError(
                    f"Rule '{ex.code}' of category '{category}' names the exclusion layer "
                    f"'{ex.layer}', which the config does not define. Add [exclusions."
                    f"{ex.layer}] with its path, or remove the rule from [rules.categories."
                    f"{category}].exclusions."
                )
            key = (ex.layer, ex.buffer_m)
            if key not in buffered:
                zones = exclusions[ex.layer]
                buffered[key] = zones.buffer(ex.buffer_m) if ex.buffer_m > 0 else zones
            zones = buffered[key]
            if ex.mode == "drop":
                fails[ex.code] = fails.get(ex.code, np.zeros(len(sub), bool)) | overlaps_any(
                    geoms, zones
                )
            else:
                geoms, touched = cut_exclusions(geoms, zones, layer=category)
                hit = pos[touched]
                clipped[hit] = clipped[hit] + (ex.code + REASON_SEP)
        if rule.edge_setback_m > 0:
            # GEOS buffers return valid polygons; no make_valid needed afterwards
            inner = threaded(shapely.buffer, geoms.values, -rule.edge_setback_m, join_style="mitre")
            geoms = gpd.GeoSeries(inner, index=idx, crs=out.crs)
        if rule.min_width_m is not None:
            # a strip narrower than min_width_m vanishes under an inward buffer of half of it
            core = shapely.buffer(geoms.values, -rule.min_width_m / 2.0, join_style="mitre")
            fails["min_width"] = np.asarray(shapely.is_empty(core))
        usable_area = geoms.area.to_numpy() * (1.0 - rule.obstruction_frac)
        if rule.landcover_allow is not None or rule.landcover_exclude is not None:
            if landcover is None:
                raise ConfigError(
                    f"Category '{category}' has land-cover rules but the run has no land-cover "
                    'raster. Set [terrain] landcover = "..." or remove landcover_allow / '
                    f"landcover_exclude from [rules.categories.{category}]."
                )
            share = landcover_share(
                geoms, landcover, allow=rule.landcover_allow, exclude=rule.landcover_exclude
            )
            fails["landcover"] = ~(share >= rule.landcover_min_allowed_frac)
            usable_area = usable_area * np.nan_to_num(share)

        if rule.max_slope_deg is not None or rule.aspect_range_deg is not None:
            if dem is None:
                logger.warning(
                    "category %s has slope/aspect rules but the run has no DEM; they are skipped",
                    category,
                )
            else:
                grids = grids if grids is not None else terrain_grids(dem)
                terr = site_terrain(
                    gpd.GeoDataFrame(geometry=sub.geometry, crs=out.crs),
                    dem,
                    max_slope_deg=rule.max_slope_deg,
                    grids=grids,
                )
                out.loc[idx, ["elevation_m", "slope_deg", "aspect_deg"]] = terr[
                    ["elevation_m", "slope_deg", "aspect_deg"]
                ].to_numpy()
                if rule.max_slope_deg is not None:
                    fails["slope"] = ~(terr["slope_deg"].to_numpy() <= rule.max_slope_deg)
                    usable_area = usable_area * np.nan_to_num(terr["slope_ok_frac"].to_numpy())
                if rule.aspect_range_deg is not None:
                    lo, hi = rule.aspect_range_deg
                    asp = terr["aspect_deg"].to_numpy()
                    inside = (asp >= lo) & (asp <= hi) if lo <= hi else (asp >= lo) | (asp <= hi)
                    # near-flat ground has no meaningful aspect
                    flat = terr["slope_deg"].to_numpy() < rule.aspect_min_slope_deg
                    fails["aspect"] = ~(inside | flat)
        elif dem is not None and rule.technology == "wind":
            grids = grids if grids is not None else terrain_grids(dem)
            terr = site_terrain(
                gpd.GeoDataFrame(geometry=sub.geometry, crs=out.crs), dem, grids=grids
            )
            out.loc[idx, "elevation_m"] = terr["elevation_m"].to_numpy()

        tilt = np.full(len(sub), np.nan)
        azimuth = np.full(len(sub), np.nan)
        archetype = np.array([rule.pv_archetype] * len(sub), dtype=object)
        if category == "rooftop" or rule.pv_archetype_pitched:
            roof = sub["roof_type"] if "roof_type" in sub.columns else pd.Series("flat", index=idx)
            pitched = roof.astype("string").str.lower().eq("pitched").fillna(False).to_numpy()
            if pitched.any() and rule.pv_archetype_pitched:
                pitch_col = sub["roof_pitch_deg"] if "roof_pitch_deg" in sub.columns else None
                if pitch_col is None:
                    raise SchemaError(
                        f"Category '{category}' has pitched roofs but no 'roof_pitch_deg' field. "
                        'Map it with [layers.<name>.fields] roof_pitch_deg = "<column>".'
                    )
                az, kept = pitched_faces(
                    sub.geometry.values[pitched], max_from_south_deg=rule.pitched_max_from_south_deg
                )
                pitch = pd.to_numeric(pitch_col, errors="coerce").to_numpy()[pitched]
                bad = ~((pitch > 0.0) & (pitch < 90.0))
                if bad.any():
                    rows = sub.loc[pitched, "site_id"].to_numpy()[bad]
                    raise InputError(
                        f"Category '{category}': {int(bad.sum())} pitched roofs have no valid "
                        f"roof_pitch_deg (missing, <= 0 or >= 90), e.g. {list(rows[:5])}. Give "
                        "every pitched roof a pitch between 0 and 90 deg, or set its roof_type "
                        "to flat."
                    )
                tilt[pitched] = pitch
                azimuth[pitched] = az
                archetype[pitched] = rule.pv_archetype_pitched
                # sloped face area = footprint share / cos(pitch)
                usable_area[pitched] = usable_area[pitched] * kept / np.cos(np.radians(pitch))
                fails["north_facing"] = np.zeros(len(sub), bool)
                fails["north_facing"][np.flatnonzero(pitched)[kept == 0]] = True
        # hillside racks face the archetype's azimuth (south) whatever the slope's aspect;
        # the aspect rule keeps only slopes that face east through south to west
        usable_area = usable_area * rule.coverage_cap_frac
        fails["min_usable_area"] = ~(usable_area >= max(rule.min_usable_area_m2, 1e-9))
        # one reason list per site. min_usable_area is derived (setbacks, cuts, slope share):
        # it is listed only when no other rule explains why the site is out.
        others = np.zeros(len(sub), bool)
        for code, mask in fails.items():
            if code != "min_usable_area":
                others |= mask
        fails["min_usable_area"] &= ~others
        eligible = ~(others | fails["min_usable_area"])
        for code, mask in fails.items():
            hit = pos[mask]
            reasons[hit] = reasons[hit] + (code + REASON_SEP)
        out.loc[idx, "usable_area_m2"] = np.where(eligible, usable_area, 0.0)
        out.loc[idx, "eligible"] = eligible
        out.loc[idx, "technology"] = rule.technology
        out.loc[idx, "pv_archetype"] = archetype if rule.technology != "wind" else None
        out.loc[idx, "surface_tilt_deg"] = tilt
        out.loc[idx, "surface_azimuth_deg"] = azimuth
        usable.loc[idx] = np.where(eligible, geoms.values, shapely.Polygon())

    out["exclusion_reasons"] = pd.Series(reasons, index=out.index, dtype="object").str.rstrip(
        REASON_SEP
    )
    # a code appears once even when two rules of the same code cut the site
    clip = pd.Series(clipped, index=out.index, dtype="object").str.rstrip(REASON_SEP)
    repeated = clip.str.count(REASON_SEP) > 0
    clip[repeated] = [REASON_SEP.join(dict.fromkeys(c.split(REASON_SEP))) for c in clip[repeated]]
    out["clipped_by"] = clip
    out["eligible"] = out["eligible"].astype(bool)
    return ScreeningResult(sites=out, usable_geometry=usable, tally=tally_reasons(out))


def landcover_share(
    geoms: gpd.GeoSeries,
    landcover: MetricRaster,
    *,
    allow: list[int] | None,
    exclude: list[int] | None,
) -> np.ndarray:
    """Share of each polygon's area in allowed land-cover classes (exactextract, area-weighted).

    Parameters
    ----------
    geoms : geopandas.GeoSeries
        Polygons in the raster's metric CRS.
    landcover : MetricRaster
        Class codes; NaN cells count as not allowed.
    allow, exclude : list of int, optional
        Allowed classes, or excluded classes (everything else allowed).

    Returns
    -------
    numpy.ndarray
        Allowed share of area per polygon [frac]; 0 for empty polygons.
    """
    from exactextract import exact_extract
    from exactextract.raster import NumPyRasterSource

    codes = landcover.data
    if allow is not None:
        ok = np.isin(codes, allow)
    else:
        ok = ~np.isin(codes, exclude or []) & ~np.isnan(codes)
    share = np.zeros(len(geoms))
    nonempty = ~np.asarray(shapely.is_empty(geoms.values))
    if not nonempty.any():
        return share
    minx, miny, maxx, maxy = landcover.bounds
    src = NumPyRasterSource(np.ascontiguousarray(ok * 1.0), minx, miny, maxx, maxy, name="ok")
    frame = gpd.GeoDataFrame(
        {"_row": np.flatnonzero(nonempty)}, geometry=geoms.values[nonempty], crs=geoms.crs
    )
    stats = exact_extract(src, frame, ["mean"], include_cols=["_row"], output="pandas")
    share[stats["_row"].to_numpy()] = stats["mean"].fillna(0.0).to_numpy()
    return share


def tally_reasons(sites: pd.DataFrame) -> pd.DataFrame:
    """Count sites (and their area) failing each rule, per category.

    A site failing three rules counts once under each of them.
    """
    rows = sites[["category", "exclusion_reasons", "area_m2"]].copy()
    rows["reason"] = rows["exclusion_reasons"].str.split(REASON_SEP)
    rows = rows.explode("reason")
    rows = rows[rows["reason"].fillna("") != ""]
    tally = rows.groupby(["category", "reason"], as_index=False).agg(
        sites=("reason", "size"), area_m2=("area_m2", "sum")
    )
    totals = sites.groupby("category", as_index=False).agg(
        sites_total=("category", "size"), eligible_sites=("eligible", "sum")
    )
    return (
        tally.merge(totals, on="category", how="right")
        .fillna({"reason": "", "sites": 0, "area_m2": 0.0})
        .sort_values(["category", "reason"])
        .reset_index(drop=True)
    )
