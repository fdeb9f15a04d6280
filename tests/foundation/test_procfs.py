"""Process trees and their memory, read from /proc (used by the grader's memory watchdog and
the per-user memory figures)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from toipkit.phone.processes import pid_alive
from toipkit.procfs import descendants, memory_kb

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="Linux /proc")


def test_descendants_include_grandchildren_and_memory_adds_up():
    # a shell whose child is a Python process holding 40 MB
    script = ("import time; block = bytearray(40 << 20); "
              "block[::4096] = b'x' * len(block[::4096]); print(flush=True); time.sleep(30)")
    shell = subprocess.Popen(["sh", "-c", f'"{sys.executable}" -c "{script}"; true'],
                             stdout=subprocess.PIPE)
    try:
        assert shell.stdout is not None
        shell.stdout.readline()  # the grandchild has touched its memory
        tree = descendants(shell.pid)
        assert tree[0] == shell.pid and len(tree) == 2
        pss, rss = memory_kb(tree[1])
        assert rss >= 40 * 1024 and 0 < pss <= rss
    finally:
        for pid in reversed(descendants(shell.pid)):
            os.kill(pid, 9)
        shell.wait()
    deadline = time.monotonic() + 10  # the orphaned grandchild is reaped by init, later
    while pid_alive(tree[1]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert memory_kb(tree[1]) == (0, 0)  # gone: nothing, no error
