"""Free-text answers graded by hand: a sheet the instructor fills, merged into ``grades.csv``.

A **question** is a markdown cell of the teacher notebook holding solution markers (the student
copy shows ``_Votre réponse ici_`` there). Questions are numbered in notebook order:
``NN-question-1``, ``NN-question-2``…; each is worth 1 point unless ``grading.yaml`` gives
``points: {NN-question-1: 2}``.

``toipkit grade`` writes ``manual.csv`` in the output folder: one row per student and question
with the student's answer, ``points_max``, and empty ``points`` / ``comment`` columns for the
instructor. Running the same ``toipkit grade`` again (same ``--out``) reads the filled sheet: the
points go into ``grades.csv`` and the feedback, the comments into the feedback; filled cells are
never overwritten (new students or questions get new rows).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import nbformat

from toipkit.conventions import MARKDOWN_PLACEHOLDER as PLACEHOLDER
from toipkit.errors import GradingError

SHEET_NAME = "manual.csv"
COLUMNS = ["student", "question", "points_max", "points", "comment", "title", "answer"]


@dataclass
class Question:
    question_id: str
    cell_id: str | None
    title: str
    prompt: str  # the cell as the student received it


def questions_of(teacher: nbformat.NotebookNode, lab_id: str) -> list[Question]:
    """The free-text questions of a teacher notebook, in order."""
    from toipkit.conventions import SOLUTION_BEGIN as BEGIN
    from toipkit.course.build import _replace_solutions

    found: list[Question] = []
    for cell in teacher.cells:
        if cell.get("cell_type") != "markdown" or BEGIN not in cell.get("source", ""):
            continue
        prompt = _replace_solutions(cell.source, "markdown", "question")
        title = next((line.lstrip("# ").strip() for line in prompt.splitlines()
                      if line.strip() and line.strip() != PLACEHOLDER), "")
        found.append(Question(f"{lab_id}-question-{len(found) + 1}", cell.get("id"),
                              title[:120], prompt))
    return found


def answer_of(submitted: nbformat.NotebookNode | None, question: Question) -> str:
    """What the student wrote: their cell with the question's own lines taken out."""
    if submitted is None or not question.cell_id:
        return ""
    cell = next((c for c in submitted.get("cells", []) if c.get("id") == question.cell_id), None)
    if cell is None:
        return ""
    given = {line.strip() for line in question.prompt.splitlines()}
    kept = [line for line in str(cell.get("source", "")).splitlines()
            if line.strip() not in given and line.strip() != PLACEHOLDER]
    return "\n".join(kept).strip()


@dataclass
class Mark:
    points: float | None
    comment: str = ""


def read_sheet(path: Path) -> dict[tuple[str, str], Mark]:
    """(student, question) -> the instructor's mark; a bad number names its row."""
    if not path.exists():
        return {}
    marks: dict[tuple[str, str], Mark] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {"student", "question", "points"} - set(reader.fieldnames or [])
        if missing:
            raise GradingError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
        for row_number, row in enumerate(reader, start=2):
            raw = (row.get("points") or "").strip().replace(",", ".")
            points = None
            if raw:
                try:
                    points = float(raw)
                except ValueError:
                    raise GradingError(f"{path}, row {row_number}: points {raw!r} is not a "
                                       "number") from None
                maximum = float((row.get("points_max") or "0").replace(",", ".") or 0)
                if points < 0 or (maximum and points > maximum):
                    raise GradingError(f"{path}, row {row_number}: points {raw} outside "
                                       f"0..{row.get('points_max')}")
            marks[(row["student"], row["question"])] = Mark(points, (row.get("comment") or "").strip())
    return marks


def sheet_text(rows: list[dict[str, str]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()
