"""The Binder path, end to end (see ``binder_path.py``): install from ``binder/`` only, then
every solution notebook in order against the sandbox, all checks passing.

Time and memory are printed, not asserted: the budget (120 s, 1.5 GB) depends on the machine and
is checked by ``benchmarks/bench_binder_path.py``.
"""

from __future__ import annotations

import json

import pytest
from binder_path import run_binder_path


@pytest.mark.slow
def test_binder_install_then_all_labs_in_order(tmp_path):
    report = run_binder_path(tmp_path)
    assert report["per_notebook_seconds"], report
    print(f"\nbinder e2e: {json.dumps(report)}")
