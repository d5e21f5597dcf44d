#!/usr/bin/env bash
# Set up everything the tests need on a fresh Debian machine, then run them.
#   bash scripts/test.sh [pytest args...]
# Installs Debian's chromium + chromium-driver for the browser test of the HTML maps and
# report.pdf, fonts-noto-cjk for Chinese charts, and PostgreSQL 15 + PostGIS 3 for the
# PostGIS export tests (when run as root with apt-get;
# otherwise those tests are skipped), creates .venv, installs the pinned dependency set
# of requirements-lock.txt and census itself (no dependency resolution: the lock is the
# set), checks ruff, and runs pytest on every core (pytest-xdist).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing chromium (Debian) for the browser test"
    export DEBIAN_FRONTEND=noninteractive
    if ! { apt-get update -qq >/dev/null &&
           apt-get install -y -qq --no-install-recommends chromium chromium-driver \
             fonts-noto-cjk >/dev/null; }; then
      echo "== could not install chromium with apt-get: the browser test will be skipped"
    fi
  else
    echo "== chromium not found and cannot apt-get install it: the browser test will be skipped"
  fi
fi

# PostgreSQL 15 + PostGIS 3 for the PostGIS export tests: they start a throwaway server
# on a temporary data directory and a free port (tests/io/pg_server.py), never the
# system's cluster; without the packages those tests are skipped.
if ! ls /usr/share/postgresql/*/extension/postgis.control >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing PostgreSQL 15 + PostGIS 3 (Debian) for the PostGIS export tests"
    export DEBIAN_FRONTEND=noninteractive
    if [ ! -e /etc/postgresql-common/createcluster.conf ]; then
      # no system cluster: the tests bring their own server
      mkdir -p /etc/postgresql-common
      echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.conf
    fi
    if ! { apt-get update -qq >/dev/null &&
           apt-get install -y -qq --no-install-recommends postgresql-15-postgis-3 >/dev/null; }; then
      echo "== could not install postgresql-15-postgis-3 with apt-get: the PostGIS tests will be skipped"
    fi
  else
    echo "== PostGIS not found and cannot apt-get install it: the PostGIS tests will be skipped"
  fi
fi

PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "== creating .venv"
  "$PY" -m venv .venv
fi
echo "== installing the locked dependencies (requirements-lock.txt), then census itself"
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -r requirements-lock.txt
.venv/bin/python -m pip install -q --no-deps -e .

echo "== ruff"
.venv/bin/ruff check census tests benchmarks scripts

# pytest-xdist: one worker per core (at most 4), each test file on one worker so that a
# file's module fixtures (a demo run, a PostGIS server) are made once; `-n 0` after the
# script's name runs everything in this process.
echo "== pytest"
exec .venv/bin/python -m pytest -n auto --maxprocesses 4 --dist loadfile "$@"
