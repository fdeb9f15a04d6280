"""Child processes of the lab network (kamailio, baresip, dumpcap): tied to their parent."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from pathlib import Path


def die_with_parent() -> None:
    """``preexec_fn``: the child gets SIGTERM when the process that started it dies, even by
    SIGKILL (Linux ``PR_SET_PDEATHSIG``), and has its own process group (it can be stopped
    with everything it forks)."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    os.setpgrp()


def pid_alive(pid: int, child: subprocess.Popen | None = None, *,
              others_count: bool = True) -> bool:
    """Is ``pid`` running (not a zombie)? ``child``: our own Popen of it, polled (reaped).
    ``others_count``: whether a process of another user (no permission to signal) counts."""
    if child is not None:
        return child.poll() is None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return others_count
    # A process whose parent has not reaped it yet is a zombie: it is gone.
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rpartition(")")[2].split()[0] != "Z"
    except (OSError, IndexError):
        return True

