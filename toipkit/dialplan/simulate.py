"""Call simulator: runs a dialplan the way Asterisk's PBX loop would, without a PBX.

Semantics (documented in docs/dialplan.md):

- Time starts at 0 when the call enters ``context,exten,1``. Each step adds its duration:
  ``Wait(n)`` n s, prompts their duration (from ``sounds``/``tts_duration``, else an estimate),
  ``WaitExten``/digit collection until a key or the timeout.
- ``dtmf`` as a string: each key is pressed as soon as the channel listens for digits (start of
  the next interruptible prompt, ``WaitExten``, ``Read`` or digit collection) — an impatient
  caller. As a list of ``(time, key)``: keys pressed at those absolute times; a key pressed while
  nothing listens (``Wait``, ``Playback``...) is lost, as on a real channel.
- Timeouts: ``TIMEOUT(response)`` (default 10 s) for ``WaitExten()`` without argument and for
  ``autofallthrough=no``; ``TIMEOUT(digit)`` (default 5 s) between digits of a multi-digit
  extension.
- Running off the end of an extension with ``autofallthrough=yes`` (the default) ends the call.
- Digits that match nothing go to ``i`` (then ``e``) in the current context, else the call ends;
  a response timeout goes to ``t`` (then ``e``), else the call ends.
- ``Goto``/``GotoIf`` follow ``pbx_parseable_goto``: 1 argument = priority or label of the current
  extension, 2 = extension,priority, 3 = context,extension,priority; an unknown label makes the
  application fail and the call ends.
- Removed applications (``SetGlobalVar``...) and unknown application names end the call ("No
  application"); known applications that are not simulated are skipped and reported.
- ``directory`` maps numbers XiVO knows (users, groups, conferences...) to a
  :class:`DirectoryEntry`; reaching such a number (``Goto(default,201,1)`` when the dialplan does
  not define it, or ``Dial(PJSIP/101)``) ends the simulation with what would ring.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from toipkit.dialplan.apps import KNOWN_APPS, REMOVED_APPS, why_fr
from toipkit.dialplan.catalog import DEFAULT_VERSIONS, app_versions, parse_versions
from toipkit.dialplan.expr import is_true, substitute
from toipkit.dialplan.jumps import gosub_label, parse_location, runtime_branches
from toipkit.dialplan.lookup import find_priority, matches_more, timespec_matches
from toipkit.dialplan.model import Dialplan, Priority, split_args

__all__ = [
    "simulate",
    "Trace",
    "Step",
    "DirectoryEntry",
    "Sound",
    "estimate_tts_duration",
    "DEFAULT_PROMPT_SECONDS",
    "DEFAULT_RESPONSE_TIMEOUT",
    "DEFAULT_DIGIT_TIMEOUT",
]

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
        fr = self.lang == "fr"
        head = (f"Appel {self.exten}@{self.context} : {self.outcome}" if fr
                else f"Call {self.exten}@{self.context}: {self.outcome}")
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

    def _repr_markdown_(self) -> str:
        fr = self.lang == "fr"
        hdr = ("| # | t (s) | où | application | résultat |" if fr
               else "| # | t (s) | where | application | result |")
        lines = [f"**{_md(self.summary())}**", "", hdr, "|---|---|---|---|---|"]
        for s in self.steps:
            app = f"`{s.app}({s.args})`" if s.kind == "app" else ""
            where = f"`{s.location}`" if s.kind == "app" else ""
            lines.append(f"| {s.index} | {s.elapsed:.1f} | {_md(where)} | {_md(app)} | "
                         f"{_md(s.outcome)} |")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    def __str__(self) -> str:
        lines = [self.summary()]
        for s in self.steps:
            where = f"{s.location:<22}" if s.kind == "app" else " " * 22
            call = f"{s.app}({s.args})" if s.kind == "app" else ""
            lines.append(f"{s.elapsed:7.1f}s  {where} {call:<40} {s.outcome}")
        return "\n".join(lines)


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


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


class _Keys:
    """The caller's keypad."""

    def __init__(self, dtmf):
        self.asap: list[str] = []
        self.timed: list[tuple[float, str]] = []
        self.lost: list[tuple[float, str]] = []
        if dtmf is None:
            return
        if isinstance(dtmf, str):
            self.asap = [c for c in dtmf if c in "0123456789*#ABCDabcd"]
            self.asap = [c.upper() for c in self.asap]
        else:
            for item in dtmf:
                t, d = item
                d = str(d).upper()
                if len(d) != 1 or d not in "0123456789*#ABCD":
                    raise ValueError(f"not a DTMF key: {d!r}")
                self.timed.append((float(t), d))
            self.timed.sort(key=lambda x: x[0])

    def listen(self, start: float, length: float, keys: str | None = None
               ) -> tuple[float, str] | None:
        """First key pressed within [start, start+length) that ``keys`` accepts (None = all)."""
        if self.asap:
            d = self.asap[0]
            if keys is None or d in keys:
                self.asap.pop(0)
                return start, d
            return None
        while self.timed and self.timed[0][0] < start:
            self.lost.append(self.timed.pop(0))
        while self.timed and self.timed[0][0] < start + length:
            t, d = self.timed.pop(0)
            if keys is None or d in keys:
                return t, d
            self.lost.append((t, d))  # not one of the keys this prompt listens to
        return None

    def remaining(self) -> list:
        return list(self.asap) or list(self.timed)


_M = {
    "fr": {
        "hangup_app": "Hangup : l'appel est raccroché",
        "removed": "application « {app} » inexistante ({why}) : Asterisk écrit « No application "
                   "'{app}' for extension ({ctx}, {ext}, {prio}) » et raccroche",
        "unknown_app": "application « {app} » inconnue d'Asterisk : « No application » et "
                       "l'appel est raccroché",
        "skipped": "non simulée, ignorée",
        "fallthrough": "fin de l'extension {ext}@{ctx} sans priorité {prio} : autofallthrough, "
                       "l'appel est raccroché",
        "invalid_i": "touche(s) « {digits} » sans extension dans [{ctx}] → i,1",
        "invalid_e": "touche(s) « {digits} » sans extension dans [{ctx}] → e,1 (INVALID)",
        "invalid_none": "« Invalid extension '{digits}', but no rule 'i' or 'e' in context "
                        "'{ctx}' » : l'appel est raccroché",
        "timeout_t": "aucune touche : délai dépassé → t,1",
        "timeout_e": "aucune touche : délai dépassé → e,1 (RESPONSETIMEOUT)",
        "timeout_none": "« Timeout, but no rule 't' or 'e' in context '{ctx}' » : l'appel est "
                        "raccroché",
        "sent_invalid_i": "extension {ext} introuvable dans [{ctx}] → i,1",
        "sent_invalid_none": "« sent to invalid extension but no invalid handler » : "
                             "{ext}@{ctx} n'existe pas, l'appel est raccroché",
        "no_context": " (le contexte [{ctx}] n'existe pas)",
        "goto_bad": "« Priority '{prio}' must be a number > 0, or valid label » : pas de label "
                    "« {prio} » dans l'extension {ext} de [{ctx}] ; {app} échoue et l'appel est "
                    "raccroché",
        "goto_empty": "Goto sans argument : l'appel est raccroché",
        "goto": "saut vers {ctx},{ext},{prio}",
        "no_branch": "condition {cond} : pas de saut",
        "branch": "condition {cond} : saut vers {dest}",
        "plays": "joue « {name} »{text} ({dur})",
        "missing_sound": "fichier « {name} » introuvable (BACKGROUNDSTATUS=FAILED), continue",
        "missing_playback": "fichier « {name} » introuvable (PLAYBACKSTATUS=FAILED), continue",
        "key_during": "touche {d} à {t}",
        "bg_jump": "touche {d} pendant l'annonce → {d},1",
        "agi_says": "dit « {text} » ({dur})",
        "agi_key": "touche {d} pendant la synthèse → SET EXTENSION {d}, SET PRIORITY 1",
        "agi_other": "script AGI « {script} » non simulé",
        "wait": "attend {dur}",
        "waitexten_key": "touche {d} après {dur}",
        "waitexten_timeout_next": "aucune touche pendant {dur} : continue",
        "waitexten_timeout_t": "aucune touche pendant {dur} → t,1",
        "waitexten_timeout_e": "aucune touche pendant {dur} → e,1",
        "waitexten_timeout_none": "aucune touche pendant {dur} : « Timeout but no rule 't' or "
                                  "'e' in context '{ctx}' », l'appel est raccroché",
        "set": "{var} = « {value} »",
        "say": "prononce « {text} » en langue {lang}",
        "dial": "fait sonner {what}",
        "dial_unknown": "fait sonner {what} (numéro inconnu de l'annuaire)",
        "reach": "atteint {what}",
        "queue": "file d'attente {what}",
        "conference": "entre en conférence {what}",
        "voicemail": "messagerie vocale {what}",
        "answer": "décroche",
        "ringing": "fait entendre la sonnerie",
        "busy": "tonalité occupé",
        "congestion": "tonalité d'encombrement",
        "noop": "rien",
        "read": "lit « {value} » dans {var}",
        "gosub": "sous-programme {dest}",
        "return": "retour vers {dest}",
        "return_empty": "Return sans Gosub : l'appel est raccroché",
        "step_limit": "limite de {n} étapes atteinte : boucle sans fin probable",
        "time_limit": "limite de {n} s atteinte : boucle sans fin probable",
        "h": "fin d'appel → h,1",
        "lost_keys": "touches perdues (personne n'écoutait) : {keys}",
        "start": "appel entrant sur {ext}@{ctx}",
        "collected": "numéro composé « {digits} » → {digits},1",
        "bg_noarg": "Background sans nom de fichier : « Background requires an argument », "
                    "l'appel est raccroché",
    },
    "en": {
        "hangup_app": "Hangup: the call is hung up",
        "removed": "application '{app}' does not exist ({why}): Asterisk logs \"No application "
                   "'{app}' for extension ({ctx}, {ext}, {prio})\" and hangs up",
        "unknown_app": "application '{app}' unknown to Asterisk: \"No application\", the call "
                       "is hung up",
        "skipped": "not simulated, skipped",
        "fallthrough": "end of extension {ext}@{ctx}, no priority {prio}: autofallthrough, the "
                       "call is hung up",
        "invalid_i": "key(s) '{digits}' match no extension in [{ctx}] -> i,1",
        "invalid_e": "key(s) '{digits}' match no extension in [{ctx}] -> e,1 (INVALID)",
        "invalid_none": "\"Invalid extension '{digits}', but no rule 'i' or 'e' in context "
                        "'{ctx}'\": the call is hung up",
        "timeout_t": "no key: timeout -> t,1",
        "timeout_e": "no key: timeout -> e,1 (RESPONSETIMEOUT)",
        "timeout_none": "\"Timeout, but no rule 't' or 'e' in context '{ctx}'\": the call is "
                        "hung up",
        "sent_invalid_i": "extension {ext} not found in [{ctx}] -> i,1",
        "sent_invalid_none": "\"sent to invalid extension but no invalid handler\": {ext}@{ctx} "
                             "does not exist, the call is hung up",
        "no_context": " (context [{ctx}] does not exist)",
        "goto_bad": "\"Priority '{prio}' must be a number > 0, or valid label\": no label "
                    "'{prio}' in extension {ext} of [{ctx}]; {app} fails and the call is hung up",
        "goto_empty": "Goto without argument: the call is hung up",
        "goto": "jumps to {ctx},{ext},{prio}",
        "no_branch": "condition {cond}: no jump",
        "branch": "condition {cond}: jumps to {dest}",
        "plays": "plays '{name}'{text} ({dur})",
        "missing_sound": "file '{name}' not found (BACKGROUNDSTATUS=FAILED), continues",
        "missing_playback": "file '{name}' not found (PLAYBACKSTATUS=FAILED), continues",
        "key_during": "key {d} at {t}",
        "bg_jump": "key {d} during the prompt -> {d},1",
        "agi_says": "says '{text}' ({dur})",
        "agi_key": "key {d} during speech -> SET EXTENSION {d}, SET PRIORITY 1",
        "agi_other": "AGI script '{script}' not simulated",
        "wait": "waits {dur}",
        "waitexten_key": "key {d} after {dur}",
        "waitexten_timeout_next": "no key for {dur}: continues",
        "waitexten_timeout_t": "no key for {dur} -> t,1",
        "waitexten_timeout_e": "no key for {dur} -> e,1",
        "waitexten_timeout_none": "no key for {dur}: \"Timeout but no rule 't' or 'e' in "
                                  "context '{ctx}'\", the call is hung up",
        "set": "{var} = '{value}'",
        "say": "says '{text}' in language {lang}",
        "dial": "rings {what}",
        "dial_unknown": "rings {what} (number not in the directory)",
        "reach": "reaches {what}",
        "queue": "queue {what}",
        "conference": "joins conference {what}",
        "voicemail": "voicemail {what}",
        "answer": "answers",
        "ringing": "ringing tone",
        "busy": "busy tone",
        "congestion": "congestion tone",
        "noop": "nothing",
        "read": "reads '{value}' into {var}",
        "gosub": "subroutine {dest}",
        "return": "returns to {dest}",
        "return_empty": "Return without Gosub: the call is hung up",
        "step_limit": "step limit of {n} reached: probably an endless loop",
        "time_limit": "time limit of {n} s reached: probably an endless loop",
        "h": "call ended -> h,1",
        "lost_keys": "keys lost (nobody was listening): {keys}",
        "start": "incoming call to {ext}@{ctx}",
        "collected": "dialled '{digits}' -> {digits},1",
        "bg_noarg": "Background without a file name: \"Background requires an argument\", the "
                    "call is hung up",
    },
}


def _dur(x: float) -> str:
    return f"{x:.1f} s"


class _Sim:
    def __init__(self, dp: Dialplan, context: str, exten: str, *, dtmf, directory, sounds,
                 tts_duration, max_steps, max_time, callerid, lang, now, dial_status,
                 variables, language):
        self.dp = dp
        self.ctx = context
        self.exten = exten
        self.prio = 1
        self.keys = _Keys(dtmf)
        self.directory = {str(k): DirectoryEntry.coerce(v) for k, v in (directory or {}).items()}
        self.sounds = sounds
        self.tts_duration = tts_duration or estimate_tts_duration
        self.max_steps = max_steps
        self.max_time = max_time
        self.callerid = callerid
        self.lang = lang if lang in _M else "en"
        self.now = now
        self.dial_status = dial_status
        self.t = 0.0
        self.vars: dict[str, str] = dict(variables or {})
        self.globals: dict[str, str] = {k: s.value for k, s in dp.globals.items()}
        self.rtimeout = DEFAULT_RESPONSE_TIMEOUT
        self.dtimeout = DEFAULT_DIGIT_TIMEOUT
        self.language = language
        self.answered = False
        self.steps: list[Step] = []
        # Gosub frames: (return context, exten, priority, saved variables, argument count).
        # Saved: the values LOCAL()/ARGn/ARGC hid, restored on Return (apps/app_stack.c).
        self.gosub_stack: list[tuple[str, str, int, dict[str, str | None], int]] = []
        self.n_app = 0
        self.in_h = False
        self._jumped = False

    # -- helpers ------------------------------------------------------------------------
    def m(self, key: str, **kw) -> str:
        return _M[self.lang][key].format(**kw)

    def lookup_var(self, name: str) -> str | None:
        n = name.strip()
        up = n.upper()
        if "(" in n and n.endswith(")"):
            fn, _, arg = n[:-1].partition("(")
            fu = fn.strip().upper()
            if fu == "GLOBAL":
                return self.globals.get(arg.strip(), "")
            if fu == "TIMEOUT":
                a = arg.strip().lower()
                return _num_text(self.rtimeout if a == "response" else self.dtimeout
                                 if a == "digit" else 0)
            if fu == "CHANNEL" and arg.strip().lower() == "language":
                return self.language
            if fu == "LEN":
                return str(len(arg))
            if fu == "CALLERID":
                return self.callerid or ""
            if fu == "ISNULL":
                return "1" if arg == "" else "0"
            if fu == "IF":
                cond, _, rest = arg.partition("?")
                a, _, b = rest.partition(":")
                return a if is_true(cond) else b
            if fu == "EXCEPTION":
                return self.vars.get("__EXCEPTION_REASON", "")
            if fu == "LOCAL":
                return self.vars.get(arg.strip(), "")
            return ""
        if up == "EXTEN":
            return self.exten
        if up == "CONTEXT":
            return self.ctx
        if up == "PRIORITY":
            return str(self.prio)
        if up == "CALLERID(NUM)":
            return self.callerid or ""
        if n in self.vars:
            return self.vars[n]
        if n in self.globals:
            return self.globals[n]
        return ""

    def expand(self, text: str) -> str:
        return substitute(text, self.lookup_var)

    def add(self, app: str, args: str, outcome: str, *, start: float | None = None,
            p: Priority | None = None, prompt=None, duration=0.0, digits="", kind="app"):
        s = Step(len(self.steps) + 1, self.ctx, self.exten, self.prio, app, args, outcome,
                 round(self.t, 3), round(self.t if start is None else start, 3),
                 p.exten if p else "", p.file if p else "", p.line if p else 0, prompt,
                 round(duration, 3), digits, kind)
        self.steps.append(s)
        return s

    def pbx(self, outcome: str):
        return self.add("", "", outcome, kind="pbx")

    def find(self, ctx, exten, prio, label=None, q=None):
        return find_priority(self.dp, ctx, exten, prio, callerid=self.callerid, label=label,
                             now=self.now, lookup=q)

    def exists(self, ctx, exten, prio=1):
        return self.find(ctx, exten, prio) is not None

    def directory_entry(self, ctx: str, exten: str) -> DirectoryEntry | None:
        return self.directory.get(f"{exten}@{ctx}") or self.directory.get(exten)

    def describe(self, number: str, e: DirectoryEntry | None) -> str:
        if e is None:
            return number
        fr = self.lang == "fr"
        if e.kind == "group":
            members = ", ".join(self._member(m) for m in e.members)
            w = "groupe" if fr else "group"
            return f"{w} {e.name} ({number}): {members}" if members else f"{w} {e.name} ({number})"
        if e.kind == "queue":
            members = ", ".join(self._member(m) for m in e.members)
            return f"{e.name} ({number}): {members}" if members else f"{e.name} ({number})"
        if e.kind == "conference":
            return f"{e.name} ({number})"
        if e.kind not in ("user", "voicemail") and e.label:
            return f"{number}: {e.label}"
        return f"{number} ({e.name})" if e.name else number

    def _member(self, m: str) -> str:
        e = self.directory.get(m)
        return f"{m} ({e.name})" if e and e.name else m

    def reach_directory(self, e: DirectoryEntry, number: str):
        what = self.describe(number, e)
        kind = e.kind
        if kind in ("user", "group"):
            raise _Stop("dial", self.m("dial", what=what), what)
        if kind == "queue":
            raise _Stop("queue", self.m("queue", what=what), what)
        if kind == "conference":
            raise _Stop("conference", self.m("conference", what=what), what)
        if kind == "voicemail":
            raise _Stop("voicemail", self.m("voicemail", what=what), what)
        raise _Stop(kind, self.m("reach", what=what), what)

    def sound(self, name: str) -> tuple[bool, str | None, float]:
        """(exists, text, duration) of a prompt file."""
        if self.sounds is None:
            return True, None, DEFAULT_PROMPT_SECONDS
        candidates = [name]
        if name.startswith(SOUNDS_DIR):
            rest = name[len(SOUNDS_DIR):]
            candidates.append(rest)
            if "/" in rest:
                candidates.append(rest.split("/", 1)[1])
        obj = None
        for c in candidates:
            if callable(self.sounds) and not isinstance(self.sounds, Mapping):
                obj = self.sounds(c)
            else:
                obj = self.sounds.get(c)
            if obj is not None:
                break
        if obj is None:
            return False, None, 0.0
        text = getattr(obj, "text", None)
        if text is None and isinstance(obj, Mapping):
            text = obj.get("text")
        dur = getattr(obj, "duration", None)
        if dur is None and isinstance(obj, Mapping):
            dur = obj.get("duration")
        if dur is None:
            dur = (self.tts_duration(text, self.language) if text else DEFAULT_PROMPT_SECONDS)
        return True, text, float(dur)

    def elapse(self, seconds: float):
        self.t += max(0.0, seconds)
        if self.t > self.max_time:
            raise _Stop("time-limit", self.m("time_limit", n=_num_text(self.max_time)))

    # -- digit collection (pbx.c collect_digits + the i/t handling) -----------------------
    def collect(self, first: str, p: Priority | None) -> None:
        digits = first
        while matches_more(self.dp, self.ctx, digits, self.callerid, self.now):
            got = self.keys.listen(self.t, self.dtimeout)
            if got is None:
                self.elapse(self.dtimeout)
                break
            t, d = got
            self.t = max(self.t, t)
            digits += d
        if self.exists(self.ctx, digits):
            if len(digits) > 1:
                self.pbx(self.m("collected", digits=digits))
            self.goto(self.ctx, digits, 1)
            return
        self.invalid(digits)

    def invalid(self, digits: str):
        if self.exists(self.ctx, "i"):
            self.vars["INVALID_EXTEN"] = digits
            self.pbx(self.m("invalid_i", digits=digits, ctx=self.ctx))
            self.goto(self.ctx, "i", 1)
        elif self.exists(self.ctx, "e"):
            self.vars["__EXCEPTION_REASON"] = "INVALID"
            self.pbx(self.m("invalid_e", digits=digits, ctx=self.ctx))
            self.goto(self.ctx, "e", 1)
        else:
            raise _Stop("hangup", self.m("invalid_none", digits=digits, ctx=self.ctx))

    def timeout(self):
        if self.exists(self.ctx, "t"):
            self.pbx(self.m("timeout_t"))
            self.goto(self.ctx, "t", 1)
        elif self.exists(self.ctx, "e"):
            self.vars["__EXCEPTION_REASON"] = "RESPONSETIMEOUT"
            self.pbx(self.m("timeout_e"))
            self.goto(self.ctx, "e", 1)
        else:
            raise _Stop("hangup", self.m("timeout_none", ctx=self.ctx))

    def goto(self, ctx, exten, prio):
        self.ctx, self.exten, self.prio = ctx, exten, prio
        self._jumped = True

    # -- Goto parsing (pbx_parseable_goto) -----------------------------------------------
    def parse_goto(self, dest: str, app: str) -> tuple[str, str, int]:
        """Resolve a Goto destination, or raise _Stop as Asterisk hangs up."""
        if dest.strip() == "":
            raise _Stop("hangup", self.m("goto_empty"))
        loc = parse_location(dest, self.ctx, self.exten)
        tctx, texten, pri, mode = loc.context, loc.exten, loc.priority, loc.mode
        if loc.number is not None:
            ipri = loc.number
        else:
            p = self.find(tctx, texten, 0, label=pri)
            if p is None:
                raise _Stop("hangup", self.m("goto_bad", prio=pri, ext=texten, ctx=tctx, app=app)
                            + (self.m("no_context", ctx=tctx)
                               if tctx not in self.dp.contexts else ""))
            ipri = p.number
            mode = 0
        if mode:
            ipri = self.prio + ipri * mode
        return tctx, texten, ipri

    # -- the PBX loop ---------------------------------------------------------------------
    def run(self) -> Trace:
        trace = Trace(self.ctx, self.exten, lang=self.lang)
        try:
            self.loop()
        except _Stop as stop:
            final = stop
            if not self.steps or self.steps[-1].outcome != stop.reason:
                self.pbx(stop.reason)
            if stop.outcome == "hangup" and self.exists(self.ctx, "h"):
                self.in_h = True
                self.pbx(self.m("h"))
                self.exten, self.prio = "h", 1
                try:
                    self.loop()
                except _Stop as stop2:
                    if stop2.outcome in ("step-limit", "time-limit"):
                        final = stop2
                    if self.steps[-1].outcome != stop2.reason:
                        self.pbx(stop2.reason)
            trace.outcome = final.outcome
            trace.reason = final.reason
            trace.target = final.target
        trace.steps = self.steps
        trace.elapsed = round(self.t, 3)
        trace.dtmf_unused = self.keys.remaining()
        trace.variables = dict(self.vars)
        if self.keys.lost:
            trace.reason += " — " + self.m("lost_keys", keys=" ".join(
                f"{d}@{t:g}s" for t, d in self.keys.lost))
        return trace

    def loop(self):
        while True:
            if self.n_app >= self.max_steps:
                raise _Stop("step-limit", self.m("step_limit", n=self.max_steps))
            p = self.find(self.ctx, self.exten, self.prio)
            if p is None:
                self.n_app += 1
                self.no_priority()
                continue
            self._jumped = False
            self.n_app += 1
            self.execute(p)
            if not self._jumped:
                self.prio += 1

    def no_priority(self):
        """The wanted priority does not exist: invalid extension or run off the end."""
        if not self.exists(self.ctx, self.exten, 1):
            e = self.directory_entry(self.ctx, self.exten)
            if e is not None:
                self.reach_directory(e, self.exten)
            if self.exists(self.ctx, "i") and self.exten != "i":
                self.vars["INVALID_EXTEN"] = self.exten
                self.pbx(self.m("sent_invalid_i", ext=self.exten, ctx=self.ctx))
                self.goto(self.ctx, "i", 1)
                return
            if self.exists(self.ctx, "e") and self.exten != "e":
                self.vars["__EXCEPTION_REASON"] = "INVALID"
                self.pbx(self.m("invalid_e", digits=self.exten, ctx=self.ctx))
                self.goto(self.ctx, "e", 1)
                return
            extra = self.m("no_context", ctx=self.ctx) if self.ctx not in self.dp.contexts else ""
            raise _Stop("hangup", self.m("sent_invalid_none", ext=self.exten, ctx=self.ctx)
                        + extra)
        # Ran off the end of the extension.
        if self.dp.autofallthrough:
            status = self.vars.get("DIALSTATUS", "")
            if status.upper() == "BUSY":
                raise _Stop("busy", self.m("busy"))
            if status.upper() in ("CONGESTION", "CHANUNAVAIL"):
                raise _Stop("congestion", self.m("congestion"))
            raise _Stop("hangup", self.m("fallthrough", ext=self.exten, ctx=self.ctx,
                                         prio=self.prio))
        start = self.t
        got = self.keys.listen(self.t, self.rtimeout)
        if got is None:
            self.elapse(self.rtimeout)
            self.timeout()
            return
        t, d = got
        self.t = max(start, t)
        self.collect(d, None)

    # -- applications ---------------------------------------------------------------------
    def execute(self, p: Priority):
        app = p.app
        la = app.lower()
        args = self.expand(p.data)
        present = app_versions(la)
        if la in REMOVED_APPS and self.version not in present:
            why, _ = REMOVED_APPS[la]
            if self.lang == "fr":
                why = why_fr(why)
            msg = self.m("removed", app=app, why=why, ctx=self.ctx, ext=self.exten, prio=self.prio)
            self.add(app, args, msg, p=p)
            raise _Stop("hangup", msg)
        handler = getattr(self, "app_" + la.replace("-", "_"), None) if la.isidentifier() \
            else None
        if handler is None:
            if self.version in present or (not present and la in KNOWN_APPS):
                self.add(app, args, self.m("skipped"), p=p)
                return
            msg = self.m("unknown_app", app=app)
            self.add(app, args, msg, p=p)
            raise _Stop("hangup", msg)
        handler(p, args)

    def app_answer(self, p, args):
        self.answered = True
        self.add(p.app, args, self.m("answer"), p=p)

    def app_ringing(self, p, args):
        self.add(p.app, args, self.m("ringing"), p=p)

    def app_progress(self, p, args):
        self.add(p.app, args, self.m("noop"), p=p)

    def app_noop(self, p, args):
        self.add(p.app, args, self.m("noop"), p=p)

    app_verbose = app_noop
    app_log = app_noop
    app_mixmonitor = app_noop

    def app_wait(self, p, args):
        start = self.t
        secs = max(0.0, _timelen(split_args(args)[0], 0.0))
        self.elapse(secs)
        self.add(p.app, args, self.m("wait", dur=_dur(secs)), p=p, start=start, duration=secs)

    def app_hangup(self, p, args):
        self.add(p.app, args, self.m("hangup_app"), p=p)
        raise _Stop("hangup", self.m("hangup_app"))

    def app_busy(self, p, args):
        self.add(p.app, args, self.m("busy"), p=p)
        raise _Stop("busy", self.m("busy"))

    def app_congestion(self, p, args):
        self.add(p.app, args, self.m("congestion"), p=p)
        raise _Stop("congestion", self.m("congestion"))

    def app_set(self, p, args):
        name, eq, value = args.partition("=")
        name = name.strip()
        if not eq:
            self.add(p.app, args, self.m("noop"), p=p)
            return
        self.assign(name, value)
        self.add(p.app, args, self.m("set", var=name, value=value), p=p)

    def app_mset(self, p, args):
        for part in split_args(args):
            name, _, value = part.partition("=")
            self.assign(name.strip(), value)
        self.add(p.app, args, self.m("noop"), p=p)

    def assign(self, name: str, value: str):
        up = name.upper()
        if up.startswith("LOCAL(") and up.endswith(")"):
            # local_write (apps/app_stack.c): a variable of the innermost Gosub frame, its
            # previous value back on Return; outside a Gosub it is a plain channel variable.
            var = name[6:-1].strip()
            self.hide(var)
            self.vars[var] = value
        elif up.startswith("GLOBAL(") and up.endswith(")"):
            self.globals[name[7:-1].strip()] = value
        elif up.startswith("TIMEOUT(") and up.endswith(")"):
            kind = name[8:-1].strip().lower()
            secs = _float(value, None)
            if secs is not None:
                if kind == "response":
                    self.rtimeout = secs
                elif kind == "digit":
                    self.dtimeout = secs
        elif up == "CHANNEL(LANGUAGE)":
            self.language = value
        else:
            self.vars[name.lstrip("_")] = value

    def app_goto(self, p, args):
        s = self.add(p.app, args, "", p=p)
        try:
            ctx, exten, prio = self.parse_goto(args, p.app)
        except _Stop as stop:
            s.outcome = stop.reason
            raise
        s.outcome = self.m("goto", ctx=ctx, ext=exten, prio=prio)
        self.goto(ctx, exten, prio)

    def app_gotoif(self, p, args):
        cond, q, rest = args.partition("?")
        b1, _, b2 = rest.partition(":")
        branch = b1 if is_true(cond) else b2
        if not q or branch.strip() == "":
            self.add(p.app, args, self.m("no_branch", cond=cond.strip() or "''"), p=p)
            return
        s = self.add(p.app, args, self.m("branch", cond=cond.strip(), dest=branch), p=p)
        try:
            ctx, exten, prio = self.parse_goto(branch, p.app)
        except _Stop as stop:
            s.outcome = stop.reason
            raise
        self.goto(ctx, exten, prio)

    def app_gotoiftime(self, p, args):
        spec, q, rest = args.partition("?")
        b1, _, b2 = rest.partition(":")
        ok = True if self.now is None else timespec_matches(spec, self.now)
        branch = b1 if ok else b2
        if branch.strip() == "":
            self.add(p.app, args, self.m("no_branch", cond=str(int(ok))), p=p)
            return
        self.add(p.app, args, self.m("branch", cond=str(int(ok)), dest=branch), p=p)
        ctx, exten, prio = self.parse_goto(branch, p.app)
        self.goto(ctx, exten, prio)

    def app_execif(self, p, args):
        cond, _, rest = args.partition("?")
        a, _, b = rest.partition(":")
        chosen = a if is_true(cond) else b
        self.add(p.app, args, self.m("branch", cond=cond.strip(), dest=chosen or "-"), p=p)
        if chosen.strip():
            name, _, data = chosen.partition("(")
            if data.endswith(")"):
                data = data[:-1]
            sub = Priority(p.context, p.exten, p.cid, p.number, None, name.strip(), data,
                           p.file, p.line, p.column)
            self.execute(sub)

    def hide(self, var: str) -> None:
        """Save ``var`` in the innermost Gosub frame (once) before a frame-local write."""
        if self.gosub_stack:
            saved = self.gosub_stack[-1][3]
            if var not in saved:
                saved[var] = self.vars.get(var)

    def app_gosub(self, p, args):
        # gosub_exec (apps/app_stack.c): label before the first '(', arguments up to the last
        # ')'; ARG1..ARGn and ARGC are frame variables; an outer frame's extra ARGs read "".
        dest, gargs = gosub_label(args)
        argv = split_args(gargs) if gargs else []
        ctx, exten, prio = self.parse_goto(dest, p.app)
        if len(self.gosub_stack) >= 100:
            raise _Stop("hangup", "Gosub stack overflow")
        max_argc = max(len(argv), self.gosub_stack[-1][4] if self.gosub_stack else 0)
        self.gosub_stack.append((self.ctx, self.exten, self.prio + 1, {}, max_argc))
        for i in range(max_argc):
            self.hide(f"ARG{i + 1}")
            self.vars[f"ARG{i + 1}"] = argv[i] if i < len(argv) else ""
        self.hide("ARGC")
        self.vars["ARGC"] = str(len(argv))
        self.add(p.app, args, self.m("gosub", dest=f"{ctx},{exten},{prio}"), p=p)
        self.goto(ctx, exten, prio)

    def app_gosubif(self, p, args):
        # gosubif_exec (apps/app_stack.c): cond?label1(args):label2(args), pbx_checkcondition.
        cond, b1, b2, has_q = runtime_branches(args)
        branch = b1 if is_true(cond) else b2
        if not has_q or branch == "":
            self.add(p.app, args, self.m("no_branch", cond=cond.strip() or "''"), p=p)
            return
        self.app_gosub(p, branch)

    def app_return(self, p, args):
        if not self.gosub_stack:
            self.add(p.app, args, self.m("return_empty"), p=p)
            raise _Stop("hangup", self.m("return_empty"))
        ctx, exten, prio, saved, _ = self.gosub_stack.pop()
        for var, old in saved.items():
            if old is None:
                self.vars.pop(var, None)
            else:
                self.vars[var] = old
        self.vars["GOSUB_RETVAL"] = args
        self.add(p.app, args, self.m("return", dest=f"{ctx},{exten},{prio}"), p=p)
        self.goto(ctx, exten, prio)

    # prompts -----------------------------------------------------------------------------
    def app_playback(self, p, args):
        a = split_args(args)
        files = [f for f in a[0].split("&") if f]
        self.answered = True
        start = self.t
        texts, total, missing = [], 0.0, []
        for f in files:
            ok, text, dur = self.sound(f)
            if not ok:
                missing.append(f)
                continue
            total += dur
            if text:
                texts.append(text)
        self.elapse(total)
        if missing:
            outcome = self.m("missing_playback", name="&".join(missing))
            self.vars["PLAYBACKSTATUS"] = "FAILED"
        else:
            outcome = self.m("plays", name="&".join(files),
                             text=(" : " + " ".join(texts)) if texts else "", dur=_dur(total))
            self.vars["PLAYBACKSTATUS"] = "SUCCESS"
        self.add(p.app, args, outcome, p=p, start=start, prompt=" ".join(texts) or None,
                 duration=total)

    def app_background(self, p, args):
        a = split_args(args) + ["", "", ""]
        files = [f for f in a[0].strip().split("&") if f]
        if not args.strip():
            msg = self.m("bg_noarg")
            self.add(p.app, args, msg, p=p)
            raise _Stop("hangup", msg)
        opts = a[1]
        ctx = a[3].strip() or self.ctx
        if "n" not in opts:
            self.answered = True
        interruptible = "p" not in opts
        start = self.t
        texts, missing = [], []
        for f in files:
            ok, text, dur = self.sound(f)
            if not ok:
                missing.append(f)
                break  # Background stops at the first file it cannot stream
            if text:
                texts.append(text)
            got = self.keys.listen(self.t, dur) if interruptible else None
            if got is not None:
                t, d = got
                self.t = max(self.t, t)
                self.add(p.app, args, self.m("key_during", d=d, t=_dur(self.t)), p=p,
                         start=start, prompt=" ".join(texts) or None, duration=self.t - start,
                         digits=d)
                self.background_key(d, ctx, "m" in opts)
                return
            self.elapse(dur)
        if missing and not texts:
            outcome = self.m("missing_sound", name="&".join(missing))
        else:
            outcome = self.m("plays", name="&".join(files),
                             text=(" : " + " ".join(texts)) if texts else "",
                             dur=_dur(self.t - start))
            if missing:
                outcome += "; " + self.m("missing_sound", name="&".join(missing))
        self.vars["BACKGROUNDSTATUS"] = "FAILED" if missing else "SUCCESS"
        self.add(p.app, args, outcome, p=p, start=start, prompt=" ".join(texts) or None,
                 duration=self.t - start)

    def background_key(self, d: str, ctx: str, only_single: bool):
        if not matches_more(self.dp, ctx, d, self.callerid, self.now) and \
                self.exists(ctx, d):
            self.pbx(self.m("bg_jump", d=d))
            self.goto(ctx, d, 1)
            return
        self.collect(d, None)
        self._jumped = True

    def app_waitexten(self, p, args):
        a = split_args(args)
        secs = _timelen(a[0], 0.0) if a and a[0].strip() else 0.0
        if secs <= 0:
            secs = self.rtimeout
        start = self.t
        got = self.keys.listen(self.t, secs)
        if got is not None:
            t, d = got
            self.t = max(self.t, t)
            self.add(p.app, args, self.m("waitexten_key", d=d, dur=_dur(self.t - start)), p=p,
                     start=start, duration=self.t - start, digits=d)
            self.collect(d, p)
            self._jumped = True
            return
        self.elapse(secs)
        if self.exists(self.ctx, self.exten, self.prio + 1):
            self.add(p.app, args, self.m("waitexten_timeout_next", dur=_dur(secs)), p=p,
                     start=start, duration=secs)
        elif self.exists(self.ctx, "t"):
            self.add(p.app, args, self.m("waitexten_timeout_t", dur=_dur(secs)), p=p,
                     start=start, duration=secs)
            self.goto(self.ctx, "t", 1)
        elif self.exists(self.ctx, "e"):
            self.vars["__EXCEPTION_REASON"] = "RESPONSETIMEOUT"
            self.add(p.app, args, self.m("waitexten_timeout_e", dur=_dur(secs)), p=p,
                     start=start, duration=secs)
            self.goto(self.ctx, "e", 1)
        else:
            msg = self.m("waitexten_timeout_none", dur=_dur(secs), ctx=self.ctx)
            self.add(p.app, args, msg, p=p, start=start, duration=secs)
            raise _Stop("hangup", msg)

    def app_read(self, p, args):
        a = split_args(args) + [""] * 6
        var, files, maxd = a[0].strip(), a[1], _float(a[2], 0) or 0
        secs = _float(a[5], 0.0) or self.dtimeout
        start = self.t
        digits = ""
        for f in [x for x in files.split("&") if x]:
            ok, _text, dur = self.sound(f)
            if not ok:
                continue
            got = self.keys.listen(self.t, dur)
            if got:
                self.t = max(self.t, got[0])
                digits = got[1]
                break
            self.elapse(dur)
        while (not maxd or len(digits) < maxd) and not digits.endswith("#"):
            got = self.keys.listen(self.t, secs)
            if got is None:
                self.elapse(secs)
                break
            self.t = max(self.t, got[0])
            digits += got[1]
        value = digits[:-1] if digits.endswith("#") else digits
        self.vars[var] = value
        self.vars["READSTATUS"] = "OK" if value else "TIMEOUT"
        self.add(p.app, args, self.m("read", value=value, var=var), p=p, start=start,
                 duration=self.t - start, digits=digits)

    def _say(self, p, args, text, n_items):
        start = self.t
        dur = SAY_SECONDS_PER_ITEM * max(1, n_items)
        self.elapse(dur)
        self.add(p.app, args, self.m("say", text=text, lang=self.language), p=p, start=start,
                 prompt=text, duration=dur)

    def app_saynumber(self, p, args):
        n = split_args(args)[0].strip()
        self._say(p, args, n, max(1, math.ceil(len(n) / 2)))

    def app_saydigits(self, p, args):
        n = split_args(args)[0].strip()
        self._say(p, args, " ".join(n), len(n))

    def app_sayalpha(self, p, args):
        n = split_args(args)[0].strip()
        self._say(p, args, " ".join(n), len(n))

    def app_agi(self, p, args):
        a = split_args(args)
        script = a[0].strip()
        base = script.rsplit("/", 1)[-1].lower()
        if base not in ("googletts.agi", "googletts-tiny.agi", "picotts.agi", "espeak.agi"):
            self.add(p.app, args, self.m("agi_other", script=script), p=p)
            return
        text = a[1] if len(a) > 1 else ""
        lang = (a[2].strip() if len(a) > 2 else "") or "en"
        intkey = a[3].strip() if len(a) > 3 else ""
        speed = _float(a[4], 1.0) if len(a) > 4 and a[4].strip() else 1.0
        keys = "0123456789#*" if intkey == "any" else "".join(
            c for c in intkey if c in "0123456789#*")
        self.answered = True
        dur = float(self.tts_duration(text, lang)) / (speed if speed > 0 else 1.0)
        start = self.t
        got = self.keys.listen(self.t, dur, keys) if keys else None
        if got is not None:
            t, d = got
            self.t = max(self.t, t)
            self.add(p.app, args, self.m("agi_key", d=d), p=p, start=start, prompt=text,
                     duration=self.t - start, digits=d)
            self.goto(self.ctx, d, 1)
            return
        self.elapse(dur)
        self.add(p.app, args, self.m("agi_says", text=text, dur=_dur(dur)), p=p, start=start,
                 prompt=text, duration=dur)

    # destinations ------------------------------------------------------------------------
    def app_dial(self, p, args):
        a = split_args(args)
        dests = [d for d in a[0].split("&") if d.strip()]
        names = []
        for d in dests:
            res = d.split("/", 1)[1] if "/" in d else d
            res = res.split("@", 1)[0] if d.upper().startswith("LOCAL/") else res
            e = self.directory.get(res)
            names.append(self.describe(res, e) if e else res)
        what = ", ".join(names)
        if self.dial_status:
            secs = _float(a[1], 0.0) if len(a) > 1 else 0.0
            start = self.t
            if self.dial_status.upper() == "NOANSWER":
                self.elapse(secs)
            self.vars["DIALSTATUS"] = self.dial_status.upper()
            self.add(p.app, args, self.m("dial", what=what) + f" → {self.dial_status.upper()}",
                     p=p, start=start, duration=self.t - start)
            return
        msg = self.m("dial", what=what)
        self.add(p.app, args, msg, p=p)
        raise _Stop("dial", msg, what)

    def app_queue(self, p, args):
        name = split_args(args)[0].strip()
        e = self.directory.get(name)
        what = self.describe(name, e)
        msg = self.m("queue", what=what)
        self.add(p.app, args, msg, p=p)
        raise _Stop("queue", msg, what)

    def app_confbridge(self, p, args):
        name = split_args(args)[0].strip()
        e = self.directory.get(name)
        what = self.describe(name, e) if e else name
        msg = self.m("conference", what=what)
        self.add(p.app, args, msg, p=p)
        raise _Stop("conference", msg, what)

    app_meetme = app_confbridge

    def app_voicemail(self, p, args):
        box = split_args(args)[0].strip()
        msg = self.m("voicemail", what=box)
        self.add(p.app, args, msg, p=p)
        raise _Stop("voicemail", msg, box)

    app_voicemailmain = app_voicemail


def _timelen(text, default):
    """``ast_app_parse_timelen`` in seconds: ``5``, ``2.5``, ``500ms``, ``2s``, ``1m``, ``1h``."""
    t = str(text).strip().lower()
    for suffix, factor in (("ms", 0.001), ("s", 1.0), ("m", 60.0), ("h", 3600.0)):
        if t.endswith(suffix) and t[:-len(suffix)].strip():
            v = _float(t[:-len(suffix)], None)
            return default if v is None else v * factor
    return _float(t, default)


def _is_int(s: str) -> bool:
    s = s.strip()
    if s.startswith(("+", "-")):
        s = s[1:]
    return s.isdigit() and s.isascii()


def _float(s, default):
    try:
        v = float(str(s).strip())
        return v if math.isfinite(v) else default
    except (TypeError, ValueError):
        return default


def _num_text(x) -> str:
    x = float(x)
    return str(int(x)) if x.is_integer() else str(x)


def simulate(
    dialplan: Dialplan,
    context: str,
    exten: str = "s",
    dtmf: str | Iterable[tuple[float, str]] | None = "",
    directory: Mapping[str, Any] | None = None,
    sounds: Mapping[str, Any] | Callable[[str], Any] | None = None,
    tts_duration: Callable[[str, str], float] | None = None,
    max_steps: int = 500,
    max_time: float = 3600.0,
    callerid: str | None = None,
    lang: str = "fr",
    now=None,
    dial_status: str | None = None,
    variables: Mapping[str, str] | None = None,
    language: str = "en",
    asterisk: str | int | None = None,
) -> Trace:
    """Simulate a call entering ``context`` at ``exten``, priority 1.

    - ``dtmf``: keys as a string (each pressed as soon as the channel listens) or a list of
      ``(seconds, key)`` pressed at those times; ``""``/None = the caller never presses a key.
    - ``directory``: number -> :class:`DirectoryEntry` (or dict with ``kind``, ``name``,
      ``members``); keys ``"201"`` (any context) or ``"201@default"``.
    - ``sounds``: sound name (as written in Playback/Background, after variable expansion) ->
      object with ``.text`` and ``.duration`` (None if unknown), or a callable doing the lookup;
      a missing entry means the file does not exist. None: every file exists and lasts
      ``DEFAULT_PROMPT_SECONDS``.
    - ``tts_duration``: ``(text, lang) -> seconds`` for ``agi(googletts.agi,...)``.
    - ``max_steps``/``max_time``: stop an endless loop (outcome ``step-limit``/``time-limit``).
    - ``callerid``: caller number (for ``EXT/CID`` matches); ``now``: datetime for timed
      includes and GotoIfTime (None: time conditions are true); ``dial_status``: None = Dial is
      answered (the simulation stops there), or ``"NOANSWER"``/``"BUSY"``... to continue.
    - ``lang``: language of the trace messages (``"fr"`` or ``"en"``); ``language``: the
      channel language used by Say* (Asterisk's default ``en``).
    - ``asterisk``: the Asterisk version simulated (default: the current LTS, 22): an
      application that version does not have ends the call ("No application ..."), e.g.
      ``Macro`` from 21 on, ``SetGlobalVar`` everywhere.
    """
    if not isinstance(dialplan, Dialplan):
        raise TypeError("simulate() needs a Dialplan (use parse() or parse_file() first)")
    exten = str(exten) or "s"  # Asterisk starts at 's' when there is no extension
    sim = _Sim(dialplan, context, exten, dtmf=dtmf, directory=directory, sounds=sounds,
               tts_duration=tts_duration, max_steps=max_steps, max_time=max_time,
               callerid=callerid, lang=lang, now=now, dial_status=dial_status,
               variables=variables, language=language)
    sim.version = parse_versions(asterisk)[-1] if asterisk is not None else DEFAULT_VERSIONS[-1]
    sim.pbx(sim.m("start", ext=exten, ctx=context))
    return sim.run()
