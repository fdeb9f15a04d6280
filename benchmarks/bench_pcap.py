#!/usr/bin/env python3
"""Benchmark: toipkit's RTP statistics vs ``tshark -q -z rtp,streams`` on >= 1,000,000 packets.

    .venv/bin/python benchmarks/bench_pcap.py [--packets 1000000] [--rebuild] [--repeat 1]

The big capture is built once and cached in benchmarks/.cache/ (gitignored) from the real
captures made by scripts/make_captures.py (sipp + dumpcap on loopback): the answered call, the
IVR call with DTMF, the impaired call and the busy/cancelled calls are replicated many times by
scripts/pcaptool.py's rewriter, each copy with its own media ports (SDP and UDP), SSRCs and
Call-ID, and shifted in time by 20 ms from the previous one, so that several hundred calls are in
progress at once. The cache is rebuilt when the source captures or the parameters change.

Then, in the same run and on the same file:
  * toipkit: ``read_capture(path)`` + ``rtp_streams_text(cap)`` in a fresh Python process;
  * tshark 4.0.17: ``tshark -n -q -r FILE -z rtp,streams``.
Each is timed as a whole process (wall clock, start-up included) and its peak RSS is read with
``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`` in a helper process whose only child it is.
The two texts are compared line by line. Targets (issue 3): ratio toipkit/tshark <= 0.5, toipkit
peak RSS <= 400 MB.
"""

from __future__ import annotations

import argparse
import hashlib
import heapq
import json
import os
import random
import resource
import shutil
import struct
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / "benchmarks" / ".cache"
SOURCES = ["call", "ivr", "impaired", "failed"]
GAP_NS = 20_000_000  # start of each copy after the previous one
FIRST_PORT = 20000  # rewritten media ports: 20000, 20002, ... (5 digits, as in the sources)
BUILD_VERSION = 1

sys.path.insert(0, str(REPO / "scripts"))


# --------------------------------------------------------------------------- building

def _source_files() -> list[Path]:
    manifest = json.loads((REPO / "data" / "manifest.json").read_text(encoding="utf-8"))
    by_name = {e["name"]: e for e in manifest["captures"]}
    return [REPO / "data" / by_name[n]["file"] for n in SOURCES]


def _cache_key(files: list[Path], packets: int, seed: int) -> str:
    h = hashlib.sha256(f"v{BUILD_VERSION}:{packets}:{seed}:{GAP_NS}:{FIRST_PORT}".encode())
    for f in files:
        h.update(f.name.encode() + hashlib.sha256(f.read_bytes()).digest())
    return h.hexdigest()[:16]


def build(out: Path, packets: int, seed: int) -> dict:
    """Write the replicated capture (classic pcap, µs) and return its description."""
    import pcaptool

    templates = [pcaptool.load_template(str(f)) for f in _source_files()]
    rng = random.Random(seed)
    # Plan the copies: round-robin over the sources until the packet count is reached.
    plan = []  # (template index, start ns, port map, ssrc xor, call-id tag)
    total, next_port, k = 0, FIRST_PORT, 0
    used_xor = set()
    while total < packets:
        ti = k % len(templates)
        tpl = templates[ti]
        port_map = {}
        for p in tpl.media_ports:
            port_map[p] = next_port
            next_port += 2
        if next_port > 65534:
            raise ValueError("too many copies for distinct media ports; lower --packets")
        xor = rng.getrandbits(32)
        while xor in used_xor or xor == 0:
            xor = rng.getrandbits(32)
        used_xor.add(xor)
        tag = f"{k:06x}".encode()
        plan.append((ti, 1_000_000_000 + k * GAP_NS, port_map, xor, tag))
        total += len(tpl.frames)
        k += 1

    # Pre-split each template frame: Ethernet+IP header bytes, ports, payload.
    def copy_frames(ci: int):
        ti, start, port_map, xor, tag = plan[ci]
        for rel, u in templates[ti].frames:
            yield start + rel, ci, u

    tmp = out.with_suffix(".tmp")
    n = 0
    with open(tmp, "wb", buffering=1 << 20) as fh:
        w = pcaptool.PcapWriter(fh, nanoseconds=False)
        ip_cache: dict[tuple[str, str, int], bytes] = {}
        merged = heapq.merge(*(copy_frames(ci) for ci in range(len(plan))),
                             key=lambda x: (x[0], x[1]))
        for ts, ci, u in merged:
            _ti, _start, port_map, xor, tag = plan[ci]
            payload = pcaptool.rewrite(u, port_map, xor, tag)
            sport = port_map.get(u.sport, u.sport)
            dport = port_map.get(u.dport, u.dport)
            key = (u.src, u.dst, len(payload))
            head = ip_cache.get(key)
            if head is None:
                head = pcaptool.ipv4_udp_frame(u.src, 0, u.dst, 0, payload)[:34]
                ip_cache[key] = head
            w.write(ts, head + struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload)
            n += 1
    os.replace(tmp, out)
    return {"packets": n, "copies": len(plan), "bytes": out.stat().st_size,
            "span_s": round((plan[-1][1] - plan[0][1]) / 1e9 + 12, 1)}


def ensure_capture(packets: int, seed: int, rebuild: bool) -> tuple[Path, dict]:
    CACHE.mkdir(parents=True, exist_ok=True)
    key = _cache_key(_source_files(), packets, seed)
    path = CACHE / f"bench-{packets}-{key}.pcap"
    meta_path = path.with_suffix(".json")
    if path.exists() and meta_path.exists() and not rebuild:
        return path, json.loads(meta_path.read_text())
    for old in CACHE.glob(f"bench-{packets}-*"):
        old.unlink()
    t0 = time.perf_counter()
    print(f"building {path.relative_to(REPO)} (once) ...", flush=True)
    meta = build(path, packets, seed)
    meta["build_s"] = round(time.perf_counter() - t0, 1)
    meta_path.write_text(json.dumps(meta))
    return path, meta


# --------------------------------------------------------------------------- measuring

TOIPKIT_CHILD = """
import sys, time
t0 = time.perf_counter()
from toipkit.pcap import read_capture, rtp_streams_text
cap = read_capture(sys.argv[1])
text = rtp_streams_text(cap)
with open(sys.argv[2], "w") as fh:
    fh.write(text)
print(f"{time.perf_counter() - t0:.3f}", file=sys.stderr)
"""


def measure(cmd: list[str], stdout_path: Path) -> dict:
    """Run cmd in a helper process; return wall time and the child's peak RSS (MB)."""
    helper = [sys.executable, __file__, "--_child", str(stdout_path), "--", *cmd]
    proc = subprocess.run(helper, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _child_main(stdout_path: str, cmd: list[str]) -> int:
    with open(stdout_path, "w") as out:
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, stdout=out, stderr=subprocess.PIPE, text=True,
                              env=dict(os.environ, LC_ALL="C"))
        wall = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        return proc.returncode
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    # ru_maxrss is in KiB on Linux (bytes on macOS)
    rss_mb = ru.ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)
    print(json.dumps({"wall_s": wall, "rss_mb": rss_mb, "stderr": proc.stderr[-500:]}))
    return 0


def first_difference(a: str, b: str) -> str:
    la, lb = a.splitlines(), b.splitlines()
    for i, (x, y) in enumerate(zip(la, lb)):
        if x != y:
            return f"line {i + 1}:\n  toipkit: {x!r}\n  tshark : {y!r}"
    return f"line counts differ: toipkit {len(la)}, tshark {len(lb)}"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--_child"]:
        return _child_main(argv[1], argv[3:])
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--packets", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=20261127)
    ap.add_argument("--rebuild", action="store_true", help="rebuild the cached capture")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each tool; best time kept")
    args = ap.parse_args(argv)

    tshark = shutil.which("tshark")
    if not tshark:
        print("tshark not found: install tshark (Wireshark 4.0.17) to run this benchmark")
        return 2
    path, meta = ensure_capture(args.packets, args.seed, args.rebuild)
    print(f"capture : {path.relative_to(REPO)}: {meta['packets']:,} packets, "
          f"{meta['bytes'] / 1e6:.0f} MB, {meta['copies']} calls over ~{meta['span_s']} s")

    out_dir = CACHE / "out"
    out_dir.mkdir(exist_ok=True)
    ours_txt, ref_txt = out_dir / "toipkit.txt", out_dir / "tshark.txt"
    ours, ref = [], []
    for _ in range(args.repeat):
        ours.append(measure([sys.executable, "-c", TOIPKIT_CHILD, str(path), str(ours_txt)],
                            out_dir / "toipkit.stdout"))
        ref.append(measure([tshark, "-n", "-q", "-r", str(path), "-z", "rtp,streams"], ref_txt))
    t_ours = min(r["wall_s"] for r in ours)
    t_ref = min(r["wall_s"] for r in ref)
    rss_ours = max(r["rss_mb"] for r in ours)
    rss_ref = max(r["rss_mb"] for r in ref)
    text_ours, text_ref = ours_txt.read_text(), ref_txt.read_text()
    identical = text_ours == text_ref
    streams = max(0, len(text_ref.splitlines()) - 3)

    ratio = t_ours / t_ref
    print(f"streams : {streams:,} (tshark)")
    print(f"tshark  : {t_ref:8.2f} s   peak RSS {rss_ref:7.1f} MB   "
          f"({meta['packets'] / t_ref / 1000:.0f}k packets/s)")
    print(f"toipkit : {t_ours:8.2f} s   peak RSS {rss_ours:7.1f} MB   "
          f"({meta['packets'] / t_ours / 1000:.0f}k packets/s; in-process "
          f"{min(float(r['stderr'].split()[-1]) for r in ours):.2f} s)")
    print(f"ratio   : {ratio:.3f} (toipkit / tshark; target <= 0.5)  "
          f"{'OK' if ratio <= 0.5 else 'ABOVE TARGET'}")
    print(f"RSS     : {rss_ours:.1f} MB (target <= 400 MB)  "
          f"{'OK' if rss_ours <= 400 else 'ABOVE TARGET'}")
    if hasattr(os, "getloadavg"):
        print(f"load    : {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs "
              "(other processes slow both tools unevenly; compare runs on an idle machine)")
    print(f"outputs : {'identical' if identical else 'DIFFERENT'} "
          f"({len(text_ref.splitlines())} lines)")
    if not identical:
        print(first_difference(text_ours, text_ref))
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
