"""The vectorised yield code gives pvlib's per-node numbers (speed work keeps the results)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pvlib
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from census.io.weather import read_weather
from census.settings.pv import default_pv_config
from census.solar.resource import sun_geometry
from census.solar.yield_ import add_pv_yield, orientation_nodes, rear_irradiance

ROOT = Path(__file__).resolve().parents[2]
EPW = ROOT / "data" / "raw" / "weather" / "CHN_Zhejiang.Hangzhou.584570_CSWD.epw"


@pytest.fixture(scope="module")
def year():
    weather, meta = read_weather(EPW, tz="Asia/Shanghai")
    return weather, meta, sun_geometry(weather, meta)


@pytest.fixture(scope="module")
def config():
    return default_pv_config()


# a handful of nodes: two share a tilt (one pvlib call for both), flat and vertical rows,
# azimuths on both sides of north (the rear azimuth wraps at 360)
NODE_TILT_DEG = np.array([0.0, 10.0, 22.0, 22.0, 35.0, 90.0, 22.0])
NODE_AZIMUTH_DEG = np.array([180.0, 135.0, 180.0, 225.0, 95.0, 270.0, 350.0])


@pytest.mark.parametrize("gcr_frac", [0.39, 0.86])
def test_rear_side_equals_pvlib_infinite_sheds_per_node(year, config, gcr_frac):
    """Every hour of the year (nights and twilight included), each node against its own
    call of pvlib.bifacial.infinite_sheds.get_irradiance with the ground rows' geometry
    (row centre 1.5 m, width 4.6 m, albedo 0.20, Hay-Davies, TOPCon bifaciality 0.8):
    rear gain = poa_global - poa_front, NaN -> 0, negative -> 0, as census did per node.
    Tolerance 1e-9 W/m2 absolute (the two differ by the rounding of front + rear - front)."""
    weather, _, sun = year
    arch, tech = config.archetypes["ground"], config.technologies["mono_si_topcon"]
    got = rear_irradiance(
        weather,
        sun,
        archetype=arch,
        technology=tech,
        tilt_deg=NODE_TILT_DEG,
        azimuth_deg=NODE_AZIMUTH_DEG,
        gcr_frac=gcr_frac,
    )
    assert got.shape == (len(NODE_TILT_DEG), len(weather))
    for i, (tilt, azimuth) in enumerate(zip(NODE_TILT_DEG, NODE_AZIMUTH_DEG, strict=True)):
        res = pvlib.bifacial.infinite_sheds.get_irradiance(
            tilt,
            azimuth,
            sun["apparent_zenith"],
            sun["azimuth"],
            gcr_frac,
            1.5,
            4.6 / gcr_frac,
            weather["ghi"],
            weather["dhi"],
            weather["dni"],
            0.20,
            model="haydavies",
            dni_extra=sun["dni_extra"],
            bifaciality=0.8,
        )
        want = (res["poa_global"] - res["poa_front"]).fillna(0.0).clip(lower=0.0).to_numpy()
        assert want.max() > 5.0  # a real rear side, not zeros against zeros
        assert_allclose(got[i], want, rtol=1e-12, atol=1e-9, err_msg=f"node {i}")


def test_rear_side_of_dark_hours_and_no_nodes(year, config):
    """Hours without light are 0 without a pvlib call; no nodes give an empty array."""
    weather, _, sun = year
    arch, tech = config.archetypes["hillside"], config.technologies["mono_si_topcon"]
    dark = weather.copy()
    dark[["ghi", "dhi", "dni"]] = 0.0
    kw = dict(archetype=arch, technology=tech, gcr_frac=0.5)
    out = rear_irradiance(dark, sun, tilt_deg=[20.0], azimuth_deg=[180.0], **kw)
    assert_array_equal(out, np.zeros((1, len(weather))))
    empty = rear_irradiance(weather, sun, tilt_deg=np.empty(0), azimuth_deg=np.empty(0), **kw)
    assert empty.shape == (0, len(weather))


@pytest.mark.parametrize("method", ["bilinear", "nearest"])
def test_orientation_nodes_are_distinct_sorted_corners(method):
    """Nodes are distinct grid points in (tilt, azimuth) order (tilt 0 is one node, azimuth
    360 is 0); the weights of each site's corners give back its own tilt and azimuth
    (bilinear) or its nearest grid point (nearest), worked out here from the 5-deg grid."""
    rng = np.random.default_rng(7)
    tilt = np.r_[rng.uniform(0.0, 90.0, 5000), 0.0, 90.0, 2.5, 40.0]
    azimuth = np.r_[rng.uniform(0.0, 360.0, 5000), 10.0, 359.0, 0.0, 357.5]
    node_t, node_a, site_node, weight = orientation_nodes(
        tilt, azimuth, bin_width_tilt_deg=5.0, bin_width_azimuth_deg=5.0, method=method
    )
    keys = np.where(node_t == 0.0, -1.0, node_t * 1000.0 + node_a)
    assert np.all(np.diff(keys) > 0)  # distinct and sorted
    assert np.all((node_a >= 0.0) & (node_a < 360.0))
    assert np.all(node_a[node_t == 0.0] == 180.0)
    assert np.all(np.mod(node_t, 5.0) == 0.0) and np.all(np.mod(node_a, 5.0) == 0.0)
    assert_allclose(weight.sum(axis=1), 1.0, rtol=1e-12)
    corner_t = node_t[site_node]
    if method == "bilinear":
        assert_allclose((weight * corner_t).sum(axis=1), tilt, atol=1e-9)
        # azimuth: unwrap each corner to within 180 deg of the site's azimuth
        corner_a = node_a[site_node]
        unwrapped = azimuth[:, None] + (corner_a - azimuth[:, None] + 180.0) % 360.0 - 180.0
        tilted = corner_t > 0.0  # tilt-0 corners carry no azimuth
        w = np.where(tilted, weight, 0.0)
        has = w.sum(axis=1) > 1e-9
        mean_a = (w * unwrapped).sum(axis=1)[has] / w.sum(axis=1)[has]
        assert_allclose(mean_a, azimuth[has], atol=1e-6)
    else:
        assert_allclose(corner_t[:, 0], np.floor(tilt / 5.0 + 0.5) * 5.0, atol=1e-9)


def test_add_pv_yield_keeps_geometry_and_other_columns(year, config):
    """The PV rows are read without their geometry; the output still carries it, and
    non-PV rows are untouched."""
    gpd = pytest.importorskip("geopandas")
    from shapely.geometry import Point

    weather, meta, _ = year
    sites = gpd.GeoDataFrame(
        {
            "pv_archetype": ["hillside", None, "rooftop_flat"],
            "pv_technology": [None, None, None],
            "capacity_mw_dc": [1.0, np.nan, 0.1],
            "category": ["mine", "wind", "rooftop"],
            "pv_coverage_frac": [0.5, np.nan, 0.6],
            "note": ["a", "b", "c"],
        },
        geometry=[Point(0, 0), Point(1, 1), Point(2, 2)],
        crs="EPSG:4549",
    )
    out, profile = add_pv_yield(sites, weather, meta, config)
    assert isinstance(out, gpd.GeoDataFrame)
    assert out.geometry.equals(sites.geometry)
    assert list(out["note"]) == ["a", "b", "c"]
    assert np.isnan(out.loc[1, "specific_yield_kwh_kwp"])
    assert (out.loc[[0, 2], "specific_yield_kwh_kwp"] > 800.0).all()
    assert isinstance(profile, pd.DataFrame)


def test_node_chain_every_hour_matches_pvlib_with_dark_hours_skipped(year, config):
    """simulate_nodes runs the chain on the lit hours only: every hour of the year still
    equals pvlib written out here (Perez POA with DNI_extra and airmass, parts clipped at 0,
    NaN -> 0; SAPM cell temperature of the ground archetype, a -3.47, b -0.0594, dT 3, which
    is the air temperature at night); the dark hours give 0 W/m2 and 0 kW."""
    from census.solar.yield_ import lit_hours, simulate_nodes

    weather, _, sun = year
    arch = config.archetypes["ground"]
    tilt, azimuth = np.array([0.0, 22.0, 40.0]), np.array([180.0, 180.0, 250.0])
    got = simulate_nodes(
        weather,
        sun,
        archetype=arch,
        technology=config.technologies["mono_si_perc"],
        tilt_deg=tilt,
        azimuth_deg=azimuth,
        config=config,
        outputs=("poa_global", "temp_cell", "p_dc", "p_ac"),
    )
    dark = np.setdiff1d(np.arange(len(weather)), lit_hours(weather))
    assert 3000 < len(dark) < 5000  # the nights of a year
    for i in range(len(tilt)):
        irr = pvlib.irradiance.get_total_irradiance(
            tilt[i],
            azimuth[i],
            sun["apparent_zenith"],
            sun["azimuth"],
            weather["dni"],
            weather["ghi"],
            weather["dhi"],
            dni_extra=sun["dni_extra"],
            airmass=sun["airmass_relative"],
            albedo=0.20,
            model="perez",
        )
        poa = sum(
            irr[k].fillna(0.0).clip(lower=0.0).to_numpy()
            for k in ("poa_direct", "poa_sky_diffuse", "poa_ground_diffuse")
        )
        assert_allclose(got["poa_global"][i], poa, rtol=1e-12, atol=1e-9)
        temp = pvlib.temperature.sapm_cell(
            poa, weather["temp_air"], weather["wind_speed"], -3.47, -0.0594, 3.0
        )
        assert_allclose(got["temp_cell"][i], np.asarray(temp), rtol=1e-12, atol=1e-9)
        assert_allclose(got["temp_cell"][i, dark], weather["temp_air"].to_numpy()[dark])
        assert_array_equal(got["p_ac"][i, dark], 0.0)
        assert_array_equal(got["p_dc"][i, dark], 0.0)
        assert got["p_ac"][i].max() > 0.5


def test_add_pv_yield_leaves_the_callers_table_unchanged(year, config):
    """The output is a copy (shallow under pandas' Copy-on-Write): the caller's columns,
    including result columns from an earlier run, keep their values."""
    weather, meta, _ = year
    sites = pd.DataFrame(
        {
            "pv_archetype": ["ground", "rooftop_flat"],
            "pv_technology": [None, None],
            "capacity_mw_dc": [1.0, 0.1],
            "category": ["mine", "rooftop"],
            "specific_yield_kwh_kwp": [-1.0, -2.0],
            "energy_mwh_yr": [-1.0, -2.0],
            "capacity_factor": [-1.0, -2.0],
        }
    )
    before = sites.copy(deep=True)
    out, _ = add_pv_yield(sites, weather, meta, config)
    pd.testing.assert_frame_equal(sites, before)
    assert (out["specific_yield_kwh_kwp"] > 800.0).all()
