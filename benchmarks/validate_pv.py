"""Validation of the PV models against independent references (docs/validation-pv.md).

Run from the repository root::

    python benchmarks/validate_pv.py [--run RUN_DIR]

Prints four tables:

1. ``yield``: census specific yield of every archetype (default module and orientation)
   against a pvlib chain written out here with pvlib functions only (Perez, physical
   and Marion diffuse IAM, SAPM/PVsyst cell temperature, infinite-sheds rear light,
   PVWatts DC, losses and inverter), on the demo's weather year;
2. ``spacing``: the winter-solstice GCR of census.solar.spacing against the
   hand formula on level ground and on 10 deg south/north slopes, and against pvlib's
   shaded fraction (Anderson & Jensen 2024) on 1-minute steps for east/west slopes;
3. ``lcoe``: the lifetime energy factor against a year-by-year discounted sum;
4. ``demo`` (with ``--run``): capacity-weighted specific yield per archetype of a
   finished run, beside the physical bounds PR 0.75-0.85 of its plane-of-array
   insolation.

Parameters of the archetypes (albedo, thermal coefficients, DC/AC ratio...) are read
from the packaged pv.yaml, because the point is to check the code, not the data.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
import pvlib

from census.config import load_config
from census.io.weather import read_weather
from census.settings.costs import CostsConfig
from census.settings.pv import PVArchetype, PVConfig, PVTechnology, default_pv_config
from census.solar.spacing import row_layout, winter_solstice_sun
from census.solar.yield_ import specific_yield
from census.supply import lifetime_energy_factor

ROOT = Path(__file__).resolve().parents[1]


def reference_yield(
    weather: pd.DataFrame,
    meta: dict,
    arch: PVArchetype,
    tech: PVTechnology,
    config: PVConfig,
) -> tuple[float, float]:
    """Specific yield [kWh/kWp] and POA insolation [kWh/m2] by a chain written out here."""
    step = weather.index[1] - weather.index[0]
    label = meta["interval_label"]
    times = weather.index + (step / 2 if label == "beginning" else -step / 2)
    sp = pvlib.solarposition.get_solarposition(
        times,
        meta["latitude"],
        meta["longitude"],
        meta["altitude"],
        pressure=weather["pressure"].to_numpy(),
        temperature=weather["temp_air"].to_numpy(),
    )
    zen = pd.Series(sp["apparent_zenith"].to_numpy(), index=weather.index)
    azi = pd.Series(sp["azimuth"].to_numpy(), index=weather.index)
    dni_extra = pd.Series(pvlib.irradiance.get_extra_radiation(times).to_numpy(), weather.index)
    tilt, az = arch.tilt_deg, arch.azimuth_deg
    poa = pvlib.irradiance.get_total_irradiance(
        tilt,
        az,
        zen,
        azi,
        weather["dni"],
        weather["ghi"],
        weather["dhi"],
        dni_extra=dni_extra,
        airmass=pvlib.atmosphere.get_relative_airmass(zen),
        albedo=arch.albedo_frac,
        model="perez",
    ).fillna(0.0)
    poa = poa.clip(lower=0.0)
    aoi = pvlib.irradiance.aoi(tilt, az, zen, azi)
    diffuse = pvlib.iam.marion_diffuse("physical", tilt)
    effective = (
        poa["poa_direct"] * pvlib.iam.physical(aoi).fillna(0.0)
        + poa["poa_sky_diffuse"] * diffuse["sky"]
        + poa["poa_ground_diffuse"] * diffuse["ground"]
    )
    if tech.bifaciality_frac > 0 and arch.row_height_m is not None:
        sheds = pvlib.bifacial.infinite_sheds.get_irradiance(
            tilt,
            az,
            zen,
            azi,
            arch.coverage_frac,
            arch.row_height_m,
            arch.collector_width_m / arch.coverage_frac,
            weather["ghi"],
            weather["dhi"],
            weather["dni"],
            arch.albedo_frac,
            model="haydavies",
            dni_extra=dni_extra,
            bifaciality=tech.bifaciality_frac,
        )
        effective = effective + (sheds["poa_global"] - sheds["poa_front"]).fillna(0).clip(0)
    p = arch.temperature_params
    if arch.temperature_model == "sapm":
        t_cell = pvlib.temperature.sapm_cell(
            poa["poa_global"],
            weather["temp_air"],
            weather["wind_speed"],
            p["a"],
            p["b"],
            p["deltaT"],
        )
    else:
        t_cell = pvlib.temperature.pvsyst_cell(
            poa["poa_global"],
            weather["temp_air"],
            weather["wind_speed"],
            u_c=p["u_c"],
            u_v=p["u_v"],
            module_efficiency=tech.efficiency_frac,
            alpha_absorption=p.get("alpha_absorption", 0.9),
        )
    pdc = pvlib.pvsystem.pvwatts_dc(effective, t_cell, 1.0, tech.gamma_pdc_per_k)
    losses = {k.removesuffix("_frac"): 100 * v for k, v in config.losses.model_dump().items()}
    pdc = pdc * (1 - pvlib.pvsystem.pvwatts_losses(**losses) / 100)
    eta = config.inverter.eta_inv_nom_frac
    pac = pvlib.inverter.pvwatts(
        pdc,
        1.0 / arch.dc_ac_ratio / eta,
        eta_inv_nom=eta,
        eta_inv_ref=config.inverter.eta_inv_ref_frac,
    ).clip(lower=0)
    hours = step / pd.Timedelta(hours=1)
    return float(pac.sum() * hours), float(poa["poa_global"].sum() * hours / 1000)


def table_yield(weather: pd.DataFrame, meta: dict, config: PVConfig) -> pd.DataFrame:
    """Census against the written-out chain, per archetype."""
    rows = []
    for name, arch in config.archetypes.items():
        tech = config.technologies[arch.technology]
        got = specific_yield(weather, meta, archetype=name, config=config)
        ref, poa = reference_yield(weather, meta, arch, tech, config)
        rows.append(
            {
                "archetype": name,
                "module": arch.technology,
                "tilt_deg": arch.tilt_deg,
                "dc_ac": arch.dc_ac_ratio,
                "census_kwh_kwp": round(got, 2),
                "reference_kwh_kwp": round(ref, 2),
                "diff_pct": round(100 * (got / ref - 1), 4),
                "poa_kwh_m2": round(poa, 1),
                "pr": round(got / poa, 3),
            }
        )
    return pd.DataFrame(rows)


def hand_gcr(lat: float, tilt: float, slope_south_deg: float) -> float:
    """Hand formula at 15:00 true solar time (see tests/solar/test_spacing.py)."""
    phi, d, w = np.radians(lat), np.radians(-23.4199), np.radians(45.0)
    alpha = np.arcsin(np.sin(phi) * np.sin(d) + np.cos(phi) * np.cos(d) * np.cos(w))
    gamma = np.arcsin(np.cos(d) * np.sin(w) / np.cos(alpha))
    tan_theta = np.cos(gamma) / np.tan(alpha)
    b = np.radians(tilt)
    pitch = (np.cos(b) + np.sin(b) * tan_theta) / (
        1 + np.tan(np.radians(slope_south_deg)) * tan_theta
    )
    return float(1 / pitch)


def table_spacing(lat: float = 30.23, tilt: float = 22.0) -> pd.DataFrame:
    """GCR of census against hand geometry and pvlib's shaded fraction."""
    cases = [
        ("level", 0.0, 180.0),
        ("10 deg south", 10.0, 180.0),
        ("10 deg north", 10.0, 0.0),
        ("10 deg east", 10.0, 90.0),
        ("10 deg west", 10.0, 270.0),
        ("20 deg south-east", 20.0, 135.0),
    ]
    out = row_layout(
        lat,
        tilt_deg=tilt,
        slope_deg=[c[1] for c in cases],
        aspect_deg=[c[2] for c in cases],
    )
    zen, azi = winter_solstice_sun([lat], n_times=361)
    rows = []
    for i, (label, slope, aspect) in enumerate(cases):
        gcr = float(out["gcr_frac"].iloc[i])
        hand = np.nan
        if aspect in (0.0, 180.0):
            hand = hand_gcr(lat, tilt, slope if aspect == 180.0 else -slope)
        kw = {
            "collector_width": 1.0,
            "axis_tilt": out["axis_tilt_deg"].iloc[i],
            "cross_axis_slope": out["cross_axis_slope_deg"].iloc[i],
        }
        fs = pvlib.shading.shaded_fraction1d(zen[0], azi[0], 90.0, tilt, pitch=1 / gcr, **kw)
        fs99 = pvlib.shading.shaded_fraction1d(zen[0], azi[0], 90.0, tilt, pitch=0.99 / gcr, **kw)
        rows.append(
            {
                "terrain": label,
                "census_gcr": round(gcr, 5),
                "hand_gcr": round(hand, 5),
                "max_shade_at_gcr": float(fs.max()),
                "max_shade_at_1pct_closer": round(float(fs99.max()), 4),
                "module_azimuth_deg": round(float(out["surface_azimuth_deg"].iloc[i]), 2),
            }
        )
    return pd.DataFrame(rows)


def table_lcoe(costs: CostsConfig) -> pd.DataFrame:
    """Lifetime energy factor against a year-by-year discounted sum."""
    rows = []
    r = costs.discount_rate_frac
    for tech, c in costs.technologies.items():
        t = np.arange(1, c.lifetime_yr + 1)
        direct = np.sum((1 - c.degradation_frac_yr) ** (t - 1) / (1 + r) ** t) / np.sum(
            1 / (1 + r) ** t
        )
        got = lifetime_energy_factor(r, c.lifetime_yr, c.degradation_frac_yr)
        rows.append(
            {
                "technology": tech,
                "lifetime_yr": c.lifetime_yr,
                "degradation_frac_yr": c.degradation_frac_yr,
                "census_factor": round(float(got), 6),
                "direct_sum": round(float(direct), 6),
            }
        )
    return pd.DataFrame(rows)


def table_demo(run: Path, poa_by_archetype: dict[str, float]) -> pd.DataFrame:
    """Capacity-weighted specific yield per archetype of a finished run."""
    import pyogrio

    sites = pyogrio.read_dataframe(run / "sites.gpkg", layer="sites", read_geometry=False)
    pv = sites[sites["eligible"].astype(bool) & sites["pv_archetype"].notna()]
    pv = pv[pv["capacity_mw_dc"] > 0]
    rows = []
    for name, g in pv.groupby("pv_archetype"):
        mw = g["capacity_mw_dc"].sum()
        sy = (g["specific_yield_kwh_kwp"] * g["capacity_mw_dc"]).sum() / mw
        poa = poa_by_archetype.get(name, np.nan)
        rows.append(
            {
                "archetype": name,
                "sites": len(g),
                "capacity_mw_dc": round(mw, 1),
                "capacity_mw_ac": round(g["capacity_mw_ac"].sum(), 1),
                "specific_yield_kwh_kwp": round(sy, 1),
                # AC full-load hours: energy over AC (inverter) capacity
                "full_load_hours_ac_h": round(
                    g["energy_mwh_yr"].sum() / g["capacity_mw_ac"].sum(), 1
                ),
                "pr_bound_0.75_kwh_kwp": round(0.75 * poa, 0),
                "pr_bound_0.85_kwh_kwp": round(0.85 * poa, 0),
            }
        )
    return pd.DataFrame(rows)


def main() -> None:
    """Print the validation tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, help="finished run folder (census run --out ...)")
    args = parser.parse_args()
    cfg = load_config(None).config
    weather, meta = read_weather(cfg.weather.path, time_shift_h=cfg.weather.time_shift_h)
    config = default_pv_config()
    pd.set_option("display.width", 200)
    pd.set_option("display.max_columns", 20)
    yields = table_yield(weather, meta, config)
    print("## yield: census vs written-out pvlib chain (demo weather year)\n")
    print(yields.to_string(index=False), "\n")
    print("## spacing: winter-solstice GCR, 30.23 N, 22 deg tilt\n")
    print(table_spacing().to_string(index=False), "\n")
    print("## lcoe: lifetime energy factor\n")
    print(table_lcoe(cfg.costs).to_string(index=False), "\n")
    if args.run is not None:
        poa = dict(zip(yields["archetype"], yields["poa_kwh_m2"], strict=True))
        print(f"## demo: {args.run}\n")
        print(table_demo(args.run, poa).to_string(index=False))


if __name__ == "__main__":
    main()
