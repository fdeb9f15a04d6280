"""``toipkit course build|check|execute``."""

from __future__ import annotations

import argparse

from toipkit.i18n import _


def _build(args: argparse.Namespace) -> int:
    from toipkit.course import build

    changed = build(args.root, only=args.labs or None)
    for path in changed:
        print(_("écrit : {path}").format(path=path))
    print(_("{n} notebook(s) modifié(s)").format(n=len(changed)))
    return 0


def _check(args: argparse.Namespace) -> int:
    from toipkit.course import check

    problems = check(args.root)
    for problem in problems:
        print(problem)
    if problems:
        print(_("{n} problème(s)").format(n=len(problems)))
        return 1
    print(_("notebooks du cours OK"))
    return 0


def _execute(args: argparse.Namespace) -> int:
    import tempfile
    from pathlib import Path

    from toipkit.course import execute

    # Same isolation as the notebook tests: a fresh state folder shared by the notebooks run
    # together, so lab 04 sees the users lab 02 created.
    with tempfile.TemporaryDirectory(prefix="toipkit-home-") as home:
        env = {"TOIPKIT_HOME": home}
        try:
            for notebook in args.notebooks:
                print(_("exécution de {notebook} ...").format(notebook=notebook), flush=True)
                # Outputs show the default state folder, as on a student's machine.
                execute(notebook, timeout=args.timeout, env=env,
                        shown_paths={str(Path(home).resolve()): "~/.toipkit", home: "~/.toipkit"})
        finally:  # also when a notebook fails: its sandbox (and lab network) must not linger
            _stop_sandbox(home)
    return 0


def _stop_sandbox(home: str) -> None:
    """A sandbox started by the notebooks must not outlive its temporary state folder."""
    try:
        from pathlib import Path

        from toipkit.xivo import sandbox
    except ImportError:
        return
    try:
        sandbox.stop(Path(home) / "sandbox")
    except Exception:  # best effort: the folder is going away anyway
        pass


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("course", help=_("construire et vérifier les notebooks du cours"))
    parser.add_argument("--root", default=None, help=_("racine du dépôt (par défaut : cette copie)"))
    commands = parser.add_subparsers(dest="course_command", metavar="ACTION", required=True)
    build = commands.add_parser("build", help=_("écrire labs/ depuis solutions/ (versions étudiant)"))
    build.add_argument("labs", nargs="*", metavar="LAB",
                       help=_("numéros de TP ou noms de notebooks à construire (par défaut : "
                              "tous)"))
    build.set_defaults(handler=_build)
    check = commands.add_parser("check", help=_("vérifier les conventions des notebooks et la synchronisation de labs/"))
    check.set_defaults(handler=_check)
    run = commands.add_parser("execute", help=_("exécuter les notebooks de solutions sur place pour enregistrer leurs "
                                      "sorties"))
    run.add_argument("notebooks", nargs="+", help=_("notebooks, exécutés dans l'ordre donné"))
    run.add_argument("--timeout", type=int, default=600, help=_("délai par cellule en secondes"))
    run.set_defaults(handler=_execute)
    from toipkit.course.link import register as register_link

    register_link(commands)
