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

from toipkit.i18n import N_, _, ngettext
from toipkit.paths import data_dir, repo_root, state_dir

APT = "apt-get install -y"
# The statistics are checked against this tshark release (see docs: reference tool).
REFERENCE_TSHARK = "4.0"


# Display names of the needs whose ``name`` (their stable id, used in --json) is not a tool name.
_LABELS = {
    "writable state folder": N_("dossier d'état inscriptible"),
    "course data (data/)": N_("données du cours (data/)"),
    "speech engine (espeak-ng)": N_("moteur de synthèse vocale (espeak-ng)"),
    "XiVO sandbox": N_("bac à sable XiVO"),
    "SIP registrar (kamailio)": N_("registrar SIP (kamailio)"),
    "softphone (baresip)": N_("téléphone logiciel (baresip)"),
    "live capture (dumpcap)": N_("capture en direct (dumpcap)"),
}


@dataclass
class Need:
    name: str
    required: bool
    ok: bool
    found: str
    fix: str
    used_by: str

    @property
    def label(self) -> str:
        """The need's name in the student's language."""
        return _(_LABELS[self.name]) if self.name in _LABELS else self.name

    @property
    def status(self) -> str:
        if self.ok:
            return "OK"
        return _("manquant") if self.required else _("facultatif, manquant")


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
                _("installer Python 3.10 ou plus récent"), _("tout"))


def _tool(name: str, package: str, command: list[str], pattern: str, required: bool,
          used_by: str) -> Need:
    path = shutil.which(command[0])
    if path is None:
        return Need(name, required, False, _("introuvable"),
                    f"{_sudo()}{APT} {package}", used_by)
    version = _version(command, pattern)
    return Need(name, required, True, version or path, "", used_by)


def _tshark() -> Need:
    need = _tool("tshark", "tshark", ["tshark", "--version"], r"TShark \(Wireshark\) (\S+)",
                 True, _("lab 03 (pyshark, statistiques comparées)"))
    if need.ok and need.found and not need.found.startswith(REFERENCE_TSHARK):
        need.found += _(" (statistiques vérifiées avec la {version}.x)").format(
            version=REFERENCE_TSHARK)
    return need


def _speech() -> Need:
    used_by = _("lab 05b (annonces du SVI)")
    if importlib.util.find_spec("espeakng_loader") is not None:
        return Need("speech engine (espeak-ng)", True, True, _("paquet espeakng-loader"), "",
                    used_by)
    if shutil.which("espeak-ng"):
        return Need("speech engine (espeak-ng)", True, True,
                    _version(["espeak-ng", "--version"], r"eSpeak NG text-to-speech: (\S+)") or "",
                    "", used_by)
    return Need("speech engine (espeak-ng)", True, False, _("introuvable"),
                _("pip install espeakng-loader  (ou {command})").format(
                    command=f"{_sudo()}{APT} espeak-ng"), used_by)


def _python_package(name: str, module: str, extra: str, required: bool, used_by: str) -> Need:
    spec = importlib.util.find_spec(module)
    if spec is None:
        return Need(name, required, False, _("non installé"),
                    f"pip install -e '.[{extra}]'", used_by)
    try:
        from importlib.metadata import version

        found = version(name)
    except Exception:
        found = _("installé")
    return Need(name, required, True, found, "", used_by)


def _writable_state() -> Need:
    try:
        folder = state_dir()
        with tempfile.NamedTemporaryFile(dir=folder):
            pass
    except OSError as exc:
        return Need("writable state folder", True, False, str(exc),
                    _("donner à TOIPKIT_HOME un dossier inscriptible"),
                    _("bac à sable, cache de synthèse vocale"))
    return Need("writable state folder", True, True, _shown(folder), "",
                _("bac à sable, cache de synthèse vocale"))


def _data() -> Need:
    folder = data_dir()
    ok = folder.is_dir() and any(folder.iterdir())
    return Need("course data (data/)", True, ok, _shown(folder) if ok else _("introuvable"),
                _("lancer depuis un clone du dépôt ou définir TOIPKIT_DATA"), _("labs 03 à 05"))


def _sandbox() -> Need:
    used_by = _("labs 01, 02, 04 sans VM XiVO")
    if importlib.util.find_spec("toipkit.xivo.sandbox") is None:
        return Need("XiVO sandbox", False, False, _("absent de cette version"), "", used_by)
    from toipkit.xivo import sandbox

    try:
        info = sandbox.status()
    except Exception as exc:  # report, don't crash the doctor
        return Need("XiVO sandbox", False, False, _("erreur : {error}").format(error=exc),
                    "toipkit sandbox reset", used_by)
    if info is None:
        return Need("XiVO sandbox", False, True, _("arrêté (démarre à la demande)"), "", used_by)
    return Need("XiVO sandbox", False, True, _("démarré sur {url}").format(url=info.url), "",
                used_by)


def _registrar() -> Need:
    used_by = _("réseau des labs : enregistrement des téléphones, appels (labs 02 à 05)")
    from toipkit.phone import registrar

    if registrar.kamailio_path() is None:
        return Need("SIP registrar (kamailio)", False, False, _("introuvable"),
                    f"{_sudo()}{APT} kamailio kamailio-sqlite-modules", used_by)
    if not registrar.available():
        return Need("SIP registrar (kamailio)", False, False, _("module SQLite absent"),
                    f"{_sudo()}{APT} kamailio-sqlite-modules", used_by)
    return Need("SIP registrar (kamailio)", False, True,
                _version(["kamailio", "-v"], r"version: kamailio (\S+)") or _("installé"), "",
                used_by)


def _phones() -> Need:
    used_by = _("réseau des labs : téléphones logiciels pilotés depuis les carnets")
    from toipkit.phone import baresip

    if not baresip.available():
        return Need("softphone (baresip)", False, False, _("introuvable"),
                    f"{_sudo()}{APT} baresip-core", used_by)
    return Need("softphone (baresip)", False, True, _("installé"), "", used_by)


def _live_capture() -> Need:
    used_by = _("labs 03 et 04 : capturer vos propres appels (sinon les captures fournies)")
    dumpcap = shutil.which("dumpcap") or ("/usr/bin/dumpcap" if os.path.exists("/usr/bin/dumpcap")
                                          else None)
    if dumpcap is None:
        return Need("live capture (dumpcap)", False, False, _("introuvable"),
                    f"{_sudo()}{APT} tshark", used_by)
    if os.geteuid() == 0:
        return Need("live capture (dumpcap)", False, True, _("autorisée (root)"), "", used_by)
    try:
        capabilities = os.getxattr(dumpcap, "security.capability")
    except OSError:
        capabilities = b""
    if capabilities:
        return Need("live capture (dumpcap)", False, True, _("autorisée (capabilities)"), "",
                    used_by)
    return Need("live capture (dumpcap)", False, False, _("non autorisée pour cet utilisateur"),
                f"{_sudo()}setcap cap_net_raw,cap_net_admin=eip {dumpcap}", used_by)


CHECKS: tuple[Callable[[], Need], ...] = (
    _python,
    lambda: _python_package("toipkit", "toipkit", "dev", True, _("tout")),
    lambda: _python_package("jupyterlab", "jupyterlab", "lab", False, _("ouvrir les labs")),
    lambda: _python_package("papermill", "papermill", "lab", True,
                            _("exécuter les labs sans interface, correction")),
    lambda: _python_package("pyshark", "pyshark", "lab", True, _("lab 03")),
    _tshark,
    lambda: _tool("sipp", "sip-tester", ["sipp", "-v"], r"SIPp v?(\S+?)[-\s]", False,
                  _("test d'enregistrement, génération de captures")),
    _speech,
    lambda: _tool("sox", "sox", ["sox", "--version"], r"SoX v(\S+)", False,
                  _("annonces .gsm")),
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
    headers = (_("besoin"), _("état"), _("trouvé"), _("correctif"))
    rows = [(n.label, n.status, n.found, "" if n.ok else n.fix) for n in needs]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers[:3])]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers[:3], widths)) + "  " + headers[3]]
    lines.append("  ".join("-" * w for w in widths) + "  " + "-" * len(headers[3]))
    for row in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row[:3], widths)) + "  " + row[3])
    return "\n".join(line.rstrip() for line in lines)


def doctor_frame():
    """The same table as a DataFrame (for notebooks)."""
    import pandas as pd

    return pd.DataFrame(
        [{_("besoin"): n.label, _("état"): n.status, _("trouvé"): n.found,
          _("correctif"): "" if n.ok else n.fix,
          _("utilisé par"): n.used_by} for n in run_checks()]
    )


def _handler(args: argparse.Namespace) -> int:
    needs = run_checks()
    if args.json:
        import json

        print(json.dumps([{**n.__dict__, "label": n.label, "status": n.status} for n in needs],
                         indent=2, ensure_ascii=False))
    else:
        print(format_table(needs))
    missing = [n for n in needs if n.required and not n.ok]
    if missing and not args.json:
        print("\n" + ngettext("{n} élément indispensable manquant : {names}",
                              "{n} éléments indispensables manquants : {names}", len(missing)
                              ).format(n=len(missing), names=", ".join(n.label for n in missing)))
    return 1 if missing else 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("doctor", help=_("vérifier que cette machine a ce qu'il faut pour les TP"))
    parser.add_argument("--json", action="store_true", help=_("sortie JSON (pour un programme)"))
    parser.set_defaults(handler=_handler)
