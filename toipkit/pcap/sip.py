"""SIP messages, calls (dialogs), registrations and ``tshark -z sip,stat`` numbers."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field

from toipkit.i18n import N_, _
from toipkit.pcap.sdp import Sdp, parse_sdp

#: a call's state (the data value, as Wireshark's VoIP calls name it) → what students read
CALL_STATES = {"answered": N_("décroché"), "completed": N_("terminé"), "busy": N_("occupé"),
               "cancelled": N_("annulé"), "rejected": N_("refusé"),
               "in progress": N_("en cours")}


def state_label(state: str) -> str:
    """A call state in the reader's language (the state itself when it has no name)."""
    return _(CALL_STATES[state]) if state in CALL_STATES else state

METHODS = ("INVITE", "ACK", "BYE", "CANCEL", "REGISTER", "OPTIONS", "INFO", "PRACK", "SUBSCRIBE",
           "NOTIFY", "UPDATE", "MESSAGE", "REFER", "PUBLISH")
SIP_STARTS = tuple(m.encode() + b" " for m in METHODS) + (b"SIP/2.0 ",)
COMPACT = {"i": "call-id", "m": "contact", "e": "content-encoding", "l": "content-length",
           "c": "content-type", "f": "from", "s": "subject", "k": "supported", "t": "to",
           "v": "via", "o": "event", "r": "refer-to", "b": "referred-by", "x": "session-expires",
           "u": "allow-events", "a": "accept-contact", "j": "reject-contact", "d": "request-disposition",
           "y": "identity", "n": "identity-info"}
_REQ_RE = re.compile(r"^([A-Za-z][A-Za-z0-9._!%*+`'~-]*) (\S+) SIP/2\.0$")
_RESP_RE = re.compile(r"^SIP/2\.0 (\d{3})(?: (.*))?$")
_TAG_RE = re.compile(r";\s*tag=([^;>\s,]+)", re.I)
_BRANCH_RE = re.compile(r";\s*branch=([^;\s,]+)", re.I)
_URI_RE = re.compile(r"<([^>]*)>")

# The response codes tshark 4.0.17's sip,stat knows, with the text it prints, listed in the
# order its (pre-filled) GLib hash table is walked: observed by feeding tshark one response of
# every code 100-699. Other codes are counted under the x99 entry of their class.
SIP_STAT_CODES = [
    (485, 'Ambiguous'), (439, 'First Hop Lacks Outbound Support'), (416, 'Unsupported URI Scheme'),
    (428, 'Use Identity Header'), (405, 'Method Not Allowed'), (301, 'Moved Permanently'),
    (486, 'Busy Here'), (440, 'Max-Breadth Exceeded'), (429, 'Provide Referrer Identity'),
    (406, 'Not Acceptable'), (487, 'Request Terminated'), (302, 'Moved Temporarily'),
    (499, 'Client Error - Others'), (603, 'Decline'), (199, 'Informational - Others'),
    (430, 'Flow Failed'), (407, 'Proxy Authentication Required'), (488, 'Not Acceptable Here'),
    (500, 'Server Internal Error'), (604, 'Does Not Exist Anywhere'), (200, 'OK'),
    (408, 'Request Timeout'), (489, 'Bad Event'), (420, 'Bad Extension'), (501, 'Not Implemented'),
    (305, 'Use Proxy'), (513, 'Message Too Large'), (421, 'Extension Required'),
    (502, 'Bad Gateway'), (606, 'Not Acceptable'), (202, 'Accepted'),
    (433, 'Anonymity Disallowed'), (410, 'Gone'), (491, 'Request Pending'),
    (699, 'Global Failure - Others'), (422, 'Session Timer Too Small'),
    (399, 'Redirection - Others'), (503, 'Service Unavailable'), (480, 'Temporarily Unavailable'),
    (607, 'Unwanted'), (180, 'Ringing'), (423, 'Interval Too Brief'), (400, 'Bad Request'),
    (504, 'Server Time-out'), (100, 'Trying'), (204, 'No Notification'),
    (181, 'Call Is Being Forwarded'), (412, 'Conditional Request Failed'), (493, 'Undecipherable'),
    (470, 'Consent Needed'), (401, 'Unauthorized'), (481, 'Call/Transaction Does Not Exist'),
    (482, 'Loop Detected'), (436, 'Bad Identity-Info'), (413, 'Request Entity Too Large'),
    (608, 'Rejected'), (494, 'Security Agreement Required'), (182, 'Queued'),
    (402, 'Payment Required'), (483, 'Too Many Hops'), (183, 'Session Progress'),
    (414, 'Request-URI Too Long'), (437, 'Unsupported Certificate'),
    (599, 'Server Error - Others'), (299, 'Success - Others'), (403, 'Forbidden'),
    (380, 'Alternative Service'), (484, 'Address Incomplete'), (438, 'Invalid Identity Header'),
    (415, 'Unsupported Media Type'), (505, 'Version Not Supported'), (600, 'Busy Everywhere'),
    (300, 'Multiple Choices'), (404, 'Not Found'),
]
RESPONSE_TEXT = dict(SIP_STAT_CODES)
_RESPONSE_ORDER = {code: i for i, (code, _) in enumerate(SIP_STAT_CODES)}


@dataclass
class SipMessage:
    """One SIP request or response as seen in one frame."""

    frame: int
    time: float  # seconds since the first frame
    src: str
    sport: int
    dst: str
    dport: int
    transport: str  # UDP or TCP
    method: str | None  # request method (None for responses)
    status: int | None  # response code (None for requests)
    reason: str
    request_uri: str
    head: str = field(repr=False)  # start line and header lines, as received (decoded)
    body: str = field(repr=False)
    call_id: str = ""
    cseq_num: int = 0
    cseq_method: str = ""
    from_uri: str = ""
    to_uri: str = ""
    from_tag: str = ""
    to_tag: str = ""
    branch: str = ""
    content_type: str = ""
    sdp: Sdp | None = None
    resent: bool = False
    time_ns: int = 0  # absolute capture time in ns (exact)

    @property
    def is_request(self) -> bool:
        return self.method is not None

    @property
    def summary(self) -> str:
        """Wireshark-like Info text: ``Request: INVITE sip:...`` / ``Status: 200 OK``."""
        if self.is_request:
            text = f"Request: {self.method} {self.request_uri}"
        else:
            text = f"Status: {self.status} {self.reason}".rstrip()
        if self.sdp is not None:
            text += " (SDP)"
        return text

    @property
    def label(self) -> str:
        """Short arrow label for ladders: ``INVITE (SDP)``, ``200 OK``."""
        base = f"{self.method}" if self.is_request else f"{self.status} {self.reason}".rstrip()
        return base + (" (SDP)" if self.sdp is not None else "")

    @property
    def headers(self) -> list[tuple[str, str]]:
        """(lower-case name, value) pairs in order; compact forms expanded, folded lines
        joined. Parsed from ``head`` on demand: a capture may hold 100,000 messages."""
        return _parse_headers(self.head.replace("\r\n", "\n").split("\n")[1:])

    def header(self, name: str) -> str | None:
        name = name.lower()
        for k, v in self.headers:
            if k == name:
                return v
        return None


def looks_like_sip(payload) -> bool:
    """A SIP request line (any method token) or status line starts the payload."""
    head = bytes(payload[:512])
    if head.startswith(SIP_STARTS):
        return True
    end = head.find(b"\n")
    first = (head if end < 0 else head[:end]).rstrip(b"\r").decode("latin-1")
    return bool(_REQ_RE.match(first) or _RESP_RE.match(first))


def _uri(value: str) -> str:
    m = _URI_RE.search(value)
    if m:
        return m.group(1)
    return value.split(";")[0].strip()


def _parse_headers(lines: list[str]) -> list[tuple[str, str]]:
    headers: list[tuple[str, str]] = []
    for line in lines:
        if line[:1] in (" ", "\t") and headers:  # folded header line
            k, v = headers[-1]
            headers[-1] = (k, v + " " + line.strip())
            continue
        name, colon, value = line.partition(":")
        if not colon:
            continue
        name = name.strip().lower()
        name = sys.intern(COMPACT.get(name, name))  # one string per header name
        headers.append((name, value.strip()))
    return headers


def parse_sip(payload: bytes | memoryview, frame: int, time: float, src: str, sport: int, dst: str,
              dport: int, transport: str = "UDP", time_ns: int = 0
              ) -> tuple[list[SipMessage], bytes]:
    """Parse SIP messages from a datagram (UDP: one) or a segment (TCP: several).

    Returns the messages and the unparsed rest (TCP continuation bytes).
    """
    msgs: list[SipMessage] = []
    data = bytes(payload)
    while data:
        head_end = data.find(b"\r\n\r\n")
        sep = 4
        if head_end < 0:
            head_end = data.find(b"\n\n")
            sep = 2
        if head_end < 0:
            if transport == "UDP":
                head_end, sep = len(data), 0
            else:
                break
        head = data[:head_end].decode("utf-8", "replace")
        lines = head.replace("\r\n", "\n").split("\n")
        first = lines[0].strip()
        m_req = _REQ_RE.match(first)
        m_resp = None if m_req else _RESP_RE.match(first)
        if not m_req and not m_resp:
            break
        hdr: dict[str, str] = {}
        for k, v in _parse_headers(lines[1:]):
            hdr.setdefault(k, v)
        body_start = head_end + sep
        clen_s = hdr.get("content-length")
        clen = None
        if clen_s is not None:
            try:
                clen = int(clen_s.strip())
            except ValueError:
                clen = None
        if transport == "UDP" or clen is None:
            body_b = data[body_start:] if clen is None else data[body_start:body_start + clen]
            rest = b"" if transport == "UDP" or clen is None else data[body_start + len(body_b):]
        else:
            if body_start + clen > len(data):
                break  # message continues in a later segment
            body_b = data[body_start:body_start + clen]
            rest = data[body_start + clen:]
        body = body_b.decode("utf-8", "replace")
        msg = SipMessage(
            frame=frame, time=time, src=src, sport=sport, dst=dst, dport=dport,
            transport=transport,
            method=m_req.group(1) if m_req else None,
            status=int(m_resp.group(1)) if m_resp else None,
            reason=(m_resp.group(2) or "").strip() if m_resp else "",
            request_uri=m_req.group(2) if m_req else "",
            head=head, body=body, time_ns=time_ns)
        # strings shared by the messages of a call are stored once
        msg.call_id = sys.intern(hdr.get("call-id", "").strip())
        cseq = hdr.get("cseq", "").split()
        if cseq:
            try:
                msg.cseq_num = int(cseq[0])
            except ValueError:
                msg.cseq_num = 0
            msg.cseq_method = sys.intern(cseq[1].upper()) if len(cseq) > 1 else ""
        f = hdr.get("from", "")
        t = hdr.get("to", "")
        msg.from_uri, msg.to_uri = sys.intern(_uri(f)), sys.intern(_uri(t))
        mt = _TAG_RE.search(f)
        msg.from_tag = mt.group(1) if mt else ""
        mt = _TAG_RE.search(t)
        msg.to_tag = mt.group(1) if mt else ""
        mb = _BRANCH_RE.search(hdr.get("via", ""))
        msg.branch = mb.group(1) if mb else ""
        msg.content_type = sys.intern(hdr.get("content-type", "").split(";")[0].strip().lower())
        if msg.content_type == "application/sdp" and body.strip():
            msg.sdp = parse_sdp(body)
        elif msg.content_type.startswith("multipart/"):
            part = _multipart_sdp(body, hdr.get("content-type", ""))
            if part:
                msg.sdp = parse_sdp(part)
        msgs.append(msg)
        data = rest
        if transport == "UDP":
            break
    return msgs, data


def _multipart_sdp(body: str, content_type: str) -> str | None:
    """The application/sdp part of a multipart body (e.g. SIP-I: SDP + ISUP), if any."""
    m = re.search(r'boundary\s*=\s*"?([^";]+)"?', content_type, re.I)
    if not m:
        return None
    for part in body.split("--" + m.group(1).strip()):
        head, sep, content = part.replace("\r\n", "\n").partition("\n\n")
        if not sep:
            continue
        for line in head.strip().split("\n"):
            name, _, value = line.partition(":")
            if (name.strip().lower() == "content-type"
                    and value.split(";")[0].strip().lower() == "application/sdp"):
                return content
    return None


def _user(uri: str) -> str:
    """``sip:101@host`` -> ``101``."""
    u = uri.split(":", 1)[1] if ":" in uri else uri
    return u.split("@")[0].split(";")[0]


# Calls ---------------------------------------------------------------------------------------

@dataclass
class Call:
    """A SIP call (INVITE dialog group sharing one Call-ID), VoIP-Calls style."""

    call_id: str
    caller: str
    callee: str
    from_uri: str
    to_uri: str
    caller_addr: str
    callee_addr: str
    start_time: float
    stop_time: float
    state: str  # answered, completed, busy, cancelled, rejected, in progress, setup
    final_status: int | None
    auth_challenged: bool
    invite_time: float | None
    ringing_time: float | None
    answer_time: float | None
    ack_time: float | None
    bye_time: float | None
    messages: list[SipMessage] = field(default_factory=list)
    codecs: list[str] = field(default_factory=list)

    @property
    def post_dial_delay(self) -> float | None:
        """INVITE -> first 180/183, in seconds (RFC 6076 SRD for the ringing case)."""
        if self.invite_time is None or self.ringing_time is None:
            return None
        return self.ringing_time - self.invite_time

    @property
    def setup_time(self) -> float | None:
        """INVITE -> 200 OK, in seconds."""
        if self.invite_time is None or self.answer_time is None:
            return None
        return self.answer_time - self.invite_time

    @property
    def duration(self) -> float | None:
        """200 OK -> BYE (or last message), seconds."""
        if self.answer_time is None:
            return None
        end = self.bye_time if self.bye_time is not None else self.stop_time
        return end - self.answer_time

    @property
    def sequence(self) -> list[str]:
        return [m.label for m in self.messages]

    def as_dict(self) -> dict:
        return {
            "call_id": self.call_id, "caller": self.caller, "callee": self.callee,
            "from": self.from_uri, "to": self.to_uri, "caller_addr": self.caller_addr,
            "callee_addr": self.callee_addr, "start": self.start_time, "stop": self.stop_time,
            "state": self.state, "final_status": self.final_status,
            "auth_challenged": self.auth_challenged, "post_dial_delay": self.post_dial_delay,
            "setup_time": self.setup_time, "duration": self.duration,
            "messages": len(self.messages), "codecs": ", ".join(self.codecs),
        }


def build_calls(messages: list[SipMessage]) -> list[Call]:
    """Group messages by Call-ID into calls (only Call-IDs that carry an INVITE)."""
    by_id: dict[str, list[SipMessage]] = {}
    for m in messages:
        by_id.setdefault(m.call_id, []).append(m)
    calls = []
    for cid, msgs in by_id.items():
        invites = [m for m in msgs if m.method == "INVITE"]
        if not invites:
            continue
        first = invites[0]
        caller_addr = f"{first.src}:{first.sport}"
        callee_addr = f"{first.dst}:{first.dport}"
        auth = any(m.status in (401, 407) and m.cseq_method == "INVITE" for m in msgs)
        # the transaction that matters is the last INVITE without a to-tag (after auth retries)
        initial = [m for m in invites if not m.to_tag]
        last_inv = initial[-1] if initial else first
        inv_cseq = last_inv.cseq_num
        ringing = answer = ack = bye = None
        final = None
        cancelled = False
        for m in msgs:
            if m.status is not None and m.cseq_method == "INVITE" and m.cseq_num == inv_cseq:
                if m.status in (180, 183) and ringing is None:
                    ringing = m.time
                if m.status >= 200 and final is None:
                    final = m.status
                    if 200 <= m.status < 300:
                        answer = m.time
            elif m.method == "ACK" and m.cseq_num == inv_cseq and ack is None and answer is not None:
                ack = m.time
            elif m.method == "BYE" and bye is None:
                bye = m.time
            elif m.method == "CANCEL":
                cancelled = True
        if final is not None and 200 <= final < 300:
            state = "completed" if bye is not None else "answered"
        elif final in (486, 600):
            state = "busy"
        elif final == 487 or (cancelled and final is None):
            state = "cancelled"
        elif final is not None:
            state = "rejected"
        else:
            state = "in progress"
        codecs: list[str] = []
        for m in msgs:
            if m.sdp is not None:
                for media in m.sdp.media:
                    if media.is_rtp:
                        for c in media.codecs():
                            if c not in codecs:
                                codecs.append(c)
                break
        calls.append(Call(
            call_id=cid, caller=_user(first.from_uri), callee=_user(first.to_uri),
            from_uri=first.from_uri, to_uri=first.to_uri, caller_addr=caller_addr,
            callee_addr=callee_addr, start_time=msgs[0].time, stop_time=msgs[-1].time,
            state=state, final_status=final, auth_challenged=auth,
            invite_time=last_inv.time, ringing_time=ringing, answer_time=answer, ack_time=ack,
            bye_time=bye, messages=msgs, codecs=codecs))
    calls.sort(key=lambda c: c.start_time)
    return calls


@dataclass
class Registration:
    """A REGISTER transaction chain (same Call-ID): challenge, retry, final answer."""

    call_id: str
    user: str
    aor: str
    contact: str
    registrar: str
    start_time: float
    challenged: bool
    final_status: int | None
    expires: int | None
    messages: list[SipMessage] = field(default_factory=list)

    @property
    def success(self) -> bool:
        return self.final_status is not None and 200 <= self.final_status < 300

    @property
    def sequence(self) -> list[str]:
        return [m.label for m in self.messages]

    def as_dict(self) -> dict:
        return {"call_id": self.call_id, "user": self.user, "aor": self.aor,
                "contact": self.contact, "registrar": self.registrar, "start": self.start_time,
                "challenged": self.challenged, "final_status": self.final_status,
                "success": self.success, "expires": self.expires,
                "sequence": " → ".join(self.sequence)}


def build_registrations(messages: list[SipMessage]) -> list[Registration]:
    by_id: dict[str, list[SipMessage]] = {}
    for m in messages:
        if m.method == "REGISTER" or (m.status is not None and m.cseq_method == "REGISTER"):
            by_id.setdefault(m.call_id, []).append(m)
    regs = []
    for cid, msgs in by_id.items():
        reqs = [m for m in msgs if m.method == "REGISTER"]
        if not reqs:
            continue
        first = reqs[0]
        finals = [m for m in msgs if m.status is not None and m.status >= 200]
        final = finals[-1].status if finals else None
        expires = None
        for m in reversed(msgs):
            e = m.header("expires")
            if e and e.strip().isdigit():
                expires = int(e.strip())
                break
            c = m.header("contact") or ""
            me = re.search(r"expires=(\d+)", c, re.I)
            if me:
                expires = int(me.group(1))
                break
        regs.append(Registration(
            call_id=cid, user=_user(first.to_uri), aor=first.to_uri,
            contact=_uri(first.header("contact") or ""), registrar=f"{first.dst}:{first.dport}",
            start_time=first.time, challenged=any(m.status in (401, 407) for m in msgs),
            final_status=final, expires=expires, messages=msgs))
    regs.sort(key=lambda r: r.start_time)
    return regs


# sip,stat -------------------------------------------------------------------------------------

@dataclass
class SipStat:
    """The numbers of ``tshark -q -z sip,stat``."""

    messages: int
    resent: int
    responses: dict[int, int]  # status code (x99 for codes outside the table) -> count
    requests: dict[str, int]  # method -> count
    setup_times_ms: list[int]

    @property
    def setup_avg_ms(self) -> int:
        return sum(self.setup_times_ms) // len(self.setup_times_ms) if self.setup_times_ms else 0

    @property
    def setup_min_ms(self) -> int:
        return min(self.setup_times_ms) if self.setup_times_ms else 0

    @property
    def setup_max_ms(self) -> int:
        return max(self.setup_times_ms) if self.setup_times_ms else 0

    def to_text(self) -> str:
        """Text laid out like tshark's, lines in tshark's hash-table order."""
        bar = "=" * 67
        out = ["", bar, "SIP Statistics", "", f"Number of SIP messages: {self.messages}",
               f"Number of resent SIP messages: {self.resent}", "",
               "* SIP Status Codes in reply packets"]
        for code in sorted(self.responses, key=lambda c: _RESPONSE_ORDER.get(c, 999)):
            out.append(f"  SIP {code:3d} {RESPONSE_TEXT.get(code, ''):<15s} : "
                       f"{self.responses[code]:5d} Packets")
        out += ["", "* List of SIP Request methods"]
        for method in _glib_str_order(list(self.requests)):
            out.append(f"  {method:<15s} : {self.requests[method]:5d} Packets")
        out += ["", f"* Average setup time {self.setup_avg_ms} ms",
                f" Min {self.setup_min_ms} ms", f" Max {self.setup_max_ms} ms", bar]
        return "\n".join(out) + "\n"

    def as_dict(self) -> dict:
        return {"messages": self.messages, "resent": self.resent,
                "responses": dict(self.responses), "requests": dict(self.requests),
                "setup_avg_ms": self.setup_avg_ms, "setup_min_ms": self.setup_min_ms,
                "setup_max_ms": self.setup_max_ms}


def _g_str_hash(text: str) -> int:
    """GLib's g_str_hash (djb2 over signed chars)."""
    h = 5381
    for ch in text.encode():
        h = (h * 33 + (ch - 256 if ch > 127 else ch)) & 0xFFFFFFFF
    return h


_PRIME_MOD = [1, 2, 3, 7, 13, 31, 61, 127, 251, 509, 1021, 2039, 4093, 8191, 16381, 32749,
              65521, 131071, 262139, 524287, 1048573]


class _GHashOrder:
    """Insert-only model of a GLib (>= 2.60) GHashTable, to reproduce g_hash_table_foreach order.

    Open addressing with quadratic probing on ``(hash * 11) % prime``, growth when the table is
    15/16 full (to the power of two above 1.333 × entries) with GLib's in-place rehash.
    """

    def __init__(self) -> None:
        self._set_shift(3)
        self.hashes = [0] * self.size
        self.keys: list = [None] * self.size
        self.nnodes = 0
        self.noccupied = 0

    def _set_shift(self, shift: int) -> None:
        self.size = 1 << shift
        self.mod = _PRIME_MOD[shift]
        self.mask = self.size - 1

    def _index(self, h: int) -> int:
        return ((h * 11) & 0xFFFFFFFF) % self.mod

    def insert(self, key, h: int) -> None:
        h = h if h >= 2 else 2
        i = self._index(h)
        step = 0
        while self.hashes[i] != 0:
            if self.hashes[i] == h and self.keys[i] == key:
                return
            step += 1
            i = (i + step) & self.mask
        self.hashes[i] = h
        self.keys[i] = key
        self.nnodes += 1
        self.noccupied += 1
        if self.size <= self.noccupied + self.noccupied // 16:
            self._resize()

    def _resize(self) -> None:
        old_size = self.size
        n = int(self.nnodes * 1.333)
        shift = 0
        while n:
            n >>= 1
            shift += 1
        self._set_shift(max(shift, 3))
        if self.size > old_size:
            self.hashes += [0] * (self.size - old_size)
            self.keys += [None] * (self.size - old_size)
        moved = [False] * max(self.size, old_size)
        for i in range(old_size):
            node_hash = self.hashes[i]
            if node_hash < 2:
                self.hashes[i] = 0
                continue
            if moved[i]:
                continue
            self.hashes[i] = 0
            key = self.keys[i]
            self.keys[i] = None
            while True:
                j = self._index(node_hash)
                step = 0
                while moved[j]:
                    step += 1
                    j = (j + step) & self.mask
                moved[j] = True
                replaced, rkey = self.hashes[j], self.keys[j]
                self.hashes[j], self.keys[j] = node_hash, key
                if replaced < 2:
                    break
                node_hash, key = replaced, rkey
        del self.hashes[self.size:]
        del self.keys[self.size:]
        self.noccupied = self.nnodes

    def order(self) -> list:
        return [k for h, k in zip(self.hashes, self.keys) if h >= 2]


def _glib_str_order(keys: list[str]) -> list[str]:
    """Iteration order of a GLib string hash table holding ``keys`` (inserted in that order)."""
    table = _GHashOrder()
    for k in keys:
        table.insert(k, _g_str_hash(k))
    return table.order()


def response_bucket(code: int) -> int | None:
    if code < 100 or code >= 700:
        return None
    if code in RESPONSE_TEXT:
        return code
    return (code // 100) * 100 + 99


def sip_stat(messages: list[SipMessage]) -> SipStat:
    """Compute ``sip,stat`` numbers from parsed messages (as tshark 4.0's tap does)."""
    responses: dict[int, int] = {}
    requests: dict[str, int] = {}
    resent = 0
    last_request: dict[tuple, int] = {}
    setup: list[int] = []
    for m in messages:
        if m.resent:
            resent += 1
        if m.status is not None:
            b = response_bucket(m.status)
            if b is not None:
                responses[b] = responses.get(b, 0) + 1
        elif m.method is not None:
            requests[m.method] = requests.get(m.method, 0) + 1
            key = (m.call_id, m.src, m.sport, m.dst, m.dport)
            if m.transport == "UDP":
                if m.method == "ACK":
                    t0 = last_request.get(key)
                    if t0 is not None:
                        ms = _trunc_ms(m.time_ns, t0)
                        if ms != 0:
                            setup.append(ms)
                elif not m.resent:
                    last_request[key] = m.time_ns
    return SipStat(len(messages), resent, responses, requests, setup)


def _trunc_ms(a_ns: int, b_ns: int) -> int:
    """Wireshark's ``sec_diff*1000 + nsec_diff/1000000`` on absolute times (C truncation)."""
    sd = a_ns // 1_000_000_000 - b_ns // 1_000_000_000
    nd = a_ns % 1_000_000_000 - b_ns % 1_000_000_000
    q = abs(nd) // 1_000_000
    return sd * 1000 + (q if nd >= 0 else -q)
