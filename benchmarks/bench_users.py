"""Memory of active users side by side on one host: each user's sandbox server (with its
kamailio registrar and media services) and three registered baresip phones, during a call.

    python benchmarks/bench_users.py            # --users 3

Prints PSS (proportional: shared pages divided among the processes that map them, so sums
are honest) and RSS per user, from /proc/PID/smaps_rollup, and the per-process breakdown of
the first user.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return "?"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=3)
    args = parser.parse_args()

    from toipkit.phone import Phone
    from toipkit.procfs import descendants, memory_kb
    from toipkit.xivo import connect, lab, sandbox

    base = Path(tempfile.mkdtemp(prefix="toipkit-bench-users-"))
    users, clients, phones = [], [], []
    try:
        for i in range(args.users):
            data_dir = base / f"user{i}" / "sandbox"
            info = sandbox.start(data_dir)
            client = connect(None, data_dir=data_dir)
            clients.append(client)
            mine = []
            for first, last, exten in (("Geralt", "Riv", 101), ("Yennefer", "Vengerberg", 102),
                                       ("Triss", "Merigold", 103)):
                lab.create_user_with_line(client, first, last, exten)
                mine.append(Phone.for_line(client, str(exten), auto_answer=True))
            phones.append(mine)
            users.append(info)
        # Every user in a call at the same time (101 → 102), measured mid-call.
        threads = [threading.Thread(target=mine[0].call, args=("102",),
                                    kwargs={"duration": 4}) for mine in phones]
        for t in threads:
            t.start()
        time.sleep(2.5)
        rows = []
        for info, mine in zip(users, phones):
            pids = descendants(info.pid) + [p for ph in mine
                                             for p in descendants(ph.agent.process.pid)]
            per = [(pid, _name(pid), *memory_kb(pid)) for pid in pids]
            rows.append(per)
        for t in threads:
            t.join()
        print(f"{args.users} users side by side, each: sandbox server + kamailio + media "
              "services + 3 phones, measured during a call")
        totals = []
        for i, per in enumerate(rows):
            pss = sum(r[2] for r in per) / 1024
            rss = sum(r[3] for r in per) / 1024
            totals.append((pss, rss))
            print(f"  user {i}: {len(per)} processes, PSS {pss:.1f} MB, RSS {rss:.1f} MB")
        mean_pss = sum(t[0] for t in totals) / len(totals)
        mean_rss = sum(t[1] for t in totals) / len(totals)
        print(f"mean per user: PSS {mean_pss:.1f} MB, RSS {mean_rss:.1f} MB")
        by_name: dict[str, list[float]] = {}
        for _pid, name, pss_kb, rss_kb in rows[0]:
            acc = by_name.setdefault(name, [0, 0.0, 0.0])
            acc[0] += 1
            acc[1] += pss_kb / 1024
            acc[2] += rss_kb / 1024
        print("user 0 by process name: " + ", ".join(
            f"{n} ×{int(c)} PSS {p:.1f} / RSS {r:.1f} MB" for n, (c, p, r) in by_name.items()))
    finally:
        for mine in phones:
            for ph in mine:
                ph.close()
        for client in clients:
            client.close()
        for info in users:
            sandbox.stop(info.data_dir)
        import shutil

        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
