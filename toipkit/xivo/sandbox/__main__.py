"""``python -m toipkit.xivo.sandbox [--data-dir DIR] [--port N]``: run the sandbox in the
foreground (this is what :func:`toipkit.xivo.sandbox.start` launches, detached).

Next to the HTTP server it runs the lab network: the SIP registrar (kamailio, when installed,
tied to this process: it stops when the server stops or dies) and the media endpoints
(conference rooms, deployed IVRs: ``toipkit.phone.services``).

``--idle-minutes N`` (or ``TOIPKIT_SANDBOX_IDLE_MINUTES``) stops the server, and with it the
registrar and the media endpoints, after N minutes without an API request and without
registrar activity (a registration, a refresh, a call); 0 (default) never stops. On a shared
host (JupyterHub) this frees an absent student's services; their client starts the sandbox
again on its next request.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from toipkit.i18n import _
from toipkit.i18n.argparse_messages import install as install_argparse_messages
from toipkit.xivo.sandbox.process import resolve_data_dir
from toipkit.xivo.sandbox.server import serve

IDLE_ENV = "TOIPKIT_SANDBOX_IDLE_MINUTES"


def main(argv: list[str] | None = None) -> int:
    install_argparse_messages()  # before the parser exists: it translates its titles
    parser = argparse.ArgumentParser(
        prog="python -m toipkit.xivo.sandbox",
        description=_("Lancer le bac à sable XiVO compatible confd."))
    parser.add_argument("--data-dir", default=None,
                        help=_("dossier d'état (par défaut : $TOIPKIT_HOME/sandbox)"))
    parser.add_argument("--port", type=int, default=0,
                        help=_("port TCP sur 127.0.0.1 (0 = n'importe lequel)"))
    parser.add_argument("--tls", action="store_true",
                        help=_("HTTPS avec un certificat auto-signé (dans DATA_DIR/tls/)"))
    parser.add_argument("--no-sip", action="store_true",
                        help=_("API seule : pas de registrar SIP (aussi TOIPKIT_SANDBOX_SIP=0)"))
    parser.add_argument("--idle-minutes", type=float, default=None,
                        help=_("s'arrêter après N minutes sans activité de l'API ni du "
                               "registrar (par défaut : ${variable} ou 0 = jamais)").format(
                                   variable=IDLE_ENV))
    args = parser.parse_args(argv)
    try:
        idle_minutes = _idle_minutes(args.idle_minutes)
    except ValueError as exc:
        parser.error(str(exc))
    data_dir = resolve_data_dir(args.data_dir)
    registrar = services = None
    if not args.no_sip and os.environ.get("TOIPKIT_SANDBOX_SIP", "1") != "0":
        registrar = _start_registrar(data_dir)
        if registrar is not None:
            services = _start_media_services(data_dir, registrar)
    activity: list[Path] = []
    if registrar is not None:
        info = registrar.status(data_dir)
        if info is not None:  # registrations and calls are written to its database
            activity = [info.db_path, info.db_path.with_name(info.db_path.name + "-wal")]
    try:
        serve(data_dir, args.port, tls=args.tls,
              idle_timeout=idle_minutes * 60 if idle_minutes else None,
              activity_files=activity)
    finally:
        if services is not None:
            services.stop()
        if registrar is not None:
            registrar.stop(data_dir)
    return 0


def _idle_minutes(given: float | None) -> float:
    """The idle timeout in minutes: the option, else the environment, else 0 (never)."""
    if given is None:
        text = os.environ.get(IDLE_ENV, "").strip()
        try:
            given = float(text) if text else 0.0
        except ValueError:
            raise ValueError(_("{variable}={text!r} n'est pas un nombre de minutes").format(
                variable=IDLE_ENV, text=text)) from None
    if not given >= 0 or given == float("inf"):
        raise ValueError(_("le délai d'inactivité doit être un nombre fini de minutes >= 0, "
                           "pas {value}").format(value=given))
    return given


def _start_media_services(data_dir: Path, registrar):
    """Conference rooms and deployed IVRs (baresip needed for the IVRs' lines)."""
    from toipkit.phone.services import MediaServices
    from toipkit.xivo.sandbox.store import DB_NAME

    info = registrar.status(data_dir)
    return MediaServices(data_dir, data_dir / DB_NAME, info).start() if info else None


def _start_registrar(data_dir: Path):
    from toipkit.phone import registrar
    from toipkit.xivo.sandbox.store import DB_NAME, Store

    if not registrar.available():
        print(_("toipkit sandbox : kamailio n'est pas installé, pas de registrar SIP"),
              file=sys.stderr)
        return None
    Store(data_dir).close()  # the database and its tables exist before kamailio reads them
    try:
        info = registrar.start(data_dir, data_dir / DB_NAME)
    except (registrar.RegistrarError, OSError) as exc:
        # The API still works without it (e.g. where processes are capped): say so in the log.
        print(_("toipkit sandbox : pas de registrar SIP : {error}").format(error=exc),
              file=sys.stderr, flush=True)
        return None
    print(_("toipkit sandbox : registrar SIP sur {address}").format(address=info.address),
          flush=True)
    return registrar


if __name__ == "__main__":
    raise SystemExit(main())
