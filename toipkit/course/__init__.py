"""Notebook tooling for the course: student versions from teacher sources, convention checks,
in-place execution of solutions.

Public API: :func:`build`, :func:`student_version`, :func:`check`, :func:`execute`,
:func:`lab_notebooks`, :data:`BEGIN`, :data:`END` (the solution markers of
:mod:`toipkit.conventions`). Cheap to import: nbformat loads when a notebook is read.
"""

from toipkit.conventions import SOLUTION_BEGIN as BEGIN
from toipkit.conventions import SOLUTION_END as END
from toipkit.course.build import build, student_version
from toipkit.course.checking import Problem, check
from toipkit.course.execute import execute
from toipkit.course.layout import lab_id_of, lab_notebooks

__all__ = [
    "BEGIN",
    "END",
    "Problem",
    "build",
    "check",
    "execute",
    "lab_id_of",
    "lab_notebooks",
    "student_version",
]
