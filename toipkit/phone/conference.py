"""A conference room on the lab network: answers its number, asks the PIN, mixes the voices.

No packaged SIP agent here mixes audio (baresip 1.0 plays files and records, one call at a
time), so this media endpoint speaks the little SIP a conference bridge needs itself: it
registers as a service line of the sandbox's registrar (REGISTER with digest), answers INVITEs
with G.711 and RFC 2833 in its SDP, acknowledges BYE. The mixing is the textbook one: every
20 ms each participant receives the sum of the *other* participants' latest frame, so nobody
hears themselves. Joining alone plays "vous êtes le seul participant"; a room with a PIN asks
for it first (digits then #).
"""

from __future__ import annotations

import contextlib
import random
import re
import secrets
import socket
import sqlite3
import struct
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from toipkit.errors import ToipkitError
from toipkit.phone import ports, registrar
from toipkit.xivo.sip_register import digest_response

FRAME = 160  # samples per 20 ms at 8 kHz
CODECS = {0: "PCMU", 8: "PCMA"}


class ConferenceError(ToipkitError):
    """The conference room could not be opened (message in French)."""


@dataclass
class Participant:
    call_id: str
    number: str
    local_tag: str
    remote_tag: str
    sock: socket.socket
    remote_rtp: tuple[str, int]
    payload_type: int
    event_type: int | None
    joined: float = field(default_factory=time.time)
    admitted: bool = False
    digits: str = ""
    acked: bool = False
    inbox: deque = field(default_factory=lambda: deque(maxlen=4))
    prompt: np.ndarray | None = None
    prompt_at: int = 0
    seq: int = field(default_factory=lambda: random.randrange(65536))
    timestamp: int = field(default_factory=lambda: random.randrange(2 ** 32))
    ssrc: int = field(default_factory=lambda: random.randrange(2 ** 32))
    last_event_ts: int | None = None
    answer: bytes = b""
    answer_to: tuple[str, int] | None = None


def _header(message: str, name: str) -> str:
    match = re.search(rf"^(?:{name})\s*:\s*(.*)$", message, re.IGNORECASE | re.MULTILINE)
    return match.group(1).strip() if match else ""


def _headers(message: str, name: str) -> list[str]:
    return [m.group(1).strip() for m in
            re.finditer(rf"^(?:{name})\s*:\s*(.*)$", message, re.IGNORECASE | re.MULTILINE)]


class ConferenceBridge:
    """The room ``name`` (its number and PIN read from confd) answering on the lab network."""

    def __init__(self, registrar_info: registrar.RegistrarInfo, number: str, name: str,
                 pin: str | None = None, *, host: str = "127.0.0.1",
                 context: str = "default") -> None:
        self.registrar = registrar_info
        self.number = str(number)
        self.name = name
        self.pin = str(pin) if pin else None
        self.host = host
        self.participants: dict[str, Participant] = {}
        self.history: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._sip = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sip.bind((host, 0))
        self.sip_port = self._sip.getsockname()[1]
        self._username = f"conf{self.number}-{secrets.token_hex(2)}"
        self._secret = secrets.token_hex(8)
        self._prompts = self._make_prompts()
        self._publish(context)
        self._registered = threading.Event()
        self._sip_thread = threading.Thread(target=self._sip_loop, daemon=True,
                                            name=f"conference-{self.number}-sip")
        self._media_thread = threading.Thread(target=self._media_loop, daemon=True,
                                              name=f"conference-{self.number}-media")
        self._sip_thread.start()
        self._media_thread.start()
        self._register()
        if not self._registered.wait(5):
            self.close()
            raise ConferenceError("la salle de conférence ne s'est pas enregistrée auprès du "
                                  "registrar du bac à sable")

    @classmethod
    def for_room(cls, client: Any, name: str, **kwargs: Any) -> ConferenceBridge:
        """The room ``name`` as confd describes it (number, PIN), on the client's sandbox."""
        info = registrar.for_client(client)
        if info is None:
            raise ConferenceError("la salle de conférence en direct n'existe que dans le bac à "
                                  "sable (réseau de lab)")
        conf = client.conferences.find(name=name)
        if conf is None:
            raise ConferenceError(f"aucune salle de conférence nommée {name!r} : créez-la d'abord")
        extensions = conf.get("extensions") or []
        if not extensions:
            raise ConferenceError(f"la salle {name!r} n'a pas de numéro")
        return cls(info, str(extensions[0].get("exten")), name, conf.get("pin") or None, **kwargs)

    # -- prompts -----------------------------------------------------------------------------
    def _make_prompts(self) -> dict[str, np.ndarray]:
        from toipkit.tts import synthesize

        texts = {"alone": "Vous êtes le seul participant de la conférence.",
                 "pin": "Veuillez saisir le code de la conférence, suivi de dièse.",
                 "bad_pin": "Code incorrect.", "welcome": f"Bienvenue dans la conférence {self.name}."}
        prompts = {}
        for key, text in texts.items():
            try:
                prompts[key] = synthesize(text, "fr").samples.astype(np.int16)
            except ToipkitError:
                prompts[key] = np.zeros(FRAME * 25, np.int16)
        return prompts

    # -- registration ------------------------------------------------------------------------
    def _publish(self, context: str) -> None:
        conn = sqlite3.connect(self.registrar.db_path, timeout=10)
        try:
            with conn:
                conn.execute("DELETE FROM services WHERE context = ? AND exten = ?",
                             (context, self.number))
                conn.execute("INSERT INTO services (username, secret, context, exten, position) "
                             "VALUES (?, ?, ?, ?, 0)",
                             (self._username, self._secret, context, self.number))
        finally:
            conn.close()

    def _register(self, authorization: str = "", cseq: int = 1) -> None:
        reg = self.registrar
        self._reg_callid = getattr(self, "_reg_callid", secrets.token_hex(8))
        lines = [f"REGISTER sip:{reg.address} SIP/2.0",
                 f"Via: SIP/2.0/UDP {self.host}:{self.sip_port};rport;branch=z9hG4bK"
                 f"{secrets.token_hex(8)}",
                 "Max-Forwards: 70",
                 f"From: <sip:{self._username}@{reg.address}>;tag={secrets.token_hex(4)}",
                 f"To: <sip:{self._username}@{reg.address}>",
                 f"Call-ID: {self._reg_callid}", f"CSeq: {cseq} REGISTER",
                 f"Contact: <sip:{self._username}@{self.host}:{self.sip_port}>;expires=3600",
                 "User-Agent: toipkit-conference"]
        if authorization:
            lines.append(f"Authorization: {authorization}")
        self._send_sip("\r\n".join(lines) + "\r\nContent-Length: 0\r\n\r\n",
                       (reg.host, reg.port))

    def _on_register_answer(self, message: str) -> None:
        status = message.split(" ", 2)[1]
        if status == "200":
            self._registered.set()
        elif status == "401":
            challenge = _header(message, "WWW-Authenticate")
            realm = re.search(r'realm="([^"]*)"', challenge)
            nonce = re.search(r'nonce="([^"]*)"', challenge)
            if realm and nonce:
                uri = f"sip:{self.registrar.address}"
                response = digest_response(self._username, self._secret, realm.group(1),
                                           nonce.group(1), "REGISTER", uri)
                self._register(f'Digest username="{self._username}", realm="{realm.group(1)}", '
                               f'nonce="{nonce.group(1)}", uri="{uri}", '
                               f'response="{response}", algorithm=MD5', cseq=2)

    # -- SIP ---------------------------------------------------------------------------------
    def _send_sip(self, text: str, address: tuple[str, int]) -> None:
        with contextlib.suppress(OSError):
            self._sip.sendto(text.encode("utf-8"), address)

    def _sip_loop(self) -> None:
        self._sip.settimeout(0.2)
        while not self._stop.is_set():
            try:
                data, source = self._sip.recvfrom(65535)
            except OSError:
                self._retransmit()
                continue
            message = data.decode("utf-8", errors="replace")
            first = message.split("\r\n", 1)[0]
            if first.startswith("SIP/2.0"):
                if "REGISTER" in _header(message, "CSeq"):
                    self._on_register_answer(message)
                continue
            method = first.split(" ", 1)[0]
            handler = {"INVITE": self._on_invite, "ACK": self._on_ack, "BYE": self._on_bye,
                       "CANCEL": self._on_simple, "OPTIONS": self._on_simple}.get(method)
            if handler is None:
                self._reply(message, source, "501 Not Implemented")
            else:
                handler(message, source)

    def _reply(self, request: str, source: tuple[str, int], status: str, *, to_tag: str = "",
               body: str = "", extra: list[str] | None = None) -> str:
        to = _header(request, "To|t")
        if to_tag and ";tag=" not in to:
            to += f";tag={to_tag}"
        lines = [f"SIP/2.0 {status}"]
        lines += [f"Via: {v}" for v in _headers(request, "Via|v")]
        lines += [f"Record-Route: {r}" for r in _headers(request, "Record-Route")]
        lines += [f"From: {_header(request, 'From|f')}", f"To: {to}",
                  f"Call-ID: {_header(request, 'Call-ID|i')}",
                  f"CSeq: {_header(request, 'CSeq')}",
                  f"Contact: <sip:{self._username}@{self.host}:{self.sip_port}>",
                  "Server: toipkit-conference"] + (extra or [])
        if body:
            lines += ["Content-Type: application/sdp", f"Content-Length: {len(body.encode())}"]
        else:
            lines.append("Content-Length: 0")
        text = "\r\n".join(lines) + "\r\n\r\n" + body
        self._send_sip(text, source)
        return text

    def _on_simple(self, message: str, source: tuple[str, int]) -> None:
        self._reply(message, source, "200 OK")

    def _on_invite(self, message: str, source: tuple[str, int]) -> None:
        call_id = _header(message, "Call-ID|i")
        with self._lock:
            existing = self.participants.get(call_id)
        if existing is not None:  # retransmission or re-INVITE: same answer
            self._send_sip(existing.answer.decode(), source)
            return
        body = message.split("\r\n\r\n", 1)[1] if "\r\n\r\n" in message else ""
        media = re.search(r"^m=audio (\d+) RTP/AVP ([\d ]+)", body, re.MULTILINE)
        address = re.search(r"^c=IN IP4 (\S+)", body, re.MULTILINE)
        offered = [int(p) for p in media.group(2).split()] if media else []
        codec = next((p for p in offered if p in CODECS), None)
        if media is None or address is None or codec is None:
            self._reply(message, source, "488 Not Acceptable Here")
            return
        events = re.search(r"^a=rtpmap:(\d+) telephone-event/8000", body, re.MULTILINE)
        event_type = int(events.group(1)) if events else None
        rtp_port = ports.free_port_pair(self.host)
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((self.host, rtp_port))
        sock.setblocking(False)
        from_header = _header(message, "From|f")
        number = re.search(r"sip:([^@;>]+)@", from_header)
        remote_tag = re.search(r";tag=([^;>\s]+)", from_header)
        participant = Participant(call_id, number.group(1) if number else "?",
                                  secrets.token_hex(4), remote_tag.group(1) if remote_tag else "",
                                  sock, (address.group(1), int(media.group(1))), codec,
                                  event_type)
        payloads = f"{codec}" + (f" {event_type}" if event_type is not None else "")
        sdp = "\r\n".join([
            "v=0", f"o=toipkit {random.randrange(10 ** 9)} 1 IN IP4 {self.host}",
            f"s=conference {self.name}", f"c=IN IP4 {self.host}", "t=0 0",
            f"m=audio {rtp_port} RTP/AVP {payloads}", f"a=rtpmap:{codec} {CODECS[codec]}/8000"]
            + ([f"a=rtpmap:{event_type} telephone-event/8000", f"a=fmtp:{event_type} 0-15"]
               if event_type is not None else [])
            + ["a=ptime:20", "a=sendrecv"]) + "\r\n"
        answer = self._reply(message, source, "200 OK", to_tag=participant.local_tag, body=sdp)
        participant.answer = answer.encode()
        participant.answer_to = source
        participant.answered_at = time.monotonic()  # type: ignore[attr-defined]
        if self.pin:
            participant.prompt = self._prompts["pin"]
        else:
            self._admit(participant)
        with self._lock:
            self.participants[call_id] = participant

    def _admit(self, participant: Participant) -> None:
        participant.admitted = True
        alone = not any(p.admitted for p in self.participants.values()
                        if p is not participant)
        participant.prompt = self._prompts["alone" if alone else "welcome"]
        participant.prompt_at = 0
        self.history.append({"participant": participant.number, "event": "entre",
                             "time": time.time()})

    def _retransmit(self) -> None:
        now = time.monotonic()
        with self._lock:
            waiting = [p for p in self.participants.values() if not p.acked]
        for p in waiting:  # 200 OK over UDP is repeated until the ACK comes (RFC 3261 13.3.1.4)
            if p.answer_to is not None and now - getattr(p, "answered_at", now) > 0.5:
                self._send_sip(p.answer.decode(), p.answer_to)

    def _on_ack(self, message: str, source: tuple[str, int]) -> None:
        with self._lock:
            participant = self.participants.get(_header(message, "Call-ID|i"))
        if participant is not None:
            participant.acked = True

    def _on_bye(self, message: str, source: tuple[str, int]) -> None:
        self._reply(message, source, "200 OK")
        with self._lock:
            participant = self.participants.pop(_header(message, "Call-ID|i"), None)
        if participant is not None:
            participant.sock.close()
            self.history.append({"participant": participant.number, "event": "sort",
                                 "time": time.time()})

    # -- media -------------------------------------------------------------------------------
    def _decode(self, participant: Participant, payload: bytes) -> np.ndarray:
        from toipkit.tts.g711 import alaw_decode, ulaw_decode

        codes = np.frombuffer(payload, dtype=np.uint8)
        return (ulaw_decode(codes) if participant.payload_type == 0
                else alaw_decode(codes)).astype(np.int32)

    def _encode(self, participant: Participant, samples: np.ndarray) -> bytes:
        from toipkit.tts.g711 import alaw_encode, ulaw_encode

        clipped = np.clip(samples, -32768, 32767).astype(np.int16)
        codes = ulaw_encode(clipped) if participant.payload_type == 0 else alaw_encode(clipped)
        return np.asarray(codes, dtype=np.uint8).tobytes()

    def _receive(self, participant: Participant) -> None:
        while True:
            try:
                data = participant.sock.recv(2048)
            except (BlockingIOError, OSError):
                return
            if len(data) < 12 or data[0] >> 6 != 2:
                continue
            payload_type = data[1] & 0x7F
            timestamp = struct.unpack("!I", data[4:8])[0]
            payload = data[12 + 4 * (data[0] & 0x0F):]
            if payload_type == participant.event_type and payload:
                if timestamp != participant.last_event_ts:  # one key per event
                    participant.last_event_ts = timestamp
                    self._on_digit(participant, "0123456789*#ABCD"[payload[0]]
                                   if payload[0] < 16 else "")
            elif payload_type == participant.payload_type and payload:
                participant.inbox.append(self._decode(participant, payload))

    def _on_digit(self, participant: Participant, digit: str) -> None:
        if participant.admitted or not self.pin or not digit:
            return
        if digit != "#":
            participant.digits += digit
            return
        if participant.digits == str(self.pin):
            self._admit(participant)
        else:
            participant.prompt = np.concatenate([self._prompts["bad_pin"], self._prompts["pin"]])
            participant.prompt_at = 0
        participant.digits = ""

    def _media_loop(self) -> None:
        next_tick = time.monotonic()
        silence = np.zeros(FRAME, np.int32)
        while not self._stop.is_set():
            with self._lock:
                people = [p for p in self.participants.values() if p.acked]
            frames = {}
            for p in people:
                self._receive(p)
                frames[p.call_id] = p.inbox.popleft() if p.inbox else silence
            admitted = [p for p in people if p.admitted]
            for p in people:
                if p.prompt is not None and p.prompt_at < len(p.prompt):
                    chunk = p.prompt[p.prompt_at:p.prompt_at + FRAME].astype(np.int32)
                    p.prompt_at += FRAME
                    out = np.zeros(FRAME, np.int32)
                    out[:len(chunk)] = chunk
                elif p.admitted:
                    out = np.zeros(FRAME, np.int32)
                    for other in admitted:
                        if other is not p and len(frames[other.call_id]) == FRAME:
                            out += frames[other.call_id]
                else:
                    out = silence
                header = struct.pack("!BBHII", 0x80, p.payload_type, p.seq, p.timestamp, p.ssrc)
                p.seq = (p.seq + 1) & 0xFFFF
                p.timestamp = (p.timestamp + FRAME) & 0xFFFFFFFF
                with contextlib.suppress(OSError):
                    p.sock.sendto(header + self._encode(p, out), p.remote_rtp)
            next_tick += 0.020
            delay = next_tick - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            else:
                next_tick = time.monotonic()  # late (machine busy): don't send bursts

    # -- end ---------------------------------------------------------------------------------
    def close(self) -> None:
        self._stop.set()
        conn = sqlite3.connect(self.registrar.db_path, timeout=10)
        try:
            with conn:
                conn.execute("DELETE FROM services WHERE username = ?", (self._username,))
        finally:
            conn.close()
        for thread in (getattr(self, "_sip_thread", None), getattr(self, "_media_thread", None)):
            if thread is not None and thread.is_alive():
                thread.join(timeout=2)
        with self._lock:
            for p in self.participants.values():
                p.sock.close()
            self.participants.clear()
        self._sip.close()

    def __enter__(self) -> ConferenceBridge:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _repr_markdown_(self) -> str:
        people = ", ".join(p.number for p in self.participants.values() if p.admitted) or "personne"
        return (f"**Conférence {self.name}** ({self.number}"
                + (", avec code" if self.pin else ", accès libre") + f") : {people}")

