"""Instructor grading: run submitted notebooks fenced and in parallel, score, give feedback.

Public API::

    from toipkit import grading
    report = grading.grade(["submissions/"], lab="03", params="grading.yaml", out="notes-03")
    report.to_frame()            # one row per student, one column per exercise
    report.result("alice").status

    lab = grading.load_lab("03", "solutions")           # check cells, exercises, points
    prepared = grading.prepare(nbformat.read(...), lab)  # what would be executed

CLI: ``toipkit grade SUBMISSIONS… --lab NN``. Details in ``docs/grading.md``.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "grade": "toipkit.grading.runner",
    "find_submissions": "toipkit.grading.runner",
    "GradeReport": "toipkit.grading.runner",
    "Submission": "toipkit.grading.runner",
    "GradingConfig": "toipkit.grading.config",
    "Lab": "toipkit.grading.lab",
    "load_lab": "toipkit.grading.lab",
    "prepare": "toipkit.grading.submission",
    "Prepared": "toipkit.grading.submission",
    "SubmissionResult": "toipkit.grading.report",
    "ExerciseResult": "toipkit.grading.report",
    "STATUSES": "toipkit.grading.report",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'toipkit.grading' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return __all__
