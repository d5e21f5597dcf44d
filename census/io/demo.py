"""The synthetic demo layers: generated on first use, never committed or shipped.

:mod:`census.demo.generate` writes them deterministically (same bytes on every run)
into :data:`census.config.DEMO_DIR` (``data/raw/demo/`` of a checkout, the user's
cache folder for an installed wheel); a run whose configuration points there
generates them in process when the folder is missing.
"""

from __future__ import annotations

import logging

from census.config import DEMO_DIR, CensusConfig
from census.exceptions import InputError

__all__ = ["ensure_demo_data", "uses_demo_data"]

logger = logging.getLogger(__name__)


def uses_demo_data(config: CensusConfig) -> bool:
    """Whether any enabled input of ``config`` lies in the demo folder."""
    from census.config import is_demo_path

    paths = [lc.path for lc in config.layers.values() if lc.enabled]
    paths += [ec.path for ec in config.exclusions.values() if ec.enabled]
    paths += [config.terrain.dem, config.terrain.landcover, config.wind.resource.atlas_dir]
    return any(is_demo_path(p) for p in paths)


def ensure_demo_data(config: CensusConfig) -> bool:
    """Generate the demo layers when ``config`` needs them and they are missing.

    Returns
    -------
    bool
        True when the layers were generated now.

    Raises
    ------
    InputError
        When generating fails (e.g. the folder is not writable); the message says
        where and how to retry.
    """
    if DEMO_DIR.exists() or not uses_demo_data(config):
        return False
    from census.demo.generate import write_demo

    logger.warning("generating the synthetic demo layers in %s (first use, ~15 s)", DEMO_DIR)
    try:
        write_demo(DEMO_DIR)
    except OSError as exc:
        raise InputError(
            f"Generating the demo layers into {DEMO_DIR} failed: {exc}. Make that folder "
            "writable (or free disk space) and run again, or point --config at your own "
            "layers."
        ) from exc
    if not DEMO_DIR.exists():
        raise InputError(f"Generating the demo layers left no folder {DEMO_DIR}.")
    return True
