"""The sandbox HTTP server: confd under ``/1.1`` and ``/api/confd/1.1``, xivo-auth under
``/0.1`` and ``/api/auth/0.1``, sandbox extras under ``/0.1/sandbox/``.

One port serves everything (a real XiVO uses 9486 for confd and 9497 for auth, or both behind
nginx at ``https://<xivo>/api/confd/1.1`` and ``/api/auth/0.1``).
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import threading
import time
from collections import deque
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from toipkit._fileio import atomic_write
from toipkit.xivo.sandbox import (  # noqa: F401 (modules that add routes)
    auth,
    confd,
    csvio,
    derived,
    funckeys,
    wizard,
    wizard_api,
)
from toipkit.xivo.sandbox.http import Request, Response
from toipkit.xivo.sandbox.schema import ApiError, is_digits
from toipkit.xivo.sandbox.store import AUTH_DB_NAME, Store

SERVER_FILE = "server.json"
TLS_DIR = "tls"
CONFD_PREFIXES = ("/api/confd/1.1", "/1.1")
AUTH_PREFIXES = ("/api/auth/0.1", "/0.1")
SANDBOX_PREFIX = "/0.1/sandbox"
SECRET_QUERY_KEYS = {"password", "secret", "token", "pin", "sip_secret"}
UNLOGGED = {"/0.1/sandbox/requests", "/0.1/sandbox/status"}
MAX_BODY = 64 * 1024 * 1024
IDLE_TIMEOUT = 30  # seconds a connection may stay silent (keep-alive included)


def _utc_iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _safe_path(path: str, query: list[tuple[str, str]]) -> str:
    """The request path for the log: tokens in paths and secret query values masked."""
    parts = path.split("/")
    for i, part in enumerate(parts[:-1]):
        if part == "token" and parts[i + 1]:
            parts[i + 1] = "***"
    text = "/".join(parts)
    if query:
        shown = [f"{k}={'***' if k.lower() in SECRET_QUERY_KEYS else v}" for k, v in query]
        text += "?" + "&".join(shown)
    return text


class App:
    """Transport-independent dispatcher (the HTTP handler below only moves bytes)."""

    def __init__(self, data_dir: Path, port: int = 0) -> None:
        self.data_dir = Path(data_dir)
        self.port = port
        self.scheme = "http"
        self.store = Store(self.data_dir)
        with self.store.transaction(write=True) as tx:
            wizard.ensure_seeded(tx)
        self.auth_store = Store(self.data_dir, pool_size=4, db_name=AUTH_DB_NAME)
        self._move_tokens()
        auth.load_credentials(self.data_dir)
        self.started_at = time.time()
        self.last_activity = self.started_at  # last logged API request (idle timeout)
        self._log: deque[dict[str, Any]] = deque(maxlen=5000)
        self._seq = itertools.count(1)
        self._log_lock = threading.Lock()
        self._specs: dict[str, dict] = {}

    def _move_tokens(self) -> None:
        """Tokens of a sandbox made before tokens had their own file: carry them over."""
        with self.store.transaction() as tx:
            rows = [tuple(r) for r in tx.conn.execute(
                "SELECT token, auth_id, backend, issued_at, expires_at, acls FROM tokens")]
        if not rows:
            return
        with self.auth_store.transaction(write=True) as atx:
            atx.conn.executemany(
                "INSERT OR IGNORE INTO tokens(token, auth_id, backend, issued_at, expires_at, "
                "acls) VALUES (?, ?, ?, ?, ?, ?)", rows)
        with self.store.transaction(write=True) as tx:
            tx.conn.execute("DELETE FROM tokens")

    def token_valid(self, token: str | None) -> bool:
        with self.auth_store.transaction() as atx:
            return auth.lookup_token(atx, token) is not None

    # -- request log -------------------------------------------------------------------------
    def record(self, method: str, path: str, query: list[tuple[str, str]], status: int,
               started: float) -> None:
        if path in UNLOGGED:
            return
        self.last_activity = time.time()
        entry = {"time": _utc_iso(started), "method": method, "path": _safe_path(path, query),
                 "status": status, "duration_ms": round((time.time() - started) * 1000, 2)}
        with self._log_lock:
            entry = {"seq": next(self._seq), **entry}
            self._log.append(entry)

    def requests_log(self, since: int = 0, limit: int | None = None) -> list[dict]:
        with self._log_lock:
            items = [e for e in self._log if e["seq"] > since]
        return items[-limit:] if limit else items

    # -- dispatch ----------------------------------------------------------------------------
    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes,
               host: str) -> Response:
        started = time.time()
        split = urlsplit(target)
        path = split.path or "/"
        query_pairs = parse_qsl(split.query, keep_blank_values=True)
        query = dict(query_pairs)
        try:
            response = self._dispatch(method, path, query, headers, body, host)
        except ApiError as exc:
            response = Response(exc.status, exc.body)
        except Exception as exc:  # noqa: BLE001 - answer 500 like confd, keep serving
            print(f"sandbox: unexpected error on {method} {path}: {exc!r}", file=sys.stderr)
            response = Response(500, [f"Unexpected error: {exc}"])
        self.record(method, path, query_pairs, response.status, started)
        return response

    def _dispatch(self, method: str, path: str, query: dict[str, str], headers: dict[str, str],
                  body: bytes, host: str) -> Response:
        if path.startswith(SANDBOX_PREFIX + "/") or path == SANDBOX_PREFIX:
            return self._sandbox(method, path[len(SANDBOX_PREFIX):], query, headers, body, host)
        for prefix in CONFD_PREFIXES:
            if path == prefix or path.startswith(prefix + "/"):
                sub = path[len(prefix):] or "/"
                req = Request(method, sub, query, headers, body,
                              f"{self.scheme}://{host}{prefix}")
                return self._confd(req)
        for prefix in AUTH_PREFIXES:
            if path == prefix or path.startswith(prefix + "/"):
                sub = path[len(prefix):] or "/"
                req = Request(method, sub, query, headers, body,
                              f"{self.scheme}://{host}{prefix}")
                return self._auth(req)
        raise ApiError(404, "The requested URL was not found on the server. The sandbox serves "
                            "/1.1 and /api/confd/1.1 (confd), /0.1 and /api/auth/0.1 (auth).")

    def _confd(self, req: Request) -> Response:
        if req.path in ("/api/api.json", "/api/api.yml"):
            if req.method not in ("GET", "HEAD"):
                raise ApiError(405, "The method is not allowed for the requested URL.")
            return self._spec_response(req)
        write = req.method in ("POST", "PUT", "DELETE")
        with self.store.transaction(write=write) as tx:
            req.tx = tx
            profile = tx.meta("api_profile") or "full"
            route, params = confd.router.match(
                req.method, req.path, lambda r: confd.route_visible(r, profile))
            if route.auth and not self.token_valid(req.headers.get("x-auth-token")):
                raise ApiError(401, ["Unauthorized"])
            response = route.handler(req, **params)
            response.body = confd.strip_newer_fields(route, profile, response.body)
            return response

    def _auth(self, req: Request) -> Response:
        path, method = req.path, req.method
        if path == "/token" and method == "POST":
            with self.auth_store.transaction(write=True) as tx:
                req.tx = tx
                return auth.create_token(req, self.data_dir)
        if path.startswith("/token/") and path.count("/") == 2:
            token = path.split("/")[2]
            if method in ("GET", "HEAD"):
                with self.auth_store.transaction() as tx:
                    req.tx = tx
                    return auth.check_token(req, token)
            if method == "DELETE":
                with self.auth_store.transaction(write=True) as tx:
                    req.tx = tx
                    return auth.revoke_token(req, token)
            raise auth.auth_error(405, "Method not allowed")
        if path == "/backends" and method == "GET":
            return auth.backends(req)
        raise auth.auth_error(404, "Not found")

    def _sandbox(self, method: str, sub: str, query: dict[str, str], headers: dict[str, str],
                 body: bytes, host: str) -> Response:
        if sub in ("", "/", "/status") and method in ("GET", "HEAD"):
            return Response(200, self.status())
        if sub == "/directory" and method in ("GET", "HEAD"):
            if not self.token_valid(headers.get("x-auth-token")):
                raise ApiError(401, ["Unauthorized"])
            with self.store.transaction() as tx:
                return Response(200, derived.build(tx, query.get("context") or "default"))
        if sub == "/requests" and method in ("GET", "HEAD"):
            since = query.get("since", "0")
            limit = query.get("limit", "")
            if not is_digits(since) or (limit and not is_digits(limit)):
                raise ApiError(400, "Input Error - since/limit must be positive integers")
            items = self.requests_log(int(since), int(limit) if limit else None)
            return Response(200, {"total": len(items), "items": items})
        if sub == "/reset" and method == "POST":
            if not self.token_valid(headers.get("x-auth-token")):
                raise ApiError(401, ["Unauthorized"])
            with self.store.transaction(write=True) as tx:
                try:
                    overrides = json.loads(body) if body.strip() else None
                except (ValueError, RecursionError):
                    raise ApiError(400, "Input Error - the body must be a JSON object") from None
                if overrides is not None and not isinstance(overrides, dict):
                    raise ApiError(400, "Input Error - the body must be a JSON object")
                try:
                    wizard.reset(tx, overrides)
                except (ValueError, TypeError) as exc:
                    raise ApiError(400, f"Input Error - {exc}") from None
            return Response(204, None, content_type="")
        raise ApiError(404, "Unknown sandbox endpoint: use /0.1/sandbox/status, /directory, "
                            "/requests or POST /reset")

    def status(self) -> dict[str, Any]:
        return {"data_dir": str(self.data_dir.resolve()), "pid": os.getpid(), "port": self.port,
                "started_at": _utc_iso(self.started_at), "service": "toipkit-sandbox"}

    def _spec_response(self, req: Request) -> Response:
        from toipkit.xivo.sandbox.spec import build_spec

        with self.store.transaction() as tx:
            profile = tx.meta("api_profile") or "full"
        if profile not in self._specs:
            self._specs[profile] = build_spec(
                confd.router, lambda r: confd.route_visible(r, profile))
        spec = self._specs[profile]
        if req.path.endswith(".yml"):
            if profile == "xivo-16.13":  # 16.13 serves api.json only (16.15+: api.yml)
                raise ApiError(404, "The requested URL was not found on the server.")
            import yaml

            text = yaml.safe_dump(spec, sort_keys=False, allow_unicode=True)
            return Response(200, text.encode("utf-8"), content_type="application/x-yaml")
        return Response(200, spec)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are separate writes
    timeout = IDLE_TIMEOUT  # idle or half-open connections are closed (their thread ends)
    server_version = "toipkit-sandbox"
    app: App  # set on the subclass by make_server
    server: ThreadingHTTPServer

    def _read_body(self) -> bytes:
        """The request body, bounded by MAX_BODY whatever the framing."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks, total = [], 0
            while True:
                line = self.rfile.readline(1024)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size < 0:
                    raise ValueError("negative chunk size")
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                total += size
                if total > MAX_BODY:
                    raise ApiError(413, "Request body too large")
                chunk = self.rfile.read(size)
                if len(chunk) < size:
                    raise ValueError("truncated chunk")
                chunks.append(chunk)
                self.rfile.readline(1024)
            return b"".join(chunks)
        raw = (self.headers.get("Content-Length") or "0").strip()
        if not is_digits(raw):  # "-1", "1e3", "²"...
            raise ValueError(f"invalid Content-Length {raw!r}")
        length = int(raw)
        if length > MAX_BODY:
            raise ApiError(413, "Request body too large")
        body = self.rfile.read(length) if length else b""
        if len(body) < length:
            raise ValueError("truncated body")
        return body

    def _handle(self) -> None:
        try:
            body = self._read_body()
        except ApiError as exc:
            self.close_connection = True
            self._send(Response(exc.status, exc.body))
            return
        except (ValueError, OSError):
            self.close_connection = True
            self._send(Response(400, ["Invalid request body"]))
            return
        headers = {k.lower(): v for k, v in self.headers.items()}
        host = self.headers.get("Host") or f"127.0.0.1:{self.server.server_port}"
        response = self.app.handle(self.command, self.path, headers, body, host)
        self._send(response)

    def _send(self, response: Response) -> None:
        payload = response.payload()
        self.send_response(response.status)
        if response.content_type and response.status != 204:
            self.send_header("Content-Type", response.content_type)
        for key, value in response.headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", "0" if response.status == 204 else str(len(payload)))
        self.end_headers()
        if self.command != "HEAD" and response.status != 204:
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _handle

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass  # the request log is kept by App (without secrets)


class SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, ssl.SSLError, TimeoutError)):
            return  # a client hung up or failed the TLS handshake (e.g. an untrusting client)
        super().handle_error(request, client_address)


def ensure_certificate(data_dir: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1/localhost, made once with ``openssl`` (XiVO also
    ships a self-signed one, /usr/share/xivo-certs/server.crt)."""
    tls_dir = Path(data_dir) / TLS_DIR
    crt, key = tls_dir / "server.crt", tls_dir / "server.key"
    if crt.exists() and key.exists():
        return crt, key
    openssl = shutil.which("openssl")
    if openssl is None:
        raise RuntimeError("the TLS sandbox needs the openssl command (apt install openssl)")
    tls_dir.mkdir(parents=True, exist_ok=True)
    tmp_crt, tmp_key = tls_dir / f".crt.{os.getpid()}", tls_dir / f".key.{os.getpid()}"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650",
         "-keyout", str(tmp_key), "-out", str(tmp_crt), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True, capture_output=True)
    os.chmod(tmp_key, 0o600)
    os.replace(tmp_key, key)
    os.replace(tmp_crt, crt)
    return crt, key


def make_server(data_dir: Path, port: int = 0,
                tls: bool = False) -> tuple[SandboxHTTPServer, App]:
    app = App(data_dir, port)
    handler = type("Handler", (_Handler,), {"app": app})
    server = SandboxHTTPServer(("127.0.0.1", port), handler)
    if tls:
        crt, key = ensure_certificate(data_dir)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(crt, key)
        # handshake in the request thread, not in the accept loop
        server.socket = ctx.wrap_socket(server.socket, server_side=True,
                                        do_handshake_on_connect=False)
        app.scheme = "https"
    app.port = server.server_address[1]
    return server, app


def _write_server_file(data_dir: Path, info: dict[str, Any]) -> None:
    atomic_write(data_dir / SERVER_FILE, json.dumps(info))


def _last_change(paths: list[Path]) -> float:
    """Newest modification time among ``paths`` (0 when none exists)."""
    newest = 0.0
    for path in paths:
        try:
            newest = max(newest, path.stat().st_mtime)
        except OSError:
            pass
    return newest


def _watch_idle(server: ThreadingHTTPServer, app: App, idle_timeout: float,
                activity_files: list[Path], done: threading.Event) -> None:
    """Shut the server down once neither the API nor the files in ``activity_files`` (the
    registrar's database: registrations, calls) have changed for ``idle_timeout`` seconds."""
    period = min(30.0, max(0.2, idle_timeout / 5))
    while not done.wait(period):
        last = max(app.last_activity, _last_change(activity_files))
        idle = time.time() - last
        if idle >= idle_timeout:
            print(f"toipkit sandbox: idle for {idle:.0f} s (limit {idle_timeout:.0f} s), "
                  "stopping", flush=True)
            server.shutdown()
            return


def serve(data_dir: Path, port: int = 0, ready: threading.Event | None = None,
          tls: bool = False, idle_timeout: float | None = None,
          activity_files: list[Path] | None = None) -> None:
    """Run the sandbox in the foreground until SIGTERM/SIGINT, or until it has been idle for
    ``idle_timeout`` seconds (no API request, no change to ``activity_files``)."""
    data_dir = Path(data_dir)
    server, app = make_server(data_dir, port, tls=tls)
    info = {"pid": os.getpid(), "port": app.port,
            "url": f"{app.scheme}://127.0.0.1:{app.port}",
            "data_dir": str(data_dir.resolve()), "started_at": app.status()["started_at"]}

    def _stop(signum: int, frame: Any) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
    _write_server_file(data_dir, info)
    print(f"toipkit sandbox listening on {info['url']} (data: {info['data_dir']})", flush=True)
    if ready is not None:
        ready.set()
    done = threading.Event()
    if idle_timeout:
        threading.Thread(target=_watch_idle, name="idle-timeout", daemon=True,
                         args=(server, app, idle_timeout, list(activity_files or []), done),
                         ).start()
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        done.set()
        server.server_close()
        app.store.close()
        app.auth_store.close()
        try:
            current = json.loads((data_dir / SERVER_FILE).read_text("utf-8"))
            if current.get("pid") == os.getpid():
                (data_dir / SERVER_FILE).unlink()
        except (OSError, ValueError):
            pass
