"""Load stage of a one-district run: the district's extent read against the whole layers.

    python benchmarks/bench_load.py [--city data/processed/bench_city]
        [--districts Xihu Shangcheng] [--repeat 3] [--total-repeat 1]

On the synthetic city (``benchmarks/make_city.py``: 1e6 rooftops in GeoParquet, the
other layers in a GeoPackage, a 30 m DEM), times for each district, in the same
process and alternating the two modes,

- the load stage (:func:`census.stages.load.load_inputs`), median of ``--repeat``;
- the whole ``run_census(config, districts=[d], write=False)``, median of
  ``--total-repeat`` (0 skips it);

with :data:`census.stages.load.READ_DISTRICT_EXTENT` on (only the district's extent is
read) and off (every layer and raster whole, as before), checks that both give the same
sites, and prints the figures. Wall times on a shared machine are noisy; the ratio,
measured back to back, is the figure to compare.
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from pathlib import Path

from census.config import PROJECT_ROOT


def main() -> None:
    import census.stages.load as load_stage
    from census.config import load_config
    from census.pipeline import run_census
    from census.stages.context import RunContext

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--city", type=Path, default=PROJECT_ROOT / "data/processed/bench_city")
    p.add_argument("--districts", nargs="+", default=["Xihu", "Shangcheng"])
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--total-repeat", type=int, default=1)
    args = p.parse_args()
    warnings.simplefilter("ignore")
    loaded = load_config(args.city / "census.toml")

    def load_once(district: str, on: bool) -> tuple[float, int]:
        load_stage.READ_DISTRICT_EXTENT = on
        ctx = RunContext(loaded=loaded, requested_districts=[district])
        t0 = time.perf_counter()
        sites, _ = load_stage.load_inputs(None, ctx)
        return time.perf_counter() - t0, len(sites)

    def total_once(district: str, on: bool):
        load_stage.READ_DISTRICT_EXTENT = on
        t0 = time.perf_counter()
        result = run_census(loaded, [district], write=False)
        return time.perf_counter() - t0, result.sites

    print(f"city {args.city}, repeat {args.repeat} (load), {args.total_repeat} (total)")
    print(f"{'district':<12} {'what':<6} {'extent [s]':>11} {'whole [s]':>10} {'ratio':>6} sites")
    for district in args.districts:
        loads: dict[bool, list[float]] = {True: [], False: []}
        n = {}
        for _ in range(args.repeat):
            for on in (True, False):
                seconds, n[on] = load_once(district, on)
                loads[on].append(seconds)
        assert n[True] == n[False], n
        on_s, off_s = statistics.median(loads[True]), statistics.median(loads[False])
        row = f"{on_s:>11.2f} {off_s:>10.2f} {off_s / on_s:>6.2f}"
        print(f"{district:<12} {'load':<6} {row} {n[True]}")
        if args.total_repeat <= 0:
            continue
        totals: dict[bool, list[float]] = {True: [], False: []}
        sites = {}
        for _ in range(args.total_repeat):
            for on in (True, False):
                seconds, sites[on] = total_once(district, on)
                totals[on].append(seconds)
        a, b = (sites[k].sort_values("site_id").reset_index(drop=True) for k in (True, False))
        assert a["site_id"].tolist() == b["site_id"].tolist()
        for col in ("area_m2", "usable_area_m2", "capacity_mw_dc", "energy_mwh_yr"):
            assert a[col].fillna(-1).equals(b[col].fillna(-1)), col
        on_s, off_s = statistics.median(totals[True]), statistics.median(totals[False])
        row = f"{on_s:>11.2f} {off_s:>10.2f} {off_s / on_s:>6.2f}"
        print(f"{district:<12} {'total':<6} {row} {len(a)}")


if __name__ == "__main__":
    main()
