"""Results of a grading run: per-exercise scores, grades CSV, student feedback, scrubbed notebooks."""

from __future__ import annotations

import csv
import html
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from toipkit.conventions import INJECTED_PARAMETERS_TAG
from toipkit.grading.labspec import GRADING_KEY

STATUSES = ("ok", "timeout", "memory", "error", "wrong-lab")
POSSIBLE_ROW = "points-possible"

STATUS_TEXT = {
    "ok": "Notebook exécuté jusqu'au bout.",
    "timeout": "Le temps limite a été atteint (boucle sans fin ?) : les exercices non atteints "
               "comptent 0.",
    "memory": "La limite de mémoire a été atteinte : les exercices non atteints comptent 0.",
    "error": "L'exécution du notebook n'a pas pu aller au bout : les exercices non atteints "
             "comptent 0.",
    "wrong-lab": "Ce notebook n'est pas celui de ce TP : rien n'a été exécuté.",
}


@dataclass
class ExerciseResult:
    exercise: str
    max_points: float
    points: float = 0.0
    passed: bool | None = None  # None: no verdict (check cell not reached or failed)
    hint: str = ""
    detail: str = ""
    forged: bool = False  # several answers in one official cell: student code added some

    def verdict(self) -> str:
        if self.passed is None:
            return "⚠️ non évalué"
        return "✅ réussi" if self.passed else "❌ pas encore"


@dataclass
class SubmissionResult:
    student: str
    source: str
    status: str
    note: str = ""
    exercises: list[ExerciseResult] = field(default_factory=list)
    error_cells: int = 0
    seconds: float = 0.0

    @property
    def total(self) -> float:
        return float(sum(e.points for e in self.exercises))

    @property
    def max_total(self) -> float:
        return float(sum(e.max_points for e in self.exercises))

    @property
    def percent(self) -> float:
        return round(100.0 * self.total / self.max_total, 2) if self.max_total else 0.0

    def to_dict(self) -> dict[str, Any]:
        row: dict[str, Any] = {"student": self.student}
        row.update({e.exercise: e.points for e in self.exercises})
        row.update(total=self.total, percent=self.percent, status=self.status, note=self.note)
        return row


def fmt(value: float) -> str:
    value = float(value)
    return str(int(value)) if value.is_integer() else f"{value:.4g}"


# ----------------------------------------------------------------------------------------------
# What a student may see of a check's error text

_SAFE_PREFIXES = ("Type attendu", "La valeur est None", "Un nombre est attendu")
_COUNTS = re.compile(r"^\d+ élément\(s\) manquant\(s\), \d+ élément\(s\) en trop\.?$")


def safe_detail(error: str) -> str:
    """Keep the parts of a check's error that cannot give the expected value away."""
    if not error:
        return ""
    kept = []
    for part in re.split(r"(?<=\.)\s+", error.strip()):
        part = part.strip()
        if part.startswith(_SAFE_PREFIXES) or _COUNTS.match(part):
            kept.append(part)
        elif part.startswith("Erreur pendant la vérification"):
            name = re.match(r"Erreur pendant la vérification : (\w+)", part)
            kept.append("Erreur pendant la vérification" + (f" ({name.group(1)})." if name else "."))
        elif part.startswith("Comparaison impossible"):
            kept.append("Comparaison impossible avec la valeur attendue.")
    return " ".join(kept)


# ----------------------------------------------------------------------------------------------
# Scores from an executed notebook


def score_notebook(nb: nbformat.NotebookNode | None, points: dict[str, float],
                   hints: dict[str, str] | None = None,
                   rules: dict | None = None) -> tuple[list[ExerciseResult], int]:
    """Per-exercise results from the official check cells of an executed notebook.

    ``hints``: the checks' messages, shown for exercises whose check gave no record.
    ``rules``: official rules (exercise id -> :class:`toipkit.checks.Rule`); those exercises are
    judged here, in the grader's process, from the plain answers the official cells exported.
    The kernel's own verdicts for them are ignored.

    Returns (results in the lab's exercise order, number of non-official cells with an error).
    """
    from toipkit.checks import ANSWER_MIME_TYPE, MIME_TYPE, judge_record

    rules = rules or {}
    results = {name: ExerciseResult(name, max_points=float(p)) for name, p in points.items()}
    error_cells = 0
    for cell in (nb.cells if nb is not None else []):
        if cell.get("cell_type") != "code":
            continue
        marker = cell.get("metadata", {}).get(GRADING_KEY) or {}
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if not marker.get("official") or not marker.get("exercises"):
            error_cells += bool(errors)
            continue
        seen = set()
        answers: dict[str, list[dict]] = {}
        for output in cell.get("outputs", []):
            answer = (output.get("data") or {}).get(ANSWER_MIME_TYPE)
            if isinstance(answer, dict) and answer.get("exercise") in rules:
                answers.setdefault(str(answer["exercise"]), []).append(answer)
        for name, found in answers.items():
            if name not in marker["exercises"] or name not in results:
                continue
            seen.add(name)
            result = results[name]
            if len(found) > 1:  # only student code can add a second answer to an official cell
                result.passed, result.points = False, 0.0
                result.detail = "Plusieurs réponses pour un même exercice : non évalué."
                result.hint = (hints or {}).get(name, "")
                result.forged = True
                continue
            verdict = judge_record(rules[name], found[0])
            result.passed = verdict.passed
            result.points = result.max_points if verdict.passed else 0.0
            result.hint = "" if verdict.passed else (hints or {}).get(name, "")
            result.detail = "" if verdict.passed else str(verdict.error or "")
        for output in cell.get("outputs", []):
            record = (output.get("data") or {}).get(MIME_TYPE)
            if not isinstance(record, dict):
                continue
            recorded = str(record.get("exercise"))
            if recorded in rules:
                continue  # judged from its answer above, never from the kernel's verdict
            if recorded not in marker["exercises"] or recorded not in results or recorded in seen:
                continue  # only the first record of an exercise this cell is known to check
            seen.add(recorded)
            result = results[recorded]
            result.passed = record.get("passed") is True
            result.points = result.max_points if result.passed else 0.0
            result.hint = "" if result.passed else str(record.get("message") or "")
            result.detail = "" if result.passed else safe_detail(str(record.get("error") or ""))
        for name in marker["exercises"]:
            if name in results and name not in seen:
                result = results[name]
                result.hint = (hints or {}).get(name, "")
                if errors:
                    ename = errors[0].get("ename", "Error")
                    result.detail = (f"La vérification a échoué ({ename}) : la cellule de "
                                     "l'exercice a-t-elle été complétée et exécutée ?")
                    if ename == "CellTimeoutError":
                        result.detail = "Temps limite atteint pendant la vérification."
                else:
                    result.detail = "Cellule de vérification non atteinte."
    return list(results.values()), error_cells


def error_names(nb: nbformat.NotebookNode | None) -> list[str]:
    names = []
    for cell in (nb.cells if nb is not None else []):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                names.append(str(output.get("ename", "")))
    return names


# ----------------------------------------------------------------------------------------------
# Scrubbing executed notebooks


def scrub_notebook(nb: nbformat.NotebookNode, replacements: dict[str, str]) -> nbformat.NotebookNode:
    """Drop papermill's injected parameters, timings and paths; hide the given strings."""
    nb.cells = [c for c in nb.cells
                if INJECTED_PARAMETERS_TAG not in c.get("metadata", {}).get("tags", [])]
    nb.metadata.pop("papermill", None)
    ordered = sorted(((k, v) for k, v in replacements.items() if k), key=lambda kv: -len(kv[0]))

    def clean(text: str) -> str:
        for secret, placeholder in ordered:
            text = text.replace(secret, placeholder)
        return text

    def walk(value: Any) -> Any:
        if isinstance(value, str):
            return clean(value)
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        return value

    for cell in nb.cells:
        for key in ("papermill", "execution"):
            cell.get("metadata", {}).pop(key, None)
        cell["source"] = clean(cell.get("source", ""))
        if cell.get("cell_type") == "code":
            cell["outputs"] = [nbformat.from_dict(walk(o)) for o in cell.get("outputs", [])]
    return nb


# ----------------------------------------------------------------------------------------------
# Files


def grades_csv(results: list[SubmissionResult], points: dict[str, float]) -> str:
    exercises = list(points)
    header = ["student", *exercises, "total", "percent", "status", "note"]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    total = sum(points.values())
    writer.writerow([POSSIBLE_ROW, *(fmt(points[e]) for e in exercises), fmt(total), "100", "", ""])
    for result in sorted(results, key=lambda r: r.student):
        by_name = {e.exercise: e for e in result.exercises}
        writer.writerow([
            result.student,
            *(fmt(by_name[e].points) if e in by_name else "0" for e in exercises),
            fmt(result.total), fmt(result.percent), result.status, result.note,
        ])
    return buffer.getvalue()


def feedback_markdown(result: SubmissionResult, lab_id: str) -> str:
    lines = [
        f"# TP {lab_id} — retour pour {result.student}",
        "",
        f"**Note : {fmt(result.total)} / {fmt(result.max_total)} ({fmt(result.percent)} %)**",
        "",
        f"Exécution : {STATUS_TEXT.get(result.status, result.status)}",
    ]
    if result.status == "wrong-lab" and result.note:
        lines.append(f"({result.note})")
    lines += ["", "| Exercice | Résultat | Points |", "|---|---|---|"]
    for e in result.exercises:
        lines.append(f"| {e.exercise} | {e.verdict()} | {fmt(e.points)} / {fmt(e.max_points)} |")
    comments = [e for e in result.exercises if e.passed and e.detail]  # hand-graded answers
    if comments:
        lines += ["", "## Commentaires de l'enseignant", ""]
        lines += [f"- {e.exercise} : {e.detail}" for e in comments]
    todo = [e for e in result.exercises if not e.passed]
    if todo:
        lines += ["", "## À revoir", ""]
        for e in todo:
            lines.append(f"### {e.exercise} — {e.verdict()}")
            lines.append("")
            if e.detail:
                lines.append(f"- {e.detail}")
            if e.hint:
                lines.append(f"- Indice : {e.hint}")
            if not e.detail and not e.hint:
                lines.append("- Relisez l'énoncé de l'exercice.")
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def feedback_html(result: SubmissionResult, lab_id: str) -> str:
    esc = html.escape
    rows = "\n".join(
        f"<tr class=\"{'ok' if e.passed else 'ko'}\"><td>{esc(e.exercise)}</td>"
        f"<td>{esc(e.verdict())}</td><td>{fmt(e.points)} / {fmt(e.max_points)}</td></tr>"
        for e in result.exercises
    )
    items = []
    for e in result.exercises:
        if e.passed and e.detail:  # a hand-graded answer's comment
            items.append(f"<h3>{esc(e.exercise)} — {esc(e.verdict())}</h3><ul><li>"
                         f"{esc(e.detail)}</li></ul>")
        if e.passed:
            continue
        parts = []
        if e.detail:
            parts.append(f"<li>{esc(e.detail)}</li>")
        if e.hint:
            parts.append(f"<li>Indice : {esc(e.hint)}</li>")
        if not parts:
            parts.append("<li>Relisez l'énoncé de l'exercice.</li>")
        items.append(f"<h3>{esc(e.exercise)} — {esc(e.verdict())}</h3><ul>{''.join(parts)}</ul>")
    status = esc(STATUS_TEXT.get(result.status, result.status))
    if result.status == "wrong-lab" and result.note:
        status += f" ({esc(result.note)})"
    todo = ("<h2>À revoir</h2>" + "\n".join(items)) if items else ""
    return f"""<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8">
<title>TP {esc(lab_id)} — {esc(result.student)}</title>
<style>body{{font-family:sans-serif;max-width:50em;margin:2em auto}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:.3em .6em}}
tr.ok td:nth-child(2){{color:#11772d}}tr.ko td:nth-child(2){{color:#b3261e}}</style>
</head><body>
<h1>TP {esc(lab_id)} — retour pour {esc(result.student)}</h1>
<p><strong>Note : {fmt(result.total)} / {fmt(result.max_total)} ({fmt(result.percent)} %)</strong></p>
<p>Exécution : {status}</p>
<table><tr><th>Exercice</th><th>Résultat</th><th>Points</th></tr>
{rows}
</table>
{todo}
</body></html>
"""


def write_text(path: Path, text: str) -> None:
    """Write through a temporary file and ``os.replace``: never a half-written report."""
    import os
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
