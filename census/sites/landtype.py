"""Forest type and cultivated land: where PV arrays may go on forest and farm land.

The national notice 自然资办发〔2023〕12号 (Ministry of Natural Resources, National
Forestry and Grassland Administration, National Energy Administration; 2023-03-20)
keeps PV arrays off cultivated land (耕地) and, on forest land, allows them only as
forest-PV co-use (林光互补) on shrub land (灌木林地): any shrub land where the annual
precipitation is under 400 mm, elsewhere shrub land with a cover under 50 %. Tree
forest (乔木林地) and bamboo forest (竹林地) are closed. The rule is data
(``rules.yaml`` ``land_types``, with the quoted clause): each land type with the
values of the ``forest_type`` field, the GB/T 21010-2017 survey codes and the ESA
WorldCover classes that mean it, and whether arrays are closed, conditional or open.

A site's type comes from its ``forest_type`` field where given; otherwise from the
land-cover raster, as area shares of each type under the site polygon (then the
closed share is taken off the usable area, and the site fails when less than
``min_open_frac`` of it is open).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from census.exceptions import ConfigError, InputError

if TYPE_CHECKING:
    from census.io.raster import MetricRaster  # noqa: F401
    from census.sites.registry import Need, RuleOutcome, SiteGroup
    from census.sites.rules import CategoryRules, LandTypesConfig

__all__ = [
    "classify_values",
    "land_type_family",
    "land_type_needs",
    "raster_means",
    "shrub_allowed",
]

CONDITIONS_COLUMN = "land_use_conditions"
"""Site-table column naming the conditions an eligible co-use site is held to."""


def classify_values(values: pd.Series, land_types: LandTypesConfig) -> np.ndarray:
    """Land-type name of each ``forest_type`` value (None where the value is missing).

    A value matches a type by one of its ``names`` (case-insensitive, e.g. ``tree``,
    ``乔木林地``) or by a GB/T 21010-2017 code, where the longest listed prefix wins
    (``0101`` matches ``01`` = cultivated land).

    Raises
    ------
    InputError
        A value that matches no type; the message lists the unknown values and the fix.
    """
    names: dict[str, str] = {}
    prefixes: list[tuple[str, str]] = []
    for cls_name, cls in land_types.classes.items():
        for alias in cls.names:
            names[alias.strip().lower()] = cls_name
        prefixes += [(code.strip(), cls_name) for code in cls.gbt21010]
    prefixes.sort(key=lambda p: -len(p[0]))
    text = values.astype("string").str.strip()
    out = np.full(len(values), None, dtype=object)
    unknown: set[str] = set()
    for i, v in enumerate(text.to_numpy(dtype=object)):
        if v is None or v is pd.NA or v == "":
            continue
        hit = names.get(v.lower())
        if hit is None and v.isdigit():
            hit = next((c for p, c in prefixes if v.startswith(p)), None)
        if hit is None:
            unknown.add(v)
        out[i] = hit
    if unknown:
        raise InputError(
            f"field '{land_types.field}' has value(s) {sorted(unknown)[:10]} that name no land "
            f"type; expected one of {sorted(names)} or a GB/T 21010-2017 code. Add the value "
            f"to [rules.land_types.classes.<type>] names, or fix the layer."
        )
    return out


def shrub_allowed(cover_frac: np.ndarray, land_types: LandTypesConfig) -> np.ndarray:
    """Whether shrub land may carry forest-PV co-use under the notice's conditions.

    Parameters
    ----------
    cover_frac : numpy.ndarray
        Shrub cover of each site, NaN where unknown. [frac]
    land_types : LandTypesConfig

    Returns
    -------
    numpy.ndarray of bool
        True where the study area is dry (annual precipitation under
        ``dry_precipitation_mm``: any shrub land), or the cover is under
        ``shrub_max_cover_frac``; unknown cover follows ``shrub_cover_unknown``.
    """
    cover = np.asarray(cover_frac, dtype=float)
    if land_types.annual_precipitation_mm < land_types.dry_precipitation_mm:
        return np.ones(len(cover), bool)
    ok = cover < land_types.shrub_max_cover_frac
    return np.where(np.isnan(cover), land_types.shrub_cover_unknown == "allow", ok)


def raster_means(
    geoms: gpd.GeoSeries, raster: MetricRaster, grids: dict[str, np.ndarray]
) -> pd.DataFrame:
    """Area-weighted mean of each grid (on ``raster``'s grid) under each polygon.

    Parameters
    ----------
    geoms : geopandas.GeoSeries
        Polygons in the raster's metric CRS.
    raster : MetricRaster
        Gives the grid (bounds); ``grids`` hold values on it.
    grids : dict of str to numpy.ndarray
        Float grids of the raster's shape; NaN cells are left out of the mean.

    Returns
    -------
    pandas.DataFrame
        One column per grid, index of ``geoms``; NaN for empty polygons or where the
        polygon covers no non-NaN cell.
    """
    from exactextract import exact_extract
    from exactextract.raster import NumPyRasterSource

    out = pd.DataFrame(np.nan, index=geoms.index, columns=list(grids), dtype="float64")
    nonempty = ~np.asarray(shapely.is_empty(geoms.values))
    if not nonempty.any():
        return out
    minx, miny, maxx, maxy = raster.bounds
    sources = [
        NumPyRasterSource(np.ascontiguousarray(arr), minx, miny, maxx, maxy, name=name)
        for name, arr in grids.items()
    ]
    frame = gpd.GeoDataFrame(
        {"_row": np.flatnonzero(nonempty)}, geometry=geoms.values[nonempty], crs=geoms.crs
    )
    stats = exact_extract(sources, frame, ["mean"], include_cols=["_row"], output="pandas")
    rows = stats["_row"].to_numpy()
    for name in grids:
        col = f"{name}_mean" if len(grids) > 1 else "mean"
        out.iloc[rows, out.columns.get_loc(name)] = stats[col].to_numpy(dtype="float64")
    return out


def _conditions(land_types: LandTypesConfig) -> str:
    return (
        "林光互补 forest-PV co-use (自然资办发〔2023〕12号): no felling, shrub clearing or "
        "damage to the vegetation; lowest point of the racks at least "
        f"{land_types.min_clearance_above_shrub_m:g} m above the shrubs"
    )


def _attribute_fails(
    types: np.ndarray, cover: np.ndarray, shrub_ok: np.ndarray, lt: LandTypesConfig
) -> dict[str, np.ndarray]:
    """Reason masks of the sites whose type came from the ``forest_type`` field."""
    fails: dict[str, np.ndarray] = {}
    unknown = np.isnan(cover) & ~shrub_ok
    for name, cls in lt.classes.items():
        is_type = types == name
        if cls.arrays == "closed":
            fails[cls.code] = fails.get(cls.code, False) | is_type
        elif cls.arrays == "conditional":
            fails["forest_shrub_cover_unknown"] = is_type & unknown
            fails[cls.code] = fails.get(cls.code, False) | (is_type & ~shrub_ok & ~unknown)
    return fails


def _raster_types(
    geoms: gpd.GeoSeries,
    lc: MetricRaster | None,
    lt: LandTypesConfig,
    cover: np.ndarray,
    shrub_ok: np.ndarray,
    *,
    category: str,
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Classify sites from the land-cover raster by area shares of each land type.

    Returns reason masks, the open share of each site (its area factor; 0 where the
    raster has no data: those get ``no_landcover_data``) and its dominant type.
    """
    n = len(geoms)
    if lc is None:
        raise ConfigError(
            f"Category '{category}': {n} sites have no '{lt.field}' and the run has no "
            f"land-cover raster to tell their forest type. Map the field with "
            f'[layers.<name>.fields] {lt.field} = "<column>", or set [terrain] landcover, '
            f"or switch the rule off with [rules.categories.{category}] disabled_rules = "
            '["forest_type"].'
        )
    valid = ~np.isnan(lc.data)
    grids = {"_valid": valid.astype("float32")}
    for name, cls in lt.classes.items():
        if cls.worldcover:
            grids[name] = np.where(valid, np.isin(lc.data, cls.worldcover), np.nan)
            grids[name] = grids[name].astype("float32")
    means = raster_means(geoms, lc, grids)
    covered = means["_valid"].fillna(0.0).to_numpy() > 0
    blocked: list[tuple[str, np.ndarray]] = []  # (reason code, share closed to arrays)
    unknown = np.isnan(cover)
    for name, cls in lt.classes.items():
        if name not in means or cls.arrays == "open":
            continue
        share = means[name].fillna(0.0).to_numpy()
        if cls.arrays == "conditional":
            share = np.where(shrub_ok, 0.0, share)
            blocked.append(("forest_shrub_cover_unknown", np.where(unknown, share, 0.0)))
            blocked.append((cls.code, np.where(unknown, 0.0, share)))
        else:
            blocked.append((cls.code, share))
    open_share = np.clip(1.0 - sum(s for _, s in blocked), 0.0, 1.0) * np.ones(n)
    fails: dict[str, np.ndarray] = {"no_landcover_data": ~covered}
    if blocked:
        # a site mostly closed fails with the code of its largest closed type
        out = (open_share < lt.min_open_frac) & covered
        top = np.argmax(np.vstack([s for _, s in blocked]), axis=0)
        for i, (code, _) in enumerate(blocked):
            fails[code] = fails.get(code, False) | (out & (top == i))
    names = [name for name in lt.classes if name in means]
    land_type = np.full(n, "mixed", dtype=object)
    if names:
        shares = means[names].fillna(0.0).to_numpy()
        dominant = np.array(names, dtype=object)[np.argmax(shares, axis=1)]
        land_type = np.where(shares.max(axis=1) > 0.5, dominant, "mixed")
    return fails, np.where(covered, open_share, 0.0), land_type


def land_type_family(g: SiteGroup) -> Iterator[RuleOutcome]:
    """Rule family ``forest_type``: arrays off tree/bamboo/other forest and cultivated land.

    Yields one outcome per closed type's reason code (e.g. ``forest_tree``,
    ``forest_bamboo``, ``cultivated_land``), ``forest_shrub_dense`` or
    ``forest_shrub_cover_unknown`` for shrub land failing the co-use conditions,
    and ``no_landcover_data`` for raster-classified sites the raster does not cover.
    Sets the columns ``land_type`` and ``land_use_conditions``.
    """
    from census.sites.registry import RuleOutcome, record_coverage

    lt = g.inputs.land_types
    if not g.rules.land_type_rule:
        return
    if lt is None:
        raise ConfigError(
            f"Category '{g.category}' has land_type_rule = true but the rules have no "
            "[rules.land_types] table."
        )
    col = g.column(lt.field)
    types = classify_values(g.sites[col], lt) if col else np.full(g.n, None, dtype=object)
    cover_col = g.column(lt.shrub_cover_field)
    cover = np.full(g.n, np.nan)
    if cover_col is not None:
        cover = pd.to_numeric(g.sites[cover_col], errors="coerce").to_numpy(dtype=float)
    shrub_ok = shrub_allowed(cover, lt)
    fails = _attribute_fails(types, cover, shrub_ok, lt)
    factor = np.ones(g.n)
    land_type = types.copy()
    rest = np.array([t is None for t in types], dtype=bool)
    if rest.any():
        geoms = gpd.GeoSeries(g.sites.geometry.values[rest], crs=g.sites.crs)
        r_fails, r_factor, r_type = _raster_types(
            geoms, g.inputs.landcover, lt, cover[rest], shrub_ok[rest], category=g.category
        )
        record_coverage(g, "landcover", np.flatnonzero(rest)[r_fails["no_landcover_data"]])
        for code, mask in r_fails.items():
            full = np.zeros(g.n, bool)
            full[rest] = mask
            fails[code] = fails.get(code, False) | full
        factor[rest] = r_factor
        land_type[rest] = r_type
    g.columns["land_type"] = land_type
    conditional = [k for k, c in lt.classes.items() if c.arrays == "conditional"]
    g.columns[CONDITIONS_COLUMN] = np.where(np.isin(land_type, conditional), _conditions(lt), "")
    for code, mask in fails.items():
        yield RuleOutcome(code, np.broadcast_to(mask, (g.n,)).copy())
    yield RuleOutcome("forest_type_share", None, factor)


def land_type_needs(rules: CategoryRules) -> list[Need]:
    """Return what the forest-type rule needs: the forest_type field, else land cover."""
    from census.sites.registry import Need

    if not rules.land_type_rule:
        return []
    return [
        Need(
            "field",
            "forest_type",
            "forest_type",
            "forest_type",
            required=False,
            note="else the forest type comes from the land-cover raster",
        ),
        Need(
            "raster",
            "landcover",
            "forest_type",
            "forest_type",
            required=False,
            note="needed for sites without a forest_type value",
        ),
    ]
