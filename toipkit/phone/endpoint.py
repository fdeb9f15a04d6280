"""The little SIP user agent the sandbox's media endpoints speak (conference rooms, live IVRs).

No packaged agent here mixes audio or serves many calls from one paced clock (baresip 1.0 takes
one call per process and paces each file source with a sleeping thread of its own), so the media
endpoints speak the SIP they need themselves, over one UDP socket:

* REGISTER as a service line of the sandbox's registrar (digest), which routes their number to
  them — SIP routing stays in the registrar;
* INVITE answered with G.711 and RFC 2833 in the SDP (``200 OK`` repeated until the ACK, RFC
  3261 13.3.1.4), or with early media only (``183`` + SDP, until CANCEL); ACK, BYE, CANCEL;
* requests inside a dialog towards the caller (BYE, REFER), through the registrar's
  Record-Route.

All calls of an endpoint share ONE media thread: every 20 ms (absolute deadlines, so no drift
and no burst) it reads what each call received (audio frames, RFC 2833 keys), asks the endpoint
for each call's next frame (:meth:`MediaEndpoint.frames`) and sends them as RTP.
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

import numpy as np

from toipkit.errors import ToipkitError
from toipkit.phone import ports, registrar
from toipkit.xivo.sip_register import digest_response

FRAME = 160  # samples per 20 ms at 8 kHz
TICK = 0.020
CODECS = {0: "PCMU", 8: "PCMA"}
DTMF_KEYS = "0123456789*#ABCD"
#: 20 ms of silence in each codec (the code of 0 in µ-law and A-law).
SILENCE = {0: b"\xff" * FRAME, 8: b"\xd5" * FRAME}


class EndpointError(ToipkitError):
    """A media endpoint could not start (message in French)."""


@dataclass
class MediaCall:
    """One call answered by a media endpoint (the dialog and its RTP stream)."""

    call_id: str
    number: str  # the caller's number (From user, as the registrar presents it)
    local_tag: str
    remote_tag: str
    sock: socket.socket
    remote_rtp: tuple[str, int]
    payload_type: int
    event_type: int | None
    remote_from: str = ""  # the caller's From header (our To in requests we send)
    local_to: str = ""  # the INVITE's To header with our tag (our From in requests)
    remote_contact: str = ""
    route_set: list[str] = field(default_factory=list)
    joined: float = field(default_factory=time.time)
    acked: bool = False
    early: bool = False  # answered with 183 only (early media)
    ended: bool = False
    inbox: deque = field(default_factory=lambda: deque(maxlen=4))
    seq: int = field(default_factory=lambda: random.randrange(65536))
    timestamp: int = field(default_factory=lambda: random.randrange(2 ** 32))
    ssrc: int = field(default_factory=lambda: random.randrange(2 ** 32))
    last_event_ts: int | None = None
    answer: bytes = b""
    answer_to: tuple[str, int] | None = None
    answered_at: float = 0.0
    invite: str = ""
    cseq: int = field(default_factory=lambda: random.randrange(1, 1000))


def header(message: str, name: str) -> str:
    match = re.search(rf"^(?:{name})\s*:\s*(.*)$", message, re.IGNORECASE | re.MULTILINE)
    return match.group(1).strip() if match else ""


def headers(message: str, name: str) -> list[str]:
    return [m.group(1).strip() for m in
            re.finditer(rf"^(?:{name})\s*:\s*(.*)$", message, re.IGNORECASE | re.MULTILINE)]


def _split_routes(values: list[str]) -> list[str]:
    """Record-Route values, one route per item (a header may carry several, comma separated)."""
    return [r.strip() for v in values for r in re.findall(r"<[^>]*>[^,]*", v)]


def _prefer_media_thread() -> None:
    """Make the calling thread (the media clock) wake up on time on a busy machine.

    As media servers do (Asterisk's ``-p``): real-time scheduling for this thread when the
    system allows it (root or CAP_SYS_NICE; silently not otherwise), and a short GIL switch
    interval so that a Python thread busy elsewhere in the process (a simulation, the HTTP
    server) hands over within 1 ms instead of 5.
    """
    import os
    import sys

    sys.setswitchinterval(min(sys.getswitchinterval(), 0.001))
    with contextlib.suppress(AttributeError, OSError):
        # 0: this thread; threads it starts (an IVR call's runner) get the normal policy
        os.sched_setscheduler(0, os.SCHED_FIFO | os.SCHED_RESET_ON_FORK, os.sched_param(10))


class MediaEndpoint:
    """Registers ``username`` for ``number`` in ``context``; subclasses produce the audio.

    Hooks: :meth:`on_answered` (a call's media starts), :meth:`on_digit`, :meth:`on_ended`,
    :meth:`frames` (each call's next 20 ms, called from the single media thread),
    :meth:`early_media` (answer an INVITE with 183 instead of 200).
    """

    call_class: type[MediaCall] = MediaCall
    user_agent = "toipkit-media"
    session_name = "toipkit"

    def __init__(self, registrar_info: registrar.RegistrarInfo, number: str, *,
                 username_prefix: str, host: str = "127.0.0.1",
                 context: str = "default") -> None:
        self.registrar = registrar_info
        self.number = str(number)
        self.host = host
        self.line_context = context
        self.active: dict[str, MediaCall] = {}
        self.lock = threading.RLock()
        self._stop = threading.Event()
        self._sip = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sip.bind((host, 0))
        self.sip_port = self._sip.getsockname()[1]
        self._username = (f"{username_prefix}{re.sub('[^0-9A-Za-z]', '', self.number)}-"
                          f"{secrets.token_hex(2)}")
        self._secret = secrets.token_hex(8)
        self._registered = threading.Event()
        self._pending: dict[str, tuple[float, str, tuple[str, int], int]] = {}
        #: per-call ``|Δ − 20 ms|`` of the sending clock is measured by captures; this counts
        #: the ticks the media thread came too late for (machine busy).
        self.late_ticks = 0
        self._sip_thread = threading.Thread(target=self._sip_loop, daemon=True,
                                            name=f"{username_prefix}{self.number}-sip")
        self._media_thread = threading.Thread(target=self._media_loop, daemon=True,
                                              name=f"{username_prefix}{self.number}-media")

    def start(self, timeout: float = 5.0) -> None:
        """Publish the service line, start the threads, register (raises if no answer)."""
        self._publish()
        self._sip_thread.start()
        self._media_thread.start()
        self._register()
        if not self._registered.wait(timeout):
            self.close()
            raise EndpointError("le service média ne s'est pas enregistré auprès du registrar "
                                "du bac à sable")

    # -- hooks -------------------------------------------------------------------------------
    def on_answered(self, call: MediaCall) -> None:
        """The call is answered (200 sent) or its early media starts (183 sent)."""

    def on_acked(self, call: MediaCall) -> None:
        """The caller's ACK arrived: the call is established."""

    def on_digit(self, call: MediaCall, digit: str) -> None:
        """An RFC 2833 key from the caller (once per event)."""

    def on_ended(self, call: MediaCall, reason: str) -> None:
        """The call is over (BYE or CANCEL received, or we hung up)."""

    def answer_reason(self, request: str) -> str:
        """The reason phrase of the 200 answering this INVITE."""
        return "OK"

    def early_media(self, call: MediaCall, request: str) -> bool:
        """True: answer this INVITE with ``183 Session Progress`` + SDP and never 200."""
        return False

    def frames(self, calls: list[MediaCall], heard: dict[str, np.ndarray | None]
               ) -> dict[str, np.ndarray | bytes]:
        """The next 20 ms for each call: ``FRAME`` int samples, or the G.711 payload in the
        call's codec (prepared in advance: less work on the clock's thread); missing = silence.
        ``heard``: what each call sent during the last 20 ms (None: nothing arrived)."""
        return {}

    # -- registration ------------------------------------------------------------------------
    def _publish(self) -> None:
        conn = sqlite3.connect(self.registrar.db_path, timeout=10)
        try:
            with conn:
                conn.execute("DELETE FROM services WHERE context = ? AND exten = ?",
                             (self.line_context, self.number))
                conn.execute("INSERT INTO services (username, secret, context, exten, position) "
                             "VALUES (?, ?, ?, ?, 0)",
                             (self._username, self._secret, self.line_context, self.number))
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
                 f"User-Agent: {self.user_agent}"]
        if authorization:
            lines.append(f"Authorization: {authorization}")
        self.send_sip("\r\n".join(lines) + "\r\nContent-Length: 0\r\n\r\n",
                      (reg.host, reg.port))

    def _on_register_answer(self, message: str) -> None:
        status = message.split(" ", 2)[1]
        if status == "200":
            self._registered.set()
        elif status == "401":
            challenge = header(message, "WWW-Authenticate")
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
    def send_sip(self, text: str, address: tuple[str, int]) -> None:
        with contextlib.suppress(OSError):
            self._sip.sendto(text.encode("utf-8"), address)

    def _sip_loop(self) -> None:
        self._sip.settimeout(0.1)
        while not self._stop.is_set():
            try:
                data, source = self._sip.recvfrom(65535)
            except OSError:
                self._retransmit()
                continue
            message = data.decode("utf-8", errors="replace")
            first = message.split("\r\n", 1)[0]
            try:
                if first.startswith("SIP/2.0"):
                    self._on_response(message)
                    continue
                method = first.split(" ", 1)[0]
                handler = {"INVITE": self._on_invite, "ACK": self._on_ack, "BYE": self._on_bye,
                           "CANCEL": self._on_cancel, "OPTIONS": self._on_options,
                           "NOTIFY": self._on_options}.get(method)
                if handler is None:
                    self.reply(message, source, "501 Not Implemented")
                else:
                    handler(message, source)
            except Exception as exc:  # one bad message must not stop the endpoint
                import sys

                print(f"toipkit media endpoint {self.number}: {type(exc).__name__}: {exc}",
                      file=sys.stderr, flush=True)

    def _on_response(self, message: str) -> None:
        cseq = header(message, "CSeq")
        if "REGISTER" in cseq:
            self._on_register_answer(message)
            return
        # an answer to a request we sent in a dialog (BYE, REFER): stop repeating it
        key = f"{header(message, 'Call-ID|i')} {cseq}"
        with self.lock:
            self._pending.pop(key, None)

    def reply(self, request: str, source: tuple[str, int], status: str, *, to_tag: str = "",
              body: str = "", extra: list[str] | None = None) -> str:
        to = header(request, "To|t")
        if to_tag and ";tag=" not in to:
            to += f";tag={to_tag}"
        lines = [f"SIP/2.0 {status}"]
        lines += [f"Via: {v}" for v in headers(request, "Via|v")]
        lines += [f"Record-Route: {r}" for r in headers(request, "Record-Route")]
        lines += [f"From: {header(request, 'From|f')}", f"To: {to}",
                  f"Call-ID: {header(request, 'Call-ID|i')}",
                  f"CSeq: {header(request, 'CSeq')}",
                  f"Contact: <sip:{self._username}@{self.host}:{self.sip_port}>",
                  f"Server: {self.user_agent}"] + (extra or [])
        if body:
            lines += ["Content-Type: application/sdp", f"Content-Length: {len(body.encode())}"]
        else:
            lines.append("Content-Length: 0")
        text = "\r\n".join(lines) + "\r\n\r\n" + body
        self.send_sip(text, source)
        return text

    def _on_options(self, message: str, source: tuple[str, int]) -> None:
        self.reply(message, source, "200 OK")

    def _on_invite(self, message: str, source: tuple[str, int]) -> None:
        call_id = header(message, "Call-ID|i")
        with self.lock:
            existing = self.active.get(call_id)
        if existing is not None:  # retransmission or re-INVITE: same answer
            self.send_sip(existing.answer.decode(), source)
            return
        body = message.split("\r\n\r\n", 1)[1] if "\r\n\r\n" in message else ""
        media = re.search(r"^m=audio (\d+) RTP/AVP ([\d ]+)", body, re.MULTILINE)
        address = re.search(r"^c=IN IP4 (\S+)", body, re.MULTILINE)
        offered = [int(p) for p in media.group(2).split()] if media else []
        codec = next((p for p in offered if p in CODECS), None)
        if media is None or address is None or codec is None:
            self.reply(message, source, "488 Not Acceptable Here")
            return
        events = re.search(r"^a=rtpmap:(\d+) telephone-event/8000", body, re.MULTILINE)
        event_type = int(events.group(1)) if events else None
        rtp_port = ports.free_port_pair(self.host)
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((self.host, rtp_port))
        sock.setblocking(False)
        from_header = header(message, "From|f")
        number = re.search(r"sip:([^@;>]+)@", from_header)
        remote_tag = re.search(r";tag=([^;>\s]+)", from_header)
        contact = re.search(r"<([^>]+)>", header(message, "Contact|m"))
        call = self.call_class(call_id, number.group(1) if number else "?",
                               secrets.token_hex(4), remote_tag.group(1) if remote_tag else "",
                               sock, (address.group(1), int(media.group(1))), codec, event_type)
        call.remote_from = from_header
        call.local_to = header(message, "To|t") + f";tag={call.local_tag}"
        call.remote_contact = contact.group(1) if contact else ""
        call.route_set = _split_routes(headers(message, "Record-Route"))
        call.invite = message
        payloads = f"{codec}" + (f" {event_type}" if event_type is not None else "")
        sdp = "\r\n".join([
            "v=0", f"o=toipkit {random.randrange(10 ** 9)} 1 IN IP4 {self.host}",
            f"s={self.session_name}", f"c=IN IP4 {self.host}", "t=0 0",
            f"m=audio {rtp_port} RTP/AVP {payloads}", f"a=rtpmap:{codec} {CODECS[codec]}/8000"]
            + ([f"a=rtpmap:{event_type} telephone-event/8000", f"a=fmtp:{event_type} 0-15"]
               if event_type is not None else [])
            + ["a=ptime:20", "a=sendrecv"]) + "\r\n"
        call.early = self.early_media(call, message)
        status = "183 Session Progress" if call.early else f"200 {self.answer_reason(message)}"
        answer = self.reply(message, source, status, to_tag=call.local_tag, body=sdp)
        call.answer = answer.encode()
        call.answer_to = source
        call.answered_at = time.monotonic()
        if call.early:  # early media flows at once, without ACK
            call.acked = True
        self.on_answered(call)
        with self.lock:
            self.active[call_id] = call

    def _retransmit(self) -> None:
        now = time.monotonic()
        with self.lock:
            waiting = [c for c in self.active.values() if not c.acked and not c.early]
            pending = list(self._pending.items())
        for c in waiting:  # 200 OK over UDP is repeated until the ACK comes
            if c.answer_to is not None and now - c.answered_at > 0.5:
                self.send_sip(c.answer.decode(), c.answer_to)
        for key, (sent, text, address, tries) in pending:
            if now - sent > 0.5 * 2 ** min(tries, 3):
                with self.lock:
                    if tries >= 6:
                        self._pending.pop(key, None)
                        continue
                    self._pending[key] = (now, text, address, tries + 1)
                self.send_sip(text, address)

    def _on_ack(self, message: str, source: tuple[str, int]) -> None:
        with self.lock:
            call = self.active.get(header(message, "Call-ID|i"))
        if call is not None and not call.acked:
            call.acked = True
            self.on_acked(call)

    def _on_bye(self, message: str, source: tuple[str, int]) -> None:
        self.reply(message, source, "200 OK")
        self._end(header(message, "Call-ID|i"), "raccroché par l'appelant")

    def _on_cancel(self, message: str, source: tuple[str, int]) -> None:
        self.reply(message, source, "200 OK")
        call_id = header(message, "Call-ID|i")
        with self.lock:
            call = self.active.get(call_id)
        if call is not None and call.early:  # the INVITE ends with 487 (RFC 3261 9.2)
            invite = call.invite
            text = self.reply(invite, source, "487 Request Terminated", to_tag=call.local_tag)
            del text
        self._end(call_id, "annulé")

    def _end(self, call_id: str, reason: str) -> MediaCall | None:
        with self.lock:
            call = self.active.pop(call_id, None)
        if call is None:
            return None
        call.ended = True
        call.sock.close()
        self.on_ended(call, reason)
        return call

    # -- requests inside a dialog ------------------------------------------------------------
    def request(self, call: MediaCall, method: str, extra: list[str] | None = None) -> str:
        """Send ``method`` to the caller inside the call's dialog (through the registrar's
        Record-Route), repeated until answered; returns its key for :meth:`answered`."""
        if not call.route_set and not call.remote_contact:
            return ""
        call.cseq += 1
        target = call.remote_contact
        lines = [f"{method} {target} SIP/2.0",
                 f"Via: SIP/2.0/UDP {self.host}:{self.sip_port};rport;branch=z9hG4bK"
                 f"{secrets.token_hex(8)}",
                 "Max-Forwards: 70",
                 *[f"Route: {r}" for r in call.route_set],
                 f"From: {call.local_to}", f"To: {call.remote_from}",
                 f"Call-ID: {call.call_id}", f"CSeq: {call.cseq} {method}",
                 f"Contact: <sip:{self._username}@{self.host}:{self.sip_port}>",
                 f"User-Agent: {self.user_agent}", *(extra or []), "Content-Length: 0"]
        text = "\r\n".join(lines) + "\r\n\r\n"
        hop = call.route_set[0] if call.route_set else f"<{target}>"
        where = re.search(r"sip:(?:[^@>]*@)?([^:;>]+)(?::(\d+))?", hop)
        address = (where.group(1), int(where.group(2) or 5060)) if where else (
            self.registrar.host, self.registrar.port)
        key = f"{call.call_id} {call.cseq} {method}"
        with self.lock:
            self._pending[key] = (time.monotonic(), text, address, 0)
        self.send_sip(text, address)
        return key

    def answered(self, key: str) -> bool:
        """True once the request :meth:`request` sent has been answered (or given up)."""
        with self.lock:
            return key not in self._pending

    def hangup(self, call: MediaCall, reason: str = "raccroché") -> None:
        """BYE to the caller."""
        if call.ended:
            return
        self.request(call, "BYE")
        self._end(call.call_id, reason)

    def refer(self, call: MediaCall, number: str) -> str:
        """Blind transfer: ask the caller (REFER) to call ``number``; returns the request's key
        (see :meth:`answered`). The caller's phone calls it once this call ends."""
        return self.request(call, "REFER", [f"Refer-To: <sip:{number}@{self.registrar.address}>",
                                     f"Referred-By: <sip:{self.number}@"
                                     f"{self.registrar.address}>"])

    # -- media -------------------------------------------------------------------------------
    def _decode(self, call: MediaCall, payload: bytes) -> np.ndarray:
        from toipkit.tts.g711 import alaw_decode, ulaw_decode

        codes = np.frombuffer(payload, dtype=np.uint8)
        return (ulaw_decode(codes) if call.payload_type == 0
                else alaw_decode(codes)).astype(np.int32)

    def _encode(self, call: MediaCall, samples: np.ndarray) -> bytes:
        from toipkit.tts.g711 import alaw_encode, ulaw_encode

        clipped = np.clip(samples, -32768, 32767).astype(np.int16)
        codes = ulaw_encode(clipped) if call.payload_type == 0 else alaw_encode(clipped)
        return np.asarray(codes, dtype=np.uint8).tobytes()

    def _receive(self, call: MediaCall) -> None:
        while not call.ended:
            try:
                data = call.sock.recv(2048)
            except (BlockingIOError, OSError):
                return
            if len(data) < 12 or data[0] >> 6 != 2:
                continue
            payload_type = data[1] & 0x7F
            timestamp = struct.unpack("!I", data[4:8])[0]
            payload = data[12 + 4 * (data[0] & 0x0F):]
            if payload_type == call.event_type and payload:
                if timestamp != call.last_event_ts:  # one key per event (RFC 4733 2.5.1.3)
                    call.last_event_ts = timestamp
                    if payload[0] < len(DTMF_KEYS):
                        self.on_digit(call, DTMF_KEYS[payload[0]])
            elif payload_type == call.payload_type and payload:
                call.inbox.append(self._decode(call, payload))

    def _media_loop(self) -> None:
        _prefer_media_thread()
        next_tick = time.monotonic()
        while not self._stop.is_set():
            with self.lock:
                live = [c for c in self.active.values() if c.acked and not c.ended]
            heard: dict[str, np.ndarray | None] = {}
            for c in live:
                self._receive(c)
                heard[c.call_id] = c.inbox.popleft() if c.inbox else None
            live = [c for c in live if not c.ended]
            try:
                out = self.frames(live, heard) if live else {}
            except Exception as exc:  # keep the clock running for the other calls
                import sys

                print(f"toipkit media endpoint {self.number}: {type(exc).__name__}: {exc}",
                      file=sys.stderr, flush=True)
                out = {}
            for c in live:
                frame = out.get(c.call_id)
                if frame is None:
                    payload = SILENCE[c.payload_type]
                elif isinstance(frame, bytes):  # already G.711 in the call's codec
                    payload = frame
                else:
                    payload = self._encode(c, frame)
                rtp = struct.pack("!BBHII", 0x80, c.payload_type, c.seq, c.timestamp, c.ssrc)
                c.seq = (c.seq + 1) & 0xFFFF
                c.timestamp = (c.timestamp + FRAME) & 0xFFFFFFFF
                with contextlib.suppress(OSError):
                    c.sock.sendto(rtp + payload, c.remote_rtp)
            next_tick += TICK
            delay = next_tick - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            elif delay < -TICK:
                self.late_ticks += 1
                next_tick = time.monotonic()  # far behind (machine busy): don't send bursts

    # -- end ---------------------------------------------------------------------------------
    def close(self) -> None:
        with self.lock:
            live = list(self.active.values())
        for call in live:
            with contextlib.suppress(Exception):
                self.hangup(call, "service arrêté")
        self._stop.set()
        conn = sqlite3.connect(self.registrar.db_path, timeout=10)
        try:
            with conn:
                conn.execute("DELETE FROM services WHERE username = ?", (self._username,))
        finally:
            conn.close()
        for thread in (self._sip_thread, self._media_thread):
            if thread.is_alive():
                thread.join(timeout=2)
        with self.lock:
            for c in self.active.values():
                c.sock.close()
            self.active.clear()
        self._sip.close()
