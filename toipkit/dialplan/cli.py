"""``toipkit dialplan lint|show|graph|simulate``."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict


def register(subparsers) -> None:
    p = subparsers.add_parser("dialplan", help="parse, lint, show and simulate extensions.conf")
    sub = p.add_subparsers(dest="dialplan_command", metavar="ACTION")

    lp = sub.add_parser("lint", help="report problems with file:line:column and a fix")
    lp.add_argument("file")
    lp.add_argument("--lang", choices=("fr", "en"), default="fr", help="message language")
    lp.add_argument("--json", action="store_true", help="machine-readable output")
    lp.add_argument("--directory", metavar="JSON",
                    help="JSON file: numbers XiVO knows ({\"201\": {\"kind\": \"group\", ...}})")
    lp.add_argument("--entry", action="append", metavar="CTX",
                    help="context where calls enter (default: default); repeatable")
    lp.add_argument("--asterisk", metavar="N[,N]",
                    help="Asterisk version(s) to check against, e.g. 13 or 13,22 (default "
                         "13,22: the course's XiVO and the current LTS; a finding true for only "
                         "some of them is a warning tagged with those versions)")
    lp.add_argument("--apps", metavar="APP[,APP]", action="append",
                    help="applications of third-party modules installed on the PBX "
                         "(also: a '; toipkit: apps=A,B' comment in the dialplan)")
    lp.set_defaults(handler=_lint)

    sp = sub.add_parser("show", help="print the dialplan like Asterisk's `dialplan show`")
    sp.add_argument("file")
    _strict_option(sp)
    sp.add_argument("target", nargs="?", help="CONTEXT or EXTEN@CONTEXT")
    sp.add_argument("--file-order", action="store_true",
                    help="contexts in file order (Asterisk lists them in reverse)")
    sp.set_defaults(handler=_show)

    gp = sub.add_parser("graph", help="Mermaid flowchart of contexts and jumps")
    gp.add_argument("file")
    _strict_option(gp)
    gp.add_argument("--markdown", action="store_true", help="wrap in a ```mermaid block")
    gp.set_defaults(handler=_graph)

    mp = sub.add_parser("simulate", help="simulate a call (DTMF, timeouts) and print the trace")
    mp.add_argument("file")
    _strict_option(mp)
    mp.add_argument("--context", required=True)
    mp.add_argument("--exten", default="s")
    mp.add_argument("--dtmf", default="",
                    help="keys pressed as soon as the call listens (e.g. '#1'), or timed "
                         "'2.5:1,8:#' (seconds:key)")
    mp.add_argument("--callerid", default=None)
    mp.add_argument("--directory", metavar="JSON", help="JSON file of known numbers")
    mp.add_argument("--sounds", metavar="JSON",
                    help="prompt texts/durations: a toipkit TTS manifest.json (or its folder), or "
                         "a JSON object {\"custom/x\": {\"text\": ..., \"duration\": 2.5}}")
    mp.add_argument("--max-steps", type=int, default=500)
    mp.add_argument("--asterisk", metavar="N", default=None,
                    help="Asterisk version simulated (default 22): decides which applications "
                         "exist")
    mp.add_argument("--lang", choices=("fr", "en"), default="fr")
    mp.add_argument("--json", action="store_true")
    mp.add_argument("--verbose", action="store_true", help="Asterisk-style console lines")
    mp.set_defaults(handler=_simulate)
    p.set_defaults(handler=lambda args: (p.print_help(), 2)[1])


def _strict_option(parser) -> None:
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--lenient", dest="strict", action="store_false",
                      help="(default) load what Asterisk loads: a line it rejects is skipped and "
                           "its warning printed as Asterisk logs it")
    mode.add_argument("--strict", dest="strict", action="store_true",
                      help="refuse the dialplan at the first line Asterisk would reject")
    parser.set_defaults(strict=False)


def _load(path: str, lenient: bool = True):
    """Load like Asterisk (pbx_config): a line it rejects is skipped, and its log message
    printed on stderr in Asterisk's words, followed by the exact position and our explanation.
    When Asterisk's config layer refuses the whole file, so do we."""
    from toipkit.dialplan import parse_file
    from toipkit.errors import ToipkitError

    dp = parse_file(path, lenient=lenient)
    fatal = []
    for err in dp.errors:
        where = ":".join(str(x) for x in (err.file, err.line, err.column) if x)
        ours = f"{where}: {err.message}" + (f" ({err.hint})" if err.hint else "")
        asterisk = getattr(err, "asterisk", None)
        if asterisk:
            print(asterisk, file=sys.stderr)
            print(f"    {ours}", file=sys.stderr)
        else:
            print(f"WARNING: {ours}", file=sys.stderr)
        if getattr(err, "fatal", False):
            fatal.append(where)
    if fatal:
        # main/config.c: process_text_line returns -1, the file is CONFIG_STATUS_FILEINVALID
        # and pbx_config.c (pbx_load_config) loads nothing from it.
        raise ToipkitError(f"Asterisk would load nothing from {path} (its configuration reader "
                           f"refuses the file at {', '.join(fatal)})")
    return dp


def _bytes_safe_stdout() -> None:
    """File names that are not valid UTF-8 reach Python as lone surrogates: write their
    original bytes back rather than fail on them (as stderr already does with escapes)."""
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if reconfigure is not None and getattr(sys.stdout, "errors", "") == "strict":
        reconfigure(errors="surrogateescape")


def _directory(path: str | None):
    if not path:
        return None
    from toipkit.errors import ToipkitError

    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError) as exc:
        raise ToipkitError(f"cannot read directory {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ToipkitError(f"{path}: expected a JSON object number -> entry")
    return data


def _lint(args) -> int:
    _bytes_safe_stdout()
    from toipkit.dialplan import lint, parse_file
    from toipkit.errors import ToipkitError

    dp = parse_file(args.file, lenient=True)  # load errors are findings of their own
    apps = [a for group in (args.apps or []) for a in group.split(",") if a.strip()]
    try:
        findings = lint(dp, lang=args.lang, directory=_directory(args.directory),
                        entry_contexts=args.entry, asterisk=args.asterisk, apps=apps)
    except ValueError as exc:
        raise ToipkitError(str(exc)) from exc
    if args.json:
        json.dump([asdict(f) for f in findings], sys.stdout, ensure_ascii=False, indent=2)
        print()
    else:
        for f in findings:
            print(f)
        n_err = sum(f.severity == "error" for f in findings)
        n_warn = sum(f.severity == "warning" for f in findings)
        print(f"{len(findings)} finding(s): {n_err} error(s), {n_warn} warning(s)")
    return 1 if any(f.severity == "error" for f in findings) else 0


def _show(args) -> int:
    _bytes_safe_stdout()
    from toipkit.dialplan.render import show

    print(show(_load(args.file, not args.strict), args.target, file_order=args.file_order))
    return 0


def _graph(args) -> int:
    _bytes_safe_stdout()
    g = _load(args.file, not args.strict).graph()
    print(g._repr_markdown_() if args.markdown else g.source)
    return 0


def _sounds(path: str | None):
    if not path:
        return None
    import os

    from toipkit.errors import ToipkitError

    target = os.path.join(path, "manifest.json") if os.path.isdir(path) else path
    try:
        with open(target, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError) as exc:
        raise ToipkitError(f"cannot read sounds {path}: {exc}") from exc
    if isinstance(data, dict) and "prompts" in data:
        from toipkit.tts import Manifest

        return Manifest.load(target)
    if not isinstance(data, dict):
        raise ToipkitError(f"{path}: expected a JSON object sound name -> {{text, duration}}")
    return data


def _parse_dtmf(text: str):
    from toipkit.errors import ToipkitError

    if ":" not in text:
        return text
    out = []
    for part in text.split(","):
        t, _, key = part.partition(":")
        try:
            out.append((float(t), key.strip()))
        except ValueError as exc:
            raise ToipkitError(f"bad timed DTMF {part!r}: expected seconds:key") from exc
    return out


def _simulate(args) -> int:
    _bytes_safe_stdout()
    from toipkit.dialplan import simulate
    from toipkit.errors import ToipkitError

    dp = _load(args.file, not args.strict)
    try:
        trace = simulate(dp, args.context, args.exten, dtmf=_parse_dtmf(args.dtmf),
                         directory=_directory(args.directory), sounds=_sounds(args.sounds),
                         max_steps=args.max_steps,
                         callerid=args.callerid, lang=args.lang, asterisk=args.asterisk)
    except ValueError as exc:
        raise ToipkitError(str(exc)) from exc
    if args.json:
        out = {"context": trace.context, "exten": trace.exten, "outcome": trace.outcome,
               "reason": trace.reason, "target": trace.target, "elapsed": trace.elapsed,
               "steps": [asdict(s) for s in trace.steps]}
        json.dump(out, sys.stdout, ensure_ascii=False, indent=2)
        print()
    elif args.verbose:
        print(trace.verbose())
        print(trace.summary())
    else:
        print(trace)
    return 0
