"""Site-table writers at city scale: GeoParquet against the GeoPackage, same table.

    python benchmarks/bench_write.py [--city data/processed/bench_city] [--repeat 3]

Computes the census of the synthetic city (``benchmarks/make_city.py``; 1e6
rooftops) once without writing, then writes its site table several times in the
same process and prints the median seconds and file size of

- ``sites.parquet`` through :func:`census.io.geoparquet.write_geoparquet`
  (GeoParquet 1.1, bbox covering, snappy);
- ``sites.gpkg`` the way a run writes it (pyogrio, Arrow path, spatial index);

and the ratio GeoPackage / GeoParquet. Wall times on a loaded machine are noisy;
the ratio, measured back to back, is the figure to compare.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from census.config import PROJECT_ROOT


def timed(fn, repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--city", type=Path, default=PROJECT_ROOT / "data/processed/bench_city")
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()

    import pyogrio

    from census.io.geoparquet import write_geoparquet
    from census.pipeline import _sites_for_file, run_census

    t0 = time.perf_counter()
    result = run_census(args.city / "census.toml", write=False)
    print(f"census computed in {time.perf_counter() - t0:.1f} s: {len(result.sites):,} sites")
    sites = result.sites
    with tempfile.TemporaryDirectory(dir=args.city) as tmp:
        tmp = Path(tmp)
        pq_path = tmp / "sites.parquet"
        gpkg_path = tmp / "sites.gpkg"

        def parquet() -> None:
            pq_path.unlink(missing_ok=True)
            write_geoparquet(pq_path, sites)

        def gpkg() -> None:
            gpkg_path.unlink(missing_ok=True)
            pyogrio.write_dataframe(
                _sites_for_file(sites), gpkg_path, layer="sites", driver="GPKG", use_arrow=True
            )

        t_pq = timed(parquet, args.repeat)
        t_gpkg = timed(gpkg, max(1, args.repeat // 2))
        mb_pq = pq_path.stat().st_size / 1e6
        mb_gpkg = gpkg_path.stat().st_size / 1e6
    print(f"{'file':<16}{'median s':>10}{'MB':>10}")
    print(f"{'sites.parquet':<16}{t_pq:>10.2f}{mb_pq:>10.1f}")
    print(f"{'sites.gpkg':<16}{t_gpkg:>10.2f}{mb_gpkg:>10.1f}")
    print(f"GeoPackage / GeoParquet write time: {t_gpkg / t_pq:.1f}x")


if __name__ == "__main__":
    main()
