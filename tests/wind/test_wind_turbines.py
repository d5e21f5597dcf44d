"""Tests of census.wind.turbines: offline library turbines and user curves."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from numpy.testing import assert_allclose

from census.exceptions import ConfigError, InputError
from census.settings.wind import TurbineConfig
from census.wind.turbines import library_turbine_types, make_turbine

DATA = Path(__file__).resolve().parents[1] / "data" / "wind"


def _cfg(**kw) -> TurbineConfig:
    base = dict(type="V126/3450", hub_height_m=117.0, rotor_diameter_m=None, power_curve_csv=None)
    return TurbineConfig(**{**base, **kw})


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise RuntimeError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)


def test_library_turbine_offline(no_network):
    spec = make_turbine(_cfg())
    # windpowerlib 0.2.2 turbine_data.csv: V126/3450 -> 3.45 MW, 126 m rotor
    assert spec.rated_power_mw == 3.45
    assert spec.rotor_diameter_m == 126.0
    assert spec.power_curve["value"].max() == 3.45e6
    assert (spec.power_curve["wind_speed"].diff().dropna() > 0).all()
    assert "windpowerlib" in spec.source
    wt = spec.to_windpowerlib()
    assert wt.nominal_power == 3.45e6 and wt.hub_height == 117.0


def test_library_lists_types(no_network):
    types = library_turbine_types()
    assert {"V126/3450", "E-126/4200"} <= set(types["turbine_type"])


def test_unknown_type_lists_close_names():
    with pytest.raises(ConfigError, match=r"'V126/3500'.*Close names: \[.*'V126/3450'"):
        make_turbine(_cfg(type="V126/3500"))


def test_user_power_curve_from_csv():
    spec = make_turbine(
        _cfg(
            type="XYZ-3.0-140",
            rotor_diameter_m=140.0,
            hub_height_m=120.0,
            power_curve_csv=DATA / "lowwind_3mw_example.csv",
        )
    )
    assert spec.turbine_type == "XYZ-3.0-140"
    assert_allclose(spec.rated_power_mw, 3.0, rtol=1e-12)
    assert spec.rotor_diameter_m == 140.0
    assert "lowwind_3mw_example.csv" in spec.source


def test_bad_user_curve_names_file(tmp_path):
    bad = tmp_path / "bad_curve.csv"
    bad.write_text("wind_speed_m_s,power_kw\n3,0\n8,1500\n7,1200\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"bad_curve\.csv.*data row 3"):
        make_turbine(_cfg(type="X", rotor_diameter_m=140.0, power_curve_csv=bad))


def test_rotor_override_differs_warns():
    with pytest.warns(UserWarning, match="differs from"):
        spec = make_turbine(_cfg(rotor_diameter_m=140.0))
    assert spec.rotor_diameter_m == 140.0


def test_hub_below_half_rotor_is_error():
    with pytest.raises(ConfigError, match="half the rotor"):
        make_turbine(_cfg(hub_height_m=60.0))
