"""Small pcap/pcapng helpers for the capture generator and the benchmark (not the library).

`toipkit.pcap` is the real reader; this module only needs what the generator scripts need:
read the Ethernet/IPv4/UDP frames that dumpcap writes on `lo`, write classic pcap files (for
sipp's ``play_pcap_audio`` and for the benchmark's big capture), a per-flow content digest that
ignores timestamps (generator determinism), and a rewriter that replicates a capture with
shifted ports, SSRCs, Call-IDs and times (benchmark).
"""

from __future__ import annotations

import hashlib
import re
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

LINKTYPE_ETHERNET = 1


@dataclass
class Frame:
    ts_ns: int  # absolute time, nanoseconds since the epoch
    linktype: int
    data: bytes


def iter_frames(path: str) -> Iterator[Frame]:
    """Frames of a pcap (µs or ns, either byte order) or pcapng (SHB/IDB/EPB/SPB) file."""
    with open(path, "rb") as fh:
        buf = fh.read()
    magic = buf[:4]
    if magic == b"\x0a\x0d\x0d\x0a":
        yield from _iter_pcapng(buf)
        return
    table = {
        b"\xd4\xc3\xb2\xa1": ("<", 1000), b"\xa1\xb2\xc3\xd4": (">", 1000),
        b"\x4d\x3c\xb2\xa1": ("<", 1), b"\xa1\xb2\x3c\x4d": (">", 1),
    }
    if magic not in table:
        raise ValueError(f"{path}: not a pcap/pcapng file")
    end, mult = table[magic]
    linktype = struct.unpack_from(end + "I", buf, 20)[0] & 0x0FFFFFFF
    off = 24
    hdr = struct.Struct(end + "IIII")
    while off + 16 <= len(buf):
        sec, frac, incl, _orig = hdr.unpack_from(buf, off)
        off += 16
        yield Frame(sec * 1_000_000_000 + frac * mult, linktype, buf[off:off + incl])
        off += incl


def _iter_pcapng(buf: bytes) -> Iterator[Frame]:
    off = 0
    end = "<"
    ifaces: list[tuple[int, int]] = []  # (linktype, ns per tick as a fraction numerator)
    while off + 12 <= len(buf):
        btype = struct.unpack_from(end + "I", buf, off)[0]
        if btype == 0x0A0D0D0A:
            bom = buf[off + 8:off + 12]
            end = "<" if bom == b"\x4d\x3c\x2b\x1a" else ">"
            ifaces = []
        blen = struct.unpack_from(end + "I", buf, off + 4)[0]
        body = buf[off + 8:off + blen - 4]
        if btype == 1:  # IDB
            linktype = struct.unpack_from(end + "H", body, 0)[0]
            tsresol = 6
            opt = 8
            while opt + 4 <= len(body):
                code, olen = struct.unpack_from(end + "HH", body, opt)
                if code == 0:
                    break
                if code == 9:
                    tsresol = body[opt + 4]
                opt += 4 + ((olen + 3) & ~3)
            ifaces.append((linktype, tsresol))
        elif btype == 6:  # EPB
            ifid, hi, lo, incl, _orig = struct.unpack_from(end + "IIIII", body, 0)
            linktype, tsresol = ifaces[ifid]
            ticks = (hi << 32) | lo
            if tsresol & 0x80:
                ns = ticks * 1_000_000_000 // (2 ** (tsresol & 0x7F))
            else:
                ns = ticks * 10 ** (9 - tsresol) if tsresol <= 9 else ticks // 10 ** (tsresol - 9)
            yield Frame(ns, linktype, body[20:20 + incl])
        elif btype == 3:  # SPB: no timestamp
            linktype, _ = ifaces[0]
            yield Frame(0, linktype, body[4:])
        off += blen


@dataclass
class Udp:
    src: str
    sport: int
    dst: str
    dport: int
    payload: bytes


def udp_of(frame: Frame) -> Udp | None:
    """The UDP datagram of an Ethernet/IPv4 frame (what dumpcap records on `lo`), or None."""
    data = frame.data
    if frame.linktype != LINKTYPE_ETHERNET or len(data) < 42:
        return None
    off = 12
    ethertype = struct.unpack_from("!H", data, off)[0]
    off += 2
    if ethertype == 0x8100:
        ethertype = struct.unpack_from("!H", data, off + 2)[0]
        off += 4
    if ethertype != 0x0800:
        return None
    ihl = (data[off] & 0x0F) * 4
    if data[off + 9] != 17:
        return None
    total = struct.unpack_from("!H", data, off + 2)[0]
    src = ".".join(str(b) for b in data[off + 12:off + 16])
    dst = ".".join(str(b) for b in data[off + 16:off + 20])
    u = off + ihl
    sport, dport, ulen = struct.unpack_from("!HHH", data, u)
    end = min(off + total, u + ulen, len(data))
    return Udp(src, sport, dst, dport, bytes(data[u + 8:end]))


def content_digest(path: str) -> dict:
    """Timestamp-free digest: SHA-256 of each UDP flow's payload sequence, plus a total.

    Two runs of the generator with the same seeds give the same flows with the same payloads in
    the same order within each flow; only the times (and the interleaving of different flows,
    which depends on scheduling) differ, so this is what "same content" means.
    """
    flows: dict[str, hashlib._Hash] = {}
    counts: dict[str, int] = {}
    for frame in iter_frames(path):
        u = udp_of(frame)
        if u is None:
            continue
        key = f"{u.src}:{u.sport}>{u.dst}:{u.dport}"
        h = flows.setdefault(key, hashlib.sha256())
        h.update(struct.pack("!I", len(u.payload)) + u.payload)
        counts[key] = counts.get(key, 0) + 1
    per_flow = {k: {"packets": counts[k], "sha256": flows[k].hexdigest()} for k in sorted(flows)}
    total = hashlib.sha256(
        "\n".join(f"{k} {v['packets']} {v['sha256']}" for k, v in per_flow.items()).encode()
    ).hexdigest()
    return {"sha256": total, "flows": per_flow}


# --------------------------------------------------------------------------- writing

def ipv4_udp_frame(src: str, sport: int, dst: str, dport: int, payload: bytes,
                   ident: int = 0) -> bytes:
    """An Ethernet II + IPv4 + UDP frame (zero MACs as on `lo`; UDP checksum 0 = none)."""
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), ident & 0xFFFF, 0x4000, 64,
                         17, 0, bytes(int(x) for x in src.split(".")),
                         bytes(int(x) for x in dst.split(".")))
    csum = _ip_checksum(header)
    header = header[:10] + struct.pack("!H", csum) + header[12:]
    return b"\x00" * 12 + b"\x08\x00" + header + udp


def _ip_checksum(header: bytes) -> int:
    total = sum(struct.unpack("!10H", header))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


class PcapWriter:
    """Classic pcap writer (little endian, µs or ns resolution, Ethernet)."""

    def __init__(self, fh, nanoseconds: bool = False, linktype: int = LINKTYPE_ETHERNET):
        self.fh = fh
        self.ns = nanoseconds
        magic = 0xA1B23C4D if nanoseconds else 0xA1B2C3D4
        fh.write(struct.pack("<IHHiIII", magic, 2, 4, 0, 0, 262144, linktype))
        self._hdr = struct.Struct("<IIII")

    def write(self, ts_ns: int, data: bytes) -> None:
        sec, rem = divmod(ts_ns, 1_000_000_000)
        frac = rem if self.ns else rem // 1000
        self.fh.write(self._hdr.pack(sec, frac, len(data), len(data)))
        self.fh.write(data)


def write_pcap(path: str, frames: Iterable[tuple[int, bytes]], nanoseconds: bool = False) -> None:
    with open(path, "wb") as fh:
        w = PcapWriter(fh, nanoseconds)
        for ts_ns, data in frames:
            w.write(ts_ns, data)


# --------------------------------------------------------------------------- replicating

_SDP_PORT = re.compile(rb"^m=(audio|video) (\d+) ", re.M)
_CALL_ID = re.compile(rb"^(?:Call-ID|i)[ \t]*:[ \t]*(\S+)", re.M | re.I)


@dataclass
class Template:
    """A capture prepared for replication: frames with their UDP fields split out."""

    frames: list[tuple[int, Udp]]  # (ns relative to the first frame, datagram)
    media_ports: list[int]  # ports announced in SDP (5 digits, so a new port keeps the length)
    duration_ns: int


def load_template(path: str) -> Template:
    raw = [(f.ts_ns, udp_of(f)) for f in iter_frames(path)]
    raw = [(t, u) for t, u in raw if u is not None]
    t0 = raw[0][0]
    ports: set[int] = set()
    for _, u in raw:
        for m in _SDP_PORT.finditer(u.payload):
            ports.add(int(m.group(2)))
    if any(not 10000 <= p <= 65535 for p in ports):
        raise ValueError("media ports must have 5 digits to be rewritten in place")
    frames = [(t - t0, u) for t, u in raw]
    return Template(frames, sorted(ports), frames[-1][0])


def rewrite(u: Udp, port_map: dict[int, int], ssrc_xor: int, callid_tag: bytes) -> bytes:
    """The datagram's payload for one replica: new media ports, SSRC and Call-ID, same length."""
    p = u.payload
    if u.sport in port_map or u.dport in port_map:
        if len(p) >= 12 and p[0] >> 6 == 2:
            ssrc = struct.unpack_from("!I", p, 8)[0] ^ ssrc_xor
            return p[:8] + struct.pack("!I", ssrc) + p[12:]
        return p
    if b"SIP/2.0" not in p[:200]:
        return p

    def _port(m: re.Match) -> bytes:
        old = int(m.group(2))
        return b"m=" + m.group(1) + b" " + str(port_map.get(old, old)).encode() + b" "

    p = _SDP_PORT.sub(_port, p)
    # Overwrite the start of every Call-ID value with the replica tag (same length).
    out = bytearray(p)
    for m in _CALL_ID.finditer(p):
        start = m.start(1)
        n = min(len(callid_tag), m.end(1) - start)
        out[start:start + n] = callid_tag[:n]
    return bytes(out)
