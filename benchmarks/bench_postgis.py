"""Benchmark `census export --postgis`: rows/s of COPY against row-by-row INSERT.

Starts a throwaway PostgreSQL + PostGIS server (tests/io/pg_server.py: Debian's
postgresql-15-postgis-3 on a temporary data directory and free port), makes the demo
run of one district (or takes ``--run``), exports it ``--repeat`` times (each export
after the first replaces the run's rows, as a re-export does), and loads the same site
rows with psycopg's ``executemany`` INSERT (pipelined, one statement per row) into a
table of the same shape, as the baseline in the same process.

Usage::

    python benchmarks/bench_postgis.py [--district Qiantang] [--run RUN_DIR] [--repeat 3]

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

from census.io.postgis import _arrow_table, _ewkb_hex, export_run  # noqa: E402


def _baseline_insert(url: str, run_dir: Path) -> tuple[int, float]:
    """Site rows by executemany INSERT into a copy of census.sites' shape [rows, s]."""
    import psycopg
    from psycopg import sql

    sites = pyogrio.read_dataframe(run_dir / "sites.gpkg", layer="sites", use_arrow=True)
    table = _arrow_table(sites, "baseline")
    ewkb = _ewkb_hex(sites.geometry, srid=4549, multi=True)
    table = table.append_column("geom", pa.array(ewkb.tolist(), pa.string()))
    rows = [tuple(r.values()) for r in table.to_pylist()]
    cols = table.column_names
    with psycopg.connect(url) as conn:
        conn.execute("DROP TABLE IF EXISTS census.sites_baseline")
        conn.execute("CREATE TABLE census.sites_baseline (LIKE census.sites INCLUDING ALL)")
        conn.execute("ALTER TABLE census.sites_baseline ALTER COLUMN run_id DROP NOT NULL")
        stmt = sql.SQL("INSERT INTO census.sites_baseline ({}) VALUES ({})").format(
            sql.SQL(", ").join(sql.Identifier(c) for c in cols),
            sql.SQL(", ").join(sql.Placeholder() for _ in cols),
        )
        t0 = time.perf_counter()
        with conn.cursor() as cur:
            cur.executemany(stmt, rows)
        conn.commit()
        seconds = time.perf_counter() - t0
        conn.execute("DROP TABLE census.sites_baseline")
    return len(rows), seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--district", default="Qiantang")
    ap.add_argument("--run", type=Path, default=None)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    server = pg_server.start()
    os.environ["PGPASSWORD"] = pg_server.SUPERUSER_PASSWORD
    try:
        run_dir = args.run
        if run_dir is None:
            from census.pipeline import run_census

            run_dir = Path(tempfile.mkdtemp(prefix="bench-pg-")) / f"bench-{args.district}"
            run_census(None, [args.district], out_dir=run_dir)
        results = [export_run(run_dir, server.url()) for _ in range(args.repeat)]
        first, rest = results[0], results[1:] or results
        n_rows = sum(first.rows.values())
        n_sites = first.rows["sites"]
        t_copy = statistics.median(r.seconds for r in rest)
        rate = statistics.median(r.rows_per_s for r in rest)
        # the sites table alone (EWKB + COPY), like for like with the baseline
        t_sites = statistics.median(r.table_seconds["sites"] for r in rest)
        n_base, t_base = _baseline_insert(server.url(), run_dir)
    finally:
        server.stop()
    print(f"run: {run_dir} ({n_sites:,} sites, {n_rows:,} rows in {len(first.rows)} tables)")
    print()
    print("| measure | value |")
    print("|---|---|")
    print(
        f"| first export (tables created) | {first.seconds:.2f} s, {first.rows_per_s:,.0f} rows/s |"
    )
    print(
        f"| re-export, median of {len(rest)} (delete old rows + COPY) | {t_copy:.2f} s, "
        f"{rate:,.0f} rows/s |"
    )
    print(
        f"| baseline: executemany INSERT of the {n_base:,} site rows | {t_base:.2f} s, "
        f"{n_base / t_base:,.0f} rows/s |"
    )
    copy_rate, insert_rate = n_sites / t_sites, n_base / t_base
    print(
        f"| sites table in the re-export (EWKB + COPY) | {t_sites:.2f} s, {copy_rate:,.0f} rows/s |"
    )
    print(f"| sites: COPY rows/s over INSERT rows/s | {copy_rate / insert_rate:.1f}x |")


if __name__ == "__main__":
    main()
