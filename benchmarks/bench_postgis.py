"""Benchmark `census export --postgis`: rows/s of COPY against row-by-row INSERT.

Starts a throwaway PostgreSQL + PostGIS server (tests/io/pg_server.py: Debian's
postgresql-15-postgis-3 on a temporary data directory and free port), makes the demo
run of one district (or takes ``--run``), exports it ``--repeat`` times (each export
after the first replaces the run's rows, as a re-export does), and loads the same site
rows into a fresh table of the same shape twice, by COPY and, as the baseline in the same
process, by psycopg's ``executemany`` INSERT (pipelined, one statement per row).

Usage::

    python benchmarks/bench_postgis.py [--district Qiantang|all] [--run RUN_DIR] [--repeat 3]

Prints a Markdown table for ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyogrio

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "io"))

import pg_server  # noqa: E402

from census.io.postgis import _arrow_table, _copy_rows, _ewkb_hex, export_run  # noqa: E402


def _load_sites(url: str, run_dir: Path, method: str) -> float:
    """Load the run's site rows into a fresh copy of census.sites' shape [s].

    Both methods start from the GeoDataFrame and pay for the same preparation (Arrow
    table, hex EWKB); ``copy`` then writes CSV blocks into COPY, ``insert`` runs one
    parameterised INSERT per row through psycopg's pipelined ``executemany``.
    """
    import psycopg
    from psycopg import sql

    sites = pyogrio.read_dataframe(run_dir / "sites.gpkg", layer="sites", use_arrow=True)
    with psycopg.connect(url) as conn:
        conn.execute("DROP TABLE IF EXISTS census.sites_bench")
        conn.execute("CREATE TABLE census.sites_bench (LIKE census.sites INCLUDING ALL)")
        conn.commit()
        t0 = time.perf_counter()
        table = _arrow_table(sites, "bench")
        ewkb = _ewkb_hex(sites.geometry, srid=4549, multi=True)
        table = table.append_column("geom", pa.array(ewkb.tolist(), pa.string()))
        with conn.cursor() as cur:
            if method == "copy":
                _copy_rows(cur, "census", "sites_bench", table)
            else:
                cols = table.column_names
                stmt = sql.SQL("INSERT INTO census.sites_bench ({}) VALUES ({})").format(
                    sql.SQL(", ").join(sql.Identifier(c) for c in cols),
                    sql.SQL(", ").join(sql.Placeholder() for _ in cols),
                )
                cur.executemany(stmt, [tuple(r.values()) for r in table.to_pylist()])
        conn.commit()
        seconds = time.perf_counter() - t0
        conn.execute("DROP TABLE census.sites_bench")
        conn.commit()
    return seconds


def _drop_schema(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS census CASCADE")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--district", default="Qiantang", help="a district, or 'all' (the city)")
    ap.add_argument("--run", type=Path, default=None)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    server = pg_server.start()
    os.environ["PGPASSWORD"] = pg_server.SUPERUSER_PASSWORD
    url = server.url()
    try:
        run_dir = args.run
        if run_dir is None:
            from census.pipeline import run_census

            run_dir = Path(tempfile.mkdtemp(prefix="bench-pg-")) / f"bench-{args.district}"
            wanted = None if args.district == "all" else [args.district]
            run_census(None, wanted, out_dir=run_dir)
        first, again, copy_s, insert_s = [], [], [], []
        for _ in range(args.repeat):  # alternate the methods: the machine's load drifts
            _drop_schema(url)
            first.append(export_run(run_dir, url))  # into empty tables
            again.append(export_run(run_dir, url))  # replaces the run's rows
            copy_s.append(_load_sites(url, run_dir, "copy"))
            insert_s.append(_load_sites(url, run_dir, "insert"))
    finally:
        server.stop()
    med = statistics.median
    n_rows = sum(first[0].rows.values())
    n_sites = first[0].rows["sites"]
    copy_s, insert_s = med(copy_s), med(insert_s)
    print(f"run: {run_dir} ({n_sites:,} sites, {n_rows:,} rows in {len(first[0].rows)} tables)")
    print(f"medians of {args.repeat}, server on the same machine, fsync off")
    print()
    print("| measure | value |")
    print("|---|---|")
    for label, res in (("export into empty tables", first), ("re-export (replace)", again)):
        t = med(r.seconds for r in res)
        print(f"| {label}: all {n_rows:,} rows | {t:.2f} s, {n_rows / t:,.0f} rows/s |")
    print(f"| sites alone, COPY of CSV blocks | {copy_s:.2f} s, {n_sites / copy_s:,.0f} rows/s |")
    print(
        f"| sites alone, executemany INSERT (baseline) | {insert_s:.2f} s, "
        f"{n_sites / insert_s:,.0f} rows/s |"
    )
    print(f"| COPY over INSERT (sites) | {insert_s / copy_s:.2f}x |")


if __name__ == "__main__":
    main()
