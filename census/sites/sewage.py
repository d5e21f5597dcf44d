"""Sewage-treatment basin covers: PV on light steel or cable structures over treatment basins.

The Hangzhou Carbon Peak Pilot plan (task 27) asks for PV on the covers of sewage-treatment
ponds. A site of category ``sewage_cover`` is either one basin (aeration tank, settling
tank, clarifier) or, where only the plant is mapped, the outline of a whole treatment plant.
The rule family :func:`basin_cover_family` (``rules.yaml`` ``categories.sewage_cover
.basin_cover``):

* a plant outline that holds basins of the same layer is counted through its basins and
  fails as ``plant_has_basins`` (no double counting);
* a plant outline without basins keeps ``plant_basin_share_frac`` of its area (the share a
  plant's basins take of its site);
* closed tanks (anaerobic digesters, gas holders: ``closed_types``) carry no cover and fail
  as ``closed_tank``.

The basin's own edge strip, maintenance openings and module coverage are the category's
``edge_setback_m`` / ``obstruction_frac`` and the ``basin_cover`` PV archetype.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np
import shapely

if TYPE_CHECKING:
    from census.sites.registry import Need, RuleOutcome, SiteGroup  # noqa: F401
    from census.sites.rules import CategoryRules

__all__ = ["basin_cover_family", "basin_cover_needs"]


def _lower(g: SiteGroup, name: str) -> np.ndarray | None:
    col = g.column(name)
    if col is None:
        return None
    return g.sites[col].astype("string").str.strip().str.lower().fillna("").to_numpy(dtype=object)


def basin_cover_family(g: SiteGroup) -> Iterator[RuleOutcome]:
    """Rule family ``basin_cover``: plant outlines and closed tanks of sewage-treatment sites.

    Yields ``plant_has_basins`` (a plant outline overlapping basins of the group, which
    count instead), ``closed_tank`` (a basin whose type is a closed tank) and the area
    factor ``plant_basin_share_frac`` on plant outlines. Categories without
    ``basin_cover`` rules are left alone.
    """
    from census.sites.registry import RuleOutcome

    bc = g.rules.basin_cover
    if bc is None:
        return
    kind = _lower(g, bc.kind_field)
    is_plant = np.zeros(g.n, bool)
    if kind is not None:
        is_plant = np.isin(kind, [v.strip().lower() for v in bc.plant_values])
    holds = np.zeros(g.n, bool)
    if is_plant.any() and (~is_plant).any():
        tree = shapely.STRtree(g.sites.geometry.values[~is_plant])
        plants = np.flatnonzero(is_plant)
        left, _ = tree.query(g.sites.geometry.values[plants], predicate="intersects")
        holds[plants[np.unique(left)]] = True
    factor = np.where(is_plant, bc.plant_basin_share_frac, 1.0)
    yield RuleOutcome("plant_has_basins", holds, factor)
    types = _lower(g, bc.type_field)
    if types is not None and bc.closed_types:
        closed = np.isin(types, [v.strip().lower() for v in bc.closed_types]) & ~is_plant
        yield RuleOutcome("closed_tank", closed)


def basin_cover_needs(rules: CategoryRules) -> list[Need]:
    """Fields the basin-cover family reads (both optional)."""
    from census.sites.registry import Need

    bc = rules.basin_cover
    if bc is None:
        return []
    return [
        Need(
            "field",
            bc.kind_field,
            "plant_has_basins",
            "basin_cover",
            required=False,
            note=f"rows without it are basins; {bc.plant_values} marks a whole plant's outline",
        ),
        Need(
            "field",
            bc.type_field,
            "closed_tank",
            "basin_cover",
            required=False,
            note=f"without it no basin is taken for a closed tank ({bc.closed_types})",
        ),
    ]
