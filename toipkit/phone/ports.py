"""Free ports on loopback, so that several users (and several tests) can share one host."""

from __future__ import annotations

import random
import socket


def free_port(host: str = "127.0.0.1", *, udp: bool = True, tcp: bool = False,
              attempts: int = 50) -> int:
    """A port free for UDP (and TCP when ``tcp``) on ``host``, as the system hands it out."""
    for _ in range(attempts):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM if udp else socket.SOCK_STREAM) as s:
            s.bind((host, 0))
            port = s.getsockname()[1]
        if _free(host, port, udp=udp, tcp=tcp):
            return port
    raise OSError(f"no free port found on {host}")


def free_port_block(host: str = "127.0.0.1", count: int = 2, *, udp: bool = True,
                    tcp: bool = True, attempts: int = 200) -> int:
    """A port P with P … P+count-1 all free (baresip binds SIP/TLS on its SIP port + 1)."""
    for _ in range(attempts):
        port = free_port(host, udp=udp, tcp=tcp)
        if port + count < 65536 and all(_free(host, port + i, udp=udp, tcp=tcp)
                                        for i in range(1, count)):
            return port
    raise OSError(f"no block of {count} free ports found on {host}")


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = open("/proc/sys/net/ipv4/ip_local_port_range").read().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def free_port_pair(host: str = "127.0.0.1", attempts: int = 500) -> int:
    """An even UDP port P with P+1 free too (RTP and RTCP), outside the kernel's ephemeral
    range: a phone only binds its RTP port when a call starts, and the kernel would otherwise
    hand it to the next socket bound to port 0 in the meantime."""
    low, high = _ephemeral_range()
    candidates = [p for p in range(16384, 65534, 2) if p + 1 < low or p > high]
    rng = random.SystemRandom()
    for _ in range(attempts):
        port = rng.choice(candidates)
        if _free(host, port, udp=True) and _free(host, port + 1, udp=True):
            return port
    raise OSError(f"no free pair of UDP ports found on {host}")


def _free(host: str, port: int, *, udp: bool = False, tcp: bool = False) -> bool:
    kinds = ([socket.SOCK_DGRAM] if udp else []) + ([socket.SOCK_STREAM] if tcp else [])
    for kind in kinds:
        with socket.socket(socket.AF_INET, kind) as s:
            try:
                s.bind((host, port))
            except OSError:
                return False
    return True
