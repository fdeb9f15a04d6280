"""``python -m toipkit.xivo.sandbox [--data-dir DIR] [--port N]``: run the sandbox in the
foreground (this is what :func:`toipkit.xivo.sandbox.start` launches, detached).

Next to the HTTP server it runs the lab network: the SIP registrar (kamailio, when installed,
tied to this process: it stops when the server stops or dies) and the media endpoints
(conference rooms, deployed IVRs: ``toipkit.phone.services``).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from toipkit.xivo.sandbox import serve
from toipkit.xivo.sandbox.process import resolve_data_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m toipkit.xivo.sandbox",
                                     description="Run the confd-compatible XiVO sandbox.")
    parser.add_argument("--data-dir", default=None,
                        help="state directory (default: $TOIPKIT_HOME/sandbox)")
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0 = any)")
    parser.add_argument("--tls", action="store_true",
                        help="HTTPS with a self-signed certificate (in DATA_DIR/tls/)")
    parser.add_argument("--no-sip", action="store_true",
                        help="API only: no SIP registrar (also TOIPKIT_SANDBOX_SIP=0)")
    args = parser.parse_args(argv)
    data_dir = resolve_data_dir(args.data_dir)
    registrar = services = None
    if not args.no_sip and os.environ.get("TOIPKIT_SANDBOX_SIP", "1") != "0":
        registrar = _start_registrar(data_dir)
        if registrar is not None:
            services = _start_media_services(data_dir, registrar)
    try:
        serve(data_dir, args.port, tls=args.tls)
    finally:
        if services is not None:
            services.stop()
        if registrar is not None:
            registrar.stop(data_dir)
    return 0


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
        print("toipkit sandbox: kamailio is not installed, no SIP registrar", file=sys.stderr)
        return None
    Store(data_dir).close()  # the database and its tables exist before kamailio reads them
    try:
        info = registrar.start(data_dir, data_dir / DB_NAME)
    except (registrar.RegistrarError, OSError) as exc:
        # The API still works without it (e.g. where processes are capped): say so in the log.
        print(f"toipkit sandbox: no SIP registrar: {exc}", file=sys.stderr, flush=True)
        return None
    print(f"toipkit sandbox: SIP registrar on {info.address}", flush=True)
    return registrar


if __name__ == "__main__":
    raise SystemExit(main())
