#!/usr/bin/env python3
"""Benchmark: the lab network's call set-up time and the phones' RTP pacing, from a capture.

    .venv/bin/python benchmarks/bench_phone.py [--calls 20] [--talk 5]

A fresh sandbox (kamailio registrar) and two baresip phones on loopback; 101 calls 102
``--calls`` times, each call talking ``--talk`` seconds, while dumpcap captures ``lo`` (root only).
Printed, measured on that capture:
- call set-up: authenticated INVITE sent by 101 → 200 OK received by 101 (toipkit.pcap), and
  tshark's own ``sip,stat`` set-up time on the same file (the reference), with their ratio;
- RTP pacing of the phones: inter-packet delta of every stream (p50, p99, max deviation from
  20 ms), with tshark's ``rtp,streams`` max delta of the same streams for comparison;
- the live IVR with ``--ivr-callers`` simultaneous callers listening to the handout's menu:
  pacing of the prompts' RTP (IVR → callers; one paced media thread sends them all), and
  whether every call heard every prompt. The machine's load average is printed with it: the
  pacing depends on it (the media thread asks for real-time scheduling, granted to root).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--talk", type=float, default=5.0)
    parser.add_argument("--ivr-callers", type=int, default=10,
                        help="simultaneous callers of the live IVR (0: skip that part)")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("live capture needs root: run as root")
        return 1
    from toipkit.pcap import read_capture
    from toipkit.phone.capture import capture
    from toipkit.phone.lab import LabPhones
    from toipkit.xivo import connect, lab, sandbox

    work = Path(tempfile.mkdtemp(prefix="bench-phone-"))
    os.environ["TOIPKIT_HOME"] = str(work / "home")
    data_dir = work / "sandbox"
    sandbox.start(data_dir=data_dir)
    try:
        with connect(None, data_dir=data_dir) as client:
            lab.create_user_with_line(client, "Geralt", "Riv", 101)
            lab.create_user_with_line(client, "Yennefer", "Vengerberg", 102)
            with LabPhones(client, ["101", "102"], answer_delay=0.0) as team:
                path = work / "calls.pcapng"
                # Only this run's ports: other programs may use loopback at the same time.
                with capture(filter=team.capture_filter, path=path):
                    for _ in range(args.calls):
                        call = team.call("101", "102", duration=args.talk)
                        if not call.answered:
                            print("call not answered:", call.end_reason)
                            return 1
                        time.sleep(0.3)
                caller_sip = f"127.0.0.1:{team['101'].agent.config.sip_port}"
        analysed = read_capture(path)
        setups = []
        for c in analysed.calls.answered:
            invites = [m for m in c.messages if m.method == "INVITE"
                       and f"{m.src}:{m.sport}" == caller_sip]
            oks = [m for m in c.messages if m.status == 200 and m.cseq_method == "INVITE"
                   and f"{m.dst}:{m.dport}" == caller_sip]
            if invites and oks:
                setups.append((oks[-1].time - invites[-1].time) * 1000)
        # The reference: the same INVITE → 200 intervals from tshark's own dissection.
        fields = subprocess.run(
            ["tshark", "-n", "-r", str(path), "-Y", "sip.CSeq.method == \"INVITE\"", "-T",
             "fields", "-e", "frame.time_epoch", "-e", "sip.Call-ID", "-e", "sip.Method",
             "-e", "sip.Status-Code", "-e", "udp.srcport", "-e", "udp.dstport"],
            capture_output=True, text=True, check=True).stdout
        caller_port = caller_sip.rsplit(":", 1)[1]
        last_invite: dict[str, float] = {}
        ref_setups = []
        for line in fields.splitlines():
            when, call_id, method, status, sport, dport = (line.split("\t") + [""] * 6)[:6]
            if method == "INVITE" and sport == caller_port:
                last_invite[call_id] = float(when)
            elif status == "200" and dport == caller_port and call_id in last_invite:
                ref_setups.append((float(when) - last_invite.pop(call_id)) * 1000)
        deviations = []
        for stream in analysed.rtp_streams:
            deltas = stream.series()["delta_ms"].to_numpy()[1:]
            deviations += [abs(float(d) - 20.0) for d in deltas]
        max_deltas = [s.stats.max_delta for s in analysed.rtp_streams]
        rtp_text = subprocess.run(["tshark", "-n", "-q", "-r", str(path), "-z", "rtp,streams"],
                                  capture_output=True, text=True, check=True).stdout
        print(f"calls: {len(analysed.calls.answered)} answered, {len(analysed.rtp_streams)} "
              f"RTP streams, {args.talk:g} s each")
        print(f"set-up INVITE→200 (toipkit.pcap, caller side): mean "
              f"{statistics.mean(setups):.2f} ms, p50 {percentile(setups, 50):.2f} ms, "
              f"p99 {percentile(setups, 99):.2f} ms, max {max(setups):.2f} ms")
        print(f"set-up INVITE→200 (tshark fields, reference): mean "
              f"{statistics.mean(ref_setups):.2f} ms over {len(ref_setups)} calls; ratio "
              f"toipkit / tshark = {statistics.mean(setups) / statistics.mean(ref_setups):.4f}")
        if deviations:
            print(f"RTP pacing |delta - 20 ms|: p50 {percentile(deviations, 50):.3f} ms, "
                  f"p99 {percentile(deviations, 99):.3f} ms, max {max(deviations):.3f} ms "
                  f"({len(deviations)} intervals)")
        print(f"RTP max delta per stream (toipkit): max {max(max_deltas):.3f} ms, "
              f"median {statistics.median(max_deltas):.3f} ms")
        same = rtp_text == __import__("toipkit.pcap", fromlist=["x"]).rtp_streams_text(analysed)
        print(f"rtp,streams text identical to tshark: {'yes' if same else 'NO'}")
        if args.ivr_callers:
            bench_ivr(work, data_dir, args.ivr_callers)
    finally:
        sandbox.stop(data_dir)
    return 0


def bench_ivr(work: Path, data_dir: Path, callers: int) -> None:
    """``callers`` calls at once to the handout's fixed IVR, captured; pacing of its prompts."""
    from toipkit import tts
    from toipkit.dialplan import parse_file
    from toipkit.pcap import read_capture
    from toipkit.phone.capture import capture
    from toipkit.phone.lab import LabPhones
    from toipkit.phone.services import deploy_ivr
    from toipkit.xivo import connect, lab

    fixed = REPO / "solutions" / "data" / "fixed-s17-ivr.conf"
    with connect(None, data_dir=data_dir) as client:
        numbers = [str(n) for n in range(150, 150 + callers)]
        for n in numbers:
            lab.create_user_with_line(client, "Appelant", n, n)
        prompts = tts.from_dialplan(parse_file(fixed), work / "sons")
        ivr = deploy_ivr(client, prompts, number="500", context="ivr", pool=callers)
        with LabPhones(client, numbers, auto_answer=False) as people:
            path = work / "ivr.pcapng"
            with capture(filter=people.capture_filter, path=path):
                for n in numbers:
                    people[n].dial("500")
                time.sleep(12)  # the whole menu (about 9 s) then the wait for a key
                for n in numbers:
                    people[n].hangup()
            caller_ports = {people[n].rtp_port for n in numbers}
    analysed = read_capture(path)
    deviations = []
    lost = 0
    for stream in analysed.rtp_streams:
        if stream.dport in caller_ports:  # the IVR's prompts towards the callers
            deltas = stream.series()["delta_ms"].to_numpy()[1:]
            deviations += [abs(float(d) - 20.0) for d in deltas]
            lost += stream.lost
    menu = [e.text for name, e in prompts.manifest.items() if "tapez" in name
            or "bienvenue" in name]
    complete = sum(1 for c in ivr.calls() if all(t in [p for _s, p in c["played"]]
                                                 for t in menu))
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"live IVR, {callers} callers at once (load average {load}, {os.cpu_count()} CPUs): "
          f"prompt RTP pacing |delta - 20 ms| p50 "
          f"{percentile(deviations, 50):.3f} ms, p99 {percentile(deviations, 99):.3f} ms, max "
          f"{max(deviations):.3f} ms ({len(deviations)} intervals, {lost} packets lost); calls "
          f"that heard the whole "
          f"menu: {complete}/{len(ivr.calls())}")


if __name__ == "__main__":
    raise SystemExit(main())
