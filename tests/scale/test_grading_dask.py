"""Grading on a real Dask cluster (LocalCluster worker processes on loopback): the same outputs
as the local pool, a worker killed mid-run, resuming without grading anyone twice."""

from __future__ import annotations

import os
import re
import signal
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest

pytest.importorskip("distributed")

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "grading"))
from grading_synthetic import partial, perfect, syntax_error, untouched, wrong_lab  # noqa: E402

from toipkit.errors import GradingError  # noqa: E402
from toipkit.grading import grade, load_lab  # noqa: E402
from toipkit.grading.distributed import PROGRESS_DIR, grade_distributed  # noqa: E402

FIXTURE_SOLUTIONS = Path(__file__).resolve().parents[1] / "grading" / "fixtures" / "solutions"
LAB = "90"


def _slow(nb, seconds: float):
    """The same notebook with a first code cell that takes ``seconds``."""
    nb = nbformat.from_dict(nb)
    nb.cells.insert(0, nbformat.v4.new_code_cell(f"import time\ntime.sleep({seconds})"))
    return nb


@pytest.fixture(scope="module")
def submissions(tmp_path_factory):
    lab = load_lab(LAB, FIXTURE_SOLUTIONS)
    teacher = nbformat.read(lab.path, as_version=4)
    folder = tmp_path_factory.mktemp("copies")
    builders = {"alice": perfect, "bruno": untouched, "chloe": partial, "david": syntax_error,
                "emma": wrong_lab, "farid": perfect, "gaelle": partial, "hugo": perfect}
    for student, build in builders.items():
        nb, _expected = build(teacher, lab)
        if student in ("farid", "gaelle", "hugo"):
            nb = _slow(nb, 1.5)  # long enough to be killed while running
        nbformat.write(nb, folder / f"{student}.ipynb")
    return folder


@pytest.fixture(scope="module")
def local_run(submissions, tmp_path_factory):
    out = tmp_path_factory.mktemp("local")
    report = grade([submissions], LAB, solutions=FIXTURE_SOLUTIONS, out=out, workers=2,
                   progress=False)
    assert len(report.results) == 8
    return out


def _same_outputs(a: Path, b: Path) -> None:
    assert (a / "grades.csv").read_bytes() == (b / "grades.csv").read_bytes()
    assert (a / "details.csv").read_bytes() == (b / "details.csv").read_bytes()
    for md in sorted((a / "feedback").glob("*.md")):
        assert md.read_bytes() == (b / "feedback" / md.name).read_bytes(), md.name
    assert sorted(p.name for p in (a / "notebooks").iterdir()) == sorted(
        p.name for p in (b / "notebooks").iterdir())


def test_local_cluster_gives_the_local_grades_and_resumes(submissions, local_run, tmp_path):
    out = tmp_path / "dask"
    report = grade_distributed([submissions], LAB, cluster="local:2",
                               solutions=FIXTURE_SOLUTIONS, out=out, progress=False)
    assert [r.student for r in report.results] == sorted(
        p.stem for p in submissions.glob("*.ipynb"))
    _same_outputs(local_run, out)
    records = sorted((out / PROGRESS_DIR).glob("*.json"))
    assert len(records) == 8
    stamps = {p.name: p.stat().st_mtime_ns for p in records}

    # Run again: everything is on disk, nothing is graded (no cluster is even started).
    again = grade_distributed([submissions], LAB, cluster="local:2",
                              solutions=FIXTURE_SOLUTIONS, out=out, progress=False)
    log = (out / "grading.log").read_text()
    assert "resumed: 8 submission(s) already graded, 0 to grade" in log
    assert "Dask:" not in log
    assert {p.name: p.stat().st_mtime_ns for p in records} == stamps
    assert [r.to_dict() for r in again.results] == [r.to_dict() for r in report.results]
    _same_outputs(local_run, out)

    # An interrupted run: two students had not been recorded; a changed submission is
    # graded again too (its record no longer matches).
    (out / PROGRESS_DIR / "bruno.json").unlink()
    (out / PROGRESS_DIR / "chloe.json").unlink()
    changed = nbformat.read(submissions / "alice.ipynb", as_version=4)
    changed.cells.append(nbformat.v4.new_markdown_cell("relu"))
    nbformat.write(changed, submissions / "alice.ipynb")
    try:
        grade_distributed([submissions], LAB, cluster="local:2", solutions=FIXTURE_SOLUTIONS,
                          out=out, progress=False)
    finally:
        original = nbformat.read(submissions / "alice.ipynb", as_version=4)
        original.cells.pop()
        nbformat.write(original, submissions / "alice.ipynb")
    log = (out / "grading.log").read_text()
    assert "resumed: 5 submission(s) already graded, 3 to grade" in log
    graded_now = re.findall(r" INFO (\w+): (?:ok|error|timeout|memory|wrong-lab) ", log)
    assert sorted(graded_now) == ["alice", "bruno", "chloe"]
    _same_outputs(local_run, out)


def test_a_worker_killed_mid_run_loses_nothing(submissions, local_run, tmp_path):
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, memory_limit=0,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        pids = client.run(os.getpid)
        killed: list[str] = []

        def kill_one_busy_worker():
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not killed:
                for address, keys in client.processing().items():
                    if any(str(k).startswith(("grade-farid", "grade-gaelle", "grade-hugo"))
                           for k in keys) and address in pids:
                        time.sleep(0.5)  # inside the slow cell
                        os.kill(pids[address], signal.SIGKILL)
                        killed.append(address)
                        return
                time.sleep(0.05)

        killer = threading.Thread(target=kill_one_busy_worker)
        killer.start()
        out = tmp_path / "dask"
        report = grade_distributed([submissions], LAB, scheduler=cluster.scheduler_address,
                                   solutions=FIXTURE_SOLUTIONS, out=out, progress=False)
        killer.join()
    assert killed, "no worker was busy with a slow submission"
    assert len(report.results) == 8
    assert not any("grader error" in r.note for r in report.results)
    _same_outputs(local_run, out)


def test_bad_cluster_spec(submissions, tmp_path):
    with pytest.raises(GradingError, match="expected local:N"):
        grade_distributed([submissions], LAB, cluster="local:zero", out=tmp_path / "x",
                          solutions=FIXTURE_SOLUTIONS)
    assert not (tmp_path / "x").exists()
