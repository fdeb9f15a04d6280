"""The client against the sandbox over real HTTP: CRUD, paging, errors, associations, tokens."""

from __future__ import annotations

import time

import pytest

from toipkit import xivo
from toipkit.errors import XivoAPIError
from toipkit.xivo.client import XivoClient


def _credentials(sandbox_dir):
    from toipkit.xivo import sandbox

    return sandbox.credentials(sandbox_dir)


def test_connect_none_logs_in_to_the_sandbox(client, sandbox_dir):
    _, password = _credentials(sandbox_dir)
    assert client.infos()["uuid"]
    assert client._token and client.token_valid_for > 0
    for text in (repr(client), str(client.history), client.history_frame().to_string()):
        assert password not in text
        assert client._token not in text


def test_wrong_password_401(client, sandbox_dir):
    username, password = _credentials(sandbox_dir)
    bad = XivoClient(client.url, username, password + "x")
    with pytest.raises(XivoAPIError) as info:
        bad.users.list()
    assert info.value.status == 401
    assert password not in str(info.value)


def test_user_crud_and_errors(client):
    created = client.users.create(firstname="Geralt", lastname="Deriv", language="fr_FR")
    assert created["firstname"] == "Geralt" and created["uuid"]
    assert client.users.get(created["uuid"])["id"] == created["id"]
    client.users.update(created["id"], {"timezone": "Europe/Paris"})
    fetched = client.users.get(created["id"])
    assert fetched["timezone"] == "Europe/Paris" and fetched["language"] == "fr_FR"
    client.users.update(fetched)  # sending a record back (links stripped) is accepted
    client.users.delete(created["id"])
    with pytest.raises(XivoAPIError) as info:
        client.users.get(created["id"])
    assert info.value.status == 404
    assert info.value.messages[0].startswith("Resource Not Found - User was not found")
    with pytest.raises(XivoAPIError) as info:
        client.users.create(lastname="Sans-Prenom")
    assert info.value.status == 400
    assert any(m.startswith("Input Error") and "firstname" in m for m in info.value.messages)


def test_list_search_order_paging(client):
    names = ["Geralt", "Yennefer", "Triss", "Ciri", "Jaskier"]
    for name in names:
        client.users.create(firstname=name, lastname="Test")
    page = client.users.list(order="firstname", direction="desc", limit=2, offset=1)
    assert page.total == 5 and [u["firstname"] for u in page] == ["Triss", "Jaskier"]
    assert client.users.list(search="enne").total == 1
    assert client.users.list(firstname="Ciri").items[0]["firstname"] == "Ciri"
    got = [u["firstname"] for u in client.users.iter(page_size=2, order="firstname")]
    assert got == sorted(names)
    frame = client.users.all(order="firstname").to_frame(["firstname", "lastname"])
    assert list(frame["firstname"]) == sorted(names)
    assert client.users.find(firstname="Triss", lastname="Test")["firstname"] == "Triss"
    assert client.users.find(firstname="Nobody") is None
    with pytest.raises(XivoAPIError) as info:
        client.users.list(order="shoe_size")
    assert info.value.status == 400


def test_safe_creation_order_by_hand(client):
    line = client.lines.create({"context": "default"})
    sip = client.endpoints_sip.create({})
    assert sip["username"] and sip["secret"]
    assert sip["secret"] not in repr(sip)  # masked in reprs, still in the data
    ext = client.extensions.create({"exten": "101", "context": "default"})
    with pytest.raises(XivoAPIError) as info:  # 16.x: a line needs its endpoint first
        client.lines.add_extension(line["id"], ext["id"])
    assert info.value.status == 400
    client.lines.add_endpoint_sip(line["id"], sip["id"])
    client.lines.add_endpoint_sip(line["id"], sip["id"])  # again: no error, no duplicate
    client.lines.add_extension(line["id"], ext["id"])
    user = client.users.create(firstname="Geralt", lastname="Deriv")
    client.users.add_line(user["id"], line["id"])
    client.users.add_line(user["id"], line["id"])
    assert [a["line_id"] for a in client.users.lines(user["id"])] == [line["id"]]
    assert client.lines.endpoint_sip(line["id"])["endpoint_id"] == sip["id"]
    main = client.users.main_endpoint_sip(user["uuid"])
    assert main["username"] == sip["username"]
    with pytest.raises(XivoAPIError) as info:  # delete precondition of 16.x
        client.users.delete(user["id"])
    assert info.value.status == 400


def test_extension_range_and_duplicates(client):
    client.extensions.create({"exten": "150", "context": "default"})
    with pytest.raises(XivoAPIError) as info:
        client.extensions.create({"exten": "150", "context": "default"})
    assert "already exists" in info.value.messages[0]
    with pytest.raises(XivoAPIError) as info:
        client.extensions.create({"exten": "2077", "context": "default"})
    assert info.value.messages == [
        "Input Error - Extension '2077' is outside of range for context 'default'"]


def test_create_user_with_line_is_idempotent(client):
    first = xivo.create_user_with_line(client, "Geralt", "Deriv", "101")
    again = xivo.create_user_with_line(client, "Geralt", "Deriv", 101)
    assert first.created == ("line", "endpoint_sip", "extension", "user")
    assert again.created == ()
    assert again.user["uuid"] == first.user["uuid"]
    counts = [r.list().total for r in (client.users, client.lines, client.endpoints_sip,
                                       client.extensions)]
    assert counts == [1, 1, 1, 1]
    assert again.user["language"] == "fr_FR" and again.user["timezone"] == "Europe/Paris"
    settings = xivo.softphone_settings(client, again)
    assert settings.username == first.sip_username and settings.server == "127.0.0.1"
    assert settings.password == first.endpoint_sip["secret"]
    assert settings.password not in repr(settings) + settings.to_frame().to_string()
    with pytest.raises(xivo.XivoAPIError.__mro__[1]):  # ToipkitError: 101 is Geralt's
        xivo.create_user_with_line(client, "Vesemir", "Old", "101")


def test_create_user_with_line_completes_a_half_done_user(client):
    # A student stopped after creating the line and its endpoint: re-running finishes the job.
    line = client.lines.create({"context": "default"})
    sip = client.endpoints_sip.create({})
    client.lines.add_endpoint_sip(line["id"], sip["id"])
    ext = client.extensions.create({"exten": "102", "context": "default"})
    client.lines.add_extension(line["id"], ext["id"])
    done = xivo.create_user_with_line(client, "Yennefer", "Vengerberg", "102")
    assert done.created == ("user",)
    assert done.line["id"] == line["id"]
    assert client.lines.list().total == 1


def test_delete_user_with_line(client):
    xivo.create_user_with_line(client, "Triss", "Merigold", "103")
    assert xivo.delete_user_with_line(client, "Triss", "Merigold")
    assert [r.list().total for r in (client.users, client.lines, client.extensions)] == [0, 0, 0]
    assert not xivo.delete_user_with_line(client, "Triss", "Merigold")


def test_token_expiry_is_handled(sandbox_dir, client):
    username, password = _credentials(sandbox_dir)
    short = XivoClient(client.url, username, password, expiration=1)
    short.users.list()
    first = short._token
    time.sleep(1.2)  # the sandbox token has expired; the client renews before/after a 401
    assert short.users.list().total == 0
    assert short._token != first


def test_capabilities_from_the_spec(client):
    assert client.supports("groups") and client.supports("callfilters")
    assert not client.supports("queues")
    with pytest.raises(xivo.XivoUnsupportedError) as info:
        client.require("queues", "queues", "Services > IPBX > Call center > Queues")
    assert info.value.status == 404
    assert "Services > IPBX > Call center > Queues" in str(info.value)


def test_logs_never_show_token_or_password(sandbox_dir, client, caplog):
    import logging

    username, password = _credentials(sandbox_dir)
    caplog.set_level(logging.DEBUG)
    c = XivoClient(client.url, username, password)
    c.users.list()
    token = c._token
    c.logout()
    assert "/0.1/token/***" in caplog.text  # the revocation was logged, masked
    assert token not in caplog.text and password not in caplog.text
    # The revoked token no longer opens confd.
    resp = c._http.get(f"{c.confd_url}/1.1/users", headers={"X-Auth-Token": token})
    assert resp.status_code == 401


def test_update_csv_and_bool_cells(client):
    xivo.create_user_with_line(client, "Geralt", "Deriv", "101")
    user = client.users.find(firstname="Geralt")
    client.users.update_csv([{"uuid": user["uuid"], "firstname": "Geralt",
                              "call_transfer_enabled": True}])
    assert client.users.get(user["id"])["call_transfer_enabled"] is True


def test_legacy_lines_sip_and_incalls(client):
    legacy = client.lines_sip.create({"context": "default"})
    assert legacy["username"] and legacy["secret"] and legacy["context"] == "default"
    assert client.lines_sip.get(legacy["id"])["username"] == legacy["username"]
    assert client.lines.get(legacy["id"])["context"] == "default"
    lab_user = xivo.create_user_with_line(client, "Geralt", "Deriv", "101")
    incall = client.incalls.create({"destination": {"type": "user",
                                                    "user_id": lab_user.user["id"]}})
    did = client.extensions.create({"exten": "1101", "context": "from-extern"})
    client.incalls.add_extension(incall["id"], did["id"])
    client.incalls.add_extension(incall["id"], did["id"])  # idempotent
    assert [e["exten"] for e in client.incalls.get(incall["id"])["extensions"]] == ["1101"]


def test_moh_upload_and_history(client):
    moh = xivo.ensure_moh(client, "badlands")
    assert xivo.ensure_moh(client, "badlands")["uuid"] == moh["uuid"]
    client.moh.upload_file(moh, "theme.wav", b"RIFF....WAVEfmt ")
    assert [f["name"] for f in client.moh.get(moh["uuid"])["files"]] == ["theme.wav"]
    frame = client.history_frame(last=2)
    assert list(frame["method"]) == ["PUT", "GET"] and list(frame["status"]) == [204, 200]


def test_client_method_form_of_the_helper(client):
    first = client.create_user_with_line("Ciri", "Riannon", "110")
    again = client.create_user_with_line("Ciri", "Riannon", "110")
    assert first.created and not again.created
    assert client.users.list().total == 1


def test_sandbox_restarted_behind_the_client(tmp_path):
    """A notebook's client survives `toipkit sandbox stop` + restart on another port; stop and
    start keep the data."""
    from toipkit.xivo import connect, sandbox

    data_dir = tmp_path / "sb"
    try:
        with connect(None, data_dir=data_dir) as client:
            client.create_user_with_line("Geralt", "Deriv", "101")
            sandbox.stop(data_dir)
            # Nothing listens any more: the POST was never sent, so it is safe to send it again.
            client.users.create(firstname="Yennefer", lastname="Vengerberg")
            assert sorted(u["firstname"] for u in client.users.all()) == ["Geralt", "Yennefer"]
    finally:
        sandbox.stop(data_dir)
