"""``toipkit tts say|from-dialplan|batch|engines|cache-clear``: offline prompts for Asterisk."""

from __future__ import annotations

import argparse
from typing import Any

FORMAT_NAMES = ("wav", "wav16", "sln", "sln16", "ulaw", "alaw", "gsm")


def register(subparsers: Any) -> None:
    tts = subparsers.add_parser("tts", help="offline speech prompts (espeak-ng) for Asterisk")
    sub = tts.add_subparsers(dest="tts_command", metavar="ACTION")

    say = sub.add_parser("say", help="speak a text into one sound file",
                         description="Speak TEXT into OUTPUT. The format comes from --format or "
                                     "the extension (.wav = 8 kHz 16-bit mono, .ulaw, .alaw, "
                                     ".sln, .sln16, .wav16, .gsm).")
    say.add_argument("text", help="what to say")
    say.add_argument("-o", "--output", required=True, help="file to write")
    say.add_argument("--format", choices=FORMAT_NAMES, help="sound format (default: from -o)")
    _voice_args(say)
    say.set_defaults(handler=_say)

    fd = sub.add_parser(
        "from-dialplan",
        help="render every agi(googletts.agi,...) prompt and rewrite the dialplan",
        description="Find every agi(googletts.agi,\"text\",lang,intkey[,speed]) in an "
                    "extensions.conf, render one sound per distinct text and language into "
                    "OUT/<lang>/custom/, and write the dialplan rewritten to play them "
                    "(Background where a key may interrupt, Playback otherwise).")
    fd.add_argument("dialplan", help="extensions.conf to read")
    fd.add_argument("--out", required=True, help="sounds folder to fill (with manifest.json)")
    fd.add_argument("--write", metavar="FILE",
                    help="where to write the rewritten dialplan (default: OUT/extensions.conf)")
    fd.add_argument("--folder", default="custom", help="sounds sub-folder (default: custom)")
    fd.add_argument("--prefix", default=None,
                    help="file name prefix (default: the context name and a dash)")
    fd.add_argument("--formats", default="wav,ulaw,alaw,sln16",
                    help="comma-separated formats (default: wav,ulaw,alaw,sln16)")
    fd.add_argument("--engine", default="auto", help="speech engine (default: auto)")
    fd.set_defaults(handler=_from_dialplan)

    batch = sub.add_parser("batch", help="render a list of prompts from a CSV or YAML file")
    batch.add_argument("file", help="CSV (name,text[,lang,voice,rate,pitch]) or YAML")
    batch.add_argument("--out", required=True, help="sounds folder to fill (with manifest.json)")
    batch.add_argument("--folder", default="custom", help="sounds sub-folder (default: custom)")
    batch.add_argument("--formats", default="wav,ulaw,alaw,sln16",
                       help="comma-separated formats (default: wav,ulaw,alaw,sln16)")
    batch.add_argument("--engine", default="auto", help="speech engine (default: auto)")
    batch.set_defaults(handler=_batch)

    eng = sub.add_parser("engines", help="list the speech engines usable here")
    eng.set_defaults(handler=_engines)

    cc = sub.add_parser("cache-clear", help="empty the rendering cache (TOIPKIT_HOME/tts-cache)")
    cc.set_defaults(handler=_cache_clear)

    tts.set_defaults(handler=lambda args: (tts.print_help(), 2)[1])


def _voice_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--lang", default="fr", help="language (default: fr; also fr-be, fr-ch, en...)")
    p.add_argument("--voice", help="voice variant (espeak: f1..f5, m1..m7...)")
    p.add_argument("--rate", type=int, help="words per minute (espeak default 175)")
    p.add_argument("--pitch", type=int, help="pitch 0-99 (espeak default 50)")
    p.add_argument("--volume", type=int, help="volume 0-200 (espeak default 100)")
    p.add_argument("--engine", default="auto",
                   help="espeak-lib, espeak-cli, piper, gtts, edge-tts (default: auto)")
    p.add_argument("--no-cache", action="store_true", help="do not use the rendering cache")


def _formats(text: str) -> list[str]:
    from toipkit.tts.audio import get_format

    return [get_format(f.strip()).name for f in text.split(",") if f.strip()]


def _say(args: argparse.Namespace) -> int:
    from toipkit.tts.audio import sound_duration
    from toipkit.tts.prompts import say

    path = say(args.text, args.output, format=args.format, lang=args.lang, voice=args.voice,
               rate=args.rate, pitch=args.pitch, volume=args.volume, engine=args.engine,
               cache=not args.no_cache)
    print(f"{path}: {sound_duration(path, args.format):.2f} s")
    return 0


def _from_dialplan(args: argparse.Namespace) -> int:
    from pathlib import Path

    from toipkit._fileio import atomic_write
    from toipkit.tts.ivr import from_dialplan

    out = Path(args.out)
    result = from_dialplan(args.dialplan, out, formats=_formats(args.formats),
                           folder=args.folder, prefix=args.prefix, engine=args.engine)
    target = Path(args.write) if args.write else out / "extensions.conf"
    # Keep the author's comments and layout when the source is a single file.
    try:
        text = result.patched_text()
    except Exception:  # noqa: BLE001 - fall back to the regenerated text
        text = result.dialplan.to_text()
    atomic_write(target, text.encode("utf-8"))
    for call in result.calls:
        status = call.sound if call.sound else f"left as is ({call.reason})"
        print(f"{call.where}: {call.text!r} -> {status}")
    print(f"{len(result.manifest)} sound(s) in {out} (manifest.json); dialplan written to {target}")
    return 0


def _batch(args: argparse.Namespace) -> int:
    from toipkit.tts.prompts import render_batch

    manifest = render_batch(args.file, args.out, formats=_formats(args.formats),
                            folder=args.folder, engine=args.engine)
    for entry in manifest.values():
        print(f"{entry.name}: {entry.duration:.2f} s  {entry.text}")
    print(f"{len(manifest)} prompt(s) in {args.out} (manifest.json)")
    return 0


def _engines(args: argparse.Namespace) -> int:
    from toipkit.tts.engines import available_engines, get_engine

    names = available_engines()
    default = None
    try:
        default = get_engine("auto").name
    except Exception:  # noqa: BLE001 - reported below
        pass
    for name in names:
        mark = " (default)" if name == default else ""
        print(f"{name}{mark}")
    if not names:
        print("no speech engine: pip install espeakng-loader, or apt-get install espeak-ng")
        return 1
    return 0


def _cache_clear(args: argparse.Namespace) -> int:
    from toipkit.tts.prompts import PromptCache

    cache = PromptCache()
    print(f"{cache.clear()} file(s) removed from {cache.root}")
    return 0
