#!/usr/bin/env python3
"""Benchmark: parse + lint of a generated 100k-line XiVO-style ``extensions.conf``.

    .venv/bin/python benchmarks/bench_dialplan.py [--lines 100000] [--repeat 3]

The dialplan imitates what XiVO generates (one block per user with hints and Gosubs, groups,
queues, meetme/confbridge numbers, feature codes with patterns, includes, comments), plus a few
hand-written IVR contexts. We time ``parse(text)`` and ``lint(dp)`` in this process (CPU time, best of
``--repeat``: the figure does not depend on other load on the machine), and print lines per second (target >= 200,000) and peak RSS.

Reference: when ``asterisklint`` (GPLv3, not a toipkit dependency) is installed — on PATH, in
``$ASTERISKLINT`` or in ``benchmarks/.cache/asterisklint-venv`` — its ``dialplan-check`` is run on
the same file in a subprocess and timed (wall clock, start-up included), and the ratio printed.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from toipkit.dialplan import lint, parse  # noqa: E402

TARGET = 200_000


def _cpu() -> float:
    """CPU seconds of this process (user + system, getrusage): other load on the machine
    matters less than for the wall clock."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def generate(n_lines: int, seed: int = 4) -> str:
    rnd = random.Random(seed)
    out: list[str] = [
        "; generated XiVO-style dialplan for benchmarking",
        "[general]", "static=yes", "writeprotect=no", "autofallthrough=yes", "",
        "[globals]", "XIVO_CONTEXT=default", "SOUNDS=custom/", "",
        "[xivo-features]",
        "exten => _*735.,1,Set(XIVO_PHONEPROG=${EXTEN:4})",
        "same => n,Gosub(phoneprogfunckey,s,1(${XIVO_USERID},${XIVO_PHONEPROG}))",
        "same => n,Hangup()",
        "exten => *372,1,Gosub(callfilter,s,1)",
        "same => n,Hangup()",
        "",
        "[callfilter]", "exten => s,1,NoOp(call filter)", "same => n,Return()", "",
        "[phoneprogfunckey]", "exten => s,1,NoOp(${ARG1} ${ARG2})", "same => n,Return()", "",
        "[user]", "exten => s,1,Set(XIVO_DSTID=${ARG1})", "same => n,Dial(PJSIP/${ARG1},20)",
        "same => n,Return()", "",
        "[group]", "exten => s,1,Queue(${ARG1},t,,,20)", "same => n,Return()", "",
        "[ivr]",
        "exten => s,1,Answer()",
        " same => n,Set(CHANNEL(language)=fr)",
        " same => n,Set(ESSAIS=0)",
        " same => n(menu),Background(${SOUNDS}menu)",
        " same => n,WaitExten(5)",
        "exten => _[1-5],1,Goto(default,20${EXTEN},1)",
        "exten => i,1,Playback(${SOUNDS}erreur)",
        " same => n,Goto(s,menu)",
        "exten => t,1,Set(ESSAIS=$[${ESSAIS} + 1])",
        " same => n,GotoIf($[${ESSAIS} >= 3]?fin,1)",
        " same => n,Goto(s,menu)",
        "exten => fin,1,Hangup()",
        "",
        "[default]",
        "include => xivo-features",
        "exten => 500,1,Goto(ivr,s,1)",
        "exten => 201,1,Gosub(group,s,1(accueil))",
        "same => n,Hangup()",
        "exten => 202,1,Gosub(group,s,1(support))",
        "same => n,Hangup()",
        "exten => 203,1,Gosub(group,s,1(communication))",
        "same => n,Hangup()",
        "exten => 204,1,Gosub(group,s,1(admin))",
        "same => n,Hangup()",
        "exten => 205,1,Gosub(group,s,1(direction))",
        "same => n,Hangup()",
    ]
    user = 1000
    while len(out) < n_lines:
        user += 1
        name = f"U{user}"
        if rnd.random() < 0.15:
            out.append(f"; user {name} (line {rnd.randint(1, 999)})")
        out.extend([
            f"exten => {user},hint,PJSIP/{name.lower()}",
            f"exten => {user},1,Set(XIVO_BASE_CONTEXT=${{CONTEXT}})",
            "same => n,Set(XIVO_BASE_EXTEN=${EXTEN})",
            f"same => n,Gosub(user,s,1({user},))",
            f"same => n(voicemail),VoiceMail({user}@default,u)",
            "same => n,Hangup()",
        ])
        if rnd.random() < 0.1:
            out.append(f"exten => _{user}XX,1,NoOp(range {user})   ; fallback")
            out.append("same => n,Congestion()")
    return "\n".join(out[:n_lines]) + "\n"


def _find_asterisklint() -> list[str] | None:
    env = os.environ.get("ASTERISKLINT")
    if env:
        return [env]
    venv = REPO / "benchmarks" / ".cache" / "asterisklint-venv" / "bin" / "asterisklint"
    if venv.exists():
        return [str(venv)]
    exe = shutil.which("asterisklint")
    return [exe] if exe else None


def _startup(repeat: int) -> None:
    """Wall clock of a whole `toipkit dialplan lint` run on a two-line dialplan (interpreter
    start-up and imports included), and of importing the dialplan package alone."""
    with tempfile.TemporaryDirectory() as tmp:
        small = Path(tmp) / "extensions.conf"
        small.write_text("[default]\nexten => 100,1,Dial(PJSIP/100)\n", encoding="utf-8")
        runs = {
            "toipkit dialplan lint (CLI)": [sys.executable, "-m", "toipkit.cli", "dialplan",
                                            "lint", str(small)],
            "import toipkit.dialplan.cli + lint": [
                sys.executable, "-c", "import sys; from toipkit.dialplan.cli import _lint; "
                "import argparse; sys.exit(_lint(argparse.Namespace(file=sys.argv[1], "
                "lang='en', json=False, directory=None, entry=None, asterisk=None, apps=None)))",
                str(small)],
            "python -c pass": [sys.executable, "-c", "pass"],
        }
        for label, cmd in runs.items():
            best = best_cpu = float("inf")
            for _ in range(max(repeat, 3)):
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                w0 = time.perf_counter()
                subprocess.run(cmd, capture_output=True, cwd=REPO, check=False)
                best = min(best, time.perf_counter() - w0)
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                best_cpu = min(best_cpu, (after.ru_utime - before.ru_utime)
                               + (after.ru_stime - before.ru_stime))
            print(f"start-up, {label}: {best:.3f} s wall, {best_cpu:.3f} s CPU "
                  f"(best of {max(repeat, 3)})")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)

    print("load average (1, 5, 15 min): " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
    text = generate(args.lines)
    n = text.count("\n")
    best_parse = best_lint = float("inf")
    best_wall = float("inf")
    findings = dp = None
    for _ in range(args.repeat):
        dp = findings = None  # free the previous run outside the timed part
        w0 = time.perf_counter()
        t0 = _cpu()
        dp = parse(text, filename="extensions.conf")
        t1 = _cpu()
        findings = lint(dp)
        t2 = _cpu()
        best_wall = min(best_wall, time.perf_counter() - w0)
        best_parse = min(best_parse, t1 - t0)
        best_lint = min(best_lint, t2 - t1)
    total = best_parse + best_lint
    rate = n / total
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    n_ext = sum(len(c.extensions) for c in dp.contexts.values())
    print(f"dialplan: {n} lines, {len(dp.contexts)} contexts, {n_ext} extensions, "
          f"{len(findings)} findings")
    print(f"toipkit parse: {best_parse:.3f} s, lint: {best_lint:.3f} s, total {total:.3f} s CPU "
          f"(best wall clock {best_wall:.3f} s)")
    print(f"toipkit: {rate:,.0f} lines/s (CPU time, getrusage; target >= {TARGET:,}) "
          f"{'OK' if rate >= TARGET else 'SLOW'}")
    print(f"toipkit peak RSS: {rss:.0f} MB")

    _startup(args.repeat)

    ref = _find_asterisklint()
    if ref is None:
        print("reference: asterisklint not installed (optional; see the module docstring)")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "extensions.conf"
        path.write_text(text, encoding="utf-8")
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        w0 = time.perf_counter()
        proc = subprocess.run(ref + ["dialplan-check", str(path)], cwd=tmp,
                              capture_output=True, text=True)
        ref_wall = time.perf_counter() - w0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    ref_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    crashed = "Traceback" in proc.stderr
    print(f"asterisklint dialplan-check: {ref_cpu:.3f} s CPU (wall {ref_wall:.3f} s, start-up "
          f"included; exit {proc.returncode}, {len(proc.stderr.splitlines())} message lines"
          f"{', CRASHED' if crashed else ''}) -> {n / ref_cpu:,.0f} lines/s")
    print(f"ratio toipkit/asterisklint (CPU time): {total / ref_cpu:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
