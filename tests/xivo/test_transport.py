"""Transport-level behaviour of the client (token renewal, retries, secrets) with httpx.MockTransport.

These are the only tests with a fake transport; everything else runs against the sandbox
over real HTTP.
"""

from __future__ import annotations

import base64
import json

import httpx
import pytest

from toipkit.errors import XivoAPIError
from toipkit.xivo.client import XivoClient, XivoConnectionError, _bases

PASSWORD = "Sup3r-s3cret-pw"


class FakeServer:
    def __init__(self, lifetime=3600, fail_connects=0):
        self.lifetime = lifetime
        self.fail_connects = fail_connects
        self.tokens: list[str] = []
        self.valid: set[str] = set()
        self.calls: list[tuple[str, str]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls.append((request.method, request.url.path))
        if request.url.path == "/0.1/token":
            auth = request.headers.get("Authorization", "")
            user, _, pw = base64.b64decode(auth.split()[1]).decode().partition(":")
            if pw != PASSWORD:
                return httpx.Response(401, json={"reason": ["Authentication Failed"],
                                                 "timestamp": [1.0], "status_code": 401})
            body = json.loads(request.content)
            assert body["backend"] == "xivo_service"
            token = f"tok-{len(self.tokens) + 1}"
            self.tokens.append(token)
            self.valid.add(token)
            return httpx.Response(200, json={"data": {
                "token": token, "auth_id": "x", "xivo_user_uuid": None,
                "issued_at": "2026-11-27T10:00:00", "acls": ["confd.#"],
                "expires_at": f"2026-11-27T10:{self.lifetime // 60:02d}:{self.lifetime % 60:02d}"
                if self.lifetime < 3600 else "2026-11-27T11:00:00"}})
        if self.fail_connects:
            self.fail_connects -= 1
            raise httpx.ConnectError("connection refused", request=request)
        if request.headers.get("X-Auth-Token") not in self.valid:
            return httpx.Response(401, text="Unauthorized Access")
        if request.url.path == "/1.1/users" and request.method == "GET":
            return httpx.Response(200, json={"total": 1, "items": [
                {"id": 1, "firstname": "Geralt", "password": "cti-pass"}]})
        if request.url.path == "/1.1/users/99":
            return httpx.Response(404, json=["Resource Not Found - User was not found ('id': 99)"])
        return httpx.Response(201, json={"id": 2})


def make(server, **kw) -> XivoClient:
    return XivoClient("http://127.0.0.1:8999", "toipkit", kw.pop("password", PASSWORD),
                      transport=httpx.MockTransport(server), retries=2, **kw)


def test_token_sent_and_reused():
    server = FakeServer()
    client = make(server)
    assert client.users.list().total == 1
    assert client.users.list().total == 1
    assert len(server.tokens) == 1
    assert [c for c in server.calls if c[1] == "/0.1/token"] == [("POST", "/0.1/token")]


def test_token_renewed_before_expiry():
    server = FakeServer(lifetime=2)  # margin = half the lifetime: renewed after 1 s
    client = make(server)
    client.users.list()
    client._token_deadline = 0  # as if the renewal time had come
    client.users.list()
    assert len(server.tokens) == 2


def test_401_renews_token_once():
    server = FakeServer()
    client = make(server)
    client.users.list()
    server.valid.clear()  # server-side expiry / revocation
    assert client.users.list().total == 1
    assert len(server.tokens) == 2


def test_bad_password_is_a_clear_error_without_the_password():
    server = FakeServer()
    client = make(server, password="wrong-password")
    with pytest.raises(XivoAPIError) as info:
        client.users.list()
    assert info.value.status == 401
    assert "wrong-password" not in str(info.value)
    assert "Web Services Access" in str(info.value)


def test_get_retried_on_connection_error():
    server = FakeServer(fail_connects=2)
    client = make(server)
    assert client.users.list().total == 1


def test_post_not_retried_on_connection_error():
    server = FakeServer()
    client = make(server)
    client.users.list()
    server.fail_connects = 1
    with pytest.raises(XivoConnectionError):
        client.users.create(firstname="Yennefer")
    posts = [c for c in server.calls if c == ("POST", "/1.1/users")]
    assert posts == [("POST", "/1.1/users")]


def test_get_gives_up_after_retries():
    server = FakeServer()
    client = make(server)
    client.users.list()
    server.fail_connects = 10
    with pytest.raises(XivoConnectionError, match="Impossible de joindre"):
        client.users.list()
    assert server.fail_connects == 7  # 1 try + 2 retries


def test_confd_error_messages():
    client = make(FakeServer())
    with pytest.raises(XivoAPIError) as info:
        client.users.get(99)
    assert info.value.status == 404
    assert info.value.messages == ["Resource Not Found - User was not found ('id': 99)"]
    assert info.value.method == "GET"


def test_secrets_absent_from_reprs():
    client = make(FakeServer())
    page = client.users.list()
    assert PASSWORD not in repr(client)
    assert "tok-1" not in repr(client)
    assert "cti-pass" not in repr(page.items[0])
    assert "cti-pass" not in page.to_frame().to_string()
    assert page.items[0]["password"] == "cti-pass"  # still usable as data


@pytest.mark.parametrize(("url", "confd", "auth"), [
    ("https://192.168.0.1", "https://192.168.0.1:9486", "https://192.168.0.1:9497"),
    ("192.168.0.1", "https://192.168.0.1:9486", "https://192.168.0.1:9497"),
    ("https://xivo.local/api", "https://xivo.local/api/confd", "https://xivo.local/api/auth"),
    ("http://127.0.0.1:8123", "http://127.0.0.1:8123", "http://127.0.0.1:8123"),
    ("https://10.0.0.5:9486", "https://10.0.0.5:9486", "https://10.0.0.5:9497"),
])
def test_url_bases(url, confd, auth):
    assert _bases(url) == (confd, auth)


def test_missing_collection_names_the_web_ui_menu():
    """A XiVO 16.13 publishes api.json without /groups: say so and point to the web UI."""
    from toipkit.xivo import XivoUnsupportedError

    spec = {"swagger": "2.0", "paths": {"/users": {}, "/users/{id}": {}, "/lines": {}}}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/1.1/api/api.yml":
            return httpx.Response(404, json=["not found"])
        if request.url.path == "/1.1/api/api.json":
            return httpx.Response(200, json=spec)
        return FakeServer()(request)

    client = XivoClient("http://127.0.0.1:8999", "toipkit", PASSWORD,
                        transport=httpx.MockTransport(handler))
    assert client.supports("users") and not client.supports("groups")
    with pytest.raises(XivoUnsupportedError) as info:
        client.groups.list()
    assert "Services > IPBX > IPBX settings > Groups" in str(info.value)
    with pytest.raises(XivoUnsupportedError, match="Call filters"):
        client.call_filters.create({"name": "x"})


def test_capabilities_table_on_an_old_xivo():
    spec = {"paths": {"/users": {}, "/lines": {}, "/extensions": {}, "/endpoints/sip": {},
                      "/lines_sip": {}, "/incalls": {}}}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/1.1/api/api.yml":
            return httpx.Response(200, text="swagger: '2.0'\npaths:\n" + "".join(
                f"  {p}: {{}}\n" for p in spec["paths"]))
        return FakeServer()(request)

    client = XivoClient("http://127.0.0.1:8999", "toipkit", PASSWORD,
                        transport=httpx.MockTransport(handler))
    table = client.capabilities().set_index("ressource")
    assert table.loc["users", "disponible"] == "oui"
    assert table.loc["groups", "disponible"] == "non"
    assert "Groups" in table.loc["groups", "sinon, dans l'interface web"]


def test_xivo16_reassociation_400_is_success_only_when_already_there():
    """XiVO 16.x answers 400 "... is associated with ..." to a repeated association PUT."""
    lines_of_user = {1: [2]}

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/0.1/token" or path.startswith("/1.1/api/"):
            return FakeServer()(request) if path == "/0.1/token" else httpx.Response(404)
        if request.method == "PUT" and path.startswith("/1.1/users/1/lines/"):
            return httpx.Response(400, json=[
                "Resource Error - User is associated with a Line (user_id: 1, line_id: 2)"])
        if request.method == "GET" and path == "/1.1/users/1/lines":
            return httpx.Response(200, json={"total": 1, "items": [
                {"user_id": 1, "line_id": lid, "main_user": True, "main_line": True}
                for lid in lines_of_user[1]]})
        return httpx.Response(404, json=["Resource Not Found"])

    client = XivoClient("http://127.0.0.1:8999", "toipkit", PASSWORD,
                        transport=httpx.MockTransport(handler))
    client.users.add_line(1, 2)  # already associated: fine
    with pytest.raises(XivoAPIError) as info:
        client.users.add_line(1, 3)  # associated with another line: a real error
    assert info.value.status == 400 and "is associated with" in info.value.messages[0]


def test_connect_real_xivo_needs_credentials(monkeypatch):
    from toipkit.errors import ToipkitError
    from toipkit.xivo import connect, connect_lab

    monkeypatch.delenv("XIVO_USERNAME", raising=False)
    monkeypatch.delenv("XIVO_PASSWORD", raising=False)
    with pytest.raises(ToipkitError, match="XIVO_PASSWORD"):
        connect("https://192.0.2.1")
    with pytest.raises(ToipkitError, match="XIVO_PASSWORD"):
        connect_lab("https://192.0.2.1", interactive=False)


def test_connect_lab_uses_environment(monkeypatch):
    server = FakeServer()
    monkeypatch.setenv("XIVO_USERNAME", "toipkit")
    monkeypatch.setenv("XIVO_PASSWORD", PASSWORD)
    from toipkit.xivo import connect_lab, connection_summary

    client = connect_lab("http://127.0.0.1:8999", interactive=False,
                         transport=httpx.MockTransport(server))
    text = connection_summary(client)
    assert text.startswith("Connecté au XiVO http://127.0.0.1:8999") and PASSWORD not in text
    assert server.tokens  # logged in at connect time
