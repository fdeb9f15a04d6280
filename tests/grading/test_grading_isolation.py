"""OS fences used around student kernels: hidden paths, environment, uid leases, limits."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from toipkit.grading import isolation

ROOT_LINUX = isolation.can_drop_privileges()
NAMESPACES = isolation.namespaces_available()


@pytest.mark.skipif(not NAMESPACES, reason="mount namespaces need root on Linux")
def test_hidden_paths_are_covered_and_kept_paths_bound_back(tmp_path):
    course = tmp_path / "course"
    (course / "keep" / "inner-secret").mkdir(parents=True)
    (course / "secret.txt").write_text("answer")
    (course / "keep" / "ok.txt").write_text("fine")
    (course / "keep" / "inner-secret" / "x.txt").write_text("answer")
    loose = tmp_path / "grading.yaml"
    loose.write_text("answer")
    scratch = tmp_path / "scratch"
    (scratch / "left-by-someone").mkdir(parents=True)
    script = f"""
import json, os
from toipkit.grading.isolation import hide_paths
covered = hide_paths({[str(course), str(course / "keep" / "inner-secret"), str(loose)]!r},
                     {[str(course / "keep")]!r}, {[str(scratch)]!r})
open({str(scratch / "note.txt")!r}, "w").write("x")
print(json.dumps({{
    "covered": covered,
    "course": sorted(os.listdir({str(course)!r})),
    "keep": sorted(os.listdir({str(course / "keep")!r})),
    "ok": open({str(course / "keep" / "ok.txt")!r}).read(),
    "inner": sorted(os.listdir({str(course / "keep" / "inner-secret")!r})),
    "loose": open({str(loose)!r}).read(),
    "scratch": sorted(os.listdir({str(scratch)!r})),
}}))
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout)
    assert seen["course"] == ["keep"]  # secret.txt gone, the kept folder is back
    assert seen["keep"] == ["inner-secret", "ok.txt"] and seen["ok"] == "fine"
    assert seen["inner"] == [] and seen["loose"] == ""
    assert seen["scratch"] == ["note.txt"]  # fresh and writable inside, gone outside
    assert sorted(os.listdir(scratch)) == ["left-by-someone"]
    # the grader's own view is untouched (the namespace was the child's)
    assert (course / "secret.txt").read_text() == "answer"


def test_environment_is_a_whitelist(tmp_path, monkeypatch):
    monkeypatch.setenv("XIVO_PASSWORD", "hunter2")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "abc")
    monkeypatch.setenv("LICENCE_SERVER", "lic:1234")
    env = isolation.child_environment(tmp_path, passthrough=("LICENCE_SERVER",))
    assert "XIVO_PASSWORD" not in env and "AWS_SECRET_ACCESS_KEY" not in env
    assert env["LICENCE_SERVER"] == "lic:1234"
    assert env["HOME"] == str(tmp_path) and env["TOIPKIT_HOME"] == str(tmp_path / "toipkit")
    assert env["PYTHONHASHSEED"] == "0"


@pytest.mark.skipif(not ROOT_LINUX, reason="uid leases are for root")
def test_uid_leases_are_exclusive(tmp_path, monkeypatch):
    monkeypatch.setenv("TOIPKIT_GRADING_LOCKS", str(tmp_path / "locks"))
    first, second = isolation.UidLease(), isolation.UidLease()
    assert first.uid != second.uid
    uid = first.uid
    first.release()
    third = isolation.UidLease()
    assert third.uid == uid
    second.release()
    third.release()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="POSIX only")
def test_launcher_applies_memory_limit(tmp_path):
    """The kernel launcher sets RLIMIT_AS before exec: a big allocation fails in the child."""
    code = "import resource; print(resource.getrlimit(resource.RLIMIT_AS)[0] // 2**20)"
    out = subprocess.run(
        [sys.executable, "-m", "toipkit.grading.launch", "--memory", "512", "--pidfile",
         str(tmp_path / "pid"), "--", sys.executable, "-c", code],
        capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "512"
    assert Path(tmp_path / "pid").read_text().strip().isdigit()
