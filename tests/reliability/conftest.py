"""Tiny, hand-made inputs for the bad-input catalogue (tests/reliability).

Every case builds its inputs in ``tmp_path``: a study area of two 10 km x 10 km
districts near Hangzhou (EPSG:4549), a few rooftops and ponds, small exclusion
layers, and the shipped CSWD weather year (or a damaged copy of it). A run of this
study area takes about 3 s, so the whole catalogue stays within a few minutes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
import tomli_w
from typer.testing import CliRunner

from census.cli import app

from ..conftest import EPW, X0, Y0

ROOFTOP_M = 30.0
"""Side of each square rooftop [m]; 900 m2, above the 50 m2 minimum of rules.yaml."""
POND_M = 200.0
"""Side of each square pond [m]; 40,000 m2."""


def write_study_area(folder: Path) -> Path:
    """Two 10 km districts side by side, EPSG:4549, with the boundary schema."""
    gdf = gpd.GeoDataFrame(
        {"adcode": [1, 2], "name_zh": ["甲区", "乙区"], "name_en": ["Alpha", "Beta"]},
        geometry=[
            shapely.box(X0, Y0, X0 + 10_000, Y0 + 10_000),
            shapely.box(X0 + 10_000, Y0, X0 + 20_000, Y0 + 10_000),
        ],
        crs="EPSG:4549",
    )
    path = folder / "districts.gpkg"
    gdf.to_file(path, layer="districts")
    return path


def rooftops(n: int = 4, *, dx: float = 0.0, names: list[str] | None = None) -> gpd.GeoDataFrame:
    """``n`` square flat roofs in district Alpha (EPSG:4549), 1 km apart."""
    x = [X0 + 1_000 + i * 1_000 + dx for i in range(n)]
    geoms = [shapely.box(xi, Y0 + 2_000, xi + ROOFTOP_M, Y0 + 2_000 + ROOFTOP_M) for xi in x]
    return gpd.GeoDataFrame(
        {
            "building_id": [f"b{i}" for i in range(n)],
            "name": names if names is not None else [f"roof {i}" for i in range(n)],
        },
        geometry=geoms,
        crs="EPSG:4549",
    )


def ponds(n: int = 2) -> gpd.GeoDataFrame:
    """``n`` square aquaculture ponds in district Beta (EPSG:4549)."""
    x = [X0 + 12_000 + i * 1_000 for i in range(n)]
    geoms = [shapely.box(xi, Y0 + 5_000, xi + POND_M, Y0 + 5_000 + POND_M) for xi in x]
    return gpd.GeoDataFrame(
        {"pond_id": [f"p{i}" for i in range(n)], "water_use": ["aquaculture"] * n},
        geometry=geoms,
        crs="EPSG:4549",
    )


def exclusion_far() -> gpd.GeoDataFrame:
    """One exclusion polygon in a corner of Beta, away from every site."""
    return gpd.GeoDataFrame(
        geometry=[shapely.box(X0 + 19_000, Y0 + 9_000, X0 + 19_500, Y0 + 9_500)], crs="EPSG:4549"
    )


def _drop_none(tree: object) -> object:
    """Remove keys set to None (an override that deletes a key of the base study)."""
    if isinstance(tree, dict):
        return {k: _drop_none(v) for k, v in tree.items() if v is not None}
    return tree


def exclusion_layers() -> list[str]:
    """Exclusion layers the default rules of rooftops and ponds name."""
    from census.config import load_config

    rules = load_config().config.rules
    return sorted(
        {e.layer for cat in ("rooftop", "pond") for e in rules.categories[cat].exclusions}
    )


@dataclass
class Case:
    """A study folder: inputs, a config, and a record of every input's bytes."""

    folder: Path
    config: Path
    extra: dict[str, str] = field(default_factory=dict)

    def write_config(self, overrides: dict | None = None, **base: object) -> Path:
        """(Re)write the config: the base study (``base_config(**base)``) with ``overrides``."""
        from census.config import deep_merge

        tree = _drop_none(deep_merge(base_config(**base), overrides or {}))
        self.config.write_text(tomli_w.dumps(tree), encoding="utf-8")
        return self.config

    def digests(self) -> dict[str, str]:
        """SHA-256 of every file under the folder (inputs and config)."""
        return {
            str(p.relative_to(self.folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(self.folder.rglob("*"))
            if p.is_file()
        }


def base_config(*, weather: str | None = None, shift: float = -1.0) -> dict:
    """Config tree of the tiny study: its own boundaries, layers and exclusions; no terrain,
    no wind atlas, no maps. The shipped CSWD year is one hour late (``time_shift_h = -1``,
    as in the default config)."""
    sites = {"path": "sites.gpkg"}
    return {
        "study_area": {
            "name": "Tiny",
            "boundaries": "districts.gpkg",
            "layer": "districts",
            "crs": "EPSG:4549",
            "tz": "Asia/Shanghai",
        },
        "weather": {"path": weather or EPW.as_posix(), "time_shift_h": shift},
        "layers": {
            "rooftops": {
                **sites,
                "layer": "rooftops",
                "category": "rooftop",
                "id_field": "building_id",
            },
            "ponds": {**sites, "layer": "ponds", "category": "pond", "id_field": "pond_id"},
        },
        "exclusions": {
            name: {"path": "exclusions.gpkg", "layer": name} for name in exclusion_layers()
        },
        "terrain": {"dem": "", "landcover": ""},
        "wind": {"resource": {"atlas_dir": ""}},
        "outputs": {"map": False},
    }


@pytest.fixture
def case(tmp_path: Path) -> Case:
    """Build a complete, valid tiny study in ``tmp_path / "study"``."""
    folder = tmp_path / "study"
    folder.mkdir()
    write_study_area(folder)
    rooftops().to_file(folder / "sites.gpkg", layer="rooftops")
    ponds().to_file(folder / "sites.gpkg", layer="ponds")
    for name in exclusion_layers():
        exclusion_far().to_file(folder / "exclusions.gpkg", layer=name)
    c = Case(folder=folder, config=folder / "census.toml")
    c.write_config()
    return c


@dataclass
class CliResult:
    """Exit code and the two output streams of one CLI call."""

    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        """Both streams."""
        return self.stdout + self.stderr


def cli(*args: str) -> CliResult:
    """Run ``census ARGS`` in process (typer's CliRunner), streams kept apart."""
    res = CliRunner().invoke(app, list(args))
    if res.exception is not None and not isinstance(res.exception, SystemExit):
        raise res.exception  # a traceback is a failed case: show it
    return CliResult(res.exit_code, res.stdout, res.stderr)


def assert_clear_error(res: CliResult, *needles: str) -> None:
    """Exit code 2, one ``census: error:`` message holding every needle, no traceback."""
    assert res.exit_code == 2, (res.exit_code, res.output)
    assert "census: error: " in res.stderr, res.output
    assert "Traceback" not in res.output, res.output
    msg = res.stderr.split("census: error: ", 1)[1]
    for needle in needles:
        assert needle in msg, (needle, msg)


def run_case(case: Case, out: Path, *extra: str) -> CliResult:
    """``census run --config CASE --out OUT`` (quiet progress; warnings still on stderr)."""
    return cli("run", "--config", str(case.config), "--out", str(out), *extra)


def provenance(run_dir: Path) -> dict:
    """Read the run's provenance.json."""
    return json.loads((run_dir / "provenance.json").read_text(encoding="utf-8"))


Mutator = Callable[[Case], None]


def flat(text: str) -> str:
    """Whitespace collapsed (rich wraps long log lines at the console width)."""
    return " ".join(text.split())


def assert_nothing_lost(case: Case, before: dict[str, str], out: Path) -> None:
    """Check inputs are byte-identical and no run folder or hidden temporary folder is left."""
    assert case.digests() == before
    assert not out.exists(), sorted(p.name for p in out.rglob("*"))
    leftovers = [p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}")]
    assert leftovers == []


def assert_warned(res: CliResult, run_dir: Path, *needles: str) -> dict:
    """Run succeeded; each needle is in the printed warnings and in provenance.json."""
    assert res.exit_code == 0, res.output
    assert "Traceback" not in res.output
    prov = provenance(run_dir)
    printed = flat(res.output)
    recorded = flat(" ".join(prov["warnings"]))
    for needle in needles:
        assert needle in printed, (needle, printed)
        assert needle in recorded, (needle, recorded)
    return prov
