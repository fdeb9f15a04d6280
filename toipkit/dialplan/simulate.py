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

from collections.abc import Callable, Iterable, Mapping
from typing import Any, NoReturn

from toipkit.dialplan.app_handlers import AppHandlers, _num_text
from toipkit.dialplan.apps import KNOWN_APPS, REMOVED_APPS, why_fr
from toipkit.dialplan.catalog import DEFAULT_VERSIONS, app_versions, parse_versions
from toipkit.dialplan.dtmf import _Keys
from toipkit.dialplan.expr import is_true, substitute
from toipkit.dialplan.jumps import parse_location
from toipkit.dialplan.lookup import find_priority, matches_more
from toipkit.dialplan.messages import _M
from toipkit.dialplan.model import Dialplan, Priority
from toipkit.dialplan.trace import (
    DEFAULT_DIGIT_TIMEOUT,
    DEFAULT_PROMPT_SECONDS,
    DEFAULT_RESPONSE_TIMEOUT,
    SOUNDS_DIR,
    DirectoryEntry,
    Sound,
    Step,
    Trace,
    _Stop,
    estimate_tts_duration,
)

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

class _Sim(AppHandlers):
    """The PBX loop (``__ast_pbx_run``): state of the channel, lookups, jumps."""

    def __init__(self, dp: Dialplan, context: str, exten: str, *,
                 dtmf: str | Iterable[tuple[float, str]] | None,
                 directory: Mapping[str, Any] | None,
                 sounds: Mapping[str, Any] | Callable[[str], Any] | None,
                 tts_duration: Callable[[str, str], float] | None, max_steps: int,
                 max_time: float, callerid: str | None, lang: str, now: Any,
                 dial_status: str | None, variables: Mapping[str, str] | None,
                 language: str) -> None:
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
        self.version = DEFAULT_VERSIONS[-1]  # the Asterisk version simulated (simulate() sets it)
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
            p: Priority | None = None, prompt: str | None = None, duration: float = 0.0,
            digits: str = "", kind: str = "app") -> Step:
        s = Step(len(self.steps) + 1, self.ctx, self.exten, self.prio, app, args, outcome,
                 round(self.t, 3), round(self.t if start is None else start, 3),
                 p.exten if p else "", p.file if p else "", p.line if p else 0, prompt,
                 round(duration, 3), digits, kind)
        self.steps.append(s)
        return s

    def pbx(self, outcome: str) -> Step:
        return self.add("", "", outcome, kind="pbx")

    def find(self, ctx: str, exten: str, prio: int, label: str | None = None,
             q: Any = None) -> Priority | None:
        return find_priority(self.dp, ctx, exten, prio, callerid=self.callerid, label=label,
                             now=self.now, lookup=q)

    def exists(self, ctx: str, exten: str, prio: int = 1) -> bool:
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

    def reach_directory(self, e: DirectoryEntry, number: str) -> NoReturn:
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

    def elapse(self, seconds: float) -> None:
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

    def invalid(self, digits: str) -> None:
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

    def timeout(self) -> None:
        if self.exists(self.ctx, "t"):
            self.pbx(self.m("timeout_t"))
            self.goto(self.ctx, "t", 1)
        elif self.exists(self.ctx, "e"):
            self.vars["__EXCEPTION_REASON"] = "RESPONSETIMEOUT"
            self.pbx(self.m("timeout_e"))
            self.goto(self.ctx, "e", 1)
        else:
            raise _Stop("hangup", self.m("timeout_none", ctx=self.ctx))

    def goto(self, ctx: str, exten: str, prio: int) -> None:
        self.ctx, self.exten, self.prio = ctx, exten, prio
        self._jumped = True

    # -- Goto parsing (pbx_parseable_goto) -----------------------------------------------
    def parse_goto(self, dest: str, app: str) -> tuple[str, str, int]:
        """Resolve a Goto destination, or raise _Stop as Asterisk hangs up."""
        if dest.strip() == "":
            raise _Stop("hangup", self.m("goto_empty"))
        loc = parse_location(dest, self.ctx, self.exten)
        assert loc is not None  # dest is not empty
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

    def loop(self) -> NoReturn:
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

    def no_priority(self) -> None:
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
    def execute(self, p: Priority, args: str | None = None) -> None:
        """Run ``p``'s application; ``args``: its data when already substituted (ExecIf)."""
        app = p.app
        la = app.lower()
        if args is None:
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
