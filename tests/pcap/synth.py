"""Build SIP/RTP traffic and write it as pcap/pcapng with any link layer (test helper).

Everything is generated from a seed, so a failing case can be reproduced exactly.
"""

from __future__ import annotations

import ipaddress
import random
import struct
from dataclasses import dataclass, field

# ---- network layers ----------------------------------------------------------------------------


def _csum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def udp(sport: int, dport: int, payload: bytes) -> bytes:
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def ipv4(src: str, dst: str, proto: int, data: bytes, ident: int = 0, mtu: int | None = None
         ) -> list[bytes]:
    """One IPv4 packet, or several fragments when ``mtu`` is smaller than the datagram."""
    s, d = ipaddress.IPv4Address(src).packed, ipaddress.IPv4Address(dst).packed
    out = []
    chunk = len(data) if mtu is None or len(data) + 20 <= mtu else ((mtu - 20) // 8) * 8
    off = 0
    while True:
        part = data[off:off + chunk]
        more = off + len(part) < len(data)
        frag = (0x2000 if more else 0) | (off // 8)
        hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(part), ident, frag, 64, proto, 0,
                          s, d)
        hdr = hdr[:10] + struct.pack("!H", _csum(hdr)) + hdr[12:]
        out.append(hdr + part)
        off += len(part)
        if not more:
            return out


def ipv6(src: str, dst: str, proto: int, data: bytes, ident: int = 0, mtu: int | None = None
         ) -> list[bytes]:
    """One IPv6 packet, or fragments (fragment extension header) above ``mtu``."""
    s, d = ipaddress.IPv6Address(src).packed, ipaddress.IPv6Address(dst).packed
    if mtu is None or len(data) + 40 <= mtu:
        return [struct.pack("!IHBB16s16s", 0x60000000, len(data), proto, 64, s, d) + data]
    chunk = ((mtu - 48) // 8) * 8
    out = []
    for off in range(0, len(data), chunk):
        part = data[off:off + chunk]
        more = off + len(part) < len(data)
        frag = struct.pack("!BBHI", proto, 0, off | (1 if more else 0), ident)
        out.append(struct.pack("!IHBB16s16s", 0x60000000, 8 + len(part), 44, 64, s, d)
                   + frag + part)
    return out


def ip_udp(src: str, dst: str, sport: int, dport: int, payload: bytes, ident: int = 0,
           mtu: int | None = None) -> list[bytes]:
    seg = udp(sport, dport, payload)
    if ":" in src:
        return ipv6(src, dst, 17, seg, ident, mtu)
    return ipv4(src, dst, 17, seg, ident, mtu)


# ---- link layers -------------------------------------------------------------------------------

LINK = {"eth": 1, "vlan": 1, "qinq": 1, "sll": 113, "sll2": 276, "raw": 101, "null": 0,
        "loop": 108, "ipv4": 228}


def encap(ip: bytes, link: str) -> bytes:
    v6 = ip[0] >> 4 == 6
    etype = 0x86DD if v6 else 0x0800
    macs = bytes.fromhex("0011223344550066778899aa")
    if link == "eth":
        return macs + struct.pack("!H", etype) + ip
    if link == "vlan":
        return macs + struct.pack("!HHH", 0x8100, 100, etype) + ip
    if link == "qinq":
        return macs + struct.pack("!HHHHH", 0x88A8, 10, 0x8100, 100, etype) + ip
    if link == "sll":
        return struct.pack("!HHH8sH", 0, 1, 6, bytes(8), etype) + ip
    if link == "sll2":
        return struct.pack("!HHIHBB8s", etype, 0, 2, 1, 0, 6, bytes(8)) + ip
    if link in ("raw", "ipv4"):
        return ip
    if link == "null":
        return struct.pack("<I", 30 if v6 else 2) + ip
    if link == "loop":
        return struct.pack(">I", 30 if v6 else 2) + ip
    raise ValueError(link)


# ---- file writers ------------------------------------------------------------------------------


def write_pcap(path, frames: list[tuple[int, bytes]], linktype: int, endian: str = "<",
               nanos: bool = False, snaplen: int = 262144) -> None:
    magic = 0xA1B23C4D if nanos else 0xA1B2C3D4
    out = [struct.pack(endian + "IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype)]
    for ts, data in frames:
        sec, rem = divmod(ts, 1_000_000_000)
        frac = rem if nanos else rem // 1000
        cap = data[:snaplen]
        out.append(struct.pack(endian + "IIII", sec, frac, len(cap), len(data)) + cap)
    with open(path, "wb") as fh:
        fh.write(b"".join(out))


def _opt(endian, code, value: bytes) -> bytes:
    pad = (-len(value)) % 4
    return struct.pack(endian + "HH", code, len(value)) + value + b"\0" * pad


def _block(endian, btype, body: bytes) -> bytes:
    blen = 12 + len(body)
    return struct.pack(endian + "II", btype, blen) + body + struct.pack(endian + "I", blen)


def write_pcapng(path, frames: list[tuple[int, bytes, int]], ifaces: list[tuple[int, int]],
                 endian: str = "<", obsolete_blocks: bool = False) -> None:
    """``frames`` = (ts_ns, data, interface id); ``ifaces`` = (linktype, tsresol exponent)."""
    shb = struct.pack(endian + "IHHq", 0x1A2B3C4D, 1, 0, -1)
    out = [_block(endian, 0x0A0D0D0A, shb)]
    for lt, res in ifaces:
        body = struct.pack(endian + "HHI", lt, 0, 262144)
        body += _opt(endian, 9, bytes([res])) + _opt(endian, 0, b"")
        out.append(_block(endian, 1, body))
    for ts, data, iface in frames:
        res = ifaces[iface][1]
        units = ts // 10 ** (9 - res) if res <= 9 else ts * 10 ** (res - 9)
        pad = b"\0" * ((-len(data)) % 4)
        if obsolete_blocks:
            body = struct.pack(endian + "HHIIII", iface, 0, units >> 32, units & 0xFFFFFFFF,
                               len(data), len(data)) + data + pad
            out.append(_block(endian, 2, body))
        else:
            body = struct.pack(endian + "IIIII", iface, units >> 32, units & 0xFFFFFFFF,
                               len(data), len(data)) + data + pad
            out.append(_block(endian, 6, body))
    with open(path, "wb") as fh:
        fh.write(b"".join(out))


# ---- SIP + RTP scenario -----------------------------------------------------------------------


@dataclass
class Leg:
    """One RTP direction."""

    ssrc: int
    pt: int = 8
    seq0: int = 1000
    ts0: int = 160000
    count: int = 100
    ptime_ms: int = 20
    clock: int = 8000
    jitter_ms: float = 0.0  # uniform random arrival noise
    loss: float = 0.0
    dup: float = 0.0
    reorder: float = 0.0
    marker_every: int = 0  # marker bit every N packets (talk spurts), 0 = first only
    cn_every: int = 0  # a CN packet (PT 13) every N packets
    dtmf: str = ""  # digits sent as RFC 2833 events (PT event_pt) in the middle
    event_pt: int = 101
    ts_jump_at: int = -1  # timestamp jumps by 2**31+5 at that packet index


@dataclass
class CallSpec:
    caller: str = "10.0.0.1"
    callee: str = "10.0.0.2"
    caller_rtp: int = 40000
    callee_rtp: int = 50000
    codec_name: str = "PCMA"
    codec_rate: int = 8000
    pt: int = 8
    event_pt: int = 101
    start_s: float = 1.0
    ring_s: float = 0.3
    answer_s: float = 1.0
    legs: list[Leg] = field(default_factory=list)
    final: int = 200  # 200, 486, 487 (cancelled)
    mtu: int | None = None  # fragment SIP messages bigger than this
    call_id: str = "synth-1@test"
    offer_rtpmap: bool = True
    answer_event_pt: int | None = None  # the answer maps telephone-event to another PT


def _sdp(addr: str, port: int, spec: CallSpec, sess: int) -> str:
    ipv = "IP6" if ":" in addr else "IP4"
    ev = spec.answer_event_pt if (sess == 2 and spec.answer_event_pt) else spec.event_pt
    lines = ["v=0", f"o=- {sess} {sess} IN {ipv} {addr}", "s=-", f"c=IN {ipv} {addr}", "t=0 0",
             f"m=audio {port} RTP/AVP {spec.pt} {ev}"]
    if spec.offer_rtpmap:
        lines += [f"a=rtpmap:{spec.pt} {spec.codec_name}/{spec.codec_rate}",
                  f"a=rtpmap:{ev} telephone-event/8000", "a=ptime:20"]
    lines.append("a=sendrecv")
    return "\r\n".join(lines) + "\r\n"


def _sip(first: str, headers: list[tuple[str, str]], body: str = "") -> bytes:
    h = [first] + [f"{k}: {v}" for k, v in headers]
    if body:
        h.append("Content-Type: application/sdp")
    h.append(f"Content-Length: {len(body.encode())}")
    return ("\r\n".join(h) + "\r\n\r\n" + body).encode()


def call_packets(spec: CallSpec, seed: int = 1, compact: bool = False) -> list[tuple[int, bytes]]:
    """IP packets (ts_ns, bytes) of one call with its RTP legs, in time order."""
    rnd = random.Random(seed)
    a, b = spec.caller, spec.callee
    t = int(spec.start_s * 1e9)
    pk: list[tuple[int, list[bytes]]] = []
    ident = [rnd.randrange(1, 60000)]

    def send(ts, src, dst, sport, dport, payload):
        ident[0] = (ident[0] + 1) & 0xFFFF
        pk.append((ts, ip_udp(src, dst, sport, dport, payload, ident[0], spec.mtu)))

    cid = ("i", "f", "t", "v") if compact else ("Call-ID", "From", "To", "Via")
    base = [(cid[3], f"SIP/2.0/UDP {a}:5060;branch=z9hG4bK-{seed}"),
            (cid[1], f"<sip:101@{a}>;tag=aaa{seed}"), (cid[2], f"<sip:102@{b}>"),
            (cid[0], spec.call_id), ("CSeq", "1 INVITE"), ("Contact", f"<sip:101@{a}:5060>"),
            ("Max-Forwards", "70")]
    resp = [(k, (v + f";tag=bbb{seed}") if k == cid[2] else v) for k, v in base
            if k not in ("Contact", "Max-Forwards")]
    send(t, a, b, 5060, 5060, _sip(f"INVITE sip:102@{b} SIP/2.0", base,
                                    _sdp(a, spec.caller_rtp, spec, 1)))
    send(t + 2_000_000, b, a, 5060, 5060, _sip("SIP/2.0 100 Trying", resp[:4] + [resp[4]]))
    t_ring = t + int(spec.ring_s * 1e9)
    send(t_ring, b, a, 5060, 5060, _sip("SIP/2.0 180 Ringing", resp))
    t_ans = t + int(spec.answer_s * 1e9)
    if spec.final == 200:
        send(t_ans, b, a, 5060, 5060, _sip("SIP/2.0 200 OK", resp + [
            ("Contact", f"<sip:102@{b}:5060>")], _sdp(b, spec.callee_rtp, spec, 2)))
        ack = [(k, v.replace("1 INVITE", "1 ACK")) for k, v in resp]
        send(t_ans + 3_000_000, a, b, 5060, 5060, _sip(f"ACK sip:102@{b}:5060 SIP/2.0", ack))
    elif spec.final == 487:
        cancel = [(k, v.replace("1 INVITE", "1 CANCEL")) for k, v in base]
        send(t_ans, a, b, 5060, 5060, _sip(f"CANCEL sip:102@{b} SIP/2.0", cancel))
        send(t_ans + 1_000_000, b, a, 5060, 5060, _sip("SIP/2.0 200 OK", [
            (k, v.replace("1 INVITE", "1 CANCEL")) for k, v in resp]))
        send(t_ans + 2_000_000, b, a, 5060, 5060, _sip("SIP/2.0 487 Request Terminated", resp))
        ack = [(k, v.replace("1 INVITE", "1 ACK")) for k, v in resp]
        send(t_ans + 4_000_000, a, b, 5060, 5060, _sip(f"ACK sip:102@{b} SIP/2.0", ack))
    else:
        send(t_ans, b, a, 5060, 5060, _sip(f"SIP/2.0 {spec.final} Busy Here", resp))
        ack = [(k, v.replace("1 INVITE", "1 ACK")) for k, v in resp]
        send(t_ans + 3_000_000, a, b, 5060, 5060, _sip(f"ACK sip:102@{b} SIP/2.0", ack))
    t_media = t_ans + 10_000_000
    t_end = t_media
    for k, leg in enumerate(spec.legs):
        src, dst = (a, b) if k % 2 == 0 else (b, a)
        sp, dp = ((spec.caller_rtp, spec.callee_rtp) if k % 2 == 0
                  else (spec.callee_rtp, spec.caller_rtp))
        for ts_ns, payload in _rtp_leg(leg, rnd, t_media + k * 7_000_000):
            send(ts_ns, src, dst, sp, dp, payload)
            t_end = max(t_end, ts_ns)
    if spec.final == 200:
        bye = [(cid[3], f"SIP/2.0/UDP {a}:5060;branch=z9hG4bK-bye{seed}"),
               (cid[1], f"<sip:101@{a}>;tag=aaa{seed}"), (cid[2], f"<sip:102@{b}>;tag=bbb{seed}"),
               (cid[0], spec.call_id), ("CSeq", "2 BYE")]
        send(t_end + 50_000_000, a, b, 5060, 5060, _sip(f"BYE sip:102@{b}:5060 SIP/2.0", bye))
        send(t_end + 52_000_000, b, a, 5060, 5060, _sip("SIP/2.0 200 OK", bye))
    pk.sort(key=lambda x: x[0])
    return [(ts, ip) for ts, ips in pk for ip in ips]


def _rtp(pt, marker, seq, ts, ssrc, payload) -> bytes:
    return struct.pack("!BBHII", 0x80, (0x80 if marker else 0) | pt, seq & 0xFFFF,
                       ts & 0xFFFFFFFF, ssrc) + payload


def _rtp_leg(leg: Leg, rnd: random.Random, t0: int) -> list[tuple[int, bytes]]:
    out = []
    step = leg.clock * leg.ptime_ms // 1000
    audio = bytes(step) if leg.clock == 8000 else bytes(160)
    seq = leg.seq0
    ev_at = leg.count // 3
    digits = list(leg.dtmf)
    i = 0
    ts_extra = 0
    while i < leg.count:
        nominal = t0 + i * leg.ptime_ms * 1_000_000
        if digits and i == ev_at:
            d = digits.pop(0)
            code = "0123456789*#".index(d)
            ets = leg.ts0 + i * step
            for j in range(5):
                dur = j * 160
                end = j == 4
                body = struct.pack("!BBH", code, (0x80 if end else 0) | 10, dur + 160)
                arr = nominal + j * 20_000_000 + int(rnd.uniform(0, leg.jitter_ms) * 1e6)
                out.append((arr, _rtp(leg.event_pt, j == 0, seq, ets, leg.ssrc, body)))
                seq += 1
            if end:  # two extra end packets, as most phones send
                for _ in range(2):
                    out.append((arr + 1_000_000, _rtp(leg.event_pt, False, seq, ets, leg.ssrc,
                                                      body)))
                    seq += 1
            i += 5
            ev_at += 25
            continue
        if i == leg.ts_jump_at:
            ts_extra = 2 ** 31 + 5
        pt = leg.pt
        if leg.cn_every and i % leg.cn_every == leg.cn_every - 1:
            pt = 13
        marker = i == 0 or (leg.marker_every and i % leg.marker_every == 0)
        pkt = _rtp(pt, marker, seq, leg.ts0 + i * step + ts_extra, leg.ssrc,
                   audio if pt != 13 else b"\x40")
        seq += 1
        i += 1
        if rnd.random() < leg.loss:
            continue
        arr = nominal + int(rnd.uniform(0, leg.jitter_ms) * 1e6)
        if rnd.random() < leg.reorder:
            arr += 25_000_000
        out.append((arr, pkt))
        if rnd.random() < leg.dup:
            out.append((arr + 100_000, pkt))
    return out


def frames_for(packets: list[tuple[int, bytes]], link: str) -> list[tuple[int, bytes]]:
    return [(ts, encap(ip, link)) for ts, ip in packets]


def tcp(sport: int, dport: int, seq: int, payload: bytes, flags: int = 0x18) -> bytes:
    return struct.pack("!HHIIBBHHH", sport, dport, seq, 1, 5 << 4, flags, 65535, 0, 0) + payload


def tcp_sip_call(a: str = "10.9.0.1", b: str = "10.9.0.2", split: bool = True,
                 start_ns: int = 1_000_000_000) -> list[tuple[int, bytes]]:
    """A SIP call over TCP (INVITE split over two segments when ``split``) with UDP RTP."""
    spec = CallSpec(caller=a, callee=b, legs=[Leg(ssrc=0x5151, count=60),
                                              Leg(ssrc=0x6161, count=60)])
    udp_pk = call_packets(spec, seed=4)
    out = []
    seqs = {}
    for ts, ip in udp_pk:
        s, d = ip[12:16], ip[16:20]
        sport, dport = struct.unpack("!HH", ip[20:24])
        payload = ip[28:]
        if sport == 5060 and dport == 5060:
            key = (s, d)
            seq = seqs.get(key, 1000)
            pieces = [payload]
            if split and payload.startswith(b"INVITE"):
                cut = len(payload) // 2
                pieces = [payload[:cut], payload[cut:]]
            for k, piece in enumerate(pieces):
                src = ".".join(map(str, s))
                dst = ".".join(map(str, d))
                out.append((ts + k * 1000, ipv4(src, dst, 6, tcp(5060, 5060, seq, piece))[0]))
                seq += len(piece)
            seqs[key] = seq
        else:
            out.append((ts, ip))
    out.sort(key=lambda x: x[0])
    return out
