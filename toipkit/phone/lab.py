"""The lab network as the notebooks use it: the team's phones, test calls, an impaired path.

    equipe = lab.LabPhones(client, ["101", "102", "103"])
    appel = equipe.call("101", "102", duration=5)
    with equipe.impaired("102", loss=0.03, jitter_ms=20) as degrade:
        with capture(filter=degrade.capture_filter) as cap:
            equipe.call("101", "102", duration=10)

On the sandbox the registrar's own records say who registered and which calls were answered
(:func:`registrations_frame`, :func:`calls_frame`); on a real XiVO the phones' own view is used.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from toipkit.phone import registrar
from toipkit.phone.phone import Call, Phone, PhoneError, sip_server_for


def sandbox_registrar(client: Any) -> registrar.RegistrarInfo | None:
    """The registrar of the sandbox this client talks to (None for a real XiVO)."""
    return registrar.for_client(client)


@contextlib.contextmanager
def schedules_ignored(client: Any, timeout: float = 5.0) -> Iterator[None]:
    """Calls placed inside this block are routed as if every schedule were open.

    The sandbox applies schedules as XiVO does (a group outside its opening hours hangs up);
    a lab's test call that must work at any hour is placed inside this block. Nothing changes
    on a real XiVO."""
    from toipkit.phone import schedules

    info = registrar.for_client(client)
    if info is None:
        yield
        return
    flag = Path(info.db_path).parent.parent / schedules.IGNORED_FLAG
    flag.write_text("", encoding="utf-8")
    try:
        if not schedules.wait_all_open(Path(info.db_path), timeout):
            raise PhoneError("le bac à sable n'a pas suspendu les règles horaires : est-il "
                             "toujours en marche ? (`toipkit sandbox status`)")
        yield
    finally:
        with contextlib.suppress(OSError):
            flag.unlink()


@dataclass
class ImpairedPath:
    """The media towards one phone goes through an impairment relay while this is active."""

    receiver: Phone
    relay: Any
    team_filter: str = ""

    @property
    def capture_filter(self) -> str:
        """A capture filter that keeps SIP and RTP but not the packets *entering* the relay,
        so the capture shows what the receiving phone gets (after loss and jitter)."""
        port = self.relay.port
        return (f"({self.team_filter}) and not (dst port {port} or dst port {port + 1})"
                if self.team_filter else f"udp and not (dst port {port} or dst port {port + 1})")

    def report(self):
        return self.relay.report()


class LabPhones:
    """The team's phones, registered with their lines' credentials read from confd."""

    def __init__(self, client: Any, numbers: list[str | int], *, auto_answer: bool = True,
                 answer_delay: float = 0.2, server: str | None = None) -> None:
        self.client = client
        self.server = server or sip_server_for(client)
        self.registrar = sandbox_registrar(client)
        self.phones: dict[str, Phone] = {}
        try:
            for number in numbers:
                self.phones[str(number)] = Phone.for_line(client, str(number), server=self.server,
                                                          auto_answer=auto_answer,
                                                          answer_delay=answer_delay)
        except BaseException:
            self.close()
            raise

    def __getitem__(self, number: str | int) -> Phone:
        try:
            return self.phones[str(number)]
        except KeyError:
            raise PhoneError(f"pas de téléphone pour le {number} dans l'équipe "
                             f"({', '.join(self.phones)})") from None

    def __iter__(self) -> Iterator[Phone]:
        return iter(self.phones.values())

    def call(self, caller: str | int, callee: str | int, *, duration: float = 5.0,
             play: str | Path | None = None, dtmf: str | None = None,
             wait_answer: float = 10.0) -> Call:
        """``caller`` calls ``callee`` (its phone answers by itself), talks, hangs up."""
        return self[caller].call(str(callee), duration=duration, play=play, dtmf=dtmf,
                                 wait_answer=wait_answer)

    @contextlib.contextmanager
    def impaired(self, receiver: str | int, *, loss: float = 0.03, jitter_ms: float = 20.0,
                 reorder: bool = False, seed: int | None = None) -> Iterator[ImpairedPath]:
        """RTP sent *to* ``receiver`` crosses a relay that loses ``loss`` of the packets and adds
        ``jitter_ms`` of jitter (RFC 3550, as Wireshark measures it), for the calls made inside
        the ``with`` block. Only on the sandbox: its registrar announces the relay in the SDP."""
        from toipkit.phone.relay import ImpairmentRelay

        if self.registrar is None:
            raise PhoneError("la dégradation du réseau n'existe que dans le bac à sable")
        phone = self[receiver]
        relay = ImpairmentRelay(("127.0.0.1", phone.rtp_port), loss=loss, jitter_ms=jitter_ms,
                                reorder=reorder, seed=seed).start()
        assert relay.port is not None  # bound by start()
        registrar.set_media_relay(self.registrar, phone.rtp_port, relay.port)
        try:
            yield ImpairedPath(phone, relay, self.capture_filter)
        finally:
            registrar.clear_media_relay(self.registrar, phone.rtp_port)
            relay.close()

    @property
    def capture_filter(self) -> str:
        """A capture filter for this team's traffic only: SIP through the server, and each
        phone's RTP and RTCP (other users of the host stay out of the capture)."""
        server_port = self.server.rsplit(":", 1)[1] if ":" in self.server else "5060"
        ports = [f"port {server_port}"]
        for phone in self:
            ports.append(f"port {phone.agent.config.sip_port}")
            ports.append(f"portrange {phone.rtp_port}-{phone.rtp_port + 1}")
        return "udp and (" + " or ".join(ports) + ")"

    def registrations_frame(self):
        """Who is registered: from the sandbox's registrar, else from the phones themselves."""
        import pandas as pd

        if self.registrar is not None:
            return registrations_frame(self.client, self.registrar)
        rows = [{"numéro": p.number, "identifiant SIP": p.username,
                 "enregistré": p.registered, "état": p.registration_status} for p in self]
        return pd.DataFrame(rows)

    def close(self) -> None:
        for phone in list(self.phones.values()):
            phone.close()

    def __enter__(self) -> LabPhones:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _numbers_by_username(client: Any) -> dict[str, str]:
    from toipkit.xivo import lab

    found: dict[str, str] = {}
    for row in lab.users_with_numbers(client).to_dict("records"):
        exten = str(row.get("numéro") or "")
        if not exten:
            continue
        user = lab.find_user_by_exten(client, exten)
        if user is None:
            continue
        with contextlib.suppress(Exception):
            found[lab.softphone_settings(client, user).username] = exten
    return found


def registrations_frame(client: Any, info: registrar.RegistrarInfo | None = None):
    """The lines registered on the sandbox's registrar: number, SIP username, contact."""
    import pandas as pd

    info = info or sandbox_registrar(client)
    if info is None:
        raise PhoneError("le registre des enregistrements n'existe que dans le bac à sable ; "
                         "sur un vrai XiVO : Services > IPBX > Lignes (colonne « enregistré »)")
    numbers = _numbers_by_username(client)
    rows = [{"numéro": numbers.get(r["username"], "?"), "identifiant SIP": r["username"],
             "contact": r["contact"], "agent": r["user_agent"]}
            for r in registrar.registrations(info)]
    return pd.DataFrame(rows, columns=["numéro", "identifiant SIP", "contact", "agent"])


def calls_frame(client: Any, info: registrar.RegistrarInfo | None = None):
    """The calls the sandbox's registrar routed: caller, callee, outcome (answered or code)."""
    import pandas as pd

    info = info or sandbox_registrar(client)
    if info is None:
        raise PhoneError("le journal des appels n'existe que dans le bac à sable")
    labels = {"answered": "décroché", "404": "numéro inconnu (404)",
              "480": "poste non enregistré (480)", "486": "occupé (486)",
              "487": "annulé (487)", "408": "pas de réponse (408)"}
    rows = [{"appelant": r["caller"], "appelé": r["callee"],
             "résultat": labels.get(str(r["outcome"]), str(r["outcome"])),
             "terminé par BYE": bool(r["ended"]), "Call-ID": r["call_id"]}
            for r in registrar.call_records(info)]
    return pd.DataFrame(rows, columns=["appelant", "appelé", "résultat", "terminé par BYE",
                                       "Call-ID"])


def raw_sip(message: Any) -> str:
    """A SIP message of a capture (``toipkit.pcap``) as it travels: first line, headers, body."""
    if message.is_request:
        first = f"{message.method} {message.request_uri} SIP/2.0"
    else:
        first = f"SIP/2.0 {message.status} {message.reason}"
    lines = [first, *(f"{name}: {value}" for name, value in message.headers)]
    text = "\n".join(lines) + "\n"
    if message.body:
        text += "\n" + message.body.replace("\r\n", "\n")
    return text
