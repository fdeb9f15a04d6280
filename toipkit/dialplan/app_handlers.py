"""What each simulated application does (``app_<name>`` methods of the simulator), with the
duration it takes and where it sends the call."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from toipkit.dialplan.expr import is_true
from toipkit.dialplan.jumps import gosub_label, runtime_branches
from toipkit.dialplan.lookup import matches_more, timespec_matches
from toipkit.dialplan.messages import _dur
from toipkit.dialplan.model import Priority, split_args
from toipkit.dialplan.trace import SAY_SECONDS_PER_ITEM, _Stop

if TYPE_CHECKING:
    from toipkit.dialplan.dtmf import _Keys
    from toipkit.dialplan.model import Dialplan
    from toipkit.dialplan.trace import DirectoryEntry, Step


class AppHandlers:
    """Mixin of :class:`toipkit.dialplan.simulate._Sim`: one method per application."""

    if TYPE_CHECKING:  # the simulator's state and helpers these methods use
        dp: Dialplan
        ctx: str
        exten: str
        prio: int
        t: float
        keys: _Keys
        vars: dict[str, str]
        globals: dict[str, str]
        directory: dict[str, DirectoryEntry]
        gosub_stack: list[tuple[str, str, int, dict[str, str | None], int]]
        callerid: str | None
        now: Any
        dial_status: Any
        answered: bool
        tts_duration: Callable[..., float]
        add: Callable[..., Step]
        m: Callable[..., str]
        pbx: Callable[[str], Step]
        elapse: Callable[[float], None]
        collect: Callable[[str, Priority | None], None]
        describe: Callable[[str, DirectoryEntry | None], str]
        execute: Callable[..., Any]
        exists: Callable[..., bool]
        goto: Callable[[str, str, int], None]
        parse_goto: Callable[[str, str], tuple[str, str, int]]
        sound: Callable[[str], tuple[bool, str | None, float]]

    def app_answer(self, p: Priority, args: str) -> None:
        self.answered = True
        self.add(p.app, args, self.m("answer"), p=p)

    def app_ringing(self, p: Priority, args: str) -> None:
        self.add(p.app, args, self.m("ringing"), p=p)

    def app_progress(self, p: Priority, args: str) -> None:
        self.add(p.app, args, self.m("noop"), p=p)

    def app_noop(self, p: Priority, args: str) -> None:
        self.add(p.app, args, self.m("noop"), p=p)

    app_verbose = app_noop
    app_log = app_noop
    app_mixmonitor = app_noop

    def app_wait(self, p: Priority, args: str) -> None:
        start = self.t
        secs = max(0.0, _timelen(split_args(args)[0], 0.0))
        self.elapse(secs)
        self.add(p.app, args, self.m("wait", dur=_dur(secs)), p=p, start=start, duration=secs)

    def app_hangup(self, p: Priority, args: str) -> None:
        self.add(p.app, args, self.m("hangup_app"), p=p)
        raise _Stop("hangup", self.m("hangup_app"))

    def app_busy(self, p: Priority, args: str) -> None:
        self.add(p.app, args, self.m("busy"), p=p)
        raise _Stop("busy", self.m("busy"))

    def app_congestion(self, p: Priority, args: str) -> None:
        self.add(p.app, args, self.m("congestion"), p=p)
        raise _Stop("congestion", self.m("congestion"))

    def app_set(self, p: Priority, args: str) -> None:
        name, eq, value = args.partition("=")
        name = name.strip()
        if not eq:
            self.add(p.app, args, self.m("noop"), p=p)
            return
        self.assign(name, value)
        self.add(p.app, args, self.m("set", var=name, value=value), p=p)

    def app_mset(self, p: Priority, args: str) -> None:
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

    def app_goto(self, p: Priority, args: str) -> None:
        s = self.add(p.app, args, "", p=p)
        try:
            ctx, exten, prio = self.parse_goto(args, p.app)
        except _Stop as stop:
            s.outcome = stop.reason
            raise
        s.outcome = self.m("goto", ctx=ctx, ext=exten, prio=prio)
        self.goto(ctx, exten, prio)

    def app_gotoif(self, p: Priority, args: str) -> None:
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

    def app_gotoiftime(self, p: Priority, args: str) -> None:
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

    def app_execif(self, p: Priority, args: str) -> None:
        # execif_exec (apps/app_exec.c): the data was substituted once, the chosen application
        # runs with its part of it as is (pbx_exec, no second substitution). A nested ExecIf is
        # unrolled here rather than by recursion, however deep.
        while True:
            cond, _, rest = args.partition("?")
            a, _, b = rest.partition(":")
            chosen = a if is_true(cond) else b
            self.add(p.app, args, self.m("branch", cond=cond.strip(), dest=chosen or "-"), p=p)
            if not chosen.strip():
                return
            name, _, data = chosen.partition("(")
            if data.endswith(")"):
                data = data[:-1]
            p = Priority(p.context, p.exten, p.cid, p.number, None, name.strip(), data,
                         p.file, p.line, p.column)
            if p.app.lower() != "execif":
                self.execute(p, args=data)
                return
            args = data

    def hide(self, var: str) -> None:
        """Save ``var`` in the innermost Gosub frame (once) before a frame-local write."""
        if self.gosub_stack:
            saved = self.gosub_stack[-1][3]
            if var not in saved:
                saved[var] = self.vars.get(var)

    def app_gosub(self, p: Priority, args: str) -> None:
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

    def app_gosubif(self, p: Priority, args: str) -> None:
        # gosubif_exec (apps/app_stack.c): cond?label1(args):label2(args), pbx_checkcondition.
        cond, b1, b2, has_q = runtime_branches(args)
        branch = b1 if is_true(cond) else b2
        if not has_q or branch == "":
            self.add(p.app, args, self.m("no_branch", cond=cond.strip() or "''"), p=p)
            return
        self.app_gosub(p, branch)

    def app_return(self, p: Priority, args: str) -> None:
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
    def app_playback(self, p: Priority, args: str) -> None:
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

    def app_background(self, p: Priority, args: str) -> None:
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

    def app_waitexten(self, p: Priority, args: str) -> None:
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

    def app_read(self, p: Priority, args: str) -> None:
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

    def app_saynumber(self, p: Priority, args: str) -> None:
        n = split_args(args)[0].strip()
        self._say(p, args, n, max(1, math.ceil(len(n) / 2)))

    def app_saydigits(self, p: Priority, args: str) -> None:
        n = split_args(args)[0].strip()
        self._say(p, args, " ".join(n), len(n))

    def app_sayalpha(self, p: Priority, args: str) -> None:
        n = split_args(args)[0].strip()
        self._say(p, args, " ".join(n), len(n))

    def app_agi(self, p: Priority, args: str) -> None:
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
    def app_dial(self, p: Priority, args: str) -> None:
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

    def app_queue(self, p: Priority, args: str) -> None:
        name = split_args(args)[0].strip()
        e = self.directory.get(name)
        what = self.describe(name, e)
        msg = self.m("queue", what=what)
        self.add(p.app, args, msg, p=p)
        raise _Stop("queue", msg, what)

    def app_confbridge(self, p: Priority, args: str) -> None:
        name = split_args(args)[0].strip()
        e = self.directory.get(name)
        what = self.describe(name, e) if e else name
        msg = self.m("conference", what=what)
        self.add(p.app, args, msg, p=p)
        raise _Stop("conference", msg, what)

    app_meetme = app_confbridge

    def app_voicemail(self, p: Priority, args: str) -> None:
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
