"""City merge benchmark: merge one city's finished district runs again, timed.

    python benchmarks/bench_province.py --keep      # once: leaves the province folder
    python benchmarks/bench_merge.py [--city City11] [--repeat 1]
        [--province data/processed/bench_province]

Reads the district folders that ``bench_province.py --keep`` left under
``<province>/run/districts/<city>/`` and runs :func:`census.batch_merge.merge_district_runs`
into a temporary folder (the kept city folder is not touched), ``--repeat`` times, printing
the wall time and the peak RSS of this process for each. To compare with older code, run
the same command with ``PYTHONPATH`` pointing at a checkout of that commit (``git worktree
add /tmp/old <rev>``), one after the other in the same minutes: the machine is shared.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

from census.config import PROJECT_ROOT, load_config


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--province", type=Path, default=PROJECT_ROOT / "data/processed/bench_province")
    p.add_argument("--city", default="City11")
    p.add_argument("--repeat", type=int, default=1)
    a = p.parse_args()

    import census
    from census.batch import _plan_city
    from census.batch_merge import merge_district_runs

    base = a.province / "run" / "districts" / a.city
    config = a.province / "template" / f"{a.city}.toml"
    if not base.is_dir() or not config.is_file():
        sys.exit(f"no kept province run at {a.province}: run bench_province.py --keep first")
    print(f"census from {Path(census.__file__).parent}")
    walls = []
    for k in range(a.repeat):
        tmp = Path(tempfile.mkdtemp(prefix="census-merge-"))
        try:
            loaded = load_config(config)
            city = _plan_city(
                loaded, None, key=a.city, base=base, city_dir=tmp / a.city, out=tmp, force=False
            )
            peak = [0]
            stop = threading.Event()

            def sample(peak: list[int] = peak, stop: threading.Event = stop) -> None:
                me = psutil.Process()
                while not stop.is_set():
                    peak[0] = max(peak[0], me.memory_info().rss)
                    time.sleep(0.1)

            thread = threading.Thread(target=sample, daemon=True)
            thread.start()
            t0 = time.perf_counter()
            merge_district_runs(
                city.folders, city.chosen, city.loaded, city.city_dir, overwrite=True
            )
            walls.append(time.perf_counter() - t0)
            stop.set()
            thread.join()
            n = sum(1 for _ in city.folders)
            print(
                f"run {k + 1}: merged {n} districts of {a.city} in {walls[-1]:.1f} s, "
                f"peak RSS {peak[0] / 2**30:.2f} GiB"
            )
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"median {statistics.median(walls):.1f} s over {len(walls)} run(s)")


if __name__ == "__main__":
    main()
