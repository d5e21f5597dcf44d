"""Rooftop geometry: roof faces of pitched roofs from the footprint, and the roof rule family."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely

from census.exceptions import InputError, SchemaError

if TYPE_CHECKING:
    from census.sites.registry import Need, RuleOutcome, SiteGroup  # noqa: F401
    from census.sites.rules import CategoryRules

__all__ = ["pitched_faces", "ridge_azimuths_deg", "roof_geometry", "roof_needs"]


def ridge_azimuths_deg(footprints: np.ndarray) -> np.ndarray:
    """Azimuth of each footprint's long axis, from its minimum rotated rectangle.

    Parameters
    ----------
    footprints : array of shapely polygons
        Building footprints in a metric CRS with north up.

    Returns
    -------
    numpy.ndarray
        Azimuth of the ridge line (the rectangle's long side), in [0, 180),
        clockwise from north. [deg]
    """
    rects = shapely.oriented_envelope(np.asarray(footprints))
    coords = shapely.get_coordinates(shapely.get_exterior_ring(rects))
    n_pts = shapely.get_num_coordinates(shapely.get_exterior_ring(rects))
    starts = np.concatenate([[0], np.cumsum(n_pts)[:-1]])
    p0 = coords[starts]
    p1 = coords[np.minimum(starts + 1, len(coords) - 1)]
    p2 = coords[np.minimum(starts + 2, len(coords) - 1)]
    e1 = p1 - p0
    e2 = p2 - p1
    long_edge = np.where((np.hypot(*e1.T) >= np.hypot(*e2.T))[:, None], e1, e2)
    # azimuth of a vector (dx east, dy north) clockwise from north
    return np.degrees(np.arctan2(long_edge[:, 0], long_edge[:, 1])) % 180.0


def pitched_faces(
    footprints: np.ndarray, *, max_from_south_deg: float = 90.0
) -> tuple[np.ndarray, np.ndarray]:
    """Orientation and kept share of the two faces of gable roofs.

    The two faces of a gable roof face perpendicular to the ridge. A face is
    kept when its azimuth is within ``max_from_south_deg`` of south (180 deg);
    north-facing faces are dropped.

    Parameters
    ----------
    footprints : array of shapely polygons
        Building footprints in a metric CRS.
    max_from_south_deg : float, default 90
        Largest angle between a kept face's azimuth and south. [deg]

    Returns
    -------
    azimuth_deg : numpy.ndarray
        Azimuth of the kept face closest to south. [deg]
    kept_frac : numpy.ndarray
        Share of the roof on kept faces: 0.5 (one face), 1.0 (both, e.g. an
        east-west roof with a wide limit) or 0.0 (none). [frac]
    """
    ridge = ridge_azimuths_deg(footprints)
    face_a = (ridge + 90.0) % 360.0
    face_b = (ridge + 270.0) % 360.0

    def from_south(az: np.ndarray) -> np.ndarray:
        return np.abs(((az - 180.0) + 180.0) % 360.0 - 180.0)

    da, db = from_south(face_a), from_south(face_b)
    keep_a, keep_b = da <= max_from_south_deg, db <= max_from_south_deg
    azimuth = np.where(da <= db, face_a, face_b)
    kept = 0.5 * keep_a + 0.5 * keep_b
    return azimuth, kept


def roof_geometry(g: SiteGroup) -> Iterator[RuleOutcome]:
    """Rule family ``roof_geometry``: pitched roofs carry modules on their kept faces.

    A pitched roof (``roof_type = pitched``) gets the archetype's pitched variant,
    tilt = its ``roof_pitch_deg``, azimuth = its kept face nearest south, and a usable
    area scaled by the kept share of the footprint over cos(pitch) (the sloped face
    is larger than its footprint). Roofs with no face within the limit fail as
    ``north_facing``. Roofs without a ``roof_type`` count as flat.

    Raises
    ------
    SchemaError
        Pitched roofs and no ``roof_pitch_deg`` field.
    InputError
        A pitched roof whose pitch is missing or outside (0, 90) deg.
    """
    from census.sites.registry import RuleOutcome

    r = g.rules
    n = g.n
    g.columns["surface_tilt_deg"] = np.full(n, np.nan)
    g.columns["surface_azimuth_deg"] = np.full(n, np.nan)
    g.columns["pv_archetype"] = np.array([r.pv_archetype] * n, dtype=object)
    if not r.pv_archetype_pitched:
        return
    col = g.column("roof_type")
    if col is None:
        return
    pitched = g.sites[col].astype("string").str.lower().eq("pitched").fillna(False).to_numpy()
    if not pitched.any():
        return
    if "roof_pitch_deg" not in g.sites.columns:
        raise SchemaError(
            f"Category '{g.category}' has pitched roofs but no 'roof_pitch_deg' field. "
            'Map it with [layers.<name>.fields] roof_pitch_deg = "<column>".'
        )
    az, kept = pitched_faces(
        g.sites.geometry.values[pitched], max_from_south_deg=r.pitched_max_from_south_deg
    )
    pitch = pd.to_numeric(g.sites["roof_pitch_deg"], errors="coerce").to_numpy()[pitched]
    bad = ~((pitch > 0.0) & (pitch < 90.0))
    if bad.any():
        rows = g.sites["site_id"].to_numpy()[pitched][bad]
        raise InputError(
            f"Category '{g.category}': {int(bad.sum())} pitched roofs have no valid "
            f"roof_pitch_deg (missing, <= 0 or >= 90), e.g. {list(rows[:5])}. Give "
            "every pitched roof a pitch between 0 and 90 deg, or set its roof_type "
            "to flat."
        )
    g.columns["surface_tilt_deg"][pitched] = pitch
    g.columns["surface_azimuth_deg"][pitched] = az
    g.columns["pv_archetype"][pitched] = r.pv_archetype_pitched
    # sloped face area = footprint share / cos(pitch)
    factor = np.ones(n)
    factor[pitched] = kept / np.cos(np.radians(pitch))
    fail = np.zeros(n, bool)
    fail[np.flatnonzero(pitched)[kept == 0]] = True
    yield RuleOutcome("north_facing", fail, factor)


def roof_needs(rules: CategoryRules) -> list[Need]:
    """Fields the roof-geometry family reads (both optional: without them roofs are flat)."""
    from census.sites.registry import Need

    if not rules.pv_archetype_pitched:
        return []
    note = "roofs without roof_type count as flat"
    return [
        Need("field", "roof_type", "north_facing", "roof_geometry", required=False, note=note),
        Need(
            "field",
            "roof_pitch_deg",
            "north_facing",
            "roof_geometry",
            required=False,
            note="needed when any roof_type is 'pitched'",
        ),
    ]
