"""A large run's maps, drawn by a child process beside the rest of its outputs.

The outputs stage of a run with many sites writes ``sites.parquet`` first; a child
process (``python -m census.maps_process JOB RESULT``) then reads the map columns of
that file and calls :func:`census.maps.write_maps` into the run's temporary folder,
while the run writes its tables, workbook and report. Drawing the maps holds the GIL
(JSON, shapely, pyproj calls of a few ms each), so a thread would not run beside the
report; a subprocess rather than multiprocessing because a dask worker (``census
batch``) is a daemonic process, which may not start multiprocessing children.

The job (districts, turbines, totals, zones and the map settings: small tables) goes
to the child as a pickle in a hidden file of the run's own temporary folder, and the
list of files written and any warnings come back the same way; both files are gone
before the folder is committed.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import tempfile
import uuid
import warnings
from pathlib import Path
from typing import Any

from census.exceptions import OutputWriteError

__all__ = ["MapsProcess", "main"]

_FIX = (
    "Rerun; if it fails again, set [outputs] map = false and draw the maps afterwards "
    "with `census map RUN_DIR`. Nothing was left half-written."
)


class MapsProcess:
    """:func:`census.maps.write_maps` of a GeoParquet site table, in a child process.

    Parameters
    ----------
    folder : str or os.PathLike
        Folder the maps are written into (a run's temporary folder).
    parquet : str or os.PathLike
        The run's ``sites.parquet`` (EPSG:4549).
    columns : list of str
        Columns of ``parquet`` the maps read (the geometry column included).
    kwargs : dict
        Every other argument of :func:`census.maps.write_maps` (picklable).
    """

    def __init__(
        self,
        folder: str | os.PathLike[str],
        parquet: str | os.PathLike[str],
        columns: list[str],
        kwargs: dict[str, Any],
    ) -> None:
        self.folder = Path(folder)
        tag = uuid.uuid4().hex[:8]
        self._job = self.folder / f".maps-job-{tag}.pkl"
        self._result = self.folder / f".maps-result-{tag}.pkl"
        job = {"parquet": str(parquet), "columns": list(columns), "kwargs": kwargs}
        with open(self._job, "wb") as fh:
            pickle.dump(job, fh, protocol=pickle.HIGHEST_PROTOCOL)
        self._stderr = tempfile.TemporaryFile()
        self._proc: subprocess.Popen[bytes] | None = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "census.maps_process",
                str(self.folder),
                str(self._job),
                str(self._result),
            ],
            stdout=subprocess.DEVNULL,
            stderr=self._stderr,
        )

    def wait(self) -> list[Path]:
        """Wait for the maps; return the files written (city map first).

        Warnings the child raised are raised again here.

        Raises
        ------
        OutputWriteError
            The child failed; the message is its reason.
        """
        assert self._proc is not None
        rc = self._proc.wait()
        self._proc = None
        self._stderr.seek(0)
        err = self._stderr.read().decode("utf-8", "replace").strip()
        self._stderr.close()
        try:
            if rc != 0:
                reason = err.splitlines()[-1] if err else f"the process exited with {rc}"
                own = "OutputWriteError: "
                if reason.startswith(own):  # the child's own clear message (a full disk)
                    raise OutputWriteError(reason[len(own) :])
                raise OutputWriteError(
                    f"Could not write the maps in {self.folder}: {reason}. {_FIX}"
                )
            with open(self._result, "rb") as fh:
                result = pickle.load(fh)
        finally:
            self._job.unlink(missing_ok=True)
            self._result.unlink(missing_ok=True)
        for category, message in result["warnings"]:
            cls = getattr(__import__("builtins"), category, None)
            if not (isinstance(cls, type) and issubclass(cls, Warning)):
                cls = UserWarning
            warnings.warn(message, cls, stacklevel=2)
        return [Path(p) for p in result["paths"]]

    def cancel(self) -> None:
        """Stop the child if it still runs and remove its job files (no-op after wait)."""
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.kill()
            self._proc.wait()
            self._proc = None
        if not self._stderr.closed:
            self._stderr.close()
        self._job.unlink(missing_ok=True)
        self._result.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    """``python -m census.maps_process FOLDER JOB RESULT``: draw the maps of a job file.

    Exit status 0 with the result file written, or 1 with the reason on stderr.
    """
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 3:
        print("usage: python -m census.maps_process FOLDER JOB RESULT", file=sys.stderr)
        return 2
    folder, job_path, result_path = args
    try:
        import geopandas as gpd

        from census.maps import write_maps

        with open(job_path, "rb") as fh:
            job = pickle.load(fh)
        sites = gpd.read_parquet(job["parquet"], columns=job["columns"])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("default")
            paths = write_maps(folder, sites, **job["kwargs"])
        result = {
            "paths": [str(p) for p in paths],
            "warnings": [(w.category.__name__, str(w.message)) for w in caught],
        }
        with open(result_path, "wb") as fh:
            pickle.dump(result, fh, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # every failure reaches the parent as one line
        print(f"{type(exc).__name__}: {exc}".replace("\n", " "), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
