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

# ruff: noqa: F401
from __future__ import annotations

from typing import TYPE_CHECKING

from toipkit._lazy import lazy_exports

# Imported on first use: `toipkit --help` must not parse the application catalogue.
_EXPORTS = {
    "RULES": "toipkit.dialplan.lint",
    "Finding": "toipkit.dialplan.lint",
    "Findings": "toipkit.dialplan.lint",
    "lint": "toipkit.dialplan.lint",
    "exists": "toipkit.dialplan.lookup",
    "find_priority": "toipkit.dialplan.lookup",
    "matches_more": "toipkit.dialplan.lookup",
    "Context": "toipkit.dialplan.model",
    "Dialplan": "toipkit.dialplan.model",
    "Extension": "toipkit.dialplan.model",
    "IgnorePattern": "toipkit.dialplan.model",
    "Include": "toipkit.dialplan.model",
    "LoadIssue": "toipkit.dialplan.model",
    "Priority": "toipkit.dialplan.model",
    "Setting": "toipkit.dialplan.model",
    "Switch": "toipkit.dialplan.model",
    "split_args": "toipkit.dialplan.model",
    "LoadError": "toipkit.dialplan.parser",
    "parse": "toipkit.dialplan.parser",
    "parse_file": "toipkit.dialplan.parser",
    "match": "toipkit.dialplan.patterns",
    "sort_key": "toipkit.dialplan.patterns",
    "MermaidGraph": "toipkit.dialplan.render",
    "DEFAULT_DIGIT_TIMEOUT": "toipkit.dialplan.simulate",
    "DEFAULT_PROMPT_SECONDS": "toipkit.dialplan.simulate",
    "DEFAULT_RESPONSE_TIMEOUT": "toipkit.dialplan.simulate",
    "DirectoryEntry": "toipkit.dialplan.simulate",
    "Sound": "toipkit.dialplan.simulate",
    "Step": "toipkit.dialplan.simulate",
    "Trace": "toipkit.dialplan.simulate",
    "estimate_tts_duration": "toipkit.dialplan.simulate",
    "simulate": "toipkit.dialplan.simulate",
    "DialplanSyntaxError": "toipkit.errors",
}

__getattr__, _, _lazy_names = lazy_exports(__name__, _EXPORTS)
__all__ = sorted([*_lazy_names, "handout_path", "sort_extensions"])


def __dir__() -> list[str]:
    return __all__

if TYPE_CHECKING:  # the same names, for type checkers and IDEs (F401: used through __all__)
    from toipkit.dialplan.lint import (
        RULES,
        Finding,
        Findings,
        lint,
    )
    from toipkit.dialplan.lookup import (
        exists,
        find_priority,
        matches_more,
    )
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
    from toipkit.dialplan.parser import (
        LoadError,
        parse,
        parse_file,
    )
    from toipkit.dialplan.patterns import (
        match,
        sort_key,
    )
    from toipkit.dialplan.render import (
        MermaidGraph,
    )
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


def sort_extensions(names):
    """Extension names in Asterisk's ``ext_cmp`` order."""
    from toipkit.dialplan.patterns import sort_key

    return sorted(names, key=sort_key)


def handout_path(name: str = "handout-s17-ivr.conf"):
    """Path of a dialplan shipped in ``data/dialplans/``."""
    from toipkit.paths import data_path

    return data_path("dialplans", name)
