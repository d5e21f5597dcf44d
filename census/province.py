"""A province: several cities, each a census config, run as one batch and rolled up.

A province file is a small TOML that lists the cities; each city is an ordinary
census configuration (its own boundaries, layers, weather and targets), so a city
that already runs alone joins a province unchanged::

    [province]
    name = "Zhejiang"
    name_zh = "浙江省"

    [[province.cities]]
    name = "Hangzhou"
    name_zh = "杭州市"
    config = "hangzhou.toml"        # relative to this file; leave out for the demo

    [[province.cities]]
    name = "Ningbo"
    config = "ningbo/census.toml"
    districts = ["Haishu", "Yinzhou"]   # optional: a subset of the city's districts

``census batch --province zhejiang.toml`` runs every district of every city on one
dask cluster (:func:`census.batch.run_province`), merges each city into
``<out>/cities/<city>/`` (a complete run folder) and writes the province roll-up
with :func:`write_province` into ``<out>/province/``: the tables as CSV and as one
workbook (``census.xlsx``), and a map of the cities (``map.html``, each city's popup
linking to the city's own map).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import tomllib
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import pandas as pd
from pydantic import Field, ValidationError, field_validator

from census.exceptions import ConfigError, InputError
from census.io.outputs import package_versions
from census.io.runfolder import LAYOUT, RunFolder, open_run
from census.rollup import SUM_COLUMNS, city_table
from census.settings.base import Strict

__all__ = [
    "PROVINCE_FILES",
    "PROVINCE_SHEETS",
    "ProvinceCity",
    "ProvinceConfig",
    "city_outlines",
    "load_province",
    "province_map",
    "province_tables",
    "safe_name",
    "write_province",
]

PROVINCE_FILES = {
    "by_city": "summary_by_city.csv",
    "by_district": "summary_by_district.csv",
    "province": "summary_province.csv",
    "targets": "targets_by_city.csv",
}
"""Tables of ``<out>/province/`` by name."""

PROVINCE_SHEETS = {
    "by_city": "summary_by_city",
    "by_district": "summary_by_district",
    "province": "summary_province",
    "targets": "targets_by_city",
}
"""Workbook sheet key (``sheet.<key>`` in census/resources/strings.yaml) of each table."""

logger = logging.getLogger(__name__)


class ProvinceCity(Strict):
    """One city of a province."""

    name: str = Field(min_length=1, description="City name (English), unique in the province.")
    name_zh: str | None = Field(None, description="Chinese name, shown with the city's rows.")
    config: Path | None = Field(
        None, description="The city's census TOML, relative to the province file; none = demo."
    )
    districts: list[str | int] | None = Field(
        None, description="Districts to run (adcode, Chinese or English name); default all."
    )


class ProvinceConfig(Strict):
    """A province file's ``[province]`` table."""

    name: str = Field(min_length=1)
    name_zh: str | None = None
    cities: list[ProvinceCity] = Field(min_length=1)

    @field_validator("cities")
    @classmethod
    def _unique(cls, cities: list[ProvinceCity]) -> list[ProvinceCity]:
        seen: dict[str, str] = {}
        for c in cities:
            if c.name.startswith("all ("):
                raise ValueError(
                    f"city name {c.name!r} is kept for the province's total row "
                    "('all (<province>)'); give the city another name"
                )
            key = safe_name(c.name)
            if key in seen:
                raise ValueError(
                    f"cities {seen[key]!r} and {c.name!r} have the same folder name {key!r}; "
                    "give every city its own name"
                )
            seen[key] = c.name
        return cities


def safe_name(name: str) -> str:
    """Return ``name`` as a folder name: letters and digits kept, anything else ``_``."""
    return "".join(ch if ch.isalnum() else "_" for ch in str(name))


def load_province(path: str | Path) -> ProvinceConfig:
    """Read a province TOML (see the module docstring).

    City ``config`` paths are resolved relative to the province file.

    Parameters
    ----------
    path : str or pathlib.Path
        The province file.

    Returns
    -------
    ProvinceConfig

    Raises
    ------
    ConfigError
        The file is missing, not TOML, has no ``[province]`` table, a city's config
        does not exist, or a field is wrong (named with the fix).
    """
    path = Path(path).expanduser()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"Province file not found: {path}.") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}.") from exc
    if "province" not in data or set(data) != {"province"}:
        raise ConfigError(
            f"{path}: a province file has one table, [province], with name and "
            f"[[province.cities]] (name, config, districts); got tables {sorted(data)}. "
            "A city's own settings go into its config file."
        )
    try:
        province = ProvinceConfig.model_validate(data["province"])
    except ValidationError as exc:
        errors = "; ".join(
            f"province.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"{path}: {errors}.") from exc
    for city in province.cities:
        if city.config is None:
            continue
        cfg = city.config if city.config.is_absolute() else path.parent / city.config
        if not cfg.is_file():
            raise ConfigError(
                f"{path}: city {city.name!r}: config {cfg} does not exist. Give its path "
                "relative to the province file, or leave config out for the Hangzhou demo."
            )
        city.config = cfg.resolve()
    return province


def _labels_once(table: pd.DataFrame, parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Name every city's basis when they differ (storage basis, emission factor)."""
    for col in ("storage_basis", "emission_factor"):
        values = sorted({str(v) for p in parts if col in p for v in p[col].dropna().unique()})
        if col in table.columns and len(values) > 1:
            table[col] = "; ".join(values)
    return table


def province_tables(
    province: ProvinceConfig, city_dirs: dict[str, Path]
) -> dict[str, pd.DataFrame]:
    """Roll up the cities' run folders into the province tables.

    Only the cities' summary tables are read (a few rows per district), never
    their sites.

    Parameters
    ----------
    province : ProvinceConfig
        The province.
    city_dirs : dict of str to pathlib.Path
        City name -> the city's merged run folder.

    Returns
    -------
    dict of str to pandas.DataFrame
        ``by_city`` (one row per city, the district table's additive columns summed,
        plus the number of districts), ``by_district`` (every district with its
        ``city``), ``province`` (totals by category and technology, as a city's
        ``summary_city.csv``), ``targets`` (every city's targets with its ``city``).
    """
    by_cat, by_dist, targets, rows = [], [], [], []
    for city in province.cities:
        run = open_run(
            city_dirs[city.name],
            need=[LAYOUT.summary_by_district, LAYOUT.summary_by_district_category],
        )
        totals = run.table(LAYOUT.summary_by_district)
        by = run.table(LAYOUT.summary_by_district_category)
        for col in ("category", "technology"):
            by[col] = by[col].fillna("").astype(str)
        tag = {"city": city.name, "city_zh": city.name_zh or ""}
        by_dist.append(totals.assign(**tag)[[*tag, *totals.columns]])
        by_cat.append(by)
        if run.file(LAYOUT.targets).is_file():
            t = run.table(LAYOUT.targets)
            targets.append(t.assign(**tag)[[*tag, *t.columns]])
        add = [c for c in (*SUM_COLUMNS, "pv_capacity_mw", "pv_capacity_mw_ac") if c in totals]
        add += [c for c in ("wind_capacity_mw",) if c in totals]
        rows.append({**tag, "districts": len(totals), **totals[add].sum().to_dict()})
    by_city = pd.DataFrame(rows)
    total = by_city.drop(columns=["city", "city_zh"]).sum().to_frame().T
    total.insert(0, "city_zh", province.name_zh or "")
    total.insert(0, "city", f"all ({province.name})")
    by_city = pd.concat([by_city, total], ignore_index=True)
    for col in ("districts", "sites", "eligible_sites"):  # counts stay integers
        by_city[col] = by_city[col].astype("int64")
    prov = _labels_once(city_table(pd.concat(by_cat, ignore_index=True)), by_cat)
    return {
        "by_city": by_city,
        "by_district": pd.concat(by_dist, ignore_index=True),
        "province": prov,
        "targets": pd.concat(targets, ignore_index=True) if targets else pd.DataFrame(),
    }


def _open_city(city: ProvinceCity, city_dirs: dict[str, Path], *need: str) -> Any:
    """Open a city's run folder, naming the city when a file it needs is missing."""
    try:
        return open_run(city_dirs[city.name], need=need)
    except InputError as exc:
        raise InputError(
            f"city {city.name!r} of the province: {exc} (census batch --province writes it; "
            "rerun the batch to rebuild the city folder)"
        ) from exc


def _city_codes(districts: list[gpd.GeoDataFrame]) -> list[int]:
    """Each city's code for the map: its adcode (GB/T 2260) when the cities' differ.

    A city's code is its districts' adcodes with the last two digits zeroed (330106 ->
    330100) when they agree; when a city's districts disagree, or two cities share a
    code (a synthetic province of copies of one city), the cities are numbered 1..N.
    """
    codes = []
    for d in districts:
        found = {int(a) // 100 * 100 for a in pd.to_numeric(d["adcode"], errors="coerce").dropna()}
        codes.append(found.pop() if len(found) == 1 else -1)
    if -1 in codes or len(set(codes)) < len(codes):
        return list(range(1, len(districts) + 1))
    return codes


def city_outlines(province: ProvinceConfig, city_dirs: dict[str, Path]) -> gpd.GeoDataFrame:
    """Return one outline per city: the union of its run folder's districts.

    Returns
    -------
    geopandas.GeoDataFrame
        ``adcode`` (the city's code, see :func:`_city_codes`), ``name_zh``, ``name_en``,
        in the first city's CRS (a run folder's districts are in its metric CRS,
        EPSG:4549 unless the config says otherwise).

    Raises
    ------
    InputError
        A city's ``districts.gpkg`` is missing or has no CRS.
    """
    outlines, districts = [], []
    crs = None
    for city in province.cities:
        d = _open_city(city, city_dirs, LAYOUT.districts).districts()
        if d.crs is None:
            raise InputError(
                f"city {city.name!r}: {Path(city_dirs[city.name]) / LAYOUT.districts} has no "
                "CRS. Rerun the city (census writes its districts in the metric CRS)."
            )
        crs = crs or d.crs
        d = d.to_crs(crs)
        districts.append(d)
        outlines.append(d.geometry.union_all())
    return gpd.GeoDataFrame(
        {
            "adcode": _city_codes(districts),
            "name_zh": [c.name_zh or c.name for c in province.cities],
            "name_en": [c.name for c in province.cities],
        },
        geometry=outlines,
        crs=crs,
    )


def province_map(
    province: ProvinceConfig,
    city_dirs: dict[str, Path],
    by_city: pd.DataFrame,
    *,
    folder: str | Path,
    lang: str = "en",
    synthetic: bool = False,
    tiles: str | None = None,
    attribution: str | None = None,
) -> folium.Map:
    """Build the province map: one outline per city with its totals and a link to its map.

    Each city's outline is the union of its run folder's districts
    (``districts.gpkg``); its label and popup give the city's totals from
    ``by_city`` (:func:`province_tables`), and the popup links to the city's own
    ``map.html`` by a path relative to ``folder``, so the province folder and the
    city folders open together offline (keep them side by side when copying).

    Parameters
    ----------
    province : ProvinceConfig
        The province.
    city_dirs : dict of str to pathlib.Path
        City name -> the city's merged run folder (``districts.gpkg``, ``map.html``).
    by_city : pandas.DataFrame
        ``by_city`` of :func:`province_tables` (the province's total row is skipped).
    folder : str or pathlib.Path
        Where the map file will be (for the relative links).
    lang : {"en", "zh"}, default "en"
        Language of the map.
    synthetic : bool, default False
        Show the synthetic-data banner.
    tiles, attribution : str, optional
        Base tiles, as :func:`census.maps.build_map` takes them (default none).

    Returns
    -------
    folium.Map
        Write it with :func:`census.maps.save_map`.
    """
    from census.i18n import Translator
    from census.maps import _DISTRICT_FIELDS, build_map

    cities = city_outlines(province, city_dirs)
    codes, crs = cities["adcode"].tolist(), cities.crs
    rows = by_city.iloc[: len(province.cities)]  # the cities in order; the total row last
    if rows["city"].tolist() != [c.name for c in province.cities]:
        raise ValueError("by_city must be province_tables(...)['by_city'] of this province.")
    totals = pd.DataFrame(
        {"adcode": codes}
        | {c: rows[c].to_numpy() for c, *_ in _DISTRICT_FIELDS if c in rows.columns}
    )
    links: list[str | None] = []
    here = os.path.abspath(Path(folder).expanduser())  # not resolve(): symlinks stay links
    for city in province.cities:
        target = Path(city_dirs[city.name]).expanduser() / LAYOUT.city_map
        if target.is_file():
            links.append(Path(os.path.relpath(os.path.abspath(target), here)).as_posix())
        else:
            links.append(None)
            logger.warning(
                "city %r has no %s (its config sets [outputs] map = false?): the province "
                "map shows its totals without a link",
                city.name,
                target,
            )
    no_sites = gpd.GeoDataFrame(
        {"site_id": pd.Series([], dtype=object), "category": [], "eligible": []},
        geometry=gpd.GeoSeries([], crs=crs),
        crs=crs,
    )
    tr = Translator(lang)  # type: ignore[arg-type]
    name = province.name_zh if tr.zh and province.name_zh else province.name
    return build_map(
        no_sites,
        cities,
        district_totals=totals,
        title=tr("map.province_title", province=name),
        synthetic=synthetic,
        tiles=tiles,
        attribution=attribution,
        lang=lang,
        district_links=links,
        district_kind="city",
    )


def _province_workbook(tables: dict[str, pd.DataFrame], lang: str) -> dict[str, pd.DataFrame]:
    """Return the province tables as workbook sheets in ``lang`` (localised headers, units)."""
    from census.i18n import Translator, district_names
    from census.report import localize_workbook

    tr = Translator(lang, district_names=district_names(tables["by_district"]))  # type: ignore[arg-type]
    sheets = {PROVINCE_SHEETS[k]: tables[k] for k in PROVINCE_SHEETS if len(tables[k].columns)}
    return localize_workbook(sheets, tr)


def write_province(
    province: ProvinceConfig,
    city_dirs: dict[str, Path],
    out: str | Path,
    *,
    overwrite: bool = False,
) -> Path:
    """Write the province roll-up folder.

    The tables of :func:`province_tables` as CSV and as one workbook (``census.xlsx``,
    in the first city's language), the province map (``map.html``,
    :func:`province_map`) and ``provenance.json``.

    Parameters
    ----------
    province : ProvinceConfig
        The province.
    city_dirs : dict of str to pathlib.Path
        City name -> the city's merged run folder.
    out : str or pathlib.Path
        The province folder (written atomically).
    overwrite : bool, default False
        Replace ``out`` if census wrote it.

    Returns
    -------
    pathlib.Path
        The province folder.

    Raises
    ------
    InputError
        A city folder is not a finished run (or lacks its ``districts.gpkg``).
    """
    started = dt.datetime.now(dt.UTC)
    tables = province_tables(province, city_dirs)
    cities, provs = [], []
    for city in province.cities:
        prov = _open_city(city, city_dirs, LAYOUT.provenance, LAYOUT.districts).provenance()
        provs.append(prov)
        run_info = prov.get("census_run", {})
        cities.append(
            {
                "name": city.name,
                "name_zh": city.name_zh,
                "folder": str(Path(city_dirs[city.name]).resolve()),
                "config_file": run_info.get("config_file"),
                "config_hash": run_info.get("config_hash"),
                "districts": run_info.get("districts"),
                "counts": prov.get("counts"),
                "synthetic_inputs": prov.get("synthetic_inputs"),
            }
        )
    if not cities:
        raise InputError("A province needs at least one city folder.")
    first = provs[0]  # the workbook and the map speak the first city's language
    lang = str(first.get("language") or "en")
    outputs_cfg: dict[str, Any] = first.get("config", {}).get("outputs", {})
    synthetic = any(c["synthetic_inputs"] for c in cities)
    with RunFolder(out, overwrite=overwrite, kind="province") as run:
        for key, name in PROVINCE_FILES.items():
            run.write_csv(name, tables[key])
        from census.maps import save_map
        from census.report import write_workbook

        write_workbook(run.file(LAYOUT.workbook), _province_workbook(tables, lang))
        save_map(
            province_map(
                province,
                city_dirs,
                tables["by_city"],
                folder=run.path,
                lang=lang,
                synthetic=synthetic,
                tiles=outputs_cfg.get("map_tiles"),
                attribution=outputs_cfg.get("map_tiles_attribution"),
            ),
            run.file(LAYOUT.city_map),
        )
        provenance = {
            "census_province": {
                "name": province.name,
                "name_zh": province.name_zh,
                "started_utc": started.isoformat(),
                "finished_utc": dt.datetime.now(dt.UTC).isoformat(),
            },
            "synthetic_inputs": synthetic,
            "language": lang,
            "cities": cities,
            "packages": package_versions(),
            "outputs": sorted(
                {*PROVINCE_FILES.values(), LAYOUT.workbook, LAYOUT.city_map, LAYOUT.provenance}
            ),
        }
        run.write_json(LAYOUT.provenance, provenance)
    return run.path
