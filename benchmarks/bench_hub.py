"""A class on one JupyterHub: N users each running labs 00–05b in order (state carried from
lab 02 to labs 04/05, as for a student), all users at the same time, through kernels started
via the Hub's API; every notebook scored by the official rules.

    python benchmarks/bench_hub.py                   # --users 10 --labs 00 01 02 03 04 05a 05b

Prints the wall time of the whole class, per lab the slowest user's time and the score, and
the memory per user (PSS and RSS of the single-user server and everything it started, at the
end of each lab while its kernel still runs: the peak over the labs).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "scale"))

LABS = ["00", "01", "02", "03", "04", "05a", "05b"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--labs", nargs="+", default=LABS)
    args = parser.parse_args(argv)
    from hub import Hub, hub_available, prepared_lab, score, user_memory_mb

    reason = hub_available()
    if reason:
        sys.exit(reason)
    users = [f"etu{n:02d}" for n in range(args.users)]
    times: dict[str, list[float]] = {lab: [] for lab in args.labs}
    scores: dict[str, list[float]] = {lab: [] for lab in args.labs}
    failures: list[str] = []
    peak: dict[str, tuple[float, float, int]] = {}

    with tempfile.TemporaryDirectory(prefix="bench-hub-") as tmp, Hub(Path(tmp)) as hub:
        async def student(user: str) -> None:
            for lab_id in args.labs:
                # off the event loop: a blocked loop stops answering the kernels' websocket pings
                nb, lab = await asyncio.to_thread(prepared_lab, lab_id, user)

                def measure(user: str = user) -> None:
                    now = user_memory_mb(hub.homes / user)
                    if now[0] > peak.get(user, (0.0, 0.0, 0))[0]:
                        peak[user] = now

                started = time.perf_counter()
                try:
                    executed = await hub.run_notebook(user, nb, before_shutdown=measure)
                except Exception as exc:  # noqa: BLE001 - reported, the others go on
                    failures.append(f"{user} lab {lab_id}: {type(exc).__name__}: {exc}")
                    continue
                times[lab_id].append(time.perf_counter() - started)
                percent, missed, errors = await asyncio.to_thread(score, executed, lab)
                scores[lab_id].append(percent)
                if missed or errors:
                    failures.append(f"{user} lab {lab_id}: {percent:.0f} %, missed {missed}, "
                                    f"errors {errors}")

        async def everyone() -> float:
            started = time.perf_counter()
            await hub.start_servers(users)
            print(f"{len(users)} single-user servers ready in "
                  f"{time.perf_counter() - started:.1f} s", flush=True)
            started = time.perf_counter()
            try:
                await asyncio.gather(*(student(u) for u in users))
            finally:
                await hub.stop_servers(users)
            return time.perf_counter() - started

        wall = asyncio.run(everyone())
        retries = list(hub.retries)
        if failures:  # the Hub's log holds the single-user servers' output too
            kept = Path(tempfile.mkstemp(prefix="bench-hub-", suffix=".log")[1])
            shutil.copyfile(Path(tmp) / "hub.log", kept)
            failures.append(f"the Hub's log: {kept}")
    print(f"{len(users)} users × labs {' '.join(args.labs)}: {wall:.1f} s for the class")
    for lab_id in args.labs:
        if times[lab_id]:
            print(f"  lab {lab_id}: slowest user {max(times[lab_id]):.1f} s, mean "
                  f"{sum(times[lab_id]) / len(times[lab_id]):.1f} s, scores "
                  f"{min(scores[lab_id]):.0f}–{max(scores[lab_id]):.0f} %")
    if peak:
        pss = [p[0] for p in peak.values()]
        rss = [p[1] for p in peak.values()]
        print(f"memory per user (peak over the labs): PSS mean {sum(pss) / len(pss):.0f} MB, "
              f"max {max(pss):.0f} MB; RSS mean {sum(rss) / len(rss):.0f} MB, "
              f"max {max(rss):.0f} MB")
    for retry in retries:
        print("kernel lost, notebook run again:", retry)
    for failure in failures:
        print("FAILED", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
