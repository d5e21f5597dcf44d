"""Shared fixtures: tiny layers with known answers, written to tmp_path."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from census.config import PROJECT_ROOT

DEMO_DIR = PROJECT_ROOT / "data" / "raw" / "demo"
BOUNDARIES = PROJECT_ROOT / "data" / "raw" / "boundaries" / "hangzhou_districts_2021_gcj02.geojson"
EPW = PROJECT_ROOT / "data" / "raw" / "weather" / "CHN_Zhejiang.Hangzhou.584570_CSWD.epw"

# Two hand-made "districts" in EPSG:4549, 10 km x 10 km each, side by side (near Hangzhou).
X0, Y0 = 500_000.0, 3_340_000.0


@pytest.fixture
def two_districts() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"adcode": [1, 2], "name_zh": ["甲区", "乙区"], "name_en": ["Alpha", "Beta"]},
        geometry=[
            shapely.box(X0, Y0, X0 + 10_000, Y0 + 10_000),
            shapely.box(X0 + 10_000, Y0, X0 + 20_000, Y0 + 10_000),
        ],
        crs="EPSG:4549",
    )


@pytest.fixture
def districts_file(tmp_path: Path, two_districts: gpd.GeoDataFrame) -> Path:
    path = tmp_path / "districts.gpkg"
    two_districts.to_file(path, layer="districts")
    return path


def pytest_configure(config):
    """Generate the synthetic demo layers once, before collection, if they are missing.

    Under pytest-xdist only the controller does (it configures before it starts the
    workers), so that two workers never write the same files at once.
    """
    if hasattr(config, "workerinput"):
        return
    from census.config import load_config
    from census.io.demo import ensure_demo_data

    ensure_demo_data(load_config().config)
