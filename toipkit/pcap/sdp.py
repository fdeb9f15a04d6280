"""SDP bodies (RFC 4566): connection addresses, media lines, ``a=rtpmap`` names and clock rates."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field

RTP_PROTOS = {"RTP/AVP", "RTP/SAVP", "RTP/AVPF", "RTP/SAVPF"}


@dataclass
class SdpMedia:
    media: str  # audio, video, ...
    port: int
    proto: str
    formats: list[int]
    address: str | None  # c= for this media (or the session's)
    rtpmap: dict[int, tuple[str, int]] = field(default_factory=dict)  # pt -> (name, rate)
    rtcp_port: int | None = None
    direction: str = "sendrecv"

    @property
    def is_rtp(self) -> bool:
        return self.proto.upper() in RTP_PROTOS and self.port != 0

    def codecs(self) -> list[str]:
        """Encoding names in the order offered (static PTs named from the RFC 3551 table)."""
        from toipkit.pcap.payload_types import STATIC_ENCODINGS

        out = []
        for pt in self.formats:
            if pt in self.rtpmap:
                out.append(self.rtpmap[pt][0])
            elif pt in STATIC_ENCODINGS:
                out.append(STATIC_ENCODINGS[pt])
            else:
                out.append(str(pt))
        return out


@dataclass
class Sdp:
    origin: str = ""
    session_address: str | None = None
    media: list[SdpMedia] = field(default_factory=list)


def _c_address(value: str) -> str | None:
    parts = value.split()
    if len(parts) < 3 or parts[0] != "IN" or parts[1] not in ("IP4", "IP6"):
        return None
    addr = parts[2].split("/")[0]
    try:
        socket.inet_pton(socket.AF_INET if parts[1] == "IP4" else socket.AF_INET6, addr)
    except (OSError, ValueError):
        return None
    return addr


def parse_sdp(text: str) -> Sdp:
    """Parse an SDP body leniently (unknown or malformed lines are skipped)."""
    sdp = Sdp()
    current: SdpMedia | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if len(line) < 2 or line[1] != "=":
            continue
        kind, value = line[0], line[2:]
        if kind == "o":
            sdp.origin = value
        elif kind == "c":
            addr = _c_address(value)
            if current is None:
                sdp.session_address = addr
            else:
                current.address = addr
        elif kind == "m":
            parts = value.split()
            if len(parts) < 3:
                current = None
                continue
            try:
                port = int(parts[1].split("/")[0])
            except ValueError:
                current = None
                continue
            fmts = []
            for f in parts[3:]:
                if f.isdigit():
                    fmts.append(int(f))
            current = SdpMedia(parts[0], port, parts[2], fmts, sdp.session_address)
            sdp.media.append(current)
        elif kind == "a" and current is not None:
            name, _, rest = value.partition(":")
            if name == "rtpmap":
                pt_s, _, enc = rest.partition(" ")
                enc = enc.strip()
                if pt_s.isdigit() and enc:
                    ename, _, rate_s = enc.partition("/")
                    rate_s = rate_s.split("/")[0]
                    rate = int(rate_s) if rate_s.isdigit() else 0
                    current.rtpmap[int(pt_s)] = (ename, rate)
            elif name == "rtcp":
                port_s = rest.split()[0] if rest.split() else ""
                if port_s.isdigit():
                    current.rtcp_port = int(port_s)
            elif name in ("sendrecv", "sendonly", "recvonly", "inactive"):
                current.direction = name
    for m in sdp.media:
        if m.address is None:
            m.address = sdp.session_address
    return sdp
