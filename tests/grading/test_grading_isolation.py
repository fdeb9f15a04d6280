"""The fences around student kernels, exercised directly: the bubblewrap sandbox (view, network,
processes, limits), the whole-submission memory watchdog, bounded logs, the environment."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from toipkit.grading import isolation
from toipkit.paths import repo_root

SANDBOX = not isolation.sandbox_problem()
needs_sandbox = pytest.mark.skipif(not SANDBOX, reason=f"no sandbox: {isolation.sandbox_problem()}")


def _uid() -> int | None:
    """As root, the sandboxed command takes a uid of its own (a slot's lease in real runs)."""
    return isolation.SANDBOX_UID_BASE + 3999 if isolation.can_drop_privileges() else None


def _in_sandbox(tmp_path: Path, code: str, *, network: bool = False, memory_mb: int = 1024,
                timeout: float = 60) -> subprocess.CompletedProcess:
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    if _uid() is not None:
        os.chown(work, _uid(), _uid())
    argv = isolation.sandbox_argv(read_only=isolation.view_paths(), writable=[str(work)],
                                  workdir=str(work), network=network, memory_mb=memory_mb,
                                  uid=_uid())
    env = isolation.child_environment(work)
    env["PYTHONPATH"] = str(repo_root())
    return subprocess.run(argv + [sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=timeout)


@needs_sandbox
def test_the_kernel_sees_only_its_folder_python_and_course_data(tmp_path):
    outside = tmp_path / "instructor-notes.txt"
    outside.write_text("answer")
    outside.chmod(0o644)
    # The home folder's own files (the path down to Python may cross it, e.g. ~/.pyenv).
    view = isolation.view_paths()
    home = [str(p) for p in Path.home().iterdir()
            if not any(v == str(p) or v.startswith(f"{p}/") for v in view)][:20]
    probes = [str(outside), str(repo_root() / "solutions"), str(repo_root() / ".git"),
              str(repo_root() / "tests"), "/etc/passwd", "/etc/shadow", "/var/log", "/home",
              *home]
    code = f"""
import json, os, sys
seen = {{p: os.path.exists(p) for p in {probes!r}}}
open("written.txt", "w").write("ok")
try:
    open(os.path.join(sys.prefix, "x"), "w")
    venv = "writable"
except OSError as exc:
    venv = type(exc).__name__
import toipkit.checks, numpy
print(json.dumps({{"seen": seen, "venv": venv, "tmp": os.listdir("/tmp"),
                  "run": sorted(os.listdir("/run")), "uid": os.getuid(),
                  "data": os.path.isdir({str(repo_root() / "data")!r}),
                  "pids": sorted(int(p) for p in os.listdir("/proc") if p.isdigit())}}))
"""
    done = _in_sandbox(tmp_path, code)
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    assert not any(got["seen"].values()), got["seen"]
    # /tmp is private: it holds at most the (empty) paths down to what is bound into it, the
    # submission's folder and, for a checkout under /tmp, the course data and the package.
    bound = [(tmp_path / "work").resolve(), *map(Path, isolation.view_paths())]
    on_the_way = sorted({p.relative_to("/tmp").parts[0] for p in bound
                         if p.is_relative_to("/tmp")})
    assert got["venv"] in {"OSError", "PermissionError"} and sorted(got["tmp"]) == on_the_way
    assert got["run"] == ["lock"] and got["data"]
    assert got["uid"] == (_uid() or isolation.SANDBOX_UID)
    assert max(got["pids"]) < 10  # its own PID namespace: no process of the host is visible
    assert (tmp_path / "work" / "written.txt").read_text() == "ok"


@needs_sandbox
def test_no_network_but_its_own_loopback(tmp_path):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    code = f"""
import socket
own = socket.socket(); own.bind(("127.0.0.1", 0)); own.listen()
socket.create_connection(own.getsockname(), timeout=2).close()
print("own loopback ok")
for host, port in (("127.0.0.1", {port}), ("1.1.1.1", 53)):
    try:
        socket.create_connection((host, port), timeout=2).close()
        print("reached", host)
    except OSError as exc:
        print("blocked", host, type(exc).__name__)
"""
    try:
        done = _in_sandbox(tmp_path, code)
    finally:
        listener.close()
    assert done.returncode == 0, done.stderr
    assert "own loopback ok" in done.stdout and "reached" not in done.stdout
    assert done.stdout.count("blocked") == 2


@needs_sandbox
def test_network_true_shares_the_hosts_network(tmp_path):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    code = (f"import socket\nsocket.create_connection(('127.0.0.1', "
            f"{listener.getsockname()[1]}), timeout=5).close()\nprint('reached')")
    try:
        done = _in_sandbox(tmp_path, code, network=True)
    finally:
        listener.close()
    assert done.returncode == 0 and "reached" in done.stdout, done.stderr


@needs_sandbox
def test_nothing_outlives_the_sandbox(tmp_path):
    marker = f"301.{os.getpid() % 100000:05d}"
    code = ("import subprocess\n"
            f"subprocess.Popen(['setsid', 'sleep', '{marker}'], start_new_session=True)\n"
            "import os\nif os.fork() == 0:\n    os.setsid()\n"
            f"    os.execvp('sleep', ['sleep', '{marker}'])\n")
    done = _in_sandbox(tmp_path, code)
    assert done.returncode == 0, done.stderr
    time.sleep(0.3)
    left = []
    for proc in Path("/proc").iterdir():
        try:
            if marker in (proc / "cmdline").read_bytes().decode(errors="replace"):
                left.append(proc.name)
        except OSError:
            continue
    assert not left


@needs_sandbox
def test_process_cap_counts_the_submission_only(tmp_path):
    code = """
import os, time
started = 0
for _ in range(200):
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        time.sleep(3)
        os._exit(0)
    started += 1
print(started)
"""
    done = _in_sandbox(tmp_path, code)
    assert done.returncode == 0, done.stderr
    started = int(done.stdout.split()[-1])
    assert 10 < started < isolation.MAX_PROCESSES  # capped, yet not counted with the grader's


@needs_sandbox
def test_whole_submission_memory_cap_with_four_children(tmp_path):
    """Four children of 150 MB each: every process is under its own address-space limit, the
    sum is not under the submission's."""
    work = tmp_path / "work"
    work.mkdir()
    code = """
import os, time
for _ in range(4):
    if os.fork() == 0:
        block = bytearray(150 * 2**20)
        for i in range(0, len(block), 4096):
            block[i] = 1
        time.sleep(60)
        os._exit(0)
time.sleep(60)
"""
    argv = isolation.sandbox_argv(read_only=isolation.view_paths(), writable=[str(work)],
                                  workdir=str(work), network=False, memory_mb=400, uid=_uid())
    env = isolation.child_environment(work)
    started = time.monotonic()
    proc = subprocess.Popen(argv + [sys.executable, "-S", "-c", code], env=env,
                            start_new_session=True)
    watchdog = isolation.MemoryWatchdog(proc.pid, 400, interval=0.1)
    try:
        proc.wait(timeout=30)
    finally:
        isolation.kill_group(proc.pid)
        watchdog.stop()
    assert watchdog.fired and time.monotonic() - started < 30
    assert 400 << 20 < watchdog.peak < 700 << 20


def test_a_flooded_pipe_keeps_only_its_tail():
    pipe = isolation.TailPipe(limit=4096)
    writer = subprocess.Popen([sys.executable, "-c",
                               "import os\nfor _ in range(400): os.write(1, b'x' * 100000)\n"
                               "os.write(1, b'END')"], stdout=pipe.write_fd)
    pipe.close_writer()
    writer.wait(timeout=30)
    text = pipe.text()
    assert len(text) == 4096 and text.endswith("END") and pipe.total == 40_000_003


def test_without_a_sandbox_grading_refuses_in_french_and_english(tmp_path):
    """No bwrap on PATH: the grader stops before running anything, unless told it is unsafe."""
    fixture = repo_root() / "tests" / "grading" / "fixtures" / "solutions"
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "alice.ipynb").write_text((fixture / "90-essai.ipynb").read_text())
    code = ("from toipkit.grading import grade\n"
            f"try:\n    grade([{str(subs)!r}], '90', solutions={str(fixture)!r}, "
            f"out={str(tmp_path / 'out')!r}, progress=False)\n"
            "except Exception as exc:\n    print(type(exc).__name__, exc)\n")
    env = {"PATH": str(tmp_path / "nothing"), "PYTHONPATH": str(repo_root()),
           "HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          timeout=120)
    assert "GradingError" in done.stdout, done.stdout + done.stderr
    assert "Isolation impossible" in done.stdout and "Isolation unavailable" in done.stdout
    assert "--unsafe-no-isolation" in done.stdout
    assert not (tmp_path / "out" / "grades.csv").exists()


def test_environment_is_a_whitelist(tmp_path, monkeypatch):
    monkeypatch.setenv("XIVO_PASSWORD", "hunter2")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "abc")
    monkeypatch.setenv("LICENCE_SERVER", "lic:1234")
    env = isolation.child_environment(tmp_path, passthrough=("LICENCE_SERVER",))
    assert "XIVO_PASSWORD" not in env and "AWS_SECRET_ACCESS_KEY" not in env
    assert env["LICENCE_SERVER"] == "lic:1234"
    assert env["HOME"] == str(tmp_path) and env["TOIPKIT_HOME"] == str(tmp_path / "toipkit")
    assert env["PYTHONHASHSEED"] == "0"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="POSIX only")
def test_launcher_applies_memory_limit(tmp_path):
    """The unsandboxed kernel launcher sets RLIMIT_AS before exec."""
    code = "import resource; print(resource.getrlimit(resource.RLIMIT_AS)[0] // 2**20)"
    out = subprocess.run(
        [sys.executable, "-m", "toipkit.grading.launch", "--memory", "512", "--pidfile",
         str(tmp_path / "pid"), "--", sys.executable, "-c", code],
        capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "512"
    assert Path(tmp_path / "pid").read_text().strip().isdigit()
