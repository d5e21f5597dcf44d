"""Tests of census.settings.pv and the pv.yaml assumption table."""

from __future__ import annotations

import pvlib
import pytest
from numpy.testing import assert_allclose
from pydantic import ValidationError

from census.resources import load_assumptions
from census.settings.pv import PVConfig, default_pv_config
from census.solar.systems import capacity_density_w_m2, gcr_no_winter_shading

HANGZHOU_LATITUDE_DEG = 30.23  # CSWD station 58457 (data/raw/SOURCES.md)


def test_defaults_come_from_pv_yaml():
    values, ledger = load_assumptions("pv")
    config = PVConfig.model_validate(values)
    assert config == default_pv_config()
    assert all(row["key"].startswith("pv.") for row in ledger)
    assert all(str(row["source"]).strip() and str(row["unit"]).strip() for row in ledger)


def test_no_field_defaults():
    # every assumption must come from pv.yaml: an empty dict must not validate
    with pytest.raises(ValidationError):
        PVConfig.model_validate({})


def test_unknown_key_rejected():
    values, _ = load_assumptions("pv")
    values["losses"]["soiling_pct"] = 2.0
    with pytest.raises(ValidationError, match="soiling_pct"):
        PVConfig.model_validate(values)


def test_archetype_technology_must_exist():
    values, _ = load_assumptions("pv")
    values["archetypes"]["ground"]["technology"] = "amorphous"
    with pytest.raises(ValidationError, match="amorphous"):
        PVConfig.model_validate(values)


def test_temperature_parameters_checked():
    values, _ = load_assumptions("pv")
    values["archetypes"]["ground"]["temperature_params"] = {"u0": 25.0}
    with pytest.raises(ValidationError, match="needs parameters"):
        PVConfig.model_validate(values)


def test_pvwatts_v5_loss_stack_is_14_08_percent():
    # Dobos 2014, NREL/TP-6A20-62641: the default losses combine to 14.08 %
    config = default_pv_config()
    assert_allclose(config.losses.total_frac(), 0.1408, atol=5e-5)
    assert config.losses.to_pvlib()["soiling"] == pytest.approx(2.0)


@pytest.mark.parametrize("name", list(default_pv_config().archetypes))
def test_sapm_parameters_equal_pvlib_table(name):
    # King et al. 2004 (SAND2004-3535) table 1, as coded in pvlib TEMPERATURE_MODEL_PARAMETERS
    archetype = default_pv_config().archetypes[name]
    if archetype.temperature_model != "sapm":
        pytest.skip("not a SAPM archetype")
    table = pvlib.temperature.TEMPERATURE_MODEL_PARAMETERS["sapm"]
    matches = [k for k, v in table.items() if v == archetype.temperature_params]
    assert matches, f"{name}: {archetype.temperature_params} is not a SAPM mounting of pvlib"


@pytest.mark.parametrize(
    ("name", "gcr"),
    # values written in pv.yaml, with the GB 50797-2012 row-spacing rule as source
    [("rooftop_flat", 0.69), ("ground", 0.62), ("floating", 0.74)],
)
def test_yaml_gcr_follows_gb50797_rule(name, gcr):
    archetype = default_pv_config().archetypes[name]
    assert archetype.coverage_frac == gcr
    # two-decimal values in the table: tolerance half a unit of the last digit
    assert_allclose(
        gcr_no_winter_shading(archetype.tilt_deg, HANGZHOU_LATITUDE_DEG), gcr, atol=0.005
    )


def test_gcr_rule_hand_value():
    # hand-worked: lat 30.23 -> sun elevation asin(0.648 cos - 0.399 sin) = 21.04 deg;
    # tilt 22: D/L = 0.707 sin 22 / tan 21.04 = 0.6849; GCR = 1 / (cos 22 + 0.6849) = 0.6189
    assert_allclose(gcr_no_winter_shading(22.0, 30.23), 0.6189, atol=1e-4)
    assert gcr_no_winter_shading(0.0, 30.23) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="tilt_deg"):
        gcr_no_winter_shading(90.0, 30.23)


def test_capacity_density_is_coverage_times_efficiency():
    config = default_pv_config()
    ground = config.archetypes["ground"]
    topcon = config.technologies["mono_si_topcon"]
    # 0.62 x 0.225 x 1000 W/m2 = 139.5 W/m2 (= MW/km2)
    assert_allclose(capacity_density_w_m2(ground, topcon), 139.5, rtol=1e-12)
