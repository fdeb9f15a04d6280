"""Convention checks for course notebooks (``toipkit course check``).

Rules, each reported with the notebook and cell:
- ``parameters``: the first code cell is tagged ``parameters`` and sets no secret;
- ``kernelspec``: the kernelspec is ``python3``;
- ``lab-id``: notebook metadata ``toipkit.lab`` equals the file's NN prefix;
- ``markers``: solution markers are balanced (solutions) / absent (labs);
- ``sync``: ``labs/`` is exactly what ``toipkit course build`` would write;
- ``secret``: no output shows something that looks like a password or a token.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

from toipkit.course.build import BEGIN, END, expected_labs
from toipkit.course.layout import lab_id_of, lab_notebooks, labs_dir, solutions_dir
from toipkit.errors import CourseError


@dataclass(frozen=True)
class Problem:
    path: str
    rule: str
    message: str
    cell: int | None = None

    def __str__(self) -> str:
        where = self.path if self.cell is None else f"{self.path} (cell {self.cell})"
        return f"{where}: [{self.rule}] {self.message}"


SECRET_NAME = r"(?:password|passwd|pass|secret|token|api[_-]?key)"
# `password = "hunter2"`, `"password": "hunter2"`, `X-Auth-Token: 0b0c...`; masked values (***) pass.
SECRET_VALUE_PATTERNS = [
    re.compile(
        rf"""(?ix)\b(?:[\w-]*[_-])?{SECRET_NAME}\b['"]?\s*[:=]\s*['"]?(?!\*)(?!None\b)(?!null\b)"""
        rf"""(?!['"])(?P<value>[^\s'",}}\]]{{4,}})"""
    ),
    re.compile(r"(?i)x-auth-token['\"]?\s*[:=]\s*['\"]?(?P<value>[0-9a-f-]{16,})"),
]
# Parameters may not carry secrets at all, even empty ones: they end up in papermill's metadata.
SECRET_PARAMETER = re.compile(rf"(?im)^\s*\w*{SECRET_NAME}\w*\s*=")


def _output_texts(cell) -> list[str]:
    texts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            texts.append(output.get("text", ""))
        elif output.get("output_type") == "error":
            texts.append("\n".join(output.get("traceback", [])))
        for mime, value in (output.get("data") or {}).items():
            if mime.startswith("text/") or mime.endswith("json"):
                texts.append(value if isinstance(value, str) else str(value))
    return texts


def find_secrets(nb) -> list[tuple[int, str]]:
    """(cell index, masked excerpt) for every output that looks like it shows a secret."""
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for text in _output_texts(cell):
            for pattern in SECRET_VALUE_PATTERNS:
                for match in pattern.finditer(text):
                    value = match.group("value")
                    excerpt = match.group(0).replace(value, value[:2] + "…")
                    found.append((index, excerpt))
    return found


def check_notebook(path: Path, is_solution: bool) -> list[Problem]:
    shown = str(path)
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as exc:
        return [Problem(shown, "readable", f"cannot read the notebook: {exc}")]
    problems: list[Problem] = []
    code_cells = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    if not code_cells:
        problems.append(Problem(shown, "parameters", "no code cell at all"))
    else:
        index, first = code_cells[0]
        if "parameters" not in first.metadata.get("tags", []):
            problems.append(Problem(shown, "parameters",
                                    "the first code cell must be tagged 'parameters'", index))
        elif SECRET_PARAMETER.search(first.source):
            problems.append(Problem(shown, "parameters",
                                    "secrets are never parameters: read them from the environment",
                                    index))
    kernel = (nb.metadata.get("kernelspec") or {}).get("name")
    if kernel != "python3":
        problems.append(Problem(shown, "kernelspec", f"kernelspec must be python3, not {kernel!r}"))
    lab = (nb.metadata.get("toipkit") or {}).get("lab")
    if lab != lab_id_of(path):
        problems.append(Problem(shown, "lab-id",
                                f"metadata toipkit.lab is {lab!r}, the file name says {lab_id_of(path)!r}"))
    for index, cell in enumerate(nb.cells):
        begins = sum(line.strip().startswith(BEGIN) for line in cell.source.splitlines())
        ends = sum(line.strip().startswith(END) for line in cell.source.splitlines())
        if is_solution and begins != ends:
            problems.append(Problem(shown, "markers", "unbalanced solution markers", index))
        if not is_solution and (begins or ends):
            problems.append(Problem(shown, "markers", "student notebook contains solution markers", index))
    for index, excerpt in find_secrets(nb):
        problems.append(Problem(shown, "secret", f"output looks like a secret: {excerpt}", index))
    return problems


def check(root: str | Path | None = None) -> list[Problem]:
    """Every convention problem of ``solutions/`` and ``labs/`` (empty list = all good)."""
    base = Path(root) if root else None
    solutions, labs = solutions_dir(base), labs_dir(base)
    problems: list[Problem] = []
    sources = lab_notebooks(solutions)
    if not sources:
        problems.append(Problem(str(solutions), "sync", "no solution notebooks found"))
    for path in sources:
        problems += check_notebook(path, is_solution=True)
    for path in lab_notebooks(labs):
        problems += check_notebook(path, is_solution=False)
    try:
        wanted = expected_labs(solutions)
    except CourseError as exc:
        problems.append(Problem(str(solutions), "markers", str(exc)))
        return problems
    present = {p.name: p for p in lab_notebooks(labs)}
    for name, text in wanted.items():
        if name not in present:
            problems.append(Problem(str(labs / name), "sync",
                                    "missing: run `toipkit course build`"))
        elif present[name].read_text(encoding="utf-8") != text:
            problems.append(Problem(str(present[name]), "sync",
                                    "out of date with solutions/: run `toipkit course build`"))
    for name, path in present.items():
        if name not in wanted:
            problems.append(Problem(str(path), "sync", "no matching notebook in solutions/"))
    return problems
