"""Province-scale benchmark: census batch over a synthetic province on dask.distributed.

    python benchmarks/bench_province.py [--rooftops 10000000] [--cities 11]
        [--workers 2] [--memory-limit 4GiB] [--out data/processed/bench_province]

Generates the province itself (nothing is committed; the default output is
git-ignored): one synthetic city with ``benchmarks/make_city.py`` (``--rooftops /
--cities`` rooftops placed in the real Hangzhou district boundaries, plus its ponds,
mines, landfills, forest, mudflats and a 30 m DEM), and ``--cities`` city configs
that reuse its layers under their own names (so the cities are copies of one
synthetic city: the same work each, 13 districts each). Then, in this one command:

1. baseline: one district of one city run alone in this process (``run_census``),
   giving the per-site rate of a single process;
2. ``census batch --province`` (:func:`census.batch.run_province`) on a
   LocalCluster of ``--workers`` single-threaded worker processes with
   ``--memory-limit`` each.

Prints the wall time, the sites per second against the baseline (the scaling ratio;
``--workers`` is the ideal), the peak RSS of every worker process (sampled with psutil
every 0.2 s), the time and peak RSS of this process while it merges each city
(streaming merge, :mod:`census.batch_merge`) and writes the province roll-up, and
the load average. When the province is smaller than 10 million rooftops the
figure for 10 million is extrapolated from the measured rate and labelled so.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

from make_city import build  # noqa: E402

from census.config import PROJECT_ROOT  # noqa: E402

ZHEJIANG_ROOFTOPS = 10_000_000
"""Rooftops of the issue's Zhejiang-scale province (issue 18)."""


def gib(n: float) -> str:
    return f"{n / 2**30:.2f} GiB"


class Sampler:
    """Peak RSS of this process (by phase label) and of each child process, every 0.2 s."""

    def __init__(self, interval_s: float = 0.2) -> None:
        self.me = psutil.Process()
        self.interval_s = interval_s
        self.phase: str | None = None
        self.phase_peak: dict[str, int] = {}
        self.child_peak: dict[int, int] = {}
        self.child_name: dict[int, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            rss = self.me.memory_info().rss
            if self.phase:
                self.phase_peak[self.phase] = max(self.phase_peak.get(self.phase, 0), rss)
            self.phase_peak["main"] = max(self.phase_peak.get("main", 0), rss)
            for child in self.me.children(recursive=True):
                try:
                    r = child.memory_info().rss
                    if child.pid not in self.child_name:
                        cmd = " ".join(child.cmdline())
                        self.child_name[child.pid] = (
                            "worker"
                            if "spawn" in cmd
                            else "gpkg"  # a merge's sites.gpkg copy (census.io.gpkg)
                            if "census.io.gpkg" in cmd
                            else "other"
                        )
                except psutil.Error:
                    continue
                self.child_peak[child.pid] = max(self.child_peak.get(child.pid, 0), r)
            time.sleep(self.interval_s)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def make_province(root: Path, *, rooftops: int, cities: int) -> Path:
    """Generate the template city and the province file; return the province file."""
    template = root / "template"
    per_city = rooftops // cities
    marker = template / f".rooftops-{per_city}"
    if not marker.exists():
        if template.exists():
            shutil.rmtree(template)
        t0 = time.perf_counter()
        info = build(
            template,
            n_rooftops=per_city,
            n_ponds=5_000,
            n_mines=200,
            n_landfills=20,
            n_forest=2_000,
        )
        marker.touch()
        took = time.perf_counter() - t0
        print(f"generated the template city ({per_city:,} rooftops) in {took:.0f} s: {info}")
    base = (template / "census.toml").read_text(encoding="utf-8")
    lines = ['[province]\nname = "Synthetic Zhejiang"\nname_zh = "合成浙江"\n']
    for k in range(1, cities + 1):
        name = f"City{k:02d}"
        # same layers (paths relative to the template), own name: own config hash
        (template / f"{name}.toml").write_text(
            f'{base}\n[study_area]\nname = "Synthetic {name}"\n', encoding="utf-8"
        )
        lines.append(f'[[province.cities]]\nname = "{name}"\nconfig = "template/{name}.toml"\n')
    province = root / "province.toml"
    province.write_text("\n".join(lines), encoding="utf-8")
    return province


def baseline_district(config: Path, adcode: int, tmp: Path) -> tuple[int, float, int]:
    """One district run alone in a fresh process: sites, wall seconds, peak RSS.

    A child process, so that this process's peak RSS (sampled during the merges) does
    not carry the baseline run's memory.
    """
    import json
    import subprocess

    code = (
        "import json, sys, time; sys.path.insert(0, sys.argv[4]);"
        "from bench_province import Sampler; from census.pipeline import run_census\n"
        "with Sampler() as s:\n"
        "    t0 = time.perf_counter()\n"
        "    r = run_census(sys.argv[1], [int(sys.argv[2])], out_dir=sys.argv[3])\n"
        "    wall = time.perf_counter() - t0\n"
        "print(json.dumps([len(r.sites), wall, s.phase_peak.get('main', 0)]))"
    )
    here = str(Path(__file__).resolve().parent)
    out = subprocess.run(
        [sys.executable, "-c", code, str(config), str(adcode), str(tmp / "baseline"), here],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    n, wall, peak = json.loads(out.strip().splitlines()[-1])
    return int(n), float(wall), int(peak)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--rooftops", type=int, default=ZHEJIANG_ROOFTOPS)
    p.add_argument("--cities", type=int, default=11)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--memory-limit", default="4GiB")
    p.add_argument("--baseline-district", type=int, default=330106, help="adcode (Xihu)")
    p.add_argument("--out", type=Path, default=PROJECT_ROOT / "data/processed/bench_province")
    p.add_argument("--keep", action="store_true", help="keep the batch folder")
    a = p.parse_args()
    from dask.distributed import Client, LocalCluster

    import census.batch
    import census.province
    from census.batch import run_province

    a.out.mkdir(parents=True, exist_ok=True)
    province = make_province(a.out, rooftops=a.rooftops, cities=a.cities)
    first_city = a.out / "template" / "City01.toml"
    print(f"load average before: {os.getloadavg()}")

    with tempfile.TemporaryDirectory(dir=a.out) as tmp:
        n_base, wall_base, rss_base = baseline_district(first_city, a.baseline_district, Path(tmp))
        rate_base = n_base / wall_base
        print(
            f"baseline: district {a.baseline_district} alone, own process: {n_base:,} sites in "
            f"{wall_base:.1f} s = {rate_base:,.0f} sites/s, peak RSS {gib(rss_base)}"
        )

    merges: list[tuple[str, float]] = []
    sampler = Sampler()
    real_merge, real_province = census.batch.merge_district_runs, census.province.write_province

    def timed(fn, label):
        def wrapper(*args, **kw):
            sampler.phase = label(args)
            t0 = time.perf_counter()
            try:
                return fn(*args, **kw)
            finally:
                merges.append((sampler.phase, time.perf_counter() - t0))
                sampler.phase = None

        return wrapper

    census.batch.merge_district_runs = timed(real_merge, lambda args: f"merge {Path(args[3]).name}")
    census.province.write_province = timed(real_province, lambda args: "province roll-up")
    run_dir = a.out / "run"
    if run_dir.exists():
        shutil.rmtree(run_dir)
    cluster = LocalCluster(
        n_workers=a.workers,
        threads_per_worker=1,
        processes=True,
        memory_limit=a.memory_limit,
        dashboard_address=None,
    )
    client = Client(cluster)
    done_at: list[float] = []
    try:
        with sampler:
            t0 = time.perf_counter()
            result = run_province(
                province,
                out_dir=run_dir,
                scheduler=cluster.scheduler_address,
                progress=lambda d, t: done_at.append(time.perf_counter() - t0),
            )
            wall = time.perf_counter() - t0
        load = os.getloadavg()
    finally:
        client.close()
        cluster.close()
        census.batch.merge_district_runs, census.province.write_province = real_merge, real_province
    if result.failed:
        print(f"FAILED districts: {result.failed}")
        raise SystemExit(1)
    import pandas as pd

    by_city = pd.read_csv(result.province_dir / "summary_by_city.csv", encoding="utf-8-sig")
    n_sites = int(by_city["sites"].iloc[-1])
    rate = n_sites / wall
    workers = {
        pid: r for pid, r in sampler.child_peak.items() if sampler.child_name.get(pid) == "worker"
    }
    print(
        f"\nprovince: {a.cities} cities x 13 districts, {n_sites:,} sites "
        f"({a.rooftops:,} rooftops requested), {a.workers} workers x {a.memory_limit}"
    )
    print(
        f"wall: {wall:,.0f} s = {wall / 60:.1f} min; {rate:,.0f} sites/s; scaling ratio vs "
        f"the single-district process {rate / rate_base:.2f} (ideal {a.workers})"
    )
    peaks = sorted(workers.values(), reverse=True)[:8]
    print("peak RSS per worker process: " + ", ".join(gib(v) for v in peaks))
    merge_total = sum(s for lbl, s in merges if lbl.startswith("merge"))
    n_merges = len([m for m in merges if m[0].startswith("merge")])
    print(
        f"streaming merges in this process: {n_merges} cities, {merge_total:,.0f} s in all "
        "(overlapping the workers' districts)"
    )
    for lbl, sec in merges:
        peak = sampler.phase_peak.get(lbl)  # none when shorter than one 0.2 s sample
        print(f"  {lbl:<22}{sec:>8.1f} s   peak RSS {gib(peak) if peak else 'n/a (< 0.2 s)'}")
    print(f"this process's peak RSS over the whole batch: {gib(sampler.phase_peak.get('main', 0))}")
    writers = [r for pid, r in sampler.child_peak.items() if sampler.child_name.get(pid) == "gpkg"]
    if writers:
        print(
            f"peak RSS of the merges' GeoPackage writer processes ({len(writers)}): "
            f"{gib(max(writers))}"
        )
    print(f"load average at the end (1, 5, 15 min): {load}")
    if n_sites < ZHEJIANG_ROOFTOPS:
        est = ZHEJIANG_ROOFTOPS / rate
        print(
            f"EXTRAPOLATED (not measured): 10,000,000 rooftops at the measured rate = "
            f"{est:,.0f} s = {est / 60:.0f} min with {a.workers} workers"
        )
    if not a.keep:
        shutil.rmtree(run_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
