"""A layer's rows typed by an attribute (industrial and logistics roofs -> park_rooftop)."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from census.config import LayerConfig
from census.io.layers import row_categories

PARKS = {"industrial": "park_rooftop", "logistics": "park_rooftop", "warehouse": "park_rooftop"}


def _roofs(uses):
    return gpd.GeoDataFrame(
        {"use": uses},
        geometry=[shapely.box(i * 50.0, 0.0, i * 50.0 + 20.0, 10.0) for i in range(len(uses))],
        crs="EPSG:4549",
    )


def test_values_pick_the_category_case_and_blanks_ignored():
    cfg = LayerConfig(path="x.gpkg", category="rooftop", category_field="use", categories=PARKS)
    uses = ["industrial", " Logistics ", "WAREHOUSE", "residential", None]
    got = row_categories("roofs", cfg, _roofs(uses)).tolist()
    assert got == ["park_rooftop", "park_rooftop", "park_rooftop", "rooftop", "rooftop"]


def test_no_category_field_keeps_the_layer_category():
    cfg = LayerConfig(path="x.gpkg", category="rooftop")
    assert row_categories("roofs", cfg, _roofs(["industrial"])).tolist() == ["rooftop"]


def test_missing_column_warns_and_keeps_the_layer_category():
    cfg = LayerConfig(
        path="x.gpkg", category="rooftop", category_field="building_use", categories=PARKS
    )
    with pytest.warns(UserWarning, match="no column 'building_use'.*park_rooftop"):
        got = row_categories("roofs", cfg, _roofs(["industrial", "logistics"]))
    assert got.tolist() == ["rooftop", "rooftop"]
