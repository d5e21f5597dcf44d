"""Tests of census.supply: CRF, LCOE, supply curve and the gap to the targets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml
from numpy.testing import assert_allclose
from pydantic import ValidationError

from census.config import TargetsConfig
from census.exceptions import ConfigError, InputError, SchemaError
from census.resources import read_text, split_entries
from census.supply import (
    CostsConfig,
    capital_recovery_factor,
    existing_by_district,
    existing_gap,
    lcoe_cny_kwh,
    supply_curve,
)

TECHS = ("pv_rooftop", "pv_ground", "pv_floating", "pv_bipv", "wind")

# Hand-made costs: round numbers so the LCOE can be worked by hand.
COSTS = CostsConfig.model_validate(
    {
        "discount_rate_frac": 0.10,
        "technologies": {
            "pv_rooftop": {
                "capex_cny_kw": 4000.0,
                "opex_cny_kw_yr": 40.0,
                "lifetime_yr": 2,
                "degradation_frac_yr": 0.0,
            },
            "pv_ground": {
                "capex_cny_kw": 3000.0,
                "opex_cny_kw_yr": 30.0,
                "lifetime_yr": 2,
                "degradation_frac_yr": 0.0,
            },
            "pv_floating": {
                "capex_cny_kw": 3500.0,
                "opex_cny_kw_yr": 35.0,
                "lifetime_yr": 2,
                "degradation_frac_yr": 0.0,
            },
            "pv_bipv": {
                "capex_cny_kw": 6000.0,
                "opex_cny_kw_yr": 60.0,
                "lifetime_yr": 2,
                "degradation_frac_yr": 0.0,
            },
            "wind": {
                "capex_cny_kw": 6000.0,
                "opex_cny_kw_yr": 150.0,
                "lifetime_yr": 2,
                "degradation_frac_yr": 0.0,
            },
        },
    }
)

SITES = pd.DataFrame(
    {
        "site_id": ["r1", "r2", "p1", "m1", "b1", "w1", "w2", "w3"],
        "category": [
            "rooftop",
            "rooftop",
            "pond",
            "mine",
            "rooftop",
            "mudflat",
            "mudflat",
            "mudflat",
        ],
        "district": ["A", "A", "B", "B", "A", "A", "B", "B"],
        "adcode": [1, 1, 2, 2, 1, 1, 2, 2],
        "eligible": [True, False, True, True, True, True, True, False],
        "usable_area_m2": [1e3, 0.0, 2e4, 5e4, 500.0, 1e6, 1e6, 0.0],
        "technology": [
            "pv_rooftop",
            "pv_rooftop",
            "pv_floating",
            "pv_ground",
            "pv_bipv",
            "wind",
            "wind",
            "wind",
        ],
        "capacity_mw_dc": [0.2, 0.5, 2.0, 5.0, 0.1, 10.0, 6.0, 4.0],
        "energy_mwh_yr": [200.0, 550.0, 2200.0, 5500.0, 60.0, 20000.0, 15000.0, 9000.0],
        "specific_yield_kwh_kwp": [1000.0, 1100.0, 1100.0, 1100.0, 600.0, np.nan, np.nan, np.nan],
        "capacity_factor": [0.114, 0.126, 0.126, 0.126, 0.068, 0.228, 0.285, 0.257],
        "n_turbines": [0, 0, 0, 0, 0, 5, 3, 2],
        "exclusion_reasons": ["", "slope", "", "", "", "", "", "airport"],
    }
)


def _targets(basis: str = "dc", **mw: float) -> TargetsConfig:
    """Targets section with the four Hangzhou-style records (MW by name) on one basis."""
    values = {"pv_2025": 5.0, "pv_2030": 7.0, "wind_2025_ensured": 6.0, "wind_2025_strived": 100.0}
    values.update(mw)
    return TargetsConfig.model_validate(
        {
            "records": {
                name: {
                    "label": name,
                    "technologies": ["wind"] if name.startswith("wind") else ["pv"],
                    "year": 2025,
                    "capacity_mw": value,
                    "capacity_basis": basis,
                    "source": "test",
                }
                for name, value in values.items()
            },
            "existing_pv_dc_ac_ratio": 1.25,
            "storage_min_frac": 0.1,
            "storage_duration_h": 2.0,
            "storage_basis": "ac",
            "storage_technologies": ["pv_ground", "pv_floating", "wind"],
            "emission_factor_preset": "test",
            "emission_factors": {"test": 0.5},
        }
    )


TARGETS = _targets()


def test_crf_by_hand():
    # r = 0.10, n = 2: (1.1)^2 = 1.21; CRF = 0.1 * 1.21 / (1.21 - 1) = 0.121 / 0.21 = 0.5761904...
    assert_allclose(capital_recovery_factor(0.10, 2), 0.121 / 0.21, rtol=1e-12)
    # r = 0.05, n = 1: one annual payment repays capital plus interest: 1.05.
    assert_allclose(capital_recovery_factor(0.05, 1), 1.05, rtol=1e-12)
    # r = 0: straight-line, 1 / n.
    assert_allclose(capital_recovery_factor(0.0, 25), 0.04, rtol=1e-12)
    # vectorized, mixing zero and non-zero rates
    assert_allclose(
        capital_recovery_factor(np.array([0.0, 0.10]), np.array([25, 2])),
        [0.04, 0.121 / 0.21],
        rtol=1e-12,
    )


def test_crf_rejects_percent_and_bad_lifetime():
    with pytest.raises(ValueError, match="fraction"):
        capital_recovery_factor(6.0, 25)
    with pytest.raises(ValueError, match="lifetime_yr"):
        capital_recovery_factor(0.06, 0)


def test_lcoe_by_hand():
    # capex 4000 CNY/kW, opex 40 CNY/kW/yr, r = 0.10, n = 2, 1000 kWh/kW/yr:
    # annual cost = 4000 * 0.121 / 0.21 + 40 = 2304.7619... + 40 = 2344.7619... CNY/kW/yr
    # LCOE = 2344.7619... / 1000 = 2.3447619... CNY/kWh
    got = lcoe_cny_kwh(4000.0, 40.0, 1000.0, discount_rate_frac=0.10, lifetime_yr=2)
    assert_allclose(got, (4000.0 * 0.121 / 0.21 + 40.0) / 1000.0, rtol=1e-12)
    assert_allclose(got, 2.344761904761905, rtol=1e-12)


def test_lcoe_with_degradation_by_hand():
    # capex 4000 CNY/kW at t = 0, opex 40 CNY/kW in years 1 and 2, r = 0.10,
    # first-year energy 1000 kWh/kW, degradation 0.4 %/yr -> year 2 gives 996 kWh/kW:
    # discounted costs  = 4000 + 40 / 1.1 + 40 / 1.21 = 4000 + 36.363636 + 33.057851
    #                   = 4069.421488 CNY/kW
    # discounted energy = 1000 / 1.1 + 996 / 1.21 = 909.090909 + 823.140496 = 1732.231405 kWh/kW
    # LCOE = 4069.421488 / 1732.231405 = 2.349237 CNY/kWh
    got = lcoe_cny_kwh(
        4000.0, 40.0, 1000.0, discount_rate_frac=0.10, lifetime_yr=2, degradation_frac_yr=0.004
    )
    assert_allclose(got, 2.349237, rtol=1e-6)  # hand arithmetic to 7 digits
    # and without degradation it is the constant-output LCOE of test_lcoe_by_hand
    assert got > 2.344761904761905


def test_lifetime_energy_factor_25_years_by_hand():
    from census.supply import lifetime_energy_factor

    # r = 0, n = 25, d = 0.004: sum_{k=0..24} 0.996^k = (1 - 0.996^25) / 0.004;
    # 0.996^25 = exp(25 ln 0.996) = exp(-0.1002005) = 0.904656 -> (1 - 0.904656) / 0.004
    # = 23.8360; per year of constant output: 23.8360 / 25 = 0.953440
    assert_allclose(lifetime_energy_factor(0.0, 25, 0.004), 0.953440, rtol=1e-5)
    # r = 6 %: direct sum over the years, written out independently of the closed form
    t = np.arange(1, 26)
    ref = np.sum(0.996 ** (t - 1) / 1.06**t) / np.sum(1.0 / 1.06**t)
    assert_allclose(lifetime_energy_factor(0.06, 25, 0.004), ref, rtol=1e-12)
    assert lifetime_energy_factor(0.06, 25, 0.0) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="fraction"):
        lifetime_energy_factor(0.06, 25, 0.4 * 100)


def test_supply_curve_lcoe_uses_degradation():
    # same hand case as test_lcoe_with_degradation_by_hand, through the supply curve
    costs = CostsConfig.model_validate(
        {
            "discount_rate_frac": 0.10,
            "technologies": {
                "pv_rooftop": {
                    "capex_cny_kw": 4000.0,
                    "opex_cny_kw_yr": 40.0,
                    "lifetime_yr": 2,
                    "degradation_frac_yr": 0.004,
                }
            },
        }
    )
    sites = pd.DataFrame(
        {
            "site_id": ["a"],
            "technology": ["pv_rooftop"],
            "eligible": [True],
            "capacity_mw_dc": [2.0],
            "energy_mwh_yr": [2000.0],  # 1000 kWh/kW in year 1
        }
    )
    curve = supply_curve(sites, costs)
    assert_allclose(curve["lcoe_cny_kwh"], 2.349237, rtol=1e-6)


def test_lcoe_vectorized_and_zero_energy():
    got = lcoe_cny_kwh(
        np.array([4000.0, 4000.0, 4000.0]),
        40.0,
        np.array([1000.0, 0.0, 2000.0]),
        discount_rate_frac=0.0,
        lifetime_yr=25,
    )
    # r = 0: annual = 4000 / 25 + 40 = 200 CNY/kW/yr
    assert_allclose(got, [0.2, np.inf, 0.1], rtol=1e-12)


def test_supply_curve_ends_at_total_eligible_capacity():
    curve = supply_curve(SITES, COSTS)
    elig = SITES[SITES["eligible"]]
    for name, mask in (
        ("pv", elig["technology"].str.startswith("pv")),
        ("wind", elig["technology"] == "wind"),
    ):
        part = curve[curve["curve"] == name]
        assert_allclose(
            part["cumulative_capacity_mw"].iloc[-1],
            elig.loc[mask, "capacity_mw_dc"].sum(),
            rtol=1e-12,
        )
        assert_allclose(
            part["cumulative_energy_gwh_yr"].iloc[-1],
            elig.loc[mask, "energy_mwh_yr"].sum() / 1000.0,
            rtol=1e-12,
        )
    # 0.2 + 2.0 + 5.0 + 0.1 = 7.3 MW PV; 10 + 6 = 16 MW wind (by hand)
    assert_allclose(curve.loc[curve.curve == "pv", "cumulative_capacity_mw"].iloc[-1], 7.3)
    assert_allclose(curve.loc[curve.curve == "wind", "cumulative_capacity_mw"].iloc[-1], 16.0)
    assert set(curve["site_id"]) == {"r1", "p1", "m1", "b1", "w1", "w2"}  # only eligible


def test_supply_curve_sorted_by_lcoe_and_matches_hand_values():
    curve = supply_curve(SITES, COSTS)
    for name in ("pv", "wind"):
        lc = curve.loc[curve.curve == name, "lcoe_cny_kwh"].to_numpy()
        assert np.all(np.diff(lc) >= 0)
        assert list(curve.loc[curve.curve == name, "rank"]) == list(range(1, len(lc) + 1))
    crf = 0.121 / 0.21
    m1 = curve.set_index("site_id").loc["m1"]
    assert_allclose(m1["lcoe_cny_kwh"], (3000.0 * crf + 30.0) / 1100.0, rtol=1e-12)
    # PV order by hand: m1 1.6 < p1 1.87 < r1 2.34 < b1 6.5 CNY/kWh
    assert list(curve.loc[curve.curve == "pv", "site_id"]) == ["m1", "p1", "r1", "b1"]
    assert list(curve.loc[curve.curve == "wind", "site_id"]) == ["w2", "w1"]


def test_supply_curve_without_costs_ranks_by_resource():
    curve = supply_curve(SITES, None)
    assert curve["lcoe_cny_kwh"].isna().all()
    pv = curve[curve.curve == "pv"]
    assert np.all(np.diff(pv["specific_yield_kwh_kwp"].to_numpy()) <= 0)
    wind = curve[curve.curve == "wind"]
    assert list(wind["site_id"]) == ["w2", "w1"]  # CF 0.285 before 0.228


def test_supply_curve_marks_the_site_that_reaches_each_target():
    curve = supply_curve(SITES, COSTS, targets=TARGETS).set_index("site_id")
    # PV cumulative: m1 5.0 (reaches 5.0), p1 7.0 (reaches 7.0), r1 7.2, b1 7.3
    assert curve.loc["m1", "reaches_target"] == "pv_2025"
    assert curve.loc["p1", "reaches_target"] == "pv_2030"
    assert curve.loc["r1", "reaches_target"] == ""
    # wind cumulative: w2 6 (reaches 6), w1 16; 100 MW never reached
    assert curve.loc["w2", "reaches_target"] == "wind_2025_ensured"
    assert curve.loc["w1", "reaches_target"] == ""


def test_supply_curve_technology_filter_and_errors():
    curve = supply_curve(SITES, COSTS, technologies=["wind"])
    assert set(curve["curve"]) == {"wind"}
    partial = CostsConfig.model_validate(
        {
            "discount_rate_frac": 0.05,
            "technologies": {
                "wind": {
                    "capex_cny_kw": 6000.0,
                    "opex_cny_kw_yr": 150.0,
                    "lifetime_yr": 20,
                    "degradation_frac_yr": 0.0,
                }
            },
        }
    )
    with pytest.raises(ConfigError, match=r"costs\.technologies\.pv_"):
        supply_curve(SITES, partial)
    with pytest.raises(SchemaError, match="energy_mwh_yr"):
        supply_curve(SITES.drop(columns="energy_mwh_yr"), COSTS)


def test_costs_yaml_is_complete_and_validates():
    tree = yaml.safe_load(read_text("costs.yaml"))
    values, ledger = split_entries(tree, prefix="costs", origin="census/resources/costs.yaml")
    costs = CostsConfig.model_validate(values)
    assert set(costs.technologies) == set(TECHS)
    assert 0 < costs.discount_rate_frac < 1
    keys = {row["key"] for row in ledger}
    for tech in TECHS:
        for field in ("capex_cny_kw", "opex_cny_kw_yr", "lifetime_yr", "degradation_frac_yr"):
            assert f"costs.technologies.{tech}.{field}" in keys
    for row in ledger:
        assert row["unit"] and row["source"]
        assert "pct" not in row["key"]


def test_costs_config_has_no_defaults_and_forbids_unknown_keys():
    with pytest.raises(ValidationError):
        CostsConfig.model_validate({})
    with pytest.raises(ValidationError):
        CostsConfig.model_validate(
            {
                "discount_rate_frac": 0.06,
                "technologies": {
                    "wind": {
                        "capex_cny_kw": 1.0,
                        "opex_cny_kw_yr": 1.0,
                        "lifetime_yr": 20,
                        "degradation_frac_yr": 0.0,
                        "capex_pct": 3,
                    }
                },
            }
        )
    with pytest.raises(ValidationError):  # percent given instead of a fraction
        CostsConfig.model_validate({"discount_rate_frac": 6, "technologies": {}})


BY_DISTRICT = pd.DataFrame(
    {
        "adcode": [1, 1, 2, 2],
        "name_zh": ["甲区", "甲区", "乙区", "乙区"],
        "name_en": ["Alpha", "Alpha", "Beta", "Beta"],
        "category": ["rooftop", "mudflat", "pond", "mudflat"],
        "technology": ["pv_rooftop", "wind", "pv_floating", "wind"],
        "capacity_mw_dc": [100.0, 30.0, 50.0, 20.0],
        "capacity_mw_ac": [80.0, 30.0, 40.0, 20.0],  # PV at DC/AC 1.25, wind its rating
    }
)


def test_existing_gap_without_table_is_potential_only():
    gap = existing_gap(BY_DISTRICT, None, TARGETS)
    assert list(gap["target"]) == ["pv_2025", "pv_2030", "wind_2025_ensured", "wind_2025_strived"]
    assert not gap["has_existing"].any()
    assert gap["existing_mw"].isna().all() and gap["shortfall_mw"].isna().all()
    assert_allclose(gap["potential_mw"], [150.0, 150.0, 50.0, 50.0])


def test_existing_gap_by_hand():
    targets = _targets(pv_2025=300.0, wind_2025_strived=200.0)
    existing = pd.DataFrame(
        {
            "district": ["Alpha", "乙区", "Beta"],
            "technology": ["pv", "pv_rooftop", "wind"],
            "capacity_mw_dc": [80.0, 40.0, 5.0],
        }
    )
    gap = existing_gap(BY_DISTRICT, existing, targets).set_index("target")
    # PV: existing 80 + 40 = 120; remaining 300 - 120 = 180; potential 150; shortfall 30
    assert_allclose(
        gap.loc["pv_2025", ["existing_mw", "remaining_mw", "potential_mw", "shortfall_mw"]].astype(
            float
        ),
        [120, 180, 150, 30],
    )
    assert_allclose(gap.loc["pv_2025", "potential_to_remaining_ratio"], 150 / 180)
    # pv_2030 target 7 MW already met by existing capacity: remaining 0, ratio inf
    assert gap.loc["pv_2030", "remaining_mw"] == 0.0
    assert np.isinf(gap.loc["pv_2030", "potential_to_remaining_ratio"])
    # wind strived: 200 - 5 = 195 remaining, potential 50, shortfall 145
    assert_allclose(
        gap.loc["wind_2025_strived", ["remaining_mw", "shortfall_mw"]].astype(float), [195, 145]
    )
    per = existing_by_district(BY_DISTRICT, existing).set_index("adcode")
    assert_allclose(per.loc[[1, 2], "pv_existing_mw"], [80.0, 40.0])
    assert_allclose(per.loc[[1, 2], "wind_existing_mw"], [0.0, 5.0])


def test_existing_gap_unknown_district_names_it():
    existing = pd.DataFrame({"district": ["Gamma"], "technology": ["pv"], "capacity_mw_dc": [1.0]})
    with pytest.raises(InputError, match="Gamma"):
        existing_gap(BY_DISTRICT, existing, TARGETS)
