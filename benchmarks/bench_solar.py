"""Benchmark: binned PV specific yield for 100 000 rooftop sites vs a pvlib loop.

Run from the repository root::

    python benchmarks/bench_solar.py [--sites 100000] [--sample 20] [--repeats 3]

It times :func:`census.solar.yield_.add_pv_yield` on ``--sites`` rooftop sites of
random tilt (0-60 deg) and azimuth (0-360 deg) with the Hangzhou CSWD year,
then a per-site :class:`pvlib.modelchain.ModelChain` loop (PVWatts DC/AC, SAPM
temperature, Perez, physical IAM: the same models) on ``--sample`` of them,
extrapolated to all sites. Timings are medians of ``--repeats`` runs. It also
prints the binning error against exact per-site values on the sample.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pvlib

from census.io.weather import read_weather
from census.settings.pv import PVConfig, default_pv_config
from census.solar.yield_ import add_pv_yield

EPW = Path(__file__).resolve().parents[1] / "data/raw/weather/CHN_Zhejiang.Hangzhou.584570_CSWD.epw"


def random_rooftops(n: int, seed: int = 42) -> pd.DataFrame:
    """Rooftop sites of random orientation, 10-500 kW each."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "pv_archetype": rng.choice(["rooftop_flat", "rooftop_pitched"], n),
            "pv_technology": None,
            "capacity_mw_dc": rng.uniform(0.01, 0.5, n),
            "category": "rooftop",
            "surface_tilt_deg": rng.uniform(0.0, 60.0, n),
            "surface_azimuth_deg": rng.uniform(0.0, 360.0, n),
        }
    )


def modelchain_yield(weather: pd.DataFrame, meta: dict, site: pd.Series, config: PVConfig) -> float:
    """Specific yield [kWh/kWp] of one site with a fresh pvlib ModelChain."""
    arch = config.archetypes[site["pv_archetype"]]
    tech = config.technologies[arch.technology]
    system = pvlib.pvsystem.PVSystem(
        surface_tilt=site["surface_tilt_deg"],
        surface_azimuth=site["surface_azimuth_deg"],
        albedo=arch.albedo_frac,
        module_parameters={"pdc0": 1.0, "gamma_pdc": tech.gamma_pdc_per_k},
        inverter_parameters={
            "pdc0": 1.0 / arch.dc_ac_ratio / config.inverter.eta_inv_nom_frac,
            "eta_inv_nom": config.inverter.eta_inv_nom_frac,
            "eta_inv_ref": config.inverter.eta_inv_ref_frac,
        },
        temperature_model_parameters=dict(arch.temperature_params),
        losses_parameters=config.losses.to_pvlib(),
    )
    location = pvlib.location.Location(
        meta["latitude"], meta["longitude"], tz=meta["tz"], altitude=meta["altitude"]
    )
    mc = pvlib.modelchain.ModelChain(
        system,
        location,
        transposition_model="perez",
        aoi_model="physical",
        spectral_model="no_loss",
        temperature_model="sapm",
        losses_model="pvwatts",
        dc_model="pvwatts",
        ac_model="pvwatts",
    )
    # hourly means labelled at the hour's start: run ModelChain at mid-hour
    mid = weather.set_index(weather.index + pd.Timedelta(minutes=30))
    mc.run_model(mid)
    return float(mc.results.ac.clip(lower=0).sum())


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    config = default_pv_config()
    weather, meta = read_weather(EPW, tz="Asia/Shanghai")
    sites = random_rooftops(args.sites)

    binned_s = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        out, _profile = add_pv_yield(sites, weather, meta, config)
        binned_s.append(time.perf_counter() - t0)
    t_binned = statistics.median(binned_s)

    sample = sites.sample(args.sample, random_state=1)
    loop_s = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        mc_yield = np.array(
            [modelchain_yield(weather, meta, row, config) for _, row in sample.iterrows()]
        )
        loop_s.append(time.perf_counter() - t0)
    t_loop_per_site = statistics.median(loop_s) / args.sample
    t_loop_all = t_loop_per_site * args.sites

    exact, _ = add_pv_yield(sample, weather, meta, config, exact=True)
    binned_sample = out.loc[sample.index, "specific_yield_kwh_kwp"].to_numpy()
    exact_sample = exact["specific_yield_kwh_kwp"].to_numpy()
    bin_err = np.abs(binned_sample / exact_sample - 1)
    # ModelChain applies the IAM to the beam only: compare with census's diffuse IAM off
    beam_only = config.model_copy(update={"diffuse_iam_model": "none"})
    exact_beam, _ = add_pv_yield(sample, weather, meta, beam_only, exact=True)
    mc_err = np.abs(exact_beam["specific_yield_kwh_kwp"].to_numpy() / mc_yield - 1)

    print(f"sites: {args.sites:,} rooftops of random orientation; weather: {EPW.name}")
    print(
        f"census binned (median of {args.repeats}): {t_binned:8.2f} s  "
        f"{args.sites / t_binned:12,.0f} sites/s"
    )
    print(
        f"pvlib ModelChain loop ({args.sample} sites sampled, extrapolated): "
        f"{t_loop_all:8.1f} s  {1 / t_loop_per_site:12,.1f} sites/s"
    )
    print(f"speed-up: {t_loop_all / t_binned:,.0f} x")
    print(
        f"binning error vs exact on the sample: max {bin_err.max():.3%}, mean {bin_err.mean():.3%}"
    )
    print(f"census exact (beam-only IAM) vs ModelChain on the sample: max {mc_err.max():.4%}")


if __name__ == "__main__":
    main()
