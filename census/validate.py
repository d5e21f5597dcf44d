"""``census validate``: every problem ``census run`` would stop on, found in one pass.

:func:`validate_config` checks a loaded configuration against its inputs without
running the census: files and CRS strings, each site layer's readability and the
fields each active screening rule needs on it, the exclusion layers each rule
names, the rasters (readable, CRS, data under the sites) and the weather files
(readable, a year for every district). Each problem comes with its fix; nothing
stops at the first one.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np

from census.config import CensusConfig, LoadedConfig
from census.exceptions import CensusError

__all__ = ["Problem", "format_problems", "validate_config"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Problem:
    """One thing ``census run`` would refuse.

    Attributes
    ----------
    where : str
        Config key or file it is about (``layers.ponds``, ``terrain.dem`` ...).
    what : str
        What is wrong.
    fix : str
        How to fix it.
    """

    where: str
    what: str
    fix: str


def format_problems(problems: list[Problem]) -> str:
    """Render problems as a numbered list, each with its fix."""
    lines = [f"{len(problems)} problem(s) that `census run` would stop on:"]
    for i, p in enumerate(problems, 1):
        lines.append(f"{i:>3}. [{p.where}] {p.what}")
        lines.append(f"     fix: {p.fix}")
    return "\n".join(lines)


def _error_problem(where: str, exc: BaseException, fix: str) -> Problem:
    return Problem(where, str(exc).strip(), fix)


def _check_crs(where: str, value: str | None, problems: list[Problem]) -> None:
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    if value is None or value.upper().replace("_", "-") in ("GCJ-02", "GCJ02"):
        return
    try:
        CRS.from_user_input(value)
    except CRSError as exc:
        problems.append(
            Problem(
                where,
                f"CRS {value!r} is not a CRS pyproj knows ({exc}).",
                'Write an EPSG code such as "EPSG:4326" or "EPSG:4549", or "GCJ-02" for '
                "Amap/Tencent data.",
            )
        )


def _check_file(where: str, path: Path | None, problems: list[Problem]) -> bool:
    if path is None:
        return False
    if not Path(path).exists():
        problems.append(
            Problem(
                where,
                f"file not found: {path}",
                "Fix the path (relative paths count from the config file's folder).",
            )
        )
        return False
    return True


def _layer_columns(name: str, lc, metric_crs: str, problems: list[Problem]):
    """Read a site layer as io does; return (frame in metric CRS, columns) or (None, None)."""
    from census.io.layers import _load_layer

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gdf, _ = _load_layer(name, lc, metric_crs=metric_crs)
    except CensusError as exc:
        problems.append(
            _error_problem(
                f"layers.{name}", exc, "Fix the file or the [layers.<name>] entry as it says."
            )
        )
        return None, None
    cols = set(gdf.columns) - {gdf.geometry.name}
    if lc.id_field and lc.id_field not in cols:
        problems.append(
            Problem(
                f"layers.{name}.id_field",
                f"id_field '{lc.id_field}' is not a column of {lc.path}; it has {sorted(cols)}.",
                f"Set [layers.{name}] id_field to one of those columns, or remove it.",
            )
        )
    return gdf, cols


def _raster(where: str, path: Path, *, resampling: str, metric: str, problems: list[Problem]):
    from census.io.raster import read_raster_metric

    try:
        return read_raster_metric(path, metric_crs=metric, resampling=resampling)
    except CensusError as exc:
        problems.append(_error_problem(where, exc, "Fix the raster file or its path."))
        return None


def _raster_coverage(
    where: str, raster, frames: dict[str, gpd.GeoDataFrame], problems: list[Problem]
) -> None:
    """Check the raster has data under the sites (at their representative points)."""
    from rasterio.transform import rowcol

    total = 0
    missing = 0
    for gdf in frames.values():
        if gdf is None or len(gdf) == 0:
            continue
        pts = gdf.geometry.representative_point()
        rows, cols = rowcol(raster.transform, pts.x.to_numpy(), pts.y.to_numpy())
        rows, cols = np.asarray(rows), np.asarray(cols)
        h, w = raster.data.shape
        inside = (rows >= 0) & (rows < h) & (cols >= 0) & (cols < w)
        ok = np.zeros(len(pts), bool)
        ok[inside] = ~np.isnan(raster.data[rows[inside], cols[inside]])
        total += len(pts)
        missing += int((~ok).sum())
    if total and missing == total:
        problems.append(
            Problem(
                where,
                f"{raster.path} has no data under any of the {total} sites screened with it "
                "(all nodata/NaN there, or it does not cover them).",
                f"Point [terrain] {where.split('.')[-1]} at a raster that covers the study "
                "area (check its CRS and nodata value), or switch the rules that use it off.",
            )
        )
    elif missing:
        logger.warning("%s: %d of %d sites have no data in %s", where, missing, total, raster.path)


def _check_weather(cfg: CensusConfig, problems: list[Problem]) -> None:
    from census.io.boundaries import read_districts, select_districts
    from census.io.weather import read_weather

    w = cfg.weather
    files: list[tuple[str, Path, float]] = []
    if w.path is not None:
        files.append(("weather.path", Path(w.path), w.time_shift_h))
    for key, path in w.districts.items():
        files.append(
            (f"weather.districts.{key}", Path(path), w.districts_time_shift_h.get(key, 0.0))
        )
    for where, path, shift in files:
        if not _check_file(where, path, problems):
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                read_weather(path, kind=w.kind, tz=w.tz, time_shift_h=shift)
        except CensusError as exc:
            problems.append(_error_problem(where, exc, "Use a full hourly weather year."))
    sa = cfg.study_area
    if not Path(sa.boundaries).exists():
        return  # reported with the files
    try:
        districts = read_districts(
            sa.boundaries, layer=sa.layer, crs=sa.crs, fields=sa.fields, metric_crs=sa.metric_crs
        )
    except CensusError as exc:
        problems.append(_error_problem("study_area.boundaries", exc, "Fix the boundary file."))
        return
    for key in w.districts:
        try:
            select_districts(districts, [key])
        except CensusError as exc:
            problems.append(
                _error_problem(
                    f"weather.districts.{key}",
                    exc,
                    "Use an adcode or a district name of the boundary file as the key.",
                )
            )
    if w.path is None and not w.clearsky_fallback and len(w.districts) < len(districts):
        problems.append(
            Problem(
                "weather",
                f"no weather year for {len(districts) - len(w.districts)} of the "
                f"{len(districts)} districts: no [weather] path and no file of theirs in "
                "[weather.districts].",
                "Set [weather] path (one file for the city), add a file per district to "
                "[weather.districts], or set clearsky_fallback = true.",
            )
        )


def validate_config(loaded: LoadedConfig | CensusConfig) -> list[Problem]:
    """Find every problem that ``census run`` would stop on, without running it.

    Parameters
    ----------
    loaded : LoadedConfig or CensusConfig
        A configuration that loaded (key and type errors are the loader's).

    Returns
    -------
    list of Problem
        Empty when the run can start. Warnings (sites a raster does not cover, ...)
        are logged, not returned.
    """
    from census.io.demo import ensure_demo_data
    from census.sites.registry import rule_needs

    cfg = loaded.config if isinstance(loaded, LoadedConfig) else loaded
    ensure_demo_data(cfg)
    problems: list[Problem] = []
    sa = cfg.study_area
    metric = sa.metric_crs
    _check_crs("study_area.metric_crs", metric, problems)
    _check_crs("study_area.crs", sa.crs, problems)
    for name, lc in cfg.layers.items():
        if lc.enabled:
            _check_crs(f"layers.{name}.crs", lc.crs, problems)
    for name, ec in cfg.exclusions.items():
        if ec.enabled:
            _check_crs(f"exclusions.{name}.crs", ec.crs, problems)
    if any(p.where == "study_area.metric_crs" for p in problems):
        return problems  # nothing can be projected
    _check_file("study_area.boundaries", sa.boundaries, problems)

    # site layers and the fields their categories' rules need
    frames: dict[str, gpd.GeoDataFrame | None] = {}
    used_exclusions: dict[str, list[str]] = {}
    raster_users: dict[str, list[str]] = {"dem": [], "landcover": []}
    for name, lc in cfg.layers.items():
        if not lc.enabled:
            continue
        if lc.category not in cfg.rules.categories:
            problems.append(
                Problem(
                    f"layers.{name}.category",
                    f"category '{lc.category}' has no screening rules.",
                    f"Add [rules.categories.{lc.category}], or set the layer's category to one "
                    f"of {sorted(cfg.rules.categories)}.",
                )
            )
            continue
        rules = cfg.rules.categories[lc.category]
        frame, cols = (
            _layer_columns(name, lc, metric, problems)
            if _check_file(f"layers.{name}.path", lc.path, problems)
            else (None, None)
        )
        frames[name] = frame
        needs = rule_needs(rules)
        for need in needs:
            if need.kind == "exclusion":
                used_exclusions.setdefault(need.name, []).append(f"{need.code} ({lc.category})")
            elif need.kind == "raster" and need.required:
                raster_users[need.name].append(name)
            elif need.kind == "raster" and need.name == "dem":
                raster_users["dem"].append(name)
        if cols is None:
            continue
        has = {c.removeprefix("src_") for c in cols}
        for need in needs:
            if need.kind != "field" or need.name in has:
                continue
            if need.family == "forest_type":
                if cfg.terrain.landcover is None:
                    problems.append(
                        Problem(
                            f"layers.{name}",
                            f"the forest-type rule of category '{lc.category}' needs the field "
                            "'forest_type' or a land-cover raster; the layer has neither "
                            f"(columns: {sorted(cols)}).",
                            f'Map it with [layers.{name}.fields] forest_type = "<column>", '
                            'set [terrain] landcover, or add "forest_type" to '
                            f"[rules.categories.{lc.category}] disabled_rules.",
                        )
                    )
                continue
            if not need.required:
                continue
            problems.append(
                Problem(
                    f"layers.{name}",
                    f"rule '{need.code}' of category '{lc.category}' needs the field "
                    f"'{need.name}', which {lc.path} does not have (columns: {sorted(cols)}).",
                    f'Map it with [layers.{name}.fields] {need.name} = "<your column>", or add '
                    f'"{need.code}" to [rules.categories.{lc.category}] disabled_rules.',
                )
            )

    # exclusion layers the rules name
    if cfg.exclusions:
        for layer, codes in sorted(used_exclusions.items()):
            optional = all(
                e.optional
                for c in cfg.rules.categories.values()
                for e in c.exclusions
                if e.layer == layer
            )
            ec = cfg.exclusions.get(layer)
            if ec is None:
                if not optional:
                    problems.append(
                        Problem(
                            f"exclusions.{layer}",
                            f"rules {sorted(set(codes))} name the exclusion layer '{layer}', "
                            "which the config does not define.",
                            f"Add [exclusions.{layer}] with its path, or add those codes to "
                            "the categories' disabled_rules.",
                        )
                    )
                continue
            if not ec.enabled or not _check_file(f"exclusions.{layer}.path", ec.path, problems):
                continue
            from census.io.layers import load_exclusion

            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    load_exclusion(layer, ec, metric_crs=metric)
            except CensusError as exc:
                problems.append(
                    _error_problem(f"exclusions.{layer}", exc, "Fix the layer or its entry.")
                )

    # rasters: readable, and with data under the sites that use them
    for key, resampling in (("dem", "bilinear"), ("landcover", "nearest")):
        path = getattr(cfg.terrain, key)
        if path is None:
            if raster_users[key] and key == "landcover":
                problems.append(
                    Problem(
                        "terrain.landcover",
                        f"land-cover rules of layers {raster_users[key]} need a land-cover "
                        "raster; the config has none.",
                        'Set [terrain] landcover = "...", or add "land_cover" to those '
                        "categories' disabled_rules.",
                    )
                )
            continue
        if not _check_file(f"terrain.{key}", path, problems):
            continue
        raster = _raster(
            f"terrain.{key}", path, resampling=resampling, metric=metric, problems=problems
        )
        users = {n: frames.get(n) for n in raster_users[key]}
        if raster is not None and users:
            _raster_coverage(f"terrain.{key}", raster, users, problems)

    if cfg.targets.existing_capacity is not None:
        _check_file("targets.existing_capacity", cfg.targets.existing_capacity, problems)
    if cfg.wind.turbine.power_curve_csv is not None:
        _check_file("wind.turbine.power_curve_csv", cfg.wind.turbine.power_curve_csv, problems)
    atlas = cfg.wind.resource.atlas_dir
    if atlas is not None and not Path(atlas).is_dir():
        problems.append(
            Problem(
                "wind.resource.atlas_dir",
                f"folder not found: {atlas}",
                'Fix the path, or set atlas_dir = "" to run without a wind atlas.',
            )
        )
    wind_layers = [
        n
        for n, lc in cfg.layers.items()
        if lc.enabled
        and lc.category in cfg.rules.categories
        and cfg.rules.categories[lc.category].technology == "wind"
    ]
    if atlas is None and wind_layers and not cfg.wind.resource.station_extrapolation:
        # the wind yield refuses the station's wind alone (census.wind.yield_._station_only)
        problems.append(
            Problem(
                "wind.resource.atlas_dir",
                f"wind site layers {wind_layers} but no wind atlas",
                "Set [wind.resource] atlas_dir to Global Wind Atlas rasters, or accept a "
                "rough estimate with [wind.resource] station_extrapolation = true.",
            )
        )
    if cfg.outputs.postgis:  # census run tries the server before its first stage
        from census.io.postgis import check_connection

        try:
            check_connection(cfg.outputs.postgis, schema=cfg.outputs.postgis_schema)
        except CensusError as exc:
            fix = "Fix it, or remove [outputs] postgis and later run `census export RUN_DIR`."
            problems.append(_error_problem("outputs.postgis", exc, fix))
    _check_weather(cfg, problems)
    return problems
