"""``toipkit pcap ...`` commands: summary, rtp-streams, sip-stat, ladder, dtmf."""

from __future__ import annotations

import json
import os
import sys

from toipkit._fileio import atomic_path, atomic_write


def register(subparsers) -> None:
    p = subparsers.add_parser("pcap", help="analyse SIP/RTP captures (tshark-identical numbers)")
    sub = p.add_subparsers(dest="pcap_command", metavar="ACTION")

    s = sub.add_parser("summary", help="calls, RTP streams, DTMF and MOS of a capture")
    s.add_argument("file")
    _decode_as(s)
    s.add_argument("--json", action="store_true", help="print JSON instead of text")
    s.add_argument("--no-progress", action="store_true", help="no progress bar")
    s.set_defaults(handler=_summary)

    s = sub.add_parser("rtp-streams", help="print exactly `tshark -q -z rtp,streams`")
    s.add_argument("file")
    _decode_as(s)
    s.add_argument("--no-progress", action="store_true", help="no progress bar")
    s.set_defaults(handler=_rtp_streams)

    s = sub.add_parser("sip-stat", help="print the numbers of `tshark -q -z sip,stat`")
    s.add_argument("file")
    s.add_argument("--json", action="store_true")
    _via_tshark(s)
    s.set_defaults(handler=_sip_stat)

    s = sub.add_parser("ladder", help="SIP ladder diagram (PNG/SVG/PDF, Mermaid or text)")
    s.add_argument("file")
    s.add_argument("-o", "--output", help="image file (.png/.svg/.pdf), .mmd for Mermaid; "
                   "default: text on stdout")
    s.add_argument("--call", help="Call-ID or call number (0 = first call)")
    s.add_argument("--rtp", action="store_true", help="also draw the RTP streams")
    _via_tshark(s)
    s.set_defaults(handler=_ladder)

    s = sub.add_parser("dtmf", help="RFC 2833 DTMF key presses")
    s.add_argument("file")
    _via_tshark(s)
    s.set_defaults(handler=_dtmf)

    p.set_defaults(handler=lambda args: (p.print_help(), 2)[1])


def _decode_as(parser) -> None:
    parser.add_argument("--decode-as-rtp", metavar="PORT", type=int, action="append", default=[],
                        help="also decode UDP port PORT as RTP (like tshark -d udp.port==PORT,rtp)")
    _via_tshark(parser)


def _via_tshark(parser) -> None:
    parser.add_argument("--via-tshark", action="store_true",
                        help="captures in other formats (NetMon, snoop...): convert them to a "
                        "temporary pcapng with Wireshark's editcap/tshark first")


def _read(args, progress_default=True):
    from toipkit.pcap import read_capture

    progress = progress_default and not getattr(args, "no_progress", False) and sys.stderr.isatty()
    return read_capture(args.file, progress=progress,
                        decode_as_rtp=getattr(args, "decode_as_rtp", ()),
                        via_tshark=getattr(args, "via_tshark", False))


def _warn(cap) -> None:
    for w in cap.warnings:
        print(f"warning: {w}", file=sys.stderr)


def _summary(args) -> int:
    from toipkit.pcap.quality import stream_mos

    cap = _read(args)
    _warn(cap)
    if args.json:
        print(json.dumps(cap.summary(), indent=2, default=str))
        return 0
    print(f"{os.path.basename(args.file)}: {cap.format}, {cap.packet_count} packets, "
          f"{len(cap.sip_messages)} SIP messages")
    print(f"\nCalls ({len(cap.calls)}):")
    for i, c in enumerate(cap.calls):
        extra = []
        if c.post_dial_delay is not None:
            extra.append(f"PDD {c.post_dial_delay * 1000:.0f} ms")
        if c.setup_time is not None:
            extra.append(f"setup {c.setup_time * 1000:.0f} ms")
        print(f"  #{i} {c.caller} -> {c.callee}: {c.state}"
              f"{' (' + str(c.final_status) + ')' if c.final_status else ''}"
              f"{', ' + ', '.join(extra) if extra else ''}; {' → '.join(c.sequence)}")
    if cap.registrations:
        print(f"\nRegistrations ({len(cap.registrations)}):")
        for r in cap.registrations:
            print(f"  {r.user} at {r.registrar}: {r.final_status}"
                  f"{' after challenge' if r.challenged else ''}")
    print(f"\nRTP streams ({len(cap.rtp_streams)}):")
    for s in cap.rtp_streams:
        st = s.stats
        m = stream_mos(s)
        print(f"  0x{s.ssrc:08X} {s.src}:{s.sport} -> {s.dst}:{s.dport} {s.payload}: "
              f"{st.packets} pkts, lost {st.lost} ({st.lost_percent:.1f}%), "
              f"mean jitter {st.mean_jitter:.3f} ms, max delta {st.max_delta:.3f} ms, "
              f"MOS≈{m.mos:.2f}")
    if cap.dtmf:
        print(f"\nDTMF (RFC 2833): {cap.dtmf.digits}")
    return 0


def _rtp_streams(args) -> int:
    cap = _read(args)
    _warn(cap)
    sys.stdout.write(cap.rtp_streams_text())
    return 0


def _sip_stat(args) -> int:
    cap = _read(args, progress_default=False)
    _warn(cap)
    if args.json:
        print(json.dumps(cap.sip_stat().as_dict(), indent=2))
    else:
        sys.stdout.write(cap.sip_stat_text())
    return 0


def _ladder(args) -> int:
    from toipkit.pcap.plots import ladder_figure, ladder_mermaid, ladder_text

    cap = _read(args, progress_default=False)
    _warn(cap)
    call = args.call
    if call is not None and call.isdigit():
        call = int(call)
    if not args.output:
        sys.stdout.write(ladder_text(cap, call=call, rtp=args.rtp))
        return 0
    out = args.output
    if out.endswith((".mmd", ".mermaid")):
        atomic_write(out, ladder_mermaid(cap, call=call, rtp=args.rtp))
    else:
        import matplotlib

        matplotlib.use("Agg")
        fig = ladder_figure(cap, call=call, rtp=args.rtp)
        with atomic_path(out) as tmp:
            fig.savefig(tmp, dpi=120)
    print(out)
    return 0


def _dtmf(args) -> int:
    cap = _read(args, progress_default=False)
    _warn(cap)
    for e in cap.dtmf:
        print(f"{e.start:12.6f}  {e.digit}  {e.duration_ms:6.0f} ms  vol {e.volume}  "
              f"0x{e.ssrc:08X} {e.src} -> {e.dst}")
    print(cap.dtmf.digits)
    return 0


