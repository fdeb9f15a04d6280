"""Each migrated lab graded for real: the solution's answers typed into the student lab earn full
marks, the untouched student lab earns 0 with French feedback and no traceback in its check
outputs, and a wrong answer loses exactly its exercise with a French hint.

The student copies carry sealed self-checks only; grading judges the exported answers in the
grader's process with the official rules (``solutions/checks/labNN.py``).
"""

from __future__ import annotations

import re

import nbformat
import pytest

from toipkit.checks import MIME_TYPE
from toipkit.course import lab_id_of, lab_notebooks
from toipkit.grading import grade
from toipkit.paths import repo_root

LABS = repo_root() / "labs"
SOLUTIONS = repo_root() / "solutions"
# lab -> (text of the solution to change, wrong replacement, exercise it breaks, French detail)
WRONG = {
    "00": ("paquets_par_seconde = 1000 // 20", "paquets_par_seconde = '50'", "00-paquets-rtp",
           "Type attendu : nombre ; obtenu : texte (str)."),
    "01": ('"number_start": 100', '"number_start": 101', "01-assistant", "Valeur incorrecte."),
    "04": ('code_evelyn = codes.loc', 'code_evelyn = "*37" or codes.loc', "04-code-filtrage",
           "La réponse ne convient pas encore."),
    "05a": ('gagnant_6421 = "_64NX"', 'gagnant_6421 = "_6[45]NX"', "05a-ordre",
            "Valeur incorrecte."),
    "05b": ("commande = 'asterisk -rx \"dialplan reload\"'",
            "commande = 'asterisk -rx \"core reload\"'", "05b-reload", "Valeur incorrecte."),
}
# Checks of what the lab gives ready-made (the connection cell): they pass without any work.
GIVEN = {"01-connexion"}
# English that would come from Python rather than from the course (exception class names such as
# NotImplementedError are code, quoted as such).
ENGLISH = re.compile(r"Traceback|\bError\b|not defined|\bexpected\b|\bassert")


def _auto(result):
    """Exercises judged by the official rules (free-text questions are graded by hand)."""
    return [e for e in result.exercises if "-question-" not in e.exercise]


def _path(folder, lab):
    return next(p for p in lab_notebooks(folder) if lab_id_of(p) == lab)


def _filled(lab: str, wrong: bool = False) -> nbformat.NotebookNode:
    """The student lab with each exercise cell replaced by the solution's (by cell id)."""
    student = nbformat.read(_path(LABS, lab), as_version=4)
    teacher = {c.get("id"): c.source for c in nbformat.read(_path(SOLUTIONS, lab), as_version=4).cells}
    for cell in student.cells:
        if cell.cell_type == "code" and "raise NotImplementedError()" in cell.source:
            cell.source = teacher[cell.get("id")]
            if wrong and WRONG[lab][0] in cell.source:
                cell.source = cell.source.replace(WRONG[lab][0], WRONG[lab][1])
    return student


def _check_outputs(path):
    nb = nbformat.read(path, as_version=4)
    texts, tracebacks = [], []
    for cell in nb.cells:
        if "check" not in cell.get("metadata", {}).get("tags", []):
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                tracebacks.append(output.get("ename"))
            data = output.get("data") or {}
            if MIME_TYPE in data:
                texts.append(data["text/plain"])
    return texts, tracebacks


@pytest.fixture(scope="module", params=sorted(WRONG))
def graded(request, tmp_path_factory):
    lab = request.param
    if not (SOLUTIONS / "checks" / f"lab{lab}.py").exists():
        pytest.skip(f"lab {lab} has no official rules")
    base = tmp_path_factory.mktemp(f"lab{lab}")
    subs = base / "subs"
    subs.mkdir()
    nbformat.write(_filled(lab), subs / "complet.ipynb")
    nbformat.write(nbformat.read(_path(LABS, lab), as_version=4), subs / "intact.ipynb")
    nbformat.write(_filled(lab, wrong=True), subs / "erreur.ipynb")
    report = grade([subs], lab, solutions=SOLUTIONS, out=base / "out", workers=2,
                   cell_timeout=120, timeout=600, progress=False)
    return lab, report, base / "out"


def test_the_solution_earns_full_marks(graded):
    lab, report, out = graded
    result = report.result("complet")
    assert result.status == "ok"
    assert all(e.passed for e in _auto(result)), [(e.exercise, e.detail) for e in _auto(result)
                                                   if not e.passed]
    texts, tracebacks = _check_outputs(out / "notebooks" / "complet.ipynb")
    assert tracebacks == [] and texts and all(t.startswith("✅") for t in texts)


def test_the_untouched_lab_earns_nothing_in_french(graded):
    lab, report, out = graded
    result = report.result("intact")
    assert [e.exercise for e in _auto(result) if e.passed] == sorted(GIVEN & set(report.points))
    assert all(e.detail for e in _auto(result) if e.exercise not in GIVEN)
    texts, tracebacks = _check_outputs(out / "notebooks" / "intact.ipynb")
    assert tracebacks == [], "a check cell raised instead of answering in French"
    assert texts and all(t.startswith("❌") for t in texts if t.split()[1] not in GIVEN)
    for text in texts + [e.detail for e in _auto(result)]:
        assert not ENGLISH.search(text), text


def test_a_wrong_answer_gets_its_french_hint(graded):
    lab, report, out = graded
    _, _, exercise, detail = WRONG[lab]
    result = report.result("erreur")
    missed = [e for e in _auto(result) if not e.passed]
    assert [e.exercise for e in missed] == [exercise]
    assert missed[0].detail == detail and missed[0].hint
    texts, _ = _check_outputs(out / "notebooks" / "erreur.ipynb")
    assert any(t.startswith(f"❌ {exercise}") and detail in t for t in texts)
