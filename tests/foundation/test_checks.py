"""toipkit.checks: verdicts, records, and reading them back from an executed notebook."""

from __future__ import annotations

import subprocess
import sys

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

from toipkit import checks
from toipkit.paths import repo_root

KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


def run_notebook(tmp_path, *sources, student="alice"):
    cells = [new_code_cell(f"student = {student!r}", metadata={"tags": ["parameters"]}),
             new_code_cell("from toipkit import checks\nchecks.start(lab='07', student=student)")]
    cells += [new_code_cell(s) for s in sources]
    nb = new_notebook(cells=cells, metadata={"kernelspec": KERNELSPEC, "toipkit": {"lab": "07"}})
    src, out = tmp_path / "in.ipynb", tmp_path / "out.ipynb"
    nbformat.write(nb, src)
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
