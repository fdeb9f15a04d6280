"""Notebook tooling for the course: student versions from teacher sources, convention checks,
in-place execution of solutions.

Public API: :func:`build`, :func:`student_version`, :func:`check`, :func:`execute`,
:func:`lab_notebooks`, :func:`lab_id_of`, :class:`Problem`, :data:`BEGIN`, :data:`END` (the
solution markers of :mod:`toipkit.conventions`). Imported on first use.
"""

# ruff: noqa: F401
from __future__ import annotations

from typing import TYPE_CHECKING

from toipkit._lazy import lazy_exports

_EXPORTS = {
    "BEGIN": "toipkit.conventions:SOLUTION_BEGIN",
    "END": "toipkit.conventions:SOLUTION_END",
    "Problem": "toipkit.course.checking",
    "build": "toipkit.course.build",
    "check": "toipkit.course.checking",
    "execute": "toipkit.course.execute",
    "lab_id_of": "toipkit.course.layout",
    "lab_notebooks": "toipkit.course.layout",
    "student_version": "toipkit.course.build",
}

__getattr__, __dir__, __all__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:  # the same names, for type checkers and IDEs (F401: used through __all__)
    from toipkit.conventions import SOLUTION_BEGIN as BEGIN
    from toipkit.conventions import SOLUTION_END as END
    from toipkit.course.build import build, student_version
    from toipkit.course.checking import Problem, check
    from toipkit.course.execute import execute
    from toipkit.course.layout import lab_id_of, lab_notebooks
