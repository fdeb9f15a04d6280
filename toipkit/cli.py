"""``toipkit`` command line: one sub-command per domain, over the library's public functions.

Each domain contributes its sub-commands from ``toipkit/<domain>/cli.py`` through a
``register(subparsers)`` function. Those modules import heavy libraries (pandas, numpy...)
inside their handlers only, so ``toipkit --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys

from toipkit.errors import ToipkitError
from toipkit.i18n import _
from toipkit.i18n.argparse_messages import install as install_argparse_messages

# Domain command modules, in the order their commands appear in --help.
DOMAIN_COMMANDS = (
    "toipkit.doctor",
    "toipkit.course.cli",
    "toipkit.pcap.cli",
    "toipkit.dialplan.cli",
    "toipkit.tts.cli",
    "toipkit.xivo.cli",
    "toipkit.grading.cli",
)


class _ShowVersion(argparse.Action):
    """``--version``, reading the package metadata only when asked (it is slow to import)."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS,
                         help=_("afficher la version du programme et quitter"))

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        import toipkit

        print(f"toipkit {toipkit.__version__}")
        parser.exit()


def _available(module_name: str) -> bool:
    try:
        return importlib.util.find_spec(module_name) is not None
    except ModuleNotFoundError:
        return False


# The module of each command: running one command imports only its own module.
COMMAND_MODULES = {
    "doctor": "toipkit.doctor",
    "course": "toipkit.course.cli",
    "pcap": "toipkit.pcap.cli",
    "dialplan": "toipkit.dialplan.cli",
    "tts": "toipkit.tts.cli",
    "sandbox": "toipkit.xivo.cli",
    "xivo": "toipkit.xivo.cli",
    "grade": "toipkit.grading.cli",
}


def _command_of(argv: list[str]) -> str | None:
    for arg in argv:
        if not arg.startswith("-"):
            return arg if arg in COMMAND_MODULES else None
    return None


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The full parser (every domain), or only ``command``'s when it is known."""
    install_argparse_messages()  # before the parsers exist: they translate their titles
    parser = argparse.ArgumentParser(
        prog="toipkit",
        description=_("Outils du cours de téléphonie sur IP : captures, plans de numérotation, "
                      "XiVO, synthèse vocale, correction."),
    )
    parser.add_argument("--version", action=_ShowVersion)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    modules = [COMMAND_MODULES[command]] if command else DOMAIN_COMMANDS
    for module_name in modules:
        if _available(module_name):
            importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(_command_of(argv))
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        return int(handler(args) or 0)
    except ToipkitError as exc:
        print(_("toipkit : erreur : {error}").format(error=exc), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
