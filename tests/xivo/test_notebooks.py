"""Labs 02 and 04 end to end with papermill (re-runnable, no secret in any output), and no
secret in the stored outputs of any lab. The lab list comes from ``solutions/``: a new lab
notebook is covered without editing this file."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from toipkit.conventions import PARAMETERS_TAG, has_tag
from toipkit.course.layout import lab_id_of, lab_notebooks
from toipkit.paths import data_path, repo_root

SOLUTIONS = repo_root() / "solutions"
LABS = lab_notebooks(SOLUTIONS)


def lab(lab_id: str) -> Path:
    """The solution notebook of ``lab_id`` ("02")."""
    found = [path for path in LABS if lab_id_of(path) == lab_id]
    assert len(found) == 1, f"lab {lab_id}: {[p.name for p in found]}"
    return found[0]

UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")


def _outputs(nb) -> str:
    texts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            texts.append(out.get("text", ""))
            texts.extend(str(v) for v in (out.get("data") or {}).values())
            texts.extend(out.get("traceback", []))
    return "\n".join(texts)


def _run(path: Path, out: Path, home: Path, monkeypatch) -> nbformat.NotebookNode:
    import papermill

    monkeypatch.setenv("TOIPKIT_HOME", str(home))
    papermill.execute_notebook(str(path), str(out), parameters={"student": "alice",
                                                                "interactive": False},
                               cwd=str(SOLUTIONS), progress_bar=False, log_output=False,
                               kernel_name="python3")
    return nbformat.read(out, as_version=4)


@pytest.fixture
def home(tmp_path):
    path = tmp_path / "home"
    path.mkdir()
    yield path
    from toipkit.xivo import sandbox

    sandbox.stop(path / "sandbox")


def _sandbox_secrets(home: Path) -> set[str]:
    """Every secret of that sandbox: service password and the SIP secrets of all lines."""
    from toipkit.xivo import connect, sandbox

    data_dir = home / "sandbox"
    _, password = sandbox.credentials(data_dir)
    found = {password}
    with connect(None, data_dir=data_dir) as client:
        found |= {e["secret"] for e in client.endpoints_sip.iter()}
        found.add(client._token)
    return found


@pytest.mark.notebook
@pytest.mark.skipif(not data_path("captures", "register.pcap").exists(),
                    reason="data/captures/register.pcap not generated yet")
def test_lab02_twice_leaves_three_users_and_no_secret(tmp_path, home, monkeypatch):
    from toipkit.xivo import connect

    first = _run(lab("02"), tmp_path / "first.ipynb", home, monkeypatch)
    second = _run(lab("02"), tmp_path / "second.ipynb", home, monkeypatch)
    with connect(None, data_dir=home / "sandbox") as client:
        users = client.users.all()
        assert sorted((u["firstname"], u["lastname"]) for u in users) == [
            ("Geralt", "Deriv"), ("Triss", "Merigold"), ("Yennefer", "Vengerberg")]
        assert client.lines.list().total == 3
        assert client.endpoints_sip.list().total == 3
        assert client.extensions.list().total == 3
    secrets = _sandbox_secrets(home)
    for nb in (first, second):
        text = _outputs(nb)
        leaked = [s for s in secrets if s and s in text]
        assert not leaked, "a password/secret/token appears in an output"
        assert "❌" not in text  # every check passed, both times


@pytest.mark.notebook
def test_lab04_alone_then_again(tmp_path, home, monkeypatch):
    """Lab 04 creates lab 02's users itself when started first, and re-runs cleanly."""
    from toipkit.xivo import connect

    for name in ("a.ipynb", "b.ipynb"):
        nb = _run(lab("04"), tmp_path / name, home, monkeypatch)
        assert "❌ 04" not in _outputs(nb)
    with connect(None, data_dir=home / "sandbox") as client:
        assert client.users.list().total == 5
        assert [r.list().total for r in (client.groups, client.conferences,
                                         client.call_filters)] == [3, 1, 1]
    secrets = _sandbox_secrets(home)
    text = _outputs(nb)
    assert not [s for s in secrets if s and s in text]


def test_every_lab_is_found():
    assert len(LABS) >= 6 and lab("02").name == "02-utilisateurs-lignes.ipynb"


@pytest.mark.parametrize("path", LABS, ids=lambda path: path.name)
def test_stored_solution_outputs_have_no_secret(path):
    from toipkit.course.checking import find_secrets

    nb = nbformat.read(path, as_version=4)
    assert find_secrets(nb) == []
    text = _outputs(nb)
    assert not UUID.search(text), "a uuid (or token) appears in a stored output"
    assert "X-Auth-Token:" not in text
    for cell in nb.cells:  # the parameters cell never carries a secret
        if has_tag(cell, PARAMETERS_TAG):
            assert not re.search(r"(?i)pass|secret|token", cell.source)
