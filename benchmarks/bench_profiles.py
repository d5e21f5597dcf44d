"""Hourly profiles: time and file size at the demo and at a million rooftops.

    python benchmarks/bench_profiles.py [--sites 1000000] [--repeat 3]

1. Demo: ``run_census(write=False)`` on the Hangzhou demo once, then the median
   of ``--repeat`` builds of the profiles Dataset and writes of ``profiles.nc``
   (and Zarr), with the file sizes.
2. City scale: ``--sites`` rooftops with random orientations and capacities in
   13 districts, on the real CSWD weather year: ``add_pv_yield`` with and without
   ``return_series`` (the cost of exposing the node series), then
   ``build_profiles`` and ``write_profiles``. Baseline in the same process: the
   dense way (every site's 8,760-hour series, then a group-by), timed on a sample
   and extrapolated (at 1e6 sites it would need 70 GB).

Prints medians in seconds and sizes in MB.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def median_time(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def size_mb(path: Path) -> float:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6
    return path.stat().st_size / 1e6


def demo(repeat: int, tmp: Path) -> None:
    from census.io.profiles import write_profiles
    from census.pipeline import _profiles, run_census

    t0 = time.perf_counter()
    result = run_census(None, write=False)
    print(f"demo run_census(write=False): {time.perf_counter() - t0:.1f} s (once)")
    sites = result.sites
    # rebuild from the run's own series: run the yield once more to get them
    from census.config import load_config
    from census.io.weather import read_weather
    from census.solar.yield_ import add_pv_yield

    cfg = load_config().config
    weather, meta = read_weather(
        cfg.weather.path, time_shift_h=cfg.weather.time_shift_h, check_alignment=False
    )
    _, _, series = add_pv_yield(sites, weather, meta, cfg.pv, return_series=True)
    n_pv = series.weights.shape[0]
    t_build, ds = median_time(lambda: _profiles(sites, [series], result.districts), repeat)
    print(
        f"demo: {len(sites):,} sites ({n_pv:,} PV), {series.unit_power_mw.shape[0]} nodes; "
        f"build_profiles median {t_build:.3f} s"
    )
    nc = tmp / "demo.nc"
    t_nc, _ = median_time(lambda: write_profiles(result.profiles, nc), repeat)
    zr = tmp / "demo.zarr"
    t_zr, _ = median_time(lambda: write_profiles(result.profiles, zr, format="zarr"), repeat)
    print(
        f"demo profiles.nc: write median {t_nc:.3f} s, {size_mb(nc):.2f} MB; "
        f"zarr {t_zr:.3f} s, {size_mb(zr):.2f} MB "
        f"({dict(result.profiles.sizes)})"
    )


def city(n: int, repeat: int, tmp: Path) -> None:
    from census.config import load_config
    from census.io.profiles import write_profiles
    from census.io.weather import read_weather
    from census.profiles import build_profiles
    from census.solar.yield_ import add_pv_yield

    cfg = load_config().config
    weather, meta = read_weather(
        cfg.weather.path, time_shift_h=cfg.weather.time_shift_h, check_alignment=False
    )
    rng = np.random.default_rng(0)
    districts = pd.DataFrame(
        {
            "adcode": np.arange(330101, 330114),
            "name_zh": [f"区{i}" for i in range(13)],
            "name_en": [f"D{i}" for i in range(13)],
        }
    )
    arch = rng.choice(["rooftop_flat", "rooftop_pitched"], n)
    cap_dc = rng.uniform(0.005, 0.5, n)
    sites = pd.DataFrame(
        {
            "adcode": rng.choice(districts["adcode"].to_numpy(), n),
            "category": "rooftop",
            "technology": np.where(rng.random(n) < 0.1, "pv_bipv", "pv_rooftop"),
            "eligible": rng.random(n) < 0.8,
            "pv_archetype": arch,
            "pv_technology": None,
            "capacity_mw_dc": cap_dc,
            "capacity_mw_ac": cap_dc / 1.1,
            "surface_tilt_deg": np.where(arch == "rooftop_flat", 10.0, rng.uniform(15, 40, n)),
            "surface_azimuth_deg": rng.uniform(0, 360, n),
        }
    )
    t_plain, _ = median_time(lambda: add_pv_yield(sites, weather, meta, cfg.pv), 1)
    t_series, res = median_time(
        lambda: add_pv_yield(sites, weather, meta, cfg.pv, return_series=True), 1
    )
    out, _, series = res
    print(
        f"{n:,} rooftops: add_pv_yield {t_plain:.1f} s; with return_series {t_series:.1f} s "
        f"(ratio {t_series / t_plain:.2f}); {series.unit_power_mw.shape[0]} nodes, "
        f"weights {series.weights.nnz:,} non-zeros"
    )
    t_build, ds = median_time(lambda: build_profiles(out, [series], districts), repeat)
    nc = tmp / "city.nc"
    t_nc, _ = median_time(lambda: write_profiles(ds, nc), repeat)
    print(
        f"{n:,} rooftops: build_profiles median {t_build:.2f} s; profiles.nc write median "
        f"{t_nc:.2f} s, {size_mb(nc):.2f} MB ({dict(ds.sizes)})"
    )
    # the dense baseline: every site's hourly series, then a group-by, on a sample
    k = min(5_000, n)
    sub = out.iloc[:k]
    _, _, sub_series = add_pv_yield(sub, weather, meta, cfg.pv, return_series=True)

    def dense() -> np.ndarray:
        power = sub_series.site_power_mw()  # (sites, hours), every site's own series
        rows = sub.loc[sub_series.site_index]
        codes, _ = pd.MultiIndex.from_frame(rows[["adcode", "technology"]]).factorize()
        codes = np.where(rows["eligible"].to_numpy(), codes, -1)
        return np.stack([power[codes == g].sum(axis=0) for g in range(codes.max() + 1)])

    t_dense, _ = median_time(dense, repeat)
    t_sparse, _ = median_time(lambda: build_profiles(sub, [sub_series], districts), repeat)
    print(
        f"baseline on {k:,} sites: dense per-site series + group-by {t_dense:.2f} s vs "
        f"build_profiles {t_sparse:.3f} s (x{t_dense / t_sparse:.0f}); dense extrapolated to "
        f"{n:,}: {t_dense * n / k:.0f} s and {n * len(weather) * 8 / 1e9:.0f} GB"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--sites", type=int, default=1_000_000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--skip-demo", action="store_true")
    a = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if not a.skip_demo:
            demo(a.repeat, Path(tmp))
        city(a.sites, a.repeat, Path(tmp))


if __name__ == "__main__":
    main()
