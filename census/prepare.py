"""Turn real data sources into census layers and a run config (`census data prepare`).

Sources: an OpenStreetMap extract (``.osm.pbf``), DEM tiles (SRTM, Copernicus GLO-30,
ASTER GDEM), ESA WorldCover tiles and Global Wind Atlas GeoTIFFs. Everything is clipped
to the study area (the district boundaries of the default config unless another is
given) and written into one folder, atomically:

* ``sites.gpkg``: one layer per site category (rooftops, ponds, mines, landfills,
  forest, mudflats), polygons in the metric CRS (EPSG:4549);
* ``exclusions.gpkg``: protected_areas, drinking_water, roads, airport, ...;
* ``districts.gpkg``: the study area's districts (adcode, name_zh, name_en);
* ``dem.tif``, ``landcover.tif``: Cloud-Optimized GeoTIFFs on a metric grid (DEM
  bilinear, land-cover classes nearest);
* ``wind/{variable}_{height}m.tif``: the wind-atlas rasters cropped to the study area,
  kept in their own CRS and grid (EPSG:4326 for the Global Wind Atlas);
* ``census.toml``: a run config pointing at these files by relative paths;
* ``sources.json``: each source file's path, size and SHA-256, the tag mapping and
  its parameters, the counts and the warnings.

Which OSM tags make which layer is data: ``census/resources/osm_tags.yaml`` (see the
comments at its top); pass ``tags=`` to use your own file of the same shape.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from census.crs import METRIC_CRS
from census.exceptions import InputError, MissingCRSError
from census.io.boundaries import BOUNDARY_COLUMNS, read_districts
from census.io.landuse import (
    LanduseResult,
    classify_landuse,
    load_landuse_codes,
    read_landuse,
)
from census.io.osm import OSM_LAYERS, read_osm, tags_match
from census.io.outputs import file_sha256
from census.io.overture import (
    OVERTURE_ATTRIBUTION,
    map_overture_buildings,
    read_overture_buildings,
)
from census.io.runfolder import RunFolder
from census.io.vector import read_vector, repair_geometries, to_metric
from census.resources import read_text, split_entries
from census.settings.base import Strict

__all__ = [
    "ATLAS_FILE_PATTERN",
    "OsmTagSpec",
    "PrepareResult",
    "clip_to_area",
    "derive_fields",
    "load_osm_tags",
    "prepare_data",
    "select_osm_layers",
]

logger = logging.getLogger(__name__)

ATLAS_FILE_PATTERN = "{variable}_{height}m.tif"
"""How prepared wind-atlas files are named (the default of ``[wind.resource] atlas_pattern``)."""

# Global Wind Atlas 3 download names, e.g. CHN_wind-speed_100m.tif,
# CHN_combined-Weibull-A_100m.tif, CHN_combined-Weibull-k_100m.tif, and census's own names.
_ATLAS_NAMES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?:^|[_-])wind[-_]speed[-_](\d+)m?\.tiff?$", re.I), "wind_speed"),
    (re.compile(r"(?:^|[_-])weibull[-_]a[-_](\d+)m?\.tiff?$", re.I), "weibull_a"),
    (re.compile(r"(?:^|[_-])weibull[-_]k[-_](\d+)m?\.tiff?$", re.I), "weibull_k"),
)

_ATTRIBUTION = {
    "overture_buildings": OVERTURE_ATTRIBUTION,
    "osm": "© OpenStreetMap contributors; data under the ODbL 1.0 (openstreetmap.org/copyright)",
    "dem": "See docs/data-sources.md for the attribution of your DEM product",
    "landcover": "© ESA WorldCover project 2021 / Contains modified Copernicus Sentinel data "
    "(2021) processed by ESA WorldCover consortium; CC BY 4.0",
    "wind_atlas": "Global Wind Atlas 3.x, DTU Wind Energy and the World Bank Group (ESMAP); "
    "CC BY 4.0",
}

_SITE_FILE = "sites.gpkg"
_EXCLUSION_FILE = "exclusions.gpkg"
_DISTRICT_FILE = "districts.gpkg"

TagValue = str | list[str]
GeometryKind = Literal["polygon", "line", "point", "any"]
_KIND_OF_LAYER: dict[str, GeometryKind] = {
    "multipolygons": "polygon",
    "lines": "line",
    "points": "point",
}
_GPKG_GEOMETRY = {
    "polygon": "MultiPolygon",
    "line": "MultiLineString",
    "point": "Point",
    "any": "Unknown",
}
_TYPE_IDS = {"polygon": (3, 6), "line": (1, 2, 5), "point": (0, 4)}


# ---------------------------------------------------------------- the tag mapping


def _norm_value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _norm_conditions(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            str(k): ([_norm_value(x) for x in v] if isinstance(v, list) else _norm_value(v))
            for k, v in value.items()
        }
    return value


class FieldStep(Strict):
    """One way to get a field's value; the first step that gives one wins."""

    when: dict[str, TagValue] | None = None
    tag: str | None = None
    map: dict[str, str | float] | None = None
    number: bool = False
    year: bool = False
    multiply: str | float | None = None
    value: str | float | None = None
    param: str | None = None

    _norm_when = field_validator("when", mode="before")(_norm_conditions)

    @model_validator(mode="after")
    def _one_source(self) -> FieldStep:
        given = [k for k in ("tag", "value", "param") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"a step needs exactly one of tag / value / param; got {given}")
        if self.tag is None and (self.map or self.number or self.year or self.multiply):
            raise ValueError("map / number / year / multiply need a tag")
        return self


class FieldSpec(Strict):
    """How a census column is derived from OSM tags."""

    type: Literal["str", "float", "int"]
    steps: list[FieldStep] = Field(alias="from", min_length=1)


class WithinSpec(Strict):
    """Features of a layer that count only inside another feature of it (basins in plants).

    Rows whose ``field`` is ``value`` are kept only where their representative point lies
    in a row whose ``field`` is ``container``, and then get ``becomes``; features of the
    layers ``take_from`` inside a container move to this layer the same way (they are,
    e.g., water bodies of a sewage plant that the pond tags matched too).
    """

    field: str
    value: str
    container: str
    becomes: str
    take_from: list[str] = Field(default_factory=list)


class LayerSpec(Strict):
    """One census layer made from OSM features."""

    output: Literal["sites", "exclusions"]
    category: str | None = None
    # a field whose value gives a row another category (building use -> park_rooftop)
    category_field: str | None = None
    categories: dict[str, str] = Field(default_factory=dict)
    osm_layers: list[Literal["points", "lines", "multipolygons"]] = Field(min_length=1)
    match: list[dict[str, TagValue]]
    exclude: list[dict[str, TagValue]] = Field(default_factory=list)
    fields: dict[str, FieldSpec] = Field(default_factory=dict)
    within: WithinSpec | None = None
    source: str = ""
    note: str | None = None

    @field_validator("match", "exclude", mode="before")
    @classmethod
    def _norm(cls, value: Any) -> Any:
        return [_norm_conditions(v) for v in value] if isinstance(value, list) else value

    @model_validator(mode="after")
    def _sites_have_category(self) -> LayerSpec:
        if self.output == "sites":
            if not self.category:
                raise ValueError("a layer with output 'sites' needs a category")
            if self.osm_layers != ["multipolygons"]:
                raise ValueError(
                    "site layers must be polygons: set osm_layers: [multipolygons] "
                    f"(got {self.osm_layers})"
                )
        return self

    @property
    def geometry_kind(self) -> GeometryKind:
        """Geometry type of the layer: polygon, line, point or any (mixed)."""
        kinds = {_KIND_OF_LAYER[name] for name in self.osm_layers}
        return kinds.pop() if len(kinds) == 1 else "any"

    def tag_keys(self) -> list[str]:
        """Return every OSM key the layer's conditions and fields read."""
        keys: list[str] = []
        for entry in [*self.match, *self.exclude]:
            keys.extend(entry)
        for spec in self.fields.values():
            for step in spec.steps:
                keys.extend(step.when or {})
                if step.tag:
                    keys.append(step.tag)
        return list(dict.fromkeys(keys))


class OsmTagSpec(Strict):
    """The OSM tag mapping: parameters and layers (``osm_tags.yaml``)."""

    parameters: dict[str, Any] = Field(default_factory=dict)
    anchors: Any = None
    layers: dict[str, LayerSpec]

    # filled by load_osm_tags
    parameter_values: dict[str, Any] = Field(default_factory=dict, exclude=True)
    ledger: list[dict[str, Any]] = Field(default_factory=list, exclude=True)
    origin: str = Field("", exclude=True)


def load_osm_tags(path: str | Path | None = None) -> OsmTagSpec:
    """Load and check an OSM tag mapping.

    Parameters
    ----------
    path : str or pathlib.Path, optional
        A YAML file of the shape of ``census/resources/osm_tags.yaml``; ``None`` loads
        that packaged file.

    Returns
    -------
    OsmTagSpec
        The layers, the parameter values and their ledger rows (key, value, unit, source).

    Raises
    ------
    InputError
        Missing or malformed file, unknown keys, or a field step naming an unknown
        parameter; the message names the file and the key.
    """
    if path is None:
        origin = "census/resources/osm_tags.yaml"
        text = read_text("osm_tags.yaml")
    else:
        p = Path(path).expanduser()
        origin = str(p)
        if not p.is_file():
            raise InputError(
                f"OSM tag file not found: {p}. Copy {'census/resources/osm_tags.yaml'}."
            )
        text = p.read_text(encoding="utf-8")
    try:
        tree = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InputError(f"{origin}: not valid YAML: {exc}") from exc
    if not isinstance(tree, dict):
        raise InputError(f"{origin}: expected a mapping with 'parameters' and 'layers'.")
    try:
        spec = OsmTagSpec.model_validate(tree)
    except ValidationError as exc:
        lines = [f"'{'.'.join(str(p) for p in err['loc'])}': {err['msg']}" for err in exc.errors()]
        raise InputError(
            f"{origin}: invalid OSM tag mapping:\n  " + "\n  ".join(lines) + "\nSee the "
            "comments at the top of census/resources/osm_tags.yaml for the format."
        ) from None
    try:
        values, ledger = split_entries(spec.parameters, prefix="osm_tags.parameters", origin=origin)
    except ValueError as exc:
        raise InputError(str(exc)) from exc
    for name, layer in spec.layers.items():
        for fname, fspec in layer.fields.items():
            for step in fspec.steps:
                for ref in (step.param, step.multiply):
                    if isinstance(ref, str) and ref not in values:
                        raise InputError(
                            f"{origin}: layers.{name}.fields.{fname} uses parameter '{ref}', "
                            f"which 'parameters' does not define (it has {sorted(values)})."
                        )
    spec.parameter_values = values
    spec.ledger = ledger
    spec.origin = origin
    return spec


# ---------------------------------------------------------------- pure functions


def _step_values(tags: pd.DataFrame, step: FieldStep, parameters: Mapping[str, Any]) -> pd.Series:
    index = tags.index
    if step.value is not None:
        return pd.Series([step.value] * len(index), index=index, dtype=object)
    if step.param is not None:
        return pd.Series([parameters[step.param]] * len(index), index=index, dtype=object)
    col = (
        tags[step.tag].astype("string")
        if step.tag in tags.columns
        else pd.Series(pd.NA, index=index, dtype="string")
    )
    if step.map is not None:
        return col.map(step.map, na_action="ignore").astype(object)
    if step.number:
        text = col.str.extract(r"^\s*([-+]?\d+(?:[.,]\d+)?)", expand=False)
        num = pd.to_numeric(text.str.replace(",", ".", regex=False), errors="coerce")
        if step.multiply is not None:
            factor = parameters[step.multiply] if isinstance(step.multiply, str) else step.multiply
            num = num * float(factor)
        return num.astype(object).where(num.notna(), None)
    if step.year:
        num = pd.to_numeric(col.str.extract(r"(\d{4})", expand=False), errors="coerce")
        return num.astype(object).where(num.notna(), None)
    return col.astype(object)


def _cast(values: pd.Series, kind: str) -> pd.Series:
    if kind == "str":
        return values.astype("string")
    num = pd.to_numeric(values, errors="coerce").astype("float64")
    if kind == "float":
        return num
    return pd.Series(np.floor(num), index=values.index).astype("Int64")


def derive_fields(
    tags: pd.DataFrame, fields: Mapping[str, FieldSpec], *, parameters: Mapping[str, Any]
) -> pd.DataFrame:
    """Derive census columns from OSM tag columns by the steps of a tag mapping.

    Parameters
    ----------
    tags : pandas.DataFrame
        One string column per OSM key (missing where a feature lacks the key).
    fields : mapping of str to FieldSpec
        Census column name -> how to derive it (``fields`` of a layer in
        ``osm_tags.yaml``).
    parameters : mapping
        Parameter values by name (``osm_tags.yaml`` ``parameters``), e.g.
        ``storey_height_m`` [m].

    Returns
    -------
    pandas.DataFrame
        Index of ``tags``; one column per field, typed ``string``, ``float64`` or
        ``Int64``; missing where no step gives a value.
    """
    out = {}
    for name, spec in fields.items():
        result = pd.Series([None] * len(tags), index=tags.index, dtype=object)
        for step in spec.steps:
            values = _step_values(tags, step, parameters)
            if step.when:
                values = values.where(tags_match(tags, [step.when]), None)
            result = result.where(result.notna(), values)
        out[name] = _cast(result, spec.type)
    return pd.DataFrame(out, index=tags.index)


def _empty_layer(spec: LayerSpec, crs: str) -> gpd.GeoDataFrame:
    cols: dict[str, pd.Series] = {
        "osm_id": pd.Series(dtype="string"),
        "name": pd.Series(dtype="string"),
    }
    dtypes = {"str": "string", "float": "float64", "int": "Int64"}
    for fname, fspec in spec.fields.items():
        cols[fname] = pd.Series(dtype=dtypes[fspec.type])
    return gpd.GeoDataFrame(cols, geometry=gpd.GeoSeries([], crs=crs), crs=crs)


def select_osm_layers(
    frames: Mapping[str, gpd.GeoDataFrame], spec: OsmTagSpec
) -> dict[str, gpd.GeoDataFrame]:
    """Pick each census layer's features out of OSM layers and derive its fields.

    Parameters
    ----------
    frames : mapping of str to geopandas.GeoDataFrame
        OSM driver layers by name (``points``, ``lines``, ``multipolygons``) with one
        column per OSM key (see :func:`census.io.osm.read_osm`), all in one CRS.
    spec : OsmTagSpec
        The tag mapping.

    Returns
    -------
    dict of str to geopandas.GeoDataFrame
        One frame per layer of ``spec``: ``osm_id``, ``name``, the derived fields and
        ``geometry``, in the CRS of ``frames``; zero rows where nothing matches.
    """
    crs = next((f.crs for f in frames.values() if f.crs is not None), "EPSG:4326")
    out: dict[str, gpd.GeoDataFrame] = {}
    for name, layer in spec.layers.items():
        parts = []
        for osm_layer in layer.osm_layers:
            frame = frames.get(osm_layer)
            if frame is None or len(frame) == 0 or not layer.match:
                continue
            keep = tags_match(frame, layer.match) & ~tags_match(frame, layer.exclude)
            if keep.any():
                parts.append(frame.loc[keep])
        if not parts:
            out[name] = _empty_layer(layer, crs)
            continue
        chosen = pd.concat(parts, ignore_index=True)
        derived = derive_fields(chosen, layer.fields, parameters=spec.parameter_values)
        base = pd.DataFrame(
            {
                "osm_id": chosen["osm_id"].astype("string"),
                "name": (
                    chosen["name"].astype("string")
                    if "name" in chosen.columns
                    else pd.Series(pd.NA, index=chosen.index, dtype="string")
                ),
            }
        )
        out[name] = gpd.GeoDataFrame(
            pd.concat([base, derived], axis=1), geometry=chosen.geometry.values, crs=chosen.crs
        )
    return out


def _keep_kind(geoms: np.ndarray, kind: GeometryKind) -> np.ndarray:
    """Keep only the parts of each geometry of the wanted kind (empty when none)."""
    if kind == "any":
        return geoms
    wanted = _TYPE_IDS[kind]
    type_id = shapely.get_type_id(geoms)
    mixed = ~np.isin(type_id, wanted) & ~shapely.is_empty(geoms)
    if mixed.any():
        geoms = geoms.copy()
        for i in np.flatnonzero(mixed):
            parts = shapely.get_parts(geoms[i])
            parts = parts[np.isin(shapely.get_type_id(parts), wanted)]
            geoms[i] = (
                shapely.union_all(parts)
                if len(parts)
                else shapely.from_wkt("GEOMETRYCOLLECTION EMPTY")
            )
    return geoms


def clip_to_area(
    gdf: gpd.GeoDataFrame, area: shapely.Geometry, *, kind: GeometryKind = "any"
) -> gpd.GeoDataFrame:
    """Clip a layer to an area, keeping features whole where they lie inside it.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Layer in the same CRS as ``area`` (a metric CRS for exact areas).
    area : shapely.Geometry
        The study area (a polygon or multipolygon).
    kind : {"polygon", "line", "point", "any"}, default "any"
        Geometry kind to keep from a clipped feature: a polygon cut along the area's
        edge keeps only its polygonal parts (no stray lines or points).

    Returns
    -------
    geopandas.GeoDataFrame
        The features that overlap ``area``, cut to it; rows with nothing left dropped.
    """
    if len(gdf) == 0:
        return gdf.copy()
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    shapely.prepare(area)
    inside = shapely.contains_properly(area, geoms)
    crossing = shapely.intersects(area, geoms) & ~inside
    clipped = geoms.copy()
    if crossing.any():
        clipped[crossing] = _keep_kind(shapely.intersection(geoms[crossing], area), kind)
    keep = (inside | crossing) & ~shapely.is_empty(clipped)
    out = gdf.loc[keep].copy()
    return out.set_geometry(gpd.GeoSeries(clipped[keep], index=out.index, crs=gdf.crs))


# ---------------------------------------------------------------- study area


def _study_area(
    study_area: Path | None, *, crs: str | None, metric_crs: str
) -> tuple[gpd.GeoDataFrame, shapely.Geometry, str, Path]:
    """Return districts (metric CRS), their union, a name, and the file read."""
    from census.config import default_tree

    default = default_tree()[0]["study_area"]
    default_path = Path(default["boundaries"])
    if study_area is None:
        districts = read_districts(
            default_path, layer=default.get("layer"), crs=default.get("crs"), metric_crs=metric_crs
        )
        return (
            districts,
            districts.union_all(),
            str(default.get("name", "study area")),
            default_path,
        )
    path = Path(study_area)
    gdf = read_vector(path, crs=crs, name="study area")
    if all(c in gdf.columns for c in BOUNDARY_COLUMNS):
        districts = read_districts(path, crs=crs, metric_crs=metric_crs)
        return districts, districts.union_all(), path.stem, path
    gdf, _ = repair_geometries(gdf, layer="study area")
    gdf = to_metric(gdf, layer="study area", metric_crs=metric_crs)
    polygonal = np.isin(shapely.get_type_id(gdf.geometry.values), [3, 6])
    if len(gdf) == 0 or not polygonal.any():
        raise InputError(
            f"Study area {path} holds no polygon; give a polygon layer (or district boundaries "
            f"with columns {list(BOUNDARY_COLUMNS)})."
        )
    area = shapely.union_all(gdf.geometry.values[polygonal])
    all_districts = read_districts(
        default_path, layer=default.get("layer"), crs=default.get("crs"), metric_crs=metric_crs
    )
    parts = clip_to_area(all_districts, area, kind="polygon")
    if len(parts) == 0:
        raise InputError(
            f"Study area {path} does not overlap any district of {default_path}. Give a study "
            f"area inside them, or district boundaries with columns {list(BOUNDARY_COLUMNS)}."
        )
    parts["area_m2"] = parts.geometry.area
    logger.info("study area %s overlaps %d districts", path, len(parts))
    return parts.reset_index(drop=True), area, path.stem, path


# ---------------------------------------------------------------- rasters


def _metric_grid(
    area: shapely.Geometry, *, resolution_m: float, margin_cells: int = 2
) -> tuple[Any, int, int]:
    from rasterio.transform import from_origin

    minx, miny, maxx, maxy = area.bounds
    pad = margin_cells * resolution_m
    x0 = np.floor((minx - pad) / resolution_m) * resolution_m
    y1 = np.ceil((maxy + pad) / resolution_m) * resolution_m
    x1 = np.ceil((maxx + pad) / resolution_m) * resolution_m
    y0 = np.floor((miny - pad) / resolution_m) * resolution_m
    width = int(round((x1 - x0) / resolution_m))
    height = int(round((y1 - y0) / resolution_m))
    return from_origin(x0, y1, resolution_m, resolution_m), width, height


def _open_rasters(paths: Sequence[Path], *, what: str) -> list[Any]:
    import rasterio
    from rasterio.errors import RasterioIOError

    datasets = []
    try:
        for p in paths:
            p = Path(p)
            if not p.is_file():
                raise InputError(f"{what} file not found: {p}.")
            try:
                ds = rasterio.open(p)
            except RasterioIOError as exc:
                raise InputError(f"Cannot read {what} raster {p}: {exc}") from exc
            datasets.append(ds)
            if ds.crs is None:
                raise MissingCRSError(
                    f"{what} raster {p} has no CRS. Set it, e.g. "
                    f"`rio edit-info --crs EPSG:4326 {p}` (DEM and WorldCover tiles are "
                    "EPSG:4326), and rerun."
                )
            if ds.crs != datasets[0].crs:
                raise InputError(
                    f"{what} tiles have different CRSs: {datasets[0].name} is "
                    f"{datasets[0].crs}, {p} is {ds.crs}. Give tiles of one product."
                )
    except BaseException:
        for ds in datasets:
            ds.close()
        raise
    return datasets


def _mosaic_to_metric(
    paths: Sequence[Path],
    area: shapely.Geometry,
    *,
    what: str,
    metric_crs: str,
    resolution_m: float,
    resampling: Literal["bilinear", "nearest"],
    dtype: str,
    nodata: float,
) -> tuple[np.ndarray, Any]:
    """Mosaic tiles (rasterio.merge) over the area and reproject them to a metric grid."""
    from rasterio.merge import merge
    from rasterio.warp import Resampling, reproject, transform_bounds

    transform, width, height = _metric_grid(area, resolution_m=resolution_m)
    datasets = _open_rasters(paths, what=what)
    try:
        src_crs = datasets[0].crs
        grid_bounds = (
            transform.c,
            transform.f - height * resolution_m,
            transform.c + width * resolution_m,
            transform.f,
        )
        left, bottom, right, top = transform_bounds(
            metric_crs, src_crs, *grid_bounds, densify_pts=21
        )
        res_x = max(abs(ds.transform.a) for ds in datasets)
        res_y = max(abs(ds.transform.e) for ds in datasets)
        # snap the window to the first tile's pixel grid: rasterio.merge copies cells
        # without resampling only when the bounds fall on cell edges
        x_ref, y_ref = datasets[0].transform.c, datasets[0].transform.f
        left = x_ref + (np.floor((left - x_ref) / res_x) - 2) * res_x
        right = x_ref + (np.ceil((right - x_ref) / res_x) + 2) * res_x
        bottom = y_ref + (np.floor((bottom - y_ref) / res_y) - 2) * res_y
        top = y_ref + (np.ceil((top - y_ref) / res_y) + 2) * res_y
        tiles = [ds.bounds for ds in datasets]
        if not any(
            t.left < right and t.right > left and t.bottom < top and t.top > bottom for t in tiles
        ):
            raise InputError(
                f"None of the {what} tiles {[ds.name for ds in datasets]} covers the study area "
                f"(bounds {left:.4f}, {bottom:.4f}, {right:.4f}, {top:.4f} in {src_crs}). "
                "Download the tiles over the study area."
            )
        mosaic, mosaic_transform = merge(
            datasets, bounds=(left, bottom, right, top), nodata=nodata, dtype=dtype
        )
    finally:
        for ds in datasets:
            ds.close()
    data = np.full((height, width), nodata, dtype=dtype)
    reproject(
        source=mosaic[0],
        destination=data,
        src_transform=mosaic_transform,
        src_crs=src_crs,
        src_nodata=nodata,
        dst_transform=transform,
        dst_crs=metric_crs,
        dst_nodata=nodata,
        resampling=getattr(Resampling, resampling),
    )
    return data, transform


def _write_cog(
    path: Path,
    data: np.ndarray,
    *,
    transform: Any,
    crs: Any,
    nodata: float | None,
    overview_resampling: str,
) -> None:
    import rasterio

    profile = {
        "driver": "COG",
        "width": data.shape[1],
        "height": data.shape[0],
        "count": 1,
        "dtype": str(data.dtype),
        "crs": crs,
        "transform": transform,
        "nodata": nodata,
        "compress": "DEFLATE",
        "predictor": 3 if np.issubdtype(data.dtype, np.floating) else 2,
        "blocksize": 512,
        "overview_resampling": overview_resampling,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)


def _atlas_files(folder: Path) -> dict[tuple[str, int], Path]:
    if not folder.is_dir():
        raise InputError(f"Wind-atlas folder not found: {folder}.")
    found: dict[tuple[str, int], Path] = {}
    for p in sorted(folder.iterdir()):
        for pattern, variable in _ATLAS_NAMES:
            m = pattern.search(p.name)
            if m:
                key = (variable, int(m.group(1)))
                if key in found:
                    raise InputError(
                        f"Wind-atlas folder {folder} has two files for {variable} at "
                        f"{key[1]} m: {found[key].name} and {p.name}. Keep one."
                    )
                found[key] = p
    if not found:
        raise InputError(
            f"Wind-atlas folder {folder} holds no Global Wind Atlas GeoTIFF (names like "
            "CHN_wind-speed_100m.tif, CHN_combined-Weibull-A_100m.tif, "
            "CHN_combined-Weibull-k_100m.tif, or wind_speed_100m.tif)."
        )
    return found


def _crop_atlas(src_path: Path, dst_path: Path, area: shapely.Geometry, *, metric_crs: str) -> None:
    """Crop one atlas raster to the area's bounds (plus two cells); same CRS and grid."""
    from rasterio.warp import transform_bounds
    from rasterio.windows import Window, from_bounds

    (ds,) = _open_rasters([src_path], what="Wind-atlas")
    with ds:
        bounds = transform_bounds(metric_crs, ds.crs, *area.bounds, densify_pts=21)
        win = from_bounds(*bounds, transform=ds.transform)
        col0 = int(np.floor(win.col_off)) - 2
        row0 = int(np.floor(win.row_off)) - 2
        col1 = int(np.ceil(win.col_off + win.width)) + 2
        row1 = int(np.ceil(win.row_off + win.height)) + 2
        col0, row0 = max(col0, 0), max(row0, 0)
        col1, row1 = min(col1, ds.width), min(row1, ds.height)
        if col1 <= col0 or row1 <= row0:
            raise InputError(
                f"Wind-atlas raster {src_path} does not cover the study area (bounds "
                f"{bounds} in {ds.crs}). Download the atlas for the study area's country."
            )
        window = Window(col0, row0, col1 - col0, row1 - row0)
        data = ds.read(1, window=window)
        transform = ds.window_transform(window)
        _write_cog(
            dst_path,
            data,
            transform=transform,
            crs=ds.crs,
            nodata=ds.nodata,
            overview_resampling="bilinear",
        )


# ---------------------------------------------------------------- Overture buildings


def _overture_rooftops(
    path: Path,
    area: shapely.Geometry,
    *,
    metric_crs: str,
    parameters: Mapping[str, Any],
    note: Any,
) -> dict[str, Any]:
    """Read, clip and map an Overture buildings file into the rooftop layer."""
    area_4326 = gpd.GeoSeries([area], crs=metric_crs).to_crs("EPSG:4326").iloc[0]
    raw = read_overture_buildings(path, bbox_4326=tuple(area_4326.bounds))
    raw, _ = repair_geometries(raw, layer="Overture buildings")
    raw = raw.to_crs(metric_crs)
    raw = clip_to_area(raw, area, kind="polygon").reset_index(drop=True)
    layer, counts = map_overture_buildings(raw, parameters=parameters)
    if len(layer) == 0:
        note(
            f"Overture file {path.name} has no building inside the study area: the rooftop "
            "layer is written with zero rows. Check the --bbox of the download."
        )
    if counts["underground_dropped"]:
        note(
            f"{counts['underground_dropped']:,} Overture buildings are underground "
            "(is_underground) and were left out."
        )
    return {"layer": layer, "counts": {"inside_study_area": int(len(layer)), **counts}}


# ---------------------------------------------------------------- the gateway


@dataclass(frozen=True)
class PrepareResult:
    """What :func:`prepare_data` wrote.

    Attributes
    ----------
    out : pathlib.Path
        The output folder.
    config : pathlib.Path
        The run config ``census.toml`` (use ``census run --config``).
    sources : pathlib.Path
        ``sources.json``: source files with SHA-256, tag mapping, counts, warnings.
    layers : dict of str to pathlib.Path
        GeoPackage of each layer written (site and exclusion layers, ``districts``).
    rasters : dict of str to pathlib.Path
        ``dem``, ``landcover`` and ``wind/<variable>_<height>m`` GeoTIFFs written.
    counts : dict of str to int
        Rows of each layer.
    warnings : list of str
        Problems the user can act on (empty categories, inherited default inputs).
    """

    out: Path
    config: Path
    sources: Path
    layers: dict[str, Path] = field(default_factory=dict)
    rasters: dict[str, Path] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def _read_osm_layers(
    osm: Path, spec: OsmTagSpec, *, area: shapely.Geometry, metric_crs: str
) -> dict[str, gpd.GeoDataFrame]:
    """Read each OSM driver layer once, prefiltered by every mapping that uses it."""
    bbox_4326 = tuple(
        gpd.GeoSeries([area], crs=metric_crs).to_crs("EPSG:4326").total_bounds
        + np.array([-0.01, -0.01, 0.01, 0.01])
    )
    frames: dict[str, gpd.GeoDataFrame] = {}
    for osm_layer in OSM_LAYERS:
        users = [s for s in spec.layers.values() if osm_layer in s.osm_layers and s.match]
        if not users:
            continue
        conditions = [entry for s in users for entry in s.match]
        keys = list(dict.fromkeys(k for s in users for k in s.tag_keys()))
        polygon_keys = list(dict.fromkeys(k for s in users for entry in s.match for k in entry))
        frames[osm_layer] = read_osm(
            osm,
            layer=osm_layer,  # type: ignore[arg-type]
            conditions=conditions,
            tag_keys=keys,
            polygon_keys=polygon_keys if osm_layer == "multipolygons" else (),
            bbox=bbox_4326,  # type: ignore[arg-type]
        )
    return frames


def _facade_layer(
    written: dict[str, dict[str, Any]], layers: dict[str, gpd.GeoDataFrame]
) -> tuple[dict[str, Any], str] | None:
    """Return a switched-off ``[layers.facades]`` entry on a rooftop layer with heights.

    BIPV facades (category ``facade``) are derived from footprints and heights when a
    run loads the layer; the prepared config offers them, off, when the rooftop layer
    carries ``height_m`` for some buildings.
    """
    for name, entry in written.items():
        if entry.get("category") != "rooftop" or name not in layers:
            continue
        gdf = layers[name]
        if "height_m" not in gdf.columns or len(gdf) == 0:
            continue
        n_height = int((pd.to_numeric(gdf["height_m"], errors="coerce") > 0).sum())
        if n_height == 0:
            continue
        facade = {
            "enabled": False,
            "path": entry["path"],
            "layer": entry["layer"],
            "crs": entry["crs"],
            "category": "facade",
            "id_field": entry["id_field"],
            "synthetic": False,
        }
        msg = (
            f"census.toml has [layers.facades]: BIPV facades from the '{name}' layer's "
            f"footprints and heights ({n_height} of {len(gdf)} buildings have a height_m), "
            "switched off (enabled = false); set enabled = true to count them "
            "(docs/own-data.md, 'BIPV facades')."
        )
        return facade, msg
    return None


def _apply_within(name: str, within: WithinSpec, layers: dict[str, gpd.GeoDataFrame]) -> list[str]:
    """Keep (or move in) the features that lie inside a container of layer ``name``.

    Changes ``layers`` in place; returns notes for the user with the counts.
    """
    gdf = layers[name]
    if within.field not in gdf.columns or len(gdf) == 0:
        return []
    kind = gdf[within.field].astype("string")
    containers = gdf.geometry.values[(kind == within.container).fillna(False).to_numpy()]
    tree = shapely.STRtree(containers)

    def inside(geoms: np.ndarray) -> np.ndarray:
        hit = np.zeros(len(geoms), bool)
        if len(containers) and len(geoms):
            pts = shapely.point_on_surface(geoms)
            left, _ = tree.query(pts, predicate="within")
            hit[np.unique(left)] = True
        return hit

    loose = (kind == within.value).fillna(False).to_numpy()
    keep_loose = inside(gdf.geometry.values[loose])
    rows = np.flatnonzero(loose)
    gdf = gdf.drop(index=gdf.index[rows[~keep_loose]])
    gdf.loc[gdf[within.field] == within.value, within.field] = within.becomes
    notes = []
    if keep_loose.any():
        notes.append(
            f"OSM layer '{name}': {int(keep_loose.sum())} water features without a "
            f"'{within.container}' tag of their own lie inside a '{within.container}' outline "
            f"and count as '{within.becomes}'."
        )
    have = set(gdf["osm_id"]) if "osm_id" in gdf.columns else set()
    for other in within.take_from:
        if other not in layers or len(layers[other]) == 0:
            continue
        src = layers[other]
        moved = inside(src.geometry.values)
        if not moved.any():
            continue
        take = src[moved]
        new = take[~take["osm_id"].isin(have)] if "osm_id" in take.columns else take
        extra = gpd.GeoDataFrame(
            {
                c: new[c] if c in new.columns else pd.Series(None, index=new.index, dtype=object)
                for c in gdf.columns
                if c != gdf.geometry.name
            },
            geometry=new.geometry.values,
            crs=gdf.crs,
        )
        extra[within.field] = within.becomes
        gdf = pd.concat([gdf, extra], ignore_index=True)
        layers[other] = src[~moved].reset_index(drop=True)
        notes.append(
            f"OSM layer '{other}': {int(moved.sum())} features inside a '{within.container}' "
            f"outline of layer '{name}' are moved there (as '{within.becomes}')."
        )
    layers[name] = gpd.GeoDataFrame(gdf, geometry=gdf.geometry.name, crs=layers[name].crs)
    layers[name] = layers[name].reset_index(drop=True)
    return notes


def _describe(conditions: list[dict[str, TagValue]]) -> str:
    if not conditions:
        return "no tags (this layer is not mapped in OSM)"
    return " or ".join(
        "+".join(f"{k}={'|'.join(v) if isinstance(v, list) else v}" for k, v in entry.items())
        for entry in conditions
    )


def _write_gpkg(path: Path, name: str, gdf: gpd.GeoDataFrame, *, kind: GeometryKind) -> None:
    import pyogrio

    gdf = gdf.copy()
    for col in gdf.columns:
        if col != gdf.geometry.name and str(gdf[col].dtype) in ("string", "str", "object"):
            gdf[col] = gdf[col].astype(object).where(gdf[col].notna(), None)
    pyogrio.write_dataframe(
        gdf,
        path,
        layer=name,
        driver="GPKG",
        append=path.exists(),
        geometry_type=_GPKG_GEOMETRY[kind],
        promote_to_multi=kind in ("polygon", "line"),
    )


def _source_entry(kind: str, path: Path) -> dict[str, Any]:
    p = Path(path).resolve()
    return {
        "kind": kind,
        "path": str(p),
        "bytes": p.stat().st_size,
        "sha256": file_sha256(p),
        "attribution": _ATTRIBUTION.get(kind, ""),
    }


def _unset_defaults(config: dict[str, Any]) -> None:
    """Switch off every packaged default input the prepared data does not replace.

    The packaged default is the synthetic demo; a prepared config must never run on
    it by accident. Layers it lacks get ``enabled = false``; rasters and the wind
    atlas it lacks are unset with an empty path.
    """
    from census.config import default_tree

    default = default_tree()[0]
    for section in ("layers", "exclusions"):
        for name in default.get(section, {}):
            config[section].setdefault(name, {"enabled": False})
    terrain = config.setdefault("terrain", {})
    for key in ("dem", "landcover"):
        terrain.setdefault(key, "")
    terrain.setdefault("synthetic", False)
    resource = config.setdefault("wind", {}).setdefault("resource", {})
    resource.setdefault("atlas_dir", "")


def _inherited_from_default(config: dict[str, Any]) -> list[str]:
    """Name the inputs the generated config would take from the packaged default."""
    from census.config import default_tree

    default = default_tree()[0]
    msgs = []
    for section in ("layers", "exclusions"):
        for name, layer in default.get(section, {}).items():
            if layer.get("enabled") is False:
                continue  # off in the default too (e.g. the demo's facades): nothing inherited
            own = config.get(section, {}).get(name, {})
            if own.get("enabled") is False and not own.get("path"):
                # (a layer prepared but offered switched off, e.g. facades, has a path)
                msgs.append(
                    f"census.toml switches off the default [{section}.{name}] (enabled = false): "
                    f"the prepared data has no '{name}' layer; the rules that use it exclude "
                    "nothing. Add it to your OSM tag mapping or point census.toml at a file."
                )
            elif name not in config.get(section, {}):
                msgs.append(
                    f"census.toml does not define [{section}.{name}], so `census run` takes it "
                    f"from the packaged default ({layer.get('path')}"
                    f"{', SYNTHETIC' if layer.get('synthetic') else ''}). Add '{name}' to your "
                    "OSM tag mapping or edit census.toml."
                )
    terrain = default.get("terrain", {})
    for key, option in (("dem", "--dem"), ("landcover", "--landcover")):
        if config.get("terrain", {}).get(key) == "":
            msgs.append(
                f'No {option} given: census.toml sets [terrain] {key} = "" (none); '
                "the rules that need it are skipped or fail with a clear message."
            )
        elif terrain.get(key) and key not in config.get("terrain", {}):
            msgs.append(
                f"No {option} given: census.toml leaves [terrain] {key} to the packaged default "
                f"({terrain[key]}{', SYNTHETIC' if terrain.get('synthetic') else ''}). Pass "
                f"{option} or set [terrain] {key} in census.toml."
            )
    atlas = default.get("wind", {}).get("resource", {}).get("atlas_dir")
    if config.get("wind", {}).get("resource", {}).get("atlas_dir") == "":
        msgs.append(
            'No --wind-atlas given: census.toml sets [wind.resource] atlas_dir = "" '
            "(none); a run with wind sites then stops unless [wind.resource] "
            "station_extrapolation = true, which rests the wind yield on the weather file's "
            "station wind alone, a poor basis for a wind census."
        )
    elif atlas and "wind" not in config:
        msgs.append(
            "No --wind-atlas given: census.toml leaves [wind.resource] atlas_dir to the packaged "
            f"default ({atlas}, SYNTHETIC demo rasters). Pass --wind-atlas or set atlas_dir."
        )
    return msgs


def _landuse_layers(
    path: Path,
    area: shapely.Geometry,
    *,
    layer: str | None,
    code_field: str,
    id_field: str,
    village_field: str | None,
    crs: str | None,
    codes: Path | None,
    metric_crs: str,
) -> LanduseResult:
    """Read, clip and classify a land-use survey extract."""
    parcels = read_landuse(
        path,
        layer=layer,
        code_field=code_field,
        id_field=id_field,
        village_field=village_field,
        crs=crs,
        metric_crs=metric_crs,
    )
    parcels = clip_to_area(parcels, area, kind="polygon").reset_index(drop=True)
    return classify_landuse(parcels, load_landuse_codes(codes))


def _write_landuse(
    run: RunFolder,
    survey: LanduseResult,
    config: dict[str, Any],
    result_layers: dict[str, Path],
    layers: dict[str, gpd.GeoDataFrame],
    metric_crs: str,
    note: Any,
) -> None:
    """Write one site layer per survey category and its config entry."""
    from census.config import default_tree

    known = set(default_tree()[0].get("rules", {}).get("categories", {}))
    for category, gdf in sorted(survey.layers.items()):
        name = f"landuse_{category}"
        _write_gpkg(run.file(_SITE_FILE), name, gdf, kind="polygon")
        result_layers[name] = run.final(_SITE_FILE)
        layers[name] = gdf
        entry: dict[str, Any] = {
            "path": _SITE_FILE,
            "layer": name,
            "crs": metric_crs,
            "category": category,
            "id_field": "survey_id",
            "synthetic": False,
        }
        if category not in known:
            entry["enabled"] = False
            note(
                f"land-use layer '{name}' ({len(gdf)} parcels) has category '{category}', which "
                "has no screening rules yet; census.toml writes it with enabled = false. Add "
                f"[rules.categories.{category}] and set enabled = true to screen it."
            )
        config["layers"][name] = entry
    run.write_csv("landuse_codes_report.csv", survey.counts_by_code)


def prepare_data(
    *,
    osm: Path | None,
    overture_buildings: Path | None = None,
    dem: Sequence[Path] = (),
    landcover: Sequence[Path] = (),
    wind_atlas: Path | None = None,
    study_area: Path | None = None,
    out: Path,
    overwrite: bool = False,
    tags: Path | None = None,
    study_area_crs: str | None = None,
    metric_crs: str = METRIC_CRS,
    dem_resolution_m: float = 30.0,
    landcover_resolution_m: float = 30.0,
    landuse: Path | None = None,
    landuse_layer: str | None = "DLTB",
    landuse_code_field: str = "DLBM",
    landuse_id_field: str = "BSM",
    landuse_village_field: str | None = "ZLDWMC",
    landuse_crs: str | None = None,
    landuse_codes: Path | None = None,
) -> PrepareResult:
    """Build census layers, rasters and a run config from real data sources.

    The keyword arguments match the options of ``census data prepare``.

    Parameters
    ----------
    osm : pathlib.Path or None
        OpenStreetMap extract (``.osm.pbf``), e.g. Geofabrik's China or Zhejiang file.
        ``None`` writes every layer empty (fill them yourself).
    overture_buildings : pathlib.Path, optional
        Overture Maps buildings GeoParquet (``overturemaps download -f geoparquet
        --type=building``); it becomes the rooftop layer in place of OSM's buildings,
        with roof type, floors, height and use mapped by
        ``census/resources/overture_buildings.yaml``.
    dem : sequence of pathlib.Path
        DEM tiles of one product (SRTM, Copernicus GLO-30, ASTER GDEM), mosaicked,
        clipped to the study area's bounds and reprojected to ``metric_crs``
        (bilinear) as ``dem.tif``.
    landcover : sequence of pathlib.Path
        ESA WorldCover tiles, mosaicked and reprojected with nearest neighbour (class
        codes are never interpolated) as ``landcover.tif``.
    wind_atlas : pathlib.Path, optional
        Folder of Global Wind Atlas GeoTIFFs (wind speed, Weibull A and k by height);
        each is cropped to the study area, kept in its CRS and grid, and written as
        ``wind/{variable}_{height}m.tif``.
    study_area : pathlib.Path, optional
        Polygon layer to clip to. With columns ``adcode``, ``name_zh``, ``name_en`` it
        is used as the districts; otherwise the default districts are cut to it.
        Default: the default config's district boundaries (GCJ-02).
    out : pathlib.Path
        Output folder, written atomically.
    overwrite : bool, default False
        Replace ``out`` if it exists.
    tags : pathlib.Path, optional
        Your own OSM tag mapping (the shape of ``census/resources/osm_tags.yaml``).
    study_area_crs : str, optional
        CRS of ``study_area`` when the file has none or a wrong one (may be ``"GCJ-02"``).
    metric_crs : str, default "EPSG:4549"
        CRS of the vector layers and the DEM and land-cover grids.
    dem_resolution_m : float, default 30.0
        Cell size of ``dem.tif``. [m]
    landcover_resolution_m : float, default 30.0
        Cell size of ``landcover.tif``; WorldCover's own is 10 m (about 3 GB of memory
        in ``census run`` for all of Hangzhou, hence the coarser default). [m]
    landuse : pathlib.Path, optional
        Land-use survey extract (Third National Land Survey parcels). Its parcels become the
        site layers ``landuse_<category>`` (codes mapped by ``landuse_codes``) and replace
        the OSM site layers of the same categories; ids and villages are kept.
    landuse_layer, landuse_code_field, landuse_id_field, landuse_village_field : str
        Layer and fields of the survey (default ``DLTB``, ``DLBM``, ``BSM``, ``ZLDWMC``).
    landuse_crs : str, optional
        CRS of the survey when its file declares none.
    landuse_codes : pathlib.Path, optional
        Your own code table (the shape of ``census/resources/landuse_codes.yaml``).

    Returns
    -------
    PrepareResult

    Raises
    ------
    OutputExistsError
        ``out`` exists and ``overwrite`` is False (raised before any work).
    InputError
        A missing or unreadable source; the message names the file.
    MissingCRSError
        A raster without a CRS; the message names the file.
    """
    for name, value in (
        ("dem_resolution_m", dem_resolution_m),
        ("landcover_resolution_m", landcover_resolution_m),
    ):
        if not value > 0:
            raise ValueError(f"{name} must be > 0 [m]; got {value!r}")
    dem = [Path(p) for p in dem]
    landcover = [Path(p) for p in landcover]
    spec = load_osm_tags(tags)
    roof_layer = None
    if overture_buildings is not None:
        # Overture's buildings replace OSM's: the rooftop layers are not read from OSM
        roofs = [n for n, lay in spec.layers.items() if lay.category == "rooftop"]
        roof_layer = roofs[0] if roofs else "rooftops"
        keep = {n: lay for n, lay in spec.layers.items() if n not in roofs}
        spec = spec.model_copy(update={"layers": keep})
    given = [
        p
        for p in (osm, wind_atlas, study_area, tags, landuse, landuse_codes, overture_buildings)
        if p
    ]
    # fails fast: an existing folder, an --out holding the sources, a folder not writable
    run = RunFolder(out, overwrite=overwrite, kind="data", inputs=[*given, *dem, *landcover])
    messages: list[str] = []

    def note(msg: str) -> None:
        messages.append(msg)
        warnings.warn(msg, UserWarning, stacklevel=3)

    districts, area, area_name, area_path = _study_area(
        Path(study_area) if study_area is not None else None,
        crs=study_area_crs,
        metric_crs=metric_crs,
    )
    sources: list[dict[str, Any]] = [_source_entry("study_area", area_path)]
    if osm is not None:
        osm = Path(osm)
        frames = _read_osm_layers(osm, spec, area=area, metric_crs=metric_crs)
        sources.append(_source_entry("osm", osm))
    else:
        frames = {}
        note(
            "No OSM file given: every site and exclusion layer"
            f"{' but the Overture rooftops' if roof_layer else ''} is written empty."
        )
    selected = select_osm_layers(frames, spec)
    overture: dict[str, Any] = {}
    if overture_buildings is not None:
        overture = _overture_rooftops(
            Path(overture_buildings),
            area,
            metric_crs=metric_crs,
            parameters=spec.parameter_values,
            note=note,
        )
        sources.append(_source_entry("overture_buildings", Path(overture_buildings)))

    survey = None
    if landuse is not None:
        survey = _landuse_layers(
            Path(landuse),
            area,
            layer=landuse_layer,
            code_field=landuse_code_field,
            id_field=landuse_id_field,
            village_field=landuse_village_field,
            crs=landuse_crs,
            codes=landuse_codes,
            metric_crs=metric_crs,
        )
        sources.append(_source_entry("landuse", Path(landuse)))
        for msg in survey.notes:
            note(f"land-use survey {Path(landuse).name}: {msg}")
    replaced = set(survey.layers) if survey is not None else set()
    osm_layers = {
        name: layer
        for name, layer in spec.layers.items()
        if not (layer.output == "sites" and layer.category in replaced)
    }
    if replaced:
        dropped = sorted(set(spec.layers) - set(osm_layers))
        if dropped:
            note(
                f"the land-use survey gives the categories {sorted(replaced)}: the OSM site "
                f"layers {dropped} are not written (no double counting)."
            )

    layers: dict[str, gpd.GeoDataFrame] = {}
    for name, layer in osm_layers.items():
        gdf = selected[name]
        if len(gdf):
            gdf, _ = repair_geometries(gdf, layer=name)
            gdf = gdf.to_crs(metric_crs)
            gdf = clip_to_area(gdf, area, kind=layer.geometry_kind)
        else:
            gdf = gdf.to_crs(metric_crs)
        layers[name] = gdf.reset_index(drop=True)
        if len(gdf) == 0 and osm is not None:
            what = f"category '{layer.category}'" if layer.category else "exclusion layer"
            note(
                f"OSM layer '{name}' ({what}) is empty: no feature of {osm.name} inside the study "
                f"area has {_describe(layer.match)}. It is written with zero rows; add the data "
                f"yourself or adjust the tag mapping ({spec.origin})."
            )

    for name, layer in osm_layers.items():
        if layer.within is not None:
            for msg in _apply_within(name, layer.within, layers):
                note(msg)

    config: dict[str, Any] = {
        "study_area": {
            "name": area_name,
            "boundaries": _DISTRICT_FILE,
            "layer": "districts",
            "crs": metric_crs,
            "metric_crs": metric_crs,
            "synthetic": False,
        },
        "layers": {},
        "exclusions": {},
    }
    result_layers: dict[str, Path] = {}
    rasters: dict[str, Path] = {}
    with run:
        districts_out = districts[list(BOUNDARY_COLUMNS) + [districts.geometry.name]]
        _write_gpkg(run.file(_DISTRICT_FILE), "districts", districts_out, kind="polygon")
        result_layers["districts"] = run.final(_DISTRICT_FILE)
        if survey is not None:
            _write_landuse(run, survey, config, result_layers, layers, metric_crs, note)
        for name, layer in osm_layers.items():
            fname = _SITE_FILE if layer.output == "sites" else _EXCLUSION_FILE
            _write_gpkg(run.file(fname), name, layers[name], kind=layer.geometry_kind)
            result_layers[name] = run.final(fname)
            entry: dict[str, Any] = {"path": fname, "layer": name, "crs": metric_crs}
            if layer.output == "sites":
                entry.update(category=layer.category, id_field="osm_id")
                if layer.category_field:
                    entry.update(category_field=layer.category_field, categories=layer.categories)
                config["layers"][name] = {**entry, "synthetic": False}
            else:
                config["exclusions"][name] = {**entry, "synthetic": False}
        if roof_layer is not None:
            _write_gpkg(run.file(_SITE_FILE), roof_layer, overture["layer"], kind="polygon")
            result_layers[roof_layer] = run.final(_SITE_FILE)
            layers[roof_layer] = overture["layer"]
            config["layers"][roof_layer] = {
                "path": _SITE_FILE,
                "layer": roof_layer,
                "crs": metric_crs,
                "category": "rooftop",
                "id_field": "building_id",
                # no building use is read from Overture: no park_rooftop typing
                "category_field": "",
                "synthetic": False,
            }
        facades = _facade_layer(config["layers"], layers)
        if facades is not None:
            entry, msg = facades
            config["layers"]["facades"] = entry
            note(msg)

        terrain: dict[str, Any] = {}
        if dem:
            data, transform = _mosaic_to_metric(
                dem,
                area,
                what="DEM",
                metric_crs=metric_crs,
                resolution_m=dem_resolution_m,
                resampling="bilinear",
                dtype="float32",
                nodata=np.nan,
            )
            _write_cog(
                run.file("dem.tif"),
                data,
                transform=transform,
                crs=metric_crs,
                nodata=np.nan,
                overview_resampling="bilinear",
            )
            rasters["dem"] = run.final("dem.tif")
            terrain["dem"] = "dem.tif"
            sources.extend(_source_entry("dem", p) for p in dem)
        if landcover:
            data, transform = _mosaic_to_metric(
                landcover,
                area,
                what="Land-cover",
                metric_crs=metric_crs,
                resolution_m=landcover_resolution_m,
                resampling="nearest",
                dtype="uint8",
                nodata=0,
            )
            _write_cog(
                run.file("landcover.tif"),
                data,
                transform=transform,
                crs=metric_crs,
                nodata=0,
                overview_resampling="nearest",
            )
            rasters["landcover"] = run.final("landcover.tif")
            terrain["landcover"] = "landcover.tif"
            sources.extend(_source_entry("landcover", p) for p in landcover)
        if terrain:
            # one synthetic flag covers both rasters: only claim "real" when both are ours
            terrain["synthetic"] = not (dem and landcover)
            config["terrain"] = terrain
        if wind_atlas is not None:
            found = _atlas_files(Path(wind_atlas))
            for (variable, height), src in sorted(found.items()):
                rel = "wind/" + ATLAS_FILE_PATTERN.format(variable=variable, height=height)
                _crop_atlas(src, run.file(rel), area, metric_crs=metric_crs)
                rasters[rel.removesuffix(".tif")] = run.final(rel)
                sources.append(_source_entry("wind_atlas", src))
            heights = sorted({h for (_, h) in found})
            config["wind"] = {
                "resource": {
                    "atlas_dir": "wind",
                    "atlas_pattern": ATLAS_FILE_PATTERN,
                    "atlas_heights_m": heights,
                }
            }
        _unset_defaults(config)
        for msg in _inherited_from_default(config):
            note(msg)

        import tomli_w

        header = (
            "# Written by `census data prepare` on "
            f"{dt.datetime.now(dt.UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}.\n"
            "# Run it with: census run --config census.toml\n"
            "# Paths are relative to this file. Sources and attribution: sources.json.\n\n"
        )
        run.write_text("census.toml", header + tomli_w.dumps(config))
        counts = {name: int(len(gdf)) for name, gdf in layers.items()}
        counts["districts"] = int(len(districts))
        run.write_json(
            "sources.json",
            {
                "created_utc": dt.datetime.now(dt.UTC).isoformat(),
                "sources": sources,
                "tag_mapping": spec.origin,
                "tag_parameters": spec.ledger,
                **({"overture_buildings": overture["counts"]} if overture else {}),
                "layers": {
                    name: {"file": str(result_layers[name].name), "rows": counts[name]}
                    for name in result_layers
                },
                "warnings": messages,
            },
        )
    logger.info("prepared census inputs in %s", run.path)
    return PrepareResult(
        out=run.path,
        config=run.final("census.toml"),
        sources=run.final("sources.json"),
        layers=result_layers,
        rasters=rasters,
        counts=counts,
        warnings=messages,
    )
