"""Music on hold for a caller waiting for a ring group, as early media.

XiVO plays a group's music-on-hold category to the caller while the members ring. On the lab
network the registrar adds, to every ringing stage of such a group, one more branch: this media
endpoint, which answers ``183 Session Progress`` with an SDP (early media, RFC 3261 13.2.1) and
streams the category's first file in a loop, never ``200``. When a member answers, the
registrar cancels the other branches — this one too (``CANCEL``, ``487``) — and the caller
hears the member instead.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from toipkit.errors import ToipkitError
from toipkit.phone import registrar
from toipkit.phone.endpoint import FRAME, MediaCall, MediaEndpoint
from toipkit.phone.phone import RATE

#: the services row of a group's hold music: exten ``moh:<group number>``
EXTEN_PREFIX = "moh:"


class HoldMusic(MediaEndpoint):
    """Early media playing ``sound`` (a file or :class:`toipkit.tts.audio.Audio`) in a loop
    to the callers of group ``number`` (in ``context``)."""

    user_agent = "toipkit-moh"
    session_name = "toipkit hold music"

    def __init__(self, registrar_info: registrar.RegistrarInfo, number: str, sound: object, *,
                 context: str = "default", host: str = "127.0.0.1") -> None:
        from toipkit.tts.audio import Audio, read_sound
        from toipkit.tts.g711 import alaw_encode, ulaw_encode

        audio = sound if isinstance(sound, Audio) else read_sound(Path(str(sound)))
        if audio.rate != RATE:
            audio = audio.resample(RATE)
        samples = np.asarray(audio.samples, np.int16)
        if len(samples) < FRAME:
            raise ToipkitError("la musique d'attente est vide")
        samples = samples[: len(samples) // FRAME * FRAME]  # whole frames: a seamless loop
        self.samples = samples
        self._encoded = {0: np.asarray(ulaw_encode(samples), np.uint8).tobytes(),
                         8: np.asarray(alaw_encode(samples), np.uint8).tobytes()}
        self._position: dict[str, int] = {}
        super().__init__(registrar_info, EXTEN_PREFIX + str(number), username_prefix="moh",
                         host=host, context=context)
        self.group = str(number)
        self.start()

    def early_media(self, call: MediaCall, request: str) -> bool:
        return True

    def on_ended(self, call: MediaCall, reason: str) -> None:
        self._position.pop(call.call_id, None)

    def frames(self, calls: list[MediaCall], heard: dict[str, np.ndarray | None]
               ) -> dict[str, np.ndarray | bytes]:
        out: dict[str, np.ndarray | bytes] = {}
        for call in calls:
            at = self._position.get(call.call_id, 0)
            music = self._encoded[call.payload_type]
            out[call.call_id] = music[at:at + FRAME]
            self._position[call.call_id] = (at + FRAME) % len(music)
        return out

