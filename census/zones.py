"""Roll-ups by any zone (village, township, industrial park) and per person.

A site that straddles zones is split by area: each zone gets the share of the site's
capacity, energy and usable area that equals the share of the site's footprint inside it
(usable area is assumed to be spread evenly over the footprint). The part of a site that
lies in no zone goes to the row :data:`OUTSIDE`, so zone totals add up to the district and
city totals exactly.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from census.crs import require_projected
from census.exceptions import SchemaError

__all__ = ["OUTSIDE", "SPLIT_COLUMNS", "split_by_zone", "dominant_zone"]

logger = logging.getLogger(__name__)

OUTSIDE = "(outside zones)"
"""Zone key of the parts of sites that lie in no zone."""

SPLIT_COLUMNS = ("usable_area_m2", "capacity_mw_dc", "capacity_mw_ac", "energy_mwh_yr")
"""Additive site columns that are shared out between zones by area."""


def split_by_zone(
    sites: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame,
    *,
    zone_field: str,
) -> pd.DataFrame:
    """Share every site between the zones it overlaps, by area.

    Parameters
    ----------
    sites : geopandas.GeoDataFrame
        Site table in a projected metric CRS (EPSG:4549 in a run).
    zones : geopandas.GeoDataFrame
        Zone polygons in the same CRS with the key column ``zone_field``. Zones must not
        overlap (a site's shares would then sum to more than 1; this is checked).
    zone_field : str
        Column of ``zones`` holding the zone key (name or code).

    Returns
    -------
    pandas.DataFrame
        One row per (site, zone) piece: ``site_index`` (the site's index label), ``zone``
        (key, :data:`OUTSIDE` for the part in no zone) and ``share_frac`` (share of the
        site's footprint in that zone [frac]; the shares of a site sum to 1).

    Raises
    ------
    SchemaError
        If ``zone_field`` is missing, keys are empty, or zones overlap.
    """
    require_projected(sites)
    if zone_field not in zones.columns:
        raise SchemaError(
            f"zone layer has no field '{zone_field}'; its fields are "
            f"{[c for c in zones.columns if c != zones.geometry.name]}. Name the key with "
            "--zone-field."
        )
    keys = zones[zone_field]
    if keys.isna().any() or (keys.astype(str).str.strip() == "").any():
        n = int((keys.isna() | (keys.astype(str).str.strip() == "")).sum())
        raise SchemaError(
            f"zone field '{zone_field}' is empty on {n} zone(s); give every zone a key."
        )
    if zones.crs != sites.crs:
        zones = zones.to_crs(sites.crs)
    zgeom = zones.geometry.values
    left, right = zones.sindex.query(sites.geometry.values, predicate="intersects")
    site_geom = np.asarray(sites.geometry.values)[left]
    site_area = shapely.area(site_geom)
    inter = shapely.area(shapely.intersection(site_geom, np.asarray(zgeom)[right]))
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(site_area > 0, inter / site_area, 0.0)
    pieces = pd.DataFrame(
        {
            "site_index": sites.index.to_numpy()[left],
            "zone": keys.astype(str).to_numpy()[right],
            "share_frac": share,
        }
    )
    pieces = pieces[pieces["share_frac"] > 0]
    total = pieces.groupby("site_index")["share_frac"].sum()
    # overlapping zones would count a site more than once; allow rounding noise only
    over = total[total > 1.0 + 1e-6]
    if len(over):
        raise SchemaError(
            f"zones overlap: {len(over)} site(s) lie more than once in the zone layer (e.g. "
            f"site {over.index[0]!r}, {over.iloc[0]:.3f} of its area). Dissolve or fix the "
            "overlapping zones."
        )
    # rounding: a site inside one zone gets exactly 1
    pieces.loc[pieces["site_index"].map(total).between(1 - 1e-9, 1 + 1e-6), "share_frac"] /= pieces[
        "site_index"
    ].map(total)
    inside = pieces.groupby("site_index")["share_frac"].sum().reindex(sites.index, fill_value=0.0)
    rest = (1.0 - inside).clip(lower=0.0)
    outside = pd.DataFrame(
        {"site_index": rest.index.to_numpy(), "zone": OUTSIDE, "share_frac": rest.to_numpy()}
    )
    outside = outside[outside["share_frac"] > 1e-9]
    out = pd.concat([pieces, outside], ignore_index=True)
    logger.debug(
        "zones: %d sites -> %d pieces (%d partly outside every zone)",
        len(sites),
        len(out),
        len(outside),
    )
    return out


def dominant_zone(pieces: pd.DataFrame) -> pd.Series:
    """Return the zone holding the largest share of each site (to count sites once).

    Parameters
    ----------
    pieces : pandas.DataFrame
        Output of :func:`split_by_zone`.

    Returns
    -------
    pandas.Series
        Zone key indexed by ``site_index``.
    """
    idx = pieces.groupby("site_index")["share_frac"].idxmax()
    return pieces.loc[idx.to_numpy()].set_index("site_index")["zone"]
