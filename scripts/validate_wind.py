"""Print the numbers of docs/validation-wind.md (wind model, targets, storage, CO2).

Run from the repository root::

    python scripts/validate_wind.py            # everything (two demo runs, a few minutes)
    python scripts/validate_wind.py --quick    # the reference comparisons only

Each section prints the census value, the independent reference and their ratio. The
references are windpowerlib's ModelChain (time series), a numerical integration of the
power curve over the Weibull density with scipy (atlas path), and hand arithmetic on the
run's own tables (targets, storage, CO2).
"""

from __future__ import annotations

import argparse
import copy
import logging

import numpy as np
import pandas as pd
from scipy import integrate, stats
from windpowerlib import ModelChain

from census.config import load_config
from census.resources import load_assumptions
from census.settings.wind import WindConfig
from census.units import HOURS_PER_YEAR
from census.wind.profile import wind_speed_two_step
from census.wind.turbines import make_turbine
from census.wind.yield_ import annual_energy_weibull, turbine_energy_mwh_yr

TURBINES = {
    "new default: turbine-models 2020ATB 5.5 MW, 175 m, hub 140 m": {
        "library": "turbine-models",
        "type": "2020ATB_NREL_Reference_5.5MW_175",
        "hub_height_m": 140.0,
    },
    "old default: windpowerlib V126/3450, hub 117 m": {
        "library": "windpowerlib",
        "type": "V126/3450",
        "hub_height_m": 117.0,
    },
}


def _wind_config(turbine: dict) -> WindConfig:
    tree = copy.deepcopy(load_assumptions("wind")[0])
    tree["turbine"].update(turbine)
    return WindConfig.model_validate(tree)


def _series(seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    index = pd.date_range("2021-01-01", periods=8760, freq="h", tz="Asia/Shanghai")
    day = np.arange(8760) / 24
    return pd.DataFrame(
        {
            "wind_speed": stats.weibull_min.rvs(2.0, scale=4.5, size=8760, random_state=rng),
            "temp_air": 17 + 10 * np.sin(2 * np.pi * (day - 100) / 365),
            "pressure": 101_200 + 600 * rng.standard_normal(8760),
        },
        index=index,
    )


def modelchain_check() -> None:
    """One turbine, 10 m series over a mudflat (z0 0.0003 m): census vs ModelChain."""
    print("\n## 1. Time series: census vs windpowerlib ModelChain (one turbine)")
    weather = _series()
    z0 = 0.0003
    for label, turbine in TURBINES.items():
        cfg = _wind_config(turbine)
        spec = make_turbine(cfg.turbine)
        v_hub = wind_speed_two_step(
            weather["wind_speed"],
            height_ref_m=10.0,
            height_m=spec.hub_height_m,
            station_roughness_length_m=z0,
            site_roughness_length_m=z0,
            blending_height_m=60.0,
        )
        from census.wind.profile import air_density_hub

        rho = air_density_hub(
            weather["temp_air"],
            weather["pressure"],
            temperature_height_asl_m=2.0,
            pressure_height_asl_m=0.0,
            hub_height_asl_m=spec.hub_height_m,
        )
        ours = turbine_energy_mwh_yr(v_hub, rho, spec.power_curve, density_correction=True)
        mc = ModelChain(
            spec.to_windpowerlib(),
            wind_speed_model="logarithmic",
            temperature_model="linear_gradient",
            density_model="ideal_gas",
            power_output_model="power_curve",
            density_correction=True,
        ).run_model(
            pd.DataFrame(
                {
                    ("wind_speed", 10): weather["wind_speed"],
                    ("temperature", 2): weather["temp_air"] + 273.15,
                    ("pressure", 0): weather["pressure"],
                    ("roughness_length", 0): z0,
                }
            )
        )
        ref = float(mc.power_output.sum()) / 1e6
        print(
            f"{label}: census {ours:,.1f} MWh/yr, ModelChain {ref:,.1f} MWh/yr, "
            f"difference {ours / ref - 1:+.1e}; "
            f"CF {ours / (spec.rated_power_mw * HOURS_PER_YEAR):.3f}"
        )


def weibull_check() -> None:
    """Closed-form Weibull integral vs scipy quadrature of P(v) f(v)."""
    print("\n## 2. Atlas path: closed-form Weibull integral vs scipy.integrate.quad")
    for label, turbine in TURBINES.items():
        spec = make_turbine(_wind_config(turbine).turbine)
        curve = spec.power_curve
        ws, p = curve["wind_speed"].to_numpy(), curve["value"].to_numpy()
        for a, k in ((6.0, 2.0), (7.5, 2.3)):
            ours = float(annual_energy_weibull(curve, a, k))

            dist = stats.weibull_min(k, scale=a)

            def integrand(v: float, ws=ws, p=p, dist=dist) -> float:
                return float(np.interp(v, ws, p, left=0.0, right=0.0)) * dist.pdf(v)

            ref, _ = integrate.quad(integrand, 0, ws[-1], points=list(ws), limit=500)
            ref_mwh = ref * HOURS_PER_YEAR / 1e6
            print(
                f"{label}, A={a} m/s, k={k}: census {ours:,.1f} MWh/yr, quad {ref_mwh:,.1f} "
                f"MWh/yr, difference {ours / ref_mwh - 1:+.1e}, full-load hours "
                f"{ours / spec.rated_power_mw:,.0f} h"
            )


def demo_runs() -> None:
    """Demo wind with the new and the old turbine; targets, storage and CO2 by hand."""
    from census.pipeline import run_census
    from census.rollup import technology_mask

    print("\n## 3. Demo: old vs new turbine, full-load hours against the sourced range")
    results = {}
    for label, turbine in TURBINES.items():
        loaded = load_config(overrides={"wind": {"turbine": turbine}})
        res = run_census(loaded, write=False)
        wind = res.sites[(res.sites["technology"] == "wind") & res.sites["eligible"]]
        cap = float(wind["capacity_mw_ac"].sum())
        energy = float(wind["energy_mwh_yr"].sum())
        lo, hi = loaded.config.wind.resource.full_load_hours_range_h
        flh_warn = [w for w in res.provenance["warnings"] if "full-load hours" in w]
        print(
            f"{label}: {int(wind['n_turbines'].sum())} turbines, {cap:,.1f} MW, "
            f"{energy / 1e3:,.1f} GWh/yr, full-load hours {energy / cap:,.0f} h "
            f"(plausible {lo:,.0f}-{hi:,.0f} h; warning: {'yes' if flh_warn else 'no'}), "
            f"mean hub wind {wind['wind_speed_hub_m_s'].mean():.2f} m/s"
        )
        results[label] = (res, loaded)

    res, loaded = results[next(iter(TURBINES))]
    tc = loaded.config.targets
    by = res.by_district
    # "by hand": sums over the site table, independent of the roll-up's grouping
    sites = res.sites[res.sites["eligible"].astype(bool)]
    print("\n## 4. Targets, storage and CO2 of the demo run (new default), by hand")
    t = res.targets.set_index("target")
    for name, rec in tc.active_records.items():
        mask = technology_mask(sites["technology"], rec.technologies)
        col = f"capacity_mw_{rec.capacity_basis}"
        hand = float(sites.loc[mask, col].sum())
        print(
            f"target {name} ({rec.capacity_mw:,.0f} MW {rec.capacity_basis.upper()}): eligible "
            f"sites' {col} over {rec.technologies} = {hand:,.1f} MW, ratio "
            f"{hand / rec.capacity_mw:.3f}; census targets.csv {t.at[name, 'potential_mw']:,.1f}"
            f" MW, ratio {t.at[name, 'potential_to_target_ratio']:.3f}"
        )
    obliged = sites["technology"].isin(tc.storage_technologies)
    base = float(sites.loc[obliged, f"capacity_mw_{tc.storage_basis}"].sum())
    print(
        f"storage: {tc.storage_min_frac:g} x {base:,.1f} MW ({tc.storage_basis.upper()}, "
        f"{', '.join(tc.storage_technologies)}) = {tc.storage_min_frac * base:,.1f} MW, x "
        f"{tc.storage_duration_h:g} h = {tc.storage_min_frac * base * tc.storage_duration_h:,.1f}"
        f" MWh; census {by['storage_mw'].sum():,.1f} MW, {by['storage_mwh'].sum():,.1f} MWh"
    )
    energy = float(sites["energy_mwh_yr"].sum())
    ef = tc.grid_emission_factor_tco2_mwh
    print(
        f"CO2: {energy:,.0f} MWh/yr x {ef} tCO2/MWh ({tc.emission_factor_preset}) = "
        f"{energy * ef:,.0f} t/yr; census {by['co2_avoided_t_yr'].sum():,.0f} t/yr"
    )
    print(f"targets note: {t['note'].iloc[0]}")


def main() -> None:
    """Run the checks."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the two demo runs")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    modelchain_check()
    weibull_check()
    if not args.quick:
        demo_runs()


if __name__ == "__main__":
    main()
