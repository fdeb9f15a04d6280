"""The impairment relay on real loopback traffic, measured by the reference tool (tshark)."""

from __future__ import annotations

import os
import re
import shutil
import socket
import struct
import subprocess
import threading
import time

import pytest

from toipkit.phone.capture import capture
from toipkit.phone.ports import free_port_pair
from toipkit.phone.relay import ImpairmentRelay, RelayError

HOST = "127.0.0.1"
PTIME = 0.020

needs_capture = pytest.mark.skipif(
    not (shutil.which("tshark") and shutil.which("dumpcap") and os.geteuid() == 0),
    reason="needs tshark and dumpcap, and root to capture on lo")


def rtp_packet(seq: int, ts: int, ssrc: int, marker: bool = False) -> bytes:
    header = struct.pack("!BBHII", 0x80, (0x80 if marker else 0) | 0, seq & 0xFFFF,
                         ts & 0xFFFFFFFF, ssrc)
    return header + bytes([0xFF]) * 160  # 20 ms of PCMU silence


def rtcp_sender_report(ssrc: int) -> bytes:
    return struct.pack("!BBHIIIIII", 0x80, 200, 6, ssrc, 0, 0, 0, 0, 0)


def send_stream(port: int, count: int, ssrc: int, interval: float = PTIME,
                first_seq: int = 1000) -> list[int]:
    """Send ``count`` RTP packets to ``port`` on an absolute 20 ms schedule; return their seqs."""
    seqs = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        start = time.monotonic()
        for i in range(count):
            wait = start + i * interval - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            seq = (first_seq + i) & 0xFFFF
            s.sendto(rtp_packet(seq, 4000 + 160 * i, ssrc, marker=i == 0), (HOST, port))
            seqs.append(seq)
    return seqs


class Receiver:
    """A bound UDP socket collecting what the relay forwards (so no ICMP unreachable)."""

    def __init__(self, port: int):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((HOST, port))
        self.sock.settimeout(0.2)
        self.packets: list[tuple[bytes, tuple]] = []
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop:
            try:
                self.packets.append(self.sock.recvfrom(65535))
            except TimeoutError:
                continue
            except OSError:
                return

    def close(self):
        """Stop, keeping what is still in the socket buffer (loopback delivery is synchronous:
        everything sent before this call is there)."""
        if self._stop:
            return
        self._stop = True
        self._thread.join()
        self.sock.setblocking(False)
        while True:
            try:
                self.packets.append(self.sock.recvfrom(65535))
            except BlockingIOError:
                break
        self.sock.close()

    def seqs(self) -> list[int]:
        return [struct.unpack_from("!H", data, 2)[0] for data, _ in self.packets]


def tshark_streams(path, ports: list[int]) -> dict[int, dict]:
    """``tshark -q -z rtp,streams`` rows keyed by destination port."""
    cmd = ["tshark", "-r", str(path), "-q", "-z", "rtp,streams"]
    for port in ports:
        cmd[3:3] = ["-d", f"udp.port=={port},rtp"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rows = {}
    for line in out.splitlines():
        m = re.match(r"\s*([\d.]+)\s+([\d.]+)\s+(\S+)\s+(\d+)\s+(\S+)\s+(\d+)\s+(0x[0-9A-Fa-f]+)\s+"
                     r"(.+?)\s+(\d+)\s+(-?\d+)\s+\((-?[\d.]+)%\)\s+(.*)$", line)
        if m:
            nums = [float(x) for x in m.group(12).split()[:6]]
            rows[int(m.group(6))] = {
                "pkts": int(m.group(9)), "lost": int(m.group(10)), "lost_pct": float(m.group(11)),
                "mean_jitter": nums[4], "max_jitter": nums[5], "ssrc": m.group(7), "text": line}
    return rows


def tshark_seqs(path, port: int) -> list[int]:
    out = subprocess.run(["tshark", "-r", str(path), "-d", f"udp.port=={port},rtp",
                          "-Y", f"rtp && udp.dstport=={port}", "-T", "fields", "-e", "rtp.seq"],
                         capture_output=True, text=True, check=True).stdout
    return [int(x) for x in out.split()]


@needs_capture
def test_impaired_call_shows_the_settings_in_tshark(tmp_path):
    """Three 10-second calls at once: (3 %, 20 ms), (8 %, 10 ms) and (3 %, 20 ms) with
    reordering allowed; tshark's Lost % and Mean Jitter must be within 20 % of the settings,
    and the lost packets are the relay's drops."""
    settings = [(0.03, 20.0, 11, False), (0.08, 10.0, 12, False), (0.03, 20.0, 13, True)]
    count = 500
    receivers, relays = [], []
    try:
        for loss, jitter, seed, reorder in settings:
            dest = free_port_pair(HOST)
            receivers.append(Receiver(dest))
            relays.append(ImpairmentRelay((HOST, dest), loss=loss, jitter_ms=jitter,
                                          seed=seed, reorder=reorder).start())
        dest_ports = [r.forward_to[1] for r in relays]
        with capture(ports=dest_ports, path=tmp_path / "impaired.pcapng") as cap:
            senders = [threading.Thread(target=send_stream,
                                        args=(relay.port, count, 0x1000 + i))
                       for i, relay in enumerate(relays)]
            for t in senders:
                t.start()
            for t in senders:
                t.join()
            for relay in relays:
                relay.close()  # lets the delayed packets out
        for receiver in receivers:
            receiver.close()
        assert cap.live, cap.message
        streams = tshark_streams(cap.path, dest_ports)
        for (loss, jitter, _, reorder), relay, receiver in zip(settings, relays, receivers):
            row = streams[relay.forward_to[1]]
            report = relay.report()
            assert report.rtp_in == count
            assert report.dropped == round(count * loss)
            assert report.rtp_out == count - report.dropped
            # Measured by the reference tool, against the settings.
            assert row["lost_pct"] == pytest.approx(100 * loss, rel=0.2), row["text"]
            assert row["mean_jitter"] == pytest.approx(jitter, rel=0.2), row["text"]
            # The packets missing on the wire are exactly the ones the relay says it dropped,
            # and the FIFO network kept the order (the other one did not).
            wire = tshark_seqs(cap.path, relay.forward_to[1])
            assert (wire == sorted(wire)) is not reorder
            assert (report.reordered > 0) is reorder
            sent = list(range(1000, 1000 + count))
            assert sorted(set(sent) - set(wire)) == sorted(report.dropped_seqs)
            assert receiver.seqs() == wire
            print(f"loss {100 * loss:.0f} % jitter {jitter} ms reorder {reorder} -> tshark: "
                  f"{row['text'].strip()}")
    finally:
        for relay in relays:
            relay.close()
        for receiver in receivers:
            receiver.close()


def test_unimpaired_relay_forwards_everything_in_order():
    dest = free_port_pair(HOST)
    rtp_rx, rtcp_rx = Receiver(dest), Receiver(dest + 1)
    try:
        with ImpairmentRelay((HOST, dest), loss=0.0, jitter_ms=0.0, seed=1) as relay:
            assert relay.port % 2 == 0
            sent = send_stream(relay.port, 200, 0x2222, interval=0.002, first_seq=65500)
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.sendto(rtcp_sender_report(0x2222), (HOST, relay.port + 1))
            time.sleep(0.2)
        report = relay.report()
    finally:
        rtp_rx.close()
        rtcp_rx.close()
    assert rtp_rx.seqs() == sent  # all of them, in order, across the seq wrap
    assert {src for _, src in rtp_rx.packets} == {(HOST, relay.port)}
    assert [data for data, _ in rtcp_rx.packets] == [rtcp_sender_report(0x2222)]
    assert rtcp_rx.packets[0][1] == (HOST, relay.port + 1)
    assert (report.rtp_in, report.rtp_out, report.dropped_seqs) == (200, 200, [])
    assert (report.rtcp_in, report.rtcp_out) == (1, 1)


def test_loss_is_exact_per_block_and_seeded():
    """2.5 % loss: 2 then 3 drops per block of 100 (remainder carried); same seed, same drops."""

    def run(seed):
        dest = free_port_pair(HOST)
        rx = Receiver(dest)
        try:
            with ImpairmentRelay((HOST, dest), loss=0.025, jitter_ms=0.0, seed=seed) as relay:
                send_stream(relay.port, 400, 0x3333, interval=0.001, first_seq=0)
                time.sleep(0.2)
            return relay.report(), rx.seqs()
        finally:
            rx.close()

    report, received = run(7)
    dropped = sorted(set(range(400)) - set(received))
    assert dropped == sorted(report.dropped_seqs)
    assert [sum(1 for s in dropped if block * 100 <= s < block * 100 + 100)
            for block in range(4)] == [2, 3, 2, 3]
    assert run(7)[0].dropped_seqs == report.dropped_seqs
    other = run(8)[0].dropped_seqs
    assert len(other) == 10 and other != report.dropped_seqs


def test_jitter_adds_delay_and_keeps_order():
    dest = free_port_pair(HOST)
    rx = Receiver(dest)
    try:
        with ImpairmentRelay((HOST, dest), loss=0.0, jitter_ms=20.0, delay_ms=30.0,
                             seed=5) as relay:
            sent = send_stream(relay.port, 100, 0x4444, interval=0.005)
        report = relay.report()
    finally:
        rx.close()
    assert rx.seqs() == sent
    assert report.mean_delay_ms > 30.0 + report.delay_scale_ms / 2
    assert report.delay_scale_ms > 20.0  # the FIFO needs a wider spread than the Laplace case


def test_packets_from_the_destination_are_not_looped_back():
    dest = free_port_pair(HOST)
    rx = Receiver(dest)
    try:
        with ImpairmentRelay((HOST, dest), loss=0.0, jitter_ms=0.0) as relay:
            rx.sock.sendto(rtp_packet(1, 0, 0x5555), (HOST, relay.port))
            time.sleep(0.2)
        report = relay.report()
    finally:
        rx.close()
    assert rx.packets == []
    assert report.ignored == 1 and report.rtp_in == 0


@pytest.mark.parametrize("kwargs, words", [
    ({"loss": 1.5}, "loss"),
    ({"jitter_ms": -1}, "jitter_ms"),
    ({"port": 40001}, "even"),
])
def test_bad_settings_are_refused(kwargs, words):
    with pytest.raises(RelayError, match=words):
        ImpairmentRelay((HOST, 40000), **kwargs)


def test_taken_port_is_a_clear_error():
    port = free_port_pair(HOST)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as busy:
        busy.bind((HOST, port))
        with pytest.raises(RelayError, match=f"{port}"):
            ImpairmentRelay((HOST, 9), port=port, jitter_ms=0).start()


def test_report_is_shown_in_french():
    text = ImpairmentRelay((HOST, 9), loss=0.03, jitter_ms=20).report()._repr_markdown_()
    assert "Paquets RTP perdus" in text and "perte 3.0 %, gigue 20 ms" in text
