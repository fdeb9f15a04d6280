"""``grading.yaml``: the instructor's settings for one grading run.

Example::

    lab: "03"                 # optional; --lab wins
    parameters:               # injected into every submission (papermill parameters)
      xivo_url: null
    files:                    # hidden input files: copied into each submission's folder, the
      capture: hidden/exam.pcapng   # parameter receives the copy's path (relative to this file)
    points:                   # override the points of some exercises
      03-codec: 2
    timeout_cell: 60          # seconds per cell
    timeout: 600              # seconds for the whole notebook
    memory_mb: 2048           # address-space limit of the kernel
    workers: 4
    env: [MY_LICENCE_SERVER]  # extra environment variables passed to the kernel
    network: false            # true: student code may reach other hosts (e.g. a real XiVO)

The injected values are scrubbed from the executed notebooks kept for the instructor, and the
original files stay unreadable to the students' code where the OS allows (see ``isolation``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toipkit.errors import GradingError

KNOWN_KEYS = {"lab", "parameters", "files", "points", "timeout_cell", "timeout", "memory_mb",
              "workers", "env", "network"}
RESERVED_PARAMETERS = {"student", "interactive"}


@dataclass
class GradingConfig:
    lab: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)
    points: dict[str, float] = field(default_factory=dict)
    timeout_cell: float | None = None
    timeout: float | None = None
    memory_mb: int | None = None
    workers: int | None = None
    env: list[str] = field(default_factory=list)
    network: bool = False
    path: Path | None = None

    @classmethod
    def load(cls, path: str | Path) -> GradingConfig:
        import yaml

        path = Path(path)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except FileNotFoundError:
            raise GradingError(f"{path}: grading parameters file not found") from None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"{path}:{mark.line + 1}" if mark else str(path)
            raise GradingError(f"{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
        return cls.from_dict(data, path)

    @classmethod
    def from_dict(cls, data: dict[str, Any], path: Path | None = None) -> GradingConfig:
        where = str(path or "grading parameters")
        if not isinstance(data, dict):
            raise GradingError(f"{where}: expected a mapping at the top level")
        unknown = sorted(set(data) - KNOWN_KEYS)
        if unknown:
            raise GradingError(f"{where}: unknown key(s) {', '.join(unknown)} "
                               f"(known: {', '.join(sorted(KNOWN_KEYS))})")
        base = path.parent if path else Path.cwd()
        for key in ("parameters", "files", "points"):
            if not isinstance(data.get(key) or {}, dict):
                raise GradingError(f"{where}: '{key}' must be a mapping")
        parameters = dict(data.get("parameters") or {})
        files = {}
        for name, value in (data.get("files") or {}).items():
            file = Path(str(value)).expanduser()
            file = file if file.is_absolute() else base / file
            if not file.exists():
                raise GradingError(f"{where}: files.{name}: {file} does not exist")
            files[str(name)] = file.resolve()
        clash = sorted((set(parameters) | set(files)) & RESERVED_PARAMETERS)
        if clash:
            raise GradingError(f"{where}: {', '.join(clash)} is set by the grader, not by grading.yaml")
        points = {}
        for name, value in (data.get("points") or {}).items():
            try:
                points[str(name)] = float(value)
            except (TypeError, ValueError):
                raise GradingError(f"{where}: points.{name}: {value!r} is not a number") from None
        env = data.get("env") or []
        if not isinstance(env, list) or not all(isinstance(e, str) for e in env):
            raise GradingError(f"{where}: 'env' must be a list of variable names")
        lab = data.get("lab")
        return cls(
            lab=str(lab) if lab is not None else None,
            parameters=parameters,
            files=files,
            points=points,
            timeout_cell=_number(data, "timeout_cell", where),
            timeout=_number(data, "timeout", where),
            memory_mb=_int(data, "memory_mb", where),
            workers=_int(data, "workers", where),
            env=list(env),
            network=bool(data.get("network", False)),
            path=path.resolve() if path else None,
        )


def _number(data: dict, key: str, where: str) -> float | None:
    value = data.get(key)
    if value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise GradingError(f"{where}: {key}: {value!r} is not a number") from None


def _int(data: dict, key: str, where: str) -> int | None:
    value = _number(data, key, where)
    return int(value) if value is not None else None
