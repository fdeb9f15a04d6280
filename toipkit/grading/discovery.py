"""Finding the submissions of one lab in the files and folders an instructor gives."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from toipkit.errors import GradingError

# Copied from a student's folder next to the notebook (anything else is left out).
MAX_EXTRA_BYTES = 20 * 1024 * 1024
SKIP_NAMES = {".ipynb_checkpoints", "__pycache__", ".git"}

_SAFE_ID = re.compile(r"[^A-Za-z0-9._@+-]+")


@dataclass
class Submission:
    student: str
    notebook: Path
    folder: Path | None = None  # a student's own folder: its other files are copied along


def student_id(name: str) -> str:
    """A file-system and CSV safe student id built from a file or folder name."""
    cleaned = _SAFE_ID.sub("_", name).strip("._") or "anonyme"
    return cleaned[:80]


def find_submissions(paths: list[str | Path], lab_id: str,
                     lab_name: str | None = None) -> list[Submission]:
    """Submissions from files and folders.

    * ``alice.ipynb`` → student ``alice``;
    * a folder of notebooks ``alice.ipynb, bob.ipynb`` → one submission per notebook;
    * a folder of folders ``alice/03-wireshark.ipynb`` → one submission per sub-folder (its
      notebook of that lab, or its only notebook); the sub-folder's other files come along;
    * a folder holding at most one notebook of the lab named like a course notebook
      (``NN-name.ipynb``) is one student's folder;
    * ``lab_name`` (the teacher file's stem, e.g. ``03-wireshark``) is removed from student ids
      built from file names: ``03-wireshark-alice.ipynb`` → ``alice``.
    """
    from toipkit.course import lab_id_of

    def file_student(path: Path) -> str:
        stem = path.stem
        if lab_name and stem.startswith(lab_name) and stem != lab_name:
            stem = stem[len(lab_name):].lstrip("-_ .") or stem
        return student_id(stem)

    def student_folder(folder: Path) -> Submission | None:
        notebooks = sorted(p for p in folder.glob("*.ipynb") if p.is_file())
        if not notebooks:
            return None
        same_lab = [p for p in notebooks if lab_id_of(p) == lab_id]
        chosen = (same_lab or notebooks)[0]
        return Submission(student_id(folder.name), chosen, folder)

    found: list[Submission] = []
    for raw in paths:
        path = Path(raw)
        if path.is_file():
            if path.suffix != ".ipynb":
                raise GradingError(f"{path}: not a notebook (.ipynb)")
            found.append(Submission(file_student(path), path))
        elif path.is_dir():
            notebooks = sorted(p for p in path.glob("*.ipynb") if p.is_file())
            subfolders = sorted(p for p in path.iterdir()
                                if p.is_dir() and p.name not in SKIP_NAMES)
            course_named = [p for p in notebooks if lab_id_of(p)]
            if course_named and sum(lab_id_of(p) == lab_id for p in course_named) <= 1:
                sub = student_folder(path)
                if sub:
                    found.append(sub)
                continue
            found.extend(Submission(file_student(p), p) for p in notebooks)
            for folder in subfolders:
                sub = student_folder(folder)
                if sub:
                    found.append(sub)
        else:
            raise GradingError(f"{path}: no such file or folder")
    seen: dict[str, Path] = {}
    for sub in found:
        if sub.student in seen:
            raise GradingError(f"student {sub.student!r} appears twice: {seen[sub.student]} and "
                               f"{sub.notebook}")
        seen[sub.student] = sub.notebook
    if not found:
        raise GradingError("no submitted notebook found in " + ", ".join(map(str, paths)))
    return sorted(found, key=lambda s: s.student)


def copy_extras(folder: Path, work: Path, notebook: Path) -> None:
    """Copy a student folder's other files (no hidden files, no symlinks, 20 MB in all)."""
    budget = MAX_EXTRA_BYTES
    for source in sorted(folder.rglob("*")):
        rel = source.relative_to(folder)
        if any(part in SKIP_NAMES or part.startswith(".") for part in rel.parts):
            continue
        if source.is_symlink() or source == notebook or source.suffix == ".ipynb":
            continue
        if source.is_file():
            size = source.stat().st_size
            if size > budget:
                continue
            budget -= size
            target = work / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
