"""The statistics engine of TShark 4.0's ``rtp,streams`` tap.

The per-packet rules follow Wireshark 4.0.17 ``ui/tap-rtp-analysis.c`` (see
``docs/pcap.md``): delta and jitter in milliseconds on the capture clock, the integer
``clock_rate/1000`` divisor, running means divided by the number of packets already counted,
min values starting at -1, "regular" packets only feeding min/max/mean, Lost = expected -
received (can be negative). ``analyse_sequential`` is the per-packet reference;
``analyse_segments`` computes the same numbers for many streams at once with numpy and hands
back the few streams it cannot prove exact.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# per-packet flags of the analysis (as Wireshark's STAT_FLAG_*)
FLAG_FIRST, FLAG_MARKER, FLAG_WRONG_SEQ, FLAG_WRONG_TS = 0x01, 0x02, 0x04, 0x08
FLAG_PT_CN, FLAG_FOLLOW_CN, FLAG_PT_CHANGE = 0x10, 0x20, 0x40


@dataclass
class StreamStats:
    """Numbers of one ``rtp,streams`` row plus RTP Stream Analysis extras."""

    packets: int = 0
    expected: int = 0
    lost: int = 0
    min_delta: float = -1.0
    mean_delta: float = 0.0
    max_delta: float = 0.0
    max_delta_frame: int = 0
    min_jitter: float = -1.0
    mean_jitter: float = 0.0
    max_jitter: float = 0.0
    max_skew: float = 0.0
    sequence_errors: int = 0
    problem: bool = False
    start_seq: int = 0
    stop_seq: int = 0
    cycles: int = 0
    clock_rate: int = 0

    @property
    def lost_percent(self) -> float:
        return self.lost * 100.0 / self.expected if self.expected else 0.0


def analyse_sequential(frames, ms, pts, markers, seqs, tss, clocks, want_series: bool = False):
    """Reference per-packet implementation of Wireshark 4.0's RTP analysis.

    All arguments are sequences of one stream's packets in capture order. Returns
    ``(StreamStats, series)`` where series (if asked) holds per-packet delta/jitter/skew.
    """
    st = StreamStats()
    n = len(frames)
    if n == 0:
        return st, None
    seq0 = int(seqs[0])
    first_ts = int(tss[0])
    start_time = time_prev = float(ms[0])
    start_seq = stop_seq = last_seq = seq0
    prev_pt = reg_pt = int(pts[0])
    jitter = 0.0
    delta = 0.0
    max_delta = 0.0
    min_delta = -1.0
    mean_delta = 0.0
    min_jitter = -1.0
    max_jitter = 0.0
    mean_jitter = 0.0
    max_delta_frame = 0
    lastnominal = 0.0
    max_skew = 0.0
    total_nr = 1
    cycles = 0
    under = False
    sequence = 0
    problem = False
    clock_seen = int(clocks[0])
    if want_series:
        s_delta = np.zeros(n)
        s_jitter = np.zeros(n)
        s_skew = np.zeros(n)
        s_flags = np.zeros(n, np.int32)
        s_flags[0] = FLAG_FIRST | (FLAG_MARKER if markers[0] else 0)
    for i in range(1, n):
        now = float(ms[i])
        seq = int(seqs[i])
        ts = int(tss[i])
        pt = int(pts[i])
        clock = int(clocks[i])
        flags = 0
        if first_ts <= ts:
            in_seq = ts - first_ts < 0x80000000
        else:
            in_seq = (0xFFFFFFFF - first_ts) + ts < 0x80000000
        if not in_seq:
            flags |= FLAG_WRONG_TS
        if in_seq and seq < start_seq and not under:
            cycles += 1
            under = True
        elif in_seq and seq == 0 and stop_seq == 65535 and not under:
            cycles += 1
            under = True
        elif in_seq and seq > start_seq and under:
            under = False
        if in_seq and seq == last_seq + 1:
            last_seq = seq
        elif in_seq and last_seq == 65535 and seq == 0:
            last_seq = seq
        elif in_seq and (last_seq + 1 < seq or ((last_seq - seq) & 0xFFFF) > 0xFF00):
            last_seq = seq
            sequence += 1
            flags |= FLAG_WRONG_SEQ
        elif last_seq + 1 > seq:
            sequence += 1
            flags |= FLAG_WRONG_SEQ
        if pt == 13 or pt == 19:
            flags |= FLAG_PT_CN
        if prev_pt == 13 or prev_pt == 19:
            flags |= FLAG_FOLLOW_CN
        if pt != prev_pt:
            flags |= FLAG_PT_CHANGE
        prev_pt = pt
        if clock:
            clock_seen = clock
        diff = 0.0
        if in_seq:
            if clock:
                nominal = float((ts - first_ts) & 0xFFFFFFFF) / (clock // 1000)
                expected = time_prev + (nominal - lastnominal)
                diff = abs(now - expected)
                jitter = (15 * jitter + diff) / 16
                delta = now - time_prev
                lastnominal = nominal
                skew = nominal - (now - start_time)
                if abs(skew) > abs(max_skew):
                    max_skew = skew
            else:
                delta = now - time_prev
        if markers[i]:
            flags |= FLAG_MARKER
        if not flags & (FLAG_MARKER | FLAG_PT_CN | FLAG_WRONG_TS | FLAG_FOLLOW_CN):
            if delta > max_delta:
                max_delta = delta
                max_delta_frame = int(frames[i])
            if delta < min_delta or min_delta == -1.0:
                min_delta = delta
            mean_delta = (mean_delta * (total_nr - 1) + delta) / total_nr
            if clock:
                j = jitter if in_seq else 0.0
                if j > max_jitter:
                    max_jitter = j
                mean_jitter = (mean_jitter * (total_nr - 1) + j) / total_nr
                if j < min_jitter or min_jitter == -1.0:
                    min_jitter = j
        if not (pt == 13 or pt == 19) and pt != reg_pt:
            pass  # regular payload change (GUI only)
        if not (pt == 13 or pt == 19):
            reg_pt = pt
        if in_seq:
            time_prev = now
        stop_seq = seq
        total_nr += 1
        if flags & (FLAG_WRONG_TS | FLAG_WRONG_SEQ):
            problem = True
        if want_series:
            s_delta[i] = delta
            s_jitter[i] = jitter
            s_skew[i] = max_skew if False else (lastnominal - (now - start_time))
            s_flags[i] = flags
    expected = (stop_seq + cycles * 65536 - start_seq + 1) & 0xFFFFFFFF
    st.packets = n
    st.expected = expected
    lost = expected - total_nr
    st.lost = ((lost + 0x80000000) & 0xFFFFFFFF) - 0x80000000
    st.min_delta, st.mean_delta, st.max_delta = min_delta, mean_delta, max_delta
    st.max_delta_frame = max_delta_frame
    st.min_jitter, st.mean_jitter, st.max_jitter = min_jitter, mean_jitter, max_jitter
    st.max_skew = max_skew
    st.sequence_errors = sequence
    st.problem = problem
    st.start_seq, st.stop_seq, st.cycles = start_seq, stop_seq, cycles
    st.clock_rate = clock_seen
    series = None
    if want_series:
        series = {"delta": s_delta, "jitter": s_jitter, "skew": s_skew, "flags": s_flags}
    return st, series


def packetization(data: dict) -> float | None:
    """Most common RTP-timestamp step between consecutive audio packets, in ms."""
    clocks = data["clock"]
    if not len(clocks) or clocks.max() <= 0:
        return None
    ts = np.asarray(data["ts"], np.int64)
    good = (clocks[1:] > 0) & (clocks[:-1] > 0)
    steps = ((ts[1:] - ts[:-1]) & 0xFFFFFFFF)[good]
    steps = steps[(steps > 0) & (steps < 1 << 20)]
    if not len(steps):
        return None
    vals, counts = np.unique(steps, return_counts=True)
    step = int(vals[np.argmax(counts)])
    rate = int(clocks[clocks > 0][0])
    return step * 1000.0 / rate


def count_sequence_errors(seqs, tss) -> int:
    """The sequence-error counter of ``analyse_sequential`` alone."""
    seqs = [int(x) for x in seqs]
    tss = [int(x) for x in tss]
    if not seqs:
        return 0
    first_ts = tss[0]
    last_seq = seqs[0]
    errors = 0
    for seq, ts in zip(seqs[1:], tss[1:]):
        if first_ts <= ts:
            in_seq = ts - first_ts < 0x80000000
        else:
            in_seq = (0xFFFFFFFF - first_ts) + ts < 0x80000000
        if in_seq and (seq == last_seq + 1 or (last_seq == 65535 and seq == 0)):
            last_seq = seq
        elif in_seq and (last_seq + 1 < seq or ((last_seq - seq) & 0xFFFF) > 0xFF00):
            last_seq = seq
            errors += 1
        elif last_seq + 1 > seq:
            errors += 1
    return errors


# Vectorised analysis ---------------------------------------------------------------------------

_EPS = 2.0 ** -52


def analyse_segments(starts, frames, ms, pts, markers, seqs, tss,
                     clocks) -> list[StreamStats | None]:
    """Vectorised RTP statistics for many streams at once (what ``read_capture`` uses).

    The arrays hold all packets of all streams, each stream contiguous and in capture order,
    stream g starting at ``starts[g]``. Returns one ``StreamStats`` per stream, or ``None`` for
    a stream that must go through ``analyse_sequential`` (unusual pattern, or a running mean
    within its error bound of a %.3f rounding boundary).
    """
    n_all = len(frames)
    starts = np.asarray(starts, np.int64)
    n_seg = len(starts)
    if n_seg == 0:
        return []
    ends = np.append(starts[1:], n_all)
    lens = ends - starts
    idx = np.arange(n_all)
    gid = np.repeat(np.arange(n_seg), lens)
    seg0 = starts[gid]
    first = np.zeros(n_all, bool)
    first[starts] = True
    ms = np.asarray(ms, np.float64)
    ts = np.asarray(tss, np.int64)
    seq = np.asarray(seqs, np.int64)
    pt = np.asarray(pts, np.int64)
    mk = np.asarray(markers).astype(bool)
    clk = np.asarray(clocks, np.int64)
    fallback = np.zeros(n_seg, bool)
    fallback[lens < 3] = True
    first_ts = ts[seg0]
    dts = (ts - first_ts) & 0xFFFFFFFF
    in_seq = np.where(ts >= first_ts, dts < 0x80000000, dts <= 0x80000000)
    in_seq[first] = True
    cn = (pt == 13) | (pt == 19)
    follow = np.zeros(n_all, bool)
    follow[1:] = cn[:-1]
    follow[first] = False
    regular = ~(mk | cn | follow | ~in_seq | first)
    last_in = np.maximum.accumulate(np.where(in_seq, idx, -1))
    prev_in = idx.copy()
    prev_in[1:] = last_in[:-1]
    prev_in[first] = idx[first]
    ms_prev = ms[prev_in]
    delta = ms - ms_prev
    has_clk = in_seq & (clk != 0)
    div = clk // 1000
    bad_div = (clk != 0) & (div == 0)
    if bad_div.any():
        fallback[np.unique(gid[bad_div])] = True
    div = np.where(div == 0, 1, div)
    nominal = np.where(has_clk, dts.astype(np.float64) / div, 0.0)
    last_c = np.maximum.accumulate(np.where(has_clk, idx, -1))
    prev_c = np.full(n_all, -1, np.int64)
    prev_c[1:] = last_c[:-1]
    prev_c[prev_c < seg0] = -1
    lastnominal = np.where(prev_c >= 0, nominal[np.maximum(prev_c, 0)], 0.0)
    upd = has_clk & ~first
    ui = np.flatnonzero(upd)
    dvals = np.abs(ms - (ms_prev + (nominal - lastnominal)))[ui]
    # the jitter recurrence, restarted for each stream, in Wireshark's operation order
    ug = gid[ui]
    restart = np.ones(len(ui), bool)
    restart[1:] = ug[1:] != ug[:-1]
    jl: list[float] = []
    app = jl.append
    j = 0.0
    for x, r in zip(dvals.tolist(), restart.tolist()):
        if r:
            j = 0.0
        j = (15 * j + x) / 16
        app(j)
    jit_u = np.zeros(n_all)
    jit_u[ui] = jl
    last_u = np.maximum.accumulate(np.where(upd, idx, -1))
    jitter = np.where(last_u >= seg0, jit_u[np.maximum(last_u, 0)], 0.0)
    # per-stream statistics over regular packets
    ri = np.flatnonzero(regular)
    rg = gid[ri]
    rd = delta[ri]
    out_max_d = np.zeros(n_seg)
    out_max_f = np.zeros(n_seg, np.int64)
    out_min_d = np.full(n_seg, -1.0)
    out_mean_d = np.zeros(n_seg)
    if len(ri):
        gs = np.flatnonzero(np.r_[True, rg[1:] != rg[:-1]])
        segs = rg[gs]
        mx = np.maximum.reduceat(rd, gs)
        at = np.minimum.reduceat(np.where(rd == mx[np.searchsorted(segs, rg)], np.arange(len(ri)),
                                          len(ri)), gs)
        pos = mx > 0
        out_max_d[segs[pos]] = mx[pos]
        out_max_f[segs[pos]] = np.asarray(frames)[ri[at[pos]]]
        out_min_d[segs] = np.minimum.reduceat(rd, gs)
        minus1 = rd == -1.0
        if minus1.any():
            fallback[np.unique(rg[minus1])] = True
        out_mean_d[segs] = _segment_means(rd, (idx - seg0)[ri], rg, segs, n_seg, fallback)
    rci = ri[clk[ri] != 0]
    rcg = gid[rci]
    rj = jitter[rci]
    out_max_j = np.zeros(n_seg)
    out_min_j = np.full(n_seg, -1.0)
    out_mean_j = np.zeros(n_seg)
    if len(rci):
        gs = np.flatnonzero(np.r_[True, rcg[1:] != rcg[:-1]])
        segs = rcg[gs]
        out_max_j[segs] = np.maximum(np.maximum.reduceat(rj, gs), 0.0)
        out_min_j[segs] = np.minimum.reduceat(rj, gs)
        out_mean_j[segs] = _segment_means(rj, (idx - seg0)[rci], rcg, segs, n_seg, fallback)
    # skew
    skew = np.where(upd | (has_clk & first), nominal - (ms - ms[seg0]), 0.0)
    ab = np.abs(skew)
    smax = np.maximum.reduceat(ab, starts)
    sat = np.minimum.reduceat(np.where(ab == smax[gid], idx, n_all), starts)
    max_skew = np.where(smax > 0, skew[np.minimum(sat, n_all - 1)], 0.0)
    # sequence numbers: cycles ("under" flag) and the problem flag
    start_seq = seq[starts]
    prev_seq = np.empty(n_all, np.int64)
    prev_seq[0] = seq[0]
    prev_seq[1:] = seq[:-1]
    sseq = start_seq[gid]
    ev_a = in_seq & ~first & ((seq < sseq) | ((seq == 0) & (prev_seq == 65535)))
    ev_b = in_seq & ~first & (seq > sseq) & ~ev_a
    ev = np.where(ev_a, 1, np.where(ev_b, 2, 0))
    ei = np.flatnonzero(ev)
    cycles = np.zeros(n_seg, np.int64)
    if len(ei):
        ev_v = ev[ei]
        ev_g = gid[ei]
        prev_v = np.r_[2, ev_v[:-1]]
        newg = np.r_[True, ev_g[1:] != ev_g[:-1]]
        cyc = (ev_v == 1) & ((prev_v == 2) | newg)
        cycles = np.bincount(ev_g[cyc], minlength=n_seg).astype(np.int64)
    dseq = (seq - prev_seq) & 0xFFFF
    bad = (~in_seq | (dseq != 1)) & ~first
    problem = np.bincount(gid[bad], minlength=n_seg) > 0
    last_seq = seq[ends - 1]
    expected = (last_seq + cycles * 65536 - start_seq + 1) & 0xFFFFFFFF
    lost = ((expected - lens + 0x80000000) & 0xFFFFFFFF) - 0x80000000
    nz = np.where(clk != 0, idx, -1)
    last_nz = np.maximum.reduceat(nz, starts)
    clock_rate = np.where(last_nz >= starts, clk[np.maximum(last_nz, 0)], clk[starts])
    out: list[StreamStats | None] = []
    cols = zip(fallback.tolist(), lens.tolist(), expected.tolist(), lost.tolist(),
               out_min_d.tolist(), out_mean_d.tolist(), out_max_d.tolist(), out_max_f.tolist(),
               out_min_j.tolist(), out_mean_j.tolist(), out_max_j.tolist(), max_skew.tolist(),
               problem.tolist(), start_seq.tolist(), last_seq.tolist(), cycles.tolist(),
               clock_rate.tolist())
    for (fb, n, exp_, lost_, mind, meand, maxd, maxf, minj, meanj, maxj, sk, prob, s0, s1, cy,
         cr) in cols:
        if fb:
            out.append(None)
            continue
        out.append(StreamStats(
            packets=n, expected=exp_, lost=lost_, min_delta=mind, mean_delta=meand,
            max_delta=maxd, max_delta_frame=maxf, min_jitter=minj, mean_jitter=meanj,
            max_jitter=maxj, max_skew=sk, sequence_errors=-1, problem=prob, start_seq=s0,
            stop_seq=s1, cycles=cy, clock_rate=cr))
    return out


def _segment_means(x: np.ndarray, n: np.ndarray, g: np.ndarray, segs: np.ndarray, n_seg: int,
                   fallback: np.ndarray) -> np.ndarray:
    """Wireshark's running mean ``m = (m*(n-1) + x)/n`` for every stream at once.

    With M = m·n the recurrence is a plain sum over consecutive counts and a rescaling by
    (n_k - 1)/n_(k-1) where packets were skipped; sums run per block of consecutive regular
    packets. Streams whose result lies within the error bound of a %.3f boundary are flagged
    in ``fallback``.
    """
    k = len(x)
    brk = np.r_[True, (g[1:] != g[:-1]) | (n[1:] != n[:-1] + 1)]
    rs = np.flatnonzero(brk)
    re_ = np.r_[rs[1:], k] - 1
    sums = np.add.reduceat(x, rs).tolist()
    n_first = n[rs].tolist()
    n_last = n[re_].tolist()
    run_g = g[rs].tolist()
    res = np.zeros(n_seg)
    m_big = 0.0
    cur = -1
    prev_last = 0
    vals = {}
    for s, a, b, gg in zip(sums, n_first, n_last, run_g):
        if gg != cur:
            if cur >= 0:
                vals[cur] = m_big / prev_last
            cur = gg
            m_big = s  # from m = 0 the first block is a plain sum
            prev_last = b
            continue
        m_big = m_big * ((a - 1) / prev_last) + s
        prev_last = b
    if cur >= 0:
        vals[cur] = m_big / prev_last
    keys = np.fromiter(vals.keys(), np.int64, len(vals))
    res[keys] = np.fromiter(vals.values(), np.float64, len(vals))
    # error bound (ours and Wireshark's) against the %.3f rounding boundary
    counts = np.bincount(g, minlength=n_seg)
    gs = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    scale = np.zeros(n_seg)
    scale[segs] = np.maximum.reduceat(np.abs(x), gs)
    margin = 8 * counts * _EPS * scale + 1e-12
    scaled = np.abs(res) * 1000.0
    near = np.abs(scaled - np.floor(scaled) - 0.5) * 1e-3 <= margin
    fallback[near & (counts > 0)] = True
    return res[segs]
