"""Ready-made handlers for ``toipkit sandbox ...`` sub-commands (wired by ``toipkit/xivo/cli.py``).

Each ``add_*`` function adds one sub-parser to the ``sandbox`` sub-parsers and sets its
handler; handlers return an exit code and never print secrets.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from toipkit.i18n import _


def _data_dir_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", help=_("dossier des données du bac à sable "
                                        "(par défaut : TOIPKIT_HOME/sandbox)"))


def add_directory(sandbox_subparsers: Any) -> argparse.ArgumentParser:
    """``toipkit sandbox directory [--context default] [--json]``: number → what it reaches."""
    p = sandbox_subparsers.add_parser(
        "directory", help=_("ce que joint chaque numéro (utilisateurs, groupes, salles de "
                            "conférence...)"))
    _data_dir_arg(p)
    p.add_argument("--context", default="default", help=_("contexte (par défaut : default)"))
    p.add_argument("--json", action="store_true", help=_("afficher du JSON"))
    p.set_defaults(handler=directory_handler)
    return p


def directory_handler(args: argparse.Namespace) -> int:
    from toipkit.xivo import sandbox

    entries = sandbox.directory(args.data_dir, context=args.context)
    if getattr(args, "json", False):
        print(json.dumps(entries, indent=2, ensure_ascii=False))
        return 0
    if not entries:
        print(_("aucun numéro configuré dans le contexte {context!r}").format(
            context=args.context))
        return 0
    width = max(len(n) for n in entries)
    for number, entry in entries.items():
        print(f"{number:>{width}}  {entry['label']}")
    return 0


def add_log(sandbox_subparsers: Any) -> argparse.ArgumentParser:
    """``toipkit sandbox log [--limit 20]``: the last HTTP calls received by the sandbox."""
    p = sandbox_subparsers.add_parser("log", help=_("les dernières requêtes HTTP reçues par le bac à sable"))
    _data_dir_arg(p)
    p.add_argument("--limit", type=int, default=20, help=_("combien (par défaut : 20)"))
    p.set_defaults(handler=log_handler)
    return p


def log_handler(args: argparse.Namespace) -> int:
    from toipkit.xivo import sandbox

    log = sandbox.request_log(args.data_dir, limit=args.limit)
    for e in log:
        print(f"{e['time']}  {e['method']:<6} {e['status']}  {e['duration_ms']:>7.1f} ms  "
              f"{e['path']}")
    return 0


def add_reset_options(reset_parser: argparse.ArgumentParser) -> None:
    """Extra options for ``toipkit sandbox reset``: number ranges, entity, API profile."""
    reset_parser.add_argument("--user-range", metavar="START-END",
                              help=_("plage des numéros des utilisateurs du contexte default "
                                     "(par défaut 100-199)"))
    reset_parser.add_argument("--group-range", metavar="START-END", help=_("plage des groupes (par défaut 200-299)"))
    reset_parser.add_argument("--conference-range", metavar="START-END", help=_("plage des salles de conférence (par défaut 300-399)"))
    reset_parser.add_argument("--entity", help=_('nom de l\'entité (par défaut "Badlands")'))
    reset_parser.add_argument("--api-profile", choices=("full", "xivo-16.13"),
                              help=_("xivo-16.13 : masquer ce que confd 16.13 n'a pas (groupes, "
                                     "conférences, filtres d'appel...)"))


def wizard_from_args(args: argparse.Namespace) -> dict[str, Any] | None:
    """The ``wizard=`` overrides of :func:`toipkit.xivo.sandbox.reset` from the options above."""
    from toipkit.xivo.sandbox import SandboxError

    out: dict[str, Any] = {}
    for opt, key in (("user_range", "user_range"), ("group_range", "group_range"),
                     ("conference_range", "conference_range")):
        value = getattr(args, opt, None)
        if value:
            start, sep, end = value.partition("-")
            if not (sep and start.isdigit() and end.isdigit() and len(start) == len(end)
                    and int(start) <= int(end)):
                raise SandboxError(_("--{option} {value!r} : DÉBUT-FIN attendu, avec des "
                                     "chiffres de même longueur, p. ex. 100-199").format(
                                         option=opt.replace("_", "-"), value=value))
            out[key] = (start, end)
    if getattr(args, "entity", None):
        out["entity"] = args.entity
    if getattr(args, "api_profile", None):
        out["api_profile"] = args.api_profile
    return out or None


def reset_handler(args: argparse.Namespace) -> int:
    from toipkit.xivo import sandbox

    sandbox.reset(args.data_dir, wizard=wizard_from_args(args))
    print(_("données du bac à sable réinitialisées (valeurs de l'assistant)"))
    return 0
