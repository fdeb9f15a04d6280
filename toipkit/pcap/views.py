"""The capture-or-path helpers of :mod:`toipkit.pcap` (each accepts a Capture or a file path)."""

from __future__ import annotations

from toipkit.pcap.capture import Capture, read_capture
from toipkit.pcap.sip import SipStat


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
