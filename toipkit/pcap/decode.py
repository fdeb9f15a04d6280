"""Link layer, IPv4/IPv6 (with fragment reassembly), UDP and TCP decoding.

Two paths give the same answers:

- ``decode_batch_fast`` works on whole numpy arrays for the common case (Ethernet, 802.1Q,
  Linux cooked SLL/SLL2, raw IP, BSD loopback; unfragmented IPv4/IPv6 carrying UDP);
- ``decode_one`` handles any single packet in Python (fragments, IPv6 extension headers,
  TCP, odd layouts) and is used for whatever the fast path leaves aside.
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass, field

import numpy as np

# link types
LT_NULL, LT_EN10MB, LT_RAW, LT_LOOP, LT_SLL, LT_RAW_OLD1, LT_RAW_OLD2 = 0, 1, 101, 108, 113, 12, 14
LT_IPV4, LT_IPV6, LT_SLL2 = 228, 229, 276
SUPPORTED_LINKTYPES = {LT_NULL, LT_EN10MB, LT_RAW, LT_LOOP, LT_SLL, LT_RAW_OLD1, LT_RAW_OLD2,
                       LT_IPV4, LT_IPV6, LT_SLL2}
VLAN_TYPES = (0x8100, 0x88A8, 0x9100)
AF_INET6_VALUES = (10, 24, 28, 30)

UDP, TCP = 17, 6


@dataclass
class Datagram:
    """A UDP datagram or TCP segment found in frame ``index`` of a batch."""

    index: int  # record index in the batch
    proto: int  # 17 UDP, 6 TCP
    src: bytes  # 4 or 16 bytes
    dst: bytes
    sport: int
    dport: int
    payload: bytes | memoryview
    tcp_seq: int = 0
    tcp_flags: int = 0


@dataclass
class Reassembly:
    """IPv4/IPv6 fragments waiting for their datagram to complete."""

    pending: dict = field(default_factory=dict)

    def add(self, key, offset: int, more: bool, data: bytes):
        parts = self.pending.setdefault(key, {"parts": {}, "total": None})
        parts["parts"][offset] = bytes(data)
        if not more:
            parts["total"] = offset + len(data)
        total = parts["total"]
        if total is None:
            return None
        # complete when the fragments cover [0, total)
        covered = 0
        for off in sorted(parts["parts"]):
            if off > covered:
                return None
            covered = max(covered, off + len(parts["parts"][off]))
        if covered < total:
            return None
        out = bytearray(total)
        for off in sorted(parts["parts"]):
            chunk = parts["parts"][off]
            out[off:off + len(chunk)] = chunk[: max(0, total - off)]
        del self.pending[key]
        return bytes(out)


def _l3_start(buf, off: int, caplen: int, linktype: int) -> tuple[int, int] | None:
    """Return (ethertype-like protocol, offset of the network header) or None."""
    end = off + caplen
    if linktype == LT_EN10MB:
        if caplen < 14:
            return None
        etype = (buf[off + 12] << 8) | buf[off + 13]
        pos = off + 14
    elif linktype == LT_SLL:
        if caplen < 16:
            return None
        etype = (buf[off + 14] << 8) | buf[off + 15]
        pos = off + 16
    elif linktype == LT_SLL2:
        if caplen < 20:
            return None
        etype = (buf[off] << 8) | buf[off + 1]
        pos = off + 20
    elif linktype in (LT_RAW, LT_RAW_OLD1, LT_RAW_OLD2, LT_IPV4, LT_IPV6):
        if caplen < 1:
            return None
        ver = buf[off] >> 4
        return (0x0800 if ver == 4 else 0x86DD if ver == 6 else -1), off
    elif linktype in (LT_NULL, LT_LOOP):
        if caplen < 4:
            return None
        if linktype == LT_LOOP:
            af = struct.unpack_from(">I", buf, off)[0]
        else:
            af = struct.unpack_from("<I", buf, off)[0]
            if af > 0xFFFF:
                af = struct.unpack_from(">I", buf, off)[0]
        if af == 2:
            return 0x0800, off + 4
        if af in AF_INET6_VALUES:
            return 0x86DD, off + 4
        return None
    else:
        return None
    while etype in VLAN_TYPES and pos + 4 <= end:
        etype = (buf[pos + 2] << 8) | buf[pos + 3]
        pos += 4
    return etype, pos


def decode_one(buf, off: int, caplen: int, linktype: int, index: int,
               reasm: Reassembly) -> Datagram | None:
    """Decode one record down to UDP/TCP; fragments go through ``reasm``."""
    l3 = _l3_start(buf, off, caplen, linktype)
    if l3 is None:
        return None
    etype, pos = l3
    end = off + caplen
    if etype == 0x0800:
        if pos + 20 > end or buf[pos] >> 4 != 4:
            return None
        ihl = (buf[pos] & 0x0F) * 4
        total = (buf[pos + 2] << 8) | buf[pos + 3]
        if ihl < 20 or total < ihl:
            return None
        ident = (buf[pos + 4] << 8) | buf[pos + 5]
        frag = (buf[pos + 6] << 8) | buf[pos + 7]
        proto = buf[pos + 9]
        src = bytes(buf[pos + 12:pos + 16])
        dst = bytes(buf[pos + 16:pos + 20])
        pend = min(end, pos + total)
        data = buf[pos + ihl:pend]
        if frag & 0x3FFF:  # MF set or offset != 0
            if pos + total > end:
                return None  # cannot reassemble a cut fragment
            whole = reasm.add((4, src, dst, ident, proto), (frag & 0x1FFF) * 8,
                              bool(frag & 0x2000), data)
            if whole is None:
                return None
            data = whole
    elif etype == 0x86DD:
        if pos + 40 > end or buf[pos] >> 4 != 6:
            return None
        plen = (buf[pos + 4] << 8) | buf[pos + 5]
        nh = buf[pos + 6]
        src = bytes(buf[pos + 8:pos + 24])
        dst = bytes(buf[pos + 24:pos + 40])
        p = pos + 40
        pend = min(end, p + plen)
        fraginfo = None
        while nh in (0, 43, 60, 44, 51):
            if p + 8 > pend:
                return None
            if nh == 44:
                fo = (buf[p + 2] << 8) | buf[p + 3]
                ident = struct.unpack_from(">I", buf, p + 4)[0]
                fraginfo = ((fo & 0xFFF8), bool(fo & 1), ident)
                nh = buf[p]
                p += 8
            elif nh == 51:
                nxt, hl = buf[p], (buf[p + 1] + 2) * 4
                nh = nxt
                p += hl
            else:
                nxt, hl = buf[p], (buf[p + 1] + 1) * 8
                nh = nxt
                p += hl
        proto = nh
        data = buf[p:pend]
        if fraginfo is not None:
            foff, more, ident = fraginfo
            if foff == 0 and not more:
                pass  # atomic fragment
            else:
                whole = reasm.add((6, src, dst, ident, proto), foff, more, data)
                if whole is None:
                    return None
                data = whole
    else:
        return None
    if proto == UDP:
        if len(data) < 8:
            return None
        sport = (data[0] << 8) | data[1]
        dport = (data[2] << 8) | data[3]
        ulen = (data[4] << 8) | data[5]
        payload = data[8:ulen] if 8 <= ulen <= len(data) else data[8:]
        return Datagram(index, UDP, src, dst, sport, dport, payload)
    if proto == TCP:
        if len(data) < 20:
            return None
        sport = (data[0] << 8) | data[1]
        dport = (data[2] << 8) | data[3]
        seq = struct.unpack_from(">I", data, 4)[0]
        doff = (data[12] >> 4) * 4
        flags = data[13]
        if doff < 20:
            return None
        return Datagram(index, TCP, src, dst, sport, dport, data[doff:], seq, flags)
    return None


def addr_text(raw: bytes) -> str:
    """Address as Wireshark displays it (no name resolution)."""
    if len(raw) == 4:
        return "{}.{}.{}.{}".format(*raw)
    return str(ipaddress.IPv6Address(raw))


# Fast path ------------------------------------------------------------------------------------

@dataclass
class FastUDP:
    """UDP datagrams decoded by the vectorised path (arrays aligned with each other)."""

    index: np.ndarray  # record index in batch (int64)
    v6: np.ndarray  # bool
    src4: np.ndarray  # uint32 (IPv4) — 0 for IPv6
    dst4: np.ndarray
    src6: np.ndarray  # (n, 16) uint8 or empty
    dst6: np.ndarray
    sport: np.ndarray  # int32
    dport: np.ndarray
    poff: np.ndarray  # int64 payload offset in batch buffer
    plen: np.ndarray  # int64 payload length (captured)


def gather_uint(buf, offs: np.ndarray, size: int, endian: str = ">") -> np.ndarray:
    """Unsigned integers of ``size`` bytes (2 or 4) at byte offsets ``offs`` of ``buf``.

    Reads through word views of the buffer at each alignment, so each value costs one
    indexed load (several times faster than gathering bytes and shifting them together).
    Offsets must satisfy ``0 <= off <= len(buf) - size``.
    """
    n = len(buf)
    dt = np.dtype(f"{endian}u{size}")
    out = np.empty(len(offs), dt.newbyteorder("="))
    if not len(offs):
        return out
    rem = offs & (size - 1)
    q = offs // size
    for a in range(size):
        m = rem == a
        if a and not m.any():
            continue
        view = np.frombuffer(buf, dtype=dt, offset=a, count=(n - a) // size)
        out[m] = view[q[m]]
    return out


def rows(buf, offs: np.ndarray, width: int) -> np.ndarray:
    """``width`` bytes at each offset, as an (n, width) uint8 array (one copy per row).

    Offsets must satisfy ``0 <= off <= len(buf) - width``.
    """
    data = np.frombuffer(buf, dtype=np.uint8)
    if len(data) < width or not len(offs):
        return np.zeros((len(offs), width), np.uint8)
    first = data[:width].view(f"V{width}")
    windows = np.lib.stride_tricks.as_strided(first, shape=(len(data) - width + 1,),
                                              strides=(1,))
    return windows[offs].view(np.uint8).reshape(-1, width)


def column(win: np.ndarray, at: int, size: int, endian: str = ">") -> np.ndarray:
    """Unsigned big-endian field of ``size`` bytes at column ``at`` of a rows() array."""
    if size == 1:
        return win[:, at]
    part = np.ascontiguousarray(win[:, at:at + size])
    return part.view(f"{endian}u{size}").reshape(-1).astype(f"u{size}")


def _be16(u8: np.ndarray, idx: np.ndarray) -> np.ndarray:
    return gather_uint(u8, idx, 2).astype(np.int32)


def decode_batch_fast(batch) -> tuple[FastUDP, np.ndarray]:
    """Vectorised decode. Returns the UDP datagrams found and the indices left for ``decode_one``."""
    u8 = np.frombuffer(batch.buf, dtype=np.uint8)
    n = len(batch.off)
    off = batch.off
    cap = batch.caplen
    lt = batch.linktype
    end = off + cap
    l3 = np.full(n, -1, np.int64)
    etype = np.full(n, -1, np.int32)
    # clamp every gather index inside the buffer; validity masks decide what is used
    last = max(len(u8) - 2, 0)
    if not len(u8):
        return FastUDP(
            index=np.zeros(0, np.int64), v6=np.zeros(0, bool),
            src4=np.zeros(0, np.uint32), dst4=np.zeros(0, np.uint32),
            src6=np.zeros((0, 16), np.uint8), dst6=np.zeros((0, 16), np.uint8),
            sport=np.zeros(0, np.int32), dport=np.zeros(0, np.int32),
            poff=np.zeros(0, np.int64), plen=np.zeros(0, np.int64),
        ), np.zeros(0, np.int64)

    def be16(idx):
        return _be16(u8, np.minimum(idx, last))

    uniform = bool(n) and int(lt[0]) == int(lt[-1]) and bool((lt == lt[0]).all())
    if uniform and int(lt[0]) == LT_EN10MB and bool((cap >= 14).all()):
        # the usual case (one Ethernet interface): whole arrays, no masks
        etype = be16(off + 12)
        l3 = off + 14
        m = np.ones(n, bool)
        vl = np.isin(etype, VLAN_TYPES) if (etype >= 0x8100).any() else None
        if vl is not None and vl.any():
            for _ in range(2):
                v = np.isin(etype, VLAN_TYPES) & (l3 + 4 <= end)
                if not v.any():
                    break
                etype[v] = be16(l3[v] + 2)
                l3[v] += 4
        m = np.zeros(n, bool)  # nothing left for the per-link-type branches below
    else:
        m = (lt == LT_EN10MB) & (cap >= 14)
    if m.any():
        etype[m] = be16(off[m] + 12)
        l3[m] = off[m] + 14
        for _ in range(2):  # up to two VLAN tags (QinQ)
            v = m & np.isin(etype, VLAN_TYPES) & (l3 + 4 <= end)
            if not v.any():
                break
            etype[v] = be16(l3[v] + 2)
            l3[v] += 4
    m = (lt == LT_SLL) & (cap >= 16) if not uniform or int(lt[0]) == LT_SLL else m
    if m.any():
        etype[m] = be16(off[m] + 14)
        l3[m] = off[m] + 16
    m = (lt == LT_SLL2) & (cap >= 20)
    if m.any():
        etype[m] = be16(off[m])
        l3[m] = off[m] + 20
    m = np.isin(lt, (LT_RAW, LT_RAW_OLD1, LT_RAW_OLD2, LT_IPV4, LT_IPV6)) & (cap >= 1)
    if m.any():
        ver = u8[np.minimum(off[m], last)] >> 4
        etype[m] = np.where(ver == 4, 0x0800, np.where(ver == 6, 0x86DD, -1))
        l3[m] = off[m]
    m = np.isin(lt, (LT_NULL, LT_LOOP)) & (cap >= 4)
    if m.any():
        idx = np.minimum(off[m], len(u8) - 4)
        b = u8[idx[:, None] + np.arange(4)].astype(np.uint32)
        le = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16) | (b[:, 3] << 24)
        be = b[:, 3] | (b[:, 2] << 8) | (b[:, 1] << 16) | (b[:, 0] << 24)
        af = np.where(lt[m] == LT_LOOP, be, np.where(le > 0xFFFF, be, le))
        etype[m] = np.where(af == 2, 0x0800, np.where(np.isin(af, AF_INET6_VALUES), 0x86DD, -1))
        l3[m] = off[m] + 4

    handled = np.zeros(n, bool)  # decided here (either UDP found or certainly nothing)
    # IPv4: one 28-byte window (IPv4 header + UDP header) per packet, fields are its columns;
    # windows that would pass the end of the buffer are left to decode_one
    m4 = (etype == 0x0800) & (l3 + 20 <= end) & (l3 <= len(u8) - 28)
    i4 = np.nonzero(m4)[0]
    p = l3[i4]
    w = rows(u8, p, 28)
    vihl = w[:, 0]
    ihl = (vihl & 0x0F).astype(np.int64) * 4
    total = column(w, 2, 2).astype(np.int64)
    frag = column(w, 6, 2)
    proto = w[:, 9]
    ok4 = (vihl >> 4 == 4) & (ihl >= 20) & (total >= ihl)
    simple = ok4 & ((frag & 0x3FFF) == 0) & (proto == UDP)
    # non-UDP/non-TCP unfragmented IPv4 is certainly not for us
    handled[i4[ok4 & ((frag & 0x3FFF) == 0) & (proto != UDP) & (proto != TCP)]] = True
    handled[i4[~ok4]] = True
    uoff4 = p + ihl
    pend4 = np.minimum(end[i4], p + total)
    keep = simple & (uoff4 + 8 <= pend4)
    su, uoff4, pend4 = i4[keep], uoff4[keep], pend4[keep]
    src4 = column(w, 12, 4)[keep]
    dst4 = column(w, 16, 4)[keep]
    plain = ihl[keep] == 20  # UDP header inside the window
    sport4 = column(w, 20, 2)[keep].astype(np.int32)
    dport4 = column(w, 22, 2)[keep].astype(np.int32)
    ulen4 = column(w, 24, 2)[keep].astype(np.int64)
    if not plain.all():  # IP options: UDP header further on
        o = uoff4[~plain]
        sport4[~plain] = be16(o)
        dport4[~plain] = be16(o + 2)
        ulen4[~plain] = be16(o + 4)

    # IPv6 with UDP directly after the fixed header: one 48-byte window
    m6 = (etype == 0x86DD) & (l3 + 48 <= end)
    i6 = np.nonzero(m6)[0]
    p6 = l3[i6]
    w6 = rows(u8, p6, 48)
    ok6 = (w6[:, 0] >> 4) == 6
    nh = w6[:, 6]
    plen6 = column(w6, 4, 2).astype(np.int64)
    s6 = ok6 & (nh == UDP)
    handled[i6[~ok6]] = True
    handled[i6[ok6 & ~np.isin(nh, (0, 43, 60, 44, 51, UDP, TCP))]] = True
    uoff6 = p6 + 40
    pend6 = np.minimum(end[i6], uoff6 + plen6)
    keep6 = s6 & (uoff6 + 8 <= pend6)
    su6, uoff6, pend6 = i6[keep6], uoff6[keep6], pend6[keep6]
    w6k = w6[keep6]

    index = np.concatenate([su, su6])
    uoff = np.concatenate([uoff4, uoff6])
    pend = np.concatenate([pend4, pend6])
    v6 = np.concatenate([np.zeros(len(su), bool), np.ones(len(su6), bool)])
    sport = np.concatenate([sport4, column(w6k, 40, 2).astype(np.int32)])
    dport = np.concatenate([dport4, column(w6k, 42, 2).astype(np.int32)])
    ulen = np.concatenate([ulen4, column(w6k, 44, 2).astype(np.int64)])
    plen = np.where((ulen >= 8) & (uoff + ulen <= pend), ulen - 8, pend - uoff - 8)
    handled[index] = True
    # unknown link layers / non-IP ethertypes are certainly not for us either
    handled[(etype != 0x0800) & (etype != 0x86DD) & (l3 >= 0)] = True
    handled[~np.isin(lt, list(SUPPORTED_LINKTYPES))] = True
    order = np.argsort(index, kind="stable")
    src6 = np.zeros((len(index), 16), np.uint8)
    dst6 = np.zeros((len(index), 16), np.uint8)
    if len(su6):
        src6[len(su):] = w6k[:, 8:24]
        dst6[len(su):] = w6k[:, 24:40]
    fast = FastUDP(
        index=index[order], v6=v6[order],
        src4=np.concatenate([src4, np.zeros(len(su6), np.uint32)])[order],
        dst4=np.concatenate([dst4, np.zeros(len(su6), np.uint32)])[order],
        src6=src6[order], dst6=dst6[order],
        sport=sport[order], dport=dport[order], poff=(uoff + 8)[order], plen=plen[order])
    rest = np.nonzero(~handled)[0]
    return fast, rest


def _be32(u8: np.ndarray, idx: np.ndarray) -> np.ndarray:
    return gather_uint(u8, idx, 4)
