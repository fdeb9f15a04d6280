"""``toipkit course build|check|execute``."""

from __future__ import annotations

import argparse


def _build(args: argparse.Namespace) -> int:
    from toipkit.course import build

    changed = build(args.root, only=args.labs or None)
    for path in changed:
        print(f"wrote {path}")
    print(f"{len(changed)} notebook(s) changed")
    return 0


def _check(args: argparse.Namespace) -> int:
    from toipkit.course import check

    problems = check(args.root)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s)")
        return 1
    print("course notebooks OK")
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
                print(f"executing {notebook} ...", flush=True)
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
    parser = subparsers.add_parser("course", help="build and check the course notebooks")
    parser.add_argument("--root", default=None, help="repository root (default: this checkout)")
    commands = parser.add_subparsers(dest="course_command", metavar="ACTION", required=True)
    build = commands.add_parser("build", help="write labs/ from solutions/ (student versions)")
    build.add_argument("labs", nargs="*", metavar="LAB",
                       help="lab ids or notebook names to build (default: all)")
    build.set_defaults(handler=_build)
    check = commands.add_parser("check", help="verify notebook conventions and labs/ sync")
    check.set_defaults(handler=_check)
    run = commands.add_parser("execute", help="run solution notebooks in place to store outputs")
    run.add_argument("notebooks", nargs="+", help="notebooks, run in the given order")
    run.add_argument("--timeout", type=int, default=600, help="per-cell timeout in seconds")
    run.set_defaults(handler=_execute)
    from toipkit.course.link import register as register_link

    register_link(commands)
