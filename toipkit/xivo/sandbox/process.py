"""Start, find, stop and reset the detached sandbox server of a data directory."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from toipkit import paths
from toipkit.errors import ToipkitError
from toipkit.xivo.sandbox.server import SERVER_FILE, TLS_DIR

LOG_FILE = "server.log"
START_TIMEOUT = 20.0
_children: dict[int, subprocess.Popen] = {}


class SandboxError(ToipkitError):
    """The sandbox could not be started, reached or stopped."""


@dataclass(frozen=True)
class SandboxInfo:
    """A running sandbox: ``url`` is the server root (``http://127.0.0.1:<port>``)."""

    url: str
    port: int
    pid: int
    data_dir: Path

    @property
    def confd_url(self) -> str:
        """confd API root, the equivalent of ``https://<xivo>:9486/1.1``."""
        return self.url + "/1.1"

    @property
    def auth_url(self) -> str:
        """xivo-auth API root, the equivalent of ``https://<xivo>:9497/0.1``."""
        return self.url + "/0.1"

    @property
    def ca_file(self) -> Path | None:
        """The self-signed certificate to trust (``verify=``/``ca_file=``) when it uses HTTPS."""
        return self.data_dir / TLS_DIR / "server.crt" if self.url.startswith("https") else None

    def _repr_markdown_(self) -> str:
        return (f"**XiVO sandbox** at `{self.url}` (confd `{self.confd_url}`, "
                f"auth `{self.auth_url}`)")


def resolve_data_dir(data_dir: str | os.PathLike | None) -> Path:
    if data_dir is None:
        return (paths.state_dir() / "sandbox").absolute()
    return Path(data_dir).expanduser().absolute()


def _pid_alive(pid: int) -> bool:
    from toipkit.phone.processes import pid_alive

    return pid_alive(pid, _children.get(pid))


def _http_json(url: str, timeout: float = 2.0, cafile: Path | None = None) -> Any:
    context = None
    if url.startswith("https"):
        import ssl

        context = ssl.create_default_context(cafile=str(cafile) if cafile else None)
    with urllib.request.urlopen(url, timeout=timeout, context=context) as resp:  # noqa: S310
        return json.loads(resp.read().decode("utf-8"))


def _read_server_file(data_dir: Path) -> dict | None:
    try:
        return json.loads((data_dir / SERVER_FILE).read_text("utf-8"))
    except (OSError, ValueError):
        return None


def status(data_dir: str | os.PathLike | None = None) -> SandboxInfo | None:
    """The running sandbox of this data directory, or None."""
    ddir = resolve_data_dir(data_dir)
    info = _read_server_file(ddir)
    if not info or not _pid_alive(int(info.get("pid", 0))):
        return None
    try:
        answer = _http_json(f"{info['url']}/0.1/sandbox/status",
                            cafile=ddir / TLS_DIR / "server.crt")
    except (OSError, ValueError, urllib.error.URLError):
        return None
    if answer.get("pid") != info["pid"] or Path(answer.get("data_dir", "")) != ddir.resolve():
        return None
    return SandboxInfo(info["url"], int(info["port"]), int(info["pid"]), ddir.resolve())


@contextlib.contextmanager
def _start_lock(ddir: Path):
    """Serialise start/stop between processes (two kernels starting the sandbox at once)."""
    ddir.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # not POSIX: no cross-process lock
        yield
        return
    with open(ddir / ".start.lock", "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def start(data_dir: str | os.PathLike | None = None, port: int | None = None,
          tls: bool = False) -> SandboxInfo:
    """Start a detached sandbox server for ``data_dir`` (or return the one already running).

    ``port=None`` lets the system pick a free port; the chosen port is recorded in
    ``<data_dir>/server.json``. The server outlives the Python process that started it.
    ``tls=True`` serves HTTPS with a self-signed certificate (``info.ca_file``), like XiVO;
    a server already running is returned as it is (stop it to change the scheme).
    """
    ddir = resolve_data_dir(data_dir)
    with _start_lock(ddir):
        running = status(ddir)
        if running is not None:
            return running
        with contextlib.suppress(FileNotFoundError):
            (ddir / SERVER_FILE).unlink()
        log = open(ddir / LOG_FILE, "ab")  # noqa: SIM115 - handed to the child process
        cmd = [sys.executable, "-m", "toipkit.xivo.sandbox", "--data-dir", str(ddir),
               "--port", str(port or 0)] + (["--tls"] if tls else [])
        env = dict(os.environ)
        # The child must import this very toipkit even when it is not pip-installed.
        root = str(paths.PACKAGE_DIR.parent)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        try:
            child = subprocess.Popen(  # noqa: S603 - our own module
                cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, close_fds=True, cwd=str(ddir), env=env,
            )
        finally:
            log.close()
        _children[child.pid] = child
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if child.poll() is not None:
                raise SandboxError(
                    f"the sandbox server exited with code {child.returncode} while starting; "
                    f"last lines of {ddir / LOG_FILE}:\n{_tail(ddir / LOG_FILE)}")
            info = _read_server_file(ddir)
            if info and info.get("pid") == child.pid:
                found = status(ddir)
                if found is not None:
                    return found
            time.sleep(0.05)
        _terminate(child.pid)
        raise SandboxError(f"the sandbox server did not answer within {START_TIMEOUT:.0f} s; "
                           f"see {ddir / LOG_FILE}:\n{_tail(ddir / LOG_FILE)}")


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text("utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _terminate(pid: int, timeout: float = 10.0) -> bool:
    """SIGTERM, wait, SIGKILL if needed. True when the process is gone."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        _children.pop(pid, None)
        return True
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _pid_alive(pid):
            _children.pop(pid, None)
            return True
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    child = _children.pop(pid, None)
    if child is not None:
        child.wait(timeout=5)
    return True


def stop(data_dir: str | os.PathLike | None = None) -> bool:
    """Stop the sandbox of ``data_dir``. Returns False if none was running."""
    ddir = resolve_data_dir(data_dir)
    with _start_lock(ddir):
        running = status(ddir)
        if running is None:
            with contextlib.suppress(FileNotFoundError):
                (ddir / SERVER_FILE).unlink()
            return False
        _terminate(running.pid)
        # The server stops its registrar; this catches one left by a server that was killed.
        from toipkit.phone import registrar

        registrar.stop(ddir)
        with contextlib.suppress(FileNotFoundError):
            info = _read_server_file(ddir)
            if info and info.get("pid") == running.pid:
                (ddir / SERVER_FILE).unlink()
        return True


def reset(data_dir: str | os.PathLike | None = None,
          wizard: dict[str, Any] | None = None) -> None:
    """Back to the state after the wizard (running server or not). Tokens stay valid.

    ``wizard`` overrides :data:`toipkit.xivo.sandbox.WIZARD_DEFAULTS` (entity, ranges...).
    """
    from toipkit.xivo.sandbox import wizard as wiz
    from toipkit.xivo.sandbox.store import Store

    ddir = resolve_data_dir(data_dir)
    wiz.wizard_config(wizard)  # validate before touching anything
    store = Store(ddir)
    try:
        with store.transaction(write=True) as tx:
            wiz.reset(tx, wizard)
    finally:
        store.close()


class Credentials(NamedTuple):
    """(username, password); its repr masks the password, so a notebook showing it is safe."""

    username: str
    password: str

    def __repr__(self) -> str:
        return f"Credentials(username={self.username!r}, password='***')"

    def __str__(self) -> str:
        return repr(self)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(repr(self))


def credentials(data_dir: str | os.PathLike | None = None) -> Credentials:
    """(username, password) of the sandbox service account (its repr hides the password)."""
    from toipkit.xivo.sandbox.auth import load_credentials

    return Credentials(*load_credentials(resolve_data_dir(data_dir)))


def directory(data_dir: str | os.PathLike | None = None,
              context: str = "default") -> dict[str, dict]:
    """Number → {"kind", "name", "members", "label", ...} derived from the sandbox state."""
    from toipkit.xivo.sandbox import derived as dirmod
    from toipkit.xivo.sandbox.store import Store

    store = Store(resolve_data_dir(data_dir))
    try:
        with store.transaction() as tx:
            if tx.meta("seeded") != "1":
                return {}
            return dirmod.build(tx, context)
    finally:
        store.close()


@dataclass
class RequestLog:
    """HTTP calls received by the sandbox (method, path, status, duration; no secrets)."""

    items: list[dict]

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self):
        return iter(self.items)

    @property
    def last_seq(self) -> int:
        """Sequence number of the newest entry: pass it as ``since=`` to see only later calls."""
        return self.items[-1]["seq"] if self.items else 0

    def to_frame(self):
        import pandas as pd

        columns = ["seq", "time", "method", "path", "status", "duration_ms"]
        return pd.DataFrame(self.items, columns=columns)

    def _repr_markdown_(self) -> str:
        lines = ["| # | method | path | status |", "|---|---|---|---|"]
        for e in self.items:
            lines.append(f"| {e['seq']} | {e['method']} | `{e['path']}` | {e['status']} |")
        return "\n".join(lines)


def request_log(data_dir: str | os.PathLike | None = None, since: int = 0,
                limit: int | None = None) -> RequestLog:
    """The running sandbox's request log (entries after sequence number ``since``)."""
    running = status(data_dir)
    if running is None:
        raise SandboxError("the sandbox is not running (start it with `toipkit sandbox start`)")
    url = f"{running.url}/0.1/sandbox/requests?since={int(since)}"
    if limit:
        url += f"&limit={int(limit)}"
    return RequestLog(_http_json(url, cafile=running.ca_file)["items"])
