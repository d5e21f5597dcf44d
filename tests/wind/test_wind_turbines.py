"""Tests of census.wind.turbines: offline library turbines and user curves."""

from __future__ import annotations

import io
import socket
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from windpowerlib import power_output

from census.exceptions import ConfigError, InputError
from census.settings.wind import TurbineConfig
from census.wind.turbines import library_turbine_types, make_turbine, turbine_models_types

DATA = Path(__file__).resolve().parents[1] / "data" / "wind"


def _cfg(**kw) -> TurbineConfig:
    base = dict(
        library="windpowerlib",
        type="V126/3450",
        hub_height_m=117.0,
        rotor_diameter_m=None,
        power_curve_csv=None,
    )
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


NREL_DEFAULT = "2020ATB_NREL_Reference_5.5MW_175"


def _package_csv(name: str) -> pd.DataFrame:
    """The turbine-models package's own CSV, read directly (independent of census)."""
    path = resources.files("turbine_models").joinpath("data", "Onshore", f"{name}.csv")
    return pd.read_csv(io.StringIO(path.read_text(encoding="utf-8")))


def test_default_is_a_current_low_specific_power_turbine(no_network):
    from census.resources import load_assumptions

    cfg = TurbineConfig.model_validate(load_assumptions("wind")[0]["turbine"])
    spec = make_turbine(cfg)
    assert cfg.library == "turbine-models" and spec.turbine_type == NREL_DEFAULT
    # turbine-models specs/Onshore/2020ATB_NREL_Reference_5.5MW_175.yaml: 5500 kW, 175 m
    assert_allclose(spec.rated_power_mw, 5.5, rtol=1e-12)
    assert spec.rotor_diameter_m == 175.0 and spec.hub_height_m == 140.0
    # 5.5e6 W / (pi 87.5^2 m2) = 228.7 W/m2: a low-specific-power machine (V126: 276.7)
    assert_allclose(spec.nominal_power_w / (np.pi * 87.5**2), 228.7, rtol=1e-3)
    assert "turbine-models 0.2.2" in spec.source


def test_turbine_models_curve_equals_package_data(no_network):
    spec = make_turbine(_cfg(library="turbine-models", type=NREL_DEFAULT, hub_height_m=140.0))
    raw = _package_csv(NREL_DEFAULT)
    assert_allclose(spec.power_curve["wind_speed"], raw["Wind Speed [m/s]"], rtol=0, atol=0)
    assert_allclose(spec.power_curve["value"], raw["Power [kW]"] * 1e3, rtol=0, atol=0)
    # the curve as windpowerlib sees it: its power_curve() at table speeds returns the table
    ws = raw["Wind Speed [m/s]"].to_numpy(float)
    p = power_output.power_curve(
        pd.Series(ws), spec.power_curve["wind_speed"], spec.power_curve["value"]
    )
    assert_allclose(np.asarray(p), raw["Power [kW]"] * 1e3, rtol=1e-12)


@pytest.mark.parametrize("name", ["2023NREL_Bespoke_6MW_196", "2023NREL_Bespoke_6MW_170"])
def test_other_package_turbines_load(name, no_network):
    spec = make_turbine(_cfg(library="turbine-models", type=name, hub_height_m=140.0))
    assert_allclose(spec.rated_power_mw, 6.0, rtol=1e-12)
    # the package's 196 m curve tops its 6000 kW rating by 3.9 kW (its own data)
    assert_allclose(spec.power_curve["value"].max(), 6.0e6, rtol=1e-3)
    assert name in turbine_models_types()


def test_unknown_turbine_models_type_lists_close_names():
    with pytest.raises(ConfigError, match=r"turbine-models.*Close names: \[.*5.5MW_175"):
        make_turbine(_cfg(library="turbine-models", type="2020ATB_NREL_Reference_5.6MW_175"))
