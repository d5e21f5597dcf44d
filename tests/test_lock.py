"""requirements-lock.txt pins every dependency of pyproject.toml (a stale lock fails here).

Refresh the lock after changing dependencies (README, "Reproducible installs"):

    uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 \
        -o requirements-lock.txt
"""

from __future__ import annotations

import re
import tomllib

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from census.config import PROJECT_ROOT

LOCK = PROJECT_ROOT / "requirements-lock.txt"
REFRESH = (
    "uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 "
    "-o requirements-lock.txt"
)
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;]+)\s*(?:;(.*))?$")


def _pins() -> dict[str, list[str]]:
    pins: dict[str, list[str]] = {}
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = _PIN.match(line)
        assert m, f"requirements-lock.txt: not a pin: {line!r}; regenerate it with: {REFRESH}"
        pins.setdefault(canonicalize_name(m.group(1)), []).append(m.group(2))
    return pins


def _requirements() -> list[Requirement]:
    py = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    reqs = list(py["project"]["dependencies"])
    for extra in py["project"].get("optional-dependencies", {}).values():
        reqs += extra
    return [Requirement(r) for r in reqs]


def test_every_dependency_is_pinned_within_its_range():
    pins = _pins()
    missing, outside = [], []
    for req in _requirements():
        name = canonicalize_name(req.name)
        if name not in pins:
            missing.append(str(req))
            continue
        for version in pins[name]:
            if not req.specifier.contains(version, prereleases=True):
                outside.append(f"{req} (lock: {version})")
    assert not missing and not outside, (
        f"requirements-lock.txt is stale: not pinned {missing}; pinned outside the "
        f"pyproject range {outside}. Refresh it with: {REFRESH}"
    )


def test_lock_pins_exact_versions_only():
    text = LOCK.read_text(encoding="utf-8")
    assert "--extra dev" in text.splitlines()[1], "the lock must include the dev extra"
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            assert "==" in line and not re.search(r"[<>~]=?|!=", line.split(";")[0]), line
