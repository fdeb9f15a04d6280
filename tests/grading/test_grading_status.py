"""classify_status: the status and note of a run from what the worker reported (pure, fast)."""

from __future__ import annotations

import pytest

from toipkit.grading.status import add_note, classify_status

LIMITS = {"cell_timeout": 30.0, "timeout": 600.0, "memory_mb": 512}


def status(worker=None, errors=(), timed_out=False, executed=True, tail=""):
    return classify_status(timed_out=timed_out, worker=worker or {"status": "ok"}, errors=errors,
                           executed=executed, log_tail=tail, **LIMITS)


def test_a_clean_run_is_ok_even_with_failing_cells():
    assert status(errors=["ZeroDivisionError", "NameError"]) == ("ok", "")


def test_the_whole_notebook_time_limit_wins_over_everything():
    got = status({"status": "dead"}, errors=["MemoryError"], timed_out=True)
    assert got == ("timeout", "notebook stopped after 600 s")


@pytest.mark.parametrize("worker, errors", [
    ({"status": "timeout", "detail": "a cell ignored the interrupt at its time limit"}, []),
    ({"status": "ok", "timeouts": [4]}, []),
    ({"status": "ok"}, ["CellTimeoutError"]),
    ({"status": "dead", "timeouts": [2]}, []),  # interrupted, then the kernel died
])
def test_any_cell_stopped_by_the_time_limit_is_a_timeout(worker, errors):
    got, note = status(worker, errors)
    assert got == "timeout" and "30 s" in note


def test_a_cell_ignoring_the_interrupt_is_named():
    _, note = status({"status": "timeout"})
    assert note == "a cell ran longer than 30 s and ignored the interrupt"


def test_memory():
    assert status(errors=["MemoryError"]) == ("memory", "memory limit (512 MB) reached")
    assert status({"status": "dead"}, tail="std::bad_alloc") == (
        "memory", "kernel died at the memory limit (512 MB)")
    got, note = status({"status": "memory", "detail": "whole submission over 512 MB"})
    assert got == "memory" and note == "whole submission over 512 MB"


def test_errors():
    assert status({"status": "dead"}, tail="Segmentation fault") == ("error", "kernel died")
    assert status({"status": "error"}) == ("error", "the notebook could not be executed")
    assert status(executed=False) == ("error", "the notebook could not be executed")


def test_notes_are_joined():
    assert add_note("", "a") == "a" and add_note("a", "b") == "a; b"
