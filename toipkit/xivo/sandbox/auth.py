"""The xivo-auth subset: the sandbox service account and its tokens.

xivo-auth 16.x: ``POST /0.1/token`` with HTTP Basic auth and ``{"backend", "expiration"}``
→ ``{"data": {token, auth_id, xivo_user_uuid, issued_at, expires_at, acls}}``; errors are
``{"reason": [...], "timestamp": [...], "status_code": N}``; default lifetime 7200 s.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
import time
import uuid as uuidlib
from datetime import datetime, timezone
from pathlib import Path

from toipkit.xivo.sandbox.http import Request, Response
from toipkit.xivo.sandbox.schema import ApiError
from toipkit.xivo.sandbox.store import Tx

USERNAME = "toipkit"
PASSWORD_ENV = "TOIPKIT_SANDBOX_PASSWORD"
CREDENTIALS_FILE = "credentials.json"
DEFAULT_LIFETIME = 7200
BACKENDS = ("xivo_service", "xivo_admin", "wazo_user")
ACLS = ["confd.#", "auth.#"]
# The service account's own id (auth_id); fixed so tokens stay meaningful after a restart.
SERVICE_UUID = "8c1a2b4e-7f0d-4c1e-9a55-70697b6b6974"


def load_credentials(data_dir: Path) -> tuple[str, str]:
    """(username, password): env ``TOIPKIT_SANDBOX_PASSWORD`` or a password generated once."""
    env = os.environ.get(PASSWORD_ENV)
    if env:
        return USERNAME, env
    path = Path(data_dir) / CREDENTIALS_FILE
    try:
        return USERNAME, json.loads(path.read_text("utf-8"))["password"]
    except (OSError, ValueError, KeyError):
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(18)
    tmp = path.with_name(f".{CREDENTIALS_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({"username": USERNAME, "password": password}, fh)
    try:
        os.link(tmp, path)  # atomic and fails if another process won the race
    except FileExistsError:
        pass
    finally:
        os.unlink(tmp)
    return USERNAME, json.loads(path.read_text("utf-8"))["password"]


def auth_error(status: int, reason: str) -> ApiError:
    return ApiError(status, [reason],
                    body={"reason": [reason], "timestamp": [time.time()], "status_code": status})


def _iso(ts: float, utc: bool = False) -> str:
    if utc:
        return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")
    return datetime.fromtimestamp(ts).isoformat(timespec="microseconds")


def _token_data(row: dict) -> dict:
    return {
        "token": row["token"],
        "auth_id": row["auth_id"],
        "xivo_user_uuid": None,
        "issued_at": _iso(row["issued_at"]),
        "expires_at": _iso(row["expires_at"]),
        "utc_issued_at": _iso(row["issued_at"], utc=True),
        "utc_expires_at": _iso(row["expires_at"], utc=True),
        "acls": json.loads(row["acls"]),
    }


def _basic_auth(req: Request) -> tuple[str, str] | None:
    header = req.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else None


def create_token(req: Request, data_dir: Path) -> Response:
    tx = req.tx
    assert tx is not None
    creds = _basic_auth(req)
    expected = load_credentials(data_dir)
    if creds is None or not (secrets.compare_digest(creds[0], expected[0])
                             and secrets.compare_digest(creds[1], expected[1])):
        raise auth_error(401, "Authentication Failed")
    try:
        body = json.loads(req.body or b"{}")
    except (ValueError, RecursionError):
        raise auth_error(400, "Invalid JSON body") from None
    if not isinstance(body, dict):
        raise auth_error(400, "Invalid JSON body")
    backend = body.get("backend")
    if not backend:
        raise auth_error(400, "Invalid backend: 'backend' is required")
    if backend not in BACKENDS:
        raise auth_error(401, "Authentication Failed")
    expiration = body.get("expiration", DEFAULT_LIFETIME)
    if isinstance(expiration, bool) or not isinstance(expiration, int) or \
            not 0 < expiration <= MAX_LIFETIME:
        raise auth_error(400, "Invalid expiration")
    now = time.time()
    tx.conn.execute("DELETE FROM tokens WHERE expires_at < ?", (now,))
    row = {"token": str(uuidlib.uuid4()), "auth_id": SERVICE_UUID, "backend": backend,
           "issued_at": now, "expires_at": now + expiration, "acls": json.dumps(ACLS)}
    tx.conn.execute(
        "INSERT INTO tokens(token, auth_id, backend, issued_at, expires_at, acls) "
        "VALUES (:token, :auth_id, :backend, :issued_at, :expires_at, :acls)", row)
    return Response(200, {"data": _token_data(row)})


# Ten years: beyond that the expiry date cannot be written as a timestamp anyway.
MAX_LIFETIME = 10 * 365 * 24 * 3600


def lookup_token(tx: Tx, token: str | None) -> dict | None:
    """The token row if it exists and has not expired."""
    if not token:
        return None
    row = tx.conn.execute("SELECT * FROM tokens WHERE token=?", (token,)).fetchone()
    if row is None or row["expires_at"] <= time.time():
        return None
    return dict(row)


def _scope_ok(row: dict, scope: str | None) -> bool:
    if not scope:
        return True
    for acl in json.loads(row["acls"]):
        if acl.endswith(".#") and scope.startswith(acl[:-1]):
            return True
        if acl == scope:
            return True
    return False


def check_token(req: Request, token: str) -> Response:
    assert req.tx is not None
    row = lookup_token(req.tx, token)
    if row is None:
        raise auth_error(404, "No such token")
    if not _scope_ok(row, req.query.get("scope")):
        raise auth_error(403, "Unauthorized for this scope")
    if req.method == "HEAD":
        return Response(204, None, content_type="")
    return Response(200, {"data": _token_data(row)})


def revoke_token(req: Request, token: str) -> Response:
    assert req.tx is not None
    req.tx.conn.execute("DELETE FROM tokens WHERE token=?", (token,))
    return Response(200, {"data": {"message": "success"}})


def backends(req: Request) -> Response:
    return Response(200, {"data": list(BACKENDS)})
