"""A throwaway PostgreSQL + PostGIS server for tests and benchmarks (no mocks).

It runs Debian's (or any) PostgreSQL binaries on a temporary data directory and a
free TCP port, and is removed afterwards. initdb and postgres refuse to run as root,
so as root (CI) the server runs as the ``postgres`` OS user (via ``runuser``) and
its folder belongs to that user; as a normal user it runs as that user.

Why not pytest-postgresql: it calls initdb as the current user, which fails as root
in CI; the forty lines here do the same with the same binaries.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

SUPERUSER = "census_admin"
SUPERUSER_PASSWORD = "pg-test-Secret-7431"
POSTGIS_DB = "census_test"
PLAIN_DB = "no_postgis"


class Unavailable(RuntimeError):
    """PostgreSQL or PostGIS cannot be run here (the message says why)."""


def find_bindir() -> Path:
    """Folder of initdb/pg_ctl: $CENSUS_PG_BINDIR, PATH, or /usr/lib/postgresql/*/bin."""
    candidates: list[Path] = []
    if os.environ.get("CENSUS_PG_BINDIR"):
        candidates.append(Path(os.environ["CENSUS_PG_BINDIR"]))
    which = shutil.which("pg_ctl")
    if which:
        candidates.append(Path(which).resolve().parent)
    candidates += sorted(
        Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name), reverse=True
    )
    for cand in candidates:
        if (cand / "initdb").is_file() and (cand / "pg_ctl").is_file():
            return cand
    raise Unavailable(
        "PostgreSQL server binaries not found (initdb, pg_ctl); install them with "
        "`apt-get install postgresql-15-postgis-3` (scripts/test.sh does so as root) or set "
        "CENSUS_PG_BINDIR."
    )


def _postgis_installed(bindir: Path) -> bool:
    try:
        share = subprocess.run(
            [str(bindir / "pg_config"), "--sharedir"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        share = f"/usr/share/postgresql/{bindir.parent.name}"
    return (Path(share) / "extension" / "postgis.control").is_file()


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A running throwaway server."""

    bindir: Path
    base: Path
    port: int
    run_as: str | None

    @property
    def data(self) -> Path:
        return self.base / "data"

    def url(self, db: str = POSTGIS_DB, *, password: str | None = None) -> str:
        auth = f"{SUPERUSER}:{password}" if password is not None else SUPERUSER
        return f"postgresql://{auth}@127.0.0.1:{self.port}/{db}"

    def _cmd(self, *args: str) -> list[str]:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        return ["runuser", "-u", self.run_as, "--", *cmd] if self.run_as else cmd

    def stop(self) -> None:
        subprocess.run(
            self._cmd("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop"),
            capture_output=True,
            check=False,
        )
        shutil.rmtree(self.base, ignore_errors=True)


def start() -> Server:
    """Initialise and start a server with PostGIS in POSTGIS_DB and none in PLAIN_DB.

    Raises
    ------
    Unavailable
        No binaries, no PostGIS, root without a ``postgres`` user, or a failed start.
    """
    bindir = find_bindir()
    if not _postgis_installed(bindir):
        raise Unavailable(
            f"PostGIS is not installed for the PostgreSQL of {bindir}; install "
            "postgresql-15-postgis-3 (scripts/test.sh does so as root)."
        )
    run_as = None
    base = Path(tempfile.mkdtemp(prefix="census-pg-"))
    if os.geteuid() == 0:
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(base, ignore_errors=True)
            raise Unavailable("running as root and there is no 'postgres' OS user") from None
        if shutil.which("runuser") is None:
            shutil.rmtree(base, ignore_errors=True)
            raise Unavailable("running as root and `runuser` is missing")
        os.chown(base, user.pw_uid, user.pw_gid)
        run_as = "postgres"
    server = Server(bindir=bindir, base=base, port=free_port(), run_as=run_as)
    pwfile = base / "pw"
    pwfile.write_text(SUPERUSER_PASSWORD + "\n")
    if run_as:
        os.chown(pwfile, pwd.getpwnam(run_as).pw_uid, pwd.getpwnam(run_as).pw_gid)
    steps = [
        server._cmd(
            "initdb",
            "-D",
            str(server.data),
            "-U",
            SUPERUSER,
            f"--pwfile={pwfile}",
            "--auth-local=scram-sha-256",
            "--auth-host=scram-sha-256",
            "-E",
            "UTF8",
            "--no-locale",
            "--no-sync",
        ),
        server._cmd(
            "pg_ctl",
            "-D",
            str(server.data),
            "-l",
            str(base / "server.log"),
            "-w",
            "-t",
            "60",
            "-o",
            f"-p {server.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={base} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off",
            "start",
        ),
    ]
    for cmd in steps:
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            log = (base / "server.log").read_text() if (base / "server.log").exists() else ""
            server.stop()
            raise Unavailable(
                f"{Path(cmd[-1] if cmd[-1] != 'start' else 'pg_ctl').name} failed: "
                f"{proc.stderr.strip()[-500:]} {log[-500:]}"
            )
    try:
        _create_databases(server)
    except Exception as exc:
        server.stop()
        raise Unavailable(f"could not set up the test databases: {exc}") from None
    return server


def _create_databases(server: Server) -> None:
    import psycopg

    deadline = time.monotonic() + 30
    while True:
        try:
            conn = psycopg.connect(
                server.url("postgres", password=SUPERUSER_PASSWORD), autocommit=True
            )
            break
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    with conn:
        conn.execute(f"CREATE DATABASE {POSTGIS_DB}")
        conn.execute(f"CREATE DATABASE {PLAIN_DB}")
    with psycopg.connect(
        server.url(POSTGIS_DB, password=SUPERUSER_PASSWORD), autocommit=True
    ) as conn:
        conn.execute("CREATE EXTENSION postgis")
