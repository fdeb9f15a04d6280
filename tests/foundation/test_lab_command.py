"""The README's *lab* command starts a JupyterLab that serves the labs."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time

import httpx
import pytest

from toipkit.paths import repo_root


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_make_lab_serves_the_lab_notebooks(tmp_path):
    port, token = free_port(), "toipkit-test-token"
    env = {**os.environ, "PORT": str(port), "JUPYTER_TOKEN": token,
           "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")}
    env.pop("DISPLAY", None)
    process = subprocess.Popen(
        ["bash", str(repo_root() / "scripts" / "bootstrap.sh"), "lab"],
        cwd=repo_root(), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                page = httpx.get(f"{base}/lab", params={"token": token}, timeout=5)
                if page.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, process.stdout.read().decode(errors="replace")
            assert time.monotonic() < deadline, "JupyterLab did not answer within 120 s"
            time.sleep(0.5)
        listing = httpx.get(f"{base}/api/contents/labs", params={"token": token}, timeout=10)
        assert listing.status_code == 200
        names = {item["name"] for item in listing.json()["content"]}
        expected = {p.name for p in (repo_root() / "labs").glob("*.ipynb")}
        assert "00-prise-en-main.ipynb" in names
        assert expected <= names
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
