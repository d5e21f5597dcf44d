"""Tests of census.wind.profile: wind shear, air density, roughness look-up."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from census.exceptions import ConfigError
from census.resources import load_assumptions
from census.wind.profile import (
    air_density_hub,
    roughness_length_by_category,
    wind_speed_at_height,
)


def test_log_law_hand_value():
    v = wind_speed_at_height(
        pd.Series([5.0, 0.0]),
        height_ref_m=10,
        height_m=117,
        method="log",
        roughness_length_m=0.0003,
    )
    # v2 = v1 ln(h2/z0) / ln(h1/z0); pure arithmetic
    assert_allclose(v.iloc[0], 5.0 * np.log(117 / 0.0003) / np.log(10 / 0.0003), rtol=1e-12)
    assert v.iloc[1] == 0.0


def test_hellman_with_exponent_and_from_roughness():
    v = np.array([6.0])
    assert_allclose(
        wind_speed_at_height(
            v,
            height_ref_m=10,
            height_m=100,
            method="hellman",
            roughness_length_m=0.03,
            hellman_exponent=1 / 7,
        ),
        6.0 * 10 ** (1 / 7),
        rtol=1e-12,
    )
    # exponent None -> 1/ln(h_hub/z0) (Hau 2008, p. 517)
    alpha = 1 / np.log(100 / 0.03)
    assert_allclose(
        wind_speed_at_height(
            v, height_ref_m=10, height_m=100, method="hellman", roughness_length_m=0.03
        ),
        6.0 * 10**alpha,
        rtol=1e-12,
    )


@pytest.mark.parametrize("z0", [0.0002, 0.0003, 0.03, 0.8])
def test_wind_rises_with_height(z0):
    heights = [20, 50, 100, 150]
    v = [
        wind_speed_at_height(
            np.array([5.0]), height_ref_m=10, height_m=h, method="log", roughness_length_m=z0
        )[0]
        for h in heights
    ]
    assert np.all(np.diff(v) > 0)


def test_rougher_surface_shears_more():
    smooth, rough = (
        wind_speed_at_height(
            np.array([5.0]), height_ref_m=10, height_m=100, method="log", roughness_length_m=z0
        )[0]
        for z0 in (0.0002, 0.1)
    )
    assert rough > smooth > 5.0


def test_bad_inputs():
    with pytest.raises(ValueError, match="roughness_length_m"):
        wind_speed_at_height(
            np.array([5.0]), height_ref_m=10, height_m=100, method="log", roughness_length_m=0
        )
    with pytest.raises(ValueError, match="method"):
        wind_speed_at_height(
            np.array([5.0]), height_ref_m=10, height_m=100, method="cubic", roughness_length_m=0.1
        )


def test_density_standard_atmosphere():
    # ISA sea level: 15 °C, 101325 Pa -> 1.225 kg/m3 (R = 287.058 J/(kg K))
    rho = air_density_hub(
        np.array([15.0]),
        np.array([101325.0]),
        temperature_height_asl_m=0,
        pressure_height_asl_m=0,
        hub_height_asl_m=0,
    )
    assert_allclose(rho, 101325.0 / (287.058 * 288.15), rtol=1e-12)
    assert_allclose(rho, 1.225, rtol=1e-3)


def test_density_falls_with_site_elevation():
    t, p = np.array([17.0]), np.array([101156.0])
    low, high = (
        air_density_hub(
            t,
            p,
            temperature_height_asl_m=43.7,
            pressure_height_asl_m=41.7,
            hub_height_asl_m=elev + 117.0,
        )[0]
        for elev in (5.0, 500.0)
    )
    # -1/8 hPa per m and -6.5 K/km over 495 m: about -5 %
    assert 0.93 < high / low < 0.96


def test_roughness_table_entries_match_sources():
    """Every roughness entry of wind.yaml, against the cited table (Troen & Petersen 1989)."""
    table = load_assumptions("wind")[0]["profile"]["roughness_length_m"]
    expected = {  # European Wind Atlas / WAsP roughness table [m]
        "mudflat": 0.0003,
        "water": 0.0002,
        "pond": 0.0002,
        "farmland": 0.03,
        "landfill": 0.03,
        "mine": 0.005,
        "forest": 0.8,
        "rooftop": 1.0,
    }
    assert table == expected


def test_roughness_lookup_and_override():
    cats = pd.Series(["mudflat", "pond", "mudflat"], index=[3, 4, 5])
    override = pd.Series([np.nan, np.nan, 0.01], index=[3, 4, 5])
    z0 = roughness_length_by_category(
        cats, {"mudflat": 0.0003, "pond": 0.0002}, override_m=override
    )
    assert_allclose(z0.to_numpy(), [0.0003, 0.0002, 0.01], rtol=0)
    assert list(z0.index) == [3, 4, 5]


def test_unknown_category_is_config_error():
    with pytest.raises(ConfigError, match=r"\['saltpan'\].*roughness_length_m"):
        roughness_length_by_category(pd.Series(["saltpan"]), {"mudflat": 0.0003})
