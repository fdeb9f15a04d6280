#!/usr/bin/env python3
"""Benchmark: the Binder path against Binder's budget (notebook time and memory).

    .venv/bin/python benchmarks/bench_binder_path.py

Builds a fresh venv from ``binder/`` only and runs every solution notebook in order against the
sandbox, as ``tests/e2e/test_binder_path.py`` does, then compares the figures with the budget of
a Binder instance (about 2 GB of RAM): at most 1.5 GB peak resident memory for the whole process
tree (papermill, kernels, sandbox server) and 120 s of notebook time. Exits 1 over budget.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "e2e"))

from binder_path import (  # noqa: E402
    PEAK_MEMORY_BUDGET,
    TOTAL_SECONDS_BUDGET,
    run_binder_path,
)


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="toipkit-binder-bench-") as tmp:
        report = run_binder_path(Path(tmp))
    print(json.dumps(report["per_notebook_seconds"], indent=2))
    seconds_ok = report["total_seconds"] <= TOTAL_SECONDS_BUDGET
    memory_ok = report["peak_rss_bytes"] <= PEAK_MEMORY_BUDGET
    print(f"notebook time {report['total_seconds']:7.1f} s   budget {TOTAL_SECONDS_BUDGET} s"
          f"   ({report['total_seconds'] / TOTAL_SECONDS_BUDGET:.0%} of it)"
          f" {'ok' if seconds_ok else 'OVER'}")
    print(f"peak memory   {report['peak_rss_mb']:7.1f} MB  budget {PEAK_MEMORY_BUDGET / 2**20:.0f} MB"
          f" ({report['peak_rss_bytes'] / PEAK_MEMORY_BUDGET:.0%} of it)"
          f" {'ok' if memory_ok else 'OVER'}")
    return 0 if seconds_ok and memory_ok else 1


if __name__ == "__main__":
    sys.exit(main())
