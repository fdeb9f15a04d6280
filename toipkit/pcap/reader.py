"""Capture file reader: pcap (µs/ns, both byte orders) and pcapng (several interfaces).

The file is read in large chunks. Walking the record headers is the only per-packet Python
loop; everything else works on numpy arrays of record offsets (see ``decode``).

A ``Batch`` holds one chunk: the raw bytes and, per record, its offset in the chunk, captured
length, link type, absolute timestamp in nanoseconds and frame number (1-based, as Wireshark).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from toipkit.errors import CaptureFormatError
from toipkit.i18n import _
from toipkit.pcap.decode import column, gather_uint, rows

CHUNK_SIZE = 16 * 1024 * 1024
MAX_RECORD = 1 << 24  # larger records are taken as corruption (Wireshark caps at 256 KiB..16 MiB)

PCAP_MAGICS = {
    b"\xd4\xc3\xb2\xa1": ("<", 1000),  # little-endian, µs
    b"\xa1\xb2\xc3\xd4": (">", 1000),
    b"\x4d\x3c\xb2\xa1": ("<", 1),  # little-endian, ns
    b"\xa1\xb2\x3c\x4d": (">", 1),
}
PCAPNG_SHB = 0x0A0D0D0A
TS_LIMIT = 1 << 62  # absurd timestamps are clamped (int64 ns)


@dataclass
class Batch:
    """Records of one chunk of the file."""

    buf: bytes | memoryview
    off: np.ndarray  # int64 offset of the packet data in buf
    caplen: np.ndarray  # int64 captured length
    linktype: np.ndarray  # int32 link-layer type
    ts_ns: np.ndarray  # int64 absolute time, ns
    first_frame: int  # frame number of the first record
    file_offsets: np.ndarray | None = None  # int64 offset of each record header in the file

    def __len__(self) -> int:
        return len(self.off)


@dataclass
class ReadState:
    """What the reader found besides packets."""

    format: str = ""
    warnings: list[str] = field(default_factory=list)
    packets: int = 0
    bytes_read: int = 0
    linktypes: set[int] = field(default_factory=set)
    strict: bool = False


def _open_error(path, message, frame=None, offset=None):
    return CaptureFormatError(message, frame=frame, offset=offset, path=str(path))


def iter_batches(path, state: ReadState | None = None, chunk_size: int | None = None,
                 progress=None) -> Iterator[Batch]:
    """Yield ``Batch`` objects for the capture at ``path`` (pcap or pcapng).

    Batches share one reused buffer: consume each batch before asking for the next.
    """
    state = state if state is not None else ReadState()
    chunk_size = chunk_size or CHUNK_SIZE
    try:
        fh = open(path, "rb")
    except OSError as exc:
        raise CaptureFormatError(_("impossible d'ouvrir la capture : {error}").format(
            error=exc.strerror), path=str(path)) from exc
    with fh:
        head = fh.read(24)
        if len(head) < 4:
            raise _open_error(path, _("fichier trop court pour être une capture (pas d'en-tête "
                                      "pcap/pcapng)"),
                              offset=0)
        magic = head[:4]
        fh.seek(0)
        if magic in PCAP_MAGICS:
            state.format = "pcap"
            yield from _iter_pcap(fh, path, state, chunk_size, progress)
        elif struct.unpack("<I", magic)[0] == PCAPNG_SHB:
            state.format = "pcapng"
            yield from _iter_pcapng(fh, path, state, chunk_size, progress)
        else:
            fh.seek(0)
            raise _unsupported(path, fh.read(32))


# Capture formats Wireshark reads but this reader does not: (leading bytes, name)
OTHER_FORMATS = [
    (b"GMBU", "Microsoft NetMon 2.x"),
    (b"RTSS", "Microsoft NetMon 1.x"),
    (b"snoop\0\0\0", "Sun snoop"),
    (b"btsnoop\0", "Symbian btsnoop"),
    (b"TRSNIFF data    \x1a", "Sniffer (DOS)"),
    (b"XCP\0", "NetXray / Sniffer (Windows)"),
    (b"\x34\xcd\xb2\xa1", "modified (Kuznetzov) pcap"),
    (b"\xa1\xb2\xcd\x34", "modified (Kuznetzov) pcap"),
    (b"ObserverPktBuffer", "Viavi Observer"),
    (b"iptrace ", "AIX iptrace"),
    (b"\x54\x52\x00\x64\x00", "HP-UX nettl"),
    (b"\x1f\x8b", "gzip-compressed"),
]


class UnsupportedCaptureFormat(CaptureFormatError):
    """A capture in another format than pcap/pcapng; ``format_name`` names it when known."""

    def __init__(self, message: str, path: str, format_name: str | None):
        super().__init__(message, offset=0, path=path)
        self.format_name = format_name


def identify_format(head: bytes) -> str | None:
    """Name of the capture format whose signature starts ``head`` (None if unknown)."""
    for prefix, name in OTHER_FORMATS:
        if head.startswith(prefix):
            return name
    return None


def conversion_command(path) -> str:
    """The editcap command that rewrites a capture Wireshark can read as pcapng."""
    import os
    import shlex

    src = os.fspath(path)
    stem, _ext = os.path.splitext(os.path.basename(src))
    return f"editcap -F pcapng {shlex.quote(src)} {shlex.quote(stem + '.pcapng')}"


def _unsupported(path, head: bytes) -> UnsupportedCaptureFormat:
    name = identify_format(head)
    what = (_("capture au format {name}, pas pcap/pcapng").format(name=name) if name
            else _("ce n'est pas un fichier pcap ou pcapng (signature {magic})").format(
                magic=head[:4].hex()))
    how = _("convertissez-la") if name else _("si Wireshark l'ouvre, convertissez-la")
    return UnsupportedCaptureFormat(
        _("{what} : {how} avec `{command}`, ou lisez-la avec --via-tshark (via_tshark=True), "
          "qui la convertit avec les outils de Wireshark").format(
            what=what, how=how, command=conversion_command(path)), str(path), name)


def _iter_pcap(fh, path, state: ReadState, chunk_size: int, progress) -> Iterator[Batch]:
    head = fh.read(24)
    if len(head) < 24:
        raise _open_error(path, _("en-tête de fichier pcap tronqué"), offset=len(head))
    endian, ns_mult = PCAP_MAGICS[head[:4]]
    network = struct.unpack(endian + "I", head[20:24])[0]
    linktype = network & 0x0FFFFFFF
    state.linktypes.add(linktype)
    incl_at = struct.Struct(endian + "I").unpack_from
    frac_limit = 1_000_000 if ns_mult == 1000 else 1_000_000_000
    file_pos = 24
    frame = 1
    carry = 0
    eof = False
    chunks = _Chunks(fh, chunk_size)
    while True:
        buf, n, got = chunks.next(carry, eof)
        if not got:
            eof = True
        offs, pos = _index_pcap(buf, n, incl_at, endian, frac_limit)
        bad = None
        if len(offs):
            last = int(offs[-1])
            if last + 16 > n:
                pos, offs = last, offs[:-1]
            else:
                incl = incl_at(buf, last + 8)[0]
                if incl > MAX_RECORD:
                    bad, pos, offs = incl, last, offs[:-1]
                elif last + 16 + incl > n:
                    pos, offs = last, offs[:-1]
        if len(offs):
            big = np.nonzero(_u32_at(buf, offs + 8, endian) > MAX_RECORD)[0]
            if len(big):
                k = int(big[0])
                bad = incl_at(buf, int(offs[k]) + 8)[0]
                pos = int(offs[k])
                offs = offs[:k]
        if len(offs):
            o = offs
            hdr = rows(buf, o, 16)
            sec = column(hdr, 0, 4, endian).astype(np.int64)
            frac = column(hdr, 4, 4, endian).astype(np.int64)
            ts_ns = sec * 1_000_000_000 + frac * ns_mult
            batch = Batch(
                buf=buf, off=o + 16, caplen=column(hdr, 8, 4, endian).astype(np.int64),
                linktype=np.full(len(o), linktype, np.int32),
                ts_ns=ts_ns, first_frame=frame, file_offsets=o + file_pos)
            frame += len(o)
            state.packets += len(o)
            yield batch
        file_pos += pos
        state.bytes_read = file_pos
        if progress is not None:
            progress(pos)
        carry = n - pos
        if bad is not None:
            _corrupt(state, path, _("en-tête d'enregistrement pcap corrompu (longueur capturée "
                                     "{length})").format(length=bad),
                     frame, file_pos)
            return
        if eof:
            break
    if carry:
        _corrupt(state, path, _("capture tronquée : enregistrement incomplet ({count} octets)"
                                 ).format(count=carry),
                 frame, file_pos)


class _Chunks:
    """Reads the file into one reused buffer: the unfinished tail of the previous chunk is moved
    to the front and the next chunk is read behind it (no per-chunk allocation)."""

    def __init__(self, fh, chunk_size: int):
        self.fh = fh
        self.chunk = chunk_size
        self.buf = bytearray(chunk_size + 64)
        self.n = 0

    def next(self, carry: int, eof: bool) -> tuple[memoryview, int, int]:
        need = carry + self.chunk
        if need > len(self.buf):  # a record larger than a chunk: grow once
            bigger = bytearray(need + 64)
            bigger[:carry] = self.buf[self.n - carry:self.n]
            self.buf = bigger
        elif carry:
            self.buf[:carry] = self.buf[self.n - carry:self.n]
        got = 0
        if not eof:
            mv = memoryview(self.buf)
            got = self.fh.readinto(mv[carry:carry + self.chunk]) or 0
            del mv
        self.n = carry + got
        return memoryview(self.buf)[:self.n], self.n, got


def _index_pcap(buf, n: int, incl_at, endian: str, frac_limit: int) -> tuple[np.ndarray, int]:
    """Offsets of the pcap records that start in ``buf`` (the last may not fit: checked later),
    and the position after the last one; the same answer as ``_walk_pcap``, found faster.

    Record headers have no marker, but their fields are constrained: the seconds are close to
    the chunk's first record's, the fraction is below one second, the captured length is at
    most the original length and the record fits. Every byte position passing these checks is
    a candidate; consecutive candidates that chain (next = start + 16 + captured length) are
    taken as whole runs, starting from a position known to be a record. A payload that passes
    the checks only ends a run early; the chain is then followed one record in Python. When
    candidates are too dense for this to pay (zero-filled data, timestamps near 0), the chunk
    is walked record by record.
    """
    if n < 16 + 4:
        walked, pos = _walk_pcap(buf, n, incl_at, endian)
        return np.asarray(walked, np.int64), pos
    u8 = np.frombuffer(buf, dtype=np.uint8, count=n)
    sec0 = incl_at(buf, 0)[0]
    window = 1 << 16  # seconds around the first record's time (about 18 hours)
    lo, hi = max(sec0 - window, 1 << 24), min(sec0 + window, (1 << 32) - 1)
    if lo > hi:  # times near the epoch: too many payload bytes would look like headers
        walked, pos = _walk_pcap(buf, n, incl_at, endian)
        return np.asarray(walked, np.int64), pos
    top = 3 if endian == "<" else 0  # byte holding the seconds' most significant bits
    m = u8[top:n - 16 + top + 1]
    if lo >> 24 == hi >> 24:
        cand = np.flatnonzero(m == (lo >> 24))
    else:
        cand = np.flatnonzero((m >= (lo >> 24)) & (m <= (hi >> 24)))
    if len(cand) > n // 8:
        walked, pos = _walk_pcap(buf, n, incl_at, endian)
        return np.asarray(walked, np.int64), pos
    hdr = rows(buf, cand, 16)
    sec = column(hdr, 0, 4, endian)
    frac = column(hdr, 4, 4, endian)
    incl = column(hdr, 8, 4, endian).astype(np.int64)
    orig = column(hdr, 12, 4, endian)
    ok = ((sec >= lo) & (sec <= hi) & (frac < frac_limit) & (incl <= orig)
          & (incl <= MAX_RECORD) & (cand + 16 + incl <= n))
    starts = cand[ok]
    nexts = starts + 16 + incl[ok]
    del hdr, sec, frac, incl, orig, ok, cand
    run_end = np.append(np.flatnonzero(nexts[:-1] != starts[1:]), len(starts) - 1)
    pieces: list = []
    singles: list[int] = []
    pos = 0
    steps = taken = 0
    while pos + 12 <= n:
        k = int(np.searchsorted(starts, pos))
        if k < len(starts) and int(starts[k]) == pos:
            j = int(run_end[np.searchsorted(run_end, k)])
            if singles:
                pieces.append(np.asarray(singles, np.int64))
                singles = []
            pieces.append(starts[k:j + 1])
            pos = int(nexts[j])
            taken += j + 1 - k
        else:
            singles.append(pos)
            pos += 16 + incl_at(buf, pos + 8)[0]
            taken += 1
        steps += 1
        if steps > 256 and steps * 8 > taken:
            rest, pos = _walk_pcap(buf, n, incl_at, endian, pos)  # runs too short to pay
            singles += rest
            break
    if singles:
        pieces.append(np.asarray(singles, np.int64))
    offs = np.concatenate(pieces) if pieces else np.zeros(0, np.int64)
    return offs, pos


def _walk_pcap(buf, n: int, incl_at, endian: str, pos: int = 0) -> tuple[list[int], int]:
    """Offsets of the pcap records that start in ``buf`` (the last may not fit: checked later).

    Record lengths form a chain, so this is a loop (kept minimal: struct.error at the end of
    the buffer stops it). VoIP captures are mostly runs of equal-size packets: after a burst of
    equal lengths the next records are predicted in bulk and verified with numpy (accepted up
    to the first record of another length).
    """
    offs: list[int] = []
    app = offs.append
    ext = offs.extend
    span = 256
    burst = 128
    try:
        while True:
            for _ in range(burst):
                incl = incl_at(buf, pos + 8)[0]
                app(pos)
                pos += 16 + incl
            step = 16 + incl
            if offs[-1] - offs[-burst] != (burst - 1) * step:
                continue
            k = min(span, (n - pos - 16) // step)
            if k < 16:
                continue
            cand = np.arange(pos, pos + k * step, step, dtype=np.int64)
            bad = np.flatnonzero(gather_uint(buf, cand + 8, 4, endian) != incl)
            m = int(bad[0]) if len(bad) else k
            ext(cand[:m].tolist())
            pos += m * step
            span = min(span * 2, 1 << 16) if m == k else 256
    except struct.error:
        pass
    return offs, pos


def _u32_at(buf, idx: np.ndarray, endian: str) -> np.ndarray:
    return gather_uint(buf, idx, 4, endian)


def _corrupt(state: ReadState, path, message: str, frame: int, offset: int) -> None:
    """Stop at a damaged record: error if nothing was read, else keep what we have and warn."""
    if frame <= 1 or state.strict:
        raise _open_error(path, message, frame=frame, offset=offset)
    state.warnings.append(
        _("{message} à la trame {frame}, octet {offset} ; les résultats couvrent les trames "
          "1 à {last}").format(message=message, frame=frame, offset=offset, last=frame - 1))


# pcapng ------------------------------------------------------------------------------------

def _tsresol_to_ns(value: int) -> tuple[int, int]:
    """Return (multiplier, divisor) converting timestamp units to nanoseconds."""
    if value & 0x80:
        return 1_000_000_000, 1 << (value & 0x7F)
    exp = value & 0x7F
    if exp <= 9:
        return 10 ** (9 - exp), 1
    return 1, 10 ** (exp - 9)


class _EpbIndex:
    """The enhanced packet blocks of one chunk, found without walking the chain of lengths.

    pcapng blocks are 4-byte aligned and an enhanced packet block repeats its length after its
    body, so every aligned word that reads 6 (the block type) with the same length at both ends
    and a captured length that fits is a candidate. Consecutive candidates whose lengths chain
    (next start = start + length) form runs that are taken whole with numpy, whatever the mix of
    packet sizes, interfaces or options. A run ends at any other block (interfaces, statistics,
    comments, custom blocks) or at a payload that happens to look like a block: there the reader
    walks one block in Python and looks the next position up again.
    """

    def __init__(self, buf, n: int, start: int, endian: str):
        self.endian = endian
        self.start = start
        nwords = (n - start) // 4
        words = np.frombuffer(buf, dtype=np.dtype(endian + "u4"), count=nwords, offset=start)
        i = np.flatnonzero(words[:nwords - 7] == 6) if nwords > 7 else np.zeros(0, np.int64)
        blen = words[i + 1].astype(np.int64)
        ok = (blen >= 32) & (blen % 4 == 0) & (blen <= MAX_RECORD) & (i * 4 + blen <= nwords * 4)
        i, blen = i[ok], blen[ok]
        tail = words[i + blen // 4 - 1].astype(np.int64)
        caplen = words[i + 5].astype(np.int64)
        ok = (tail == blen) & (caplen + 32 <= blen)
        i, blen, caplen = i[ok], blen[ok], caplen[ok]
        self.pos = start + i * 4
        self.next = self.pos + blen
        self.caplen = caplen
        self.iface = words[i + 2].astype(np.int64)
        self.ts_units = (words[i + 3].astype(np.uint64) << np.uint64(32)) | words[i + 4]
        # a run ends where the next candidate is not where this block ends
        breaks = np.flatnonzero(self.next[:-1] != self.pos[1:])
        self.run_end = np.append(breaks, len(self.pos) - 1)

    def run_at(self, pos: int) -> tuple[int, int] | None:
        """(first, last) candidate indices of the run starting at ``pos``, or None."""
        k = int(np.searchsorted(self.pos, pos))
        if k >= len(self.pos) or int(self.pos[k]) != pos:
            return None
        return k, int(self.run_end[np.searchsorted(self.run_end, k)])


class _Interfaces:
    """Interface descriptions of the current section, as lookup arrays for whole runs."""

    def __init__(self):
        self.items: list[tuple[int, int, int, int]] = []  # linktype, mult, div, tsoffset_ns
        self._arrays = None

    def reset(self) -> None:
        self.items = []
        self._arrays = None

    def add(self, item: tuple[int, int, int, int]) -> None:
        self.items.append(item)
        self._arrays = None

    def arrays(self):
        if self._arrays is None:
            lt = np.array([x[0] for x in self.items], np.int32)
            mult = np.array([x[1] for x in self.items], np.int64)
            tsoff = np.array([x[3] for x in self.items], np.int64)
            simple = all(x[2] == 1 and abs(x[3]) < (1 << 61) for x in self.items)
            self._arrays = (lt, mult, tsoff, simple, max((x[1] for x in self.items), default=1))
        return self._arrays


def _ts_ns(units: int, mult: int, div: int, tsoff: int) -> int:
    v = (units * mult) // div + tsoff
    return v if -TS_LIMIT < v < TS_LIMIT else TS_LIMIT


def _take_run(index: _EpbIndex, k: int, j: int, ifaces: _Interfaces):
    """Arrays (data offsets, captured lengths, link types, ns timestamps) of candidates k..j.

    Stops before the first block on an undeclared interface (the block walk reports it).
    """
    iface = index.iface[k:j + 1]
    bad = np.flatnonzero(iface >= len(ifaces.items))
    if len(bad):
        j = k + int(bad[0]) - 1
        if j < k:
            return None
        iface = iface[:j + 1 - k]
    lt, mult, tsoff, simple, max_mult = ifaces.arrays()
    units = index.ts_units[k:j + 1]
    if simple and (not len(units) or int(units.max()) < (TS_LIMIT // max_mult)):
        ts = units.astype(np.int64) * mult[iface] + tsoff[iface]
        ts = np.where((ts > -TS_LIMIT) & (ts < TS_LIMIT), ts, TS_LIMIT)
    else:  # fractional resolutions or huge values: exact integers, block by block
        items = ifaces.items
        ts = np.array([_ts_ns(u, items[f][1], items[f][2], items[f][3])
                       for u, f in zip(units.tolist(), iface.tolist())], np.int64)
    return (index.pos[k:j + 1] + 28, index.caplen[k:j + 1], lt[iface], ts)


def _iter_pcapng(fh, path, state: ReadState, chunk_size: int, progress) -> Iterator[Batch]:
    endian = "<"
    ifaces = _Interfaces()
    frame = 1
    file_pos = 0
    carry = 0
    eof = False
    seen_shb = False
    chunks = _Chunks(fh, chunk_size)
    while True:
        buf, n, got = chunks.next(carry, eof)
        if not got:
            eof = True
        offs: list[int] = []
        caps: list[int] = []
        lts: list[int] = []
        tss: list[int] = []
        pieces: list[tuple] = []
        pos = 0
        bad = None
        index: _EpbIndex | None = None
        while pos + 12 <= n:
            if seen_shb:
                if index is None or index.endian != endian:
                    index = _EpbIndex(buf, n, pos, endian)
                run = index.run_at(pos)
                if run is not None:
                    got_run = _take_run(index, run[0], run[1], ifaces)
                    if got_run is not None:
                        if offs:
                            pieces.append((offs, caps, lts, tss))
                            offs, caps, lts, tss = [], [], [], []
                        pieces.append(got_run)
                        pos = int(index.next[run[0] + len(got_run[0]) - 1])
                        continue
            btype = struct.unpack_from(endian + "I", buf, pos)[0]
            if not seen_shb or btype == PCAPNG_SHB:
                if struct.unpack_from("<I", buf, pos)[0] != PCAPNG_SHB:
                    bad = _("le fichier pcapng ne commence pas par un bloc d'en-tête de section")
                    break
                bom = buf[pos + 8:pos + 12]
                if bom == b"\x4d\x3c\x2b\x1a":
                    endian = "<"
                elif bom == b"\x1a\x2b\x3c\x4d":
                    endian = ">"
                else:
                    bad = _("marqueur d'ordre des octets pcapng invalide")
                    break
            btype, blen = struct.unpack_from(endian + "II", buf, pos)
            if blen < 12 or blen % 4 or blen > MAX_RECORD:
                bad = _("bloc pcapng corrompu (type {type}, longueur {length})").format(
                    type=f"{btype:#x}", length=blen)
                break
            if pos + blen > n:
                break
            body = pos + 8
            bend = pos + blen - 4
            try:
                if btype == PCAPNG_SHB:
                    seen_shb = True
                    ifaces.reset()  # interface ids are per section
                elif btype == 1:  # interface description block
                    linktype = struct.unpack_from(endian + "H", buf, body)[0]
                    mult, div, tsoff = 1000, 1, 0
                    opos = body + 8
                    while opos + 4 <= bend:
                        code, olen = struct.unpack_from(endian + "HH", buf, opos)
                        if code == 0:
                            break
                        if code == 9 and olen >= 1:
                            mult, div = _tsresol_to_ns(buf[opos + 4])
                        elif code == 14 and olen >= 8:
                            tsoff = struct.unpack_from(endian + "q", buf, opos + 4)[0] * 10**9
                        opos += 4 + ((olen + 3) & ~3)
                    ifaces.add((linktype, mult, div, tsoff))
                    state.linktypes.add(linktype)
                elif btype in (6, 2):  # enhanced / obsolete packet block
                    if btype == 6:
                        iface, tsh, tsl, cap = struct.unpack_from(endian + "IIII", buf, body)
                    else:
                        iface, _drops, tsh, tsl, cap = struct.unpack_from(
                            endian + "HHIII", buf, body)
                    if iface >= len(ifaces.items):
                        bad = _("paquet sur une interface non déclarée ({interface})").format(
                            interface=iface)
                        break
                    if body + 20 + cap > bend:
                        bad = _("paquet pcapng plus long que son bloc")
                        break
                    lt, mult, div, tsoff = ifaces.items[iface]
                    offs.append(body + 20)
                    caps.append(cap)
                    lts.append(lt)
                    tss.append(_ts_ns((tsh << 32) | tsl, mult, div, tsoff))
                elif btype == 3:  # simple packet block: no timestamp, interface 0
                    if not ifaces.items:
                        bad = _("bloc de paquet simple avant toute description d'interface")
                        break
                    orig = struct.unpack_from(endian + "I", buf, body)[0]
                    offs.append(body + 4)
                    caps.append(min(orig, blen - 16))
                    lts.append(ifaces.items[0][0])
                    tss.append(0)
            except struct.error:
                bad = _("bloc pcapng corrompu (type {type})").format(type=f"{btype:#x}")
                break
            pos += blen
        if offs:
            pieces.append((offs, caps, lts, tss))
        if pieces:
            o = np.concatenate([np.asarray(p[0], np.int64) for p in pieces])
            count = len(o)
            yield Batch(
                buf=buf, off=o, caplen=np.concatenate([np.asarray(p[1], np.int64) for p in pieces]),
                linktype=np.concatenate([np.asarray(p[2], np.int32) for p in pieces]),
                ts_ns=np.concatenate([np.asarray(p[3], np.int64) for p in pieces]),
                first_frame=frame)
            frame += count
            state.packets += count
        file_pos += pos
        state.bytes_read = file_pos
        if progress is not None:
            progress(pos)
        carry = n - pos
        if bad is not None:
            if not seen_shb:
                raise _open_error(path, bad, offset=file_pos)
            _corrupt(state, path, bad, frame, file_pos)
            return
        if eof:
            break
    if carry:
        _corrupt(state, path, _("capture tronquée : bloc incomplet ({count} octets)").format(
            count=carry),
                 frame, file_pos)
