"""The live lab network: SIP phones a notebook drives, the sandbox's registrar, live captures.

    from toipkit import phone
    alice = phone.Phone.for_line(client, "101")
    with phone.capture() as cap:
        alice.call("102", duration=5)
    cap.open().calls

See ``docs/phone.md``.
"""

from __future__ import annotations

from toipkit._lazy import lazy_exports

_EXPORTS = {
    "Phone": "toipkit.phone.phone",
    "Call": "toipkit.phone.phone",
    "PhoneError": "toipkit.phone.phone",
    "close_all": "toipkit.phone.phone",
    "sip_server_for": "toipkit.phone.phone",
}
_SUBMODULES = frozenset({"registrar", "baresip", "ports", "relay", "capture", "phone", "lab"})

__getattr__, __dir__, __all__ = lazy_exports(__name__, _EXPORTS, _SUBMODULES)
