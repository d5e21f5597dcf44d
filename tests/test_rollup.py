"""Tests of census.rollup with a hand-made site table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from census.config import load_config
from census.exceptions import SchemaError
from census.rollup import (
    NO_EXISTING_NOTE,
    city_table,
    district_table,
    summarize_by_district,
    targets_table,
)

DISTRICTS = pd.DataFrame(
    {"adcode": [1, 2, 3], "name_zh": ["甲", "乙", "丙"], "name_en": ["A", "B", "C"]}
)
SITES = pd.DataFrame(
    {
        "site_id": ["r1", "r2", "p1", "m1", "w1", "w2"],
        "district": ["A", "A", "B", "B", "A", "B"],
        "adcode": [1, 1, 2, 2, 1, 2],
        "category": ["rooftop", "rooftop", "pond", "mine", "mudflat", "mudflat"],
        "technology": ["pv_rooftop", "pv_rooftop", "pv_floating", "pv_ground", "wind", "wind"],
        "eligible": [True, False, True, True, True, False],
        "usable_area_m2": [1000.0, 0.0, 20000.0, 50000.0, 1e6, 0.0],
        # ineligible rows carry numbers too: the roll-up must leave them out, not trust zeros
        "capacity_mw_dc": [0.2, 0.5, 2.0, 5.0, 10.0, 3.0],
        "capacity_mw_ac": [0.16, 0.4, 1.6, 4.0, 10.0, 3.0],  # PV at DC/AC 1.25, wind AC
        "energy_mwh_yr": [200.0, 400.0, 2200.0, 5500.0, 20000.0, 6000.0],
    }
)
KW = dict(
    storage_technologies=["pv_ground", "pv_floating", "wind"],
    storage_min_frac=0.1,
    storage_duration_h=2.0,
    grid_emission_factor_tco2_mwh=0.5366,
)


def test_district_rows_sum_to_city():
    by = summarize_by_district(SITES, DISTRICTS, **KW)
    city = city_table(by)
    tot = city[city.category == "all"].iloc[0]
    for col in ("capacity_mw_dc", "energy_mwh_yr", "sites", "eligible_sites", "storage_mw"):
        assert_allclose(by[col].sum(), tot[col], rtol=1e-12)
    assert_allclose(tot.capacity_mw_dc, 17.2, rtol=1e-12)  # 0.2 + 2 + 5 + 10 (by hand)
    assert_allclose(tot.capacity_mw_ac, 15.76, rtol=1e-12)  # 0.16 + 1.6 + 4 + 10 (by hand)


def test_every_district_present_even_without_sites():
    by = summarize_by_district(SITES, DISTRICTS, **KW)
    d = district_table(by)
    assert d.adcode.tolist() == [1, 2, 3]
    c = d.set_index("adcode")
    assert c.loc[3, "capacity_mw_dc"] == 0.0
    assert_allclose(c.loc[1, "pv_capacity_mw"], 0.2)
    assert_allclose(c.loc[1, "wind_capacity_mw"], 10.0)


def test_storage_is_ten_percent_of_centralized_only():
    by = summarize_by_district(SITES, DISTRICTS, **KW)
    # centralized: floating 2 + ground 5 + wind 10 = 17 MW -> 1.7 MW, 3.4 MWh; rooftop excluded
    assert_allclose(by.storage_mw.sum(), 1.7, rtol=1e-12)
    assert_allclose(by.storage_mwh.sum(), 3.4, rtol=1e-12)
    assert by.loc[by.technology == "pv_rooftop", "storage_mw"].sum() == 0.0


def test_co2_and_capacity_factor():
    by = summarize_by_district(SITES, DISTRICTS, **KW)
    assert_allclose(by.co2_avoided_t_yr.sum(), 27_900.0 * 0.5366, rtol=1e-12)
    wind_a = by[(by.adcode == 1) & (by.technology == "wind")].iloc[0]
    assert_allclose(wind_a.capacity_factor, 20_000.0 / (10.0 * 8760.0), rtol=1e-12)


def test_targets_against_potential():
    by = summarize_by_district(SITES, DISTRICTS, **KW)
    t = targets_table(by, load_config().config.targets).set_index("target")
    # the default targets are on the AC basis (NEA statistics): eligible PV AC by hand
    # 0.16 (r1) + 1.6 (p1) + 4.0 (m1) = 5.76 MW; DC 0.2 + 2 + 5 = 7.2 MW
    assert (t["capacity_basis"] == "ac").all()
    assert_allclose(t.loc["pv_2025", "potential_mw"], 5.76, rtol=1e-12)
    assert_allclose(t.loc["pv_2025", "potential_mw_dc"], 7.2, rtol=1e-12)
    assert_allclose(t.loc["wind_2025_ensured", "potential_to_target_ratio"], 10.0 / 100.0)
    assert t.loc["pv_2030", "target_mw"] == 6500.0
    assert t.loc["pv_2030", "year"] == 2030
    assert "Hangzhou" in t.loc["pv_2030", "source"]
    # no existing table: said plainly, no made-up zero
    assert t["existing_mw"].isna().all() and t["remaining_mw"].isna().all()
    assert (t["note"] == NO_EXISTING_NOTE).all()
    assert not t["has_existing"].any()


def _targets(basis: str) -> dict:
    return {
        "records": {
            "pv_x": {
                "label": "PV X",
                "technologies": ["pv"],
                "year": 2030,
                "capacity_mw": 20.0,
                "capacity_basis": basis,
                "source": "test",
            },
            "central_x": {
                "label": "centralized PV X",
                "technologies": ["pv_ground", "pv_floating"],
                "year": 2030,
                "capacity_mw": 10.0,
                "capacity_basis": basis,
                "source": "test",
            },
            "wind_x": {
                "label": "Wind X",
                "technologies": ["wind"],
                "year": 2030,
                "capacity_mw": 12.0,
                "capacity_basis": basis,
                "source": "test",
            },
        },
        "existing_pv_dc_ac_ratio": 1.25,
    }


def test_cumulative_targets_with_existing_by_hand():
    by = summarize_by_district(SITES, DISTRICTS, **KW)
    existing = pd.DataFrame(
        {
            "adcode": [1, 2, 2],
            "technology": ["pv_rooftop", "pv_ground", "wind"],
            # rooftop given in AC only, ground in DC only, wind in AC
            "capacity_mw_ac": [4.0, np.nan, 5.0],
            "capacity_mw_dc": [np.nan, 6.25, np.nan],
        }
    )
    with pytest.warns(UserWarning, match="DC/AC ratio of 1.25"):
        t = targets_table(by, _targets("ac"), existing=existing).set_index("target")
    # AC: existing PV = 4 + 6.25 / 1.25 = 9 MW; remaining 20 - 9 = 11; potential 5.76
    assert_allclose(t.loc["pv_x", ["existing_mw", "remaining_mw"]].astype(float), [9.0, 11.0])
    assert_allclose(t.loc["pv_x", "potential_to_remaining_ratio"], 5.76 / 11.0, rtol=1e-12)
    assert_allclose(t.loc["pv_x", "shortfall_mw"], 11.0 - 5.76, rtol=1e-12)
    # centralized only: existing ground 5 MW AC; remaining 5; potential floating 1.6 + ground 4
    assert_allclose(t.loc["central_x", ["existing_mw", "potential_mw"]].astype(float), [5.0, 5.6])
    assert_allclose(t.loc["central_x", "potential_to_remaining_ratio"], 5.6 / 5.0, rtol=1e-12)
    # wind: 12 - 5 = 7 remaining, potential 10 (eligible w1 only)
    assert_allclose(t.loc["wind_x", ["remaining_mw", "potential_mw"]].astype(float), [7.0, 10.0])
    assert t["has_existing"].all()
    # DC: existing PV = 4 * 1.25 + 6.25 = 11.25; remaining 20 - 11.25 = 8.75; potential 7.2
    with pytest.warns(UserWarning):
        d = targets_table(by, _targets("dc"), existing=existing).set_index("target")
    assert_allclose(d.loc["pv_x", ["existing_mw", "remaining_mw"]].astype(float), [11.25, 8.75])
    assert_allclose(d.loc["pv_x", "potential_mw"], 7.2, rtol=1e-12)
    # wind is the same on both bases
    assert_allclose(d.loc["wind_x", "existing_mw"], 5.0)


def test_target_met_by_existing_has_no_remaining_need():
    by = summarize_by_district(SITES, DISTRICTS, **KW)
    existing = pd.DataFrame(
        {"adcode": [2], "technology": ["wind"], "capacity_mw_ac": [15.0], "capacity_mw_dc": [15.0]}
    )
    t = targets_table(by, _targets("ac"), existing=existing).set_index("target")
    assert t.loc["wind_x", "remaining_mw"] == 0.0
    assert np.isinf(t.loc["wind_x", "potential_to_remaining_ratio"])


def test_storage_on_the_stated_basis():
    # AC: centralized floating 1.6 + ground 4.0 + wind 10 = 15.6 MW -> 1.56 MW, 3.12 MWh
    by = summarize_by_district(SITES, DISTRICTS, **KW, storage_basis="ac")
    assert_allclose(by.storage_mw.sum(), 1.56, rtol=1e-12)
    assert_allclose(by.storage_mwh.sum(), 3.12, rtol=1e-12)
    assert (by.storage_basis == "ac").all()
    with pytest.raises(ValueError, match="storage_basis"):
        summarize_by_district(SITES, DISTRICTS, **KW, storage_basis="peak")


def test_emission_factor_named_in_every_table():
    by = summarize_by_district(SITES, DISTRICTS, **KW, emission_factor_name="national_average_2022")
    label = "national_average_2022 (0.5366 tCO2/MWh)"
    assert (by.emission_factor == label).all()
    assert (district_table(by).emission_factor == label).all()
    assert (city_table(by).emission_factor == label).all()


def test_missing_column_error():
    with pytest.raises(SchemaError, match="capacity_mw_dc"):
        summarize_by_district(SITES.drop(columns="capacity_mw_dc"), DISTRICTS, **KW)


# Each preset against its publication (MEE and NBS electricity CO2 emission factors, in
# kgCO2/kWh = tCO2/MWh): 2021 and 2022 as reported by Beijing News on 2024-12-26 (2022
# announcement of 2024-12-20, with the 2021 values for comparison); 2023 as reported by
# China Electric Power News (2026-01-15) and Sina Finance (2026-01-22).
PUBLISHED_FACTORS = {
    "national_average_2021": 0.5568,
    "national_average_2022": 0.5366,
    "national_average_2023": 0.5306,
    "east_china_average_2022": 0.5617,
    "east_china_average_2023": 0.5500,
    "national_fossil_2021": 0.8426,
    "national_fossil_2022": 0.8325,
}


@pytest.mark.parametrize(("preset", "value"), sorted(PUBLISHED_FACTORS.items()))
def test_emission_factor_presets_match_their_sources(preset, value):
    targets = load_config(overrides={"targets": {"emission_factor_preset": preset}}).config.targets
    assert_allclose(targets.grid_emission_factor_tco2_mwh, value, rtol=0, atol=1e-12)
    ledger = {r["key"]: r for r in load_config().ledger}
    assert "MEE and NBS" in ledger[f"targets.emission_factors.{preset}"]["source"]


def test_every_preset_is_checked():
    assert set(load_config().config.targets.emission_factors) == set(PUBLISHED_FACTORS)
