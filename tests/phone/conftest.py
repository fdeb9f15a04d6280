from __future__ import annotations

import pytest


@pytest.fixture
def phones(client, tmp_path, monkeypatch):
    """``phones("101", auto_answer=True)``: a phone registered as that line, closed after."""
    from toipkit.phone import Phone

    monkeypatch.setenv("TOIPKIT_HOME", str(tmp_path))
    made: list = []

    def make(exten, **kwargs):
        phone = Phone.for_line(client, exten, **kwargs)
        made.append(phone)
        return phone

    yield make
    for phone in made:
        phone.close()
