"""pcapng as capture tools really write it (mixed block kinds and sizes), other formats, and
how the engine's cost grows with the number of calls."""

from __future__ import annotations

import random
import shutil
import struct
import subprocess
import sys

import pytest
from pcap_helpers import needs_tshark, tshark_rtp_and_sip, tshark_rtp_streams
from synth import CallSpec, Leg, call_packets, frames_for, write_pcap

from toipkit.cli import main
from toipkit.pcap import UnsupportedCaptureFormat, read_capture
from toipkit.pcap import reader as pcap_reader

EDITCAP = shutil.which("editcap")
needs_editcap = pytest.mark.skipif(EDITCAP is None, reason="editcap (Wireshark) not installed")


def _block(endian: str, btype: int, body: bytes) -> bytes:
    body += b"\0" * ((-len(body)) % 4)
    blen = 12 + len(body)
    return struct.pack(endian + "II", btype, blen) + body + struct.pack(endian + "I", blen)


def _opt(endian: str, code: int, value: bytes) -> bytes:
    return struct.pack(endian + "HH", code, len(value)) + value + b"\0" * ((-len(value)) % 4)


def _units(ts_ns: int, tsresol: int) -> int:
    if tsresol & 0x80:
        return (ts_ns << (tsresol & 0x7F)) // 1_000_000_000
    return ts_ns // 10 ** (9 - tsresol)


def _fake_epb(endian: str) -> bytes:
    """Bytes that look exactly like an enhanced packet block (inside a packet's payload)."""
    return _block(endian, 6, struct.pack(endian + "IIIII", 0, 0, 0, 4, 4) + b"RTP!")


EPOCH_NS = 1_700_000_000 * 1_000_000_000  # absolute times, so that offsets stay positive


def write_mixed_pcapng(path, frames, endian: str, seed: int) -> None:
    """Packets spread over three interfaces (µs, ns and 2^-20 s units, one with a time offset),
    with comments and flags on some packets, and custom, name-resolution, statistics and
    decryption-secrets blocks between them, the way dumpcap/Wireshark/editcap write files."""
    rnd = random.Random(seed)
    ifaces = [(1, 6, 0), (1, 9, 0), (1, 0x80 | 20, 1_000)]  # linktype, tsresol, tsoffset s
    out = [_block(endian, 0x0A0D0D0A, struct.pack(endian + "IHHq", 0x1A2B3C4D, 1, 0, -1)
                  + _opt(endian, 4, b"toipkit test") + _opt(endian, 0, b""))]
    for lt, res, off in ifaces:
        body = struct.pack(endian + "HHI", lt, 0, 262144) + _opt(endian, 9, bytes([res]))
        if off:
            body += _opt(endian, 14, struct.pack(endian + "q", off))
        out.append(_block(endian, 1, body + _opt(endian, 0, b"")))
    for n, (ts, data) in enumerate(frames):
        iface = rnd.randrange(len(ifaces))
        _lt, res, off = ifaces[iface]
        units = _units(EPOCH_NS + ts - off * 1_000_000_000, res)
        opts = b""
        if rnd.random() < 0.2:
            opts += _opt(endian, 1, f"frame {n + 1}".encode() * rnd.randint(1, 3))
        if rnd.random() < 0.1:
            opts += _opt(endian, 2, struct.pack(endian + "I", 1))
        if opts:
            opts += _opt(endian, 0, b"")
        body = struct.pack(endian + "IIIII", iface, units >> 32, units & 0xFFFFFFFF, len(data),
                           len(data))
        out.append(_block(endian, 6, body + data + b"\0" * ((-len(data)) % 4) + opts))
        r = rnd.random()
        if r < 0.03:  # custom block (copiable), private enterprise number, then data
            out.append(_block(endian, 0x00000BAD, struct.pack(endian + "I", 32473)
                              + bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 40)))))
        elif r < 0.04:  # name resolution block: one IPv4 record
            rec = struct.pack(endian + "HH", 1, 4 + 9) + bytes([10, 0, 0, 1]) + b"pbx.test\0"
            out.append(_block(endian, 4, rec + b"\0" * ((-len(rec)) % 4)
                              + struct.pack(endian + "HH", 0, 0)))
        elif r < 0.05:  # interface statistics
            out.append(_block(endian, 5, struct.pack(endian + "III", iface, units >> 32,
                                                     units & 0xFFFFFFFF)))
        elif r < 0.055:  # decryption secrets (TLS key log)
            secret = b"CLIENT_RANDOM 00 11\n"
            out.append(_block(endian, 10, struct.pack(endian + "II", 0x544C534B, len(secret))
                              + secret))
    with open(path, "wb") as fh:
        fh.write(b"".join(out))


def _calls(count: int, seed: int, payload: bytes = b"") -> list[tuple[int, bytes]]:
    packets = []
    for i in range(count):
        spec = CallSpec(caller=f"10.0.1.{i + 1}", callee="10.0.0.2", caller_rtp=40000 + 2 * i,
                        callee_rtp=6000, start_s=1 + 0.2 * i, call_id=f"layout-{i}@test",
                        legs=[Leg(ssrc=0x100 + i, count=60, dtmf="5" if i == 0 else "",
                                  cn_every=17, jitter_ms=1.5),
                              Leg(ssrc=0x200 + i, count=60, jitter_ms=0.5)])
        packets += call_packets(spec, seed=seed + i)
    packets.sort(key=lambda p: p[0])
    frames = frames_for(packets, "eth")
    if payload:  # append bytes to some RTP payloads (still valid RTP: just longer)
        frames = [(ts, f + payload if 80 < len(f) < 400 and k % 7 == 0 else f)
                  for k, (ts, f) in enumerate(frames)]
    return frames


@needs_tshark
@pytest.mark.parametrize("endian", ["<", ">"], ids=["le", "be"])
def test_pcapng_with_every_kind_of_block(tmp_path, endian):
    path = tmp_path / "mixed.pcapng"
    write_mixed_pcapng(path, _calls(4, seed=3), endian, seed=7)
    cap = read_capture(path)
    live_rtp, live_sip = tshark_rtp_and_sip(path)
    assert cap.rtp_streams_text() == live_rtp
    assert cap.sip_stat_text() == live_sip
    assert cap.dtmf.digits == "5"


@needs_tshark
def test_payloads_that_look_like_packet_blocks(tmp_path):
    # fake blocks inside packets break the block index's runs; the walk must resume exactly
    path = tmp_path / "decoy.pcapng"
    write_mixed_pcapng(path, _calls(3, seed=11, payload=_fake_epb("<") * 3), "<", seed=5)
    cap = read_capture(path)
    assert cap.rtp_streams_text() == tshark_rtp_and_sip(path)[0]
    assert cap.packet_count == int(subprocess.run(
        ["capinfos", "-Mc", str(path)], capture_output=True, text=True).stdout.split()[-1])


@needs_tshark
def test_small_chunks_cut_blocks_anywhere(tmp_path, monkeypatch):
    path = tmp_path / "mixed.pcapng"
    write_mixed_pcapng(path, _calls(2, seed=1), "<", seed=2)
    expected = tshark_rtp_streams(path)
    for size in (4093, 65536):
        monkeypatch.setattr(pcap_reader, "CHUNK_SIZE", size)
        assert read_capture(path).rtp_streams_text() == expected


@needs_tshark
@pytest.mark.parametrize("endian,nanos", [("<", False), (">", True)], ids=["le-us", "be-ns"])
def test_pcap_with_payloads_that_look_like_record_headers(tmp_path, monkeypatch, endian, nanos):
    frames = [(EPOCH_NS + ts, f) for ts, f in _calls(3, seed=9)]
    # a plausible record header (same second, small lengths) inside some payloads
    decoy = struct.pack(endian + "IIII", EPOCH_NS // 10**9 + 2, 5, 4, 4) + b"RTP!"
    frames = [(ts, f + decoy * 2 if k % 5 == 0 and 80 < len(f) < 400 else f)
              for k, (ts, f) in enumerate(frames)]
    path = tmp_path / "decoy.pcap"
    write_pcap(path, frames, 1, endian, nanos)
    expected = tshark_rtp_streams(path)
    for size in (pcap_reader.CHUNK_SIZE, 5003):
        monkeypatch.setattr(pcap_reader, "CHUNK_SIZE", size)
        cap = read_capture(path)
        assert cap.rtp_streams_text() == expected
        assert cap.packet_count == len(frames)


def _foreign(tmp_path, fmt: str):
    src = tmp_path / "src.pcap"
    write_pcap(src, _calls(2, seed=4), 1)
    out = tmp_path / f"trace.{fmt}.cap"
    subprocess.run([EDITCAP, "-F", fmt, str(src), str(out)], check=True, capture_output=True)
    return out


@needs_editcap
@pytest.mark.parametrize("fmt,name", [("netmon2", "Microsoft NetMon 2.x"),
                                      ("netmon1", "Microsoft NetMon 1.x"),
                                      ("snoop", "Sun snoop")])
def test_other_formats_are_named_with_the_conversion(tmp_path, fmt, name):
    path = _foreign(tmp_path, fmt)
    with pytest.raises(UnsupportedCaptureFormat) as err:
        read_capture(path)
    text = str(err.value)
    assert err.value.format_name == name
    assert "\n" not in text and name in text
    assert f"editcap -F pcapng {path} trace.{fmt}.pcapng" in text


@needs_tshark
@needs_editcap
def test_via_tshark_reads_a_netmon_capture_like_tshark(tmp_path, capsys):
    path = _foreign(tmp_path, "netmon2")
    cap = read_capture(path, via_tshark=True)
    assert cap.rtp_streams_text() == tshark_rtp_streams(path)
    assert any("converti de Microsoft NetMon 2.x en pcapng par editcap" in w for w in cap.warnings)
    assert main(["pcap", "rtp-streams", str(path)]) == 1
    err = capsys.readouterr().err
    assert "NetMon 2.x" in err and "--via-tshark" in err and "Traceback" not in err
    assert main(["pcap", "rtp-streams", "--no-progress", "--via-tshark", str(path)]) == 0
    assert capsys.readouterr().out == tshark_rtp_streams(path)


# Cost per call ---------------------------------------------------------------------------------

def _short_calls(path, calls: int) -> None:
    """``calls`` calls answered by one media port (as a PBX or sipp's uas does)."""
    packets = []
    for i in range(calls):
        spec = CallSpec(caller=f"10.{1 + i // 60000}.{i // 250 % 240}.{i % 250 + 1}",
                        callee="10.0.0.2", caller_rtp=10000 + 2 * (i % 25000),
                        callee_rtp=6000, start_s=1 + 0.01 * i, call_id=f"short-{i}@test",
                        legs=[Leg(ssrc=0x10000 + i, count=3), Leg(ssrc=0x20000 + i, count=3)])
        packets += call_packets(spec, seed=i)
    packets.sort(key=lambda p: p[0])
    write_pcap(path, frames_for(packets, "eth"), 1)


def _python_lines(path) -> int:
    """Python lines executed by read_capture (deterministic: an operation count, not a time)."""
    count = 0

    def tracer(frame, event, arg):
        nonlocal count
        if event == "line":
            count += 1
        return tracer

    sys.settrace(tracer)
    try:
        read_capture(path)
    finally:
        sys.settrace(None)
    return count


def test_work_grows_linearly_with_calls(tmp_path):
    small, big = tmp_path / "100.pcap", tmp_path / "1000.pcap"
    _short_calls(small, 100)
    _short_calls(big, 1000)
    ratio = _python_lines(big) / _python_lines(small)
    # linear is 10; a scan of the media port's conversations per SDP would give ~30 here
    assert ratio <= 12, ratio
