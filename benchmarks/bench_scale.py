"""Grading on Dask (``--cluster local:N``) against the local pool, and an interrupted run resumed.

    python benchmarks/bench_scale.py                 # --lab 00 --counts 30 120 --workers 2

For each count, in the same run: ``toipkit.grading.grade(workers=N)`` (the local pool), then
``grade_distributed(cluster="local:N")`` on the same submissions (perfect and untouched copies
alternating, as benchmarks/bench_grading.py). Prints both wall times, the overhead (target
<= 10 %) and whether grades.csv is byte-identical. Then ``toipkit grade --cluster local:N`` is
interrupted (SIGINT) once a third of the submissions are recorded, and run again: it must grade
only the rest.
"""

from __future__ import annotations

import argparse
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

TARGET_OVERHEAD = 0.10


def _compare(lab_id: str, solutions: Path, tmp: Path, count: int, workers: int) -> float:
    from bench_grading import _submissions

    from toipkit.grading import grade
    from toipkit.grading.distributed import grade_distributed

    subs = tmp / f"subs-{count}"
    subs.mkdir()
    _submissions(lab_id, solutions, subs, count)
    started = time.perf_counter()
    grade([subs], lab_id, solutions=solutions, out=tmp / f"pool-{count}", workers=workers,
          progress=False)
    pool = time.perf_counter() - started
    started = time.perf_counter()
    grade_distributed([subs], lab_id, cluster=f"local:{workers}", solutions=solutions,
                      out=tmp / f"dask-{count}", progress=False)
    dask = time.perf_counter() - started
    same = ((tmp / f"pool-{count}" / "grades.csv").read_bytes()
            == (tmp / f"dask-{count}" / "grades.csv").read_bytes())
    overhead = dask / pool - 1
    print(f"{count} submissions: pool --workers {workers} {pool:.1f} s, "
          f"Dask local:{workers} {dask:.1f} s, overhead {overhead * 100:+.1f} % "
          f"(target <= {TARGET_OVERHEAD * 100:.0f} %), grades.csv identical: {same}",
          flush=True)
    return overhead if same else float("inf")


def _interrupt_and_resume(lab_id: str, solutions: Path, tmp: Path, count: int,
                          workers: int) -> bool:
    from bench_grading import _submissions

    subs = tmp / "subs-resume"
    subs.mkdir()
    _submissions(lab_id, solutions, subs, count)
    out = tmp / "resume"
    command = [sys.executable, "-m", "toipkit.cli", "grade", str(subs), "--lab", lab_id,
               "--solutions", str(solutions), "--out", str(out), "--cluster",
               f"local:{workers}", "--no-progress"]
    first = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    progress = out / ".progress"
    while first.poll() is None and len(list(progress.glob("*.json"))) < count // 3:
        time.sleep(0.2)
    first.send_signal(signal.SIGINT)
    first.wait(timeout=120)
    recorded = len(list(progress.glob("*.json")))
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    resumed = time.perf_counter() - started
    log = (out / "grading.log").read_text()
    graded = re.findall(r" INFO (\S+): (?:ok|error|timeout|memory|wrong-lab) ", log)
    rows = len((out / "grades.csv").read_text().splitlines()) - 2
    ok = len(graded) == count - recorded and rows == count
    print(f"interrupted after {recorded}/{count} recorded; the resumed run graded "
          f"{len(graded)} in {resumed:.1f} s, grades.csv has {rows} rows: "
          f"{'OK' if ok else 'FAILED'}")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lab", default=None)
    parser.add_argument("--counts", type=int, nargs="+", default=[30, 120])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--resume-count", type=int, default=30)
    args = parser.parse_args(argv)
    from bench_grading import _pick_lab

    lab_id, solutions = _pick_lab(args.lab)
    print(f"lab {lab_id}, {args.workers} workers")
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        overheads = [_compare(lab_id, solutions, Path(tmp), n, args.workers)
                     for n in args.counts]
        resumed = _interrupt_and_resume(lab_id, solutions, Path(tmp), args.resume_count,
                                        args.workers)
    return 0 if resumed and max(overheads) <= TARGET_OVERHEAD else 1


if __name__ == "__main__":
    raise SystemExit(main())
