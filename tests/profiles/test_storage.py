"""Storage shift on a 48-hour series worked by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr
from numpy.testing import assert_allclose

from census.profiles import storage_shift, storage_shift_by_district


def _two_days():
    """District 1: 10 MW AC; limit 0.7 -> 7 MW; storage 1 MW / 2 MWh; efficiency 0.85.

    Day 1: 9 MW from 10:00 to 13:00 (4 h), 0 otherwise.
    Day 2: 7.5 MW at 11:00 and 12:00 (2 h), 6.98 MW in the other 22 h.
    District 2: no capacity, no output.
    """
    g = np.zeros((48, 2))
    g[10:14, 0] = 9.0
    g[24:48, 0] = 6.98
    g[24 + 11 : 24 + 13, 0] = 7.5
    index = pd.date_range("2021-06-01", periods=48, freq="h", tz="Asia/Shanghai")
    return g, index


def test_storage_shift_by_hand():
    g, index = _two_days()
    r = storage_shift(
        g,
        index.normalize(),
        export_limit_mw=np.array([7.0, 0.0]),
        storage_mw=np.array([1.0, 0.0]),
        storage_mwh=np.array([2.0, 0.0]),
        round_trip_efficiency_frac=0.85,
    )
    # above the limit: day 1 4 h x 2 MW = 8 MWh; day 2 2 h x 0.5 MW = 1 MWh
    assert_allclose(r["surplus_mwh"], [9.0, 0.0], rtol=1e-12)
    assert_allclose(r["hours_above_limit"], [6, 0])
    # charged: day 1 min(4 h x min(2, 1) MW, 2 MWh) = 2; day 2 min(2 x 0.5, 2) = 1
    assert_allclose(r["charged_mwh"], [3.0, 0.0], rtol=1e-12)
    # delivered: day 1 min(2 x 0.85, 20 h x 1 MW room) = 1.7;
    #            day 2 min(1 x 0.85, 22 h x 0.02 MW room) = 0.44
    assert_allclose(r["delivered_mwh"], [1.7 + 0.44, 0.0], rtol=1e-9)
    assert_allclose(r["spilled_mwh"], [6.0, 0.0], rtol=1e-12)
    assert_allclose(r["generation_mwh"], [36 + 15 + 22 * 6.98, 0.0], rtol=1e-12)


def test_storage_shift_by_district_table():
    g, index = _two_days()
    gen = np.zeros((48, 2, 2))
    gen[:, :, 0] = g  # pv_ground
    ds = xr.Dataset(
        {
            "generation_mw": (("time", "district", "technology"), gen),
            "capacity_mw_ac": (("district", "technology"), np.array([[10.0, 5.0], [0.0, 0.0]])),
        },
        coords={
            "time": index,
            "district": [1, 2],
            "technology": ["pv_ground", "pv_rooftop"],
            "name_zh": ("district", ["甲", "乙"]),
            "name_en": ("district", ["A", "B"]),
        },
        attrs={"annual_factor_h": 8760 / 48},
    )
    by = pd.DataFrame(
        {"adcode": [1, 1, 2], "storage_mw": [0.6, 0.4, 0.0], "storage_mwh": [1.2, 0.8, 0.0]}
    )
    t = storage_shift_by_district(
        ds,
        by,
        technologies=["pv_ground", "wind"],
        export_limit_frac=0.7,
        round_trip_efficiency_frac=0.85,
    )
    # rooftop PV carries no obligation: its 5 MW is not in the limit (7 MW = 0.7 x 10 MW)
    assert_allclose(t["export_limit_mw"], [7.0, 0.0])
    assert_allclose(t["storage_mw"], [1.0, 0.0])
    # 48 h scaled to a year: x 8760 / 48
    assert_allclose(t["above_limit_mwh_yr"], [9.0 * 8760 / 48, 0.0], rtol=1e-12)
    assert_allclose(t["delivered_mwh_yr"], [2.14 * 8760 / 48, 0.0], rtol=1e-9)
    assert_allclose(t.loc[0, "shifted_frac"], 3.0 / 9.0, rtol=1e-12)
    assert np.isnan(t.loc[1, "shifted_frac"])
    assert list(t["name_zh"]) == ["甲", "乙"]
