"""PostGIS export against a real, throwaway PostgreSQL 15 + PostGIS 3 server (no mocks).

The server comes from Debian's postgresql-15-postgis-3 (scripts/test.sh installs it as
root); where it cannot run, every test here is skipped with the reason.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from numpy.testing import assert_allclose
from typer.testing import CliRunner

from census.cli import app
from census.exceptions import InputError, PostGISError
from census.io.postgis import export_run, has_password, redact
from census.pipeline import run_census
from tests.conftest import DEMO_DIR
from tests.io import pg_server

psycopg = pytest.importorskip("psycopg")

RUN_NAME = "qiantang-run"


@pytest.fixture(scope="module")
def server():
    try:
        srv = pg_server.start()
    except pg_server.Unavailable as exc:
        pytest.skip(f"no PostgreSQL/PostGIS server for the export tests: {exc}")
    yield srv
    srv.stop()


@pytest.fixture
def pgpassword(monkeypatch):
    # the password reaches libpq through the environment, never through the URL
    monkeypatch.setenv("PGPASSWORD", pg_server.SUPERUSER_PASSWORD)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    if not (DEMO_DIR / "demo_sites.gpkg").exists():
        pytest.skip("demo layers not generated")
    out = tmp_path_factory.mktemp("pg") / RUN_NAME
    # Qiantang has rooftops, ponds and mudflats: PV and wind sites, turbines
    run_census(None, ["Qiantang"], out_dir=out)
    return out


def _query(server, sql, params=None, *, db=pg_server.POSTGIS_DB):
    with psycopg.connect(server.url(db, password=pg_server.SUPERUSER_PASSWORD)) as conn:
        return conn.execute(sql, params).fetchall()


def _reset(server):
    with psycopg.connect(
        server.url(password=pg_server.SUPERUSER_PASSWORD), autocommit=True
    ) as conn:
        conn.execute("DROP SCHEMA IF EXISTS census CASCADE")


# ---------------------------------------------------------------- pure helpers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("postgresql://gis:s3cret@db:5432/x", "postgresql://gis:***@db:5432/x"),
        ("postgres://gis:p%40ss@db/x?sslmode=require", "postgres://gis:***@db/x?sslmode=require"),
        ("host=db password=s3cret dbname=x", "host=db password=*** dbname=x"),
        ("host=db password='a b\\' c' dbname=x", "host=db password=*** dbname=x"),
        (
            "postgresql://db/x?user=gis&password=s3cret&sslmode=x",
            "postgresql://db/x?user=gis&password=***&sslmode=x",
        ),
        ("postgresql://gis@db/x", "postgresql://gis@db/x"),
        ("service=planning", "service=planning"),
    ],
)
def test_redact(text, expected):
    assert redact(text) == expected
    assert has_password(text) == (text != expected)


def test_log_lines_never_hold_a_password():
    import logging

    from census.redact import RedactFilter

    seen = []

    class Keep(logging.Handler):
        def emit(self, record):
            seen.append(record.getMessage())

    log = logging.getLogger("census.test_redact")
    handler = Keep()
    handler.addFilter(RedactFilter())
    log.addHandler(handler)
    try:
        log.warning("cannot reach %s (%d tries)", "postgresql://gis:Log-Secret-3@db/x", 2)
        log.warning("host=db password=Log-Secret-3")
    finally:
        log.removeHandler(handler)
    assert seen == ["cannot reach postgresql://gis:***@db/x (2 tries)", "host=db password=***"]


# ---------------------------------------------------------------- export


def test_run_lands_with_the_totals_of_its_csvs(server, run_dir, pgpassword):
    _reset(server)
    result = export_run(run_dir, server.url())
    assert result.run_id == RUN_NAME and not result.replaced
    sites = pyogrio.read_dataframe(run_dir / "sites.gpkg", layer="sites")
    city = pd.read_csv(run_dir / "summary_city.csv", encoding="utf-8-sig")
    by_district = pd.read_csv(run_dir / "summary_by_district.csv", encoding="utf-8-sig")
    assert result.rows["sites"] == len(sites)
    (n, n_eligible, mw_dc, mw_ac, mwh, area_db, srid) = _query(
        server,
        "SELECT count(*), count(*) FILTER (WHERE eligible), "
        "sum(capacity_mw_dc) FILTER (WHERE eligible), sum(capacity_mw_ac) FILTER (WHERE eligible), "
        "sum(energy_mwh_yr) FILTER (WHERE eligible), sum(ST_Area(geom)), min(ST_SRID(geom)) "
        "FROM census.sites WHERE run_id = %s",
        (RUN_NAME,),
    )[0]
    total = city[city["category"] == "all"].iloc[0]
    assert n == len(sites)
    assert n_eligible == int(total["eligible_sites"])
    # the same doubles summed in another order: equal to ~1e-12
    assert_allclose(
        [mw_dc, mw_ac, mwh],
        total[["capacity_mw_dc", "capacity_mw_ac", "energy_mwh_yr"]].astype(float),
        rtol=1e-9,
    )
    # PostGIS's ST_Area against shapely's area of the GeoPackage's polygons (both planar)
    assert srid == 4549
    assert_allclose(area_db, shapely.area(sites.geometry.values).sum(), rtol=1e-9)
    # the summary tables land as they are in the CSVs
    db_district = _query(
        server,
        "SELECT adcode, capacity_mw_dc, energy_mwh_yr FROM census.summary_by_district "
        "WHERE run_id = %s ORDER BY adcode",
        (RUN_NAME,),
    )
    expected = by_district.sort_values("adcode")[["adcode", "capacity_mw_dc", "energy_mwh_yr"]]
    assert_allclose(np.array(db_district, dtype=float), expected.to_numpy(dtype=float), rtol=1e-12)
    name_zh = _query(
        server, "SELECT name_zh FROM census.summary_by_district WHERE run_id = %s", (RUN_NAME,)
    )
    assert {r[0] for r in name_zh} == set(by_district["name_zh"])
    # turbines and targets too
    turbines = pyogrio.read_dataframe(run_dir / "sites.gpkg", layer="turbines")
    assert _query(server, "SELECT count(*) FROM census.turbines")[0][0] == len(turbines) > 0
    targets = pd.read_csv(run_dir / "targets.csv", encoding="utf-8-sig")
    db_targets = dict(_query(server, "SELECT target, potential_mw FROM census.targets"))
    assert_allclose([db_targets[t] for t in targets["target"]], targets["potential_mw"], rtol=1e-12)
    # spatial index on the geometry, and every site column kept
    indexes = [
        r[0] for r in _query(server, "SELECT indexdef FROM pg_indexes WHERE tablename = 'sites'")
    ]
    assert any("USING gist (geom)" in d for d in indexes)
    cols = {
        r[0]
        for r in _query(
            server, "SELECT column_name FROM information_schema.columns WHERE table_name = 'sites'"
        )
    }
    assert set(sites.columns) - {"geometry"} <= cols


def test_runs_table_holds_provenance_and_no_password(server, run_dir, pgpassword):
    _reset(server)
    export_run(run_dir, server.url())
    prov = json.loads((run_dir / "provenance.json").read_text(encoding="utf-8"))
    (run_id, chash, prov_db, text) = _query(
        server, "SELECT run_id, config_hash, provenance, provenance::text FROM census.runs"
    )[0]
    assert run_id == RUN_NAME
    assert chash == prov["census_run"]["config_hash"] == prov_db["census_run"]["config_hash"]
    assert prov_db["counts"] == prov["counts"]
    assert pg_server.SUPERUSER_PASSWORD not in text


def test_exported_twice_without_duplicates(server, run_dir, pgpassword):
    _reset(server)
    first = export_run(run_dir, server.url())
    second = export_run(run_dir, server.url())
    assert second.replaced and second.rows == first.rows
    for table, n in first.rows.items():
        assert _query(server, f"SELECT count(*) FROM census.{table}")[0][0] == n, table
    assert _query(server, "SELECT count(*) FROM census.runs")[0][0] == 1


def test_reexport_keeps_other_runs(server, run_dir, pgpassword):
    _reset(server)
    export_run(run_dir, server.url())
    other = export_run(run_dir, server.url(), run_id="other-run")
    export_run(run_dir, server.url())  # replaces RUN_NAME's rows only
    counts = dict(_query(server, "SELECT run_id, count(*) FROM census.sites GROUP BY run_id"))
    assert counts == {RUN_NAME: other.rows["sites"], "other-run": other.rows["sites"]}
    assert _query(server, "SELECT count(*) FROM census.runs")[0][0] == 2


def test_failed_export_changes_nothing(server, run_dir, tmp_path, pgpassword):
    _reset(server)
    before = export_run(run_dir, server.url())
    bad = tmp_path / RUN_NAME
    shutil.copytree(run_dir, bad)
    sites = pyogrio.read_dataframe(bad / "sites.gpkg", layer="sites")
    turbines = pyogrio.read_dataframe(bad / "sites.gpkg", layer="turbines")
    dup = pd.concat([sites, sites.iloc[:1]], ignore_index=True)  # a site_id twice: key violation
    (bad / "sites.gpkg").unlink()
    pyogrio.write_dataframe(gpd.GeoDataFrame(dup, crs=sites.crs), bad / "sites.gpkg", layer="sites")
    pyogrio.write_dataframe(turbines, bad / "sites.gpkg", layer="turbines", append=True)
    with pytest.raises(PostGISError, match="nothing was changed") as info:
        export_run(bad, server.url())
    assert "duplicate key" in str(info.value)
    assert _query(server, "SELECT count(*) FROM census.sites")[0][0] == before.rows["sites"]


def test_new_column_is_added_and_types_widen(server, run_dir, tmp_path, pgpassword):
    _reset(server)
    export_run(run_dir, server.url())
    changed = tmp_path / "changed-run"
    shutil.copytree(run_dir, changed)
    targets = pd.read_csv(changed / "targets.csv", encoding="utf-8-sig")
    targets["remark"] = "new column"  # a column targets.csv does not have
    targets["target_mw"] = [f"{v:.0f} MW" for v in targets["target_mw"]]  # number -> text
    targets.to_csv(changed / "targets.csv", index=False, encoding="utf-8-sig")
    export_run(changed, server.url())
    rows = _query(
        server, "SELECT run_id, target_mw, remark FROM census.targets ORDER BY run_id, target"
    )
    old = [r for r in rows if r[0] == RUN_NAME]
    new = [r for r in rows if r[0] == "changed-run"]
    assert all(r[2] is None for r in old) and all(r[2] == "new column" for r in new)
    original = pd.read_csv(run_dir / "targets.csv", encoding="utf-8-sig")
    # the old run's numbers survive the widening to text, exactly
    assert sorted(float(r[1]) for r in old) == sorted(original["target_mw"].astype(float))


# ---------------------------------------------------------------- errors


def test_wrong_password(server, run_dir, monkeypatch):
    monkeypatch.setenv("PGPASSWORD", "not-the-password-123")
    with pytest.raises(PostGISError, match="password authentication failed") as info:
        export_run(run_dir, server.url())
    assert "PGPASSWORD" in str(info.value)
    assert "not-the-password-123" not in str(info.value)
    wrong = "Wrong-In-Url-987"
    monkeypatch.delenv("PGPASSWORD")
    with pytest.raises(PostGISError, match="password authentication failed") as info:
        export_run(run_dir, server.url(password=wrong))
    assert wrong not in str(info.value)


def test_missing_postgis_extension(server, run_dir, pgpassword):
    with pytest.raises(PostGISError, match="no PostGIS extension.*CREATE EXTENSION postgis"):
        export_run(run_dir, server.url(pg_server.PLAIN_DB))
    # nothing was created in that database
    assert (
        _query(
            server,
            "SELECT count(*) FROM pg_namespace WHERE nspname = 'census'",
            db=pg_server.PLAIN_DB,
        )[0][0]
        == 0
    )


@pytest.mark.parametrize(
    ("url", "match"),
    [
        ("this is not a url", "Not a PostgreSQL connection URL"),
        (
            "postgresql://u:Secret-Bad-1@127.0.0.1:99999/x",
            "Not a PostgreSQL connection URL|Cannot connect",
        ),
        ("postgresql://u@no-such-host.invalid/x", "Cannot connect.*host name"),
    ],
)
def test_bad_url(run_dir, url, match):
    with pytest.raises(PostGISError, match=match) as info:
        export_run(run_dir, url, connect_timeout_s=5)
    assert "Secret-Bad-1" not in str(info.value)


def test_unreachable_server(run_dir, pgpassword):
    port = pg_server.free_port()  # nobody listens there
    with pytest.raises(PostGISError, match="Cannot connect.*Check host and port"):
        export_run(run_dir, f"postgresql://u@127.0.0.1:{port}/x", connect_timeout_s=5)


def test_not_a_run_folder(tmp_path):
    with pytest.raises(InputError, match="provenance.json"):
        export_run(tmp_path, "postgresql://u@127.0.0.1/x")


# ---------------------------------------------------------------- CLI


def test_cli_export_never_prints_the_password(server, run_dir, monkeypatch):
    _reset(server)
    runner = CliRunner()
    res = runner.invoke(
        app,
        ["export", str(run_dir), "--postgis", server.url(password=pg_server.SUPERUSER_PASSWORD)],
    )
    assert res.exit_code == 0, res.output
    n_sites = pyogrio.read_info(run_dir / "sites.gpkg", layer="sites")["features"]
    assert f"census.sites: {n_sites:,} rows" in res.stdout
    assert "rows/s" in res.stdout
    assert pg_server.SUPERUSER_PASSWORD not in res.output
    assert "holds a password" in res.stderr
    monkeypatch.setenv("PGPASSWORD", "wrong-Pass-55")
    res = runner.invoke(
        app, ["export", str(run_dir), "--postgis", server.url(), "--schema", "other"]
    )
    assert res.exit_code == 2
    assert res.stderr.startswith("census: error: Cannot connect") and "Traceback" not in res.output
    assert "wrong-Pass-55" not in res.output


# ---------------------------------------------------------------- [outputs] postgis: run, batch


@pytest.fixture(scope="module")
def roofs(tmp_path_factory):
    """Two hand-made roofs in Binjiang (EPSG:4549): a run of them takes seconds."""
    from census.io.boundaries import read_districts, select_districts
    from tests.conftest import BOUNDARIES

    folder = tmp_path_factory.mktemp("roofs")
    binjiang = select_districts(read_districts(BOUNDARIES, crs="GCJ-02"), ["Binjiang"]).iloc[0]
    p = binjiang.geometry.representative_point()
    gpd.GeoDataFrame(
        {"roof_id": ["r1", "r2"]},
        geometry=[
            shapely.box(p.x, p.y, p.x + 30, p.y + 20),
            shapely.box(p.x + 100, p.y, p.x + 140, p.y + 25),
        ],
        crs="EPSG:4549",
    ).to_file(folder / "roofs.gpkg", layer="roofs")
    return folder


def _config(folder, url, *, schema="plan", name="tiny.toml"):
    path = folder / name
    path.write_text(
        "allow_synthetic_mix = true\n"
        '[layers.roofs]\npath = "roofs.gpkg"\ncategory = "rooftop"\nid_field = "roof_id"\n'
        f'[outputs]\nmap = false\npostgis = "{url}"\npostgis_schema = "{schema}"\n',
        encoding="utf-8",
    )
    return path


def _role(server, name, password, *grants):
    """A login role with a password and the given GRANT statements (made once)."""
    with psycopg.connect(
        server.url(password=pg_server.SUPERUSER_PASSWORD), autocommit=True
    ) as conn:
        if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).fetchone():
            conn.execute(f"CREATE ROLE {name} LOGIN PASSWORD '{password}'")
        conn.execute(f"ALTER ROLE {name} PASSWORD '{password}'")
        for grant in grants:
            conn.execute(grant)
    return f"postgresql://{name}@127.0.0.1:{server.port}/{pg_server.POSTGIS_DB}"


def _no_secret_in(folder, *secrets):
    for path in folder.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for secret in secrets:
                assert secret.encode() not in data, f"{secret} in {path}"


def test_config_refuses_a_password_in_the_postgis_url(tmp_path):
    from census.config import load_config
    from census.exceptions import ConfigError

    cfg = tmp_path / "c.toml"
    for url, shown in (
        ("postgresql://gis:Top-Secret-9@db/x", "gis:***@db"),
        ("host=db password=Top-Secret-9 dbname=x", "password=***"),
    ):
        cfg.write_text(f'[outputs]\npostgis = "{url}"\n', encoding="utf-8")
        with pytest.raises(ConfigError, match="outputs.postgis.*PGPASSWORD") as info:
            load_config(cfg)
        assert "Top-Secret-9" not in str(info.value) and shown in str(info.value)
    cfg.write_text('[outputs]\npostgis = "gis at db"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="outputs.postgis.*Not a PostgreSQL connection URL"):
        load_config(cfg)
    cfg.write_text('[outputs]\npostgis = ""\n', encoding="utf-8")  # "" unsets
    assert load_config(cfg).config.outputs.postgis is None


def test_run_exports_itself_twice_without_duplicates(server, roofs, pgpassword):
    _reset(server)
    config = _config(roofs, server.url())
    out = roofs / "tiny-run"
    for _ in range(2):  # the second run replaces the first one's rows
        res = CliRunner().invoke(
            app,
            ["run", "-c", str(config), "-d", "Binjiang", "-o", str(out), "--overwrite"],
        )
        assert res.exit_code == 0, res.output
        assert f"exported to PostGIS: {server.url()}, schema plan" in res.stdout
    sites = pyogrio.read_dataframe(out / "sites.gpkg", layer="sites")
    city = pd.read_csv(out / "summary_city.csv", encoding="utf-8-sig")
    total = city[city["category"] == "all"].iloc[0]
    (n, n_eligible, mw_dc, mwh) = _query(
        server,
        "SELECT count(*), count(*) FILTER (WHERE eligible), "
        "sum(capacity_mw_dc) FILTER (WHERE eligible), sum(energy_mwh_yr) FILTER (WHERE eligible) "
        "FROM plan.sites WHERE run_id = 'tiny-run'",
    )[0]
    assert n == len(sites) == 2 and n_eligible == int(total["eligible_sites"])
    # the CSV's totals are sums of the same doubles: equal to rounding
    assert_allclose(
        [mw_dc, mwh], total[["capacity_mw_dc", "energy_mwh_yr"]].astype(float), rtol=1e-9
    )
    assert _query(server, "SELECT run_id FROM plan.runs") == [("tiny-run",)]
    # the URL is in the run's config.toml and provenance; the password nowhere
    assert server.url() in (out / "config.toml").read_text(encoding="utf-8")
    _no_secret_in(out, pg_server.SUPERUSER_PASSWORD)
    # the outputs stage styled the GeoPackages for QGIS (tests/io/test_qgis_styles.py)
    for gpkg, layer in (("sites.gpkg", "sites"), ("districts.gpkg", "districts")):
        with sqlite3.connect(out / gpkg) as con:
            assert con.execute("SELECT f_table_name FROM layer_styles").fetchall() == [(layer,)]
    (text,) = _query(server, "SELECT provenance::text FROM plan.runs")[0]
    assert pg_server.SUPERUSER_PASSWORD not in text


@pytest.mark.parametrize(
    "problem", ["bad url", "no server", "wrong password", "no postgis", "no privilege"]
)
def test_run_stops_before_computing_when_the_database_cannot_take_it(
    server, roofs, monkeypatch, problem
):
    if problem == "bad url":  # refused when the config loads
        url, secret, match = "gis at db", "Any-Secret-30", "outputs.postgis.*Not a PostgreSQL"
    elif problem == "no server":  # nobody listens on that port
        url = f"postgresql://gis@127.0.0.1:{pg_server.free_port()}/x"
        secret, match = "Any-Secret-30", "Cannot connect.*Check host and port"
    elif problem == "wrong password":
        url, secret, match = server.url(), "Wrong-Secret-31", "password authentication failed"
    elif problem == "no postgis":
        url, secret = server.url(pg_server.PLAIN_DB), pg_server.SUPERUSER_PASSWORD
        match = "no PostGIS extension"
    else:  # may log in, may not create schemas or tables
        url, secret = _role(server, "census_reader", "Reader-Pw-51"), "Reader-Pw-51"
        match = "census_reader .* may not create tables in database census_test"
    monkeypatch.setenv("PGPASSWORD", secret)
    config = _config(roofs, url, schema="nowhere", name=f"{problem.replace(' ', '_')}.toml")
    out = roofs / f"never-{problem.replace(' ', '-')}"
    res = CliRunner().invoke(app, ["run", "-c", str(config), "-d", "Binjiang", "-o", str(out)])
    assert res.exit_code == 2, res.output
    assert res.stderr.lstrip().startswith("census: error: ") and "Traceback" not in res.output
    assert re.search(match, res.stderr), res.stderr
    assert ("nothing was computed" in res.stderr) == (problem != "bad url")
    assert secret not in res.output and not out.exists()


def test_validate_tries_the_database(server, roofs, monkeypatch):
    monkeypatch.setenv("PGPASSWORD", "Wrong-Secret-32")
    config = _config(roofs, server.url(), name="validate.toml")
    res = CliRunner().invoke(app, ["validate", "-c", str(config)])
    assert res.exit_code == 2
    assert "[outputs.postgis] Cannot connect" in res.stderr
    assert "password authentication failed" in res.stderr and "Wrong-Secret-32" not in res.output
    monkeypatch.setenv("PGPASSWORD", pg_server.SUPERUSER_PASSWORD)
    res = CliRunner().invoke(app, ["validate", "-c", str(config)])
    assert res.exit_code == 0, res.output


def test_export_failing_after_the_run_keeps_the_run_and_says_how_to_retry(
    server, roofs, monkeypatch
):
    from census.config import load_config

    _reset(server)
    grant = "GRANT CREATE ON DATABASE census_test TO census_writer"
    url = _role(server, "census_writer", "Writer-Pw-1", grant)
    monkeypatch.setenv("PGPASSWORD", "Writer-Pw-1")
    loaded = load_config(_config(roofs, url, schema="census", name="writer.toml"))
    out = roofs / "rotated-run"

    def rotate_password(stage, done, total):
        # the password changes while the run computes (the check before it passed)
        if stage == "export to PostGIS":
            _role(server, "census_writer", "Rotated-Pw-2")

    with pytest.raises(PostGISError) as info:
        run_census(loaded, ["Binjiang"], out_dir=out, progress=rotate_password)
    msg = str(info.value)
    assert "password authentication failed" in msg
    assert f"complete and saved in {out}" in msg
    assert "Writer-Pw-1" not in msg and "Rotated-Pw-2" not in msg
    assert (out / "provenance.json").is_file() and (out / "sites.gpkg").is_file()
    # the command in the message exports it
    command = msg.split("export it once that is fixed with: ")[1].split()
    assert command[:3] == ["census", "export", str(out)]
    monkeypatch.setenv("PGPASSWORD", "Rotated-Pw-2")
    res = CliRunner().invoke(app, [*command[1:3], "--postgis", command[4].strip("'")])
    assert res.exit_code == 0, res.output
    assert _query(server, "SELECT run_id, count(*) FROM census.sites GROUP BY run_id") == [
        ("rotated-run", 2)
    ]


def test_user_with_create_on_an_existing_schema_only_can_export(server, run_dir, monkeypatch):
    _reset(server)
    with psycopg.connect(
        server.url(password=pg_server.SUPERUSER_PASSWORD), autocommit=True
    ) as conn:
        conn.execute("DROP SCHEMA IF EXISTS granted CASCADE")
        conn.execute("CREATE SCHEMA granted")
    grant = "GRANT USAGE, CREATE ON SCHEMA granted TO census_granted"
    url = _role(server, "census_granted", "Granted-Pw-4", grant)
    monkeypatch.setenv("PGPASSWORD", "Granted-Pw-4")
    result = export_run(run_dir, url, schema="granted")
    assert _query(server, "SELECT count(*) FROM granted.sites")[0][0] == result.rows["sites"]


@pytest.mark.slow
def test_batch_exports_its_city_folder_only(server, roofs, pgpassword, tmp_path):
    _reset(server)
    config = _config(roofs, server.url(), schema="census", name="batch.toml")
    out = tmp_path / "tiny-batch"
    res = CliRunner().invoke(
        app, ["batch", "-c", str(config), "-d", "Binjiang", "--workers", "1", "-o", str(out)]
    )
    assert res.exit_code == 0, res.output
    assert f"exported to PostGIS: {server.url()}, schema census" in res.stdout
    city = out.resolve() / "city"
    # one run in the database: the batch (its city folder), not its district
    assert _query(server, "SELECT run_id, run_dir FROM census.runs") == [("tiny-batch", str(city))]
    n = pyogrio.read_info(city / "sites.gpkg", layer="sites")["features"]
    assert _query(server, "SELECT count(*) FROM census.sites")[0][0] == n == 2
