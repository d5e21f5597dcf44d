"""profiles.nc: round trip through NetCDF-4 and Zarr, and the demo run's file."""

from __future__ import annotations

import datetime as dt

import numpy as np
import openpyxl
import pandas as pd
import pytest
import xarray as xr
from numpy.testing import assert_allclose

from census.config import load_config
from census.exceptions import CensusError
from census.io.profiles import read_profiles, write_profiles
from census.pipeline import run_census

from .test_build import _hand_series


def _hand_dataset(tz):
    from census.profiles import build_profiles

    series, sites = _hand_series()
    if tz is not None:
        series = type(series)(**{**series.__dict__, "index": series.index.tz_convert(tz)})
    groups = pd.DataFrame(
        {"adcode": [1, 2], "name_zh": ["上城区", "西湖区"], "name_en": ["A", "B"]}
    )
    return build_profiles(sites, [series], groups)


@pytest.mark.parametrize("tz", ["Asia/Shanghai", dt.timezone(dt.timedelta(hours=8))])
def test_netcdf_round_trip(tmp_path, tz):
    ds = _hand_dataset(tz)
    path = write_profiles(ds, tmp_path / "profiles.nc")
    # plain xarray reads dimensions, units, names, and UTC stamps with the zone in attrs
    with xr.open_dataset(path) as raw:
        assert dict(raw.sizes) == {"time": 3, "district": 2, "technology": 2}
        assert raw["generation_mw"].attrs["units"] == "MW"
        assert raw["capacity_factor"].attrs["units"] == "1"
        assert raw["time"].attrs["standard_name"] == "time"
        assert list(raw["name_zh"].to_numpy()) == ["上城区", "西湖区"]
        # 2021-06-01 10:00 in UTC+8 is 02:00 UTC
        assert pd.Timestamp(raw["time"].to_numpy()[0]) == pd.Timestamp("2021-06-01 02:00")
    back = read_profiles(path)
    assert back.indexes["time"].equals(ds.indexes["time"])
    # float32 on disk: 7 significant digits
    assert_allclose(back["generation_mw"], ds["generation_mw"], rtol=1e-6)
    assert_allclose(back["capacity_mw_ac"], ds["capacity_mw_ac"], rtol=1e-12)


def test_zarr_round_trip(tmp_path):
    ds = _hand_dataset("Asia/Shanghai")
    path = write_profiles(ds, tmp_path / "profiles.zarr", format="zarr")
    back = read_profiles(path)
    assert back.indexes["time"].equals(ds.indexes["time"])
    assert_allclose(back["generation_mw"], ds["generation_mw"], rtol=1e-6)
    assert back["generation_mw"].attrs["units"] == "MW"


@pytest.fixture(scope="module")
def qiantang(tmp_path_factory):
    loaded = load_config(None)
    loaded.config.outputs.map = False
    loaded.config.outputs.zarr = True
    out = tmp_path_factory.mktemp("runs") / "q"
    return run_census(loaded, ["Qiantang"], out_dir=out)


def test_run_writes_profiles_that_match_the_annual_tables(qiantang):
    path = qiantang.run_dir / "profiles.nc"
    assert path.is_file() and (qiantang.run_dir / "profiles.zarr").is_dir()
    with xr.open_dataset(path) as ds:
        assert set(ds.dims) == {"time", "district", "technology"}
        assert ds.sizes["time"] in (8760, 8784)
        assert {"pv_rooftop", "wind"} <= set(ds["technology"].to_numpy())
        annual = ds["generation_mw"].sum("time") * ds.attrs["annual_factor_h"]
        by = qiantang.by_district
        table = by[by["technology"] != ""].groupby(["adcode", "technology"])["energy_mwh_yr"].sum()
        for (adcode, tech), mwh in table.items():
            # the issue: annual sums equal the annual tables to 0.1 % (float32 on disk)
            assert_allclose(float(annual.sel(district=adcode, technology=tech)), mwh, rtol=1e-3)
        cf = ds["capacity_factor"].to_numpy()
        assert np.nanmin(cf) >= 0 and np.nanmax(cf) <= 1 + 1e-6
    # write=False returns the same Dataset
    assert qiantang.profiles is not None
    assert qiantang.profiles.indexes["time"].tz is not None
    assert "profiles.nc" in qiantang.provenance["outputs"]


def test_run_report_and_workbook_use_the_profiles(qiantang):
    html = (qiantang.run_dir / "report.html").read_text(encoding="utf-8")
    assert "What the obligated storage could shift" in html
    assert 'alt="Hourly profiles"' in html  # the typical-day chart, inlined
    shift = pd.read_csv(qiantang.run_dir / "storage_shift_by_district.csv", encoding="utf-8-sig")
    row = shift.iloc[0]
    # invariants: charged <= above the limit; delivered <= charged x efficiency (0.85)
    assert row["charged_mwh_yr"] <= row["above_limit_mwh_yr"] + 1e-9
    assert row["delivered_mwh_yr"] <= 0.85 * row["charged_mwh_yr"] + 1e-9
    wb = openpyxl.load_workbook(qiantang.run_dir / "census.xlsx", read_only=True)
    assert {"monthly_energy", "storage_shift"} <= set(wb.sheetnames)


def test_merge_profiles_of_disjoint_runs(tmp_path):
    from census.io.profiles import merge_profiles

    ds = _hand_dataset("Asia/Shanghai")
    one = ds.sel(district=[1], technology=["pv_ground"])
    two = ds.sel(district=[2])
    p1 = write_profiles(one, tmp_path / "a.nc")
    p2 = write_profiles(two, tmp_path / "b.nc")
    merged = merge_profiles([p1, p2])
    assert list(merged["district"].to_numpy()) == [1, 2]
    assert sorted(merged["technology"].to_numpy()) == ["pv_ground", "wind"]
    # district 1 had no wind column: 0 MW, capacity factor NaN
    assert float(merged["generation_mw"].sel(district=1, technology="wind").sum()) == 0.0
    assert np.isnan(merged["capacity_factor"].sel(district=1, technology="wind")).all()
    assert_allclose(
        merged["generation_mw"].sel(district=1, technology="pv_ground"), [2.5, 9.0, 7.5], rtol=1e-6
    )
    assert merged.indexes["time"].tz is not None and merged["generation_mw"].attrs["units"] == "MW"
    with pytest.raises(CensusError, match="share district ids"):
        merge_profiles([p1, p1])
