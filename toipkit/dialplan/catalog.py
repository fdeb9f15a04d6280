"""Which Asterisk version has which dialplan application and function.

The table (:mod:`toipkit.dialplan.catalog_data`) is derived from Asterisk's own sources: every
module documents its applications and functions in XML (``<application name="Dial">``,
``<function name="CHANNEL">``, and the channel variables they set, ``<variable
name="DIALSTATUS">``, plus those the C code sets by name with ``pbx_builtin_setvar_helper``) inside the ``.c`` file or a ``*_doc.xml`` beside it, and Asterisk
builds ``core show applications`` from the same registrations. Regenerate it from a git clone of
Asterisk with::

    python -m toipkit.dialplan.catalog /path/to/asterisk > toipkit/dialplan/catalog_data.py

Versions are the release branches (``1.8 11 13 16 18 20 21 22 23``). An application of a module
that is not built by default (``addons/``, or marked ``<defaultenabled>no``/``<support_level>
deprecated``) is still listed: it *can* exist on a PBX, so calling it is not a typo.
"""

from __future__ import annotations

import re
import subprocess
import sys
from functools import lru_cache

from toipkit.dialplan.catalog_data import APPS, FUNCTIONS, VARIABLES, VERSIONS
from toipkit.i18n import _

__all__ = ["VERSIONS", "DEFAULT_VERSIONS", "APPS", "FUNCTIONS", "VARIABLES", "parse_versions",
           "app_versions", "has_app", "version_label"]

# The course's XiVO (16.13, on Asterisk 13) and a current long-term-support release. A finding
# true in only one of them is reported as version-dependent.
DEFAULT_VERSIONS: tuple[str, ...] = ("13", "22")


def _vkey(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in v.split("."))


def parse_versions(spec) -> tuple[str, ...]:
    """``"13"``, ``"13,22"``, ``22``, ``("13", "22")`` or None (default) -> known branch names.

    A version between two known branches (``"19"``, ``"20.7"``) maps to the closest older
    branch we have."""
    if spec is None or spec == "" or spec == ():
        return DEFAULT_VERSIONS
    if isinstance(spec, (int, float)):
        spec = str(spec)
    parts = re.split(r"[,\s]+", spec.strip()) if isinstance(spec, str) else [str(s) for s in spec]
    out: list[str] = []
    for raw in parts:
        if not raw:
            continue
        m = re.fullmatch(r"(\d+)(?:\.(\d+))?(?:\.\d+)*", raw.strip())
        if not m:
            raise ValueError(_("version d'Asterisk inconnue : {version} (par exemple 13, 18, "
                               "22)").format(version=repr(raw)))
        want = (int(m.group(1)), int(m.group(2) or 0)) if m.group(1) == "1" else (int(m.group(1)),)
        older = [v for v in VERSIONS if _vkey(v) <= want]
        if not older:
            raise ValueError(_("Asterisk {version} est plus ancien que la plus ancienne version "
                               "connue ({oldest})").format(version=raw, oldest=VERSIONS[0]))
        if older[-1] not in out:
            out.append(older[-1])
    return tuple(out) or DEFAULT_VERSIONS


@lru_cache(maxsize=1024)
def app_versions(name: str) -> frozenset[str]:
    """Branches whose sources register application ``name`` (case-insensitive)."""
    entry = APPS.get(name.lower())
    return frozenset(entry[2].split()) if entry else frozenset()


def has_app(name: str, versions=None) -> bool:
    """True when ``name`` exists in every one of ``versions`` (default: :data:`DEFAULT_VERSIONS`)."""
    have = app_versions(name)
    return all(v in have for v in parse_versions(versions))


def version_label(present: frozenset[str] | set[str]) -> str:
    """Human summary of the branches an application exists in: ``"≤ 20"``, ``"≥ 16"``…"""
    known = [v for v in VERSIONS if v in present]
    if not known:
        return "none"
    first, last = known[0], known[-1]
    if first == VERSIONS[0] and last == VERSIONS[-1]:
        return "all"
    if first == VERSIONS[0]:
        return f"≤ {last}"
    if last == VERSIONS[-1]:
        return f"≥ {first}"
    return f"{first}–{last}"


# -- regeneration ------------------------------------------------------------------------------
_DOC_RE = re.compile(r'<(application|function|variable) name="([^"]+)"')
_BRANCHES = ("1.8", "11", "13", "16", "18", "20", "21", "22", "23")


_SETVAR_RE = re.compile(r'pbx_builtin_setvar_helper\([^,()]+,\s*"([A-Za-z_][A-Za-z0-9_]*)"')


def _scan(repo: str, branch: str) -> dict[str, dict[str, str]]:
    out = subprocess.run(
        ["git", "-C", repo, "grep", "-I", "-E", '<(application|function|variable) name="', branch,
         "--",
         "*.c", "*.xml"], capture_output=True, text=True, check=False).stdout
    found: dict[str, dict[str, str]] = {"application": {}, "function": {}, "variable": {}}
    for line in out.splitlines():
        _, path, text = line.split(":", 2)
        for kind, name in _DOC_RE.findall(text):
            found[kind].setdefault(name, path)
    # Variables the C code sets on the channel by name, documented or not.
    out = subprocess.run(
        ["git", "-C", repo, "grep", "-I", "-E", 'pbx_builtin_setvar_helper\\([^,()]+, *"', branch,
         "--", "*.c"], capture_output=True, text=True, check=False).stdout
    for line in out.splitlines():
        _, path, text = line.split(":", 2)
        for name in _SETVAR_RE.findall(text):
            found["variable"].setdefault(name, path)
    return found


def generate(repo: str) -> str:
    branches = [b for b in _BRANCHES if subprocess.run(
        ["git", "-C", repo, "rev-parse", "--verify", "-q", b], capture_output=True).returncode == 0]
    tables: dict[str, dict[str, list]] = {"application": {}, "function": {}, "variable": {}}
    for b in branches:
        for kind, names in _scan(repo, b).items():
            for name, path in names.items():
                key = name if kind == "variable" else name.lower()  # variables: case matters
                entry = tables[kind].setdefault(key, [name, path, []])
                entry[0], entry[1] = name, path  # newest spelling and module
                entry[2].append(b)
    lines = ['"""Applications and functions per Asterisk branch, from the XML documentation in',
             "Asterisk's sources (generated by ``python -m toipkit.dialplan.catalog``; do not edit).",
             '"""', "", "# ruff: noqa: E501", "",
             f"VERSIONS = {tuple(branches)!r}", ""]
    for kind, var in (("application", "APPS"), ("function", "FUNCTIONS"),
                      ("variable", "VARIABLES")):
        lines.append("# lowercase name -> (spelling, module source file, branches)")
        lines.append(f"{var} = {{")
        for key in sorted(tables[kind]):
            name, path, vs = tables[kind][key]
            lines.append(f"    {key!r}: ({name!r}, {path!r}, {' '.join(vs)!r}),")
        lines.append("}")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover - maintainer tool
    if len(sys.argv) != 2:
        sys.exit("usage: python -m toipkit.dialplan.catalog ASTERISK_GIT_CLONE")
    sys.stdout.write(generate(sys.argv[1]))
