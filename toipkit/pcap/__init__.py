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

from __future__ import annotations

from toipkit.pcap.capture import Capture, MediaSetup, read_capture
from toipkit.pcap.quality import MosEstimate, e_model, mos, r_to_mos
from toipkit.pcap.reader import UnsupportedCaptureFormat
from toipkit.pcap.rtp import DtmfEvent, RtpStream, StreamStats
from toipkit.pcap.sip import Call, Registration, SipMessage, SipStat


def _cap(cap_or_path) -> Capture:
    return cap_or_path if isinstance(cap_or_path, Capture) else read_capture(cap_or_path)


def sip_stat(cap_or_path) -> SipStat:
    """``tshark -q -z sip,stat`` numbers (message, resent, per-code and per-method counts,
    setup times)."""
    return _cap(cap_or_path).sip_stat()


def sip_stat_text(cap_or_path) -> str:
    """``sip,stat`` text (same lines as tshark; tshark's hash order is approximated)."""
    return _cap(cap_or_path).sip_stat_text()


def rtp_streams_text(cap_or_path) -> str:
    """Exactly the text printed by ``tshark -q -z rtp,streams``."""
    return _cap(cap_or_path).rtp_streams_text()


def ladder_figure(cap_or_path, call=None, ax=None, max_messages: int = 60, rtp: bool = False):
    """Matplotlib ladder (sequence) diagram of the SIP messages (one call or all);
    ``rtp=True`` also draws the RTP streams, as Wireshark's VoIP flow does."""
    from toipkit.pcap.plots import ladder_figure as _f

    return _f(_cap(cap_or_path), call=call, ax=ax, max_messages=max_messages, rtp=rtp)


def ladder_mermaid(cap_or_path, call=None, rtp: bool = False) -> str:
    """Mermaid ``sequenceDiagram`` text of the SIP messages (``rtp=True``: and streams)."""
    from toipkit.pcap.plots import ladder_mermaid as _f

    return _f(_cap(cap_or_path), call=call, rtp=rtp)


def ladder_text(cap_or_path, call=None, rtp: bool = False) -> str:
    """Plain-text ladder: one line per message with arrows between the parties."""
    from toipkit.pcap.plots import ladder_text as _f

    return _f(_cap(cap_or_path), call=call, rtp=rtp)


def stream_plot(stream, ax=None):
    """Delta and jitter over time for one RTP stream (Wireshark's RTP Stream Analysis)."""
    from toipkit.pcap.plots import stream_plot as _f

    return _f(stream, ax=ax)


def packets(path, display_filter: str | None = None, **kwargs):
    """pyshark packets of a capture; safe inside Jupyter/papermill kernels."""
    from toipkit.pcap.bridge import packets as _f

    return _f(path, display_filter=display_filter, **kwargs)


__all__ = [
    "Call", "Capture", "DtmfEvent", "MediaSetup", "MosEstimate", "Registration", "RtpStream",
    "SipMessage", "SipStat", "StreamStats", "e_model", "ladder_figure", "ladder_mermaid",
    "ladder_text", "mos", "packets", "r_to_mos", "read_capture", "rtp_streams_text",
    "sip_stat", "sip_stat_text", "stream_plot", "UnsupportedCaptureFormat",
]
