"""JupyterLab in French by default for the labs.

The French language pack (``jupyterlab-language-pack-fr-FR``, in the ``lab`` extra) only adds a
choice to the Settings > Language menu; this module makes French the default for every user of
a Python environment by writing JupyterLab's application-level ``overrides.json``
(``<prefix>/share/jupyter/lab/settings/``), merged with what is already there. A student can
still switch back in the menu (that goes to their own user settings).

    python -m toipkit.course.labsettings          # run by `make lab` and binder/postBuild
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from toipkit._fileio import atomic_write

TRANSLATION_PLUGIN = "@jupyterlab/translation-extension:plugin"
DEFAULT_LOCALE = "fr_FR"


def overrides_path(prefix: str | os.PathLike[str] | None = None) -> Path:
    return Path(prefix or sys.prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"


def set_default_locale(locale: str = DEFAULT_LOCALE,
                       prefix: str | os.PathLike[str] | None = None) -> Path:
    """Make ``locale`` JupyterLab's default display language in the environment at ``prefix``."""
    path = overrides_path(prefix)
    try:
        settings = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        settings = {}
    except ValueError as exc:
        raise SystemExit(f"{path}: not valid JSON ({exc}); fix or remove it") from None
    if not isinstance(settings, dict):
        raise SystemExit(f"{path}: expected a JSON object")
    plugin = settings.setdefault(TRANSLATION_PLUGIN, {})
    if plugin.get("locale") == locale:
        return path
    plugin["locale"] = locale
    return atomic_write(path, json.dumps(settings, indent=2, ensure_ascii=False) + "\n")


def french_pack_installed() -> bool:
    from importlib.metadata import PackageNotFoundError, version

    try:
        version("jupyterlab-language-pack-fr-FR")
    except PackageNotFoundError:
        return False
    return True


def main() -> int:
    path = set_default_locale()
    if not french_pack_installed():
        print("warning: jupyterlab-language-pack-fr-FR is not installed: JupyterLab stays in "
              "English (pip install -e '.[lab]')", file=sys.stderr)
    print(f"JupyterLab default language: {DEFAULT_LOCALE} ({path})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
