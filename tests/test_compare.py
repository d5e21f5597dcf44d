"""Tests of census.compare with two hand-made run folders."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from census.compare import compare_runs, format_comparison
from census.exceptions import InputError

COLUMNS = [
    "adcode",
    "name_zh",
    "name_en",
    "category",
    "technology",
    "sites",
    "eligible_sites",
    "usable_area_km2",
    "capacity_mw_dc",
    "energy_mwh_yr",
    "energy_gwh_yr",
    "capacity_factor",
    "storage_mw",
    "storage_mwh",
    "co2_avoided_t_yr",
]


def _row(adcode, zh, en, cat, tech, cap, energy_mwh, storage):
    return [
        adcode,
        zh,
        en,
        cat,
        tech,
        1,
        1,
        0.1,
        cap,
        energy_mwh,
        energy_mwh / 1000,
        energy_mwh / (cap * 8760) if cap else np.nan,
        storage,
        storage * 2,
        energy_mwh * 0.5,
    ]


def _run(folder: Path, rows: list[list], chash: str) -> Path:
    folder.mkdir()
    pd.DataFrame(rows, columns=COLUMNS).to_csv(
        folder / "summary_by_district_category.csv", index=False, encoding="utf-8-sig"
    )
    (folder / "provenance.json").write_text(
        json.dumps({"census_run": {"config_hash": chash}}), encoding="utf-8"
    )
    return folder


@pytest.fixture
def runs(tmp_path):
    a = _run(
        tmp_path / "a",
        [
            _row(1, "甲区", "Alpha", "rooftop", "pv_rooftop", 10.0, 10_000.0, 0.0),
            _row(1, "甲区", "Alpha", "mine", "pv_ground", 5.0, 5500.0, 0.5),
            _row(2, "乙区", "Beta", "mudflat", "wind", 20.0, 40_000.0, 2.0),
            [3, "丙区", "Gamma", "", "", 0, 0, 0.0, 0.0, 0.0, 0.0, np.nan, 0.0, 0.0, 0.0],
        ],
        "aaaa11112222",
    )
    b = _run(
        tmp_path / "b",
        [
            _row(1, "甲区", "Alpha", "rooftop", "pv_rooftop", 12.0, 12_000.0, 0.0),
            _row(1, "甲区", "Alpha", "landfill", "pv_ground", 1.0, 1100.0, 0.1),
            _row(1, "甲区", "Alpha", "mine", "pv_ground", 5.0, 5500.0, 0.5),
            _row(3, "丙区", "Gamma", "pond", "pv_floating", 4.0, 4400.0, 0.4),
            _row(4, "丁区", "Delta", "mudflat", "wind", 8.0, 16_000.0, 0.8),
        ],
        "bbbb33334444",
    )
    return a, b


def test_compare_by_hand(runs):
    a, b = runs
    df = compare_runs(a, b)
    cap = df[df.metric == "capacity_mw_dc"].set_index(["name_en", "technology"])
    # Alpha rooftop 10 -> 12 (+2, x1.2); Alpha ground 5 -> 1 + 5 = 6 (two categories summed)
    assert_allclose(
        cap.loc[("Alpha", "pv_rooftop"), ["a", "b", "b_minus_a", "ratio_b_to_a"]].astype(float),
        [10, 12, 2, 1.2],
        rtol=1e-12,
    )
    assert_allclose(cap.loc[("Alpha", "pv_ground"), ["a", "b"]].astype(float), [5, 6])
    # Gamma was in run a without sites: its floating PV counts 0 in a
    assert_allclose(cap.loc[("Gamma", "pv_floating"), ["a", "b"]].astype(float), [0, 4])
    assert np.isnan(cap.loc[("Gamma", "pv_floating"), "ratio_b_to_a"])
    # Beta is only in run a, Delta only in run b: the other run has NaN, not 0
    assert np.isnan(cap.loc[("Beta", "wind"), "b"]) and cap.loc[("Beta", "wind"), "a"] == 20
    assert np.isnan(cap.loc[("Delta", "wind"), "a"])
    # city rows: pv_rooftop 10 -> 12
    city = cap.loc[("City total", "pv_rooftop")]
    assert_allclose(city[["a", "b"]].astype(float), [10, 12])
    assert pd.isna(city["adcode"])
    sto = df[
        (df.metric == "storage_mwh") & (df.name_en == "Alpha") & (df.technology == "pv_ground")
    ]
    assert_allclose(sto[["a", "b"]].to_numpy(float), [[1.0, 1.2]])
    assert df.attrs["config_hash_a"] == "aaaa11112222"
    assert df.attrs["config_hash_b"] == "bbbb33334444"


def test_format_comparison(runs):
    text = format_comparison(compare_runs(*runs))
    assert "aaaa11112222" in text and "bbbb33334444" in text
    assert "== capacity_mw_dc ==" in text and "甲区 Alpha" in text and "+2.000" in text
    changed = format_comparison(compare_runs(*runs), changed_only=True)
    assert "pv_ground" in changed


def test_compare_same_run_is_zero(runs):
    a, _ = runs
    df = compare_runs(a, a)
    assert_allclose(df["b_minus_a"].to_numpy(float), 0.0, atol=0)


def test_missing_folder_and_non_run_folder(tmp_path, runs):
    a, _ = runs
    with pytest.raises(InputError, match="nowhere"):
        compare_runs(a, tmp_path / "nowhere")
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "summary_by_district_category.csv").write_text("adcode\n1\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"plain.*provenance\.json"):
        compare_runs(plain, a)
