"""toipkit's rtp,streams / sip,stat against TShark 4.0.17, on real and generated captures."""

from __future__ import annotations

from pathlib import Path

import pytest
from pcap_helpers import (
    REPO,
    SHARED_TESTDATA,
    needs_tshark,
    parse_sip_stat,
    tshark_rtp_and_sip,
)

from toipkit.pcap import read_capture


def _captures() -> list[Path]:
    found = []
    if SHARED_TESTDATA.is_dir():
        for p in sorted(SHARED_TESTDATA.iterdir()):
            if p.is_file() and p.suffix not in (".txt", ".tsv", ".md"):
                found.append(p)
    data = REPO / "data" / "captures"
    if data.is_dir():
        for pattern in ("*.pcap", "*.pcapng", "*.cap"):
            found.extend(sorted(data.glob(pattern)))
    return found


CAPTURES = _captures()
IDS = [p.name for p in CAPTURES]


def _manifest() -> dict:
    import json

    mf = REPO / "data" / "manifest.json"
    if not mf.exists():
        return {}
    try:
        entries = json.loads(mf.read_text()).get("captures", [])
    except ValueError:
        return {}
    return {(REPO / "data" / e["file"]).resolve(): e.get("tshark", {}) for e in entries
            if isinstance(e, dict) and "file" in e}


MANIFEST = _manifest()


def _stored(path: Path, kind: str) -> str | None:
    """tshark's output stored beside the capture, or in data/manifest.json."""
    for cand in (path.with_name(path.name + f".{kind}.txt"),
                 path.with_name(path.stem + f".{kind}.txt")):
        if cand.exists():
            return cand.read_text()
    text = MANIFEST.get(path.resolve(), {}).get(kind)
    return text if isinstance(text, str) else None


@pytest.mark.skipif(not CAPTURES, reason="no conformance captures available")
@pytest.mark.parametrize("path", CAPTURES, ids=IDS)
def test_rtp_streams_identical_to_stored_output(path):
    stored = _stored(path, "rtp_streams")
    if stored is None:
        pytest.skip("no stored tshark output")
    assert read_capture(path).rtp_streams_text() == stored


@needs_tshark
@pytest.mark.skipif(not CAPTURES, reason="no conformance captures available")
@pytest.mark.parametrize("path", CAPTURES, ids=IDS)
def test_rtp_streams_and_sip_stat_identical_to_live_tshark(path):
    cap = read_capture(path)
    live_rtp, live = tshark_rtp_and_sip(path)
    assert cap.rtp_streams_text() == live_rtp
    text = cap.sip_stat_text()
    theirs = parse_sip_stat(live)
    assert parse_sip_stat(text) == theirs
    assert text == live  # line order too (GLib hash-table order)
    stored = _stored(path, "sip_stat")
    if stored is not None:
        assert parse_sip_stat(stored) == theirs


@pytest.mark.skipif(not (SHARED_TESTDATA / "SIP_DTMF2.cap").exists(), reason="no SIP_DTMF2.cap")
def test_dtmf_digits_of_sip_dtmf2():
    cap = read_capture(SHARED_TESTDATA / "SIP_DTMF2.cap")
    assert cap.dtmf.digits == "6789123"
    tsv = SHARED_TESTDATA / "SIP_DTMF2.cap.rtpevents.tsv"
    if tsv.exists():
        rows = [line.split("\t") for line in tsv.read_text().splitlines() if line.strip()]
        first_frames = [int(r[0]) for r in rows if r[5] == "1"]
        assert [e.first_frame for e in cap.dtmf] == first_frames
        assert all(e.packets == 5 and e.ended and e.volume == 7 for e in cap.dtmf)
        assert [e.duration_ms for e in cap.dtmf] == [120.0] * 7


@pytest.mark.skipif(not (SHARED_TESTDATA / "SIP_DTMF2.cap").exists(), reason="no SIP_DTMF2.cap")
def test_sip_stat_text_identical_for_sip_dtmf2():
    cap = read_capture(SHARED_TESTDATA / "SIP_DTMF2.cap")
    assert cap.sip_stat_text() == (SHARED_TESTDATA / "SIP_DTMF2.cap.sip_stat.txt").read_text()
