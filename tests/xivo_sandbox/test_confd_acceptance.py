"""Behaviour of the real confd, from its own acceptance suites, checked over plain HTTP.

Each test restates one behaviour the real confd's integration tests assert (tags ``xivo-16.13``
for users, lines, extensions, SIP endpoints and their associations; ``xivo-16.15`` for groups;
``wazo-16.16`` for conferences; ``wazo-18.03`` for call filters), written for a fresh sandbox.
Error messages follow the ``xivo-dao`` templates (``Resource Error - X is associated with a Y``,
``Resource Not Found - X was not found``, ``Input Error - field: [...]``).
"""

from __future__ import annotations

import re

import pytest

from toipkit.xivo import sandbox

FAKE_ID = 999999999
FAKE_UUID = "99999999-9999-9999-9999-999999999999"


# --------------------------------------------------------------------------------------------
# helpers


def messages(r) -> list[str]:
    body = r.json()
    assert isinstance(body, list), body
    return body


def assert_error(r, status: int, pattern: str) -> None:
    assert r.status_code == status, f"{r.status_code} {r.text}"
    found = [m for m in messages(r) if re.search(pattern, m)]
    assert found, f"no error matching {pattern!r} in {r.text}"


def new_line(api, with_sip: bool = True, **body) -> dict:
    line = api.ok("POST", "/lines", 201, json={"context": "default", **body})
    if with_sip:
        sip = api.ok("POST", "/endpoints/sip", 201, json={})
        api.ok("PUT", f"/lines/{line['id']}/endpoints/sip/{sip['id']}", 204)
        line["sip"] = sip
    return line


def new_ext(api, exten: str, context: str = "default") -> dict:
    return api.ok("POST", "/extensions", 201, json={"exten": exten, "context": context})


def new_user(api, firstname: str = "Ada", **body) -> dict:
    return api.ok("POST", "/users", 201, json={"firstname": firstname, **body})


def link(api, path: str, status: int = 204):
    return api.ok("PUT", path, status)


# --------------------------------------------------------------------------------------------
# 1. Several lines per user, secondary users, one extension shared by one user's lines


def test_user_with_several_lines_main_line_first(api):
    user = new_user(api)
    lines = [new_line(api) for _ in range(3)]
    for line in lines:
        link(api, f"/users/{user['id']}/lines/{line['id']}")
    items = api.ok("GET", f"/users/{user['id']}/lines", 200)["items"]
    assert [(i["line_id"], i["main_line"]) for i in items] == \
        [(lines[0]["id"], True), (lines[1]["id"], False), (lines[2]["id"], False)]
    assert [x["id"] for x in api.ok("GET", f"/users/{user['uuid']}", 200)["lines"]] == \
        [line["id"] for line in lines]


def test_main_line_falls_back_to_a_remaining_line(api):
    user = new_user(api)
    lines = [new_line(api) for _ in range(3)]
    for line in lines:
        link(api, f"/users/{user['id']}/lines/{line['id']}")
    for gone, remaining in ((0, 2), (1, 1)):
        api.ok("DELETE", f"/users/{user['uuid']}/lines/{lines[gone]['id']}", 204)
        items = api.ok("GET", f"/users/{user['uuid']}/lines", 200)["items"]
        assert len(items) == remaining
        assert sum(i["main_line"] for i in items) == 1
    api.ok("DELETE", f"/users/{user['uuid']}/lines/{lines[2]['id']}", 204)
    assert api.ok("GET", f"/users/{user['uuid']}/lines", 200)["items"] == []


def test_line_with_secondary_users(api):
    line = new_line(api)
    ext = new_ext(api, "101")
    link(api, f"/lines/{line['id']}/extensions/{ext['id']}")
    users = [new_user(api, f"U{i}") for i in range(3)]
    for user in users:
        link(api, f"/users/{user['id']}/lines/{line['id']}")
    items = api.ok("GET", f"/lines/{line['id']}/users", 200)["items"]
    assert [(i["user_id"], i["main_user"], i["main_line"]) for i in items] == \
        [(users[0]["id"], True, True), (users[1]["id"], False, True),
         (users[2]["id"], False, True)]


def test_main_user_cannot_leave_before_secondary_users(api):
    line = new_line(api)
    first, second = new_user(api, "First"), new_user(api, "Second")
    link(api, f"/users/{first['id']}/lines/{line['id']}")
    link(api, f"/users/{second['id']}/lines/{line['id']}")
    r = api.delete(f"/users/{first['id']}/lines/{line['id']}")
    assert_error(r, 400, r"There are secondary users associated to the line")
    api.ok("DELETE", f"/users/{second['id']}/lines/{line['id']}", 204)
    api.ok("DELETE", f"/users/{first['id']}/lines/{line['id']}", 204)


def test_same_user_and_line_twice(api):
    user, line = new_user(api), new_line(api)
    link(api, f"/users/{user['id']}/lines/{line['id']}")
    assert_error(api.put(f"/users/{user['id']}/lines/{line['id']}"), 400,
                 r"^Resource Error - User is associated with a Line")


def test_extension_shared_by_lines_without_users(api):
    ext = new_ext(api, "101")
    for _ in range(3):
        link(api, f"/lines/{new_line(api)['id']}/extensions/{ext['id']}")
    items = api.ok("GET", f"/extensions/{ext['id']}/lines", 200)["items"]
    assert len(items) == 3


def test_extension_shared_by_two_lines_of_the_same_user(api):
    user, ext = new_user(api), new_ext(api, "101")
    line1, line2 = new_line(api), new_line(api)
    link(api, f"/users/{user['id']}/lines/{line1['id']}")
    link(api, f"/users/{user['id']}/lines/{line2['id']}")
    link(api, f"/lines/{line1['id']}/extensions/{ext['id']}")
    link(api, f"/lines/{line2['id']}/extensions/{ext['id']}")
    # the user's main extension is the shared one
    rows = api.ok("GET", "/users", 200, params={"view": "directory"})["items"]
    assert [r["exten"] for r in rows] == ["101"]


def test_extension_cannot_be_shared_by_lines_of_different_users(api):
    ext = new_ext(api, "101")
    u1, u2 = new_user(api, "One"), new_user(api, "Two")
    line1, line2 = new_line(api), new_line(api)
    link(api, f"/users/{u1['id']}/lines/{line1['id']}")
    link(api, f"/users/{u2['id']}/lines/{line2['id']}")
    link(api, f"/lines/{line1['id']}/extensions/{ext['id']}")
    assert_error(api.put(f"/lines/{line2['id']}/extensions/{ext['id']}"), 400,
                 r"^Resource Error - User is associated with a Line")


def test_second_user_on_a_line_sharing_another_users_extension(api):
    ext = new_ext(api, "101")
    u1, u2 = new_user(api, "One"), new_user(api, "Two")
    line1, line2 = new_line(api), new_line(api)
    link(api, f"/lines/{line1['id']}/extensions/{ext['id']}")
    link(api, f"/lines/{line2['id']}/extensions/{ext['id']}")
    link(api, f"/users/{u1['id']}/lines/{line1['id']}")
    assert_error(api.put(f"/users/{u2['id']}/lines/{line2['id']}"), 400,
                 r"^Resource Error - Line is associated with a Extension")


def test_line_has_one_internal_extension(api):
    line = new_line(api)
    e1, e2 = new_ext(api, "101"), new_ext(api, "102")
    link(api, f"/lines/{line['id']}/extensions/{e1['id']}")
    assert_error(api.put(f"/lines/{line['id']}/extensions/{e2['id']}"), 400,
                 r"^Resource Error - Line is associated with a Extension")
    assert_error(api.put(f"/lines/{line['id']}/extensions/{e1['id']}"), 400,
                 r"is associated with a")


def test_deleting_a_line_keeps_the_shared_extension_of_the_other_line(api):
    user, ext = new_user(api), new_ext(api, "101")
    line1, line2 = new_line(api), new_line(api)
    for line in (line1, line2):
        link(api, f"/users/{user['id']}/lines/{line['id']}")
        link(api, f"/lines/{line['id']}/extensions/{ext['id']}")
    api.ok("DELETE", f"/lines/{line1['id']}", 204)
    items = api.ok("GET", f"/extensions/{ext['id']}/lines", 200)["items"]
    assert [i["line_id"] for i in items] == [line2["id"]]
    assert api.ok("GET", f"/users/{user['id']}/lines", 200)["items"][0]["main_line"] is True


# --------------------------------------------------------------------------------------------
# 2. One "Input Error - <field>: [...]" entry per invalid field


@pytest.mark.parametrize("path, body, fields", [
    ("/lines", {"context": 123, "position": 0, "registrar": []},
     ("context", "position", "registrar")),
    ("/extensions", {"exten": True, "context": {}}, ("exten", "context")),
    ("/groups", {"name": 123, "ring_strategy": "nope", "timeout": "ten"},
     ("name", "ring_strategy", "timeout")),
    ("/callfilters", {"name": 1, "source": "moon", "strategy": "x"},
     ("name", "source", "strategy")),
])
def test_one_error_per_invalid_field(api, path, body, fields):
    r = api.post(path, json=body)
    assert r.status_code == 400, r.text
    got = {m.split(" - ", 1)[1].split(":", 1)[0] for m in messages(r)}
    assert got == set(fields), r.text
    assert all(m.startswith("Input Error - ") for m in messages(r))


# --------------------------------------------------------------------------------------------
# 3. The summary view


def test_summary_view_entity_is_the_users_entity(api, server):
    sandbox.reset(server.data_dir, wizard={"entity": "Ecole Nord"})
    entity = api.ok("GET", "/entities", 200)["items"][0]["name"]
    user = api.user_with_line("Ada", "Lovelace", "101")
    rows = api.ok("GET", "/users", 200,
                  params={"view": "summary", "id": user["user"]["id"]})["items"]
    assert len(rows) == 1
    assert rows[0]["entity"] == entity
    assert rows[0]["extension"] == "101" and rows[0]["protocol"] == "sip"
    bare = new_user(api, "Bare")
    row = api.ok("GET", "/users", 200, params={"view": "summary", "id": bare["id"]})["items"][0]
    assert (row["extension"], row["context"], row["protocol"], row["provisioning_code"],
            row["entity"]) == (None, None, None, None, entity)


def test_summary_view_search_on_extension_and_provisioning_code(api):
    made = api.user_with_line("Aboubacar", "Mane", "133")
    api.user_with_line("Other", "Person", "144")
    line = api.ok("GET", f"/lines/{made['line']['id']}", 200)
    for term in ("133", line["provisioning_code"], "abou"):
        rows = api.ok("GET", "/users", 200, params={"view": "summary", "search": term})["items"]
        assert [r["firstname"] for r in rows] == ["Aboubacar"], term


# --------------------------------------------------------------------------------------------
# 4. Group members


def test_group_member_needs_a_line(api):
    group = api.ok("POST", "/groups", 201, json={"name": "accueil"})
    user = new_user(api)
    assert_error(api.put(f"/groups/{group['id']}/members/users",
                         json={"users": [{"uuid": user["uuid"]}]}), 400,
                 r"^Resource Error - User must be associated with a Line")


def test_group_members_cannot_share_a_line(api):
    group = api.ok("POST", "/groups", 201, json={"name": "accueil"})
    line = new_line(api)
    u1, u2 = new_user(api, "One"), new_user(api, "Two")
    link(api, f"/users/{u1['id']}/lines/{line['id']}")
    link(api, f"/users/{u2['id']}/lines/{line['id']}")
    assert_error(api.put(f"/groups/{group['id']}/members/users",
                         json={"users": [{"uuid": u1["uuid"]}, {"uuid": u2["uuid"]}]}), 400,
                 r"Cannot associate different users with the same line")


def test_group_member_twice_and_order_kept(api):
    group = api.ok("POST", "/groups", 201, json={"name": "accueil"})
    users = [api.user_with_line(f"U{i}", "X", f"10{i}")["user"] for i in range(1, 4)]
    r = api.put(f"/groups/{group['id']}/members/users",
                json={"users": [{"uuid": users[0]["uuid"]}, {"uuid": users[0]["uuid"]}]})
    assert r.status_code == 400
    order = [users[1], users[2], users[0]]
    api.ok("PUT", f"/groups/{group['id']}/members/users", 204,
           json={"users": [{"uuid": u["uuid"]} for u in order]})
    got = api.ok("GET", f"/groups/{group['id']}", 200)["members"]["users"]
    assert [u["uuid"] for u in got] == [u["uuid"] for u in order]


@pytest.mark.parametrize("users", [
    123, None, True, "string", [123], [None], ["string"], [{}], [{"uuid": None}],
    [{"not_uuid": 123}],
])
def test_group_member_list_input_errors(api, users):
    group = api.ok("POST", "/groups", 201, json={"name": "accueil"})
    assert_error(api.put(f"/groups/{group['id']}/members/users", json={"users": users}), 400,
                 r"^Input Error - users")


# --------------------------------------------------------------------------------------------
# 5. Removing an association that does not exist


def test_dissociate_line_extension_not_associated(api):
    line, ext = new_line(api), new_ext(api, "101")
    assert_error(api.delete(f"/lines/{line['id']}/extensions/{ext['id']}"), 404,
                 r"^Resource Not Found - LineExtension was not found")


def test_dissociate_user_line_not_associated(api):
    line, user = new_line(api), new_user(api)
    assert_error(api.delete(f"/users/{user['id']}/lines/{line['id']}"), 404,
                 r"^Resource Not Found - UserLine was not found")


@pytest.mark.parametrize("kind, coll, label, exten", [
    ("group", "groups", "GroupExtension", "201"),
    ("conference", "conferences", "ConferenceExtension", "301"),
])
def test_dissociate_owner_extension_not_associated(api, kind, coll, label, exten):
    body = {"name": "accueil"} if kind == "group" else {"name": "Afterlife"}
    owner = api.ok("POST", f"/{coll}", 201, json=body)
    ext = new_ext(api, exten)
    assert_error(api.delete(f"/{coll}/{owner['id']}/extensions/{ext['id']}"), 404,
                 rf"^Resource Not Found - {label} was not found")


# --------------------------------------------------------------------------------------------
# 6. Deleting a SIP endpoint that is on a line


def test_delete_sip_endpoint_on_a_line_dissociates_it(api):
    line = new_line(api)
    api.ok("DELETE", f"/endpoints/sip/{line['sip']['id']}", 204)
    assert api.get(f"/lines/{line['id']}/endpoints/sip").status_code == 404
    got = api.ok("GET", f"/lines/{line['id']}", 200)
    assert got["endpoint_sip"] is None and got["protocol"] is None


def test_sip_endpoint_already_on_another_line(api):
    line1 = new_line(api)
    line2 = new_line(api, with_sip=False)
    assert_error(api.put(f"/lines/{line2['id']}/endpoints/sip/{line1['sip']['id']}"), 400,
                 r"^Resource Error - Line is associated with a Endpoint")


# --------------------------------------------------------------------------------------------
# 7. Line fields


LINE_BOGUS = [
    ("context", 123), ("context", "undefined"), ("context", ""), ("context", {}),
    ("context", []), ("context", None), ("provisioning_code", 123456),
    ("provisioning_code", "number"), ("provisioning_code", "123"),
    ("provisioning_code", "1234567"), ("provisioning_code", ""), ("position", "one"),
    ("position", ""), ("position", 0), ("position", []), ("registrar", 123),
    ("registrar", "a" * 129), ("registrar", {}), ("caller_id_name", 123456),
    ("caller_id_name", []), ("caller_id_num", "123ABC"), ("caller_id_num", ""),
    ("caller_id_num", {}),
]


@pytest.mark.parametrize("field, value", LINE_BOGUS)
@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_line_bogus_fields(api, method, field, value):
    if method == "POST":
        body = {"context": "default", field: value}
        r = api.post("/lines", json=body)
    else:
        line = new_line(api, with_sip=False)
        r = api.put(f"/lines/{line['id']}", json={field: value})
    assert_error(r, 400, re.escape(field))


@pytest.mark.parametrize("field", ["provisioning_code", "position", "registrar"])
def test_line_put_refuses_null(api, field):
    line = new_line(api, with_sip=False)
    assert_error(api.put(f"/lines/{line['id']}", json={field: None}), 400, re.escape(field))


def test_line_post_null_provisioning_code_is_generated(api):
    line = api.ok("POST", "/lines", 201, json={"context": "default", "provisioning_code": None})
    assert re.fullmatch(r"\d{6}", line["provisioning_code"])


@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_line_unknown_registrar(api, method):
    if method == "POST":
        r = api.post("/lines", json={"context": "default", "registrar": "invalidregistrar"})
    else:
        line = new_line(api, with_sip=False)
        r = api.put(f"/lines/{line['id']}", json={"registrar": "invalidregistrar"})
    assert_error(r, 400, r"field 'registrar': Registrar was not found")


def test_line_caller_id_needs_an_endpoint(api):
    r = api.post("/lines", json={"context": "default", "caller_id_name": "Jôhn Smîth",
                                 "caller_id_num": "1000"})
    assert r.status_code == 400
    line = new_line(api, with_sip=False)
    r = api.put(f"/lines/{line['id']}", json={"caller_id_name": "Jôhn Smîth",
                                             "caller_id_num": "1000"})
    assert r.status_code == 400
    api.ok("PUT", f"/lines/{line['id']}", 204, json={"caller_id_name": None,
                                                    "caller_id_num": None})


def test_line_caller_id_on_a_sip_line(api):
    line = new_line(api)
    api.ok("PUT", f"/lines/{line['id']}", 204, json={"caller_id_name": "Jôhn Smîth",
                                                    "caller_id_num": "1000"})
    got = api.ok("GET", f"/lines/{line['id']}", 200)
    assert (got["caller_id_name"], got["caller_id_num"]) == ("Jôhn Smîth", "1000")
    assert api.put(f"/lines/{line['id']}", json={"caller_id_name": None}).status_code == 400


def test_line_put_keeps_unsent_values(api):
    line = api.ok("POST", "/lines", 201, json={"context": "default", "position": 2})
    api.ok("PUT", f"/lines/{line['id']}", 204, json={"provisioning_code": "768493"})
    got = api.ok("GET", f"/lines/{line['id']}", 200)
    assert (got["position"], got["device_slot"], got["provisioning_code"]) == (2, 2, "768493")


# --------------------------------------------------------------------------------------------
# 8. Ranges with a DID length


def test_extension_in_context_with_did_length(api):
    api.ok("POST", "/contexts", 201, json={
        "name": "didctx", "type": "internal",
        "user_ranges": [{"start": "4185550000", "end": "4185559999", "did_length": 4}]})
    new_ext(api, "1000", "didctx")  # compared with the bounds' last 4 digits
    assert_error(api.post("/extensions", json={"exten": "41855", "context": "didctx"}), 400,
                 r"is outside of range for context 'didctx'")


# --------------------------------------------------------------------------------------------
# 9. List filters, limit, sort and search columns


def test_extensions_type_filter(api):
    internal, incall = new_ext(api, "101"), new_ext(api, "1001", "from-extern")
    ids = {t: [e["id"] for e in api.ok("GET", "/extensions", 200, params={"type": t})["items"]]
           for t in ("internal", "incall")}
    assert ids == {"internal": [internal["id"]], "incall": [incall["id"]]}


def test_users_filter_on_extension_entity_and_voicemail(api):
    a = api.user_with_line("Ada", "A", "101")["user"]
    api.user_with_line("Bob", "B", "102")
    entity = api.ok("GET", "/entities", 200)["items"][0]["name"]
    for params, expected in (({"extension": "101"}, [a["id"]]),
                             ({"exten": "101"}, [a["id"]]),
                             ({"entity": entity}, None),
                             ({"entity": "nowhere"}, []),
                             ({"voicemail_number": "1234"}, [])):
        got = [u["id"] for u in api.ok("GET", "/users", 200, params=params)["items"]]
        if expected is None:
            assert len(got) == 2
        else:
            assert got == expected, params


@pytest.mark.parametrize("path", ["/users", "/lines", "/extensions", "/endpoints/sip"])
def test_limit_zero_refused(api, path):
    assert_error(api.get(path, params={"limit": "0"}), 400,
                 r"field 'limit': wrong type. Should be a positive number")


def test_users_cannot_be_sorted_or_searched_on_password(api):
    new_user(api, "Ada", password="secretpass")
    assert_error(api.get("/users", params={"order": "password"}), 400,
                 r"order: column 'password' was not found")
    assert api.ok("GET", "/users", 200, params={"search": "secretpass"})["total"] == 0


def test_lines_sort_on_confd_columns_only(api):
    assert api.get("/lines", params={"order": "provisioning_code"}).status_code == 200
    assert_error(api.get("/lines", params={"order": "caller_id_name"}), 400,
                 r"order: column 'caller_id_name' was not found")


# --------------------------------------------------------------------------------------------
# 12. SIP endpoint options on PUT


@pytest.mark.parametrize("options", [
    123, None, {}, "string", [None], ["string", "string"], [123, 123], [[]],
    [{"key": "value"}], [["missing_value"]], [["too", "much", "value"]],
    [["wrong_value", 1234]], [["none_value", None]],
])
@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_sip_options_validated(api, method, options):
    if method == "POST":
        r = api.post("/endpoints/sip", json={"options": options})
    else:
        sip = api.ok("POST", "/endpoints/sip", 201, json={})
        r = api.put(f"/endpoints/sip/{sip['id']}", json={"options": options})
    assert_error(r, 400, r"options")


# --------------------------------------------------------------------------------------------
# 13. Users: character sets and nulls


@pytest.mark.parametrize("field, value", [
    ("username", "ûsername"), ("username", "a b"), ("password", "pâssword"),
    ("call_permission_password", "invalid_char"), ("mobile_phone_number", "123abcd"),
    ("caller_id", "callerid"),
])
def test_user_character_sets(api, field, value):
    assert_error(api.post("/users", json={"firstname": "Ada", field: value}), 400,
                 re.escape(field))


@pytest.mark.parametrize("field", [
    "caller_id", "call_transfer_enabled", "ring_seconds", "simultaneous_calls", "enabled",
])
def test_user_put_refuses_null(api, field):
    user = new_user(api)
    assert_error(api.put(f"/users/{user['id']}", json={field: None}), 400, re.escape(field))


# --------------------------------------------------------------------------------------------
# 14. Deprecated association routes


def test_deprecated_line_extension_routes(api):
    line, ext = new_line(api), new_ext(api, "101")
    assert_error(api.get(f"/extensions/{ext['id']}/line"), 404,
                 r"LineExtension was not found")
    assert_error(api.get(f"/extensions/{FAKE_ID}/line"), 404, r"Extension was not found")
    r = api.post(f"/lines/{line['id']}/extension", json={"extension_id": ext["id"]})
    assert r.status_code == 201, r.text
    assert r.headers["Location"].endswith(f"/lines/{line['id']}/extension")
    assert r.json()["line_id"] == line["id"] and r.json()["extension_id"] == ext["id"]
    assert api.ok("GET", f"/lines/{line['id']}/extension", 200)["extension_id"] == ext["id"]
    assert api.ok("GET", f"/extensions/{ext['id']}/line", 200)["line_id"] == line["id"]
    api.ok("DELETE", f"/lines/{line['id']}/extension", 204)
    assert api.get(f"/lines/{line['id']}/extension").status_code == 404


def test_legacy_post_associations_answer_a_location(api):
    line, ext, user = new_line(api), new_ext(api, "101"), new_user(api)
    r = api.post(f"/lines/{line['id']}/extensions", json={"extension_id": ext["id"]})
    assert r.status_code == 201 and "/lines/" in r.headers["Location"] \
        and "extensions" in r.headers["Location"]
    r = api.post(f"/users/{user['uuid']}/lines", json={"line_id": line["id"]})
    assert r.status_code == 201 and "/users/" in r.headers["Location"] \
        and "lines" in r.headers["Location"]


# --------------------------------------------------------------------------------------------
# 15. Call-filter member lists and fallback destinations


def _callfilter(api) -> dict:
    return api.ok("POST", "/callfilters", 201, json={
        "name": "patron", "source": "all", "strategy": "all-recipients-then-linear-surrogates"})


@pytest.mark.parametrize("users, pattern", [
    ([{"uuid": None}], r"users"),
    ([{"uuid": FAKE_UUID}], r"field 'users': User was not found"),
    ([{"timeout": "ten"}], r"users.*timeout"),
    ([{"timeout": -1}], r"users.*timeout"),
    ([{"timeout": {}}], r"users.*timeout"),
    ([{"timeout": []}], r"users.*timeout"),
])
def test_callfilter_recipient_input_errors(api, users, pattern):
    cf = _callfilter(api)
    assert_error(api.put(f"/callfilters/{cf['id']}/recipients/users", json={"users": users}),
                 400, pattern)


def test_callfilter_unknown_surrogate_is_an_input_error(api):
    cf = _callfilter(api)
    assert_error(api.put(f"/callfilters/{cf['id']}/surrogates/users",
                         json={"users": [{"uuid": FAKE_UUID}]}),
                 400, r"^Input Error - field 'users': User was not found")


@pytest.mark.parametrize("destination", [
    {"type": "custom", "command": "system(rm)"},
    {"type": "custom", "command": "trysystem(rm)"},
    {"type": "custom"},
    {"type": "user"},
    {"type": "user", "user_id": "one"},
    {"type": "group", "group_id": None},
    {"type": "hangup", "cause": "nope"},
])
def test_fallback_destination_fields_validated(api, destination):
    group = api.ok("POST", "/groups", 201, json={"name": "accueil"})
    r = api.put(f"/groups/{group['id']}/fallbacks", json={"noanswer_destination": destination})
    assert_error(r, 400, r"noanswer_destination")


def test_fallback_destination_accepted(api):
    group = api.ok("POST", "/groups", 201, json={"name": "accueil"})
    user = new_user(api)
    for dest in ({"type": "user", "user_id": user["id"]}, {"type": "hangup"},
                 {"type": "custom", "command": "Playback(tt-monkeys)"}, {"type": "none"}):
        api.ok("PUT", f"/groups/{group['id']}/fallbacks", 204,
               json={"noanswer_destination": dest})
        got = api.ok("GET", f"/groups/{group['id']}/fallbacks", 200)["noanswer_destination"]
        assert {k: v for k, v in got.items() if k in dest} == dest


# --------------------------------------------------------------------------------------------
# Conflict messages and profile


def test_extension_of_a_group_conflict_message(api):
    g1 = api.ok("POST", "/groups", 201, json={"name": "un"})
    g2 = api.ok("POST", "/groups", 201, json={"name": "deux"})
    ext = new_ext(api, "201")
    link(api, f"/groups/{g1['id']}/extensions/{ext['id']}")
    assert_error(api.put(f"/groups/{g2['id']}/extensions/{ext['id']}"), 400,
                 r"^Resource Error - Group is associated with a Extension")


def test_profile_16_13_has_no_associated_endpoint_route(api, server):
    sandbox.reset(server.data_dir, wizard={"api_profile": "xivo-16.13"})
    try:
        user = api.user_with_line("Ada", "L", "101")["user"]
        r = api.get(f"/users/{user['uuid']}/lines/main/associated/endpoints/sip")
        assert r.status_code == 404
        paths = api.ok("GET", "/api/api.json", 200)["paths"]
        assert not any("associated" in p for p in paths)
    finally:
        sandbox.reset(server.data_dir)


# --------------------------------------------------------------------------------------------
# 10-11. Users CSV import and update (xivo-16.13 test_user_import)

CSV = {"Content-Type": "text/csv; charset=utf-8"}


def _csv_body(rows: list[dict]) -> bytes:
    columns = list(dict.fromkeys(k for row in rows for k in row))
    lines = [",".join(columns)] + [",".join(str(row.get(c, "")) for c in columns)
                                   for row in rows]
    return ("\n".join(lines) + "\n").encode()


def _csv_errors(r) -> str:
    assert r.status_code == 400, r.text
    return " | ".join(e["message"] for e in r.json()["errors"])


def test_csv_update_unknown_entity(api):
    user = new_user(api)
    r = api.put("/users/import", content=_csv_body([{"uuid": user["uuid"],
                                                     "entity_id": "999999999"}]), headers=CSV)
    assert "Entity" in _csv_errors(r)


def test_csv_update_adds_a_sip_line(api):
    user = new_user(api)
    r = api.put("/users/import", content=_csv_body([{
        "uuid": user["uuid"], "line_protocol": "sip", "sip_username": "createdsip",
        "sip_secret": "createdpass"}]), headers=CSV)
    assert r.status_code == 201, r.text
    done = r.json()["updated"][0]
    sip = api.ok("GET", f"/endpoints/sip/{done['sip_id']}", 200)
    assert (sip["username"], sip["secret"]) == ("createdsip", "createdpass")
    assert api.ok("GET", f"/users/{user['id']}/lines", 200)["items"][0]["line_id"] == \
        done["line_id"]


def test_csv_update_refuses_empty_sip_credentials(api):
    r = api.post("/users/import", content=_csv_body([{
        "firstname": "Ada", "context": "default", "line_protocol": "sip"}]), headers=CSV)
    uuid = r.json()["created"][0]["user_uuid"]
    r = api.put("/users/import", content=_csv_body([{
        "uuid": uuid, "sip_username": "", "sip_secret": ""}]), headers=CSV)
    text = _csv_errors(r)
    assert "username" in text and "secret" in text


def test_csv_update_incall_columns(api):
    user = new_user(api)
    r = api.put("/users/import", content=_csv_body([{
        "uuid": user["uuid"], "incall_exten": "1500", "incall_context": "from-extern",
        "incall_ring_seconds": "10"}]), headers=CSV)
    assert r.status_code == 201, r.text
    ext_id = r.json()["updated"][0]["incall_extension_id"]
    assert api.ok("GET", f"/extensions/{ext_id}", 200)["incall"] is not None
    r = api.put("/users/import", content=_csv_body([{
        "uuid": user["uuid"], "incall_exten": "1501", "incall_context": "from-extern"}]),
        headers=CSV)
    assert r.json()["updated"][0]["incall_extension_id"] == ext_id
    assert api.ok("GET", f"/extensions/{ext_id}", 200)["exten"] == "1501"


def test_csv_import_reuses_existing_sip_endpoint_and_extension(api):
    sip = api.ok("POST", "/endpoints/sip", 201, json={"username": "existing1"})
    ext = new_ext(api, "150")
    r = api.post("/users/import", content=_csv_body([{
        "firstname": "Reuse", "exten": "150", "context": "default", "line_protocol": "sip",
        "sip_username": "existing1"}]), headers=CSV)
    assert r.status_code == 201, r.text
    done = r.json()["created"][0]
    assert (done["sip_id"], done["extension_id"]) == (sip["id"], ext["id"])
    assert api.ok("GET", f"/lines/{done['line_id']}/endpoints/sip", 200)["endpoint_id"] == \
        sip["id"]


# --------------------------------------------------------------------------------------------
# Field checks of extensions, SIP endpoints and users (xivo-16.13 *_errors tests)

EXTENSION_BOGUS = [("exten", None), ("exten", True), ("exten", "ABC123"), ("exten", "XXXX"),
                   ("exten", {}), ("exten", []), ("context", None), ("context", True),
                   ("context", {}), ("context", [])]


@pytest.mark.parametrize("field, value", EXTENSION_BOGUS)
@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_extension_bogus_fields(api, method, field, value):
    if method == "POST":
        r = api.post("/extensions", json={"exten": "101", "context": "default", field: value})
    else:
        ext = new_ext(api, "101")
        r = api.put(f"/extensions/{ext['id']}", json={field: value})
    assert_error(r, 400, re.escape(field))


SIP_BOGUS = [("username", 123), ("username", "]^"), ("username", "ûsername"), ("username", []),
             ("username", {}), ("secret", "pâssword"), ("secret", 123), ("secret", True),
             ("secret", []), ("secret", {}), ("type", 123), ("type", "invalid_choice"),
             ("type", True), ("type", []), ("type", {}), ("host", 123), ("host", True),
             ("host", []), ("host", {})]


@pytest.mark.parametrize("field, value", SIP_BOGUS)
@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_sip_bogus_fields(api, method, field, value):
    if method == "POST":
        r = api.post("/endpoints/sip", json={field: value})
    else:
        sip = api.ok("POST", "/endpoints/sip", 201, json={})
        r = api.put(f"/endpoints/sip/{sip['id']}", json={field: value})
    assert_error(r, 400, re.escape(field))


@pytest.mark.parametrize("field", ["username", "secret", "type", "host", "options"])
def test_sip_put_refuses_null(api, field):
    sip = api.ok("POST", "/endpoints/sip", 201, json={})
    assert_error(api.put(f"/endpoints/sip/{sip['id']}", json={field: None}), 400,
                 re.escape(field))


USER_BOGUS = [
    ("firstname", 123), ("firstname", None), ("lastname", 123), ("email", 123),
    ("timezone", 123), ("language", 123), ("description", 123), ("caller_id", 123),
    ("outgoing_caller_id", 123), ("mobile_phone_number", 123), ("username", 123),
    ("password", 123), ("music_on_hold", 123), ("preprocess_subroutine", 123),
    ("userfield", 123), ("call_transfer_enabled", "yeah"), ("dtmf_hangup_enabled", "yeah"),
    ("call_record_enabled", "yeah"), ("online_call_record_enabled", "yeah"),
    ("supervision_enabled", "yeah"), ("ring_seconds", "ten"), ("simultaneous_calls", "sixty"),
    ("simultaneous_calls", -1), ("simultaneous_calls", 21), ("ring_seconds", 6),
    ("ring_seconds", -1), ("ring_seconds", 65), ("language", "klingon"),
    ("call_permission_password", 1234), ("enabled", "yeah"),
]


@pytest.mark.parametrize("field, value", USER_BOGUS)
@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_user_bogus_fields(api, method, field, value):
    if method == "POST":
        r = api.post("/users", json={"firstname": "Ada", field: value})
    else:
        user = new_user(api)
        r = api.put(f"/users/{user['id']}", json={field: value})
    assert_error(r, 400, re.escape(field))


def test_user_unique_username_and_email(api):
    first = new_user(api, "One", username="unique_username", email="unique@email")
    other = new_user(api, "Two")
    for field in ("username", "email"):
        assert_error(api.post("/users", json={"firstname": "x", field: first[field]}), 400,
                     rf"User already exists.*{field}")
        assert_error(api.put(f"/users/{other['id']}", json={field: first[field]}), 400,
                     rf"User already exists.*{field}")


def test_search_users_on_directory_view_with_accents(api):
    made = new_user(api, "ÉricDir", lastname="Bângoura", mobile_phone_number="+5559284759")
    for term in ("éricdir", "bângoura", "928475"):
        rows = api.ok("GET", "/users", 200, params={"view": "directory", "search": term})
        assert [r["id"] for r in rows["items"]] == [made["id"]], term


def test_unknown_view(api):
    assert_error(api.get("/users", params={"view": "nope"}), 400, r"view 'nope' does not exist")


# --------------------------------------------------------------------------------------------
# Field checks of groups (xivo-16.15) and call filters (wazo-18.03)

GROUP_BOGUS = [
    ("name", 123), ("name", True), ("name", None), ("name", "a" * 129), ("name", []),
    ("name", {}), ("preprocess_subroutine", 123), ("preprocess_subroutine", "a" * 40),
    ("ring_strategy", 123), ("ring_strategy", "invalid"), ("ring_strategy", None),
    ("caller_id_mode", True), ("caller_id_mode", "invalid"), ("caller_id_name", 1234),
    ("caller_id_name", "a" * 81), ("music_on_hold", 123), ("music_on_hold", "a" * 129),
    ("user_timeout", "ten"), ("user_timeout", -1), ("retry_delay", "ten"), ("retry_delay", -1),
    ("timeout", "ten"), ("timeout", -1), ("ring_in_use", "yeah"), ("ring_in_use", 123),
    ("enabled", "yeah"), ("enabled", 123),
]


@pytest.mark.parametrize("field, value", GROUP_BOGUS)
@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_group_bogus_fields(api, method, field, value):
    if method == "POST":
        r = api.post("/groups", json={"name": "accueil", field: value})
    else:
        group = api.ok("POST", "/groups", 201, json={"name": "accueil"})
        r = api.put(f"/groups/{group['id']}", json={field: value})
    assert_error(r, 400, re.escape(field))


def test_group_name_unique(api):
    api.ok("POST", "/groups", 201, json={"name": "accueil"})
    assert_error(api.post("/groups", json={"name": "accueil"}), 400, r"Group already exists")


CALLFILTER_BOGUS = [
    ("name", 123), ("name", None), ("name", True), ("source", 123), ("source", "invalid"),
    ("strategy", 123), ("strategy", None), ("strategy", False), ("strategy", "invalid"),
    ("surrogates_timeout", "ten"), ("surrogates_timeout", -1), ("caller_id_mode", True),
    ("caller_id_mode", "invalid"), ("caller_id_name", 1234), ("caller_id_name", "a" * 81),
    ("description", 123), ("description", True), ("enabled", None), ("enabled", 123),
    ("enabled", "invalid"),
]


@pytest.mark.parametrize("field, value", CALLFILTER_BOGUS)
@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_callfilter_bogus_fields(api, method, field, value):
    body = {"name": "patron", "source": "all", "strategy": "all"}
    if method == "POST":
        r = api.post("/callfilters", json={**body, field: value})
    else:
        cf = api.ok("POST", "/callfilters", 201, json=body)
        r = api.put(f"/callfilters/{cf['id']}", json={field: value})
    assert_error(r, 400, re.escape(field))


# --------------------------------------------------------------------------------------------
# Conferences (wazo-16.16)

CONFERENCE_BOGUS = [
    ("name", True), ("name", 1234), ("name", "a" * 129), ("preprocess_subroutine", 123),
    ("preprocess_subroutine", "a" * 40), ("music_on_hold", 1234), ("music_on_hold", "a" * 129),
    ("announce_only_user", "invalid"), ("announce_only_user", None),
    ("announce_join_leave", "invalid"), ("quiet_join_leave", None),
    ("announce_user_count", []), ("record", "invalid"), ("record", None), ("pin", "invalid"),
    ("pin", []), ("admin_pin", "invalid"), ("max_users", "ten"), ("max_users", -1),
]


@pytest.mark.parametrize("field, value", CONFERENCE_BOGUS)
@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_conference_bogus_fields(api, method, field, value):
    if method == "POST":
        r = api.post("/conferences", json={field: value})
    else:
        conf = api.ok("POST", "/conferences", 201, json={"name": "Afterlife"})
        r = api.put(f"/conferences/{conf['id']}", json={field: value})
    assert_error(r, 400, re.escape(field))


def test_conference_extension_rules(api):
    c1 = api.ok("POST", "/conferences", 201, json={"name": "Afterlife"})
    c2 = api.ok("POST", "/conferences", 201, json={"name": "Other"})
    e1, e2 = new_ext(api, "301"), new_ext(api, "302")
    link(api, f"/conferences/{c1['id']}/extensions/{e1['id']}")
    for owner, ext in ((c1, e1), (c1, e2), (c2, e1)):
        assert_error(api.put(f"/conferences/{owner['id']}/extensions/{ext['id']}"), 400,
                     r"^Resource Error - Conference is associated with a Extension")
    # a user's number cannot become a conference room
    made = api.user_with_line("Ada", "L", "101")
    assert_error(api.put(f"/conferences/{c2['id']}/extensions/{made['extension']['id']}"), 400,
                 r"^Resource Error - Extension is associated with a user")
    # not in an internal context
    incall = new_ext(api, "1300", "from-extern")
    assert api.put(f"/conferences/{c2['id']}/extensions/{incall['id']}").status_code == 400
    # moving the room's number to the incall context is refused
    assert api.put(f"/extensions/{e1['id']}", json={"context": "from-extern"}).status_code == 400
    # deleting the room frees its number
    api.ok("DELETE", f"/conferences/{c1['id']}", 204)
    assert api.ok("GET", f"/extensions/{e1['id']}", 200)["conference"] is None
