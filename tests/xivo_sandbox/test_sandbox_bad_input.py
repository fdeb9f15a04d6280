"""Hostile or broken input: always a 4xx (never a 500 or a hang), and the server keeps serving."""

from __future__ import annotations

import socket
import threading

import httpx
import pytest

from toipkit.xivo.sandbox import server as srv


def _raw(info, request: bytes, timeout: float = 5) -> bytes:
    """Send raw bytes on a fresh connection, return what the server answers before closing."""
    with socket.create_connection(("127.0.0.1", info.port), timeout=timeout) as sock:
        sock.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        return data


def _status(raw: bytes) -> int:
    return int(raw.split(b" ", 2)[1])


@pytest.mark.parametrize("method, path, params, status", [
    ("GET", "/users/²", None, 404),               # Unicode digits are not ids
    ("GET", "/lines/١٢", None, 404),
    ("GET", "/extensions/99999999999999999999", None, 404),  # beyond 64-bit ids
    ("PUT", "/users/1/lines/9223372036854775808", None, 404),
    ("GET", "/users", {"limit": "²"}, 400),
    ("GET", "/users", {"offset": "-1"}, 400),
    ("GET", "/users/1/funckeys/²", None, 404),
])
def test_odd_ids_and_paging(api, method, path, params, status):
    r = api.request(method, path, params=params)
    assert r.status_code == status, r.text


def test_big_integers_in_bodies(api):
    line = api.ok("POST", "/lines", 201, json={"context": "default"})
    r = api.post(f"/lines/{line['id']}/extensions", json={"extension_id": 2 ** 70})
    assert r.status_code == 400
    r = api.post("/users/1/lines", json={"line_id": 2 ** 64})
    assert r.status_code == 404  # user 1 does not exist yet: checked first


def test_token_expiration_out_of_range(server):
    from toipkit.xivo import sandbox

    user, password = sandbox.credentials(server.data_dir)
    for expiration in (10 ** 12, 2 ** 63, -5):
        r = httpx.post(server.url + "/0.1/token", auth=(user, password),
                       json={"backend": "xivo_service", "expiration": expiration})
        assert r.status_code == 400, r.text


def test_deeply_nested_json(api):
    for body in (b"[" * 100_000, b'{"a":' * 50_000 + b"1" + b"}" * 50_000):
        r = api.post("/users", content=body, headers={"Content-Type": "application/json"})
        assert r.status_code == 400, r.text[:200]
    r = api.http.post("/0.1/token", content=b"[" * 100_000, auth=("toipkit", "x"))
    assert r.status_code in (400, 401)


def test_lone_surrogate_refused_and_export_still_works(api):
    r = api.post("/users", content=b'{"firstname": "\\ud800x"}',
                 headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    api.ok("POST", "/users", 201, json={"firstname": "Zoë"})
    r = api.get("/users/export", headers={"Accept": "text/csv"})
    assert r.status_code == 200 and "Zoë" in r.text


@pytest.mark.parametrize("body", [b"[1]", b"{", b'"x"', b'{"user_range": 5}',
                                  b'{"no_such_key": 1}'])
def test_bad_reset_bodies(api, body):
    r = api.http.post("/0.1/sandbox/reset", content=body,
                      headers={**api.headers, "Content-Type": "application/json"})
    assert r.status_code == 400, r.text


def test_large_fields(api):
    big = "x" * 200_000
    for path, body in (("/users", {"firstname": big}), ("/users", {"firstname": "a",
                                                                   "description": big}),
                       ("/groups", {"name": big}), ("/extensions", {"exten": big,
                                                                    "context": "default"})):
        r = api.post(path, json=body)
        assert r.status_code < 500, (path, r.text[:200])


def test_sandbox_extras_need_a_token(api):
    assert api.http.get("/0.1/sandbox/directory").status_code == 401
    assert api.http.post("/0.1/sandbox/reset").status_code == 401


def test_bad_framing(api, server):
    # a negative Content-Length is refused at once, instead of waiting for the client to close
    raw = _raw(server, b"POST /1.1/users HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n")
    assert _status(raw) == 400
    # a chunked body announcing more than the limit is refused before it is read
    raw = _raw(server, b"POST /1.1/users HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                       b"X-Auth-Token: " + api.token.encode() + b"\r\n\r\nFFFFFFFF\r\n")
    assert _status(raw) == 413
    raw = _raw(server, b"POST /1.1/users HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                       b"\r\nzz\r\n")
    assert _status(raw) == 400
    # and the server still answers
    assert api.get("/users").status_code == 200


def test_idle_connections_are_closed(tmp_path, monkeypatch):
    """A silent connection is dropped after the idle timeout (here shortened), so half-open
    sockets cannot pile up threads."""
    monkeypatch.setattr(srv._Handler, "timeout", 0.5)
    server, _app = srv.make_server(tmp_path, 0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(b"GET /0.1/sandbox/status HTTP/1.1\r\nHost: x\r\n")  # never finished
            # closed by the server with no answer (a hang would hit the 5 s socket timeout)
            assert sock.recv(1024) == b""
        r = httpx.get(f"http://127.0.0.1:{port}/0.1/sandbox/status", timeout=5)
        assert r.status_code == 200
    finally:
        server.shutdown()
        server.server_close()
        _app.store.close()
        _app.auth_store.close()
