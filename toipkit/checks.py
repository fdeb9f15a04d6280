"""Exercise verdicts for the lab notebooks.

A check cell calls one of the ``check*`` functions. Two things happen:

* the student sees a short French verdict (✅ / ❌ and what to look at) — the expected value is
  never shown unless ``reveal=True``;
* a machine-readable record is emitted as a display output with the MIME type
  :data:`MIME_TYPE`. Grading reads those records back from the executed notebook with
  :func:`collect` (plain nbformat, no kernel needed).

A record holds: lab, student, exercise id, passed, points earned / possible and the hint
(no timestamp, so re-running a notebook gives identical outputs). It never holds the expected value.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from toipkit.errors import CourseError

MIME_TYPE = "application/vnd.toipkit.check+json"

_session: dict[str, str] = {"lab": "", "student": ""}


@dataclass
class CheckResult:
    exercise: str
    passed: bool
    points: float
    max_points: float
    lab: str = ""
    student: str = ""
    message: str = ""
    error: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def verdict_text(self) -> str:
        if self.passed:
            return f"✅ {self.exercise} : réussi ({_fmt_points(self.points)}/{_fmt_points(self.max_points)})"
        text = f"❌ {self.exercise} : pas encore ({_fmt_points(self.points)}/{_fmt_points(self.max_points)})"
        if self.error:
            text += f"\n   {self.error}"
        if self.message:
            text += f"\n   Indice : {self.message}"
        return text

    def _ipython_display_(self) -> None:
        """Nothing: the verdict was shown when the check ran; echoing it would show it twice."""


def _fmt_points(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def start(lab: str, student: str = "") -> None:
    """Declare which lab this notebook is and who works on it (called right after ``parameters``)."""
    _session["lab"] = str(lab)
    _session["student"] = str(student or "")


def _emit(result: CheckResult) -> CheckResult:
    """Show the verdict and attach the record as a display output (plain print outside Jupyter)."""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # pragma: no cover - IPython is a dependency
        print(result.verdict_text())
        return result
    if get_ipython() is None:
        print(result.verdict_text())
        return result
    display(
        {MIME_TYPE: result.to_dict(), "text/plain": result.verdict_text()},
        raw=True,
    )
    return result


def _record(exercise_id: str, passed: bool, points: float, message: str, error: str = "") -> CheckResult:
    if not exercise_id or not isinstance(exercise_id, str):
        raise CourseError("a check needs an exercise id such as '00-nom'")
    return _emit(
        CheckResult(
            exercise=exercise_id,
            passed=bool(passed),
            points=float(points) if passed else 0.0,
            max_points=float(points),
            lab=_session["lab"],
            student=_session["student"],
            message=message,
            error=error,
        )
    )


def _shape_hint(value: Any, expected: Any) -> str:
    """Say what kind of mistake it is without giving the answer away."""
    if value is None:
        return "La valeur est None : la cellule de l'exercice a-t-elle bien été complétée et exécutée ?"
    if type(value) is not type(expected) and not (
        isinstance(value, (int, float)) and isinstance(expected, (int, float))
    ):
        return (
            f"Type attendu : {type(expected).__name__}, type obtenu : {type(value).__name__}."
        )
    return ""


def check(
    exercise_id: str,
    value: Any,
    expected: Any = None,
    *,
    points: float = 1,
    message: str = "",
    reveal: bool = False,
) -> CheckResult:
    """Pass when ``value == expected``."""
    try:
        passed = bool(value == expected)
    except Exception as exc:  # comparing student objects may raise; that is a failed check
        passed, error = False, f"Comparaison impossible : {exc}"
    else:
        error = "" if passed else _shape_hint(value, expected)
    if not passed and reveal:
        error = (error + " " if error else "") + f"Valeur attendue : {expected!r}."
    return _record(exercise_id, passed, points, message, error)


def check_close(
    exercise_id: str,
    value: Any,
    expected: float,
    *,
    tol: float = 1e-6,
    rel: float = 0.0,
    points: float = 1,
    message: str = "",
    reveal: bool = False,
) -> CheckResult:
    """Pass when ``value`` is a number within ``tol`` (absolute) or ``rel`` (relative) of ``expected``."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return _record(exercise_id, False, points, message,
                       f"Un nombre est attendu, obtenu : {type(value).__name__}.")
    passed = math.isfinite(number) and math.isclose(number, expected, abs_tol=tol, rel_tol=rel)
    error = ""
    if not passed and reveal:
        error = f"Valeur attendue : {expected!r} (tolérance {tol:g})."
    return _record(exercise_id, passed, points, message, error)


def check_set(
    exercise_id: str,
    value: Iterable[Any],
    expected: Iterable[Any],
    *,
    points: float = 1,
    message: str = "",
    reveal: bool = False,
) -> CheckResult:
    """Pass when ``value`` holds the same elements as ``expected`` (order and repeats ignored)."""
    try:
        got, want = set(value), set(expected)
    except TypeError as exc:
        return _record(exercise_id, False, points, message, f"Une collection est attendue ({exc}).")
    passed = got == want
    error = ""
    if not passed:
        missing, extra = len(want - got), len(got - want)
        error = f"{missing} élément(s) manquant(s), {extra} élément(s) en trop."
        if reveal:
            error += f" Attendu : {sorted(map(str, want))}."
    return _record(exercise_id, passed, points, message, error)


def check_true(
    exercise_id: str,
    condition: bool | Callable[[], bool],
    *,
    points: float = 1,
    message: str = "",
) -> CheckResult:
    """Pass when ``condition`` (or ``condition()``) is true; an exception counts as a failure."""
    error = ""
    try:
        passed = bool(condition() if callable(condition) else condition)
    except Exception as exc:
        passed, error = False, f"Erreur pendant la vérification : {type(exc).__name__}: {exc}"
    return _record(exercise_id, passed, points, message, error)


# --------------------------------------------------------------------------------------------
# Reading results back


def results_from_notebook(nb: Any) -> list[dict[str, Any]]:
    """Every check record found in a notebook's outputs, in cell order."""
    records: list[dict[str, Any]] = []
    for index, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        for output in cell.get("outputs", []):
            data = output.get("data") or {}
            record = data.get(MIME_TYPE)
            if isinstance(record, dict):
                records.append({**record, "cell": index})
    return records


def collect(notebook_path: str | Path):
    """Check results of an executed notebook as a DataFrame (one row per check).

    Columns: lab, student, exercise, passed, points, max_points, message, error, cell.
    The student name comes from the record, or else from papermill's injected parameters.
    """
    import nbformat
    import pandas as pd

    path = Path(notebook_path)
    try:
        nb = nbformat.read(path, as_version=4)
    except FileNotFoundError:
        raise CourseError(f"{path}: notebook not found") from None
    except Exception as exc:
        raise CourseError(f"{path}: not a readable notebook ({exc})") from None
    records = results_from_notebook(nb)
    params = (nb.metadata.get("papermill") or {}).get("parameters") or {}
    lab_id = (nb.metadata.get("toipkit") or {}).get("lab", "")
    for record in records:
        if not record.get("student") and params.get("student"):
            record["student"] = str(params["student"])
        if not record.get("lab"):
            record["lab"] = lab_id
    columns = ["lab", "student", "exercise", "passed", "points", "max_points",
               "message", "error", "cell"]
    return pd.DataFrame.from_records(records, columns=columns)
