r"""Overture Maps buildings (GeoParquet) -> the census rooftop layer.

The ``overturemaps`` command line tool downloads the buildings of a bounding box as
GeoParquet::

    overturemaps download --bbox=WEST,SOUTH,EAST,NORTH -f geoparquet --type=building \\
        -o buildings.parquet

Each row is one building: ``id`` (GERS id), ``geometry`` (WKB, WGS84), ``bbox``
(struct), ``names`` (struct with ``primary``), ``sources`` (list of structs with
``dataset``), ``subtype``, ``class``, ``height`` [m], ``num_floors``, ``roof_shape``,
``roof_height`` [m], ``is_underground`` and more (schema reference:
docs.overturemaps.org/schema/reference/buildings/building). :func:`read_overture_buildings`
reads such a file and :func:`map_overture_buildings` maps it onto the columns of the
census rooftop layer (``building_id``, ``name``, ``height_m``, ``floors``, ``roof_type``,
``roof_pitch_deg``, ``use``), keeping Overture's own values beside them. The mapping is
data: ``census/resources/overture_buildings.yaml``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import yaml

from census.exceptions import InputError
from census.resources import read_text

__all__ = [
    "OVERTURE_ATTRIBUTION",
    "OVERTURE_COLUMNS",
    "load_overture_mapping",
    "map_overture_buildings",
    "read_overture_buildings",
]

logger = logging.getLogger(__name__)

OVERTURE_ATTRIBUTION = (
    "© Overture Maps Foundation, buildings theme, under the ODbL 1.0; includes © OpenStreetMap "
    "contributors and other sources named per building in 'source_datasets' "
    "(docs.overturemaps.org/attribution)"
)

OVERTURE_COLUMNS = (
    "id",
    "geometry",
    "bbox",
    "names",
    "sources",
    "subtype",
    "class",
    "height",
    "num_floors",
    "roof_shape",
    "roof_height",
    "is_underground",
    "type",
)
"""Columns of an Overture building file that census reads (those present)."""

_DOWNLOAD_HINT = (
    "Download buildings with: overturemaps download --bbox=WEST,SOUTH,EAST,NORTH "
    "-f geoparquet --type=building -o buildings.parquet"
)


def load_overture_mapping() -> dict[str, Any]:
    """Load ``census/resources/overture_buildings.yaml`` (roof type, rise, use tables)."""
    tree = yaml.safe_load(read_text("overture_buildings.yaml"))
    for key in ("roof_type", "roof_rise_over", "use_from_class", "use_from_subtype"):
        if not isinstance(tree.get(key), dict):  # pragma: no cover - packaged file
            raise InputError(f"overture_buildings.yaml: '{key}' must be a mapping")
    return tree


def _geo_crs(metadata: Mapping[bytes, bytes] | None, geometry: str) -> Any:
    """CRS of a GeoParquet geometry column (GeoParquet's default: OGC:CRS84)."""
    if not metadata or b"geo" not in metadata:
        return "OGC:CRS84"
    try:
        geo = json.loads(metadata[b"geo"])
        col = geo.get("columns", {}).get(geometry, {})
    except (ValueError, AttributeError):
        return "OGC:CRS84"
    encoding = str(col.get("encoding", "WKB")).upper()
    if encoding != "WKB":
        raise InputError(
            f"GeoParquet geometry encoding {encoding!r} is not supported; write WKB "
            "(the overturemaps tool does)."
        )
    crs = col.get("crs", "OGC:CRS84")
    return "OGC:CRS84" if crs is None and "crs" not in col else crs


def read_overture_buildings(
    path: str | Path, *, bbox_4326: tuple[float, float, float, float] | None = None
) -> gpd.GeoDataFrame:
    """Read an Overture buildings GeoParquet file.

    Parameters
    ----------
    path : str or pathlib.Path
        File written by ``overturemaps download -f geoparquet --type=building``.
    bbox_4326 : tuple of float, optional
        ``(west, south, east, north)`` in degrees; rows whose ``bbox`` lies wholly
        outside are skipped before their geometry is decoded. [deg]

    Returns
    -------
    geopandas.GeoDataFrame
        The columns of :data:`OVERTURE_COLUMNS` that the file has (``names`` and
        ``sources`` flattened to ``name`` and ``source_datasets``), in the file's CRS
        (WGS84 for Overture).

    Raises
    ------
    InputError
        Missing or unreadable file, not Parquet, no ``id``/``geometry`` column, or
        only ``building_part`` features; the message names the file and the fix.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    path = Path(path).expanduser()
    if not path.is_file():
        raise InputError(f"Overture buildings file not found: {path}. {_DOWNLOAD_HINT}")
    try:
        schema = pq.read_schema(path)
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"{path} is not a (Geo)Parquet file: {exc}. {_DOWNLOAD_HINT}") from None
    missing = [c for c in ("id", "geometry") if c not in schema.names]
    if missing:
        raise InputError(
            f"{path} has no column(s) {missing} of Overture's building schema (it has "
            f"{schema.names[:12]}). {_DOWNLOAD_HINT}"
        )
    if not pa.types.is_binary(schema.field("geometry").type) and not pa.types.is_large_binary(
        schema.field("geometry").type
    ):
        raise InputError(
            f"{path}: column 'geometry' is {schema.field('geometry').type}, not WKB binary."
        )
    crs = _geo_crs(schema.metadata, "geometry")
    columns = [c for c in OVERTURE_COLUMNS if c in schema.names]
    try:
        table = pq.read_table(path, columns=columns)
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"Cannot read {path}: {exc}") from None
    if "type" in table.column_names:
        kinds = set(pc.unique(table["type"]).to_pylist()) - {None}
        if kinds and "building" not in kinds:
            raise InputError(
                f"{path} holds Overture features of type {sorted(kinds)}, not 'building'. "
                + _DOWNLOAD_HINT
            )
        if kinds - {"building"}:
            table = table.filter(pc.equal(table["type"], "building"))
    if bbox_4326 is not None and "bbox" in table.column_names and table.num_rows:
        west, south, east, north = bbox_4326
        box = table["bbox"]
        outside = pc.or_(
            pc.or_(
                pc.less(pc.struct_field(box, "xmax"), west),
                pc.greater(pc.struct_field(box, "xmin"), east),
            ),
            pc.or_(
                pc.less(pc.struct_field(box, "ymax"), south),
                pc.greater(pc.struct_field(box, "ymin"), north),
            ),
        )
        table = table.filter(pc.invert(pc.fill_null(outside, False)))
    frame: dict[str, Any] = {}
    for col in table.column_names:
        if col in ("geometry", "bbox", "names", "sources", "type"):
            continue
        frame[col] = table[col].to_pandas()
    n = table.num_rows
    if "names" in table.column_names:
        frame["name"] = pc.struct_field(table["names"], "primary").to_pandas().astype("string")
    if "sources" in table.column_names:
        frame["source_datasets"] = _source_datasets(table["sources"], n)
    geoms = shapely.from_wkb(np.asarray(table["geometry"].to_numpy(zero_copy_only=False)))
    return gpd.GeoDataFrame(pd.DataFrame(frame, index=pd.RangeIndex(n)), geometry=geoms, crs=crs)


def _source_datasets(sources: Any, n: int) -> pd.Series:
    """``sources[].dataset`` of each row, distinct, joined with '; '."""
    import pyarrow.compute as pc

    sources = sources.combine_chunks()
    flat = pc.list_flatten(sources)
    if len(flat) == 0:
        return pd.Series(pd.NA, index=pd.RangeIndex(n), dtype="string")
    parent = pc.list_parent_indices(sources).to_numpy()
    dataset = pc.struct_field(flat, "dataset").to_pandas()
    joined = (
        pd.DataFrame({"row": parent, "dataset": dataset})
        .dropna()
        .drop_duplicates()
        .groupby("row")["dataset"]
        .agg("; ".join)
    )
    return joined.reindex(pd.RangeIndex(n)).astype("string")


def _footprint_width_m(geoms: np.ndarray) -> np.ndarray:
    """Return each footprint's least width (GEOS minimum diameter) [m].

    For a rectangle this is its short side. GEOS's minimum width is used rather than
    the short side of ``oriented_envelope``, which loses about 1e-5 relative at
    projected coordinates of 10^6 m.
    """
    return shapely.length(shapely.minimum_width(geoms))


def map_overture_buildings(
    buildings: gpd.GeoDataFrame,
    *,
    parameters: Mapping[str, Any],
    mapping: Mapping[str, Any] | None = None,
) -> tuple[gpd.GeoDataFrame, dict[str, int]]:
    """Map Overture building fields onto the census rooftop layer.

    Parameters
    ----------
    buildings : geopandas.GeoDataFrame
        Output of :func:`read_overture_buildings`, already in a metric CRS (the roof
        pitch from ``roof_height`` needs the footprint's width in metres).
    parameters : mapping
        ``storey_height_m`` [m], ``pitched_roof_pitch_deg`` [deg] and
        ``flat_roof_pitch_deg`` [deg] (the parameters of ``osm_tags.yaml``).
    mapping : mapping, optional
        The tables of ``overture_buildings.yaml``; default the packaged file.

    Returns
    -------
    geopandas.GeoDataFrame
        ``building_id``, ``name``, ``height_m`` [m], ``floors``, ``roof_type``,
        ``roof_pitch_deg`` [deg], ``use``, and Overture's ``roof_shape``,
        ``roof_height_m`` [m], ``overture_class``, ``overture_subtype``,
        ``source_datasets``; same CRS and row order, underground buildings dropped.
    dict of str to int
        Counts for the provenance: ``read``, ``underground_dropped``,
        ``height_from_floors``, ``pitch_from_roof_height``, ``use_unknown``.

    Raises
    ------
    CRSError
        ``buildings`` is not in a projected CRS in metres.
    """
    from census.crs import require_projected

    require_projected(buildings, layer="Overture buildings")
    mapping = load_overture_mapping() if mapping is None else mapping
    n_read = len(buildings)

    def col(name: str, dtype: str) -> pd.Series:
        if name in buildings.columns:
            return buildings[name].astype(dtype)
        return pd.Series(pd.NA, index=buildings.index, dtype=dtype)

    underground = col("is_underground", "boolean").fillna(False).to_numpy(dtype=bool)
    if mapping.get("drop_underground", True) and underground.any():
        buildings = buildings.loc[~underground]
    shape = col("roof_shape", "string").str.strip().str.lower()
    roof_type = shape.map(mapping["roof_type"], na_action="ignore").astype("string")
    roof_type = roof_type.fillna("flat")
    height = col("height", "Float64").astype("float64")
    floors = col("num_floors", "Float64")
    from_floors = height.isna() & floors.notna()
    height = height.where(~from_floors, floors.astype("float64") * parameters["storey_height_m"])
    roof_height = col("roof_height", "Float64").astype("float64")
    pitched = (roof_type == "pitched").to_numpy()
    pitch = np.where(pitched, parameters["pitched_roof_pitch_deg"], 0.0).astype(float)
    pitch[~pitched] = parameters["flat_roof_pitch_deg"]
    rise = shape.map(mapping["roof_rise_over"]).astype("Float64")
    rise = rise.fillna(float(mapping["roof_rise_over"]["default"])).astype("float64")
    known = pitched & (roof_height.to_numpy() > 0)
    if known.any():
        width = _footprint_width_m(np.asarray(buildings.geometry.values, dtype=object)[known])
        run_m = rise.to_numpy()[known] * width
        derived = np.degrees(np.arctan2(roof_height.to_numpy()[known], run_m))
        good = np.isfinite(derived) & (derived > 0) & (derived < 90)
        idx = np.flatnonzero(known)[good]
        pitch[idx] = derived[good]
        known[np.flatnonzero(known)[~good]] = False
    klass = col("class", "string").str.strip().str.lower()
    subtype = col("subtype", "string").str.strip().str.lower()
    use = klass.map(mapping["use_from_class"], na_action="ignore").astype("string")
    use = use.fillna(subtype.map(mapping["use_from_subtype"], na_action="ignore"))
    out = pd.DataFrame(
        {
            "building_id": buildings["id"].astype("string"),
            "name": col("name", "string"),
            "height_m": height,
            "floors": floors.round().astype("Int64"),
            "roof_type": roof_type,
            "roof_pitch_deg": pitch,
            "use": use.astype("string"),
            "roof_shape": shape,
            "roof_height_m": roof_height,
            "overture_class": klass,
            "overture_subtype": subtype,
            "source_datasets": col("source_datasets", "string"),
        },
        index=buildings.index,
    )
    counts = {
        "read": int(n_read),
        "underground_dropped": int(underground.sum()) if mapping.get("drop_underground") else 0,
        "height_from_floors": int(from_floors.sum()),
        "pitch_from_roof_height": int(known.sum()),
        "use_unknown": int(out["use"].isna().sum()),
    }
    result = gpd.GeoDataFrame(out, geometry=buildings.geometry.values, crs=buildings.crs)
    return result.reset_index(drop=True), counts
