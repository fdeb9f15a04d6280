"""A real JupyterHub on loopback for the scale test and benchmark.

JupyterHub (PyPI) with configurable-http-proxy (npm), the dummy authenticator and
``SimpleLocalProcessSpawner`` (one single-user server per user, each with its own home, hence its
own ``~/.toipkit``). Labs run through the Hub's REST API: a kernel started on the user's server
(``POST /user/<name>/api/kernels``) executes the lab's cells over its websocket, and the executed
notebook is scored by the grader's own rules, as ``toipkit grade`` would score it.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import nbformat

from toipkit.paths import repo_root
from toipkit.phone.ports import free_port

CELL_TIMEOUT = 600.0


def hub_available() -> str | None:
    """Why the Hub cannot run here (None when it can)."""
    try:
        import jupyterhub  # noqa: F401
        import tornado.websocket  # noqa: F401
    except ImportError:
        return "jupyterhub is not installed (pip install 'toipkit[scale]')"
    if shutil.which("configurable-http-proxy", path=_path()) is None:
        return "configurable-http-proxy is not installed (npm install -g configurable-http-proxy)"
    return None


CONFIG = """\
c = get_config()  # noqa
c.JupyterHub.bind_url = "http://127.0.0.1:{proxy_port}"
c.JupyterHub.hub_bind_url = "http://127.0.0.1:{hub_port}"
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{api_port}"
c.ConfigurableHTTPProxy.pid_file = {pid_file!r}
c.JupyterHub.db_url = "sqlite:///{db}"
c.JupyterHub.cookie_secret_file = {cookie!r}
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allow_all = True
c.JupyterHub.spawner_class = "jupyterhub.spawner.SimpleLocalProcessSpawner"
c.SimpleLocalProcessSpawner.home_dir_template = {homes!r} + "/{{username}}"
c.Spawner.cmd = [{python!r}, "-m", "jupyterhub.singleuser"]
c.Spawner.args = ["--allow-root"] if {root!r} else []
c.Spawner.start_timeout = 180
c.Spawner.http_timeout = 180
c.Spawner.env_keep = ["PATH", "PYTHONPATH", "LANG", "LC_ALL"]
c.Spawner.environment = {{"TOIPKIT_SANDBOX_IDLE_MINUTES": "{idle_minutes}"}}
c.JupyterHub.services = [{{"name": "scale-test", "api_token": {token!r}}}]
c.JupyterHub.load_roles = [{{
    "name": "scale-test", "services": ["scale-test"],
    "scopes": ["admin:users", "admin:servers", "access:servers", "read:users"],
}}]
c.JupyterHub.cleanup_servers = True
"""


def _path() -> str:
    """PATH with this interpreter's bin/ first (scripts/bootstrap.sh installs the proxy
    there)."""
    return os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])


class KernelLost(ConnectionError):
    """The kernel a notebook ran in could not start or went away."""


class Hub:
    """``with Hub(tmp) as hub:`` a running JupyterHub; ``hub.url``, ``hub.token``."""

    def __init__(self, base: Path, idle_minutes: float = 0) -> None:
        self.base = Path(base)
        self.homes = self.base / "homes"
        self.token = secrets.token_hex(24)
        self.proxy_port = free_port(tcp=True, udp=False)
        self.url = f"http://127.0.0.1:{self.proxy_port}"
        self.idle_minutes = idle_minutes
        self.process: subprocess.Popen | None = None
        #: notebooks run again because their kernel was lost (see :meth:`run_notebook`)
        self.retries: list[str] = []

    def __enter__(self) -> Hub:
        self.homes.mkdir(parents=True, exist_ok=True)
        config = self.base / "jupyterhub_config.py"
        config.write_text(CONFIG.format(
            proxy_port=self.proxy_port, hub_port=free_port(tcp=True, udp=False),
            api_port=free_port(tcp=True, udp=False), pid_file=str(self.base / "proxy.pid"),
            db=self.base / "hub.sqlite", cookie=str(self.base / "cookie_secret"),
            homes=str(self.homes), python=sys.executable, root=os.geteuid() == 0,
            token=self.token, idle_minutes=self.idle_minutes), encoding="utf-8")
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(repo_root()), env.get("PYTHONPATH")) if p)
        env["PATH"] = _path()
        env.pop("TOIPKIT_HOME", None)  # each user gets ~/.toipkit in their own home
        self.log = open(self.base / "hub.log", "wb")  # noqa: SIM115 - closed in __exit__
        self.process = subprocess.Popen(  # noqa: S603 - our own command
            [sys.executable, "-m", "jupyterhub", "-f", str(config)], cwd=self.base, env=env,
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 120
        import httpx

        while True:
            if self.process.poll() is not None:
                raise RuntimeError("JupyterHub exited:\n" + self.log_tail())
            try:
                if httpx.get(f"{self.url}/hub/api/", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("JupyterHub did not answer:\n" + self.log_tail())
            time.sleep(0.3)

    def log_tail(self, size: int = 4000) -> str:
        return (self.base / "hub.log").read_bytes()[-size:].decode("utf-8", "replace")

    def __exit__(self, *exc: object) -> None:
        try:
            self._stop()
        finally:
            # A user's sandbox outlives the kernel that started it (by design: it survives a
            # kernel restart) and the Hub knows nothing of it: stop each one.
            from toipkit.xivo import sandbox

            for home in sorted(self.homes.iterdir()) if self.homes.is_dir() else []:
                data_dir = home / ".toipkit" / "sandbox"
                if data_dir.is_dir():
                    sandbox.stop(data_dir)

    def _stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            # SIGTERM: the Hub stops the single-user servers (cleanup_servers) and the proxy.
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()

    # -- REST ------------------------------------------------------------------------------
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"token {self.token}"}

    async def start_servers(self, names: list[str], timeout: float = 300) -> None:
        import httpx

        async with httpx.AsyncClient(base_url=self.url, headers=self.headers(),
                                     timeout=60) as http:
            answer = await http.post("/hub/api/users", json={"usernames": names})
            assert answer.status_code in (201, 409), answer.text
            for name in names:
                answer = await http.post(f"/hub/api/users/{name}/server")
                assert answer.status_code in (201, 202), answer.text
            deadline = time.monotonic() + timeout
            pending = set(names)
            while pending:
                for name in sorted(pending):
                    user = (await http.get(f"/hub/api/users/{name}")).json()
                    if user.get("servers", {}).get("", {}).get("ready"):
                        pending.discard(name)
                if time.monotonic() > deadline:
                    raise RuntimeError(f"servers not ready: {sorted(pending)}\n"
                                       + self.log_tail())
                await asyncio.sleep(0.5)

    async def stop_servers(self, names: list[str]) -> None:
        import httpx

        async with httpx.AsyncClient(base_url=self.url, headers=self.headers(),
                                     timeout=120) as http:
            for name in names:
                await http.delete(f"/hub/api/users/{name}/server")

    # -- kernels ---------------------------------------------------------------------------
    async def run_notebook(self, user: str, nb: nbformat.NotebookNode,
                           cell_timeout: float = CELL_TIMEOUT,
                           before_shutdown: Any = None) -> nbformat.NotebookNode:
        """Execute ``nb``'s code cells in a new kernel of ``user``'s server (through the
        proxy, with the Hub token), fill their outputs, call ``before_shutdown()`` (e.g. to
        measure memory while the kernel and what it started still run), shut the kernel
        down.

        A kernel lost on the way (it could not start, its websocket closed) is the harness's
        failure, not the lab's: the notebook runs once more in a new kernel, and
        :attr:`retries` says so. Jupyter picks kernel ports by binding then releasing them,
        so two users' kernels starting at the same moment on one host can collide."""
        from tornado.iostream import StreamClosedError
        from tornado.websocket import WebSocketClosedError

        try:
            return await self._run_once(user, nb, cell_timeout, before_shutdown)
        except (KernelLost, StreamClosedError, WebSocketClosedError) as exc:
            self.retries.append(f"{user}: {type(exc).__name__}: {exc}")
            return await self._run_once(user, nb, cell_timeout, before_shutdown)

    async def _run_once(self, user: str, nb: nbformat.NotebookNode, cell_timeout: float,
                        before_shutdown: Any) -> nbformat.NotebookNode:
        import httpx
        from tornado.httpclient import HTTPRequest
        from tornado.websocket import websocket_connect

        base = f"/user/{user}/api"
        async with httpx.AsyncClient(base_url=self.url, headers=self.headers(),
                                     timeout=180) as http:
            answer = await http.post(f"{base}/kernels", json={"name": "python3"})
            if answer.status_code != 201:
                raise KernelLost(f"no kernel: {answer.status_code} {answer.text[:200]}")
            kernel = answer.json()["id"]
            try:
                ws_url = f"ws://127.0.0.1:{self.proxy_port}{base}/kernels/{kernel}/channels"
                # A loaded host (ten kernels starting on two cores) can take more than
                # tornado's default 20 s to accept the websocket.
                conn = await websocket_connect(
                    HTTPRequest(ws_url, headers=self.headers(), connect_timeout=180,
                                request_timeout=180),
                    max_message_size=256 << 20)
                try:
                    session = uuid.uuid4().hex
                    for cell in nb.cells:
                        if cell.cell_type == "code":
                            cell.outputs = await _execute(conn, session, cell.source,
                                                          cell_timeout)
                    if before_shutdown is not None:
                        before_shutdown()
                finally:
                    conn.close()
            finally:
                await http.delete(f"{base}/kernels/{kernel}")
        return nb


async def _execute(conn: Any, session: str, code: str, timeout: float) -> list:
    msg_id = uuid.uuid4().hex
    await conn.write_message(json.dumps({
        "header": {"msg_id": msg_id, "username": "scale-test", "session": session,
                   "msg_type": "execute_request", "version": "5.3",
                   "date": datetime.datetime.now(datetime.timezone.utc).isoformat()},
        "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
        "content": {"code": code, "silent": False, "store_history": True,
                    "user_expressions": {}, "allow_stdin": False, "stop_on_error": False},
    }))
    outputs: list = []
    replied = idle = False
    deadline = time.monotonic() + timeout
    while not (replied and idle):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"cell did not finish within {timeout:.0f} s:\n{code[:200]}")
        raw = await asyncio.wait_for(conn.read_message(), remaining)
        if raw is None:
            raise KernelLost("the kernel's websocket closed")
        msg = json.loads(raw)
        if msg.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        kind = msg["header"]["msg_type"]
        if msg.get("channel") == "shell" and kind == "execute_reply":
            replied = True
        elif kind == "status" and msg["content"].get("execution_state") == "idle":
            idle = True
        elif kind == "clear_output":
            outputs = []
        elif kind in ("stream", "display_data", "execute_result", "error"):
            outputs.append(nbformat.v4.output_from_msg(msg))
    return outputs


# -- processes and memory -------------------------------------------------------------------


def singleuser_pid(home: Path) -> int | None:
    """The single-user server whose working folder is ``home``."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            if b"jupyterhub.singleuser" in cmdline and Path(os.readlink(entry / "cwd")) == home:
                return int(entry.name)
        except OSError:
            continue
    return None


def user_memory_mb(home: Path) -> tuple[float, float, int]:
    """(PSS, RSS, processes) of a user's single-user server and everything it started."""
    pid = singleuser_pid(home)
    if pid is None:
        return 0.0, 0.0, 0
    from toipkit.procfs import descendants, memory_kb

    pids = descendants(pid)
    pss = rss = 0
    for p in pids:
        a, b = memory_kb(p)
        pss, rss = pss + a, rss + b
    return pss / 1024, rss / 1024, len(pids)


# -- labs ----------------------------------------------------------------------------------


def prepared_lab(lab_id: str, student: str) -> tuple[nbformat.NotebookNode, Any]:
    """The teacher's notebook as grading would run it for ``student``: official cells marked,
    parameters injected (``student``, ``interactive=False``)."""
    from toipkit.grading import load_lab
    from toipkit.grading.labspec import is_parameters_cell
    from toipkit.grading.submission import prepare

    lab = load_lab(lab_id, repo_root() / "solutions")
    teacher = nbformat.read(lab.path, as_version=4)
    for cell in teacher.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    prepared = prepare(teacher, lab, lab.path)
    assert prepared.notebook is not None, prepared.note
    nb = prepared.notebook
    position = next((i for i, c in enumerate(nb.cells) if is_parameters_cell(c)), -1)
    nb.cells.insert(position + 1, nbformat.v4.new_code_cell(
        f"student = {student!r}\ninteractive = False"))
    return nb, lab


def score(nb: nbformat.NotebookNode, lab: Any) -> tuple[float, list[str], list[str]]:
    """(percent, missed exercises, errors) of an executed lab, as the grader scores it;
    free-text questions (marked by hand) are left out. An error reads ``cell N: Name: value``."""
    from toipkit.grading import report

    exercises, _errors = report.score_notebook(nb, lab.points, lab.hints, lab.rules)
    auto = [e for e in exercises if e.exercise in lab.points]
    missed = [f"{e.exercise}: {e.detail or e.hint}" for e in auto if not e.passed]
    got = sum(e.points for e in auto)
    possible = sum(e.max_points for e in auto) or 1.0
    errors = [f"cell {index}: {output.get('ename')}: {output.get('evalue')}"
              for index, cell in enumerate(nb.cells) if cell.cell_type == "code"
              for output in cell.get("outputs", []) if output.get("output_type") == "error"]
    return 100.0 * got / possible, missed, errors
