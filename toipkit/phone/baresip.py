"""One baresip process (a real, maintained SIP user agent) driven over its TCP control port.

baresip's ``ctrl_tcp`` module speaks JSON in netstrings: requests
``{"command": "dial", "params": "...", "token": "..."}``, responses
``{"response": true, "ok": ..., "data": "...", "token": "..."}`` and events
``{"event": true, "class": "call", "type": "CALL_ESTABLISHED", ...}``.
This module starts the process with a configuration of its own (loopback ports, G.711 only,
audio from a WAV file, what it hears dumped to WAV files) and turns the control protocol into
method calls and an event queue. :class:`toipkit.phone.Phone` builds the notebook API on it.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from toipkit.errors import ToipkitError
from toipkit.phone.processes import die_with_parent

MODULE_PATH = Path("/usr/lib/baresip/modules")
START_TIMEOUT = 10.0


class AgentError(ToipkitError):
    """The SIP agent could not be started or did not do what it was asked."""


def baresip_path() -> str | None:
    import shutil

    return shutil.which("baresip")


def available() -> bool:
    return baresip_path() is not None and (MODULE_PATH / "ctrl_tcp.so").exists()


@dataclass(frozen=True)
class AgentConfig:
    """Where the agent listens and what it plays/records."""

    folder: Path
    host: str
    sip_port: int
    ctrl_port: int
    rtp_port: int
    audio_source: Path
    record_dir: Path
    codecs: tuple[str, ...] = ("PCMU", "PCMA")
    user_agent: str = "toipkit-phone (baresip)"

    def config_text(self) -> str:
        modules = ["g711.so", "aufile.so", "sndfile.so"]
        lines = [
            "poll_method epoll",
            f"sip_listen {self.host}:{self.sip_port}",
            "sip_trans_def udp",
            # One call at a time, like a desk phone without call waiting: a second call gets 486.
            "call_max_calls 1",
            "call_local_timeout 120",
            f"audio_source aufile,{self.audio_source}",
            "audio_player",
            "audio_alert",
            "audio_level no",
            "ausrc_srate 8000",
            "ausrc_channels 1",
            f"rtp_ports {self.rtp_port}-{self.rtp_port + 1}",
            "rtcp_mux no",
            f"net_interface {self.host}",
            "jitter_buffer_delay 1-5",
            "rtp_stats no",
            f"module_path {MODULE_PATH}",
            *[f"module {m}" for m in modules],
            "module_app account.so",
            "module_app menu.so",
            "module_app ctrl_tcp.so",
            f"ctrl_tcp_listen {self.host}:{self.ctrl_port}",
            # Relative to the agent's folder (its working directory): sndfile cuts long paths.
            f"snd_path {os.path.relpath(self.record_dir, self.folder)}",
            f"user_agent {self.user_agent}",
        ]
        return "\n".join(lines) + "\n"


def _netstring(payload: bytes) -> bytes:
    return str(len(payload)).encode() + b":" + payload + b","


class Agent:
    """A running baresip process. Use :meth:`start`, then :meth:`command`; :meth:`close` ends it."""

    def __init__(self, config: AgentConfig) -> None:
        self.config = config
        self.process: subprocess.Popen | None = None
        self._sock: socket.socket | None = None
        self._responses: dict[str, queue.Queue] = {}
        self._listeners: list[Callable[[dict[str, Any]], None]] = []
        self._lock = threading.Lock()
        self._reader: threading.Thread | None = None
        self._token = 0
        self.log_path = config.folder / "agent.log"

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        exe = baresip_path()
        if exe is None or not available():
            raise AgentError("baresip n'est pas installé (paquet Debian baresip-core) : "
                             "pas de téléphone logiciel")
        folder = self.config.folder
        folder.mkdir(parents=True, exist_ok=True)
        self.config.record_dir.mkdir(parents=True, exist_ok=True)
        (folder / "config").write_text(self.config.config_text(), encoding="utf-8")
        (folder / "accounts").write_text("", encoding="utf-8")
        (folder / "contacts").write_text("", encoding="utf-8")
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child
        try:
            self.process = subprocess.Popen(  # noqa: S603 - fixed arguments
                [exe, "-f", str(folder), "-s"], stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, close_fds=True, cwd=str(folder),
                preexec_fn=die_with_parent)
        finally:
            log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.process.poll() is not None:
                raise AgentError(f"baresip exited with code {self.process.returncode}:\n"
                                 f"{self.log_tail()}")
            try:
                self._sock = socket.create_connection((self.config.host, self.config.ctrl_port),
                                                      timeout=0.5)
                break
            except OSError:
                if time.monotonic() > deadline:
                    self.close()
                    raise AgentError("baresip did not open its control port within "
                                     f"{START_TIMEOUT:.0f} s:\n{self.log_tail()}") from None
                time.sleep(0.05)
        self._sock.settimeout(None)
        self._reader = threading.Thread(target=self._read_loop, name="baresip-ctrl", daemon=True)
        self._reader.start()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            if self._sock is not None:
                self._sock.close()
        proc = self.process
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=3)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text("utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    # -- control protocol --------------------------------------------------------------------
    def add_listener(self, callback: Callable[[dict[str, Any]], None]) -> None:
        self._listeners.append(callback)

    def command(self, command: str, params: str = "", timeout: float = 5.0) -> dict[str, Any]:
        """Send one command and wait for its response (``{"ok": bool, "data": str}``)."""
        if self._sock is None or not self.running:
            raise AgentError("le téléphone est arrêté")
        with self._lock:
            self._token += 1
            token = f"t{self._token}"
            self._responses[token] = queue.Queue(maxsize=1)
        payload = json.dumps({"command": command, "params": params, "token": token}).encode()
        try:
            try:
                self._sock.sendall(_netstring(payload))
            except OSError as exc:  # baresip is exiting: its control connection is gone
                raise AgentError(f"le téléphone est arrêté ({exc.strerror})") from None
            return self._responses[token].get(timeout=timeout)
        except queue.Empty:
            raise AgentError(f"baresip n'a pas répondu à la commande {command!r}") from None
        finally:
            self._responses.pop(token, None)

    def _read_loop(self) -> None:
        buffer = b""
        sock = self._sock
        assert sock is not None
        while True:
            try:
                chunk = sock.recv(65536)
            except OSError:
                return
            if not chunk:
                return
            buffer += chunk
            while True:
                colon = buffer.find(b":")
                if colon < 0 or not buffer[:colon].isdigit():
                    break
                size = int(buffer[:colon])
                end = colon + 1 + size
                if len(buffer) < end + 1:
                    break
                payload, buffer = buffer[colon + 1:end], buffer[end + 1:]
                try:
                    message = json.loads(payload.decode("utf-8", errors="replace"))
                except ValueError:
                    continue
                self._dispatch(message)

    def _dispatch(self, message: dict[str, Any]) -> None:
        if message.get("response"):
            waiting = self._responses.get(str(message.get("token")))
            if waiting is not None:
                with contextlib.suppress(queue.Full):
                    waiting.put_nowait(message)
            return
        if message.get("event"):
            for callback in list(self._listeners):
                with contextlib.suppress(Exception):
                    callback(message)
