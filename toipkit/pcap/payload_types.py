"""RTP payload types as Wireshark 4.0 names and clocks them, and RFC 4733 event names."""

from __future__ import annotations

# RFC 3551 clock rates used by Wireshark for static payload types
STATIC_CLOCK = {0: 8000, 1: 8000, 2: 8000, 3: 8000, 4: 8000, 5: 8000, 6: 16000, 7: 8000, 8: 8000,
                9: 8000, 10: 44100, 11: 44100, 12: 8000, 13: 8000, 14: 90000, 15: 8000,
                16: 11025, 17: 22050, 18: 8000, 19: 8000, 25: 90000, 26: 90000, 28: 90000,
                31: 90000, 32: 90000, 33: 90000, 34: 90000}
# Wireshark's dynamic-PT MIME table (name prefix -> clock), searched in reverse order
MIME_CLOCK = [("AMR", 8000), ("AMR-WB", 16000), ("BMPEG", 90000), ("BT656", 90000),
              ("DV", 90000), ("EVRC", 8000), ("EVRC0", 8000), ("EVRC1", 8000), ("EVRCB", 8000),
              ("EVRCB0", 8000), ("EVRCB1", 8000), ("EVRCWB", 16000), ("EVRCWB0", 16000),
              ("EVRCWB1", 16000), ("EVS", 16000), ("G7221", 16000), ("G726-16", 8000),
              ("G726-24", 8000), ("G726-32", 8000), ("G726-40", 8000), ("G729D", 8000),
              ("G729E", 8000), ("GSM-EFR", 8000), ("H263-1998", 90000), ("H263-2000", 90000),
              ("H264", 90000), ("MP1S", 90000), ("MP2P", 90000), ("MP4V-ES", 90000),
              ("mpa-robust", 90000), ("pointer", 90000), ("raw", 90000), ("red", 1000),
              ("SMV", 8000), ("SMV0", 8000), ("t140", 1000), ("telephone-event", 8000),
              ("opus", 48000)]
# Wireshark's short payload names (rtp_payload_type_short_vals)
SHORT_NAMES = {0: "g711U", 1: "fs-1016", 2: "g721", 3: "GSM", 4: "g723", 5: "DVI4 8k",
               6: "DVI4 16k", 7: "Exp. from Xerox PARC", 8: "g711A", 9: "g722",
               10: "16-bit audio, stereo", 11: "16-bit audio, monaural", 12: "Qualcomm", 13: "CN",
               14: "MPEG-I/II Audio", 15: "g728", 16: "DVI4 11k", 17: "DVI4 22k", 18: "g729",
               19: "CN(old)", 25: "CellB", 26: "JPEG", 28: "NV", 31: "h261",
               32: "MPEG-I/II Video", 33: "MPEG-II streams", 34: "h263"}
for _pt in range(20, 96):
    if _pt not in SHORT_NAMES:
        SHORT_NAMES[_pt] = ("Reserved for RTCP conflict avoidance" if 72 <= _pt <= 76
                            else "Unassigned")
for _pt in range(96, 128):
    SHORT_NAMES[_pt] = f"RTPType-{_pt}"
# SDP encoding names of static payload types (for codec lists)
STATIC_ENCODINGS = {0: "PCMU", 3: "GSM", 4: "G723", 8: "PCMA", 9: "G722", 13: "CN", 18: "G729",
                    34: "H263", 26: "JPEG", 31: "H261", 15: "G728"}



def mime_clock(name: str) -> int:
    low = name.lower()
    for prefix, rate in reversed(MIME_CLOCK):
        if low.startswith(prefix.lower()):
            return rate
    return 0


def clock_rate(pt: int, name: str | None, rate: int) -> int:
    """Clock rate Wireshark 4.0 uses for jitter (0 = no jitter for this packet)."""
    if pt < 96:
        return STATIC_CLOCK.get(pt, 0)
    if name is None:
        return 0
    if name.lower().startswith("telephone-event"):
        return 0
    return rate if rate else mime_clock(name)


DTMF_DIGITS = "0123456789*#ABCD"


def event_name(event: int) -> str:
    return DTMF_DIGITS[event] if event < 16 else f"event-{event}"
