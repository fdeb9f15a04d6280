"""Student versions from teacher sources (nbgrader-style solution markers).

In a code cell, the lines from ``### BEGIN SOLUTION`` to ``### END SOLUTION`` become
``# À COMPLÉTER`` + ``raise NotImplementedError()`` at the marker's indentation. In a markdown
cell the same span becomes ``_Votre réponse ici_``. Cells tagged ``teacher`` are dropped.
Outputs, execution counts and execution metadata are cleared; tags, cell ids, kernelspec and the
``toipkit`` notebook metadata (lab id) are kept.

Test-tool markers (``# NBVAL_IGNORE_OUTPUT``...) are removed from the student copy. Check cells
calling ``checks.verify("id", ...)`` for an exercise whose official rule
(``solutions/checks/labNN.py``) can be sealed get a ``sealed="..."`` argument: a salted digest
that lets the student's self-check say right or wrong without the expected value.
"""

from __future__ import annotations

import ast
import copy
from pathlib import Path
from typing import TYPE_CHECKING, Any

from toipkit._fileio import atomic_write
from toipkit.conventions import (
    CHECK_TAG,
    CODE_PLACEHOLDER,
    KEPT_NOTEBOOK_METADATA,
    MARKDOWN_PLACEHOLDER,
    SOLUTION_BEGIN,
    SOLUTION_END,
    TEACHER_TAG,
    TEST_MARKERS,
    has_tag,
    tags_of,
)
from toipkit.course.layout import lab_id_of, lab_notebooks, labs_dir, solutions_dir
from toipkit.errors import CourseError

if TYPE_CHECKING:  # nbformat (and jsonschema) load on first use: `toipkit --help` stays fast
    import nbformat


def _replace_solutions(source: str, cell_type: str, where: str) -> str:
    lines = source.split("\n")
    out: list[str] = []
    inside = False
    begin_line = 0
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if stripped.startswith(SOLUTION_BEGIN):
            if inside:
                raise CourseError(f"{where}: line {number}: nested '{SOLUTION_BEGIN}'")
            inside, begin_line = True, number
            indent = line[: len(line) - len(line.lstrip())]
            if cell_type == "code":
                out.extend(indent + text for text in CODE_PLACEHOLDER)
            else:
                out.append(MARKDOWN_PLACEHOLDER)
        elif stripped.startswith(SOLUTION_END):
            if not inside:
                raise CourseError(f"{where}: line {number}: '{SOLUTION_END}' without '{SOLUTION_BEGIN}'")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise CourseError(f"{where}: line {begin_line}: '{SOLUTION_BEGIN}' is never closed by '{SOLUTION_END}'")
    return "\n".join(out)


def seal_checks(source: str, lab: str, rules: dict[str, Any]) -> str:
    """Add ``sealed=...`` to each ``verify("id", ...)`` call of a sealable official rule."""
    if not rules or "verify" not in source:
        return source
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source
    lines = source.split("\n")
    edits = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and node.args):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        first = node.args[0]
        if name != "verify" or not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
            continue
        if any(k.arg in ("sealed", "test") for k in node.keywords):
            continue
        rule = rules.get(first.value)
        sealed = rule.seal(lab, first.value) if rule is not None else None
        if sealed and node.end_lineno is not None and node.end_col_offset is not None:
            # ast offsets count UTF-8 bytes; the lines are str.
            end_line = lines[node.end_lineno - 1]
            end = len(end_line.encode()[: node.end_col_offset].decode()) - 1
            start = len(lines[node.lineno - 1].encode()[: node.col_offset].decode())
            edits.append((node.end_lineno - 1, end, sealed,
                          start + len(ast.get_source_segment(source, func) or "") + 1))
    for line_no, col, sealed, indent in sorted(edits, reverse=True):
        line = lines[line_no]
        head, tail = line[:col], line[col:]  # tail starts with the call's closing parenthesis
        comma = "" if head.rstrip().endswith((",", "(")) else ","
        lines[line_no] = f"{head.rstrip()}{comma}\n{' ' * indent}sealed={sealed!r}{tail}"
    return "\n".join(lines)


def _drop_test_markers(source: str) -> str:
    lines = source.split("\n")
    kept = [line for line in lines if line.strip() not in TEST_MARKERS]
    return "\n".join(kept) if len(kept) != len(lines) else source


def _summary_with_exercises(source: str, nb: nbformat.NotebookNode) -> str:
    """``checks.summary()`` -> ``checks.summary({id: points, ...})``: the lab's exercises, so the
    summary also lists those not checked yet (ids and points only, nothing to give away)."""
    from toipkit.grading.labspec import _calls_in

    exercises: dict[str, float] = {}
    for cell in nb.cells:
        if (cell.get("cell_type") == "code" and has_tag(cell, CHECK_TAG)
                and not has_tag(cell, TEACHER_TAG)):
            for name, points in _calls_in(cell.source):
                exercises.setdefault(name, 1.0 if points is None else points)
    if not exercises:
        return source
    listed = ",\n".join(f"    {name!r}: {points:g}" for name, points in exercises.items())
    head = source.rstrip()[: -len("checks.summary()")]
    return f"{head}checks.summary({{\n{listed},\n}})"


def _lab_rules(nb: nbformat.NotebookNode, solutions: Path | None) -> tuple[str, dict[str, Any]]:
    from toipkit.checks import load_rules

    lab = str((nb.metadata.get("toipkit") or {}).get("lab", ""))
    if not lab or solutions is None:
        return lab, {}
    return lab, load_rules(solutions, lab)


def student_version(nb: nbformat.NotebookNode, name: str = "<notebook>",
                    solutions: Path | None = None) -> nbformat.NotebookNode:
    """The student copy of a teacher notebook (the input is not modified).

    ``solutions``: the folder holding ``checks/labNN.py`` (official rules, for sealed self-checks).
    """
    lab, rules = _lab_rules(nb, solutions)
    student = copy.deepcopy(nb)
    cells = []
    for index, cell in enumerate(student.cells):
        tags = tags_of(cell)
        if TEACHER_TAG in tags:
            continue
        where = f"{name}, cell {index}"
        if cell.cell_type in ("code", "markdown"):
            cell.source = _replace_solutions(cell.source, cell.cell_type, where)
        if cell.cell_type == "code" and CHECK_TAG in tags:
            cell.source = seal_checks(cell.source, lab, rules)
        if cell.cell_type == "code":
            cell.source = _drop_test_markers(cell.source)
            if cell.source.strip().endswith("checks.summary()"):
                cell.source = _summary_with_exercises(cell.source, nb)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        for key in ("execution", "papermill", "collapsed", "scrolled"):
            cell.metadata.pop(key, None)
        cells.append(cell)
    student.cells = cells
    import nbformat

    student.metadata = nbformat.from_dict(
        {key: student.metadata[key] for key in KEPT_NOTEBOOK_METADATA if key in student.metadata}
    )
    return student


def render(nb: nbformat.NotebookNode) -> str:
    import nbformat

    return nbformat.writes(nb) + "\n"


def expected_labs(solutions: Path) -> dict[str, str]:
    """File name -> text of every student notebook that ``build`` would write."""
    import nbformat

    result = {}
    for source in lab_notebooks(solutions):
        try:
            nb = nbformat.read(source, as_version=4)
        except Exception as exc:
            raise CourseError(f"{source}: unreadable notebook ({exc})") from None
        result[source.name] = render(student_version(nb, source.name, solutions))
    return result


def build(
    root: str | Path | None = None, remove_stale: bool = True, only: list[str] | None = None,
) -> list[Path]:
    """Write ``labs/NN-*.ipynb`` from ``solutions/NN-*.ipynb``; returns the files changed.

    ``only``: lab ids or file names to build (others are left as they are, nothing removed).
    """
    base = Path(root) if root else None
    solutions, labs = solutions_dir(base), labs_dir(base)
    wanted = expected_labs(solutions)
    if only:
        def matches(item: str, name: str) -> bool:
            return Path(item).name == name or item == lab_id_of(name)

        unknown = [item for item in only if not any(matches(item, name) for name in wanted)]
        if unknown:
            raise CourseError(f"no solution notebook matches {unknown}")
        wanted = {name: text for name, text in wanted.items()
                  if any(matches(item, name) for item in only)}
        remove_stale = False
    changed = []
    for name, text in wanted.items():
        target = labs / name
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            atomic_write(target, text)
            changed.append(target)
    if remove_stale:
        for stale in lab_notebooks(labs):
            if stale.name not in wanted and lab_id_of(stale):
                stale.unlink()
                changed.append(stale)
    return changed
