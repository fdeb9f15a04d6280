"""Short voice answers of service codes (``*37…``: "Filtrage activé" / "Filtrage désactivé").

XiVO answers a service code with a voice message, not a SIP error. On the lab network the
registrar carries out the code itself (it switches the filter) and then routes the call to this
media endpoint with the message's name as the Request-URI user (``filtrage-active``,
``filtrage-desactive``); the endpoint answers (``200`` with that name in its reason phrase, so a
program can read it too), says the message, then hangs up (``BYE``).
"""

from __future__ import annotations

import re
import threading

import numpy as np

from toipkit.errors import ToipkitError
from toipkit.phone import registrar
from toipkit.phone.endpoint import FRAME, MediaCall, MediaEndpoint

#: the services row kamailio looks up (any context)
EXTEN = "announcements"
MESSAGES = {"filtrage-active": "Filtrage activé.",
            "filtrage-desactive": "Filtrage désactivé."}
#: the reason phrase of the 200 OK (ASCII, as the registrar's former 603 said it)
REASONS = {"filtrage-active": "Filtrage active", "filtrage-desactive": "Filtrage desactive"}
#: silence after the message, before the BYE
TAIL_FRAMES = 15


class Announcements(MediaEndpoint):
    """Answers ``sip:<message name>@…`` with that message then BYE."""

    user_agent = "toipkit-announcements"
    session_name = "toipkit announcement"

    def __init__(self, registrar_info: registrar.RegistrarInfo, *,
                 host: str = "127.0.0.1") -> None:
        from toipkit.tts import synthesize

        self.messages: dict[str, np.ndarray] = {}
        for name, text in MESSAGES.items():
            try:
                self.messages[name] = synthesize(text, "fr").samples.astype(np.int16)
            except ToipkitError:  # no speech synthesis here: a short silence says nothing
                self.messages[name] = np.zeros(FRAME * 25, np.int16)
        self._playing: dict[str, tuple[np.ndarray, int]] = {}
        super().__init__(registrar_info, EXTEN, username_prefix="ann", host=host, context="*")
        self.start()

    def answer_reason(self, request: str) -> str:
        return REASONS.get(self._message_name(request), "OK")

    @staticmethod
    def _message_name(request: str) -> str:
        match = re.match(r"INVITE sips?:([^@;>\s]+)@", request)
        return match.group(1) if match else ""

    def on_answered(self, call: MediaCall) -> None:
        name = self._message_name(call.invite)
        message = self.messages.get(name, np.zeros(FRAME, np.int16))
        self._playing[call.call_id] = (message, 0)

    def on_ended(self, call: MediaCall, reason: str) -> None:
        self._playing.pop(call.call_id, None)

    def frames(self, calls: list[MediaCall], heard: dict[str, np.ndarray | None]
               ) -> dict[str, np.ndarray | bytes]:
        out: dict[str, np.ndarray | bytes] = {}
        for call in calls:
            playing = self._playing.get(call.call_id)
            if playing is None:
                continue
            message, at = playing
            chunk = message[at:at + FRAME].astype(np.int32)
            frame = np.zeros(FRAME, np.int32)
            frame[:len(chunk)] = chunk
            out[call.call_id] = frame
            self._playing[call.call_id] = (message, at + FRAME)
            if at >= len(message) + TAIL_FRAMES * FRAME:  # said: hang up (not on this clock)
                self._playing.pop(call.call_id, None)
                threading.Thread(target=self.hangup, args=(call, "message dit"),
                                 daemon=True).start()
        return out

