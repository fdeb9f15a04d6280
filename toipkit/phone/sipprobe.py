"""A single SIP OPTIONS request over UDP: is a SIP server answering on host:port?"""

from __future__ import annotations

import secrets
import socket
import time


def options_ping(host: str, port: int, timeout: float = 1.0) -> int | None:
    """Send OPTIONS and return the status code of the answer, or None without an answer."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((host, 0))
        local = sock.getsockname()[1]
        tag = secrets.token_hex(4)
        request = (
            f"OPTIONS sip:{host}:{port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {host}:{local};rport;branch=z9hG4bK{secrets.token_hex(8)}\r\n"
            "Max-Forwards: 70\r\n"
            f"From: <sip:probe@{host}>;tag={tag}\r\n"
            f"To: <sip:{host}:{port}>\r\n"
            f"Call-ID: probe-{tag}@{host}\r\n"
            "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n").encode()
        deadline = time.monotonic() + timeout
        sock.sendto(request, (host, port))
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            sock.settimeout(remaining)
            try:
                data, _ = sock.recvfrom(65535)
            except OSError:
                return None
            first = data.split(b"\r\n", 1)[0].decode("latin-1")
            parts = first.split()
            if len(parts) >= 2 and parts[0] == "SIP/2.0" and parts[1].isdigit():
                return int(parts[1])
