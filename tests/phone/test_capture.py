"""Live capture with the real dumpcap on lo, checked with tshark and toipkit.pcap."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from toipkit.paths import data_path
from toipkit.phone.capture import LiveCapture, LiveCaptureError, capture, ports_filter
from toipkit.phone.ports import free_port

HOST = "127.0.0.1"
SAMPLE = data_path("captures", "call-101-102.pcapng")

can_capture = pytest.mark.skipif(
    not (shutil.which("dumpcap") and shutil.which("tshark") and os.geteuid() == 0),
    reason="needs dumpcap and tshark, and root to capture on lo")


@pytest.fixture(autouse=True)
def _state_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("TOIPKIT_HOME", str(tmp_path / "home"))


def send_datagrams(port: int, count: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for i in range(count):
            s.sendto(b"OPTIONS sip:probe@127.0.0.1 SIP/2.0\r\n\r\n%d" % i, (HOST, port))


def tshark_count(path) -> int:
    out = subprocess.run(["tshark", "-r", str(path), "-T", "fields", "-e", "frame.number"],
                         capture_output=True, text=True, check=True).stdout
    return len(out.split())


def dumpcap_children() -> list[int]:
    """dumpcap processes whose parent is this test process."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        parent = int(stat[stat.rindex(")") + 2:].split()[1])
        if name == "dumpcap" and parent == os.getpid():
            found.append(int(entry.name))
    return found


@can_capture
def test_live_capture_of_real_traffic(tmp_path):
    wanted, other = free_port(HOST), free_port(HOST)
    with capture(ports=[wanted]) as cap:
        assert cap.running
        send_datagrams(wanted, 7)
        send_datagrams(other, 5)  # outside the filter
    assert cap.live and not cap.running and cap.message == ""
    assert cap.path.parent == tmp_path / "home" / "captures"
    assert cap.path.suffix == ".pcapng" and cap.path.exists()
    assert list(cap.path.parent.glob("*.part")) == []
    assert tshark_count(cap.path) == 7  # the reference reading of the file
    assert cap.packet_count == 7
    assert cap.open().packet_count == 7
    text = cap._repr_markdown_()
    assert "Capture en direct terminée" in text and "7 paquets" in text
    assert f"port {wanted}" in text
    assert dumpcap_children() == []


@can_capture
def test_capture_to_a_given_path_with_a_filter(tmp_path):
    target = tmp_path / "out" / "probe.pcapng"
    port = free_port(HOST)
    with capture(f"udp dst port {port}", path=target) as cap:
        send_datagrams(port, 3)
    assert cap.path == target and tshark_count(target) == 3


@can_capture
def test_a_failing_cell_still_stops_dumpcap():
    port = free_port(HOST)
    with pytest.raises(ZeroDivisionError):
        with capture(ports=port) as cap:
            pid = cap.pid
            assert pid in dumpcap_children()
            send_datagrams(port, 2)
            1 / 0  # noqa: B018 (the cell's error)
    assert dumpcap_children() == []
    assert not Path(f"/proc/{pid}").exists()
    assert cap.live and tshark_count(cap.path) == 2


KERNEL_SNIPPET = """
import sys, time
from toipkit.phone.capture import capture
cap = capture(ports=[int(sys.argv[1])]).start()
print(cap.pid, flush=True)
time.sleep(60)
"""


def process_alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"  # a zombie has stopped already


@can_capture
def test_dumpcap_dies_with_the_kernel(tmp_path):
    """A kernel killed in the middle of a capture (SIGKILL: no cleanup code runs) takes its
    dumpcap with it."""
    kernel = subprocess.Popen([sys.executable, "-c", KERNEL_SNIPPET, str(free_port(HOST))],
                              stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "TOIPKIT_HOME": str(tmp_path)})
    try:
        pid = int(kernel.stdout.readline())
        assert process_alive(pid)
    finally:
        kernel.kill()
        kernel.wait()
    deadline = time.monotonic() + 10
    while process_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not process_alive(pid)


@can_capture
def test_bad_filter_is_a_clear_error():
    with pytest.raises(LiveCaptureError, match="filtre de capture 'udp and prt 5'"):
        with capture("udp and prt 5", fallback=SAMPLE):
            pass
    assert dumpcap_children() == []


def test_missing_dumpcap_falls_back_to_the_sample():
    cap = LiveCapture(fallback=SAMPLE, dumpcap="/nonexistent/dumpcap")
    with cap:
        pass
    assert not cap.live and cap.path == SAMPLE
    assert "enregistrement d'exemple call-101-102.pcapng" in cap.message
    assert cap.open().packet_count == tshark_count(SAMPLE)


def test_no_fallback_says_so_on_open():
    with LiveCapture(dumpcap="/nonexistent/dumpcap") as cap:
        pass
    assert cap.path is None and "aucun enregistrement" in cap.message
    with pytest.raises(LiveCaptureError, match="aucun enregistrement"):
        cap.open()


@pytest.mark.parametrize("ports, expected", [
    (5060, "udp and (port 5060)"),
    ([5060, (10000, 20000)], "udp and (port 5060 or portrange 10000-20000)"),
])
def test_ports_filter_is_valid_bpf(ports, expected):
    text = ports_filter(ports)
    assert text == expected
    if shutil.which("dumpcap") and os.geteuid() == 0:
        # dumpcap -d compiles the filter for lo: the reference says it is valid.
        subprocess.run(["dumpcap", "-i", "lo", "-f", text, "-d"], check=True,
                       capture_output=True)


@pytest.mark.parametrize("kwargs, expected", [
    ({"filter": "tcp", "ports": 5060}, "tcp and (port 5060)"),
    ({"filter": "host 127.0.0.1", "ports": [(4000, 4010)]},
     "(host 127.0.0.1) and (portrange 4000-4010)"),
])
def test_ports_combine_with_the_filter(kwargs, expected):
    assert LiveCapture(**kwargs).filter == expected


def test_bad_ports_are_refused():
    with pytest.raises(ValueError):
        ports_filter([(20000, 10000)])
    with pytest.raises(ValueError):
        ports_filter([70000])


NOT_ROOT_SNIPPET = """
import json, sys
from toipkit.phone.capture import capture
with capture(ports=[5060], fallback=sys.argv[1]) as cap:
    pass
print(json.dumps({"live": cap.live, "path": str(cap.path), "message": cap.message,
                  "markdown": cap._repr_markdown_(), "packets": cap.open().packet_count}))
"""


def test_without_rights_the_sample_is_used_with_a_french_message():
    """The Binder case: an ordinary user, dumpcap without capabilities."""
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or not setpriv or not shutil.which("dumpcap"):
        pytest.skip("needs root (to become nobody), setpriv and dumpcap")
    become = [setpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
    home = tempfile.mkdtemp(prefix="toipkit-nobody-")
    os.chmod(home, 0o777)
    env = {**os.environ, "TOIPKIT_HOME": home, "HOME": home}
    try:
        probe = subprocess.run([*become, sys.executable, "-c", "import toipkit.phone.capture"],
                               capture_output=True, text=True, env=env, cwd=home)
        if probe.returncode != 0:
            pytest.skip(f"user nobody cannot run this Python/venv: {probe.stderr.strip()[-200:]}")
        run = subprocess.run([*become, sys.executable, "-c", NOT_ROOT_SNIPPET, str(SAMPLE)],
                             capture_output=True, text=True, env=env, cwd=home, timeout=60)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    result = json.loads(run.stdout.splitlines()[-1])
    assert result["live"] is False and result["path"] == str(SAMPLE)
    assert result["message"] == (
        "La capture en direct n'est pas autorisée ici (pas de droits sur l'interface lo) : "
        "on utilise l'enregistrement d'exemple call-101-102.pcapng.")
    assert result["markdown"].startswith("**Pas de capture en direct.** La capture en direct")
    assert result["packets"] == tshark_count(SAMPLE)
