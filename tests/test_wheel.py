"""An installed (non-editable) wheel runs the demo from an empty folder, offline."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from census.config import PROJECT_ROOT

pytestmark = pytest.mark.slow  # builds and installs a wheel, generates the demo: ~1 min

# what a wheel is built from: the package, the shipped real data, the build files
SOURCES = ("census", "data/raw/boundaries", "data/raw/weather", "data/raw/SOURCES.md")
BUILD_FILES = ("pyproject.toml", "setup.py", "README.md")


def _run(cmd, **kw):
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, **kw)
    assert done.returncode == 0, f"{cmd}\n{done.stdout}\n{done.stderr}"
    return done


def test_wheel_runs_the_demo_from_an_empty_folder(tmp_path):
    # a clean copy of the sources: building in the repository would leave build/ and
    # egg-info behind, and the generated demo (data/raw/demo) must not be shipped
    src = tmp_path / "src"
    for rel in SOURCES:
        path = PROJECT_ROOT / rel
        if path.is_dir():
            shutil.copytree(path, src / rel, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            (src / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, src / rel)
    for rel in BUILD_FILES:
        shutil.copy2(PROJECT_ROOT / rel, src / rel)
    dist = tmp_path / "dist"
    # no build isolation: the build uses this environment's setuptools (offline)
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-w",
            str(dist),
            str(src),
        ],
    )
    wheels = list(dist.glob("census-*.whl"))
    assert len(wheels) == 1
    site = tmp_path / "site"
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-index",
            "--target",
            str(site),
            str(wheels[0]),
        ]
    )
    shipped = site / "census" / "_data" / "raw"
    assert (shipped / "weather" / "CHN_Zhejiang.Hangzhou.584570_CSWD.epw").is_file()
    assert (shipped / "SOURCES.md").is_file()
    assert not (shipped / "demo").exists()

    empty = tmp_path / "empty"
    empty.mkdir()
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "XDG_CACHE_HOME")}
    env.update(PYTHONPATH=str(site), HOME=str(home), XDG_CACHE_HOME=str(home / ".cache"))
    where = _run(
        [
            sys.executable,
            "-c",
            "import census, census.paths as p; print(census.__file__);"
            "print(p.in_checkout()); print(p.demo_dir())",
        ],
        cwd=empty,
        env=env,
    ).stdout.split()
    assert Path(where[0]).is_relative_to(site), where  # the wheel's census, not the checkout's
    assert where[1] == "False"
    assert Path(where[2]).is_relative_to(home / ".cache"), where
    run = _run(
        [sys.executable, "-m", "census.cli", "run", "--district", "Binjiang", "--quiet"],
        cwd=empty,
        env=env,
    )
    runs = list((empty / "data" / "processed").glob("run-*"))
    assert len(runs) == 1, run.stdout + run.stderr
    assert (runs[0] / "provenance.json").is_file() and (runs[0] / "sites.gpkg").is_file()
    assert (Path(where[2]) / "demo_sites.gpkg").is_file()  # the demo went to the cache
