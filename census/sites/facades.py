"""The facade rule family: vertical BIPV on south, east and west walls (plan task 11).

Facade sites are made at load time from building footprints and heights
(:func:`census.solar.facade.expand_facades`): each carries its side, azimuth, wall area
and the share of it blocked by taller neighbours or party walls. This family turns them
into PV surfaces: tilt 90 deg at the facade's azimuth, usable area = wall area × (1 −
blocked share) × (1 − the side's window-to-wall share), and a facade blocked over more
than ``max_shaded_frac`` fails as ``facade_shaded``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely

from census.exceptions import ConfigError, SchemaError

if TYPE_CHECKING:
    from census.sites.registry import Need, RuleOutcome, SiteGroup  # noqa: F401
    from census.sites.rules import CategoryRules

__all__ = ["facade_family", "facade_needs"]

_COLUMNS = ("facade_side", "facade_azimuth_deg", "wall_area_m2", "shaded_frac")


def facade_family(g: SiteGroup) -> Iterator[RuleOutcome]:
    """Rule family ``facade``: vertical modules on the wall left by windows and neighbours.

    Sets ``surface_tilt_deg`` = 90 and ``surface_azimuth_deg`` = the facade's azimuth.

    Raises
    ------
    SchemaError
        Facade rows without the columns the load stage derives from footprints.
    ConfigError
        A side without a window-to-wall share.
    """
    from census.sites.registry import RuleOutcome

    fr = g.rules.facade
    if fr is None:
        return
    missing = [c for c in _COLUMNS if c not in g.sites.columns]
    if missing:
        raise SchemaError(
            f"Category '{g.category}' screens facades, but its sites lack {missing}: facade "
            "sites are derived from a building-footprint layer with heights when the run "
            f"loads it. Give the category's layer footprints with a '{fr.height_field}' field."
        )
    side = g.sites["facade_side"].astype(str).to_numpy()
    unknown = sorted(set(side) - set(fr.window_to_wall_frac))
    if unknown:
        raise ConfigError(
            f"[rules.categories.{g.category}.facade] window_to_wall_frac has no share for "
            f"side(s) {unknown}; give one per side kept (S, E, W ...)."
        )
    wwr = pd.Series(side).map(fr.window_to_wall_frac).to_numpy(dtype=float)
    shaded = g.sites["shaded_frac"].to_numpy(dtype=float)
    wall = g.sites["wall_area_m2"].to_numpy(dtype=float)
    # the site geometry is a strip drawn in front of the wall; its (possibly cut) area is
    # scaled to the wall's: the factor is the net wall area per m2 of the original strip
    strip = np.asarray(shapely.area(g.sites.geometry.values), dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(strip > 0, wall * (1.0 - shaded) * (1.0 - wwr) / strip, 0.0)
    g.columns["surface_tilt_deg"] = np.full(g.n, 90.0)
    g.columns["surface_azimuth_deg"] = g.sites["facade_azimuth_deg"].to_numpy(dtype=float)
    yield RuleOutcome("facade_shaded", shaded > fr.max_shaded_frac, factor)


def facade_needs(rules: CategoryRules) -> list[Need]:
    """Return what the facade family needs: footprints with a height field."""
    from census.sites.registry import Need

    if rules.facade is None:
        return []
    return [
        Need(
            "field",
            rules.facade.height_field,
            "facade_shaded",
            "facade",
            note="building height [m]: facades are derived from footprints and heights",
        )
    ]
