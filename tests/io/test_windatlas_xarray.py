"""The wind atlas on xarray: one Dataset with a height dimension, hub-height interpolation.

The hub-height rules are those of census before the move to xarray (and of
windpowerlib's ``logarithmic_interpolation_extrapolation`` for the mean speed):
between the two atlas heights nearest the hub, mean speed linear in ln(h), Weibull
A a power law, k linear in h. Re-stated here with numpy as the reference.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from census.io.windatlas import (
    atlas_at_hub_height,
    atlas_column,
    atlas_frame_to_dataset,
    read_wind_atlas,
    sample_atlas,
)
from census.wind.yield_ import atlas_mean_wind_speed_at_hub, atlas_weibull_at_hub

from .test_windatlas import LONLAT, _linear_field, _points, _write

HEIGHTS = (50, 100, 150, 200)  # Global Wind Atlas layers (and 10 m, left out here)


def _two_nearest(heights, hub):
    h = sorted(heights, key=lambda x: (abs(x - hub), x))[:2]
    return sorted(h)


def _reference(values: dict[int, float], hub: float, *, rule: str) -> float:
    h1, h2 = _two_nearest(values, hub)
    v1, v2 = values[h1], values[h2]
    if rule == "log":  # linear in ln(h)
        return v1 + (v2 - v1) * np.log(hub / h1) / np.log(h2 / h1)
    if rule == "power":  # ln(v) linear in ln(h)
        return v1 * (hub / h1) ** (np.log(v2 / v1) / np.log(h2 / h1))
    return v1 + (v2 - v1) * (hub - h1) / (h2 - h1)  # linear


@pytest.fixture
def atlas_dir(tmp_path):
    paths = {}
    for h in HEIGHTS:
        grow = (h / 100) ** 0.14
        paths[("wind_speed", h)] = _write(
            tmp_path / f"wind_speed_{h}m.tif", _linear_field(-300.0, 2.5, 0.4) * grow
        )
        paths[("weibull_a", h)] = _write(
            tmp_path / f"weibull_a_{h}m.tif", _linear_field(-330.0, 2.8, 0.3) * grow
        )
        paths[("weibull_k", h)] = _write(
            tmp_path / f"weibull_k_{h}m.tif", _linear_field(1.0, 0.005, 0.02) + 0.001 * h
        )
    return paths


def test_read_wind_atlas_has_height_dimension_and_crs(atlas_dir):
    ds = read_wind_atlas(atlas_dir)
    assert set(ds.data_vars) == {"wind_speed", "weibull_a", "weibull_k"}
    assert ds["wind_speed"].dims == ("height", "y", "x")
    assert list(ds["height"].to_numpy()) == [50.0, 100.0, 150.0, 200.0]
    assert ds.sizes["x"] == 40 and ds.sizes["y"] == 40
    assert ds.rio.crs.to_epsg() == 4326
    assert ds["wind_speed"].attrs["units"] == "m s-1"
    # clipped to points: only the cells around them are read
    small = read_wind_atlas(atlas_dir, points=_points(LONLAT).iloc[:1])
    assert small.sizes["x"] <= 5 and small.sizes["y"] <= 5


@pytest.mark.parametrize("hub", [60.0, 80.0, 100.0, 117.0, 140.0, 175.0, 230.0])
def test_hub_height_equals_the_previous_rules(atlas_dir, hub):
    sampled = sample_atlas(read_wind_atlas(atlas_dir), _points(LONLAT))
    hub_ds = atlas_at_hub_height(sampled, hub)
    for i in range(len(LONLAT)):
        speed = {h: float(sampled["wind_speed"].sel(height=h)[i]) for h in HEIGHTS}
        a = {h: float(sampled["weibull_a"].sel(height=h)[i]) for h in HEIGHTS}
        k = {h: float(sampled["weibull_k"].sel(height=h)[i]) for h in HEIGHTS}
        # pure arithmetic on the same inputs: 1e-12
        assert_allclose(hub_ds["wind_speed"][i], _reference(speed, hub, rule="log"), rtol=1e-12)
        assert_allclose(hub_ds["weibull_a"][i], _reference(a, hub, rule="power"), rtol=1e-12)
        assert_allclose(hub_ds["weibull_k"][i], _reference(k, hub, rule="linear"), rtol=1e-12)
        # the per-site functions of the wind yield give the same numbers
        row = pd.Series(
            {
                atlas_column(v, h): d[h]
                for v, d in (("wind_speed", speed), ("weibull_a", a), ("weibull_k", k))
                for h in HEIGHTS
            }
        )
        assert_allclose(
            atlas_mean_wind_speed_at_hub(row, hub_height_m=hub, roughness_length_m=0.01),
            _reference(speed, hub, rule="log"),
            rtol=1e-12,
        )
        a_hub, k_hub = atlas_weibull_at_hub(row, hub_height_m=hub)
        assert_allclose(
            [a_hub, k_hub],
            [_reference(a, hub, rule="power"), _reference(k, hub, rule="linear")],
            rtol=1e-12,
        )


def test_interpolating_the_grid_then_sampling_equals_sampling_then_interpolating(atlas_dir):
    # mean speed and k are linear in their inputs, so the order does not matter (1e-9:
    # float64 arithmetic on float32 rasters)
    atlas = read_wind_atlas(atlas_dir)
    pts = _points(LONLAT)
    grid_first = sample_atlas(atlas_at_hub_height(atlas, 117.0).expand_dims(height=[117.0]), pts)
    points_first = atlas_at_hub_height(sample_atlas(atlas, pts), 117.0)
    for v in ("wind_speed", "weibull_k"):
        assert_allclose(grid_first[v].isel(height=0), points_first[v], rtol=1e-9)


def test_frame_round_trip_and_missing_heights():
    frame = pd.DataFrame(
        {"wind_speed_100m_m_s": [6.0, np.nan], "wind_speed_150m_m_s": [6.6, 7.0], "other": [1, 2]},
        index=[5, 9],
    )
    ds = atlas_frame_to_dataset(frame)
    assert list(ds["site"].to_numpy()) == [5, 9] and list(ds["height"].to_numpy()) == [100, 150]
    hub = atlas_at_hub_height(ds, 117.0)
    assert_allclose(hub["wind_speed"][0], _reference({100: 6.0, 150: 6.6}, 117.0, rule="log"))
    # one usable height for site 9: no two-height interpolation
    assert np.isnan(hub["wind_speed"][1])
