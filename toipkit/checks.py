"""Exercise verdicts for the lab notebooks.

A check cell calls one of the ``check*`` functions. Two things happen:

* the student sees a short French verdict (✅ / ❌ and what to look at) — the expected value is
  never shown unless ``reveal=True``;
* a machine-readable record is emitted as a display output with the MIME type
  :data:`MIME_TYPE`. Grading reads those records back from the executed notebook with
  :func:`collect` (plain nbformat, no kernel needed).

A record holds: lab, student, exercise id, passed, points earned / possible and the hint
(no timestamp, so re-running a notebook gives identical outputs). It never holds the expected value.

Two generations of check cells live here:

* :func:`verify` (current): the cell **exports the student's answer as plain data** (JSON:
  numbers, text, lists, sets, dicts, DataFrames as rows; anything else is a wrong type) in a
  record of MIME type :data:`ANSWER_MIME_TYPE`, then gives a self-check verdict that reveals
  nothing: a salted digest of the expected value (``sealed=``, written into the student copy by
  ``toipkit course build``) or a public property (``test=``). The official rules, with the
  expected values, live next to the solutions (``solutions/checks/labNN.py``: :class:`Equal`,
  :class:`Close`, :class:`SameSet`, :class:`Judge`) and are applied by the grader **in its own
  process** to the exported data; no official check code runs in the student's kernel.
* ``check``/``check_close``/``check_set``/``check_true`` (older cells): judged in the kernel, kept
  for notebooks that still use them.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from toipkit.errors import CourseError
from toipkit.i18n import N_, _

MIME_TYPE = "application/vnd.toipkit.check+json"
ANSWER_MIME_TYPE = "application/vnd.toipkit.answer+json"

_session: dict[str, str] = {"lab": "", "student": ""}
# State of this kernel's run: the last cell that ran before a check, and the latest self-check
# verdict of each exercise (for the summary cell).
_run: dict[str, Any] = {"last_error": "", "hook": None, "verdicts": {}}


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
        score = f"{_fmt_points(self.points)}/{_fmt_points(self.max_points)}"
        if self.passed:
            return "✅ " + _("{exercise} : réussi ({score})").format(exercise=self.exercise,
                                                                   score=score)
        text = "❌ " + _("{exercise} : pas encore ({score})").format(exercise=self.exercise,
                                                                   score=score)
        if self.error:
            text += f"\n   {self.error}"
        if self.message:
            text += "\n   " + _("Indice : {hint}").format(hint=self.message)
        return text

    def _ipython_display_(self) -> None:
        """Nothing: the verdict was shown when the check ran; echoing it would show it twice."""


def _fmt_points(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def start(lab: str, student: str = "") -> None:
    """Declare which lab this notebook is and who works on it (called right after ``parameters``).

    In a kernel, also follows which cell ran last, so that a check after a failed exercise cell
    says so instead of judging a value left over from an earlier run.
    """
    _session["lab"] = str(lab)
    _session["student"] = str(student or "")
    _run["verdicts"] = {}
    _run["last_error"] = ""
    _watch_cells()


def _watch_cells() -> None:
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency
        return
    shell = get_ipython()
    if shell is None:
        return
    if _run["hook"] is not None:
        try:
            shell.events.unregister("post_run_cell", _run["hook"])
        except ValueError:
            pass

    def remember(result) -> None:
        error = result.error_in_exec or result.error_before_exec
        _run["last_error"] = type(error).__name__ if error is not None else ""

    shell.events.register("post_run_cell", remember)
    _run["hook"] = remember


def _emit(result: CheckResult, answer: dict[str, Any] | None = None) -> CheckResult:
    """Show the verdict and attach the record(s) as one display output (print outside Jupyter)."""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # pragma: no cover - IPython is a dependency
        print(result.verdict_text())
        return result
    if get_ipython() is None:
        print(result.verdict_text())
        return result
    bundle = {MIME_TYPE: result.to_dict(), "text/plain": result.verdict_text()}
    if answer is not None:
        bundle[ANSWER_MIME_TYPE] = answer
    display(bundle, raw=True)
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
        return _("La valeur est None : la cellule de l'exercice a-t-elle bien été complétée et "
                 "exécutée ?")
    if type(value) is not type(expected) and not (
        isinstance(value, (int, float)) and isinstance(expected, (int, float))
    ):
        return _("Type attendu : {expected}, type obtenu : {got}.").format(
            expected=type(expected).__name__, got=type(value).__name__)
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
        passed, error = False, _("Comparaison impossible : {error}").format(error=exc)
    else:
        error = "" if passed else _shape_hint(value, expected)
    if not passed and reveal:
        error = (error + " " if error else "") + _("Valeur attendue : {expected}.").format(
            expected=repr(expected))
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
                       _("Un nombre est attendu, obtenu : {got}.").format(got=type(value).__name__))
    passed = math.isfinite(number) and math.isclose(number, expected, abs_tol=tol, rel_tol=rel)
    error = ""
    if not passed and reveal:
        error = _("Valeur attendue : {expected} (tolérance {tol}).").format(
            expected=repr(expected), tol=f"{tol:g}")
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
        return _record(exercise_id, False, points, message,
                       _("Une collection est attendue ({error}).").format(error=exc))
    passed = got == want
    error = ""
    if not passed:
        missing, extra = len(want - got), len(got - want)
        error = _missing_extra(missing, extra)
        if reveal:
            error += " " + _("Attendu : {expected}.").format(expected=sorted(map(str, want)))
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
        passed, error = False, _("Erreur pendant la vérification : {error}").format(
            error=f"{type(exc).__name__}: {exc}")
    return _record(exercise_id, passed, points, message, error)


# --------------------------------------------------------------------------------------------
# Answers as plain data (verify) and the rules that judge them


MAX_ANSWER_BYTES = 512 * 1024
_MAX_DEPTH = 16
SEAL_VERSION = "v1"
SEAL_ROUNDS = 20_000  # PBKDF2 rounds: a self-check costs ~10 ms, guessing costs that per guess


# Type name given for an answer nested too deeply (a French source text, translated when shown).
NESTED = N_("trop imbriqué")


class NotPlain(Exception):
    """A value that cannot be exported as plain data (its type is named in French feedback)."""

    def __init__(self, type_name: str, reason: str = "") -> None:
        super().__init__(type_name)
        self.type_name = type_name
        self.reason = reason


def _numpy_item(value: Any) -> Any:
    """numpy scalars (numpy's own types only) as the Python number they hold."""
    kind = type(value)
    if kind.__module__ == "numpy" and hasattr(value, "item") and getattr(value, "ndim", None) == 0:
        return value.item()
    return value


def canonical(value: Any, _depth: int = 0) -> Any:
    """``value`` as JSON-safe plain data, or :class:`NotPlain`.

    Only exact built-in types are accepted (a subclass of ``int`` or ``str`` could redefine
    ``__eq__``); sets become ``{"$set": [...]}`` (sorted), dicts ``{"$dict": [[k, v], ...]}``,
    DataFrames ``{"$frame": {"columns": [...], "rows": [[...], ...]}}``; tuples and lists are lists.
    """
    if _depth > _MAX_DEPTH:
        raise NotPlain(NESTED)
    value = _numpy_item(value)
    kind = type(value)
    if value is None or kind in (bool, int, str):
        return value
    if kind is float:
        return value if math.isfinite(value) else {"$float": repr(value)}
    if kind in (list, tuple):
        return [canonical(item, _depth + 1) for item in value]
    if kind in (set, frozenset):
        items = [canonical(item, _depth + 1) for item in value]
        return {"$set": sorted(items, key=_sort_key)}
    if kind is dict:
        pairs = [[canonical(k, _depth + 1), canonical(v, _depth + 1)] for k, v in value.items()]
        return {"$dict": sorted(pairs, key=lambda pair: _sort_key(pair[0]))}
    module = kind.__module__ or ""
    if module.startswith("numpy") and kind.__name__ == "ndarray":
        return canonical(value.tolist(), _depth + 1)
    if module.startswith("pandas"):
        if kind.__name__ == "DataFrame":
            columns = [canonical(_numpy_item(c), _depth + 1) for c in value.columns]
            rows = [[canonical(_numpy_item(v), _depth + 2) for v in row]
                    for row in value.itertuples(index=False, name=None)]
            return {"$frame": {"columns": columns, "rows": rows}}
        if kind.__name__ in ("Series", "Index"):
            return [canonical(_numpy_item(v), _depth + 1) for v in value.tolist()]
    raise NotPlain(kind.__name__)


def _sort_key(item: Any) -> str:
    return json.dumps(_normal(item), sort_keys=True, ensure_ascii=False)


def _normal(value: Any) -> Any:
    """Canonical data with integral floats as ints (``64.0`` and ``64`` are the same answer)."""
    if type(value) is float and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if type(value) is list:
        return [_normal(v) for v in value]
    if type(value) is dict:
        if "$set" in value:
            return {"$set": sorted((_normal(v) for v in value["$set"]), key=_dump)}
        if "$dict" in value:
            return {"$dict": sorted(([_normal(k), _normal(v)] for k, v in value["$dict"]),
                                    key=lambda pair: _dump(pair[0]))}
        return {k: _normal(v) for k, v in value.items()}
    return value


def _dump(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def plain(value: Any) -> Any:
    """Canonical data back as ordinary Python values for judges: sets (of tuples for lists),
    dicts, lists; a DataFrame as a list of row dicts."""
    if type(value) is list:
        return [plain(v) for v in value]
    if type(value) is dict:
        if "$set" in value:
            return {_hashable(plain(v)) for v in value["$set"]}
        if "$dict" in value:
            return {_hashable(plain(k)): plain(v) for k, v in value["$dict"]}
        if "$frame" in value:
            columns = [str(c) for c in value["$frame"]["columns"]]
            return [dict(zip(columns, map(plain, row))) for row in value["$frame"]["rows"]]
        if "$float" in value:
            return float(value["$float"])
    return value


def _hashable(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    if isinstance(value, set):
        return frozenset(value)
    return value


def kind_code(value: Any) -> str:
    """The kind of a canonical value, as the French name sealed self-checks carry."""
    if value is None:
        return N_("rien (None)")
    if type(value) is bool:
        return N_("booléen (True/False)")
    if type(value) in (int, float):
        return N_("nombre")
    if type(value) is str:
        return N_("texte (str)")
    if type(value) is list:
        return N_("liste ou tuple")
    if type(value) is dict:
        for key, name in (("$set", N_("ensemble (set)")), ("$dict", N_("dictionnaire (dict)")),
                          ("$frame", N_("tableau (DataFrame)")), ("$float", N_("nombre"))):
            if key in value:
                return name
    return N_("valeur")


def kind_of(value: Any) -> str:
    """Name of a canonical value's kind, for feedback (in the student's language)."""
    return _(kind_code(value))


def _wrong_type(expected_kind: str, value: Any) -> str:
    return _("Type attendu : {expected} ; obtenu : {got}.").format(expected=_(expected_kind),
                                                                 got=kind_of(value))


def _missing_extra(missing: int, extra: int) -> str:
    return _("{missing} élément(s) manquant(s), {extra} élément(s) en trop.").format(
        missing=missing, extra=extra)


# Problems found in the kernel before any judging, as (code, French sentence).
def _problem_text(problem: str) -> str:
    code, _sep, detail = problem.partition(":")
    if code == "session":
        return _("Le noyau a redémarré (ou la cellule d'import n'a pas été exécutée) : exécutez "
                 "d'abord les cellules du haut du carnet, de la cellule parameters à la cellule "
                 "d'import, puis la cellule de l'exercice.")
    if code == "missing":
        return _("La variable {name} n'existe pas : complétez puis exécutez la cellule de "
                 "l'exercice avant cette vérification.").format(name=detail)
    if code == "cell-error" and detail == "NotImplementedError":
        return _("La cellule de l'exercice n'est pas encore complétée : remplacez « # À "
                 "COMPLÉTER » et la ligne raise NotImplementedError() par votre code, puis "
                 "exécutez-la.")
    if code == "cell-error":
        return _("La cellule exécutée juste avant s'est arrêtée sur une erreur ({error}) : "
                 "corrigez-la et exécutez-la de nouveau avant cette vérification.").format(
                     error=detail)
    if code == "type":
        return _("Type de réponse non reconnu ({type}) : la réponse doit être un nombre, un "
                 "texte, une liste, un ensemble, un dictionnaire ou un tableau pandas.").format(
                     type=_(NESTED) if detail == NESTED else detail)
    if code == "error":
        return _("Impossible de lire la réponse ({error}) : la cellule de l'exercice est-elle "
                 "complète ?").format(error=detail)
    if code == "size":
        return _("La réponse est trop volumineuse pour être vérifiée.")
    return _("Réponse illisible.")


def export_answer(source: Any) -> tuple[Any, str]:
    """(canonical value, problem code) of an answer given as a value or a zero-argument callable."""
    try:
        value = source() if callable(source) else source
    except NameError as exc:
        return None, f"missing:{getattr(exc, 'name', None) or '?'}"
    except Exception as exc:  # the student's objects may raise anything
        return None, f"error:{type(exc).__name__}"
    try:
        data = canonical(value)
    except NotPlain as exc:
        return None, f"type:{exc.type_name}"
    except RecursionError:
        return None, f"type:{NESTED}"
    except Exception as exc:  # a DataFrame of odd objects, a broken __iter__...
        return None, f"type:{type(exc).__name__}"
    if len(_dump(data)) > MAX_ANSWER_BYTES:
        return None, "size:"
    return data, ""


@dataclass
class Verdict:
    passed: bool
    error: str = ""  # one sentence (student's language), never the expected value


@dataclass
class Rule:
    """An official rule (lives next to the solutions, runs in the grader's process).

    ``points`` (keyword only) overrides the check cell's ``points=``.
    """

    points: float | None = field(default=None, kw_only=True)

    def judge(self, value: Any) -> Verdict:  # value: canonical data (already validated)
        raise NotImplementedError

    def seal(self, lab: str, exercise: str) -> str | None:
        """A self-check that does not reveal the expected value, or None (use ``test=``)."""
        return None


def _type_mismatch(value: Any, expected: Any) -> str:
    if kind_code(value) == kind_code(expected):
        return ""
    return _wrong_type(kind_code(expected), value)


@dataclass
class Equal(Rule):
    expected: Any = None

    def judge(self, value: Any) -> Verdict:
        want = _normal(canonical(self.expected))
        got = _normal(value)
        if got == want:
            return Verdict(True)
        return Verdict(False, _type_mismatch(got, want) or _shape_mismatch(got, want)
                       or _("Valeur incorrecte."))

    def seal(self, lab: str, exercise: str) -> str:
        want = _normal(canonical(self.expected))
        return _seal("eq", kind_code(want), _shape(want), lab, exercise, _dump(want))


def _shape(value: Any) -> str:
    return str(len(value)) if type(value) is list else ""


def _shape_mismatch(got: Any, want: Any) -> str:
    if type(got) is list and type(want) is list and len(got) != len(want):
        return _count_mismatch(len(want), len(got))
    return ""


def _count_mismatch(expected: int | str, got: int) -> str:
    return _("Nombre d'éléments attendu : {expected} ; obtenu : {got}.").format(
        expected=expected, got=got)


@dataclass
class Close(Rule):
    expected: float = 0.0
    tol: float = 1e-6

    def judge(self, value: Any) -> Verdict:
        if type(value) not in (int, float) or type(value) is bool:
            return Verdict(False, _wrong_type(N_("nombre"), value))
        if math.isclose(float(value), float(self.expected), abs_tol=self.tol, rel_tol=0.0):
            return Verdict(True)
        return Verdict(False, _("Valeur incorrecte."))

    def seal(self, lab: str, exercise: str) -> str:
        step = f"{self.tol:g}"
        return _seal("close", "nombre", step, lab, exercise,
                     str(round(float(self.expected) / self.tol)))


@dataclass
class SameSet(Rule):
    expected: Iterable[Any] = ()

    def _elements(self, value: Any) -> list[str] | None:
        if type(value) is list:
            items = value
        elif type(value) is dict and "$set" in value:
            items = value["$set"]
        else:
            return None
        return sorted({_dump(_normal(v)) for v in items})

    def judge(self, value: Any) -> Verdict:
        got = self._elements(value)
        if got is None:
            return Verdict(False, _wrong_type(N_("ensemble (set) ou liste"), value))
        want = self._elements(canonical(set(self.expected))) or []
        if got == want:
            return Verdict(True)
        missing, extra = len(set(want) - set(got)), len(set(got) - set(want))
        return Verdict(False, _missing_extra(missing, extra))

    def seal(self, lab: str, exercise: str) -> str:
        want = self._elements(canonical(set(self.expected)))
        return _seal("set", "ensemble (set)", "", lab, exercise, _dump(want))


@dataclass
class Judge(Rule):
    """A teacher function of the plain answer: ``fn(value) -> bool | (bool, hint)``.

    ``value`` is :func:`plain` data (sets, dicts, lists, rows). ``text_answer``: the answer is the
    text of a file (a dialplan...); ``toipkit course check`` then verifies that no student-visible
    data file passes this rule as it is.
    """

    fn: Callable[[Any], Any] | None = None
    text_answer: bool = field(default=False, kw_only=True)

    def judge(self, value: Any) -> Verdict:
        try:
            outcome = self.fn(plain(value)) if self.fn else False
        except Exception as exc:  # a malformed answer: the teacher's function may trip on it
            return Verdict(False, _unusable(exc))
        if isinstance(outcome, tuple):
            passed, hint = outcome
            return Verdict(bool(passed), "" if passed else str(hint))
        return Verdict(bool(outcome), "" if outcome else _("La réponse ne convient pas encore."))


def _unusable(exc: BaseException) -> str:
    return _("Réponse inexploitable ({error}).").format(error=type(exc).__name__)


def _salt(lab: str, exercise: str) -> str:
    return hashlib.sha256(f"toipkit:{lab}:{exercise}".encode()).hexdigest()[:16]


def _digest(salt: str, payload: str) -> str:
    return hashlib.pbkdf2_hmac("sha256", payload.encode(), salt.encode(), SEAL_ROUNDS).hex()[:32]


def _seal(mode: str, kind: str, extra: str, lab: str, exercise: str, payload: str) -> str:
    salt = _salt(lab, exercise)
    return "|".join([SEAL_VERSION, mode, kind, extra, salt, _digest(salt, payload)])


def _open_seal(sealed: str, value: Any) -> Verdict:
    """Self-check of canonical ``value`` against a sealed digest."""
    try:
        version, mode, kind, extra, salt, digest = sealed.split("|")
    except ValueError:
        return Verdict(False, _("Vérification locale indisponible (empreinte illisible)."))
    got = _normal(value)
    if mode == "close":
        if type(got) not in (int, float) or type(got) is bool:
            return Verdict(False, _wrong_type(N_("nombre"), got))
        step = float(extra)
        centre = round(float(got) / step)
        if any(_digest(salt, str(centre + d)) == digest for d in (0, -1, 1)):
            return Verdict(True)
        return Verdict(False, _("Valeur incorrecte."))
    if mode == "set":
        elements = SameSet()._elements(got)
        if elements is None:
            return Verdict(False, _wrong_type(N_("ensemble (set) ou liste"), got))
        if _digest(salt, _dump(elements)) == digest:
            return Verdict(True)
        return Verdict(False, _("L'ensemble n'est pas encore le bon (élément manquant ou en "
                                "trop)."))
    if _digest(salt, _dump(got)) == digest:
        return Verdict(True)
    if kind_code(got) != kind:
        return Verdict(False, _wrong_type(kind, got))
    if extra and type(got) is list and str(len(got)) != extra:
        return Verdict(False, _count_mismatch(extra, len(got)))
    return Verdict(False, _("Valeur incorrecte."))


def judge_record(rule: Rule, record: dict[str, Any]) -> Verdict:
    """The official verdict of an exported answer record (what the grader does)."""
    problem = str(record.get("problem") or "")
    if problem:
        return Verdict(False, _problem_text(problem))
    if "value" not in record:
        return Verdict(False, _("Réponse absente."))
    try:
        # Plain dicts and lists again (a notebook reader hands out dict subclasses).
        return rule.judge(json.loads(json.dumps(record["value"])))
    except Exception as exc:  # forged or damaged data must not stop the grading of a class
        return Verdict(False, _unusable(exc))


# Official rules of each lab, loaded from the teacher's side (solutions/checks/labNN.py).
RULES_FOLDER = "checks"


def rules_path(solutions: str | Path, lab: str) -> Path:
    return Path(solutions) / RULES_FOLDER / f"lab{lab}.py"


def load_rules(solutions: str | Path, lab: str) -> dict[str, Rule]:
    """``RULES`` of ``solutions/checks/labNN.py`` (empty when the lab has no such file)."""
    import importlib.util

    path = rules_path(solutions, lab)
    if not path.is_file():
        return {}
    spec = importlib.util.spec_from_file_location(f"_toipkit_rules_{lab}", path)
    if spec is None or spec.loader is None:
        raise CourseError(f"{path}: cannot load the rules")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise CourseError(f"{path}: {type(exc).__name__}: {exc}") from None
    rules = getattr(module, "RULES", None)
    if not isinstance(rules, dict) or not all(isinstance(r, Rule) for r in rules.values()):
        raise CourseError(f"{path}: RULES must be a dict of exercise id -> Equal/Close/SameSet/Judge")
    return rules


def _teacher_rule(exercise_id: str) -> Rule | None:
    """In a teacher's solution notebook only: the official rule, to show a real verdict."""
    if os.environ.get("TOIPKIT_GRADING") or not _session["lab"]:
        return None
    from toipkit.paths import repo_root

    folder = os.environ.get("TOIPKIT_SOLUTIONS") or str(repo_root() / "solutions")
    try:
        return load_rules(folder, _session["lab"]).get(exercise_id)
    except (CourseError, OSError):
        return None


def verify(
    exercise_id: str,
    answer: Any,
    *,
    points: float = 1,
    message: str = "",
    sealed: str | None = None,
    test: Callable[[Any], Any] | None = None,
) -> CheckResult:
    """Export the answer of ``exercise_id`` as plain data and give a self-check verdict.

    ``answer``: a zero-argument callable (``lambda: debit_kbps``) so that a missing variable is
    reported in French, or a value. ``sealed``: the salted digest written by ``toipkit course
    build``; ``test``: a public property of the plain answer (``fn(value) -> bool | (bool,
    hint)``). Without either, in a teacher's checkout, the official rule judges (solutions).
    The verdict shown here is a self-check: grading judges the exported answer in its own process.
    """
    if not exercise_id or not isinstance(exercise_id, str):
        raise CourseError("a check needs an exercise id such as '00-nom'")
    if not _session["lab"]:
        data, problem = None, "session:"
    elif _run["last_error"]:
        data, problem = None, f"cell-error:{_run['last_error']}"
    else:
        data, problem = export_answer(answer)
    answer_record = {"lab": _session["lab"], "student": _session["student"],
                     "exercise": exercise_id, "value": data, "problem": problem}
    if problem:
        verdict = Verdict(False, _problem_text(problem))
    elif sealed:
        verdict = _open_seal(sealed, data)
    elif test is not None:
        verdict = Judge(fn=test).judge(data)
    else:
        rule = _teacher_rule(exercise_id)
        verdict = (judge_record(rule, answer_record) if rule is not None
                   else Verdict(False, _("Réponse enregistrée : elle sera vérifiée à la "
                                         "correction.")))
    result = CheckResult(
        exercise=exercise_id, passed=verdict.passed,
        points=float(points) if verdict.passed else 0.0, max_points=float(points),
        lab=_session["lab"], student=_session["student"],
        message="" if verdict.passed else message, error=verdict.error)
    _run["verdicts"][exercise_id] = result
    return _emit(result, answer_record)


def summary(exercises: dict[str, float] | None = None) -> Any:
    """Score summary of this run's self-checks (last verdict of each exercise), in French.

    ``exercises`` (exercise id -> points, written into the student copy by ``toipkit course
    build``): the lab's exercises, so that those never checked in this run are listed too.
    """
    verdicts: dict[str, CheckResult] = dict(_run["verdicts"])
    for name, points in (exercises or {}).items():
        if name not in verdicts:
            verdicts[name] = CheckResult(name, passed=False, points=0.0, max_points=float(points))
    rows = []
    for r in verdicts.values():
        state = "✅" if r.passed else ("❌" if r.exercise in _run["verdicts"]
                                      else "⏳ " + _("non vérifié"))
        rows.append((r.exercise, state, _fmt_points(r.points), _fmt_points(r.max_points)))
    total = sum(r.points for r in verdicts.values())
    possible = sum(r.max_points for r in verdicts.values())
    left = [r.exercise for r in verdicts.values() if not r.passed]
    return Summary(rows, total, possible, left, bool(_session["lab"]))


@dataclass
class Summary:
    rows: list[tuple[str, str, str, str]]
    total: float
    possible: float
    left: list[str] = field(default_factory=list)
    started: bool = True

    def __str__(self) -> str:
        if not self.started:
            return _problem_text("session:")
        if not self.rows:
            return _("Aucune vérification exécutée pour l'instant.")
        lines = [f"{verdict} {name} : {got}/{of}" for name, verdict, got, of in self.rows]
        lines.append(self._total())
        lines.append(_("Reste à faire : {exercises}").format(
            exercises=", ".join(self.left) if self.left else _("rien, bravo !")))
        return "\n".join(lines)

    def _total(self) -> str:
        return _("Total (auto-vérification) : {score}").format(
            score=f"{_fmt_points(self.total)}/{_fmt_points(self.possible)}")

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        import html

        if not self.started or not self.rows:
            return f"<p>{html.escape(str(self))}</p>"
        body = "".join(f"<tr><td>{html.escape(n)}</td><td>{v}</td><td>{g}/{o}</td></tr>"
                       for n, v, g, o in self.rows)
        left = ", ".join(map(html.escape, self.left)) or html.escape(_("rien, bravo !"))
        head = "".join(f"<th>{html.escape(h)}</th>"
                       for h in (_("exercice"), _("état"), _("points")))
        todo = html.escape(_("reste à faire : {exercises}")).format(exercises=left)
        return (f'<table class="toipkit-summary"><thead><tr>{head}</tr></thead>'
                f"<tbody>{body}</tbody></table><p><b>{html.escape(self._total())}</b> — "
                f"{todo}</p>")


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
