#!/usr/bin/env python3
"""Benchmark: start-up of the ``toipkit`` command against a bare ``python -c pass``.

    .venv/bin/python benchmarks/bench_cli_startup.py [--runs 10]

Runs each command ``--runs`` times, interleaved (so a burst of load on the machine hits every
command alike), with the same interpreter and environment, and prints the median wall-clock
time and its ratio to ``python -c pass``. Targets (issue "a fast CLI"): ``--help`` <= 6x,
``dialplan lint`` of a small file <= 12x, ``pcap summary`` of a small capture <= 20x.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TOIPKIT = [sys.executable, "-c", "import sys; from toipkit.cli import main; sys.exit(main())"]

COMMANDS: list[tuple[str, list[str], float | None]] = [
    ("python -c pass", [sys.executable, "-c", "pass"], None),
    ("toipkit --help", [*TOIPKIT, "--help"], 6.0),
    ("toipkit dialplan lint (small file)",
     [*TOIPKIT, "dialplan", "lint", str(REPO / "data/dialplans/handout-s17-ivr.conf")], 12.0),
    ("toipkit pcap summary (small capture)",
     [*TOIPKIT, "pcap", "summary", "--no-progress", str(REPO / "data/captures/register.pcap")],
     20.0),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    times: dict[str, list[float]] = {name: [] for name, _, _ in COMMANDS}
    for _ in range(args.runs + 1):  # the first round only warms the file cache
        for name, argv, _ in COMMANDS:
            start = time.perf_counter()
            subprocess.run(argv, env=env, cwd=REPO, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, check=False)
            times[name].append(time.perf_counter() - start)
    base = statistics.median(times[COMMANDS[0][0]][1:])
    failed = False
    print(f"{'command':40s} {'median':>9s} {'ratio':>7s} {'target':>7s}")
    for name, _, target in COMMANDS:
        median = statistics.median(times[name][1:])
        ratio = median / base
        verdict = "" if target is None else ("ok" if ratio <= target else "SLOW")
        failed |= verdict == "SLOW"
        print(f"{name:40s} {median * 1000:7.1f}ms {ratio:6.1f}x "
              f"{'' if target is None else f'<= {target:g}x':>7s} {verdict}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
