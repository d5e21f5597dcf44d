"""Tests of census.io.powercurve: reading and validating user power curves."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose

from census.exceptions import InputError, SchemaError
from census.io.powercurve import read_power_curve

DATA = Path(__file__).resolve().parents[1] / "data" / "wind"


def _write(tmp_path: Path, text: str, name: str = "curve.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_fixture_in_kw_and_converts_to_w():
    curve = read_power_curve(DATA / "lowwind_3mw_example.csv")
    assert list(curve.columns) == ["wind_speed", "value"]
    assert len(curve) == 13
    # 3000 kW rated -> 3e6 W; pure arithmetic
    assert_allclose(curve["value"].max(), 3.0e6, rtol=1e-12)
    assert curve["wind_speed"].iloc[0] == 2.5
    # power may drop to 0 after cut-out without being an error
    assert curve["value"].iloc[-1] == 0.0


@pytest.mark.parametrize(
    ("header", "factor"), [("value", 1.0), ("power_w", 1.0), ("power_kw", 1e3), ("power_mw", 1e6)]
)
def test_power_units(tmp_path, header, factor):
    path = _write(tmp_path, f"wind_speed,{header}\n3,0\n10,2.5\n")
    assert_allclose(read_power_curve(path)["value"], np.array([0.0, 2.5]) * factor, rtol=1e-12)


def test_not_increasing_wind_speed_names_file_and_row(tmp_path):
    path = _write(tmp_path, "wind_speed_m_s,power_kw\n3,0\n5,300\n5,320\n6,700\n", "bad_ws.csv")
    with pytest.raises(InputError, match=r"bad_ws\.csv.*data row 3.*strictly increasing"):
        read_power_curve(path)


def test_decreasing_wind_speed_names_row(tmp_path):
    path = _write(tmp_path, "wind_speed_m_s,power_kw\n3,0\n6,700\n5,300\n", "desc.csv")
    with pytest.raises(InputError, match=r"desc\.csv.*data row 3"):
        read_power_curve(path)


def test_negative_power_names_file_and_row(tmp_path):
    path = _write(tmp_path, "wind_speed_m_s,power_kw\n2,-5\n3,0\n5,300\n", "neg.csv")
    with pytest.raises(InputError, match=r"neg\.csv.*data row 1.*negative"):
        read_power_curve(path)


def test_non_numeric_value_names_row(tmp_path):
    path = _write(tmp_path, "wind_speed_m_s,power_kw\n3,0\n5,abc\n", "txt.csv")
    with pytest.raises(InputError, match=r"txt\.csv.*data row 2.*'power_kw'"):
        read_power_curve(path)


def test_missing_columns_is_schema_error(tmp_path):
    path = _write(tmp_path, "speed,power\n3,0\n5,300\n")
    with pytest.raises(SchemaError, match="wind_speed_m_s,power_kw"):
        read_power_curve(path)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        read_power_curve(tmp_path / "nope.csv")
