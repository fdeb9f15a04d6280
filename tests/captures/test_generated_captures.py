"""The committed sample captures (data/captures/) match data/manifest.json and tshark 4.0.17."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "data"
SCRIPTS = REPO / "scripts"
TSHARK = shutil.which("tshark")
needs_tshark = pytest.mark.skipif(TSHARK is None, reason="tshark not installed")

sys.path.insert(0, str(SCRIPTS))
import pcaptool  # noqa: E402

MANIFEST = json.loads((DATA / "manifest.json").read_text(encoding="utf-8"))
ENTRIES = {e["name"]: e for e in MANIFEST["captures"]}
NAMES = sorted(ENTRIES)


def tshark(*args: str) -> str:
    proc = subprocess.run([TSHARK, *args], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, LC_ALL="C"))
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def path_of(name: str) -> Path:
    return DATA / ENTRIES[name]["file"]


def test_manifest_lists_the_five_captures():
    assert set(NAMES) == {"register", "call", "ivr", "failed", "impaired"}
    assert MANIFEST["tools"]["tshark"] == "4.0.17"
    assert MANIFEST["seed"] == 20261127
    for entry in MANIFEST["captures"]:
        assert entry["title"] and entry["description"] and entry["shows"]
        assert "seed" in entry["seeds"]


@pytest.mark.parametrize("name", NAMES)
def test_size_and_format(name):
    path = path_of(name)
    assert path.stat().st_size == ENTRIES[name]["bytes"] <= 2 * 1024 * 1024
    magic = path.read_bytes()[:4]
    if ENTRIES[name]["format"] == "pcapng":
        assert magic == b"\x0a\x0d\x0d\x0a"
    else:
        assert magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1")


@pytest.mark.parametrize("name", NAMES)
def test_content_digest_matches_manifest(name):
    """Timestamp-free content (per UDP flow) is what the generator recorded."""
    digest = pcaptool.content_digest(str(path_of(name)))
    assert digest == ENTRIES[name]["content_digest"]


@needs_tshark
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("stat", ["rtp_streams", "sip_stat"])
def test_tshark_statistics_equal_manifest(name, stat):
    z = {"rtp_streams": "rtp,streams", "sip_stat": "sip,stat"}[stat]
    live = tshark("-n", "-q", "-r", str(path_of(name)), "-z", z)
    assert live == ENTRIES[name]["tshark"][stat]


@needs_tshark
@pytest.mark.parametrize("name", NAMES)
def test_sip_messages_and_rtp_stream_count(name):
    out = tshark("-n", "-r", str(path_of(name)), "-Y", "sip", "-T", "fields",
                 "-e", "sip.Method", "-e", "sip.Status-Code")
    messages = [(m or s) for m, s in (line.split("\t") for line in out.splitlines())]
    assert messages == ENTRIES[name]["sip_messages"]
    rows = [ln for ln in ENTRIES[name]["tshark"]["rtp_streams"].splitlines()[2:-1] if ln.strip()]
    assert len(rows) == ENTRIES[name]["rtp_streams"]
    frames = tshark("-n", "-r", str(path_of(name)), "-T", "fields", "-e", "frame.number")
    assert len(frames.split()) == ENTRIES[name]["packets"]


EXPECTED_SEQUENCES = {
    "register": ["REGISTER", "401", "REGISTER", "200"] * 3,
    "call": ["INVITE", "100", "180", "200", "ACK", "BYE", "200"],
    "ivr": ["INVITE", "100", "180", "200", "ACK", "BYE", "200"],
    "failed": ["INVITE", "100", "486", "ACK", "INVITE", "100", "180", "CANCEL", "200", "487",
               "ACK"],
    "impaired": ["INVITE", "100", "180", "200", "ACK", "BYE", "200"],
}


@pytest.mark.parametrize("name", NAMES)
def test_expected_scenario(name):
    """What issue 3 asks each capture to show (independent of how the manifest was made)."""
    assert ENTRIES[name]["sip_messages"] == EXPECTED_SEQUENCES[name]
    assert ENTRIES[name]["rtp_streams"] == (2 if name in ("call", "ivr", "impaired") else 0)


@needs_tshark
def test_register_has_digest_challenge_and_authorization():
    path = path_of("register")
    www = tshark("-n", "-r", str(path), "-Y", "sip.Status-Code == 401", "-T", "fields",
                 "-e", "sip.WWW-Authenticate")
    assert www.count("Digest") == 3 and 'realm="xivo.local"' in www
    auth = tshark("-n", "-r", str(path), "-Y", "sip.Method == REGISTER and sip.Authorization",
                  "-T", "fields", "-e", "sip.Authorization")
    users = sorted(line.split('username="')[1].split('"')[0] for line in auth.splitlines())
    assert users == ["101", "102", "103"]


@needs_tshark
def test_call_streams_are_g711_both_ways():
    text = ENTRIES["call"]["tshark"]["rtp_streams"]
    rows = text.splitlines()[2:-1]
    pairs = {(r.split()[2], r.split()[4]) for r in rows}
    assert pairs == {("127.0.0.101", "127.0.0.102"), ("127.0.0.102", "127.0.0.101")}
    assert all(" g711U " in r and " 0 (0.0%) " in r for r in rows)


@needs_tshark
def test_ivr_dtmf_digits():
    out = tshark("-n", "-r", str(path_of("ivr")), "-Y", "rtpevent", "-T", "fields",
                 "-e", "rtp.timestamp", "-e", "rtpevent.event_id", "-e", "rtpevent.end_of_event")
    names = {10: "*", 11: "#"}
    digits, seen = [], set()
    for line in out.splitlines():
        ts, event, _end = line.split("\t")
        if ts not in seen:
            seen.add(ts)
            digits.append(names.get(int(event), str(event)))
    assert "".join(digits) == ENTRIES["ivr"]["dtmf"]["digits"] == "#2101#"
    assert "g711U, telephone-event" in ENTRIES["ivr"]["tshark"]["rtp_streams"]


@needs_tshark
def test_impaired_loss_is_what_the_relay_dropped():
    """tshark's Lost column equals the number of packets the seeded relay dropped."""
    imp = ENTRIES["impaired"]["impairment"]
    rows = ENTRIES["impaired"]["tshark"]["rtp_streams"].splitlines()[2:-1]
    lost = {}
    for row in rows:
        f = row.split()
        lost[f[4]] = int(re.search(r" (-?\d+) \(\d+\.\d%\)", row).group(1))  # dst -> Lost
    assert lost["127.0.0.102"] == imp["directions"]["caller->callee"]["dropped"] > 0
    assert lost["127.0.0.101"] == imp["directions"]["callee->caller"]["dropped"] > 0
    assert all(row.rstrip().endswith("X") for row in rows)  # reordering -> sequence errors


# --------------------------------------------------------------------------- determinism

def _rtp(seq: int, ts: int) -> bytes:
    return struct.pack("!BBHII", 0x80, 8, seq, ts, 0x1234ABCD) + b"\xd5" * 160


def _run_relay(tmp_path: Path, seed: int, tag: str) -> tuple[list[int], dict]:
    ip, pa, pb = "127.0.0.61", 17500, 17502
    caller = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    caller.bind(("127.0.0.62", 0))
    callee = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    callee.bind(("127.0.0.63", 0))
    report, ready = tmp_path / f"{tag}.json", tmp_path / f"{tag}.ready"
    proc = subprocess.Popen(
        [sys.executable, str(SCRIPTS / "udp_relay.py"), "--ip", ip, "--port-a", str(pa),
         "--port-b", str(pb), "--caller", f"127.0.0.62:{caller.getsockname()[1]}",
         "--callee", f"127.0.0.63:{callee.getsockname()[1]}", "--seed", str(seed),
         "--loss", "0.1", "--delay", "5", "--jitter", "10", "--report", str(report),
         "--ready-file", str(ready)])
    try:
        for _ in range(200):
            if ready.exists():
                break
            time.sleep(0.02)
        for i in range(60):
            caller.sendto(_rtp(1000 + i, 160 * i), (ip, pb))
            time.sleep(0.002)
        callee.settimeout(0.5)
        got = []
        while True:
            try:
                got.append(struct.unpack_from("!H", callee.recv(2048), 2)[0])
            except TimeoutError:
                break
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        caller.close()
        callee.close()
    return got, json.loads(report.read_text())


def test_relay_is_deterministic(tmp_path):
    got1, rep1 = _run_relay(tmp_path, 7, "a")
    got2, rep2 = _run_relay(tmp_path, 7, "b")
    d1 = rep1["directions"]["caller->callee"]
    d2 = rep2["directions"]["caller->callee"]
    assert d1["received"] == 60 and d1["forwarded"] == len(got1)
    assert d1["dropped_seq"] == d2["dropped_seq"] and d1["dropped"] > 0
    assert got1 == got2  # same packets, same order (reordering included)
    assert sorted(got1) == sorted(set(range(1000, 1060)) - set(d1["dropped_seq"]))
    _, rep3 = _run_relay(tmp_path, 8, "c")
    assert rep3["directions"]["caller->callee"]["dropped_seq"] != d1["dropped_seq"]


@pytest.mark.skipif(not all(shutil.which(t) for t in ("sipp", "dumpcap", "tshark", "espeak-ng",
                                                       "sox")),
                    reason="sipp/dumpcap/tshark/espeak-ng/sox not installed")
@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() != 0,
                    reason="capturing on lo and SIPp raw sockets need root")
def test_regenerating_gives_the_same_content(tmp_path):
    """Re-run the generator for the (quick) busy/cancel capture: same content as committed."""
    listed = subprocess.run(["dumpcap", "-D"], capture_output=True, text=True)
    if listed.returncode != 0 or ". lo" not in listed.stdout:
        pytest.skip("dumpcap cannot capture on lo here")
    proc = subprocess.run(
        [sys.executable, str(SCRIPTS / "make_captures.py"), "--only", "failed",
         "--out-dir", str(tmp_path), "--check"],
        capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("content identical to data/manifest.json") == 1
