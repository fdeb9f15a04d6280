"""A tiny SIP client that checks a line's registration: REGISTER, 401 challenge, digest, 200.

:func:`register_check` sends ``REGISTER`` over UDP (RFC 3261), answers the ``401``/``407``
challenge with an MD5 digest (RFC 2617, with or without ``qop=auth``) and returns the exchange
with a verdict in French. The password is only used to compute the digest; it never appears in
the result, its repr or its errors.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import socket
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


@dataclass
class SipStep:
    """One message of the exchange, seen from the softphone."""

    direction: str  # "→" sent, "←" received
    first_line: str
    cseq: str = ""
    with_credentials: bool = False

    @property
    def status(self) -> int | None:
        m = re.match(r"SIP/2\.0 (\d{3})", self.first_line)
        return int(m.group(1)) if m else None


@dataclass
class RegistrationResult:
    """The REGISTER exchange and its verdict (``ok`` True when the server answered 200)."""

    server: str
    port: int
    username: str
    status: int | None
    reason: str
    verdict: str
    steps: list[SipStep] = field(default_factory=list)
    expires: int | None = None
    bind: bool = True
    bindings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def challenged(self) -> bool:
        return any(s.status in (401, 407) for s in self.steps)

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(
            [{"sens": s.direction, "message": s.first_line, "CSeq": s.cseq,
              "identifiants": "oui" if s.with_credentials else ""} for s in self.steps],
            columns=["sens", "message", "CSeq", "identifiants"],
        )

    def ladder(self) -> str:
        """A text ladder: softphone on the left, server on the right."""
        lines = []
        for s in self.steps:
            label = s.first_line if s.direction == "→" else s.first_line.replace("SIP/2.0 ", "")
            if s.with_credentials:
                label += " (+ Authorization)"
            arrow = f"--- {label} --->" if s.direction == "→" else f"<--- {label} ---"
            lines.append(f"softphone {arrow} {self.server}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return f"{self.ladder()}\n{self.verdict}"

    def _repr_markdown_(self) -> str:
        return f"```\n{self.ladder()}\n```\n\n{self.verdict}"


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()  # noqa: S324 - SIP digest is MD5


def parse_challenge(header: str) -> dict[str, str]:
    """The parameters of a ``WWW-Authenticate: Digest ...`` header (keys lowercased)."""
    value = re.sub(r"^\s*(www|proxy)-authenticate\s*:", "", header, flags=re.I).strip()
    if value.lower().startswith("digest"):
        value = value[6:]
    params = {}
    for m in re.finditer(r'([A-Za-z0-9_-]+)\s*=\s*("((?:[^"\\]|\\.)*)"|[^,\s]+)', value):
        params[m.group(1).lower()] = m.group(3) if m.group(3) is not None else m.group(2)
    return params


def digest_response(username: str, password: str, realm: str, nonce: str, method: str,
                    uri: str, qop: str | None = None, nc: str = "00000001",
                    cnonce: str | None = None, algorithm: str = "MD5") -> str:
    """The RFC 2617 ``response`` value (MD5 / MD5-sess, ``qop=auth`` or none)."""
    ha1 = _md5(f"{username}:{realm}:{password}")
    if algorithm.upper() == "MD5-SESS":
        ha1 = _md5(f"{ha1}:{nonce}:{cnonce}")
    ha2 = _md5(f"{method}:{uri}")
    if qop:
        return _md5(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")
    return _md5(f"{ha1}:{nonce}:{ha2}")


def _authorization(challenge: dict[str, str], status: int | None, username: str,
                   password: str, domain: str, uri: str) -> str:
    """The ``Authorization`` (401) or ``Proxy-Authorization`` (407) header for a challenge."""
    qop = None
    if challenge.get("qop"):
        options = [q.strip() for q in challenge["qop"].split(",")]
        qop = "auth" if "auth" in options else None
    cnonce = secrets.token_hex(8)
    algorithm = challenge.get("algorithm", "MD5")
    realm = challenge.get("realm", domain)
    nonce = challenge.get("nonce", "")
    resp = digest_response(username, password, realm, nonce, "REGISTER", uri,
                           qop=qop, cnonce=cnonce, algorithm=algorithm)
    parts = [f'username="{username}"', f'realm="{realm}"', f'nonce="{nonce}"',
             f'uri="{uri}"', f'response="{resp}"', f"algorithm={algorithm}"]
    if "opaque" in challenge:
        parts.append(f'opaque="{challenge["opaque"]}"')
    if qop:
        parts += [f"qop={qop}", "nc=00000001", f'cnonce="{cnonce}"']
    header = "Authorization" if status == 401 else "Proxy-Authorization"
    return f"{header}: Digest " + ", ".join(parts)


def _parse_message(data: bytes) -> tuple[str, dict[str, list[str]]]:
    text = data.decode("utf-8", "replace")
    head = text.split("\r\n\r\n", 1)[0]
    lines = head.split("\r\n")
    headers: dict[str, list[str]] = {}
    compact = {"v": "via", "f": "from", "t": "to", "i": "call-id", "m": "contact",
               "l": "content-length"}
    for line in lines[1:]:
        if ":" not in line:
            continue
        name, _, value = line.partition(":")
        key = name.strip().lower()
        headers.setdefault(compact.get(key, key), []).append(value.strip())
    return lines[0], headers


def _local_ip_for(server: str, port: int) -> str:
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect((server, port))
        return probe.getsockname()[0]
    finally:
        probe.close()


def register_check(
    server: str,
    username: str,
    password: str,
    *,
    port: int = 5060,
    domain: str | None = None,
    expires: int = 60,
    timeout: float = 2.0,
    retransmit: float = 0.5,
    bind: bool = True,
) -> RegistrationResult:
    """Register ``username`` on ``server`` over UDP and explain the outcome in French.

    ``domain`` is the SIP domain of the request URI (defaults to ``server``, as a softphone
    does when the "Domain" field holds the XiVO address). ``expires=0`` unregisters.
    ``bind=False`` sends a REGISTER without Contact (RFC 3261 §10.2.3, "query bindings"): the
    credentials are checked the same way but the softphone's own registration is left alone,
    and the 200 OK lists the contacts currently registered (``result.bindings``).
    """
    domain = domain or server
    try:
        server_ip = socket.gethostbyname(server)
    except OSError:
        return RegistrationResult(
            server=server, port=port, username=username, status=None, reason="",
            verdict=f"❌ Adresse {server!r} introuvable : vérifiez l'adresse IP (ou le nom) du "
                    "XiVO saisie dans le champ Domaine/Serveur.", bind=bind)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.bind((_local_ip_for(server_ip, port), 0))
        local_ip, local_port = sock.getsockname()
        call_id = f"{secrets.token_hex(8)}@{local_ip}"
        tag = secrets.token_hex(4)
        uri = f"sip:{domain}"
        steps: list[SipStep] = []

        def build(cseq: int, authorization: str | None) -> bytes:
            lines = [
                f"REGISTER {uri} SIP/2.0",
                f"Via: SIP/2.0/UDP {local_ip}:{local_port};branch=z9hG4bK{secrets.token_hex(8)};rport",
                "Max-Forwards: 70",
                f"From: <sip:{username}@{domain}>;tag={tag}",
                f"To: <sip:{username}@{domain}>",
                f"Call-ID: {call_id}",
                f"CSeq: {cseq} REGISTER",
            ]
            if bind:
                lines += [f"Contact: <sip:{username}@{local_ip}:{local_port};transport=udp>",
                          f"Expires: {expires}"]
            if authorization:
                lines.append(authorization)
            lines += ["User-Agent: toipkit-register-check", "Content-Length: 0", "", ""]
            return "\r\n".join(lines).encode("utf-8")

        def transact(cseq: int, authorization: str | None):
            message = build(cseq, authorization)
            steps.append(SipStep("→", f"REGISTER {uri} SIP/2.0", f"{cseq} REGISTER",
                                 authorization is not None))
            deadline = time.monotonic() + timeout
            next_send = 0.0
            interval = retransmit
            while True:
                now = time.monotonic()
                if now >= deadline:
                    return None
                if now >= next_send:  # RFC 3261 timer E: retransmit over UDP
                    sock.sendto(message, (server_ip, port))
                    next_send = now + interval
                    interval = min(interval * 2, 4.0)
                sock.settimeout(max(0.01, min(deadline, next_send) - now))
                try:
                    data, _ = sock.recvfrom(65535)
                except TimeoutError:
                    continue
                first, headers = _parse_message(data)
                got_cseq = (headers.get("cseq") or [""])[0]
                if not first.startswith("SIP/2.0") or not got_cseq.startswith(f"{cseq} "):
                    continue  # a stray or retransmitted answer
                step = SipStep("←", first.strip(), got_cseq)
                steps.append(step)
                if step.status is not None and step.status < 200:
                    deadline = time.monotonic() + timeout  # provisional: keep waiting
                    next_send = float("inf")
                    continue
                return step, headers

        answer = transact(1, None)
        cseq = 1
        # Answer the challenge; a second challenge is only retried when the nonce was stale.
        while answer is not None and answer[0].status in (401, 407) and cseq < 3:
            step, headers = answer
            hname = "www-authenticate" if step.status == 401 else "proxy-authenticate"
            challenge = parse_challenge((headers.get(hname) or [""])[0])
            if cseq > 1 and challenge.get("stale", "").lower() != "true":
                break
            cseq += 1
            answer = transact(cseq, _authorization(challenge, step.status, username, password,
                                                   domain, uri))
    finally:
        sock.close()

    status = answer[0].status if answer else None
    reason = answer[0].first_line.split(" ", 2)[2] if answer and \
        len(answer[0].first_line.split(" ", 2)) == 3 else ""
    got_expires = None
    bindings: list[str] = []
    if answer and status == 200:
        contact = ", ".join(answer[1].get("contact") or [])
        bindings = re.findall(r"<([^>]+)>", contact)
        m = re.search(r"expires=(\d+)", contact)
        if m:
            got_expires = int(m.group(1))
        elif answer[1].get("expires"):
            got_expires = int(answer[1]["expires"][0])
    result = RegistrationResult(server=server, port=port, username=username, status=status,
                                reason=reason, verdict="", steps=steps, expires=got_expires,
                                bind=bind, bindings=bindings)
    result.verdict = _verdict(result)
    return result


def _verdict(r: RegistrationResult) -> str:
    where = f"{r.server}:{r.port}"
    if r.status is None:
        if r.challenged:
            return (f"❌ Le serveur {where} a envoyé le défi (401) mais n'a pas répondu à la "
                    "requête authentifiée : réessayez, ou regardez les journaux du serveur.")
        return (f"❌ Aucune réponse SIP de {where} : vérifiez l'adresse IP du XiVO, que la VM "
                f"est démarrée et joignable (ping), et que le port UDP {r.port} n'est pas filtré.")
    if r.status == 200:
        how = "après le défi d'authentification (401 puis 200)" if r.challenged else \
            "sans défi d'authentification"
        if not r.bind:
            now = (f"{len(r.bindings)} contact(s) enregistré(s) en ce moment"
                   if r.bindings else "aucun softphone enregistré sur cette ligne pour l'instant")
            return (f"✅ Identifiants de la ligne {r.username} acceptés par {where} {how} ; "
                    f"{now}.")
        exp = f", enregistrement valable {r.expires} s" if r.expires else ""
        return f"✅ Ligne {r.username} enregistrée sur {where} {how}{exp}."
    if r.status in (401, 407, 403) and r.challenged:
        return (f"❌ Enregistrement refusé ({r.status} {r.reason}) : le serveur a rejeté les "
                f"identifiants de la ligne {r.username}. Le mot de passe SIP (ou l'identifiant) "
                "est faux : recopiez-les depuis l'onglet Ligne de l'utilisateur dans XiVO.")
    if r.status == 404:
        return (f"❌ Compte SIP {r.username} inconnu de {where} (404) : vérifiez l'identifiant "
                "SIP et que la ligne est bien associée à l'utilisateur.")
    if r.status == 403:
        return (f"❌ Enregistrement interdit (403 {r.reason}) : le serveur refuse ce compte "
                "sans même demander de mot de passe.")
    return f"❌ Réponse inattendue de {where} : {r.status} {r.reason}."


def _default_register_capture():
    """The sample REGISTER capture shipped in ``data/`` (``captures/register.pcap``)."""
    import json

    from toipkit.errors import ToipkitError
    from toipkit.paths import data_dir

    root = data_dir()
    candidates = [root / "captures" / "register.pcap"]
    manifest = root / "manifest.json"
    if manifest.exists():
        data = json.loads(manifest.read_text(encoding="utf-8"))
        for entry in data.get("captures", []) if isinstance(data, dict) else []:
            if isinstance(entry, dict) and "REGISTER" in " ".join(map(str, entry.get("shows", []))):
                candidates.append(root / str(entry.get("file", "")))
    for path in candidates:
        if path.is_file():
            return path
    raise ToipkitError(f"no REGISTER capture in {root / 'captures'} "
                       "(made by scripts/make_captures.py --only register)")


def registration_from_capture(path=None, user: str | None = None) -> RegistrationResult:
    """The same :class:`RegistrationResult` as :func:`register_check`, read from a capture.

    Without a XiVO (sandbox mode) the labs show the REGISTER → 401 → REGISTER + Authorization
    → 200 exchange recorded in the sample capture (made with sipp against kamailio).
    """
    from toipkit.errors import ToipkitError
    from toipkit.pcap import read_capture

    path = path or _default_register_capture()
    regs = [r for r in read_capture(path).registrations if user is None or r.user == user]
    if not regs:
        raise ToipkitError(f"{path}: no REGISTER exchange" + (f" for {user}" if user else ""))
    reg = next((r for r in regs if r.challenged and r.success), regs[0])
    steps = []
    for m in reg.messages:
        names = {name.lower() for name, _ in m.headers}
        if m.is_request:
            steps.append(SipStep("→", f"{m.method} {m.request_uri} SIP/2.0",
                                 f"{m.cseq_num} {m.cseq_method}",
                                 bool(names & {"authorization", "proxy-authorization"})))
        else:
            steps.append(SipStep("←", f"SIP/2.0 {m.status} {m.reason}",
                                 f"{m.cseq_num} {m.cseq_method}"))
    registrar = reg.registrar or (reg.messages[0].dst if reg.messages else "")
    server, _, port = registrar.rpartition(":") if registrar.count(":") == 1 else (registrar, "", "")
    last = reg.messages[-1] if reg.messages else None
    status = reg.final_status
    result = RegistrationResult(
        server=server or registrar, port=int(port) if port.isdigit() else
        (reg.messages[0].dport if reg.messages else 5060),
        username=reg.user, status=status,
        reason=last.reason if last is not None and last.status is not None else "",
        verdict="", steps=steps, expires=reg.expires)
    result.verdict = _verdict(result)
    return result
