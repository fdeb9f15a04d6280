"""One submission, one process: ``python -m toipkit.grading.worker SPEC.json``.

The grader starts this module per submission (its own process group, whitelisted environment).
It fences itself (private mount namespace when root), writes a kernelspec whose launcher applies
the memory limit and drops privileges, runs the prepared notebook with papermill (per-cell
timeout, keep going after errors), and writes a small JSON result next to the output notebook.
The whole-notebook timeout is enforced from outside by the grader, which kills this process
group, the kernel's group and (as root) every process of the submission's uid.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from pathlib import Path

KERNEL_NAME = "toipkit-grading"
TIMEOUT_ENAME = "CellTimeoutError"


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


def _kernelspec(private: Path, spec: dict) -> None:
    launcher = [sys.executable, "-m", "toipkit.grading.launch"]
    if spec.get("uid") is not None:
        launcher += ["--uid", str(spec["uid"])]
    if spec.get("memory_mb"):
        launcher += ["--memory", str(spec["memory_mb"])]
    launcher += ["--pidfile", str(private / "kernel.pid"), "--"]
    argv = launcher + [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    folder = private / "jupyter" / "kernels" / KERNEL_NAME
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "kernel.json").write_text(json.dumps({
        "argv": argv, "display_name": "toipkit grading", "language": "python",
    }), encoding="utf-8")
    os.environ["JUPYTER_PATH"] = str(private / "jupyter")


def run(spec: dict) -> dict:
    private = Path(spec["private"])
    result: dict = {"status": "ok", "detail": "", "fenced": []}
    if spec.get("hide"):
        from toipkit.grading.sandbox import hide_paths

        try:
            result["fenced"] = hide_paths(spec["hide"], spec.get("keep", []), str(private / "staging"))
        except OSError as exc:
            result["detail"] = f"paths not hidden ({exc})"
    _kernelspec(private, spec)

    # nbformat's schema validation pulls jsonschema's URI grammar (about a second of import
    # time per process); the grader does not need that format check.
    sys.modules.setdefault("rfc3987_syntax", None)
    import nbformat
    import papermill
    from nbclient.exceptions import DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    timeouts: list[int] = []

    def on_cell_executed(cell, cell_index, execute_reply):
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
            error_on_timeout={
                "ename": TIMEOUT_ENAME,
                "evalue": f"cell stopped after {spec.get('cell_timeout')} s",
                "traceback": [f"{TIMEOUT_ENAME}: cell stopped after {spec.get('cell_timeout')} s"],
            },
        )
    except PapermillExecutionError:
        pass  # some cells failed: expected, they were all run (allow_errors)
    except DeadKernelError as exc:
        result.update(status="dead", detail=f"kernel died: {exc}")
    except Exception as exc:  # report, the grader decides
        result.update(status="error", detail=f"{type(exc).__name__}: {exc}")
        traceback.print_exc()
    result["timeouts"] = timeouts
    return result


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m toipkit.grading.worker SPEC.json", file=sys.stderr)
        return 2
    spec_path = Path(argv[0])
    spec = json.loads(spec_path.read_text(encoding="utf-8"))
    result = run(spec)
    _write_json(Path(spec["result"]), result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
