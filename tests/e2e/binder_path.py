"""The Binder path, end to end: a fresh environment built from ``binder/`` only, then every
solution notebook run in order with papermill against the sandbox, state carried from lab to lab
(lab 02's users are used by labs 04 and 05), as a student on Binder would.

Shared by ``tests/e2e/test_binder_path.py`` (the path must work: every check passes) and
``benchmarks/bench_binder_path.py`` (the path must fit Binder's budget: about 2 GB of RAM, so
1.5 GB peak for the process tree, and 120 s of notebook time). Figures are recorded either way.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from toipkit.checks import collect
from toipkit.course import lab_notebooks
from toipkit.paths import repo_root

ROOT = repo_root()
BINDER = ROOT / "binder"
PAGE = os.sysconf("SC_PAGE_SIZE")


def apt_packages() -> list[str]:
    lines = (BINDER / "apt.txt").read_text().splitlines()
    return [line.split("#")[0].strip() for line in lines if line.split("#")[0].strip()]


def tree_rss(root_pid: int) -> int:
    """Sum of the resident memory of ``root_pid`` and all its descendants, in bytes."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
        rss[int(entry)] = int(fields[21]) * PAGE
    total, stack, seen = 0, [root_pid], set()
    while stack:
        pid = stack.pop()
        if pid in seen:
            continue
        seen.add(pid)
        total += rss.get(pid, 0)
        stack.extend(child for child, parent in parents.items() if parent == pid)
    return total


class PeakMemory:
    """Samples the memory of this process's descendants (not pytest itself) every 100 ms."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = os.getpid()
        own = 0
        while not self._stop.wait(0.1):
            try:
                with open(f"/proc/{me}/statm") as handle:
                    own = int(handle.read().split()[1]) * PAGE
            except OSError:
                pass
            self.peak = max(self.peak, tree_rss(me) - own)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


#: Binder's budget, checked by the benchmark (wall-clock and memory depend on the machine).
PEAK_MEMORY_BUDGET = int(1.5 * 2**30)
TOTAL_SECONDS_BUDGET = 120


def run_binder_path(tmp_path: Path) -> dict:
    """Install from ``binder/`` into a new venv under ``tmp_path``, run every solution notebook
    in order and assert that each one ran and all its checks passed. Returns the figures:
    ``total_seconds``, ``peak_rss_mb``, ``peak_rss_bytes``, ``per_notebook_seconds``."""
    if shutil.which("dpkg-query"):
        missing = [p for p in apt_packages()
                   if "install ok installed" not in subprocess.run(
                       ["dpkg-query", "-W", "-f=${Status}", p], capture_output=True, text=True).stdout]
        assert not missing, f"binder/apt.txt packages not installed: {missing}"

    venv = tmp_path / "binder-venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    env = {**os.environ, "PATH": f"{venv / 'bin'}:{os.environ['PATH']}",
           "TOIPKIT_HOME": str(tmp_path / "home"), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env.pop("VIRTUAL_ENV", None)
    env.pop("PYTHONPATH", None)
    # repo2docker runs pip on binder/requirements.txt from the repository root.
    install = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "-r",
                              str(BINDER / "requirements.txt")],
                             cwd=ROOT, env=env, capture_output=True, text=True)
    assert install.returncode == 0, install.stderr[-3000:]
    post = subprocess.run(["bash", str(BINDER / "postBuild")], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    assert post.returncode == 0, post.stdout[-2000:] + post.stderr[-2000:]
    # JupyterLab in French: the language pack installed and French the environment's default.
    prefix = subprocess.run([str(python), "-c", "import sys; print(sys.prefix)"], env=env,
                            capture_output=True, text=True, check=True).stdout.strip()
    overrides = json.loads((Path(prefix) / "share/jupyter/lab/settings/overrides.json").read_text())
    assert overrides["@jupyterlab/translation-extension:plugin"]["locale"] == "fr_FR"
    assert "warning" not in post.stderr, post.stderr[-2000:]

    notebooks = lab_notebooks(ROOT / "solutions")
    assert len(notebooks) >= 6, [n.name for n in notebooks]
    figures: dict[str, float] = {}
    started = time.monotonic()
    try:
        with PeakMemory() as memory:
            for notebook in notebooks:
                out = tmp_path / "out" / notebook.name
                out.parent.mkdir(exist_ok=True)
                t0 = time.monotonic()
                run = subprocess.run(
                    [str(python), "-m", "papermill", str(notebook), str(out), "--no-progress-bar",
                     "-k", "python3", "--cwd", str(ROOT / "solutions"),
                     "-p", "student", "binder-e2e", "-p", "interactive", "False"],
                    env=env, capture_output=True, text=True, timeout=600,
                )
                figures[notebook.name] = round(time.monotonic() - t0, 2)
                assert run.returncode == 0, f"{notebook.name}:\n{run.stderr[-4000:]}"
                results = collect(out)
                assert len(results) > 0, f"{notebook.name}: no check ran"
                failed = results[~results["passed"]]
                assert failed.empty, f"{notebook.name}: failed checks\n{failed.to_string()}"
    finally:
        subprocess.run([str(python), "-m", "toipkit.cli", "sandbox", "stop"], env=env,
                       capture_output=True)
    total = time.monotonic() - started
    report = {"total_seconds": round(total, 1), "peak_rss_mb": round(memory.peak / 2**20, 1),
              "peak_rss_bytes": memory.peak, "per_notebook_seconds": figures}
    (tmp_path / "e2e-figures.json").write_text(json.dumps(report, indent=2))
    return report
