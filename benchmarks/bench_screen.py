"""Benchmark: screening throughput on the demo rooftops (issue 3 goal: >= 20,000 sites/s).

    python benchmarks/bench_screen.py [--repeats 5]

Loads the demo rooftops and the exclusion layers once, then times
``census.sites.screen.screen_sites`` alone (median of the repeats) and, as a
baseline in the same process, a per-site loop of the same geometric work
(sampled and extrapolated) to show what vectorizing buys.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import shapely

from census.config import load_config
from census.io.boundaries import read_districts
from census.io.layers import load_exclusion, load_sites
from census.sites.screen import required_exclusions, screen_sites


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    cfg = load_config().config
    districts = read_districts(cfg.study_area.boundaries, crs=cfg.study_area.crs)
    sites, _ = load_sites({"rooftops": cfg.layers["rooftops"]}, districts)
    names = required_exclusions(cfg.rules, ["rooftop"])
    exclusions = {n: load_exclusion(n, cfg.exclusions[n]) for n in names}
    n = len(sites)

    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        res = screen_sites(sites, cfg.rules, exclusions)
        times.append(time.perf_counter() - t0)
    med = statistics.median(times)

    # baseline: the same setback + exclusion test one site at a time (sampled)
    rule = cfg.rules.categories["rooftop"]
    zones = shapely.union_all(np.concatenate([g.values for g in exclusions.values()]))
    sample = sites.geometry.values[: min(2000, n)]
    t0 = time.perf_counter()
    for geom in sample:
        inner = geom.buffer(-rule.edge_setback_m, join_style="mitre")
        _ = inner.area
        _ = geom.intersects(zones)
    loop_s = (time.perf_counter() - t0) / len(sample) * n

    print(f"rooftops screened: {n:,} ({int(res.sites.eligible.sum()):,} eligible)")
    print(f"census screen_sites: median {med:.3f} s of {args.repeats} -> {n / med:,.0f} sites/s")
    print(
        f"per-site shapely loop (sampled {len(sample):,}, extrapolated): {loop_s:.3f} s "
        f"-> {n / loop_s:,.0f} sites/s"
    )
    print(f"ratio loop / census: {loop_s / med:.1f}x")
    print("goal: >= 20,000 sites/s:", "MET" if n / med >= 20_000 else "NOT MET")


if __name__ == "__main__":
    main()
