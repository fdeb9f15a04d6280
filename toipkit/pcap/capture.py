"""Read a capture once and expose SIP messages, calls, registrations, RTP streams and DTMF."""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field

import numpy as np

from toipkit.i18n import _, ngettext
from toipkit.pcap import decode as dec
from toipkit.pcap import reader
from toipkit.pcap.payload_types import SHORT_NAMES, clock_rate, event_name
from toipkit.pcap.rtp import DtmfEvent, RtpStream, rtp_streams_text
from toipkit.pcap.rtp_stats import analyse_segments, analyse_sequential
from toipkit.pcap.sip import (
    SipMessage,
    SipStat,
    build_calls,
    build_registrations,
    looks_like_sip,
    parse_sip,
    sip_stat,
)

SIP_PORTS = (5060,)
MGCP_PORTS = (2427, 2727)
_SIP_PREFIXES = np.array(
    [int.from_bytes(p, "big") for p in (b"INVI", b"ACK ", b"BYE ", b"CANC", b"REGI", b"OPTI",
                                        b"INFO", b"PRAC", b"SUBS", b"NOTI", b"UPDA", b"MESS",
                                        b"REFE", b"PUBL", b"SIP/")], dtype=np.uint32)
RTP, RTCP = 1, 2


# Tables ----------------------------------------------------------------------------------------

class _Table(list):
    """A list of records with ``to_frame()`` and a notebook rendering."""

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame([r.as_dict() for r in self])

    def _repr_html_(self):
        if not self:
            return "<p><em>" + _("(aucun)") + "</em></p>"
        return self._display_frame()._repr_html_()

    def _display_frame(self):
        """The frame as a notebook shows it (values students read, in their language)."""
        return self.to_frame()

    def __repr__(self) -> str:
        if not self:
            return f"{type(self).__name__}([])"
        return f"{type(self).__name__} ({len(self)} rows)\n{self.to_frame().to_string()}"


class StreamTable(_Table):
    """RTP streams in ``rtp,streams`` order (newest first)."""

    def text(self) -> str:
        return rtp_streams_text(list(self))


class CallTable(_Table):
    def _display_frame(self):
        from toipkit.pcap.sip import state_label

        frame = self.to_frame()
        frame["state"] = frame["state"].map(state_label)
        return frame

    @property
    def answered(self) -> CallTable:
        """The calls that got a 2xx to their INVITE (state answered or completed)."""
        return CallTable(c for c in self if c.state in ("answered", "completed"))


class RegistrationTable(_Table):
    pass


class DtmfTable(_Table):
    @property
    def digits(self) -> str:
        """The pressed keys in time order, e.g. ``"6789123"``."""
        return "".join(e.digit for e in sorted(self, key=lambda e: e.start))


class MessageTable(_Table):
    def to_frame(self):
        import pandas as pd

        rows = [{
            "frame": m.frame, "time": m.time, "src": f"{m.src}:{m.sport}",
            "dst": f"{m.dst}:{m.dport}", "transport": m.transport,
            "type": "request" if m.is_request else "response",
            "method": m.method or m.cseq_method, "status": m.status, "info": m.summary,
            "call_id": m.call_id, "cseq": f"{m.cseq_num} {m.cseq_method}".strip(),
            "from": m.from_uri, "to": m.to_uri, "sdp": m.sdp is not None, "resent": m.resent,
        } for m in self]
        return pd.DataFrame(rows)


@dataclass
class MediaSetup:
    """A media endpoint announced in SDP (what makes Wireshark decode UDP as RTP)."""

    address: str
    port: int
    kind: str  # "rtp" or "rtcp"
    frame: int  # frame of the SIP message carrying the SDP
    setup_frame: int  # Wireshark's setup frame (the offer's frame for answers)
    rtpmap: dict[int, tuple[str, int]]
    call_id: str = ""

    def as_dict(self) -> dict:
        return {"address": self.address, "port": self.port, "kind": self.kind,
                "frame": self.frame, "setup_frame": self.setup_frame,
                "rtpmap": ", ".join(f"{pt} {n}/{r}" for pt, (n, r) in sorted(self.rtpmap.items())),
                "call_id": self.call_id}


@dataclass
class Capture:
    """Everything toipkit reads from one capture file."""

    path: str
    format: str
    packet_count: int
    linktypes: list[int]
    sip_messages: MessageTable
    rtp_streams: StreamTable
    dtmf: DtmfTable
    media: _Table
    warnings: list[str] = field(default_factory=list)
    sip_info_dtmf: DtmfTable = field(default_factory=lambda: DtmfTable())
    _calls: CallTable | None = field(default=None, repr=False)
    _regs: RegistrationTable | None = field(default=None, repr=False)

    @property
    def calls(self) -> CallTable:
        if self._calls is None:
            self._calls = CallTable(build_calls(list(self.sip_messages)))
        return self._calls

    dialogs = calls

    @property
    def registrations(self) -> RegistrationTable:
        if self._regs is None:
            self._regs = RegistrationTable(build_registrations(list(self.sip_messages)))
        return self._regs

    def sip_stat(self) -> SipStat:
        return sip_stat(list(self.sip_messages))

    def rtp_streams_text(self) -> str:
        return rtp_streams_text(list(self.rtp_streams))

    def sip_stat_text(self) -> str:
        return self.sip_stat().to_text()

    def stream(self, ssrc: int | str) -> RtpStream:
        """The stream with this SSRC (int or ``"0x..."``); the first match if several."""
        value = int(ssrc, 16) if isinstance(ssrc, str) else int(ssrc)
        for s in self.rtp_streams:
            if s.ssrc == value:
                return s
        raise KeyError(_("aucun flux RTP de SSRC {ssrc}").format(ssrc=f"0x{value:08X}"))

    def summary(self) -> dict:
        from toipkit.pcap.quality import stream_mos

        return {
            "file": os.path.basename(self.path), "format": self.format,
            "packets": self.packet_count,
            "sip_messages": len(self.sip_messages),
            "calls": [c.as_dict() for c in self.calls],
            "registrations": [r.as_dict() for r in self.registrations],
            "rtp_streams": [dict(s.as_dict(), **{"mos": stream_mos(s).mos})
                            for s in self.rtp_streams],
            "dtmf": self.dtmf.digits,
            "warnings": list(self.warnings),
        }

    def _counts(self) -> str:
        """``1 234 paquets, 12 messages SIP, 1 appel, 2 flux RTP`` in the student's language."""
        return ", ".join([
            ngettext("{n} paquet", "{n} paquets", self.packet_count).format(n=self.packet_count),
            ngettext("{n} message SIP", "{n} messages SIP", len(self.sip_messages)).format(
                n=len(self.sip_messages)),
            ngettext("{n} appel", "{n} appels", len(self.calls)).format(n=len(self.calls)),
            ngettext("{n} flux RTP", "{n} flux RTP", len(self.rtp_streams)).format(
                n=len(self.rtp_streams)),
        ])

    def __repr__(self) -> str:
        warnings = ngettext("{n} avertissement", "{n} avertissements", len(self.warnings))
        return (f"<Capture {os.path.basename(self.path)}: {self.format}, {self._counts()}, "
                f"DTMF {self.dtmf.digits!r}, {warnings.format(n=len(self.warnings))}>")

    def _repr_markdown_(self) -> str:
        lines = [f"**{os.path.basename(self.path)}** — {self._counts()}"]
        if self.dtmf:
            lines.append(f"DTMF: `{self.dtmf.digits}`")
        for w in self.warnings:
            lines.append(f"⚠ {w}")
        return "\n\n".join(lines)


# Reading ---------------------------------------------------------------------------------------

class _Media:
    """SDP-established conversations, searchable per packet with numpy.

    Adding a conversation and asking whether an endpoint has one are dictionary operations
    (O(1) per SDP), so a capture of 10,000 calls on one media port costs 10 times one of 1,000.
    """

    def __init__(self):
        self.entries: list[MediaSetup] = []
        self.keys: list[int] = []
        self.created: list[int] = []
        self.kinds: list[int] = []
        self._by_setup: dict[tuple[int, int, int], int] = {}  # (endpoint, setup, kind) -> index
        self._first_created: dict[int, int] = {}  # endpoint -> frame of its first conversation
        self._arrays = None
        self._kinds_array = None

    def add(self, key: int, setup: MediaSetup) -> None:
        kind = RTP if setup.kind == "rtp" else RTCP
        # Wireshark keeps one conversation per (address, port, setup frame)
        known = self._by_setup.get((key, setup.setup_frame, kind))
        if known is not None:
            self.entries[known].rtpmap.update(setup.rtpmap)
            return
        self._by_setup[(key, setup.setup_frame, kind)] = len(self.entries)
        first = self._first_created.get(key)
        if first is None or setup.frame < first:
            self._first_created[key] = setup.frame
        self.entries.append(setup)
        self.keys.append(key)
        self.created.append(setup.frame)
        self.kinds.append(kind)
        self._arrays = None
        self._kinds_array = None

    def known_before(self, key: int, frame: int) -> bool:
        """Whether the endpoint has a conversation set up by a frame before ``frame``."""
        first = self._first_created.get(key)
        return first is not None and first < frame

    def kinds_array(self) -> np.ndarray:
        """Kind of each conversation, with a trailing 0 so that index -1 means none."""
        if self._kinds_array is None:
            self._kinds_array = np.asarray(self.kinds + [0], np.int64)
        return self._kinds_array

    def lookup(self, keys: np.ndarray, frames: np.ndarray) -> np.ndarray:
        """Index of the latest conversation on each endpoint created before each frame (-1: none)."""
        out = np.full(len(keys), -1, np.int64)
        if not self.entries or not len(keys):
            return out
        if self._arrays is None:
            k = np.asarray(self.keys, np.uint64)
            c = np.asarray(self.created, np.int64)
            uk, kid, counts = np.unique(k, return_inverse=True, return_counts=True)
            kid = kid.reshape(-1)
            comp = (kid.astype(np.int64) << 32) | c
            order = np.argsort(comp, kind="stable")
            # endpoints with a single conversation (the usual case) need no second search
            single_conv = np.full(len(uk), -1, np.int64)
            single_conv[kid] = np.arange(len(k))
            single_created = c[single_conv]
            self._arrays = (uk, comp[order], order, counts == 1, single_conv, single_created)
        uk, comp, order, single, single_conv, single_created = self._arrays
        pos = np.searchsorted(uk, keys)
        pos = np.minimum(pos, len(uk) - 1)
        hit = uk[pos] == keys
        if not hit.any():
            return out
        hp = pos[hit]
        fr = frames[hit].astype(np.int64)
        res = np.where(single[hp] & (single_created[hp] < fr), single_conv[hp], -1)
        multi = ~single[hp]
        if multi.any():
            q = (hp[multi].astype(np.int64) << 32) | fr[multi]
            j = np.searchsorted(comp, q, side="left") - 1
            ok = (j >= 0) & ((comp[np.maximum(j, 0)] >> 32) == hp[multi])
            res[multi] = np.where(ok, order[np.maximum(j, 0)], -1)
        out[hit] = res
        return out


class _AddrIds:
    """Numeric endpoint keys: IPv4 address value, or 2**32 + id for IPv6 addresses."""

    def __init__(self):
        self.v6: dict[bytes, int] = {}
        self.names: dict[int, str] = {}

    def key_bytes(self, raw: bytes) -> int:
        if len(raw) == 4:
            return int.from_bytes(raw, "big")
        k = self.v6.get(raw)
        if k is None:
            k = (1 << 32) + len(self.v6)
            self.v6[raw] = k
        return k

    def keys_v6(self, rows: np.ndarray) -> np.ndarray:
        if not len(rows):
            return np.zeros(0, np.uint64)
        uniq, inv = np.unique(rows, axis=0, return_inverse=True)
        ids = np.array([self.key_bytes(bytes(r)) for r in uniq], np.uint64)
        return ids[inv.reshape(-1)]

    def text(self, key: int) -> str:
        name = self.names.get(key)
        if name is None:
            if key < (1 << 32):
                name = dec.addr_text(key.to_bytes(4, "big"))
            else:
                raw = next(r for r, k in self.v6.items() if k == key)
                name = dec.addr_text(raw)
            self.names[key] = name
        return name


def _rel_parts(rel_ns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split relative ns into Wireshark's (secs, nsecs) with the same sign."""
    secs = np.where(rel_ns >= 0, rel_ns // 1_000_000_000, -((-rel_ns) // 1_000_000_000))
    return secs, rel_ns - secs * 1_000_000_000


def read_capture(path, progress: bool = False, strict: bool = False,
                 decode_as_rtp=(), via_tshark: bool = False) -> Capture:
    """Read a pcap/pcapng file and analyse its SIP and RTP like TShark 4.0.17.

    ``progress=True`` shows a progress bar (tqdm) for big files. With ``strict=True`` any damaged
    record raises ``CaptureFormatError``; otherwise reading stops there with a warning.
    ``decode_as_rtp=[port, ...]`` also takes UDP packets from or to those ports as RTP, like
    ``tshark -d udp.port==PORT,rtp`` (for captures without the SIP/SDP that set the call up).
    Other formats (NetMon, snoop, ...) raise ``UnsupportedCaptureFormat`` naming the format and
    the ``editcap`` command; with ``via_tshark=True`` they are converted to a temporary pcapng
    by Wireshark's editcap (or tshark) first (frame numbers are kept).
    """
    path = os.fspath(path)
    try:
        return _read_file(path, path, progress, strict, decode_as_rtp, [])
    except reader.UnsupportedCaptureFormat as exc:
        if not via_tshark:
            raise
        import tempfile

        with tempfile.TemporaryDirectory(prefix="toipkit-pcap-") as tmp:
            converted = os.path.join(tmp, "converted.pcapng")
            tool = _convert_to_pcapng(path, converted, exc)
            what = exc.format_name or _("un format inconnu")
            return _read_file(converted, path, progress, strict, decode_as_rtp,
                              [_("converti de {format} en pcapng par {tool}").format(
                                  format=what, tool=tool)])


def _convert_to_pcapng(path: str, out: str, exc: reader.UnsupportedCaptureFormat) -> str:
    """Rewrite ``path`` as pcapng with editcap (or tshark); returns the tool's name."""
    import shutil
    import subprocess

    from toipkit.errors import CaptureFormatError

    if shutil.which("editcap"):
        cmd = ["editcap", "-F", "pcapng", path, out]
    elif shutil.which("tshark"):
        cmd = ["tshark", "-r", path, "-F", "pcapng", "-w", out]
    else:
        raise CaptureFormatError(_("{message} ; --via-tshark a besoin de editcap (Wireshark) ou "
                                   "de tshark (apt-get install tshark)").format(
                                       message=exc.message), offset=0, path=path) from exc
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0 or not os.path.exists(out):
        lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
        why = lines[-1] if lines else _("code de sortie {code}").format(code=proc.returncode)
        raise CaptureFormatError(_("{tool} n'a pas pu convertir la capture : {error}").format(
            tool=cmd[0], error=why), offset=0, path=path) from exc
    return cmd[0]


def _read_file(path: str, shown_path: str, progress: bool, strict: bool, decode_as_rtp,
               notes: list[str]) -> Capture:
    state = reader.ReadState(strict=strict)
    state.warnings.extend(notes)
    bar = None
    cb = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=os.path.getsize(path), unit="B", unit_scale=True,
                   desc=os.path.basename(shown_path), leave=False)
        cb = bar.update
    eng = _Engine(shown_path)
    eng.decode_as = np.asarray(sorted({int(p) for p in decode_as_rtp}), np.int32)
    try:
        for batch in reader.iter_batches(path, state, progress=cb):
            eng.process(batch)
    finally:
        if bar is not None:
            bar.close()
    return eng.finish(state)


@dataclass
class _Udp:
    """The UDP datagrams of one batch, as columns (payloads addressed in ``buf``)."""

    buf: bytes | memoryview
    u8: np.ndarray
    index: np.ndarray  # record index in the batch
    frames: np.ndarray
    rel_ns: np.ndarray  # time since the first packet of the capture
    sport: np.ndarray
    dport: np.ndarray
    poff: np.ndarray  # payload offset in buf
    plen: np.ndarray
    skey: np.ndarray  # endpoint address keys (see _AddrIds)
    dkey: np.ndarray
    head: np.ndarray  # first 12 payload bytes of each datagram


@dataclass
class _Rtp:
    """RTP packets found among a batch's datagrams."""

    rows: np.ndarray  # their rows in the _Udp columns
    payload_at: np.ndarray  # offset of each RTP payload in the buffer
    columns: dict  # per-packet fields kept for the statistics (see _Engine._streams)


class _Engine:
    def __init__(self, path: str):
        self.path = path
        self.t0: int | None = None
        self.media = _Media()
        self.addr = _AddrIds()
        self.decode_as = np.zeros(0, np.int32)
        self.reasm = dec.Reassembly()
        self.messages: list[SipMessage] = []
        self.rtp_parts: list[dict] = []
        self.events: list[dict] = []  # RFC 2833 event packets, columns per batch
        self.warnings: list[str] = []
        self.seen_requests: dict[tuple, int] = {}
        self.tcp_rest: dict[tuple, bytes] = {}
        self.tcp_sip = 0
        self.tls_segments = 0
        self.unsupported: set[int] = set()
        self.request_frames: dict[tuple, int] = {}

    # one chunk ---------------------------------------------------------------------------------
    def process(self, batch: reader.Batch) -> None:
        """Analyse one chunk: decode to UDP/TCP, route signalling, then decode RTP."""
        if self.t0 is None:
            self.t0 = int(batch.ts_ns[0])
        self._note_linktypes(batch)
        udp, tcp = self._decode(batch)
        is_sip = self._signalling(batch, udp, tcp)
        rtp = self._rtp_headers(udp, ~is_sip & (udp.plen >= 12))
        if rtp is None:
            return
        self.rtp_parts.append(rtp.columns)
        self._rfc2833_events(udp, rtp)

    def _note_linktypes(self, batch: reader.Batch) -> None:
        for lt in np.unique(batch.linktype):
            if int(lt) not in dec.SUPPORTED_LINKTYPES and int(lt) not in self.unsupported:
                self.unsupported.add(int(lt))
                self.warnings.append(_("type de lien {linktype} non pris en charge : ses paquets "
                                       "sont ignorés").format(linktype=int(lt)))

    def _decode(self, batch: reader.Batch) -> tuple[_Udp, list[dec.Datagram]]:
        """UDP datagrams of the batch as columns, and its TCP segments.

        The common layouts are decoded on whole arrays; the rest (fragments, extension headers,
        TCP, odd link layers) one by one, their UDP payloads appended to a copy of the buffer
        so that every datagram is addressed the same way.
        """
        fast, rest = dec.decode_batch_fast(batch)
        buf = batch.buf
        slow_udp: list[dec.Datagram] = []
        tcp: list[dec.Datagram] = []
        for i in rest.tolist():
            try:
                d = dec.decode_one(buf, int(batch.off[i]), int(batch.caplen[i]),
                                   int(batch.linktype[i]), i, self.reasm)
            except (IndexError, struct.error):
                d = None
            if d is None:
                continue
            (slow_udp if d.proto == dec.UDP else tcp).append(d)
        index = fast.index
        sport, dport, poff, plen = fast.sport, fast.dport, fast.poff, fast.plen
        skey = fast.src4.astype(np.uint64)
        dkey = fast.dst4.astype(np.uint64)
        if fast.v6.any():
            skey = skey.copy()
            dkey = dkey.copy()
            skey[fast.v6] = self.addr.keys_v6(fast.src6[fast.v6])
            dkey[fast.v6] = self.addr.keys_v6(fast.dst6[fast.v6])
        if slow_udp:
            extra = bytearray()
            base = len(buf)
            s_poff = []
            for d in slow_udp:
                s_poff.append(base + len(extra))
                extra += d.payload
            buf = bytes(buf) + bytes(extra)
            index = np.concatenate([index, [d.index for d in slow_udp]]).astype(np.int64)
            sport = np.concatenate([sport, [d.sport for d in slow_udp]]).astype(np.int32)
            dport = np.concatenate([dport, [d.dport for d in slow_udp]]).astype(np.int32)
            poff = np.concatenate([poff, s_poff]).astype(np.int64)
            plen = np.concatenate([plen, [len(d.payload) for d in slow_udp]]).astype(np.int64)
            skey = np.concatenate([skey, np.array([self.addr.key_bytes(d.src) for d in slow_udp],
                                                  np.uint64)])
            dkey = np.concatenate([dkey, np.array([self.addr.key_bytes(d.dst) for d in slow_udp],
                                                  np.uint64)])
            order = np.argsort(index, kind="stable")
            index, sport, dport, poff, plen, skey, dkey = (
                a[order] for a in (index, sport, dport, poff, plen, skey, dkey))
        u8 = np.frombuffer(buf, dtype=np.uint8)
        # first 12 payload bytes of every datagram (SIP sniffing, RTP header)
        head = dec.rows(buf, np.minimum(poff, max(len(u8) - 12, 0)), 12)
        udp = _Udp(buf=buf, u8=u8, index=index, frames=index + batch.first_frame,
                   rel_ns=batch.ts_ns[index] - self.t0, sport=sport, dport=dport, poff=poff,
                   plen=plen, skey=skey, dkey=dkey, head=head)
        return udp, tcp

    def _signalling(self, batch: reader.Batch, udp: _Udp, tcp: list[dec.Datagram]) -> np.ndarray:
        """Parse SIP (UDP and TCP) and MGCP in frame order; returns the UDP datagrams that were
        SIP. SDP bodies set up media conversations as they come, so the order matters."""
        buf, plen, poff = udp.buf, udp.plen, udp.poff
        first4 = np.where(plen >= 4, dec.column(udp.head, 0, 4), 0).astype(np.uint32)
        tail = (plen >= 4) & (poff > len(udp.u8) - 12)  # last bytes of the buffer: read exactly
        if tail.any():
            first4[tail] = dec.gather_uint(buf, poff[tail], 4)
        cand = (np.isin(first4, _SIP_PREFIXES) | np.isin(udp.sport, SIP_PORTS + MGCP_PORTS)
                | np.isin(udp.dport, SIP_PORTS + MGCP_PORTS))
        is_sip = np.zeros(len(udp.index), bool)
        work = [(int(udp.frames[j]), 0, j) for j in np.nonzero(cand)[0].tolist()]
        work += [(d.index + batch.first_frame, 1, d) for d in tcp]
        work.sort(key=lambda w: (w[0], w[1]))
        for frame, kind, item in work:
            if kind == 1:
                self._tcp_segment(item, frame, batch)
                continue
            j = item
            sk, dk = int(udp.skey[j]), int(udp.dkey[j])
            sp, dp = int(udp.sport[j]), int(udp.dport[j])
            if (self.media.known_before((sk << 16) | sp, frame)
                    or self.media.known_before((dk << 16) | dp, frame)):
                continue  # a media conversation takes precedence
            payload = buf[int(poff[j]):int(poff[j]) + int(plen[j])]
            if not looks_like_sip(payload):
                if sp in MGCP_PORTS or dp in MGCP_PORTS:
                    self._mgcp(payload, frame, sk, dk)
                continue
            abs_ns = int(batch.ts_ns[udp.index[j]])
            msgs, _ = parse_sip(payload, frame, self._sec(abs_ns), self.addr.text(sk), sp,
                                self.addr.text(dk), dp, "UDP", abs_ns)
            if msgs:
                is_sip[j] = True
            for m in msgs:
                self._add_message(m, sk, dk)
        return is_sip

    def _rtp_headers(self, udp: _Udp, candidates: np.ndarray) -> _Rtp | None:
        """RTP header fields of the candidate datagrams that a conversation (or Decode As)
        makes RTP and whose header is valid; None when there are none."""
        if not candidates.any() or not (self.media.entries or len(self.decode_as)):
            return None
        r = np.nonzero(candidates)[0]
        fr = udp.frames[r]
        s_conv = self.media.lookup(
            (udp.skey[r] << np.uint64(16)) | udp.sport[r].astype(np.uint64), fr)
        d_conv = self.media.lookup(
            (udp.dkey[r] << np.uint64(16)) | udp.dport[r].astype(np.uint64), fr)
        kinds = self.media.kinds_array()
        chosen = np.where(s_conv >= 0, s_conv, d_conv)
        is_rtp = kinds[chosen] == RTP
        is_rtp &= chosen >= 0
        if len(self.decode_as):  # Decode As: ports not taken by a conversation
            is_rtp |= (chosen < 0) & (np.isin(udp.sport[r], self.decode_as)
                                      | np.isin(udp.dport[r], self.decode_as))
        r, fr, s_conv, d_conv = r[is_rtp], fr[is_rtp], s_conv[is_rtp], d_conv[is_rtp]
        if not len(r):
            return None
        p = udp.poff[r]
        h = udp.head[r]
        b0 = h[:, 0]
        b1 = h[:, 1]
        version = b0 >> 6
        marker = (b1 >> 7).astype(np.uint8)
        pt = (b1 & 0x7F).astype(np.int32)
        cc = (b0 & 0x0F).astype(np.int64)
        hdr = 12 + 4 * cc
        ln = udp.plen[r]
        ok = (version == 2) & ~((marker == 1) & (pt >= 72) & (pt <= 76)) & (hdr <= ln)
        ext = ((b0 >> 4) & 1).astype(bool) & ok
        if ext.any():
            u8 = udp.u8
            eidx = np.nonzero(ext)[0]
            hasx = hdr[eidx] + 4 <= ln[eidx]
            xl = np.zeros(len(eidx), np.int64)
            q = p[eidx][hasx] + hdr[eidx][hasx]
            xl[hasx] = ((u8[q + 2].astype(np.int64) << 8) | u8[q + 3]) * 4 + 4
            hdr[eidx] = np.where(hasx, hdr[eidx] + xl, ln[eidx] + 1)
            ok &= hdr <= ln
        sel = np.nonzero(ok)[0]
        if not len(sel):
            return None
        r, fr, p, pt, marker, hdr = r[sel], fr[sel], p[sel], pt[sel], marker[sel], hdr[sel]
        s_conv, d_conv = s_conv[sel], d_conv[sel]
        h = h[sel]
        # conversation whose SDP names the payload: the destination's, else the source's
        name_conv = np.where((d_conv >= 0) & (kinds[d_conv] == RTP), d_conv, s_conv)
        columns = {
            "frame": fr, "rel_ns": udp.rel_ns[r], "skey": udp.skey[r], "dkey": udp.dkey[r],
            "sport": udp.sport[r], "dport": udp.dport[r], "ssrc": dec.column(h, 8, 4), "pt": pt,
            "marker": marker, "seq": dec.column(h, 2, 2).astype(np.int32),
            "ts": dec.column(h, 4, 4), "conv": name_conv,
        }
        return _Rtp(rows=r, payload_at=p + hdr, columns=columns)

    def _rfc2833_events(self, udp: _Udp, rtp: _Rtp) -> None:
        """RFC 2833 telephone-events: their payload is read now, while the buffer is here
        (kept as columns: a capture can hold hundreds of thousands of event packets)."""
        c = rtp.columns
        k = np.flatnonzero(self._event_mask(c["conv"], c["pt"]))
        if not len(k):
            return
        off = rtp.payload_at[k]
        rows_k = rtp.rows[k]
        fits = off + 4 <= udp.poff[rows_k] + udp.plen[rows_k]
        k, off, rows_k = k[fits], off[fits], rows_k[fits]
        if not len(k):
            return
        u8 = udp.u8
        flags = u8[off + 1]
        conv, pt = c["conv"][k], c["pt"][k]
        pairs, pair_of = np.unique((conv.astype(np.int64) << 8) | pt, return_inverse=True)
        rates = np.asarray([self._pt_rate(int(q) >> 8, int(q) & 0xFF) or 8000
                            for q in pairs.tolist()], np.int64)
        self.events.append({
            "frame": c["frame"][k], "rel_ns": c["rel_ns"][k], "ssrc": c["ssrc"][k],
            "ts": c["ts"][k], "skey": udp.skey[rows_k], "dkey": udp.dkey[rows_k],
            "event": u8[off], "end": (flags & 0x80) > 0, "volume": flags & 0x3F,
            "duration": (u8[off + 2].astype(np.int64) << 8) | u8[off + 3],
            "rate": rates[pair_of.reshape(-1)],
        })

    def _event_mask(self, conv: np.ndarray, pt: np.ndarray) -> np.ndarray:
        mask = np.zeros(len(pt), bool)
        dyn = pt >= 96
        if not dyn.any():
            return mask
        for c, t in set(zip(conv[dyn].tolist(), pt[dyn].tolist())):
            name = self._pt_name(c, t)
            if (name is not None and name.lower().startswith("telephone-event")) or (
                    name in (None, "rtpevent") and t in (100, 101)):
                mask |= (conv == c) & (pt == t)
        return mask

    def _pt_name(self, conv: int, pt: int) -> str | None:
        if pt < 96:
            return None
        if conv < 0:
            # no SDP: the RTP dissector names the PT after a dissector bound to it by
            # preference (RFC 2833 events on 100-101 by default)
            return "rtpevent" if pt in (100, 101) else None
        entry = self.media.entries[conv]
        got = entry.rtpmap.get(pt)
        return got[0] if got else None

    def _pt_rate(self, conv: int, pt: int) -> int:
        if conv < 0:
            return 0
        got = self.media.entries[conv].rtpmap.get(pt)
        return got[1] if got else 0

    def _sec(self, abs_ns: int) -> float:
        rel = abs_ns - (self.t0 or 0)  # t0 is set by the first batch, before any message
        secs = rel // 1_000_000_000 if rel >= 0 else -((-rel) // 1_000_000_000)
        return secs + (rel - secs * 1_000_000_000) / 1e9

    # SIP ---------------------------------------------------------------------------------------
    def _add_message(self, m: SipMessage, sk: int, dk: int) -> None:
        if m.transport == "UDP":
            if m.is_request:
                if m.method not in ("ACK", "CANCEL"):
                    request_key = (m.call_id, m.src, m.sport, m.dst, m.dport, m.cseq_num,
                                   m.method)
                    if request_key in self.seen_requests:
                        m.resent = True
                    self.seen_requests[request_key] = m.frame
            elif m.status is not None and m.status >= 200:
                response_key = (m.call_id, m.src, m.sport, m.dst, m.dport, m.cseq_num,
                                m.cseq_method, m.status)
                if response_key in self.seen_requests:
                    m.resent = True
                self.seen_requests[response_key] = m.frame
        if m.is_request:
            self.request_frames[(m.call_id, m.cseq_num, m.method)] = m.frame
        self.messages.append(m)
        if m.sdp is None:
            return
        if m.is_request:
            setup = m.frame
        else:
            setup = self.request_frames.get((m.call_id, m.cseq_num, m.cseq_method), m.frame)
        self._add_sdp(m.sdp, m.frame, setup, m.call_id)

    def _add_sdp(self, sdp, frame: int, setup: int, call_id: str) -> None:
        for media in sdp.media:
            if not media.is_rtp or media.address is None:
                continue
            raw = _addr_bytes(media.address)
            if raw is None:
                continue
            akey = self.addr.key_bytes(raw)
            self.media.add((akey << 16) | media.port, MediaSetup(
                media.address, media.port, "rtp", frame, setup, dict(media.rtpmap), call_id))
            rport = media.rtcp_port or media.port + 1
            if rport < 65536:
                self.media.add((akey << 16) | rport, MediaSetup(
                    media.address, rport, "rtcp", frame, setup, {}, call_id))

    def _mgcp(self, payload, frame: int, sk: int, dk: int) -> None:
        """MGCP commands/responses carry SDP too (Wireshark sets up RTP from them)."""
        from toipkit.pcap.sdp import parse_sdp

        data = bytes(payload)
        cut = data.find(b"\r\n\r\n")
        sep = 4
        if cut < 0:
            cut, sep = data.find(b"\n\n"), 2
        if cut < 0:
            return
        body = data[cut + sep:].decode("utf-8", "replace")
        if not body.lstrip().startswith("v="):
            return
        self._add_sdp(parse_sdp(body), frame, frame, "")

    def _tcp_segment(self, d: dec.Datagram, frame: int, batch) -> None:
        if not len(d.payload):
            return
        if 5061 in (d.sport, d.dport):
            self.tls_segments += 1
            return
        key = (d.src, d.sport, d.dst, d.dport)
        data = self.tcp_rest.pop(key, b"") + bytes(d.payload)
        if not (d.sport in SIP_PORTS or d.dport in SIP_PORTS or looks_like_sip(data)):
            return
        abs_ns = int(batch.ts_ns[d.index])
        sk, dk = self.addr.key_bytes(d.src), self.addr.key_bytes(d.dst)
        msgs, rest = parse_sip(data, frame, self._sec(abs_ns), self.addr.text(sk), d.sport,
                               self.addr.text(dk), d.dport, "TCP", abs_ns)
        if msgs:
            self.tcp_sip += len(msgs)
        for m in msgs:
            self._add_message(m, sk, dk)
        if rest and len(rest) < 65536:
            self.tcp_rest[key] = rest

    # the end -----------------------------------------------------------------------------------
    def finish(self, state: reader.ReadState) -> Capture:
        # the per-message bookkeeping is done: free it before the streams are built
        self.seen_requests.clear()
        self.request_frames.clear()
        self.tcp_rest.clear()
        warnings = list(state.warnings) + self.warnings
        if self.tls_segments:
            warnings.append(_("{n} segment(s) TCP sur le port 5061 (SIP sur TLS) : chiffrés, "
                              "leurs appels ne peuvent pas être lus dans la capture").format(
                                  n=self.tls_segments))
        if self.tcp_sip:
            warnings.append(_("{n} message(s) SIP sur TCP lus segment par segment : sip,stat "
                              "de tshark les compte mais ne leur donne pas de temps "
                              "d'établissement").format(n=self.tcp_sip))
        if self.reasm.pending:
            warnings.append(_("{n} datagramme(s) IP fragmenté(s) jamais complété(s)").format(
                n=len(self.reasm.pending)))
        streams = self._streams()
        dtmf = self._dtmf()
        media = _Table(self.media.entries)
        return Capture(
            path=self.path, format=state.format, packet_count=state.packets,
            linktypes=sorted(state.linktypes), sip_messages=MessageTable(self.messages),
            rtp_streams=StreamTable(streams), dtmf=DtmfTable(dtmf), media=media,
            warnings=warnings, sip_info_dtmf=DtmfTable(_sip_info_dtmf(self.messages)))

    def _streams(self) -> list[RtpStream]:
        if not self.rtp_parts:
            return []
        # column by column, each batch's piece freed as soon as it is copied (peak memory)
        parts, self.rtp_parts = self.rtp_parts, []
        cols = {k: np.concatenate([p.pop(k) for p in parts]) for k in list(parts[0])}
        del parts
        order, starts = _group_streams(cols)
        bounds = np.append(starts, len(order)).tolist()
        # endpoint columns are only needed for each stream's first packet
        first = order[starts]
        head = {k: cols.pop(k)[first].tolist() for k in ("skey", "dkey", "sport", "dport", "ssrc")}
        # one gather per remaining column; each stream is then a slice (a view)
        for k in list(cols):
            cols[k] = cols[k][order]
        del order, first
        secs, nsecs = _rel_parts(cols.pop("rel_ns"))
        ms = secs.astype(np.float64) * 1000 + nsecs.astype(np.float64) / 1000000
        sec = secs.astype(np.float64) + nsecs.astype(np.float64) / 1e9
        del secs, nsecs
        combo = (cols["conv"].astype(np.int64) << 8) | cols["pt"].astype(np.int64)
        # clock rate of every (conversation, PT) pair, looked up once for the whole capture
        pairs, pair_of = np.unique(combo, return_inverse=True)
        pair_clock = np.asarray(
            [clock_rate(k & 0xFF, self._pt_name(k >> 8, k & 0xFF), self._pt_rate(k >> 8, k & 0xFF))
             for k in pairs.tolist()], np.int64)
        clocks_all = pair_clock[pair_of.reshape(-1)]
        del pair_of
        uniform = np.concatenate([[False], combo[1:] == combo[:-1]])
        cum_breaks = np.cumsum(~uniform)  # changes of (conversation, PT) so far
        del uniform
        meta = []
        for g in range(len(bounds) - 1):
            a, b = bounds[g], bounds[g + 1]
            if cum_breaks[b - 1] - cum_breaks[a] == 0:  # one (conversation, PT) pair
                c, t = int(cols["conv"][a]), int(cols["pt"][a])
                nm = self._pt_name(c, t)
                names = {t: nm if nm is not None else SHORT_NAMES.get(t, f"Unknown ({t})")}
            else:
                pts = cols["pt"][a:b]
                convs = cols["conv"][a:b]
                # payload names: the name given by the packet that introduced each PT
                _, first_idx = np.unique(pts, return_index=True)
                names = {}
                for i in sorted(first_idx.tolist()):
                    c, t = int(convs[i]), int(pts[i])
                    nm = self._pt_name(c, t)
                    names[t] = nm if nm is not None else SHORT_NAMES.get(t, f"Unknown ({t})")
            meta.append(names)
        first_conv = cols.pop("conv")[bounds[:-1]].tolist()
        del combo, cum_breaks
        # streams are analysed in groups of ~64k packets: small temporaries stay in cache
        all_stats: list = []
        g0 = 0
        n_streams = len(bounds) - 1
        while g0 < n_streams:
            g1 = g0 + 1
            while g1 < n_streams and bounds[g1 + 1] - bounds[g0] <= 65536:
                g1 += 1
            a, b = bounds[g0], bounds[g1]
            rel = np.asarray(bounds[g0:g1], np.int64) - a
            all_stats += analyse_segments(rel, cols["frame"][a:b], ms[a:b], cols["pt"][a:b],
                                          cols["marker"][a:b], cols["seq"][a:b],
                                          cols["ts"][a:b], clocks_all[a:b])
            g0 = g1
        streams = []
        for g, names in enumerate(meta):
            a, b = bounds[g], bounds[g + 1]
            data = {"frames": cols["frame"][a:b], "ms": ms[a:b], "sec": sec[a:b],
                    "pt": cols["pt"][a:b], "marker": cols["marker"][a:b], "seq": cols["seq"][a:b],
                    "ts": cols["ts"][a:b], "clock": clocks_all[a:b]}
            st = all_stats[g]
            if st is None:
                st, _ = analyse_sequential(data["frames"], data["ms"], data["pt"],
                                           data["marker"], data["seq"], data["ts"],
                                           data["clock"])
            c0 = first_conv[g]
            rs = RtpStream(
                src=self.addr.text(head["skey"][g]), sport=head["sport"][g],
                dst=self.addr.text(head["dkey"][g]), dport=head["dport"][g],
                ssrc=head["ssrc"][g],
                payload_types=list(names), payload_names=names, start_time=float(sec[a]),
                end_time=float(sec[b - 1]), first_frame=int(cols["frame"][a]), stats=st,
                setup_frame=self.media.entries[c0].setup_frame if c0 >= 0 else None,
                _data=data)
            streams.append(rs)
        streams.sort(key=lambda s: s.first_frame, reverse=True)
        return streams

    def _dtmf(self) -> list[DtmfEvent]:
        """One key press per (SSRC, endpoints, RTP timestamp): its event packets grouped."""
        if not self.events:
            return []
        ev = {k: np.concatenate([e[k] for e in self.events]) for k in self.events[0]}
        order = np.lexsort((ev["frame"], ev["ts"], ev["dkey"], ev["skey"], ev["ssrc"]))
        ev = {k: v[order] for k, v in ev.items()}
        key_change = ((ev["ssrc"][1:] != ev["ssrc"][:-1]) | (ev["skey"][1:] != ev["skey"][:-1])
                      | (ev["dkey"][1:] != ev["dkey"][:-1]) | (ev["ts"][1:] != ev["ts"][:-1]))
        starts = np.flatnonzero(np.concatenate([[True], key_change]))
        ends = np.append(starts[1:], len(order)) - 1
        longest = np.maximum.reduceat(ev["duration"], starts)
        ended = np.maximum.reduceat(ev["end"].astype(np.uint8), starts)
        out = []
        for a, b, dur, fin in zip(starts.tolist(), ends.tolist(), longest.tolist(),
                                  ended.tolist()):
            code = int(ev["event"][a])
            out.append(DtmfEvent(
                digit=event_name(code), event=code, start=self._rel_sec(int(ev["rel_ns"][a])),
                end=self._rel_sec(int(ev["rel_ns"][b])),
                duration_ms=dur * 1000.0 / int(ev["rate"][a]), volume=int(ev["volume"][a]),
                ssrc=int(ev["ssrc"][a]), src=self.addr.text(int(ev["skey"][a])),
                dst=self.addr.text(int(ev["dkey"][a])), packets=b - a + 1, ended=bool(fin),
                first_frame=int(ev["frame"][a])))
        out.sort(key=lambda e: (e.start, e.first_frame))
        return out

    @staticmethod
    def _rel_sec(rel: int) -> float:
        secs = rel // 1_000_000_000 if rel >= 0 else -((-rel) // 1_000_000_000)
        return secs + (rel - secs * 1_000_000_000) / 1e9


def _sip_info_dtmf(messages: list[SipMessage]) -> list[DtmfEvent]:
    """Key presses sent as SIP INFO (application/dtmf-relay ``Signal=5`` or application/dtmf)."""
    import re

    out = []
    for m in messages:
        if m.method != "INFO" or m.resent:
            continue
        body = m.body.strip()
        if m.content_type == "application/dtmf-relay":
            sig = re.search(r"Signal\s*=\s*(\S+)", body, re.I)
            dur = re.search(r"Duration\s*=\s*(\d+)", body, re.I)
            if not sig:
                continue
            digit = sig.group(1)
            duration = float(dur.group(1)) if dur else 0.0
        elif m.content_type == "application/dtmf" and body:
            digit, duration = body.split()[0], 0.0
        else:
            continue
        code = "0123456789*#ABCD".find(digit.upper()) if len(digit) == 1 else -1
        if digit.isdigit() and len(digit) > 1:
            code = int(digit)
            digit = event_name(code)
        out.append(DtmfEvent(
            digit=digit, event=code, start=m.time, end=m.time, duration_ms=duration, volume=0,
            ssrc=0, src=m.src, dst=m.dst, packets=1, ended=True, first_frame=m.frame))
    return out


def _group_streams(cols: dict) -> tuple[np.ndarray, np.ndarray]:
    """Group packets by (src, sport, dst, dport, SSRC).

    Returns a packet order (capture order inside each group) and each group's start in it.
    A single radix sort on (SSRC, hash of the endpoints) does it; groups are then checked and,
    if a hash collision mixed two flows, an exact (slower) grouping is used instead.
    """
    src_ep = (cols["skey"] << np.uint64(16)) | cols["sport"].astype(np.uint64)
    dst_ep = (cols["dkey"] << np.uint64(16)) | cols["dport"].astype(np.uint64)
    with np.errstate(over="ignore"):
        h = (src_ep * np.uint64(0x9E3779B97F4A7C15)) ^ (dst_ep * np.uint64(0xC2B2AE3D27D4EB4F))
    key = (cols["ssrc"].astype(np.uint64) << np.uint64(32)) | (h >> np.uint64(32))
    del h
    order = np.argsort(key, kind="stable")
    ks = key[order]
    same = ks[1:] == ks[:-1]  # next packet in the same group
    del ks
    starts = np.flatnonzero(np.concatenate([[True], ~same]))
    # a hash collision shows as two endpoints inside one group
    mixed = False
    for ep in (src_ep, dst_ep):
        e = ep[order]
        mixed = mixed or bool(np.any(same & (e[1:] != e[:-1])))
        del e
    del same
    if mixed:
        keys = np.empty(len(key), dtype=[("s", "u8"), ("d", "u8"), ("ssrc", "u4")])
        keys["s"], keys["d"], keys["ssrc"] = src_ep, dst_ep, cols["ssrc"]
        _, inv = np.unique(keys, return_inverse=True)
        inv = inv.reshape(-1)
        order = np.argsort(inv, kind="stable")
        iv = inv[order]
        starts = np.flatnonzero(np.concatenate([[True], iv[1:] != iv[:-1]]))
    return order, starts


def _addr_bytes(text: str) -> bytes | None:
    import socket

    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            return socket.inet_pton(family, text)
        except (OSError, ValueError):
            continue
    return None
