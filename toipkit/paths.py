"""Where toipkit finds the course data and keeps its own state.

- ``data_dir()``: the sample captures, dialplans and CSVs shipped in the repository's ``data/``
  (override with ``TOIPKIT_DATA``).
- ``state_dir()``: writable state (sandbox database, TTS cache, logs): ``TOIPKIT_HOME`` or
  ``~/.toipkit``. Grading gives each submission its own ``TOIPKIT_HOME``.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def repo_root() -> Path:
    """The checkout this package runs from (the folder holding ``pyproject.toml``)."""
    return PACKAGE_DIR.parent


def data_dir() -> Path:
    env = os.environ.get("TOIPKIT_DATA")
    return Path(env).expanduser().resolve() if env else repo_root() / "data"


def data_path(*parts: str) -> Path:
    """Path of a file shipped in ``data/``, e.g. ``data_path("captures", "call-101-102.pcapng")``."""
    return data_dir().joinpath(*parts)


def state_dir(create: bool = True) -> Path:
    env = os.environ.get("TOIPKIT_HOME")
    path = Path(env).expanduser() if env else Path.home() / ".toipkit"
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path
