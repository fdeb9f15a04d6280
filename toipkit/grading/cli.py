"""``toipkit grade``: grade submitted notebooks of one lab."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "grade",
        help="grade submitted notebooks of a lab (parallel, fenced papermill runs)",
        description=(
            "Run each submitted notebook with papermill in its own process, with the official "
            "check cells put back, time and memory limits and the instructor's hidden inputs; "
            "write grades.csv, per-student feedback (Markdown + HTML), the executed notebooks "
            "(scrubbed) and a run log."
        ),
    )
    p.add_argument("submissions", nargs="+", metavar="SUBMISSION",
                   help="a notebook, a folder of notebooks (student = file name) or a folder of "
                        "student folders")
    p.add_argument("--lab", help="lab id, e.g. 03 or 05a (or 'lab:' in grading.yaml)")
    p.add_argument("--params", metavar="grading.yaml",
                   help="hidden inputs, points, limits (see docs/grading.md)")
    p.add_argument("--solutions", metavar="DIR",
                   help="folder of teacher notebooks (default: the repository's solutions/)")
    p.add_argument("--workers", type=int, help="parallel submissions (default: number of cores)")
    p.add_argument("--out", metavar="DIR", help="output folder (default: ./grading-NN)")
    p.add_argument("--timeout-cell", type=float, metavar="S", help="seconds per cell (default 60)")
    p.add_argument("--timeout", type=float, metavar="S",
                   help="seconds for a whole notebook (default 600)")
    p.add_argument("--memory", type=int, metavar="MB",
                   help="address-space limit of each kernel (default 2048)")
    p.add_argument("--network", action="store_true", default=None,
                   help="let student code reach other hosts (default: no network, only the "
                        "sandbox's own loopback)")
    p.add_argument("--unsafe-no-isolation", action="store_true",
                   help="run student code without the bubblewrap sandbox (only for trusted "
                        "submissions, where user namespaces are forbidden)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--scheduler", metavar="tcp://HOST:8786",
                   help="grade on a Dask cluster (pip install 'toipkit[scale]'); see "
                        "docs/grading.md")
    p.add_argument("--cluster", metavar="local:N",
                   help="grade on a local Dask cluster of N worker processes")
    p.add_argument("--regrade", action="store_true",
                   help="with Dask: grade everyone again, ignoring the finished submissions "
                        "recorded in the output folder")
    p.set_defaults(handler=_grade)


def _grade(args: argparse.Namespace) -> int:
    from toipkit.grading.report import fmt
    from toipkit.grading.runner import grade

    common = dict(params=args.params, solutions=args.solutions, out=args.out,
                  cell_timeout=args.timeout_cell, timeout=args.timeout, memory_mb=args.memory,
                  progress=not args.no_progress, network=args.network,
                  isolate=False if args.unsafe_no_isolation else None)
    if args.scheduler or args.cluster:
        from toipkit.grading.distributed import grade_distributed

        result = grade_distributed(args.submissions, args.lab, scheduler=args.scheduler,
                                   cluster=args.cluster, resume=not args.regrade, **common)
    else:
        result = grade(args.submissions, args.lab, workers=args.workers, **common)
    counts: dict[str, int] = {}
    for r in result.results:
        counts[r.status] = counts.get(r.status, 0) + 1
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    mean = sum(r.percent for r in result.results) / max(len(result.results), 1)
    print(f"lab {result.lab}: {len(result.results)} submission(s) ({summary}), "
          f"mean {fmt(round(mean, 1))} %, {result.seconds:.1f} s")
    out = result.out or Path(".")
    print(f"grades: {out / 'grades.csv'}")
    print(f"feedback: {out / 'feedback'}/")
    return 0
