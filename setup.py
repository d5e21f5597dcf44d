"""Build hook: ship the real data of ``data/raw`` inside the wheel as ``census/_data/raw``.

The repository keeps ``data/raw/`` (boundaries, weather year, SOURCES.md) where a
checkout reads it; a wheel has no repository around it, so the build copies those files
into the package. The generated demo layers (``data/raw/demo``) are never shipped:
an installed census generates them into the user's cache (census.paths.demo_dir).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

SHIPPED = ("boundaries", "weather", "SOURCES.md")


class BuildWithData(build_py):
    """build_py that also copies the shipped real data into the built package."""

    def run(self) -> None:
        super().run()
        raw = Path(__file__).resolve().parent / "data" / "raw"
        target = Path(self.build_lib) / "census" / "_data" / "raw"
        for name in SHIPPED:
            src = raw / name
            if src.is_dir():
                shutil.copytree(src, target / name, dirs_exist_ok=True)
            elif src.is_file():
                target.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, target / name)


setup(cmdclass={"build_py": BuildWithData})
