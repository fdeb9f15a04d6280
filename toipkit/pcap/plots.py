"""Ladder (sequence) diagrams of SIP messages and RTP stream graphs."""

from __future__ import annotations


def _select(cap, call):
    """Messages of one call (a Call, its Call-ID or its index) or of the whole capture."""
    if call is None:
        return list(cap.sip_messages)
    if isinstance(call, int):
        return list(cap.calls[call].messages)
    if isinstance(call, str):
        return [m for m in cap.sip_messages if m.call_id == call]
    return list(call.messages)


def _parties(msgs) -> list[str]:
    out: list[str] = []
    for m in msgs:
        for p in (f"{m.src}:{m.sport}", f"{m.dst}:{m.dport}"):
            if p not in out:
                out.append(p)
    return out


def ladder_text(cap, call=None) -> str:
    """One line per message: time, arrow between parties, label."""
    msgs = _select(cap, call)
    parties = _parties(msgs)
    if not msgs:
        return "(no SIP messages)\n"
    width = 24
    head = " " * 12 + "".join(p.center(width) for p in parties)
    lines = [head.rstrip()]
    for m in msgs:
        a = parties.index(f"{m.src}:{m.sport}")
        b = parties.index(f"{m.dst}:{m.dport}")
        lo, hi = min(a, b), max(a, b)
        row = [" "] * (width * len(parties))
        for k in range(len(parties)):
            row[k * width + width // 2] = "|"
        start, end = lo * width + width // 2, hi * width + width // 2
        for x in range(start + 1, end):
            row[x] = "-"
        if a < b:
            row[end - 1] = ">"
        elif a > b:
            row[start + 1] = "<"
        label = m.label
        mid = (start + end) // 2 - len(label) // 2
        if end - start > len(label) + 4:
            for k, ch in enumerate(label):
                row[mid + k] = ch
            lines.append(f"{m.time:10.3f}  " + "".join(row).rstrip())
        else:
            lines.append(f"{m.time:10.3f}  " + "".join(row).rstrip() + "  " + label)
    return "\n".join(lines) + "\n"


def ladder_mermaid(cap, call=None) -> str:
    """Mermaid ``sequenceDiagram`` (renders in JupyterLab >= 4.1 Markdown and on GitHub)."""
    msgs = _select(cap, call)
    parties = _parties(msgs)
    alias = {p: f"P{i}" for i, p in enumerate(parties)}
    out = ["sequenceDiagram"]
    for p in parties:
        out.append(f"    participant {alias[p]} as {p}")
    for m in msgs:
        a, b = alias[f"{m.src}:{m.sport}"], alias[f"{m.dst}:{m.dport}"]
        label = m.label.replace(";", ",").replace("#", "")
        out.append(f"    {a}->>{b}: {label} ({m.time:.3f} s)")
    return "\n".join(out) + "\n"


def ladder_figure(cap, call=None, ax=None, max_messages: int = 60):
    """Matplotlib ladder diagram; returns the Figure."""
    import matplotlib.pyplot as plt

    msgs = _select(cap, call)[:max_messages]
    parties = _parties(msgs)
    n = max(len(msgs), 1)
    if ax is None:
        fig, ax = plt.subplots(figsize=(2.6 * max(len(parties), 2) + 1.5, 0.42 * n + 1.4))
    else:
        fig = ax.figure
    xs = {p: i for i, p in enumerate(parties)}
    for p, x in xs.items():
        ax.plot([x, x], [0.5, n + 0.5], color="0.6", lw=1, zorder=1)
        ax.text(x, 0.2, p, ha="center", va="bottom", fontsize=9, fontweight="bold")
    for k, m in enumerate(msgs, start=1):
        x0, x1 = xs[f"{m.src}:{m.sport}"], xs[f"{m.dst}:{m.dport}"]
        color = ("tab:blue" if m.is_request else
                 "tab:green" if m.status and m.status < 300 else
                 "tab:orange" if m.status and m.status < 400 else "tab:red")
        ax.annotate("", xy=(x1, k), xytext=(x0, k),
                    arrowprops={"arrowstyle": "->", "color": color, "lw": 1.4})
        ax.text((x0 + x1) / 2, k - 0.12, m.label, ha="center", va="bottom", fontsize=8,
                color=color)
        ax.text(-0.45, k, f"{m.time:.3f} s", ha="right", va="center", fontsize=7, color="0.3")
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
    ax.plot(df["time"], df["delta_ms"], lw=0.8, label="delta (ms)", color="tab:blue")
    ax.plot(df["time"], df["jitter_ms"], lw=1.2, label="jitter (ms)", color="tab:red")
    lost = df["flags"] & 0x04
    if lost.any():
        ax.scatter(df["time"][lost > 0], df["delta_ms"][lost > 0], s=12, color="black",
                   label="sequence error", zorder=3)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("ms")
    ax.set_title(f"RTP 0x{stream.ssrc:08X} {stream.src}:{stream.sport} → "
                 f"{stream.dst}:{stream.dport} ({stream.payload})", fontsize=9)
    ax.legend(loc="upper right", fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig
