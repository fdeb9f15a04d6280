"""Maintain the message catalogue (needs Babel, a ``dev`` dependency).

    python -m toipkit.i18n update    # add the code's new texts to en/toipkit.po, mark gone ones
    python -m toipkit.i18n compile   # en/toipkit.po -> en/toipkit.mo (commit both)
    python -m toipkit.i18n check     # exit 1 when a text lacks a translation or the .mo is stale

Workflow after changing a French text in the code: ``update``, translate the new empty entries of
the ``.po`` file, ``compile``.
"""

from __future__ import annotations

import sys

from toipkit.i18n.catalogue import check, compile_catalogue, update


def main(argv: list[str]) -> int:
    command = argv[0] if argv else ""
    if command == "update":
        added, obsolete = update()
        print(f"{len(added)} new text(s) to translate, {len(obsolete)} removed")
        return 0
    if command == "compile":
        compile_catalogue()
        return 0
    if command == "check":
        problems = check()
        for problem in problems:
            print(problem)
        return 1 if problems else 0
    print(__doc__.strip(), file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
