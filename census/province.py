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
with :func:`write_province` into ``<out>/province/``.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path

import pandas as pd
from pydantic import Field, ValidationError, field_validator

from census.exceptions import ConfigError, InputError
from census.io.outputs import package_versions
from census.io.runfolder import LAYOUT, RunFolder, open_run
from census.rollup import SUM_COLUMNS, city_table
from census.settings.base import Strict

__all__ = [
    "PROVINCE_FILES",
    "ProvinceCity",
    "ProvinceConfig",
    "load_province",
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
    for col in ("sites", "eligible_sites"):
        by_city[col] = by_city[col].astype("int64")
    total = by_city.drop(columns=["city", "city_zh"]).sum().to_frame().T
    total.insert(0, "city_zh", province.name_zh or "")
    total.insert(0, "city", f"all ({province.name})")
    by_city = pd.concat([by_city, total], ignore_index=True)
    prov = _labels_once(city_table(pd.concat(by_cat, ignore_index=True)), by_cat)
    return {
        "by_city": by_city,
        "by_district": pd.concat(by_dist, ignore_index=True),
        "province": prov,
        "targets": pd.concat(targets, ignore_index=True) if targets else pd.DataFrame(),
    }


def write_province(
    province: ProvinceConfig,
    city_dirs: dict[str, Path],
    out: str | Path,
    *,
    overwrite: bool = False,
) -> Path:
    """Write the province roll-up folder (tables of :func:`province_tables`, provenance).

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
        A city folder is not a finished run.
    """
    started = dt.datetime.now(dt.UTC)
    tables = province_tables(province, city_dirs)
    cities = []
    for city in province.cities:
        prov = open_run(city_dirs[city.name], need=[LAYOUT.provenance]).provenance()
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
    with RunFolder(out, overwrite=overwrite, kind="province") as run:
        for key, name in PROVINCE_FILES.items():
            run.write_csv(name, tables[key])
        provenance = {
            "census_province": {
                "name": province.name,
                "name_zh": province.name_zh,
                "started_utc": started.isoformat(),
                "finished_utc": dt.datetime.now(dt.UTC).isoformat(),
            },
            "synthetic_inputs": any(c["synthetic_inputs"] for c in cities),
            "cities": cities,
            "packages": package_versions(),
            "outputs": sorted({*PROVINCE_FILES.values(), LAYOUT.provenance}),
        }
        run.write_json(LAYOUT.provenance, provenance)
    return run.path
