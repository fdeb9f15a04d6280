from __future__ import annotations

from pathlib import Path

import pytest

from toipkit.paths import data_path

REPO = Path(__file__).resolve().parents[2]
HANDOUT = REPO.parent / "shared" / "seed" / "000_b4c507750b56f12a.txt"

XIVO_DIRECTORY = {
    "201": {"kind": "group", "name": "accueil", "members": ["101", "102"]},
    "202": {"kind": "group", "name": "support", "members": ["103"]},
    "203": {"kind": "group", "name": "communication", "members": ["104"]},
    "200": {"kind": "group", "name": "technique", "members": ["103"]},
    "101": {"kind": "user", "name": "Geralt Deriv"},
    "102": {"kind": "user", "name": "Judy Alvarez"},
    "103": {"kind": "user", "name": "Panam Palmer"},
    "104": {"kind": "user", "name": "Evelyn Parker"},
    "105": {"kind": "user", "name": "Hanako Arasaka"},
    "301": {"kind": "conference", "name": "Afterlife"},
}


@pytest.fixture
def dialplans(tmp_path) -> Path:
    """The handout's dialplans (student data) and the corrected ones (teacher data, kept next to
    the solutions so that no student-visible file is an answer), in one folder."""
    folder = tmp_path / "dialplans"
    folder.mkdir()
    for source in [*data_path("dialplans").glob("*.conf"), *(REPO / "solutions" / "data").glob("*.conf")]:
        (folder / source.name).symlink_to(source)
    return folder


@pytest.fixture
def directory():
    return dict(XIVO_DIRECTORY)


@pytest.fixture
def handout_text() -> str:
    if not HANDOUT.exists():
        pytest.skip("../shared handout not available")
    return HANDOUT.read_text(encoding="utf-8")
