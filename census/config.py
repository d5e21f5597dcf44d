"""The configuration of a whole run: pydantic models and the TOML loader.

A run's configuration is the packaged default (``resources/default.toml`` plus the
assumption tables ``resources/<section>.yaml``) overridden key by key by the user's
TOML. Unknown keys and wrong types raise :class:`~census.exceptions.ConfigError`,
whose message names the key and the file it came from.
"""

from __future__ import annotations

import copy
import logging
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from census import paths
from census.crs import METRIC_CRS, valid_crs_string
from census.exceptions import ConfigError
from census.redact import has_password, redact
from census.resources import ASSUMPTION_SECTIONS, load_assumptions, read_text
from census.settings.base import Strict
from census.settings.costs import CostsConfig
from census.settings.pv import PVConfig
from census.settings.rules import RulesConfig
from census.settings.wind import WindConfig

__all__ = [
    "PROJECT_ROOT",
    "CensusConfig",
    "ExclusionLayerConfig",
    "LayerConfig",
    "LoadedConfig",
    "OutputsConfig",
    "StorageShiftConfig",
    "StudyAreaConfig",
    "TargetRecord",
    "TargetsConfig",
    "TerrainConfig",
    "WeatherConfig",
    "config_to_toml",
    "deep_merge",
    "load_config",
]

logger = logging.getLogger(__name__)

PROJECT_ROOT = paths.PROJECT_ROOT
"""Folder holding ``census/`` (and ``data/`` in a checkout)."""

DEFAULT_CONFIG_NAME = "census/resources/default.toml"

# Keys whose string values are file or folder paths, resolved against the config's folder.
_PATH_KEYS = frozenset(
    {
        "path",
        "boundaries",
        "dir",
        "dem",
        "landcover",
        "existing_capacity",
        "power_curve_csv",
        "atlas_dir",
    }
)


def _valid_crs(value: str | None, *, key: str, metric: bool = False) -> str | None:
    # one small hook per model: the check itself lives in census.crs
    return None if value is None else valid_crs_string(value, key=key, metric=metric)


def _valid_tz(value: str | None) -> str | None:
    if value is None:
        return None
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f'{value!r} is not an IANA time zone ({exc}); write e.g. tz = "Asia/Shanghai"'
        ) from None
    return value


class StudyAreaConfig(Strict):
    """District boundaries of the study area, the metric CRS and the time zone."""

    name: str = "study area"
    name_zh: str | None = Field(None, description="Chinese name, for Chinese reports and maps.")
    boundaries: Path
    layer: str | None = None
    crs: str | None = None
    fields: dict[str, str] = Field(default_factory=dict)
    metric_crs: str = METRIC_CRS
    tz: str | None = Field(
        None,
        description="IANA time zone of the study area (weather files are checked against "
        "it); none derives a whole-hour zone from the area's longitude.",
    )
    synthetic: bool = False

    _crs_ok = field_validator("crs")(lambda v: _valid_crs(v, key="crs"))
    _metric_ok = field_validator("metric_crs")(
        lambda v: _valid_crs(v, key="metric_crs", metric=True)
    )
    _tz_ok = field_validator("tz")(lambda v: _valid_tz(v))


class LayerConfig(Strict):
    """One candidate-site layer (``enabled = false`` drops a default layer)."""

    enabled: bool = True
    path: Path | None = None
    layer: str | None = None
    crs: str | None = Field(None, description='Declared CRS; "GCJ-02" for Amap/Tencent data.')
    _crs_ok = field_validator("crs")(lambda v: _valid_crs(v, key="crs"))
    category: str | None = None
    id_field: str | None = None
    fields: dict[str, str] = Field(
        default_factory=dict, description="census column name -> source column name"
    )
    category_field: str | None = Field(
        None,
        description="column whose value picks a row's category from `categories` (e.g. the "
        "building use: industrial and logistics roofs -> park_rooftop); other rows keep "
        "`category`",
    )
    categories: dict[str, str] = Field(
        default_factory=dict,
        description="value of category_field (case-insensitive) -> category",
    )
    synthetic: bool = False

    @model_validator(mode="after")
    def _needed_when_enabled(self) -> LayerConfig:
        if self.enabled and (self.path is None or self.category is None):
            raise ValueError(
                "an enabled site layer needs a path and a category (or enabled = false)"
            )
        return self


class ExclusionLayerConfig(Strict):
    """One exclusion layer; ``enabled = false`` makes the rules that use it exclude nothing."""

    enabled: bool = True
    path: Path | None = None
    layer: str | None = None
    crs: str | None = None
    synthetic: bool = False

    _crs_ok = field_validator("crs")(lambda v: _valid_crs(v, key="crs"))

    @model_validator(mode="after")
    def _path_when_enabled(self) -> ExclusionLayerConfig:
        if self.enabled and self.path is None:
            raise ValueError("an enabled exclusion layer needs a path (or enabled = false)")
        return self


class WeatherChecksConfig(Strict):
    """Thresholds of the weather-year checks (from weather.yaml)."""

    max_distance_m: float = Field(ge=0)
    max_night_ghi_frac: float = Field(ge=0, le=1)
    min_clearsky_corr: float = Field(ge=-1, le=1)


class WeatherConfig(Strict):
    """The weather year: one file for the city or one per district (adcode -> file)."""

    path: Path | None = None
    kind: Literal["auto", "epw", "pvgis_csv", "pvgis_json", "tmy3", "csv"] = "auto"
    tz: str | None = None
    time_shift_h: float = Field(
        0.0, description="Roll the rows by this many hours so labels match the sun [h]."
    )
    clearsky_fallback: bool = False
    districts: dict[str, Path] = Field(default_factory=dict)
    districts_time_shift_h: dict[str, float] = Field(
        default_factory=dict,
        description="time_shift_h of each [weather.districts] file (default 0, not the "
        "city file's shift) [h].",
    )
    checks: WeatherChecksConfig


class TerrainConfig(Strict):
    """Terrain and land-cover rasters."""

    dem: Path | None = None
    landcover: Path | None = None
    synthetic: bool = False


class ZonesConfig(Strict):
    """Zones to roll up by besides districts (villages, townships, industrial parks)."""

    path: Path | None = Field(None, description="Polygon layer of zones; none = no zone roll-up.")
    layer: str | None = None
    crs: str | None = Field(None, description='Declared CRS; "GCJ-02" for Amap/Tencent data.')
    field: str | None = Field(None, description="Zone key column (name or code).")
    population_field: str | None = Field(
        None, description="Zone column with resident population, for kW per person."
    )

    @model_validator(mode="after")
    def _field_with_path(self) -> ZonesConfig:
        if self.path is not None and not self.field:
            raise ValueError("[zones] needs `field` (the zone key column) when `path` is set")
        return self


CapacityBasis = Literal["ac", "dc"]
"""Capacity basis: ``"ac"`` (inverter output, turbine rating) or ``"dc"`` (module nameplate)."""


class TargetRecord(Strict):
    """One city target: capacity of some technologies by a year, on a stated basis.

    Attributes
    ----------
    label : str
        Name shown in reports (the record's key is its stable name).
    technologies : list of str
        Site-table technologies the target counts (``"pv"`` for every ``pv_*``).
    year : int
        Year by which the capacity is to be installed.
    capacity_mw : float
        Target capacity (cumulative installed capacity). [MW]
    capacity_basis : {"ac", "dc"}
        Basis the target is stated on; potential and existing capacity are
        compared on it.
    source : str
        Where the target comes from.
    enabled : bool
        ``false`` leaves a default target out of the run.
    """

    label: str = Field(min_length=1)
    technologies: list[str] = Field(min_length=1)
    year: int = Field(ge=1900, le=2200)
    capacity_mw: float = Field(ge=0)
    capacity_basis: CapacityBasis
    source: str = Field(min_length=1)
    enabled: bool = True


class TargetsConfig(Strict):
    """City targets, storage obligation and emission factor (from targets.yaml)."""

    records: dict[str, TargetRecord]
    existing_pv_dc_ac_ratio: float = Field(ge=1, le=3)
    storage_min_frac: float = Field(ge=0, le=1)
    storage_duration_h: float = Field(gt=0)
    storage_basis: CapacityBasis
    storage_technologies: list[str]
    emission_factor_preset: str = Field(min_length=1)
    emission_factors: dict[str, float]
    existing_capacity: Path | None = None

    @model_validator(mode="after")
    def _preset_known(self) -> TargetsConfig:
        if self.emission_factor_preset not in self.emission_factors:
            raise ValueError(
                f"emission_factor_preset {self.emission_factor_preset!r} is not one of "
                f"{sorted(self.emission_factors)}; pick one, or add your own factor as "
                "[targets.emission_factors] <name> = <tCO2/MWh> and name it."
            )
        bad = {k: v for k, v in self.emission_factors.items() if not 0 <= v < 3}
        if bad:
            raise ValueError(f"emission_factors must be in tCO2/MWh, between 0 and 3; got {bad}.")
        return self

    @property
    def grid_emission_factor_tco2_mwh(self) -> float:
        """Return the emission factor of the chosen preset [tCO2 MWh⁻¹]."""
        return float(self.emission_factors[self.emission_factor_preset])

    @property
    def active_records(self) -> dict[str, TargetRecord]:
        """The enabled targets, by name."""
        return {k: r for k, r in self.records.items() if r.enabled}


class StorageShiftConfig(Strict):
    """What the obligated storage could shift (storage_shift.yaml; census.profiles.storage)."""

    export_limit_frac: float = Field(gt=0, le=1)
    round_trip_efficiency_frac: float = Field(gt=0, le=1)


class OutputsConfig(Strict):
    """Where and what a run writes."""

    dir: Path = Path("data/processed")
    map: bool = True
    map_tiles: str | None = Field(
        None, description="Base-tile URL template with {z}/{x}/{y}; none keeps maps offline."
    )
    map_tiles_attribution: str | None = None
    language: Literal["auto", "zh", "en"] = Field(
        "auto",
        description="Language of the report, workbook, maps and CLI table: zh, en, or auto "
        "(Chinese when the study area lies in China).",
    )
    map_max_sites: int = Field(
        300_000,
        ge=1,
        description="Most sites one map file draws. Above it the city map is an index of "
        "cells linking to district maps (large districts split into parts), so every site is "
        "on a map that opens quickly.",
    )
    zarr: bool = Field(
        False, description="Also write the hourly profiles as a Zarr store (profiles.zarr)."
    )
    postgis: str | None = Field(
        None,
        description="PostgreSQL/PostGIS URL (postgresql://user@host:5432/db or service=NAME) "
        "that each finished run is exported into (as `census export`); without a password: "
        "libpq reads PGPASSWORD, ~/.pgpass or pg_service.conf.",
    )
    postgis_schema: str = Field(
        "census", min_length=1, max_length=63, description="Schema of the PostGIS export."
    )

    @field_validator("postgis")
    @classmethod
    def _postgis_url_without_password(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            return None  # "" unsets, as for paths
        if value is None:
            return None
        if has_password(value):
            raise ValueError(
                "the URL holds a password, and a config is copied into every run folder and "
                "its provenance. Remove it from the URL and give it to libpq in PGPASSWORD, "
                "~/.pgpass or a service file (service=NAME)"
            )
        from census.io.postgis import check_url  # libpq's own parser, via psycopg

        check_url(value)
        return value


class CensusConfig(Strict):
    """The whole configuration of a census run."""

    study_area: StudyAreaConfig
    weather: WeatherConfig
    layers: dict[str, LayerConfig]
    exclusions: dict[str, ExclusionLayerConfig] = Field(default_factory=dict)
    terrain: TerrainConfig = Field(default_factory=TerrainConfig)
    rules: RulesConfig
    pv: PVConfig
    wind: WindConfig
    targets: TargetsConfig
    costs: CostsConfig
    storage_shift: StorageShiftConfig
    outputs: OutputsConfig = Field(default_factory=OutputsConfig)
    zones: ZonesConfig = Field(default_factory=ZonesConfig)
    allow_synthetic_mix: bool = Field(
        False, description="Allow real site layers together with synthetic demo inputs."
    )


class LoadedConfig(BaseModel):
    """A resolved configuration with where it came from and its assumption ledger."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    config: CensusConfig
    user_path: Path | None
    user_toml: dict[str, Any]
    ledger: list[dict[str, Any]]


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Return ``base`` updated key by key with ``override`` (nested tables merged)."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _default_path(text: str, root: Path) -> Path:
    """Resolve a path of the packaged default config (``data/raw/...`` or relative to root).

    ``data/raw/demo/...`` is the generated demo folder and ``data/raw/...`` the shipped
    real data, wherever they are (a checkout's ``data/raw`` or a wheel's package data
    and cache folder; :mod:`census.paths`); anything else counts from ``root``.
    """
    parts = Path(text).parts
    if parts[:3] == ("data", "raw", "demo"):
        return DEMO_DIR.joinpath(*parts[3:])
    if parts[:2] == ("data", "raw"):
        return paths.RAW_DIR.joinpath(*parts[2:])
    return root / text


def _resolve_paths(tree: Any, root: Path, *, key: str | None = None, default: bool = False) -> Any:
    if isinstance(tree, dict):
        return {
            k: (
                _resolve_paths(v, root, key=k, default=default)
                if k != "districts" or not isinstance(v, dict)
                else {
                    d: str((root / p).resolve()) if isinstance(p, str) else p for d, p in v.items()
                }
            )
            for k, v in tree.items()
        }
    if isinstance(tree, str) and key in _PATH_KEYS and not tree:
        return None  # `dem = ""` in a user TOML unsets a default path (TOML has no null)
    if isinstance(tree, str) and key in _PATH_KEYS and tree:
        p = Path(tree).expanduser()
        if p.is_absolute():
            return str(p)
        return str(_default_path(tree, root) if default else root / p)
    return tree


def _has_key(tree: dict[str, Any], loc: tuple[Any, ...]) -> bool:
    node: Any = tree
    for part in loc:
        if isinstance(node, dict) and str(part) in node:
            node = node[str(part)]
        else:
            return False
    return True


def _format_errors(exc: ValidationError, user: dict[str, Any], user_path: Path | None) -> str:
    lines = []
    for err in exc.errors():
        loc = tuple(str(p) for p in err["loc"])
        key = ".".join(loc)
        user_label = str(user_path) if user_path else "overrides"
        origin = user_label if _has_key(user, loc[:-1] or loc) else DEFAULT_CONFIG_NAME
        if _has_key(user, loc):
            origin = user_label
        if err["type"] == "extra_forbidden":
            lines.append(
                f"{origin}: unknown key '{key}'. Check its spelling; "
                "`census config show` prints every valid key."
            )
        elif err["type"] == "missing":
            lines.append(f"{origin}: missing key '{key}'.")
        else:
            raw = err.get("input")  # a password in a value is never shown
            got = repr(redact(raw)) if isinstance(raw, str) else redact(repr(raw))
            msg = redact(str(err["msg"]).removeprefix("Value error, "))
            lines.append(f"{origin}: key '{key}' = {got}: {msg}.")
    return "Invalid configuration:\n  " + "\n  ".join(lines)


def default_tree() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Return the packaged default configuration as a plain tree, and its ledger."""
    tree = tomllib.loads(read_text("default.toml"))
    ledger: list[dict[str, Any]] = []
    for section in ASSUMPTION_SECTIONS:
        values, rows = load_assumptions(section)
        tree[section] = deep_merge(values, tree.get(section, {}))
        ledger.extend(rows)
    return _resolve_paths(tree, paths.outputs_root(), default=True), ledger


def _leaf(tree: dict[str, Any], dotted: str) -> tuple[bool, Any]:
    node: Any = tree
    for part in dotted.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return False, None
    return True, node


def load_config(
    path: str | Path | None = None, *, overrides: dict[str, Any] | None = None
) -> LoadedConfig:
    """Load the default configuration, overridden by a user's TOML file.

    Parameters
    ----------
    path : str or pathlib.Path, optional
        User TOML file. ``None`` runs the embedded Hangzhou demo.
    overrides : dict, optional
        Extra overrides applied last (nested dict, as TOML would give). Relative
        paths in them are taken from the current directory, as on the command line.

    Returns
    -------
    LoadedConfig
        The validated :class:`CensusConfig`, the user's raw TOML, and the
        assumption ledger with the value in effect and its source.

    Raises
    ------
    ConfigError
        Unreadable TOML, unknown keys or wrong types; the message names the key
        and the file.
    """
    base, ledger = default_tree()
    user: dict[str, Any] = {}
    user_path = None
    if path is not None:
        user_path = Path(path).expanduser().resolve()
        if not user_path.exists():
            raise ConfigError(f"Config file not found: {user_path}.")
        try:
            user = tomllib.loads(user_path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{user_path}: not valid TOML: {exc}.") from exc
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{user_path}: not UTF-8 text ({exc}); save it as UTF-8.") from exc
        user = _resolve_paths(user, user_path.parent)
    if overrides:
        user = deep_merge(user, _resolve_paths(overrides, Path.cwd()))
    _reject_non_finite(user, user_path)
    merged = deep_merge(base, user)
    _credit_user_targets(merged, user, str(user_path or "overrides"))
    _own_paths_are_real(user, merged)
    for table in _REPLACED_TABLES:
        # a user's own layer set replaces the demo's, never adds to it (no double counting)
        if table in user:
            merged[table] = copy.deepcopy(user[table])
    try:
        config = CensusConfig.model_validate(merged)
    except ValidationError as exc:
        raise ConfigError(_format_errors(exc, user, user_path)) from None
    _check_synthetic_mix(config, user_path)
    effective = config.model_dump(mode="json")
    rows = []
    for row in ledger:
        found, value = _leaf(effective, row["key"])
        over, _ = _leaf(user, row["key"])
        rows.append(
            {
                **row,
                "value": value if found else row["value"],
                "default": row["value"],
                "source": (
                    f"user config {user_path or 'overrides'} (default: {row['source']})"
                    if over
                    else row["source"]
                ),
                "overridden": bool(over),
            }
        )
    return LoadedConfig(config=config, user_path=user_path, user_toml=user, ledger=rows)


def _credit_user_targets(merged: dict[str, Any], user: dict[str, Any], label: str) -> None:
    """Name the user's config as the source of a default target record it changes.

    A record the user edits without giving its own ``source`` would otherwise keep the
    plan's citation beside the user's number.
    """
    user_records = (user.get("targets") or {}).get("records") or {}
    records = (merged.get("targets") or {}).get("records") or {}
    for name, rec in user_records.items():
        if not isinstance(rec, dict) or "source" in rec or name not in records:
            continue
        if set(rec) - {"enabled", "label"} and records[name].get("source"):
            records[name]["source"] = f"user config {label} (default: {records[name]['source']})"


def _reject_non_finite(tree: Any, user_path: Path | None, key: str = "") -> None:
    """Refuse ``inf`` and ``nan`` (valid TOML floats) anywhere in a user's config."""
    import math

    if isinstance(tree, dict):
        for k, v in tree.items():
            _reject_non_finite(v, user_path, f"{key}.{k}" if key else str(k))
    elif isinstance(tree, list):
        for i, v in enumerate(tree):
            _reject_non_finite(v, user_path, f"{key}[{i}]")
    elif isinstance(tree, float) and not math.isfinite(tree):
        raise ConfigError(
            f"Invalid configuration:\n  {user_path or 'overrides'}: key '{key}' = {tree!r}: "
            "census needs a finite number here; write the value itself (TOML's inf and nan "
            "are not accepted)."
        )


def _own_paths_are_real(user: dict[str, Any], merged: dict[str, Any]) -> None:
    """Mark a table where the user gives a path of their own as not synthetic.

    ``synthetic = true`` of the demo's [terrain] or [study_area] would otherwise carry
    over key by key onto the user's own DEM or boundaries. A demo path left in the
    same table is still caught by :func:`is_demo_path`.
    """
    for table in ("study_area", "terrain"):
        own = user.get(table)
        if not isinstance(own, dict) or "synthetic" in own:
            continue
        if any(k in _PATH_KEYS and v is not None for k, v in own.items()):
            merged[table]["synthetic"] = False


_REPLACED_TABLES = ("layers", "exclusions")
"""Tables that a user's TOML replaces whole instead of merging key by key."""

DEMO_DIR = paths.demo_dir()
"""Folder of the synthetic demo layers; any input inside it counts as synthetic."""


def is_demo_path(path: Path | None) -> bool:
    if path is None:
        return False
    try:
        return Path(path).resolve().is_relative_to(DEMO_DIR.resolve())
    except (OSError, ValueError):
        return False


def synthetic_inputs(config: CensusConfig) -> list[str]:
    """Name every enabled input that is synthetic (flagged, or inside the demo folder)."""
    names = [
        f"layers.{n}"
        for n, lc in config.layers.items()
        if lc.enabled and (lc.synthetic or is_demo_path(lc.path))
    ]
    names += [
        f"exclusions.{n}"
        for n, ec in config.exclusions.items()
        if ec.enabled and (ec.synthetic or is_demo_path(ec.path))
    ]
    t = config.terrain
    for key in ("dem", "landcover"):
        path = getattr(t, key)
        if path is not None and (t.synthetic or is_demo_path(path)):
            names.append(f"terrain.{key}")
    if is_demo_path(config.wind.resource.atlas_dir):
        names.append("wind.resource.atlas_dir")
    if config.study_area.synthetic:
        names.append("study_area")
    return names


def _check_synthetic_mix(config: CensusConfig, user_path: Path | None) -> None:
    """Refuse real site layers screened or scored with synthetic demo inputs."""
    if config.allow_synthetic_mix:
        return
    synthetic = synthetic_inputs(config)
    real = [
        f"layers.{n}"
        for n, lc in config.layers.items()
        if lc.enabled and f"layers.{n}" not in synthetic
    ]
    if real and synthetic:
        raise ConfigError(
            f"{user_path or 'config'}: your site layers {real} would be screened and scored "
            f"with the demo's SYNTHETIC inputs {synthetic}. Point those at your own data, or "
            'switch them off ([exclusions.<name>] enabled = false; [terrain] dem = ""; '
            '[wind.resource] atlas_dir = ""), or set allow_synthetic_mix = true at the top '
            "of the config if you really mean it."
        )


def _drop_none(tree: Any) -> Any:
    if isinstance(tree, dict):
        return {k: _drop_none(v) for k, v in tree.items() if v is not None}
    if isinstance(tree, list):
        return [_drop_none(v) for v in tree]
    return tree


def config_to_toml(config: CensusConfig) -> str:
    """Render a configuration as TOML text (``None`` values are left out)."""
    import tomli_w

    return tomli_w.dumps(_drop_none(config.model_dump(mode="json")))
