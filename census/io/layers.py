"""Candidate-site and exclusion layers from the run config, into the site table schema."""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from census.crs import METRIC_CRS
from census.exceptions import InputError, SchemaError
from census.io.vector import (
    apply_field_map,
    count_features,
    read_vector,
    repair_geometries,
    to_metric,
)

__all__ = [
    "SITE_BASE_COLUMNS",
    "LayerReport",
    "assign_districts",
    "load_exclusion",
    "load_exclusions",
    "load_sites",
    "row_categories",
]

logger = logging.getLogger(__name__)

SITE_BASE_COLUMNS = ("site_id", "category", "layer", "district", "adcode", "area_m2")
"""Columns io gives every site besides ``geometry`` and the source attributes."""


@dataclass
class LayerReport:
    """What loading one layer did, for the run's provenance."""

    name: str
    path: str
    rows_read: int = 0
    repaired: int = 0
    dropped_outside: int = 0
    outside_study_area: int = 0
    rows_kept: int = 0
    source_crs: str = ""
    synthetic: bool = False
    notes: list[str] = field(default_factory=list)


def assign_districts(sites: gpd.GeoDataFrame, districts: gpd.GeoDataFrame) -> pd.DataFrame:
    """Give each site the one district that holds its representative point.

    A site that straddles a border counts in exactly one district (the one holding
    ``representative_point()``, a point guaranteed inside the polygon).

    Returns
    -------
    pandas.DataFrame
        Index of ``sites``; columns ``adcode`` (Int64, <NA> outside every district)
        and ``district`` (English name).
    """
    points = gpd.GeoDataFrame(geometry=sites.geometry.representative_point(), crs=sites.crs)
    joined = gpd.sjoin(
        points, districts[["adcode", "name_en", "geometry"]], how="left", predicate="within"
    )
    joined = joined[~joined.index.duplicated(keep="first")]
    lost = joined["adcode"].isna().to_numpy()
    if lost.any():
        # a point exactly on a shared border is "within" neither district: take the first
        # district it touches, so the site is not dropped
        touch = gpd.sjoin(
            points.loc[lost],
            districts[["adcode", "name_en", "geometry"]],
            how="left",
            predicate="intersects",
        )
        touch = touch[~touch.index.duplicated(keep="first")]
        joined.loc[touch.index, ["adcode", "name_en"]] = touch[["adcode", "name_en"]].to_numpy()
    return pd.DataFrame(
        {
            "adcode": joined["adcode"].astype("Int64"),
            "district": joined["name_en"],
        },
        index=sites.index,
    )


def _load_layer(
    name: str,
    cfg,
    *,
    metric_crs: str,
    extent: tuple[float, float, float, float] | None = None,
) -> tuple[gpd.GeoDataFrame, LayerReport]:
    """Read, rename, repair and project one layer; ``extent`` reads only its rows there.

    A read by extent that finds no row is not an empty layer: the empty-layer warning
    fires only when the layer's feature count (file metadata) is zero, and a layer
    whose count the metadata does not give is read whole.
    """
    report = LayerReport(name=name, path=str(cfg.path), synthetic=bool(cfg.synthetic))
    gdf = read_vector(
        Path(cfg.path),
        layer=cfg.layer,
        crs=cfg.crs,
        name=name,
        extent=extent,
        extent_crs=metric_crs,
    )
    by_extent = bool(gdf.attrs.get("extent_read"))
    report.rows_read = len(gdf)
    report.source_crs = str(gdf.attrs.get("source_crs", ""))
    if by_extent:
        x0, y0, x1, y1 = extent
        report.notes.append(
            f"read by extent: rows_read counts only the rows whose bounding box meets "
            f"{x0:.0f}, {y0:.0f}, {x1:.0f}, {y1:.0f} ({metric_crs}, selected districts "
            "plus margin); the rest of the layer was not read"
        )
    fields = getattr(cfg, "fields", None) or {}
    if fields:
        gdf = apply_field_map(gdf, fields, layer=name, path=cfg.path)
    if len(gdf) == 0:
        if by_extent:
            total = count_features(cfg.path, layer=cfg.layer)
            if total is None:
                return _load_layer(name, cfg, metric_crs=metric_crs)
            if total > 0:
                report.notes.append(f"none of its {total} rows lies within the extent")
                return gdf.to_crs(metric_crs), report
        warnings.warn(
            f"Layer '{name}' ({cfg.path}) is empty; its totals will be zero.",
            UserWarning,
            stacklevel=3,
        )
        report.notes.append("empty layer")
        return gdf.to_crs(metric_crs), report
    gdf, report.repaired = repair_geometries(gdf, layer=name)
    if report.repaired:
        report.notes.append(f"{report.repaired} invalid geometries repaired with make_valid")
    return to_metric(gdf, layer=name, metric_crs=metric_crs), report


def row_categories(name: str, cfg, gdf: pd.DataFrame) -> np.ndarray:
    """Category of each row: ``cfg.categories`` of its ``category_field`` value, else ``category``.

    Values match case-insensitively after stripping blanks (``Industrial`` = ``industrial``).

    A layer without the ``category_field`` column (e.g. a user's rooftops replacing the
    demo's, which inherit the default ``category_field = "use"``) keeps ``category`` for
    every row, with a warning naming the fix.
    """
    field = getattr(cfg, "category_field", None)
    base = np.full(len(gdf), cfg.category, dtype=object)
    if not field or not cfg.categories:
        return base
    if field not in gdf.columns:
        others = sorted(set(cfg.categories.values()))
        warnings.warn(
            f"Layer '{name}' ({cfg.path}) has no column '{field}' (category_field), so all its "
            f"rows are category '{cfg.category}' and none of {others}. "
            f'Map the building-use column with [layers.{name}] category_field = "<column>", or '
            'set category_field = "" to silence this.',
            UserWarning,
            stacklevel=3,
        )
        return base
    table = {k.strip().lower(): v for k, v in (cfg.categories or {}).items()}
    values = gdf[field].astype("string").str.strip().str.lower()
    mapped = values.map(table).astype(object).to_numpy()
    return np.where(pd.isna(mapped), base, mapped)


def load_sites(
    layers: dict,
    districts: gpd.GeoDataFrame,
    *,
    metric_crs: str = METRIC_CRS,
    study_area: gpd.GeoDataFrame | None = None,
    study_area_name: str = "study area",
    extent: tuple[float, float, float, float] | None = None,
) -> tuple[gpd.GeoDataFrame, list[LayerReport]]:
    """Load every candidate-site layer into one site table.

    Parameters
    ----------
    layers : dict of str to census.config.LayerConfig
        The run's ``[layers.*]`` tables.
    districts : geopandas.GeoDataFrame
        Selected districts in ``metric_crs``; sites outside them are dropped.
    metric_crs : str, default "EPSG:4549"
    study_area : geopandas.GeoDataFrame, optional
        Every district of the study area in ``metric_crs`` (default: ``districts``).
        A layer with no site inside it is an error; sites outside it are counted,
        warned about and recorded in the layer's report.
    study_area_name : str
        Name of the study area, for messages.
    extent : (float, float, float, float), optional
        ``(xmin, ymin, xmax, ymax)`` in ``metric_crs`` holding every selected district:
        read only the rows whose bounding box meets it. A site belongs to the district
        holding its representative point, so every site of the selected districts is
        read and the site table is the same as from a whole read. Layers without
        ``id_field`` are read whole (their site ids are row numbers of the whole
        layer), and so is a layer of which no row read lies in the study area (so that
        a layer in a wrong CRS is still reported). ``rows_read``, ``dropped_outside``
        and ``outside_study_area`` then count the rows read, as the report's notes say.

    Raises
    ------
    InputError
        If a non-empty layer has no site inside the study area; the message names
        the layer, the file, where the layer lies and what to check.

    Returns
    -------
    sites : geopandas.GeoDataFrame
        One row per site in ``metric_crs`` with :data:`SITE_BASE_COLUMNS`, the
        source attributes (renamed ``src_<name>`` where they clash) and ``geometry``.
    reports : list of LayerReport
    """
    frames = []
    reports = []
    area = districts if study_area is None else study_area
    for name, cfg in layers.items():
        layer_extent = extent if cfg.id_field else None
        gdf, report = _load_layer(name, cfg, metric_crs=metric_crs, extent=layer_extent)
        by_extent = layer_extent is not None and bool(gdf.attrs.get("extent_read"))
        where = None
        if by_extent and len(gdf):
            where = assign_districts(gdf, area)
        if by_extent and (where is None or where["adcode"].isna().all()):
            # nothing read lies in the study area: read the whole layer, so that a layer
            # in a wrong CRS is refused as by a whole run (and an empty one warned about)
            gdf, report = _load_layer(name, cfg, metric_crs=metric_crs)
            by_extent, where = False, None
            report.notes.append(
                "read whole: no row within the selected districts' extent lies in the study area"
            )
        elif extent is not None and not cfg.id_field:
            report.notes.append(
                "read whole, not by extent: without id_field the site ids are row numbers "
                "of the whole layer"
            )
        reports.append(report)
        if len(gdf) == 0:
            continue
        polygonal = np.isin(shapely.get_type_id(gdf.geometry.values), [3, 6])
        if not polygonal.all():
            bad = int((~polygonal).sum())
            first = gdf.index[~polygonal][0]
            raise SchemaError(
                f"Layer '{name}' ({cfg.path}): site layers must hold polygons; {bad} rows are "
                f"{sorted(set(gdf.geometry.geom_type[~polygonal]))} (first at row {first}). "
                "Convert them (e.g. buffer points to footprints) or remove them."
            )
        if cfg.id_field:
            if cfg.id_field not in gdf.columns:
                raise SchemaError(
                    f"Layer '{name}' ({cfg.path}): id_field '{cfg.id_field}' is not a column; "
                    f"columns are {[c for c in gdf.columns if c != 'geometry']}. Fix "
                    f"[layers.{name}] id_field in your config."
                )
            ids = gdf[cfg.id_field].astype(str)
            if ids.duplicated().any():
                raise SchemaError(
                    f"Layer '{name}' ({cfg.path}): id_field '{cfg.id_field}' has duplicated "
                    f"values, e.g. {ids[ids.duplicated()].iloc[0]!r}; site ids must be unique."
                )
        else:
            ids = pd.Series(np.arange(len(gdf)).astype(str), index=gdf.index)
        attrs = gdf.drop(columns=[gdf.geometry.name])
        clash = [c for c in attrs.columns if c in SITE_BASE_COLUMNS or c in _RESERVED]
        attrs = attrs.rename(columns={c: f"src_{c}" for c in clash})
        if where is None:
            where = assign_districts(gdf, area)
        in_area = where["adcode"].notna().to_numpy()
        _check_inside(
            name, cfg, gdf, in_area, report, area_name=study_area_name, by_extent=by_extent
        )
        inside = where["adcode"].isin(districts["adcode"]).to_numpy()
        report.dropped_outside = int((~inside).sum())
        if report.dropped_outside:
            report.notes.append(
                f"{report.dropped_outside} sites outside the selected districts"
                + (" (of the rows read within the extent)" if by_extent else "")
            )
        frame = gpd.GeoDataFrame(
            {
                "site_id": (name + ":" + ids).to_numpy(),
                "category": cfg.category,
                "layer": name,
                "district": where["district"].to_numpy(),
                "adcode": where["adcode"].to_numpy(),
            },
            geometry=gdf.geometry.values,
            crs=gdf.crs,
            index=gdf.index,
        )
        frame = pd.concat([frame, attrs], axis=1)
        frame["category"] = row_categories(name, cfg, gdf)
        frame = frame.loc[inside]
        report.rows_kept = len(frame)
        frames.append(frame)
    if frames:
        sites = gpd.GeoDataFrame(
            pd.concat(frames, ignore_index=True), geometry="geometry", crs=metric_crs
        )
    else:
        sites = gpd.GeoDataFrame(
            {c: pd.Series(dtype="object") for c in SITE_BASE_COLUMNS[:-1]},
            geometry=gpd.GeoSeries([], crs=metric_crs),
        )
    sites["area_m2"] = sites.geometry.area.astype("float64")
    sites["adcode"] = sites["adcode"].astype("Int64")
    return sites, reports


def _check_inside(
    name: str,
    cfg,
    gdf: gpd.GeoDataFrame,
    in_area: np.ndarray,
    report: LayerReport,
    *,
    area_name: str,
    by_extent: bool = False,
) -> None:
    """Refuse a layer wholly outside the study area; warn with the count when partly.

    With ``by_extent`` the layer was read only within the selected districts' extent:
    the counts are of the rows read, and the message says so.
    """
    n_out = int((~in_area).sum())
    report.outside_study_area = n_out
    if n_out == 0:
        return
    declared = getattr(cfg, "crs", None)
    crs_text = f'declared crs = "{declared}"' if declared else f"the file's {report.source_crs}"
    if not in_area.any():
        lon0, lat0, lon1, lat1 = gdf.to_crs("EPSG:4326").total_bounds
        raise InputError(
            f"Layer '{name}' ({cfg.path}): none of its {len(gdf):,} sites lies inside the "
            f"study area '{area_name}'; the layer spans {lon0:.3f}-{lon1:.3f} E, "
            f"{lat0:.3f}-{lat1:.3f} N (read with {crs_text}). Check that [layers.{name}] "
            "crs is right (a projected file read as another CRS lands elsewhere), that "
            'Amap/Tencent data declare crs = "GCJ-02", and that the layer and '
            "[study_area] boundaries are for the same city and districts."
        )
    of = (
        f"{len(gdf):,} sites read within the selected districts' extent"
        if by_extent
        else f"{len(gdf):,} sites"
    )
    msg = (
        f"Layer '{name}' ({cfg.path}): {n_out:,} of {of} lie outside the study "
        f"area '{area_name}' and are left out. If they belong inside, check the layer's CRS "
        f'({crs_text}; Amap/Tencent data need crs = "GCJ-02") and the boundaries.'
    )
    report.notes.append(
        f"{n_out} sites outside the study area"
        + (" (of the rows read within the extent)" if by_extent else "")
    )
    warnings.warn(msg, UserWarning, stacklevel=3)


# columns later stages add; source attributes with these names are renamed src_<name>
_RESERVED = frozenset(
    {
        "eligible",
        "exclusion_reasons",
        "usable_area_m2",
        "slope_deg",
        "aspect_deg",
        "surface_tilt_deg",
        "surface_azimuth_deg",
        "technology",
        "capacity_mw_dc",
        "n_turbines",
        "specific_yield_kwh_kwp",
        "energy_mwh_yr",
        "capacity_factor",
        "pv_archetype",
        "pv_technology",
        "elevation_m",
        "clipped_by",
        "wind_speed_hub_m_s",
    }
)


def load_exclusion(
    name: str,
    cfg,
    *,
    metric_crs: str = METRIC_CRS,
    extent: tuple[float, float, float, float] | None = None,
) -> gpd.GeoSeries:
    """Load one exclusion layer as a GeoSeries in the metric CRS.

    Parameters
    ----------
    name : str
    cfg : census.config.ExclusionLayerConfig
    metric_crs : str, default "EPSG:4549"
    extent : (float, float, float, float), optional
        ``(xmin, ymin, xmax, ymax)`` in ``metric_crs``: read only the features whose
        bounding box meets it (the caller grows it by the layer's largest buffer).
        No empty-layer warning when no feature lies there but the layer has some.

    Raises
    ------
    InputError
        Missing file or layer; :class:`~census.exceptions.MissingCRSError` without CRS.
    """
    gdf, _ = _load_layer(name, cfg, metric_crs=metric_crs, extent=extent)
    if gdf.geometry.name not in gdf.columns:  # pragma: no cover - defensive
        raise InputError(f"Exclusion layer '{name}' ({cfg.path}) has no geometry column.")
    return gdf.geometry.reset_index(drop=True)


def load_exclusions(
    configs: dict,
    needed: set[str],
    *,
    metric_crs: str = METRIC_CRS,
    extents: dict[str, tuple[float, float, float, float]] | None = None,
) -> dict[str, gpd.GeoSeries]:
    """Load the exclusion layers the screening rules name.

    Parameters
    ----------
    configs : dict of str to ExclusionLayerConfig
        The run's ``[exclusions]`` table.
    needed : set of str
        Layer names the active rules use (:func:`census.sites.screen.required_exclusions`).
    metric_crs : str
    extents : dict of str to (float, float, float, float), optional
        Per layer, the box in ``metric_crs`` whose features are read (the sites' extent
        grown by the layer's largest buffer [m]); a layer not in it is read whole.

    Returns
    -------
    dict of str to geopandas.GeoSeries
        Layers by name. A disabled layer, or every layer when ``[exclusions]`` is
        empty (the user's way to say "no exclusion layers"), is an empty series with
        a warning, so its rules exclude nothing. A name the table lacks is left out:
        screening then stops with an error naming the rule and the layer.
    """
    out: dict[str, gpd.GeoSeries] = {}
    if not configs:
        if needed:
            warnings.warn(
                f"[exclusions] is empty: the screening rules that use the layers "
                f"{sorted(needed)} exclude nothing. Add those layers to use them.",
                UserWarning,
                stacklevel=2,
            )
        return {name: gpd.GeoSeries([], crs=metric_crs) for name in needed}
    for name in sorted(needed):
        if name not in configs:
            continue  # screen_sites raises a ConfigError naming the rule and the layer
        if not configs[name].enabled:
            warnings.warn(
                f"Exclusion layer '{name}' is disabled (enabled = false); the screening "
                "rules that use it exclude nothing.",
                UserWarning,
                stacklevel=2,
            )
            out[name] = gpd.GeoSeries([], crs=metric_crs)
            continue
        out[name] = load_exclusion(
            name, configs[name], metric_crs=metric_crs, extent=(extents or {}).get(name)
        )
    return out
