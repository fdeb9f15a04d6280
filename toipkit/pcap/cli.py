"""``toipkit pcap ...`` commands: summary, rtp-streams, sip-stat, ladder, dtmf."""

from __future__ import annotations

import json
import os
import sys

from toipkit._fileio import atomic_path, atomic_write
from toipkit.i18n import _, ngettext


def register(subparsers) -> None:
    p = subparsers.add_parser("pcap", help=_("analyser des captures SIP/RTP (mêmes chiffres que tshark)"))
    sub = p.add_subparsers(dest="pcap_command", metavar="ACTION")

    s = sub.add_parser("summary", help=_("appels, flux RTP, DTMF et MOS d'une capture"))
    _file_arg(s)
    _decode_as(s)
    s.add_argument("--json", action="store_true", help=_("afficher du JSON au lieu du texte"))
    s.add_argument("--no-progress", action="store_true", help=_("sans barre de progression"))
    s.set_defaults(handler=_summary)

    s = sub.add_parser("rtp-streams", help=_("afficher exactement `tshark -q -z rtp,streams`"))
    _file_arg(s)
    _decode_as(s)
    s.add_argument("--no-progress", action="store_true", help=_("sans barre de progression"))
    s.set_defaults(handler=_rtp_streams)

    s = sub.add_parser("sip-stat", help=_("afficher les chiffres de `tshark -q -z sip,stat`"))
    _file_arg(s)
    s.add_argument("--json", action="store_true", help=_("afficher du JSON au lieu du texte"))
    _via_tshark(s)
    s.set_defaults(handler=_sip_stat)

    s = sub.add_parser("ladder", help=_("diagramme en échelle SIP (PNG/SVG/PDF, Mermaid ou texte)"))
    _file_arg(s)
    s.add_argument("-o", "--output", help=_("fichier image (.png/.svg/.pdf), .mmd pour Mermaid ; "
                                            "par défaut : texte sur la sortie standard"))
    s.add_argument("--call", help=_("Call-ID ou numéro de l'appel (0 = premier appel)"))
    s.add_argument("--rtp", action="store_true", help=_("dessiner aussi les flux RTP"))
    _via_tshark(s)
    s.set_defaults(handler=_ladder)

    s = sub.add_parser("dtmf", help=_("touches DTMF RFC 2833"))
    _file_arg(s)
    _via_tshark(s)
    s.set_defaults(handler=_dtmf)

    p.set_defaults(handler=lambda args: (p.print_help(), 2)[1])


def _file_arg(parser) -> None:
    parser.add_argument("file", help=_("capture à lire (pcap, pcapng...)"))


def _decode_as(parser) -> None:
    parser.add_argument("--decode-as-rtp", metavar="PORT", type=int, action="append", default=[],
                        help=_("décoder aussi le port UDP PORT comme du RTP "
                              "(comme tshark -d udp.port==PORT,rtp)"))
    _via_tshark(parser)


def _via_tshark(parser) -> None:
    parser.add_argument("--via-tshark", action="store_true",
                        help=_("captures dans d'autres formats (NetMon, snoop...) : les convertir "
                                 "d'abord en pcapng temporaire avec editcap/tshark de Wireshark"))


def _read(args, progress_default=True):
    from toipkit.pcap import read_capture

    progress = progress_default and not getattr(args, "no_progress", False) and sys.stderr.isatty()
    return read_capture(args.file, progress=progress,
                        decode_as_rtp=getattr(args, "decode_as_rtp", ()),
                        via_tshark=getattr(args, "via_tshark", False))


def _warn(cap) -> None:
    for w in cap.warnings:
        print(_("avertissement : {warning}").format(warning=w), file=sys.stderr)


def _summary(args) -> int:
    from toipkit.pcap.quality import stream_mos
    from toipkit.pcap.sip import state_label

    cap = _read(args)
    _warn(cap)
    if args.json:
        print(json.dumps(cap.summary(), indent=2, default=str))
        return 0
    print(_("{file} : {format}, {packets}, {messages}").format(
        file=os.path.basename(args.file), format=cap.format,
        packets=ngettext("{n} paquet", "{n} paquets", cap.packet_count).format(
            n=cap.packet_count),
        messages=ngettext("{n} message SIP", "{n} messages SIP", len(cap.sip_messages)).format(
            n=len(cap.sip_messages))))
    print("\n" + _("Appels ({n}) :").format(n=len(cap.calls)))
    for i, c in enumerate(cap.calls):
        extra = []
        if c.post_dial_delay is not None:
            extra.append(f"PDD {c.post_dial_delay * 1000:.0f} ms")
        if c.setup_time is not None:
            extra.append(_("établissement {ms} ms").format(ms=f"{c.setup_time * 1000:.0f}"))
        print(f"  #{i} {c.caller} -> {c.callee}: {state_label(c.state)}"
              f"{' (' + str(c.final_status) + ')' if c.final_status else ''}"
              f"{', ' + ', '.join(extra) if extra else ''}; {' → '.join(c.sequence)}")
    if cap.registrations:
        print("\n" + _("Enregistrements ({n}) :").format(n=len(cap.registrations)))
        for r in cap.registrations:
            line = _("{user} auprès de {registrar} : {status}").format(
                user=r.user, registrar=r.registrar, status=r.final_status)
            print("  " + line + (_(" après authentification") if r.challenged else ""))
    print("\n" + _("Flux RTP ({n}) :").format(n=len(cap.rtp_streams)))
    for s in cap.rtp_streams:
        st = s.stats
        m = stream_mos(s)
        print(f"  0x{s.ssrc:08X} {s.src}:{s.sport} -> {s.dst}:{s.dport} {s.payload}: "
              + _("{packets} paquets, {lost} perdus ({percent} %), gigue moyenne {jitter} ms, "
                  "delta max {delta} ms, MOS≈{mos}").format(
                  packets=st.packets, lost=st.lost, percent=f"{st.lost_percent:.1f}",
                  jitter=f"{st.mean_jitter:.3f}", delta=f"{st.max_delta:.3f}", mos=f"{m.mos:.2f}"))
    if cap.dtmf:
        print("\n" + _("DTMF (RFC 2833) : {digits}").format(digits=cap.dtmf.digits))
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


