"""Packaged assumption tables and the default run configuration.

See ``README.md`` in this folder for the format of the YAML tables.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import yaml

__all__ = ["ENTRY_KEYS", "ASSUMPTION_SECTIONS", "load_assumptions", "read_text", "split_entries"]

ENTRY_KEYS = frozenset({"value", "unit", "source"})
"""Keys of an assumption entry; ``note`` is allowed besides them."""

ASSUMPTION_SECTIONS: tuple[str, ...] = (
    "rules",
    "pv",
    "wind",
    "targets",
    "costs",
    "storage_shift",
    "weather",
)
"""Config sections whose defaults come from ``<section>.yaml``."""


def read_text(name: str) -> str:
    """Return the text of a packaged resource file ``name``."""
    return resources.files(__name__).joinpath(name).read_text(encoding="utf-8")


def _is_entry(node: Any) -> bool:
    return isinstance(node, dict) and ENTRY_KEYS <= set(node) and set(node) <= ENTRY_KEYS | {"note"}


def split_entries(
    tree: dict[str, Any], *, prefix: str = "", origin: str = "<yaml>"
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Split a tree of assumption entries into plain values and ledger rows.

    Parameters
    ----------
    tree : dict
        Nested mapping whose leaves are ``{value, unit, source}`` entries.
    prefix : str, default ""
        Dotted key prefix for the ledger (the config section name).
    origin : str
        Name of the file the tree came from, for error messages.

    Returns
    -------
    values : dict
        The same nesting with every entry replaced by its ``value``.
    ledger : list of dict
        One row per entry: ``key`` (dotted), ``value``, ``unit``, ``source``.

    Raises
    ------
    ValueError
        If a leaf is not an assumption entry, or its unit or source is empty.
    """
    values: dict[str, Any] = {}
    ledger: list[dict[str, Any]] = []
    for key, node in tree.items():
        dotted = f"{prefix}.{key}" if prefix else str(key)
        if _is_entry(node):
            unit, source = node["unit"], node["source"]
            if not str(unit).strip() or not str(source).strip():
                raise ValueError(
                    f"{origin}: assumption '{dotted}' needs a non-empty unit and source; "
                    f"got unit={unit!r}, source={source!r}. Cite a source, or write "
                    "'assumption: <why>'."
                )
            values[key] = node["value"]
            ledger.append({"key": dotted, "value": node["value"], "unit": unit, "source": source})
        elif isinstance(node, dict):
            sub_values, sub_ledger = split_entries(node, prefix=dotted, origin=origin)
            values[key] = sub_values
            ledger.extend(sub_ledger)
        else:
            raise ValueError(
                f"{origin}: '{dotted}' is a bare value ({node!r}); every leaf must be an "
                "assumption entry {value, unit, source}."
            )
    return values, ledger


def load_assumptions(section: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Load the packaged assumption table of one config section.

    Parameters
    ----------
    section : str
        One of :data:`ASSUMPTION_SECTIONS`.

    Returns
    -------
    values : dict
        Plain default values for that config section.
    ledger : list of dict
        Rows ``key, value, unit, source`` with keys prefixed by ``section``.
    """
    if section not in ASSUMPTION_SECTIONS:
        raise ValueError(
            f"unknown assumption section {section!r}; expected one of {ASSUMPTION_SECTIONS}"
        )
    name = f"{section}.yaml"
    tree = yaml.safe_load(read_text(name)) or {}
    return split_entries(tree, prefix=section, origin=f"census/resources/{name}")
