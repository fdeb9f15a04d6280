"""Results of a simulated call: :class:`Trace` and its :class:`Step` s, and the simulator's inputs
(:class:`DirectoryEntry`, :class:`Sound`) and default timings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["Trace", "Step", "DirectoryEntry", "Sound", "estimate_tts_duration",
           "DEFAULT_PROMPT_SECONDS", "DEFAULT_RESPONSE_TIMEOUT", "DEFAULT_DIGIT_TIMEOUT",
           "SAY_SECONDS_PER_ITEM", "SOUNDS_DIR"]

DEFAULT_RESPONSE_TIMEOUT = 10.0  # TIMEOUT(response), Asterisk default
DEFAULT_DIGIT_TIMEOUT = 5.0  # TIMEOUT(digit), Asterisk default
DEFAULT_PROMPT_SECONDS = 3.0  # a prompt whose duration we cannot know
SAY_SECONDS_PER_ITEM = 0.6  # SayDigits/SayNumber: one recorded word per digit
SOUNDS_DIR = "/var/lib/asterisk/sounds/"


@dataclass(frozen=True)
class DirectoryEntry:
    """What a number is on the PBX outside this dialplan (supplied by XiVO or the sandbox).

    ``kind``: ``"user"``, ``"group"``, ``"queue"``, ``"conference"``, ``"voicemail"`` or any other
    word; ``name``: its name; ``members``: numbers of the users a group/queue rings.
    """

    kind: str
    name: str
    members: tuple[str, ...] = ()
    label: str = ""  # optional description (the XiVO sandbox gives one), used for other kinds

    @classmethod
    def coerce(cls, value: Any) -> DirectoryEntry:
        """Accept a DirectoryEntry, a dict (extra keys ignored), a name, or any object with
        ``kind``/``name``/``members`` attributes."""
        if isinstance(value, DirectoryEntry):
            return value
        if isinstance(value, Mapping):
            get = value.get
        elif isinstance(value, str):
            return cls("user", value)
        else:
            def get(key, default=None):
                return getattr(value, key, default)
        return cls(str(get("kind") or "user"), str(get("name") or ""),
                   tuple(str(m) for m in (get("members") or ())), str(get("label") or ""))


@dataclass(frozen=True)
class Sound:
    """A prompt: what it says and how long it lasts (None when unknown)."""

    text: str | None = None
    duration: float | None = None


@dataclass
class Step:
    index: int
    context: str
    exten: str  # the dialed extension (${EXTEN})
    priority: int
    app: str  # "" for what the PBX itself does (invalid key, timeout, fallthrough)
    args: str  # arguments after variable substitution
    outcome: str
    elapsed: float  # seconds since the call started, at the end of the step
    start: float = 0.0
    pattern: str = ""  # extension entry that ran (may be a pattern)
    file: str = ""
    line: int = 0
    prompt: str | None = None  # what the caller hears
    duration: float = 0.0
    digits: str = ""  # keys received during the step
    kind: str = "app"  # "app" or "pbx"

    @property
    def location(self) -> str:
        return f"{self.exten}@{self.context}:{self.priority}"


@dataclass
class Trace:
    """The outcome of a simulated call."""

    context: str
    exten: str
    steps: list[Step] = field(default_factory=list)
    outcome: str = "hangup"  # hangup, dial, queue, conference, voicemail, busy, congestion,
    #                          step-limit, time-limit
    reason: str = ""
    target: str | None = None  # what rings / where the caller lands
    elapsed: float = 0.0
    dtmf_unused: list = field(default_factory=list)
    variables: dict = field(default_factory=dict)
    lang: str = "fr"

    @property
    def path(self) -> list[str]:
        """``exten@context:priority`` of each executed application."""
        return [s.location for s in self.steps if s.kind == "app"]

    def to_frame(self):
        import pandas as pd

        rows = [{k: v for k, v in asdict(s).items() if k not in ("file",)} for s in self.steps]
        cols = ["index", "start", "elapsed", "context", "exten", "priority", "app", "args",
                "outcome", "prompt", "digits", "pattern", "line", "kind"]
        return pd.DataFrame(rows, columns=cols)

    def summary(self) -> str:
        from toipkit.dialplan.messages import outcome_label

        fr = self.lang == "fr"
        outcome = outcome_label(self.outcome, self.lang)
        head = (f"Appel {self.exten}@{self.context} : {outcome}" if fr
                else f"Call {self.exten}@{self.context}: {outcome}")
        tail = f" — {self.reason}" if self.reason else ""
        t = f" ({_fmt_t(self.elapsed)})"
        return head + t + tail

    def verbose(self) -> str:
        """Lines in the style of Asterisk's console (``Executing [s@ivr:1] Answer(...)``)."""
        out = []
        for s in self.steps:
            if s.kind == "app":
                out.append(f'    -- Executing [{s.exten}@{s.context}:{s.priority}] '
                           f'{s.app}("SIP/sim-00000001", "{s.args}") in new stack')
            else:
                out.append(f"    -- {s.outcome}")
        return "\n".join(out)

    def _repr_html_(self) -> str:
        """The steps as an escaped HTML table: arguments such as ``${EXTEN}`` or ``$[…]``
        would be typeset as LaTeX in Markdown."""
        from html import escape

        fr = self.lang == "fr"
        header = (("#", "t (s)", "où", "application", "résultat") if fr
                  else ("#", "t (s)", "where", "application", "result"))
        cell = "text-align:left;vertical-align:top;white-space:normal;overflow-wrap:anywhere"
        rows = []
        for step in self.steps:
            app = f"<code>{escape(f'{step.app}({step.args})')}</code>" if step.kind == "app" else ""
            where = f"<code>{escape(step.location)}</code>" if step.kind == "app" else ""
            cells = (str(step.index), f"{step.elapsed:.1f}", where, app, escape(step.outcome))
            rows.append("<tr>" + "".join(f'<td style="{cell}">{c}</td>' for c in cells)
                        + "</tr>")
        head = "".join(f'<th style="{cell}">{escape(h)}</th>' for h in header)
        # MathJax skips these classes (JupyterLab 4 and older front-ends)
        return (f"<p><strong>{escape(self.summary())}</strong></p>"
                '<table class="toipkit-trace mathjax_ignore tex2jax_ignore">'
                f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>")

    def __repr__(self) -> str:
        return str(self)

    def __str__(self) -> str:
        lines = [self.summary()]
        for s in self.steps:
            where = f"{s.location:<22}" if s.kind == "app" else " " * 22
            call = f"{s.app}({s.args})" if s.kind == "app" else ""
            lines.append(f"{s.elapsed:7.1f}s  {where} {call:<40} {s.outcome}")
        return "\n".join(lines)


def _fmt_t(t: float) -> str:
    return f"{t:.1f} s"


def estimate_tts_duration(text: str, lang: str = "fr") -> float:
    """Rough speaking time: about 14 characters per second, at least half a second."""
    return round(max(0.5, len(text.strip()) / 14.0), 2)


# ------------------------------------------------------------------------------------------


class _Stop(Exception):
    def __init__(self, outcome: str, reason: str, target: str | None = None):
        super().__init__(reason)
        self.outcome = outcome
        self.reason = reason
        self.target = target
