"""Grading on a Dask cluster: ``toipkit grade … --scheduler tcp://HOST:8786`` or
``--cluster local:N``.

Each submission is one Dask task running :func:`toipkit.grading.runner.grade_one` on a worker,
with the same isolation, limits and scoring as the local pool: every Dask worker keeps one warm
worker slot (its worker server, and as root its own sandbox uid) for the whole run, and runs one
submission at a time (start workers with ``--nthreads 1``; ``local:N`` does). ``local:N``'s
workers are threads of the submitting process: the student code runs in their slots' servers
anyway, and N more Python processes would only add their start-up time. The
machine that submits keeps the outputs: each finished submission's feedback and executed
notebook are written at once, then a small record in ``<out>/.progress/``; a run started
again with the same settings reuses those records and grades only what is missing, so an
interrupted run resumes without grading anyone twice. A worker that dies takes its running
submission with it; the scheduler gives that task to another worker.

Remote workers need the same installation (toipkit and its dependencies) and must read the
submissions, the teacher notebooks and grading.yaml's files at the same paths (a shared
filesystem): the tasks carry paths, not files.
"""

from __future__ import annotations

import atexit
import dataclasses
import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from toipkit.errors import GradingError
from toipkit.grading import report
from toipkit.grading.config import GradingConfig
from toipkit.grading.discovery import Submission
from toipkit.grading.runner import (
    Graded,
    GradeReport,
    RunSettings,
    finish_run,
    grade_one,
    grader_error,
    plan,
    write_and_log,
    write_sheets,
)

PROGRESS_DIR = ".progress"
RECORD_VERSION = 1
log = logging.getLogger("toipkit.grading.distributed")


# ----------------------------------------------------------------------------------------------
# What a worker receives, and its per-process state


@dataclass(frozen=True)
class WorkerJob:
    """The run's settings in plain, picklable data; the worker loads the lab itself."""

    token: str  # one per run: worker state is cached under it
    lab_id: str
    solutions: str
    config: GradingConfig
    points: dict[str, float]
    cell_timeout: float
    timeout: float
    memory_mb: int
    isolate: bool  # False: --unsafe-no-isolation
    network: bool


_state_lock = threading.Lock()
# Keyed by the Dask worker's address: a local cluster's workers share this process.
_worker_state: dict[tuple[str, str], tuple[RunSettings, Any, Any]] = {}  # (where, token) -> …
_warm_servers: dict[tuple[str, tuple[str, ...]], Any] = {}  # (where, passthrough) -> server


def _this_worker(dask_worker: Any = None) -> str:
    """The address of the Dask worker running this (``client.run`` passes ``dask_worker``;
    a task finds its own); "" outside Dask."""
    if dask_worker is not None:
        return str(dask_worker.address)
    from distributed import get_worker

    try:
        return str(get_worker().address)
    except ValueError:  # called outside a Dask task (tests, a plain thread)
        return ""


def warm_up(passthrough: tuple[str, ...], dask_worker: Any = None) -> int:
    """Run on every worker as soon as it is reached: import the grading code and start this
    worker's grading server (it loads papermill, IPython... while the run is being planned)."""
    import toipkit.grading.labspec  # noqa: F401 - the import is the point
    import toipkit.grading.submission  # noqa: F401
    from toipkit.grading.pool import WorkerServer

    where = _this_worker(dask_worker)
    with _state_lock:
        if (where, passthrough) not in _warm_servers:
            server = WorkerServer(passthrough)
            server._start()
            _warm_servers[where, passthrough] = server
    return os.getpid()


def _worker_settings(job: WorkerJob) -> tuple[RunSettings, Any]:
    """This worker's settings and warm slot for ``job`` (made on its first task)."""
    from toipkit.grading import isolation
    from toipkit.grading.labspec import load_lab
    from toipkit.grading.pool import Slot, WorkerServer

    where = _this_worker()
    with _state_lock:
        if (where, job.token) not in _worker_state:
            # a previous run's slot (same worker, new run)
            for stale in [key for key in _worker_state if key[0] == where]:
                _close_state(stale)
            run_root = Path(tempfile.mkdtemp(prefix="toipkit-grade-dask-"))
            root = job.isolate and isolation.can_drop_privileges()
            lease = isolation.UidLease() if root else None
            if job.isolate:
                problem = isolation.sandbox_problem()
                if problem:  # this worker's host cannot fence student code: refuse
                    raise GradingError(isolation.REFUSAL.format(reason=problem))
            settings = RunSettings(
                lab=load_lab(job.lab_id, job.solutions), config=job.config,
                points=dict(job.points), out=run_root, run_root=run_root,
                cell_timeout=job.cell_timeout, timeout=job.timeout, memory_mb=job.memory_mb,
                # The sandbox's read-only view of this worker's own installation.
                view=isolation.view_paths(), isolate=job.isolate, network=job.network,
                log=log, lab_id=job.lab_id, started=time.monotonic())
            server = _warm_servers.pop((where, tuple(job.config.env)), None)
            slot = Slot(server or WorkerServer(tuple(job.config.env)),
                        lease.uid if lease else None)
            _worker_state[where, job.token] = (settings, slot, lease)
        settings, slot, _lease = _worker_state[where, job.token]
        return settings, slot


def _close_state(key: tuple[str, str]) -> None:
    settings, slot, lease = _worker_state.pop(key)
    slot.server.close()
    if lease is not None:
        lease.release()
    shutil.rmtree(settings.run_root, ignore_errors=True)


def _cleanup_worker() -> None:
    """Close every slot and warm server of this process (at exit)."""
    with _state_lock:
        for server in _warm_servers.values():
            server.close()
        _warm_servers.clear()
        for key in list(_worker_state):
            _close_state(key)


atexit.register(_cleanup_worker)


def _release_run(token: str, dask_worker: Any = None) -> int:
    """Close this worker's slot of the run ``token`` (and its unused warm servers)."""
    where = _this_worker(dask_worker)
    with _state_lock:
        for warm in [k for k in _warm_servers if k[0] == where]:
            _warm_servers.pop(warm).close()
        runs = [k for k in _worker_state if k == (where, token)]
        for run in runs:
            _close_state(run)
        return len(runs)


def grade_task(sub: Submission, job: WorkerJob) -> Graded:
    """One submission on a Dask worker (one at a time per worker process)."""
    settings, slot = _worker_settings(job)
    return grade_one(sub, settings, slot)


# ----------------------------------------------------------------------------------------------
# Records of finished submissions (resume)


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _run_key(settings: RunSettings) -> str:
    """What makes two runs' grades comparable: the lab's sources, points, limits, inputs."""
    lab = settings.lab
    rules = lab.path.parent / "checks" / f"lab{settings.lab_id}.py"
    parts = {
        "version": RECORD_VERSION, "lab": settings.lab_id, "teacher": _sha256_file(lab.path),
        "rules": _sha256_file(rules) if rules.exists() else "",
        "points": settings.points, "cell_timeout": settings.cell_timeout,
        "timeout": settings.timeout, "memory_mb": settings.memory_mb,
        "parameters": settings.config.parameters, "network": settings.network,
        "files": {k: _sha256_file(v) for k, v in sorted(settings.config.files.items())
                  if v.is_file()},
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def _submission_key(sub: Submission, run_key: str) -> str:
    digest = hashlib.sha256(run_key.encode())
    digest.update(_sha256_file(sub.notebook).encode())
    if sub.folder is not None:  # the student's other files are inputs too
        for path in sorted(p for p in sub.folder.rglob("*") if p.is_file()):
            digest.update(str(path.relative_to(sub.folder)).encode())
            digest.update(_sha256_file(path).encode())
    return digest.hexdigest()


def _record_path(out: Path, student: str) -> Path:
    return out / PROGRESS_DIR / f"{student}.json"


def _load_record(out: Path, sub: Submission, key: str) -> report.SubmissionResult | None:
    try:
        data = json.loads(_record_path(out, sub.student).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if data.get("key") != key:
        return None  # the submission or the run's settings changed: grade again
    result = data["result"]
    exercises = [report.ExerciseResult(**e) for e in result.pop("exercises")]
    return report.SubmissionResult(**result, exercises=exercises)


def _save_record(out: Path, result: report.SubmissionResult, key: str) -> None:
    path = _record_path(out, result.student)
    path.parent.mkdir(exist_ok=True)
    report.write_text(path, json.dumps({"key": key, "result": dataclasses.asdict(result)},
                                       ensure_ascii=False, sort_keys=True))


# ----------------------------------------------------------------------------------------------
# The run (on the machine that submits)


def parse_cluster(spec: str) -> int:
    """``local:N`` → N (workers of a local cluster)."""
    kind, _, count = spec.partition(":")
    if kind != "local" or not count.isdigit() or int(count) < 1:
        raise GradingError(f"--cluster {spec!r}: expected local:N with N >= 1 (e.g. local:4)")
    return int(count)


def _client(scheduler: str | None, cluster: str | None):
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise GradingError("Dask is not installed: pip install 'toipkit[scale]' "
                           "(dask[distributed])") from None
    if scheduler and cluster:
        raise GradingError("give --scheduler or --cluster, not both")
    if cluster:
        # One task at a time per worker (one warm slot each); no memory cap from Dask: the
        # kernels' own limits apply, as in the local pool. The workers live in this process:
        # the grading itself runs in each slot's worker server, so separate Dask processes
        # would only add their start-up time.
        local = LocalCluster(n_workers=parse_cluster(cluster), threads_per_worker=1,
                             processes=False, memory_limit=0, dashboard_address=None,
                             silence_logs=logging.ERROR)
        return Client(local), local
    try:
        return Client(scheduler, timeout=30), None
    except OSError as exc:
        raise GradingError(f"cannot reach the Dask scheduler {scheduler}: {exc}") from None


def grade_distributed(
    submissions: list[str | Path],
    lab: str | None = None,
    *,
    scheduler: str | None = None,
    cluster: str | None = None,
    params: str | Path | GradingConfig | None = None,
    solutions: str | Path | None = None,
    out: str | Path | None = None,
    cell_timeout: float | None = None,
    timeout: float | None = None,
    memory_mb: int | None = None,
    progress: bool = True,
    isolate: bool | None = None,
    network: bool | None = None,
    resume: bool = True,
) -> GradeReport:
    """:func:`toipkit.grading.grade` with the submissions spread over Dask workers.

    ``scheduler``: address of a running scheduler (``tcp://host:8786``); ``cluster``:
    ``local:N`` starts N local workers for this run. ``resume=False`` grades every
    submission again even when ``out`` holds records of a previous run.
    """
    if not scheduler and not cluster:
        raise GradingError("give a Dask scheduler address or cluster='local:N'")
    if cluster:
        parse_cluster(cluster)  # a bad spec fails before anything is created
    config = params if isinstance(params, GradingConfig) else (
        GradingConfig.load(params) if params else GradingConfig())
    settings, subs, _workers = plan(
        submissions, lab, params=config, solutions=solutions, out=out,
        cell_timeout=cell_timeout, timeout=timeout, memory_mb=memory_mb, isolate=isolate,
        network=network)
    results: list[report.SubmissionResult] = []
    connecting: _Connecting | None = None
    try:
        run_key = _run_key(settings)
        keys = {sub.student: _submission_key(sub, run_key) for sub in subs}
        todo = []
        for sub in subs:
            kept = _load_record(settings.out, sub, keys[sub.student]) if resume else None
            if kept is None:
                todo.append(sub)
            else:
                results.append(kept)
        if results:
            settings.log.info("resumed: %d submission(s) already graded, %d to grade",
                              len(results), len(todo))
        if todo:
            # Nothing is started when every submission is already recorded.
            connecting = _Connecting(scheduler, cluster, tuple(config.env))
            results += _run_on_dask(todo, settings, keys, connecting, progress, len(subs))
    finally:
        if connecting is not None:
            connecting.close()
        seconds = finish_run(settings)
    return write_sheets(settings, results, seconds)


class _Connecting:
    """The Dask client (and local cluster), made and warmed up (:func:`warm_up`) in a thread
    while the finished submissions' records are read."""

    def __init__(self, scheduler: str | None, cluster: str | None,
                 passthrough: tuple[str, ...]) -> None:
        self.where = scheduler or cluster or ""
        self._made: tuple[Any, Any] | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._connect,
                                        args=(scheduler, cluster, passthrough),
                                        name="dask-connect", daemon=True)
        self._thread.start()

    def _connect(self, scheduler: str | None, cluster: str | None,
                 passthrough: tuple[str, ...]) -> None:
        try:
            self._made = _client(scheduler, cluster)
            self._made[0].run(warm_up, passthrough)
        except GradingError as exc:  # re-raised in the caller's thread by get()
            self._error = exc
        except Exception as exc:  # e.g. a remote worker without toipkit
            self._error = GradingError(f"the Dask workers of {self.where} could not be "
                                       f"prepared: {type(exc).__name__}: {exc}")

    def get(self) -> Any:
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._made is not None
        return self._made[0]

    def close(self) -> None:
        self._thread.join()
        if self._made is not None:
            client, local = self._made
            self._made = None
            client.close()
            if local is not None:
                local.close()


def _run_on_dask(subs: list[Submission], settings: RunSettings, keys: dict[str, str],
                 connecting: _Connecting, progress: bool,
                 total: int) -> list[report.SubmissionResult]:
    from distributed import as_completed
    from tqdm.auto import tqdm

    job = WorkerJob(
        token=uuid.uuid4().hex, lab_id=settings.lab_id, solutions=str(settings.lab.path.parent),
        config=settings.config, points=dict(settings.points), cell_timeout=settings.cell_timeout,
        timeout=settings.timeout, memory_mb=settings.memory_mb, isolate=settings.isolate,
        network=settings.network)
    client = connecting.get()
    results: list[report.SubmissionResult] = []
    futures: dict[Any, Submission] = {}
    try:
        workers = len(client.scheduler_info().get("workers", {}))
        settings.log.info("Dask: %s, %d worker(s)", connecting.where, workers)
        futures = {client.submit(grade_task, sub, job, key=f"grade-{sub.student}-{job.token}",
                                 pure=False): sub for sub in subs}
        with tqdm(total=total, initial=total - len(subs), desc=f"TP {settings.lab_id}",
                  unit="copie", disable=not progress) as bar:
            for future in as_completed(futures):
                sub = futures[future]
                result = _collect(sub, future, settings)
                if result.status != "error" or not result.note.startswith("grader error"):
                    _save_record(settings.out, result, keys[sub.student])
                results.append(result)
                bar.update(1)
        try:
            client.run(_release_run, job.token)
        except Exception as exc:  # workers gone: their processes die with them anyway
            settings.log.debug("releasing the workers' slots: %s", exc)
    except KeyboardInterrupt:
        client.cancel(list(futures))
        raise
    return results


def _collect(sub: Submission, future: Any, settings: RunSettings) -> report.SubmissionResult:
    """Write one finished submission's outputs (a task that failed becomes status ``error``,
    not recorded, so that a resumed run grades it again)."""
    try:
        graded = future.result()
    except Exception as exc:
        settings.log.exception("%s: grading failed on Dask", sub.student)
        graded = grader_error(sub, settings, exc)
    return write_and_log(graded, settings)
