from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SHARED_TESTDATA = REPO.parent / "shared" / "testdata"
TSHARK = shutil.which("tshark")

needs_tshark = pytest.mark.skipif(TSHARK is None, reason="tshark not installed")


def tshark_text(path, *args: str) -> str:
    """Output of ``tshark -q -z ... -r path`` (default preferences)."""
    proc = subprocess.run([TSHARK, "-n", "-q", *args, "-r", str(path)], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def tshark_rtp_streams(path) -> str:
    return tshark_text(path, "-z", "rtp,streams")


def tshark_rtp_and_sip(path) -> tuple[str, str]:
    """(rtp,streams text, sip,stat text) from one tshark run (taps print in reverse order)."""
    out = tshark_text(path, "-z", "rtp,streams", "-z", "sip,stat")
    cut = out.index("========================= RTP Streams")
    return out[cut:], out[:cut]


def parse_sip_stat(text: str) -> dict:
    """Counts from a ``sip,stat`` text (tshark's or ours)."""
    out = {"responses": {}, "requests": {}}
    m = re.search(r"Number of SIP messages: (\d+)", text)
    out["messages"] = int(m.group(1)) if m else None
    m = re.search(r"Number of resent SIP messages: (\d+)", text)
    out["resent"] = int(m.group(1)) if m else None
    section = None
    for line in text.splitlines():
        if line.startswith("* SIP Status Codes"):
            section = "responses"
            continue
        if line.startswith("* List of SIP Request methods"):
            section = "requests"
            continue
        if line.startswith("* Average setup time"):
            out["setup_avg"] = int(line.split()[-2])
            section = None
            continue
        if line.startswith(" Min "):
            out["setup_min"] = int(line.split()[1])
        if line.startswith(" Max "):
            out["setup_max"] = int(line.split()[1])
        if section == "responses":
            m = re.match(r"\s+SIP (\d+) .*: +(\d+) Packets", line)
            if m:
                out["responses"][int(m.group(1))] = int(m.group(2))
        elif section == "requests":
            m = re.match(r"\s+(\S+)\s+: +(\d+) Packets", line)
            if m:
                out["requests"][m.group(1)] = int(m.group(2))
    return out
