"""Lab 03 graded on another capture: papermill runs the solution with ``capture=...``.

The checks must follow the capture given as parameter: the solution passes every check on the
impaired call, and answers copied from the sample call fail the checks whose answer differs
between the two captures (RTP packets, codec, loss, jitter, MOS) while the capture-independent
ones still pass.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from toipkit import checks

REPO = Path(__file__).resolve().parents[2]
SOLUTION = REPO / "solutions" / "03-wireshark-sip-rtp.ipynb"
MANIFEST = json.loads((REPO / "data" / "manifest.json").read_text(encoding="utf-8"))
ENTRIES = {e["name"]: e for e in MANIFEST["captures"]}
OTHER = REPO / "data" / ENTRIES["impaired"]["file"]

pytestmark = [
    pytest.mark.notebook,
    pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed (pyshark)"),
]


def run_papermill(source: Path, out: Path, **params: str) -> None:
    args = [sys.executable, "-m", "papermill", str(source), str(out), "--cwd",
            str(REPO / "solutions"), "-k", "python3", "--no-progress-bar"]
    for key, value in params.items():
        args += ["-p", key, value]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]


def stream_rows(text: str) -> list[dict]:
    """Codec, lost and max jitter of each row of a stored ``tshark -z rtp,streams`` text."""
    rows = []
    for line in text.splitlines()[2:-1]:
        m = re.search(r"0x[0-9A-F]{8} +(.+?) +(\d+) +(-?\d+) \(", line)
        numbers = line.replace(" X", "").split()
        rows.append({"codec": m.group(1), "lost": int(m.group(3)),
                     "max_jitter": float(numbers[-1])})
    return rows


def output_text(nb, marker: str) -> str:
    for cell in nb.cells:
        if cell.cell_type == "code" and marker in cell.source:
            return "".join(o.get("data", {}).get("text/plain", "") + o.get("text", "")
                           for o in cell.outputs)
    raise AssertionError(f"no cell with {marker!r}")


def test_solution_graded_on_the_impaired_capture(tmp_path):
    out = tmp_path / "graded.ipynb"
    run_papermill(SOLUTION, out, capture=str(OTHER), student="grader")
    results = checks.collect(out)
    assert len(results) >= 14
    assert results["passed"].all(), results[~results["passed"]].to_dict("records")
    assert set(results["student"]) == {"grader"}

    # The answers shown are those of the impaired capture (truth: tshark's text at generation).
    rows = stream_rows(ENTRIES["impaired"]["tshark"]["rtp_streams"])
    shown = output_text(nbformat.read(out, as_version=4), "nb_flux, sorted(codecs)")
    expected_lost = sum(r["lost"] for r in rows)
    assert expected_lost > 0
    assert shown.startswith(f"(2, ['g711A'], {max(r['max_jitter'] for r in rows)}, "
                            f"{expected_lost}, ")


def _hard_code(nb, replacements: dict[str, str]) -> None:
    """Replace the solution of the exercise cells whose first solution line starts with a key."""
    for cell in nb.cells:
        if cell.cell_type != "code" or "### BEGIN SOLUTION" not in cell.source:
            continue
        before, rest = cell.source.split("### BEGIN SOLUTION\n", 1)
        body, after = rest.split("### END SOLUTION", 1)
        for key, code in replacements.items():
            if body.startswith(key):
                cell.source = f"{before}### BEGIN SOLUTION\n{code}\n### END SOLUTION{after}"


def test_answers_of_the_sample_fail_on_another_capture(tmp_path):
    sample = stream_rows(ENTRIES["call"]["tshark"]["rtp_streams"])
    nb = nbformat.read(SOLUTION, as_version=4)
    packets = sum(int(re.search(r"(\d+) +-?\d+ \(", ln).group(1))
                  for ln in ENTRIES["call"]["tshark"]["rtp_streams"].splitlines()[2:-1])
    _hard_code(nb, {
        "nb_sip =": f"nb_sip, nb_rtp, nb_5060 = 7, {packets}, 7",
        "nb_flux =": ("nb_flux, codecs, gigue_max_ms, pertes, delta_moyen_ms, mos_min = "
                      f"2, {{'g711U'}}, {max(r['max_jitter'] for r in sample)}, 0, 20.0, 4.36"),
        "touches =": "touches = '#2101#'",
    })
    copied = tmp_path / "copied.ipynb"
    nbformat.write(nb, copied)
    out = tmp_path / "copied-out.ipynb"
    run_papermill(copied, out, capture=str(OTHER), student="copieur")
    results = checks.collect(out).set_index("exercise")["passed"]
    must_fail = {"03-filtre-rtp", "03-codec", "03-gigue-max", "03-pertes", "03-delta", "03-mos"}
    assert not results[sorted(must_fail)].any(), results.to_dict()
    # Same answer on both captures, or independent of the capture: still right.
    for ex in ["03-filtre-sip", "03-filtre-5060", "03-sequence", "03-sequence-polycopie",
               "03-echecs", "03-nb-flux", "03-deux-sens", "03-dtmf", "03-enregistres",
               "03-chiffrement"]:
        assert results[ex], ex


SHARED_DTMF = REPO.parent / "shared" / "testdata" / "SIP_DTMF2.cap"


@pytest.mark.skipif(not SHARED_DTMF.exists(), reason="../shared/testdata not available")
def test_solution_runs_on_a_public_capture_whose_first_call_is_rejected(tmp_path):
    """SIP_DTMF2.cap starts with a call rejected by 603: the lab reads the first *answered* call,
    so an instructor can grade on it; the answers follow that capture (its DTMF are 6789123)."""
    out = tmp_path / "dtmf2.ipynb"
    run_papermill(SOLUTION, out, capture=str(SHARED_DTMF), dtmf_capture=str(SHARED_DTMF),
                  interactive="False")
    results = checks.collect(out).set_index("exercise")
    for exercise in ("03-etablissement", "03-nb-flux", "03-codec", "03-pertes", "03-dtmf"):
        assert results.loc[exercise, "passed"], exercise
    assert "6789123" in output_text(nbformat.read(out, as_version=4), "touches = ")
