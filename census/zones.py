"""Roll-ups by any zone (village, township, industrial park) and per person.

A site that straddles zones is split by area: each zone gets the share of the site's
capacity, energy and usable area that equals the share of the site's footprint inside it
(usable area is assumed to be spread evenly over the footprint). The part of a site that
lies in no zone goes to the row :data:`OUTSIDE`, so zone totals add up to the district and
city totals exactly.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from census.crs import require_projected
from census.exceptions import SchemaError
from census.units import mw_to_kw

__all__ = [
    "OUTSIDE",
    "SPLIT_COLUMNS",
    "dominant_zone",
    "split_by_zone",
    "summarize_by_zone",
    "zone_sites",
]

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


def zone_sites(sites: gpd.GeoDataFrame, pieces: pd.DataFrame) -> pd.DataFrame:
    """One row per (site, zone) piece, additive columns scaled by the piece's share.

    Parameters
    ----------
    sites : geopandas.GeoDataFrame
        Site table after the yield stage.
    pieces : pandas.DataFrame
        Output of :func:`split_by_zone` for ``sites``.

    Returns
    -------
    pandas.DataFrame
        The columns of ``sites`` (without geometry) repeated per piece, with
        :data:`SPLIT_COLUMNS` multiplied by ``share_frac``, the zone key in ``zone`` and
        ``zone_code`` (an integer code per zone, in sorted key order) in ``adcode``'s place,
        and ``counts_site`` (True on the piece that holds the largest share of its site, so
        site counts add up).
    """
    table = pd.DataFrame(sites.drop(columns=sites.geometry.name))
    out = table.loc[pieces["site_index"].to_numpy()].reset_index(drop=True)
    share = pieces["share_frac"].to_numpy()
    for col in SPLIT_COLUMNS:
        if col in out.columns:
            out[col] = pd.to_numeric(out[col], errors="coerce").fillna(0.0).to_numpy() * share
    out["zone"] = pieces["zone"].to_numpy()
    dom = dominant_zone(pieces)
    out["counts_site"] = pieces["zone"].to_numpy() == dom.reindex(pieces["site_index"]).to_numpy()
    return out


def summarize_by_zone(
    sites: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame,
    *,
    zone_field: str,
    summarize: Callable[[pd.DataFrame, pd.DataFrame], pd.DataFrame],
    population_field: str | None = None,
) -> pd.DataFrame:
    """Roll the site table up by zone with the same function the districts use.

    Parameters
    ----------
    sites : geopandas.GeoDataFrame
        Site table after the yield stage, in a metric CRS.
    zones : geopandas.GeoDataFrame
        Zone polygons with ``zone_field`` (and ``population_field`` if given).
    zone_field : str
        Zone key column.
    summarize : callable
        ``summarize(site_rows, districts)`` -> district x category x technology table
        (the roll-up stage passes :func:`census.rollup.summarize_by_district` with the run's
        storage and emission settings), called with zones in the place of districts.
    population_field : str, optional
        Zone column with the resident population [persons]; adds ``population`` and
        ``pv_kw_dc_per_person`` / ``pv_kw_ac_per_person`` [kW person⁻¹].

    Returns
    -------
    pandas.DataFrame
        One row per zone (and :data:`OUTSIDE` when some site area lies in no zone):
        ``zone``, ``sites``, ``eligible_sites`` (each site counted once, in the zone with
        its largest share) and the additive columns of the district table (capacity,
        energy, storage, CO2...) summed over the zone's pieces; they add up to the
        district totals of the same sites.
    """
    pieces = split_by_zone(sites, zones, zone_field=zone_field)
    rows = zone_sites(sites, pieces)
    keys = sorted(set(rows["zone"]))
    code = {k: i + 1 for i, k in enumerate(keys)}
    rows["adcode"] = rows["zone"].map(code).astype("int64")
    rows["district"] = rows["zone"]
    table = pd.DataFrame({"adcode": list(code.values()), "name_zh": keys, "name_en": keys})
    by = summarize(rows, table)
    numeric = [
        c
        for c in by.columns
        if c not in ("adcode", "name_zh", "name_en", "category", "technology")
        and pd.api.types.is_numeric_dtype(by[c])
        and c != "capacity_factor"
    ]
    out = by.groupby("name_en", as_index=False)[numeric].sum().rename(columns={"name_en": "zone"})
    counted = rows[rows["counts_site"]]
    n_sites = counted.groupby("zone").size()
    n_elig = counted[counted["eligible"].astype(bool)].groupby("zone").size()
    out["sites"] = out["zone"].map(n_sites).fillna(0).astype("int64")
    out["eligible_sites"] = out["zone"].map(n_elig).fillna(0).astype("int64")
    if population_field:
        if population_field not in zones.columns:
            raise SchemaError(
                f"zone layer has no field '{population_field}'; its fields are "
                f"{[c for c in zones.columns if c != zones.geometry.name]}. Name it with "
                "--population-field or leave the option out."
            )
        pop = pd.to_numeric(zones[population_field], errors="coerce")
        pop.index = zones[zone_field].astype(str)
        out["population"] = out["zone"].map(pop.groupby(level=0).sum())
        pv = by[by["technology"].astype(str).str.startswith("pv")]
        pv_cap = pv.groupby("name_en")[["capacity_mw_dc", "capacity_mw_ac"]].sum()
        persons = out["population"].where(out["population"] > 0)
        for basis in ("dc", "ac"):
            cap = out["zone"].map(pv_cap[f"capacity_mw_{basis}"]).fillna(0.0)
            out[f"pv_kw_{basis}_per_person"] = mw_to_kw(cap) / persons
    return out.sort_values("zone", key=lambda s: s == OUTSIDE, kind="stable").reset_index(drop=True)
