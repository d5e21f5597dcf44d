"""Per-district batch runs on dask.distributed, resumable, merged into city outputs.

Each district is one task: a full :func:`census.pipeline.run_census` restricted to
that district, written atomically into ``<out>/districts/<adcode>_<name>/``. A
district whose folder already holds a ``provenance.json`` with the same config
hash is skipped on a rerun (``force=True`` recomputes it), so an interrupted
batch loses nothing that had finished. When every district is done, the district
folders are merged, one district at a time (:mod:`census.batch_merge`), into
``<out>/city/``, a complete run folder whose numbers equal those of one
``census run`` over the same districts.
"""

from __future__ import annotations

import logging
import signal
import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd

from census.batch_merge import merge_district_runs
from census.config import LoadedConfig, load_config
from census.exceptions import CensusError, InputError
from census.io.boundaries import read_districts, select_districts
from census.io.demo import ensure_demo_data
from census.io.postgis import check_configured, export_configured
from census.io.runfolder import LAYOUT, clean_stale_temporaries, open_run
from census.pipeline import config_hash, run_census

__all__ = [
    "BatchResult",
    "ProvinceResult",
    "district_folder",
    "merge_district_runs",
    "run_batch",
    "run_province",
]

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


@dataclass
class ProvinceResult:
    """What a province batch did.

    Attributes
    ----------
    out_dir : pathlib.Path
        Batch folder.
    cities : dict of str to BatchResult
        Each city's districts done, skipped and failed, and its merged folder.
    province_dir : pathlib.Path or None
        Province roll-up (only when every city merged).
    """

    out_dir: Path
    cities: dict[str, BatchResult] = field(default_factory=dict)
    province_dir: Path | None = None

    @property
    def failed(self) -> dict[str, str]:
        """``"<city>/<district>"`` -> one-line error, over all cities."""
        return {f"{c}/{d}": e for c, r in self.cities.items() for d, e in r.failed.items()}


def district_folder(out_dir: Path, adcode: int, name_en: str) -> Path:
    """Folder of one district's run inside a batch folder."""
    return _in(Path(out_dir) / "districts", adcode, name_en)


def _in(districts_dir: Path, adcode: int, name_en: str) -> Path:
    safe = "".join(ch if ch.isalnum() else "_" for ch in name_en)
    return districts_dir / f"{adcode}_{safe}"


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


@dataclass
class _City:
    """One city of a batch: its config, districts, folders and what is left to do."""

    key: str
    loaded: LoadedConfig
    chash: str
    chosen: gpd.GeoDataFrame
    base: Path  # the folder holding the district folders
    city_dir: Path
    result: BatchResult
    todo: list[tuple[int, str, Path]] = field(default_factory=list)

    @property
    def folders(self) -> list[Path]:
        return [_in(self.base, r.adcode, r.name_en) for r in self.chosen.itertuples()]


def _plan_city(
    loaded: LoadedConfig,
    districts: list[str | int] | None,
    *,
    key: str,
    base: Path,
    city_dir: Path,
    out: Path,
    force: bool,
) -> _City:
    """Read a city's districts and sort them into done (same config hash) and to do."""
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
    base.mkdir(parents=True, exist_ok=True)
    city = _City(key, loaded, chash, chosen, base, city_dir, BatchResult(out_dir=out))
    for row in chosen.itertuples():
        folder = _in(base, row.adcode, row.name_en)
        if _is_done(folder, chash) and not force:
            city.result.skipped.append(row.name_en)
        else:
            city.todo.append((row.adcode, row.name_en, folder))
    return city


def _merged_is_current(city: _City) -> bool:
    """Tell whether the city folder merges exactly these district folders with this config."""
    try:
        prov = open_run(city.city_dir, need=[LAYOUT.provenance]).provenance()
    except InputError:
        return False
    batch = prov.get("batch") or {}
    return prov.get("census_run", {}).get("config_hash") == city.chash and batch.get(
        "districts"
    ) == [str(f.resolve()) for f in city.folders]


def _merge_city(city: _City) -> None:
    """Merge a city whose districts all finished (unless nothing changed since the last merge)."""
    if city.result.failed:
        return
    if not city.result.done and _merged_is_current(city):
        city.result.city_dir = city.city_dir.resolve()
        logger.info("city %s: merged folder is current, kept", city.key)
        return
    city.result.city_dir = merge_district_runs(
        city.folders, city.chosen, city.loaded, city.city_dir, overwrite=True
    )
    export_configured(city.result.city_dir, city.loaded.config.outputs)  # [outputs] postgis


def _client(workers: int, scheduler: str | None) -> tuple[Any, Any]:
    """Connect to ``scheduler``, or start a LocalCluster of single-threaded processes."""
    from dask.distributed import Client, LocalCluster

    if scheduler:
        try:
            return Client(scheduler, timeout="30s"), None
        except OSError as exc:
            raise CensusError(
                f"Could not reach the dask scheduler at {scheduler} ({exc}). Start it with "
                "`dask scheduler` (and workers with `dask worker <address> --nthreads 1`), or "
                "leave --scheduler out to use a LocalCluster on this machine."
            ) from exc
    # Ctrl-C in a terminal reaches the whole process group: the workers would each print
    # a KeyboardInterrupt traceback and die mid-district. They are started with SIGINT
    # ignored (kept across fork and exec), so Ctrl-C is this process's alone: it closes
    # the cluster and clears the districts' folders. A Ctrl-C in the few seconds of the
    # start is ignored too: press it again.
    with _sigint_ignored():
        cluster = LocalCluster(
            n_workers=max(1, workers),
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        )
    try:
        return Client(cluster), cluster
    except BaseException:
        cluster.close()
        raise


@contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Ignore SIGINT while the block runs (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    handler = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, handler)


def _run_cities(
    cities: list[_City],
    *,
    workers: int,
    scheduler: str | None,
    progress: Callable[[int, int], None] | None,
) -> None:
    """Run every city's missing districts on one dask cluster; merge each city when done.

    A city is merged as soon as its last district finishes, while the workers go on
    with the other cities' districts.
    """
    from dask.distributed import as_completed

    total = sum(len(c.chosen) for c in cities)

    def finished() -> int:
        return sum(
            len(c.result.done) + len(c.result.skipped) + len(c.result.failed) for c in cities
        )

    if progress:
        progress(finished(), total)
    pending = {c.key: len(c.todo) for c in cities}
    if any(pending.values()):
        client, cluster = _client(workers, scheduler)
        try:
            futures = {}
            for city in cities:
                cfg_path = city.loaded.user_path
                cfg_arg = str(Path(cfg_path).resolve()) if cfg_path else None  # for any worker
                for adcode, name, folder in city.todo:
                    overwrite = folder.exists()  # stale (other hash) or forced
                    fut = client.submit(
                        _run_one,
                        cfg_arg,
                        adcode,
                        str(folder.resolve()),
                        overwrite,
                        key=f"census-{city.chash}-{city.key}-{adcode}",
                        pure=False,
                    )
                    futures[fut] = (city, name)
            for city in cities:  # cities with nothing to run merge while the workers work
                if not pending[city.key]:
                    _merge_city(city)
            for fut in as_completed(futures):
                city, name = futures[fut]
                try:
                    fut.result()
                    city.result.done.append(name)
                except (CensusError, OSError, ValueError) as exc:
                    city.result.failed[name] = f"{type(exc).__name__}: {exc}"
                    logger.error("district %s failed: %s", name, exc)
                except Exception as exc:  # noqa: BLE001 - a worker crash must not stop others
                    city.result.failed[name] = f"{type(exc).__name__}: {exc}"
                    logger.error("district %s failed:\n%s", name, traceback.format_exc())
                if progress:
                    progress(finished(), total)
                pending[city.key] -= 1
                if not pending[city.key]:
                    _merge_city(city)
        finally:
            # a second, impatient Ctrl-C must not cut this short (the workers take a few
            # seconds to close)
            with _sigint_ignored():
                client.close()
                if cluster is not None:
                    cluster.close()
                    # a district stopped by Ctrl-C (or a worker's death) leaves its
                    # temporary folder: its process is gone now, so clear it now
                    for parent in {f.parent for city in cities for _, _, f in city.todo}:
                        clean_stale_temporaries(parent)
    else:
        for city in cities:
            _merge_city(city)


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
        Address of a running dask scheduler, e.g. ``tcp://10.0.0.5:8786``. Its
        workers need the same census version and the inputs and ``out_dir`` on a
        shared filesystem at the same paths (see docs/scale.md).
    force : bool, default False
        Recompute districts that are already done.
    progress : callable, optional
        Called as ``progress(done, total)``.

    Returns
    -------
    BatchResult
    """
    loaded = load_config(config_path)
    chash = config_hash(loaded.config)
    out = Path(out_dir) if out_dir else Path(loaded.config.outputs.dir) / f"batch-{chash}"
    out = out.resolve()
    city = _plan_city(
        loaded,
        districts,
        key="city",
        base=out / "districts",
        city_dir=out / "city",
        out=out,
        force=force,
    )
    _run_cities([city], workers=workers, scheduler=scheduler, progress=progress)
    return city.result


def run_province(
    province_path: str | Path,
    *,
    out_dir: str | Path | None = None,
    workers: int = 2,
    scheduler: str | None = None,
    force: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ProvinceResult:
    """Run a province (several cities) district by district on one dask cluster.

    Every district of every city is one task; a city is merged (streaming, see
    :mod:`census.batch_merge`) into ``<out>/cities/<city>/`` as soon as its
    districts are done, and when every city is, the province roll-up is written
    to ``<out>/province/`` (:func:`census.province.write_province`). Resumable
    like :func:`run_batch`: districts done with the same config are skipped, and
    a city folder that already merges exactly those districts is kept.

    Parameters
    ----------
    province_path : str or pathlib.Path
        Province TOML (:func:`census.province.load_province`).
    out_dir : str or pathlib.Path, optional
        Batch folder; default ``<first city's outputs.dir>/province-<name>``.
    workers, scheduler, force, progress
        As in :func:`run_batch`.

    Returns
    -------
    ProvinceResult
    """
    from census.province import load_province, safe_name, write_province

    province = load_province(province_path)
    loaded = {c.name: load_config(c.config) for c in province.cities}
    first = loaded[province.cities[0].name].config
    out = (
        Path(out_dir)
        if out_dir
        else Path(first.outputs.dir) / f"province-{safe_name(province.name)}"
    )
    out = out.resolve()
    cities = [
        _plan_city(
            loaded[c.name],
            c.districts,
            key=safe_name(c.name),
            base=out / "districts" / safe_name(c.name),
            city_dir=out / "cities" / safe_name(c.name),
            out=out,
            force=force,
        )
        for c in province.cities
    ]
    _run_cities(cities, workers=workers, scheduler=scheduler, progress=progress)
    result = ProvinceResult(
        out_dir=out,
        cities={c.name: city.result for c, city in zip(province.cities, cities, strict=True)},
    )
    if all(r.city_dir is not None for r in result.cities.values()):
        result.province_dir = write_province(
            province,
            {name: r.city_dir for name, r in result.cities.items()},
            out / "province",
            overwrite=True,
        )
    return result
