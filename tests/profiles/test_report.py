"""Monthly energy, typical days, and the report/workbook hooks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr
from numpy.testing import assert_allclose

from census.profiles.report import monthly_energy_table, typical_day_figure, typical_day_table


def _year_dataset():
    """2021 (8760 h): pv 1 MW from 10:00 to 13:59 every day, wind a constant 2 MW."""
    index = pd.date_range("2021-01-01", periods=8760, freq="h", tz="Asia/Shanghai")
    gen = np.zeros((8760, 1, 2))
    gen[(index.hour >= 10) & (index.hour < 14), 0, 0] = 1.0
    gen[:, 0, 1] = 2.0
    return xr.Dataset(
        {
            "generation_mw": (("time", "district", "technology"), gen),
            "capacity_mw_ac": (("district", "technology"), np.array([[1.0, 2.0]])),
        },
        coords={
            "time": index,
            "district": [330114],
            "technology": ["pv_ground", "wind"],
            "name_zh": ("district", ["钱塘区"]),
            "name_en": ("district", ["Qiantang"]),
        },
        attrs={"annual_factor_h": 1.0},
    )


def test_monthly_energy_by_hand():
    t = monthly_energy_table(_year_dataset())
    pv = t[t["technology"] == "pv_ground"].iloc[0]
    wind = t[t["technology"] == "wind"].iloc[0]
    # January: 31 days x 4 h x 1 MW = 124 MWh; February 2021: 28 x 4 = 112 MWh
    assert_allclose(pv["energy_mwh_01"], 124.0)
    assert_allclose(pv["energy_mwh_02"], 112.0)
    assert_allclose(pv["energy_mwh_yr"], 365 * 4.0)
    # wind: 2 MW x 744 h in January, x 8760 h in the year
    assert_allclose(wind["energy_mwh_01"], 1488.0)
    assert_allclose(wind["energy_mwh_yr"], 17520.0)
    assert pv["name_zh"] == "钱塘区"


def test_typical_day_by_hand():
    ds = _year_dataset()
    t = typical_day_table(ds)
    assert_allclose(t.loc[("JJA", 11), "pv_ground"], 1.0)
    assert_allclose(t.loc[("DJF", 9), "pv_ground"], 0.0)
    assert_allclose(t["wind"], 2.0)
    fig = typical_day_figure(ds, text={"title": "典型日", "JJA": "夏季"})
    titles = [ax.get_title() for ax in fig.axes]
    assert "夏季" in titles and fig._suptitle.get_text() == "典型日"
