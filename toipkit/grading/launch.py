"""Kernel launcher used by the grading kernelspec: limits, then privileges, then ``exec``.

Used when kernels are not forked from the warm worker (``TOIPKIT_GRADING_PREFORK=0``, see
:mod:`toipkit.grading.forkkernel`).

``python -m toipkit.grading.launch [--uid N] [--memory MB] [--pidfile F] -- CMD...``

Runs as the kernel's own process (``exec`` keeps the pid), so the limits and the uid apply to
the kernel and to everything it starts, and the pid written to ``--pidfile`` is the kernel's.
"""

from __future__ import annotations

import argparse
import os
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="toipkit.grading.launch")
    parser.add_argument("--uid", type=int, default=None)
    parser.add_argument("--memory", type=int, default=None, help="address-space limit in MB")
    parser.add_argument("--pidfile", default=None)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no kernel command")

    from toipkit.grading import isolation

    if args.pidfile:
        with open(args.pidfile, "w") as handle:
            handle.write(str(os.getpid()))
    if args.uid is not None and os.geteuid() == 0:
        # The connection file was written by the (root) worker; the kernel must read it.
        if "-f" in command:
            connection = command[command.index("-f") + 1]
            if os.path.exists(connection):
                os.chown(connection, args.uid, args.uid)
        isolation.drop_privileges(args.uid, args.uid)
    isolation.apply_limits(args.memory, isolation.MAX_PROCESSES if args.uid is not None else None)
    os.execv(command[0], command)
    return 127  # pragma: no cover - execv does not return


if __name__ == "__main__":
    sys.exit(main())
