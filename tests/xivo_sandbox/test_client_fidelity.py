"""The client facing confd's answers honestly: schedule associations, capability detection
without a spec, and CSV imports in other encodings (real server, real HTTP)."""

from __future__ import annotations

import pytest

from toipkit.errors import CSVImportError, XivoAPIError
from toipkit.xivo import connect, sandbox


@pytest.fixture
def client(server, api):
    with connect(None, data_dir=server.data_dir) as c:
        yield c


def _schedule(client, name: str):
    return client.schedules.create(name=name, closed_destination={"type": "hangup"})


def test_add_schedule_does_not_hide_another_schedule(client):
    group = client.groups.create(name="accueil")
    first, second = _schedule(client, "jour"), _schedule(client, "nuit")
    client.groups.add_schedule(group, first)
    client.groups.add_schedule(group, first)  # already there: fine
    with pytest.raises(XivoAPIError) as err:
        client.groups.add_schedule(group, second)  # the group has another schedule
    assert err.value.status == 400
    incall_ext = client.extensions.create(exten="1100", context="from-extern")
    incall = client.incalls.create(destination={"type": "group", "group_id": group["id"]})
    client.incalls.add_extension(incall, incall_ext)
    client.incalls.add_schedule(incall, first)
    with pytest.raises(XivoAPIError):
        client.incalls.add_schedule(incall, second)


def test_supports_probes_when_there_is_no_spec(client, server):
    sandbox.reset(server.data_dir, wizard={"api_profile": "xivo-16.13"})
    try:
        client._spec_paths, client._spec_loaded = None, True  # as if api.json could not load
        assert client.supports("users") is True
        assert client.supports("groups") is False  # 404 on a 16.13 confd
    finally:
        sandbox.reset(server.data_dir)


def test_import_in_latin1(client):
    from toipkit.xivo.csvio import import_report, import_users

    text = "firstname,lastname\nHélène,Dupré\n"
    done = import_users(client.users, text, encoding="latin-1")
    assert len(done.created) == 1
    assert client.users.find(firstname="Hélène")["lastname"] == "Dupré"
    with pytest.raises(CSVImportError) as err:
        import_users(client.users, "firstname\nŁukasz\n", encoding="latin-1")
    assert list(err.value.rows) == [1]
    outcome = import_report(client.users, "firstname\nŁukasz\n", encoding="latin-1")
    assert not outcome.ok and 1 in outcome.rows
    # bytes in latin-1 or UTF-16: the report counts the rows and never raises
    for raw in ("firstname\nZoé\n".encode("latin-1"), "firstname\nZoé\n".encode("utf-16")):
        outcome = import_report(client.users, raw)
        assert outcome.attempted == 1
