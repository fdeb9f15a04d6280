"""Ladder (sequence) diagrams of SIP messages and RTP stream graphs."""

from __future__ import annotations

from toipkit.i18n import _, ngettext


def _select(cap, call):
    """Messages of one call (a Call, its Call-ID or its index) or of the whole capture."""
    if call is None:
        return list(cap.sip_messages)
    if isinstance(call, int):
        return list(cap.calls[call].messages)
    if isinstance(call, str):
        return [m for m in cap.sip_messages if m.call_id == call]
    return list(call.messages)


def _events(cap, call, rtp: bool) -> list[tuple]:
    """(time, from party, to party, label, kind) for the SIP messages, plus RTP streams.

    A stream is drawn between the SIP parties on the same IP addresses (or its own media
    address when no SIP party shares it) at the time of its first packet.
    """
    msgs = _select(cap, call)
    ev = []
    for m in msgs:
        kind = ("request" if m.is_request else "ok" if m.status and m.status < 300
                else "redirect" if m.status and m.status < 400 else "error")
        ev.append((m.time, f"{m.src}:{m.sport}", f"{m.dst}:{m.dport}", m.label, kind))
    if rtp and hasattr(cap, "rtp_streams"):
        parties = [p for e in ev for p in (e[1], e[2])]
        t0 = min((m.time for m in msgs), default=None)
        t1 = max((m.time for m in msgs), default=None)

        def party(ip: str, port: int) -> str:
            for p in parties:
                if p.rsplit(":", 1)[0] == ip:
                    return p
            return f"{ip}:{port}"

        for s in sorted(cap.rtp_streams, key=lambda s: s.first_frame):
            if (call is not None and t0 is not None and t1 is not None
                    and not (t0 <= s.start_time <= t1 + 1)):
                continue
            packets = ngettext("{n} paquet", "{n} paquets", s.packets).format(n=s.packets)
            label = f"RTP {s.payload} ({packets}, {s.duration:.1f} s)"
            ev.append((s.start_time, party(s.src, s.sport), party(s.dst, s.dport), label, "rtp"))
    ev.sort(key=lambda e: e[0])
    return ev


def _parties_of(ev) -> list[str]:
    out: list[str] = []
    for e in ev:
        for p in (e[1], e[2]):
            if p not in out:
                out.append(p)
    return out


def ladder_text(cap, call=None, rtp: bool = False) -> str:
    """One line per message: time, arrow between parties, label (``rtp=True`` adds streams)."""
    ev = _events(cap, call, rtp)
    parties = _parties_of(ev)
    if not ev:
        return _("(aucun message SIP)") + "\n"
    width = 24
    head = " " * 12 + "".join(p.center(width) for p in parties)
    lines = [head.rstrip()]
    for t, src, dst, label, kind in ev:
        a = parties.index(src)
        b = parties.index(dst)
        lo, hi = min(a, b), max(a, b)
        row = [" "] * (width * len(parties))
        for k in range(len(parties)):
            row[k * width + width // 2] = "|"
        start, end = lo * width + width // 2, hi * width + width // 2
        fill = "=" if kind == "rtp" else "-"
        for x in range(start + 1, end):
            row[x] = fill
        if a < b:
            row[end - 1] = ">"
        elif a > b:
            row[start + 1] = "<"
        mid = (start + end) // 2 - len(label) // 2
        if end - start > len(label) + 4:
            for k, ch in enumerate(label):
                row[mid + k] = ch
            lines.append(f"{t:10.3f}  " + "".join(row).rstrip())
        else:
            lines.append(f"{t:10.3f}  " + "".join(row).rstrip() + "  " + label)
    return "\n".join(lines) + "\n"


def ladder_mermaid(cap, call=None, rtp: bool = False) -> str:
    """Mermaid ``sequenceDiagram`` (renders in JupyterLab >= 4.1 Markdown and on GitHub)."""
    ev = _events(cap, call, rtp)
    parties = _parties_of(ev)
    alias = {p: f"P{i}" for i, p in enumerate(parties)}
    out = ["sequenceDiagram"]
    for p in parties:
        out.append(f"    participant {alias[p]} as {p}")
    for t, src, dst, label, kind in ev:
        arrow = "-->>" if kind == "rtp" else "->>"
        text = label.replace(";", ",").replace("#", "")
        out.append(f"    {alias[src]}{arrow}{alias[dst]}: {text} ({t:.3f} s)")
    return "\n".join(out) + "\n"


_COLORS = {"request": "tab:blue", "ok": "tab:green", "redirect": "tab:orange",
           "error": "tab:red", "rtp": "tab:purple"}


def ladder_figure(cap, call=None, ax=None, max_messages: int = 60, rtp: bool = False):
    """Matplotlib ladder diagram; returns the Figure (``rtp=True`` adds the RTP streams)."""
    import matplotlib.pyplot as plt

    ev = _events(cap, call, rtp)[:max_messages]
    parties = _parties_of(ev)
    n = max(len(ev), 1)
    if ax is None:
        fig, ax = plt.subplots(figsize=(2.6 * max(len(parties), 2) + 1.5, 0.42 * n + 1.4))
    else:
        fig = ax.figure
    xs = {p: i for i, p in enumerate(parties)}
    for p, x in xs.items():
        ax.plot([x, x], [0.5, n + 0.5], color="0.6", lw=1, zorder=1)
        ax.text(x, 0.2, p, ha="center", va="bottom", fontsize=9, fontweight="bold")
    for k, (t, src, dst, label, kind) in enumerate(ev, start=1):
        x0, x1 = xs[src], xs[dst]
        color = _COLORS[kind]
        style = {"arrowstyle": "->", "color": color, "lw": 1.4}
        if kind == "rtp":
            style["linestyle"] = "--"
        ax.annotate("", xy=(x1, k), xytext=(x0, k), arrowprops=style)
        ax.text((x0 + x1) / 2, k - 0.12, label, ha="center", va="bottom", fontsize=8,
                color=color)
        ax.text(-0.45, k, f"{t:.3f} s", ha="right", va="center", fontsize=7, color="0.3")
    ax.set_xlim(-1.2, max(len(parties) - 1, 1) + 0.5)
    ax.set_ylim(n + 0.8, -0.2)
    ax.axis("off")
    fig.tight_layout()
    return fig


def stream_plot(stream, ax=None):
    """Delta and jitter (ms) against time for one RTP stream; returns the Figure."""
    import matplotlib.pyplot as plt

    df = stream.series()
    if ax is None:
        fig, ax = plt.subplots(figsize=(9, 3.6))
    else:
        fig = ax.figure
    ax.plot(df["time"], df["delta_ms"], lw=0.8, label=_("écart entre paquets (ms)"),
            color="tab:blue")
    ax.plot(df["time"], df["jitter_ms"], lw=1.2, label=_("gigue (ms)"), color="tab:red")
    lost = df["flags"] & 0x04
    if lost.any():
        ax.scatter(df["time"][lost > 0], df["delta_ms"][lost > 0], s=12, color="black",
                   label=_("erreur de séquence"), zorder=3)
    ax.set_xlabel(_("temps (s)"))
    ax.set_ylabel("ms")
    ax.set_title(f"RTP 0x{stream.ssrc:08X} {stream.src}:{stream.sport} → "
                 f"{stream.dst}:{stream.dport} ({stream.payload})", fontsize=9)
    ax.legend(loc="upper right", fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig
