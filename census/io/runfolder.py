"""Run folders: written atomically, read back by map, compare and batch.

A run is built in a hidden temporary folder beside its destination and renamed
into place only when every file is written, so an interrupted run leaves no
half-written outputs. An existing folder is replaced only with ``overwrite=True``.
"""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from census.exceptions import OutputExistsError
from census.io.outputs import write_csv, write_json

__all__ = ["RunFolder"]

logger = logging.getLogger(__name__)

OWNED_MARKERS = ("provenance.json", "sources.json", "batch.json")
"""Files that mark a folder as census output (a run, a prepared data set, a batch merge)."""


def _replaceable(path: Path) -> bool:
    """Whether --overwrite may replace ``path``: empty, or census output."""
    try:
        entries = list(path.iterdir())
    except OSError:
        return False
    return not entries or any((path / m).is_file() for m in OWNED_MARKERS)


class RunFolder:
    """A run's output folder, built in a temporary folder and renamed on commit.

    Parameters
    ----------
    path : str or pathlib.Path
        Final folder of the run.
    overwrite : bool, default False
        Replace ``path`` if it exists. Without it an existing folder is an
        :class:`~census.exceptions.OutputExistsError`, raised before any work.

    Examples
    --------
    >>> with RunFolder(tmp / "run1") as run:          # doctest: +SKIP
    ...     run.write_csv("summary.csv", table)
    """

    def __init__(self, path: str | Path, *, overwrite: bool = False) -> None:
        self.path = Path(path).expanduser().resolve()
        self.overwrite = overwrite
        if self.path.exists() and not overwrite:
            raise OutputExistsError(
                f"Output folder {self.path} already exists. Choose another --out, or pass "
                "--overwrite to replace it."
            )
        if self.path.exists() and not self.path.is_dir():
            raise OutputExistsError(f"Output path {self.path} exists and is not a folder.")
        if self.path.exists() and not _replaceable(self.path):
            raise OutputExistsError(
                f"Output folder {self.path} is not empty and holds no census output "
                f"({', '.join(OWNED_MARKERS)}); --overwrite only replaces census outputs. "
                "Choose another --out."
            )
        self.tmp = self.path.parent / f".{self.path.name}.tmp-{uuid.uuid4().hex[:8]}"
        self.files: list[str] = []
        self._committed = False

    def __enter__(self) -> RunFolder:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.tmp.mkdir()
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()

    def file(self, name: str) -> Path:
        """Return the temporary path to write output ``name`` to, and record it."""
        if name not in self.files:
            self.files.append(name)
        target = self.tmp / name
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    def final(self, name: str) -> Path:
        """Return where output ``name`` will be after commit."""
        return self.path / name

    def write_csv(self, name: str, table: pd.DataFrame, *, index: bool = False) -> Path:
        """Write a table as UTF-8 CSV (with BOM, so Excel shows Chinese names)."""
        write_csv(self.file(name), table, index=index)
        return self.final(name)

    def write_json(self, name: str, data: Any) -> Path:
        """Write JSON."""
        write_json(self.file(name), data)
        return self.final(name)

    def write_text(self, name: str, text: str) -> Path:
        """Write UTF-8 text."""
        self.file(name).write_text(text, encoding="utf-8")
        return self.final(name)

    def write_layers(self, name: str, layers: dict[str, gpd.GeoDataFrame]) -> Path:
        """Write GeoDataFrames as layers of one GeoPackage."""
        import pyogrio

        target = self.file(name)
        for layer, gdf in layers.items():
            pyogrio.write_dataframe(
                gdf, target, layer=layer, driver="GPKG", append=target.exists(), use_arrow=True
            )
        return self.final(name)

    def commit(self) -> None:
        """Move the finished run into place (replacing an old one only if allowed)."""
        if self._committed:
            return
        backup = None
        if self.path.exists():
            if not self.overwrite:  # appeared while we ran
                self.abort()
                raise OutputExistsError(
                    f"Output folder {self.path} appeared while the run was working; nothing "
                    "was overwritten. Rerun with another --out or --overwrite."
                )
            backup = self.path.parent / f".{self.path.name}.old-{uuid.uuid4().hex[:8]}"
            os.replace(self.path, backup)
        os.replace(self.tmp, self.path)
        if backup is not None:
            shutil.rmtree(backup, ignore_errors=True)
        self._committed = True
        logger.info("wrote run folder %s", self.path)

    def abort(self) -> None:
        """Remove the temporary folder; the destination is left as it was."""
        shutil.rmtree(self.tmp, ignore_errors=True)
