"""The command line starts without the heavy libraries it does not need.

Each case runs in a fresh interpreter and looks at ``sys.modules`` afterwards: which modules are
loaded, not how long it took (timings are in benchmarks/bench_cli_startup.py).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HEAVY = ("nbformat", "pandas", "numpy", "matplotlib")


def loaded_after(code: str) -> set[str]:
    """The heavy modules present in ``sys.modules`` after running ``code`` in a new Python."""
    probe = (f"import sys\n{code}\n"
             f"import json; print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env,
                          cwd=REPO, timeout=120)
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def run_cli(args: list[str]) -> str:
    """``toipkit ARGS`` in-process, its exit swallowed (the probe prints afterwards)."""
    return ("import contextlib, io\nfrom toipkit.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            f"    try:\n        main({args!r})\n    except SystemExit:\n        pass")


def test_help_builds_every_command_without_heavy_libraries():
    assert loaded_after(run_cli(["--help"])) == set()


@pytest.mark.parametrize("command", ["doctor", "course", "pcap", "dialplan", "tts", "sandbox",
                                     "xivo", "grade"])
def test_each_command_parser_is_light(command):
    assert loaded_after(run_cli([command, "--help"])) == set()


@pytest.mark.parametrize("package", ["toipkit", "toipkit.course", "toipkit.dialplan", "toipkit.pcap",
                                     "toipkit.tts", "toipkit.xivo", "toipkit.grading",
                                     "toipkit.phone", "toipkit.checks", "toipkit.conventions"])
def test_importing_a_package_is_light(package):
    assert loaded_after(f"import {package}") == set()


def test_dialplan_lint_loads_none_of_them():
    small = REPO / "data" / "dialplans" / "handout-s17-ivr.conf"
    assert loaded_after(run_cli(["dialplan", "lint", str(small)])) == set()


def test_pcap_summary_needs_numpy_only():
    small = REPO / "data" / "captures" / "register.pcap"
    assert loaded_after(run_cli(["pcap", "summary", "--no-progress", str(small)])) == {"numpy"}


def test_public_names_still_resolve_after_their_module_was_imported():
    # `lint`, `simulate`, `build` and `execute` are modules and functions: the function wins.
    code = ("import toipkit.dialplan.lint, toipkit.dialplan.simulate, toipkit.course.build\n"
            "import toipkit.course.execute\n"
            "from toipkit.dialplan import lint, simulate\nfrom toipkit.course import build, execute\n"
            "assert all(callable(f) and not hasattr(f, '__path__') and f.__class__.__name__ == "
            "'function' for f in (lint, simulate, build, execute))")
    assert "numpy" not in loaded_after(code)


def test_version_is_the_project_version_read_on_demand():
    declared = re.search(r'^version = "([^"]+)"', (REPO / "pyproject.toml").read_text(), re.M)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    shown = subprocess.run([sys.executable, "-m", "toipkit.cli", "--version"], capture_output=True,
                           text=True, env=env, timeout=60)
    assert shown.returncode == 0 and shown.stdout.strip() == f"toipkit {declared.group(1)}"
    lazy = subprocess.run([sys.executable, "-c", "import sys, toipkit; "
                           "print('importlib.metadata' in sys.modules, toipkit.__version__)"],
                          capture_output=True, text=True, env=env, timeout=60)
    assert lazy.stdout.split() == ["False", declared.group(1)]
