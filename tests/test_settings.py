"""The configuration sits below every stage: census.config imports no stage module."""

from __future__ import annotations

import subprocess
import sys

import pydantic
import pytest

from census.settings.base import Strict
from census.settings.costs import CostsConfig
from census.settings.pv import PVConfig
from census.settings.rules import RulesConfig
from census.settings.wind import WindConfig

STAGES = (
    "census.sites",
    "census.solar",
    "census.wind",
    "census.supply",
    "census.rollup",
    "census.pipeline",
    "census.report",
    "census.maps",
    "census.io",
)


def test_config_imports_no_stage():
    code = (
        "import sys, census.config\n"
        "print('\\n'.join(sorted(m for m in sys.modules if m.startswith('census.'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    loaded = [m for m in out if m.startswith(STAGES)]
    assert loaded == [], f"census.config imported stage modules {loaded}"


@pytest.mark.parametrize("model", [RulesConfig, PVConfig, WindConfig, CostsConfig])
def test_every_section_model_is_strict(model):
    assert issubclass(model, Strict)
    assert model.model_config["extra"] == "forbid"


def test_strict_refuses_unknown_keys_and_frozen_is_a_class_keyword():
    class Loose(Strict):
        a: int = 1

    class Frozen(Strict, frozen=True):
        a: int = 1

    with pytest.raises(pydantic.ValidationError, match="extra"):
        Loose.model_validate({"a": 1, "b": 2})
    with pytest.raises(pydantic.ValidationError, match="frozen"):
        Frozen().a = 2
    assert Frozen.model_config["extra"] == "forbid"
    Loose().a = 2  # the base itself is not frozen
