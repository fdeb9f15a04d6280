"""Concurrency: 20 clients × 550 mixed requests on one sandbox → no error, exact final counts."""

from __future__ import annotations

import threading

import httpx

from toipkit.xivo import sandbox

CLIENTS = 20
REQUESTS = 550  # per client
CYCLE = 11      # requests per cycle below


def _client_run(info: sandbox.SandboxInfo, t: int, errors: list[str], done: list[int]) -> None:
    user, password = sandbox.credentials(info.data_dir)
    count = 0
    with httpx.Client(base_url=info.url + "/1.1", timeout=60) as http:
        r = httpx.post(info.url + "/0.1/token", auth=(user, password),
                       json={"backend": "xivo_service", "expiration": 600})
        if r.status_code != 200:
            errors.append(f"client {t}: token {r.status_code}")
            return
        http.headers["X-Auth-Token"] = r.json()["data"]["token"]

        def call(method: str, path: str, status: int, **kw) -> dict | None:
            nonlocal count
            count += 1
            resp = http.request(method, path, **kw)
            if resp.status_code != status:
                errors.append(f"client {t}: {method} {path} -> {resp.status_code} {resp.text}")
                return None
            return resp.json() if resp.content else None

        # One SIP line per cycle, made beforehand (group members need a line).
        lines = []
        for _c in range(REQUESTS // CYCLE):
            lines.append(http.post("/lines_sip", json={"context": "default"}).json()["id"])
        for c in range(REQUESTS // CYCLE):
            u = call("POST", "/users", 201, json={"firstname": f"T{t}", "lastname": f"U{c:03d}"})
            if u is None:
                return
            call("PUT", f"/users/{u['id']}/lines/{lines[c]}", 204)
            got = call("GET", f"/users/{u['uuid']}", 200)
            if got and got["id"] != u["id"]:
                errors.append(f"client {t}: wrong user {got['id']} != {u['id']}")
            call("PUT", f"/users/{u['id']}", 204, json={"userfield": f"cycle-{c}"})
            page = call("GET", "/users", 200, params={"search": f"T{t}", "limit": 5})
            if page is not None and page["total"] < 1:
                errors.append(f"client {t}: search found nothing")
            exten = str(10000 + t * 1000 + c)
            call("POST", "/extensions", 201, json={"exten": exten, "context": "default"})
            g = call("POST", "/groups", 201, json={"name": f"g{t}-{c}"})
            if g is None:
                return
            call("PUT", f"/groups/{g['id']}/members/users", 204, json={"users": [
                {"uuid": u["uuid"]}]})
            grp = call("GET", f"/groups/{g['id']}", 200)
            if grp and [m["uuid"] for m in grp["members"]["users"]] != [u["uuid"]]:
                errors.append(f"client {t}: group members {grp['members']}")
            if c % 2 == 0:
                call("DELETE", f"/users/{u['id']}/lines/{lines[c]}", 204)
                call("DELETE", f"/users/{u['id']}", 204)
            else:
                call("GET", "/extensions", 200, params={"exten": exten})
                call("GET", "/users", 200, params={"limit": 1, "offset": 3})
    done.append(count)


def test_twenty_concurrent_clients(server, session_api):
    sandbox.reset(server.data_dir, wizard={"user_range": ("10000", "39999")})
    errors: list[str] = []
    done: list[int] = []
    threads = [threading.Thread(target=_client_run, args=(server, t, errors, done))
               for t in range(CLIENTS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=300)
    assert not errors, errors[:5]
    assert sorted(done) == [REQUESTS] * CLIENTS
    def api(path: str) -> dict:
        return session_api.ok("GET", path, 200)

    cycles = REQUESTS // CYCLE
    assert api("/users")["total"] == CLIENTS * cycles // 2
    assert api("/extensions")["total"] == CLIENTS * cycles
    groups = api("/groups")
    assert groups["total"] == CLIENTS * cycles
    members = sum(len(g["members"]["users"]) for g in groups["items"])
    assert members == CLIENTS * cycles // 2  # deleted users left their groups
    # every user survived with its last update
    users = api("/users")["items"]
    assert all(u["userfield"] == f"cycle-{int(u['lastname'][1:])}" for u in users)
    log = sandbox.request_log(server.data_dir)
    assert len(log) > 0 and all(e["status"] < 500 for e in log)
