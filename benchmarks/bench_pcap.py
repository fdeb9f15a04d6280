#!/usr/bin/env python3
"""Benchmark: toipkit's RTP statistics vs ``tshark -q -z rtp,streams`` on several capture shapes.

    .venv/bin/python benchmarks/bench_pcap.py [--shapes a,b,c,d] [--rebuild] [--repeat 1]

Shapes (each >= 1,000,000 packets; built once and cached in benchmarks/.cache/, gitignored):

  a  replicated: the real captures made by scripts/make_captures.py (the answered call, the IVR
     call with DTMF, the impaired call, the busy/cancelled calls) copied many times by
     scripts/pcaptool.py's rewriter (own media ports, SSRCs, Call-ID per copy, 20 ms apart):
     classic pcap, uniform record layout.
  b  dumpcap pcapng of real sipp traffic: sipp's built-in ``uac_pcap`` scenario (sipp's sample
     G.711 A-law RTP, then an RFC 2833 digit) against sipp's ``uas`` with ``-rtp_echo``, 400 calls
     at 20 calls/s on loopback, written by dumpcap; six copies shifted by 5 s (``editcap -t``)
     joined with ``mergecap``: SIP, RTP and events of mixed sizes interleaved.
  c  the same file as classic pcap (``editcap -F pcap``).
  d  10,000 short calls (the same scenario with 1.2 s of audio) at 200 calls/s, one dumpcap
     pcapng; and a 1,000-call version of it, to check that the cost is linear in calls.

For every shape, in the same run and on the same file:
  * toipkit: ``read_capture(path)`` + ``rtp_streams_text(cap)`` in a fresh Python process;
  * tshark 4.0.17: ``tshark -n -q -r FILE -z rtp,streams``.
Each is timed as a whole process (wall clock, start-up included; CPU time too, which moves less
with the machine's load) and its peak RSS is read with
``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`` in a helper process whose only child it is.
The two texts are compared byte for byte. Targets (issue 15): ratio toipkit/tshark <= 0.5,
toipkit peak RSS <= 400 MB on every shape; toipkit on 10,000 calls <= 12 x on 1,000 calls.

Shapes b-d need root (dumpcap on ``lo``, sipp's raw socket for RTP), sipp and Wireshark's
dumpcap/editcap/mergecap; without them they are skipped with a message.
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


# --------------------------------------------------------------------------- sipp + dumpcap

SIPP_UAS_IP, SIPP_UAC_IP = "127.0.15.1", "127.0.15.2"  # own loopback addresses: no other traffic
SIPP_VERSION = 1
SHORT_AUDIO = 60  # RTP packets (1.2 s of G.711) played by each short call of shape d


def sipp_tools_missing() -> str | None:
    """Why the dumpcap shapes cannot be built here (None when they can)."""
    missing = [t for t in ("sipp", "dumpcap", "editcap", "mergecap") if not shutil.which(t)]
    if missing:
        return "missing " + ", ".join(missing) + " (apt-get install sip-tester tshark)"
    if os.geteuid() != 0:
        return "needs root (dumpcap on lo, sipp's raw socket for RTP)"
    samples = Path("/usr/share/sip-tester")
    if not (samples / "g711a.pcap").exists():
        return f"sipp's sample RTP files are not in {samples}"
    return None


def _scenario(work: Path, audio_packets: int | None) -> Path:
    """sipp's built-in uac_pcap scenario, optionally with a shorter audio file and pauses."""
    pcap_dir = work / "pcap"
    pcap_dir.mkdir(exist_ok=True)
    for f in Path("/usr/share/sip-tester").glob("*.pcap"):
        target = pcap_dir / f.name
        if not target.exists():
            target.symlink_to(f)
    # sipp -sd prints the built-in scenario and exits with status 99
    xml = subprocess.run(["sipp", "-sd", "uac_pcap"], capture_output=True, text=True).stdout
    if "<scenario" not in xml:
        raise RuntimeError("sipp -sd uac_pcap did not print the built-in scenario")
    if audio_packets:
        short = pcap_dir / "short.pcap"
        subprocess.run(["editcap", "-r", str(pcap_dir / "g711a.pcap"), str(short),
                        f"1-{audio_packets}"], check=True, capture_output=True)
        pause = audio_packets * 20 + 100
        xml = xml.replace("pcap/g711a.pcap", "pcap/short.pcap")
        xml = xml.replace('<pause milliseconds="8000"/>', f'<pause milliseconds="{pause}"/>')
        xml = xml.replace('<pause milliseconds="1000"/>', '<pause milliseconds="200"/>')
    path = work / ("uac_short.xml" if audio_packets else "uac_pcap.xml")
    path.write_text(xml)
    return path


def sipp_capture(out: Path, calls: int, rate: int, audio_packets: int | None = None) -> None:
    """dumpcap on lo while sipp places ``calls`` calls (with RTP, echoed by the callee)."""
    work = out.parent / "sipp-work"
    work.mkdir(parents=True, exist_ok=True)
    scenario = _scenario(work, audio_packets)
    tmp = out.with_name(out.stem + ".tmp.pcapng")
    cfilter = f"udp and host {SIPP_UAS_IP}"
    dumpcap = subprocess.Popen(["dumpcap", "-q", "-i", "lo", "-f", cfilter, "-w", str(tmp)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    uas = None
    try:
        time.sleep(2)  # dumpcap opens the interface
        uas = subprocess.Popen(["sipp", "-sn", "uas", "-rtp_echo", "-i", SIPP_UAS_IP, "-p", "5060",
                                "-mp", "6000", "-nostdin"], cwd=work, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        time.sleep(1)
        uac = subprocess.run(["sipp", "-sf", str(scenario), f"{SIPP_UAS_IP}:5060",
                              "-i", SIPP_UAC_IP, "-p", "5060", "-mp", "7000", "-r", str(rate),
                              "-m", str(calls), "-nostdin"], cwd=work, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, timeout=calls + 600)
        # status 1: some calls failed (timeouts on a busy machine); the capture is still real
        if uac.returncode not in (0, 1):
            raise RuntimeError(f"sipp failed with status {uac.returncode}")
        if uac.returncode == 1:
            print("  (sipp: some calls failed; the capture keeps what happened)", flush=True)
        time.sleep(1)
    finally:
        if uas is not None:
            uas.terminate()
            uas.wait()
        dumpcap.terminate()
        dumpcap.wait()
    os.replace(tmp, out)


def ensure_sipp_shapes(shapes: str, rebuild: bool) -> dict[str, Path]:
    """Build (once) the dumpcap captures of shapes b, c and d; returns name -> path."""
    CACHE.mkdir(parents=True, exist_ok=True)
    tag = f"v{SIPP_VERSION}"
    files = {}
    if "b" in shapes or "c" in shapes:
        real = CACHE / f"sipp-400x6-{tag}.pcapng"
        if rebuild or not real.exists():
            print("building shape b (400 sipp calls at 20/s, ~40 s, then 6 shifted copies) ...",
                  flush=True)
            one = CACHE / "sipp-400.pcapng"
            sipp_capture(one, 400, 20)
            copies = []
            for k in range(6):
                c = CACHE / f"sipp-400-copy{k}.pcapng"
                subprocess.run(["editcap", "-t", str(5 * k), str(one), str(c)], check=True,
                               capture_output=True)
                copies.append(c)
            tmp = real.with_suffix(".tmp")
            subprocess.run(["mergecap", "-F", "pcapng", "-w", str(tmp), *map(str, copies)],
                           check=True, capture_output=True)
            os.replace(tmp, real)
            for c in [one, *copies]:
                c.unlink()
        files["b"] = real
        if "c" in shapes:
            classic = real.with_suffix(".pcap")
            if rebuild or not classic.exists() or classic.stat().st_mtime < real.stat().st_mtime:
                tmp = classic.with_suffix(".tmp")
                subprocess.run(["editcap", "-F", "pcap", str(real), str(tmp)], check=True,
                               capture_output=True)
                os.replace(tmp, classic)
            files["c"] = classic
    if "d" in shapes:
        for calls, name in ((10_000, "d"), (1_000, "d1k")):
            path = CACHE / f"sipp-short-{calls}x{SHORT_AUDIO}-{tag}.pcapng"
            if rebuild or not path.exists():
                print(f"building shape {name} ({calls:,} short sipp calls at 200/s) ...",
                      flush=True)
                sipp_capture(path, calls, 200, audio_packets=SHORT_AUDIO)
            files[name] = path
    return files


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
    cpu = ru.ru_utime + ru.ru_stime
    print(json.dumps({"wall_s": wall, "cpu_s": cpu, "rss_mb": rss_mb,
                      "stderr": proc.stderr[-500:]}))
    return 0


def first_difference(a: str, b: str) -> str:
    la, lb = a.splitlines(), b.splitlines()
    for i, (x, y) in enumerate(zip(la, lb)):
        if x != y:
            return f"line {i + 1}:\n  toipkit: {x!r}\n  tshark : {y!r}"
    return f"line counts differ: toipkit {len(la)}, tshark {len(lb)}"


SHAPES = {
    "a": "replicated sipp/make_captures calls, classic pcap",
    "b": "dumpcap pcapng of sipp calls (mixed sizes)",
    "c": "shape b as classic pcap",
    "d": "10,000 short sipp calls, dumpcap pcapng",
    "d1k": "1,000 short sipp calls (shape d's scale reference)",
}


def run_shape(name: str, path: Path, tshark: str, repeat: int) -> dict:
    out_dir = CACHE / "out"
    out_dir.mkdir(exist_ok=True)
    ours_txt, ref_txt = out_dir / f"toipkit-{name}.txt", out_dir / f"tshark-{name}.txt"
    ours, ref = [], []
    for _ in range(repeat):
        ours.append(measure([sys.executable, "-c", TOIPKIT_CHILD, str(path), str(ours_txt)],
                            out_dir / "toipkit.stdout"))
        ref.append(measure([tshark, "-n", "-q", "-r", str(path), "-z", "rtp,streams"], ref_txt))
    text_ours, text_ref = ours_txt.read_text(), ref_txt.read_text()
    packets = int(subprocess.run(["capinfos", "-Mc", str(path)], capture_output=True,
                                 text=True).stdout.split()[-1]) if shutil.which("capinfos") else 0
    res = {
        "shape": name, "file": path.name, "packets": packets, "mb": path.stat().st_size / 1e6,
        "streams": max(0, len(text_ref.splitlines()) - 3),
        "tshark_s": min(r["wall_s"] for r in ref), "toipkit_s": min(r["wall_s"] for r in ours),
        "tshark_cpu": min(r["cpu_s"] for r in ref), "toipkit_cpu": min(r["cpu_s"] for r in ours),
        "tshark_rss": max(r["rss_mb"] for r in ref), "toipkit_rss": max(r["rss_mb"] for r in ours),
        "identical": text_ours == text_ref,
    }
    res["ratio"] = res["toipkit_s"] / res["tshark_s"]
    print(f"[{name}] {SHAPES[name]}: {path.name}, {packets:,} packets, {res['mb']:.0f} MB, "
          f"{res['streams']:,} streams")
    print(f"    tshark  {res['tshark_s']:7.2f} s  (CPU {res['tshark_cpu']:6.2f} s)  "
          f"peak RSS {res['tshark_rss']:6.0f} MB")
    print(f"    toipkit {res['toipkit_s']:7.2f} s  (CPU {res['toipkit_cpu']:6.2f} s)  "
          f"peak RSS {res['toipkit_rss']:6.0f} MB  "
          f"ratio {res['ratio']:.3f} {'OK' if res['ratio'] <= 0.5 else 'ABOVE 0.5'} "
          f"(CPU {res['toipkit_cpu'] / res['tshark_cpu']:.3f})  "
          f"RSS {'OK' if res['toipkit_rss'] <= 400 else 'ABOVE 400 MB'}  "
          f"output {'identical' if res['identical'] else 'DIFFERENT'}", flush=True)
    if not res["identical"]:
        print("    " + first_difference(text_ours, text_ref))
    return res


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--_child"]:
        return _child_main(argv[1], argv[3:])
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shapes", default="a,b,c,d", help="comma-separated: a, b, c, d")
    ap.add_argument("--packets", type=int, default=1_000_000, help="size of shape a")
    ap.add_argument("--seed", type=int, default=20261127)
    ap.add_argument("--rebuild", action="store_true", help="rebuild the cached captures")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each tool; best time kept")
    args = ap.parse_args(argv)
    shapes = [s.strip() for s in args.shapes.split(",") if s.strip()]

    tshark = shutil.which("tshark")
    if not tshark:
        print("tshark not found: install tshark (Wireshark 4.0.17) to run this benchmark")
        return 2
    files: dict[str, Path] = {}
    if "a" in shapes:
        files["a"], _meta = ensure_capture(args.packets, args.seed, args.rebuild)
    if any(s in shapes for s in "bcd"):
        why = sipp_tools_missing()
        if why:
            print(f"shapes b-d skipped: {why}")
        else:
            files.update(ensure_sipp_shapes("".join(shapes), args.rebuild))
    if hasattr(os, "getloadavg"):
        print(f"load {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (other processes slow "
              "both tools unevenly; compare runs on an idle machine)")
    results = {name: run_shape(name, path, tshark, args.repeat)
               for name, path in files.items()}
    ok = all(r["identical"] for r in results.values())
    if "d" in results and "d1k" in results:
        scale = results["d"]["toipkit_s"] / results["d1k"]["toipkit_s"]
        print(f"scaling: toipkit 10,000 calls / 1,000 calls = {scale:.2f} "
              f"({'OK' if scale <= 12 else 'ABOVE 12'}; tshark "
              f"{results['d']['tshark_s'] / results['d1k']['tshark_s']:.2f})")
    print(f"outputs: {'all identical to tshark' if ok else 'SOME DIFFER'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
