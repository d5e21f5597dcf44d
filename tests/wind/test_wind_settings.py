"""Tests of census.settings.wind and the assumption table census/resources/wind.yaml."""

from __future__ import annotations

import copy

import pytest
import yaml
from pydantic import ValidationError

from census.resources import load_assumptions, read_text
from census.settings.wind import WAKE_MODELS, WindConfig

UNIT_TOKENS = {
    "h",
    "m",
    "m2",
    "km2",
    "w",
    "kw",
    "mw",
    "kwp",
    "mwp",
    "kwh",
    "mwh",
    "w_m2",
    "kwh_m2",
    "m_s",
    "deg",
    "frac",
    "-",
}


@pytest.fixture
def defaults() -> dict:
    return load_assumptions("wind")[0]


def test_defaults_validate(defaults):
    config = WindConfig.model_validate(defaults)
    assert config.turbine.library == "turbine-models"
    assert config.turbine.type == "2020ATB_NREL_Reference_5.5MW_175"
    assert config.turbine.hub_height_m == 140.0
    assert config.profile.roughness_length_m["mudflat"] == 0.0003
    assert config.wake.model in WAKE_MODELS


def test_every_entry_has_unit_and_source():
    _, ledger = load_assumptions("wind")
    assert ledger, "wind.yaml is empty"
    for row in ledger:
        assert row["unit"] in UNIT_TOKENS, row
        assert len(str(row["source"]).strip()) > 10, row


def test_no_python_defaults(defaults):
    """Every field must come from wind.yaml: removing any leaf breaks validation."""
    tree = yaml.safe_load(read_text("wind.yaml"))
    for section, entries in tree.items():
        for key in entries:
            if section == "profile" and key == "roughness_length_m":
                continue  # a mapping; an empty one is allowed
            broken = copy.deepcopy(defaults)
            del broken[section][key]
            with pytest.raises(ValidationError, match="Field required"):
                WindConfig.model_validate(broken)


def test_unknown_key_is_rejected(defaults):
    bad = copy.deepcopy(defaults)
    bad["layout"]["spacing_diagonal_d"] = 3
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        WindConfig.model_validate(bad)


def test_user_curve_needs_rotor_diameter(defaults):
    bad = copy.deepcopy(defaults)
    bad["turbine"]["power_curve_csv"] = "curve.csv"
    with pytest.raises(ValidationError, match="rotor_diameter_m"):
        WindConfig.model_validate(bad)


def test_bad_values_rejected(defaults):
    for section, key, value in [
        ("losses", "availability_frac", 1.2),
        ("layout", "spacing_along_d", 0),
        ("wake", "model", "jensen"),
        ("resource", "atlas_pattern", "wind.tif"),
    ]:
        bad = copy.deepcopy(defaults)
        bad[section][key] = value
        with pytest.raises(ValidationError):
            WindConfig.model_validate(bad)
    bad = copy.deepcopy(defaults)
    bad["profile"]["roughness_length_m"]["mudflat"] = 0.0
    with pytest.raises(ValidationError, match="> 0 m"):
        WindConfig.model_validate(bad)
