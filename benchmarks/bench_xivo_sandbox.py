#!/usr/bin/env python3
"""Benchmark: the XiVO sandbox under concurrent clients, and a 10,000-row CSV import.

    .venv/bin/python benchmarks/bench_xivo_sandbox.py [--clients 20] [--requests 500]

A fresh sandbox (detached server process, SQLite in a temporary directory) is started; each
client thread logs in, then runs a mix of creates, reads, partial updates, searches, group
membership changes and deletes (the same mix as ``tests/xivo_sandbox/test_sandbox_load.py``).
Printed: wall time, requests per second, latency p50/p95/max as seen by the clients, errors,
and the server's peak RSS (``VmHWM``). Then a 10,000-row users CSV import (lines, SIP accounts,
extensions) and its update (``PUT /users/import``) are timed while another client logs in and
reads in a loop (its worst wait shows whether reads queue behind the import).

Reference: there is no confd to compare with here (a real XiVO is a VM). The figure printed as
"reference" is the handout's workload — three users, three groups, one conference room, one
call filter — which the sandbox must serve in well under a second.
"""

from __future__ import annotations

import argparse
import csv
import io
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402

from toipkit.xivo import sandbox  # noqa: E402


def _peak_rss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _token(info: sandbox.SandboxInfo) -> str:
    user, password = sandbox.credentials(info.data_dir)
    r = httpx.post(info.url + "/0.1/token", auth=(user, password),
                   json={"backend": "xivo_service", "expiration": 3600})
    r.raise_for_status()
    return r.json()["data"]["token"]


def client(info, t: int, n: int, latencies: list[float], errors: list[str]) -> None:
    with httpx.Client(base_url=info.confd_url, timeout=60,
                      headers={"X-Auth-Token": _token(info)}) as http:
        def call(method: str, path: str, status: int, **kw):
            t0 = time.perf_counter()
            r = http.request(method, path, **kw)
            latencies.append(time.perf_counter() - t0)
            if r.status_code != status:
                errors.append(f"{method} {path}: {r.status_code}")
                return None
            return r.json() if r.content else None

        lines = [http.post("/lines_sip", json={"context": "default"}).json()["id"]
                 for _c in range(n // 11)]  # group members need a line (made beforehand)
        for c in range(n // 11):
            u = call("POST", "/users", 201, json={"firstname": f"T{t}", "lastname": f"U{c}"})
            if u is None:
                return
            call("PUT", f"/users/{u['id']}/lines/{lines[c]}", 204)
            call("GET", f"/users/{u['uuid']}", 200)
            call("PUT", f"/users/{u['id']}", 204, json={"userfield": str(c)})
            call("GET", "/users", 200, params={"search": f"T{t}", "limit": 5})
            call("POST", "/extensions", 201, json={"exten": str(10000 + t * 1000 + c),
                                                   "context": "default"})
            g = call("POST", "/groups", 201, json={"name": f"g{t}-{c}"})
            if g is None:
                return
            call("PUT", f"/groups/{g['id']}/members/users", 204,
                 json={"users": [{"uuid": u["uuid"]}]})
            call("GET", f"/groups/{g['id']}", 200)
            if c % 2 == 0:
                call("DELETE", f"/users/{u['id']}/lines/{lines[c]}", 204)
                call("DELETE", f"/users/{u['id']}", 204)
            else:
                call("GET", "/extensions", 200, params={"exten": str(10000 + t * 1000 + c)})
                call("GET", "/users", 200, params={"limit": 1, "offset": 3})


def handout_workload(info) -> float:
    h = {"X-Auth-Token": _token(info)}
    t0 = time.perf_counter()
    with httpx.Client(base_url=info.confd_url, headers=h) as http:
        uuids = []
        for first, last, exten in (("Geralt", "Deriv", "101"), ("Yennefer", "Vengerberg", "102"),
                                   ("Triss", "Merigold", "103")):
            line = http.post("/lines", json={"context": "default"}).json()
            sip = http.post("/endpoints/sip", json={}).json()
            http.put(f"/lines/{line['id']}/endpoints/sip/{sip['id']}")
            ext = http.post("/extensions", json={"exten": exten, "context": "default"}).json()
            http.put(f"/lines/{line['id']}/extensions/{ext['id']}")
            user = http.post("/users", json={"firstname": first, "lastname": last}).json()
            http.put(f"/users/{user['id']}/lines/{line['id']}")
            uuids.append(user["uuid"])
        for name, exten in (("accueil", "201"), ("support", "202"), ("communication", "203")):
            g = http.post("/groups", json={"name": name}).json()
            ext = http.post("/extensions", json={"exten": exten, "context": "default"}).json()
            http.put(f"/groups/{g['id']}/extensions/{ext['id']}")
            http.put(f"/groups/{g['id']}/members/users",
                     json={"users": [{"uuid": u} for u in uuids[:2]]})
        conf = http.post("/conferences", json={"name": "Afterlife"}).json()
        ext = http.post("/extensions", json={"exten": "301", "context": "default"}).json()
        http.put(f"/conferences/{conf['id']}/extensions/{ext['id']}")
        cf = http.post("/callfilters", json={"name": "direction", "source": "all",
                                             "strategy": "all"}).json()
        http.put(f"/callfilters/{cf['id']}/recipients/users", json={"users": [{"uuid": uuids[0]}]})
        http.put(f"/callfilters/{cf['id']}/surrogates/users", json={"users": [{"uuid": uuids[1]}]})
    return time.perf_counter() - t0


def csv_import(info, rows: int) -> tuple[float, float, float, list[float]]:
    """POST then PUT /users/import of ``rows`` rows, with a client logging in and reading
    ``/users?limit=1`` in a loop meanwhile. Returns (post s, put s, worst login+read s,
    all login+read latencies)."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["firstname", "lastname", "exten", "context", "line_protocol"])
    for i in range(rows):
        w.writerow([f"P{i}", f"N{i}", str(10000 + i), "default", "sip"])
    token = _token(info)
    headers = {"X-Auth-Token": token, "Content-Type": "text/csv"}
    busy = threading.Event()
    side: list[float] = []

    def reader() -> None:
        user, password = sandbox.credentials(info.data_dir)
        with httpx.Client(base_url=info.url, timeout=300) as http:
            while busy.is_set():
                t0 = time.perf_counter()
                r = http.post("/0.1/token", auth=(user, password),
                              json={"backend": "xivo_service", "expiration": 60})
                http.get("/1.1/users", params={"limit": 1},
                         headers={"X-Auth-Token": r.json()["data"]["token"]})
                side.append(time.perf_counter() - t0)
                time.sleep(0.05)

    busy.set()
    th = threading.Thread(target=reader)
    th.start()
    try:
        t0 = time.perf_counter()
        r = httpx.post(info.confd_url + "/users/import", content=out.getvalue().encode(),
                       headers=headers, timeout=600)
        post_time = time.perf_counter() - t0
        assert r.status_code == 201, r.text[:300]
        created = r.json()["created"]
        upd = io.StringIO()
        w = csv.writer(upd)
        w.writerow(["uuid", "firstname", "userfield"])
        for row in created:
            w.writerow([row["user_uuid"], "Q", "updated"])
        t0 = time.perf_counter()
        r = httpx.put(info.confd_url + "/users/import", content=upd.getvalue().encode(),
                      headers=headers, timeout=600)
        put_time = time.perf_counter() - t0
        assert r.status_code == 201, r.text[:300]
    finally:
        busy.clear()
        th.join()
    return post_time, put_time, max(side, default=0.0), side


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--requests", type=int, default=550, help="per client")
    ap.add_argument("--csv-rows", type=int, default=10000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ddir = Path(tmp) / "sandbox"
        info = sandbox.start(ddir)
        try:
            ref = handout_workload(info)
            sandbox.reset(ddir, wizard={"user_range": ("10000", "39999")})
            latencies: list[float] = []
            errors: list[str] = []
            threads = [threading.Thread(target=client,
                                        args=(info, t, args.requests, latencies, errors))
                       for t in range(args.clients)]
            t0 = time.perf_counter()
            for th in threads:
                th.start()
            for th in threads:
                th.join()
            wall = time.perf_counter() - t0
            sandbox.reset(ddir, wizard={"user_range": ("10000", "39999")})
            post_time, put_time, worst, side = csv_import(info, args.csv_rows)
            rss = _peak_rss_kib(info.pid)
        finally:
            sandbox.stop(ddir)
    lat = sorted(latencies)
    print(f"reference (handout workload, 40 requests): {ref * 1000:.0f} ms")
    print(f"load: {args.clients} clients x {args.requests} requests = {len(lat)} requests "
          f"in {wall:.2f} s -> {len(lat) / wall:.0f} req/s, errors: {len(errors)}")
    print(f"latency p50 {statistics.median(lat) * 1000:.1f} ms, "
          f"p95 {lat[int(0.95 * (len(lat) - 1))] * 1000:.1f} ms, max {lat[-1] * 1000:.1f} ms")
    print(f"CSV import of {args.csv_rows} rows (user+line+SIP+extension each): "
          f"POST {post_time:.2f} s, PUT (update) {put_time:.2f} s")
    side.sort()
    print(f"login + GET /users during the imports: {len(side)} rounds, "
          f"p50 {statistics.median(side) * 1000:.0f} ms, max {worst * 1000:.0f} ms"
          if side else "login + GET /users during the imports: none completed")
    print(f"server peak RSS: {rss / 1024:.1f} MiB" if rss else "server peak RSS: n/a")
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
