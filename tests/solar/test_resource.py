"""Tests of census.solar.resource: sun position at mid-interval."""

from __future__ import annotations

import pandas as pd
import pvlib
import pytest
from numpy.testing import assert_allclose

from census.exceptions import WeatherError
from census.solar.resource import evaluation_times, sun_geometry

INDEX = pd.date_range("2005-06-21 10:00", periods=3, freq="1h", tz="Asia/Shanghai")
META = {"latitude": 30.23, "longitude": 120.17, "altitude": 41.7}


@pytest.mark.parametrize(
    ("label", "shift"),
    [("beginning", "30min"), ("ending", "-30min"), ("instantaneous", "0min")],
)
def test_evaluation_times(label, shift):
    got = evaluation_times(INDEX, {**META, "interval_label": label})
    pd.testing.assert_index_equal(got, INDEX + pd.Timedelta(shift))


def test_instantaneous_offset():
    got = evaluation_times(INDEX, {"interval_label": "instantaneous", "time_offset_h": 0.25})
    assert got[0] == INDEX[0] + pd.Timedelta(minutes=15)


def test_unknown_label():
    with pytest.raises(WeatherError, match="interval_label"):
        evaluation_times(INDEX, {"interval_label": "middle"})


def test_sun_geometry_matches_pvlib_at_mid_hour():
    weather = pd.DataFrame({"pressure": 101325.0, "temp_air": 25.0}, index=INDEX)
    got = sun_geometry(weather, {**META, "interval_label": "beginning"})
    mid = INDEX + pd.Timedelta(minutes=30)
    ref = pvlib.solarposition.get_solarposition(
        mid, 30.23, 120.17, 41.7, pressure=101325.0, temperature=25.0
    )
    assert_allclose(got["apparent_zenith"], ref["apparent_zenith"], rtol=1e-12)
    assert_allclose(got["dni_extra"], pvlib.irradiance.get_extra_radiation(mid), rtol=1e-12)
    pd.testing.assert_index_equal(got.index, INDEX)
    # near the June solstice noon at 30.2 N the zenith is about 30.23 - 23.44 = 6.8 deg
    assert got["apparent_zenith"].min() < 10.0
