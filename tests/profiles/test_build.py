"""Tests of census.profiles.build and the yield stage's hourly series."""

from __future__ import annotations

import copy
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from numpy.testing import assert_allclose
from scipy import sparse, stats
from windpowerlib import ModelChain

from census.exceptions import SchemaError
from census.hourly import SiteSeries
from census.io.weather import read_weather
from census.profiles import build_profiles, group_generation
from census.resources import load_assumptions
from census.settings.pv import default_pv_config
from census.settings.wind import WindConfig
from census.solar.yield_ import add_pv_yield
from census.wind.turbines import make_turbine
from census.wind.yield_ import add_wind_yield

ROOT = Path(__file__).resolve().parents[2]
EPW = ROOT / "data" / "raw" / "weather" / "CHN_Zhejiang.Hangzhou.584570_CSWD.epw"
INDEX3 = pd.date_range("2021-06-01 10:00", periods=3, freq="h", tz="Asia/Shanghai")


def _hand_series() -> tuple[SiteSeries, pd.DataFrame]:
    # two shared series, three sites (labels 10, 11, 12 in a site table of four rows)
    unit = np.array([[1.0, 2.0, 3.0], [0.0, 1.0, 0.0]])
    weights = sparse.csr_matrix(np.array([[2.0, 0.0], [0.5, 4.0], [1.0, 1.0]]))
    series = SiteSeries(
        index=INDEX3,
        interval_label="beginning",
        site_index=pd.Index([10, 11, 12]),
        weights=weights,
        unit_power_mw=unit,
        annual_factor_h=1.0,
    )
    sites = pd.DataFrame(
        {
            "adcode": [1, 1, 2, 2],
            "technology": ["pv_ground", "pv_ground", "pv_ground", "wind"],
            "eligible": [True, True, False, True],
            "capacity_mw_ac": [5.0, 10.0, 3.0, 7.0],
            "capacity_mw_dc": [6.0, 12.0, 3.6, 7.0],
        },
        index=[10, 11, 12, 13],
    )
    return series, sites


def test_group_generation_by_hand():
    series, sites = _hand_series()
    keys, gen = group_generation(series, sites, by=["adcode"])
    got = dict(zip(keys["adcode"], gen, strict=True))
    # district 1: 2 x [1,2,3] + 0.5 x [1,2,3] + 4 x [0,1,0] = [2.5, 9, 7.5]
    assert_allclose(got[1], [2.5, 9.0, 7.5], rtol=1e-12)
    # district 2: its only PV site is ineligible, as the roll-up counts it: zero
    assert_allclose(got[2], [0.0, 0.0, 0.0], atol=0)


def test_build_profiles_by_hand():
    series, sites = _hand_series()
    groups = pd.DataFrame(
        {"adcode": [1, 2, 3], "name_zh": ["甲", "乙", "丙"], "name_en": list("ABC")}
    )
    ds = build_profiles(sites, [series], groups)
    assert ds.sizes == {"time": 3, "district": 3, "technology": 2}
    g = ds["generation_mw"].sel(district=1, technology="pv_ground").to_numpy()
    assert_allclose(g, [2.5, 9.0, 7.5], rtol=1e-12)
    # capacity of eligible sites only: 5 + 10 MW AC in district 1; wind 7 MW in district 2
    assert_allclose(ds["capacity_mw_ac"].sel(district=1, technology="pv_ground"), 15.0)
    assert_allclose(ds["capacity_mw_ac"].sel(district=2, technology="wind"), 7.0)
    cf = ds["capacity_factor"].sel(district=1, technology="pv_ground").to_numpy()
    assert_allclose(cf, np.array([2.5, 9.0, 7.5]) / 15.0, rtol=1e-12)
    # no capacity: NaN, not a division by zero
    assert np.isnan(ds["capacity_factor"].sel(district=3, technology="wind")).all()
    assert_allclose(ds["energy_mwh_yr"].sel(district=1, technology="pv_ground"), 19.0)
    assert list(ds["name_zh"].to_numpy()) == ["甲", "乙", "丙"]
    assert ds["generation_mw"].attrs["units"] == "MW"
    assert ds.indexes["time"].tz is not None


def test_build_profiles_errors():
    series, sites = _hand_series()
    groups = pd.DataFrame({"adcode": [1], "name_zh": ["甲"], "name_en": ["A"]})
    with pytest.raises(SchemaError, match="capacity_mw_ac"):
        build_profiles(sites.drop(columns="capacity_mw_ac"), [series], groups)
    with pytest.raises(SchemaError, match="not in the site table"):
        group_generation(series, sites.drop(index=12), by=["adcode"])
    other = SiteSeries(
        index=INDEX3[:2],
        interval_label="beginning",
        site_index=pd.Index([13]),
        weights=sparse.csr_matrix(np.ones((1, 1))),
        unit_power_mw=np.ones((1, 2)),
        annual_factor_h=1.0,
    )
    with pytest.raises(SchemaError, match="same hourly year"):
        build_profiles(sites, [series, other], groups)


def test_pv_series_sum_to_site_energy():
    weather, meta = read_weather(EPW, tz="Asia/Shanghai")
    rng = np.random.default_rng(3)
    n = 300
    sites = pd.DataFrame(
        {
            "pv_archetype": rng.choice(["rooftop_flat", "rooftop_pitched", "ground"], n),
            "pv_technology": None,
            "capacity_mw_dc": rng.uniform(0.01, 1.0, n),
            "category": rng.choice(["rooftop", "mine"], n),
            "surface_tilt_deg": rng.uniform(0.0, 60.0, n),
            "surface_azimuth_deg": rng.uniform(0.0, 360.0, n),
        },
        index=np.arange(100, 100 + n),
    )
    out, profile, series = add_pv_yield(
        sites, weather, meta, default_pv_config(), return_series=True
    )
    per_site = series.site_power_mw()
    # each site's hourly series sums to its annual energy (8760-h year: factor 1 h)
    pos = out.index.get_indexer(series.site_index)
    assert_allclose(
        per_site.sum(axis=1) * series.annual_factor_h,
        out["energy_mwh_yr"].to_numpy()[pos],
        rtol=1e-9,
    )
    # and the per-category profile is the sum of the site series, hour by hour
    cats = out["category"].to_numpy()[pos]
    for cat in profile.columns:
        assert_allclose(
            per_site[cats == cat].sum(axis=0), profile[cat].to_numpy(), rtol=1e-9, atol=1e-9
        )


def _wind_config(**changes) -> WindConfig:
    tree = copy.deepcopy(load_assumptions("wind")[0])
    # without an atlas: opt in to the station wind, station roughness = the mudflat's, so the
    # two-step profile is windpowerlib's one-step log law (ModelChain is the reference)
    tree["resource"]["station_extrapolation"] = True
    tree["resource"]["station_roughness_length_m"] = tree["profile"]["roughness_length_m"][
        "mudflat"
    ]
    for dotted, value in changes.items():
        section, key = dotted.split(".")
        tree[section][key] = value
    return WindConfig.model_validate(tree)


def _wind_weather(n_hours: int = 8760) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    index = pd.date_range("2021-01-01", periods=n_hours, freq="h", tz="Asia/Shanghai")
    day = np.arange(n_hours) / 24
    return pd.DataFrame(
        {
            "wind_speed": stats.weibull_min.rvs(2.0, scale=4.5, size=n_hours, random_state=rng),
            "wind_direction": rng.uniform(0, 360, n_hours),
            "temp_air": 17 + 10 * np.sin(2 * np.pi * (day - 100) / 365),
            "pressure": 101_200 + 600 * rng.standard_normal(n_hours),
        },
        index=index,
    )


def _wind_sites(counts: list[int]):
    n = len(counts)
    sites = gpd.GeoDataFrame(
        {
            "site_id": [f"S{i}" for i in range(n)],
            "category": ["mudflat"] * n,
            "technology": ["wind"] * n,
            "eligible": [True] * n,
        },
        geometry=[shapely.box(i * 10_000, 0, i * 10_000 + 5000, 5000) for i in range(n)],
        crs="EPSG:4549",
    )
    rows = [(f"S{i}", f"S{i}-{k}") for i, c in enumerate(counts) for k in range(c)]
    turbines = gpd.GeoDataFrame(
        {"site_id": [r[0] for r in rows], "turbine_id": [r[1] for r in rows]},
        geometry=gpd.points_from_xy(np.arange(len(rows)) * 1000.0, np.zeros(len(rows))),
        crs="EPSG:4549",
    )
    return sites, turbines


META = {"altitude": 41.7, "wind_height_m": 10.0}


def test_wind_series_matches_windpowerlib_modelchain():
    config = _wind_config(
        **{"losses.availability_frac": 1.0, "losses.electrical_efficiency_frac": 1.0}
    )
    weather = _wind_weather()
    sites, turbines = _wind_sites([1])
    _, _, series = add_wind_yield(sites, turbines, weather, META, config, return_series=True)
    # reference: windpowerlib ModelChain on the same series (as tests/wind/test_wind_yield.py)
    turbine = make_turbine(config.turbine).to_windpowerlib()
    wpl_weather = pd.DataFrame(
        {
            ("wind_speed", 10): weather["wind_speed"],
            ("temperature", 2): weather["temp_air"] + 273.15,
            ("pressure", 0): weather["pressure"],
            ("roughness_length", 0): config.profile.roughness_length_m["mudflat"],
        }
    )
    mc = ModelChain(
        turbine,
        wind_speed_model="logarithmic",
        temperature_model="linear_gradient",
        density_model=config.profile.density_model,
        power_output_model="power_curve",
        density_correction=config.profile.density_correction,
    ).run_model(wpl_weather)
    # hour by hour, W -> MW; same windpowerlib functions, so equal to rounding
    assert_allclose(
        series.site_power_mw()[0], mc.power_output.to_numpy() / 1e6, rtol=1e-9, atol=1e-12
    )


def test_wind_series_sum_to_energy_with_wakes_losses_and_weibull():
    config = _wind_config(**{"resource.energy_method": "weibull"})
    sites, turbines = _wind_sites([1, 3, 0])
    atlas = pd.DataFrame(
        {
            "weibull_a_100m_m_s": [7.0, 6.5, 6.0],
            "weibull_k_100m": [2.0, 2.2, 2.1],
            "weibull_a_150m_m_s": [7.6, 7.1, 6.6],
            "weibull_k_150m": [2.1, 2.3, 2.2],
        }
    )
    out, _, series = add_wind_yield(
        sites, turbines, _wind_weather(), META, config, atlas=atlas, return_series=True
    )
    pos = out.index.get_indexer(series.site_index)
    energy = out["energy_mwh_yr"].to_numpy(float)[pos]
    # the Weibull energy differs from the series' own energy, and the weights carry the ratio
    assert_allclose(series.site_power_mw().sum(axis=1) * series.annual_factor_h, energy, rtol=1e-9)
    assert series.site_power_mw()[2].max() == 0.0  # no turbine, no output
    # never above the AC rating (turbines x rating x losses x correction stays below it here)
    rating = out["capacity_mw_ac"].to_numpy(float)[pos]
    assert (series.site_power_mw().max(axis=1) <= rating * 1.05 + 1e-9).all()


def test_zone_shares_split_generation_and_capacity():
    series, sites = _hand_series()
    # site 10 lies 25 % in zone "a" and 75 % in "b"; site 11 wholly in "b"; site 12 (not
    # eligible) in "a"; site 13 (wind, no series here) in "a"
    shares = pd.DataFrame(
        {
            "site_index": [10, 10, 11, 12, 13],
            "zone": ["a", "b", "b", "a", "a"],
            "share_frac": [0.25, 0.75, 1.0, 1.0, 1.0],
        }
    )
    zones = pd.DataFrame({"zone": ["a", "b"], "zone_name": ["A", "B"]})
    ds = build_profiles(
        sites,
        [series],
        zones,
        group_column="zone",
        dim="zone",
        label_columns=["zone_name"],
        shares=shares,
    )
    pv = ds["generation_mw"].sel(technology="pv_ground")
    # zone a: 0.25 x 2 x [1,2,3]; zone b: 0.75 x 2 x [1,2,3] + site 11's [2.5-2, 9-4, 7.5-6]
    assert_allclose(pv.sel(zone="a"), [0.5, 1.0, 1.5], rtol=1e-12)
    assert_allclose(pv.sel(zone="b"), [1.5 + 0.5, 3.0 + 5.0, 4.5 + 1.5], rtol=1e-12)
    # zones add up to the district total of the same sites
    assert_allclose(pv.sum("zone"), [2.5, 9.0, 7.5], rtol=1e-12)
    # capacity split the same way: a 0.25 x 5; b 0.75 x 5 + 10; wind 7 MW in a
    assert_allclose(ds["capacity_mw_ac"].sel(technology="pv_ground"), [1.25, 13.75])
    assert_allclose(ds["capacity_mw_ac"].sel(technology="wind"), [7.0, 0.0])
