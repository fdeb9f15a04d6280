"""Damaged captures: a CaptureFormatError naming the frame/offset, or partial results + warning."""

from __future__ import annotations

import os
import tempfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from synth import CallSpec, Leg, call_packets, frames_for, write_pcap, write_pcapng

from toipkit.errors import CaptureFormatError
from toipkit.pcap import read_capture


def _sample(fmt: str) -> bytes:
    spec = CallSpec(mtu=300, legs=[Leg(ssrc=1, count=30, dtmf="5"), Leg(ssrc=2, count=30)])
    pk = call_packets(spec, seed=2)
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "x")
        if fmt == "pcap":
            write_pcap(path, frames_for(pk, "eth"), 1)
        else:
            write_pcapng(path, [(ts, f, 0) for ts, f in frames_for(pk, "sll")], [(113, 9)])
        with open(path, "rb") as fh:
            return fh.read()


SAMPLES = {"pcap": _sample("pcap"), "pcapng": _sample("pcapng")}
FUZZ = settings(max_examples=60, deadline=2000, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


def _read(data: bytes):
    fd, path = tempfile.mkstemp(suffix=".cap")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        try:
            cap = read_capture(path)
        except CaptureFormatError as exc:
            assert exc.frame is not None or exc.offset is not None, str(exc)
            assert path in str(exc)
            return None
        # whatever we got must be printable
        cap.rtp_streams_text()
        cap.sip_stat_text()
        _ = cap.calls, cap.registrations, cap.dtmf.digits
        return cap
    finally:
        os.unlink(path)


@pytest.mark.parametrize("fmt", ["pcap", "pcapng"])
def test_clean_sample_reads(fmt):
    cap = _read(SAMPLES[fmt])
    assert cap is not None and not cap.warnings
    assert len(cap.rtp_streams) == 2 and cap.dtmf.digits == "5"


@FUZZ
@given(fmt=st.sampled_from(["pcap", "pcapng"]), cut=st.integers(min_value=0, max_value=30000))
def test_truncated(fmt, cut):
    data = SAMPLES[fmt]
    _read(data[:min(cut, len(data) - 1)])


@FUZZ
@given(fmt=st.sampled_from(["pcap", "pcapng"]),
       edits=st.lists(st.tuples(st.integers(min_value=0, max_value=40000),
                                st.integers(min_value=0, max_value=255)),
                      min_size=1, max_size=12))
def test_garbled(fmt, edits):
    data = bytearray(SAMPLES[fmt])
    for pos, val in edits:
        data[pos % len(data)] = val
    _read(bytes(data))


@FUZZ
@given(payload=st.binary(min_size=0, max_size=600), fmt=st.sampled_from(["pcap", "pcapng"]))
def test_random_bytes_after_header(payload, fmt):
    head = SAMPLES[fmt][:24] if fmt == "pcap" else SAMPLES[fmt][:28 + 32]
    _read(head + payload)


def test_not_a_capture(tmp_path):
    p = tmp_path / "notes.txt"
    p.write_text("hello, this is not a capture file\n")
    with pytest.raises(CaptureFormatError) as exc:
        read_capture(p)
    assert exc.value.offset == 0


def test_truncated_last_record_gives_partial_results_and_warning(tmp_path):
    data = SAMPLES["pcap"]
    p = tmp_path / "cut.pcap"
    p.write_bytes(data[:-30])
    cap = read_capture(p)
    assert any("tronquée" in w and "trame" in w for w in cap.warnings)
    assert len(cap.rtp_streams) == 2
    with pytest.raises(CaptureFormatError) as exc:
        read_capture(p, strict=True)
    assert exc.value.frame is not None and exc.value.offset is not None


def test_chunk_boundaries_do_not_matter(tmp_path):
    """Reading with tiny chunks (records split across reads) gives the same answer."""
    from toipkit.pcap import reader

    for fmt, data in SAMPLES.items():
        p = tmp_path / f"x.{fmt}"
        p.write_bytes(data)
        whole = read_capture(p).rtp_streams_text()
        old = reader.CHUNK_SIZE
        try:
            reader.CHUNK_SIZE = 997
            assert read_capture(p).rtp_streams_text() == whole
        finally:
            reader.CHUNK_SIZE = old


def test_corrupt_record_in_the_middle(tmp_path):
    """A record header with an absurd length: frames before it are analysed, with a warning."""
    import struct

    data = bytearray(SAMPLES["pcap"])
    pos, frame = 24, 1
    while frame < 40:
        pos += 16 + struct.unpack_from("<I", data, pos + 8)[0]
        frame += 1
    struct.pack_into("<I", data, pos + 8, 0x7FFFFFF0)
    p = tmp_path / "mid.pcap"
    p.write_bytes(bytes(data))
    cap = read_capture(p)
    assert cap.packet_count == 39
    assert any("trame 40" in w and f"octet {pos}" in w for w in cap.warnings), cap.warnings
    with pytest.raises(CaptureFormatError) as exc:
        read_capture(p, strict=True)
    assert exc.value.frame == 40 and exc.value.offset == pos
