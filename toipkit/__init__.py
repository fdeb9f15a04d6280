"""toipkit: IP telephony courseware on XiVO/Asterisk.

Subpackages mirror the labs: ``dialplan``, ``pcap``, ``xivo``, ``phone``, ``tts``, ``grading``,
plus ``course`` (notebook tooling), ``checks`` (exercise verdicts) and ``cli``.

``toipkit.__version__`` comes from the installed package's metadata (``pyproject.toml`` is the
only place the version is written); it is read on first use, since ``importlib.metadata`` costs
more than the rest of ``toipkit --help``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

__all__ = ["__version__"]


def _package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("toipkit")
    except PackageNotFoundError:
        pass
    # A source tree used without installing it (PYTHONPATH=...): read the project file.
    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    try:
        found = re.search(r'^version\s*=\s*"([^"]+)"', pyproject.read_text("utf-8"), re.M)
    except OSError:
        found = None
    return found.group(1) if found else "0+unknown"


def __getattr__(name: str) -> Any:
    if name == "__version__":
        value = _package_version()
        globals()["__version__"] = value  # computed once
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
