"""Screening rule families: the registry that ``screen_sites`` applies in one loop.

Each family is a small function of a :class:`SiteGroup` (the sites of one category,
their rules and the run's screening inputs) that yields :class:`RuleOutcome` s: a
stable reason code, a fail mask and an area factor. Families that change geometry
(exclusion cuts, setbacks) replace :attr:`SiteGroup.geoms`; the usable area is that
geometry's area times every factor, in family order. This is atlite's
``ExclusionContainer`` idea (a list of uniform exclusions, one loop) carried over to
vector sites with several reasons per site.

Each family also declares what it needs from a run (fields of the site layer,
exclusion layers, rasters) through :func:`rule_needs`, so ``census validate`` and
``census init`` read the same registry the screening applies.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from census.exceptions import ConfigError, SchemaError
from census.io.raster import MetricRaster
from census.sites.rules import CategoryRules, cut_exclusions, overlaps_any, threaded

__all__ = [
    "RULE_FAMILIES",
    "Need",
    "RuleFamily",
    "RuleOutcome",
    "ScreenInputs",
    "SiteGroup",
    "record_coverage",
    "rule_needs",
]

logger = logging.getLogger(__name__)


@dataclass
class RuleOutcome:
    """What one rule says about the sites of a group.

    Attributes
    ----------
    code : str
        Stable reason code written to ``exclusion_reasons`` where ``fail`` is True.
    fail : numpy.ndarray of bool, optional
        Per site of the group: the site fails the rule. None: the rule fails none.
    area_factor : float or numpy.ndarray
        Multiplies the usable area (per site or for all) [frac]; 1 leaves it.
    """

    code: str
    fail: np.ndarray | None = None
    area_factor: float | np.ndarray = 1.0


@dataclass
class ScreenInputs:
    """What screening reads besides the sites: exclusion layers, rasters, caches.

    Attributes
    ----------
    exclusions : dict of str to geopandas.GeoSeries
        Exclusion layers by name, in the sites' CRS.
    dem, landcover : MetricRaster, optional
        Elevation [m] and land-cover class codes on a metric grid.
    reference_year : int
        Year against which ages (years since closure) are taken.
    land_types : object, optional
        The forest-type and cultivated-land table (:class:`census.sites.landtype.LandTypes`).
    """

    exclusions: dict[str, gpd.GeoSeries]
    dem: MetricRaster | None = None
    landcover: MetricRaster | None = None
    reference_year: int = 2025
    land_types: object | None = None
    coverage: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    _buffered: dict[tuple[str, float], gpd.GeoSeries] = field(default_factory=dict)
    _grids: dict[str, np.ndarray] | None = None

    def zones(self, layer: str, buffer_m: float) -> gpd.GeoSeries:
        """Exclusion layer ``layer`` grown by ``buffer_m`` [m], buffered once per run."""
        key = (layer, buffer_m)
        if key not in self._buffered:
            zones = self.exclusions[layer]
            self._buffered[key] = zones.buffer(buffer_m) if buffer_m > 0 else zones
        return self._buffered[key]

    def terrain_grids(self) -> dict[str, np.ndarray]:
        """Slope, aspect and elevation grids of the DEM, computed once per run."""
        from census.sites.terrain import terrain_grids

        if self._grids is None:
            self._grids = terrain_grids(self.dem)
        return self._grids


@dataclass
class SiteGroup:
    """The sites of one category while they are screened.

    Attributes
    ----------
    category : str
    rules : CategoryRules
    sites : geopandas.GeoDataFrame
        The category's rows of the site table (original geometry, metric CRS).
    inputs : ScreenInputs
    geoms : geopandas.GeoSeries
        Usable geometry; exclusion cuts and setbacks replace it.
    columns : dict of str to numpy.ndarray
        Screening columns a family sets (``slope_deg``, ``surface_tilt_deg`` ...).
    clipped : list of (str, numpy.ndarray)
        Reason code and touched-mask of every exclusion that cut area.
    """

    category: str
    rules: CategoryRules
    sites: gpd.GeoDataFrame
    inputs: ScreenInputs
    geoms: gpd.GeoSeries
    columns: dict[str, np.ndarray] = field(default_factory=dict)
    clipped: list[tuple[str, np.ndarray]] = field(default_factory=list)

    @property
    def n(self) -> int:
        """Number of sites in the group."""
        return len(self.sites)

    def off(self, name: str) -> bool:
        """Whether the rule family or reason code ``name`` is switched off for this category."""
        return name in self.rules.disabled_rules

    def column(self, name: str) -> str | None:
        """Column holding field ``name`` (as mapped, or with io's ``src_`` prefix), or None."""
        for col in (name, f"src_{name}"):
            if col in self.sites.columns:
                return col
        return None

    def need_column(self, name: str, code: str, *, how: str = "") -> str:
        """Like :meth:`column`, but a missing field is a :class:`SchemaError` naming the fix."""
        col = self.column(name)
        if col is None:
            raise SchemaError(
                f"Rule '{code}' of category '{self.category}' needs the field '{name}', which "
                f"the layer does not have (columns: "
                f"{[c for c in self.sites.columns if c != 'geometry']}). Map it with "
                f'[layers.<name>.fields] {name} = "<your column>"{how}, or switch the rule off '
                f'with [rules.categories.{self.category}] disabled_rules = ["{code}"].'
            )
        return col


@dataclass(frozen=True)
class Need:
    """Something a rule needs from a run (for ``census validate`` and ``census init``).

    Attributes
    ----------
    kind : {"field", "exclusion", "raster"}
    name : str
        Field name, exclusion layer name, or raster key (``dem``, ``landcover``).
    code : str
        Reason code of the rule (what ``disabled_rules`` switches off).
    family : str
        Rule family.
    required : bool
        False when the rule is skipped (with a note) if the thing is missing.
    note : str
        What happens without it, or what else satisfies it.
    """

    kind: str
    name: str
    code: str
    family: str
    required: bool = True
    note: str = ""


@dataclass(frozen=True)
class RuleFamily:
    """A rule family: how it screens a group and what it needs.

    Attributes
    ----------
    name : str
        Stable family name (also accepted by ``disabled_rules``).
    apply : callable
        ``apply(group) -> iterable of RuleOutcome``.
    needs : callable
        ``needs(rules) -> list of Need`` for a category's rules.
    """

    name: str
    apply: Callable[[SiteGroup], Iterable[RuleOutcome]]
    needs: Callable[[CategoryRules], list[Need]]


# ---------------------------------------------------------------------------- area


def _area(g: SiteGroup) -> Iterator[RuleOutcome]:
    area = g.sites["area_m2"].to_numpy()
    yield RuleOutcome("min_area", area < g.rules.min_area_m2)
    if g.rules.max_area_m2 is not None:
        yield RuleOutcome("max_area", area > g.rules.max_area_m2)


# ---------------------------------------------------------------------------- attributes


def _attributes(g: SiteGroup) -> Iterator[RuleOutcome]:
    for rule in g.rules.attribute_rules:
        if g.off(rule.code):
            continue
        col = g.need_column(rule.field, rule.code)
        values = g.sites[col].astype("string").str.strip().str.lower()
        if rule.allow is not None:
            ok = values.isin([v.lower() for v in rule.allow])
        else:
            ok = ~values.isin([v.lower() for v in rule.exclude])
        yield RuleOutcome(rule.code, ~ok.fillna(False).to_numpy(dtype=bool))
    if g.rules.min_years_since_closure is not None and not g.off("years_since_closure"):
        col = g.need_column("closed_year", "years_since_closure")
        closed = pd.to_numeric(g.sites[col], errors="coerce").to_numpy()
        years = g.inputs.reference_year - closed
        yield RuleOutcome("years_since_closure", ~(years >= g.rules.min_years_since_closure))


def _attribute_needs(rules: CategoryRules) -> list[Need]:
    needs = [Need("field", r.field, r.code, "attributes") for r in rules.attribute_rules]
    if rules.min_years_since_closure is not None:
        needs.append(Need("field", "closed_year", "years_since_closure", "attributes"))
    return needs


# ---------------------------------------------------------------------------- exclusions


def _exclusions(g: SiteGroup) -> Iterator[RuleOutcome]:
    geoms = g.geoms
    for ex in g.rules.exclusions:
        if g.off(ex.code):
            continue
        if ex.layer not in g.inputs.exclusions:
            if ex.optional:
                logger.info(
                    "category %s: optional exclusion layer '%s' not given; rule '%s' skipped",
                    g.category,
                    ex.layer,
                    ex.code,
                )
                continue
            raise ConfigError(
                f"Rule '{ex.code}' of category '{g.category}' names the exclusion layer "
                f"'{ex.layer}', which the config does not define. Add [exclusions."
                f"{ex.layer}] with its path, or remove the rule from [rules.categories."
                f"{g.category}].exclusions."
            )
        zones = g.inputs.zones(ex.layer, ex.buffer_m)
        if ex.mode == "drop":
            yield RuleOutcome(ex.code, overlaps_any(geoms, zones))
        else:
            geoms, touched = cut_exclusions(geoms, zones, layer=g.category)
            g.clipped.append((ex.code, touched))
    g.geoms = geoms


def _exclusion_needs(rules: CategoryRules) -> list[Need]:
    return [
        Need(
            "exclusion",
            e.layer,
            e.code,
            "exclusions",
            required=not e.optional,
            note="skipped when the run has no such layer" if e.optional else "",
        )
        for e in rules.exclusions
    ]


# ---------------------------------------------------------------------------- setbacks


def _setbacks(g: SiteGroup) -> Iterator[RuleOutcome]:
    if g.rules.edge_setback_m > 0:
        # GEOS buffers return valid polygons; no make_valid needed afterwards
        inner = threaded(
            shapely.buffer, g.geoms.values, -g.rules.edge_setback_m, join_style="mitre"
        )
        g.geoms = gpd.GeoSeries(inner, index=g.geoms.index, crs=g.geoms.crs)
    if g.rules.min_width_m is not None:
        # a strip narrower than min_width_m vanishes under an inward buffer of half of it
        core = shapely.buffer(g.geoms.values, -g.rules.min_width_m / 2.0, join_style="mitre")
        yield RuleOutcome("min_width", np.asarray(shapely.is_empty(core)))
    # land lost to stairwells, roads, pads: a share of what the setbacks leave
    yield RuleOutcome("obstruction", None, 1.0 - g.rules.obstruction_frac)


# ---------------------------------------------------------------------------- land cover


def record_coverage(g: SiteGroup, key: str, missing_pos: np.ndarray) -> None:
    """Note which sites of the group (by position) have no data in raster ``key``.

    :func:`census.sites.screen.screen_sites` warns with the counts after the loop, and
    stops with an error when a raster covers none of the sites screened with it.
    """
    seen = g.inputs.coverage.setdefault((key, g.category), np.zeros(g.n, bool))
    seen[np.asarray(missing_pos, dtype=int)] = True


def _land_cover(g: SiteGroup) -> Iterator[RuleOutcome]:
    r = g.rules
    if r.landcover_allow is None and r.landcover_exclude is None:
        return
    lc = g.inputs.landcover
    if lc is None:
        raise ConfigError(
            f"Category '{g.category}' has land-cover rules but the run has no land-cover "
            'raster. Set [terrain] landcover = "..." or remove landcover_allow / '
            f"landcover_exclude from [rules.categories.{g.category}]."
        )
    from census.sites.landtype import raster_means
    from census.sites.screen import landcover_share

    share = landcover_share(g.geoms, lc, allow=r.landcover_allow, exclude=r.landcover_exclude)
    valid = raster_means(g.geoms, lc, {"valid": (~np.isnan(lc.data)).astype("float32")})
    # a site emptied by cuts and setbacks has no cells to look at; it is not "no data"
    empty = np.asarray(shapely.is_empty(g.geoms.values))
    nodata = ~(valid["valid"].fillna(0.0).to_numpy() > 0) & ~empty
    record_coverage(g, "landcover", np.flatnonzero(nodata))
    yield RuleOutcome("no_landcover_data", nodata)
    fail = ~(share >= r.landcover_min_allowed_frac) & ~nodata
    yield RuleOutcome("landcover", fail, np.nan_to_num(share))


def _land_cover_needs(rules: CategoryRules) -> list[Need]:
    if rules.landcover_allow is None and rules.landcover_exclude is None:
        return []
    return [Need("raster", "landcover", "landcover", "land_cover")]


# ---------------------------------------------------------------------------- terrain


def _terrain(g: SiteGroup) -> Iterator[RuleOutcome]:
    from census.sites.terrain import site_terrain

    r = g.rules
    dem = g.inputs.dem
    shaped = r.max_slope_deg is not None or r.aspect_range_deg is not None
    if dem is None:
        if shaped:
            logger.warning(
                "category %s has slope/aspect rules but the run has no DEM; they are skipped",
                g.category,
            )
        return
    if not shaped and r.technology != "wind":
        return
    terr = site_terrain(
        gpd.GeoDataFrame(geometry=g.sites.geometry, crs=g.sites.crs),
        dem,
        max_slope_deg=r.max_slope_deg,
        grids=g.inputs.terrain_grids(),
    )
    g.columns["elevation_m"] = terr["elevation_m"].to_numpy()
    if not shaped:
        return  # wind: elevation only (air density at hub height)
    g.columns["slope_deg"] = terr["slope_deg"].to_numpy()
    g.columns["aspect_deg"] = terr["aspect_deg"].to_numpy()
    slope = terr["slope_deg"].to_numpy()
    nodata = np.isnan(slope)
    record_coverage(g, "dem", np.flatnonzero(nodata))
    yield RuleOutcome("no_terrain_data", nodata)
    covered = ~nodata
    if r.max_slope_deg is not None:
        fail = ~(slope <= r.max_slope_deg) & covered
        yield RuleOutcome("slope", fail, np.nan_to_num(terr["slope_ok_frac"].to_numpy()))
    if r.aspect_range_deg is not None:
        lo, hi = r.aspect_range_deg
        asp = terr["aspect_deg"].to_numpy()
        inside = (asp >= lo) & (asp <= hi) if lo <= hi else (asp >= lo) | (asp <= hi)
        # near-flat ground has no meaningful aspect
        flat = slope < r.aspect_min_slope_deg
        yield RuleOutcome("aspect", ~(inside | flat) & covered)


def _terrain_needs(rules: CategoryRules) -> list[Need]:
    if rules.max_slope_deg is None and rules.aspect_range_deg is None:
        return []
    return [
        Need(
            "raster",
            "dem",
            "slope" if rules.max_slope_deg is not None else "aspect",
            "terrain",
            required=False,
            note="slope and aspect rules are skipped (with a warning) without a DEM",
        )
    ]


# ---------------------------------------------------------------------------- coverage


def _coverage(g: SiteGroup) -> Iterator[RuleOutcome]:
    # hillside racks face the archetype's azimuth (south) whatever the slope's aspect;
    # the aspect rule keeps only slopes that face east through south to west
    yield RuleOutcome("coverage_cap", None, g.rules.coverage_cap_frac)


def _no_needs(rules: CategoryRules) -> list[Need]:
    return []


def _families() -> dict[str, RuleFamily]:
    from census.sites.facades import facade_family, facade_needs
    from census.sites.landtype import land_type_family, land_type_needs
    from census.sites.rooftops import roof_geometry, roof_needs
    from census.sites.sewage import basin_cover_family, basin_cover_needs

    fams = [
        RuleFamily("area", _area, _no_needs),
        RuleFamily("attributes", _attributes, _attribute_needs),
        RuleFamily("forest_type", land_type_family, land_type_needs),
        RuleFamily("exclusions", _exclusions, _exclusion_needs),
        RuleFamily("setbacks", _setbacks, _no_needs),
        RuleFamily("land_cover", _land_cover, _land_cover_needs),
        RuleFamily("terrain", _terrain, _terrain_needs),
        RuleFamily("roof_geometry", roof_geometry, roof_needs),
        RuleFamily("basin_cover", basin_cover_family, basin_cover_needs),
        RuleFamily("facade", facade_family, facade_needs),
        RuleFamily("coverage", _coverage, _no_needs),
    ]
    return {f.name: f for f in fams}


RULE_FAMILIES: dict[str, RuleFamily] = _families()
"""The rule families, in the order screening applies them (reason codes follow it)."""


def rule_needs(rules: CategoryRules) -> list[Need]:
    """Everything the active rules of one category need from a run."""
    out = []
    for fam in RULE_FAMILIES.values():
        if fam.name in rules.disabled_rules:
            continue
        out += [n for n in fam.needs(rules) if n.code not in rules.disabled_rules]
    return out
