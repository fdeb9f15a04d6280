"""A live IVR on the lab network: the student's dialplan answers real calls.

:class:`LiveIvr` registers a small pool of baresip agents (one call each) as the service
behind a number; the sandbox's registrar hunts through them. Each call is driven by the very
engine of :func:`toipkit.dialplan.simulate`, so a live call and a simulation of the same keys
agree step for step, by construction:

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
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toipkit import paths
from toipkit.errors import ToipkitError
from toipkit.phone import ports, registrar
from toipkit.phone.baresip import Agent, AgentConfig, AgentError
from toipkit.phone.phone import MAX_CALL_SECONDS, RATE, _prepare_source, _write_silence

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
    match = re.search(r"\(([0-9*#]+)\)", target) or re.match(r"([0-9*#]+)", target)
    return match.group(1) if match else None


class LiveIvr:
    """The student's IVR answering ``number`` on the sandbox's lab network.

    ``dialplan``: a parsed dialplan (``toipkit.dialplan.parse``) or the result of
    ``tts.from_dialplan`` (then its ``.dialplan`` and ``.manifest`` are used); ``context`` and
    ``exten``: where calls enter (Asterisk's ``Goto(context,exten,1)``); ``sounds``: the prompts
    manifest; ``directory``: number → user/group for the simulator (the sandbox's by default).
    """

    def __init__(self, registrar_info: registrar.RegistrarInfo, dialplan: Any, *,
                 number: str = "500", context: str = "ivr", exten: str = "s", sounds: Any = None,
                 directory: Any = None, pool: int = 4, caller_context: str = "default",
                 host: str = "127.0.0.1", folder: Path | None = None,
                 log_path: Path | None = None) -> None:
        if hasattr(dialplan, "dialplan") and hasattr(dialplan, "manifest"):
            sounds = dialplan.manifest if sounds is None else sounds
            dialplan = dialplan.dialplan
        check_deployable(dialplan, context)
        self.registrar = registrar_info
        self.dialplan = dialplan
        self.number = str(number)
        self.context = context
        self.exten = exten
        self.sounds = sounds
        # number -> user/group for the simulator; a callable is asked again for every call
        self._directory = directory if directory is not None else {}
        self.log_path = log_path
        self.calls: list[IvrCall] = []
        self._prompt_cache: dict[tuple[str, float], Path] = {}
        self._cache_lock = threading.Lock()
        self.folder = Path(folder) if folder is not None else Path(
            paths.state_dir() / "ivr" / f"{self.number}-{secrets.token_hex(3)}")
        self.folder.mkdir(parents=True, exist_ok=True)
        self._silence = self.folder / "silence.wav"
        _write_silence(self._silence, MAX_CALL_SECONDS)
        self._accounts: list[tuple[str, str]] = []
        self._agents: list[Agent] = []
        try:
            for k in range(pool):
                self._start_agent(k, host)
            self._publish(caller_context)
            for agent, (username, secret) in zip(self._agents, self._accounts):
                agent.command("uanew", f"<sip:{username}@{self.registrar.address}>;"
                                       f"auth_pass={secret};regint=120;answermode=manual;"
                                       "audio_codecs=PCMU,PCMA")
            self._wait_registered()
        except BaseException:
            self.close()
            raise

    @property
    def directory(self) -> dict[str, Any]:
        return self._directory() if callable(self._directory) else self._directory

    # -- set-up ------------------------------------------------------------------------------
    def _start_agent(self, k: int, host: str) -> None:
        username = f"svc{self.number}-{k}-{secrets.token_hex(2)}"
        self._accounts.append((username, secrets.token_hex(8)))
        for attempt in range(5):
            rtp = ports.free_port_pair(host)
            sip = ports.free_port_block(host, 2)
            ctrl = ports.free_port(host, udp=False, tcp=True)
            config = AgentConfig(folder=self.folder / f"agent-{k}", host=host, sip_port=sip,
                                 ctrl_port=ctrl, rtp_port=rtp, audio_source=self._silence,
                                 record_dir=self.folder / f"agent-{k}" / "recordings",
                                 user_agent="toipkit-ivr (baresip)")
            agent = Agent(config)
            agent.registered = threading.Event()  # type: ignore[attr-defined]
            agent.add_listener(lambda event, a=agent: self._on_event(a, event))
            try:
                agent.start()
            except AgentError:
                agent.close()
                if attempt == 4 or "Address already in use" not in agent.log_tail():
                    raise
                continue
            self._agents.append(agent)
            return

    def _publish(self, caller_context: str) -> None:
        conn = sqlite3.connect(self.registrar.db_path, timeout=10)
        try:
            with conn:
                conn.execute("DELETE FROM services WHERE context = ? AND exten = ?",
                             (caller_context, self.number))
                conn.executemany(
                    "INSERT INTO services (username, secret, context, exten, position) "
                    "VALUES (?, ?, ?, ?, ?)",
                    [(u, s, caller_context, self.number, k)
                     for k, (u, s) in enumerate(self._accounts)])
        finally:
            conn.close()
        self._caller_context = caller_context

    def _wait_registered(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        for agent in self._agents:
            if not agent.registered.wait(max(0.0, deadline - time.monotonic())):  # type: ignore
                raise IvrError("les agents du SVI ne se sont pas enregistrés auprès du "
                               "registrar du bac à sable")

    # -- events ------------------------------------------------------------------------------
    def _on_event(self, agent: Agent, event: dict[str, Any]) -> None:
        kind = event.get("type", "")
        if kind == "REGISTER_OK":
            agent.registered.set()  # type: ignore[attr-defined]
        elif kind == "CALL_INCOMING":
            caller = re.match(r"(?:sips?:)?([^@;>]+)@", str(event.get("peeruri", "")).strip("<>"))
            call = IvrCall(caller.group(1) if caller else "?", time.time())
            self.calls.append(call)
            agent.current = _CallRunner(self, agent, call)  # type: ignore[attr-defined]
            threading.Thread(target=agent.command, args=("accept",), daemon=True).start()
        elif kind == "CALL_ESTABLISHED":
            runner = getattr(agent, "current", None)
            if runner is not None:
                runner.start()
        elif kind == "CALL_DTMF_START":
            runner = getattr(agent, "current", None)
            if runner is not None:
                # A key may arrive before the ACK that establishes the call: the call starts
                # then (Asterisk too hears keys pressed at once).
                runner.start()
                runner.key(str(event.get("param", "")))
        elif kind == "CALL_CLOSED":
            runner = getattr(agent, "current", None)
            if runner is not None:
                runner.closed()
                agent.current = None  # type: ignore[attr-defined]

    # -- media -------------------------------------------------------------------------------
    def prompt_file(self, step: Any) -> Path:
        """A WAV for what this step says (the manifest's file, else spoken offline)."""
        key = (f"{step.app}|{step.args}|{step.prompt}", round(step.duration, 3))
        with self._cache_lock:
            if key in self._prompt_cache:
                return self._prompt_cache[key]
        audio = self._sound_of(step)
        path = self.folder / f"prompt-{len(self._prompt_cache)}.wav"
        _prepare_source(audio, path, MAX_CALL_SECONDS)
        with self._cache_lock:
            self._prompt_cache[key] = path
        return path

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

    # -- end ---------------------------------------------------------------------------------
    def close(self) -> None:
        if self.registrar is not None and self._accounts:
            conn = sqlite3.connect(self.registrar.db_path, timeout=10)
            try:
                with conn:
                    conn.executemany("DELETE FROM services WHERE username = ?",
                                     [(u,) for u, _ in self._accounts])
            finally:
                conn.close()
        for agent in self._agents:
            agent.close()
        self._agents = []

    def __enter__(self) -> LiveIvr:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _repr_markdown_(self) -> str:
        return (f"**SVI en direct** sur le {self.number} ({len(self._agents)} lignes) : "
                f"[{self.context}] {self.exten}, {len(self.calls)} appel(s) reçu(s)")


class _CallRunner:
    """Follows the simulated trace of one call in real time."""

    def __init__(self, ivr: LiveIvr, agent: Agent, call: IvrCall) -> None:
        self.ivr = ivr
        self.agent = agent
        self.call = call
        self.cond = threading.Condition()
        self.t0 = 0.0
        self.done = False
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        if self.thread is None:
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
            self.call.ended = time.time()
            self.cond.notify_all()

    def _play(self, source: Path) -> None:
        with contextlib.suppress(ToipkitError):
            self.agent.command("ausrc", f"aufile,{source}")

    def _run(self) -> None:
        try:
            self._follow()
        finally:
            self.ivr._log(self.call)

    def _follow(self) -> None:
        playing: tuple | None = None
        heard: set[tuple] = set()
        directory = self.ivr.directory  # the PBX's numbers as the call starts
        self.directory = directory
        while True:
            with self.cond:
                if self.done:
                    if not self.call.outcome:
                        self.call.outcome = "raccroché par l'appelant"
                    return
                keys = list(self.call.keys)
            trace = self.ivr.simulate(keys, self.call.caller, directory)
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
            active = next((s for s in trace.steps if s.prompt and s.duration > 0
                           and s.start <= now < s.start + s.duration), None)
            wanted = (active.start, active.args, active.prompt) if active else None
            if wanted != playing:
                self._play(self.ivr.prompt_file(active) if active is not None
                           else self.ivr._silence)
                playing = wanted
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
        if trace.outcome in ("dial", "queue", "conference", "voicemail") and number:
            with contextlib.suppress(ToipkitError):
                self.agent.command("transfer", number)
                return
        with contextlib.suppress(ToipkitError):
            self.agent.command("hangup")
