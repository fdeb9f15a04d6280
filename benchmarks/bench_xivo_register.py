#!/usr/bin/env python3
"""Benchmark: the SIP REGISTER check (toipkit.xivo.register_check) against sipp.

    .venv/bin/python benchmarks/bench_xivo_register.py [--count 200]

A kamailio registrar with digest authentication runs on loopback
(``toipkit/xivo/data/kamailio-registrar.conf``). The reference is sipp running the project's
``scripts/sipp/uac_register.xml`` (REGISTER, 401, REGISTER + Authorization, 200) ``--count``
times, one registration at a time; ours is ``register_check`` called ``--count`` times in a row.
Printed: both wall times, the ratio, and peak RSS (ours: this process; sipp: its process).
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from toipkit.xivo.registrar import kamailio_registrar  # noqa: E402
from toipkit.xivo.sip_register import register_check  # noqa: E402

USER, PASSWORD = "geralt101", "Kaer-Morhen1"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    args = parser.parse_args()
    sipp = shutil.which("sipp") or shutil.which("sip-tester")
    if sipp is None:
        print("sipp is not installed")
        return 1
    with kamailio_registrar({USER: PASSWORD}, qop=False) as reg:
        cmd = [sipp, f"{reg.host}:{reg.port}", "-sf", str(REPO / "scripts/sipp/uac_register.xml"),
               "-i", "127.0.0.1", "-m", str(args.count), "-l", "1", "-r", "10000",
               "-au", USER, "-ap", PASSWORD, "-key", "from_user", USER, "-key", "from_name",
               "Geralt", "-key", "domain", reg.host, "-key", "tag", "bench", "-nostdin",
               "-timeout", "120s", "-trace_err"]
        started = time.perf_counter()
        done = subprocess.run(cmd, cwd="/tmp", stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, timeout=180)
        ref = time.perf_counter() - started
        sipp_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        started = time.perf_counter()
        ok = sum(register_check(reg.host, USER, PASSWORD, port=reg.port).ok
                 for _ in range(args.count))
        ours = time.perf_counter() - started
    own_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"registrations:        {args.count} (401 challenge + digest + 200 each)")
    print(f"reference (sipp):     {ref:.3f} s  exit {done.returncode}  peak RSS {sipp_rss / 1024:.2f} MiB")
    print(f"ours (register_check): {ours:.3f} s  ok {ok}/{args.count}  peak RSS {own_rss / 1024:.2f} MiB")
    print(f"ratio ours/reference: {ours / ref:.2f}")
    return 0 if ok == args.count and done.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
