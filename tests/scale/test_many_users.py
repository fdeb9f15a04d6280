"""Several users on one host: each user's sandbox, registrar and media services live under
their own TOIPKIT_HOME on free loopback ports, never touch another user's, and stop when idle.

Real servers on 127.0.0.1: the sandbox HTTP server, kamailio, SIP REGISTER with digest.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from toipkit.phone import registrar
from toipkit.phone.processes import pid_alive
from toipkit.xivo import connect, lab, sandbox
from toipkit.xivo.sip_register import register_check

REPO = Path(__file__).resolve().parents[2]
needs_kamailio = pytest.mark.skipif(not registrar.available(),
                                    reason="kamailio (and its sqlite modules) not installed")


def _start(home: Path, monkeypatch, **env: str) -> sandbox.SandboxInfo:
    """Start a user's sandbox as their notebook would: TOIPKIT_HOME set, default data dir."""
    with monkeypatch.context() as m:
        m.setenv("TOIPKIT_HOME", str(home))
        for name, value in env.items():
            m.setenv(name, value)
        return sandbox.start()


def _registrar(home: Path) -> registrar.RegistrarInfo:
    info = registrar.status(home / "sandbox")
    assert info is not None, (home / "sandbox" / "server.log").read_text()
    return info


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return True
        time.sleep(0.1)
    return False


@needs_kamailio
def test_two_homes_side_by_side(tmp_path, monkeypatch):
    home_a, home_b = tmp_path / "alice", tmp_path / "bob"
    a = _start(home_a, monkeypatch)
    try:
        b = _start(home_b, monkeypatch)
        try:
            reg_a, reg_b = _registrar(home_a), _registrar(home_b)
            # Free ports, each user's own; state under each user's home only.
            assert len({a.port, b.port, reg_a.port, reg_b.port}) == 4
            assert a.data_dir == (home_a / "sandbox").resolve()
            assert b.data_dir == (home_b / "sandbox").resolve()
            cfg_a = (reg_a.folder / "kamailio.cfg").read_text()
            assert str(home_a.resolve()) in cfg_a and str(home_b.resolve()) not in cfg_a
            assert reg_a.folder.is_relative_to(home_a.resolve())

            # The same number in both, different secrets: each registrar knows its own user.
            with connect(None, data_dir=home_a / "sandbox") as client_a, \
                    connect(None, data_dir=home_b / "sandbox") as client_b:
                alice = lab.create_user_with_line(client_a, "Geralt", "Riv", 101)
                lab.create_user_with_line(client_b, "Geralt", "Riv", 101)
                lab.create_user_with_line(client_a, "Yennefer", "Vengerberg", 102)
                assert "102" in sandbox.directory(home_a / "sandbox")
                assert "102" not in sandbox.directory(home_b / "sandbox")
            secret = str(alice.endpoint_sip["secret"])
            own = register_check("127.0.0.1", alice.sip_username, secret, port=reg_a.port,
                                 expires=0)
            other = register_check("127.0.0.1", alice.sip_username, secret, port=reg_b.port,
                                   expires=0)
            assert own.status == 200, own.verdict
            assert other.status == 403, other.verdict

            # Stopping one user's sandbox leaves the other's running, registrar included.
            assert sandbox.stop(home_a / "sandbox") is True
            assert _wait_gone(a.pid, 10) and _wait_gone(reg_a.pid, 10)
            assert sandbox.status(home_b / "sandbox") == b
            assert pid_alive(reg_b.pid)
            from toipkit.phone.sipprobe import options_ping

            assert options_ping("127.0.0.1", reg_b.port, timeout=2) == 200
        finally:
            sandbox.stop(home_b / "sandbox")
    finally:
        sandbox.stop(home_a / "sandbox")


def _unprivileged_python() -> str | None:
    """An interpreter another uid can run, and start again from there, with this checkout
    (the sandbox needs only the standard library)."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    for exe in (sys.executable, f"/usr/bin/python{version}", "/usr/bin/python3"):
        if not Path(exe).exists():
            continue
        probe = subprocess.run(["setpriv", "--reuid=62901", "--regid=62901", "--clear-groups",
                                exe, "-c", "import subprocess, sys; subprocess.run("
                                "[sys.executable, '-c', 'import toipkit.xivo.sandbox'], "
                                "check=True)"],
                               env={"PATH": os.environ["PATH"], "PYTHONPATH": str(REPO)},
                               capture_output=True, text=True, cwd="/")
        if probe.returncode == 0:
            return exe
    return None


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None,
                    reason="needs root to run two unprivileged uids")
def test_two_uids_cannot_see_or_stop_each_other():
    python = _unprivileged_python()
    if python is None:
        pytest.skip("no Python interpreter and checkout readable by another uid")
    uids = (62901, 62902)
    homes = []
    for uid in uids:
        home = Path(tempfile.mkdtemp(prefix=f"toipkit-u{uid}-"))
        os.chown(home, uid, uid)
        os.chmod(home, 0o700)  # as a JupyterHub user's home
        homes.append(home)

    def run(uid: int, home: Path, *args: str) -> dict:
        done = subprocess.run(
            ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", python,
             str(Path(__file__).with_name("uid_sandbox.py")), *args],
            env={"PATH": os.environ["PATH"], "PYTHONPATH": str(REPO), "HOME": str(home),
                 "TOIPKIT_HOME": str(home), "TOIPKIT_SANDBOX_SIP": "0"},
            capture_output=True, text=True, timeout=60, cwd=str(home))
        assert done.returncode == 0, done.stdout + done.stderr
        return json.loads(done.stdout.strip().splitlines()[-1])

    started: list[dict] = []
    try:
        for uid, home in zip(uids, homes):
            started.append(run(uid, home, "start"))
        first, second = started
        assert first["url"] != second["url"]
        # The second user can neither read, stop nor signal the first user's sandbox.
        seen = run(uids[1], homes[1], "probe", first["data_dir"], str(first["pid"]))
        assert seen["status"] in ("None", "PermissionError"), seen
        assert seen["stop"] in ("False", "PermissionError"), seen
        assert seen["kill"] == "PermissionError", seen
        assert pid_alive(first["pid"])
        # Stopping one's own sandbox leaves the other's running.
        assert run(uids[1], homes[1], "stop") == {"stopped": True}
        assert _wait_gone(second["pid"], 10)
        assert pid_alive(first["pid"])
        assert run(uids[0], homes[0], "stop") == {"stopped": True}
    finally:
        for info in started:
            if pid_alive(info["pid"]):
                os.kill(info["pid"], 15)
                _wait_gone(info["pid"], 10)
        for home in homes:
            shutil.rmtree(home, ignore_errors=True)


@needs_kamailio
def test_idle_sandbox_stops_with_its_registrar(tmp_path, monkeypatch):
    """3 s idle limit: API requests and SIP registrations each keep the services alive; once
    neither happens, the server, kamailio and the media services stop and leave no state file."""
    home = tmp_path / "student"
    info = _start(home, monkeypatch, TOIPKIT_SANDBOX_IDLE_MINUTES="0.05")
    try:
        reg = _registrar(home)
        with connect(None, data_dir=home / "sandbox") as client:
            user = lab.create_user_with_line(client, "Geralt", "Riv", 101)
        api_done = time.monotonic()
        # Registrations only (no API request) for 5 s: longer than the limit.
        while time.monotonic() - api_done < 5:
            result = register_check("127.0.0.1", user.sip_username,
                                    str(user.endpoint_sip["secret"]), port=reg.port,
                                    expires=60)
            assert result.status == 200, result.verdict
            last_activity = time.monotonic()
            time.sleep(1)
        assert pid_alive(info.pid) and pid_alive(reg.pid)
        assert _wait_gone(info.pid, 20), "the idle sandbox did not stop"
        idle = time.monotonic() - last_activity
        assert idle >= 2.0  # not before the limit (the last write came a little before)
        assert _wait_gone(reg.pid, 5)
        assert not (home / "sandbox" / "server.json").exists()
        assert "idle for" in (home / "sandbox" / "server.log").read_text()
        # The client starts it again on demand.
        again = sandbox.start(home / "sandbox")
        assert again.pid != info.pid
    finally:
        sandbox.stop(home / "sandbox")


def test_idle_timeout_bad_value(tmp_path):
    done = subprocess.run([sys.executable, "-m", "toipkit.xivo.sandbox", "--data-dir",
                           str(tmp_path), "--no-sip"],
                          env={**os.environ, "TOIPKIT_SANDBOX_IDLE_MINUTES": "dix"},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "TOIPKIT_SANDBOX_IDLE_MINUTES='dix' n'est pas un nombre de minutes" in done.stderr
    assert not (tmp_path / "server.json").exists()
