"""``toipkit sandbox start|stop|status|reset|directory|log`` and ``toipkit xivo users
list|register-check``."""

from __future__ import annotations

import argparse
import os
from typing import Any

from toipkit.i18n import N_, _


def register(subparsers: Any) -> None:
    from toipkit.xivo.sandbox import cli_handlers

    sb = subparsers.add_parser("sandbox", help=_("le bac à sable XiVO local (serveur compatible confd)"))
    sb_sub = sb.add_subparsers(dest="sandbox_command", metavar="ACTION")
    for name, helptext in (("start", N_("démarrer le bac à sable (ou reprendre celui qui tourne)")),
                           ("stop", N_("arrêter le bac à sable")),
                           ("status", N_("le bac à sable tourne-t-il, à quelle URL")),
                           ("reset", N_("effacer les données du bac à sable (retour aux valeurs "
                                        "de l'assistant)"))):
        p = sb_sub.add_parser(name, help=_(helptext))
        p.add_argument("--data-dir", help=_("dossier des données du bac à sable "
                                            "(par défaut : TOIPKIT_HOME/sandbox)"))
        if name == "start":
            p.add_argument("--port", type=int,
                           help=_("port TCP sur 127.0.0.1 (par défaut : un port libre)"))
        if name == "reset":  # number ranges, entity, API profile: cli_handlers
            cli_handlers.add_reset_options(p)
        p.set_defaults(handler=cli_handlers.reset_handler if name == "reset" else _sandbox,
                       action=name)
    cli_handlers.add_directory(sb_sub)
    cli_handlers.add_log(sb_sub)
    sb.set_defaults(handler=lambda args: (sb.print_help(), 2)[1])

    xv = subparsers.add_parser("xivo", help=_("dialoguer avec un XiVO (ou le bac à sable) par son API REST"))
    xv_sub = xv.add_subparsers(dest="xivo_command", metavar="ACTION")
    users = xv_sub.add_parser("users", help=_("utilisateurs"))
    users_sub = users.add_subparsers(dest="users_command", metavar="ACTION")
    ls = users_sub.add_parser("list", help=_("lister les utilisateurs (identifiants dans "
                                                 "XIVO_USERNAME/XIVO_PASSWORD)"))
    _connection_args(ls)
    ls.add_argument("--search", help=_("rechercher un fragment de texte"))
    ls.set_defaults(handler=_users_list)
    users.set_defaults(handler=lambda args: (users.print_help(), 2)[1])

    reg = xv_sub.add_parser(
        "register-check",
        help=_("envoyer un REGISTER SIP avec authentification digest et expliquer la réponse "
               "(mot de passe dans XIVO_SIP_PASSWORD ou demandé)"))
    reg.add_argument("server", help=_("adresse du XiVO"))
    reg.add_argument("username", help=_("identifiant SIP de la ligne"))
    reg.add_argument("--port", type=int, default=5060, help=_("port SIP (par défaut : 5060)"))
    reg.add_argument("--timeout", type=float, default=2.0,
                     help=_("attente de la réponse en secondes (par défaut : 2)"))
    reg.add_argument("--bind", action="store_true",
                     help=_("s'enregistrer vraiment (remplace l'enregistrement du softphone) ; par "
                            "défaut : un REGISTER sans Contact qui vérifie seulement les "
                            "identifiants"))
    reg.set_defaults(handler=_register_check)
    xv.set_defaults(handler=lambda args: (xv.print_help(), 2)[1])


def _connection_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--url", help=_("URL du XiVO, p. ex. https://192.168.0.1 (par défaut : le bac à "
                                       "sable)"))
    p.add_argument("--ca-file", help=_("fichier d'AC/certificat de confiance (le certificat "
                                           "auto-signé du XiVO)"))
    p.add_argument("--insecure", action="store_true", help=_("ne pas vérifier les certificats TLS"))


def _print_registrar(data_dir) -> None:
    from toipkit.phone import registrar

    sip = registrar.status(data_dir)
    if sip is None:
        print(_("registrar SIP : arrêté (kamailio absent, ou lancé avec --no-sip)"))
    else:
        print(_("registrar SIP : sip:{address} (kamailio pid {pid}, {n} enregistré(s))").format(
            address=sip.address, pid=sip.pid, n=len(registrar.registrations(sip))))


def _sandbox(args: argparse.Namespace) -> int:
    from toipkit.xivo import sandbox

    kwargs = {"data_dir": args.data_dir}
    if args.action == "start":
        info = sandbox.start(port=args.port, **kwargs)
        print(_("bac à sable en marche : {url} (pid {pid}, données dans {data_dir})").format(
            url=info.url, pid=info.pid, data_dir=info.data_dir))
        _print_registrar(info.data_dir)
        return 0
    if args.action == "stop":
        result = sandbox.stop(**kwargs)
        print(_("bac à sable arrêté") if result is not False
              else _("le bac à sable ne tournait pas"))
        return 0
    if args.action == "status":
        running = sandbox.status(**kwargs)
        if running is None:
            print(_("le bac à sable ne tourne pas"))
            return 1
        print(_("bac à sable en marche : {url} (pid {pid}, données dans {data_dir})").format(
            url=running.url, pid=running.pid, data_dir=running.data_dir))
        _print_registrar(running.data_dir)
        return 0
    raise AssertionError(f"unknown sandbox action {args.action}")  # reset has its own handler


def _users_list(args: argparse.Namespace) -> int:
    from toipkit.xivo.client import connect

    with connect(args.url, verify=not args.insecure, ca_file=args.ca_file) as client:
        frame = client.users.list(search=args.search, order="lastname").to_frame(
            ["id", "firstname", "lastname", "language", "timezone"])
        print(frame.to_string(index=False) if len(frame) else _("(aucun utilisateur)"))
    return 0


def _register_check(args: argparse.Namespace) -> int:
    from toipkit.xivo.sip_register import register_check

    password = os.environ.get("XIVO_SIP_PASSWORD")
    if not password:
        import getpass

        password = getpass.getpass(_("Mot de passe SIP de {username} : ").format(
            username=args.username))
    result = register_check(args.server, args.username, password, port=args.port,
                            timeout=args.timeout, bind=args.bind)
    print(result)
    return 0 if result.ok else 1
