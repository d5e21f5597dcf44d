"""Land-use survey parcels (Third National Land Survey, 三调) into census site layers.

A survey extract holds one polygon per parcel (layer ``DLTB``) with its GB/T 21010-2017
land-use code (``DLBM``), class name (``DLMC``), feature id (``BSM``) and owning village
(``ZLDWMC``). :func:`read_landuse` reads it and :func:`classify_landuse` maps each code to
a census category through ``census/resources/landuse_codes.yaml``; the feature id and the
village travel with every site.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict

from census.crs import METRIC_CRS
from census.exceptions import ConfigError, SchemaError
from census.io.vector import read_vector, repair_geometries, to_metric
from census.resources import read_text

__all__ = [
    "LanduseCode",
    "LanduseCodes",
    "LanduseResult",
    "classify_landuse",
    "load_landuse_codes",
    "normalize_codes",
    "read_landuse",
]

logger = logging.getLogger(__name__)

LANDUSE_COLUMNS = (
    "survey_id",
    "landuse_code",
    "landuse_name",
    "village",
    "land_use",
    "forest_type",
)
"""Columns every site layer written from a land-use survey carries (besides geometry)."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LanduseCode(_Model):
    """One survey code that becomes a candidate site."""

    category: str
    name_zh: str
    land_use: str
    forest_type: str | None = None
    attributes: dict[str, str | None] = {}
    source: str


class NeverCode(_Model):
    """A survey code that is never a candidate site."""

    name_zh: str
    source: str


class LanduseCodes(_Model):
    """The code table: codes that become sites and codes that never do."""

    source: str
    codes: dict[str, LanduseCode]
    never: dict[str, NeverCode] = {}


def load_landuse_codes(path: str | Path | None = None) -> LanduseCodes:
    """Read the land-use code table.

    Parameters
    ----------
    path : str or pathlib.Path, optional
        A YAML file of the shape of ``census/resources/landuse_codes.yaml``; default that file.

    Returns
    -------
    LanduseCodes

    Raises
    ------
    ConfigError
        If the file does not have the expected shape, or a code is both a site and never one.
    """
    src = Path(path) if path is not None else "census/resources/landuse_codes.yaml"
    try:
        text = Path(path).read_text(encoding="utf-8") if path else read_text("landuse_codes.yaml")
        tree = yaml.safe_load(text)
        table = LanduseCodes.model_validate(tree)
    except (OSError, yaml.YAMLError, ValueError) as exc:
        raise ConfigError(
            f"land-use code table {src} could not be read: {exc}. It needs `source`, `codes` "
            "(code -> category, name_zh, land_use, source) and optionally `never`."
        ) from exc
    both = sorted(set(table.codes) & set(table.never))
    if both:
        raise ConfigError(
            f"land-use code table {src}: code(s) {both} are listed both as sites and as never "
            "sites; keep each code in one list."
        )
    return table


def normalize_codes(values: pd.Series) -> pd.Series:
    """Return survey codes as 4-digit strings with an optional letter suffix.

    Survey extracts often store ``DLBM`` as an integer (``301`` for ``0301``) or with
    spaces; this gives ``"0301"``, ``"1104A"``, ``"0307K"``. Missing values stay missing.

    Parameters
    ----------
    values : pandas.Series
        Codes as read (str, int or float).

    Returns
    -------
    pandas.Series of str (object), with ``None`` where the code is missing.
    """

    def one(v: Any) -> str | None:
        if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
            return None
        if isinstance(v, (int, np.integer)) or (isinstance(v, float) and float(v).is_integer()):
            return f"{int(v):04d}"
        s = str(v).strip().upper()
        if not s:
            return None
        digits = len(s) - len(s.lstrip("0123456789"))
        if 0 < digits < 4:
            s = s[:digits].zfill(4) + s[digits:]
        return s

    out = values.map(one).astype(object)
    return out.where(out.notna(), None)


@dataclass
class LanduseResult:
    """Site layers made from a land-use survey, and what happened to every parcel."""

    layers: dict[str, gpd.GeoDataFrame]
    counts_by_code: pd.DataFrame
    """Per code: ``landuse_code``, ``name_zh``, ``outcome``, ``parcels``."""
    notes: list[str] = field(default_factory=list)


def read_landuse(
    path: str | Path,
    *,
    layer: str | None = "DLTB",
    code_field: str = "DLBM",
    id_field: str = "BSM",
    village_field: str | None = "ZLDWMC",
    name_field: str | None = "DLMC",
    crs: str | None = None,
    metric_crs: str = METRIC_CRS,
) -> gpd.GeoDataFrame:
    """Read a land-use survey layer into the metric CRS with census column names.

    Parameters
    ----------
    path : str or pathlib.Path
        GeoPackage, File Geodatabase, Shapefile ... holding the parcels.
    layer : str, optional
        Layer name; default ``"DLTB"``; ``None`` for single-layer files.
    code_field, id_field, village_field, name_field : str
        Source columns of the land-use code, the feature id, the village and the class name
        (the last two optional: ``None`` or absent leaves them empty).
    crs : str, optional
        CRS to assume when the file has none (e.g. ``"EPSG:4528"``, CGCS2000 / 3-degree GK
        zone 40, which survey extracts of Hangzhou often use).
    metric_crs : str, default "EPSG:4549"

    Returns
    -------
    geopandas.GeoDataFrame
        In ``metric_crs``: ``survey_id`` (the survey's feature id, e.g. BSM, as text),
        ``landuse_code``
        (normalised, see :func:`normalize_codes`), ``landuse_name``, ``village`` and
        ``geometry``; invalid geometries repaired.

    Raises
    ------
    SchemaError
        If the code or id field is missing (the message lists the fields present), or ids
        repeat.
    """
    path = Path(path)
    name = f"land-use survey {path.name}" + (f" layer '{layer}'" if layer else "")
    gdf = read_vector(path, layer=layer, crs=crs, name=name)
    present = [c for c in gdf.columns if c != gdf.geometry.name]
    for option, column in (("--code-field", code_field), ("--id-field", id_field)):
        if column not in gdf.columns:
            raise SchemaError(
                f"{name} has no field '{column}'; its fields are {present}. Name the right one "
                f"with {option} (survey extracts use DLBM for the code and BSM for the id)."
            )
    out = gpd.GeoDataFrame(
        {
            "survey_id": gdf[id_field].astype("string").str.strip().astype(object),
            "landuse_code": normalize_codes(gdf[code_field]),
            "landuse_name": _optional(gdf, name_field),
            "village": _optional(gdf, village_field),
        },
        geometry=gdf.geometry.values,
        crs=gdf.crs,
    )
    missing_id = out["survey_id"].isna() | (out["survey_id"] == "")
    if missing_id.any():
        rows = out.index[missing_id.to_numpy()][:5].tolist()
        raise SchemaError(
            f"{name}: field '{id_field}' is empty on {int(missing_id.sum())} parcel(s) (first "
            f"rows {rows}); every parcel needs its survey id. Fill it or choose another "
            "--id-field."
        )
    dup = out["survey_id"].duplicated(keep=False)
    if dup.any():
        ids = sorted(out.loc[dup, "survey_id"].unique().tolist())[:5]
        raise SchemaError(
            f"{name}: field '{id_field}' repeats for {int(dup.sum())} parcels (e.g. {ids}); "
            "ids must be unique. Choose a unique field with --id-field."
        )
    out, _ = repair_geometries(out, layer=name)
    return to_metric(out, layer=name, metric_crs=metric_crs)


def _optional(gdf: gpd.GeoDataFrame, column: str | None) -> pd.Series:
    if column and column in gdf.columns:
        return gdf[column].astype("string").str.strip().astype(object)
    return pd.Series(None, index=gdf.index, dtype=object)


def classify_landuse(parcels: gpd.GeoDataFrame, codes: LanduseCodes) -> LanduseResult:
    """Split survey parcels into one site layer per census category.

    Parameters
    ----------
    parcels : geopandas.GeoDataFrame
        Output of :func:`read_landuse`.
    codes : LanduseCodes
        Code table (:func:`load_landuse_codes`).

    Returns
    -------
    LanduseResult
        ``layers`` maps a category to its parcels with :data:`LANDUSE_COLUMNS`; parcels of
        ``never`` codes and of codes absent from the table are left out and counted.
    """
    code = parcels["landuse_code"]
    table = pd.DataFrame.from_dict(
        {k: v.model_dump() for k, v in codes.codes.items()}, orient="index"
    )
    outcome = code.map(table["category"]) if len(table) else pd.Series(None, index=code.index)
    never = code.isin(list(codes.never))
    outcome = outcome.where(~never, "never").fillna("unmapped")
    layers: dict[str, gpd.GeoDataFrame] = {}
    for category in sorted(set(outcome) - {"never", "unmapped"}):
        sub = parcels.loc[(outcome == category).to_numpy()].copy()
        sub["land_use"] = sub["landuse_code"].map(table["land_use"])
        ftype = sub["landuse_code"].map(table["forest_type"])
        sub["forest_type"] = ftype.where(ftype.notna(), None).astype(object)
        extra: list[str] = []
        for code_ in sub["landuse_code"].unique():
            for key in codes.codes[code_].attributes:
                if key not in extra:
                    extra.append(key)
        for key in extra:
            values = {c: codes.codes[c].attributes.get(key) for c in sub["landuse_code"].unique()}
            sub[key] = sub["landuse_code"].map(values).astype(object)
            sub[key] = sub[key].where(sub[key].notna(), None)
        layers[category] = sub[[*LANDUSE_COLUMNS, *extra, sub.geometry.name]].reset_index(drop=True)
    names = {k: v.name_zh for k, v in codes.codes.items()} | {
        k: v.name_zh for k, v in codes.never.items()
    }
    counts = (
        pd.DataFrame({"landuse_code": code.fillna("(missing)"), "outcome": outcome})
        .groupby(["landuse_code", "outcome"], as_index=False)
        .size()
        .rename(columns={"size": "parcels"})
    )
    counts.insert(1, "name_zh", counts["landuse_code"].map(names).fillna(""))
    notes = []
    unmapped = counts[counts["outcome"] == "unmapped"]
    if len(unmapped):
        notes.append(
            f"{int(unmapped['parcels'].sum())} parcel(s) with codes not in the code table are "
            f"not candidate sites: {unmapped['landuse_code'].tolist()[:10]}"
        )
    n_never = int(counts.loc[counts["outcome"] == "never", "parcels"].sum())
    if n_never:
        notes.append(f"{n_never} parcel(s) of rivers, lakes or reservoirs are never sites")
    for category, gdf in layers.items():
        unknown = [
            c
            for c in gdf.columns
            if c not in LANDUSE_COLUMNS and c != gdf.geometry.name and gdf[c].isna().all()
        ]
        if unknown:
            notes.append(
                f"layer '{category}': the survey cannot tell {unknown}; they are left empty "
                "(see landuse_codes.yaml for what that means for the screening rules). Join "
                "them from the mining-rights register or the forest-resource inventory."
            )
    return LanduseResult(layers=layers, counts_by_code=counts, notes=notes)
