"""One model of Asterisk's jumps, shared by the linter, the simulator and the renderer.

* ``Goto``/``GotoIf``/``GotoIfTime`` destinations go through ``pbx_parseable_goto`` +
  ``pbx_parse_location`` (main/pbx.c): the string is cut at its first three commas; one part is a
  priority, two are ``extension,priority``, three ``context,extension,priority``; a priority
  that ``sscanf("%30d%1s")`` does not read as a lone integer is a label of the target extension;
  a leading ``+``/``-`` makes a number relative to the current priority.
* ``Gosub`` (apps/app_stack.c ``gosub_exec``) cuts its argument at the first ``(``: the label
  before it, the arguments inside (up to the last ``)``).
* ``GosubIf``/``GotoIf`` split ``cond?iftrue:iffalse`` at the first ``?`` then the first ``:``
  (``AST_NONSTANDARD_RAW_ARGS``) — at run time on the substituted text; statically
  :func:`static_branches` keeps ``${...}``/``$[...]`` whole.
* ``ExecIf(cond?App(args):App(args))`` runs an application, which may itself jump.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from toipkit.dialplan.model import split_condition

__all__ = ["Location", "parse_location", "gosub_label", "runtime_branches", "static_branches",
           "static_destinations", "JUMP_APPS"]

JUMP_APPS = frozenset({"goto", "gotoif", "gotoiftime", "gosub", "gosubif", "execif"})
_LONE_INT = re.compile(r"\s*[+-]?\d+\s*$")


@dataclass(frozen=True)
class Location:
    """Where a jump lands, before the lookup: ``number`` is None for a label."""

    context: str
    exten: str
    priority: str
    number: int | None
    mode: int = 0  # +1 / -1: relative to the current priority
    parts: int = 3  # how many of context, extension, priority were written

    @property
    def is_label(self) -> bool:
        return self.number is None


def parse_location(dest: str, context: str, exten: str) -> Location | None:
    """``pbx_parse_location`` on ``dest`` for a channel at ``context``/``exten``; None if empty."""
    if dest == "":
        return None
    parts = dest.split(",", 3)[:3]
    if len(parts) == 1:
        ctx, ext, pri = context, exten, parts[0]
    elif len(parts) == 2:
        ctx, ext, pri = context, parts[0], parts[1]
    else:
        ctx, ext, pri = parts
    mode = 0
    text = pri
    if text[:1] == "+":
        mode, text = 1, text[1:]
    elif text[:1] == "-":
        mode, text = -1, text[1:]
    # sscanf("%30d%1s") == 1: an integer with nothing but blanks after it.
    number = int(text) if _LONE_INT.match(text) and len(text.strip()) <= 30 else None
    if number is None:
        mode = 0  # a label is absolute
    return Location(ctx, ext, text, number, mode, len(parts))


def gosub_label(data: str) -> tuple[str, str | None]:
    """``gosub_exec``: label before the first ``(``, arguments up to the last ``)``."""
    label, paren, rest = data.partition("(")
    if not paren:
        return label, None
    end = rest.rfind(")")
    return label, rest[:end] if end >= 0 else rest


def runtime_branches(data: str) -> tuple[str, str, str, bool]:
    """``cond?a:b`` as GotoIf/GosubIf/ExecIf cut the substituted text: (cond, a, b, has '?')."""
    cond, q, rest = data.partition("?")
    a, _, b = rest.partition(":")
    return cond, a, b, bool(q)


def static_branches(data: str) -> tuple[str, str, str]:
    """Same split on unsubstituted text, keeping ``${..}``/``$[..]`` (and their ``:``) whole."""
    return split_condition(data)


def static_destinations(app: str, data: str) -> list[str]:
    """The destinations an application may jump to, as written (Gosub arguments removed).

    Destinations with ``$`` are returned as well: callers decide what they can resolve."""
    la = app.lower()
    if la == "goto":
        return [data] if data.strip() else []
    if la == "gosub":
        return [gosub_label(data)[0]] if data.strip() else []
    if la in ("gotoif", "gotoiftime"):
        return [b for b in static_branches(data)[1:] if b.strip()]
    if la == "gosubif":
        return [gosub_label(b)[0] for b in static_branches(data)[1:] if b.strip()]
    if la == "execif":
        out: list[str] = []
        for branch in static_branches(data)[1:]:
            name, _, args = branch.partition("(")
            if name.strip().lower() in JUMP_APPS - {"execif"}:
                end = args.rfind(")")
                out.extend(static_destinations(name.strip(), args[:end] if end >= 0 else args))
        return out
    return []
