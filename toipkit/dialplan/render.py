"""Rendering: ``dialplan show`` text, a Mermaid graph of jumps, a DataFrame, extensions.conf."""

from __future__ import annotations

import os

from toipkit.dialplan.jumps import static_destinations
from toipkit.dialplan.model import HINT, Dialplan, split_args
from toipkit.dialplan.patterns import match

__all__ = ["show", "to_frame", "to_text", "mermaid", "MermaidGraph"]


def _c_pad(text: str, width: int) -> str:
    """C's ``%-Ns``: pads by bytes, so UTF-8 text shifts the columns as in Asterisk."""
    n = len(text.encode("utf-8", "surrogateescape"))
    return text + " " * max(0, width - n)


def show(dp: Dialplan, target: str | None = None, file_order: bool = False) -> str:
    """Text in the format of Asterisk's ``dialplan show [EXT@]CTX``."""
    exten_filter = None
    ctx_filter = None
    if target:
        if "@" in target:
            exten_filter, ctx_filter = target.split("@", 1)
        else:
            ctx_filter = target
    names = list(dp.contexts)
    if not file_order:
        names.reverse()  # pbx_config prepends each new context to the global list
    if ctx_filter is not None:
        if ctx_filter not in dp.contexts:
            return f"There is no existence of '{ctx_filter}' context"
        names = [ctx_filter]
    out: list[str] = []
    counts = [0, 0, 0]  # extensions, priorities, contexts
    if exten_filter is None:
        for name in names:
            _show_context(dp, name, None, out, counts, included=False)
    else:
        # `dialplan show EXT@CTX` shows the matching extensions and follows the includes.
        seen: set[str] = set()
        todo = [(ctx_filter, False)] if ctx_filter is not None else []
        while todo:
            name, included = todo.pop(0)
            if name in seen or name not in dp.contexts:
                continue
            seen.add(name)
            _show_context(dp, name, exten_filter, out, counts, included)
            todo.extend((inc.name, True) for inc in dp.contexts[name].includes)
    n_ext, n_prio, n_ctx = counts
    if exten_filter is not None and n_ext == 0:
        return f"There is no existence of {target} extension"
    out.append(f"-= {n_ext} {'extension' if n_ext == 1 else 'extensions'} "
               f"({n_prio} {'priority' if n_prio == 1 else 'priorities'}) in {n_ctx} "
               f"{'context' if n_ctx == 1 else 'contexts'}. =-")
    return "\n".join(out)


def _show_context(dp, name, exten_filter, out, counts, included):
    ctx = dp.contexts[name]
    exts = ctx.sorted_extensions()
    if exten_filter is not None:
        exts = [e for e in exts if match(e.name, exten_filter)]
        if not exts:
            return
    counts[2] += 1
    kind = "Included context" if included else "Context"
    out.append(f"[ {kind} '{name}' created by 'pbx_config' ]")
    for ex in exts:
        counts[0] += 1
        col1 = f"'{ex.name}' =>" if ex.cid is None else f"'{ex.name}' (CID match '{ex.cid}') =>"
        rows = []
        if ex.hint is not None:
            rows.append((ex.hint, f"hint: {ex.hint.app}"))
        rows.extend((p, f"{p.number}. {p.app}({p.data})") for p in ex.steps())
        for i, (p, col2) in enumerate(rows):
            counts[1] += 1
            where = f"[{os.path.basename(p.file)}:{p.line}]"
            c1 = col1 if i == 0 else (f"   [{p.label}]" if p.label else "")
            out.append(f"  {_c_pad(c1, 17)} {_c_pad(col2, 45)} {where}")
    for inc in ctx.includes:
        spec = f"|{inc.timespec.replace(',', '|')}" if inc.timespec else ""
        out.append(f"  Include =>        {_c_pad(repr_q(inc.name + spec), 45)} [pbx_config]")
    for ig in ctx.ignorepats:
        out.append(f"  Ignore pattern => {_c_pad(repr_q(ig.pattern), 45)} [pbx_config]")
    for sw in ctx.switches:
        out.append(f"  Alt. Switch =>    {_c_pad(repr_q(sw.module + '/' + sw.data), 45)} "
                   f"[pbx_config]")
    out.append("")


def repr_q(s: str) -> str:
    return f"'{s}'"


def to_frame(dp: Dialplan):
    """One row per priority (hints included), in lookup order within each context."""
    import pandas as pd

    rows = []
    for ctx in dp.contexts.values():
        for ex in ctx.sorted_extensions():
            items = ([ex.hint] if ex.hint else []) + ex.steps()
            for p in items:
                rows.append({
                    "context": ctx.name, "exten": ex.name, "cid": ex.cid,
                    "priority": "hint" if p.number == HINT else p.number, "label": p.label,
                    "app": p.app, "data": p.data, "file": os.path.basename(p.file),
                    "line": p.line, "column": p.column,
                })
    cols = ["context", "exten", "cid", "priority", "label", "app", "data", "file", "line",
            "column"]
    return pd.DataFrame(rows, columns=cols)


def _esc(s: str) -> str:
    return s.replace(";", "\\;")


def to_text(dp: Dialplan) -> str:
    """``extensions.conf`` text equivalent to the loaded dialplan (comments are not kept)."""
    out: list[str] = []
    if dp.general:
        out.append("[general]")
        out.extend(f"{s.name}={_esc(s.value)}" for s in dp.general.values())
        out.append("")
    if dp.globals:
        out.append("[globals]")
        out.extend(f"{s.name}={_esc(s.value)}" for s in dp.globals.values())
        out.append("")
    for ctx in dp.contexts.values():
        out.append(f"[{ctx.name}]")
        for ex in ctx.extensions.values():
            name = ex.name if ex.cid is None else f"{ex.name}/{ex.cid}"
            if ex.hint is not None:
                out.append(f"exten => {name},hint,{_esc(ex.hint.app)}")
            for p in ex.steps():
                lab = f"({p.label})" if p.label else ""
                app = f"{p.app}({p.data})" if (p.has_parens or p.data) else p.app
                out.append(f"exten => {name},{p.number}{lab},{_esc(app)}")
        for inc in ctx.includes:
            out.append(f"include => {inc.name}" + (f",{inc.timespec}" if inc.timespec else ""))
        for ig in ctx.ignorepats:
            out.append(f"ignorepat => {ig.pattern}")
        for sw in ctx.switches:
            out.append(f"{sw.kind} => {sw.module}/{sw.data}")
        out.append("")
    return "\n".join(out)


class MermaidGraph:
    """A Mermaid flowchart; JupyterLab (>= 4.1) renders it from Markdown."""

    def __init__(self, source: str):
        self.source = source

    def __str__(self) -> str:
        return self.source

    def __repr__(self) -> str:
        return self.source

    def _repr_markdown_(self) -> str:
        return "```mermaid\n" + self.source + "\n```"


def _node(name: str) -> str:
    safe = "".join(c if c.isalnum() else "_" for c in name)
    return f"ctx_{safe}"


def _label(s: str) -> str:
    """Text safe inside a quoted Mermaid label (Mermaid's #code; entities)."""
    return s.replace("#", "#35;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")


def mermaid(dp: Dialplan) -> MermaidGraph:
    """Contexts as boxes, jumps (Goto, GotoIf, Gosub, include) as arrows labelled with the key."""
    lines = ["flowchart LR"]
    missing: set[str] = set()
    edges: list[tuple[str, str, str, bool]] = []
    for ctx in dp.contexts.values():
        for inc in ctx.includes:
            edges.append((ctx.name, inc.name, "include", True))
        for ex in ctx.sorted_extensions():
            for p in ex.steps():
                la = p.app.lower()
                for d in static_destinations(p.app, p.data):
                    parts = [x.strip() for x in d.split(",", 3)[:3]]
                    if len(parts) == 3 and "$" not in parts[0]:
                        target = parts[0]
                        label = ex.name if ex.name == parts[1] or len(ex.name) <= 3 else ex.name
                        edges.append((ctx.name, target, f"{label} → {parts[1]}", False))
                if la == "dial":
                    dial_id = f"__dial__{ctx.name}__{ex.name}__{p.number}"
                    edges.append((ctx.name, dial_id, ex.name, False))
                    lines.append(f'  {_node(dial_id)}(["Dial '
                                 f'{_label(split_args(p.data)[0])}"])')
    for name in dp.contexts:
        lines.append(f'  {_node(name)}["[{_label(name)}]"]')
    for src, dst, label, dotted in edges:
        if not dst.startswith("__dial__") and dst not in dp.contexts:
            missing.add(dst)
        arrow = "-.->" if dotted else "-->"
        lines.append(f'  {_node(src)} {arrow}|"{_label(label)}"| {_node(dst)}')
    for m in sorted(missing):
        lines.append(f'  {_node(m)}["[{_label(m)}] ?"]')
        lines.append(f"  style {_node(m)} fill:#fdd,stroke:#c00,stroke-dasharray: 4 4")
    return MermaidGraph("\n".join(lines))
