"""Generated captures in every supported layout, each compared with live tshark."""

from __future__ import annotations

import pytest
from pcap_helpers import needs_tshark, parse_sip_stat, tshark_rtp_and_sip
from synth import LINK, CallSpec, Leg, call_packets, frames_for, write_pcap, write_pcapng

from toipkit.pcap import read_capture


def _legs(seed: int = 0, **kw) -> list[Leg]:
    a = dict(ssrc=0x1000 + seed, count=150, jitter_ms=2.5, loss=0.02, dup=0.01, reorder=0.02,
             dtmf="19#", marker_every=60, cn_every=41)
    b = dict(ssrc=0xABCDEF00 + seed, seq0=65480, ts0=2**32 - 2000, count=150, jitter_ms=1.0)
    a.update(kw.get("a", {}))
    b.update(kw.get("b", {}))
    return [Leg(**a), Leg(**b)]


def _check(path, expect_dtmf: str | None = None):
    cap = read_capture(path)
    live_rtp, live = tshark_rtp_and_sip(path)
    assert cap.rtp_streams_text() == live_rtp
    assert parse_sip_stat(cap.sip_stat_text()) == parse_sip_stat(live)
    assert cap.sip_stat_text() == live
    if expect_dtmf is not None:
        assert cap.dtmf.digits == expect_dtmf
    return cap


LAYOUTS = [
    # (id, link, endian, nanos)
    ("eth-le-us", "eth", "<", False),
    ("eth-be-ns", "eth", ">", True),
    ("vlan-le-ns", "vlan", "<", True),
    ("qinq-be-us", "qinq", ">", False),
    ("sll", "sll", "<", False),
    ("sll2", "sll2", "<", True),
    ("raw", "raw", ">", False),
    ("null", "null", "<", False),
    ("loop", "loop", "<", False),
]


@needs_tshark
@pytest.mark.parametrize("name,link,endian,nanos", LAYOUTS, ids=[x[0] for x in LAYOUTS])
def test_pcap_layouts(tmp_path, name, link, endian, nanos):
    spec = CallSpec(legs=_legs(len(name)))
    path = tmp_path / f"{name}.pcap"
    write_pcap(path, frames_for(call_packets(spec, seed=len(name)), link), LINK[link], endian,
               nanos)
    cap = _check(path, "19#")
    assert len(cap.rtp_streams) == 2


@needs_tshark
@pytest.mark.parametrize("endian,obsolete", [("<", False), (">", False), ("<", True)],
                         ids=["le", "be", "obsolete-blocks"])
def test_pcapng_multi_interface(tmp_path, endian, obsolete):
    """SIP on an Ethernet µs interface, RTP on a Linux-cooked ns interface."""
    spec = CallSpec(legs=_legs(7))
    frames = []
    for ts, ip in call_packets(spec, seed=7):
        is_rtp = ip[9] == 17 and int.from_bytes(ip[20:22], "big") != 5060
        frames.append((ts, frames_for([(ts, ip)], "sll2" if is_rtp else "eth")[0][1],
                       1 if is_rtp else 0))
    path = tmp_path / "multi.pcapng"
    write_pcapng(path, frames, [(1, 6), (276, 9)], endian, obsolete)
    cap = _check(path, "19#")
    assert cap.format == "pcapng" and cap.linktypes == [1, 276]


@needs_tshark
@pytest.mark.parametrize("mtu", [None, 400], ids=["plain", "fragmented"])
def test_ipv6_call(tmp_path, mtu):
    spec = CallSpec(caller="2001:db8::1", callee="2001:db8::2", legs=_legs(3), mtu=mtu)
    path = tmp_path / "v6.pcap"
    write_pcap(path, frames_for(call_packets(spec, seed=3), "sll"), LINK["sll"])
    cap = _check(path, "19#")
    assert cap.rtp_streams[0].src.startswith("2001:db8::")
    assert len(cap.rtp_streams) == 2


@needs_tshark
@pytest.mark.parametrize("link", ["eth", "sll"])
def test_fragmented_sip_with_sdp(tmp_path, link):
    """INVITE and 200 OK split into IPv4 fragments: the SDP is only in the reassembled datagram."""
    spec = CallSpec(legs=_legs(5), mtu=256)
    pk = call_packets(spec, seed=5)
    assert sum(1 for _, ip in pk if int.from_bytes(ip[6:8], "big") & 0x3FFF) >= 4
    path = tmp_path / "frag.pcap"
    write_pcap(path, frames_for(pk, link), LINK[link])
    cap = _check(path, "19#")
    assert len(cap.rtp_streams) == 2
    assert any(m.sdp is not None for m in cap.sip_messages)


@needs_tshark
def test_compact_headers_and_final_states(tmp_path):
    frames = []
    for i, final in enumerate((200, 486, 487)):
        spec = CallSpec(final=final, start_s=1 + 5 * i, call_id=f"c{i}@x",
                        caller_rtp=40000 + 10 * i, callee_rtp=50000 + 10 * i,
                        legs=_legs(i, a={"count": 40, "dtmf": ""}, b={"count": 40})
                        if final == 200 else [])
        frames += call_packets(spec, seed=i, compact=(i == 0))
    frames.sort(key=lambda f: f[0])
    path = tmp_path / "states.pcap"
    write_pcap(path, frames_for(frames, "eth"), 1)
    cap = _check(path)
    states = [c.state for c in cap.calls]
    assert states == ["completed", "busy", "cancelled"]
    assert [c.call_id for c in cap.calls.answered] == ["c0@x"]
    assert cap.calls[0].post_dial_delay == pytest.approx(0.3, abs=1e-6)
    assert cap.calls[0].setup_time == pytest.approx(1.0, abs=1e-6)


CODECS = [
    ("g722", dict(pt=9, codec_name="G722", codec_rate=8000), {}),
    ("opus", dict(pt=111, codec_name="opus", codec_rate=48000), dict(clock=48000)),
    ("no-rtpmap", dict(pt=96, codec_name="X", codec_rate=8000, offer_rtpmap=False), {}),
    ("h263-video", dict(pt=34, codec_name="H263", codec_rate=90000), dict(clock=90000)),
    ("l16-44k", dict(pt=11, codec_name="L16", codec_rate=44100), dict(clock=44100)),
    ("ts-jump", dict(), dict(ts_jump_at=70)),
]


@needs_tshark
@pytest.mark.parametrize("name,spec_kw,leg_kw", CODECS, ids=[c[0] for c in CODECS])
def test_codecs_and_clock_rates(tmp_path, name, spec_kw, leg_kw):
    pt = spec_kw.get("pt", 8)
    legs = _legs(11, a=dict(pt=pt, dtmf="", **leg_kw), b=dict(pt=pt, **leg_kw))
    spec = CallSpec(legs=legs, **spec_kw)
    path = tmp_path / f"{name}.pcap"
    write_pcap(path, frames_for(call_packets(spec, seed=11), "eth"), 1)
    _check(path)


@needs_tshark
def test_many_calls_stream_order(tmp_path):
    frames = []
    for i in range(6):
        spec = CallSpec(start_s=1 + 0.37 * i, call_id=f"m{i}@x", caller_rtp=30000 + 4 * i,
                        callee_rtp=31000 + 4 * i,
                        legs=_legs(20 + i, a={"count": 60, "dtmf": "5"}, b={"count": 60}))
        frames += call_packets(spec, seed=20 + i)
    frames.sort(key=lambda f: f[0])
    path = tmp_path / "many.pcapng"
    write_pcapng(path, [(ts, f, 0) for ts, f in frames_for(frames, "eth")], [(1, 6)])
    cap = _check(path, "555555")
    assert len(cap.rtp_streams) == 12


@needs_tshark
@pytest.mark.parametrize("split", [False, True], ids=["whole", "split-invite"])
def test_sip_over_tcp(tmp_path, split):
    from synth import tcp_sip_call

    path = tmp_path / "tcp.pcap"
    write_pcap(path, frames_for(tcp_sip_call(split=split), "eth"), 1)
    cap = _check(path)
    assert {m.transport for m in cap.sip_messages} == {"TCP"}
    assert any("TCP" in w for w in cap.warnings)
    assert len(cap.rtp_streams) == 2


@needs_tshark
def test_same_ssrc_on_two_flows(tmp_path):
    frames = []
    for i in range(2):
        spec = CallSpec(start_s=1 + 0.2 * i, call_id=f"s{i}@x", caller_rtp=30000 + 10 * i,
                        callee_rtp=31000 + 10 * i,
                        legs=[Leg(ssrc=0x42, count=50), Leg(ssrc=0x43, count=50)])
        frames += call_packets(spec, seed=30 + i)
    frames.sort(key=lambda f: f[0])
    path = tmp_path / "same-ssrc.pcap"
    write_pcap(path, frames_for(frames, "eth"), 1)
    cap = _check(path)
    assert len(cap.rtp_streams) == 4


@needs_tshark
def test_payload_names_come_from_the_receivers_sdp(tmp_path):
    """Offer maps telephone-event to 101, answer to 96; the caller sends 96 (as answered)."""
    spec = CallSpec(answer_event_pt=96,
                    legs=_legs(40, a=dict(event_pt=96, dtmf="7"), b=dict(dtmf="8", event_pt=101)))
    path = tmp_path / "names.pcap"
    write_pcap(path, frames_for(call_packets(spec, seed=40), "eth"), 1)
    cap = _check(path)
    assert sorted(cap.dtmf.digits) == ["7", "8"]


@needs_tshark
def test_retransmissions_and_resent_count(tmp_path):
    spec = CallSpec(legs=[Leg(ssrc=1, count=20), Leg(ssrc=2, count=20)])
    pk = call_packets(spec, seed=1)
    extra = []
    for ts, ip in pk:
        head = ip[28:90]
        if head.startswith((b"INVITE sip", b"BYE sip", b"SIP/2.0 180", b"SIP/2.0 200 OK")):
            extra.append((ts + (500_000_000 if head.startswith(b"INVITE") else 100_000_000), ip))
    path = tmp_path / "retrans.pcap"
    write_pcap(path, frames_for(sorted(pk + extra, key=lambda x: x[0]), "eth"), 1)
    cap = _check(path)
    # INVITE, both 200 OKs and BYE; a repeated 180 is not a resend for tshark
    assert cap.sip_stat().resent == 4


@needs_tshark
def test_invite_with_proxy_auth_challenge(tmp_path):
    """INVITE → 407 → ACK → INVITE (CSeq 2) → ... → 200: one call, challenged, answered."""
    from synth import _sip, ip_udp

    spec = CallSpec(start_s=2.0, legs=[Leg(ssrc=5, count=30), Leg(ssrc=6, count=30)])
    pk = [(ts, ip.replace(b"CSeq: 1 INVITE", b"CSeq: 2 INVITE").replace(b"CSeq: 1 ACK",
                                                                        b"CSeq: 2 ACK"))
          for ts, ip in call_packets(spec, seed=8)]
    hdr = [("Via", "SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-auth"),
           ("From", "<sip:101@10.0.0.1>;tag=aaa8"), ("To", "<sip:102@10.0.0.2>"),
           ("Call-ID", spec.call_id), ("CSeq", "1 INVITE")]
    t0 = 1_000_000_000
    challenge = [
        (t0, ip_udp("10.0.0.1", "10.0.0.2", 5060, 5060,
                    _sip("INVITE sip:102@10.0.0.2 SIP/2.0", hdr))[0]),
        (t0 + 5_000_000, ip_udp("10.0.0.2", "10.0.0.1", 5060, 5060, _sip(
            "SIP/2.0 407 Proxy Authentication Required",
            [(k, v + (";tag=px" if k == "To" else "")) for k, v in hdr]
            + [("Proxy-Authenticate", 'Digest realm="x", nonce="abc"')]))[0]),
        (t0 + 9_000_000, ip_udp("10.0.0.1", "10.0.0.2", 5060, 5060, _sip(
            "ACK sip:102@10.0.0.2 SIP/2.0",
            [(k, v.replace("1 INVITE", "1 ACK") + (";tag=px" if k == "To" else ""))
             for k, v in hdr]))[0]),
    ]
    path = tmp_path / "auth.pcap"
    write_pcap(path, frames_for(challenge + pk, "eth"), 1)
    cap = _check(path)
    assert len(cap.calls) == 1
    call = cap.calls[0]
    assert call.auth_challenged and call.state == "completed" and call.final_status == 200
    assert call.setup_time == pytest.approx(1.0, abs=1e-6)
    assert cap.sip_stat().setup_times_ms == [9, 1003]


@needs_tshark
@pytest.mark.parametrize("order", [0, 1], ids=["methods-forward", "methods-shuffled"])
def test_every_status_code_and_many_methods(tmp_path, order):
    """sip,stat of every code 100-699 (x99 folding, texts, line order) and 15 methods."""
    import random

    from synth import _sip, ip_udp

    methods = ["INVITE", "ACK", "BYE", "CANCEL", "REGISTER", "OPTIONS", "INFO", "PRACK",
               "SUBSCRIBE", "NOTIFY", "UPDATE", "MESSAGE", "REFER", "PUBLISH", "FOO"]
    if order:
        random.Random(order).shuffle(methods)
    pk = []
    t = 1_000_000_000
    for i, code in enumerate(list(range(100, 700)) + methods):
        hdr = [("Via", f"SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-{i}"),
               ("From", "<sip:a@x>;tag=1"), ("To", "<sip:b@x>"), ("Call-ID", f"c{i}@x")]
        if isinstance(code, int):
            msg = _sip(f"SIP/2.0 {code} Whatever", hdr + [("CSeq", f"{i + 1} INVITE")])
            pk.append((t + i * 1_000_000, ip_udp("10.0.0.2", "10.0.0.1", 5060, 5060, msg)[0]))
        else:
            msg = _sip(f"{code} sip:b@x SIP/2.0", hdr + [("CSeq", f"{i + 1} {code}")])
            pk.append((t + i * 1_000_000, ip_udp("10.0.0.1", "10.0.0.2", 5060, 5060, msg)[0]))
    path = tmp_path / "codes.pcap"
    write_pcap(path, frames_for(pk, "eth"), 1)
    _check(path)


def _udp_rtp(src, dst, sport, dport, pt, seq, ts, ssrc, size, marker=False):
    import struct

    from synth import ip_udp

    rtp = struct.pack("!BBHII", 0x80, pt | (0x80 if marker else 0), seq, ts, ssrc) + bytes(size)
    return ip_udp(src, dst, sport, dport, rtp)[0]


@needs_tshark
def test_early_media_from_183(tmp_path):
    from synth import _sdp, _sip, ip_udp

    spec = CallSpec(ring_s=0.2, answer_s=2.0, legs=[Leg(ssrc=0x71, count=80, jitter_ms=2),
                                                    Leg(ssrc=0x72, count=80)])
    out = []
    for ts, ip in call_packets(spec, seed=3):
        if b"SIP/2.0 180 Ringing" in ip[28:60]:
            hdr = [("Via", "SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-3"),
                   ("From", "<sip:101@10.0.0.1>;tag=aaa3"), ("To", "<sip:102@10.0.0.2>;tag=bbb3"),
                   ("Call-ID", spec.call_id), ("CSeq", "1 INVITE")]
            ip = ip_udp("10.0.0.2", "10.0.0.1", 5060, 5060, _sip(
                "SIP/2.0 183 Session Progress", hdr, _sdp("10.0.0.2", 50000, spec, 2)))[0]
            for i in range(50):  # ring-back tone before the answer
                out.append((ts + 5_000_000 + i * 20_000_000 + (i % 7) * 300_000,
                            _udp_rtp("10.0.0.2", "10.0.0.1", 50000, 40000, 8, 500 + i,
                                     1000 + 160 * i, 0x99, 160, i == 0)))
        out.append((ts, ip))
    path = tmp_path / "early.pcap"
    write_pcap(path, frames_for(sorted(out, key=lambda x: x[0]), "eth"), 1)
    cap = _check(path)
    assert len(cap.rtp_streams) == 3
    assert cap.calls[0].post_dial_delay == pytest.approx(0.2, abs=1e-6)


@needs_tshark
def test_video_stream_and_rejected_port_zero(tmp_path):
    """Offer audio + H.264 video; the answer refuses video (port 0); video flows anyway."""
    from synth import _sip, ip_udp

    def sdp(addr, aport, vport, sess):
        return "\r\n".join([
            "v=0", f"o=- {sess} {sess} IN IP4 {addr}", "s=-", f"c=IN IP4 {addr}", "t=0 0",
            f"m=audio {aport} RTP/AVP 8", "a=rtpmap:8 PCMA/8000",
            f"m=video {vport} RTP/AVP 96", "a=rtpmap:96 H264/90000"]) + "\r\n"

    a, b = "10.0.0.1", "10.0.0.2"
    hdr = [("Via", "SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-1"), ("From", "<sip:1@a>;tag=a"),
           ("To", "<sip:2@b>"), ("Call-ID", "v@x"), ("CSeq", "1 INVITE")]
    rh = [(k, v + ";tag=b" if k == "To" else v) for k, v in hdr]
    t = 10**9
    pk = [(t, ip_udp(a, b, 5060, 5060, _sip("INVITE sip:2@b SIP/2.0", hdr, sdp(a, 40000, 40002, 1)))[0]),
          (t + 10**8, ip_udp(b, a, 5060, 5060, _sip("SIP/2.0 200 OK", rh, sdp(b, 50000, 0, 2)))[0])]
    for i in range(60):
        pk.append((t + 2 * 10**8 + i * 33_000_000 + (i % 5) * 700_000,
                   _udp_rtp(b, a, 50002, 40002, 96, 100 + i, 3000 * i, 0x55, 900)))
        pk.append((t + 2 * 10**8 + i * 20_000_000 + 1000,
                   _udp_rtp(b, a, 50000, 40000, 8, 200 + i, 160 * i, 0x66, 160)))
    path = tmp_path / "video.pcap"
    write_pcap(path, frames_for(sorted(pk, key=lambda x: x[0]), "eth"), 1)
    cap = _check(path)
    assert {s.payload for s in cap.rtp_streams} == {"g711A", "H264"}


@needs_tshark
def test_decode_as_rtp_without_signalling(tmp_path):
    """No SIP in the capture: like `tshark -d udp.port==40000,rtp`."""
    from pcap_helpers import tshark_text

    spec = CallSpec(legs=[Leg(ssrc=0x11, count=120, dtmf="37", jitter_ms=2),
                          Leg(ssrc=0x22, count=120, pt=0, jitter_ms=1)])
    pk = [(ts, ip) for ts, ip in call_packets(spec, seed=5)
          if int.from_bytes(ip[20:22], "big") != 5060]
    path = tmp_path / "nosip.pcap"
    write_pcap(path, frames_for(pk, "eth"), 1)
    assert read_capture(path).rtp_streams == []
    cap = read_capture(path, decode_as_rtp=[40000])
    assert cap.rtp_streams_text() == tshark_text(path, "-d", "udp.port==40000,rtp",
                                                 "-z", "rtp,streams")
    assert cap.dtmf.digits == "37"


@needs_tshark
def test_pcapng_two_sections_of_different_byte_order(tmp_path):
    spec = CallSpec(legs=_legs(50))
    frames = frames_for(call_packets(spec, seed=50), "eth")
    half = len(frames) // 2
    first, second = tmp_path / "a.pcapng", tmp_path / "b.pcapng"
    write_pcapng(first, [(t, f, 0) for t, f in frames[:half]], [(1, 6)], "<")
    write_pcapng(second, [(t, f, 0) for t, f in frames[half:]], [(1, 9)], ">")
    path = tmp_path / "sections.pcapng"
    path.write_bytes(first.read_bytes() + second.read_bytes())
    _check(path, "19#")


@needs_tshark
def test_sdp_inside_multipart_body(tmp_path):
    """SIP-I style INVITE: multipart/mixed with SDP + ISUP; the 200 OK carries no SDP."""
    from synth import ip_udp

    spec = CallSpec(legs=[Leg(ssrc=0x11, count=60), Leg(ssrc=0x22, count=60)])
    out = []
    for ts, ip in call_packets(spec, seed=5):
        payload = ip[28:]
        head, _, body = payload.partition(b"\r\n\r\n")
        if payload.startswith((b"INVITE", b"SIP/2.0 200 OK")) and body:
            lines = [ln for ln in head.split(b"\r\n")
                     if not ln.lower().startswith((b"content-type", b"content-length"))]
            if payload.startswith(b"INVITE"):
                mp = (b"--XyZ\r\nContent-Type: application/sdp\r\n\r\n" + body
                      + b"\r\n--XyZ\r\nContent-Type: application/isup;version=itu-t92+\r\n\r\n"
                      + b"\x01\x00\x49\x00\r\n--XyZ--\r\n")
                lines += [b"Content-Type: multipart/mixed;boundary=XyZ",
                          b"Content-Length: %d" % len(mp)]
            else:
                mp = b""
                lines += [b"Content-Length: 0"]
            src = ".".join(str(x) for x in ip[12:16])
            dst = ".".join(str(x) for x in ip[16:20])
            ip = ip_udp(src, dst, 5060, 5060, b"\r\n".join(lines) + b"\r\n\r\n" + mp)[0]
        out.append((ts, ip))
    path = tmp_path / "multipart.pcap"
    write_pcap(path, frames_for(out, "eth"), 1)
    cap = _check(path)
    assert len(cap.rtp_streams) == 2 and cap.sip_messages[0].sdp is not None


def test_sip_over_tls_is_reported(tmp_path):
    from synth import ipv4, tcp

    pk = [(10**9 + i * 10**6, ipv4("10.0.0.1", "10.0.0.2", 6, tcp(40123, 5061, 1 + 100 * i,
                                                                   bytes(range(100))))[0])
          for i in range(5)]
    path = tmp_path / "tls.pcap"
    write_pcap(path, frames_for(pk, "eth"), 1)
    cap = read_capture(path)
    assert not cap.sip_messages and any("TLS" in w for w in cap.warnings)


def test_dtmf_sent_as_sip_info(tmp_path):
    from synth import _sip, ip_udp

    spec = CallSpec(legs=[Leg(ssrc=1, count=30), Leg(ssrc=2, count=30)])
    pk = call_packets(spec, seed=2)
    t = pk[-1][0]
    for i, (d, body_type) in enumerate([("5", "relay"), ("#", "relay"), ("9", "dtmf")]):
        body = (f"Signal={d}\r\nDuration=160\r\n" if body_type == "relay" else f"{d}\r\n")
        ctype = "application/dtmf-relay" if body_type == "relay" else "application/dtmf"
        msg = _sip("INFO sip:102@10.0.0.2 SIP/2.0", [
            ("Via", f"SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-i{i}"),
            ("From", "<sip:101@10.0.0.1>;tag=aaa2"), ("To", "<sip:102@10.0.0.2>;tag=bbb2"),
            ("Call-ID", spec.call_id), ("CSeq", f"{3 + i} INFO"), ("Content-Type", ctype)])
        msg = msg.replace(b"Content-Length: 0\r\n\r\n", f"Content-Length: {len(body)}\r\n\r\n{body}"
                          .encode())
        pk.append((t - 10**8 * (3 - i), ip_udp("10.0.0.1", "10.0.0.2", 5060, 5060, msg)[0]))
    path = tmp_path / "info.pcap"
    write_pcap(path, frames_for(sorted(pk, key=lambda x: x[0]), "eth"), 1)
    cap = read_capture(path)
    assert cap.sip_info_dtmf.digits == "5#9" and cap.dtmf.digits == ""
    assert cap.sip_info_dtmf[0].duration_ms == 160.0
