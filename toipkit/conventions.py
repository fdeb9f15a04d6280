"""The notebook conventions shared by the course builder, the checker and the grader.

A teacher notebook (``solutions/NN-name.ipynb``) marks what the student version hides and what
the grader runs with cell tags and source markers; ``toipkit course build`` turns it into the
student copy (``labs/``), ``toipkit course check`` enforces the conventions, ``toipkit grade``
re-runs the tagged cells. Every name below is spelled here only. Plain constants: importing
this module costs nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Cell tags ------------------------------------------------------------------------------------
#: A code cell whose checks count for the grade; the grader re-inserts the official copy.
CHECK_TAG = "check"
#: A cell that exists only in the teacher version (dropped from labs/, can hold hidden checks).
TEACHER_TAG = "teacher"
#: The first code cell: the lab's settings, overridden by papermill when the grader runs it.
PARAMETERS_TAG = "parameters"
#: The cell papermill adds after the ``parameters`` cell with the injected values.
INJECTED_PARAMETERS_TAG = "injected-parameters"

# Source markers -------------------------------------------------------------------------------
#: Lines from SOLUTION_BEGIN to SOLUTION_END are the answer, replaced in the student copy.
SOLUTION_BEGIN = "### BEGIN SOLUTION"
SOLUTION_END = "### END SOLUTION"
#: What the student sees instead of a code answer (at the marker's indentation), in French.
CODE_PLACEHOLDER = ("# À COMPLÉTER", "raise NotImplementedError()")
#: What the student sees instead of a markdown answer; the grader finds free-text answers by it.
MARKDOWN_PLACEHOLDER = "_Votre réponse ici_"
#: Comments for nbval (the solution notebooks' test tool), removed from the student copy.
TEST_MARKERS = ("# NBVAL_IGNORE_OUTPUT", "# NBVAL_SKIP", "# NBVAL_CHECK_OUTPUT",
                "# NBVAL_RAISES_EXCEPTION")

# Notebook metadata ----------------------------------------------------------------------------
#: Notebook-level metadata kept in the student copy; the rest is execution residue.
KEPT_NOTEBOOK_METADATA = ("kernelspec", "language_info", "toipkit")

# Check calls ----------------------------------------------------------------------------------
#: The ``toipkit.checks`` functions a check cell calls with an exercise id first.
CHECK_FUNCTIONS = ("check", "check_close", "check_set", "check_true", "verify")


def tags_of(cell: Mapping[str, Any]) -> list[str]:
    """The tags of a notebook cell (an empty list when it has none)."""
    return list((cell.get("metadata") or {}).get("tags") or [])


def has_tag(cell: Mapping[str, Any], tag: str) -> bool:
    return tag in tags_of(cell)
