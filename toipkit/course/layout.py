"""Where the course notebooks live and how they are named."""

from __future__ import annotations

import re
from pathlib import Path

from toipkit.paths import repo_root

# NN-name.ipynb, NN two digits with an optional part letter (05a, 05b).
LAB_FILE = re.compile(r"^(?P<lab>\d\d[a-z]?)-[a-z0-9][a-z0-9-]*\.ipynb$")


def lab_id_of(path: str | Path) -> str | None:
    match = LAB_FILE.match(Path(path).name)
    return match.group("lab") if match else None


def solutions_dir(root: Path | None = None) -> Path:
    return (root or repo_root()) / "solutions"


def labs_dir(root: Path | None = None) -> Path:
    return (root or repo_root()) / "labs"


def lab_notebooks(folder: str | Path) -> list[Path]:
    """Course notebooks of a folder, in lab order (other .ipynb files are ignored)."""
    return sorted(p for p in Path(folder).glob("*.ipynb") if lab_id_of(p))
