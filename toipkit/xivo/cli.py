"""``toipkit sandbox start|stop|status|reset`` and ``toipkit xivo users list|register-check``."""

from __future__ import annotations

import argparse
import os
from typing import Any


def register(subparsers: Any) -> None:
    sb = subparsers.add_parser("sandbox", help="the local XiVO sandbox (confd-compatible server)")
    sb_sub = sb.add_subparsers(dest="sandbox_command", metavar="ACTION")
    for name, helptext in (("start", "start the sandbox (or reuse the running one)"),
                           ("stop", "stop the sandbox"),
                           ("status", "is the sandbox running, on which URL"),
                           ("reset", "erase the sandbox data (back to the wizard defaults)")):
        p = sb_sub.add_parser(name, help=helptext)
        p.add_argument("--data-dir", help="sandbox data directory (default: TOIPKIT_HOME/sandbox)")
        if name == "start":
            p.add_argument("--port", type=int, help="TCP port on 127.0.0.1 (default: any free)")
        p.set_defaults(handler=_sandbox, action=name)
    sb.set_defaults(handler=lambda args: (sb.print_help(), 2)[1])

    xv = subparsers.add_parser("xivo", help="talk to a XiVO (or the sandbox) through its REST API")
    xv_sub = xv.add_subparsers(dest="xivo_command", metavar="ACTION")
    users = xv_sub.add_parser("users", help="users")
    users_sub = users.add_subparsers(dest="users_command", metavar="ACTION")
    ls = users_sub.add_parser("list", help="list users (login from XIVO_USERNAME/XIVO_PASSWORD)")
    _connection_args(ls)
    ls.add_argument("--search", help="substring search")
    ls.set_defaults(handler=_users_list)
    users.set_defaults(handler=lambda args: (users.print_help(), 2)[1])

    reg = xv_sub.add_parser(
        "register-check",
        help="send a SIP REGISTER with digest auth and explain the answer "
             "(password from XIVO_SIP_PASSWORD or prompted)")
    reg.add_argument("server", help="XiVO address")
    reg.add_argument("username", help="SIP login of the line")
    reg.add_argument("--port", type=int, default=5060)
    reg.add_argument("--timeout", type=float, default=2.0)
    reg.add_argument("--bind", action="store_true",
                     help="really register (replaces the softphone's registration); default: "
                          "a REGISTER without Contact that only checks the credentials")
    reg.set_defaults(handler=_register_check)
    xv.set_defaults(handler=lambda args: (xv.print_help(), 2)[1])


def _connection_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--url", help="XiVO URL, e.g. https://192.168.0.1 (default: the sandbox)")
    p.add_argument("--ca-file", help="CA/certificate file to trust (XiVO's self-signed cert)")
    p.add_argument("--insecure", action="store_true", help="do not verify TLS certificates")


def _print_registrar(data_dir) -> None:
    from toipkit.phone import registrar

    sip = registrar.status(data_dir)
    if sip is None:
        print("SIP registrar: not running (kamailio missing, or started with --no-sip)")
    else:
        print(f"SIP registrar: sip:{sip.address} (kamailio pid {sip.pid}, "
              f"{len(registrar.registrations(sip))} registered)")


def _sandbox(args: argparse.Namespace) -> int:
    from toipkit.xivo import sandbox

    kwargs = {"data_dir": args.data_dir}
    if args.action == "start":
        info = sandbox.start(port=args.port, **kwargs)
        print(f"sandbox running: {info.url} (pid {info.pid}, data in {info.data_dir})")
        _print_registrar(info.data_dir)
        return 0
    if args.action == "stop":
        result = sandbox.stop(**kwargs)
        print("sandbox stopped" if result is not False else "sandbox was not running")
        return 0
    if args.action == "status":
        running = sandbox.status(**kwargs)
        if running is None:
            print("sandbox not running")
            return 1
        print(f"sandbox running: {running.url} (pid {running.pid}, data in {running.data_dir})")
        _print_registrar(running.data_dir)
        return 0
    sandbox.reset(**kwargs)
    print("sandbox data reset")
    return 0


def _users_list(args: argparse.Namespace) -> int:
    from toipkit.xivo.client import connect

    with connect(args.url, verify=not args.insecure, ca_file=args.ca_file) as client:
        frame = client.users.list(search=args.search, order="lastname").to_frame(
            ["id", "firstname", "lastname", "language", "timezone"])
        print(frame.to_string(index=False) if len(frame) else "(no users)")
    return 0


def _register_check(args: argparse.Namespace) -> int:
    from toipkit.xivo.sip_register import register_check

    password = os.environ.get("XIVO_SIP_PASSWORD")
    if not password:
        import getpass

        password = getpass.getpass(f"SIP password of {args.username}: ")
    result = register_check(args.server, args.username, password, port=args.port,
                            timeout=args.timeout, bind=args.bind)
    print(result)
    return 0 if result.ok else 1
