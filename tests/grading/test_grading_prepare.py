"""The notebook the grader executes: lab id, official check cells, parameters (no kernel)."""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat
import pytest

from toipkit.course import student_version
from toipkit.errors import GradingError
from toipkit.grading import GradingConfig, find_submissions, load_lab, prepare
from toipkit.grading.labspec import GRADING_KEY
from toipkit.grading.report import (
    ExerciseResult,
    SubmissionResult,
    grades_csv,
    safe_detail,
    score_notebook,
)

FIXTURE_SOLUTIONS = Path(__file__).resolve().parent / "fixtures" / "solutions"


@pytest.fixture(scope="module")
def lab():
    return load_lab("90", FIXTURE_SOLUTIONS)


@pytest.fixture()
def student(lab):
    return student_version(nbformat.read(lab.path, as_version=4))


def official_sources(nb):
    return [c.source for c in nb.cells if (c.metadata.get(GRADING_KEY) or {}).get("official")]


def test_lab_lists_exercises_points_and_anchors(lab):
    assert lab.points == {"90-total": 2.0, "90-mots": 1.0, "90-mots-cache": 1.0, "90-secret": 1.0}
    assert [c.exercises for c in lab.checks] == [["90-total"], ["90-mots"], ["90-mots-cache"],
                                                 ["90-secret"]]
    assert [c.hidden for c in lab.checks] == [False, False, True, False]
    assert lab.hints["90-total"] == "Multipliez 6 par 7."
    assert lab.parameter_names == ["student", "interactive", "secret_word"]
    assert all(c.anchors[0] for c in lab.checks)


def test_unknown_lab_is_a_clear_error(tmp_path):
    with pytest.raises(GradingError, match="no solutions/77"):
        load_lab("77", FIXTURE_SOLUTIONS)
    with pytest.raises(GradingError, match="solutions folder not found"):
        load_lab("90", tmp_path / "nowhere")


def test_untouched_submission_gets_the_official_cells_back_in_place(lab, student):
    prepared = prepare(student, lab)
    assert prepared.status == "ok"
    sources = [c.source for c in prepared.notebook.cells]
    hidden = next(c for c in lab.checks if c.hidden)
    assert hidden.source not in [c.source for c in student.cells]
    # the student's cells in order, with the hidden check right after the visible one
    visible_check = sources.index(lab.checks[1].source)
    assert sources[visible_check + 1] == hidden.source
    assert sources[:visible_check + 1] + sources[visible_check + 2:] == [
        c.source for c in student.cells]
    assert official_sources(prepared.notebook) == [c.source for c in lab.checks]


def test_deleted_and_edited_checks_are_replaced(lab, student):
    nb = copy.deepcopy(student)
    checks = [c for c in nb.cells if "check" in c.metadata.get("tags", [])]
    nb.cells.remove(checks[0])  # deleted
    checks[1].source = 'checks.check_true("90-mots", True)'  # edited, still tagged
    checks[2].source = 'checks.check_true("90-secret", True)'
    checks[2].metadata["tags"] = []  # edited and untagged: matched by id
    prepared = prepare(nb, lab).notebook
    assert official_sources(prepared) == [c.source for c in lab.checks]
    assert "check_true" not in "".join(c.source for c in prepared.cells)
    # each official check right after its exercise cell (or after the checks of that cell)
    for check in lab.checks:
        index = next(i for i, c in enumerate(prepared.cells) if c.source == check.source)
        while (prepared.cells[index - 1].metadata.get(GRADING_KEY) or {}).get("official"):
            index -= 1
        assert prepared.cells[index - 1].get("id") == check.anchors[0]


def test_position_is_used_when_ids_are_gone(lab, student):
    nb = copy.deepcopy(student)
    nb.cells = [c for c in nb.cells if "check" not in c.metadata.get("tags", [])]
    for cell in nb.cells:
        cell.pop("id", None)
    nb.nbformat_minor = 4
    prepared = prepare(nb, lab).notebook
    want = [c.source for c in student.cells]
    hidden = next(k.source for k in lab.checks if k.hidden)
    full = [c.source for c in prepared.cells]
    assert full.index(hidden) == full.index(lab.checks[1].source) + 1
    assert [c for c in full if c != hidden] == want


def test_student_parameters_cell_cannot_override_injection(lab, student):
    nb = copy.deepcopy(student)
    params = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    params.source = 'student = "x"\ninteractive = True\nsecret_word = "mine"'
    prepared = prepare(nb, lab).notebook
    official = [c for c in prepared.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(official) == 1 and official[0].source == lab.parameters_cell.source


def test_forged_grader_marker_is_removed(lab, student):
    nb = copy.deepcopy(student)
    nb.cells[0].metadata[GRADING_KEY] = {"official": True, "exercises": ["90-total"]}
    prepared = prepare(nb, lab).notebook
    assert GRADING_KEY not in prepared.cells[0].metadata


@pytest.mark.parametrize("metadata, name, status", [
    ({"toipkit": {"lab": "90"}}, "x.ipynb", "ok"),
    ({"toipkit": {"lab": "03"}}, "x.ipynb", "wrong-lab"),
    ({}, "90-essai.ipynb", "ok"),
    ({}, "03-wireshark.ipynb", "wrong-lab"),
])
def test_lab_id_is_verified(lab, student, metadata, name, status):
    nb = copy.deepcopy(student)
    nb.metadata = metadata
    assert prepare(nb, lab, name).status == status


def test_without_any_lab_id_cell_ids_decide(lab, student):
    nb = copy.deepcopy(student)
    nb.metadata = {}
    assert prepare(nb, lab, "copie.ipynb").status == "ok"
    other = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    assert prepare(other, lab, "copie.ipynb").status == "wrong-lab"


def test_records_count_only_from_official_cells_and_their_exercises(lab):
    from toipkit.checks import MIME_TYPE

    def record(name, passed=True):
        return nbformat.v4.new_output("display_data", data={
            MIME_TYPE: {"exercise": name, "passed": passed, "points": 1, "max_points": 1,
                        "message": "indice", "error": "Valeur attendue : 42."},
            "text/plain": "x"})

    forged = nbformat.v4.new_code_cell("")
    forged.outputs = [record("90-total"), record("90-mots")]
    official = nbformat.v4.new_code_cell("")
    official.metadata[GRADING_KEY] = {"official": True, "exercises": ["90-mots"]}
    official.outputs = [record("90-total"), record("90-mots", False), record("90-mots", True)]
    nb = nbformat.v4.new_notebook(cells=[forged, official])
    results, _ = score_notebook(nb, lab.points)
    by_name = {r.exercise: r for r in results}
    assert by_name["90-total"].passed is None and by_name["90-total"].points == 0
    assert by_name["90-mots"].passed is False  # first record of that exercise wins
    assert by_name["90-mots"].hint == "indice" and "42" not in by_name["90-mots"].detail


@pytest.mark.parametrize("error, kept", [
    ("Valeur attendue : 42.", ""),
    ("Type attendu : int, type obtenu : str. Valeur attendue : 42.",
     "Type attendu : int, type obtenu : str."),
    ("1 élément(s) manquant(s), 0 élément(s) en trop. Attendu : ['a', 'b'].",
     "1 élément(s) manquant(s), 0 élément(s) en trop."),
    ("Erreur pendant la vérification : AssertionError: attendu 42",
     "Erreur pendant la vérification (AssertionError)."),
    ("Comparaison impossible : 42 != 'x'", "Comparaison impossible avec la valeur attendue."),
    ("Valeur attendue : 64 (tolérance 0.01).", ""),
])
def test_safe_detail_drops_expected_values(error, kept):
    assert safe_detail(error) == kept


def test_grades_csv_points_row_first_and_sorted_students():
    points = {"a": 2.0, "b": 1.0}
    rows = [
        SubmissionResult("zoe", "z", "ok", exercises=[ExerciseResult("a", 2, 2, True),
                                                      ExerciseResult("b", 1, 0, False)]),
        SubmissionResult("amir", "a", "timeout", "slow", exercises=[ExerciseResult("a", 2),
                                                                    ExerciseResult("b", 1)]),
    ]
    text = grades_csv(rows, points)
    assert text.splitlines() == [
        "student,a,b,total,percent,status,note",
        "points-possible,2,1,3,100,,",
        "amir,0,0,0,0,timeout,slow",
        "zoe,2,0,2,66.67,ok,",
    ]


def test_find_submissions_layouts(tmp_path):
    nb = nbformat.v4.new_notebook()
    flat = tmp_path / "flat"
    flat.mkdir()
    for name in ("bob", "alice"):
        nbformat.write(nb, flat / f"{name}.ipynb")
    folders = tmp_path / "folders"
    for name in ("carl", "dina"):
        (folders / name).mkdir(parents=True)
        nbformat.write(nb, folders / name / "90-essai.ipynb")
        nbformat.write(nb, folders / name / "brouillon.ipynb")
        (folders / name / "notes.txt").write_text("x")
    subs = find_submissions([flat, folders], "90")
    assert [s.student for s in subs] == ["alice", "bob", "carl", "dina"]
    assert subs[2].notebook.name == "90-essai.ipynb" and subs[2].folder == folders / "carl"
    single = find_submissions([folders / "dina"], "90")
    assert [s.student for s in single] == ["dina"]
    exported = tmp_path / "exported"  # an LMS export: lab name + student in the file name
    exported.mkdir()
    for name in ("alice", "bob"):
        nbformat.write(nb, exported / f"90-essai-{name}.ipynb")
    assert [s.student for s in find_submissions([exported], "90", "90-essai")] == ["alice", "bob"]
    with pytest.raises(GradingError, match="twice"):
        find_submissions([flat, flat / "bob.ipynb"], "90")
    with pytest.raises(GradingError, match="no such"):
        find_submissions([tmp_path / "missing"], "90")


def test_grading_yaml(tmp_path):
    hidden = tmp_path / "hidden.pcapng"
    hidden.write_bytes(b"x")
    path = tmp_path / "grading.yaml"
    path.write_text("lab: '03'\nparameters:\n  xivo_url: null\nfiles:\n  capture: hidden.pcapng\n"
                    "points:\n  03-codec: 2\ntimeout_cell: 30\nmemory_mb: 512\n", encoding="utf-8")
    config = GradingConfig.load(path)
    assert config.lab == "03" and config.files == {"capture": hidden.resolve()}
    assert config.points == {"03-codec": 2.0} and config.timeout_cell == 30
    for text, message in [
        ("bogus: 1\n", "unknown key"),
        ("parameters:\n  student: x\n", "set by the grader"),
        ("files:\n  capture: nope.pcap\n", "does not exist"),
        ("points:\n  a: many\n", "not a number"),
        ("parameters: [1\n", "grading.yaml:"),
    ]:
        path.write_text(text, encoding="utf-8")
        with pytest.raises(GradingError, match=message):
            GradingConfig.load(path)


@pytest.mark.parametrize("code, flagged", [
    ("checks.check = lambda *a, **k: None", True),
    ("setattr(checks, 'check', print)", True),
    ("checks._record('90-total', True, 2, '')", True),
    ("import sys\nsys.modules['toipkit.checks'] = None", True),
    ("display({'application/vnd.toipkit.check+json': {}}, raw=True)", True),
    ("checks.check_true('x', True)", False),
    ("total = 6 * 7\nif checks.check == 1: pass", False),
])
def test_tampering_is_flagged(lab, student, code, flagged):
    nb = copy.deepcopy(student)
    nb.cells.append(nbformat.v4.new_code_cell(code))
    prepared = prepare(nb, lab)
    assert bool(prepared.suspicious) is flagged
