"""Load stage: every input file of a run, read once (the only stage that reads files)."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from census.config import CensusConfig, LoadedConfig
from census.exceptions import CensusError, ConfigError, SchemaError, WeatherError
from census.io.boundaries import read_districts, select_districts
from census.io.existing import read_existing_capacity
from census.io.layers import load_exclusions, load_sites
from census.io.raster import read_raster_metric
from census.io.vector import read_vector, repair_geometries, to_metric
from census.io.weather import (
    clearsky_year,
    read_weather,
    study_area_for_weather,
    weather_district,
)
from census.io.windatlas import atlas_paths, sample_wind_atlas
from census.sites.screen import required_exclusions
from census.solar.facade import expand_facades
from census.stages.context import RunContext, WeatherGroup
from census.wind.turbines import make_turbine

__all__ = [
    "facade_neighbours",
    "input_paths",
    "load_inputs",
    "protected_paths",
    "weather_groups",
]

logger = logging.getLogger(__name__)

READ_DISTRICT_EXTENT = True
"""Read only the selected districts' extent of the layers and rasters when a run selects
some districts (not all): the same sites and numbers, less to read. Tests and
``benchmarks/bench_load.py`` switch it off to compare."""


def load_inputs(
    sites: gpd.GeoDataFrame | None, ctx: RunContext
) -> tuple[gpd.GeoDataFrame, RunContext]:
    """Read the run's inputs: districts, site layers, exclusions, rasters, weather, turbine.

    Parameters
    ----------
    sites : geopandas.GeoDataFrame or None
        ``None`` reads the ``[layers]`` of the config; a site table (``site_id``,
        ``category``, ``area_m2``, ``adcode``, ``district``, geometry in the metric
        CRS) is used as given instead.
    ctx : RunContext

    Returns
    -------
    sites : geopandas.GeoDataFrame
        The site table of the chosen districts (io columns: ``site_id``,
        ``category``, ``district``, ``adcode``, ``area_m2``, source attributes).
    ctx : RunContext
        With ``all_districts``, ``districts``, ``layer_reports``, ``exclusions``,
        ``dem``, ``landcover``, ``weather_groups``, ``existing_capacity`` and
        ``turbine`` set.
    """
    cfg = ctx.config
    metric = ctx.metric_crs
    ctx.all_districts = read_districts(
        cfg.study_area.boundaries,
        layer=cfg.study_area.layer,
        crs=cfg.study_area.crs,
        fields=cfg.study_area.fields,
        metric_crs=metric,
    )
    ctx.districts = select_districts(ctx.all_districts, ctx.requested_districts)
    district_box = _district_extent(ctx)
    if sites is None:
        active = {n: lc for n, lc in cfg.layers.items() if lc.enabled}
        sites, ctx.layer_reports = load_sites(
            active,
            ctx.districts,
            metric_crs=metric,
            study_area=ctx.all_districts,
            study_area_name=cfg.study_area.name,
            extent=district_box,
        )
        # BIPV facades: footprint rows of facade categories become one row per facade,
        # shaded by their neighbours in the other districts too
        sites = expand_facades(
            sites, cfg.rules, neighbours=facade_neighbours(cfg, ctx, sites, active, metric)
        )
    # sites straddling a border reach beyond their district: exclusions and rasters
    # cover the sites' own extent as well
    site_box = _union_box(district_box, sites) if district_box is not None else None
    ctx.exclusions = _exclusions(cfg, sites, metric, site_box)
    if cfg.terrain.dem is not None:
        ctx.dem = read_raster_metric(
            cfg.terrain.dem, metric_crs=metric, resampling="bilinear", extent=site_box
        )
    if cfg.terrain.landcover is not None:
        # class codes: nearest neighbour, never interpolated
        ctx.landcover = read_raster_metric(
            cfg.terrain.landcover, metric_crs=metric, resampling="nearest", extent=site_box
        )
    ctx.weather_groups = weather_groups(cfg, ctx.all_districts, ctx.districts)
    if cfg.zones.path is not None:
        ctx.zones = _zones(cfg, metric)
    if cfg.targets.existing_capacity is not None:
        ctx.existing_capacity = read_existing_capacity(cfg.targets.existing_capacity)
    wind = _wind_rows(cfg, sites)
    if wind.any():
        ctx.turbine = make_turbine(cfg.wind.turbine)  # reads a user power curve once per run
        res = cfg.wind.resource
        if res.atlas_dir is not None:
            paths = atlas_paths(
                res.atlas_dir, pattern=res.atlas_pattern, heights_m=res.atlas_heights_m
            )
            points = sites.loc[wind].geometry.representative_point()
            ctx.wind_atlas = sample_wind_atlas(points, paths=paths, resampling=res.atlas_resampling)
    return sites, ctx


def facade_neighbours(
    cfg: CensusConfig,
    ctx: RunContext,
    sites: gpd.GeoDataFrame,
    layers: dict,
    metric: str,
) -> gpd.GeoDataFrame | None:
    """Footprints of facade layers in the study area's other districts, within reach.

    A run of some districts reads only their buildings; a wall near a district border
    would then miss the neighbour across it that shades it. This reads, from the
    layers that gave facade footprints, the rows of the other districts of the study
    area within the longest probing ray (``shading_distance_factor`` x the tallest
    building + ``party_wall_m``) of the box of the run's facade buildings, so each wall
    is shaded as in a run of the whole study area. ``None`` when the run has
    every district or no facade footprints.

    Parameters
    ----------
    cfg : CensusConfig
    ctx : RunContext
        With ``all_districts`` and ``districts``.
    sites : geopandas.GeoDataFrame
        The io site table (before :func:`census.solar.facade.expand_facades`).
    layers : dict of str to LayerConfig
        The run's enabled ``[layers]``.
    metric : str
        The metric CRS.

    Returns
    -------
    geopandas.GeoDataFrame or None
        Rows as :func:`census.io.layers.load_sites` gives them.
    """
    rules = {c: r.facade for c, r in cfg.rules.categories.items() if r.facade is not None}
    if not rules or not len(sites):
        return None
    facade_rows = sites["category"].isin(list(rules)).to_numpy()
    others = ctx.all_districts[~ctx.all_districts["adcode"].isin(ctx.districts["adcode"])]
    if not facade_rows.any() or not len(others):
        return None
    reach, walls = 0.0, np.zeros(len(sites), bool)
    for cat, fr in rules.items():
        in_cat = facade_rows & (sites["category"] == cat).to_numpy()
        col = next((c for c in (fr.height_field, f"src_{fr.height_field}") if c in sites), None)
        if col is None or not in_cat.any():
            continue  # expand_facades names the missing height field
        h = pd.to_numeric(sites[col], errors="coerce").to_numpy(dtype=float)
        kept = in_cat & np.isfinite(h) & (h > 0) & (h >= fr.min_building_height_m)
        if kept.any():  # only kept buildings have walls whose rays probe
            walls |= kept
            reach = max(reach, fr.shading_distance_factor * float(h[kept].max()) + fr.party_wall_m)
    if not walls.any():
        return None
    # every enabled layer that can give facade footprints (its category, or one its
    # category_field maps to), not only those with buildings in the run's districts
    names = sorted(
        n
        for n, lc in layers.items()
        if lc.category in rules or any(v in rules for v in (lc.categories or {}).values())
    )
    # the rays start on the walls of the run's facade buildings (a building across the
    # border included): their box, grown by the longest ray
    x0, y0, x1, y1 = (float(v) for v in sites.geometry[walls].total_bounds)
    box = (x0 - reach, y0 - reach, x1 + reach, y1 + reach)
    try:
        with warnings.catch_warnings():
            # the layers were checked and reported by the run's own read
            warnings.simplefilter("ignore")
            near, _ = load_sites(
                {n: layers[n] for n in names},
                others,
                metric_crs=metric,
                study_area=ctx.all_districts,
                study_area_name=cfg.study_area.name,
                extent=box,
            )
    except CensusError as exc:
        raise type(exc)(
            f"while reading the other districts' buildings that shade the run's facades "
            f"(layers {names}, within {reach:.0f} m): {exc}"
        ) from exc
    near = near[near["category"].isin(list(rules)).to_numpy()]
    near = near[near.geometry.intersects(shapely.box(*box))]
    logger.info(
        "facades: %d buildings of the other districts within %.0f m shade the walls",
        len(near),
        reach,
    )
    return near


def _zones(cfg: CensusConfig, metric: str) -> gpd.GeoDataFrame:
    """Read the ``[zones]`` layer into the metric CRS, its key field checked."""
    zc = cfg.zones
    zones = read_vector(zc.path, layer=zc.layer, crs=zc.crs, name="zones")
    for what, col in (("field", zc.field), ("population_field", zc.population_field)):
        if col and col not in zones.columns:
            raise SchemaError(
                f"zone layer {zc.path} has no field '{col}' ([zones] {what}); its fields are "
                f"{[c for c in zones.columns if c != zones.geometry.name]}. Fix [zones] {what} "
                "(or the --zone-field / --population-field option)."
            )
    zones, _ = repair_geometries(zones, layer="zones")
    return to_metric(zones, layer="zones", metric_crs=metric)


def _wind_rows(cfg: CensusConfig, sites: gpd.GeoDataFrame) -> pd.Series:
    """Sites whose category's rules give the technology ``wind``."""
    wind_categories = [n for n, r in cfg.rules.categories.items() if r.technology == "wind"]
    if not len(sites):
        return pd.Series(False, index=sites.index)
    return sites["category"].isin(wind_categories)


def _district_extent(ctx: RunContext) -> tuple[float, float, float, float] | None:
    """Box [m] of the selected districts when a run selects some (not all), else None."""
    if not READ_DISTRICT_EXTENT or not ctx.requested_districts:
        return None
    if len(ctx.districts) == 0 or len(ctx.districts) >= len(ctx.all_districts):
        return None
    return tuple(float(v) for v in ctx.districts.total_bounds)


def _union_box(
    box: tuple[float, float, float, float], sites: gpd.GeoDataFrame
) -> tuple[float, float, float, float]:
    """``box`` grown to hold every site geometry [m]."""
    if not len(sites):
        return box
    x0, y0, x1, y1 = sites.geometry.total_bounds
    return (min(box[0], x0), min(box[1], y0), max(box[2], x1), max(box[3], y1))


def _exclusions(
    cfg: CensusConfig,
    sites: gpd.GeoDataFrame,
    metric: str,
    site_box: tuple[float, float, float, float] | None = None,
) -> dict[str, gpd.GeoSeries]:
    categories = sorted(pd.unique(sites["category"]).tolist()) if len(sites) else []
    needed = required_exclusions(cfg.rules, categories)
    extents = None
    if site_box is not None:
        # a zone just outside the sites' box still cuts a site through its buffer: grow
        # each layer's box by the largest buffer any rule of this run puts around it
        grow: dict[str, float] = {}
        for cat in categories:
            rule = cfg.rules.categories.get(cat)
            for ex in rule.exclusions if rule is not None else []:
                grow[ex.layer] = max(grow.get(ex.layer, 0.0), float(ex.buffer_m))
        x0, y0, x1, y1 = site_box
        extents = {
            name: (x0 - b, y0 - b, x1 + b, y1 + b) for name, b in grow.items() if name in needed
        }
    return load_exclusions(cfg.exclusions, needed, metric_crs=metric, extents=extents)


def weather_groups(
    cfg: CensusConfig, all_districts: gpd.GeoDataFrame, chosen: gpd.GeoDataFrame
) -> list[WeatherGroup]:
    """Group the chosen districts by the weather year they use, reading each file once.

    A district uses its own file from ``[weather.districts]``, else the city's
    ``[weather] path``, else (with ``clearsky_fallback``) a clear-sky year at the
    districts' centre.

    Returns
    -------
    list of WeatherGroup
        One entry per distinct weather year; only files of this run's districts are read.

    Raises
    ------
    ConfigError
        Districts without any weather.
    """
    wcfg = cfg.weather
    own: dict[int, Path] = {}
    shift: dict[Path, float] = {}
    for key, path in wcfg.districts.items():
        code = int(weather_district(all_districts, key)["adcode"].iloc[0])
        own[code] = Path(path)
        shift[Path(path)] = float(wcfg.districts_time_shift_h.get(key, 0.0))
    by_path: dict[Path, list[int]] = {}
    rest: list[int] = []
    for code in (int(a) for a in chosen["adcode"]):
        if code in own:
            by_path.setdefault(own[code], []).append(code)
        else:
            rest.append(code)
    groups = []
    for path, codes in by_path.items():
        # each district file has its own timestamp convention: its own shift, default 0
        weather, meta = read_weather(
            path,
            kind=wcfg.kind,
            tz=wcfg.tz,
            time_shift_h=shift[path],
            study_area=study_area_for_weather(
                cfg, all_districts[all_districts["adcode"].isin(codes)], part=True
            ),
            checks=wcfg.checks.model_dump(),
        )
        groups.append(WeatherGroup(weather, meta, codes))
    if rest:
        if wcfg.path is not None:
            weather, meta = read_weather(
                wcfg.path,
                kind=wcfg.kind,
                tz=wcfg.tz,
                time_shift_h=wcfg.time_shift_h,
                study_area=study_area_for_weather(cfg, all_districts),
                checks=wcfg.checks.model_dump(),
            )
        elif wcfg.clearsky_fallback:
            lon, lat = _centroid_lonlat(chosen[chosen["adcode"].isin(rest)])
            tz = study_area_for_weather(cfg, all_districts).tz
            weather, meta = clearsky_year(lat, lon, 0.0, tz=tz)
        else:
            names = chosen.loc[chosen["adcode"].isin(rest), "name_en"].tolist()
            raise ConfigError(
                f"No weather for districts {names}: set [weather] path, or a file per "
                "district in [weather.districts], or clearsky_fallback = true."
            )
        groups.append(WeatherGroup(weather, meta, rest))
    lengths = {len(g.weather) for g in groups}
    if len(lengths) > 1:
        raise WeatherError(
            f"district weather years have {sorted(lengths)} rows; every file of "
            "[weather.districts] needs the same hourly year (8760 rows) as the others."
        )
    return groups


def _centroid_lonlat(districts: gpd.GeoDataFrame) -> tuple[float, float]:
    c = districts.geometry.union_all().centroid
    pt = gpd.GeoSeries([c], crs=districts.crs).to_crs("EPSG:4326").iloc[0]
    return float(pt.x), float(pt.y)


def input_paths(cfg: CensusConfig) -> list[Path]:
    """Every input file a run with ``cfg`` reads (for provenance and --out checks)."""
    paths = [cfg.study_area.boundaries]
    if cfg.weather.path:
        paths.append(cfg.weather.path)
    paths += list(cfg.weather.districts.values())
    paths += [lc.path for lc in cfg.layers.values() if lc.enabled]
    paths += [ec.path for ec in cfg.exclusions.values() if ec.enabled]
    paths += [p for p in (cfg.terrain.dem, cfg.terrain.landcover) if p is not None]
    if cfg.targets.existing_capacity is not None:
        paths.append(cfg.targets.existing_capacity)
    if cfg.wind.turbine.power_curve_csv is not None:
        paths.append(cfg.wind.turbine.power_curve_csv)
    if cfg.wind.resource.atlas_dir is not None and Path(cfg.wind.resource.atlas_dir).is_dir():
        paths += sorted(Path(cfg.wind.resource.atlas_dir).glob("*.tif"))
    return [Path(p) for p in paths if p is not None]


def protected_paths(loaded: LoadedConfig) -> list[Path]:
    """Files and folders a run may not write over: its inputs and its config file."""
    cfg = loaded.config
    paths = input_paths(cfg)
    if loaded.user_path is not None:
        paths.append(loaded.user_path)
    if cfg.wind.resource.atlas_dir is not None:
        paths.append(Path(cfg.wind.resource.atlas_dir))
    return paths
