"""A real sandbox server (detached process, real HTTP on 127.0.0.1, real SQLite) per session."""

from __future__ import annotations

import httpx
import pytest

from toipkit.xivo import sandbox


class Api:
    """Tiny httpx wrapper for the tests: confd paths relative to /1.1, token attached."""

    def __init__(self, info: sandbox.SandboxInfo, prefix: str = "/1.1") -> None:
        self.info = info
        self.prefix = prefix
        self.http = httpx.Client(base_url=info.url, timeout=30)
        user, password = sandbox.credentials(info.data_dir)
        r = self.http.post("/0.1/token", auth=(user, password),
                           json={"backend": "xivo_service", "expiration": 3600})
        assert r.status_code == 200, r.text
        self.token = r.json()["data"]["token"]
        self.headers = {"X-Auth-Token": self.token, "Accept": "application/json"}

    def request(self, method: str, path: str, **kw) -> httpx.Response:
        headers = {**self.headers, **kw.pop("headers", {})}
        return self.http.request(method, self.prefix + path, headers=headers, **kw)

    def get(self, path: str, **kw) -> httpx.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw) -> httpx.Response:
        return self.request("POST", path, **kw)

    def put(self, path: str, **kw) -> httpx.Response:
        return self.request("PUT", path, **kw)

    def delete(self, path: str, **kw) -> httpx.Response:
        return self.request("DELETE", path, **kw)

    def ok(self, method: str, path: str, status: int, **kw):
        r = self.request(method, path, **kw)
        assert r.status_code == status, f"{method} {path}: {r.status_code} {r.text}"
        return r.json() if r.content and "json" in r.headers.get("content-type", "") else r

    # The creation order that works on XiVO 16.x: user, line, SIP endpoint, extension, then
    # the associations (line-endpoint, user-line, line-extension).
    def user_with_line(self, firstname: str, lastname: str, exten: str,
                       context: str = "default") -> dict:
        line = self.ok("POST", "/lines", 201, json={"context": context})
        sip = self.ok("POST", "/endpoints/sip", 201, json={})
        self.ok("PUT", f"/lines/{line['id']}/endpoints/sip/{sip['id']}", 204)
        ext = self.ok("POST", "/extensions", 201, json={"exten": exten, "context": context})
        self.ok("PUT", f"/lines/{line['id']}/extensions/{ext['id']}", 204)
        user = self.ok("POST", "/users", 201, json={"firstname": firstname, "lastname": lastname})
        self.ok("PUT", f"/users/{user['uuid']}/lines/{line['id']}", 204)
        return {"user": user, "line": line, "sip": sip, "extension": ext}

    def close(self) -> None:
        self.http.close()


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("xivo-sandbox")
    info = sandbox.start(data_dir)
    yield info
    sandbox.stop(data_dir)


@pytest.fixture(scope="session")
def session_api(server):
    api = Api(server)
    yield api
    api.close()


@pytest.fixture
def api(server, session_api):
    """A client on a sandbox freshly reset to the wizard defaults."""
    sandbox.reset(server.data_dir)
    return session_api
