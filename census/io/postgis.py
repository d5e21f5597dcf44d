"""Export a finished run folder into PostGIS (``census export RUN_DIR --postgis URL``).

A city's GIS department keeps its layers in PostgreSQL/PostGIS. :func:`export_run`
reads a run folder (``sites.gpkg``, ``districts.gpkg``, the summary CSVs and
``provenance.json``) and loads it into one schema:

==============================  ==========================================================
table                           rows
==============================  ==========================================================
``runs``                        one per exported run: ``run_id``, ``config_hash``, times,
                                the run folder, and the whole provenance as ``jsonb``
``sites``                       every column of the site table; ``geom``
                                ``geometry(MultiPolygon, 4549)`` with a GiST index
``turbines``                    the wind layout; ``geom`` ``geometry(Point, 4549)``
``districts``                   the run's districts; ``geom`` ``geometry(MultiPolygon, 4549)``
``summary_by_district``, ...    one per CSV of the run folder (summaries, targets,
                                screening tally, supply curve)
==============================  ==========================================================

Every table has a ``run_id`` column that references ``runs``. Exporting the same
run again replaces that run's rows, and only those, in one transaction: readers see
the old rows or the new ones, never a mix, and other runs stay as they are. A run
with columns the tables lack adds them (``NULL`` for older runs); a column whose type
changed is widened (integer -> double precision -> text), never narrowed.

Rows go in with ``COPY ... FROM STDIN (FORMAT csv)``, written by pyarrow's CSV writer
in blocks (geometries as hex EWKB with their SRID): one stream instead of a statement
per row (``benchmarks/bench_postgis.py`` compares it with psycopg's pipelined
``executemany`` INSERT).

``[outputs] postgis = URL`` in a config makes ``census run`` (and ``census batch``, for
its merged city folder) call :func:`export_configured` once the run folder is committed;
:func:`check_connection` tries the server before the run starts, so a wrong password
does not cost a whole run.

Passwords never appear in a message, a log line or provenance: give them to libpq
through ``PGPASSWORD``, ``~/.pgpass`` or a service file (``service=NAME``), and
:func:`census.redact.redact` removes any password written into a URL before it is shown.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from census.exceptions import InputError, PostGISError
from census.io.runfolder import LAYOUT, open_run
from census.redact import has_password, redact

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd
    import psycopg
    import pyarrow as pa

__all__ = [
    "DEFAULT_SCHEMA",
    "ExportResult",
    "check_configured",
    "check_connection",
    "check_url",
    "export_configured",
    "export_run",
    "has_password",
    "read_run_tables",
    "redact",
]

logger = logging.getLogger(__name__)

DEFAULT_SCHEMA = "census"
"""Schema that ``census export`` writes into unless ``--schema`` says otherwise."""

_GEO_TABLES: dict[str, tuple[str, str, str]] = {
    # table: (file, layer, PostGIS geometry type)
    "sites": ("sites.gpkg", "sites", "MultiPolygon"),
    "turbines": ("sites.gpkg", "turbines", "Point"),
    "districts": ("districts.gpkg", "districts", "MultiPolygon"),
}
_CSV_TABLES: dict[str, str] = {
    "summary_by_district": LAYOUT.summary_by_district,
    "summary_by_district_category": LAYOUT.summary_by_district_category,
    "summary_city": LAYOUT.summary_city,
    "targets": LAYOUT.targets,
    "screening_tally": LAYOUT.tally,
    "supply_curve": LAYOUT.supply_curve,
    "existing_gap": LAYOUT.existing_gap,
    "existing_by_district": LAYOUT.existing_by_district,
    "per_person_by_district": LAYOUT.per_person,
    "summary_by_zone": LAYOUT.by_zone,
}
_KEYS: dict[str, tuple[str, ...]] = {"sites": ("site_id",)}
"""Primary-key columns besides ``run_id``: a site appears once per run."""

_GEOM = "geom"
_RUN_ID = "run_id"
_COPY_BLOCK_ROWS = 20_000

# ------------------------------------------------------------------ passwords


def _conninfo(url: str) -> dict[str, Any]:
    """Parse a URL or conninfo string with libpq's rules; a bad one is a PostGISError."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    try:
        return conninfo_to_dict(url)
    except psycopg.Error as exc:
        raise PostGISError(
            f"Not a PostgreSQL connection URL: {redact(url)!r} ({_first_line(exc)}). Write it "
            "as postgresql://USER@HOST:PORT/DBNAME (or 'service=NAME' for a pg_service.conf "
            "entry), with the password in PGPASSWORD or ~/.pgpass, not in the URL."
        ) from None


def _describe_target(params: Mapping[str, Any]) -> str:
    """``user@host:port/dbname`` of a connection, without its password."""
    if params.get("service"):
        return f"service={params['service']}"
    user = params.get("user")
    host = params.get("host") or "(local socket)"
    port = params.get("port")
    db = params.get("dbname")
    return f"{user + '@' if user else ''}{host}{':' + str(port) if port else ''}/{db or ''}"


def _first_line(exc: BaseException) -> str:
    text = redact(str(exc)).strip()
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return " ".join(lines[:2]) if lines else type(exc).__name__


def _connect_error(exc: BaseException, target: str) -> PostGISError:
    """Turn a libpq connection failure into a message that says the fix."""
    detail = _first_line(exc)
    low = detail.lower()
    if "password authentication failed" in low or "no password supplied" in low:
        fix = (
            "Check the user and password. Give the password to libpq through PGPASSWORD, "
            "~/.pgpass or a service file (pg_service.conf), not in the URL."
        )
    elif "does not exist" in low and "database" in low:
        fix = "Create the database first (createdb NAME) or name an existing one in the URL."
    elif "could not translate host name" in low or "name or service not known" in low:
        fix = "Check the host name in the URL."
    elif "connection refused" in low or "timeout" in low or "no route" in low:
        fix = "Check host and port, and that the server accepts TCP connections from here."
    elif "no pg_hba.conf entry" in low:
        fix = "Ask the database administrator to allow this client in pg_hba.conf."
    else:
        fix = "Check the URL, the server and your credentials."
    end = "" if detail.endswith((".", "?", "!")) else "."
    return PostGISError(f"Cannot connect to PostgreSQL at {target}: {detail}{end} {fix}")


def _connect(url: str, *, connect_timeout_s: int) -> tuple[psycopg.Connection, str]:
    import psycopg

    params = _conninfo(url)
    target = _describe_target(params)
    params.setdefault("connect_timeout", connect_timeout_s)
    params.setdefault("application_name", "census export")
    params["client_encoding"] = "utf8"
    try:
        conn = psycopg.connect(**params)
    except psycopg.Error as exc:
        raise _connect_error(exc, target) from None
    return conn, target


def check_url(url: str) -> None:
    """Check a connection URL's syntax with libpq's rules, without connecting.

    Parameters
    ----------
    url : str
        ``postgresql://user@host:5432/dbname`` or a conninfo string (``service=gis``).

    Raises
    ------
    ValueError
        Not a URL libpq accepts; the message (never holding a password) says the form.
    """
    try:
        _conninfo(url)
    except PostGISError as exc:
        raise ValueError(str(exc).rstrip(".")) from None


def check_connection(url: str, *, schema: str = DEFAULT_SCHEMA, connect_timeout_s: int = 10) -> str:
    """Connect once and check that the database has PostGIS, before a run starts.

    ``census run`` with ``[outputs] postgis`` calls this before its first stage, so a
    wrong password or a database without PostGIS stops the run at once instead of
    after it has computed everything.

    Parameters
    ----------
    url : str
        libpq URL or conninfo string, without a password.
    schema : str, default "census"
        Schema the export will write into (its name is checked).
    connect_timeout_s : int, default 10
        How long to wait for the server. [s]

    Returns
    -------
    str
        ``user@host:port/dbname`` of the server (never a password).

    Raises
    ------
    PostGISError
        Bad URL, server unreachable, authentication failed or no PostGIS extension.
    """
    import psycopg

    _identifier(schema, "Schema")
    conn, target = _connect(url, connect_timeout_s=connect_timeout_s)
    try:
        with conn.cursor() as cur:
            _check_postgis(cur, target)
            _check_privileges(cur, schema, target)
    except psycopg.Error as exc:
        raise PostGISError(f"PostgreSQL at {target} failed a check: {_first_line(exc)}") from None
    finally:
        conn.close()
    return target


# ------------------------------------------------------------------ reading the run folder


@dataclass
class RunTables:
    """The tables of one run folder, ready for export.

    Attributes
    ----------
    run_id : str
        Key of the run in the database.
    provenance : dict
        ``provenance.json`` (or what a batch city folder has instead).
    tables : dict of str to pandas.DataFrame
        Table name -> rows; geometry tables are GeoDataFrames.
    geometry_types : dict of str to str
        Table name -> PostGIS geometry type, for the geometry tables.
    """

    run_id: str
    provenance: dict[str, Any]
    tables: dict[str, pd.DataFrame]
    geometry_types: dict[str, str] = field(default_factory=dict)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"Cannot read {path}: {exc}. Is this a finished census run?") from None
    if not isinstance(data, dict):
        raise InputError(f"{path} is not a JSON object; is this a census run folder?")
    return data


def _run_provenance(run_dir: Path) -> tuple[dict[str, Any], str]:
    """Provenance of a run folder and its default run id (the folder's name)."""
    if (run_dir / LAYOUT.provenance).is_file():
        prov = open_run(run_dir).provenance()
        # a batch's merged city folder (<batch>/city) is a run folder named after its batch
        return prov, (run_dir.parent.name if "batch" in prov else run_dir.name)
    batch = run_dir / "batch.json"
    if batch.is_file():  # a city folder of an older census, before it had a provenance.json
        data = _read_json(batch)
        hashes = set()
        for folder in data.get("districts", []):
            p = Path(folder) / "provenance.json"
            if p.is_file():
                hashes.add(_read_json(p).get("census_run", {}).get("config_hash"))
        census_run = {"config_hash": hashes.pop() if len(hashes) == 1 else None}
        return {"batch": data, "census_run": census_run}, run_dir.parent.name
    raise InputError(
        f"{run_dir} is not a finished census run: it has no provenance.json. Give the folder "
        "that `census run` (or the city folder that `census batch`) wrote."
    )


def read_run_tables(run_dir: str | Path, *, run_id: str | None = None) -> RunTables:
    """Read the tables of a finished run folder.

    Parameters
    ----------
    run_dir : str or pathlib.Path
        Folder written by ``census run`` (or a batch's ``city`` folder).
    run_id : str, optional
        Key of the run in the database; default the folder's name (a batch's city
        folder: the batch folder's name).

    Returns
    -------
    RunTables

    Raises
    ------
    InputError
        Not a run folder, or ``sites.gpkg`` is missing or unreadable.
    """
    import pyogrio

    run_dir = Path(run_dir).expanduser().resolve()
    if not run_dir.is_dir():
        raise InputError(f"Run folder not found: {run_dir}")
    provenance, default_id = _run_provenance(run_dir)
    run_id = run_id or default_id
    tables: dict[str, pd.DataFrame] = {}
    geometry_types: dict[str, str] = {}
    for table, (fname, layer, gtype) in _GEO_TABLES.items():
        path = run_dir / fname
        if not path.is_file():
            if table == "sites":
                raise InputError(f"{path} is missing; the run folder {run_dir} is incomplete.")
            continue
        try:
            layers = {str(name) for name, _ in pyogrio.list_layers(path)}
            if layer not in layers:
                if table == "sites":
                    raise InputError(f"{path} has no layer 'sites' (it has {sorted(layers)}).")
                continue
            gdf = pyogrio.read_dataframe(path, layer=layer, use_arrow=True)
        except pyogrio.errors.DataSourceError as exc:
            raise InputError(f"Cannot read {path}: {exc}") from None
        if gdf.crs is None:
            raise InputError(f"{path} layer '{layer}' has no CRS; rerun the census.")
        tables[table] = gdf
        geometry_types[table] = gtype
    for table, fname in _CSV_TABLES.items():
        path = run_dir / fname
        if path.is_file():
            try:
                tables[table] = pd.read_csv(path, encoding="utf-8-sig")
            except (OSError, ValueError) as exc:
                raise InputError(f"Cannot read {path}: {exc}") from None
    return RunTables(
        run_id=run_id, provenance=provenance, tables=tables, geometry_types=geometry_types
    )


# ------------------------------------------------------------------ types and DDL


def _pg_type(arrow_type: pa.DataType) -> str:
    import pyarrow as pa

    if pa.types.is_boolean(arrow_type):
        return "boolean"
    if pa.types.is_integer(arrow_type):
        return "bigint"
    if pa.types.is_floating(arrow_type) or pa.types.is_decimal(arrow_type):
        return "double precision"
    return "text"


def _widen(existing: str, new: str) -> str | None:
    """Type an existing column must change to so it holds ``new`` too (None: no change)."""
    if existing == new or existing == "text":
        return None
    if existing == "double precision" and new == "bigint":
        return None
    if existing == "bigint" and new == "double precision":
        return "double precision"
    return "text"  # every value has a text form; other runs' values keep their meaning


def _arrow_table(frame: pd.DataFrame, run_id: str) -> pa.Table:
    """Rows of one table as an Arrow table: ``run_id`` first, geometry as hex EWKB."""
    import pyarrow as pa

    data: dict[str, Any] = {_RUN_ID: pa.array([run_id] * len(frame), type=pa.string())}
    geom_col = frame.geometry.name if hasattr(frame, "geometry") else None
    for col in frame.columns:
        if col == geom_col:
            continue
        series = frame[col]
        if series.dtype == object:
            series = series.astype("string")
        try:
            data[str(col)] = pa.array(series, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            data[str(col)] = pa.array(series.astype("string"), from_pandas=True)
    return pa.table(data)


def _ewkb_hex(geoms: gpd.GeoSeries, *, srid: int, multi: bool) -> np.ndarray:
    """Hex EWKB (with SRID) of each geometry; polygons promoted to multipolygons."""
    import shapely

    values = np.asarray(geoms.values, dtype=object)
    if multi:
        polys = shapely.get_type_id(values) == 3
        if polys.any():
            values = values.copy()
            values[polys] = shapely.multipolygons(
                values[polys], indices=np.arange(int(polys.sum()))
            )
    values = shapely.set_srid(values, srid)
    return shapely.to_wkb(values, hex=True, include_srid=True)


def _qualified(schema: str, table: str) -> Any:
    from psycopg import sql

    return sql.Identifier(schema, table)


def _existing_columns(cur: psycopg.Cursor, schema: str, table: str) -> dict[str, str]:
    cur.execute(
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
        "JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relname = %s AND a.attnum > 0 AND NOT a.attisdropped "
        "ORDER BY a.attnum",
        (schema, table),
    )
    return {name: typ for name, typ in cur.fetchall()}


def _table_srid(cur: psycopg.Cursor, schema: str, table: str) -> int | None:
    cur.execute(
        "SELECT srid FROM geometry_columns WHERE f_table_schema = %s AND f_table_name = %s "
        "AND f_geometry_column = %s",
        (schema, table, _GEOM),
    )
    row = cur.fetchone()
    return int(row[0]) if row else None


def _ensure_runs_table(cur: psycopg.Cursor, schema: str) -> None:
    from psycopg import sql

    # CREATE SCHEMA IF NOT EXISTS checks the database privilege before the name: a user
    # allowed to create tables in an existing schema, but not schemas, would be refused
    cur.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,))
    if cur.fetchone() is None:
        cur.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
    cur.execute(
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {} ("
            "run_id text PRIMARY KEY, "
            "config_hash text, "
            "started_utc timestamptz, "
            "exported_utc timestamptz NOT NULL DEFAULT now(), "
            "run_dir text, "
            "synthetic_inputs boolean, "
            "census_version text, "
            "provenance jsonb NOT NULL)"
        ).format(_qualified(schema, "runs"))
    )


def _ensure_table(
    cur: psycopg.Cursor,
    schema: str,
    table: str,
    columns: dict[str, str],
    *,
    geometry: tuple[str, int] | None,
) -> None:
    """Create ``table`` or add/widen its columns so that ``columns`` fit."""
    from psycopg import sql

    name = _qualified(schema, table)
    existing = _existing_columns(cur, schema, table)
    if not existing:
        parts = [
            sql.SQL("{} text NOT NULL REFERENCES {} (run_id) ON DELETE CASCADE").format(
                sql.Identifier(_RUN_ID), _qualified(schema, "runs")
            )
        ]
        parts += [
            sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(t)) for c, t in columns.items()
        ]
        if geometry is not None:
            gtype, srid = geometry
            parts.append(
                sql.SQL("{} geometry({}, {})").format(
                    sql.Identifier(_GEOM), sql.SQL(gtype), sql.Literal(srid)
                )
            )
        keys = _KEYS.get(table, ())
        if all(k in columns for k in keys) and keys:
            parts.append(
                sql.SQL("PRIMARY KEY ({})").format(
                    sql.SQL(", ").join(sql.Identifier(k) for k in (_RUN_ID, *keys))
                )
            )
        cur.execute(sql.SQL("CREATE TABLE {} ({})").format(name, sql.SQL(", ").join(parts)))
        if not (keys and all(k in columns for k in keys)):
            cur.execute(sql.SQL("CREATE INDEX ON {} ({})").format(name, sql.Identifier(_RUN_ID)))
        if geometry is not None:
            cur.execute(
                sql.SQL("CREATE INDEX ON {} USING gist ({})").format(name, sql.Identifier(_GEOM))
            )
        return
    for col, typ in columns.items():
        if col not in existing:
            cur.execute(
                sql.SQL("ALTER TABLE {} ADD COLUMN {} {}").format(
                    name, sql.Identifier(col), sql.SQL(typ)
                )
            )
            continue
        wider = _widen(existing[col], typ)
        if wider is not None:
            logger.warning(
                "%s.%s.%s changes type from %s to %s to hold this run's values",
                schema,
                table,
                col,
                existing[col],
                wider,
            )
            cur.execute(
                sql.SQL("ALTER TABLE {} ALTER COLUMN {} TYPE {} USING {}::{}").format(
                    name, sql.Identifier(col), sql.SQL(wider), sql.Identifier(col), sql.SQL(wider)
                )
            )


def _copy_rows(cur: psycopg.Cursor, schema: str, table: str, data: pa.Table) -> None:
    """COPY an Arrow table into ``schema.table`` in CSV blocks."""
    import pyarrow.csv as pacsv
    from psycopg import sql

    stmt = sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv)").format(
        _qualified(schema, table), sql.SQL(", ").join(sql.Identifier(c) for c in data.column_names)
    )
    options = pacsv.WriteOptions(include_header=False, quoting_style="needed")
    with cur.copy(stmt) as copy:
        for batch in data.to_batches(max_chunksize=_COPY_BLOCK_ROWS):
            buf = io.BytesIO()
            pacsv.write_csv(batch, buf, write_options=options)
            copy.write(buf.getvalue())


def _check_postgis(cur: psycopg.Cursor, target: str) -> None:
    cur.execute("SELECT extversion FROM pg_extension WHERE extname = 'postgis'")
    if cur.fetchone() is not None:
        return
    cur.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'")
    available = cur.fetchone() is not None
    cur.execute("SELECT current_database()")
    db = cur.fetchone()[0]
    if available:
        fix = f"Enable it once, as a user allowed to: psql -d {db} -c 'CREATE EXTENSION postgis;'"
    else:
        fix = (
            "PostGIS is not installed on that server either; install it (Debian: apt-get "
            "install postgresql-15-postgis-3) and then run CREATE EXTENSION postgis in "
            f"database {db}."
        )
    raise PostGISError(f"Database {db} at {target} has no PostGIS extension. {fix}")


def _check_privileges(cur: psycopg.Cursor, schema: str, target: str) -> None:
    """Check that the connected user may create the schema, or create tables in it.

    The export creates its tables (and adds columns a newer run has), so it needs
    ``CREATE`` on the schema, or on the database while the schema does not exist.
    """
    cur.execute(
        "SELECT current_user, current_database(), "
        "EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = %s)",
        (schema,),
    )
    user, db, exists = cur.fetchone()
    if exists:
        cur.execute(
            "SELECT has_schema_privilege(%s, 'USAGE') AND has_schema_privilege(%s, 'CREATE')",
            (schema, schema),
        )
        if cur.fetchone()[0]:
            return
        fix = f"GRANT USAGE, CREATE ON SCHEMA {schema} TO {user}"
        where = f"schema {schema}"
    else:
        cur.execute("SELECT has_database_privilege(current_database(), 'CREATE')")
        if cur.fetchone()[0]:
            return
        fix = f"GRANT CREATE ON DATABASE {db} TO {user} (or create schema {schema} for them)"
        where = f"database {db} (schema {schema} does not exist yet)"
    raise PostGISError(
        f"User {user} at {target} may not create tables in {where}. Ask the database "
        f"administrator for: {fix}; or give another --schema / postgis_schema."
    )


def _identifier(name: str, what: str) -> str:
    if not name or len(name.encode("utf-8")) > 63 or "\x00" in name:
        raise PostGISError(f"{what} {name!r} is not a valid PostgreSQL name (1-63 bytes).")
    return name


# ------------------------------------------------------------------ export


@dataclass
class ExportResult:
    """What :func:`export_run` wrote.

    Attributes
    ----------
    run_id : str
        Key of the run in every table.
    schema : str
        Schema written into.
    target : str
        ``user@host:port/dbname`` (never a password).
    rows : dict of str to int
        Rows written per table (``runs`` not counted).
    seconds : float
        Wall time of the transaction (connect to commit). [s]
    replaced : bool
        Whether rows of the same run were there before and were replaced.
    table_seconds : dict of str to float
        Time to prepare and copy each table's rows. [s]
    """

    run_id: str
    schema: str
    target: str
    rows: dict[str, int]
    seconds: float
    replaced: bool
    table_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def rows_per_s(self) -> float:
        """Return rows written per second of wall time [s⁻¹]."""
        return sum(self.rows.values()) / self.seconds if self.seconds > 0 else float("nan")


def export_run(
    run_dir: str | Path,
    url: str,
    *,
    schema: str = DEFAULT_SCHEMA,
    run_id: str | None = None,
    connect_timeout_s: int = 10,
    progress: Callable[[str, int], None] | None = None,
) -> ExportResult:
    """Export a finished run folder into a PostGIS database.

    Parameters
    ----------
    run_dir : str or pathlib.Path
        Folder written by ``census run`` (or a batch's ``city`` folder).
    url : str
        libpq connection URL (``postgresql://user@host:5432/dbname``) or conninfo
        string (``service=gis``). Keep the password out of it: libpq reads
        ``PGPASSWORD``, ``~/.pgpass`` and ``pg_service.conf``.
    schema : str, default "census"
        Schema to write into; created if missing.
    run_id : str, optional
        Key of the run; default the run folder's name. Exporting a run with the same
        key replaces its rows.
    connect_timeout_s : int, default 10
        How long to wait for the server (unless the URL sets ``connect_timeout``). [s]
    progress : callable, optional
        Called as ``progress(table, rows)`` after each table.

    Returns
    -------
    ExportResult

    Raises
    ------
    InputError
        ``run_dir`` is not a finished run folder.
    PostGISError
        Bad URL, server unreachable, authentication failed, no PostGIS extension, or
        the database refused the rows; the message says the fix and never holds a
        password. Nothing is changed in the database when it is raised.
    """
    import psycopg

    schema = _identifier(schema, "Schema")
    run = read_run_tables(run_dir, run_id=run_id)
    _identifier(run.run_id, "Run id")
    prepared: dict[str, tuple[pa.Table, tuple[str, int] | None]] = {}
    for table, frame in run.tables.items():
        geometry = None
        if table in run.geometry_types:
            srid = frame.crs.to_epsg()
            if srid is None:
                raise InputError(
                    f"Table {table} of {run_dir} is in a CRS without an EPSG code "
                    f"({frame.crs.name}); PostGIS needs an SRID."
                )
            geometry = (run.geometry_types[table], int(srid))
        prepared[table] = (_arrow_table(frame, run.run_id), geometry)

    started = time.perf_counter()
    conn, target = _connect(url, connect_timeout_s=connect_timeout_s)
    rows: dict[str, int] = {}
    table_seconds: dict[str, float] = {}
    replaced = False
    try:
        with conn, conn.cursor() as cur:  # one transaction: commit on success, else rollback
            _check_postgis(cur, target)
            _check_privileges(cur, schema, target)
            # two exports of the same run wait for each other instead of interleaving
            cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"{schema}.{run.run_id}",))
            _ensure_runs_table(cur, schema)
            cur.execute(
                psycopg.sql.SQL("DELETE FROM {} WHERE run_id = %s").format(
                    _qualified(schema, "runs")
                ),
                (run.run_id,),
            )
            replaced = cur.rowcount > 0
            _insert_run_row(cur, schema, run, Path(run_dir))
            for table, (data, geometry) in prepared.items():
                t_table = time.perf_counter()
                frame = run.tables[table]
                if geometry is not None:
                    srid = _table_srid(cur, schema, table) or geometry[1]
                    geometry = (geometry[0], srid)
                    geoms = frame.geometry
                    if frame.crs.to_epsg() != srid:
                        geoms = geoms.to_crs(epsg=srid)
                    ewkb = _ewkb_hex(geoms, srid=srid, multi=geometry[0] == "MultiPolygon")
                    data = data.append_column(_GEOM, _hex_array(ewkb))
                columns = {
                    c: _pg_type(data.schema.field(c).type)
                    for c in data.column_names
                    if c not in (_RUN_ID, _GEOM)
                }
                _ensure_table(cur, schema, table, columns, geometry=geometry)
                _copy_rows(cur, schema, table, data)
                rows[table] = data.num_rows
                table_seconds[table] = time.perf_counter() - t_table
                if progress is not None:
                    progress(table, data.num_rows)
    except psycopg.Error as exc:
        raise PostGISError(
            f"PostgreSQL refused the export of run {run.run_id!r} to {target} (nothing was "
            f"changed): {_first_line(exc)}"
        ) from None
    finally:
        conn.close()
    seconds = time.perf_counter() - started
    logger.info(
        "exported run %s to %s schema %s: %s rows in %.2f s",
        run.run_id,
        target,
        schema,
        f"{sum(rows.values()):,}",
        seconds,
    )
    return ExportResult(
        run_id=run.run_id,
        schema=schema,
        target=target,
        rows=rows,
        seconds=seconds,
        replaced=replaced,
        table_seconds=table_seconds,
    )


def check_configured(outputs: Any) -> str | None:
    """Check the config's ``[outputs] postgis`` server before a run starts.

    Parameters
    ----------
    outputs : census.config.OutputsConfig
        ``postgis`` (URL or None) and ``postgis_schema``.

    Returns
    -------
    str or None
        ``user@host:port/dbname`` of the server; None when ``postgis`` is not set.

    Raises
    ------
    PostGISError
        The server cannot take the export; the message says nothing was computed.
    """
    url = getattr(outputs, "postgis", None)
    if not url:
        return None
    try:
        return check_connection(url, schema=getattr(outputs, "postgis_schema", DEFAULT_SCHEMA))
    except PostGISError as exc:
        raise PostGISError(
            f"{exc} ([outputs] postgis is checked before the run: nothing was computed. "
            "To run without the database, remove [outputs] postgis and export the run "
            "folder later with `census export RUN_DIR --postgis URL`.)"
        ) from None


def export_configured(run_dir: str | Path, outputs: Any) -> ExportResult | None:
    """Export a just-committed run folder when the config's ``[outputs] postgis`` is set.

    The hook of ``census run`` and ``census batch`` (its merged city folder).

    Parameters
    ----------
    run_dir : str or pathlib.Path
        The committed run folder.
    outputs : census.config.OutputsConfig
        ``postgis`` (URL or None) and ``postgis_schema``.

    Returns
    -------
    ExportResult or None
        None when ``postgis`` is not set.

    Raises
    ------
    PostGISError
        The export failed; the message says that the run folder is saved and gives the
        ``census export`` command that exports it once the cause is fixed.
    """
    url = getattr(outputs, "postgis", None)
    if not url:
        return None
    schema = getattr(outputs, "postgis_schema", DEFAULT_SCHEMA)
    try:
        return export_run(run_dir, url, schema=schema)
    except (PostGISError, InputError) as exc:
        again = f"census export {run_dir} --postgis '{redact(url)}'"
        if schema != DEFAULT_SCHEMA:
            again += f" --schema {schema}"
        raise PostGISError(
            f"{exc} The run itself is complete and saved in {run_dir}; export it once "
            f"that is fixed with: {again}"
        ) from None


def _hex_array(values: np.ndarray) -> pa.Array:
    import pyarrow as pa

    return pa.array(values.tolist(), type=pa.string())


def _json_safe(value: Any) -> Any:
    """Replace NaN and infinities (valid in Python's JSON, not in jsonb) with null."""
    if isinstance(value, float):
        return value if np.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def _insert_run_row(cur: psycopg.Cursor, schema: str, run: RunTables, run_dir: Path) -> None:
    from psycopg import sql

    prov = run.provenance
    meta = prov.get("census_run", {}) if isinstance(prov.get("census_run"), dict) else {}
    started = meta.get("started_utc")
    try:
        started_ts = dt.datetime.fromisoformat(started) if started else None
    except (TypeError, ValueError):
        started_ts = None
    version = (prov.get("packages") or {}).get("census") if isinstance(prov, dict) else None
    # redact() guards against a password that slipped into the provenance of an old run
    text = redact(json.dumps(_json_safe(prov), ensure_ascii=False, default=str))
    cur.execute(
        sql.SQL(
            "INSERT INTO {} (run_id, config_hash, started_utc, run_dir, synthetic_inputs, "
            "census_version, provenance) VALUES (%s, %s, %s, %s, %s, %s, %s::jsonb)"
        ).format(_qualified(schema, "runs")),
        (
            run.run_id,
            meta.get("config_hash"),
            started_ts,
            str(Path(run_dir).expanduser().resolve()),
            prov.get("synthetic_inputs"),
            version,
            text,
        ),
    )
