"""SIP/RTP capture analysis with TShark 4.0.17's numbers.

Public API::

    cap = read_capture(path, progress=False)   # -> Capture
    cap.sip_messages        # MessageTable (.to_frame())
    cap.calls               # CallTable of Call (state, post_dial_delay, setup_time, ...)
    cap.registrations       # RegistrationTable
    cap.rtp_streams         # StreamTable of RtpStream (.stats, .series(), .to_frame())
    cap.dtmf                # DtmfTable of DtmfEvent (.digits -> "6789123"), RFC 2833
    cap.sip_info_dtmf       # keys sent as SIP INFO (dtmf-relay)
    cap.media               # SDP media set-ups (what made UDP flows RTP)
    cap.warnings            # list[str]
    sip_stat(cap)           # SipStat: counts like `tshark -z sip,stat`
    sip_stat_text(cap)      # text laid out like tshark's
    rtp_streams_text(cap)   # exactly `tshark -q -z rtp,streams`
    mos(stream)             # E-model (G.107) R-factor / MOS estimate
    ladder_figure(cap), ladder_mermaid(cap), ladder_text(cap)
    stream_plot(stream)     # delta and jitter over time (RTP Stream Analysis graph)
    packets(path, display_filter="sip")  # pyshark packets, works inside Jupyter kernels

Every function taking ``cap`` also accepts a path (the capture is then read first).
"""

# ruff: noqa: F401
from __future__ import annotations

from typing import TYPE_CHECKING

from toipkit._lazy import lazy_exports

# Imported on first use: ``toipkit pcap --help`` must not load numpy.
_EXPORTS = {
    "Capture": "toipkit.pcap.capture",
    "MediaSetup": "toipkit.pcap.capture",
    "read_capture": "toipkit.pcap.capture",
    "MosEstimate": "toipkit.pcap.quality",
    "e_model": "toipkit.pcap.quality",
    "mos": "toipkit.pcap.quality",
    "r_to_mos": "toipkit.pcap.quality",
    "UnsupportedCaptureFormat": "toipkit.pcap.reader",
    "DtmfEvent": "toipkit.pcap.rtp",
    "RtpStream": "toipkit.pcap.rtp",
    "StreamStats": "toipkit.pcap.rtp",
    "Call": "toipkit.pcap.sip",
    "Registration": "toipkit.pcap.sip",
    "SipMessage": "toipkit.pcap.sip",
    "SipStat": "toipkit.pcap.sip",
    "sip_stat": "toipkit.pcap.views",
    "sip_stat_text": "toipkit.pcap.views",
    "rtp_streams_text": "toipkit.pcap.views",
    "ladder_figure": "toipkit.pcap.views",
    "ladder_mermaid": "toipkit.pcap.views",
    "ladder_text": "toipkit.pcap.views",
    "stream_plot": "toipkit.pcap.views",
    "packets": "toipkit.pcap.views",
}

__getattr__, __dir__, __all__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:  # the same names, for type checkers and IDEs (F401: used through __all__)
    from toipkit.pcap.capture import Capture, MediaSetup, read_capture
    from toipkit.pcap.quality import MosEstimate, e_model, mos, r_to_mos
    from toipkit.pcap.reader import UnsupportedCaptureFormat
    from toipkit.pcap.rtp import DtmfEvent, RtpStream, StreamStats
    from toipkit.pcap.sip import Call, Registration, SipMessage, SipStat
    from toipkit.pcap.views import (
        ladder_figure,
        ladder_mermaid,
        ladder_text,
        packets,
        rtp_streams_text,
        sip_stat,
        sip_stat_text,
        stream_plot,
    )
