"""``python -m toipkit.xivo.sandbox [--data-dir DIR] [--port N]``: run the sandbox in the
foreground (this is what :func:`toipkit.xivo.sandbox.start` launches, detached)."""

from __future__ import annotations

import argparse

from toipkit.xivo.sandbox import serve


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m toipkit.xivo.sandbox",
                                     description="Run the confd-compatible XiVO sandbox.")
    parser.add_argument("--data-dir", default=None,
                        help="state directory (default: $TOIPKIT_HOME/sandbox)")
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0 = any)")
    parser.add_argument("--tls", action="store_true",
                        help="HTTPS with a self-signed certificate (in DATA_DIR/tls/)")
    args = parser.parse_args(argv)
    serve(args.data_dir, args.port, tls=args.tls)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
