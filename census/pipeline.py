"""The orchestrator: :func:`run_census` runs the chain of stages of :mod:`census.stages`.

load -> screen -> capacity -> yield -> roll-up -> outputs. The stages do the work;
this module only builds the run context, times the stages, collects warnings,
and returns a :class:`~census.result.CensusResult`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import geopandas as gpd

from census.config import CensusConfig, LoadedConfig, load_config
from census.io.demo import ensure_demo_data
from census.io.runfolder import RunFolder
from census.result import CensusResult
from census.stages import STAGES, RunContext
from census.stages.load import input_paths
from census.stages.outputs import SYNTHETIC_NOTE

__all__ = ["CensusResult", "SYNTHETIC_NOTE", "config_hash", "run_census"]

logger = logging.getLogger(__name__)

ProgressFn = Callable[[str, int, int], None]


def config_hash(config: CensusConfig) -> str:
    """Return a short SHA-256 of the resolved configuration (for run names and resume)."""
    text = json.dumps(config.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


@contextmanager
def collect_warnings(into: list[str]) -> Iterator[None]:
    """Record every warning raised inside the block into ``into`` and log it.

    Each warning is appended as ``"<Category>: <message>"`` when it is raised (so
    a file written later in the block, such as ``provenance.json``, holds the
    warnings raised before it) and logged at WARNING level on ``census``'s logger.
    """

    def record(message, category, filename, lineno, file=None, line=None) -> None:
        text = f"{category.__name__}: {message}"
        into.append(text)
        logger.warning("%s", text)

    with warnings.catch_warnings():
        warnings.simplefilter("always", UserWarning)
        warnings.showwarning = record
        yield


def _loaded(config: LoadedConfig | CensusConfig | str | Path | None) -> LoadedConfig:
    if config is None or isinstance(config, (str, Path)):
        return load_config(config)
    if isinstance(config, CensusConfig):
        return LoadedConfig(config=config, user_path=None, user_toml={}, ledger=[])
    return config


def run_census(
    config: LoadedConfig | CensusConfig | str | Path | None = None,
    districts: list[str | int] | None = None,
    *,
    sites: gpd.GeoDataFrame | None = None,
    out_dir: str | Path | None = None,
    overwrite: bool = False,
    write: bool = True,
    progress: ProgressFn | None = None,
) -> CensusResult:
    """Run the census.

    Parameters
    ----------
    config : LoadedConfig, CensusConfig, path or None
        A loaded configuration, a TOML file, or ``None`` for the Hangzhou demo.
    districts : list of str or int, optional
        Districts to run (adcode, Chinese or English name); default all.
    sites : geopandas.GeoDataFrame, optional
        A site table to use instead of the config's ``[layers]`` (see
        :func:`census.stages.load_inputs`).
    out_dir : str or pathlib.Path, optional
        Run folder to write. Default: a new folder ``run-<time>-<config hash>``
        under the config's ``[outputs] dir``.
    overwrite : bool, default False
        Replace ``out_dir`` if it exists (only a run folder census wrote).
    write : bool, default True
        Write the output files; ``False`` only computes (the result still holds
        every table the report shows).
    progress : callable, optional
        Called as ``progress(stage_name, done, total)``.

    Returns
    -------
    CensusResult
    """
    loaded = _loaded(config)
    cfg = loaded.config
    ensure_demo_data(cfg)  # the synthetic demo layers are generated, not committed
    ctx = RunContext(loaded=loaded, requested_districts=districts, config_hash=config_hash(cfg))
    if write:
        if out_dir is None:
            stamp = ctx.started.strftime("%Y%m%d-%H%M%S")
            out_dir = Path(cfg.outputs.dir) / f"run-{stamp}-{ctx.config_hash}"
        ctx.run_folder = RunFolder(out_dir, overwrite=overwrite)  # fails fast if it exists
    chain = STAGES if write else [s for s in STAGES if s[0] != "write outputs"]
    with collect_warnings(ctx.warnings):
        for done, (name, stage) in enumerate(chain):
            if progress:
                progress(name, done, len(chain))
            t0 = time.perf_counter()
            sites, ctx = stage(sites, ctx)
            ctx.timings_s[name] = round(time.perf_counter() - t0, 3)
            logger.info("stage %s: %.2f s", name, ctx.timings_s[name])
        if progress:
            progress("done", len(chain), len(chain))
    return ctx.to_result(sites)


def _input_paths(cfg: CensusConfig) -> list[Path]:
    """Every input file of a run (kept for callers of the old private name)."""
    return input_paths(cfg)
