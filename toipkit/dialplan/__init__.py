"""Asterisk dialplans (``extensions.conf``) without a PBX: parse, lint, show, simulate.

Public API::

    dp = parse(text, filename=None, lenient=False)   # or parse_file(path)
    dp.contexts["ivr"].sorted_extensions()            # Asterisk's lookup order
    dp.show()          # like `dialplan show`
    dp.to_frame()      # one row per priority
    dp.to_text()       # back to extensions.conf
    dp.graph()         # Mermaid flowchart of the jumps
    findings = lint(dp, lang="fr")                    # Finding(rule, severity, file, line, ...)
    trace = simulate(dp, "ivr", "s", dtmf="1", directory={...}, sounds={...})
    trace.outcome, trace.steps, trace.to_frame()

Positions are 1-based ``file:line:column``. Errors are :class:`toipkit.errors.DialplanSyntaxError`.
"""

from __future__ import annotations

from toipkit.dialplan.lint import RULES, Finding, Findings, lint
from toipkit.dialplan.lookup import exists, find_priority, matches_more
from toipkit.dialplan.model import (
    Context,
    Dialplan,
    Extension,
    IgnorePattern,
    Include,
    LoadIssue,
    Priority,
    Setting,
    Switch,
    split_args,
)
from toipkit.dialplan.parser import parse, parse_file
from toipkit.dialplan.patterns import match, sort_key
from toipkit.dialplan.render import MermaidGraph
from toipkit.dialplan.simulate import (
    DEFAULT_DIGIT_TIMEOUT,
    DEFAULT_PROMPT_SECONDS,
    DEFAULT_RESPONSE_TIMEOUT,
    DirectoryEntry,
    Sound,
    Step,
    Trace,
    estimate_tts_duration,
    simulate,
)
from toipkit.errors import DialplanSyntaxError

__all__ = [
    "parse", "parse_file", "lint", "simulate",
    "Dialplan", "Context", "Extension", "Priority", "Include", "IgnorePattern", "Switch",
    "Setting", "LoadIssue", "Finding", "Findings", "RULES", "Trace", "Step", "DirectoryEntry",
    "Sound", "MermaidGraph", "DialplanSyntaxError", "estimate_tts_duration", "find_priority",
    "exists", "matches_more", "match", "sort_key", "split_args", "sort_extensions",
    "DEFAULT_PROMPT_SECONDS", "DEFAULT_RESPONSE_TIMEOUT", "DEFAULT_DIGIT_TIMEOUT",
    "handout_path",
]


def sort_extensions(names):
    """Extension names in Asterisk's ``ext_cmp`` order."""
    return sorted(names, key=sort_key)


def handout_path(name: str = "handout-s17-ivr.conf"):
    """Path of a dialplan shipped in ``data/dialplans/``."""
    from toipkit.paths import data_path

    return data_path("dialplans", name)
