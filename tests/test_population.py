"""Population table and kW per person (census.population)."""

from __future__ import annotations

import pandas as pd
from numpy.testing import assert_allclose

from census.population import load_population, per_person_table


def test_population_rows_add_up_to_the_bulletin_total():
    pop = load_population()
    # 杭州市第七次全国人口普查主要数据公报, Table 1-1: 13 districts + West Lake Scenic Area
    # (added to Xihu) sum to the city total of 11,936,010
    assert sum(d.population for d in pop.districts.values()) == 11_936_010 == pop.city_total
    assert pop.districts[330106].population == 1_089_229 + 23_763
    assert pop.districts[330112].population == 634_555  # Lin'an
    assert len(pop.districts) == 13


def test_per_person_by_hand():
    by = pd.DataFrame(
        {
            "adcode": [330112, 330112, 330112, 330102],
            "name_zh": ["临安区", "临安区", "临安区", "上城区"],
            "name_en": ["Lin'an", "Lin'an", "Lin'an", "Shangcheng"],
            "technology": ["pv_rooftop", "pv_ground", "wind", "pv_rooftop"],
            "capacity_mw_dc": [300.0, 100.0, 50.0, 132.3467],
            "capacity_mw_ac": [250.0, 80.0, 50.0, 110.0],
        }
    )
    t = per_person_table(by, load_population()).set_index("adcode")
    # Lin'an: PV 400 MW DC / 634,555 people = 0.63036... kW per person (wind not counted)
    assert_allclose(t.loc[330112, "pv_kw_dc_per_person"], 400_000 / 634_555, rtol=1e-12)
    assert_allclose(t.loc[330112, "pv_kw_ac_per_person"], 330_000 / 634_555, rtol=1e-12)
    # the "one kilowatt per person" goal: 634,555 kW = 634.555 MW
    assert t.loc[330112, "target"] == "linan_1kw_per_person"
    assert_allclose(t.loc[330112, "target_mw"], 634.555, rtol=1e-12)
    assert_allclose(t.loc[330112, "potential_to_target_ratio"], 400 / 634.555, rtol=1e-12)
    # Shangcheng: 132.3467 MW over 1,323,467 people = 0.1 kW per person; no goal
    assert_allclose(t.loc[330102, "pv_kw_dc_per_person"], 0.1, rtol=1e-12)
    assert t.loc[330102, "target"] == ""
