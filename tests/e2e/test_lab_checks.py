"""Each migrated lab graded for real: the solution's answers typed into the student lab earn full
marks, the untouched student lab earns 0 with French feedback and no traceback in its check
outputs, and a wrong answer loses exactly its exercise with a French hint. No English reaches the
student in those French runs (check outputs, score summary, grader's feedback, the course's own
errors); lab 00 graded again with TOIPKIT_LANG=en gives the same feedback in English.

The student copies carry sealed self-checks only; grading judges the exported answers in the
grader's process with the official rules (``solutions/checks/labNN.py``).
"""

from __future__ import annotations

import builtins
import os
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
    "02": ('language="fr_FR"', 'language="en_US"', "02-langue-fuseau", "Valeur incorrecte."),
    "03": ("codec_retenu = media_200.rtpmap[media_200.formats[0]][0]",
           "codec_retenu = media_200.rtpmap[media_200.formats[-1]][0]", "03-sdp",
           "Valeur incorrecte."),
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
# Common English words that French student text never uses. What is quoted is left out first:
# « Asterisk's words », `code`, 'values', "values" and the server's message API errors keep.
ENGLISH_WORDS = {
    "the", "is", "are", "was", "not", "yet", "no", "and", "with", "without", "for", "of", "to",
    "has", "have", "does", "did", "cannot", "could", "should", "must", "please", "first", "run",
    "error", "expected", "got", "found", "missing", "wrong", "passed", "failed", "hint", "left",
    "nothing", "answer", "check", "value", "already", "exists", "defined", "refused", "server",
    "calls", "packets", "messages", "streams", "warnings", "traceback", "completed", "done",
}
QUOTED = re.compile(r"«[^»]*»|`[^`]*`|\(message du serveur : [^)]*\)|'[^'\n]*'|\"[^\"\n]*\"")
# Python's own exceptions: their messages are Python's; the course's own errors are judged.
PYTHON_ERRORS = {name for name in dir(builtins) if name.endswith(("Error", "Exception"))}


def english_words(text: str) -> list[str]:
    """The English words of ``text`` outside its quotations (none in French text)."""
    bare = QUOTED.sub(" ", text)
    return [w for w in re.findall(r"[A-Za-z]+", bare) if w.lower() in ENGLISH_WORDS]


def _auto(result):
    """Exercises judged by the official rules (free-text questions are graded by hand)."""
    return [e for e in result.exercises if "-question-" not in e.exercise]


def _path(folder, lab):
    return next(p for p in lab_notebooks(folder) if lab_id_of(p) == lab)


def _filled(lab: str, wrong: bool = False) -> nbformat.NotebookNode:
    """The student lab with each exercise cell replaced by the solution's (by cell id)."""
    student = nbformat.read(_path(LABS, lab), as_version=4)
    teacher = {c.get("id"): c.source for c in nbformat.read(_path(SOLUTIONS, lab), as_version=4).cells}
    changed = False
    for cell in student.cells:
        if cell.cell_type == "code" and "raise NotImplementedError()" in cell.source:
            cell.source = teacher[cell.get("id")]
            if wrong and WRONG[lab][0] in cell.source:
                cell.source = cell.source.replace(WRONG[lab][0], WRONG[lab][1])
                changed = True
    assert changed or not wrong, f"lab {lab}: {WRONG[lab][0]!r} is in no exercise cell"
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


def _student_texts(path) -> list[str]:
    """What the library told the student in a run: check verdicts, the score summary and the
    messages of the course's own errors (Python's built-in exceptions left out)."""
    nb = nbformat.read(path, as_version=4)
    texts = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                if output.get("ename") not in PYTHON_ERRORS:
                    texts.append(f"{output.get('ename')}: {output.get('evalue')}")
                continue
            data = output.get("data") or {}
            plain = data.get("text/plain", "")
            if MIME_TYPE in data or "auto-vérification" in plain or "self-check" in plain:
                texts.append(plain)
    return texts


def _english_in(texts) -> list[tuple[str, list[str]]]:
    return [(text, words) for text in texts if (words := english_words(text))]


def _grade(lab, subs, out):
    return grade([subs], lab, solutions=SOLUTIONS, out=out, workers=2, cell_timeout=120,
                 timeout=600, progress=False)


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
    return lab, _grade(lab, subs, base / "out"), base / "out"


def test_english_words_are_found_outside_quotations():
    assert english_words("Expected type: number; got: text (str).") == ["Expected", "got"]
    assert english_words("❌ 00-x : pas encore (0/1)\n   Type attendu : nombre ; obtenu : texte.") == []
    # Asterisk's and confd's own words, quoted, are not the course speaking English
    assert english_words("« No application 'Foo' for extension » et raccroche") == []
    assert english_words("POST /users refusé par le serveur : HTTP 400, données refusées "
                         "(message du serveur : Input Error - field is missing)") == []


def test_the_solution_earns_full_marks(graded):
    lab, report, out = graded
    result = report.result("complet")
    assert result.status == "ok"
    assert all(e.passed for e in _auto(result)), [(e.exercise, e.detail) for e in _auto(result)
                                                   if not e.passed]
    texts, tracebacks = _check_outputs(out / "notebooks" / "complet.ipynb")
    assert tracebacks == [] and texts and all(t.startswith("✅") for t in texts)
    assert _english_in(_student_texts(out / "notebooks" / "complet.ipynb")) == []


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
    shown = _student_texts(out / "notebooks" / "intact.ipynb")
    assert any("auto-vérification" in t for t in shown), "no score summary in the run"
    assert _english_in(shown + [e.detail for e in _auto(result)]) == []


def test_a_wrong_answer_gets_its_french_hint(graded):
    lab, report, out = graded
    _, _, exercise, detail = WRONG[lab]
    result = report.result("erreur")
    missed = [e for e in _auto(result) if not e.passed]
    assert [e.exercise for e in missed] == [exercise]
    assert missed[0].detail == detail and missed[0].hint
    texts, _ = _check_outputs(out / "notebooks" / "erreur.ipynb")
    assert any(t.startswith(f"❌ {exercise}") and detail in t for t in texts)
    assert _english_in(_student_texts(out / "notebooks" / "erreur.ipynb")
                       + [e.detail for e in _auto(result)]) == []


@pytest.fixture(scope="module")
def graded_in_english(tmp_path_factory):
    """Lab 00 (seconds to run) graded with TOIPKIT_LANG=en: kernels and grader speak English."""
    base = tmp_path_factory.mktemp("lab00-en")
    subs = base / "subs"
    subs.mkdir()
    nbformat.write(nbformat.read(_path(LABS, "00"), as_version=4), subs / "intact.ipynb")
    nbformat.write(_filled("00", wrong=True), subs / "erreur.ipynb")
    saved = os.environ.get("TOIPKIT_LANG")
    os.environ["TOIPKIT_LANG"] = "en"
    try:
        report = _grade("00", subs, base / "out")
    finally:
        if saved is None:
            os.environ.pop("TOIPKIT_LANG", None)
        else:
            os.environ["TOIPKIT_LANG"] = saved
    return report, base / "out"


def test_toipkit_lang_en_gives_the_same_feedback_in_english(graded_in_english):
    report, out = graded_in_english
    missed = [e for e in _auto(report.result("erreur")) if not e.passed]
    assert [(e.exercise, e.detail) for e in missed] == [
        ("00-paquets-rtp", "Expected type: number; got: text (str).")]
    texts, tracebacks = _check_outputs(out / "notebooks" / "erreur.ipynb")
    assert tracebacks == []
    assert any(t.startswith("❌ 00-paquets-rtp: not yet (0/1)")
               and "Expected type: number; got: text (str)." in t for t in texts), texts
    intact = _student_texts(out / "notebooks" / "intact.ipynb")
    assert any("Total (self-check)" in t for t in intact)
    # the heuristic that finds no English in the French runs does find it here
    assert _english_in(intact)
