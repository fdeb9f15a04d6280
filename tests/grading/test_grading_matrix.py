"""Hostile submissions of lab 00 graded for real, by the grader's own user and by an
unprivileged one: no unearned point, the right status, a note naming what can be seen, and
nothing of the host reachable from the kernel (files, other runs, network, processes).

A fork bomb is graded in ``test_grading_runs`` (whole-notebook timeout) and the process cap
checked in ``test_grading_isolation``: here it would starve the other submissions of the run.

The unprivileged run is the same grading started as uid 65534 (``setpriv``) over
world-readable copies; when the tests run as root, Python is made reachable for that uid in a
private mount namespace first (it may live under ``/root``).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pytest
from test_grading_hostile import ALWAYS_EQUAL, HOOK, READS_FRAMES, REBINDS_CHECKS

from toipkit.checks import ANSWER_MIME_TYPE
from toipkit.grading.isolation import sandbox_problem
from toipkit.paths import repo_root

LAB = repo_root() / "labs" / "00-prise-en-main.ipynb"
SOLUTIONS = repo_root() / "solutions"
NOBODY = 65534
MEMORY_MB = 700

pytestmark = pytest.mark.skipif(bool(sandbox_problem()) or not LAB.exists(),
                                reason=sandbox_problem() or "labs/00 not built")


def _submission(first: str, second: str = "paquets_par_seconde = 50", extra=()):
    nb = nbformat.read(LAB, as_version=4)
    todo = [c for c in nb.cells if c.cell_type == "code" and "raise NotImplementedError" in c.source]
    todo[0].source = first
    todo[1].source = second
    for source in extra:
        nb.cells.append(nbformat.v4.new_code_cell(source))
    return nb


RIGHT = "debit_kbps = 8000 * 8 / 1000"

# Reads what it should not see: a second, world-readable clone of the course (its teacher
# notebook holds the answers), the grader's output and submissions folders, the host's files.
PROBE = """import json, os, glob
seen = {}
for target in TARGETS:
    try:
        seen[target] = sorted(os.listdir(target)) if os.path.isdir(target) else len(open(target, 'rb').read())
    except OSError as exc:
        seen[target] = type(exc).__name__
try:
    open(os.path.join(TARGETS[1], 'planted.txt'), 'w').write('x')
    seen['wrote'] = True
except OSError as exc:
    seen['wrote'] = type(exc).__name__
debit_kbps = None
for path in glob.glob(TARGETS[0] + '/*.ipynb'):
    for cell in json.load(open(path))['cells']:
        if 'debit_kbps =' in ''.join(cell['source']):
            exec(''.join(cell['source']))
print('SEEN', json.dumps(seen))"""

NETWORK = """import socket
for host, port in (('127.0.0.1', PORT), ('1.1.1.1', 53)):
    try:
        socket.create_connection((host, port), timeout=2).close()
        print('NET reached', host)
    except OSError as exc:
        print('NET blocked', host, type(exc).__name__)"""

DETACHED = """import subprocess
subprocess.Popen(['setsid', 'sleep', 'MARKER'], start_new_session=True)
paquets_par_seconde = 50"""

FOUR_CHILDREN = """import os, time
for _ in range(4):
    if os.fork() == 0:
        block = bytearray(250 * 2**20)
        for i in range(0, len(block), 4096):
            block[i] = 1
        time.sleep(60)
        os._exit(0)
time.sleep(60)
paquets_par_seconde = 50"""

RECORD_FLOOD = """from IPython.display import display
display({'application/vnd.toipkit.answer+json': {'exercise': '00-debit-g711', 'value': 'y' * 2000000},
         'text/plain': 'x'}, raw=True)"""

FORGED = f"""from IPython.display import display
display({{{ANSWER_MIME_TYPE!r}: {{'exercise': '00-debit-g711', 'value': 64, 'problem': ''}},
         'text/plain': 'faux'}}, raw=True)
import toipkit.checks as vrai
vrai.verify = lambda *a, **k: vrai.check_true('00-debit-g711', True)
debit_kbps = 1"""


def _cases(targets: list[str], port: int, marker: str) -> dict:
    """name -> (notebook, points, status, words the note must hold)."""
    wrong = _submission(RIGHT)
    wrong.metadata["toipkit"] = {"lab": "03"}
    cases = {
        "honnete": (_submission(RIGHT, extra=[NETWORK.replace("PORT", str(port))]), 2, "ok", ""),
        "lecteur": (_submission(PROBE.replace("TARGETS", repr(targets))), 1, "ok", ""),
        "detache": (_submission("debit_kbps = 1", DETACHED.replace("MARKER", marker)), 1, "ok",
                    ""),
        "boucle": (_submission(RIGHT, "while True:\n    pass"), 1, "timeout", "longer than"),
        "memoire": (_submission(RIGHT, FOUR_CHILDREN), 1, "memory", "together used more"),
        "inondation": (_submission("debit_kbps = 1", extra=[RECORD_FLOOD] * 12), 1, "ok", ""),
        # Rebinding verify also breaks its own second check: nothing earned at all.
        "falsifie": (_submission(FORGED), 0, "ok", "check tampering suspected"),
        "mauvais-tp": (wrong, 0, "wrong-lab", ""),
        # Answers judged in the grader's process: fake objects and hooks gain nothing.
        "toujours-egal": (_submission(ALWAYS_EQUAL), 1, "ok", ""),
        "espion-cadres": (_submission(READS_FRAMES), 1, "ok", ""),
        "rebinding": (_submission(REBINDS_CHECKS), 0, "ok", ""),
        "crochet": (_submission(HOOK), 1, "ok", "extra answers added to official cells"),
    }
    return cases


def _world_readable_tree(path: Path) -> None:
    for root, _dirs, files in os.walk(path):
        os.chmod(root, 0o755)
        for name in files:
            os.chmod(os.path.join(root, name), 0o644)


def _unprivileged_prefix(scratch: Path) -> list[str]:
    """The command prefix that runs the grader as uid 65534 with Python reachable."""
    setpriv = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    if os.geteuid() != 0:
        return []  # already an ordinary user
    needed = [Path(p) for p in {sys.base_prefix, sys.prefix, str(repo_root())}]
    blocked = set()
    for path in needed:
        if not path.resolve().stat().st_mode & stat.S_IXOTH:
            # a folder above can be hidden under a tmpfs, not the checkout or venv itself
            pytest.skip(f"{path} is not readable by another uid (mode 700)")
        for parent in reversed(path.resolve().parents):
            if not parent.stat().st_mode & stat.S_IXOTH:
                blocked.add(parent)
                break
    lines = ["set -e"]
    for n, folder in enumerate(sorted(blocked)):
        inside = [p.resolve() for p in needed if folder in p.resolve().parents]
        for m, path in enumerate(inside):
            lines.append(f"mkdir -p {scratch}/stage{n}-{m} && mount --bind {path} {scratch}/stage{n}-{m}")
        lines.append(f"mount -t tmpfs -o mode=755 tmpfs {folder}")
        for m, path in enumerate(inside):
            lines.append(f"mkdir -p {path} && mount --move {scratch}/stage{n}-{m} {path}")
    lines.append('exec "$@"')
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", "\n".join(lines),
            "sh", *setpriv]


GRADE = """
import json, resource, sys
from toipkit.grading import grade
report = grade([sys.argv[1]], "00", solutions=sys.argv[2], out=sys.argv[3], workers=3,
               cell_timeout=15, timeout=60, memory_mb=int(sys.argv[4]), progress=False)
print(json.dumps({"rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
                  "results": {r.student: [r.total, r.status, r.note] for r in report.results}}))
"""


@pytest.fixture(scope="module", params=["grader", "unprivileged"])
def matrix(request):
    if request.param == "unprivileged" and os.geteuid() == 0 and not shutil.which("setpriv"):
        pytest.skip("setpriv (util-linux) is needed to run as another user")
    base = Path(tempfile.mkdtemp(prefix="toipkit-matrix-"))
    try:
        os.chmod(base, 0o755)
        clone = base / "second-clone"
        shutil.copytree(SOLUTIONS, clone, ignore=shutil.ignore_patterns("*.py", "checks"))
        subs, out = base / "subs", base / "out"
        subs.mkdir()
        out.mkdir()
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        marker = f"302.{os.getpid() % 100000:05d}"
        targets = [str(clone), str(subs), str(out), str(SOLUTIONS), "/etc/passwd",
                   str(repo_root() / ".git")]
        cases = _cases(targets, listener.getsockname()[1], marker)
        for name, (nb, *_) in cases.items():
            nbformat.write(nb, subs / f"{name}.ipynb")
        _world_readable_tree(base)
        out.chmod(0o777)  # the unprivileged grader writes there
        prefix = [] if request.param == "grader" else _unprivileged_prefix(base)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(repo_root()),
               "HOME": str(base), "LANG": "C.UTF-8"}
        try:
            done = subprocess.run(prefix + [sys.executable, "-c", GRADE, str(subs),
                                            str(SOLUTIONS), str(out), str(MEMORY_MB)],
                                  capture_output=True, text=True, env=env, timeout=400)
        finally:
            listener.close()
        assert done.returncode == 0, done.stderr[-3000:]
        graded = json.loads(done.stdout.strip().splitlines()[-1])
        time.sleep(0.2)
        left = [p.name for p in Path("/proc").iterdir() if p.name.isdigit()
                and marker in _cmdline(p)]
        yield request.param, cases, graded, out, left, targets
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _printed(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                   for o in c.get("outputs", []) if o.get("output_type") == "stream")


def _cmdline(proc: Path) -> str:
    try:
        return (proc / "cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return ""


def test_no_unearned_point_and_the_right_status(matrix):
    who, cases, graded, _, _, _ = matrix
    problems = []
    for name, (_, points, status, note) in cases.items():
        total, got_status, got_note = graded["results"][name]
        statuses = status if isinstance(status, tuple) else (status,)
        if total != points or got_status not in statuses or note not in got_note:
            problems.append(f"{who} {name}: {total} {got_status} {got_note!r}")
    assert not problems, "\n".join(problems)


def test_the_kernel_reaches_nothing_of_the_host(matrix):
    who, _, _, out, left, targets = matrix
    printed = _printed(out / "notebooks" / "lecteur.ipynb")
    seen = json.loads(printed.split("SEEN ", 1)[1].splitlines()[0])
    assert seen["wrote"] != True  # noqa: E712
    for target in targets:
        assert seen[target] in ("FileNotFoundError", "PermissionError"), (who, target, seen)
    assert not (out.parent / "subs" / "planted.txt").exists()
    honest = _printed(out / "notebooks" / "honnete.ipynb")
    assert "NET reached" not in honest and honest.count("NET blocked") == 2
    assert not left, f"{who}: processes outlived the run: {left}"


def test_notebook_size_cap_and_grader_memory(matrix):
    who, _, graded, out, _, _ = matrix
    flooded = out / "notebooks" / "inondation.ipynb"
    assert flooded.stat().st_size < 21 * 2**20  # 12 cells x 2 MB of answer-typed output
    assert "KiB of output removed" in flooded.read_text(encoding="utf-8")
    # Memory is measured in benchmarks/bench_grading.py (peak grader RSS, 300 MB goal): it
    # depends on the machine's load (how much a flood wrote before the time limit). Here only
    # a runaway fails, such as an uncapped notebook or every kept notebook held at once.
    assert graded["rss_mb"] < 1024, (who, graded["rss_mb"])
