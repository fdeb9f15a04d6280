"""A user-space "bad network" for RTP: a relay that drops and delays packets with known figures.

netem needs root and a kernel module, neither of which the course machines have, so the impaired
leg of a lab call goes through this relay instead::

    phone A --RTP--> relay.port --(loss, jitter)--> forward_to (phone B's RTP port)
    phone A --RTCP-> relay.port+1 --(as is)-------> forward_to port + 1

One direction only: what arrives on the relay's ports is sent, from the same ports, to
``forward_to``. Datagrams coming *from* ``forward_to`` are ignored (a symmetric-RTP phone answering
the relay would otherwise loop back to itself).

The settings are what the receiver (and Wireshark's RTP Stream Analysis, ``tshark -z rtp,streams``)
will measure, not the parameters of a random process:

``loss``
    Fraction of RTP packets dropped. Drops are spread with little variance: in every block of 100
    RTP packets exactly ``n`` are dropped at seeded random positions, where ``n`` is ``100 * loss``
    rounded down plus the fractional remainder carried over from the previous blocks (3 % → 3 per
    block; 2.5 % → 2, 3, 2, 3, ...). A 10-second call (500 packets) therefore loses exactly
    ``500 * loss`` packets.

``jitter_ms``
    The mean RFC 3550 interarrival jitter the receiver measures on a stream paced every
    ``packet_interval_ms`` (20 ms for G.711). Network model: each RTP packet gets an independent
    extra delay drawn from an exponential distribution; the network is a FIFO, so a packet never
    overtakes the previous one (release = max(arrival + delay, previous release)) unless
    ``reorder=True``. The exponential's mean is calibrated at start-up by a seeded Monte-Carlo run
    of this very model (with the loss setting) so that the expected RFC 3550 jitter (mean of |D|,
    D = change of transit time between consecutive received packets) equals ``jitter_ms``. The
    receiver's estimator starts at 0, so a short stream reads a little lower (about 16 packets of
    warm-up: ~3 % on a 10-second call).

``delay_ms``
    Constant one-way delay added to every RTP packet (does not change the jitter).

Release times are kept on the arrival clock in a heap; the relay thread waits for the next one
with the selector's timeout, then sleeps the last millisecond (``time.sleep`` is finer than the
selector's millisecond timeout).
"""

from __future__ import annotations

import functools
import heapq
import math
import random
import selectors
import socket
import statistics
import struct
import threading
import time
from dataclasses import dataclass, field

from toipkit.errors import ToipkitError
from toipkit.phone.ports import free_port_pair

LOSS_BLOCK = 100  # RTP packets per loss block
_FINE_WAIT = 0.002  # below this, sleep instead of waiting in the selector (ms resolution)


class RelayError(ToipkitError):
    """The relay cannot start (bad setting, port in use)."""


@dataclass
class RelayReport:
    """What the relay did so far (RTP: impaired; RTCP: forwarded as is)."""

    rtp_in: int = 0
    rtp_out: int = 0
    dropped_seqs: list[int] = field(default_factory=list)
    mean_delay_ms: float = 0.0
    max_delay_ms: float = 0.0
    reordered: int = 0
    rtcp_in: int = 0
    rtcp_out: int = 0
    other_in: int = 0  # non-RTP datagrams on the RTP port (forwarded at once, untouched)
    ignored: int = 0  # datagrams coming from the destination itself
    loss: float = 0.0
    jitter_ms: float = 0.0
    delay_scale_ms: float = 0.0  # calibrated mean of the exponential extra delay
    error: str = ""  # why the relay thread stopped, if it failed

    @property
    def dropped(self) -> int:
        return len(self.dropped_seqs)

    @property
    def loss_ratio(self) -> float:
        return self.dropped / self.rtp_in if self.rtp_in else 0.0

    def _repr_markdown_(self) -> str:
        return (
            "| Relais (réseau dégradé) | Valeur |\n|---|---|\n"
            f"| Paquets RTP reçus | {self.rtp_in} |\n"
            f"| Paquets RTP transmis | {self.rtp_out} |\n"
            f"| Paquets RTP perdus (volontairement) | {self.dropped} "
            f"({100 * self.loss_ratio:.1f} %) |\n"
            f"| Délai moyen ajouté | {self.mean_delay_ms:.1f} ms |\n"
            f"| Réglages | perte {100 * self.loss:.1f} %, gigue {self.jitter_ms:g} ms |\n"
        )


@functools.lru_cache(maxsize=64)
def calibrate_delay_scale(jitter_ms: float, packet_interval_ms: float = 20.0, *,
                          loss: float = 0.0, reorder: bool = False,
                          packets: int = 20000, seed: int = 3550) -> float:
    """Mean (ms) of the exponential extra delay that gives an expected RFC 3550 jitter of
    ``jitter_ms`` on a stream paced every ``packet_interval_ms`` through the relay's model.

    Monte-Carlo with common random numbers (one seeded draw, rescaled), solved by bisection: the
    mean |D| grows with the scale. Without the FIFO constraint the answer is ``jitter_ms`` itself
    (the difference of two exponentials is Laplace, E|D| = mean).
    """
    if jitter_ms <= 0:
        return 0.0
    import numpy as np

    rng = np.random.default_rng(seed)
    unit = rng.exponential(1.0, packets)
    kept = rng.random(packets) >= loss
    kept[0] = True
    nominal = np.arange(packets, dtype=float) * packet_interval_ms

    def mean_abs_d(scale: float) -> float:
        release = nominal + scale * unit
        if not reorder:
            release = np.maximum.accumulate(release)
        order = np.argsort(release[kept], kind="stable")
        r = release[kept][order]
        n = nominal[kept][order]
        return float(np.mean(np.abs(np.diff(r) - np.diff(n))))

    lo, hi = 0.0, jitter_ms
    while mean_abs_d(hi) < jitter_ms:
        lo, hi = hi, hi * 2
        if hi > 1e6:
            raise RelayError(f"jitter {jitter_ms} ms is out of reach for this model")
    for _ in range(40):
        mid = (lo + hi) / 2
        if mean_abs_d(mid) < jitter_ms:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


class _LossPattern:
    """Exactly ``round-with-carry(100 * loss)`` drops per block of 100, at seeded positions."""

    def __init__(self, loss: float, rng: random.Random):
        self.loss = loss
        self.rng = rng
        self.carry = 0.0
        self.index = LOSS_BLOCK  # forces a new block on the first packet
        self.drops: set[int] = set()

    def drop(self) -> bool:
        if self.index >= LOSS_BLOCK:
            self.carry += LOSS_BLOCK * self.loss
            count = min(LOSS_BLOCK, int(math.floor(self.carry + 1e-9)))
            self.carry -= count
            self.drops = set(self.rng.sample(range(LOSS_BLOCK), count))
            self.index = 0
        dropped = self.index in self.drops
        self.index += 1
        return dropped


def _is_rtp(data: bytes) -> bool:
    # Version 2 and not an RTCP packet type (200-204) sent on the RTP port (rtcp-mux).
    return len(data) >= 12 and data[0] >> 6 == 2 and not 200 <= data[1] <= 204


class ImpairmentRelay:
    """Relay RTP from ``self.port`` to ``forward_to`` with ``loss`` and ``jitter_ms`` (see the
    module docstring for the exact model); RTCP from ``self.port + 1`` to ``forward_to``'s port + 1
    as is. A background thread does the work between ``start()`` and ``close()``; also a context
    manager."""

    def __init__(self, forward_to: tuple[str, int], *, loss: float = 0.03,
                 jitter_ms: float = 20.0, delay_ms: float = 0.0, reorder: bool = False,
                 seed: int | None = None, host: str = "127.0.0.1", port: int | None = None,
                 packet_interval_ms: float = 20.0, rtcp_to: tuple[str, int] | None = None):
        if not 0.0 <= loss <= 1.0:
            raise RelayError(f"loss must be a fraction between 0 and 1, not {loss!r}")
        if jitter_ms < 0 or delay_ms < 0:
            raise RelayError("jitter_ms and delay_ms must be >= 0")
        if packet_interval_ms <= 0:
            raise RelayError("packet_interval_ms must be > 0")
        if port is not None and port % 2:
            raise RelayError(f"the RTP port must be even (RTCP uses port + 1), not {port}")
        self.forward_to = (forward_to[0], int(forward_to[1]))
        self.rtcp_to = rtcp_to or (forward_to[0], int(forward_to[1]) + 1)
        self.loss = loss
        self.jitter_ms = jitter_ms
        self.delay_ms = delay_ms
        self.reorder = reorder
        self.seed = seed
        self.host = host
        self.packet_interval_ms = packet_interval_ms
        self.port = port
        self._wanted_port = port
        self._rng = random.Random(seed)
        self._loss = _LossPattern(loss, random.Random(self._rng.random()))
        self._delay_rng = random.Random(self._rng.random())
        self.delay_scale_ms = 0.0
        self._report = RelayReport(loss=loss, jitter_ms=jitter_ms)
        self._delays: list[float] = []
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._sockets: list[socket.socket] = []
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        self._error: BaseException | None = None

    # -- life cycle -------------------------------------------------------------------------
    def start(self) -> ImpairmentRelay:
        if self._thread is not None:
            return self
        self._stop.clear()
        self.delay_scale_ms = calibrate_delay_scale(
            self.jitter_ms, self.packet_interval_ms, loss=self.loss, reorder=self.reorder)
        self._report.delay_scale_ms = self.delay_scale_ms
        self._rtp, self._rtcp = self._bind()
        self._sockets = [self._rtp, self._rtcp]
        self._wake_r, self._wake_w = socket.socketpair()
        self._thread = threading.Thread(target=self._run, name=f"rtp-relay-{self.port}",
                                        daemon=True)
        self._thread.start()
        return self

    def close(self, timeout: float = 5.0) -> None:
        """Stop; packets already scheduled still leave at their time (bounded by ``timeout``)."""
        if self._thread is None:
            return
        self._stop.set()
        assert self._wake_r is not None and self._wake_w is not None  # made by start()
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass
        self._thread.join(timeout)
        for s in (*self._sockets, self._wake_r, self._wake_w):
            s.close()
        self._thread = None

    def __enter__(self) -> ImpairmentRelay:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def address(self) -> tuple[str, int | None]:
        """Where to send the RTP to impair (the RTP port; RTCP goes to port + 1)."""
        return self.host, self.port

    def report(self) -> RelayReport:
        with self._lock:
            r = self._report
            delays = list(self._delays)
            out = RelayReport(**{**r.__dict__, "dropped_seqs": list(r.dropped_seqs)})
        if self._error is not None:
            out.error = f"{type(self._error).__name__}: {self._error}"
        if delays:
            out.mean_delay_ms = statistics.fmean(delays)
            out.max_delay_ms = max(delays)
        return out

    def __repr__(self) -> str:
        return (f"ImpairmentRelay({self.host}:{self.port} -> {self.forward_to[0]}:"
                f"{self.forward_to[1]}, loss={self.loss}, jitter_ms={self.jitter_ms})")

    # -- internals --------------------------------------------------------------------------
    def _bind(self) -> tuple[socket.socket, socket.socket]:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        last_error: OSError | None = None
        for _ in range(1 if self._wanted_port else 20):
            port = self._wanted_port or free_port_pair(self.host)
            rtp = socket.socket(family, socket.SOCK_DGRAM)
            rtcp = socket.socket(family, socket.SOCK_DGRAM)
            try:
                rtp.bind((self.host, port))
                rtcp.bind((self.host, port + 1))
            except OSError as exc:  # someone took it between the check and the bind
                rtp.close()
                rtcp.close()
                last_error = exc
                continue
            for s in (rtp, rtcp):
                s.setblocking(False)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
            self.port = port
            return rtp, rtcp
        raise RelayError(f"cannot bind the relay on {self.host}"
                         f"{':' + str(self._wanted_port) if self._wanted_port else ''}: "
                         f"{last_error}")

    def _schedule(self, data: bytes, now: float, queue: list, counter: list[int],
                  last_release: list[float]) -> None:
        """Drop the packet or put it in the release heap (called in arrival order)."""
        r = self._report
        if self._loss.drop():
            seq = struct.unpack_from("!H", data, 2)[0]
            with self._lock:
                r.rtp_in += 1
                r.dropped_seqs.append(seq)
            return
        extra = self._delay_rng.expovariate(1.0 / self.delay_scale_ms) \
            if self.delay_scale_ms > 0 else 0.0
        release = now + (self.delay_ms + extra) / 1000.0
        if release < last_release[0]:
            if self.reorder:
                with self._lock:
                    r.reordered += 1
            else:
                release = last_release[0]  # FIFO: wait behind the previous packet
        last_release[0] = max(last_release[0], release)
        counter[0] += 1
        heapq.heappush(queue, (release, counter[0], now, data))
        with self._lock:
            r.rtp_in += 1

    def _run(self) -> None:
        wake = self._wake_r
        assert wake is not None  # made by start(), before this thread
        sel = selectors.DefaultSelector()
        sel.register(self._rtp, selectors.EVENT_READ, "rtp")
        sel.register(self._rtcp, selectors.EVENT_READ, "rtcp")
        sel.register(wake, selectors.EVENT_READ, "wake")
        queue: list[tuple[float, int, float, bytes]] = []
        counter = [0]
        last_release = [0.0]
        r = self._report
        stop_deadline = None
        try:
            while True:
                now = time.monotonic()
                while queue and queue[0][0] <= now:
                    _, _, arrived, data = heapq.heappop(queue)
                    self._send(self._rtp, data, self.forward_to)
                    sent = time.monotonic()
                    with self._lock:
                        r.rtp_out += 1
                        self._delays.append((sent - arrived) * 1000.0)
                if self._stop.is_set():
                    if stop_deadline is None:
                        stop_deadline = now + 5.0
                    if not queue or now > stop_deadline:
                        break
                if queue:
                    wait = queue[0][0] - now
                    if wait <= _FINE_WAIT:
                        time.sleep(max(0.0, wait))
                        continue
                    timeout = wait - _FINE_WAIT
                else:
                    timeout = None
                for key, _ in sel.select(timeout):
                    if key.data == "wake":
                        try:
                            wake.recv(64)
                        except OSError:
                            pass
                        continue
                    self._drain(key.data, queue, counter, last_release)
        except BaseException as exc:  # keep it for the report; the thread must not die silently
            self._error = exc
            raise
        finally:
            sel.close()

    def _drain(self, kind: str, queue: list, counter: list[int],
               last_release: list[float]) -> None:
        sock = self._rtp if kind == "rtp" else self._rtcp
        r = self._report
        while True:
            try:
                data, source = sock.recvfrom(65535)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:  # e.g. ICMP port unreachable reported on the socket
                continue
            now = time.monotonic()
            if kind == "rtcp":
                if source[:2] == self.rtcp_to[:2]:
                    with self._lock:
                        r.ignored += 1
                    continue
                with self._lock:
                    r.rtcp_in += 1
                if self._send(self._rtcp, data, self.rtcp_to):
                    with self._lock:
                        r.rtcp_out += 1
                continue
            if source[:2] == self.forward_to[:2]:
                with self._lock:
                    r.ignored += 1
                continue
            if not _is_rtp(data):
                with self._lock:
                    r.other_in += 1
                self._send(self._rtp, data, self.forward_to)
                continue
            self._schedule(data, now, queue, counter, last_release)

    @staticmethod
    def _send(sock: socket.socket, data: bytes, dest: tuple[str, int]) -> bool:
        try:
            sock.sendto(data, dest)
            return True
        except OSError:  # the receiver is gone (ICMP unreachable): the packet is lost, go on
            return False
