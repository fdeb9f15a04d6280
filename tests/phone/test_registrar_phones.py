"""The lab network with its real parts: the sandbox's kamailio registrar and baresip phones.

Every test here talks real SIP over loopback: lines created through confd register with their
own credentials, calls are routed by number, audio is real RTP.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from labnet import lab_sandbox

from toipkit.phone import registrar
from toipkit.phone.baresip import available as baresip_available

pytestmark = pytest.mark.skipif(
    not (registrar.available() and baresip_available()),
    reason="kamailio (+ kamailio-sqlite-modules) and baresip-core are needed")


@pytest.fixture(scope="module")
def labnet(tmp_path_factory):
    team = (("Geralt", "Riv", 101), ("Yennefer", "Vengerberg", 102), ("Jaskier", "Pankratz", 103))
    with lab_sandbox(tmp_path_factory, "labnet", team) as pair:
        yield pair


@pytest.fixture(scope="module")
def sandbox_dir(labnet):
    return labnet[1]


@pytest.fixture(scope="module")
def client(labnet):
    return labnet[0]


def _settings(client, exten):
    from toipkit.xivo import lab

    return lab.softphone_settings(client, lab.find_user_by_exten(client, str(exten)))


def test_sandbox_starts_a_registrar_that_answers(sandbox_dir):
    from toipkit.phone.sipprobe import options_ping

    info = registrar.status(sandbox_dir)
    assert info is not None
    assert options_ping(info.host, info.port) == 200


@pytest.mark.parametrize("exten", ["101", "102", "103"])
def test_lines_register_with_their_own_credentials(phones, exten):
    phone = phones(exten)
    assert phone.registered, phone.registration_status
    assert phone.dialogue().ladder()[:4] == ["REGISTER", "401 Unauthorized", "REGISTER", "200 OK"]


def test_wrong_secret_gets_401_then_403(client, phones, tmp_path):
    from toipkit.phone import Phone, sip_server_for

    settings = _settings(client, 102)
    phone = Phone(settings.username, settings.password + "x", sip_server_for(client))
    try:
        assert not phone.registered
        assert phone.dialogue().ladder() == ["REGISTER", "401 Unauthorized",
                                             "REGISTER", "403 Forbidden"]
        assert "403" in phone.registration_status
        assert settings.password not in repr(phone)
    finally:
        phone.close()


class _WriteLock:
    """Holds an SQLite database's write lock from another connection (another program)."""

    def __init__(self, path):
        import threading

        self.path = path
        self.locked, self.release = threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._hold)

    def _hold(self):
        import sqlite3

        conn = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            self.locked.set()
            self.release.wait(10)
            conn.execute("COMMIT")
        finally:
            conn.close()

    def __enter__(self):
        self.thread.start()
        assert self.locked.wait(5)
        return self

    def __exit__(self, *exc):
        self.release.set()
        self.thread.join()


def test_registration_waits_out_a_busy_database(sandbox_dir, phones):
    """Another program holding the registrar's SQLite write lock for a moment (the sandbox
    publishing a table) delays a REGISTER; it does not refuse it with a 500 (kamailio's SQLite
    driver gives up at once on a lock)."""
    import threading

    with _WriteLock(registrar.status(sandbox_dir).db_path) as lock:
        threading.Timer(0.15, lock.release.set).start()  # 150 ms: a slow write, loaded host
        phone = phones("103", register=False)
        assert phone.register(timeout=5), phone.registration_status


def test_call_records_do_not_wait_for_the_registrations(sandbox_dir, phones):
    """The call records live in a database of their own: a call answered and ended while the
    registrations' database is locked is still recorded."""
    caller = phones("102")
    phones("103", auto_answer=True)
    before = len(registrar.call_records(sandbox_dir))
    with _WriteLock(registrar.status(sandbox_dir).db_path):
        call = caller.call("103", duration=1.0)
    assert call.answered
    records = registrar.call_records(sandbox_dir)[before:]
    assert [(r["caller"], r["callee"], r["outcome"], bool(r["ended"])) for r in records] == [
        ("102", "103", "answered", True)]


def test_line_created_after_start_registers_at_once(client, phones):
    from toipkit.xivo import lab

    lab.create_user_with_line(client, "Ciri", "Cintra", 104)
    try:
        assert phones("104").registered
    finally:
        lab.delete_user_with_line(client, "Ciri", "Cintra")


def test_call_is_routed_by_number_and_recorded(sandbox_dir, phones):
    caller, callee = phones("101"), phones("102", auto_answer=True)
    call = caller.call("102", duration=1.5)
    assert call.answered and call.status == "terminé"
    incoming = callee.calls[-1]
    assert incoming.direction == "entrant" and incoming.peer == "101"
    ladder = caller.dialogue().ladder()
    invite = ladder.index("INVITE")
    # XiVO authenticates calls too: INVITE, 401, ACK, then the authenticated INVITE.
    assert ladder[invite:invite + 3] == ["INVITE", "401 Unauthorized", "ACK"]
    rest = ladder[invite + 3:]
    for expected in ("INVITE", "100 trying", "180 Ringing", "200", "ACK", "BYE", "200 OK"):
        assert any(m.startswith(expected) for m in rest), (expected, rest)
    records = [r for r in registrar.call_records(sandbox_dir) if r["caller"] == "101"
               and r["callee"] == "102"]
    assert records and records[-1]["outcome"] == "answered" and records[-1]["ended"]


def test_caller_is_presented_by_number_and_name(phones):
    caller, callee = phones("103"), phones("101", auto_answer=True)
    caller.call("101", duration=0.5)
    invite = next(m for m in callee.dialogue() if m.first_line.startswith("INVITE"))
    assert "sip:103@" in invite.header("From")
    assert "Jaskier Pankratz" in invite.header("From")


def test_unknown_number_gets_404(sandbox_dir, phones):
    call = phones("101").call("999")
    assert not call.answered
    assert "404" in call.end_reason
    assert registrar.call_records(sandbox_dir)[-1]["outcome"] == "404"


def test_unregistered_phone_gets_480(phones):
    call = phones("101").call("103")
    assert not call.answered
    assert "480" in call.end_reason


def test_busy_phone_gets_486(phones):
    a, _b, c = phones("101"), phones("102", auto_answer=True), phones("103")
    first = a.call("102")
    assert first.answered
    second = c.call("102")
    assert not second.answered and "486" in second.end_reason
    a.hangup()


def test_dtmf_reaches_the_other_phone(phones):
    caller, callee = phones("101"), phones("102", auto_answer=True)
    caller.call("102", dtmf="6789", duration=2.5)
    assert "".join(callee.calls[-1].dtmf_received) == "6789"


def _tone_energy(samples, frequency):
    import numpy as np

    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64))) ** 2
    freqs = np.fft.rfftfreq(len(samples), 1 / 8000)
    band = (freqs > frequency - 60) & (freqs < frequency + 60)
    return float(spectrum[band].sum() / max(spectrum.sum(), 1e-9))


def test_back_to_back_calls_each_keep_their_own_recording(phones):
    """Short calls to 102 one after the other (several in the same second), from two phones
    playing different tones: each of 102's recordings is its own call's (not the next call's
    audio, not overwritten by it), and so is what each caller recorded as sent."""
    import numpy as np

    from toipkit.tts.audio import Audio, read_sound

    callee = phones("102", auto_answer=True, answer_delay=0.0)
    tones = {"101": 600.0, "103": 1500.0}
    callers = {number: phones(number) for number in tones}
    t = np.arange(8000 * 3) / 8000
    made = []
    for number in ["101", "103", "101", "103"]:
        tone = Audio((np.sin(2 * np.pi * tones[number] * t) * 8000).astype(np.int16), 8000)
        call = callers[number].call("102", play=tone, duration=0.4)
        assert call.answered, call.end_reason
        made.append((number, call, callee.calls[-1]))
    assert [incoming.peer for _n, _c, incoming in made] == ["101", "103", "101", "103"]
    assert len({incoming.recording_path for _n, _c, incoming in made}) == 4
    for number, call, incoming in made:
        other = tones["103" if number == "101" else "101"]
        heard = incoming.recording().samples
        assert _tone_energy(heard, tones[number]) > 0.3, number
        assert _tone_energy(heard, other) < 0.01, number
        sent = read_sound(call.sent_path).samples
        assert _tone_energy(sent, tones[number]) > 0.3, number


def test_killed_owner_leaves_no_phone_behind(client, tmp_path):
    """Phones die with the Python process that made them, even killed with SIGKILL."""
    from toipkit.phone import sip_server_for

    settings = _settings(client, 101)
    script = (
        "import sys, time\n"
        "from toipkit.phone import Phone\n"
        "p = Phone(sys.argv[1], sys.argv[2], sys.argv[3])\n"
        "print(p.agent.process.pid, flush=True)\n"
        "time.sleep(60)\n")
    env = dict(os.environ, TOIPKIT_HOME=str(tmp_path))
    owner = subprocess.Popen([sys.executable, "-c", script, settings.username,
                              settings.password, sip_server_for(client)],
                             stdout=subprocess.PIPE, text=True, env=env)
    agent_pid = int(owner.stdout.readline())
    assert Path(f"/proc/{agent_pid}").exists()
    owner.send_signal(signal.SIGKILL)
    owner.wait()
    deadline = time.monotonic() + 5
    while Path(f"/proc/{agent_pid}").exists() and time.monotonic() < deadline:
        _reap(agent_pid)
        time.sleep(0.05)
    assert not _running(agent_pid)


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_start_stop_twenty_times_leaves_nothing(tmp_path):
    """Each stop takes kamailio down with the server: no process, no port left behind."""
    from toipkit.phone.sipprobe import options_ping
    from toipkit.xivo import sandbox

    data_dir = tmp_path / "cycles"
    seen = []
    for _ in range(20):
        sandbox.start(data_dir=data_dir)
        info = registrar.status(data_dir)
        assert info is not None
        seen.append(info)
        sandbox.stop(data_dir)
        assert registrar.status(data_dir) is None
    for info in seen:
        assert not _running(info.pid)
        assert options_ping(info.host, info.port, timeout=0.2) is None
    assert not _kamailio_of(data_dir)


def test_killed_sandbox_server_takes_its_registrar_down(tmp_path):
    from toipkit.xivo import sandbox

    data_dir = tmp_path / "killed"
    server = sandbox.start(data_dir=data_dir)
    info = registrar.status(data_dir)
    os.kill(server.pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while _kamailio_of(data_dir) and time.monotonic() < deadline:
        _reap(server.pid)
        time.sleep(0.05)
    assert not _kamailio_of(data_dir)
    assert not _running(info.pid)


def _kamailio_of(data_dir: Path) -> list[int]:
    marker = str(data_dir.resolve() / "registrar").encode()
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if b"kamailio" in cmdline and marker in cmdline and _running(int(proc.name)):
            found.append(int(proc.name))
    return found


def _unprivileged_python() -> list[str] | None:
    """A Python that the user ``nobody`` can run with this checkout and its packages."""
    import site
    import sysconfig

    repo = str(Path(__file__).resolve().parents[2])
    purelib = sysconfig.get_paths()["purelib"]
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    for exe in (sys.executable, f"/usr/bin/python{version}"):
        probe = subprocess.run(["runuser", "-u", "nobody", "--", exe, "-c",
                                "import sys; sys.path[:0] = sys.argv[1:]; import numpy, httpx",
                                repo, purelib, *site.getsitepackages()],
                               capture_output=True, text=True)
        if probe.returncode == 0:
            return [exe]
    return None


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("runuser") is None,
                    reason="needs root to run a part of the test as an unprivileged user")
def test_lab_network_works_for_a_non_root_user():
    """The Binder case: no root, no capabilities — the sandbox, registration, calls work."""
    import sysconfig

    python = _unprivileged_python()
    if python is None:
        pytest.skip("no Python interpreter, checkout or packages readable by the user nobody")
    import tempfile

    # pytest's own temporary folders are private to root: the student's home is elsewhere.
    home = Path(tempfile.mkdtemp(prefix="toipkit-student-"))
    shutil.chown(home, "nobody", "nogroup")
    request_cleanup = lambda: shutil.rmtree(home, ignore_errors=True)  # noqa: E731
    script = Path(__file__).with_name("nonroot_call.py")
    repo = str(Path(__file__).resolve().parents[2])
    result = subprocess.run(
        ["runuser", "-u", "nobody", "--", *python, str(script)],
        env={"PATH": os.environ["PATH"], "TOIPKIT_HOME": str(home), "HOME": str(home),
             "PYTHONPATH": os.pathsep.join([repo, sysconfig.get_paths()["purelib"]])},
        capture_output=True, text=True, timeout=120)
    request_cleanup()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "registered 101 102" in result.stdout
    assert "answered True" in result.stdout
    assert "recording True" in result.stdout


def test_a_phone_whose_control_connection_broke_still_closes(client, phones):
    """A baresip that is going away (its control socket closed) gives a French AgentError, and
    closing the phone, as a notebook or a fixture does at the end, does not raise."""
    import socket

    from toipkit.phone.baresip import AgentError

    phone = phones("101")
    phone.agent._sock.shutdown(socket.SHUT_WR)  # our end can no longer send: EPIPE
    with pytest.raises(AgentError, match="le téléphone est arrêté"):
        phone.agent.command("reginfo")
    phone.close()  # with a call up, close() hangs up first: that error is suppressed there
