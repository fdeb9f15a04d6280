"""A confd-compatible XiVO sandbox: a real HTTP server on 127.0.0.1 with SQLite state.

Public API (stable; the client :mod:`toipkit.xivo` and the CLI rely on it):

- :func:`start` / :func:`stop` / :func:`status` / :func:`reset` manage the detached server of a
  data directory (default ``toipkit.paths.state_dir()/sandbox``); :func:`serve` runs it in the
  foreground (``python -m toipkit.xivo.sandbox``).
- :func:`credentials` gives the service account (``toipkit`` + a password from
  ``TOIPKIT_SANDBOX_PASSWORD`` or generated once into ``credentials.json``, mode 600).
- :func:`directory` maps numbers to what XiVO derives (user, ring group, conference room,
  incall, ``*37<member>`` call-filter toggles) for the dialplan simulator.
- :func:`request_log` returns the HTTP calls received (no tokens, no passwords).

HTTP layout of a sandbox at ``info.url``: confd at ``/1.1`` and ``/api/confd/1.1``; auth at
``/0.1`` and ``/api/auth/0.1`` (``POST /0.1/token``); API spec at ``/1.1/api/api.json`` and
``/1.1/api/api.yml``; sandbox extras at ``/0.1/sandbox/{status,directory,requests,reset}``.
"""

from __future__ import annotations

import os
from pathlib import Path

from toipkit.xivo.sandbox.auth import PASSWORD_ENV, USERNAME
from toipkit.xivo.sandbox.process import (
    Credentials,
    RequestLog,
    SandboxError,
    SandboxInfo,
    credentials,
    directory,
    request_log,
    reset,
    resolve_data_dir,
    start,
    status,
    stop,
)
from toipkit.xivo.sandbox.wizard import WIZARD_DEFAULTS

__all__ = [
    "PASSWORD_ENV",
    "USERNAME",
    "WIZARD_DEFAULTS",
    "Credentials",
    "RequestLog",
    "SandboxError",
    "SandboxInfo",
    "credentials",
    "directory",
    "request_log",
    "reset",
    "serve",
    "start",
    "status",
    "stop",
]


def serve(data_dir: str | os.PathLike | None = None, port: int | None = None,
          tls: bool = False) -> None:
    """Run the sandbox server in the foreground until interrupted (SIGINT/SIGTERM)."""
    from toipkit.xivo.sandbox.server import serve as _serve

    _serve(Path(resolve_data_dir(data_dir)), int(port or 0), tls=tls)
