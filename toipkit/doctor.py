"""``toipkit doctor``: is this machine ready for the labs?

One row per need: what it is, OK / missing, the version found, and the exact command that fixes
it. Required needs make the exit status non-zero when missing; optional ones only warn.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass

from toipkit.paths import data_dir, repo_root, state_dir

APT = "apt-get install -y"
# The statistics are checked against this tshark release (see docs: reference tool).
REFERENCE_TSHARK = "4.0"


@dataclass
class Need:
    name: str
    required: bool
    ok: bool
    found: str
    fix: str
    used_by: str

    @property
    def status(self) -> str:
        if self.ok:
            return "OK"
        return "missing" if self.required else "optional, missing"


def _version(command: list[str], pattern: str) -> str | None:
    try:
        completed = subprocess.run(command, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(pattern, completed.stdout + completed.stderr)
    return match.group(1) if match else ""


def _sudo() -> str:
    return "" if os.geteuid() == 0 else "sudo "


def _shown(path) -> str:
    """A path as a student recognises it: ``data/`` in the checkout, ``~/...`` in the home."""
    from pathlib import Path

    path = Path(path)
    for base, label in ((repo_root(), ""), (Path.home(), "~/")):
        try:
            relative = path.resolve().relative_to(base.resolve())
        except ValueError:
            continue
        return f"{label}{relative.as_posix()}/" if str(relative) != "." else label or "./"
    return str(path)


def _python() -> Need:
    version = ".".join(map(str, sys.version_info[:3]))
    return Need("Python >= 3.10", True, sys.version_info >= (3, 10), version,
                "install Python 3.10 or newer", "everything")


def _tool(name: str, package: str, command: list[str], pattern: str, required: bool,
          used_by: str) -> Need:
    path = shutil.which(command[0])
    if path is None:
        return Need(name, required, False, "not found",
                    f"{_sudo()}{APT} {package}", used_by)
    version = _version(command, pattern)
    return Need(name, required, True, version or path, "", used_by)


def _tshark() -> Need:
    need = _tool("tshark", "tshark", ["tshark", "--version"], r"TShark \(Wireshark\) (\S+)",
                 True, "lab 03 (pyshark, side-by-side statistics)")
    if need.ok and need.found and not need.found.startswith(REFERENCE_TSHARK):
        need.found += f" (statistics are checked against {REFERENCE_TSHARK}.x)"
    return need


def _speech() -> Need:
    if importlib.util.find_spec("espeakng_loader") is not None:
        return Need("speech engine (espeak-ng)", True, True, "espeakng-loader wheel", "",
                    "lab 05b (IVR prompts)")
    if shutil.which("espeak-ng"):
        return Need("speech engine (espeak-ng)", True, True,
                    _version(["espeak-ng", "--version"], r"eSpeak NG text-to-speech: (\S+)") or "",
                    "", "lab 05b (IVR prompts)")
    return Need("speech engine (espeak-ng)", True, False, "not found",
                f"pip install espeakng-loader  (or {_sudo()}{APT} espeak-ng)", "lab 05b (IVR prompts)")


def _python_package(name: str, module: str, extra: str, required: bool, used_by: str) -> Need:
    spec = importlib.util.find_spec(module)
    if spec is None:
        return Need(name, required, False, "not installed",
                    f"pip install -e '.[{extra}]'", used_by)
    try:
        from importlib.metadata import version

        found = version(name)
    except Exception:
        found = "installed"
    return Need(name, required, True, found, "", used_by)


def _writable_state() -> Need:
    try:
        folder = state_dir()
        with tempfile.NamedTemporaryFile(dir=folder):
            pass
    except OSError as exc:
        return Need("writable state folder", True, False, str(exc),
                    "set TOIPKIT_HOME to a writable folder", "sandbox, TTS cache")
    return Need("writable state folder", True, True, _shown(folder), "", "sandbox, TTS cache")


def _data() -> Need:
    folder = data_dir()
    ok = folder.is_dir() and any(folder.iterdir())
    return Need("course data (data/)", True, ok, _shown(folder) if ok else "not found",
                "run from a clone of the repository or set TOIPKIT_DATA", "labs 03–05")


def _sandbox() -> Need:
    used_by = "labs 01, 02, 04 without a XiVO VM"
    if importlib.util.find_spec("toipkit.xivo.sandbox") is None:
        return Need("XiVO sandbox", False, False, "not available in this version", "", used_by)
    from toipkit.xivo import sandbox

    try:
        info = sandbox.status()
    except Exception as exc:  # report, don't crash the doctor
        return Need("XiVO sandbox", False, False, f"error: {exc}", "toipkit sandbox reset", used_by)
    if info is None:
        return Need("XiVO sandbox", False, True, "stopped (starts on demand)", "", used_by)
    return Need("XiVO sandbox", False, True, f"running at {info.url}", "", used_by)


def _registrar() -> Need:
    used_by = "lab network: phones register, calls (labs 02–05)"
    from toipkit.phone import registrar

    if registrar.kamailio_path() is None:
        return Need("SIP registrar (kamailio)", False, False, "not found",
                    f"{_sudo()}{APT} kamailio kamailio-sqlite-modules", used_by)
    if not registrar.available():
        return Need("SIP registrar (kamailio)", False, False, "no SQLite module",
                    f"{_sudo()}{APT} kamailio-sqlite-modules", used_by)
    return Need("SIP registrar (kamailio)", False, True,
                _version(["kamailio", "-v"], r"version: kamailio (\S+)") or "installed", "",
                used_by)


def _phones() -> Need:
    used_by = "lab network: softphones driven from the notebooks"
    from toipkit.phone import baresip

    if not baresip.available():
        return Need("softphone (baresip)", False, False, "not found",
                    f"{_sudo()}{APT} baresip-core", used_by)
    return Need("softphone (baresip)", False, True, "installed", "", used_by)


def _live_capture() -> Need:
    used_by = "labs 03–04: capturing your own calls (otherwise the recorded samples)"
    dumpcap = shutil.which("dumpcap") or ("/usr/bin/dumpcap" if os.path.exists("/usr/bin/dumpcap")
                                          else None)
    if dumpcap is None:
        return Need("live capture (dumpcap)", False, False, "not found",
                    f"{_sudo()}{APT} tshark", used_by)
    if os.geteuid() == 0:
        return Need("live capture (dumpcap)", False, True, "allowed (root)", "", used_by)
    try:
        capabilities = os.getxattr(dumpcap, "security.capability")
    except OSError:
        capabilities = b""
    if capabilities:
        return Need("live capture (dumpcap)", False, True, "allowed (capabilities)", "", used_by)
    return Need("live capture (dumpcap)", False, False, "not allowed for this user",
                f"{_sudo()}setcap cap_net_raw,cap_net_admin=eip {dumpcap}", used_by)


CHECKS: tuple[Callable[[], Need], ...] = (
    _python,
    lambda: _python_package("toipkit", "toipkit", "dev", True, "everything"),
    lambda: _python_package("jupyterlab", "jupyterlab", "lab", False, "opening the labs"),
    lambda: _python_package("papermill", "papermill", "lab", True, "running labs headless, grading"),
    lambda: _python_package("pyshark", "pyshark", "lab", True, "lab 03"),
    _tshark,
    lambda: _tool("sipp", "sip-tester", ["sipp", "-v"], r"SIPp v?(\S+?)[-\s]", False,
                  "registration check, capture generator"),
    _speech,
    lambda: _tool("sox", "sox", ["sox", "--version"], r"SoX v(\S+)", False, ".gsm prompts"),
    _writable_state,
    _data,
    _sandbox,
    _registrar,
    _phones,
    _live_capture,
)


def run_checks() -> list[Need]:
    return [check() for check in CHECKS]


def format_table(needs: list[Need]) -> str:
    headers = ("need", "status", "found", "fix")
    rows = [(n.name, n.status, n.found, "" if n.ok else n.fix) for n in needs]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers[:3])]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers[:3], widths)) + "  fix"]
    lines.append("  ".join("-" * w for w in widths) + "  ---")
    for row in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row[:3], widths)) + "  " + row[3])
    return "\n".join(line.rstrip() for line in lines)


def doctor_frame():
    """The same table as a DataFrame (for notebooks)."""
    import pandas as pd

    return pd.DataFrame(
        [{"besoin": n.name, "état": n.status, "trouvé": n.found,
          "correctif": "" if n.ok else n.fix,
          "utilisé par": n.used_by} for n in run_checks()]
    )


def _handler(args: argparse.Namespace) -> int:
    needs = run_checks()
    if args.json:
        import json

        print(json.dumps([{**n.__dict__, "status": n.status} for n in needs], indent=2))
    else:
        print(format_table(needs))
    missing = [n for n in needs if n.required and not n.ok]
    if missing and not args.json:
        print(f"\n{len(missing)} required item(s) missing: " + ", ".join(n.name for n in missing))
    return 1 if missing else 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("doctor", help="check that this machine has what the labs need")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(handler=_handler)
