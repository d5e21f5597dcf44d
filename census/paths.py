"""Where census finds its shipped data and puts the generated demo, checkout or wheel.

In a source checkout (an editable install) the real data ships in ``data/raw/`` of
the repository, the synthetic demo layers are generated into ``data/raw/demo/`` and
runs write to ``data/processed/`` there. An installed wheel carries the real data
as package data (``census/_data/raw/``), generates the demo into the user's cache
folder (platformdirs) and writes runs under the current folder. Nothing here touches
the disk on import; the cache folder is only named.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "PACKAGE_DIR",
    "PROJECT_ROOT",
    "RAW_DIR",
    "demo_dir",
    "in_checkout",
    "outputs_root",
]

PACKAGE_DIR = Path(__file__).resolve().parent
"""The installed ``census`` package folder."""

PROJECT_ROOT = PACKAGE_DIR.parent
"""Folder holding ``census/``: the repository in a checkout, site-packages in a wheel."""


def in_checkout() -> bool:
    """Whether census runs from its source repository (not from an installed wheel)."""
    return (PROJECT_ROOT / "pyproject.toml").is_file() and (PROJECT_ROOT / "data" / "raw").is_dir()


RAW_DIR = PROJECT_ROOT / "data" / "raw" if in_checkout() else PACKAGE_DIR / "_data" / "raw"
"""The shipped real data (boundaries, weather year, SOURCES.md)."""


def demo_dir() -> Path:
    """Folder of the generated synthetic demo layers.

    ``data/raw/demo`` in a checkout; in a wheel, ``census/demo-<version>`` under the
    user's cache folder (``platformdirs.user_cache_dir``; honours ``XDG_CACHE_HOME``).
    """
    if in_checkout():
        return RAW_DIR / "demo"
    from importlib.metadata import PackageNotFoundError, version

    import platformdirs

    try:
        ver = version("census")
    except PackageNotFoundError:  # pragma: no cover - census imported without metadata
        ver = "0"
    return Path(platformdirs.user_cache_dir("census", appauthor=False)) / f"demo-{ver}"


def outputs_root() -> Path:
    """Folder the default config's relative output folder counts from."""
    return PROJECT_ROOT if in_checkout() else Path.cwd()
