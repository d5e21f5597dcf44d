"""Test helpers for child processes that must end with their killed parent."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest


def _running(pid: int) -> bool:
    try:
        stat = (Path("/proc") / str(pid) / "stat").read_text()
    except OSError:
        return False
    return stat.split(")")[-1].split()[0] != "Z"  # a zombie has ended, waiting to be reaped


def kill_parent_expect_child_gone(parent: subprocess.Popen, pid_file: Path, what: str) -> None:
    """SIGKILL ``parent`` once its child wrote its pid to ``pid_file``; fail if the child lives.

    The child has 10 s to end after its parent's death; one still running then is
    killed here, so that a failing test leaves nothing behind.
    """
    deadline = time.monotonic() + 60
    while not (pid_file.is_file() and pid_file.read_text().strip()):
        assert time.monotonic() < deadline and parent.poll() is None, f"{what} never started"
        time.sleep(0.01)
    pid = int(pid_file.read_text())
    parent.send_signal(signal.SIGKILL)
    parent.wait(timeout=30)
    deadline = time.monotonic() + 10
    while _running(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _running(pid):
        os.kill(pid, signal.SIGKILL)
        pytest.fail(f"the {what} outlived its killed parent")
