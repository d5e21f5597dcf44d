"""The synthetic demo layers: generated on first use, never committed.

``scripts/make_demo_data.py`` writes them deterministically (same bytes on every
run) into ``data/raw/demo/``; a run whose configuration points there generates
them when the folder is missing, so a fresh clone needs no 14 MB of committed data.
"""

from __future__ import annotations

import logging
import subprocess
import sys

from census.config import DEMO_DIR, PROJECT_ROOT, CensusConfig
from census.exceptions import InputError

__all__ = ["GENERATOR", "ensure_demo_data", "uses_demo_data"]

logger = logging.getLogger(__name__)

GENERATOR = PROJECT_ROOT / "scripts" / "make_demo_data.py"
"""The deterministic generator of the demo layers."""


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
        When the generator is not there (census installed without its source tree)
        or fails; the message says how to get the demo layers.
    """
    if DEMO_DIR.exists() or not uses_demo_data(config):
        return False
    if not GENERATOR.exists():
        raise InputError(
            f"The demo layers ({DEMO_DIR}) are missing and their generator {GENERATOR} is not "
            "installed. Run census from a clone of its repository (pip install -e .), or point "
            "--config at your own layers."
        )
    logger.warning("generating the synthetic demo layers in %s (first use, ~15 s)", DEMO_DIR)
    done = subprocess.run(
        [sys.executable, str(GENERATOR), "--out", str(DEMO_DIR)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0 or not DEMO_DIR.exists():
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise InputError(
            f"Generating the demo layers with {GENERATOR} failed: {' | '.join(tail)}. Run "
            f"`python {GENERATOR.relative_to(PROJECT_ROOT)}` to see the full error."
        )
    return True
