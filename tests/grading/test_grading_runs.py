"""End-to-end grading of synthetic submissions built from real teacher notebooks.

The fixture lab (tests/grading/fixtures) and lab 00 get the whole matrix (perfect, partial,
untouched, syntax error, infinite loop, memory bomb, deleted / edited check cells, reads
solutions, stderr, wrong lab); other labs found in solutions/ get a smoke run.
"""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path

import nbformat
import pytest
from grading_synthetic import (
    BUILDERS,
    Expected,
    break_cell,
    exercises_of,
    perfect,
    reads_solutions,
    solution_cells,
    untouched,
    wrong_lab,
)

from toipkit.course import lab_id_of, lab_notebooks
from toipkit.grading import grade, load_lab
from toipkit.grading.isolation import sandbox_problem
from toipkit.paths import repo_root

HERE = Path(__file__).resolve().parent
FIXTURE_SOLUTIONS = HERE / "fixtures" / "solutions"
REPO_SOLUTIONS = repo_root() / "solutions"
FULL_MATRIX_LABS = {"90", "00"}
SECRET_ENV = "TOIPKIT_GRADING_TEST_TOKEN"
SECRET_ENV_VALUE = "tok-7f3a9c1e5b"
HIDDEN_WORD = "sesame-cache"
ISOLATED = not sandbox_problem()


def _labs():
    labs = [pytest.param(("90", FIXTURE_SOLUTIONS), id="fixture-90")]
    if (REPO_SOLUTIONS / "00-prise-en-main.ipynb").exists():
        labs.append(pytest.param(("00", REPO_SOLUTIONS), id="lab-00"))
    return labs


def _other_labs() -> list[str]:
    if not REPO_SOLUTIONS.is_dir():
        return []
    return [lab_id_of(p) for p in lab_notebooks(REPO_SOLUTIONS)
            if lab_id_of(p) not in FULL_MATRIX_LABS]


def _secrets(teacher, lab):
    """Perfect answers plus a cell printing what it can find: env secret, hidden input, cwd."""
    nb, expected = perfect(teacher, lab)
    code = (f"import os\nprint('token:', os.environ.get({SECRET_ENV!r}))\n"
            "print('cwd:', os.getcwd())\n"
            "print('word:', globals().get('secret_word'))")
    nb.cells.append(nbformat.v4.new_code_cell(code))
    return nb, expected


def _flood(teacher, lab):
    """A print loop in the second exercise: how it ends depends on who runs out first (the
    cell timeout, the kernel's memory); the first exercise keeps its points, the kept notebook
    stays small."""
    code = "import sys\nwhile True:\n    sys.stdout.write('x' * 100000 + chr(10))"
    nb, _ = break_cell(teacher, lab, solution_cells(teacher)[1], code)
    first = set(exercises_of(teacher, lab)[solution_cells(teacher)[0]])
    return nb, Expected(first, notes=["flood"])


@pytest.fixture(scope="module", params=_labs())
def graded(request, tmp_path_factory):
    lab_id, solutions = request.param
    lab = load_lab(lab_id, solutions)
    teacher = nbformat.read(lab.path, as_version=4)
    base = tmp_path_factory.mktemp(f"grade-{lab_id}")
    subs = base / "submissions"
    subs.mkdir()
    builders = dict(BUILDERS)
    builders["readsol"] = lambda t, lb: reads_solutions(t, lb, str(lab.path), ISOLATED)
    builders["secrets"] = _secrets
    if lab_id == "90":
        builders["flood"] = _flood
    expected: dict[str, Expected] = {}
    for name, build in builders.items():
        nb, expected[name] = build(teacher, lab)
        nbformat.write(nb, subs / f"{name}.ipynb")
    params = base / "grading.yaml"
    params.write_text(f"parameters:\n  secret_word: {HIDDEN_WORD}\n" if lab_id == "90" else "",
                      encoding="utf-8")
    old = os.environ.get(SECRET_ENV)
    os.environ[SECRET_ENV] = SECRET_ENV_VALUE
    try:
        report = grade([subs], lab_id, params=params, solutions=solutions, out=base / "out",
                       workers=2, cell_timeout=10, timeout=120, memory_mb=1024, progress=False)
    finally:
        if old is None:
            os.environ.pop(SECRET_ENV, None)
        else:
            os.environ[SECRET_ENV] = old
    return report, expected, lab, teacher


def test_every_submission_gets_its_score_and_status(graded):
    report, expected, lab, _ = graded
    assert {r.student for r in report.results} == set(expected)
    problems = []
    for result in report.results:
        want = expected[result.student]
        got = {e.exercise for e in result.exercises if e.passed}
        if "flood" in want.notes:
            size = (report.out / "notebooks" / f"{result.student}.ipynb").stat().st_size
            if not want.passing <= got or size > 20 * 2**20:
                problems.append(f"{result.student}: got {sorted(got)}, notebook {size} bytes")
            continue
        points = sum(lab.points[name] for name in want.passing)
        if result.student == "edited" and "tampering" not in result.note:
            problems.append("edited: forged records not flagged")
        if got != want.passing or result.status != want.status or result.total != points:
            problems.append(f"{result.student}: got {sorted(got)} {result.status} {result.total}, "
                            f"want {sorted(want.passing)} {want.status} {points} ({result.note})")
    assert not problems, "\n".join(problems)


def test_grades_csv_has_points_row_then_students(graded):
    report, expected, lab, _ = graded
    with open(report.out / "grades.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows[0]["student"] == "points-possible"
    # Checked exercises, then the free-text questions graded by hand (manual.csv).
    questions = [name for name in report.points if name not in lab.points]
    assert all("-question-" in name for name in questions)
    assert float(rows[0]["total"]) == lab.total_points() + len(questions)
    assert [r["student"] for r in rows[1:]] == sorted(expected)
    for row in rows[1:]:
        assert float(row["total"]) == sum(float(row[name]) for name in report.points)
        assert row["status"] in {"ok", "timeout", "memory", "error", "wrong-lab"}


def _expected_literals(lab) -> set[str]:
    """Expected values written in the official check cells (3rd argument or expected=)."""
    import ast

    values = set()
    for check in lab.checks:
        for node in ast.walk(ast.parse(check.source)):
            if isinstance(node, ast.Call):
                args = list(node.args[2:3]) + [k.value for k in node.keywords if k.arg == "expected"]
                for arg in args:
                    try:
                        value = ast.literal_eval(arg)
                    except ValueError:
                        continue
                    items = value if isinstance(value, (set, list, tuple)) else [value]
                    values.update(str(v) for v in items)
    return {v for v in values if len(v) >= 2}


def _review_section(text: str) -> str:
    """The per-exercise part of a feedback file (the header holds notes and percentages),
    without the hints: those are the lab author's words, shown in the lab itself."""
    for marker in ("## À revoir", "<h2>À revoir</h2>"):
        if marker in text:
            review = text.split(marker, 1)[1]
            review = re.sub(r"<li>Indice : .*?</li>", "", review)
            return re.sub(r"(?m)^- Indice : .*$", "", review)
    return ""


def test_feedback_never_shows_expected_values(graded):
    report, _, lab, _ = graded
    hidden = _expected_literals(lab)
    if lab.lab_id == "90":
        # 90-mots-cache is a hidden check (teacher-only cell) with reveal=True
        hidden |= {HIDDEN_WORD, HIDDEN_WORD.upper(), "42", "rtp-sdp-sip"}
    feedback = sorted((report.out / "feedback").glob("*.*"))
    assert len(feedback) == 2 * len(report.results)
    for path in feedback:
        text = path.read_text(encoding="utf-8")
        assert HIDDEN_WORD not in text and HIDDEN_WORD.upper() not in text
        assert "rtp-sdp-sip" not in text and "Valeur attendue" not in text
        review = _review_section(text)
        for value in hidden:
            assert not re.search(rf"(?<![\w.]){re.escape(value)}(?![\w.])", review), (path.name, value)


def test_feedback_gives_hints_for_missed_exercises(graded):
    report, _, lab, teacher = graded
    text = (report.out / "feedback" / "untouched.md").read_text(encoding="utf-8")
    assert "0 / " in text and "Indice" in text or "La vérification a échoué" in text
    html = (report.out / "feedback" / "untouched.html").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "TP " + lab.lab_id in html


def test_kept_notebooks_are_scrubbed(graded):
    report, expected, lab, _ = graded
    text = (report.out / "notebooks" / "secrets.ipynb").read_text(encoding="utf-8")
    nb = nbformat.reads(text, as_version=4)
    assert "papermill" not in nb.metadata
    assert not any("injected-parameters" in c.metadata.get("tags", []) for c in nb.cells)
    assert SECRET_ENV_VALUE not in text  # not passed down at all
    assert "token: None" in text
    assert "cwd: <submission>" in text
    assert "/tmp/" not in text and "toipkit-grade-" not in text
    if lab.lab_id == "90":
        assert HIDDEN_WORD not in text and "word: <hidden>" in text


def test_run_log_written(graded):
    report, expected, _, _ = graded
    log = (report.out / "grading.log").read_text(encoding="utf-8")
    for student in expected:
        assert f"{student}: " in log


@pytest.mark.skipif(not ISOLATED, reason="bubblewrap sandbox unavailable here")
def test_student_code_cannot_read_instructor_files(tmp_path):
    """A probing submission: solutions/, grading.yaml, output folder, other submissions, and a
    service listening on the grader's loopback."""
    lab = load_lab("90", FIXTURE_SOLUTIONS)
    teacher = nbformat.read(lab.path, as_version=4)
    subs = tmp_path / "subs"
    subs.mkdir()
    out = tmp_path / "out"
    params = tmp_path / "instructor" / "grading.yaml"
    params.parent.mkdir()
    params.write_text("parameters:\n  secret_word: zz-top-secret\n", encoding="utf-8")
    targets = [str(lab.path), str(params), str(out), str(subs / "other.ipynb"),
               str(repo_root() / ".git" / "HEAD")]
    probe = (
        "import os\nresults = {}\n"
        f"for target in {targets!r}:\n"
        "    try:\n"
        "        if os.path.isdir(target):\n"
        "            results[target] = len(os.listdir(target))\n"
        "        else:\n"
        "            results[target] = len(open(target, 'rb').read())\n"
        "    except OSError as exc:\n"
        "        results[target] = type(exc).__name__\n"
        "for target, value in results.items():\n"
        "    print(target, '=>', value)\n"
        "print('uid', os.getuid())\n"
        "print('tmp', sorted(os.listdir('/tmp')))"
    )
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    probe += (
        "\nimport socket\ntry:\n"
        f"    socket.create_connection(('127.0.0.1', {port}), timeout=3).close()\n"
        "    print('grader port reachable')\n"
        "except OSError as exc:\n    print('grader port:', type(exc).__name__)\n"
    )
    nb, _ = perfect(teacher, lab)
    nb.cells.append(nbformat.v4.new_code_cell(probe))
    nbformat.write(nb, subs / "probe.ipynb")
    nbformat.write(nb, subs / "other.ipynb")
    try:
        report = grade([subs], "90", params=params, solutions=FIXTURE_SOLUTIONS, out=out,
                       workers=2, cell_timeout=20, timeout=60, progress=False)
    finally:
        listener.close()
    assert report.result("probe").status == "ok"
    executed = nbformat.read(out / "notebooks" / "probe.ipynb", as_version=4)
    printed = "".join(o.get("text", "") for o in executed.cells[-1].outputs)
    assert "uid 0" not in printed
    tmp_listing = re.search(r"^tmp (.*)$", printed, re.M).group(1)
    # The kernel's /tmp is private: only the path down to its own folder (and to the package
    # when the checkout lives under /tmp) exists there.
    allowed = {"toipkit-grade-"}
    if repo_root().resolve().is_relative_to("/tmp"):
        allowed.add(repo_root().resolve().relative_to("/tmp").parts[0])
    names = [name.strip("'") for name in re.findall(r"'[^']*'", tmp_listing)]
    assert all(any(name.startswith(a) for a in allowed) for name in names), names
    assert "grader port reachable" not in printed and "grader port:" in printed
    values = dict(line.split(" => ") for line in printed.splitlines() if " => " in line)
    assert len(values) == len(targets), printed
    for target, value in values.items():
        # Covered folders look empty; files are gone, empty or unreadable.
        assert value in {"0", "FileNotFoundError", "PermissionError"}, (target, value)


def test_rerun_gives_identical_grades(tmp_path):
    lab = load_lab("90", FIXTURE_SOLUTIONS)
    teacher = nbformat.read(lab.path, as_version=4)
    subs = tmp_path / "subs"
    subs.mkdir()
    for name in ("perfect", "partial"):
        nb, _ = BUILDERS[name](teacher, lab)
        nbformat.write(nb, subs / f"{name}.ipynb")
    outputs = []
    for run in (1, 2):
        report = grade([subs], "90", solutions=FIXTURE_SOLUTIONS, out=tmp_path / f"out{run}",
                       workers=2, cell_timeout=20, timeout=60, progress=False)
        outputs.append([(report.out / name).read_text(encoding="utf-8")
                        for name in ("grades.csv", "details.csv", "feedback/partial.md")])
    assert outputs[0] == outputs[1]


def test_whole_notebook_timeout_keeps_earlier_exercises(tmp_path):
    """A loop that outlives the notebook limit, and a fork bomb: the process trees are killed,
    earlier checks count, nothing is left running."""
    lab = load_lab("90", FIXTURE_SOLUTIONS)
    teacher = nbformat.read(lab.path, as_version=4)
    subs = tmp_path / "subs"
    subs.mkdir()
    nb, expected = BUILDERS["loop"](teacher, lab)
    # A duration no other run uses: other grading runs on this host may have live processes.
    seconds = f"300.{os.getpid() % 100000:05d}"
    # Ignore interrupts and leave a detached child behind: only a kill of the tree stops it.
    for cell in nb.cells:
        if cell.source.startswith("while True:"):
            cell.source = ("import subprocess, signal\n"
                           f"subprocess.Popen(['sleep', '{seconds}'], start_new_session=True)\n"
                           "signal.signal(signal.SIGINT, signal.SIG_IGN)\n" + cell.source)
    nbformat.write(nb, subs / "stubborn.ipynb")
    # A fork bomb in the second exercise, graded alongside.
    bomb = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass"
    nb, _ = break_cell(teacher, lab, solution_cells(teacher)[1], bomb)
    nbformat.write(nb, subs / "forkbomb.ipynb")
    report = grade([subs], "90", solutions=FIXTURE_SOLUTIONS, out=tmp_path / "out", workers=2,
                   cell_timeout=60, timeout=8, progress=False)
    result = report.result("stubborn")
    assert result.status == "timeout"
    assert {e.exercise for e in result.exercises if e.passed} == expected.passing
    bombed = report.result("forkbomb")
    # Forked copies of the kernel garble its messages: a timeout or an error, never a hang.
    assert bombed.status in {"timeout", "error"}
    assert "90-total" in {e.exercise for e in bombed.exercises if e.passed}
    assert report.seconds < 40
    if ISOLATED:  # every process of the sandbox uid is killed, the detached child too
        left = []
        for proc in Path("/proc").iterdir():
            try:
                if seconds in (proc / "cmdline").read_bytes().decode(errors="replace"):
                    left.append(proc.name)
            except OSError:
                continue
        assert not left


def test_hidden_input_file_is_copied_and_its_path_scrubbed(tmp_path):
    lab = load_lab("90", FIXTURE_SOLUTIONS)
    teacher = nbformat.read(lab.path, as_version=4)
    hidden = tmp_path / "instructor" / "mot-cache.txt"
    hidden.parent.mkdir()
    hidden.write_text("x", encoding="utf-8")
    params = hidden.parent / "grading.yaml"
    params.write_text("files:\n  secret_word: mot-cache.txt\npoints:\n  90-secret: 3\n",
                      encoding="utf-8")
    subs = tmp_path / "subs"
    subs.mkdir()
    nb, _ = perfect(teacher, lab)
    nb.cells.append(nbformat.v4.new_code_cell("print(open(secret_word).read(), secret_word)"))
    nbformat.write(nb, subs / "alice.ipynb")
    report = grade([subs], "90", params=params, solutions=FIXTURE_SOLUTIONS, out=tmp_path / "out",
                   workers=1, cell_timeout=20, timeout=60, progress=False)
    result = report.result("alice")
    assert (result.status, result.total, result.max_total) == ("ok", 7.0, 7.0)
    text = (report.out / "notebooks" / "alice.ipynb").read_text(encoding="utf-8")
    assert str(hidden) not in text and str(hidden.parent) not in text
    assert "x <submission>/.inputs/mot-cache.txt" in text


def test_without_isolation_limits_and_timeouts_still_apply(tmp_path):
    """The non-root path (no uid, no namespaces): what a student can read is not fenced."""
    lab = load_lab("90", FIXTURE_SOLUTIONS)
    teacher = nbformat.read(lab.path, as_version=4)
    subs = tmp_path / "subs"
    subs.mkdir()
    cases = {"perfect": perfect(teacher, lab), "membomb": BUILDERS["membomb"](teacher, lab),
             "readsol": reads_solutions(teacher, lab, str(lab.path), isolated=False)}
    for name, (nb, _) in cases.items():
        nbformat.write(nb, subs / f"{name}.ipynb")
    (subs / "broken.ipynb").write_text("{not json", encoding="utf-8")
    report = grade([subs], "90", solutions=FIXTURE_SOLUTIONS, out=tmp_path / "out", workers=2,
                   cell_timeout=20, timeout=60, memory_mb=1024, progress=False, isolate=False)
    broken = report.result("broken")
    assert (broken.status, broken.total) == ("error", 0)
    assert "Note : 0 / 5" in (report.out / "feedback" / "broken.md").read_text(encoding="utf-8")
    for name, (_, want) in cases.items():
        result = report.result(name)
        assert {e.exercise for e in result.exercises if e.passed} == want.passing, name
        assert result.status == want.status, name


@pytest.mark.skipif(not _other_labs(), reason="no other lab in solutions/")
def test_every_other_lab_grades(tmp_path):
    """Smoke run of the remaining real labs, concurrently (one grading run per lab): the
    teacher's answers get full marks, the untouched student version less, another lab
    nothing. Concurrent runs also check that runs do not step on each other (uids, logs)."""
    from concurrent.futures import ThreadPoolExecutor

    def one(lab_id):
        lab = load_lab(lab_id, REPO_SOLUTIONS)
        teacher = nbformat.read(lab.path, as_version=4)
        subs = tmp_path / lab_id / "subs"
        subs.mkdir(parents=True)
        for name, build in (("perfect", perfect), ("untouched", untouched),
                            ("wronglab", wrong_lab)):
            nbformat.write(build(teacher, lab)[0], subs / f"{name}.ipynb")
        return lab, grade([subs], lab_id, solutions=REPO_SOLUTIONS, out=tmp_path / lab_id / "out",
                          workers=1, cell_timeout=120, timeout=300, progress=False)

    with ThreadPoolExecutor(max_workers=3) as pool:
        runs = list(pool.map(one, _other_labs()))
    problems = []
    for lab, report in runs:
        perfect_result = report.result("perfect")
        untouched_result = report.result("untouched")
        if (perfect_result.status, perfect_result.total) != ("ok", lab.total_points()):
            missed = [e.exercise for e in perfect_result.exercises if not e.passed]
            problems.append(f"{lab.lab_id} perfect: {perfect_result.status} {missed} "
                            f"{perfect_result.note}")
        if untouched_result.status != "ok" or untouched_result.total >= lab.total_points():
            problems.append(f"{lab.lab_id} untouched: {untouched_result.status} "
                            f"{untouched_result.total}")
        if report.result("wronglab").status != "wrong-lab":
            problems.append(f"{lab.lab_id}: wrong lab accepted")
        log = (report.out / "grading.log").read_text(encoding="utf-8")
        if f"lab {lab.lab_id} " not in log or sum(f"lab {o.lab_id} (" in log for o, _ in runs) != 1:
            problems.append(f"{lab.lab_id}: log mixes runs")
    assert not problems, "\n".join(problems)


def test_spawned_kernels_behave_like_forked_ones(tmp_path, monkeypatch):
    """Without the sandbox (--unsafe-no-isolation) and TOIPKIT_GRADING_PREFORK=0: kernels
    started by the launcher instead of forked."""
    monkeypatch.setenv("TOIPKIT_GRADING_PREFORK", "0")
    lab = load_lab("90", FIXTURE_SOLUTIONS)
    teacher = nbformat.read(lab.path, as_version=4)
    subs = tmp_path / "subs"
    subs.mkdir()
    cases = {"perfect": perfect(teacher, lab), "membomb": BUILDERS["membomb"](teacher, lab)}
    probe = nbformat.v4.new_code_cell("import os\nprint('uid', os.getuid())")
    cases["perfect"][0].cells.append(probe)
    for name, (nb, _) in cases.items():
        nbformat.write(nb, subs / f"{name}.ipynb")
    report = grade([subs], "90", solutions=FIXTURE_SOLUTIONS, out=tmp_path / "out", workers=2,
                   cell_timeout=20, timeout=60, memory_mb=1024, progress=False, isolate=False)
    for name, (_, want) in cases.items():
        result = report.result(name)
        assert {e.exercise for e in result.exercises if e.passed} == want.passing, name
        assert result.status == want.status, name
    text = (report.out / "notebooks" / "perfect.ipynb").read_text(encoding="utf-8")
    assert f"uid {os.getuid()}" in text  # no sandbox: the grader's own user


def test_the_steps_of_grade_run_one_by_one(tmp_path):
    """plan / grade_one / write_outputs / write_sheets / finish_run: what another executor
    (a cluster, a queue) calls instead of grade(); same grades as grade()."""
    from toipkit.grading import runner

    lab = load_lab("90", FIXTURE_SOLUTIONS)
    teacher = nbformat.read(lab.path, as_version=4)
    subs = tmp_path / "subs"
    subs.mkdir()
    for name in ("perfect", "partial"):
        nbformat.write(BUILDERS[name](teacher, lab)[0], subs / f"{name}.ipynb")
    settings, found, workers = runner.plan([subs], "90", solutions=FIXTURE_SOLUTIONS,
                                           out=tmp_path / "steps", cell_timeout=20, timeout=60)
    try:
        graded = [runner.grade_one(sub, settings) for sub in found]
        for one in graded:
            runner.write_outputs(one, settings.out, settings.lab_id)
    finally:
        seconds = runner.finish_run(settings)
    stepwise = runner.write_sheets(settings, [g.result for g in graded], seconds)
    whole = grade([subs], "90", solutions=FIXTURE_SOLUTIONS, out=tmp_path / "whole",
                  workers=2, cell_timeout=20, timeout=60, progress=False)
    assert workers == 2 and not settings.run_root.exists()
    for name in ("grades.csv", "details.csv", "feedback/partial.md", "feedback/perfect.html"):
        assert (stepwise.out / name).read_text(encoding="utf-8") == (
            whole.out / name).read_text(encoding="utf-8"), name
