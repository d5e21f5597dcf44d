"""census: a renewable-resource census (PV and wind) for Hangzhou from geospatial layers.

Importing census has no side effects: no I/O, no logging set-up. The public API:

>>> import census                                   # doctest: +SKIP
>>> result = census.run_census(districts=["Xihu"], write=False)   # doctest: +SKIP
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

__all__ = ["CensusResult", "load_config", "run_census", "__version__"]

try:
    __version__ = version("census")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"


def __getattr__(name: str) -> Any:
    # lazy re-exports keep `import census` light (pvlib, geopandas load on first use)
    if name in ("run_census", "CensusResult"):
        from census import pipeline

        return getattr(pipeline, name)
    if name == "load_config":
        from census.config import load_config

        return load_config
    raise AttributeError(f"module 'census' has no attribute {name!r}")
