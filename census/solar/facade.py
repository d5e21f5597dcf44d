"""BIPV facades from building footprints and heights (plan task 11).

A building's walls are the exterior edges of its footprint. Each edge faces outward
along its normal; edges are binned by that azimuth into four sides (N, E, S, W: bins of
90 deg centred on 0, 90, 180 and 270) and merged per building and side into one facade:
its length is the sum of the edge lengths, its wall area length × building height, its
azimuth the length-weighted circular mean of the edge normals. Sides whose azimuth is
more than ``max_from_south_deg`` from south (the north side, by default) are not kept.

A wall whose front is taken by a neighbour is *blocked*: each edge is probed by three
rays (from its quarter, middle and three-quarter points, along the outward normal,
``shading_distance_factor`` × the building's height long); a ray is blocked when it
meets a taller building (whose winter-noon shadow then reaches the wall), or any
building within ``party_wall_m`` of the wall (a party wall or a gap too narrow for PV).
The share of a facade's length behind blocked rays is its ``shaded_frac``; screening
(:mod:`census.sites.facades`) takes it off the area and drops facades shaded beyond
``max_shaded_frac``. Courtyard walls (interior rings) and a building's shade on its own
other wing are not modelled.

Everything is vectorised with shapely 2 (one STRtree query for all rays); no Python
loop runs over buildings.
"""

from __future__ import annotations

import logging
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from census.crs import require_projected
from census.exceptions import SchemaError

__all__ = ["SIDES", "expand_facades", "facade_edges", "facades_from_footprints"]

logger = logging.getLogger(__name__)

SIDES = ("N", "E", "S", "W")
"""Facade sides, in the order of their azimuth bins (centred on 0, 90, 180, 270 deg)."""

_RAY_FRACTIONS = np.array([0.25, 0.5, 0.75])
"""Where each edge is probed for neighbours in front, as fractions of its length."""

FACADE_COLUMNS = (
    "facade_side",
    "facade_azimuth_deg",
    "facade_length_m",
    "facade_height_m",
    "wall_area_m2",
    "shaded_frac",
)
"""Columns a facade site carries from :func:`facades_from_footprints`."""


def facade_edges(footprints: np.ndarray) -> pd.DataFrame:
    """Exterior edges of footprints with their outward normal.

    Parameters
    ----------
    footprints : numpy.ndarray of shapely polygons or multipolygons
        Building footprints in a projected metric CRS with north up.

    Returns
    -------
    pandas.DataFrame
        One row per edge: ``building`` (position in ``footprints``), ``x0``, ``y0``,
        ``x1``, ``y1`` [m], ``length_m`` [m], ``azimuth_deg`` (outward normal,
        clockwise from north) [deg] and ``side`` (index into :data:`SIDES`).
    """
    parts, owner = shapely.get_parts(np.asarray(footprints), return_index=True)
    # counter-clockwise exterior rings: the outside is then on the right of each edge
    rings = shapely.get_exterior_ring(shapely.orient_polygons(parts))
    coords, ring = shapely.get_coordinates(rings, return_index=True)
    same = ring[1:] == ring[:-1]
    p0, p1 = coords[:-1][same], coords[1:][same]
    building = owner[ring[:-1][same]]
    d = p1 - p0
    length = np.hypot(d[:, 0], d[:, 1])
    keep = length > 1e-9
    p0, p1, d, length, building = p0[keep], p1[keep], d[keep], length[keep], building[keep]
    # outward normal of a counter-clockwise ring: (dy, -dx); azimuth = atan2(east, north)
    azimuth = np.degrees(np.arctan2(d[:, 1], -d[:, 0])) % 360.0
    side = np.round(azimuth / 90.0).astype(int) % 4
    return pd.DataFrame(
        {
            "building": building,
            "x0": p0[:, 0],
            "y0": p0[:, 1],
            "x1": p1[:, 0],
            "y1": p1[:, 1],
            "length_m": length,
            "azimuth_deg": azimuth,
            "side": side,
        }
    )


def _blocked_frac(
    edges: pd.DataFrame,
    footprints: np.ndarray,
    height_m: np.ndarray,
    *,
    shading_distance_factor: float,
    party_wall_m: float,
) -> np.ndarray:
    """Share of each edge's rays blocked by a taller neighbour or a party wall [frac]."""
    n_rays = len(_RAY_FRACTIONS)
    if len(edges) == 0:
        return np.zeros(0)
    t = np.tile(_RAY_FRACTIONS, len(edges))
    e = np.repeat(np.arange(len(edges)), n_rays)
    x0, y0 = edges["x0"].to_numpy()[e], edges["y0"].to_numpy()[e]
    dx = edges["x1"].to_numpy()[e] - x0
    dy = edges["y1"].to_numpy()[e] - y0
    length = edges["length_m"].to_numpy()[e]
    owner = edges["building"].to_numpy()[e]
    nx, ny = dy / length, -dx / length  # outward unit normal
    reach = shading_distance_factor * height_m[owner]
    sx, sy = x0 + t * dx, y0 + t * dy
    rays = shapely.linestrings(
        np.stack(
            [np.column_stack([sx, sy]), np.column_stack([sx + nx * reach, sy + ny * reach])], 1
        )
    )
    tree = shapely.STRtree(footprints)
    ray_i, bld = tree.query(rays, predicate="intersects")
    other = bld != owner[ray_i]
    ray_i, bld = ray_i[other], bld[other]
    starts = shapely.points(sx[ray_i], sy[ray_i])
    near = shapely.distance(starts, footprints[bld]) < party_wall_m
    taller = height_m[bld] > height_m[owner[ray_i]]
    blocked = np.zeros(len(rays), bool)
    blocked[ray_i[near | taller]] = True
    return blocked.reshape(-1, n_rays).mean(axis=1)


def facades_from_footprints(
    footprints: gpd.GeoSeries,
    height_m: np.ndarray,
    *,
    max_from_south_deg: float = 90.0,
    shading_distance_factor: float,
    party_wall_m: float,
    strip_depth_m: float,
    keep: np.ndarray | None = None,
) -> gpd.GeoDataFrame:
    """Facades (one per building and side) of footprints with heights.

    Parameters
    ----------
    footprints : geopandas.GeoSeries
        Building footprints in a projected metric CRS (EPSG:4549 in a run).
    height_m : numpy.ndarray
        Height of each building (eaves or roof level); must be > 0. [m]
    max_from_south_deg : float, default 90
        Widest angle between a kept facade's azimuth and south (180). [deg]
    shading_distance_factor : float
        Length of the probing rays as a multiple of the building's height. [-]
    party_wall_m : float
        A neighbour closer than this to the wall blocks it whatever its height. [m]
    strip_depth_m : float
        Depth of the polygon drawn in front of each facade (its geometry). [m]
    keep : numpy.ndarray of bool, optional
        Buildings whose facades are wanted; the others still shade. Default: all.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per kept facade: ``building`` (position in ``footprints``),
        ``facade_side`` (``S``, ``E``, ``W`` ...), ``facade_azimuth_deg`` [deg],
        ``facade_length_m`` [m], ``facade_height_m`` [m], ``wall_area_m2`` [m²] (length ×
        height, windows included), ``shaded_frac`` [frac] and the geometry: a strip
        ``strip_depth_m`` deep in front of the facade's walls.

    Examples
    --------
    A 20 m × 10 m box, 15 m high, long side facing south: the south facade is
    20 × 15 = 300 m² at 180 deg, east and west 10 × 15 = 150 m² at 90 and 270 deg,
    north dropped.
    """
    require_projected(footprints, layer="facade footprints")
    geoms = np.asarray(footprints.values)
    height = np.asarray(height_m, dtype=float)
    edges = facade_edges(geoms)
    if keep is not None:
        edges = edges[np.asarray(keep, bool)[edges["building"].to_numpy()]]
    # sides far from south are dropped before the (costlier) neighbour probe
    side_az = np.array([0.0, 90.0, 180.0, 270.0])[edges["side"].to_numpy()]
    edges = edges[np.abs(side_az - 180.0) <= max_from_south_deg + 45.0].reset_index(drop=True)
    edges["blocked_frac"] = _blocked_frac(
        edges,
        geoms,
        height,
        shading_distance_factor=shading_distance_factor,
        party_wall_m=party_wall_m,
    )
    key = edges["building"].to_numpy() * 4 + edges["side"].to_numpy()
    uniq, facade = np.unique(key, return_inverse=True)
    w = edges["length_m"].to_numpy()
    rad = np.radians(edges["azimuth_deg"].to_numpy())
    length = np.bincount(facade, w)
    east = np.bincount(facade, w * np.sin(rad))
    north = np.bincount(facade, w * np.cos(rad))
    azimuth = np.degrees(np.arctan2(east, north)) % 360.0
    shaded = np.bincount(facade, w * edges["blocked_frac"].to_numpy()) / length
    building = uniq // 4
    lines = shapely.linestrings(
        np.stack([edges[["x0", "y0"]].to_numpy(), edges[["x1", "y1"]].to_numpy()], 1)
    )
    order = np.argsort(facade, kind="stable")
    walls = shapely.multilinestrings(lines[order], indices=facade[order])
    # the outside of a counter-clockwise ring is on the right: a negative single-sided buffer
    strips = shapely.buffer(walls, -strip_depth_m, single_sided=True, cap_style="flat")
    out = gpd.GeoDataFrame(
        {
            "building": building,
            "facade_side": np.array(SIDES, dtype=object)[uniq % 4],
            "facade_azimuth_deg": azimuth,
            "facade_length_m": length,
            "facade_height_m": height[building],
            "wall_area_m2": length * height[building],
            "shaded_frac": np.clip(shaded, 0.0, 1.0),
        },
        geometry=strips,
        crs=footprints.crs,
    )
    off = np.abs(((out["facade_azimuth_deg"] - 180.0) + 180.0) % 360.0 - 180.0)
    return out[off.to_numpy() <= max_from_south_deg].reset_index(drop=True)


def expand_facades(
    sites: gpd.GeoDataFrame, rules, neighbours: gpd.GeoDataFrame | None = None
) -> gpd.GeoDataFrame:
    """Replace the footprint rows of facade categories by one row per facade.

    A category whose rules carry ``facade`` settings (``rules.yaml`` ``categories.facade``)
    is read from a footprint layer; its rows become facade sites with ``site_id`` =
    the building's id + ``:`` + side (``S``, ``E``, ``W``), the building's attributes,
    district and adcode, ``area_m2`` = the wall area, and :data:`FACADE_COLUMNS`.

    Parameters
    ----------
    sites : geopandas.GeoDataFrame
        The io site table (metric CRS).
    rules : census.sites.rules.RulesConfig
    neighbours : geopandas.GeoDataFrame, optional
        Footprint rows of the same layers outside the run's districts (same columns,
        same CRS): they shade the sites' walls but give no facades of their own. A run
        of some districts passes the buildings of the other districts within reach of
        its walls, so a wall at a district border is shaded as in a run of the whole
        city (:func:`census.stages.load.facade_neighbours`).

    Returns
    -------
    geopandas.GeoDataFrame
        ``sites`` with those rows replaced (others untouched, in order).

    Raises
    ------
    SchemaError
        A facade layer without its height field.
    """
    cats = {c: r.facade for c, r in rules.categories.items() if r.facade is not None}
    is_fac = sites["category"].isin(list(cats)).to_numpy() if cats else np.zeros(len(sites), bool)
    if not is_fac.any():
        return sites
    parts = [sites.loc[~is_fac]]
    for cat, fr in cats.items():
        rows = sites.loc[(sites["category"] == cat).to_numpy()]
        if len(rows) == 0:
            continue
        near = None
        if neighbours is not None and len(neighbours):
            near = neighbours.loc[(neighbours["category"] == cat).to_numpy()]
        parts.append(_expand_category(rows, cat, fr, near))
    out = pd.concat(parts, ignore_index=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=sites.crs)


def _expand_category(
    rows: gpd.GeoDataFrame, category: str, fr, near: gpd.GeoDataFrame | None = None
) -> gpd.GeoDataFrame:
    col = next((c for c in (fr.height_field, f"src_{fr.height_field}") if c in rows.columns), None)
    if col is None:
        raise SchemaError(
            f"Category '{category}' derives facades from building footprints and heights, but "
            f"its layer has no field '{fr.height_field}' (columns: "
            f"{[c for c in rows.columns if c != 'geometry'][:15]}). Map it with "
            f'[layers.<name>.fields] {fr.height_field} = "<your height column>" [m].'
        )
    height = pd.to_numeric(rows[col], errors="coerce").to_numpy(dtype=float)
    bad = ~(height > 0)
    if bad.any():
        warnings.warn(
            f"{int(bad.sum())} of {len(rows)} buildings of category '{category}' have no "
            f"valid '{fr.height_field}' (missing or <= 0), e.g. "
            f"{rows['site_id'].to_numpy()[bad][:3].tolist()}; they get no facades and never count "
            "as a taller neighbour. Fill the heights (e.g. floors x storey height).",
            UserWarning,
            stacklevel=4,
        )
    keep = ~bad & (height >= fr.min_building_height_m)
    logger.info(
        "category %s: facades of %d of %d buildings (height >= %g m)",
        category,
        int(keep.sum()),
        len(rows),
        fr.min_building_height_m,
    )
    footprints = rows.geometry.values
    shade_height = np.where(bad, 0.0, height)
    if near is not None and len(near):
        # the neighbours shade (appended after the sites: building positions of the
        # facades stay positions in rows) but are never kept
        near_h = pd.to_numeric(
            near[col] if col in near.columns else pd.Series(np.nan, index=near.index),
            errors="coerce",
        ).to_numpy(dtype=float)
        near_h = np.where(near_h > 0, near_h, 0.0)
        footprints = np.concatenate([np.asarray(footprints), np.asarray(near.geometry.values)])
        shade_height = np.concatenate([shade_height, near_h])
        keep = np.concatenate([keep, np.zeros(len(near), bool)])
    fac = facades_from_footprints(
        gpd.GeoSeries(footprints, crs=rows.crs),
        shade_height,
        max_from_south_deg=fr.max_from_south_deg,
        shading_distance_factor=fr.shading_distance_factor,
        party_wall_m=fr.party_wall_m,
        strip_depth_m=fr.strip_depth_m,
        keep=keep,
    )
    assert (fac["building"] < len(rows)).all()  # neighbours are never kept
    base = pd.DataFrame(rows.drop(columns=rows.geometry.name)).iloc[fac["building"].to_numpy()]
    base = base.reset_index(drop=True)
    base["site_id"] = base["site_id"].astype(str) + ":" + fac["facade_side"].to_numpy()
    base["area_m2"] = fac["wall_area_m2"].to_numpy()
    for c in FACADE_COLUMNS:
        base[c] = fac[c].to_numpy()
    return gpd.GeoDataFrame(base, geometry=fac.geometry.values, crs=rows.crs)
