"""Process lifecycle (start/reuse/stop/restart), persistence, credentials, token expiry, the
request log and reset."""

from __future__ import annotations

import os
import stat
import threading
import time

import httpx
import pytest

from toipkit.xivo import sandbox


def _token(info, expiration: int = 600) -> str:
    user, password = sandbox.credentials(info.data_dir)
    r = httpx.post(info.url + "/0.1/token", auth=(user, password),
                   json={"backend": "xivo_service", "expiration": expiration})
    assert r.status_code == 200, r.text
    return r.json()["data"]["token"]


@pytest.fixture
def own_dir(tmp_path):
    yield tmp_path / "sb"
    sandbox.stop(tmp_path / "sb")


def test_stop_start_keeps_data(own_dir):
    assert sandbox.status(own_dir) is None
    info = sandbox.start(own_dir)
    assert info.url == f"http://127.0.0.1:{info.port}" and info.data_dir == own_dir.resolve()
    assert sandbox.status(own_dir) == info
    assert sandbox.start(own_dir) == info  # reused, not a second server
    token = _token(info)
    h = {"X-Auth-Token": token}
    made = []
    with httpx.Client(base_url=info.confd_url, headers=h) as http:
        for name in ("accueil", "support", "communication"):
            r = http.post("/groups", json={"name": name})
            assert r.status_code == 201
            made.append(r.json())
        user = http.post("/users", json={"firstname": "Triss", "lastname": "Merigold"}).json()
    assert sandbox.stop(own_dir) is True
    assert sandbox.status(own_dir) is None
    assert sandbox.stop(own_dir) is False
    with pytest.raises(httpx.TransportError):
        httpx.get(info.url + "/0.1/sandbox/status", timeout=2)

    again = sandbox.start(own_dir)
    assert again.pid != info.pid
    # tokens live in SQLite too: the client's token still works after a restart
    with httpx.Client(base_url=again.confd_url, headers=h) as http:
        groups = http.get("/groups").json()
        assert [g["name"] for g in groups["items"]] == ["accueil", "communication", "support"]
        assert groups["items"] == sorted(
            (http.get(f"/groups/{g['id']}").json() for g in made), key=lambda g: g["name"])
        assert http.get(f"/users/{user['uuid']}").json()["lastname"] == "Merigold"


def test_concurrent_starts_share_one_server(own_dir):
    results: list[sandbox.SandboxInfo] = []
    threads = [threading.Thread(target=lambda: results.append(sandbox.start(own_dir)))
               for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(results) == 4 and len({r.pid for r in results}) == 1


def test_credentials_file_and_env(own_dir, monkeypatch):
    monkeypatch.delenv(sandbox.PASSWORD_ENV, raising=False)
    user, password = sandbox.credentials(own_dir)
    assert user == "toipkit" and len(password) >= 16
    path = own_dir / "credentials.json"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert sandbox.credentials(own_dir) == (user, password)  # generated once
    shown = repr(sandbox.credentials(own_dir)) + str(sandbox.credentials(own_dir))
    assert password not in shown and "***" in shown
    from IPython.lib.pretty import pretty

    assert password not in pretty(sandbox.credentials(own_dir))
    monkeypatch.setenv(sandbox.PASSWORD_ENV, "from-the-environment")
    assert sandbox.credentials(own_dir) == ("toipkit", "from-the-environment")
    info = sandbox.start(own_dir)  # the server inherits the environment
    assert stat.S_IMODE(os.stat(own_dir / "sandbox.sqlite3").st_mode) == 0o600
    r = httpx.post(info.url + "/0.1/token", auth=("toipkit", "from-the-environment"),
                   json={"backend": "xivo_service"})
    assert r.status_code == 200
    assert r.json()["data"]["expires_at"] > r.json()["data"]["issued_at"]
    r = httpx.post(info.url + "/0.1/token", auth=("toipkit", password),
                   json={"backend": "xivo_service"})
    assert r.status_code == 401


def test_token_expiry(server):
    issued = time.time()
    token = _token(server, expiration=3)
    h = {"X-Auth-Token": token}
    assert httpx.get(server.confd_url + "/infos", headers=h).status_code == 200
    data = httpx.get(f"{server.url}/0.1/token/{token}").json()["data"]
    assert data["utc_expires_at"] > data["utc_issued_at"]
    time.sleep(max(0.0, issued + 3.3 - time.time()))
    r = httpx.get(server.confd_url + "/infos", headers=h)
    assert r.status_code == 401
    assert httpx.head(f"{server.url}/0.1/token/{token}").status_code == 404


def test_request_log_has_calls_but_no_secrets(api):
    since = max([e["seq"] for e in sandbox.request_log(api.info.data_dir)] or [0])
    user, password = sandbox.credentials(api.info.data_dir)
    r = httpx.post(api.info.url + "/0.1/token", auth=(user, password),
                   json={"backend": "xivo_service"})
    token = r.json()["data"]["token"]
    httpx.head(f"{api.info.url}/0.1/token/{token}")
    api.ok("POST", "/endpoints/sip", 201, json={"username": "geralt", "secret": "TopSecret1"})
    api.get("/users", params={"search": "x", "password": "hunter22"})
    log = sandbox.request_log(api.info.data_dir, since=since)
    entries = [(e["method"], e["path"], e["status"]) for e in log]
    assert ("POST", "/0.1/token", 200) in entries
    assert ("HEAD", "/0.1/token/***", 204) in entries
    assert ("POST", "/1.1/endpoints/sip", 201) in entries
    assert ("GET", "/1.1/users?search=x&password=***", 200) in entries
    text = str(log.items)
    for secret in (token, password, "TopSecret1", "hunter22", api.token):
        assert secret not in text
    assert all(e["duration_ms"] >= 0 for e in log)
    assert sandbox.request_log(api.info.data_dir, since=log.last_seq).items == []
    frame = log.to_frame()
    assert list(frame.columns) == ["seq", "time", "method", "path", "status", "duration_ms"]


def test_reset_back_to_wizard_defaults(api):
    api.user_with_line("Geralt", "Deriv", "101")
    api.ok("POST", "/groups", 201, json={"name": "accueil"})
    sandbox.reset(api.info.data_dir)
    assert api.ok("GET", "/users", 200)["total"] == 0
    assert api.ok("GET", "/groups", 200)["total"] == 0
    assert api.ok("GET", "/extensions", 200)["total"] == 0
    assert [c["name"] for c in api.ok("GET", "/contexts", 200)["items"]] == [
        "default", "from-extern", "to-extern"]
    assert sandbox.directory(api.info.data_dir) == {}
    # reset over HTTP (token required), with other ranges
    r = api.http.post("/0.1/sandbox/reset", json={"user_range": ["1000", "1999"]})
    assert r.status_code == 401
    r = api.http.post("/0.1/sandbox/reset", json={"user_range": ["1000", "1999"]},
                      headers={"X-Auth-Token": api.token})
    assert r.status_code == 204
    ctx = api.ok("GET", "/contexts", 200, params={"name": "default"})["items"][0]
    assert ctx["user_ranges"] == [{"start": "1000", "end": "1999"}]
    with pytest.raises(ValueError):
        sandbox.reset(api.info.data_dir, wizard={"no_such_setting": 1})


def test_foreground_serve_module(tmp_path):
    """``python -m toipkit.xivo.sandbox`` is what start() runs; check it answers and exits."""
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "toipkit.xivo.sandbox", "--data-dir",
                             str(tmp_path), "--port", "0"], stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        while line and "listening on" not in line:  # e.g. the SIP registrar's line first
            line = proc.stdout.readline()
        assert "listening on http://127.0.0.1:" in line
        url = line.split("listening on ")[1].split()[0]
        assert httpx.get(url + "/0.1/sandbox/status").json()["pid"] == proc.pid
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0
    assert not (tmp_path / "server.json").exists()


def test_cli_handlers(api, capsys):
    import argparse

    from toipkit.xivo.sandbox import cli_handlers

    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    cli_handlers.add_directory(sub)
    cli_handlers.add_log(sub)
    reset = sub.add_parser("reset")
    reset.add_argument("--data-dir")
    cli_handlers.add_reset_options(reset)
    reset.set_defaults(handler=cli_handlers.reset_handler)
    ddir = str(api.info.data_dir)

    args = parser.parse_args(["reset", "--data-dir", ddir, "--user-range", "100-200"])
    assert args.handler(args) == 0
    ctx = api.ok("GET", "/contexts", 200, params={"name": "default"})["items"][0]
    assert ctx["user_ranges"] == [{"start": "100", "end": "200"}]
    api.user_with_line("Geralt", "Deriv", "200")
    capsys.readouterr()
    args = parser.parse_args(["directory", "--data-dir", ddir])
    assert args.handler(args) == 0
    assert capsys.readouterr().out.strip() == "200  user Geralt Deriv"
    args = parser.parse_args(["log", "--data-dir", ddir, "--limit", "3"])
    assert args.handler(args) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 3
    with pytest.raises(sandbox.SandboxError):
        cli_handlers.wizard_from_args(parser.parse_args(["reset", "--user-range", "99-100"]))


def test_killed_server_keeps_committed_data(own_dir):
    """SIGKILL (a crashed kernel host, an OOM kill): every answered write is still there."""
    import signal

    info = sandbox.start(own_dir)
    h = {"X-Auth-Token": _token(info)}
    with httpx.Client(base_url=info.confd_url, headers=h) as http:
        for i in range(20):
            assert http.post("/users", json={"firstname": f"K{i}"}).status_code == 201
    os.kill(info.pid, signal.SIGKILL)
    deadline = time.time() + 10
    while sandbox.status(own_dir) is not None and time.time() < deadline:
        time.sleep(0.05)
    assert sandbox.status(own_dir) is None
    again = sandbox.start(own_dir)  # stale server.json is replaced
    assert again.pid != info.pid
    with httpx.Client(base_url=again.confd_url, headers=h) as http:
        assert http.get("/users").json()["total"] == 20


def test_seeded_reset_gives_reproducible_generated_values(api):
    """reset(wizard={"seed": ...}): same UUIDs, SIP accounts and provisioning codes each time
    (what makes lab notebooks' outputs stable under nbval)."""
    runs = []
    for _ in range(2):
        sandbox.reset(api.info.data_dir, wizard={"seed": "lab-02"})
        made = api.user_with_line("Geralt", "Deriv", "101")
        line = api.ok("GET", f"/lines/{made['line']['id']}", 200)
        runs.append((made["user"]["uuid"], made["sip"]["username"], made["sip"]["secret"],
                     line["provisioning_code"],
                     api.ok("GET", "/infos", 200)["uuid"]))
    assert runs[0] == runs[1]
    sandbox.reset(api.info.data_dir)  # no seed: random again
    made = api.user_with_line("Geralt", "Deriv", "101")
    assert made["user"]["uuid"] != runs[0][0] and made["sip"]["secret"] != runs[0][2]


@pytest.mark.skipif(__import__("shutil").which("openssl") is None, reason="openssl missing")
def test_https_sandbox_with_self_signed_certificate(own_dir):
    """tls=True: HTTPS like XiVO, with a self-signed certificate clients must pin."""
    import ssl

    info = sandbox.start(own_dir, tls=True)
    assert info.url.startswith("https://127.0.0.1:") and info.ca_file.exists()
    with pytest.raises(httpx.ConnectError):  # default verification refuses it
        httpx.get(info.url + "/1.1/api/api.json")
    ctx = ssl.create_default_context(cafile=str(info.ca_file))
    user, password = sandbox.credentials(own_dir)
    with httpx.Client(base_url=info.url, verify=ctx) as http:
        token = http.post("/0.1/token", auth=(user, password),
                          json={"backend": "xivo_service"}).json()["data"]["token"]
        r = http.post("/1.1/users", json={"firstname": "Geralt"},
                      headers={"X-Auth-Token": token})
        assert r.status_code == 201
        assert r.headers["Location"].startswith("https://127.0.0.1:")
    assert sandbox.status(own_dir) == info
    assert [e["status"] for e in sandbox.request_log(own_dir)] == [200, 201]
    assert sandbox.stop(own_dir) is True
