"""Turn a student's submission into the notebook the grader executes.

Matching rule (what ``prepare`` does, in this order):

1. **Lab id.** The submission's metadata ``toipkit.lab`` must equal the graded lab. Without it,
   the lab id in the file name (``NN-name.ipynb``) is used; without that, the submission must
   still hold at least half of the official cell ids. Otherwise the status is ``wrong-lab``.
2. **Check cells are the teacher's.** Every submitted cell tagged ``check`` or carrying the id of
   an official check cell is dropped, whatever its content. A check cell that was deleted,
   edited or untagged is therefore worth nothing by itself.
3. **Official check cells go back after their exercise** — hidden ones too (check cells also
   tagged ``teacher``, absent from the student version). Each official check cell is inserted
   right after the submitted cell with the id of the cell that precedes it in the student
   version (if that id is gone, the one before it, and so on). When the submission holds none
   of those ids (e.g. ids stripped by an old editor), position is used: after the k-th non-check
   cell, k being the count of non-check cells before it in the student version.
4. **Parameters cell is the teacher's.** Submitted cells tagged ``parameters`` are dropped; the
   official one takes the place of the first of them (or goes before the first code cell), so
   papermill's injected values (``interactive=False``, ``student``, hidden inputs) are never
   overridden by an edited parameters cell.
5. Only check records emitted by the cells inserted in steps 3 (marked in cell metadata under
   ``toipkit_grading``, which the kernel cannot change) are counted, and only for the exercise
   ids that cell is known to check.
6. Student cells that look like tampering with the checks (assigning to ``checks.*``, touching
   its private names, ``sys.modules``, ``importlib.reload``, the record MIME type) are listed in
   ``Prepared.suspicious``; the grade sheet notes them for the instructor to look at.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from toipkit.conventions import CHECK_TAG
from toipkit.grading.labspec import GRADING_KEY, Lab, is_parameters_cell

KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}


@dataclass
class Prepared:
    notebook: nbformat.NotebookNode | None
    status: str  # "ok" or "wrong-lab"
    note: str = ""
    submitted_lab: str = ""
    suspicious: list[int] = field(default_factory=list)  # cells that seem to tamper with checks


# Code that has no business in an exercise cell: patching the check library or forging records.
TAMPERING = re.compile(
    r"vnd\.toipkit|toipkit_grading|\bchecks\s*\.\s*\w+\s*=(?!=)|setattr\s*\(\s*checks\b"
    r"|\bchecks\s*\.\s*_\w+|importlib\s*\.\s*reload|sys\s*\.\s*modules"
)


def submitted_lab_id(nb: nbformat.NotebookNode, path: str | Path | None = None) -> str:
    declared = (nb.get("metadata", {}).get("toipkit") or {}).get("lab")
    if declared:
        return str(declared)
    if path is not None:
        from toipkit.course import lab_id_of

        return lab_id_of(path) or ""
    return ""


def _is_check_like(cell, official_ids: set[str]) -> bool:
    tags = cell.get("metadata", {}).get("tags", [])
    return CHECK_TAG in tags or (cell.get("id") in official_ids)


def prepare(
    nb: nbformat.NotebookNode, lab: Lab, path: str | Path | None = None
) -> Prepared:
    """The notebook to execute for a submission (the input is not modified)."""
    submitted = submitted_lab_id(nb, path)
    official_ids = {c.get("id") for c in lab.notebook.cells if c.get("id")}
    if submitted and submitted != lab.lab_id:
        return Prepared(None, "wrong-lab", f"submitted lab {submitted!r}, graded lab {lab.lab_id!r}",
                        submitted)
    if not submitted:
        present = {c.get("id") for c in nb.get("cells", []) if c.get("id")}
        if not official_ids or len(present & official_ids) * 2 < len(official_ids):
            return Prepared(None, "wrong-lab", "no lab id in the notebook and few of the lab's cells",
                            "")

    check_ids = {c.cell_id for c in lab.checks if c.cell_id}
    params_id = lab.parameters_cell.get("id") if lab.parameters_cell is not None else None
    cells: list = []
    params_at: int | None = None
    for cell in nb.get("cells", []):
        cell = copy.deepcopy(cell)
        cell.setdefault("metadata", {}).pop(GRADING_KEY, None)
        if _is_check_like(cell, check_ids):
            continue
        if is_parameters_cell(cell) or (params_id and cell.get("id") == params_id):
            if params_at is None:
                params_at = len(cells)
            continue
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        cells.append(cell)

    if lab.parameters_cell is not None:
        official = copy.deepcopy(lab.parameters_cell)
        official.metadata[GRADING_KEY] = {"parameters": True}
        if params_at is None:
            params_at = next((i for i, c in enumerate(cells) if c.get("cell_type") == "code"),
                             len(cells))
        cells.insert(params_at, official)

    # Insert official check cells after their anchors, keeping the official order.
    # Anchors are looked up among the student's own cells (the parameters cell is ours).
    ids = [None if (c.get("metadata", {}).get(GRADING_KEY) or {}).get("parameters") else c.get("id")
           for c in cells]
    non_check_positions = list(range(len(cells)))
    after: dict[int, list] = {}
    for check in lab.checks:
        position = None
        for anchor in check.anchors:
            if anchor and anchor in ids:
                position = ids.index(anchor)
                break
        if position is None:
            if not non_check_positions:
                position = -1
            else:
                k = min(max(check.anchor_position - 1, 0), len(non_check_positions) - 1)
                position = non_check_positions[k]
        cell = nbformat.v4.new_code_cell(check.source)
        if check.cell_id:
            cell["id"] = check.cell_id
        cell.metadata["tags"] = [CHECK_TAG]
        cell.metadata[GRADING_KEY] = {"official": True, "exercises": list(check.exercises)}
        after.setdefault(position, []).append(cell)

    final = list(after.get(-1, []))
    for index, cell in enumerate(cells):
        final.append(cell)
        final.extend(after.get(index, []))

    # Duplicate ids (a student copy-pasting cells) would make the notebook invalid.
    seen: set[str] = set()
    for index, cell in enumerate(final):
        cid = cell.get("id")
        if cid in seen or not cid:
            cell["id"] = f"g{index:04d}"
        seen.add(cell["id"])

    suspicious = [index for index, cell in enumerate(final)
                  if cell.get("cell_type") == "code"
                  and not cell.get("metadata", {}).get(GRADING_KEY)
                  and TAMPERING.search(cell.get("source", ""))]
    out = nbformat.v4.new_notebook(cells=final)
    out.metadata["kernelspec"] = dict(KERNELSPEC)
    out.metadata["language_info"] = {"name": "python"}
    out.metadata["toipkit"] = {"lab": lab.lab_id}
    return Prepared(out, "ok", "", submitted or lab.lab_id, suspicious)
