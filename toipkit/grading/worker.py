"""One submission, one process.

Two ways in:

* ``python -m toipkit.grading.worker SPEC.json`` runs one submission in this process;
* ``python -m toipkit.grading.worker --serve`` (what the grader uses, one per worker slot)
  imports papermill once, then for each spec path read on stdin **forks a fresh process** for
  that submission (its own session), answers ``started PID`` and, when it ends, ``done PID
  STATUS``. The fork saves the interpreter start and the papermill import (~0.4 s of CPU) per
  submission; each submission still runs in a process of its own.

The submission's process sets the submission's environment, writes a kernelspec whose command
starts the kernel in a bubblewrap sandbox (see :mod:`toipkit.grading.isolation`; the kernel
talks to papermill over Unix sockets, see :mod:`toipkit.grading.kernelbox`), runs the prepared
notebook with papermill (per-cell timeout, keep going after errors) and writes a small JSON
result next to the output notebook, outside the sandbox. Without the sandbox
(``--unsafe-no-isolation``) the kernel is forked from this warm process instead (see
:mod:`toipkit.grading.forkkernel`). The whole-notebook timeout is enforced from outside by the
grader, which kills the submission's session and the sandbox.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from pathlib import Path

KERNEL_NAME = "toipkit-grading"
MAX_OUTPUT_BYTES = 5 * 1024 * 1024  # per cell, in the kept notebook
MAX_NOTEBOOK_BYTES = 20 * 1024 * 1024  # all outputs of a notebook together
MAX_RECORD_BYTES = 1024 * 1024  # one check/answer record of an official cell
# Address space of the submission's own (papermill) process: outputs accumulate there.
WORKER_MEMORY_MB = 4096
TIMEOUT_ENAME = "CellTimeoutError"


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


def _cap_outputs(cell, limit: int, budget: dict[str, int] | None = None) -> None:
    """Keep a cell's outputs under ``limit`` bytes and the whole notebook under
    ``budget["left"]`` (a print loop must not fill the disk or the grader's memory).

    Check and answer records are kept only in the official cells the grader inserted, and only
    when small: student code cannot use the record MIME types to escape the caps.
    """
    from toipkit.checks import ANSWER_MIME_TYPE, MIME_TYPE
    from toipkit.grading.labspec import GRADING_KEY

    official = bool((cell.get("metadata", {}).get(GRADING_KEY) or {}).get("official"))
    left = budget["left"] if budget is not None else limit
    total = 0
    kept = []
    dropped = 0
    for output in cell.get("outputs", []):
        size = len(json.dumps(output, default=str))
        data = output.get("data") or {}
        record = MIME_TYPE in data or ANSWER_MIME_TYPE in data
        if (record and official and size <= MAX_RECORD_BYTES) or (
                total + size <= min(limit, left)):
            kept.append(output)
            total += size
        else:
            dropped += size
    if budget is not None:
        budget["left"] = max(0, left - total)
    if dropped:
        import nbformat

        kept.append(nbformat.v4.new_output(
            "stream", name="stderr",
            text=f"[toipkit grade: {dropped // 1024} KiB of output removed]\n"))
        cell["outputs"] = kept


def _kernelspec(private: Path, spec: dict) -> None:
    kernel = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    extra: dict = {}
    if spec.get("sandbox"):
        # bwrap, the limits, then the kernel; interrupts go as messages (a signal to bwrap
        # would not reach the kernel's own session inside the sandbox).
        argv = list(spec["sandbox"]) + kernel
        extra["interrupt_mode"] = "message"
    else:
        launcher = [sys.executable, "-m", "toipkit.grading.launch"]
        if spec.get("memory_mb"):
            launcher += ["--memory", str(spec["memory_mb"])]
        launcher += ["--pidfile", str(private / "kernel.pid"), "--"]
        argv = launcher + kernel
    folder = private / "jupyter" / "kernels" / KERNEL_NAME
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "kernel.json").write_text(json.dumps({
        "argv": argv, "display_name": "toipkit grading", "language": "python", **extra,
    }), encoding="utf-8")
    os.environ["JUPYTER_PATH"] = str(private / "jupyter")


def run(spec: dict) -> dict:
    private = Path(spec["private"])
    if spec.get("env") is not None:
        os.environ.clear()
        os.environ.update(spec["env"])
    if spec.get("workdir"):
        os.chdir(spec["private"])
    result: dict = {"status": "ok", "detail": ""}
    _kernelspec(private, spec)
    engine_options: dict = {}
    kernel_output = None
    if spec.get("sandbox"):
        from toipkit.grading import isolation, kernelbox

        manager = kernelbox.SandboxedKernelManager
        kernel_output = manager.output = isolation.TailPipe()
        manager.ipc_prefix = spec["ipc"]
        manager.pidfile = str(private / "kernel.pid")
        manager.memory_mb = int(spec.get("memory_mb") or 0)
        engine_options["kernel_manager_class"] = manager
    elif spec.get("prefork", True):
        # Fork the kernel now: single-threaded, inside the namespaces, before papermill.
        from toipkit.grading import forkkernel

        forkkernel.PreforkedKernelManager.preforked = forkkernel.prefork(
            spec["workdir"], None, spec.get("memory_mb"),
            str(private / "kernel.pid"))
        engine_options["kernel_manager_class"] = forkkernel.PreforkedKernelManager
    if spec.get("worker_memory_mb", WORKER_MEMORY_MB):
        # After the fork: the kernel sets its own limit, which may be higher.
        import resource

        size = int(spec.get("worker_memory_mb", WORKER_MEMORY_MB)) * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (size, size))

    # nbformat's schema validation pulls jsonschema's URI grammar (about a second of import
    # time per process); the grader does not need that format check.
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
    import nbformat
    import papermill
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    timeouts: list[int] = []
    budget = {"left": int(spec.get("max_notebook_bytes", MAX_NOTEBOOK_BYTES))}

    def on_cell_executed(cell, cell_index, execute_reply):
        _cap_outputs(cell, int(spec.get("max_output_bytes", MAX_OUTPUT_BYTES)), budget)
        # nbclient answers a timed-out cell with our error_on_timeout reply but adds no output;
        # make the timeout visible in the notebook (and to the grader).
        content = (execute_reply or {}).get("content", {})
        if content.get("ename") == TIMEOUT_ENAME:
            timeouts.append(cell_index)
            cell.outputs.append(nbformat.v4.new_output(
                "error", ename=TIMEOUT_ENAME, evalue=content.get("evalue", ""),
                traceback=list(content.get("traceback", []))))

    try:
        papermill.execute_notebook(
            spec["input"],
            spec["output"],
            parameters=spec.get("parameters") or {},
            kernel_name=KERNEL_NAME,
            cwd=spec["workdir"],
            progress_bar=False,
            log_output=False,
            start_timeout=int(spec.get("start_timeout", 60)),
            execution_timeout=spec.get("cell_timeout"),
            allow_errors=True,
            interrupt_on_timeout=True,
            on_cell_executed=on_cell_executed,
            **engine_options,
            shutdown_kernel="immediate",  # nothing to wait for once the last cell ran
            error_on_timeout={
                "ename": TIMEOUT_ENAME,
                "evalue": f"cell stopped after {spec.get('cell_timeout')} s",
                "traceback": [f"{TIMEOUT_ENAME}: cell stopped after {spec.get('cell_timeout')} s"],
            },
        )
    except PapermillExecutionError:
        pass  # some cells failed: expected, they were all run (allow_errors)
    except CellTimeoutError:
        # The kernel ignored the interrupt (SIGINT ignored or blocked): the cell hit its time
        # limit all the same, the remaining cells cannot run.
        result.update(status="timeout", detail="a cell ignored the interrupt at its time limit")
    except DeadKernelError as exc:
        result.update(status="dead", detail=f"kernel died: {exc}")
    except MemoryError:
        result.update(status="error", detail="the grading process ran out of memory (output flood?)")
    except Exception as exc:  # report, the grader decides
        result.update(status="error", detail=f"{type(exc).__name__}: {exc}")
        traceback.print_exc()
    finally:
        if spec.get("sandbox"):
            from toipkit.grading import kernelbox

            watchdog = kernelbox.SandboxedKernelManager.watchdog
            if watchdog is not None:
                watchdog.stop()
                if watchdog.fired:
                    result.update(status="memory", detail=(
                        f"the submission's processes together used more than "
                        f"{spec.get('memory_mb')} MB"))
        elif engine_options:
            from toipkit.grading import forkkernel

            forkkernel.abandon()
        if kernel_output is not None:
            # What the kernel printed outside cells (its last words when it died), bounded.
            (private / "kernel.log").write_text(kernel_output.text()[-8000:], encoding="utf-8")
    # A cell stopped without completing (the kernel ignored the interrupt, or died) never went
    # through on_cell_executed: cap what papermill saved before the grader reads it.
    _cap_saved_notebook(Path(spec["output"]), int(spec.get("max_output_bytes", MAX_OUTPUT_BYTES)),
                        int(spec.get("max_notebook_bytes", MAX_NOTEBOOK_BYTES)))
    result["timeouts"] = timeouts
    return result


def _cap_saved_notebook(path: Path, cell_limit: int, notebook_limit: int) -> None:
    try:
        if path.stat().st_size <= notebook_limit:
            return
    except OSError:
        return
    import nbformat

    nb = nbformat.read(path, as_version=4)
    budget = {"left": notebook_limit}
    for cell in nb.cells:
        if cell.get("cell_type") == "code":
            _cap_outputs(cell, cell_limit, budget)
    tmp = path.with_suffix(".capped")
    nbformat.write(nb, tmp)
    os.replace(tmp, path)


def run_file(spec_path: Path) -> None:
    spec = json.loads(spec_path.read_text(encoding="utf-8"))
    result = run(spec)
    _write_json(Path(spec["result"]), result)


def _preload() -> None:
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
    import jupyter_client  # noqa: F401
    import nbclient  # noqa: F401
    import nbformat  # noqa: F401
    import papermill  # noqa: F401

    import toipkit.grading.isolation  # noqa: F401
    import toipkit.grading.kernelbox  # noqa: F401
    if sys.platform.startswith("linux"):
        from toipkit.grading import forkkernel

        forkkernel.preload()  # what the kernels import: they are forked from here


def serve() -> int:
    """Fork one process per spec path read on stdin (see the module docstring)."""
    _preload()
    control = os.fdopen(os.dup(1), "w", buffering=1)
    for line in sys.stdin:
        spec_path = Path(line.strip())
        if not line.strip():
            continue
        log_path = spec_path.parent / "worker.log"
        pid = os.fork()
        if pid == 0:  # the submission's own process
            code = 0
            try:
                control.close()  # the protocol pipe is the server's, not the submission's
                os.setsid()
                fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                os.dup2(fd, 1)
                os.dup2(fd, 2)
                os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
                run_file(spec_path)
            except BaseException:
                traceback.print_exc()
                code = 1
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        control.write(f"started {pid}\n")
        _, status = os.waitpid(pid, 0)
        control.write(f"done {pid} {os.waitstatus_to_exitcode(status)}\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv == ["--serve"]:
        return serve()
    if len(argv) != 1:
        print("usage: python -m toipkit.grading.worker SPEC.json | --serve", file=sys.stderr)
        return 2
    run_file(Path(argv[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
