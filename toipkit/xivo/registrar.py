"""A throw-away SIP registrar on loopback (kamailio) that challenges with digest auth.

Used to test :func:`toipkit.xivo.sip_register.register_check` without a XiVO, and handy for
making REGISTER captures. The kamailio configuration is ``toipkit/xivo/data/kamailio-registrar.conf``.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from toipkit.errors import ToipkitError

CONFIG_TEMPLATE = Path(__file__).resolve().parent / "data" / "kamailio-registrar.conf"


@dataclass
class Registrar:
    host: str
    port: int
    realm: str
    pid: int


def kamailio_config(accounts: Mapping[str, str], *, host: str = "127.0.0.1", port: int = 5060,
                    realm: str = "xivo.local", qop: bool = True) -> str:
    """The kamailio.cfg text for these accounts (user -> password)."""
    lines = []
    for user, password in accounts.items():
        if not user.replace("-", "").replace("_", "").isalnum():
            raise ValueError(f"unsupported SIP user name {user!r}")
        if '"' in password or "\\" in password or "\n" in password:
            raise ValueError("password must not contain quotes, backslashes or newlines")
        lines.append(f'\t$sht(accounts=>{user}) = "{password}";')
    text = CONFIG_TEMPLATE.read_text(encoding="utf-8")
    return (text.replace("__LISTEN__", f"udp:{host}:{port}")
            .replace("__REALM__", realm)
            .replace("__QOP__", "1" if qop else "0")
            .replace("__ACCOUNTS__", "\n".join(lines)))


def _free_udp_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _wait_ready(host: str, port: int, proc: subprocess.Popen, timeout: float) -> None:
    probe = (f"OPTIONS sip:{host}:{port} SIP/2.0\r\nVia: SIP/2.0/UDP {host}:1;branch=z9hG4bKprobe\r\n"
             f"Max-Forwards: 70\r\nFrom: <sip:probe@{host}>;tag=1\r\nTo: <sip:{host}>\r\n"
             "Call-ID: probe\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n").encode()
    deadline = time.monotonic() + timeout
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        probe = probe.replace(f"{host}:1;".encode(), f"{host}:{s.getsockname()[1]};".encode())
        s.settimeout(0.2)
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise ToipkitError(f"kamailio exited with code {proc.returncode}")
            s.sendto(probe, (host, port))
            try:
                s.recvfrom(4096)
                return
            except OSError:
                continue
    raise ToipkitError(f"kamailio did not answer on {host}:{port} within {timeout:.0f} s")


@contextmanager
def kamailio_registrar(accounts: Mapping[str, str], *, host: str = "127.0.0.1",
                       port: int | None = None, realm: str = "xivo.local", qop: bool = True,
                       timeout: float = 10.0) -> Iterator[Registrar]:
    """Run kamailio as a registrar for ``accounts`` for the duration of the ``with`` block."""
    exe = shutil.which("kamailio") or ("/usr/sbin/kamailio"
                                       if os.path.exists("/usr/sbin/kamailio") else None)
    if exe is None:
        raise ToipkitError("kamailio is not installed (apt install kamailio)")
    port = port or _free_udp_port(host)
    with tempfile.TemporaryDirectory(prefix="toipkit-kamailio-") as tmp:
        cfg = Path(tmp) / "kamailio.cfg"
        cfg.write_text(kamailio_config(accounts, host=host, port=port, realm=realm, qop=qop),
                       encoding="utf-8")
        log = open(Path(tmp) / "kamailio.log", "wb")  # noqa: SIM115 - closed below
        proc = subprocess.Popen(
            [exe, "-f", str(cfg), "-DD", "-E", "-m", "16", "-M", "4", "-Y", tmp, "-w", tmp,
             "-P", str(Path(tmp) / "kamailio.pid")],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        try:
            try:
                _wait_ready(host, port, proc, timeout)
            except ToipkitError as exc:
                log.flush()
                tail = (Path(tmp) / "kamailio.log").read_text(errors="replace")[-2000:]
                raise ToipkitError(f"{exc}\n{tail}") from None
            yield Registrar(host=host, port=port, realm=realm, pid=proc.pid)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
            log.close()
