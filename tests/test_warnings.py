"""Every warning of a run lands in its provenance: Python warnings and census's log warnings."""

from __future__ import annotations

import logging
import warnings

from census.pipeline import collect_warnings


def test_warnings_and_logged_warnings_are_recorded_once(caplog):
    got: list[str] = []
    with caplog.at_level(logging.WARNING, logger="census"), collect_warnings(got):
        warnings.warn("layer 'x' is empty", UserWarning, stacklevel=1)
        warnings.warn("layer 'x' is empty", UserWarning, stacklevel=1)  # "always": both kept
        logging.getLogger("census.wind.yield_").warning("site %s: no atlas value", "m1")
        logging.getLogger("census.wind.yield_").info("not a warning")
        logging.getLogger("other.library").warning("not census's")
    assert got == [
        "UserWarning: layer 'x' is empty",
        "UserWarning: layer 'x' is empty",
        "census.wind.yield_: site m1: no atlas value",
    ]
    # the Python warnings are logged too (the CLI shows log records on stderr)
    assert [r.getMessage() for r in caplog.records if r.name == "census.pipeline"] == got[:2]


def test_recording_stops_after_the_block():
    got: list[str] = []
    with collect_warnings(got):
        pass
    logging.getLogger("census.x").warning("after")
    assert got == []
