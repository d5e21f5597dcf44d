"""Tests of census.schema.require_columns, the one required-columns check."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point

from census.exceptions import SchemaError, WeatherError
from census.schema import missing_columns, require_columns


def test_present_columns_pass():
    require_columns(pd.DataFrame({"a": [1], "b": [2]}), ["a", "b"], what="f")


def test_message_names_expected_missing_got_and_fix():
    df = pd.DataFrame({"a": [1], "z": [0]})
    with pytest.raises(SchemaError) as info:
        require_columns(df, ["a", "b", "c"], what="rollup", fix="Run the screening first.")
    assert str(info.value) == (
        "rollup needs columns ['a', 'b', 'c']; missing ['b', 'c'], got ['a', 'z']. "
        "Run the screening first."
    )


def test_alternatives_any_one_satisfies():
    assert missing_columns(["district", "x"], [("adcode", "district"), "x"]) == []
    assert missing_columns(["x"], [("adcode", "district"), "x"]) == [("adcode", "district")]
    with pytest.raises(SchemaError, match=r"missing \['adcode' or 'district'\]"):
        require_columns(pd.DataFrame({"x": [1]}), [("adcode", "district"), "x"], what="t")


def test_error_class_is_chosen_by_caller():
    with pytest.raises(WeatherError, match="weather file 'w.csv' needs columns"):
        require_columns(
            pd.DataFrame({"ghi": [1.0]}), ["dni"], what="weather file 'w.csv'", error=WeatherError
        )


def test_geometry_counts_as_a_column():
    gdf = gpd.GeoDataFrame({"site_id": ["a"]}, geometry=[Point(0, 0)], crs="EPSG:4549")
    require_columns(gdf, ["site_id", "geometry"], what="layout")
    with pytest.raises(SchemaError, match=r"missing \['eligible'\]"):
        require_columns(gdf, ["site_id", "eligible", "geometry"], what="layout")
