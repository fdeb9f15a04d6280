"""Run a notebook in place (teacher sources keep their outputs for strict nbval)."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

from toipkit._fileio import atomic_write
from toipkit.course.build import render
from toipkit.errors import CourseError


@contextmanager
def _environment(overrides: dict[str, str]):
    saved = {key: os.environ.get(key) for key in overrides}
    os.environ.update(overrides)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _shown_as(text: str, replacements: dict[str, str]) -> str:
    for actual, shown in replacements.items():
        text = text.replace(actual, shown)
    return text


def _replace_in_outputs(nb, replacements: dict[str, str]) -> None:
    """Replace run-specific strings (a temporary state folder) in every stored output."""
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if "text" in output:
                output["text"] = _shown_as(output["text"], replacements)
            for mime, value in output.get("data", {}).items():
                if isinstance(value, str) and mime.startswith(("text/", "image/svg")):
                    output["data"][mime] = _shown_as(value, replacements)
            if "traceback" in output:
                output["traceback"] = [_shown_as(line, replacements) for line in output["traceback"]]
            if "evalue" in output:
                output["evalue"] = _shown_as(output["evalue"], replacements)


def execute(path: str | Path, timeout: int = 600, env: dict[str, str] | None = None,
            shown_paths: dict[str, str] | None = None) -> Path:
    """Execute ``path`` with its own folder as working directory and store the outputs.

    Execution metadata (timings) is dropped so the stored notebook only changes when outputs do.
    ``shown_paths`` maps run-specific paths (a temporary state folder) to what a student's own
    run would show, so stored outputs name no folder of the machine that produced them.
    The file is replaced only when every cell ran; on error nothing is written.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    path = Path(path).resolve()
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    try:
        with _environment(env or {}):
            client.execute()
    except CellExecutionError as exc:
        raise CourseError(f"{path.name}: a cell failed, nothing written:\n{exc}") from None
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    if shown_paths:
        _replace_in_outputs(nb, shown_paths)
    atomic_write(path, render(nb))
    return path
