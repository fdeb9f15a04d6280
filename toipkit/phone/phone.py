"""Phones a notebook drives: register a line, call, answer, send DTMF, play and record audio.

Each :class:`Phone` is one baresip process (see :mod:`toipkit.phone.baresip`) on loopback,
registered as one SIP line: on the sandbox's registrar (the default) or on a real XiVO given its
address. Everything it does is real SIP and RTP, so a capture taken around it shows the same
ladder as Wireshark does with a desk phone.

    alice = Phone.for_line(client, "101")      # SIP credentials read from confd
    bob = Phone.for_line(client, "102", auto_answer=True)
    call = alice.call("102", duration=5)       # rings, is answered, talks 5 s, hangs up
    bob.last_recording()                        # what Bob heard (IPython audio player)
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import re
import shutil
import tempfile
import threading
import time
import wave
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toipkit import paths
from toipkit._fileio import atomic_path
from toipkit.errors import ToipkitError
from toipkit.phone import ports
from toipkit.phone.baresip import Agent, AgentConfig, AgentError

#: Calls last at most this long: the audio source of a call is a WAV of this length.
MAX_CALL_SECONDS = 180
RATE = 8000
_counter = itertools.count(1)


def _join_wav(pieces: list[Path], target: Path) -> None:
    """Concatenate WAV files of the same format into ``target`` (written whole or not at
    all); a piece in another format, or unreadable, is left out."""
    frames: list[bytes] = []
    params = None
    for piece in pieces:
        try:
            with wave.open(str(piece), "rb") as source:
                these = source.getparams()[:3]  # channels, sample width, rate
                if params is None:
                    params = these
                if these == params:
                    frames.append(source.readframes(source.getnframes()))
        except (OSError, EOFError, wave.Error):
            continue
    if params is None:
        return
    with atomic_path(target) as partial, wave.open(str(partial), "wb") as out:
        out.setnchannels(params[0])
        out.setsampwidth(params[1])
        out.setframerate(params[2])
        out.writeframes(b"".join(frames))
#: seconds baresip takes, after a call's end event, to close (complete) its recordings and
#: finish the BYE transaction
_CLOSE_DELAY = 0.3
_open_phones: weakref.WeakSet[Phone] = weakref.WeakSet()


class PhoneError(ToipkitError):
    """A phone could not do what it was asked (message in French, for the student)."""


@dataclass
class SipMessage:
    """One SIP message the phone sent (``→``) or received (``←``)."""

    time: float
    direction: str
    source: str
    destination: str
    first_line: str
    text: str

    @property
    def method_or_status(self) -> str:
        parts = self.first_line.split()
        if parts and parts[0] == "SIP/2.0":
            return " ".join(parts[1:3])
        return parts[0] if parts else ""

    def header(self, name: str) -> str | None:
        pattern = re.compile(rf"^{re.escape(name)}\s*:\s*(.*)$", re.IGNORECASE | re.MULTILINE)
        match = pattern.search(self.text.split("\r\n\r\n", 1)[0] if "\r\n\r\n" in self.text
                               else self.text.split("\n\n", 1)[0])
        return match.group(1).strip() if match else None


class Dialogue(list):
    """SIP messages in order; ``to_frame()`` for a table."""

    def to_frame(self):
        import pandas as pd

        rows = [{"n°": n, "sens": m.direction, "message": m.method_or_status,
                 "CSeq": m.header("CSeq") or "", "Call-ID": m.header("Call-ID") or ""}
                for n, m in enumerate(self, 1)]
        return pd.DataFrame(rows, columns=["n°", "sens", "message", "CSeq", "Call-ID"])

    def _repr_html_(self) -> str:
        return self.to_frame().to_html(index=False)

    def ladder(self) -> list[str]:
        return [m.method_or_status for m in self]


@dataclass
class Call:
    """One call of a phone, as the phone saw it."""

    call_id: str | None
    direction: str  # "sortant" or "entrant"
    peer: str
    started: float
    answered_at: float | None = None
    ended_at: float | None = None
    end_reason: str = ""
    status: str = "en cours"
    dtmf_received: list[str] = field(default_factory=list)
    recording_path: Path | None = None
    sent_path: Path | None = None
    transferred_to: str | None = None
    #: the recordings folder before this call's audio started: (name, inode) of each file
    _before: frozenset = field(default=frozenset(), repr=False)
    #: this call's recordings in the order baresip made them ("dec"/"enc" → files)
    _pieces: dict[str, list[Path]] = field(default_factory=dict, repr=False)
    _number: int = field(default_factory=lambda: next(_counter), repr=False)

    @property
    def answered(self) -> bool:
        return self.answered_at is not None

    @property
    def setup_time(self) -> float | None:
        """Seconds from the start of the call to the answer (INVITE → 200 for outgoing calls)."""
        return None if self.answered_at is None else self.answered_at - self.started

    def recording(self, wait: float = 3.0):
        """What the phone heard during this call (an audio player in Jupyter)."""
        from toipkit.tts.audio import read_sound

        # The recording is attached as the call ends; baresip closes (completes) the file just
        # after.
        deadline = time.monotonic() + wait
        while self.ended_at is not None and self.recording_path is None and \
                time.monotonic() < deadline:
            time.sleep(0.05)
        if self.ended_at is not None:
            time.sleep(max(0.0, min(wait, self.ended_at + _CLOSE_DELAY - time.time())))
        self.join_recordings()
        if self.recording_path is None or not self.recording_path.exists():
            raise PhoneError("aucun enregistrement pour cet appel (appel non établi ?)")
        return read_sound(self.recording_path)

    def join_recordings(self) -> None:
        """Make :attr:`recording_path` / :attr:`sent_path` one file each once the call is over.

        baresip starts a new recording each time the call's audio restarts (every early-media
        answer of a group's next stage, then the answer itself): the pieces are joined in
        order, so the recording is the whole call as the phone heard it."""
        if self.ended_at is None:
            return
        for kind, target in (("dec", self.recording_path), ("enc", self.sent_path)):
            pieces = [p for p in self._pieces.get(kind, ()) if p.exists()]
            if target is None or target.exists() or not pieces:
                continue
            _join_wav(pieces, target)
            for piece in pieces:
                with contextlib.suppress(OSError):
                    piece.unlink()
            self._pieces[kind] = []

    def summary(self) -> dict[str, Any]:
        return {"sens": self.direction, "correspondant": self.peer, "statut": self.status,
                "décroché": self.answered, "durée (s)": None if not (self.answered_at and
                                                                     self.ended_at)
                else round(self.ended_at - self.answered_at, 1),
                "fin": self.end_reason, "DTMF reçus": "".join(self.dtmf_received)}

    def _repr_markdown_(self) -> str:
        s = self.summary()
        return (f"Appel {s['sens']} avec `{s['correspondant']}` : **{s['statut']}**"
                + (f" — {s['durée (s)']} s" if s["durée (s)"] is not None else "")
                + (f" (fin : {s['fin']})" if s["fin"] else ""))


_REASONS = {
    "Connection reset by user": "raccroché",
    "Connection reset by peer": "raccroché par le correspondant",
    "end of file": "fin du fichier son",
}
_STATUS_TEXT = {"403": "refusé", "404": "numéro inconnu", "408": "pas de réponse",
                "480": "non joignable (poste non enregistré)", "486": "occupé", "487": "annulé",
                "488": "codec refusé", "603": "refusé"}


def _french_reason(reason: str) -> str:
    """baresip's end-of-call reason in French (the SIP answer kept in parentheses)."""
    if reason in _REASONS:
        return _REASONS[reason]
    code = reason.split(" ", 1)[0]
    if code in _STATUS_TEXT:
        return f"{_STATUS_TEXT[code]} ({reason})"
    return reason


def _peer_number(uri: str) -> str:
    match = re.match(r"(?:sips?:)?([^@;>]+)@", uri.strip("<> "))
    return match.group(1) if match else uri


class Phone:
    """A softphone registered as one SIP line (baresip, driven from Python).

    ``server`` is the SIP server (``"127.0.0.1:PORT"`` for the sandbox's registrar, the XiVO's
    address otherwise); ``username``/``password`` are the line's SIP credentials. The password
    is never shown (repr, errors, logs of this object).
    """

    def __init__(self, username: str, password: str, server: str, *, number: str = "",
                 display_name: str = "", auto_answer: bool = False, answer_delay: float = 0.2,
                 register: bool = True,
                 host: str = "127.0.0.1", folder: str | Path | None = None,
                 timeout: float = 5.0) -> None:
        self.username = str(username)
        self._password = str(password)
        self.server = _resolve_server(str(server))
        self.number = str(number or username)
        self.display_name = display_name
        self.auto_answer = auto_answer
        self.answer_delay = answer_delay
        self.calls: list[Call] = []
        self.registration_status: str | None = None
        #: the sandbox whose media endpoints a call waits for (set by :meth:`for_line`)
        self.sandbox_dir: Path | None = None
        self._events: list[tuple[float, dict[str, Any]]] = []
        self._cond = threading.Condition()
        self._folder_is_temp = folder is None
        base = paths.state_dir() / "phones"
        base.mkdir(parents=True, exist_ok=True)
        self.folder = Path(folder) if folder else Path(
            tempfile.mkdtemp(prefix=f"{self.number}-", dir=base))
        self._silence = self.folder / "silence.wav"
        _write_silence(self._silence, MAX_CALL_SECONDS)
        self.agent = self._start_agent(host)
        _open_phones.add(self)
        if register:
            self.register(timeout=timeout)

    def _start_agent(self, host: str, attempts: int = 5) -> Agent:
        # Ports are free when chosen but another program may take one before baresip binds
        # it: try again with new ones.
        for attempt in range(attempts):
            self.rtp_port = ports.free_port_pair(host)
            sip_port = ports.free_port_block(host, 2)
            ctrl_port = ports.free_port(host, udp=False, tcp=True)
            while ctrl_port in (sip_port, sip_port + 1, self.rtp_port, self.rtp_port + 1):
                ctrl_port = ports.free_port(host, udp=False, tcp=True)
            config = AgentConfig(
                folder=self.folder, host=host, sip_port=sip_port, ctrl_port=ctrl_port,
                rtp_port=self.rtp_port, audio_source=self._silence,
                record_dir=self.folder / "recordings")
            agent = Agent(config)
            agent.add_listener(self._on_event)
            try:
                agent.start()
                return agent
            except AgentError:
                agent.close()
                if attempt == attempts - 1 or "Address already in use" not in agent.log_tail():
                    raise
        raise AssertionError("unreachable")

    # -- construction helpers ----------------------------------------------------------------
    @classmethod
    def for_line(cls, client: Any, exten: str | int, *, server: str | None = None,
                 **kwargs: Any) -> Phone:
        """A phone registered with the SIP credentials of the line that has number ``exten``.

        ``client`` is a :class:`toipkit.xivo.XivoClient`; on the sandbox the SIP server is the
        sandbox's registrar, on a real XiVO its address (or ``server=``).
        """
        from toipkit.xivo import lab

        user = lab.find_user_by_exten(client, str(exten))
        if user is None:
            raise PhoneError(f"aucun utilisateur n'a le numéro {exten} : créez-le d'abord")
        settings = lab.softphone_settings(client, user)
        phone = cls(settings.username, settings.password, server or sip_server_for(client),
                    number=str(exten), display_name=settings.display_name, **kwargs)
        from toipkit.phone import registrar

        data_dir = registrar.sandbox_data_dir(client)
        phone.sandbox_dir = Path(data_dir) if data_dir else None
        return phone

    def __repr__(self) -> str:
        state = self.registration_status or "non enregistré"
        return (f"Phone(number={self.number!r}, username={self.username!r}, password='***', "
                f"server={self.server!r}, {state})")

    def _repr_markdown_(self) -> str:
        return (f"📞 **{self.display_name or self.number}** ({self.number}) — "
                f"`{self.username}@{self.server}` : {self.registration_status or 'non enregistré'}")

    # -- events ------------------------------------------------------------------------------
    def _on_event(self, event: dict[str, Any]) -> None:
        now = time.time()
        kind = event.get("type", "")
        with self._cond:
            self._events.append((now, event))
            call = self._call_of(event)
            if kind == "REGISTER_OK":
                self.registration_status = "enregistré (" + str(event.get("param", "")) + ")"
            elif kind == "REGISTER_FAIL":
                self.registration_status = "refusé (" + str(event.get("param", "")) + ")"
            elif kind == "CALL_INCOMING":
                self.calls.append(Call(event.get("id"), "entrant",
                                       _peer_number(str(event.get("peeruri", ""))), now,
                                       status="sonne", _before=self._recordings_now()))
                if self.auto_answer:
                    threading.Thread(target=self._accept_soon, daemon=True).start()
            elif kind == "CALL_RINGING" and call is not None:
                call.status = "sonne"
            elif kind == "CALL_PROGRESS" and call is not None:  # early media: audio (re)starts
                self._take_recordings(call)
            elif kind == "CALL_ESTABLISHED" and call is not None:
                call.answered_at = now
                call.status = "en communication"
                self._take_recordings(call)
            elif kind == "TRANSFER" and call is not None:
                # The other side asked us (REFER) to call another number: do it once this
                # call is over, as a desk phone does on a blind transfer.
                call.transferred_to = _peer_number(str(event.get("param", "")))
            elif kind in ("CALL_DTMF_START",) and call is not None:
                call.dtmf_received.append(str(event.get("param", "")))
            elif kind == "CALL_CLOSED" and call is not None:
                # Before the call counts as over (the next one may start): its files get their
                # own names, so that no later call can take or overwrite them.
                self._attach_recording(call)
                call.ended_at = now
                call.end_reason = _french_reason(str(event.get("param", "")))
                call.status = "terminé" if call.answered else "échec"
                if call.transferred_to:
                    call.end_reason = f"transféré vers {call.transferred_to}"
                    threading.Thread(target=self._follow_transfer, args=(call,),
                                     daemon=True).start()
            self._cond.notify_all()

    def _call_of(self, event: dict[str, Any]) -> Call | None:
        """The call an event is about, by baresip's call id (the SIP Call-ID)."""
        call_id = event.get("id")
        if not call_id or event.get("class") != "call":
            return None
        for call in reversed(self.calls):
            if call.call_id == call_id:
                return call
        # the first event of a call we placed: it names the pending outgoing call
        for call in reversed(self.calls):
            if call.call_id is None and call.direction == "sortant" and call.ended_at is None:
                call.call_id = str(call_id)
                return call
        return None

    def _accept_soon(self) -> None:
        time.sleep(self.answer_delay)  # ring a little first, like a person picking up
        with contextlib.suppress(ToipkitError):
            self.agent.command("accept")

    def _follow_transfer(self, call: Call) -> None:
        time.sleep(0.1)
        if call.transferred_to is None:
            return
        with contextlib.suppress(ToipkitError):
            self.dial(call.transferred_to)

    def _recordings_now(self) -> frozenset:
        """(name, inode) of every file in the recordings folder."""
        found = set()
        with contextlib.suppress(OSError):
            for path in (self.folder / "recordings").iterdir():
                with contextlib.suppress(OSError):
                    found.add((path.name, path.stat().st_ino))
        return frozenset(found)

    def _take_recordings(self, call: Call) -> None:
        """Rename the recordings baresip made for this call so far to names of their own.

        sndfile names its files ``dump-<start, to the second>-dec.wav`` (what the phone heard)
        and ``-enc.wav`` (what it sent): two calls, or two restarts of one call's audio, in the
        same second would share them, and matching by time is a guess. A phone has one call at
        a time, so the call's files are exactly those that appeared since the call began (new
        name or new inode); each is renamed ``call-<n>-<kind>.<k>.wav`` as soon as the call
        says something (early media, answer, end) — baresip keeps writing to the renamed
        file."""
        folder = self.folder / "recordings"
        for name, _inode in sorted(self._recordings_now() - call._before):
            if name.startswith("dump-") and name.endswith(("-dec.wav", "-enc.wav")):
                kind = name[-7:-4]  # "dec" / "enc"
                pieces = call._pieces.setdefault(kind, [])
                target = folder / f"call-{call._number}-{kind}.{len(pieces)}.wav"
                with contextlib.suppress(OSError):
                    (folder / name).rename(target)
                    pieces.append(target)

    def _attach_recording(self, call: Call) -> None:
        """At the end of the call: its recording and what it sent, each one file once joined
        (:meth:`Call.join_recordings`, when baresip has closed them)."""
        self._take_recordings(call)
        folder = self.folder / "recordings"
        for kind in ("dec", "enc"):
            pieces = call._pieces.get(kind)
            if not pieces:
                continue
            target = folder / f"call-{call._number}-{kind}.wav"
            if len(pieces) == 1:  # the usual case: the file is the call's at once
                with contextlib.suppress(OSError):
                    pieces[0].rename(target)
                    call._pieces[kind] = []
            if kind == "dec":
                call.recording_path = target
            else:
                call.sent_path = target

    def _wait(self, predicate, timeout: float) -> bool:
        with self._cond:
            return self._cond.wait_for(predicate, timeout=timeout)

    # -- actions -----------------------------------------------------------------------------
    def register(self, timeout: float = 5.0) -> bool:
        """Register the line (REGISTER, 401, REGISTER with digest, 200 or 403).

        Returns True when the server accepted; the exchange is in :meth:`dialogue`.
        """
        with self._cond:
            self.registration_status = None
        aor = f"<sip:{self.username}@{self.server}>"
        params = [f"auth_pass={self._password}", "regint=120", "answermode=manual",
                  "audio_codecs=PCMU,PCMA"]
        response = self.agent.command("uanew", aor + ";" + ";".join(params))
        if not response.get("ok"):
            raise PhoneError(f"baresip a refusé le compte SIP {self.username}")
        self._wait(lambda: self.registration_status is not None, timeout)
        if self.registration_status is None:
            self.registration_status = f"pas de réponse du serveur {self.server}"
        return self.registered

    @property
    def registered(self) -> bool:
        return bool(self.registration_status and self.registration_status.startswith("enreg"))

    def call(self, number: str | int, *, duration: float | None = None,
             wait_answer: float = 10.0, play: str | Path | None = None,
             dtmf: str | None = None) -> Call:
        """Call ``number`` and wait (up to ``wait_answer`` s) for the answer or the failure.

        With ``duration``, stay in the call that long then hang up. ``play`` is a WAV file sent
        as the call's audio; ``dtmf`` digits are sent (RFC 2833) once the call is answered.
        """
        call = self.dial(number)
        self._wait(lambda: call.answered_at is not None or call.ended_at is not None,
                   wait_answer)
        if call.answered_at is None and call.ended_at is None:
            self.hangup()
            call.end_reason = call.end_reason or f"pas de réponse en {wait_answer:g} s"
            call.status = "sans réponse"
            return call
        if not call.answered:
            return call
        if play is not None:
            self.play(play)
        if dtmf:
            self.send_dtmf(dtmf)
        if duration is not None:
            remaining = duration - (time.time() - (call.answered_at or time.time()))
            if remaining > 0:
                self._wait(lambda: call.ended_at is not None, remaining)
            self.hangup()
        return call

    def dial(self, number: str | int) -> Call:
        """Start a call to ``number`` and return at once (it rings; see :attr:`current_call`)."""
        self._require_registered()
        if self.current_call is not None:
            raise PhoneError("un appel est déjà en cours sur ce téléphone : raccrochez d'abord")
        if self.sandbox_dir is not None:
            from toipkit.phone import services

            services.wait_in_step(self.sandbox_dir)
        target = f"sip:{number}@{self.server}"
        with self._cond:
            self.calls.append(Call(None, "sortant", str(number), time.time(), status="appel",
                                   _before=self._recordings_now()))
            call = self.calls[-1]
        response = self.agent.command("dial", target)
        if not response.get("ok"):
            call.status = "échec"
            call.ended_at = time.time()
            call.end_reason = str(response.get("data", "")).strip()
            raise PhoneError(f"l'appel vers {number} n'a pas pu partir : {call.end_reason}")
        return call

    def answer(self, timeout: float = 10.0) -> Call:
        """Wait for an incoming call (up to ``timeout`` s) and pick up."""
        if not self._wait(lambda: self.current_call is not None
                          and self.current_call.direction == "entrant", timeout):
            raise PhoneError(f"aucun appel entrant sur le {self.number} en {timeout:g} s")
        call = self.current_call
        assert call is not None
        if not call.answered:
            self.agent.command("accept")
            self._wait(lambda: call.answered_at is not None or call.ended_at is not None, 5)
        return call

    def wait_for_call(self, timeout: float = 10.0) -> Call:
        """Wait for an incoming call to ring (without answering)."""
        if not self._wait(lambda: bool(self.calls) and self.calls[-1].direction == "entrant"
                          and self.calls[-1].ended_at is None, timeout):
            raise PhoneError(f"le {self.number} n'a pas sonné en {timeout:g} s")
        return self.calls[-1]

    def send_dtmf(self, digits: str, *, gap: float = 0.25) -> None:
        """Send DTMF digits as RFC 2833 telephone-events in the call's RTP."""
        if self._established(2.0) is None:
            raise PhoneError("pas d'appel établi : les touches DTMF partent dans un appel")
        for digit in str(digits):
            if digit not in "0123456789*#ABCD":
                raise PhoneError(f"touche DTMF invalide : {digit!r}")
            self.agent.command("sndcode", digit)
            time.sleep(gap)

    def play(self, sound: str | Path | Any) -> None:
        """Send this sound as the call's audio from now on (then silence)."""
        if self._established(2.0) is None:
            raise PhoneError("pas d'appel établi : le son est joué dans un appel")
        source = self.folder / f"play-{next(_counter)}.wav"
        _prepare_source(sound, source, MAX_CALL_SECONDS)
        response = self.agent.command("ausrc", f"aufile,{source}")
        if not response.get("ok"):
            raise PhoneError("le téléphone n'a pas pu changer de source audio")

    def hangup(self, timeout: float = 5.0) -> None:
        """Hang up the current call (BYE, or CANCEL while it rings)."""
        call = self.current_call
        if call is None:
            return
        self.agent.command("hangup")
        self._wait(lambda: call.ended_at is not None, timeout)
        if call.ended_at is None:
            call.ended_at = time.time()
            call.status = "terminé" if call.answered else "annulé"
        # baresip ends the BYE transaction and completes the recordings just after the call's
        # end event: what follows (dialogue, recording) sees the whole call.
        time.sleep(max(0.0, min(_CLOSE_DELAY, call.ended_at + _CLOSE_DELAY - time.time())))
        call.join_recordings()

    def _established(self, timeout: float) -> Call | None:
        """The current call once it is answered (the 200 OK may still be on its way)."""
        self._wait(lambda: self.current_call is not None and self.current_call.answered,
                   timeout)
        call = self.current_call
        return call if call is not None and call.answered else None

    @property
    def current_call(self) -> Call | None:
        if self.calls and self.calls[-1].ended_at is None:
            return self.calls[-1]
        return None

    def last_recording(self, wait: float = 3.0):
        """What the phone heard in its last finished call."""
        finished = [c for c in self.calls if c.ended_at is not None and c.answered]
        if finished and finished[-1].recording_path is None:
            self._wait(lambda: finished[-1].recording_path is not None, wait)
        for call in reversed(self.calls):
            if call.recording_path is not None:
                return call.recording()
        raise PhoneError(f"le {self.number} n'a encore rien enregistré")

    def dialogue(self) -> Dialogue:
        """The SIP messages this phone sent and received, from its SIP trace."""
        config = self.agent.config
        return parse_trace(self.agent.log_path, f"{config.host}:{config.sip_port}")

    def answer_of(self, call: Call) -> str:
        """The final answer the phone received to this call's INVITE (``"200 OK"``, ``"486
        Busy Here"``...), read from its SIP trace; "" if none."""
        final = ""
        for message in self.dialogue():
            parts = message.first_line.split(" ", 2)
            if (message.direction == "←" and parts[0] == "SIP/2.0" and len(parts) == 3
                    and parts[1].isdigit() and int(parts[1]) >= 200
                    and message.header("Call-ID") == call.call_id
                    and "INVITE" in (message.header("CSeq") or "")):
                final = f"{parts[1]} {parts[2]}"
        return final

    def events(self) -> list[dict[str, Any]]:
        return [dict(e, time=t) for t, e in self._events]

    def _require_registered(self) -> None:
        if not self.registered:
            raise PhoneError(f"le {self.number} n'est pas enregistré "
                             f"({self.registration_status or 'aucune réponse'}) : vérifiez "
                             "l'identifiant, le mot de passe et le serveur")

    # -- end ---------------------------------------------------------------------------------
    def close(self) -> None:
        """Hang up, unregister and stop the agent (its files stay in :attr:`folder`)."""
        with contextlib.suppress(ToipkitError):
            if self.current_call is not None:
                self.hangup(timeout=2)
        self.agent.close()
        _open_phones.discard(self)

    def __enter__(self) -> Phone:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def close_all() -> None:
    """Stop every phone of this process."""
    for phone in list(_open_phones):
        phone.close()


atexit.register(close_all)


def sip_server_for(client: Any) -> str:
    """The SIP server a phone registers to for this confd client.

    The sandbox's registrar (``127.0.0.1:PORT``) when the client talks to a sandbox, the
    XiVO's host (port 5060) otherwise.
    """
    import httpx

    from toipkit.phone import registrar

    data_dir = registrar.sandbox_data_dir(client)
    if data_dir is None:
        return str(httpx.URL(client.confd_url).host)
    info = registrar.status(data_dir)
    if info is None:
        raise PhoneError("le registrar SIP du bac à sable ne tourne pas : relancez le bac à "
                         "sable (`toipkit sandbox stop` puis `toipkit sandbox start`) ; "
                         "kamailio est-il installé ? (`toipkit doctor`)")
    return info.address


def _resolve_server(server: str) -> str:
    """``127.0.0.1`` without a port (what a softphone's "domain" field holds for the sandbox)
    means the running sandbox's registrar, wherever it listens."""
    if server not in ("127.0.0.1", "localhost"):
        return server
    from toipkit.phone import registrar
    from toipkit.xivo import sandbox

    running = sandbox.status()
    info = registrar.status(running.data_dir) if running is not None else None
    return info.address if info is not None else server


# -- audio files -------------------------------------------------------------------------------
def _write_silence(path: Path, seconds: float) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(b"\0\0" * int(seconds * RATE))


def _prepare_source(sound: Any, path: Path, pad_to: float) -> None:
    """A WAV baresip's aufile can play: 8 kHz mono 16-bit, followed by silence up to ``pad_to``
    seconds (aufile ends the call at the end of its file)."""
    import numpy as np

    from toipkit.tts.audio import Audio, read_sound

    audio: Audio | None
    if isinstance(sound, Audio):
        audio = sound
    else:
        source = Path(sound)
        if not source.exists():
            raise PhoneError(f"fichier son introuvable : {source}")
        audio = read_sound(source) if source.suffix.lower() in (".wav", ".ulaw", ".alaw",
                                                                ".gsm", ".sln", ".sln16") \
            else None
        if audio is None:
            raise PhoneError(f"format de son non pris en charge : {source.name} (WAV attendu)")
    if audio.rate != RATE:
        audio = audio.resample(RATE)
    total = max(len(audio.samples), int(pad_to * RATE))
    samples = np.zeros(total, dtype=np.int16)
    samples[: len(audio.samples)] = audio.samples
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(samples.astype("<i2").tobytes())


# -- SIP trace ---------------------------------------------------------------------------------
_TRACE_HEAD = re.compile(r"^(UDP|TCP|TLS) (\S+) -> (\S+)$")


def parse_trace(log_path: Path, local: str | None = None) -> Dialogue:
    """The SIP messages in a baresip ``-s`` log (``UDP src -> dst`` then the message).

    ``local`` is the phone's own ``host:port`` (sent messages leave from it)."""
    try:
        text = log_path.read_text("utf-8", errors="replace")
    except OSError:
        return Dialogue()
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)
    messages = Dialogue()
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        head = _TRACE_HEAD.match(lines[i].strip())
        if head is None:
            i += 1
            continue
        src, dst = head.group(2), head.group(3)
        body: list[str] = []
        i += 1
        while i < len(lines) and lines[i].strip() != "#" and not _TRACE_HEAD.match(
                lines[i].strip()):
            body.append(lines[i])
            i += 1
        while body and not body[-1].strip():
            body.pop()
        if not body:
            continue
        if local is None:
            local = src
        direction = "→" if src == local else "←"
        messages.append(SipMessage(0.0, direction, src, dst, body[0].strip(),
                                   "\n".join(body)))
    for n, m in enumerate(messages):
        m.time = float(n)
    return messages


def cleanup_folder(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


def audio_similarity(reference: Any, recording: Any) -> float:
    """How well ``recording`` contains ``reference`` (0 … 1): the peak of their normalised
    cross-correlation over all delays (1.0 = the same waveform, at some delay).

    Both are :class:`toipkit.tts.audio.Audio` or WAV paths; they are compared at 8 kHz.
    """
    import numpy as np

    from toipkit.tts.audio import Audio, read_sound

    def load(x: Any) -> np.ndarray:
        audio = x if isinstance(x, Audio) else read_sound(x)
        if audio.rate != RATE:
            audio = audio.resample(RATE)
        return audio.samples.astype(np.float64)

    ref, rec = load(reference), load(recording)
    ref = ref - ref.mean()
    if len(ref) == 0 or len(rec) < len(ref) or not np.any(ref):
        return 0.0
    size = 1 << int(np.ceil(np.log2(len(rec) + len(ref))))
    corr = np.fft.irfft(np.fft.rfft(rec, size) * np.conj(np.fft.rfft(ref, size)), size)
    corr = corr[: len(rec) - len(ref) + 1]
    # Energy of each window of the recording, minus its mean, for a true correlation coefficient.
    csum = np.concatenate(([0.0], np.cumsum(rec)))
    csum2 = np.concatenate(([0.0], np.cumsum(rec * rec)))
    n = len(ref)
    window_sum = csum[n:] - csum[:-n]
    window_energy = csum2[n:] - csum2[:-n] - window_sum ** 2 / n
    denom = np.sqrt(np.maximum(window_energy, 1e-9) * float(np.dot(ref, ref)))
    return float(np.max(corr / denom))
