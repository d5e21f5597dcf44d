"""Benchmark BIPV facade derivation (census.solar.facade) and its cost when no layer uses it.

Prints medians of ``--repeat`` runs:

1. ``facades_from_footprints`` on N buildings on a street grid (rectangles of random size,
   orientation and height), per 1,000 buildings;
2. ``expand_facades`` on a site table of M rooftops with no facade layer (the 1e6-rooftop
   path of ``benchmarks/bench_city.py``), against ``DataFrame.copy()`` of the same table as
   a baseline in the same process.

Usage::

    python benchmarks/bench_facades.py [--buildings 50000] [--rooftops 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from census.resources import load_assumptions
from census.sites.rules import RulesConfig
from census.solar.facade import expand_facades, facades_from_footprints

X0, Y0 = 500_000.0, 3_340_000.0


def buildings(n: int, seed: int = 0) -> tuple[gpd.GeoSeries, np.ndarray]:
    """N rectangles on a 60 m grid, 10-40 m wide, rotated up to 20 deg, 6-100 m high."""
    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(n)))
    i = np.arange(n)
    cx, cy = X0 + 60.0 * (i % side), Y0 + 60.0 * (i // side)
    w, h = rng.uniform(10, 40, n), rng.uniform(10, 40, n)
    t = np.radians(rng.uniform(-20, 20, n))[:, None]
    ux = np.array([-0.5, 0.5, 0.5, -0.5, -0.5])[None, :] * w[:, None]
    uy = np.array([-0.5, -0.5, 0.5, 0.5, -0.5])[None, :] * h[:, None]
    x = cx[:, None] + ux * np.cos(t) - uy * np.sin(t)
    y = cy[:, None] + ux * np.sin(t) + uy * np.cos(t)
    geoms = shapely.polygons(np.stack([x, y], -1))
    return gpd.GeoSeries(geoms, crs="EPSG:4549"), rng.uniform(6, 100, n)


def median_s(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    """Run both measurements and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--buildings", type=int, default=50_000)
    ap.add_argument("--rooftops", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    values, _ = load_assumptions("rules")
    rules = RulesConfig.model_validate(values)
    fr = rules.categories["facade"].facade

    geoms, height = buildings(args.buildings)

    def derive() -> gpd.GeoDataFrame:
        return facades_from_footprints(
            geoms,
            height,
            max_from_south_deg=fr.max_from_south_deg,
            shading_distance_factor=fr.shading_distance_factor,
            party_wall_m=fr.party_wall_m,
            strip_depth_m=fr.strip_depth_m,
        )

    n_fac = len(derive())
    t = median_s(derive, args.repeat)
    print(
        f"facades_from_footprints: {args.buildings:,} buildings -> {n_fac:,} facades, "
        f"median {t:.2f} s ({1000 * t / args.buildings:.2f} s per 1,000 buildings)"
    )

    m = args.rooftops
    table = gpd.GeoDataFrame(
        {
            "site_id": pd.Series([f"rooftops:{i}" for i in range(m)], dtype=object),
            "category": pd.Series(["rooftop"] * m, dtype=object),
            "area_m2": np.full(m, 100.0),
        },
        geometry=shapely.points(np.full(m, X0), np.full(m, Y0)),
        crs="EPSG:4549",
    )
    t_noop = median_s(lambda: expand_facades(table, rules), args.repeat)
    t_copy = median_s(lambda: table.copy(), args.repeat)
    print(
        f"expand_facades without a facade layer on {m:,} rooftops: median {1000 * t_noop:.1f} ms "
        f"(DataFrame.copy of the same table: {1000 * t_copy:.1f} ms, ratio "
        f"{t_noop / t_copy:.2f})"
    )


if __name__ == "__main__":
    main()
