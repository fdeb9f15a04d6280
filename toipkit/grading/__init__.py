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

from toipkit._lazy import lazy_exports

_EXPORTS = {
    "grade": "toipkit.grading.runner",
    "grade_one": "toipkit.grading.runner",
    "plan": "toipkit.grading.runner",
    "GradeReport": "toipkit.grading.runner",
    "Graded": "toipkit.grading.runner",
    "RunSettings": "toipkit.grading.runner",
    "find_submissions": "toipkit.grading.discovery",
    "Submission": "toipkit.grading.discovery",
    "classify_status": "toipkit.grading.status",
    "GradingConfig": "toipkit.grading.config",
    "Lab": "toipkit.grading.labspec",
    "load_lab": "toipkit.grading.labspec",
    "prepare": "toipkit.grading.submission",
    "Prepared": "toipkit.grading.submission",
    "SubmissionResult": "toipkit.grading.report",
    "ExerciseResult": "toipkit.grading.report",
    "STATUSES": "toipkit.grading.report",
}

__getattr__, __dir__, __all__ = lazy_exports(__name__, _EXPORTS)
