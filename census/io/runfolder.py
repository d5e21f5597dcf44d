"""Run folders: their layout, written atomically, read back by map, compare and batch.

A run folder is what ``census run`` writes (and what ``census batch`` writes for a
whole city and for each district). This module is the one place that knows its
layout (:data:`LAYOUT`, the file names), writes it (:class:`RunFolder`) and reads it
(:class:`RunReader`).

Writing is atomic: files go into a hidden temporary folder beside the destination,
which is renamed into place only when every file is written, so an interrupted or
failed run leaves no half-written folder. Every census folder carries a marker file,
:data:`MARKER` (``census-folder.json``), with the folder's kind, a schema version and
the list of files census wrote. ``overwrite=True`` replaces only a folder whose marker
says census wrote it and that holds nothing else: a user's files are never deleted.

A temporary folder records the process that writes it; one left behind by a killed
run (its process gone) is removed by the next run writing beside it.
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import logging
import os
import shutil
import socket
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from census.exceptions import CensusError, InputError, OutputExistsError, OutputWriteError
from census.io.outputs import write_csv, write_json

__all__ = [
    "LAYOUT",
    "MARKER",
    "SCHEMA_VERSION",
    "RunFolder",
    "RunReader",
    "check_out_dir",
    "clean_stale_temporaries",
    "open_run",
    "register_files",
    "write_file_atomic",
]

logger = logging.getLogger(__name__)

MARKER = "census-folder.json"
"""Marker file of every folder census writes: kind, schema version, files written."""

SCHEMA_VERSION = 1
"""Version of the run-folder layout; a reader refuses a newer one."""

COMMITTED: list[Path] = []
"""Run folders this process has committed, in order (what an interruption leaves complete)."""

_TMP_MARKER = ".census-tmp.json"
"""Inside a temporary folder: the writing process (host, pid), to tell stale ones."""


@dataclass(frozen=True)
class Layout:
    """File names of a run folder (relative to the folder)."""

    sites: str = "sites.gpkg"
    sites_parquet: str = "sites.parquet"
    sites_layer: str = "sites"
    turbines_layer: str = "turbines"
    districts: str = "districts.gpkg"
    districts_layer: str = "districts"
    summary_by_district: str = "summary_by_district.csv"
    summary_by_district_category: str = "summary_by_district_category.csv"
    summary_city: str = "summary_city.csv"
    targets: str = "targets.csv"
    tally: str = "screening_tally.csv"
    pv_profile: str = "pv_hourly_profile_mw.csv"
    assumptions: str = "assumptions.csv"
    config: str = "config.toml"
    provenance: str = "provenance.json"
    supply_curve: str = "supply_curve.csv"
    supply_curve_png: str = "supply_curve.png"
    existing_gap: str = "existing_gap.csv"
    existing_by_district: str = "existing_by_district.csv"
    per_person: str = "per_person_by_district.csv"
    by_zone: str = "summary_by_zone.csv"
    workbook: str = "census.xlsx"
    report: str = "report.html"
    city_map: str = "map.html"
    maps_dir: str = "maps"


LAYOUT = Layout()
"""The run-folder layout: ``LAYOUT.sites == "sites.gpkg"`` and so on."""

SUMMARIES: dict[str, str] = {
    "district_totals": LAYOUT.summary_by_district,
    "by_district": LAYOUT.summary_by_district_category,
    "city": LAYOUT.summary_city,
    "targets": LAYOUT.targets,
    "tally": LAYOUT.tally,
}
"""Summary tables of a run folder by the name :class:`~census.result.CensusResult` gives them."""

_WRITE_FIX = (
    "Free disk space or choose another --out on a disk with room and write permission; "
    "nothing was left half-written."
)


# ----------------------------------------------------------------------------- checks


def _read_marker(path: Path) -> dict[str, Any] | None:
    """Return the marker of folder ``path``, or None when it has no valid one."""
    try:
        data = json.loads((path / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("census_folder") is None:
        return None
    return data


def _census_files(path: Path) -> tuple[bool, list[str]]:
    """Whether ``path`` is a folder census wrote; and the files in it census did not write."""
    marker = _read_marker(path)
    if marker is None or not isinstance(marker.get("schema"), int):
        return False, []
    listed = {str(f) for f in marker.get("files", [])} | {MARKER}
    foreign = []
    for p in sorted(path.rglob("*")):
        rel = p.relative_to(path).as_posix()
        if p.is_dir() and not p.is_symlink():
            continue
        if rel not in listed:
            foreign.append(rel)
    return True, foreign


def _inside(child: Path, parent: Path) -> bool:
    return child == parent or parent in child.parents


def check_out_dir(path: str | Path, *, overwrite: bool, inputs: Iterable[Path] = ()) -> Path:
    """Check that a run may be written to ``path``, before any work is done.

    Parameters
    ----------
    path : str or pathlib.Path
        Destination folder.
    overwrite : bool
        Whether an existing folder may be replaced (only a census folder that holds
        only census files).
    inputs : iterable of pathlib.Path
        The run's input files and folders: the destination may not be, or contain, any.

    Returns
    -------
    pathlib.Path
        The resolved destination.

    Raises
    ------
    OutputExistsError
        The folder exists (without ``overwrite``), is not a census folder, holds
        other files, or is or contains an input.
    OutputWriteError
        Its parent folder cannot be created or written to.
    """
    out = Path(path).expanduser().resolve()
    for inp in inputs:
        try:
            inp = Path(inp).expanduser().resolve()
        except (OSError, RuntimeError):
            continue
        if _inside(inp, out):
            raise OutputExistsError(
                f"--out {out} is or contains the input {inp}; writing there could replace "
                "your own data. Choose an --out folder outside your inputs."
            )
    if out.exists() and not out.is_dir():
        raise OutputExistsError(
            f"Output path {out} exists and is not a folder; choose another --out."
        )
    if out.exists():
        if not overwrite:
            raise OutputExistsError(
                f"Output folder {out} already exists. Choose another --out, or pass "
                "--overwrite to replace it."
            )
        if any(out.iterdir()):
            owned, foreign = _census_files(out)
            if not owned:
                raise OutputExistsError(
                    f"Output folder {out} is not empty and holds no census output (no {MARKER} "
                    "marker); --overwrite only replaces folders census wrote. Choose another --out."
                )
            if foreign:
                shown = ", ".join(foreign[:5]) + (" ..." if len(foreign) > 5 else "")
                raise OutputExistsError(
                    f"Output folder {out} holds files census did not write ({shown}); "
                    "--overwrite would delete them. Move them away or choose another --out."
                )
    _probe_writable(out.parent)
    return out


def _probe_writable(folder: Path) -> None:
    """Create ``folder`` if needed and check that a folder can be made in it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".census-probe-{uuid.uuid4().hex[:8]}"
        probe.mkdir()
        probe.rmdir()
    except OSError as exc:
        raise OutputWriteError(
            f"Cannot write in {folder}: {exc.strerror or exc}. Choose an --out on a disk "
            "where you have write permission."
        ) from exc


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    except OSError:
        return True
    return True


def clean_stale_temporaries(folder: Path) -> list[Path]:
    """Remove temporary run folders in ``folder`` left by killed census runs.

    Only hidden folders named ``.<name>.tmp-<id>`` whose census marker names a
    process of this host that no longer runs are removed; anything else is left.

    Returns
    -------
    list of pathlib.Path
        The folders removed.
    """
    removed = []
    try:
        candidates = [p for p in folder.glob(".*.tmp-*") if p.is_dir()]
    except OSError:
        return removed
    host = socket.gethostname()
    for tmp in candidates:
        try:
            info = json.loads((tmp / _TMP_MARKER).read_text(encoding="utf-8"))
            pid, owner = int(info["pid"]), str(info["host"])
        except (OSError, ValueError, KeyError, TypeError):
            continue  # not ours, or being created right now
        if owner != host or _alive(pid):
            continue
        shutil.rmtree(tmp, ignore_errors=True)
        if not tmp.exists():
            removed.append(tmp)
            logger.info("removed %s, left by a census run (pid %d) that was killed", tmp, pid)
    return removed


# ----------------------------------------------------------------------------- writing


class RunFolder:
    """A census folder, built in a temporary folder and renamed into place on commit.

    Parameters
    ----------
    path : str or pathlib.Path
        Final folder.
    overwrite : bool, default False
        Replace ``path`` if it exists, only if census wrote it (its :data:`MARKER`)
        and it holds only census files.
    kind : str, default "run"
        What the folder is (``"run"``, ``"data"`` for ``census data prepare``),
        recorded in the marker.
    inputs : iterable of pathlib.Path, optional
        The run's inputs: ``path`` may not be, or contain, any of them.

    Raises
    ------
    OutputExistsError, OutputWriteError
        From :func:`check_out_dir`, before any work.

    Examples
    --------
    >>> with RunFolder(tmp / "run1") as run:          # doctest: +SKIP
    ...     run.write_csv("summary.csv", table)
    """

    def __init__(
        self,
        path: str | Path,
        *,
        overwrite: bool = False,
        kind: str = "run",
        inputs: Iterable[Path] = (),
    ) -> None:
        self.path = check_out_dir(path, overwrite=overwrite, inputs=inputs)
        self.overwrite = overwrite
        self.kind = kind
        self.tmp = self.path.parent / f".{self.path.name}.tmp-{uuid.uuid4().hex[:8]}"
        self.files: list[str] = []
        self._committed = False

    def __enter__(self) -> RunFolder:
        clean_stale_temporaries(self.path.parent)
        with self._writing(self.tmp):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.tmp.mkdir()
            info = {"pid": os.getpid(), "host": socket.gethostname(), "target": str(self.path)}
            (self.tmp / _TMP_MARKER).write_text(json.dumps(info), encoding="utf-8")
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            try:
                self.commit()
            except BaseException:
                self.abort()
                raise
            return
        self.abort()
        if isinstance(exc, OSError) and not isinstance(exc, CensusError):
            # a writer that wrote into tmp itself (maps, workbook, chart) hit a disk error
            name = getattr(exc, "filename", None)
            if isinstance(name, (str, os.PathLike)) and _inside(
                Path(name).resolve(), self.tmp.resolve()
            ):
                raise self._write_error(exc, Path(name)) from exc

    def _write_error(self, exc: OSError, path: Path) -> OutputWriteError:
        rel = path
        try:
            rel = self.path / Path(path).resolve().relative_to(self.tmp.resolve())
        except ValueError:
            pass
        reason = exc.strerror or str(exc)
        if exc.errno == errno.ENOSPC:
            reason = "no space left on the disk"
        elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            reason = f"no permission to write ({exc.strerror})"
        return OutputWriteError(f"Could not write {rel}: {reason}. {_WRITE_FIX}")

    @contextmanager
    def _writing(self, target: Path) -> Iterator[None]:
        """Turn an OS or GDAL error while writing ``target`` into an OutputWriteError."""
        try:
            yield
        except CensusError:
            raise
        except OSError as exc:
            raise self._write_error(exc, target) from exc
        except RuntimeError as exc:  # pyogrio's DataSourceError / DataLayerError
            if type(exc).__module__.startswith("pyogrio"):
                raise OutputWriteError(f"Could not write {target}: {exc}. {_WRITE_FIX}") from exc
            raise

    def file(self, name: str) -> Path:
        """Return the temporary path to write output ``name`` to, and record it."""
        if name not in self.files:
            self.files.append(name)
        target = self.tmp / name
        with self._writing(target):
            target.parent.mkdir(parents=True, exist_ok=True)
        return target

    def add(self, path: str | Path) -> str:
        """Record a file written directly into :attr:`tmp` (e.g. by a map writer)."""
        rel = Path(path).resolve().relative_to(self.tmp.resolve()).as_posix()
        if rel not in self.files:
            self.files.append(rel)
        return rel

    def final(self, name: str) -> Path:
        """Return where output ``name`` will be after commit."""
        return self.path / name

    def write_csv(self, name: str, table: pd.DataFrame, *, index: bool = False) -> Path:
        """Write a table as UTF-8 CSV (with BOM, so Excel shows Chinese names)."""
        target = self.file(name)
        with self._writing(target):
            write_csv(target, table, index=index)
        return self.final(name)

    def write_json(self, name: str, data: Any) -> Path:
        """Write JSON."""
        target = self.file(name)
        with self._writing(target):
            write_json(target, data)
        return self.final(name)

    def write_text(self, name: str, text: str) -> Path:
        """Write UTF-8 text."""
        target = self.file(name)
        with self._writing(target):
            target.write_text(text, encoding="utf-8")
        return self.final(name)

    def write_bytes(self, name: str, data: bytes) -> Path:
        """Write bytes (an image)."""
        target = self.file(name)
        with self._writing(target):
            target.write_bytes(data)
        return self.final(name)

    def write_layers(self, name: str, layers: dict[str, gpd.GeoDataFrame]) -> Path:
        """Write GeoDataFrames as layers of one GeoPackage (each streamed in slices)."""
        from census.io.gpkg import write_gpkg_layer

        target = self.file(name)
        with self._writing(target):
            for layer, gdf in layers.items():
                write_gpkg_layer(target, layer, gdf)
        return self.final(name)

    def copy_layer_in_background(self, name: str, layer: str, parquet: str) -> BackgroundCopy:
        """Start copying the GeoParquet output ``parquet`` into layer ``layer`` of ``name``.

        The copy runs in a child process (census.io.gpkg.ParquetCopyProcess) while
        the caller writes other files; call ``wait()`` on the result before using
        the GeoPackage, and ``cancel()`` in a ``finally``.
        """
        from census.io.gpkg import ParquetCopyProcess

        target = self.file(name)
        with self._writing(target):
            proc = ParquetCopyProcess(self.tmp / parquet, target, layer)
        return BackgroundCopy(self, proc, target)

    def commit(self) -> None:
        """Write the marker and move the finished folder into place (replacing only if allowed)."""
        if self._committed:
            return
        with self._writing(self.tmp / MARKER):
            (self.tmp / _TMP_MARKER).unlink(missing_ok=True)
            # every file in the folder, also those inside folders a writer made (profiles.zarr)
            written = sorted(
                p.relative_to(self.tmp).as_posix() for p in self.tmp.rglob("*") if p.is_file()
            )
            marker = {
                "census_folder": self.kind,
                "schema": SCHEMA_VERSION,
                "census_version": _census_version(),
                "written_utc": dt.datetime.now(dt.UTC).isoformat(),
                "files": written,
            }
            write_json(self.tmp / MARKER, marker)
        backup = None
        with self._writing(self.path):
            if self.path.exists():
                if not self.overwrite:  # appeared while we ran
                    raise OutputExistsError(
                        f"Output folder {self.path} appeared while the run was working; nothing "
                        "was overwritten. Rerun with another --out or --overwrite."
                    )
                backup = self.path.parent / f".{self.path.name}.old-{uuid.uuid4().hex[:8]}"
                os.replace(self.path, backup)
            try:
                os.replace(self.tmp, self.path)
            except OSError:
                if backup is not None:
                    os.replace(backup, self.path)  # put the old run back
                raise
        if backup is not None:
            shutil.rmtree(backup, ignore_errors=True)
        self._committed = True
        COMMITTED.append(self.path)
        logger.info("wrote %s", self.path)

    def abort(self) -> None:
        """Remove the temporary folder; the destination is left as it was."""
        shutil.rmtree(self.tmp, ignore_errors=True)


class BackgroundCopy:
    """A GeoPackage layer a child process writes (:meth:`RunFolder.copy_layer_in_background`)."""

    def __init__(self, folder: RunFolder, proc: Any, target: Path) -> None:
        self._folder, self._proc, self.target = folder, proc, target
        self.done = False

    def wait(self) -> None:
        """Wait for the layer; a failure is an OutputWriteError naming the file."""
        with self._folder._writing(self.target):
            self._proc.wait()
        self.done = True

    def cancel(self) -> None:
        """Kill the writer if it still runs (no-op after :meth:`wait`)."""
        if not self.done:
            self._proc.cancel()


def _census_version() -> str:
    import importlib.metadata

    try:
        return importlib.metadata.version("census")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - source tree
        return "0+unknown"


def write_file_atomic(path: str | Path, write: Callable[[Path], object]) -> Path:
    """Write one file atomically: ``write(tmp)`` into a hidden file beside it, then rename.

    Parameters
    ----------
    path : str or pathlib.Path
        Final file.
    write : callable
        Called with the temporary path; writes the file there.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    OutputWriteError
        The file could not be written; nothing is left behind.
    """
    final = Path(path)
    tmp = final.with_name(f".{final.name}.tmp-{uuid.uuid4().hex[:8]}")
    try:
        write(tmp)
        os.replace(tmp, final)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        reason = "no space left on the disk" if exc.errno == errno.ENOSPC else exc.strerror
        raise OutputWriteError(f"Could not write {final}: {reason or exc}. {_WRITE_FIX}") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return final


def register_files(path: str | Path, names: Iterable[str]) -> None:
    """Add files written into a finished census folder (``census map``) to its marker.

    The marker is rewritten atomically; a folder without a marker is left alone.
    """
    folder = Path(path)
    marker = _read_marker(folder)
    if marker is None:
        return
    marker["files"] = sorted(set(marker.get("files", [])) | {str(n) for n in names})
    tmp = folder / f".{MARKER}.tmp-{uuid.uuid4().hex[:8]}"
    try:
        write_json(tmp, marker)
        os.replace(tmp, folder / MARKER)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputWriteError(f"Could not update {folder / MARKER}: {exc}. {_WRITE_FIX}") from exc


# ----------------------------------------------------------------------------- reading


class RunReader:
    """Read access to a finished run folder (written by ``census run`` or ``census batch``).

    Parameters
    ----------
    path : str or pathlib.Path
        The run folder.
    need : iterable of str, optional
        Files the caller needs (names from :data:`LAYOUT`); missing ones are an
        :class:`~census.exceptions.InputError` naming them.

    Raises
    ------
    InputError
        Not a folder, not a census run folder, a newer layout, or a needed file missing.
    """

    def __init__(self, path: str | Path, *, need: Iterable[str] = ()) -> None:
        self.path = Path(path).expanduser()
        if not self.path.is_dir():
            raise InputError(
                f"Run folder {self.path} does not exist or is not a folder. Pass the "
                "folder a `census run` wrote (it holds provenance.json)."
            )
        marker = _read_marker(self.path)
        if marker is None and not (self.path / LAYOUT.provenance).is_file():
            raise InputError(
                f"{self.path} is not a census run folder: it has neither {MARKER} nor "
                f"{LAYOUT.provenance}. Pass the folder a finished `census run` or the city "
                "folder of `census batch` wrote."
            )
        self.marker = marker or {}
        schema = self.marker.get("schema", SCHEMA_VERSION)
        if isinstance(schema, int) and schema > SCHEMA_VERSION:
            raise InputError(
                f"{self.path} was written by a newer census (folder schema {schema}; this "
                f"census reads up to {SCHEMA_VERSION}). Update census."
            )
        missing = [n for n in need if not (self.path / n).exists()]
        if missing:
            raise InputError(
                f"{self.path} is not a finished census run: missing {missing}. Point at a "
                "folder written by `census run` (or the city folder of `census batch`)."
            )

    def file(self, name: str) -> Path:
        """Return the path of file ``name`` of the run."""
        return self.path / name

    def provenance(self) -> dict[str, Any]:
        """Return ``provenance.json``."""
        path = self.file(LAYOUT.provenance)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise InputError(f"{self.path} has no {LAYOUT.provenance}; rerun the census.") from exc
        except (ValueError, UnicodeDecodeError) as exc:
            raise InputError(f"{path}: not valid JSON ({exc}).") from exc
        if not isinstance(data, dict):
            raise InputError(f"{path}: expected a JSON object; got {type(data).__name__}.")
        return data

    def _layers(self, name: str) -> list[str]:
        import pyogrio

        path = self.file(name)
        if not path.is_file():
            raise InputError(f"{self.path} has no {name}; rerun the census.")
        try:
            return [str(n) for n, _ in pyogrio.list_layers(path)]
        except (RuntimeError, OSError) as exc:  # pyogrio's DataSourceError is a RuntimeError
            raise InputError(f"{path}: not a readable GeoPackage ({exc}).") from exc

    def _read_layer(self, name: str, layer: str) -> gpd.GeoDataFrame:
        import pyogrio

        layers = self._layers(name)
        if layer not in layers:
            raise InputError(
                f"{self.file(name)} has no layer {layer!r} (layers: {sorted(layers)})."
            )
        return pyogrio.read_dataframe(self.file(name), layer=layer, use_arrow=True)

    def sites(self) -> gpd.GeoDataFrame:
        """Return the site table (layer ``sites`` of ``sites.gpkg``)."""
        return self._read_layer(LAYOUT.sites, LAYOUT.sites_layer)

    def turbines(self) -> gpd.GeoDataFrame | None:
        """Return the turbine layer, or None when the run has no turbines."""
        if LAYOUT.turbines_layer not in self._layers(LAYOUT.sites):
            return None
        return self._read_layer(LAYOUT.sites, LAYOUT.turbines_layer)

    def districts(self) -> gpd.GeoDataFrame:
        """Return the run's districts (``districts.gpkg``)."""
        return self._read_layer(LAYOUT.districts, LAYOUT.districts_layer)

    def table(self, name: str, *, index_col: int | None = None) -> pd.DataFrame:
        """Return the CSV table ``name`` of the run (UTF-8 with BOM)."""
        path = self.file(name)
        if not path.is_file():
            raise InputError(f"{self.path} has no {name}; rerun the census.")
        try:
            return pd.read_csv(path, encoding="utf-8-sig", index_col=index_col)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            raise InputError(f"{path}: not a readable CSV ({exc}).") from exc

    def summaries(self) -> dict[str, pd.DataFrame]:
        """Return the summary tables present, by result name (``by_district``, ``city`` ...)."""
        return {k: self.table(n) for k, n in SUMMARIES.items() if self.file(n).is_file()}

    def pv_profile(self) -> pd.DataFrame | None:
        """Return the hourly PV profile [MW] (time index), or None if the run has none."""
        if not self.file(LAYOUT.pv_profile).is_file():
            return None
        return self.table(LAYOUT.pv_profile, index_col=0)


def open_run(path: str | Path, *, need: Iterable[str] = ()) -> RunReader:
    """Open a finished run folder for reading (see :class:`RunReader`)."""
    return RunReader(path, need=need)
