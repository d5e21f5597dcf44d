"""Child processes that do not outlive census.

A process killed without warning (a dask worker closed by its cluster, ``kill -9``)
leaves its children running: a headless Chromium printing the report, the GeoPackage
writer of a large run. Started through :func:`die_with_parent`, they get SIGKILL from
the kernel when the thread that started them ends.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import sys

__all__ = ["die_with_parent"]


@functools.cache
def die_with_parent() -> tuple[str, ...]:
    """Return the command prefix that gives a child SIGKILL when its parent dies, or ().

    util-linux's ``setpriv --pdeathsig KILL --`` (Linux's ``PR_SET_PDEATHSIG``, kept
    across the exec of the command and of wrapper scripts such as Debian's
    ``chromium``; cleared by a set-user-ID program such as Ubuntu's snap launcher).
    The signal comes when the *thread* that started the child ends: start the child
    from a thread that waits for it. Without setpriv (not Linux, or util-linux older
    than 2.33) the prefix is empty and children are started as before.
    """
    setpriv = shutil.which("setpriv")
    if setpriv is None or not sys.platform.startswith("linux"):
        return ()
    try:
        usage = subprocess.run(
            [setpriv, "--help"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return ()
    return (setpriv, "--pdeathsig", "KILL", "--") if "--pdeathsig" in usage else ()
