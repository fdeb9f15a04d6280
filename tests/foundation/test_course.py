"""Course pipeline: student versions, convention checks (one failing fixture per rule)."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from toipkit.course import build, check, student_version
from toipkit.errors import CourseError
from toipkit.paths import repo_root


def make_solution(lab="07", secret_output=None, tags=("parameters",), kernel="python3"):
    cells = [
        new_code_cell('student = ""\ninteractive = True', metadata={"tags": list(tags)}),
        new_code_cell("from toipkit import checks\nchecks.start(lab='07', student=student)"),
        new_code_cell(
            "def helper():\n    ### BEGIN SOLUTION\n    return 42\n    ### END SOLUTION\nx = 1",
            metadata={"tags": ["exercise"]},
        ),
        new_markdown_cell("Pourquoi ?\n### BEGIN SOLUTION\nParce que.\n### END SOLUTION"),
        new_code_cell("checks.verify('07-x', lambda: helper())", metadata={"tags": ["check"]}),
        new_code_cell("print('note pour le prof')", metadata={"tags": ["teacher"]}),
    ]
    cells[2].outputs = [new_output("stream", name="stdout", text="42\n")]
    cells[2].execution_count = 3
    if secret_output:
        cells[4].outputs = [new_output("stream", name="stdout", text=secret_output)]
    return new_notebook(cells=cells, metadata={
        "kernelspec": {"name": kernel, "display_name": "Python 3", "language": "python"},
        "toipkit": {"lab": lab},
        "papermill": {"parameters": {"student": "x"}},
    })


RULES_07 = """from toipkit.checks import Equal, Judge

RULES = {"07-x": Equal(42), "07-plan": Judge(lambda text: "Dial(" in text, text_answer=True)}
"""


@pytest.fixture
def course(tmp_path: Path) -> Path:
    (tmp_path / "solutions" / "checks").mkdir(parents=True)
    (tmp_path / "solutions" / "checks" / "lab07.py").write_text(RULES_07)
    (tmp_path / "labs").mkdir()
    nbformat.write(make_solution(), tmp_path / "solutions" / "07-essai.ipynb")
    build(tmp_path)
    return tmp_path


def rules(problems):
    return {p.rule for p in problems}


def test_student_version_replaces_solutions_and_keeps_structure():
    teacher = make_solution()
    student = student_version(teacher)
    code = student.cells[2].source
    assert "return 42" not in code
    assert "    # À COMPLÉTER\n    raise NotImplementedError()" in code  # marker indentation kept
    assert code.endswith("x = 1")
    assert student.cells[3].source == "Pourquoi ?\n_Votre réponse ici_"
    assert all(c.get("outputs", []) == [] for c in student.cells if c.cell_type == "code")
    assert all(c.get("execution_count") is None for c in student.cells if c.cell_type == "code")
    assert student.cells[0].metadata["tags"] == ["parameters"]
    assert student.cells[4].metadata["tags"] == ["check"]
    assert [c.source for c in student.cells].count("print('note pour le prof')") == 0
    assert student.metadata["toipkit"] == {"lab": "07"}
    assert student.metadata["kernelspec"]["name"] == "python3"
    assert "papermill" not in student.metadata
    assert teacher.cells[2].outputs, "the teacher notebook must not be modified"


def test_unclosed_marker_is_reported_with_cell_and_line():
    nb = make_solution()
    nb.cells[2].source = "### BEGIN SOLUTION\nx = 1"
    with pytest.raises(CourseError, match=r"cell 2: line 1: .* never closed"):
        student_version(nb, "07-essai.ipynb")


def test_clean_course_passes_and_build_is_idempotent(course):
    assert check(course) == []
    assert build(course) == []


def test_stale_lab_is_detected(course):
    lab = course / "labs" / "07-essai.ipynb"
    nb = nbformat.read(lab, as_version=4)
    nb.cells[2].source = "x = 'corrigé à la main'"
    nbformat.write(nb, lab)
    assert rules(check(course)) == {"sync"}
    build(course)
    assert check(course) == []


def test_missing_and_orphan_labs_are_detected(course):
    (course / "labs" / "07-essai.ipynb").unlink()
    shutil.copy(course / "solutions" / "07-essai.ipynb", course / "labs" / "08-orphelin.ipynb")
    messages = [str(p) for p in check(course)]
    assert any("07-essai.ipynb" in m and "missing" in m for m in messages)
    assert any("08-orphelin.ipynb" in m and "no matching notebook" in m for m in messages)


@pytest.mark.parametrize(
    "notebook, rule",
    [
        (make_solution(tags=()), "parameters"),
        (make_solution(kernel="ir"), "kernelspec"),
        (make_solution(lab="99"), "lab-id"),
        (make_solution(secret_output="password = hunter2bis\n"), "secret"),
        (make_solution(secret_output='{"token": "2b5c1a9e-77aa-4c1e-9d1c-3f5e8b1c2d3e"}'), "secret"),
        (make_solution(secret_output="X-Auth-Token: 2b5c1a9e77aa4c1e9d1c\n"), "secret"),
    ],
    ids=["no-parameters-tag", "kernel", "lab-id", "password", "json-token", "auth-header"],
)
def test_each_rule_fails_on_its_fixture(tmp_path, notebook, rule):
    (tmp_path / "solutions").mkdir()
    nbformat.write(notebook, tmp_path / "solutions" / "07-essai.ipynb")
    build(tmp_path)
    assert rule in rules(check(tmp_path))


def test_masked_passwords_and_words_like_passed_are_not_secrets(tmp_path):
    nb = make_solution(secret_output="password = ********\npassed = True\ntoken: None\n")
    (tmp_path / "solutions").mkdir()
    nbformat.write(nb, tmp_path / "solutions" / "07-essai.ipynb")
    build(tmp_path)
    assert check(tmp_path) == []


def test_secret_as_parameter_is_refused(tmp_path):
    nb = make_solution()
    nb.cells[0].source += '\nxivo_password = ""'
    (tmp_path / "solutions").mkdir()
    nbformat.write(nb, tmp_path / "solutions" / "07-essai.ipynb")
    build(tmp_path)
    assert "parameters" in rules(check(tmp_path))


def test_markers_left_in_a_student_notebook_are_reported(course):
    nb = nbformat.read(course / "solutions" / "07-essai.ipynb", as_version=4)
    nbformat.write(nb, course / "labs" / "07-essai.ipynb")  # teacher copy published by mistake
    assert {"markers", "sync"} <= rules(check(course))


def test_repository_course_is_consistent():
    problems = check(repo_root())
    assert problems == [], "\n".join(map(str, problems))


def test_build_can_target_one_lab(course):
    nbformat.write(make_solution(lab="08"), course / "solutions" / "08-autre.ipynb")
    changed = build(course, only=["08"])
    assert [p.name for p in changed] == ["08-autre.ipynb"]
    with pytest.raises(CourseError, match="99"):
        build(course, only=["99"])


def test_student_check_cells_are_sealed_without_the_expected_value(course):
    lab = nbformat.read(course / "labs" / "07-essai.ipynb", as_version=4)
    source = lab.cells[4].source
    assert "sealed='v1|eq|nombre|" in source and "42" not in source
    compile(source, "cell", "exec")  # still valid Python


@pytest.mark.parametrize("where, source", [
    ("check", "checks.check('07-x', helper(), 42)"),  # older API: expected value in the cell
    ("check", "checks.verify('07-x', lambda: helper() == 42)"),  # literal in a check cell
    ("code", "reponses = {'07-x': (42, 'indice')}\nassert (42,) == tuple([42])"),
], ids=["old-style-check", "literal-in-check", "composite-literal"])
def test_a_student_lab_holding_an_expected_value_fails(course, where, source):
    rules_file = course / "solutions" / "checks" / "lab07.py"
    if where == "code":
        rules_file.write_text(RULES_07.replace("Equal(42)", "Equal((42,))"))
    lab_path = course / "labs" / "07-essai.ipynb"
    lab = nbformat.read(lab_path, as_version=4)
    index = 4 if where == "check" else 2
    lab.cells[index].source = source
    nbformat.write(lab, lab_path)
    leaks = [p for p in check(course) if p.rule == "answer-leak"]
    assert leaks and leaks[0].cell == index and "07-x" in leaks[0].message


def test_a_student_data_file_that_passes_an_exercise_fails(course):
    (course / "data" / "dialplans").mkdir(parents=True)
    (course / "data" / "dialplans" / "sujet.conf").write_text("[c]\nexten => 1,1,Answer()\n")
    assert check(course) == []
    (course / "data" / "dialplans" / "corrige.conf").write_text("[c]\nexten => 1,1,Dial(PJSIP/1)\n")
    leaks = [p for p in check(course) if p.rule == "answer-leak"]
    assert [Path(p.path).name for p in leaks] == ["corrige.conf"] and "07-plan" in leaks[0].message


def test_test_markers_are_hidden_from_students():
    teacher = make_solution()
    teacher.cells[2].source = "# NBVAL_IGNORE_OUTPUT\n" + teacher.cells[2].source
    student = student_version(teacher)
    assert "NBVAL" not in student.cells[2].source and student.cells[2].source.endswith("x = 1")


def test_execute_stores_outputs_that_name_no_temporary_folder(tmp_path):
    """`toipkit course execute` runs with a temporary state folder; outputs show ~/.toipkit."""
    import subprocess
    import sys

    notebook = tmp_path / "07-essai.ipynb"
    nb = new_notebook(cells=[
        new_code_cell("import os\nprint(os.environ['TOIPKIT_HOME'] + '/captures/a.pcapng')"),
        new_code_cell("os.environ['TOIPKIT_HOME']"),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                "language": "python"}})
    nbformat.write(nb, notebook)
    done = subprocess.run([sys.executable, "-c", "from toipkit.cli import main; raise SystemExit(main())",
                           "course", "execute", str(notebook)],
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    stored = nbformat.read(notebook, as_version=4)
    assert stored.cells[0].outputs[0]["text"] == "~/.toipkit/captures/a.pcapng\n"
    assert stored.cells[1].outputs[0]["data"]["text/plain"] == "'~/.toipkit'"
    assert "toipkit-home-" not in notebook.read_text()
