"""TLS: verification on by default, a pinned self-signed certificate (ca_file) is accepted."""

from __future__ import annotations

import http.server
import json
import shutil
import ssl
import subprocess
import threading

import pytest

from toipkit.xivo.client import XivoClient, XivoConnectionError, fetch_certificate

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl not installed")


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):  # the token endpoint
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._send({"data": {"token": "t", "expires_at": "2026-01-01T01:00:00",
                             "issued_at": "2026-01-01T00:00:00"}})

    def do_GET(self):
        self._send({"uuid": "xivo-uuid"})

    def _send(self, body):
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def https_server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("tls")
    key, crt = tmp / "key.pem", tmp / "crt.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=xivo.local", "-addext", "subjectAltName=DNS:xivo.local",
                    "-keyout", str(key), "-out", str(crt)], check=True, capture_output=True)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(crt, key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}", crt
    server.shutdown()
    server.server_close()


def test_self_signed_refused_by_default(https_server):
    url, _ = https_server
    client = XivoClient(url, "u", "p", retries=0)
    with pytest.raises(XivoConnectionError, match="self-signed"):
        client.infos()


def test_pinned_certificate_accepted(https_server, tmp_path):
    url, crt = https_server
    port = int(url.rsplit(":", 1)[1])
    path, fingerprint = fetch_certificate("127.0.0.1", port, dest=tmp_path / "xivo.crt")
    assert len(fingerprint.split(":")) == 32
    assert open(path).read().strip() == crt.read_text().strip()
    # Certificate issued for xivo.local, reached by IP: hostname check off, chain still checked.
    client = XivoClient(url, "u", "p", ca_file=path, check_hostname=False)
    assert client.infos()["uuid"] == "xivo-uuid"
    strict = XivoClient(url, "u", "p", ca_file=path, retries=0)
    with pytest.raises(XivoConnectionError):
        strict.infos()


def test_verify_false(https_server):
    url, _ = https_server
    assert XivoClient(url, "u", "p", verify=False).infos()["uuid"] == "xivo-uuid"
