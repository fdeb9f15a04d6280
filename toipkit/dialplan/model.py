"""Data model of a loaded dialplan: contexts, extensions, priorities, with source positions."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from toipkit.dialplan.patterns import cid_sort_key, is_pattern

if TYPE_CHECKING:
    from toipkit.dialplan.render import MermaidGraph

__all__ = [
    "Priority",
    "Extension",
    "Include",
    "Switch",
    "IgnorePattern",
    "Setting",
    "Context",
    "LoadIssue",
    "Dialplan",
    "split_args",
    "split_condition",
    "HINT",
]

HINT = -1  # priority number of a hint, as in Asterisk


def split_args(data: str, sep: str = ",") -> list[str]:
    """Split application data like ``__ast_app_separate_args``.

    Commas inside ``()``, ``[]`` or double quotes do not split; quotes are removed and a backslash
    escapes the next character.
    """
    if data == "":
        return [""]
    out: list[str] = []
    cur: list[str] = []
    paren = 0
    square = 0
    quote = False
    i = 0
    n = len(data)
    while i < n:
        c = data[i]
        if c == "\\" and i + 1 < n:
            cur.append(data[i + 1])
            i += 2
            continue
        if c == '"':
            quote = not quote
            i += 1
            continue
        if not quote:
            if c == "(":
                paren += 1
            elif c == ")" and paren:
                paren -= 1
            elif c == "[":
                square += 1
            elif c == "]" and square:
                square -= 1
            elif c == sep and not paren and not square:
                out.append("".join(cur))
                cur = []
                i += 1
                continue
        cur.append(c)
        i += 1
    out.append("".join(cur))
    return out


def split_condition(data: str) -> tuple[str, str, str]:
    """``cond?true:false`` split at the first ``?`` outside ``${...}``/``$[...]`` (static use)."""
    depth = 0
    i = 0
    n = len(data)
    while i < n:
        c = data[i]
        if c == "$" and i + 1 < n and data[i + 1] in "{[":
            depth += 1
            i += 2
            continue
        if c in "}]" and depth:
            depth -= 1
        elif c == "?" and depth == 0:
            rest = data[i + 1:]
            cut = _top_level_index(rest, ":")
            if cut < 0:
                return data[:i], rest, ""
            return data[:i], rest[:cut], rest[cut + 1:]
        i += 1
    return data, "", ""


def _top_level_index(text: str, char: str) -> int:
    """Index of the first ``char`` outside ``${...}``/``$[...]``, or -1."""
    depth = 0
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == "$" and i + 1 < n and text[i + 1] in "{[":
            depth += 1
            i += 2
            continue
        if c in "}]" and depth:
            depth -= 1
        elif c == char and depth == 0:
            return i
        i += 1
    return -1


@dataclass(slots=True)
class Priority:
    """One ``exten =>``/``same =>`` line once loaded: a numbered step of an extension."""

    context: str
    exten: str
    cid: str | None
    number: int  # resolved priority; HINT (-1) for a hint
    label: str | None
    app: str  # application name as written ("" for an empty app)
    data: str  # raw argument text (between the first "(" and the last ")")
    file: str
    line: int
    column: int  # column of the "exten"/"same" keyword
    priority_text: str = ""  # the priority as written: "1", "n", "n(menu)", "hint"
    app_column: int = 0
    keyword: str = "exten"
    has_parens: bool = True

    @property
    def args(self) -> list[str]:
        return split_args(self.data)

    @property
    def app_text(self) -> str:
        """``App(data)`` as Asterisk shows it."""
        return f"{self.app}({self.data})"

    @property
    def is_hint(self) -> bool:
        return self.number == HINT

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(slots=True)
class Extension:
    """An extension (name + optional caller-ID match) of a context and its priorities."""

    name: str
    cid: str | None
    context: str
    file: str
    line: int
    column: int
    priorities: dict[int, Priority] = field(default_factory=dict)
    labels: dict[str, int] = field(default_factory=dict)
    hint: Priority | None = None

    @property
    def is_pattern(self) -> bool:
        return is_pattern(self.name)

    @property
    def display_name(self) -> str:
        return self.name if self.cid is None else f"{self.name}/{self.cid}"

    def steps(self) -> list[Priority]:
        """Priorities in numeric order (hint excluded)."""
        return [self.priorities[k] for k in sorted(self.priorities)]


@dataclass(slots=True)
class Include:
    name: str
    timespec: str | None
    context: str
    file: str
    line: int
    column: int


@dataclass(slots=True)
class Switch:
    kind: str  # switch, lswitch, eswitch
    module: str
    data: str
    context: str
    file: str
    line: int
    column: int


@dataclass(slots=True)
class IgnorePattern:
    pattern: str
    context: str
    file: str
    line: int
    column: int


@dataclass(slots=True)
class Setting:
    """A ``name = value`` of ``[general]`` or ``[globals]``."""

    name: str
    value: str
    file: str
    line: int
    column: int


@dataclass(slots=True)
class LoadIssue:
    """Something Asterisk warns about while loading (kept, turned into lint findings)."""

    code: str
    message: str
    file: str
    line: int
    column: int
    context: str | None = None
    hint: str | None = None
    # What the message is about (ext, prio, other line, label), for the linter's own wording.
    params: dict = field(default_factory=dict)


@dataclass
class Context:
    name: str
    file: str
    line: int
    column: int
    extensions: dict[tuple[str, str | None], Extension] = field(default_factory=dict)
    includes: list[Include] = field(default_factory=list)
    switches: list[Switch] = field(default_factory=list)
    ignorepats: list[IgnorePattern] = field(default_factory=list)
    _sorted: list[Extension] | None = field(default=None, repr=False)
    _index: tuple | None = field(default=None, repr=False)

    def sorted_extensions(self) -> list[Extension]:
        """Extensions in Asterisk's lookup order (``ext_cmp``, CID entries first)."""
        if self._sorted is None or len(self._sorted) != len(self.extensions):
            self._sorted = sorted(
                self.extensions.values(), key=lambda e: cid_sort_key(e.name, e.cid)
            )
        return self._sorted

    def candidates(self, exten: str) -> list[Extension]:
        """Extensions that may match ``exten``, in lookup order: equal literals, then patterns.

        Literals sort before patterns and a literal only matches its own text (dashes aside), so
        an index on the literal text gives the same order as scanning the sorted list.
        """
        index = self._index
        if index is None or index[2] != len(self.extensions):
            literals: dict[str, list[Extension]] = {}
            patterns: list[Extension] = []
            for e in self.sorted_extensions():
                if e.name.startswith("_"):
                    patterns.append(e)
                else:
                    literals.setdefault(e.name.replace("-", ""), []).append(e)
            index = self._index = (literals, patterns, len(self.extensions))
        lit = index[0].get(exten.replace("-", "") if "-" in exten else exten)
        return lit + index[1] if lit else index[1]

    def extension(self, name: str, cid: str | None = None) -> Extension | None:
        return self.extensions.get((name, cid))

    def __iter__(self):
        return iter(self.sorted_extensions())

    def __len__(self) -> int:
        return len(self.extensions)


@dataclass
class Dialplan:
    """A loaded ``extensions.conf`` (with its ``#include``\\ d files)."""

    contexts: dict[str, Context] = field(default_factory=dict)
    globals: dict[str, Setting] = field(default_factory=dict)
    general: dict[str, Setting] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    templates: list[str] = field(default_factory=list)
    issues: list[LoadIssue] = field(default_factory=list)
    errors: list = field(default_factory=list)  # DialplanSyntaxError collected in lenient mode
    # `; toipkit: apps=A,B contexts=x asterisk=13` comments: third-party applications, contexts
    # created at run time by other modules, target Asterisk versions.
    pragmas: dict[str, str] = field(default_factory=dict)

    # -- queries ---------------------------------------------------------------------------
    def __getitem__(self, name: str) -> Context:
        return self.contexts[name]

    def __contains__(self, name: object) -> bool:
        return name in self.contexts

    @property
    def autofallthrough(self) -> bool:
        s = self.general.get("autofallthrough")
        return True if s is None else _truthy(s.value)

    @property
    def extensions(self) -> list[Extension]:
        return [e for c in self.contexts.values() for e in c.sorted_extensions()]

    @property
    def priorities(self) -> list[Priority]:
        return [p for e in self.extensions for p in e.steps()]

    def find(self, context: str, exten: str, priority: int = 1, callerid: str | None = None,
             label: str | None = None):
        """Asterisk's lookup (``pbx_find_extension``): the Priority that runs, or None."""
        from toipkit.dialplan.lookup import find_priority

        return find_priority(self, context, exten, priority, callerid=callerid, label=label)

    # -- rendering -------------------------------------------------------------------------
    def to_frame(self):
        from toipkit.dialplan.render import to_frame

        return to_frame(self)

    def show(self, target: str | None = None, file_order: bool = False) -> str:
        """Text like Asterisk's ``dialplan show`` (``target`` = ``CTX`` or ``EXT@CTX``).

        Asterisk lists contexts in reverse file order; ``file_order=True`` keeps the file's.
        """
        from toipkit.dialplan.render import show

        return show(self, target, file_order=file_order)

    def to_text(self) -> str:
        """Serialise back to ``extensions.conf`` syntax (one ``exten =>`` line per priority)."""
        from toipkit.dialplan.render import to_text

        return to_text(self)

    def graph(self) -> MermaidGraph:
        """Mermaid flowchart of the contexts and the jumps between them."""
        from toipkit.dialplan.render import mermaid

        return mermaid(self)

    def _repr_markdown_(self) -> str:
        return "```\n" + self.show() + "\n```"

    def __repr__(self) -> str:
        n_ext = sum(len(c.extensions) for c in self.contexts.values())
        files = [os.path.basename(f) for f in self.files]
        return f"<Dialplan {len(self.contexts)} context(s), {n_ext} extension(s), files={files}>"


def _truthy(value: str) -> bool:
    return value.strip().lower() in ("yes", "true", "y", "t", "1", "on")
