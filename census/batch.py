"""Per-district batch runs on dask.distributed, resumable, merged into city outputs.

Each district is one task: a full :func:`census.pipeline.run_census` restricted to
that district, written atomically into ``<out>/districts/<adcode>_<name>/``. A
district whose folder already holds a ``provenance.json`` with the same config
hash is skipped on a rerun (``force=True`` recomputes it), so an interrupted
batch loses nothing that had finished. When every district is done, the site
tables are merged and rolled up again into ``<out>/city/``, a complete run folder
whose numbers equal those of one ``census run`` over the same districts.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd

from census.config import LoadedConfig, load_config
from census.exceptions import CensusError, InputError
from census.io.boundaries import read_districts, select_districts
from census.io.demo import ensure_demo_data
from census.io.existing import read_existing_capacity
from census.io.postgis import check_configured, export_configured
from census.io.profiles import merge_profiles
from census.io.runfolder import LAYOUT, RunFolder, open_run
from census.pipeline import collect_warnings, config_hash, run_census
from census.sites.screen import tally_reasons
from census.stages import RunContext, record_provenance, roll_up, write_outputs
from census.stages.capacity import empty_turbines
from census.stages.load import protected_paths
from census.stages.yield_ import sum_profiles

__all__ = ["BatchResult", "district_folder", "merge_district_runs", "run_batch"]

logger = logging.getLogger(__name__)


@dataclass
class BatchResult:
    """What a batch run did.

    Attributes
    ----------
    out_dir : pathlib.Path
        Batch folder.
    done : list of str
        Districts computed in this batch.
    skipped : list of str
        Districts already done with the same config hash.
    failed : dict of str to str
        District -> one-line error.
    city_dir : pathlib.Path or None
        Merged city outputs (only when no district failed).
    """

    out_dir: Path
    done: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    city_dir: Path | None = None


def district_folder(out_dir: Path, adcode: int, name_en: str) -> Path:
    """Folder of one district's run inside a batch folder."""
    safe = "".join(ch if ch.isalnum() else "_" for ch in name_en)
    return Path(out_dir) / "districts" / f"{adcode}_{safe}"


def _is_done(folder: Path, chash: str) -> bool:
    try:
        data = open_run(folder, need=[LAYOUT.sites, LAYOUT.provenance]).provenance()
    except InputError:
        return False
    return data.get("census_run", {}).get("config_hash") == chash


def _run_one(config_path: str | None, adcode: int, folder: str, overwrite: bool) -> str:
    """Run one district (executed on a dask worker); returns the run folder."""
    # districts are not exported to PostGIS: the merged city folder is (run_batch)
    result = run_census(
        config_path, [adcode], out_dir=folder, overwrite=overwrite, export_postgis=False
    )
    return str(result.run_dir)


def run_batch(
    config_path: str | Path | None = None,
    districts: list[str | int] | None = None,
    *,
    out_dir: str | Path | None = None,
    workers: int = 2,
    scheduler: str | None = None,
    force: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> BatchResult:
    """Run the census district by district on dask.distributed.

    Parameters
    ----------
    config_path : str or pathlib.Path, optional
        User TOML (``None`` for the demo). Workers load it themselves.
    districts : list of str or int, optional
        Districts to run; default all.
    out_dir : str or pathlib.Path, optional
        Batch folder; default ``<outputs.dir>/batch-<config hash>``.
    workers : int, default 2
        Worker processes of the LocalCluster (ignored with ``scheduler``).
    scheduler : str, optional
        Address of a running dask scheduler, e.g. ``tcp://10.0.0.5:8786``.
    force : bool, default False
        Recompute districts that are already done.
    progress : callable, optional
        Called as ``progress(done, total)``.

    Returns
    -------
    BatchResult
    """
    from dask.distributed import Client, LocalCluster, as_completed

    loaded = load_config(config_path)
    cfg = loaded.config
    ensure_demo_data(cfg)  # once, before the workers start
    chash = config_hash(cfg)
    all_d = read_districts(
        cfg.study_area.boundaries,
        layer=cfg.study_area.layer,
        crs=cfg.study_area.crs,
        fields=cfg.study_area.fields,
        metric_crs=cfg.study_area.metric_crs,
    )
    chosen = select_districts(all_d, districts)
    check_configured(cfg.outputs)  # [outputs] postgis: a wrong password stops here, not at the end
    out = Path(out_dir) if out_dir else Path(cfg.outputs.dir) / f"batch-{chash}"
    out.mkdir(parents=True, exist_ok=True)
    result = BatchResult(out_dir=out.resolve())
    todo: list[tuple[int, str, Path]] = []
    for row in chosen.itertuples():
        folder = district_folder(out, row.adcode, row.name_en)
        if _is_done(folder, chash) and not force:
            result.skipped.append(row.name_en)
        else:
            todo.append((row.adcode, row.name_en, folder))
    total = len(chosen)
    if progress:
        progress(len(result.skipped), total)
    cfg_arg = str(loaded.user_path) if loaded.user_path else None
    if todo:
        cluster = None
        if scheduler:
            client = Client(scheduler)
        else:
            cluster = LocalCluster(
                n_workers=max(1, workers),
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
            )
            client = Client(cluster)
        try:
            futures = {}
            for adcode, name, folder in todo:
                overwrite = folder.exists()  # stale (other hash) or forced
                fut = client.submit(
                    _run_one,
                    cfg_arg,
                    adcode,
                    str(folder),
                    overwrite,
                    key=f"census-{chash}-{adcode}",
                    pure=False,
                )
                futures[fut] = name
            for fut in as_completed(futures):
                name = futures[fut]
                try:
                    fut.result()
                    result.done.append(name)
                except (CensusError, OSError, ValueError) as exc:
                    result.failed[name] = f"{type(exc).__name__}: {exc}"
                    logger.error("district %s failed: %s", name, exc)
                except Exception as exc:  # noqa: BLE001 - a worker crash must not stop others
                    result.failed[name] = f"{type(exc).__name__}: {exc}"
                    logger.error("district %s failed:\n%s", name, traceback.format_exc())
                if progress:
                    progress(len(result.done) + len(result.skipped) + len(result.failed), total)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    if not result.failed:
        folders = [district_folder(out, r.adcode, r.name_en) for r in chosen.itertuples()]
        result.city_dir = merge_district_runs(folders, chosen, loaded, out / "city", overwrite=True)
        export_configured(result.city_dir, cfg.outputs)  # [outputs] postgis, if set
    return result


def merge_district_runs(
    folders: list[Path],
    districts: gpd.GeoDataFrame,
    loaded: LoadedConfig,
    out: Path,
    *,
    overwrite: bool = False,
) -> Path:
    """Merge finished district runs into a city run folder.

    The district site tables are read back, concatenated and rolled up again by
    the roll-up stage, and the outputs stage writes ``out`` as a complete run
    folder (sites, districts, summaries, supply curve, report, maps,
    ``provenance.json``), so ``census map`` and ``census compare`` accept it.

    Parameters
    ----------
    folders : list of pathlib.Path
        Finished district run folders.
    districts : geopandas.GeoDataFrame
        The districts of the batch (metric CRS).
    loaded : LoadedConfig
        The batch's configuration.
    out : pathlib.Path
        The city folder.
    overwrite : bool, default False
        Replace ``out`` if it is a census folder.

    Returns
    -------
    pathlib.Path
        The city folder.
    """
    cfg = loaded.config
    runs = [open_run(f, need=[LAYOUT.sites, LAYOUT.provenance]) for f in folders]
    provs = [r.provenance() for r in runs]
    parts = [r.sites() for r in runs]
    sites = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=parts[0].crs)
    turbine_parts = [t for t in (r.turbines() for r in runs) if t is not None]
    ctx = RunContext(loaded=loaded, config_hash=config_hash(cfg))
    ctx.all_districts = ctx.districts = districts
    ctx.turbines = (
        gpd.GeoDataFrame(pd.concat(turbine_parts, ignore_index=True), crs=turbine_parts[0].crs)
        if turbine_parts
        else empty_turbines(sites.crs)
    )
    ctx.tally = tally_reasons(sites)
    profiles = [p for p in (r.pv_profile() for r in runs) if p is not None]
    ctx.pv_profile_mw = sum_profiles(profiles) if profiles else pd.DataFrame()
    if cfg.targets.existing_capacity is not None:
        ctx.existing_capacity = read_existing_capacity(cfg.targets.existing_capacity)
    for prov in provs:  # the districts' warnings are the city's
        ctx.warnings.extend(prov.get("warnings") or [])
    with RunFolder(out, overwrite=overwrite, inputs=protected_paths(loaded)) as run:
        ctx.run_folder = run
        with collect_warnings(ctx.warnings):
            sites, ctx = roll_up(sites, ctx)
            nc = [Path(f) / "profiles.nc" for f in folders]
            if nc and all(p.is_file() for p in nc):  # hourly profiles (census.profiles, #20)
                ctx.profiles = merge_profiles(nc)
            sites, ctx = record_provenance(sites, ctx)
            ctx.provenance["layers"] = [row for p in provs for row in p.get("layers") or []]
            ctx.provenance["weather"] = [row for p in provs for row in p.get("weather") or []]
            ctx.provenance["batch"] = {
                "districts": [str(Path(f).resolve()) for f in folders],
                "config_hashes": sorted(
                    {p.get("census_run", {}).get("config_hash") for p in provs}
                ),
            }
            sites, ctx = write_outputs(sites, ctx)
    return run.path
