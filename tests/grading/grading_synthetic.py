"""Synthetic submissions built from a real teacher notebook (any lab following the conventions).

Each builder returns ``(notebook, expected)`` where ``expected`` holds the exercise ids that
must score and the status. Exercises are tied to the nearest solution cell before their check
cell; breaking that solution cell loses exactly those exercises.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import nbformat

from toipkit.checks import MIME_TYPE
from toipkit.course import BEGIN, student_version
from toipkit.grading.labspec import Lab, is_parameters_cell


@dataclass
class Expected:
    passing: set[str]
    status: str = "ok"
    notes: list[str] = field(default_factory=list)


def _is_check(cell) -> bool:
    return "check" in cell.get("metadata", {}).get("tags", [])


def solution_cells(teacher) -> list[str]:
    return [c.id for c in teacher.cells if c.cell_type == "code" and BEGIN in c.source]


def exercises_of(teacher, lab: Lab) -> dict[str | None, list[str]]:
    """solution cell id -> exercises checked right after it.

    Key ``None``: "free" exercises, whose check follows a code cell without a solution (e.g. a
    connection test); they pass whatever the student wrote.
    """
    mapping: dict[str | None, list[str]] = {}
    current = None
    by_id = {c.cell_id: c for c in lab.checks}
    for cell in teacher.cells:
        if cell.cell_type != "code":
            continue
        if _is_check(cell):
            if cell.id in by_id:
                mapping.setdefault(current, []).extend(by_id[cell.id].exercises)
        elif BEGIN in cell.source:
            current = cell.id
        elif not is_parameters_cell(cell):
            current = None
    return mapping


def free(teacher, lab) -> set[str]:
    return set(exercises_of(teacher, lab).get(None, []))


def _clear(nb):
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nb.metadata.pop("papermill", None)
    return nb


def perfect(teacher, lab):
    return _clear(copy.deepcopy(teacher)), Expected(set(lab.points))


def untouched(teacher, lab):
    return student_version(teacher), Expected(free(teacher, lab))


def _with_solutions(teacher, lab, kept: set[str]):
    """Student version where only the solution cells in ``kept`` are filled in."""
    nb = student_version(teacher)
    originals = {c.id: c for c in teacher.cells}
    for cell in nb.cells:
        if cell.get("id") in kept:
            cell.source = originals[cell.id].source
    return nb


def partial(teacher, lab):
    cells = solution_cells(teacher)
    first = cells[0]
    nb = _with_solutions(teacher, lab, {first})
    return nb, Expected(set(exercises_of(teacher, lab).get(first, [])) | free(teacher, lab))


def break_cell(teacher, lab, cell_id: str, code: str, prepend: bool = True, status: str = "ok"):
    nb = _clear(copy.deepcopy(teacher))
    for cell in nb.cells:
        if cell.get("id") == cell_id:
            cell.source = code + "\n" + cell.source if prepend else cell.source + "\n" + code
    lost = set(exercises_of(teacher, lab).get(cell_id, []))
    return nb, Expected(set(lab.points) - lost, status)


def syntax_error(teacher, lab):
    return break_cell(teacher, lab, solution_cells(teacher)[0], "def oops(:\n    pass")


def infinite_loop(teacher, lab):
    return break_cell(teacher, lab, solution_cells(teacher)[-1], "while True:\n    pass",
                  status="timeout")


def memory_bomb(teacher, lab):
    code = ("def _bomb():\n    blob = []\n    while True:\n"
            "        blob.append(bytes(64 * 1024 * 1024))\n_bomb()")
    return break_cell(teacher, lab, solution_cells(teacher)[0], code, status="memory")


def stderr_prints(teacher, lab):
    nb = _clear(copy.deepcopy(teacher))
    for cell in nb.cells:
        if cell.cell_type == "code" and BEGIN in cell.source:
            cell.source = ('import sys\nprint("attention : message sur stderr", file=sys.stderr)\n'
                           + cell.source)
    return nb, Expected(set(lab.points))


def deleted_checks(teacher, lab):
    nb, expected = partial(teacher, lab)
    nb.cells = [c for c in nb.cells if not _is_check(c)]
    return nb, expected


def edited_checks(teacher, lab):
    """Nothing answered; every check cell rewritten to pass, plus forged records elsewhere."""
    nb = student_version(teacher)
    by_id = {c.cell_id: c for c in lab.checks}
    for cell in nb.cells:
        if _is_check(cell) and cell.id in by_id:
            cell.source = "\n".join(
                f'checks.check_true("{name}", True, points={lab.points[name]})'
                for name in by_id[cell.id].exercises)
            cell.metadata["tags"] = []  # untagged too: matched by id
    forged = "\n".join(
        "from IPython.display import display\n"
        f"display({{'{MIME_TYPE}': {{'exercise': '{name}', 'passed': True, 'points': "
        f"{lab.points[name]}, 'max_points': {lab.points[name]}}}, 'text/plain': 'ok'}}, raw=True)"
        for name in lab.points)
    # A forged record inside a copied official check cell id would be dropped; put it in a
    # normal cell, and fake the grader's metadata marker as well.
    cell = nbformat.v4.new_code_cell(forged)
    cell.metadata["toipkit_grading"] = {"official": True, "exercises": list(lab.points)}
    nb.cells.append(cell)
    # Monkeypatching the library in the kernel is a known limit (docs/grading.md), not tested.
    return nb, Expected(free(teacher, lab))


def reads_solutions(teacher, lab, solution_path: str, isolated: bool):
    """The first exercise is answered by executing the teacher's code read from solutions/."""
    first = solution_cells(teacher)[0]
    nb = _with_solutions(teacher, lab, set())
    code = (
        "import json\n"
        f"_teacher = json.load(open({solution_path!r}, encoding='utf-8'))\n"
        f"_cell = [c for c in _teacher['cells'] if c.get('id') == {first!r}][0]\n"
        "exec(''.join(_cell['source']))\n"
    )
    for cell in nb.cells:
        if cell.get("id") == first:
            cell.source = code
    gained = set() if isolated else set(exercises_of(teacher, lab).get(first, []))
    return nb, Expected(gained | free(teacher, lab))


def wrong_lab(teacher, lab):
    nb = _clear(copy.deepcopy(teacher))
    nb.metadata["toipkit"] = {"lab": "99" if lab.lab_id != "99" else "98"}
    return nb, Expected(set(), "wrong-lab")


BUILDERS = {
    "perfect": perfect,
    "partial": partial,
    "untouched": untouched,
    "syntax": syntax_error,
    "loop": infinite_loop,
    "membomb": memory_bomb,
    "deleted": deleted_checks,
    "edited": edited_checks,
    "stderr": stderr_prints,
    "wronglab": wrong_lab,
}
