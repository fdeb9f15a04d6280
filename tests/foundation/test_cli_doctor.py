"""The installed console script: --help, doctor (with and without tshark), course check."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

TOIPKIT = str(Path(sys.executable).with_name("toipkit"))


def run(*args, env=None):
    return subprocess.run([TOIPKIT, *args], capture_output=True, text=True, env=env, timeout=120)


def test_help_lists_the_commands():
    result = run("--help")
    assert result.returncode == 0
    for command in ("doctor", "course"):
        assert command in result.stdout


def test_course_check_passes_on_the_repository():
    result = run("course", "check")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")
def test_doctor_reports_tshark_version():
    result = run("doctor", "--json")
    needs = {n["name"]: n for n in json.loads(result.stdout)}
    assert needs["tshark"]["ok"] and needs["tshark"]["found"].startswith("4.")
    assert result.returncode == 0, result.stdout


def test_doctor_without_tshark_fails_and_gives_the_fix(tmp_path):
    # A PATH holding only this venv's scripts and the basics: tshark is then missing.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{bin_dir}"}
    result = run("doctor", env=env)
    assert result.returncode == 1
    line = next(line for line in result.stdout.splitlines() if line.startswith("tshark"))
    assert "manquant" in line and "apt-get install -y tshark" in line


def test_doctor_reports_an_unwritable_state_folder(tmp_path):
    if os.geteuid() == 0:
        target = "/proc/toipkit-cannot-write-here"  # even root cannot create folders in /proc
    else:
        target = str(tmp_path / "ro")
        os.mkdir(target, 0o500)
    env = {**os.environ, "TOIPKIT_HOME": target}
    result = run("doctor", "--json", env=env)
    needs = {n["name"]: n for n in json.loads(result.stdout)}
    assert not needs["writable state folder"]["ok"]
    assert result.returncode == 1
