"""The official side of a lab: its teacher source, check cells, exercises and points.

Everything grading needs to know about a lab comes from ``solutions/NN-*.ipynb``:

* the check cells (tagged ``check``; also tagged ``teacher``: a hidden check, absent from the
  student version) and the exercise ids each one records, read from the cell
  source (first string argument of ``checks.check*``) and, when the solution keeps its outputs,
  from the stored check records;
* the points of each exercise (``points=`` in the call, or the stored record's ``max_points``);
* the student version (``toipkit.course.student_version``), whose cell ids are the anchors used
  to put the check cells back into a submission.
"""

from __future__ import annotations

import ast
import copy
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from toipkit.conventions import CHECK_FUNCTIONS, CHECK_TAG, PARAMETERS_TAG, TEACHER_TAG
from toipkit.errors import GradingError

# Cell metadata key marking the cells the grader put in (the kernel cannot change metadata).
GRADING_KEY = "toipkit_grading"


@dataclass
class CheckCell:
    """One official check cell and where it belongs."""

    index: int  # position in the teacher source
    cell_id: str | None
    source: str
    exercises: list[str]
    anchors: list[str | None]  # ids of the preceding non-check cells, nearest first
    anchor_position: int  # how many non-check cells precede it in the student version
    hidden: bool = False  # a teacher-only check cell: not in the student version


@dataclass
class Lab:
    """An official lab: id, teacher source path, check cells and points per exercise."""

    lab_id: str
    path: Path
    notebook: nbformat.NotebookNode
    checks: list[CheckCell]
    points: dict[str, float]  # exercise id -> points possible, in notebook order
    hints: dict[str, str] = field(default_factory=dict)  # exercise id -> the check's message
    parameters_cell: nbformat.NotebookNode | None = None
    parameter_names: list[str] = field(default_factory=list)
    # Official rules (solutions/checks/labNN.py): these exercises are judged by the grader from
    # the exported answers, never from verdicts computed in the student's kernel.
    rules: dict = field(default_factory=dict)
    teacher: nbformat.NotebookNode | None = None  # the teacher source (free-text questions)

    @property
    def exercises(self) -> list[str]:
        return list(self.points)

    def total_points(self) -> float:
        return float(sum(self.points.values()))


def _is_check_cell(cell) -> bool:
    return cell.get("cell_type") == "code" and CHECK_TAG in cell.get("metadata", {}).get("tags", [])


def is_parameters_cell(cell) -> bool:
    return cell.get("cell_type") == "code" and PARAMETERS_TAG in cell.get("metadata", {}).get(
        "tags", []
    )


def _calls_in(source: str) -> list[tuple[str, float | None]]:
    """(exercise id, points or None) of each ``checks.check*("id", ...)`` call in a cell."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if name not in CHECK_FUNCTIONS or not node.args:
            continue
        first = node.args[0]
        if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
            continue
        points = None
        for keyword in node.keywords:
            if keyword.arg == "points" and isinstance(keyword.value, ast.Constant):
                if isinstance(keyword.value.value, (int, float)):
                    points = float(keyword.value.value)
        found.append((node.lineno, node.col_offset, first.value, points))
    # ast.walk is breadth-first; keep source order.
    return [(name, points) for _, _, name, points in sorted(found)]


def _hints_in(source: str) -> dict[str, str]:
    """exercise id -> the ``message=`` hint of its check call (a literal string)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    hints = {}
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and node.args):
            continue
        func = node.func
        if (func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)) not in (
                CHECK_FUNCTIONS):
            continue
        first = node.args[0]
        if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
            continue
        for keyword in node.keywords:
            if (keyword.arg == "message" and isinstance(keyword.value, ast.Constant)
                    and isinstance(keyword.value.value, str)):
                hints[first.value] = keyword.value.value
    return hints


def parameter_names(source: str) -> list[str]:
    """Names assigned at top level in a parameters cell."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    names: list[str] = []
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else (
            [node.target] if isinstance(node, ast.AnnAssign) else []
        )
        names.extend(t.id for t in targets if isinstance(t, ast.Name))
    return names


def _stored_points(cell) -> dict[str, float]:
    from toipkit.checks import MIME_TYPE

    points = {}
    for output in cell.get("outputs", []):
        record = (output.get("data") or {}).get(MIME_TYPE)
        if isinstance(record, dict) and record.get("exercise"):
            try:
                points[str(record["exercise"])] = float(record.get("max_points", 1))
            except (TypeError, ValueError):
                continue
    return points


def find_solution(lab_id: str, solutions: str | Path) -> Path:
    from toipkit.course import lab_id_of, lab_notebooks

    folder = Path(solutions)
    if not folder.is_dir():
        raise GradingError(f"{folder}: solutions folder not found (use --solutions DIR)")
    matches = [p for p in lab_notebooks(folder) if lab_id_of(p) == lab_id]
    if not matches:
        known = ", ".join(sorted({lab_id_of(p) or "" for p in lab_notebooks(folder)})) or "none"
        raise GradingError(f"lab {lab_id!r}: no solutions/{lab_id}-*.ipynb in {folder} (labs found: {known})")
    if len(matches) > 1:
        raise GradingError(f"lab {lab_id!r}: several teacher sources: {', '.join(p.name for p in matches)}")
    return matches[0]


def load_lab(lab_id: str, solutions: str | Path) -> Lab:
    """Read the teacher source of ``lab_id`` from the ``solutions`` folder."""
    from toipkit.checks import load_rules
    from toipkit.course import student_version
    from toipkit.errors import CourseError

    path = find_solution(lab_id, solutions)
    try:
        teacher = nbformat.read(path, as_version=4)
    except Exception as exc:
        raise GradingError(f"{path}: unreadable notebook ({exc})") from None
    declared = str((teacher.metadata.get("toipkit") or {}).get("lab", ""))
    if declared and declared != lab_id:
        raise GradingError(f"{path}: metadata says lab {declared!r}, file name says {lab_id!r}")
    # Anchors come from the student version: that is what students receive. Check cells come
    # from the teacher source, so a check cell also tagged ``teacher`` (dropped from the
    # student version) is a hidden check: students never see it, grading still runs it.
    try:
        rules = load_rules(path.parent, lab_id)
    except CourseError as exc:
        raise GradingError(str(exc)) from None
    skeleton = student_version(teacher, path.name, path.parent)
    student_cells = {c.get("id"): c for c in skeleton.cells if c.get("id")}
    checks: list[CheckCell] = []
    points: dict[str, float] = {}
    hints: dict[str, str] = {}
    parameters_cell = next((copy.deepcopy(c) for c in skeleton.cells if is_parameters_cell(c)),
                           None)
    preceding: list[str | None] = []
    for index, cell in enumerate(teacher.cells):
        cell_id = cell.get("id")
        if not _is_check_cell(cell):
            if cell_id in student_cells or TEACHER_TAG not in cell.get("metadata", {}).get(
                    "tags", []):
                preceding.append(cell_id)
            continue
        source = student_cells[cell_id].source if cell_id in student_cells else cell.source
        hidden = cell_id not in student_cells
        calls = _calls_in(source)
        hints.update(_hints_in(source))
        stored = _stored_points(cell)
        exercises = [name for name, _ in calls] or list(stored)
        if not exercises:
            raise GradingError(
                f"{path.name}, cell {index}: check cell without a checks.check*(\"id\", ...) call"
            )
        for name, pts in calls:
            rule_points = getattr(rules.get(name), "points", None)
            if rule_points is not None:
                pts = float(rule_points)
            points.setdefault(name, pts if pts is not None else stored.get(name, 1.0))
        for name, pts in stored.items():
            points.setdefault(name, pts)
        checks.append(
            CheckCell(
                index=index,
                cell_id=cell_id,
                source=source,
                exercises=exercises,
                anchors=list(reversed(preceding)),
                anchor_position=len(preceding),
                hidden=hidden,
            )
        )
    if not checks:
        raise GradingError(f"{path.name}: no cell tagged 'check', nothing to grade")
    return Lab(
        lab_id=lab_id,
        path=path,
        notebook=skeleton,
        checks=checks,
        points=points,
        hints=hints,
        parameters_cell=parameters_cell,
        parameter_names=parameter_names(parameters_cell.source) if parameters_cell else [],
        rules=rules,
        teacher=teacher,
    )
