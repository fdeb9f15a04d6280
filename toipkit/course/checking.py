"""Convention checks for course notebooks (``toipkit course check``).

Rules, each reported with the notebook and cell:
- ``parameters``: the first code cell is tagged ``parameters`` and sets no secret;
- ``kernelspec``: the kernelspec is ``python3``;
- ``lab-id``: notebook metadata ``toipkit.lab`` equals the file's NN prefix;
- ``markers``: solution markers are balanced (solutions) / absent (labs);
- ``sync``: ``labs/`` is exactly what ``toipkit course build`` would write;
- ``secret``: no output shows something that looks like a password or a token;
- ``answer-leak``: no student lab holds an expected value — neither an older-style check with its
  expected argument (``checks.check(id, value, expected)``) nor a literal equal to the expected
  value of an official rule (``solutions/checks/labNN.py``: a composite value in any code cell,
  any value in a check cell) — and no student-visible data file passes a rule whose answer
  is a file's text (``Judge(..., text_answer=True)``).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from toipkit.conventions import CHECK_TAG, PARAMETERS_TAG, SOLUTION_BEGIN, SOLUTION_END, has_tag
from toipkit.course.build import expected_labs
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
    import nbformat

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
        if not has_tag(first, PARAMETERS_TAG):
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
        begins = sum(line.strip().startswith(SOLUTION_BEGIN) for line in cell.source.splitlines())
        ends = sum(line.strip().startswith(SOLUTION_END) for line in cell.source.splitlines())
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
    problems += check_answers(solutions, labs, _student_data(base))
    return problems


def _student_data(base: Path | None) -> Path:
    from toipkit.paths import data_dir

    return base / "data" if base is not None else data_dir()


# ----------------------------------------------------------------------------------------------
# Expected values in what students see

OLD_STYLE_EXPECTED = {"check": 2, "check_close": 2, "check_set": 2}  # index of ``expected``
TEXT_SUFFIXES = {".conf", ".txt", ".csv", ".json", ".md", ".yaml", ".yml", ".py", ""}


def _literals(source: str) -> list[object]:
    """Every literal (constants, and tuples/lists/sets/dicts made only of literals) of a cell."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Constant, ast.Tuple, ast.List, ast.Set, ast.Dict)):
            try:
                found.append(ast.literal_eval(node))
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                continue
    return found


def _old_style_expected(source: str) -> list[str]:
    """Exercise ids of ``checks.check*(id, value, expected, ...)`` calls in a cell."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    ids: list[str] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        position = OLD_STYLE_EXPECTED.get(name)
        if position is None:
            continue
        if len(node.args) > position or any(k.arg == "expected" for k in node.keywords):
            first = node.args[0] if node.args else None
            ids.append(str(first.value) if isinstance(first, ast.Constant) else "?")
    return ids


def _same_answer(literal: object, expected: object) -> bool:
    from toipkit.checks import NotPlain, _normal, canonical

    try:
        return _normal(canonical(literal)) == _normal(canonical(expected))
    except (NotPlain, RecursionError):
        return False


def find_answer_leaks(nb, rules: dict) -> list[tuple[int, str]]:
    """(cell index, message) for every expected value found in a student notebook."""
    from toipkit.checks import Close, Equal, SameSet

    expected = {}
    for exercise, rule in rules.items():
        if isinstance(rule, Equal):
            expected[exercise] = [rule.expected]
        elif isinstance(rule, Close):
            expected[exercise] = [rule.expected]
        elif isinstance(rule, SameSet):
            expected[exercise] = [set(rule.expected), sorted(rule.expected, key=repr),
                                  tuple(sorted(rule.expected, key=repr))]
    leaks = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        is_check = has_tag(cell, CHECK_TAG)
        for exercise in _old_style_expected(cell.source):
            leaks.append((index, f"check {exercise!r} passes its expected value to the kernel "
                                 "(use checks.verify and an official rule)"))
        literals = _literals(cell.source)
        for exercise, values in expected.items():
            for value in values:
                # Scalars are everywhere (7, "fr"): only check cells may not hold them at all.
                composite = isinstance(value, (tuple, list, set, dict))
                if not (is_check or composite):
                    continue
                if any(_same_answer(lit, value) for lit in literals if type(lit) is not bool):
                    leaks.append((index, f"holds the expected value of {exercise!r}"))
                    break
    return leaks


def find_passing_data_files(data: Path, rules: dict) -> list[tuple[str, str]]:
    """(file, exercise) for every student-visible data file that passes a text-answer rule."""
    from toipkit.checks import Judge

    text_rules = {name: rule for name, rule in rules.items()
                  if isinstance(rule, Judge) and rule.text_answer}
    found: list[tuple[str, str]] = []
    if not text_rules or not data.is_dir():
        return found
    for path in sorted(data.rglob("*")):
        if not path.is_file() or path.suffix not in TEXT_SUFFIXES:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        for name, rule in text_rules.items():
            if rule.judge(text).passed:
                found.append((str(path), name))
    return found


def check_answers(solutions: Path, labs: Path, data: Path) -> list[Problem]:
    """The ``answer-leak`` rule over the student labs and the student-visible data folder."""
    import nbformat

    from toipkit.checks import load_rules

    problems: list[Problem] = []
    all_rules: dict = {}
    for path in lab_notebooks(labs):
        lab = lab_id_of(path) or ""
        try:
            rules = load_rules(solutions, lab)
        except CourseError as exc:
            problems.append(Problem(str(path), "answer-leak", str(exc)))
            continue
        all_rules.update(rules)
        try:
            nb = nbformat.read(path, as_version=4)
        except Exception:
            continue  # reported by the 'readable' rule
        for index, message in find_answer_leaks(nb, rules):
            problems.append(Problem(str(path), "answer-leak", message, index))
    for file, exercise in find_passing_data_files(data, all_rules):
        problems.append(Problem(file, "answer-leak",
                                f"this student-visible file passes exercise {exercise!r} as it is "
                                "(teacher data belongs next to the solutions)"))
    return problems
