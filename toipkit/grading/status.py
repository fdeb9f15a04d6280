"""The status and note of a graded submission, from what its run reported (no I/O)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from toipkit.grading.report import fmt as _fmt

_MEMORY_DEATH = re.compile(r"MemoryError|bad_alloc|Cannot allocate memory|out of memory")


def classify_status(*, timed_out: bool, worker: Mapping[str, Any], errors: Iterable[str],
                    executed: bool, cell_timeout: float, timeout: float, memory_mb: int,
                    log_tail: str = "") -> tuple[str, str]:
    """``(status, note)`` of one run.

    ``timed_out``: the grader stopped the whole notebook at ``timeout``; ``worker``: the
    worker's result (``status`` ok/timeout/dead/memory/error, ``timeouts``: cells stopped at the
    cell time limit, ``detail``); ``errors``: exception names in the executed notebook;
    ``executed``: whether an executed notebook came back; ``log_tail``: the end of the worker's
    log (a dead kernel's last words). Any cell stopped by a time limit is a ``timeout``, whether
    the kernel obeyed the interrupt or not.
    """
    errors = set(errors)
    state = worker.get("status")
    if timed_out:
        return "timeout", f"notebook stopped after {_fmt(timeout)} s"
    if state == "timeout":
        return "timeout", (f"a cell ran longer than {_fmt(cell_timeout)} s "
                           "and ignored the interrupt")
    if "CellTimeoutError" in errors or worker.get("timeouts"):
        return "timeout", f"a cell ran longer than {_fmt(cell_timeout)} s"
    if state == "memory":
        return "memory", (worker.get("detail") or
                          f"memory limit ({memory_mb} MB) reached by the whole submission")
    if "MemoryError" in errors:
        return "memory", f"memory limit ({memory_mb} MB) reached"
    if state == "dead":
        if _MEMORY_DEATH.search(log_tail):
            return "memory", f"kernel died at the memory limit ({memory_mb} MB)"
        return "error", "kernel died"
    if state != "ok" or not executed:
        return "error", "the notebook could not be executed"
    return "ok", ""


def add_note(note: str, flag: str) -> str:
    return f"{note}; {flag}" if note else flag
