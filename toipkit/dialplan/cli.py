"""``toipkit dialplan lint|show|graph|simulate``."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict

from toipkit.i18n import _, ngettext


def register(subparsers) -> None:
    p = subparsers.add_parser("dialplan", help=_("analyser, vérifier, afficher et simuler un extensions.conf"))
    sub = p.add_subparsers(dest="dialplan_command", metavar="ACTION")

    lp = sub.add_parser("lint", help=_("signaler les problèmes avec fichier:ligne:colonne et une correction"))
    lp.add_argument("file", help=_("plan de numérotation à lire (extensions.conf)"))
    lp.add_argument("--lang", choices=("fr", "en"), default="fr",
                    help=_("langue des messages"))
    lp.add_argument("--json", action="store_true", help=_("sortie JSON (pour un programme)"))
    lp.add_argument("--directory", metavar="JSON",
                    help=_("fichier JSON : numéros connus du XiVO "
                           "({\"201\": {\"kind\": \"group\", ...}})"))
    lp.add_argument("--entry", action="append", metavar="CTX",
                    help=_("contexte où entrent les appels (par défaut : default) ; répétable"))
    lp.add_argument("--asterisk", metavar="N[,N]",
                    help=_("version(s) d'Asterisk de référence, p. ex. 13 ou 13,22 (par défaut "
                           "13,22 : le XiVO du cours et la LTS actuelle ; un constat vrai pour "
                           "certaines seulement est un avertissement marqué de ces versions)"))
    lp.add_argument("--apps", metavar="APP[,APP]", action="append",
                    help=_("applications de modules tiers installés sur le PBX "
                           "(ou un commentaire '; toipkit: apps=A,B' dans le plan de numérotation)"))
    lp.set_defaults(handler=_lint)

    sp = sub.add_parser("show", help=_("afficher le plan de numérotation comme `dialplan show` d'Asterisk"))
    sp.add_argument("file", help=_("plan de numérotation à lire (extensions.conf)"))
    _strict_option(sp)
    sp.add_argument("target", nargs="?", help=_("CONTEXTE ou EXTEN@CONTEXTE"))
    sp.add_argument("--file-order", action="store_true",
                    help=_("contextes dans l'ordre du fichier (Asterisk les liste à l'envers)"))
    sp.set_defaults(handler=_show)

    gp = sub.add_parser("graph", help=_("organigramme Mermaid des contextes et des sauts"))
    gp.add_argument("file", help=_("plan de numérotation à lire (extensions.conf)"))
    _strict_option(gp)
    gp.add_argument("--markdown", action="store_true", help=_("entourer d'un bloc ```mermaid"))
    gp.set_defaults(handler=_graph)

    mp = sub.add_parser("simulate", help=_("simuler un appel (DTMF, délais) et afficher la trace"))
    mp.add_argument("file", help=_("plan de numérotation à lire (extensions.conf)"))
    _strict_option(mp)
    mp.add_argument("--context", required=True, help=_("contexte où entre l'appel"))
    mp.add_argument("--exten", default="s", help=_("numéro composé (par défaut : s)"))
    mp.add_argument("--dtmf", default="",
                    help=_("touches pressées dès que l'appel écoute (p. ex. '#1'), ou datées "
                           "'2.5:1,8:#' (secondes:touche)"))
    mp.add_argument("--callerid", default=None, help=_("numéro de l'appelant"))
    mp.add_argument("--directory", metavar="JSON", help=_("fichier JSON des numéros connus"))
    mp.add_argument("--sounds", metavar="JSON",
                    help=_("textes et durées des messages : un manifest.json de toipkit tts (ou son "
                           "dossier), ou un objet JSON "
                           "{\"custom/x\": {\"text\": ..., \"duration\": 2.5}}"))
    mp.add_argument("--max-steps", type=int, default=500,
                    help=_("nombre maximal d'étapes (par défaut : 500)"))
    mp.add_argument("--asterisk", metavar="N", default=None,
                    help=_("version d'Asterisk simulée (par défaut 22) : fixe les applications "
                           "disponibles"))
    mp.add_argument("--lang", choices=("fr", "en"), default="fr",
                    help=_("langue des messages"))
    mp.add_argument("--json", action="store_true", help=_("sortie JSON (pour un programme)"))
    mp.add_argument("--verbose", action="store_true",
                    help=_("lignes de console à la manière d'Asterisk"))
    mp.set_defaults(handler=_simulate)
    p.set_defaults(handler=lambda args: (p.print_help(), 2)[1])


def _strict_option(parser) -> None:
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--lenient", dest="strict", action="store_false",
                      help=_("(par défaut) charger ce qu'Asterisk charge : une ligne qu'il "
                             "rejette est ignorée et son avertissement affiché comme dans le "
                             "journal d'Asterisk"))
    mode.add_argument("--strict", dest="strict", action="store_true",
                      help=_("refuser le plan de numérotation à la première ligne qu'Asterisk "
                             "rejetterait"))
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
            print(_("avertissement : {message}").format(message=ours), file=sys.stderr)
        if getattr(err, "fatal", False):
            fatal.append(where)
    if fatal:
        # main/config.c: process_text_line returns -1, the file is CONFIG_STATUS_FILEINVALID
        # and pbx_config.c (pbx_load_config) loads nothing from it.
        raise ToipkitError(_("Asterisk ne chargerait rien de {path} (son lecteur de "
                             "configuration refuse le fichier en {where})").format(
                                 path=path, where=", ".join(fatal)))
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
        raise ToipkitError(_("impossible de lire l'annuaire {path} : {error}").format(
            path=path, error=exc)) from exc
    if not isinstance(data, dict):
        raise ToipkitError(_("{path} : un objet JSON numéro -> entrée est attendu").format(
            path=path))
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
        print(_("{findings} : {errors}, {warnings}").format(
            findings=ngettext("{n} constat", "{n} constats", len(findings)).format(
                n=len(findings)),
            errors=ngettext("{n} erreur", "{n} erreurs", n_err).format(n=n_err),
            warnings=ngettext("{n} avertissement", "{n} avertissements", n_warn).format(
                n=n_warn)))
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
        raise ToipkitError(_("impossible de lire les sons {path} : {error}").format(
            path=path, error=exc)) from exc
    if isinstance(data, dict) and "prompts" in data:
        from toipkit.tts import Manifest

        return Manifest.load(target)
    if not isinstance(data, dict):
        raise ToipkitError(_("{path} : un objet JSON nom du son -> {{text, duration}} est "
                             "attendu").format(path=path))
    return data


def _parse_dtmf(text: str):
    from toipkit.errors import ToipkitError

    if ":" not in text:
        return text
    out = []
    for part in text.split(","):
        t, _sep, key = part.partition(":")
        try:
            out.append((float(t), key.strip()))
        except ValueError as exc:
            raise ToipkitError(_("DTMF daté incorrect {part!r} : secondes:touche "
                               "attendu").format(part=part)) from exc
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
