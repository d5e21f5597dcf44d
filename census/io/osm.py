"""OpenStreetMap PBF extracts, read through GDAL's OSM driver (via pyogrio).

GDAL's OSM driver exposes a ``.osm.pbf`` file as layers ``points``, ``lines``,
``multipolygons`` (closed ways and multipolygon relations), ``multilinestrings`` and
``other_relations``. A few common keys are columns (``building``, ``landuse``,
``natural``, ``highway`` ...; the list is GDAL's ``osmconf.ini``); every other tag
is packed into the ``other_tags`` column as PostgreSQL hstore text,
``"key"=>"value","key2"=>"value2"``. This module reads a layer with an attribute
prefilter, parses the wanted keys of ``other_tags`` with vectorized string
operations, and tests tag conditions on the result. No PBF parsing happens here:
GDAL does it.

Tag conditions, used by :func:`tags_match` and :func:`tag_filter_sql`, are a list
of mappings ``{key: value}``: a feature matches when all keys of any one mapping
match. A value is a string (exact), a list of strings (any of them) or ``"*"``
(the key is present with any value).
"""

from __future__ import annotations

import logging
import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from census.exceptions import InputError

__all__ = [
    "OSM_LAYERS",
    "TagConditions",
    "osm_layer_fields",
    "parse_other_tags",
    "read_osm",
    "tag_filter_sql",
    "tags_match",
]

logger = logging.getLogger(__name__)

OSM_LAYERS: tuple[str, ...] = ("points", "lines", "multipolygons")
"""Layers of GDAL's OSM driver that census reads."""

OsmLayer = Literal["points", "lines", "multipolygons"]

TagConditions = Sequence[Mapping[str, str | Sequence[str]]]
"""Tag conditions: any of the mappings, all keys of a mapping (see the module docstring)."""

ANY_VALUE = "*"
"""Condition value meaning "the key is present with any value"."""

_ID_PREFIX = {"points": "n", "lines": "w"}

# one value of an hstore pair: characters other than quote and backslash, or an escape
_HSTORE_TEXT = r'(?:[^"\\]|\\.)*'
_HSTORE_PAIR = re.compile(rf'"(?P<key>{_HSTORE_TEXT})"=>"(?P<value>{_HSTORE_TEXT})"')


def _hstore_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _hstore_unescape(values: pd.Series) -> pd.Series:
    return values.str.replace(r"\\(.)", r"\1", regex=True)


def parse_other_tags(other_tags: pd.Series, *, keys: Iterable[str] | None = None) -> pd.DataFrame:
    """Parse the hstore ``other_tags`` column of GDAL's OSM driver into columns.

    Parameters
    ----------
    other_tags : pandas.Series
        Text like ``"roof:shape"=>"gabled","building:levels"=>"3"`` (missing allowed).
    keys : iterable of str, optional
        OSM keys to extract, one column each (missing where a feature lacks the key).
        ``None`` extracts every key present (one column per distinct key; avoid on
        large extracts).

    Returns
    -------
    pandas.DataFrame
        Index of ``other_tags``; one string column per key, named by the OSM key.

    Examples
    --------
    >>> s = pd.Series(['"roof:shape"=>"gabled","building:levels"=>"3"', None])
    >>> parse_other_tags(s, keys=["building:levels"])["building:levels"].tolist()
    ['3', <NA>]
    """
    text = other_tags.astype("string")
    if keys is None:
        pairs = text.str.extractall(_HSTORE_PAIR)
        if pairs.empty:
            return pd.DataFrame(index=other_tags.index)
        pairs["key"] = _hstore_unescape(pairs["key"])
        pairs["value"] = _hstore_unescape(pairs["value"])
        pairs = pairs.reset_index(level="match", drop=True).reset_index()
        pairs = pairs.drop_duplicates(subset=["index", "key"], keep="first")
        wide = pairs.pivot(index="index", columns="key", values="value")
        wide.columns.name = None
        return wide.reindex(other_tags.index).astype("string")
    out = {}
    for key in dict.fromkeys(keys):
        # anchored at the start or after a pair's separating comma: inside a value every
        # quote is escaped, so ',"key"=>"' cannot occur there
        pattern = rf'(?:^|,)"{re.escape(_hstore_escape(key))}"=>"({_HSTORE_TEXT})"'
        out[key] = _hstore_unescape(text.str.extract(pattern, expand=False))
    return pd.DataFrame(out, index=other_tags.index).astype("string")


def _condition_values(value: str | Sequence[str]) -> list[str] | None:
    """Return the accepted values of a condition, or None for "any value"."""
    if isinstance(value, str):
        return None if value == ANY_VALUE else [value]
    return [str(v) for v in value]


def tags_match(tags: pd.DataFrame, conditions: TagConditions) -> np.ndarray:
    """Return which rows of a tag table satisfy tag conditions.

    Parameters
    ----------
    tags : pandas.DataFrame
        One column per OSM key (string values, missing where absent), e.g. from
        :func:`read_osm`. A key without a column counts as absent everywhere.
    conditions : sequence of mapping
        Any of the mappings; all keys of a mapping (see the module docstring).

    Returns
    -------
    numpy.ndarray of bool
        One value per row. An empty ``conditions`` matches nothing.
    """
    hit = np.zeros(len(tags), dtype=bool)
    for entry in conditions:
        ok = np.ones(len(tags), dtype=bool)
        for key, value in entry.items():
            if key not in tags.columns:
                ok[:] = False
                break
            col = tags[key].astype("string")
            accepted = _condition_values(value)
            present = col.notna().to_numpy()
            if accepted is None:
                ok &= present
            else:
                ok &= col.isin(accepted).fillna(False).to_numpy(dtype=bool) & present
        hit |= ok
    return hit


def _sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def tag_filter_sql(conditions: TagConditions, *, fields: Iterable[str]) -> str | None:
    """Build an OGR SQL attribute filter that keeps every feature the conditions match.

    Keys that are columns of the layer (``fields``) are tested directly; other keys
    are looked for in ``other_tags`` with ``LIKE``. The filter may keep more than the
    conditions match (OGR's ``LIKE`` ignores case and treats ``_`` as a wildcard); test
    the result with :func:`tags_match`.

    Parameters
    ----------
    conditions : sequence of mapping
        Tag conditions.
    fields : iterable of str
        Column names of the OSM layer (see :func:`osm_layer_fields`).

    Returns
    -------
    str or None
        The WHERE clause, or ``None`` when ``conditions`` is empty.
    """
    fields = set(fields)
    clauses = []
    for entry in conditions:
        parts = []
        for key, value in entry.items():
            accepted = _condition_values(value)
            if key in fields:
                column = '"' + key.replace('"', '""') + '"'
                if accepted is None:
                    parts.append(f"{column} IS NOT NULL")
                else:
                    parts.append(f"{column} IN ({', '.join(_sql_text(v) for v in accepted)})")
            else:
                stem = '%"' + _hstore_escape(key) + '"=>'
                if accepted is None:
                    parts.append(f"other_tags LIKE {_sql_text(stem + '%')}")
                else:
                    likes = [
                        f"other_tags LIKE {_sql_text(stem + chr(34) + _hstore_escape(v) + '%')}"
                        for v in accepted
                    ]
                    parts.append("(" + " OR ".join(likes) + ")")
        if parts:
            clauses.append("(" + " AND ".join(parts) + ")")
    return " OR ".join(clauses) if clauses else None


def _check_osm_file(path: Path) -> Path:
    import pyogrio

    if not path.is_file():
        raise InputError(f"OSM file not found: {path}. Download an extract (docs/data-sources.md).")
    if "OSM" not in pyogrio.list_drivers():
        raise InputError(
            f"Cannot read {path}: the GDAL that pyogrio uses ({pyogrio.__gdal_version_string__}) "
            "has no OSM driver. Install pyogrio from PyPI (its wheels include it): "
            "pip install --force-reinstall pyogrio"
        )
    return path


def _osmconf(polygon_keys: Iterable[str], folder: Path) -> Path:
    """Write GDAL's osmconf.ini with extra keys that make closed ways polygons."""
    import pyogrio

    data = pyogrio.get_gdal_data_path()
    source = Path(data) / "osmconf.ini" if data else None
    if source is None or not source.is_file():
        raise InputError(
            "GDAL's osmconf.ini was not found (pyogrio.get_gdal_data_path() = "
            f"{data!r}); set the GDAL_DATA environment variable to GDAL's data folder."
        )
    text = source.read_text(encoding="utf-8")
    match = re.search(r"^closed_ways_are_polygons=(.*)$", text, flags=re.M)
    if match is None:  # pragma: no cover - every GDAL osmconf.ini has the line
        raise InputError(f"{source} has no closed_ways_are_polygons line; cannot extend it.")
    have = match.group(1).strip().split(",")
    extra = [k for k in dict.fromkeys(polygon_keys) if k not in have and "," not in k]
    line = "closed_ways_are_polygons=" + ",".join(have + extra)
    target = folder / "osmconf.ini"
    target.write_text(text[: match.start()] + line + text[match.end() :], encoding="utf-8")
    return target


def osm_layer_fields(path: str | Path, layer: OsmLayer) -> list[str]:
    """Return the attribute columns GDAL's OSM driver gives a layer of a file.

    Parameters
    ----------
    path : str or pathlib.Path
        ``.osm.pbf`` (or ``.osm``) file.
    layer : {"points", "lines", "multipolygons"}
    """
    import pyogrio

    path = _check_osm_file(Path(path))
    try:
        info = pyogrio.read_info(path, layer=layer)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise InputError(f"Cannot read OSM layer '{layer}' from {path}: {exc}") from exc
    return [str(f) for f in info["fields"]]


def read_osm(
    path: str | Path,
    *,
    layer: OsmLayer,
    conditions: TagConditions | None = None,
    tag_keys: Iterable[str] = (),
    polygon_keys: Iterable[str] = (),
    bbox: tuple[float, float, float, float] | None = None,
) -> gpd.GeoDataFrame:
    """Read one layer of an OSM extract with its tags as columns.

    Parameters
    ----------
    path : str or pathlib.Path
        ``.osm.pbf`` extract (e.g. from Geofabrik).
    layer : {"points", "lines", "multipolygons"}
        Layer of GDAL's OSM driver.
    conditions : sequence of mapping, optional
        Tag conditions used as a prefilter in GDAL (see :func:`tag_filter_sql`); the
        result may hold more features than they match. ``None`` reads every feature.
    tag_keys : iterable of str
        Keys to parse out of ``other_tags`` into columns (keys that are already
        columns are left as they are).
    polygon_keys : iterable of str
        Extra keys that make a closed way a polygon in the ``multipolygons`` layer
        (GDAL's list covers building, landuse, natural ... but not e.g. ``wetland``,
        ``water`` or ``disused:landuse``).
    bbox : (float, float, float, float), optional
        Only features intersecting this box (minx, miny, maxx, maxy) in EPSG:4326. [deg]

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326. Columns ``osm_id`` (``"n…"``, ``"w…"`` or ``"r…"``: node, way or
        relation id), GDAL's columns for the layer, one string column per
        ``tag_keys`` entry, ``other_tags`` and ``geometry``.

    Raises
    ------
    InputError
        Missing file, no OSM driver, or a file GDAL cannot read; the message names the file.
    """
    import pyogrio

    path = _check_osm_file(Path(path))
    if layer not in OSM_LAYERS:
        raise ValueError(f"layer must be one of {OSM_LAYERS}; got {layer!r}")
    with tempfile.TemporaryDirectory(prefix="census-osm-") as tmp:
        options = {}
        if layer == "multipolygons":
            options["CONFIG_FILE"] = str(_osmconf(polygon_keys, Path(tmp)))
        try:
            info = pyogrio.read_info(path, layer=layer, **options)
            fields = [str(f) for f in info["fields"]]
            where = tag_filter_sql(conditions, fields=fields) if conditions is not None else None
            if conditions is not None and where is None:
                where = "1 = 0"
            gdf = pyogrio.read_dataframe(
                path, layer=layer, where=where, bbox=bbox, use_arrow=True, **options
            )
        except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
            raise InputError(
                f"Cannot read OSM layer '{layer}' from {path}: {exc}. Is it an OSM PBF file?"
            ) from exc
    if gdf.crs is None:  # the OSM driver always declares WGS84
        gdf = gdf.set_crs("EPSG:4326")
    if "other_tags" not in gdf.columns:
        gdf["other_tags"] = pd.Series(pd.NA, index=gdf.index, dtype="string")
    if layer == "multipolygons":
        rel = gdf["osm_id"].astype("string")
        way = gdf["osm_way_id"].astype("string")
        osm_id = ("r" + rel).fillna("w" + way)
        gdf = gdf.drop(columns=["osm_id", "osm_way_id"])
    else:
        osm_id = _ID_PREFIX[layer] + gdf["osm_id"].astype("string")
        gdf = gdf.drop(columns=["osm_id"])
    wanted = [k for k in dict.fromkeys(tag_keys) if k not in gdf.columns]
    parsed = parse_other_tags(gdf["other_tags"], keys=wanted)
    attrs = gdf.drop(columns=[gdf.geometry.name])
    attrs = attrs.astype({c: "string" for c in attrs.columns if attrs[c].dtype == object})
    frame = pd.concat([pd.DataFrame({"osm_id": osm_id}), attrs, parsed], axis=1)
    logger.info("read %d features from OSM layer %s of %s", len(frame), layer, path)
    return gpd.GeoDataFrame(frame, geometry=gdf.geometry.values, crs=gdf.crs)
