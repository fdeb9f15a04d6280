"""``toipkit tts say|from-dialplan|batch|engines|cache-clear``: offline prompts for Asterisk."""

from __future__ import annotations

import argparse
from typing import Any

from toipkit.i18n import _

FORMAT_NAMES = ("wav", "wav16", "sln", "sln16", "ulaw", "alaw", "gsm")


def register(subparsers: Any) -> None:
    tts = subparsers.add_parser("tts", help=_("messages vocaux hors ligne (espeak-ng) pour Asterisk"))
    sub = tts.add_subparsers(dest="tts_command", metavar="ACTION")

    say = sub.add_parser("say", help=_("dire un texte dans un fichier son"),
                         description=_("Dire TEXT dans OUTPUT. Le format vient de --format ou de "
                                       "l'extension (.wav = 8 kHz 16 bits mono, .ulaw, .alaw, "
                                       ".sln, .sln16, .wav16, .gsm)."))
    say.add_argument("text", help=_("le texte à dire"))
    say.add_argument("-o", "--output", required=True, help=_("fichier à écrire"))
    say.add_argument("--format", choices=FORMAT_NAMES,
                     help=_("format du son (par défaut : d'après -o)"))
    _voice_args(say)
    say.set_defaults(handler=_say)

    fd = sub.add_parser(
        "from-dialplan",
        help=_("produire chaque message agi(googletts.agi,...) et réécrire le plan de "
               "numérotation"),
        description=_("Trouver chaque agi(googletts.agi,\"texte\",langue,touches[,vitesse]) "
                      "d'un extensions.conf, produire un son par texte et langue distincts dans "
                      "OUT/<langue>/custom/, et écrire le plan de numérotation réécrit pour les "
                      "jouer (Background là où une touche peut interrompre, Playback sinon)."))
    fd.add_argument("dialplan", help=_("extensions.conf à lire"))
    fd.add_argument("--out", required=True,
                    help=_("dossier de sons à remplir (avec manifest.json)"))
    fd.add_argument("--write", metavar="FILE",
                    help=_("où écrire le plan de numérotation réécrit "
                           "(par défaut : OUT/extensions.conf)"))
    fd.add_argument("--folder", default="custom",
                    help=_("sous-dossier des sons (par défaut : custom)"))
    fd.add_argument("--prefix", default=None,
                    help=_("préfixe des noms de fichiers (par défaut : le nom du contexte et "
                           "un tiret)"))
    fd.add_argument("--formats", default="wav,ulaw,alaw,sln16",
                    help=_("formats séparés par des virgules (par défaut : wav,ulaw,alaw,sln16)"))
    fd.add_argument("--engine", default="auto",
                    help=_("moteur de synthèse vocale (par défaut : auto)"))
    fd.set_defaults(handler=_from_dialplan)

    batch = sub.add_parser("batch",
                           help=_("produire une liste de messages depuis un fichier CSV ou YAML"))
    batch.add_argument("file", help=_("CSV (name,text[,lang,voice,rate,pitch]) ou YAML"))
    batch.add_argument("--out", required=True,
                       help=_("dossier de sons à remplir (avec manifest.json)"))
    batch.add_argument("--folder", default="custom",
                       help=_("sous-dossier des sons (par défaut : custom)"))
    batch.add_argument("--formats", default="wav,ulaw,alaw,sln16",
                       help=_("formats séparés par des virgules "
                              "(par défaut : wav,ulaw,alaw,sln16)"))
    batch.add_argument("--engine", default="auto",
                       help=_("moteur de synthèse vocale (par défaut : auto)"))
    batch.set_defaults(handler=_batch)

    eng = sub.add_parser("engines", help=_("lister les moteurs de synthèse vocale utilisables ici"))
    eng.set_defaults(handler=_engines)

    cc = sub.add_parser("cache-clear", help=_("vider le cache de rendu (TOIPKIT_HOME/tts-cache)"))
    cc.set_defaults(handler=_cache_clear)

    tts.set_defaults(handler=lambda args: (tts.print_help(), 2)[1])


def _voice_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--lang", default="fr", help=_("langue (par défaut : fr ; aussi fr-be, fr-ch, en...)"))
    p.add_argument("--voice", help=_("variante de voix (espeak : f1..f5, m1..m7...)"))
    p.add_argument("--rate", type=int, help=_("mots par minute (175 par défaut pour espeak)"))
    p.add_argument("--pitch", type=int, help=_("hauteur 0-99 (50 par défaut pour espeak)"))
    p.add_argument("--volume", type=int, help=_("volume 0-200 (100 par défaut pour espeak)"))
    p.add_argument("--engine", default="auto",
                   help=_("espeak-lib, espeak-cli, piper, gtts, edge-tts (par défaut : auto)"))
    p.add_argument("--no-cache", action="store_true", help=_("ne pas utiliser le cache de rendu"))


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
        status = call.sound if call.sound else _("laissé tel quel ({reason})").format(
            reason=call.reason)
        print(f"{call.where}: {call.text!r} -> {status}")
    print(_("{n} son(s) dans {out} (manifest.json) ; plan de numérotation écrit dans "
            "{target}").format(n=len(result.manifest), out=out, target=target))
    return 0


def _batch(args: argparse.Namespace) -> int:
    from toipkit.tts.prompts import render_batch

    manifest = render_batch(args.file, args.out, formats=_formats(args.formats),
                            folder=args.folder, engine=args.engine)
    for entry in manifest.values():
        print(f"{entry.name}: {entry.duration:.2f} s  {entry.text}")
    print(_("{n} message(s) dans {out} (manifest.json)").format(n=len(manifest), out=args.out))
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
        mark = _(" (par défaut)") if name == default else ""
        print(f"{name}{mark}")
    if not names:
        print(_("aucun moteur de synthèse vocale : pip install espeakng-loader, ou "
                "apt-get install espeak-ng"))
        return 1
    return 0


def _cache_clear(args: argparse.Namespace) -> int:
    from toipkit.tts.prompts import PromptCache

    cache = PromptCache()
    print(_("{n} fichier(s) supprimé(s) de {root}").format(n=cache.clear(), root=cache.root))
    return 0
