"""What Linux's ``/proc`` says about a process tree: its members and their memory."""

from __future__ import annotations

import os


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it (through ``/proc/PID/task/TID/children``). In a PID
    namespace, orphans are adopted by the namespace's init, itself below bwrap: nothing a
    submission starts escapes this walk."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            tasks = os.listdir(f"/proc/{current}/task")
        except OSError:
            continue
        for tid in tasks:
            try:
                with open(f"/proc/{current}/task/{tid}/children") as handle:
                    todo.extend(int(child) for child in handle.read().split())
            except (OSError, ValueError):
                continue
    return found


def memory_kb(pid: int) -> tuple[int, int]:
    """(PSS, RSS) of one process in kB; PSS shares each page among the processes that map it,
    so it adds up honestly across processes. (0, 0) for a process gone or not readable."""
    pss = rss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    pss = int(line.split()[1])
                elif line.startswith("Rss:"):
                    rss = int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return pss, rss
