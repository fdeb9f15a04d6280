"""REGISTER digest against sipp's own digest check (a second, independent implementation)."""

from __future__ import annotations

import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from toipkit.paths import repo_root
from toipkit.xivo.sip_register import register_check

SIPP = shutil.which("sipp") or shutil.which("sip-tester")
pytestmark = pytest.mark.skipif(SIPP is None, reason="sipp not installed")
HERE = Path(__file__).resolve().parent
REGISTRAR = repo_root() / "scripts" / "sipp" / "uas_registrar.xml"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(scenario: Path, keys: dict[str, str], user: str, password: str):
    port = _free_port()
    cmd = [SIPP, "-sf", str(scenario), "-i", "127.0.0.1", "-p", str(port), "-m", "1",
           "-nostdin", "-timeout", "10s"]
    for key, value in keys.items():
        cmd += ["-key", key, value]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            cwd=HERE, start_new_session=True)
    try:
        result = None
        for _ in range(20):  # sipp needs a moment to bind: retry until it answers
            result = register_check("127.0.0.1", user, password, port=port, timeout=0.5,
                                    domain="xivo.local")
            if result.status is not None:
                break
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return result


def test_project_registrar_scenario_accepts_right_password():
    if not REGISTRAR.exists():
        pytest.skip("scripts/sipp/uas_registrar.xml absent")
    keys = {"tag": "t1", "nonce": "abcdef0123456789abcdef0123456789", "user": "geralt101",
            "password": "Kaer-Morhen1", "domain": "xivo.local"}
    result = _run(REGISTRAR, keys, "geralt101", "Kaer-Morhen1")
    assert result.ok and [s.status for s in result.steps] == [None, 401, None, 200]


def test_project_registrar_scenario_403_on_wrong_password():
    if not REGISTRAR.exists():
        pytest.skip("scripts/sipp/uas_registrar.xml absent")
    keys = {"tag": "t1", "nonce": "abcdef0123456789abcdef0123456789", "user": "geralt101",
            "password": "Kaer-Morhen1", "domain": "xivo.local"}
    result = _run(REGISTRAR, keys, "geralt101", "wrong")
    assert result.status == 403
    assert result.verdict.startswith("❌ Enregistrement refusé (403")


def test_stale_nonce_is_retried_once():
    result = _run(HERE / "data" / "uas_stale_nonce.xml",
                  {"user": "yen102", "password": "lilac"}, "yen102", "lilac")
    assert [s.status for s in result.steps] == [None, 401, None, 401, None, 200]
    assert result.ok
