"""Screening: eligibility, every reason behind it, and usable area per site.

Rules come from :class:`census.sites.rules.RulesConfig`; the rule families that
apply them are the registry :data:`census.sites.registry.RULE_FAMILIES`, applied
by one loop. Every rule is evaluated for every site, so ``exclusion_reasons``
lists all the rules a site fails (as stable codes separated by ``;``), not only
the first.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from census.crs import require_projected
from census.exceptions import ConfigError, InputError
from census.io.raster import MetricRaster
from census.sites.registry import RULE_FAMILIES, ScreenInputs, SiteGroup
from census.sites.rules import RulesConfig

__all__ = ["ScreeningResult", "required_exclusions", "screen_sites", "tally_reasons"]

logger = logging.getLogger(__name__)

REASON_SEP = ";"
"""Separator of reason codes in ``exclusion_reasons``."""

DERIVED_REASON = "min_usable_area"
"""Listed only when no other rule explains why a site is out (setbacks, cuts, shares)."""

_FLOAT_COLUMNS = (
    "slope_deg",
    "aspect_deg",
    "elevation_m",
    "surface_tilt_deg",
    "surface_azimuth_deg",
)
_TEXT_COLUMNS = ("technology", "pv_archetype")


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
            rule = rules.categories[cat]
            if "exclusions" in rule.disabled_rules:
                continue
            names.update(e.layer for e in rule.exclusions if e.code not in rule.disabled_rules)
    return names


def _screen_group(group: SiteGroup) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Apply every rule family to one category: eligibility, usable area, reason masks."""
    fails: dict[str, np.ndarray] = {}
    factors: list[float | np.ndarray] = []
    for family in RULE_FAMILIES.values():
        if group.off(family.name):
            continue
        for outcome in family.apply(group):
            if outcome.fail is not None and not group.off(outcome.code):
                prev = fails.get(outcome.code)
                fails[outcome.code] = outcome.fail if prev is None else prev | outcome.fail
            if not (np.isscalar(outcome.area_factor) and outcome.area_factor == 1.0):
                factors.append(outcome.area_factor)
    usable_area = group.geoms.area.to_numpy()
    for factor in factors:  # in family order
        usable_area = usable_area * factor
    others = np.zeros(group.n, bool)
    for mask in fails.values():
        others |= mask
    fails[DERIVED_REASON] = ~(usable_area >= max(group.rules.min_usable_area_m2, 1e-9)) & ~others
    eligible = ~(others | fails[DERIVED_REASON])
    return eligible, np.where(eligible, usable_area, 0.0), fails


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
        Land-cover class codes (e.g. ESA WorldCover) for the land-cover and forest-type
        rules; usable area is scaled by the share of the site in allowed classes.

    Returns
    -------
    ScreeningResult
        Sites with ``eligible``, ``exclusion_reasons``, ``clipped_by``,
        ``usable_area_m2``, ``slope_deg``, ``aspect_deg``, ``elevation_m``,
        ``surface_tilt_deg``, ``surface_azimuth_deg``, ``technology``,
        ``pv_archetype`` (and ``land_type``, ``land_use_conditions`` where the
        forest-type rule applies); the usable geometry; the tally of reasons.

    Raises
    ------
    ConfigError
        A site category without rules, or a rule naming a missing exclusion layer.
    InputError
        A DEM or land-cover raster with no data under any of the sites screened with it.
    """
    require_projected(sites, layer="sites")
    out = sites.copy()
    n = len(out)
    out["eligible"] = np.zeros(n, bool)
    out["exclusion_reasons"] = ""
    out["clipped_by"] = ""
    out["usable_area_m2"] = np.zeros(n)
    for col in _FLOAT_COLUMNS:
        out[col] = np.full(n, np.nan)
    for col in _TEXT_COLUMNS:
        out[col] = pd.Series([None] * n, index=out.index, dtype="object")
    usable = gpd.GeoSeries(out.geometry.values.copy(), index=out.index, crs=out.crs)
    reasons = np.full(n, "", dtype=object)
    clipped = np.full(n, "", dtype=object)
    categories = out["category"].to_numpy()
    inputs = ScreenInputs(
        exclusions=exclusions,
        dem=dem,
        landcover=landcover,
        reference_year=rules.reference_year,
        land_types=rules.land_types,
    )
    for category in pd.unique(out["category"]):
        if category not in rules.categories:
            raise ConfigError(
                f"No screening rules for category '{category}'. Add [rules.categories."
                f"{category}] to your config (see `census config show` for an example), or fix "
                "the layer's category."
            )
        rule = rules.categories[category]
        pos = np.flatnonzero(categories == category)
        idx = out.index[pos]
        sub = out.iloc[pos]
        group = SiteGroup(
            category=str(category),
            rules=rule,
            sites=sub,
            inputs=inputs,
            geoms=gpd.GeoSeries(sub.geometry.values, index=idx, crs=out.crs),
        )
        eligible, usable_area, fails = _screen_group(group)
        for code, mask in fails.items():
            hit = pos[mask]
            reasons[hit] = reasons[hit] + (code + REASON_SEP)
        for code, touched in group.clipped:
            hit = pos[touched]
            clipped[hit] = clipped[hit] + (code + REASON_SEP)
        out.loc[idx, "usable_area_m2"] = usable_area
        out.loc[idx, "eligible"] = eligible
        out.loc[idx, "technology"] = rule.technology
        for col, values in group.columns.items():
            if col not in out.columns:
                fill = np.nan if values.dtype.kind == "f" else None
                out[col] = pd.Series([fill] * n, index=out.index, dtype=values.dtype)
            out.loc[idx, col] = values
        if rule.technology == "wind":
            out.loc[idx, "pv_archetype"] = None
        usable.loc[idx] = np.where(eligible, group.geoms.values, shapely.Polygon())

    _check_coverage(inputs)
    out["exclusion_reasons"] = pd.Series(_code_lists(reasons), index=out.index, dtype="object")
    # a code appears once even when two rules of the same code cut the site
    out["clipped_by"] = pd.Series(_code_lists(clipped), index=out.index, dtype="object")
    out["eligible"] = out["eligible"].astype(bool)
    return ScreeningResult(sites=out, usable_geometry=usable, tally=tally_reasons(out))


def _code_lists(texts: np.ndarray) -> np.ndarray:
    """``"a;b;a;"`` -> ``"a;b"``: each code once, in order, no trailing separator.

    Done on the distinct texts (a handful of combinations among a million sites).
    """
    codes, uniques = pd.factorize(texts)
    done = np.array(
        [REASON_SEP.join(dict.fromkeys(c for c in u.split(REASON_SEP) if c)) for u in uniques],
        dtype=object,
    )
    return done[codes] if len(texts) else np.array([], dtype=object)


def _check_coverage(inputs: ScreenInputs) -> None:
    """Warn with the count of sites a raster does not cover; stop when it covers none."""
    for key, raster, code in (
        ("dem", inputs.dem, "no_terrain_data"),
        ("landcover", inputs.landcover, "no_landcover_data"),
    ):
        masks = {cat: m for (k, cat), m in inputs.coverage.items() if k == key}
        if not masks or raster is None:
            continue
        total = sum(len(m) for m in masks.values())
        missing = sum(int(m.sum()) for m in masks.values())
        label = "DEM" if key == "dem" else "land-cover raster"
        if total and missing == total:
            raise InputError(
                f"The {label} {raster.path} has no data under any of the {total} sites screened "
                f"with it ({', '.join(sorted(masks))}): all nodata/NaN there, or it does not "
                f"cover them (wrong place, wrong CRS?). Point [terrain] {key} at a raster that "
                "covers the study area, or switch its rules off with [rules.categories.<name>] "
                f'disabled_rules = ["{"terrain" if key == "dem" else "land_cover"}"].'
            )
        if missing:
            per = ", ".join(f"{cat} {int(m.sum())}" for cat, m in sorted(masks.items()) if m.any())
            warnings.warn(
                f"{missing} of {total} sites have no data in the {label} {raster.path} "
                f"({per}); they are excluded as '{code}'. Use a raster that covers them.",
                UserWarning,
                stacklevel=3,
            )


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

    A site failing three rules counts once under each of them. The sites are first
    grouped by category and their whole reason text, and only those few distinct texts
    are split into codes (splitting a million texts one by one took seconds).
    """
    rows = pd.DataFrame(
        {
            "category": sites["category"].to_numpy(dtype=object),
            "reasons": sites["exclusion_reasons"].fillna("").to_numpy(dtype=object),
            "area_m2": sites["area_m2"].to_numpy(dtype=float),
        }
    )
    by_text = rows.groupby(["category", "reasons"], sort=False, dropna=False).agg(
        sites=("area_m2", "size"), area_m2=("area_m2", "sum")
    )
    by_text = by_text[by_text.index.get_level_values("reasons") != ""].reset_index()
    by_text["reason"] = by_text["reasons"].str.split(REASON_SEP)
    by_text = by_text.explode("reason")
    by_text = by_text[by_text["reason"].fillna("") != ""]
    tally = by_text.groupby(["category", "reason"], as_index=False).agg(
        sites=("sites", "sum"), area_m2=("area_m2", "sum")
    )
    tally["sites"] = tally["sites"].astype(np.int64)
    totals = sites.groupby("category", as_index=False).agg(
        sites_total=("category", "size"), eligible_sites=("eligible", "sum")
    )
    return (
        tally.merge(totals, on="category", how="right")
        .fillna({"reason": "", "sites": 0, "area_m2": 0.0})
        .sort_values(["category", "reason"])
        .reset_index(drop=True)
    )
