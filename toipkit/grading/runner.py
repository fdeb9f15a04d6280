"""``grade()``: find submissions, run each one fenced and in parallel, score, write the reports.

The pieces another executor needs: :func:`plan` (settings of a run), :func:`grade_one` (one
submission, in any thread or process that can reach a :class:`~toipkit.grading.pool.Slot`),
:func:`write_outputs` and :func:`write_sheets` (the reports). :func:`grade` chains them with the
thread pool of :mod:`toipkit.grading.pool`; submissions are found by
:mod:`toipkit.grading.discovery`, statuses decided by :mod:`toipkit.grading.status`.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from toipkit.errors import GradingError, ToipkitError
from toipkit.grading import isolation, manual, report
from toipkit.grading.config import GradingConfig
from toipkit.grading.discovery import Submission, copy_extras, find_submissions
from toipkit.grading.labspec import Lab, load_lab
from toipkit.grading.pool import Slot, WorkerServer, package_parent, run_all
from toipkit.grading.status import add_note, classify_status
from toipkit.grading.submission import prepare

__all__ = ["GradeReport", "Graded", "RunSettings", "Submission", "find_submissions", "grade",
           "grade_one", "plan", "write_outputs"]

DEFAULT_CELL_TIMEOUT = 60.0
DEFAULT_TIMEOUT = 600.0
DEFAULT_MEMORY_MB = 2048

log = logging.getLogger("toipkit.grading")


@dataclass
class GradeReport:
    """Outcome of :func:`grade`: one :class:`SubmissionResult` per student, in student order."""

    lab: str
    points: dict[str, float]
    results: list[report.SubmissionResult]
    out: Path | None = None
    seconds: float = 0.0
    isolation: list[str] = field(default_factory=list)

    def to_frame(self):
        import pandas as pd

        rows = [r.to_dict() for r in self.results]
        columns = ["student", *self.points, "total", "percent", "status", "note"]
        return pd.DataFrame.from_records(rows, columns=columns).set_index("student")

    def result(self, student: str) -> report.SubmissionResult:
        for r in self.results:
            if r.student == student:
                return r
        raise KeyError(student)

    def _repr_html_(self) -> str:
        return self.to_frame()._repr_html_()


# ----------------------------------------------------------------------------------------------
# One submission


@dataclass
class RunSettings:
    """Everything :func:`grade_one` needs besides the submission (made by :func:`plan`)."""

    lab: Lab
    config: GradingConfig
    points: dict[str, float]
    out: Path
    run_root: Path
    cell_timeout: float
    timeout: float
    memory_mb: int
    view: list[str]  # read-only paths of the kernel's sandbox (Python, venv, toipkit, data)
    isolate: bool  # False: --unsafe-no-isolation
    network: bool = False
    log: logging.Logger = log
    lab_id: str = ""
    questions: list[manual.Question] = field(default_factory=list)
    started: float = 0.0


def _stop_sandbox_server(toipkit_home: Path) -> None:
    """Stop a XiVO sandbox server a submission may have started (its state is per submission)."""
    if not toipkit_home.exists():
        return
    try:
        from toipkit.xivo import sandbox as xivo_sandbox  # written by the xivo domain
    except Exception:
        return
    stop = getattr(xivo_sandbox, "stop", None)
    if stop is None:
        return
    # The sandbox keeps its state (and server file) in state_dir()/sandbox by default.
    for data_dir in (toipkit_home / "sandbox",):
        if data_dir.exists():
            try:
                stop(data_dir)
            except Exception as exc:  # best effort: processes are killed anyway
                log.debug("sandbox stop %s: %s", data_dir, exc)


def _keep_work() -> bool:
    """TOIPKIT_GRADING_KEEP_WORK=1 keeps the per-submission folders (debugging the grader)."""
    return os.environ.get("TOIPKIT_GRADING_KEEP_WORK") == "1"


def _log_tail(path: Path, size: int = 4000) -> str:
    """The end of a log student code may have flooded: never read it whole."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - size))
            return handle.read().decode("utf-8", errors="replace")[-2000:]
    except OSError:
        return ""


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


@dataclass
class Graded:
    """One graded submission: its result, the executed notebook and what to scrub from it."""

    result: report.SubmissionResult
    executed: nbformat.NotebookNode | None = None
    replacements: dict[str, str] = field(default_factory=dict)


def grade_one(sub: Submission, settings: RunSettings, slot: Slot | None = None) -> Graded:
    """Grade one submission (run, then score in this process).

    ``slot``: the worker server to use, one submission at a time per slot; None starts a worker
    server for this submission alone. Never raises for what the submission does; a grader bug
    raises.
    """
    if slot is None:
        lease = isolation.UidLease() if settings.isolate and isolation.can_drop_privileges() \
            else None
        alone = Slot(WorkerServer(tuple(settings.config.env)), lease.uid if lease else None)
        try:
            return grade_one(sub, settings, alone)
        finally:
            alone.server.close()
            if lease:
                lease.release()
    server, uid = slot.server, slot.uid if settings.isolate else None
    lab, config = settings.lab, settings.config
    started = time.monotonic()
    blank = [report.ExerciseResult(name, max_points=p) for name, p in settings.points.items()]

    def finish(status: str, note: str = "", nb=None, exercises=None, error_cells=0, repl=None):
        result = report.SubmissionResult(
            student=sub.student, source=str(sub.notebook), status=status, note=note,
            exercises=exercises if exercises is not None else blank, error_cells=error_cells,
            seconds=round(time.monotonic() - started, 3))
        return Graded(result, nb, repl or {})

    try:
        submitted = nbformat.read(sub.notebook, as_version=4)
    except Exception as exc:
        settings.log.info("%s: unreadable notebook: %s", sub.student, exc)
        return finish("error", "unreadable notebook")
    prepared = prepare(submitted, lab, sub.notebook)
    if prepared.notebook is None:
        return finish(prepared.status, prepared.note)

    box = Path(tempfile.mkdtemp(prefix=f"{sub.student[:20]}-", dir=settings.run_root))
    work, private = box / "work", box / "private"
    private.mkdir(mode=0o700)
    work.mkdir(mode=0o700)
    home = work / ".home"
    for sub_dir in ("toipkit", "tmp", "ipython", "matplotlib", "runtime"):
        (home / sub_dir).mkdir(parents=True, exist_ok=True)
    if sub.folder is not None:
        copy_extras(sub.folder, work, sub.notebook)
    parameters: dict[str, Any] = dict(config.parameters)
    replacements: dict[str, str] = {}
    inputs = work / ".inputs"
    for name, original in config.files.items():
        inputs.mkdir(exist_ok=True)
        copy = inputs / original.name
        if original.is_dir():
            shutil.copytree(original, copy)
        else:
            shutil.copyfile(original, copy)
        parameters[name] = str(copy)
        replacements[str(original)] = "<hidden>"
    parameters.update(student=sub.student, interactive=False)
    if uid is not None:
        isolation.chown_tree(work, uid, uid)
    for value in config.parameters.values():
        if isinstance(value, str) and len(value) >= 4:
            replacements[value] = "<hidden>"
    # Variables passed down with `env:` (a real XiVO's password...) never reach kept notebooks,
    # even if student code prints them.
    for name in config.env:
        value = os.environ.get(name, "")
        if len(value) >= 4:
            replacements[value] = "<secret>"
    replacements.update({str(work): "<submission>", str(private): "<grader>",
                         str(settings.run_root): "<grader>"})

    input_nb, output_nb = private / "input.ipynb", private / "output.ipynb"
    nbformat.write(prepared.notebook, input_nb)
    spec = {
        "input": str(input_nb), "output": str(output_nb), "result": str(private / "result.json"),
        "private": str(private), "workdir": str(work), "parameters": parameters,
        "cell_timeout": settings.cell_timeout, "memory_mb": settings.memory_mb,
        "sandbox": isolation.sandbox_argv(
            read_only=settings.view, writable=[str(work)], workdir=str(work),
            network=settings.network, memory_mb=settings.memory_mb,
            uid=uid) if settings.isolate else None,
        # Unix sockets between papermill and the sandboxed kernel (short path: 108 bytes max).
        "ipc": str(work / ".k"),
        # Kernels forked from the warm worker (see forkkernel); 0 = spawn them via launch.py.
        # Linux only: on macOS, system frameworks under numpy are not safe across fork().
        "prefork": os.environ.get("TOIPKIT_GRADING_PREFORK", "1") != "0"
        and sys.platform.startswith("linux"),
    }
    env = isolation.child_environment(home, passthrough=tuple(config.env))
    xivo_session = _hand_over_a_token(env, parameters, replacements, settings.timeout)
    env["JUPYTER_RUNTIME_DIR"] = str(home / "runtime")
    env["PYTHONPATH"] = package_parent()
    env["TOIPKIT_GRADING"] = "1"  # verify() never looks for official rules in a graded kernel
    spec["env"] = env
    (private / "spec.json").write_text(json.dumps(spec), encoding="utf-8")

    try:
        timed_out = server.run(private / "spec.json", settings.timeout)
    finally:
        if xivo_session is not None:  # the kernel's token dies with its run
            xivo_session.logout()
            xivo_session.close()
    kernel_pid = _read_pid(private / "kernel.pid")
    if kernel_pid:
        isolation.kill_group(kernel_pid)  # the kernel leads its own session
    _stop_sandbox_server(home / "toipkit")

    try:
        worker_result = json.loads((private / "result.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        worker_result = {"status": "error", "detail": "worker gave no result"}
    try:
        executed = nbformat.read(output_nb, as_version=4)
    except Exception:
        executed = None
    tail = _log_tail(private / "worker.log") + _log_tail(private / "kernel.log")
    # What student code printed may hold a secret passed down with `env:`: masked in the log.
    for value, mask in sorted(replacements.items(), key=lambda item: -len(item[0])):
        tail = tail.replace(value, mask)
    if worker_result.get("detail") or worker_result.get("status") != "ok":
        settings.log.info("%s: worker: %s %s", sub.student, worker_result.get("status"),
                          worker_result.get("detail", ""))
    if tail.strip() and worker_result.get("status") != "ok":
        settings.log.debug("%s: worker output:\n%s", sub.student, tail)

    exercises, error_cells = report.score_notebook(executed, settings.points, lab.hints,
                                                   lab.rules)
    status, note = classify_status(
        timed_out=timed_out, worker=worker_result, errors=report.error_names(executed),
        executed=executed is not None, cell_timeout=settings.cell_timeout,
        timeout=settings.timeout, memory_mb=settings.memory_mb, log_tail=tail)
    forged = [e.exercise for e in exercises if e.forged]
    if forged:
        note = add_note(note, "extra answers added to official cells (" + ", ".join(forged) + ")")
    if prepared.suspicious:
        note = add_note(note, "check tampering suspected (cells "
                        + ", ".join(map(str, prepared.suspicious)) + ")")
    if not _keep_work():
        shutil.rmtree(box, ignore_errors=True)
    return finish(status, note, executed, exercises, error_cells, replacements)


def _hand_over_a_token(env: dict[str, str], parameters: dict[str, Any],
                       replacements: dict[str, str], timeout: float | None):
    """Keep a real XiVO's password in the grader: log in here and give the kernel a token.

    When ``XIVO_PASSWORD`` is passed down with ``env:`` and the run has a ``xivo_url``
    parameter, the kernel gets ``XIVO_TOKEN`` (valid for the notebook's time limit, revoked as
    soon as the run ends, masked in the kept notebook) instead of the password. Returns the
    grader's client, to revoke the token with, or None when there is nothing to hand over.
    """
    url, password = parameters.get("xivo_url"), env.get("XIVO_PASSWORD")
    if not url or not password:
        return None
    from toipkit.xivo.client import connect

    lifetime = int(timeout or 3600) + 60
    try:
        session = connect(str(url), username=env.get("XIVO_USERNAME") or "toipkit",
                          password=password, expiration=lifetime)
    except ToipkitError as exc:
        raise GradingError(f"cannot log in to {url} to hand the kernel a token: {exc}") from None
    token = session._ensure_token()
    del env["XIVO_PASSWORD"]
    env["XIVO_TOKEN"] = token
    replacements[token] = "<secret>"
    return session


# ----------------------------------------------------------------------------------------------
# The run


def plan(
    submissions: list[str | Path],
    lab: str | None = None,
    *,
    params: str | Path | GradingConfig | None = None,
    solutions: str | Path | None = None,
    out: str | Path | None = None,
    workers: int | None = None,
    cell_timeout: float | None = None,
    timeout: float | None = None,
    memory_mb: int | None = None,
    isolate: bool | None = None,
    network: bool | None = None,
) -> tuple[RunSettings, list[Submission], int]:
    """Check the arguments, load the lab, find the submissions: ``(settings, submissions,
    workers)``. Creates ``out`` and a private run folder (``settings.run_root``), which
    :func:`finish_run` removes. Raises :class:`GradingError` for bad arguments."""
    from toipkit.paths import repo_root

    config = params if isinstance(params, GradingConfig) else (
        GradingConfig.load(params) if params else GradingConfig())
    lab_id = str(lab or config.lab or "")
    if not lab_id:
        raise GradingError("which lab? give --lab NN (or 'lab:' in grading.yaml)")
    solutions_path = Path(solutions) if solutions else repo_root() / "solutions"
    the_lab = load_lab(lab_id, solutions_path)
    questions = manual.questions_of(the_lab.teacher, lab_id) if the_lab.teacher else []
    points = dict(the_lab.points)
    points.update({q.question_id: 1.0 for q in questions})
    unknown = sorted(set(config.points) - set(points))
    if unknown:
        raise GradingError(f"{config.path or 'grading parameters'}: points for unknown exercise(s) "
                           f"{', '.join(unknown)} "
                           f"(lab {lab_id} has {', '.join(points)})")
    points.update(config.points)
    unknown_params = sorted((set(config.parameters) | set(config.files))
                            - set(the_lab.parameter_names))
    subs = find_submissions(list(submissions), lab_id, the_lab.path.stem)
    out_path = Path(out) if out else Path.cwd() / f"grading-{lab_id}"
    out_path.mkdir(parents=True, exist_ok=True)
    out_path = out_path.resolve()
    unsafe = isolate is False
    problem = "" if unsafe else isolation.sandbox_problem()
    if problem:
        raise GradingError(isolation.REFUSAL.format(reason=problem))
    workers = int(workers or config.workers or _cores())
    workers = max(1, min(workers, len(subs)))

    # One logger per run: concurrent runs in one process keep separate logs.
    run_log = logging.getLogger(
        f"toipkit.grading.run.{os.getpid()}.{id(out_path)}.{time.monotonic_ns()}")
    handler = logging.FileHandler(out_path / "grading.log", mode="w", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    run_log.addHandler(handler)
    run_log.setLevel(logging.DEBUG)
    run_root = Path(tempfile.mkdtemp(prefix="toipkit-grade-"))
    settings = RunSettings(
        lab=the_lab, config=config, points=points, out=out_path, run_root=run_root,
        cell_timeout=float(cell_timeout or config.timeout_cell or DEFAULT_CELL_TIMEOUT),
        timeout=float(timeout or config.timeout or DEFAULT_TIMEOUT),
        memory_mb=int(memory_mb or config.memory_mb or DEFAULT_MEMORY_MB),
        view=isolation.view_paths(), isolate=not unsafe, log=run_log,
        network=bool(network if network is not None else config.network),
        lab_id=lab_id, questions=questions, started=time.monotonic(),
    )
    run_log.info("lab %s (%s): %d submission(s), %d worker(s), cell timeout %s s, "
                 "notebook timeout %s s, memory %d MB, isolation %s",
                 lab_id, the_lab.path.name, len(subs), workers, report.fmt(settings.cell_timeout),
                 report.fmt(settings.timeout), settings.memory_mb,
                 _isolation_text(settings))
    if unknown_params:
        run_log.warning("parameters not in the lab's parameters cell: %s",
                        ", ".join(unknown_params))
    if unsafe:
        run_log.warning("NO ISOLATION (--unsafe-no-isolation): student code runs as the grader's "
                        "user and can read, write and reach whatever this user can")
    else:
        run_log.info("sandbox view (read-only): %s", ", ".join(settings.view))
    (out_path / "feedback").mkdir(exist_ok=True)
    (out_path / "notebooks").mkdir(exist_ok=True)
    return settings, subs, workers


def grade(
    submissions: list[str | Path],
    lab: str | None = None,
    *,
    params: str | Path | GradingConfig | None = None,
    solutions: str | Path | None = None,
    out: str | Path | None = None,
    workers: int | None = None,
    cell_timeout: float | None = None,
    timeout: float | None = None,
    memory_mb: int | None = None,
    progress: bool = True,
    isolate: bool | None = None,
    network: bool | None = None,
) -> GradeReport:
    """Grade submitted notebooks of one lab and write the reports into ``out``.

    Writes ``grades.csv``, ``details.csv``, ``feedback/<student>.md|.html``,
    ``notebooks/<student>.ipynb`` (executed, scrubbed) and ``grading.log``.
    Each kernel runs in a bubblewrap sandbox (see :mod:`toipkit.grading.isolation`), without
    network unless ``network`` (or ``network: true`` in grading.yaml). Where that sandbox
    cannot be built, grading stops with an explanation unless ``isolate=False``
    (``--unsafe-no-isolation``).
    """
    settings, subs, workers = plan(
        submissions, lab, params=params, solutions=solutions, out=out, workers=workers,
        cell_timeout=cell_timeout, timeout=timeout, memory_mb=memory_mb, isolate=isolate,
        network=network)
    results: list[report.SubmissionResult] = []
    try:
        results = _run_pool(subs, settings, workers, progress)
    finally:
        seconds = finish_run(settings)
    return write_sheets(settings, results, seconds)


def finish_run(settings: RunSettings) -> float:
    """Remove the run folder, close the run's log; returns the run's duration in seconds."""
    if not _keep_work():
        shutil.rmtree(settings.run_root, ignore_errors=True)
    seconds = round(time.monotonic() - settings.started, 3)
    settings.log.info("done in %.1f s", seconds)
    for handler in list(settings.log.handlers):
        settings.log.removeHandler(handler)
        handler.close()
    return seconds


def write_sheets(settings: RunSettings, results: list[report.SubmissionResult],
                 seconds: float = 0.0) -> GradeReport:
    """Write ``grades.csv``, ``details.csv`` (and merge ``manual.csv``) for all results."""
    results = sorted(results, key=lambda r: r.student)
    out_path, points = settings.out, settings.points
    if settings.questions:
        _merge_manual(results, settings.questions, points, out_path, settings.lab_id)
    report.write_text(out_path / "grades.csv", report.grades_csv(results, points))
    report.write_text(out_path / "details.csv", _details_csv(results))
    return GradeReport(lab=settings.lab_id, points=points, results=results, out=out_path,
                       seconds=seconds, isolation=settings.view if settings.isolate else [])


def _isolation_text(settings: RunSettings) -> str:
    if not settings.isolate:
        return "NONE (--unsafe-no-isolation): limits only"
    return "bubblewrap sandbox" + (" with the host's network" if settings.network
                                   else ", no network")


def _cores() -> int:
    """Cores this process may use (a container's CPU set, not the host's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _details_csv(results: list[report.SubmissionResult]) -> str:
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", "exercise", "passed", "points", "max_points", "detail"])
    for r in results:
        for e in r.exercises:
            passed = "" if e.passed is None else str(e.passed).lower()
            writer.writerow([r.student, e.exercise, passed, report.fmt(e.points),
                             report.fmt(e.max_points), e.detail])
    return buffer.getvalue()


def _run_pool(subs: list[Submission], settings: RunSettings, workers: int,
              progress: bool) -> list[report.SubmissionResult]:
    from tqdm.auto import tqdm

    root = settings.isolate and isolation.can_drop_privileges()
    leases = [isolation.UidLease() for _ in range(workers)] if root else []
    slots = [Slot(WorkerServer(tuple(settings.config.env)), leases[n].uid if leases else None)
             for n in range(workers)]
    results: list[report.SubmissionResult] = []
    try:
        with tqdm(total=len(subs), desc=f"TP {settings.lab_id}", unit="copie",
                  disable=not progress) as bar:
            def done(sub: Submission, future: Future[report.SubmissionResult]) -> None:
                results.append(future.result())
                bar.update(1)

            # Reports are written in the grading thread, so an executed notebook (up to the
            # output cap) is freed as soon as it is written, not kept until the run ends.
            run_all(subs, lambda sub, slot: grade_and_write(sub, settings, slot), slots, done)
    finally:
        for lease in leases:
            lease.release()
    return sorted(results, key=lambda r: r.student)


def grade_and_write(sub: Submission, settings: RunSettings, slot: Slot | None = None
                    ) -> report.SubmissionResult:
    """:func:`grade_one`, then its reports (a grader error becomes status ``error``)."""
    try:
        graded = grade_one(sub, settings, slot)
    except Exception as exc:  # a grader bug must not lose the other submissions
        settings.log.exception("%s: grading failed", sub.student)
        graded = grader_error(sub, settings, exc)
    return write_and_log(graded, settings)


def grader_error(sub: Submission, settings: RunSettings, exc: BaseException) -> Graded:
    """What a submission gets when the grader itself failed on it: status ``error``, 0 points."""
    return Graded(report.SubmissionResult(
        student=sub.student, source=str(sub.notebook), status="error",
        note=f"grader error: {type(exc).__name__}",
        exercises=[report.ExerciseResult(n, p) for n, p in settings.points.items()]))


def write_and_log(graded: Graded, settings: RunSettings) -> report.SubmissionResult:
    """Write one finished submission's reports and log its line."""
    result = graded.result
    write_outputs(graded, settings.out, settings.lab_id)
    settings.log.info("%s: %s %s/%s (%s %%) in %.1f s%s", result.student, result.status,
                      report.fmt(result.total), report.fmt(result.max_total),
                      report.fmt(result.percent), result.seconds,
                      f" — {result.note}" if result.note else "")
    return result


def write_outputs(graded: Graded, out: Path, lab_id: str) -> None:
    """Feedback (``.md``, ``.html``) and the scrubbed executed notebook of one submission."""
    result, executed, replacements = graded.result, graded.executed, graded.replacements
    report.write_text(out / "feedback" / f"{result.student}.md",
                      report.feedback_markdown(result, lab_id))
    report.write_text(out / "feedback" / f"{result.student}.html",
                      report.feedback_html(result, lab_id))
    if executed is not None:
        clean = report.scrub_notebook(executed, replacements)
        report.write_text(out / "notebooks" / f"{result.student}.ipynb",
                          nbformat.writes(clean) + "\n")


def _merge_manual(results: list[report.SubmissionResult], questions: list[manual.Question],
                  points: dict[str, float], out: Path, lab_id: str) -> None:
    """Add the free-text questions to each result from the instructor's sheet (``manual.csv``
    in ``out``), then write the sheet back with every answer and the marks already given."""
    sheet = out / manual.SHEET_NAME
    marks = manual.read_sheet(sheet)
    rows = []
    for result in results:
        try:
            submitted = nbformat.read(result.source, as_version=4)
        except Exception:
            submitted = None
        for question in questions:
            mark = marks.get((result.student, question.question_id), manual.Mark(None))
            maximum = float(points[question.question_id])
            given = mark.points
            graded = given is not None
            result.exercises = [e for e in result.exercises
                                if e.exercise != question.question_id]
            result.exercises.append(report.ExerciseResult(
                question.question_id, max_points=maximum,
                points=min(given, maximum) if given is not None else 0.0,
                passed=(given > 0) if given is not None else None,
                hint="", detail=mark.comment or ("" if graded else "Réponse corrigée à la main "
                                                 "par l'enseignant (pas encore notée).")))
            rows.append({"student": result.student, "question": question.question_id,
                         "points_max": report.fmt(maximum),
                         "points": "" if given is None else report.fmt(given),
                         "comment": mark.comment, "title": question.title,
                         "answer": manual.answer_of(submitted, question)})
        report.write_text(out / "feedback" / f"{result.student}.md",
                          report.feedback_markdown(result, lab_id))
        report.write_text(out / "feedback" / f"{result.student}.html",
                          report.feedback_html(result, lab_id))
    report.write_text(sheet, manual.sheet_text(rows))
