"""Profiling aid for the toipkit.pcap engine (the official benchmark is bench_pcap.py).

Builds (once, cached under the state dir) a synthetic capture of N concurrent calls with the
test generator, then times toipkit and ``tshark -q -z rtp,streams`` on it in the same run and
checks that both print the same text.

    .venv/bin/python benchmarks/bench_pcap_engine.py [--calls 200] [--packets-per-leg 2500]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "pcap"))


def build(path: Path, calls: int, per_leg: int) -> None:
    from synth import CallSpec, Leg, call_packets, encap

    frames = []
    for i in range(calls):
        spec = CallSpec(caller=f"10.1.{i // 250}.{i % 250 + 1}", callee=f"10.2.{i // 250}.{i % 250 + 1}",
                        start_s=1 + 0.013 * i, call_id=f"bench-{i}@x",
                        caller_rtp=20000 + 2 * i, callee_rtp=40000 + 2 * i,
                        legs=[Leg(ssrc=0x10000 + i, count=per_leg, jitter_ms=2, loss=0.001,
                                  dtmf="12" if i % 10 == 0 else ""),
                              Leg(ssrc=0x20000 + i, count=per_leg, jitter_ms=1)])
        frames += call_packets(spec, seed=i)
    frames.sort(key=lambda f: f[0])
    import struct

    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as fh:
        fh.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        for ts, ip in frames:
            data = encap(ip, "eth")
            sec, rem = divmod(ts, 1_000_000_000)
            fh.write(struct.pack("<IIII", sec, rem // 1000, len(data), len(data)) + data)
    os.replace(tmp, path)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--packets-per-leg", type=int, default=2500)
    ap.add_argument("--file", help="use this capture instead of the generated one")
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args()
    if args.file:
        path = Path(args.file)
    else:
        from toipkit.paths import state_dir

        path = state_dir() / "bench" / f"engine-{args.calls}x{args.packets_per_leg}.pcap"
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            t = time.perf_counter()
            build(path, args.calls, args.packets_per_leg)
            print(f"built {path} in {time.perf_counter() - t:.1f} s")
    from toipkit.pcap import read_capture

    t = time.perf_counter()
    c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    ref = subprocess.run(["tshark", "-n", "-q", "-z", "rtp,streams", "-r", str(path)],
                         capture_output=True, text=True).stdout
    t_ref = time.perf_counter() - t
    c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_ref = (c1.ru_utime - c0.ru_utime) + (c1.ru_stime - c0.ru_stime)
    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.runcall(read_capture, path)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(18)
    t = time.perf_counter()
    cpu0 = time.process_time()
    cap = read_capture(path)
    text = cap.rtp_streams_text()
    t_ours = time.perf_counter() - t
    cpu_ours = time.process_time() - cpu0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"file: {path} ({path.stat().st_size / 1e6:.0f} MB, {cap.packet_count} packets, "
          f"{len(cap.rtp_streams)} streams)")
    print(f"tshark -q -z rtp,streams: {t_ref:.2f} s wall, {cpu_ref:.2f} s CPU")
    print(f"toipkit read_capture:     {t_ours:.2f} s wall, {cpu_ours:.2f} s CPU")
    print(f"ratio toipkit/tshark:     {t_ours / t_ref:.3f} wall, {cpu_ours / cpu_ref:.3f} CPU")
    print(f"toipkit peak RSS:         {rss:.0f} MB")
    print(f"identical output:         {text == ref}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
