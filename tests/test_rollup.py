"""Tests of census.rollup with a hand-made site table."""

from __future__ import annotations

import pandas as pd
import pytest
from numpy.testing import assert_allclose

from census.config import load_config
from census.exceptions import SchemaError
from census.rollup import city_table, district_table, summarize_by_district, targets_table

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
    assert_allclose(t.loc["pv_2025", "potential_mw"], 7.2)
    assert_allclose(t.loc["wind_2025_ensured", "potential_to_target_ratio"], 10.0 / 100.0)
    assert t.loc["pv_2030", "target_mw"] == 6500.0


def test_missing_column_error():
    with pytest.raises(SchemaError, match="capacity_mw_dc"):
        summarize_by_district(SITES.drop(columns="capacity_mw_dc"), DISTRICTS, **KW)
