"""Rooftop geometry: roof faces of pitched roofs from the footprint."""

from __future__ import annotations

import numpy as np
import shapely

__all__ = ["ridge_azimuths_deg", "pitched_faces"]


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
