"""Tests of census.io.existing.read_existing_capacity."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from census.exceptions import InputError, SchemaError
from census.io.existing import read_existing_capacity


def _write(tmp_path: Path, text: str, *, bom: bool = True) -> Path:
    path = tmp_path / "existing.csv"
    path.write_text(text, encoding="utf-8-sig" if bom else "utf-8")
    return path


def test_reads_adcodes_with_bom(tmp_path):
    path = _write(
        tmp_path,
        "adcode,technology,capacity_mw_dc\n330102, PV_Rooftop ,35.5\n330102,wind,0\n330106,pv,12\n",
    )
    df = read_existing_capacity(path)
    assert list(df["adcode"]) == [330102, 330102, 330106]
    assert str(df["adcode"].dtype) == "Int64"
    assert list(df["technology"]) == ["pv_rooftop", "wind", "pv"]
    assert_allclose(df["capacity_mw_dc"], [35.5, 0.0, 12.0], rtol=1e-12)


def test_reads_district_names(tmp_path):
    path = _write(
        tmp_path,
        "district,technology,capacity_mw_dc,note\n上城区,pv,1.5,x\nTonglu,wind,20,\n",
        bom=False,
    )
    df = read_existing_capacity(path)
    assert list(df["district"]) == ["上城区", "Tonglu"]
    assert "adcode" not in df.columns
    assert list(df["note"]) == ["x", ""]


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="existing_capacity"):
        read_existing_capacity(tmp_path / "nope.csv")


def test_missing_columns_named(tmp_path):
    path = _write(tmp_path, "name,technology,mw\nA,pv,1\n")
    with pytest.raises(SchemaError, match=r"'adcode' or 'district'.*capacity_mw_dc"):
        read_existing_capacity(path)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (
            "adcode,technology,capacity_mw_dc\n1,pv,1\n2,pv,1 MW\n",
            r"row 3, column 'capacity_mw_dc'",
        ),
        ("adcode,technology,capacity_mw_dc\n1,pv,-1\n", r"row 2, column 'capacity_mw_dc'.*>= 0"),
        ("adcode,technology,capacity_mw_dc\n1,pv,1\n1,solar,1\n", r"row 3, column 'technology'"),
        ("adcode,technology,capacity_mw_dc\nabc,pv,1\n", r"row 2, column 'adcode'"),
        ("adcode,technology,capacity_mw_dc\n330102.5,pv,1\n", r"row 2, column 'adcode'"),
        ("district,technology,capacity_mw_dc\n,pv,1\n", r"row 2, column 'district'"),
        ("adcode,technology,capacity_mw_dc\n", "no rows"),
    ],
)
def test_bad_values_name_file_row_and_column(tmp_path, text, match):
    path = _write(tmp_path, text)
    with pytest.raises(InputError, match=match) as info:
        read_existing_capacity(path)
    assert str(path) in str(info.value)


def test_adcode_or_district_per_row(tmp_path):
    path = _write(tmp_path, "adcode,district,technology,capacity_mw_dc\n,Alpha,pv,1\n2,,wind,3\n")
    df = read_existing_capacity(path)
    assert pd.isna(df["adcode"].iloc[0]) and df["adcode"].iloc[1] == 2


def test_capacity_without_basis_is_refused_with_the_fix(tmp_path):
    path = _write(tmp_path, "adcode,technology,capacity_mw\n330102,pv,1\n")
    with pytest.raises(SchemaError, match="capacity_mw_ac.*capacity_mw_dc.*capacity_basis"):
        read_existing_capacity(path)


def test_basis_column_per_row(tmp_path):
    path = _write(
        tmp_path, "adcode,technology,capacity_mw,capacity_basis\n1,pv,12,DC\n1,wind,5,ac\n"
    )
    df = read_existing_capacity(path)
    assert list(df["capacity_basis"]) == ["dc", "ac"]
    assert_allclose(df["capacity_mw_dc"], [12.0, np.nan], rtol=1e-12)
    assert_allclose(df["capacity_mw_ac"], [np.nan, 5.0], rtol=1e-12)
    bad = _write(tmp_path, "adcode,technology,capacity_mw,capacity_basis\n1,pv,12,peak\n")
    with pytest.raises(InputError, match=r"row 2, column 'capacity_basis'"):
        read_existing_capacity(bad)


def test_ac_column_and_both_columns(tmp_path):
    df = read_existing_capacity(_write(tmp_path, "adcode,technology,capacity_mw_ac\n1,pv,10\n"))
    assert_allclose(df["capacity_mw_ac"], [10.0])
    assert df["capacity_mw_dc"].isna().all()
    both = _write(tmp_path, "adcode,technology,capacity_mw_ac,capacity_mw_dc\n1,pv,10,\n1,pv,,12\n")
    df = read_existing_capacity(both)
    assert_allclose(df["capacity_mw_ac"], [10.0, np.nan])
    assert_allclose(df["capacity_mw_dc"], [np.nan, 12.0])
    neither = _write(tmp_path, "adcode,technology,capacity_mw_ac,capacity_mw_dc\n1,pv,,\n")
    with pytest.raises(InputError, match="no capacity on either basis"):
        read_existing_capacity(neither)
