"""Grading throughput: ``toipkit grade`` with 2 workers vs sequential papermill on the same notebooks.

    .venv/bin/python benchmarks/bench_grading.py [--lab 00] [--count 30] [--workers 2]

Builds ``--count`` submissions of one lab (perfect and untouched copies alternating), then in the
same run:

* reference: ``papermill.execute_notebook`` on each submission, one after the other, in this
  process, every cell run as in grading (``allow_errors``; no isolation, no re-inserted checks,
  no reports);
* ours: ``toipkit.grading.grade`` with ``--workers`` parallel workers, each kernel in its
  bubblewrap sandbox (full pipeline: check cells put back, limits, scoring, feedback, scrubbed
  notebooks);
* the cost of the sandbox: the same grading with ``isolate=False`` (``--unsafe-no-isolation``:
  kernels forked from the warm worker), and the start of an empty sandbox (bwrap + the limits
  step + ``python -c pass``) against the same Python started directly.

Prints the wall times, the ratio (target: <= 0.6), the sandbox overhead per submission (ms) and
peak RSS; exit code 1 if the target is missed. Uses lab 00 when the repository has it, else the test fixture lab.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
TARGET_RATIO = 0.6


def _pick_lab(wanted: str | None) -> tuple[str, Path]:
    from toipkit.course import lab_id_of, lab_notebooks

    solutions = ROOT / "solutions"
    available = {lab_id_of(p) for p in lab_notebooks(solutions)} if solutions.is_dir() else set()
    if wanted:
        if wanted in available:
            return wanted, solutions
        if wanted == "90":
            return "90", ROOT / "tests" / "grading" / "fixtures" / "solutions"
        sys.exit(f"lab {wanted} not found in {solutions}")
    if "00" in available:
        return "00", solutions
    return "90", ROOT / "tests" / "grading" / "fixtures" / "solutions"


def _submissions(lab_id: str, solutions: Path, folder: Path, count: int) -> list[Path]:
    from toipkit.course import student_version
    from toipkit.grading import load_lab

    lab = load_lab(lab_id, solutions)
    teacher = nbformat.read(lab.path, as_version=4)
    for cell in teacher.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    untouched = student_version(teacher)
    paths = []
    for index in range(count):
        path = folder / f"etudiant{index:02d}.ipynb"
        nbformat.write(teacher if index % 2 == 0 else untouched, path)
        paths.append(path)
    return paths


def _sequential_papermill(paths: list[Path], work: Path) -> float:
    import papermill
    from papermill.exceptions import PapermillExecutionError

    started = time.perf_counter()
    for path in paths:
        try:
            # Same semantics as grading: every cell runs, errors included.
            papermill.execute_notebook(
                str(path), str(work / f"out-{path.name}"),
                parameters={"student": path.stem, "interactive": False},
                kernel_name="python3", cwd=str(work), progress_bar=False, allow_errors=True,
            )
        except PapermillExecutionError:
            pass
    return time.perf_counter() - started


def _cpu() -> float:
    """CPU seconds of this process and its reaped descendants (kernels, workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _official_judging_ms(lab_id: str, solutions: Path, kept: Path) -> float | None:
    """Time of scoring the kept notebooks with the lab's official rules (grader side)."""
    from toipkit.grading import load_lab
    from toipkit.grading.report import score_notebook

    lab = load_lab(lab_id, solutions)
    if not lab.rules:
        return None
    notebooks = [nbformat.read(p, as_version=4) for p in sorted(kept.glob("*.ipynb"))]
    if not notebooks:
        return None
    started = time.perf_counter()
    for nb in notebooks:
        score_notebook(nb, lab.points, lab.hints, lab.rules)
    return 1000 * (time.perf_counter() - started) / len(notebooks)


def _sandbox_start_ms(rounds: int = 20) -> tuple[float, float]:
    """Mean wall time (ms) of ``python -S -c pass`` in a fresh sandbox, and started directly."""
    import subprocess

    from toipkit.grading import isolation

    with tempfile.TemporaryDirectory(prefix="bench-sandbox-") as work:
        uid = isolation.SANDBOX_UID_BASE + 3998 if isolation.can_drop_privileges() else None
        if uid is not None:
            os.chown(work, uid, uid)
        boxed = isolation.sandbox_argv(read_only=isolation.view_paths(), writable=[work],
                                       workdir=work, network=False, memory_mb=2048, uid=uid)
        times = []
        for argv in (boxed + [sys.executable, "-S", "-c", "pass"],
                     [sys.executable, "-S", "-c", "pass"]):
            subprocess.run(argv, check=True)  # warm the page cache
            started = time.perf_counter()
            for _ in range(rounds):
                subprocess.run(argv, check=True)
            times.append(1000 * (time.perf_counter() - started) / rounds)
    return times[0], times[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lab", default=None)
    parser.add_argument("--count", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)

    from toipkit.grading import grade
    from toipkit.grading.isolation import can_drop_privileges, sandbox_problem

    if sandbox_problem():
        sys.exit(f"no sandbox here: {sandbox_problem()}")

    lab_id, solutions = _pick_lab(args.lab)
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        tmp_path = Path(tmp)
        subs = tmp_path / "submissions"
        subs.mkdir()
        paths = _submissions(lab_id, solutions, subs, args.count)
        ref_work = tmp_path / "reference"
        ref_work.mkdir()
        # Home for the reference kernels too (a lab may start a sandbox server there).
        os.environ.setdefault("TOIPKIT_HOME", str(tmp_path / "ref-home"))
        _sequential_papermill(paths[:1], ref_work)  # warm-up: imports, kernelspec cache
        cpu0 = _cpu()
        reference = _sequential_papermill(paths, ref_work)
        cpu1 = _cpu()
        started = time.perf_counter()
        report = grade([subs], lab_id, solutions=solutions, out=tmp_path / "out",
                       workers=args.workers, progress=False)
        ours = time.perf_counter() - started
        cpu2 = _cpu()
        started = time.perf_counter()
        unsafe = grade([subs], lab_id, solutions=solutions, out=tmp_path / "out-unsafe",
                       workers=args.workers, progress=False, isolate=False)
        unfenced = time.perf_counter() - started
        cpu3 = _cpu()
        same = ([(r.student, r.total, r.status) for r in unsafe.results]
                == [(r.student, r.total, r.status) for r in report.results])
        statuses = sorted({r.status for r in report.results})
        scores = sorted({r.percent for r in report.results})
        judging_ms = _official_judging_ms(lab_id, solutions, tmp_path / "out" / "notebooks")

    ratio = ours / reference
    self_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    boxed_ms, direct_ms = _sandbox_start_ms()
    print(f"lab {lab_id}, {args.count} submissions, {os.cpu_count()} cores, "
          f"bubblewrap sandbox ({'root: a uid per slot' if can_drop_privileges() else 'user namespace'})")
    print(f"reference (sequential papermill): {reference:8.2f} s  "
          f"({reference / args.count:.2f} s per notebook)")
    print(f"toipkit grade --workers {args.workers}:   {ours:8.2f} s  "
          f"({ours / args.count:.2f} s per notebook)")
    print(f"CPU (all processes): reference {cpu1 - cpu0:.1f} s, ours {cpu2 - cpu1:.1f} s")
    print(f"ratio: {ratio:.3f} (target <= {TARGET_RATIO})")
    print(f"without the sandbox (--unsafe-no-isolation, forked kernels): {unfenced:8.2f} s, "
          f"CPU {cpu3 - cpu2:.1f} s, same grades: {same}")
    print(f"sandbox overhead: {1000 * (ours - unfenced) / args.count * args.workers:.0f} ms "
          f"per submission in grading (wall x workers), {boxed_ms - direct_ms:.0f} ms to start "
          f"an empty sandbox ({boxed_ms:.0f} ms vs {direct_ms:.0f} ms for python -S -c pass)")
    print(f"peak RSS: grader {self_rss:.0f} MB, largest child {child_rss:.0f} MB")
    print(f"statuses: {statuses}, scores: {scores}")
    if judging_ms is not None:
        print(f"official rules applied in the grader: {judging_ms:.2f} ms per submission "
              "(answers judged outside the kernel)")
    return 0 if ratio <= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
