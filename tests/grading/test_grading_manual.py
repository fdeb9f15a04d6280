"""Free-text answers: collected into manual.csv, graded by hand, merged into grades.csv."""

from __future__ import annotations

import csv

import nbformat
import pytest

from toipkit.errors import GradingError
from toipkit.grading import grade
from toipkit.grading.manual import read_sheet
from toipkit.paths import repo_root

LAB = repo_root() / "labs" / "00-prise-en-main.ipynb"
SOLUTIONS = repo_root() / "solutions"
ANSWER = "Deux flux : un par sens, chacun avec son SSRC."


def _rows(path):
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_answers_are_collected_then_marks_merged(tmp_path):
    if not LAB.exists():
        pytest.skip("labs/00 not built")
    subs = tmp_path / "subs"
    subs.mkdir()
    nb = nbformat.read(LAB, as_version=4)
    question = next(c for c in nb.cells if "_Votre réponse ici_" in c.source)
    question.source = question.source.replace("_Votre réponse ici_", ANSWER)
    nbformat.write(nb, subs / "alice.ipynb")
    nbformat.write(nbformat.read(LAB, as_version=4), subs / "bob.ipynb")
    out = tmp_path / "out"

    grade([subs], "00", solutions=SOLUTIONS, out=out, workers=2, progress=False)
    sheet = out / "manual.csv"
    rows = {r["student"]: r for r in _rows(sheet)}
    assert rows["alice"]["question"] == "00-question-1" and rows["alice"]["answer"] == ANSWER
    assert rows["bob"]["answer"] == "" and rows["alice"]["points"] == ""
    assert rows["alice"]["title"].startswith("Question de réflexion")
    grades = {r["student"]: r for r in _rows(out / "grades.csv")}
    assert grades["points-possible"]["00-question-1"] == "1"
    assert grades["alice"]["00-question-1"] == "0"

    # The instructor fills the sheet and runs the same command again.
    filled = _rows(sheet)
    for row in filled:
        if row["student"] == "alice":
            row["points"], row["comment"] = "1", "Bien vu : un flux par sens."
    with sheet.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(filled[0]))
        writer.writeheader()
        writer.writerows(filled)
    report = grade([subs], "00", solutions=SOLUTIONS, out=out, workers=2, progress=False)
    grades = {r["student"]: r for r in _rows(out / "grades.csv")}
    assert grades["alice"]["00-question-1"] == "1" and grades["bob"]["00-question-1"] == "0"
    assert report.result("alice").total == report.result("bob").total + 1
    assert "Bien vu : un flux par sens." in (out / "feedback" / "alice.md").read_text(encoding="utf-8")
    kept = {r["student"]: r for r in _rows(sheet)}
    assert kept["alice"]["points"] == "1" and kept["alice"]["comment"] == "Bien vu : un flux par sens."


def test_a_bad_mark_names_its_row(tmp_path):
    sheet = tmp_path / "manual.csv"
    sheet.write_text("student,question,points_max,points,comment,title,answer\n"
                     "alice,00-question-1,1,1,,,\nbob,00-question-1,1,beaucoup,,,\n",
                     encoding="utf-8")
    with pytest.raises(GradingError, match=r"row 3: points 'beaucoup'"):
        read_sheet(sheet)
    sheet.write_text("student,question,points_max,points\nalice,00-question-1,1,3\n",
                     encoding="utf-8")
    with pytest.raises(GradingError, match=r"row 2: points 3 outside 0..1"):
        read_sheet(sheet)
