"""A live IVR on the lab network: the student's dialplan answers real calls.

:class:`LiveIvr` is a media endpoint (:mod:`toipkit.phone.endpoint`): it registers as the
service line behind a number (the sandbox's registrar routes calls to it) and answers every
call itself; the prompts of all calls are sent by ONE media thread paced on absolute 20 ms
deadlines. Each call is driven by the very engine of :func:`toipkit.dialplan.simulate`, so a
live call and a simulation of the same keys agree step for step, by construction:

* the call follows the trace of ``simulate(..., dtmf=<the keys received so far, at the times
  they arrived>)``: a Playback/Background step plays its prompt as RTP (20 ms G.711 packets)
  from its start time, a WaitExten step is silence;
* each RFC 2833 digit from the caller is added to the keys and the trace recomputed: what
  happened before the key is unchanged (the simulator is causal), what follows may change;
* at the end of the trace the outcome is carried out: ``dial``/``queue``/``conference``/
  ``voicemail`` → the call is transferred to that number (SIP REFER: the caller's phone calls it
  through the registrar), ``hangup``/``busy``/limits → BYE.

Applications the simulator cannot run are refused when the IVR is deployed, not mid-call.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from toipkit.errors import ToipkitError
from toipkit.phone import registrar
from toipkit.phone.endpoint import (
    FRAME,
    SILENCE,
    TICK,
    EndpointError,
    MediaCall,
    MediaEndpoint,
)
from toipkit.phone.phone import RATE

#: Applications the live engine performs (those the simulator implements).
LIVE_APPS = frozenset({
    "agi", "answer", "background", "busy", "confbridge", "congestion", "dial", "execif",
    "gosub", "gosubif", "goto", "gotoif", "gotoiftime", "hangup", "mset", "noop", "playback",
    "progress", "queue", "read", "return", "ringing", "sayalpha", "saydigits", "saynumber", "set",
    "voicemail", "wait", "waitexten", "meetme", "macro",
})


class IvrError(ToipkitError):
    """The IVR could not be deployed (message in French)."""


@dataclass
class IvrCall:
    """One call answered by the IVR: the keys received and the trace it followed."""

    caller: str
    started: float
    keys: list[tuple[float, str]] = field(default_factory=list)
    played: list[tuple[float, str]] = field(default_factory=list)  # (time, prompt text)
    trace: Any = None
    outcome: str = ""
    target: str | None = None
    ended: float | None = None

    @property
    def digits(self) -> str:
        return "".join(k for _, k in self.keys)

    def _repr_markdown_(self) -> str:
        heard = " → ".join(f"« {t} »" for _, t in self.played) or "rien"
        return (f"Appel du {self.caller} : touches `{self.digits or '—'}`, annonces {heard} ; "
                f"fin : **{self.outcome}**" + (f" vers {self.target}" if self.target else ""))


def unsupported_apps(dialplan: Any) -> list[str]:
    """``file:line: App`` for every application the live engine cannot perform."""
    found = []
    for p in dialplan.priorities:
        app = (p.app or "").lower()
        if app and app not in LIVE_APPS:
            found.append(f"{p.file or '?'}:{p.line}: {p.app}")
    return found


def check_deployable(dialplan: Any, context: str) -> None:
    """Refuse, before any call, a dialplan the live engine could not carry out."""
    problems = unsupported_apps(dialplan)
    if problems:
        raise IvrError("le SVI en direct ne sait pas exécuter ces applications :\n  "
                       + "\n  ".join(problems))
    if not any(c == context for c in dialplan.contexts):
        raise IvrError(f"le contexte [{context}] n'existe pas dans ce plan de numérotation")


def _number_of(target: str | None, directory: dict[str, Any]) -> str | None:
    """The number a trace's target names ("groupe accueil (201): …", "105 (Hanako)")."""
    if not target:
        return None
    for match in re.finditer(r"[0-9*#]+", target):
        if match.group(0) in directory or match.group(0).split("@")[0] in directory:
            return match.group(0)
    found = re.search(r"\(([0-9*#]+)\)", target) or re.match(r"([0-9*#]+)", target)
    return found.group(1) if found else None


@dataclass
class _IvrLeg(MediaCall):
    """The media side of one IVR call: its runner and how far its audio has gone."""

    runner: Any = None
    frames_sent: int = 0
    clock_set: bool = False


class LiveIvr(MediaEndpoint):
    """The student's IVR answering ``number`` on the sandbox's lab network.

    ``dialplan``: a parsed dialplan (``toipkit.dialplan.parse``) or the result of
    ``tts.from_dialplan`` (then its ``.dialplan`` and ``.manifest`` are used); ``context`` and
    ``exten``: where calls enter (Asterisk's ``Goto(context,exten,1)``); ``sounds``: the prompts
    manifest; ``directory``: number → user/group for the simulator (the sandbox's by default).
    One endpoint takes any number of simultaneous calls (``pool`` is accepted for compatibility
    and ignored).
    """

    call_class = _IvrLeg
    user_agent = "toipkit-ivr"
    session_name = "toipkit ivr"

    def __init__(self, registrar_info: registrar.RegistrarInfo, dialplan: Any, *,
                 number: str = "500", context: str = "ivr", exten: str = "s", sounds: Any = None,
                 directory: Any = None, pool: int = 1, caller_context: str = "default",
                 host: str = "127.0.0.1", folder: Path | None = None,
                 log_path: Path | None = None) -> None:
        if hasattr(dialplan, "dialplan") and hasattr(dialplan, "manifest"):
            sounds = dialplan.manifest if sounds is None else sounds
            dialplan = dialplan.dialplan
        check_deployable(dialplan, context)
        super().__init__(registrar_info, str(number), username_prefix="svc", host=host,
                         context=caller_context)
        self.dialplan = dialplan
        self.context = context
        self.exten = exten
        self.sounds = sounds
        # number -> user/group for the simulator; a callable is asked again for every call
        self._directory = directory if directory is not None else {}
        self.log_path = log_path
        self.folder = folder
        self.calls: list[IvrCall] = []
        self._prompt_cache: dict[tuple[str, float], np.ndarray] = {}
        self._encoded: dict[tuple[tuple[str, float], int], bytes] = {}
        self._cache_lock = threading.Lock()
        # The prompts of a call without keys (the menu), ready before the first call: their
        # decoding and encoding would otherwise run while calls are being answered.
        with contextlib.suppress(Exception):
            for step in self.simulate([], None).steps:
                if step.prompt and step.duration > 0:
                    self.prompt_samples(step)
        try:
            self.start(timeout=10)
        except EndpointError as exc:
            raise IvrError("le SVI ne s'est pas enregistré auprès du registrar du bac à "
                           "sable") from exc

    @property
    def directory(self) -> dict[str, Any]:
        return self._directory() if callable(self._directory) else self._directory

    # -- calls (SIP thread, media thread) ----------------------------------------------------
    def on_answered(self, call: MediaCall) -> None:
        assert isinstance(call, _IvrLeg)
        record = IvrCall(call.number, time.time())
        self.calls.append(record)
        call.runner = _CallRunner(self, call, record)

    def on_acked(self, call: MediaCall) -> None:
        assert isinstance(call, _IvrLeg)
        call.runner.start()

    def on_digit(self, call: MediaCall, digit: str) -> None:
        assert isinstance(call, _IvrLeg)
        # A key may arrive before the ACK that establishes the call: the call starts then
        # (Asterisk too hears keys pressed at once).
        call.runner.start()
        call.runner.key(digit)

    def on_ended(self, call: MediaCall, reason: str) -> None:
        assert isinstance(call, _IvrLeg)
        call.runner.closed()

    def frames(self, calls: list[MediaCall], heard: dict[str, np.ndarray | None]
               ) -> dict[str, np.ndarray | bytes]:
        out: dict[str, np.ndarray | bytes] = {}
        for call in calls:
            assert isinstance(call, _IvrLeg)
            runner = call.runner
            trace = runner.trace if runner is not None else None
            if trace is None:
                continue
            # The call's own clock: frame n carries the audio of [n × 20 ms, (n+1) × 20 ms)
            # after the answer (counted, not read from the clock: no sample skipped or
            # repeated when a tick is a little late).
            if not call.clock_set:
                call.frames_sent = int(runner.now() / TICK)
                call.clock_set = True
            at = call.frames_sent * TICK
            call.frames_sent += 1
            step = next((s for s in trace.steps if s.prompt and s.duration > 0
                         and s.start <= at < s.start + s.duration), None)
            if step is None:
                continue
            encoded = self._encoded.get((_prompt_key(step), call.payload_type))
            if encoded is None:
                continue
            first = int(round((at - step.start) * RATE))
            chunk = encoded[first:min(first + FRAME, int(round(step.duration * RATE)))]
            out[call.call_id] = chunk + SILENCE[call.payload_type][len(chunk):]
        return out

    # -- media -------------------------------------------------------------------------------
    def prompt_samples(self, step: Any) -> np.ndarray:
        """What this step says, 8 kHz samples (the manifest's file, else spoken offline);
        its G.711 encodings are kept for the media thread."""
        from toipkit.tts.g711 import alaw_encode, ulaw_encode

        key = _prompt_key(step)
        with self._cache_lock:
            if key in self._prompt_cache:
                return self._prompt_cache[key]
        samples = self._sound_of(step).samples.astype(np.int16)
        with self._cache_lock:
            self._encoded[(key, 0)] = np.asarray(ulaw_encode(samples), np.uint8).tobytes()
            self._encoded[(key, 8)] = np.asarray(alaw_encode(samples), np.uint8).tobytes()
            self._prompt_cache[key] = samples
        return samples

    def _sound_of(self, step: Any):
        from toipkit.tts.audio import Audio

        parts = []
        names = [n.strip() for n in step.args.split(",", 1)[0].split("&") if n.strip()] \
            if step.app.lower() in ("playback", "background") else []
        for name in names:
            entry = self.sounds(name) if callable(self.sounds) else (
                self.sounds.get(name) if self.sounds is not None else None)
            if entry is not None and getattr(entry, "files", None):
                fmt = "wav" if "wav" in entry.files else next(iter(entry.files))
                audio = entry.audio(fmt)
                parts.append(audio if audio.rate == RATE else audio.resample(RATE))
        if not parts and step.prompt:
            from toipkit.tts import synthesize

            with contextlib.suppress(ToipkitError):
                parts.append(synthesize(str(step.prompt), "fr"))
        import numpy as np

        samples = np.concatenate([p.samples for p in parts]) if parts else np.zeros(0, np.int16)
        wanted = int(round(step.duration * RATE))
        if wanted:
            samples = samples[:wanted]  # the simulation's timing rules
        return Audio(samples.astype(np.int16), RATE)

    def simulate(self, keys: list[tuple[float, str]], caller: str | None = None,
                 directory: dict[str, Any] | None = None):
        """The simulator's trace for these keys (``(seconds, key)``) — what a call follows."""
        from toipkit.dialplan import simulate

        return simulate(self.dialplan, self.context, self.exten, dtmf=list(keys),
                        sounds=self.sounds,
                        directory=self.directory if directory is None else directory,
                        callerid=caller)

    def _log(self, call: IvrCall) -> None:
        if self.log_path is None:
            return
        import json

        record = {"caller": call.caller, "started": call.started, "ended": call.ended,
                  "keys": call.keys, "played": call.played, "outcome": call.outcome,
                  "target": call.target}
        with contextlib.suppress(OSError), open(self.log_path, "a", encoding="utf-8") as out:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")

    def __enter__(self) -> LiveIvr:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _repr_markdown_(self) -> str:
        return (f"**SVI en direct** sur le {self.number} ({len(self.active)} appel(s) en "
                f"cours) : [{self.context}] {self.exten}, {len(self.calls)} appel(s) reçu(s)")


def _prompt_key(step: Any) -> tuple[str, float]:
    return (f"{step.app}|{step.args}|{step.prompt}", round(step.duration, 3))


class _CallRunner:
    """Follows the simulated trace of one call in real time (the audio is the media thread's:
    it reads :attr:`trace`)."""

    def __init__(self, ivr: LiveIvr, leg: _IvrLeg, call: IvrCall) -> None:
        self.ivr = ivr
        self.leg = leg
        self.call = call
        self.cond = threading.Condition()
        self.t0 = 0.0
        self.done = False
        self.trace: Any = None
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        with self.cond:
            if self.thread is not None:
                return
            self.t0 = time.monotonic()
            self.thread = threading.Thread(target=self._run, daemon=True, name="ivr-call")
        self.thread.start()

    def now(self) -> float:
        return time.monotonic() - self.t0

    def key(self, digit: str) -> None:
        with self.cond:
            if self.t0:
                self.call.keys.append((round(self.now(), 3), digit))
                self.cond.notify_all()

    def closed(self) -> None:
        with self.cond:
            self.done = True
            if self.call.ended is None:
                self.call.ended = time.time()
            self.cond.notify_all()

    def _run(self) -> None:
        try:
            self._follow()
        finally:
            self.ivr._log(self.call)

    def _follow(self) -> None:
        heard: set[tuple] = set()
        directory = self.ivr.directory  # the PBX's numbers as the call starts
        self.directory = directory
        simulated: list | None = None
        trace: Any = None
        while True:
            with self.cond:
                if self.done:
                    if not self.call.outcome:
                        self.call.outcome = "raccroché par l'appelant"
                    return
                keys = list(self.call.keys)
            if keys != simulated:  # a new key: the rest of the call may change
                trace = self.ivr.simulate(keys, self.call.caller, directory)
                simulated = keys
                for step in trace.steps:  # the audio is ready before the media thread needs it
                    if step.prompt and step.duration > 0:
                        self.ivr.prompt_samples(step)
                self.trace = trace
                self.call.trace = trace
            now = self.now()
            # What the caller has heard so far is what the trace says up to now, prompt after
            # prompt — also one a key cut short between two turns of this loop.
            for step in trace.steps:
                if step.prompt and step.duration > 0 and step.start <= now:
                    key = (round(step.start, 3), step.args, str(step.prompt))
                    if key not in heard:
                        heard.add(key)
                        self.call.played.append((round(step.start, 3), str(step.prompt)))
            if now >= trace.elapsed:
                self._finish(trace)
                return
            upcoming = [s.start for s in trace.steps if s.start > now]
            upcoming += [s.start + s.duration for s in trace.steps
                         if s.duration > 0 and s.start + s.duration > now]
            upcoming.append(trace.elapsed)
            wait = max(0.0, min(upcoming) - now)
            with self.cond:
                if not self.done and len(self.call.keys) == len(keys):
                    self.cond.wait(timeout=wait)

    def _finish(self, trace: Any) -> None:
        self.call.outcome = trace.outcome
        number = _number_of(trace.target, self.directory)
        self.call.target = number or trace.target
        self.call.ended = time.time()
        if trace.outcome in ("dial", "queue", "conference", "voicemail") and number:
            # Blind transfer: the caller's phone calls the number itself once the IVR has left
            # (BYE as soon as the REFER is accepted).
            key = self.ivr.refer(self.leg, number)
            deadline = time.monotonic() + 2.0
            while key and not self.ivr.answered(key) and time.monotonic() < deadline:
                time.sleep(0.01)
        self.ivr.hangup(self.leg)
