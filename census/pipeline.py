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
from contextlib import ExitStack, contextmanager
from pathlib import Path

import geopandas as gpd

from census.config import CensusConfig, LoadedConfig, load_config
from census.io.demo import ensure_demo_data
from census.io.runfolder import RunFolder
from census.result import CensusResult
from census.stages import STAGES, RunContext
from census.stages.load import input_paths, protected_paths
from census.stages.outputs import SYNTHETIC_NOTE, write_outputs

__all__ = ["RELEASED_AFTER", "CensusResult", "SYNTHETIC_NOTE", "config_hash", "run_census"]

logger = logging.getLogger(__name__)

ProgressFn = Callable[[str, int, int], None]


def config_hash(config: CensusConfig) -> str:
    """Return a short SHA-256 of the resolved configuration (for run names and resume)."""
    text = json.dumps(config.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


class _Recorder(logging.Handler):
    """Record census's own WARNING log records (those not already a Python warning)."""

    def __init__(self, into: list[str]) -> None:
        super().__init__(level=logging.WARNING)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        if not getattr(record, "census_warning", False):
            self.into.append(f"{record.name}: {record.getMessage()}")


@contextmanager
def collect_warnings(into: list[str]) -> Iterator[None]:
    """Record every warning raised or logged inside the block into ``into``.

    A Python warning is appended as ``"<Category>: <message>"`` when it is raised
    (so a file written later in the block, such as ``provenance.json``, holds it)
    and logged at WARNING level; a WARNING record logged by a census module is
    appended as ``"<logger>: <message>"``. Nothing is printed here: where log
    records go is the application's choice (the CLI sends them to stderr).
    """

    def record(message, category, filename, lineno, file=None, line=None) -> None:
        text = f"{category.__name__}: {message}"
        into.append(text)
        logger.warning("%s", text, extra={"census_warning": True})

    recorder = _Recorder(into)
    census_logger = logging.getLogger("census")
    census_logger.addHandler(recorder)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always", UserWarning)
            warnings.showwarning = record
            yield
    finally:
        census_logger.removeHandler(recorder)


def _loaded(config: LoadedConfig | CensusConfig | str | Path | None) -> LoadedConfig:
    if config is None or isinstance(config, (str, Path)):
        return load_config(config)
    if isinstance(config, CensusConfig):
        return LoadedConfig(config=config, user_path=None, user_toml={}, ledger=[])
    return config


RELEASED_AFTER: dict[str, tuple[str, ...]] = {
    "screen sites": ("exclusions", "dem", "landcover"),
    "capacity": ("usable_geometry",),
}
"""Context inputs a run drops once the stage named has used them (the last to read them):
at 1e6 sites the usable geometries and the DEM are ~0.4 GiB that the outputs stage, where
memory peaks, does not need. A stage run by hand keeps them."""


def run_census(
    config: LoadedConfig | CensusConfig | str | Path | None = None,
    districts: list[str | int] | None = None,
    *,
    sites: gpd.GeoDataFrame | None = None,
    out_dir: str | Path | None = None,
    overwrite: bool = False,
    write: bool = True,
    progress: ProgressFn | None = None,
    export_postgis: bool = True,
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
    export_postgis : bool, default True
        When the config sets ``[outputs] postgis``: check the server before the first
        stage and export the run folder once it is committed (``census batch`` passes
        False for its districts and exports its merged city folder instead).

    Returns
    -------
    CensusResult

    Raises
    ------
    census.exceptions.PostGISError
        The export failed; the run folder is complete and the message says how to
        export it later.
    """
    loaded = _loaded(config)
    cfg = loaded.config
    ensure_demo_data(cfg)  # the synthetic demo layers are generated, not committed
    ctx = RunContext(loaded=loaded, requested_districts=districts, config_hash=config_hash(cfg))
    chain = STAGES if write else tuple(s for s in STAGES if s[1] is not write_outputs)
    export = write and export_postgis and bool(cfg.outputs.postgis)
    if export:  # a wrong password or a database without PostGIS stops here, not after the run
        from census.io.postgis import check_configured

        check_configured(cfg.outputs)
    with ExitStack() as stack:
        if write:
            if out_dir is None:
                stamp = ctx.started.strftime("%Y%m%d-%H%M%S")
                out_dir = Path(cfg.outputs.dir) / f"run-{stamp}-{ctx.config_hash}"
            # checked before any work: not an input, replaceable, writable
            folder = RunFolder(out_dir, overwrite=overwrite, inputs=protected_paths(loaded))
            ctx.run_folder = stack.enter_context(folder)  # committed when the block ends
        stack.enter_context(collect_warnings(ctx.warnings))
        for done, (name, stage) in enumerate(chain):
            if progress:
                progress(name, done, len(chain))
            t0 = time.perf_counter()
            sites, ctx = stage(sites, ctx)
            for attr in RELEASED_AFTER.get(name, ()):
                setattr(ctx, attr, None)  # no later stage reads it: its memory is free
            ctx.timings_s[name] = round(time.perf_counter() - t0, 3)
            logger.info("stage %s: %.2f s", name, ctx.timings_s[name])
    if export:  # after the run folder is committed: a failure leaves it complete
        from census.io.postgis import export_configured

        if progress:
            progress("export to PostGIS", len(chain), len(chain))
        export_configured(ctx.run_folder.path, cfg.outputs)
    if progress:
        progress("done", len(chain), len(chain))
    return ctx.to_result(sites)


def _input_paths(cfg: CensusConfig) -> list[Path]:
    """Every input file of a run (kept for callers of the old private name)."""
    return input_paths(cfg)
