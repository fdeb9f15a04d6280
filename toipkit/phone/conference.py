"""A conference room on the lab network: answers its number, asks the PIN, mixes the voices.

No packaged SIP agent here mixes audio (baresip 1.0 plays files and records, one call at a
time), so the room is a :class:`~toipkit.phone.endpoint.MediaEndpoint`: it registers as a
service line of the sandbox's registrar and answers INVITEs itself. The mixing is the textbook
one: every 20 ms each participant receives the sum of the *other* participants' latest frame, so
nobody hears themselves. Joining alone plays "vous êtes le seul participant"; a room with a PIN
asks for it first (digits then #).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from toipkit.errors import ToipkitError
from toipkit.phone import registrar
from toipkit.phone.endpoint import CODECS, FRAME, EndpointError, MediaCall, MediaEndpoint

__all__ = ["CODECS", "FRAME", "ConferenceBridge", "ConferenceError", "Participant"]


class ConferenceError(ToipkitError):
    """The conference room could not be opened (message in French)."""


@dataclass
class Participant(MediaCall):
    admitted: bool = False
    digits: str = ""
    prompt: np.ndarray | None = None
    prompt_at: int = 0


class ConferenceBridge(MediaEndpoint):
    """The room ``name`` (its number and PIN read from confd) answering on the lab network."""

    call_class = Participant
    user_agent = "toipkit-conference"

    def __init__(self, registrar_info: registrar.RegistrarInfo, number: str, name: str,
                 pin: str | None = None, *, host: str = "127.0.0.1",
                 context: str = "default") -> None:
        super().__init__(registrar_info, number, username_prefix="conf", host=host,
                         context=context)
        self.name = name
        self.session_name = f"conference {name}"
        self.pin = str(pin) if pin else None
        self.history: list[dict[str, Any]] = []
        self._prompts = self._make_prompts()
        try:
            self.start()
        except EndpointError as exc:
            raise ConferenceError("la salle de conférence ne s'est pas enregistrée auprès du "
                                  "registrar du bac à sable") from exc

    @property
    def participants(self) -> dict[str, MediaCall]:
        return self.active

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

    # -- calls -------------------------------------------------------------------------------
    def on_answered(self, call: MediaCall) -> None:
        assert isinstance(call, Participant)
        if self.pin:
            call.prompt = self._prompts["pin"]
        else:
            self._admit(call)

    def _admit(self, participant: Participant) -> None:
        with self.lock:
            others = [p for p in self.active.values() if p is not participant]
        participant.admitted = True
        alone = not any(getattr(p, "admitted", False) for p in others)
        participant.prompt = self._prompts["alone" if alone else "welcome"]
        participant.prompt_at = 0
        self.history.append({"participant": participant.number, "event": "entre",
                             "time": time.time()})

    def on_ended(self, call: MediaCall, reason: str) -> None:
        self.history.append({"participant": call.number, "event": "sort", "time": time.time()})

    def on_digit(self, call: MediaCall, digit: str) -> None:
        assert isinstance(call, Participant)
        if call.admitted or not self.pin:
            return
        if digit != "#":
            call.digits += digit
            return
        if call.digits == str(self.pin):
            self._admit(call)
        else:
            call.prompt = np.concatenate([self._prompts["bad_pin"], self._prompts["pin"]])
            call.prompt_at = 0
        call.digits = ""

    # -- media -------------------------------------------------------------------------------
    def frames(self, calls: list[MediaCall], heard: dict[str, np.ndarray | None]
               ) -> dict[str, np.ndarray | bytes]:
        admitted = [p for p in calls if getattr(p, "admitted", False)]
        out: dict[str, np.ndarray | bytes] = {}
        for p in calls:
            assert isinstance(p, Participant)
            if p.prompt is not None and p.prompt_at < len(p.prompt):
                chunk = p.prompt[p.prompt_at:p.prompt_at + FRAME].astype(np.int32)
                p.prompt_at += FRAME
                frame = np.zeros(FRAME, np.int32)
                frame[:len(chunk)] = chunk
            elif p.admitted:
                frame = np.zeros(FRAME, np.int32)
                for other in admitted:
                    voice = heard.get(other.call_id)
                    if other is not p and voice is not None and len(voice) == FRAME:
                        frame += voice
            else:
                continue
            out[p.call_id] = frame
        return out

    def __enter__(self) -> ConferenceBridge:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _repr_markdown_(self) -> str:
        people = ", ".join(p.number for p in self.active.values()
                           if getattr(p, "admitted", False)) or "personne"
        return (f"**Conférence {self.name}** ({self.number}"
                + (", avec code" if self.pin else ", accès libre") + f") : {people}")
