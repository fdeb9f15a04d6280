"""RTP streams and DTMF events as results: the rows tshark's ``rtp,streams`` prints.

Payload types live in ``payload_types``, the statistics engine in ``rtp_stats``; their names
are importable from here too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from toipkit.pcap.payload_types import (  # noqa: F401 (public names kept importable from here)
    DTMF_DIGITS,
    MIME_CLOCK,
    SHORT_NAMES,
    STATIC_CLOCK,
    STATIC_ENCODINGS,
    clock_rate,
    event_name,
    mime_clock,
)
from toipkit.pcap.rtp_stats import (  # noqa: F401
    StreamStats,
    analyse_segments,
    analyse_sequential,
    count_sequence_errors,
    packetization,
)

# C printf formats of tshark's ui/cli/tap-rtp.c, kept verbatim
ROW_FORMAT = ("%13.6f %13.6f %15s %5u %15s %5u 0x%08X %16s %5u %5d (%.1f%%) "
              "%15.3f %15.3f %15.3f %15.3f %15.3f %15.3f %s")


@dataclass
class RtpStream:
    """One RTP stream (src, sport, dst, dport, SSRC) and its statistics."""

    src: str
    sport: int
    dst: str
    dport: int
    ssrc: int
    payload_types: list[int]
    payload_names: dict[int, str]
    start_time: float
    end_time: float
    first_frame: int
    stats: StreamStats
    setup_frame: int | None = None
    dtmf_packets: int = 0
    _data: dict = field(default_factory=dict, repr=False)

    @property
    def payload(self) -> str:
        """Payload column text: names in ascending PT order joined by ", "."""
        return ", ".join(self.payload_names[pt] for pt in sorted(self.payload_names))

    @property
    def codec(self) -> str:
        """The main (first non-event, non-CN) payload name."""
        for pt in self.payload_types:
            name = self.payload_names[pt]
            if pt not in (13, 19) and not name.lower().startswith("telephone-event"):
                return name
        return self.payload

    @property
    def packets(self) -> int:
        return self.stats.packets

    @property
    def sequence_errors(self) -> int:
        """Wireshark's "Sequence errors" (RTP Stream Analysis), computed on first use."""
        if self.stats.sequence_errors < 0:
            self.stats.sequence_errors = count_sequence_errors(self._data["seq"], self._data["ts"])
        return self.stats.sequence_errors

    @property
    def lost(self) -> int:
        return self.stats.lost

    @property
    def duration(self) -> float:
        return self.end_time - self.start_time

    @property
    def packetization_ms(self) -> float | None:
        """Nominal packet interval from the RTP timestamps (ms), e.g. 20 for G.711/20 ms."""
        if "ptime" not in self._data:
            self._data["ptime"] = packetization(self._data)
        return self._data["ptime"]

    def row_text(self) -> str:
        s = self.stats
        return ROW_FORMAT % (  # noqa: UP031 - C printf format of tshark's tap-rtp.c
            self.start_time, self.end_time, self.src, self.sport, self.dst, self.dport,
            self.ssrc, self.payload, s.packets, s.lost, s.lost_percent, s.min_delta,
            s.mean_delta, s.max_delta, s.min_jitter, s.mean_jitter, s.max_jitter,
            "X" if s.problem else "")

    def as_dict(self) -> dict:
        s = self.stats
        return {
            "start": self.start_time, "end": self.end_time, "src": self.src,
            "sport": self.sport, "dst": self.dst, "dport": self.dport,
            "ssrc": f"0x{self.ssrc:08X}", "payload": self.payload, "codec": self.codec,
            "packets": s.packets, "expected": s.expected, "lost": s.lost,
            "lost_pct": round(s.lost_percent, 1), "min_delta": s.min_delta,
            "mean_delta": s.mean_delta, "max_delta": s.max_delta, "min_jitter": s.min_jitter,
            "mean_jitter": s.mean_jitter, "max_jitter": s.max_jitter, "max_skew": s.max_skew,
            "sequence_errors": self.sequence_errors, "problem": s.problem,
            "clock_rate": s.clock_rate, "duration": self.duration,
            "packetization_ms": self.packetization_ms, "first_frame": self.first_frame,
        }

    def series(self):
        """Per-packet frame, time (s), delta, jitter, skew (ms) and flags, as a DataFrame."""
        import pandas as pd

        d = self._data
        if "series" not in d:
            _, ser = analyse_sequential(d["frames"], d["ms"], d["pt"], d["marker"], d["seq"],
                                        d["ts"], d["clock"], want_series=True)
            d["series"] = ser
        ser = d["series"]
        return pd.DataFrame({
            "frame": d["frames"], "time": d["sec"], "seq": d["seq"], "pt": d["pt"],
            "marker": d["marker"].astype(bool), "delta_ms": ser["delta"],
            "jitter_ms": ser["jitter"], "skew_ms": ser["skew"], "flags": ser["flags"]})


HEADER_FORMAT = "%13s %13s %15s %5s %15s %5s %10s %16s %5s %12s %15s %15s %15s %15s %15s %15s %s"
HEADER = (HEADER_FORMAT % (  # noqa: UP031
    "Start time", "End time", "Src IP addr", "Port", "Dest IP addr", "Port", "SSRC", "Payload",
    "Pkts", "Lost", "Min Delta(ms)", "Mean Delta(ms)", "Max Delta(ms)", "Min Jitter(ms)",
    "Mean Jitter(ms)", "Max Jitter(ms)", "Problems?"))


def rtp_streams_text(streams: list[RtpStream]) -> str:
    """The exact text of ``tshark -q -z rtp,streams`` (streams newest first)."""
    lines = ["========================= RTP Streams ========================", HEADER]
    for s in sorted(streams, key=lambda s: s.first_frame, reverse=True):
        lines.append(s.row_text())
    lines.append("=" * 62)
    return "\n".join(lines) + "\n"


@dataclass
class DtmfEvent:
    """One RFC 2833/4733 key press (all packets sharing the event's RTP timestamp)."""

    digit: str
    event: int
    start: float  # seconds (first packet)
    end: float  # seconds (last packet)
    duration_ms: float  # largest duration field (timestamp units) / the event clock rate
    volume: int  # -dBm0
    ssrc: int
    src: str
    dst: str
    packets: int
    ended: bool
    first_frame: int

    def as_dict(self) -> dict:
        return {"digit": self.digit, "start": self.start, "end": self.end,
                "duration_ms": self.duration_ms, "volume": self.volume,
                "ssrc": f"0x{self.ssrc:08X}", "src": self.src, "dst": self.dst,
                "packets": self.packets, "ended": self.ended, "first_frame": self.first_frame}
