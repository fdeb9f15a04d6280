"""toipkit.checks: verdicts, records, and reading them back from an executed notebook."""

from __future__ import annotations

import subprocess
import sys

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from toipkit import checks
from toipkit.paths import repo_root

KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


def run_notebook(tmp_path, *sources, student="alice", allow_errors=False):
    cells = [new_code_cell(f"student = {student!r}", metadata={"tags": ["parameters"]}),
             new_code_cell("from toipkit import checks\nchecks.start(lab='07', student=student)")]
    cells += [new_code_cell(s) for s in sources]
    nb = new_notebook(cells=cells, metadata={"kernelspec": KERNELSPEC, "toipkit": {"lab": "07"}})
    src, out = tmp_path / "in.ipynb", tmp_path / "out.ipynb"
    nbformat.write(nb, src)
    if allow_errors:
        import papermill

        try:
            papermill.execute_notebook(str(src), str(out), parameters={"student": student},
                                       progress_bar=False, allow_errors=True)
        except papermill.exceptions.PapermillExecutionError:
            pass  # the errors are part of the test
        return out
    subprocess.run([sys.executable, "-m", "papermill", str(src), str(out), "--no-progress-bar",
                    "-p", "student", student], check=True, capture_output=True)
    return out


def test_records_are_read_back_from_a_real_kernel(tmp_path):
    out = run_notebook(
        tmp_path,
        "checks.check('07-a', 2 + 2, 4, points=2)",
        "checks.check('07-b', 'PCMA', 'PCMU', message='regardez le SDP')",
        "checks.check_close('07-c', 19.98, 20, tol=0.05)",
        "checks.check_set('07-d', ['101', '102'], {'102', '101'})",
        "checks.check_true('07-e', lambda: 1 / 0)",
    )
    frame = checks.collect(out).set_index("exercise")
    assert list(frame.index) == ["07-a", "07-b", "07-c", "07-d", "07-e"]
    assert frame["passed"].tolist() == [True, False, True, True, False]
    assert frame["points"].tolist() == [2.0, 0.0, 1.0, 1.0, 0.0]
    assert frame["max_points"].tolist() == [2.0, 1.0, 1.0, 1.0, 1.0]
    assert set(frame["student"]) == {"alice"} and set(frame["lab"]) == {"07"}
    assert "ZeroDivisionError" in frame.loc["07-e", "error"]


def test_student_verdict_never_shows_the_expected_value(tmp_path):
    out = run_notebook(tmp_path, "checks.check('07-codec', 'PCMA', 'G722-secret')",
                       "checks.check_set('07-set', ['a'], ['hidden-member'])",
                       "checks.check('07-shown', 1, 'revealed-value', reveal=True)")
    nb = nbformat.read(out, as_version=4)
    visible = "".join(
        o.get("text", "") + str((o.get("data") or {}).get("text/plain", ""))
        for cell in nb.cells for o in cell.get("outputs", [])
    )
    assert "❌ 07-codec" in visible
    assert "G722-secret" not in visible and "hidden-member" not in visible
    assert "revealed-value" in visible
    records = checks.results_from_notebook(nb)
    assert "G722-secret" not in str(records)


def test_outside_jupyter_the_verdict_is_printed(capsys):
    checks.start("07", "bob")
    result = checks.check_close("07-x", "pas un nombre", 3.0)
    assert not result.passed and result.student == "bob"
    assert "❌ 07-x" in capsys.readouterr().out


def test_collect_takes_the_student_from_papermill_parameters(tmp_path):
    out = run_notebook(tmp_path, "checks.start(lab='07')\nchecks.check('07-a', 1, 1)",
                       student="carole")
    assert checks.collect(out)["student"].tolist() == ["carole"]


def test_lab00_papermill_records_the_student(tmp_path):
    out = tmp_path / "out.ipynb"
    subprocess.run(
        [sys.executable, "-m", "papermill", str(repo_root() / "solutions" / "00-prise-en-main.ipynb"),
         str(out), "-p", "student", "alice", "--cwd", str(repo_root() / "solutions"),
         "--no-progress-bar"],
        check=True, capture_output=True,
    )
    frame = checks.collect(out)
    assert len(frame) >= 2
    assert frame["passed"].all()
    assert set(frame["student"]) == {"alice"}


# ------------------------------------------------------------------------------------------------
# verify(): answers as plain data, sealed self-checks, French feedback


class AlwaysEqual:
    def __eq__(self, other):
        return True

    __hash__ = object.__hash__


class SneakyFloat(float):
    def __eq__(self, other):
        return True


class ReadsTheCaller:
    def __float__(self):
        import sys

        return float(sys._getframe(1).f_locals.get("expected", 0))


def test_only_plain_data_is_exported():
    import numpy as np
    import pandas as pd

    for hostile in (AlwaysEqual(), SneakyFloat(1.0), ReadsTheCaller(), [AlwaysEqual()],
                    {"a": ReadsTheCaller()}):
        data, problem = checks.export_answer(hostile)
        assert data is None and problem.startswith("type:")
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    assert checks.canonical(frame) == {"$frame": {"columns": ["a", "b"], "rows": [[1, "x"], [2, "y"]]}}
    assert checks.canonical({3, 1}) == {"$set": [1, 3]}
    assert checks.canonical((np.int64(7), np.float64(0.5))) == [7, 0.5]


def test_rules_judge_plain_data_with_one_french_sentence():
    rule = checks.Equal(486)
    assert rule.judge(486).passed and rule.judge(486.0).passed
    assert "Type attendu : nombre ; obtenu : texte (str)" in rule.judge("486").error
    assert checks.Equal("104").judge(104).error.startswith("Type attendu : texte")
    assert "Nombre d'éléments attendu : 2" in checks.Equal((1, 2)).judge([1]).error
    assert checks.SameSet({"a", "b"}).judge({"$set": ["a"]}).error == (
        "1 élément(s) manquant(s), 0 élément(s) en trop.")
    assert checks.Close(9.2, tol=0.05).judge(9.23).passed
    missing = checks.judge_record(rule, {"problem": "missing:debit", "value": None})
    assert not missing.passed and "La variable debit n'existe pas" in missing.error


@pytest.mark.parametrize("rule, right, wrong", [
    (checks.Equal(("202", "203")), ["202", "203"], ["202", "202"]),
    (checks.Close(64, tol=0.01), 64.004, 64.2),
    (checks.SameSet({7, 15, 16}), {"$set": [15, 16, 7]}, {"$set": [7]}),
])
def test_a_seal_checks_without_revealing(rule, right, wrong):
    sealed = rule.seal("07", "07-x")
    public = "|".join(sealed.split("|")[:4])  # version, mode, kind, step: the rest is a digest
    assert "202" not in public and "64" not in public and "15" not in public
    assert checks._open_seal(sealed, checks.canonical(right) if not isinstance(right, dict)
                             else right).passed
    assert not checks._open_seal(sealed, checks.canonical(wrong) if not isinstance(wrong, dict)
                                 else wrong).passed


def test_verify_in_a_real_kernel_reads_this_run_and_speaks_french(tmp_path):
    sealed = checks.Equal(50).seal("07", "07-p")
    out = run_notebook(
        tmp_path,
        f"checks.verify('07-p', lambda: paquets, sealed={sealed!r})",  # not defined yet
        "paquets = 50",
        f"checks.verify('07-p', lambda: paquets, sealed={sealed!r})",
        "paquets = '50'",
        f"checks.verify('07-p', lambda: paquets, sealed={sealed!r})",
        "paquets = 50\nraise ValueError('oups')",
        f"checks.verify('07-p', lambda: paquets, sealed={sealed!r})",
        f"checks._session['lab'] = ''\nchecks.verify('07-p', lambda: paquets, sealed={sealed!r})",
        allow_errors=True,
    )
    nb = nbformat.read(out, as_version=4)
    verdicts = [o["data"]["text/plain"] for c in nb.cells for o in c.get("outputs", [])
                if checks.MIME_TYPE in (o.get("data") or {})]
    assert len(verdicts) == 5
    assert "La variable paquets n'existe pas" in verdicts[0]
    assert verdicts[1].startswith("✅ 07-p")
    assert "Type attendu : nombre ; obtenu : texte (str)" in verdicts[2]
    assert "s'est arrêtée sur une erreur (ValueError)" in verdicts[3]
    assert "Le noyau a redémarré" in verdicts[4]
    answers = [o["data"][checks.ANSWER_MIME_TYPE] for c in nb.cells for o in c.get("outputs", [])
               if checks.ANSWER_MIME_TYPE in (o.get("data") or {})]
    assert [a["value"] for a in answers] == [None, 50, "50", None, None]
    assert all("Traceback" not in v for v in verdicts)


def test_summary_lists_what_is_left_including_unchecked_exercises(capsys):
    checks.start("07", "alice")
    checks.verify("07-a", lambda: 2, sealed=checks.Equal(2).seal("07", "07-a"))
    checks.verify("07-b", lambda: 3, sealed=checks.Equal(4).seal("07", "07-b"))
    text = str(checks.summary({"07-a": 1, "07-b": 1, "07-c": 2}))
    assert "✅ 07-a : 1/1" in text and "❌ 07-b : 0/1" in text and "⏳ non vérifié 07-c : 0/2" in text
    assert "Total (auto-vérification) : 1/4" in text and "Reste à faire : 07-b, 07-c" in text
    assert "<table" in checks.summary()._repr_html_()
    checks._session["lab"] = ""
    assert "Le noyau a redémarré" in str(checks.summary())
