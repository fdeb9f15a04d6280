#!/usr/bin/env python3
"""Seeded user-space UDP relay that impairs RTP with known loss and jitter.

netem is not available on the machines the course runs on, so the "bad network" of the impaired
sample capture is this relay: a two-legged media relay (like an SBC's media anchor) on one IP
address with two ports.

    caller --> relay:PORT_B --(impair)--> relay:PORT_A --> callee
    caller <-- relay:PORT_B <--(impair)-- relay:PORT_A <-- callee

The caller's SDP offer announces ``relay:PORT_A`` and the callee's answer announces
``relay:PORT_B``, so each endpoint sends its RTP to the relay, which forwards it from the other
leg's socket. Each direction has its own random generator seeded from ``--seed`` and the
direction name, consumed once per packet in arrival order, so the set of dropped packets and the
delay of every forwarded packet depend only on the seed and on the packet order (not on time).

Release time of a forwarded packet = arrival time of the direction's first packet
+ (RTP timestamp - first RTP timestamp) / clock + base delay + random extra delay (uniform in
[0, jitter]). Scheduling on the RTP clock rather than on the arrival time removes the sender's own
timing noise, so the jitter measured after the relay is the jitter the relay adds; the packet order
after the relay is fixed by the seed too (extra delays are redrawn when two packets would leave
less than ``--min-spacing`` ms apart, so scheduling noise cannot swap them).

Stops on SIGTERM/SIGINT or after ``--idle`` seconds without traffic, then writes a JSON report
(packets in/out, dropped RTP sequence numbers, delays) to ``--report``.
"""

from __future__ import annotations

import argparse
import hashlib
import heapq
import json
import os
import random
import selectors
import signal
import socket
import struct
import sys
import tempfile
import time
from dataclasses import dataclass, field


@dataclass
class Direction:
    """One way through the relay: packets received on ``rx`` are sent from ``tx`` to ``dest``."""

    name: str
    rx: socket.socket
    tx: socket.socket
    dest: tuple[str, int]
    rng: random.Random
    loss: float
    base_ms: float
    jitter_ms: float
    clock: int
    min_spacing_ms: float
    t0: float | None = None
    ts0: int | None = None
    received: int = 0
    forwarded: int = 0
    dropped_seq: list[int] = field(default_factory=list)
    reordered: int = 0
    scheduled: list[float] = field(default_factory=list)  # recent release offsets (ms)
    delays_ms: list[float] = field(default_factory=list)
    _last_release: float = -1.0

    def decide(self, data: bytes, now: float) -> float | None:
        """Return the release time for this packet, or None to drop it.

        The generator is consumed the same way for every packet (one draw for loss, one for the
        delay, plus redraws that depend only on earlier draws), so decisions depend only on the
        seed and the packet order.
        """
        self.received += 1
        lose = self.rng.random() < self.loss
        extra = self.rng.uniform(0.0, self.jitter_ms)
        if len(data) < 12 or data[0] >> 6 != 2:
            # Not RTP (should not happen): forward at once, untouched.
            return now
        seq, ts = struct.unpack_from("!HI", data, 2)
        if self.t0 is None:
            self.t0, self.ts0 = now, ts
        nominal_ms = ((ts - self.ts0) & 0xFFFFFFFF) / (self.clock / 1000.0)
        # Redraw while the release would fall too close to a recent one (deterministic: only
        # depends on earlier draws), so that OS scheduling noise cannot change the order.
        for _ in range(100):
            offset = nominal_ms + self.base_ms + extra
            if all(abs(offset - other) >= self.min_spacing_ms for other in self.scheduled):
                break
            extra = self.rng.uniform(0.0, self.jitter_ms)
        if lose:
            self.dropped_seq.append(seq)
            return None
        self.scheduled.append(offset)
        del self.scheduled[:-16]
        if offset < self._last_release:
            self.reordered += 1
        self._last_release = max(self._last_release, offset)
        self.delays_ms.append(round(self.base_ms + extra, 3))
        return self.t0 + offset / 1000.0


def _parse_addr(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host, int(port)


def _sub_seed(seed: int, name: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{seed}:{name}".encode()).digest()[:8], "big")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ip", required=True, help="relay address (both legs)")
    ap.add_argument("--port-a", type=int, required=True,
                    help="leg announced to the callee as the caller's media (offer)")
    ap.add_argument("--port-b", type=int, required=True,
                    help="leg announced to the caller as the callee's media (answer)")
    ap.add_argument("--caller", required=True, help="caller's real media ip:port")
    ap.add_argument("--callee", required=True, help="callee's real media ip:port")
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--loss", type=float, default=0.05, help="drop probability per packet")
    ap.add_argument("--delay", type=float, default=20.0, help="base one-way delay, ms")
    ap.add_argument("--jitter", type=float, default=30.0, help="extra delay, uniform 0..J ms")
    ap.add_argument("--clock", type=int, default=8000, help="RTP clock rate, Hz")
    ap.add_argument("--min-spacing", type=float, default=2.0,
                    help="minimum gap between release times, ms")
    ap.add_argument("--idle", type=float, default=60.0, help="exit after N s without traffic")
    ap.add_argument("--report", help="write a JSON report here on exit")
    ap.add_argument("--ready-file", help="touch this file once the sockets are bound")
    args = ap.parse_args(argv)

    sock_a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock_a.bind((args.ip, args.port_a))
    sock_b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock_b.bind((args.ip, args.port_b))
    for s in (sock_a, sock_b):
        s.setblocking(False)

    def make(name: str, rx: socket.socket, tx: socket.socket, dest: str) -> Direction:
        return Direction(name=name, rx=rx, tx=tx, dest=_parse_addr(dest),
                         rng=random.Random(_sub_seed(args.seed, name)), loss=args.loss,
                         base_ms=args.delay, jitter_ms=args.jitter, clock=args.clock,
                         min_spacing_ms=args.min_spacing)

    # caller -> relay:B -> (from A) -> callee ; callee -> relay:A -> (from B) -> caller
    fwd = make("caller->callee", sock_b, sock_a, args.callee)
    back = make("callee->caller", sock_a, sock_b, args.caller)
    by_sock = {sock_b: fwd, sock_a: back}

    sel = selectors.DefaultSelector()
    for s in by_sock:
        sel.register(s, selectors.EVENT_READ)

    stop = False

    def _stop(_signum, _frame):
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    if args.ready_file:
        with open(args.ready_file, "w") as fh:
            fh.write(str(os.getpid()))

    queue: list[tuple[float, int, bytes, Direction]] = []
    counter = 0
    last_traffic = time.monotonic()
    while not stop:
        now = time.monotonic()
        while queue and queue[0][0] <= now:
            _, _, data, d = heapq.heappop(queue)
            d.tx.sendto(data, d.dest)
            d.forwarded += 1
        if not queue and now - last_traffic > args.idle:
            break
        timeout = 0.05 if not queue else max(0.0, min(0.05, queue[0][0] - now))
        for key, _ in sel.select(timeout):
            d = by_sock[key.fileobj]
            while True:
                try:
                    data, _src = d.rx.recvfrom(65535)
                except BlockingIOError:
                    break
                now = time.monotonic()
                last_traffic = now
                release = d.decide(data, now)
                if release is not None:
                    counter += 1
                    heapq.heappush(queue, (release, counter, data, d))
    # Flush what is still scheduled (in order) before leaving.
    while queue:
        release, _, data, d = heapq.heappop(queue)
        delay = release - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        d.tx.sendto(data, d.dest)
        d.forwarded += 1

    if args.report:
        report = {
            "seed": args.seed, "loss": args.loss, "base_delay_ms": args.delay,
            "jitter_ms": args.jitter, "clock": args.clock,
            "directions": {
                d.name: {"received": d.received, "forwarded": d.forwarded,
                         "dropped": len(d.dropped_seq), "dropped_seq": d.dropped_seq,
                         "reordered": d.reordered, "delays_ms": d.delays_ms}
                for d in (fwd, back)
            },
        }
        directory = os.path.dirname(os.path.abspath(args.report))
        fd, tmp = tempfile.mkstemp(dir=directory, suffix=".tmp")
        with os.fdopen(fd, "w") as fh:
            json.dump(report, fh, indent=1)
        os.replace(tmp, args.report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
