"""Contract tests: paths, JSON shapes, status codes and error bodies of the sandbox against
``reference-xivo-api.md`` (confd 1.1 / xivo-auth 0.1), over real HTTP."""

from __future__ import annotations

import re

import httpx
import pytest

USER_FIELDS = {
    "id", "uuid", "firstname", "lastname", "email", "timezone", "language", "description",
    "caller_id", "outgoing_caller_id", "mobile_phone_number", "username", "password",
    "music_on_hold", "preprocess_subroutine", "userfield", "call_transfer_enabled",
    "dtmf_hangup_enabled", "call_record_enabled", "online_call_record_enabled",
    "supervision_enabled", "ring_seconds", "simultaneous_calls", "call_permission_password",
    "enabled", "links",
}
LINE_FIELDS = {"id", "name", "protocol", "device_id", "device_slot", "provisioning_extension",
               "context", "provisioning_code", "position", "caller_id_name", "caller_id_num",
               "registrar", "links"}
SIP_FIELDS = {"id", "username", "secret", "type", "host", "options", "links"}
EXTENSION_FIELDS = {"id", "exten", "context", "commented", "links"}


def is_error_list(body) -> bool:
    return isinstance(body, list) and body and all(isinstance(m, str) for m in body)


# --------------------------------------------------------------------------------------------
# Authentication (xivo-auth §1)


def test_token_shape_and_use(server):
    from toipkit.xivo import sandbox

    user, password = sandbox.credentials(server.data_dir)
    with httpx.Client(base_url=server.url) as http:
        r = http.post("/0.1/token", auth=(user, password),
                      json={"backend": "xivo_service", "expiration": 120})
        assert r.status_code == 200
        data = r.json()["data"]
        assert {"token", "auth_id", "xivo_user_uuid", "issued_at", "expires_at",
                "acls"} <= set(data)
        assert re.fullmatch(r"[0-9a-f-]{36}", data["token"])
        token = data["token"]
        assert http.head(f"/0.1/token/{token}").status_code == 204
        assert http.get(f"/0.1/token/{token}").json()["data"]["token"] == token
        assert http.head(f"/0.1/token/{token}", params={"scope": "confd.users.read"}) \
            .status_code == 204
        # nginx-style prefixes serve the same thing
        assert http.get("/api/confd/1.1/users", headers={"X-Auth-Token": token}).status_code == 200
        assert http.head(f"/api/auth/0.1/token/{token}").status_code == 204
        assert http.get("/0.1/backends").json()["data"][0] == "xivo_service"
        # revoke
        assert http.delete(f"/0.1/token/{token}").json() == {"data": {"message": "success"}}
        r = http.get(f"/0.1/token/{token}")
        assert r.status_code == 404
        assert r.json()["reason"] == ["No such token"] and r.json()["status_code"] == 404
        assert http.get("/1.1/users", headers={"X-Auth-Token": token}).status_code == 401


@pytest.mark.parametrize("auth, body, status", [
    (("toipkit", "wrong-password"), {"backend": "xivo_service"}, 401),
    (None, {"backend": "xivo_service"}, 401),
    ("good", {}, 400),
    ("good", {"backend": "xivo_service", "expiration": 0}, 400),
    ("good", {"backend": "xivo_service", "expiration": "60"}, 400),
    ("good", {"backend": "no_such_backend"}, 401),
])
def test_token_errors(server, auth, body, status):
    from toipkit.xivo import sandbox

    if auth == "good":
        auth = sandbox.credentials(server.data_dir)
    with httpx.Client(base_url=server.url) as http:
        r = http.post("/0.1/token", auth=auth, json=body)
    assert r.status_code == status
    err = r.json()
    assert set(err) == {"reason", "timestamp", "status_code"}
    assert err["status_code"] == status and isinstance(err["reason"], list)
    if body.get("expiration") is not None:
        assert err["reason"] == ["Invalid expiration"]


def test_confd_needs_a_token(server):
    with httpx.Client(base_url=server.url) as http:
        for headers in ({}, {"X-Auth-Token": "00000000-0000-4000-8000-000000000000"}):
            r = http.get("/1.1/users", headers=headers)
            assert r.status_code == 401
            assert is_error_list(r.json())


def test_api_spec_lists_paths_without_auth(server):
    with httpx.Client(base_url=server.url) as http:
        spec = http.get("/1.1/api/api.json").json()
        yml = http.get("/api/confd/1.1/api/api.yml")
    assert spec["swagger"] == "2.0" and spec["basePath"] == "/1.1"
    assert spec["securityDefinitions"]["xivo_auth_token"]["name"] == "X-Auth-Token"
    for path in ("/users", "/users/{id}", "/lines", "/endpoints/sip", "/lines_sip",
                 "/extensions", "/lines/{line_id}/endpoints/sip/{sip_id}",
                 "/lines/{line_id}/extensions/{extension_id}", "/users/{user_id}/lines/{line_id}",
                 "/users/import", "/users/export", "/groups", "/groups/{id}/members/users",
                 "/conferences", "/callfilters", "/callfilters/{id}/recipients/users",
                 "/callfilters/{id}/surrogates/users", "/moh", "/schedules", "/incalls"):
        assert path in spec["paths"], path
    assert set(spec["paths"]["/users"]) == {"get", "post"}
    import yaml

    assert yaml.safe_load(yml.text)["paths"].keys() == spec["paths"].keys()


def test_unknown_path_and_method(api):
    r = api.get("/no_such_resource")
    assert r.status_code == 404 and is_error_list(r.json())
    r = api.request("PATCH", "/users")
    assert r.status_code == 405 and is_error_list(r.json())


# --------------------------------------------------------------------------------------------
# Users (§2)


def test_user_create_get_update_delete(api):
    r = api.post("/users", json={"firstname": "Geralt", "lastname": "Deriv",
                                 "language": "fr_FR", "timezone": "Europe/Paris"})
    assert r.status_code == 201
    user = r.json()
    assert USER_FIELDS <= set(user)
    assert r.headers["Location"].endswith(f"/1.1/users/{user['id']}")
    assert user["caller_id"] == '"Geralt Deriv"'
    assert (user["ring_seconds"], user["simultaneous_calls"], user["enabled"],
            user["supervision_enabled"], user["call_transfer_enabled"]) == (30, 5, True, True,
                                                                            False)
    assert user["links"] == [{"rel": "users", "href": f"{api.info.url}/1.1/users/{user['id']}"}]
    # GET by id and by uuid
    assert api.ok("GET", f"/users/{user['id']}", 200)["uuid"] == user["uuid"]
    assert api.ok("GET", f"/users/{user['uuid']}", 200)["id"] == user["id"]
    # partial PUT -> 204, only the sent field changes
    r = api.put(f"/users/{user['uuid']}", json={"mobile_phone_number": "+33612345678"})
    assert r.status_code == 204 and r.content == b""
    after = api.ok("GET", f"/users/{user['id']}", 200)
    assert after["mobile_phone_number"] == "+33612345678" and after["language"] == "fr_FR"
    assert api.delete(f"/users/{user['id']}").status_code == 204
    r = api.get(f"/users/{user['id']}")
    assert r.status_code == 404
    assert r.json() == [f"Resource Not Found - User was not found ('id': {user['id']})"]


@pytest.mark.parametrize("body, needle", [
    ({}, "Input Error - firstname: ['Missing data for required field.']"),
    ({"firstname": "A", "language": "xx_XX"}, "Input Error - language: ['Must be one of:"),
    ({"firstname": "A", "ring_seconds": 7}, "Input Error - ring_seconds:"),
    ({"firstname": "A", "ring_seconds": "30"}, "Input Error - ring_seconds: ['Not a valid integer"),
    ({"firstname": "A", "enabled": "true"}, "Input Error - enabled: ['Not a valid boolean"),
    ({"firstname": "A", "caller_id": "no quotes"}, "Input Error - caller_id:"),
    ({"firstname": "A", "mobile_phone_number": "06 12"}, "Input Error - mobile_phone_number:"),
    ({"firstname": "A", "password": "abc"}, "Input Error - password:"),
])
def test_user_validation_errors(api, body, needle):
    r = api.post("/users", json=body)
    assert r.status_code == 400
    assert is_error_list(r.json())
    assert any(m.startswith(needle) for m in r.json()), r.json()
    assert api.ok("GET", "/users", 200)["total"] == 0


def test_user_email_unique(api):
    api.ok("POST", "/users", 201, json={"firstname": "A", "email": "a@example.org"})
    r = api.post("/users", json={"firstname": "B", "email": "a@example.org"})
    assert r.status_code == 400
    assert r.json() == ["Resource Error - User already exists ('email': 'a@example.org')"]


def test_user_list_search_order_paging(api):
    for first, last in (("Geralt", "Deriv"), ("Yennefer", "Vengerberg"), ("Triss", "Merigold"),
                        ("Hanako", "Arasaka"), ("Evelyn", "Parker")):
        api.ok("POST", "/users", 201, json={"firstname": first, "lastname": last})
    page = api.ok("GET", "/users", 200)
    assert set(page) == {"total", "items"} and page["total"] == 5
    assert [u["lastname"] for u in page["items"]] == sorted(
        ["Deriv", "Vengerberg", "Merigold", "Arasaka", "Parker"])  # default order: lastname
    page = api.ok("GET", "/users", 200, params={"order": "firstname", "direction": "desc",
                                                "limit": 2, "offset": 1})
    assert page["total"] == 5
    assert [u["firstname"] for u in page["items"]] == ["Triss", "Hanako"]
    page = api.ok("GET", "/users", 200, params={"search": "ENNE"})
    assert [u["firstname"] for u in page["items"]] == ["Yennefer"]
    page = api.ok("GET", "/users", 200, params={"firstname": "Triss"})
    assert page["total"] == 1
    r = api.get("/users", params={"order": "shoe_size"})
    assert r.status_code == 400
    assert r.json() == ["Input Error - order: column 'shoe_size' was not found"]
    r = api.get("/users", params={"direction": "up"})
    assert r.json() == ["Input Error - direction: must be 'asc' or 'desc'"]
    r = api.get("/users", params={"limit": "-1"})
    assert r.status_code == 400
    assert r.json() == ["Input Error - field 'limit': wrong type. Should be a positive number"]


# --------------------------------------------------------------------------------------------
# Lines, SIP endpoints, extensions, associations (§3)


def test_line_sip_extension_user_chain(api):
    made = api.user_with_line("Geralt", "Deriv", "101")
    line = api.ok("GET", f"/lines/{made['line']['id']}", 200)
    assert LINE_FIELDS <= set(line)
    assert re.fullmatch(r"\d{6}", line["provisioning_code"])
    assert line["protocol"] == "sip" and line["name"] == made["sip"]["username"]
    assert line["endpoint_sip"]["id"] == made["sip"]["id"]
    assert [e["exten"] for e in line["extensions"]] == ["101"]
    assert [u["uuid"] for u in line["users"]] == [made["user"]["uuid"]]
    sip = made["sip"]
    assert SIP_FIELDS <= set(sip)
    assert re.fullmatch(r"[a-z0-9]{8}", sip["username"])
    assert re.fullmatch(r"[a-z0-9]{8}", sip["secret"])
    assert (sip["type"], sip["host"], sip["options"]) == ("friend", "dynamic", [])
    assert EXTENSION_FIELDS <= set(made["extension"])
    # association reads
    lid, sid, eid = made["line"]["id"], sip["id"], made["extension"]["id"]
    body = api.ok("GET", f"/lines/{lid}/endpoints/sip", 200)
    assert {k: body[k] for k in ("line_id", "endpoint_id", "endpoint")} == {
        "line_id": lid, "endpoint_id": sid, "endpoint": "sip"}
    assert api.ok("GET", f"/endpoints/sip/{sid}/lines", 200)["line_id"] == lid
    items = api.ok("GET", f"/lines/{lid}/extensions", 200)["items"]
    assert [(i["line_id"], i["extension_id"]) for i in items] == [(lid, eid)]
    items = api.ok("GET", f"/users/{made['user']['id']}/lines", 200)["items"]
    assert {k: items[0][k] for k in ("user_id", "line_id", "main_user", "main_line")} == {
        "user_id": made["user"]["id"], "line_id": lid, "main_user": True, "main_line": True}
    # softphone credentials by user uuid (main line)
    creds = api.ok("GET", f"/users/{made['user']['uuid']}/lines/main/associated/endpoints/sip",
                   200)
    assert (creds["username"], creds["secret"]) == (sip["username"], sip["secret"])
    legacy = api.ok("GET", f"/lines_sip/{lid}", 200)
    assert (legacy["username"], legacy["secret"], legacy["context"]) == (
        sip["username"], sip["secret"], "default")
    summary = api.ok("GET", "/users", 200, params={"view": "summary"})["items"][0]
    assert (summary["extension"], summary["context"], summary["protocol"]) == (
        "101", "default", "sip")
    assert api.ok("GET", "/users", 200, params={"exten": "101"})["total"] == 1
    assert api.ok("GET", "/users", 200, params={"search": "101"})["total"] == 1


def test_association_preconditions(api):
    line = api.ok("POST", "/lines", 201, json={"context": "default"})
    ext = api.ok("POST", "/extensions", 201, json={"exten": "102", "context": "default"})
    user = api.ok("POST", "/users", 201, json={"firstname": "Yennefer"})
    r = api.put(f"/lines/{line['id']}/extensions/{ext['id']}")
    assert r.status_code == 400
    assert r.json() == [f"Resource Error - Line must be associated with a Endpoint "
                        f"('line_id': {line['id']})"]
    r = api.put(f"/users/{user['id']}/lines/{line['id']}")
    assert r.json()[0].startswith("Resource Error - Line must be associated with a Endpoint")
    sip = api.ok("POST", "/endpoints/sip", 201, json={"username": "yen102", "secret": "s3cret"})
    api.ok("PUT", f"/lines/{line['id']}/endpoints/sip/{sip['id']}", 204)
    # XiVO 16.x: associating again is a 400 "... is associated with a ..."
    r = api.put(f"/lines/{line['id']}/endpoints/sip/{sip['id']}")
    assert r.status_code == 400 and "is associated with a" in r.json()[0]
    api.ok("PUT", f"/lines/{line['id']}/extensions/{ext['id']}", 204)
    r = api.put(f"/lines/{line['id']}/extensions/{ext['id']}")
    assert r.status_code == 400 and r.json()[0].startswith(
        "Resource Error - Line is associated with a Extension")
    api.ok("PUT", f"/users/{user['id']}/lines/{line['id']}", 204)
    # 16.x: a user can have several lines, not the same one twice
    r = api.put(f"/users/{user['id']}/lines/{line['id']}")
    assert r.json() == [f"Resource Error - User is associated with a Line "
                        f"('user_id': {user['id']}, 'line_id': {line['id']})"]
    other = api.ok("POST", "/lines", 201, json={"context": "default"})
    other_sip = api.ok("POST", "/endpoints/sip", 201, json={})
    api.ok("PUT", f"/lines/{other['id']}/endpoints/sip/{other_sip['id']}", 204)
    # an extension already used by a group cannot become a line's number
    group = api.ok("POST", "/groups", 201, json={"name": "accueil"})
    gext = api.ok("POST", "/extensions", 201, json={"exten": "201", "context": "default"})
    api.ok("PUT", f"/groups/{group['id']}/extensions/{gext['id']}", 204)
    r = api.put(f"/lines/{other['id']}/extensions/{gext['id']}")
    assert r.json() == [f"Resource Error - Extension is associated with a group "
                        f"('id': {gext['id']}, 'associated_id': {group['id']})"]
    # unknown ids in an association -> 404
    r = api.put(f"/users/{user['id']}/lines/999")
    assert r.status_code == 404
    assert r.json() == ["Resource Not Found - Line was not found ('id': 999)"]
    # delete preconditions
    api.ok("PUT", f"/users/{user['id']}/lines/{other['id']}", 204)
    r = api.delete(f"/users/{user['id']}")
    assert r.status_code == 400
    assert r.json() == [f"Resource Error - User is associated with a Line "
                        f"('line_ids': ({line['id']}, {other['id']}))"]
    r = api.delete(f"/extensions/{ext['id']}")
    assert r.status_code == 400
    assert r.json() == [f"Resource Error - Extension is associated with a Line "
                        f"('extension_id': {ext['id']}, 'line_id': {line['id']})"]
    # deleting an endpoint in use dissociates it from its line (16.13)
    api.ok("DELETE", f"/endpoints/sip/{other_sip['id']}", 204)
    assert api.ok("GET", f"/lines/{other['id']}", 200)["endpoint_sip"] is None
    # dissociate then delete, in the reverse order
    api.ok("DELETE", f"/users/{user['id']}/lines/{line['id']}", 204)
    api.ok("DELETE", f"/users/{user['id']}/lines/{other['id']}", 204)
    r = api.delete(f"/users/{user['id']}/lines/{line['id']}")
    assert r.status_code == 404 and r.json()[0].startswith(
        "Resource Not Found - UserLine was not found")
    api.ok("DELETE", f"/users/{user['id']}", 204)
    api.ok("DELETE", f"/lines/{line['id']}/extensions/{ext['id']}", 204)
    api.ok("DELETE", f"/extensions/{ext['id']}", 204)
    api.ok("DELETE", f"/lines/{line['id']}", 204)
    # deleting a line deletes its SIP endpoint (16.13)
    assert api.get(f"/endpoints/sip/{sip['id']}").status_code == 404


def test_line_validation(api):
    r = api.post("/lines", json={})
    assert r.json() == ["Input Error - context: ['Missing data for required field.']"]
    r = api.post("/lines", json={"context": "nowhere"})
    assert r.status_code == 400
    assert r.json() == ["Input Error - field 'context': Context was not found ('name': 'nowhere')"]
    r = api.post("/lines", json={"context": "default", "provisioning_code": "12ab"})
    assert r.status_code == 400 and r.json()[0].startswith("Input Error - provisioning_code:")
    api.ok("POST", "/lines", 201, json={"context": "default", "provisioning_code": "123456"})
    r = api.post("/lines", json={"context": "default", "provisioning_code": "123456"})
    assert r.json() == ["Resource Error - Line already exists ('provisioning_code': '123456')"]


def test_sip_endpoint_validation(api):
    api.ok("POST", "/endpoints/sip", 201, json={"username": "geralt", "secret": "pw"})
    r = api.post("/endpoints/sip", json={"username": "geralt"})
    assert r.json() == ["Resource Error - SIPEndpoint already exists ('username': 'geralt')"]
    r = api.post("/endpoints/sip", json={"username": "bad name!"})
    assert r.status_code == 400 and r.json()[0].startswith("Input Error - username:")
    r = api.post("/endpoints/sip", json={"type": "bogus"})
    assert r.status_code == 400 and r.json()[0].startswith("Input Error - type:")


def test_extension_ranges_and_uniqueness(api):
    api.ok("POST", "/extensions", 201, json={"exten": "150", "context": "default"})
    r = api.post("/extensions", json={"exten": "150", "context": "default"})
    assert r.status_code == 400
    assert r.json()[0].startswith("Resource Error - Extension already exists")
    r = api.post("/extensions", json={"exten": "1234", "context": "default"})
    assert r.json() == ["Input Error - Extension '1234' is outside of range for context "
                        "'default'"]
    # groups (200-299) and conference rooms (300-399) are ranges of default too
    api.ok("POST", "/extensions", 201, json={"exten": "201", "context": "default"})
    api.ok("POST", "/extensions", 201, json={"exten": "301", "context": "default"})
    # patterns skip the range check
    api.ok("POST", "/extensions", 201, json={"exten": "_9XXX", "context": "default"})
    r = api.post("/extensions", json={"exten": "12a", "context": "default"})
    assert r.status_code == 400 and r.json()[0].startswith("Input Error - exten:")
    # incall context: its own range
    api.ok("POST", "/extensions", 201, json={"exten": "1001", "context": "from-extern"})
    # a number of the group range cannot be a user's line (Wazo 20.01 rule)
    line = api.ok("POST", "/lines", 201, json={"context": "default"})
    sip = api.ok("POST", "/endpoints/sip", 201, json={})
    api.ok("PUT", f"/lines/{line['id']}/endpoints/sip/{sip['id']}", 204)
    ext201 = api.ok("GET", "/extensions", 200, params={"exten": "201"})["items"][0]
    r = api.put(f"/lines/{line['id']}/extensions/{ext201['id']}")
    assert r.status_code == 400 and "outside of user range" in r.json()[0]


def test_context_ranges_are_configurable(api):
    ctx = api.ok("GET", "/contexts", 200, params={"name": "default"})["items"][0]
    assert ctx["user_ranges"] == [{"start": "100", "end": "199"}]
    assert ctx["group_ranges"] == [{"start": "200", "end": "299"}]
    assert ctx["conference_room_ranges"] == [{"start": "300", "end": "399"}]
    api.ok("PUT", f"/contexts/{ctx['id']}", 204,
           json={"user_ranges": [{"start": "100", "end": "200"}]})
    api.ok("POST", "/extensions", 201, json={"exten": "200", "context": "default"})
    entity = api.ok("GET", "/entities", 200)["items"][0]
    assert entity["display_name"] == "Badlands" and entity["name"] == "badlands"


def test_legacy_lines_sip(api):
    r = api.post("/lines_sip", json={"context": "default", "username": "triss103",
                                      "secret": "abc123"})
    assert r.status_code == 201
    body = r.json()
    assert {"id", "username", "secret", "callerid", "device_slot", "context",
            "provisioning_extension", "links"} <= set(body)
    line = api.ok("GET", f"/lines/{body['id']}", 200)
    assert line["name"] == "triss103"
    r = api.post("/lines_sip", json={"context": "default", "username": "not_alnum"})
    assert r.status_code == 400


# --------------------------------------------------------------------------------------------
# Groups, conferences, call filters, MOH, schedules, incalls (§5-7)


def test_groups_members_extension_schedule(api):
    a = api.user_with_line("Geralt", "Deriv", "101")["user"]
    b = api.user_with_line("Yennefer", "Vengerberg", "102")["user"]
    group = api.ok("POST", "/groups", 201, json={"name": "accueil", "music_on_hold": "default"})
    assert {"id", "name", "ring_strategy", "timeout", "user_timeout", "retry_delay",
            "ring_in_use", "music_on_hold", "preprocess_subroutine", "caller_id_mode",
            "caller_id_name", "enabled", "extensions", "members", "links"} <= set(group)
    assert "label" not in group
    assert group["ring_strategy"] == "all" and group["user_timeout"] == 15
    r = api.post("/groups", json={"name": "accueil"})
    assert r.json() == ["Resource Error - Group already exists ('name': 'accueil')"]
    r = api.post("/groups", json={"name": "x", "ring_strategy": "ringall"})
    assert r.status_code == 400
    gid = group["id"]
    api.ok("PUT", f"/groups/{gid}/members/users", 204,
           json={"users": [{"uuid": a["uuid"]}, {"uuid": b["uuid"]}]})
    r = api.put(f"/groups/{gid}/members/users", json={"users": [{"uuid": "nope"}]})
    assert r.status_code == 404
    ext = api.ok("POST", "/extensions", 201, json={"exten": "201", "context": "default"})
    api.ok("PUT", f"/groups/{gid}/extensions/{ext['id']}", 204)
    bad = api.ok("POST", "/extensions", 201, json={"exten": "150", "context": "default"})
    g2 = api.ok("POST", "/groups", 201, json={"name": "support"})
    r = api.put(f"/groups/{g2['id']}/extensions/{bad['id']}")
    assert r.status_code == 400 and "outside of group range" in r.json()[0]
    sched = api.ok("POST", "/schedules", 201, json={
        "name": "heures-ouvrables", "timezone": "Europe/Paris",
        "closed_destination": {"type": "hangup", "cause": "normal"},
        "open_periods": [{"hours_start": "08:00", "hours_end": "18:00",
                          "week_days": [1, 2, 3, 4, 5]}]})
    api.ok("PUT", f"/groups/{gid}/schedules/{sched['id']}", 204)
    got = api.ok("GET", f"/groups/{gid}", 200)
    assert [u["uuid"] for u in got["members"]["users"]] == [a["uuid"], b["uuid"]]
    assert [e["exten"] for e in got["extensions"]] == ["201"]
    assert [s["id"] for s in got["schedules"]] == [sched["id"]]
    assert got["music_on_hold"] == "default"
    r = api.post("/schedules", json={"name": "x", "closed_destination": {"type": "hangup"},
                                     "open_periods": [{"hours_start": "25:00"}]})
    assert r.status_code == 400
    r = api.post("/schedules", json={"name": "x"})
    assert r.json() == ["Input Error - closed_destination: ['Missing data for required field.']"]


def test_conference_room(api):
    conf = api.ok("POST", "/conferences", 201, json={"name": "Afterlife"})
    assert {"id", "name", "pin", "admin_pin", "max_users", "record", "music_on_hold",
            "preprocess_subroutine", "quiet_join_leave", "announce_join_leave",
            "announce_user_count", "announce_only_user", "extensions", "links"} <= set(conf)
    ext = api.ok("POST", "/extensions", 201, json={"exten": "301", "context": "default"})
    api.ok("PUT", f"/conferences/{conf['id']}/extensions/{ext['id']}", 204)
    got = api.ok("GET", f"/conferences/{conf['id']}", 200)
    assert [e["exten"] for e in got["extensions"]] == ["301"] and got["pin"] is None
    ext_view = api.ok("GET", f"/extensions/{ext['id']}", 200)
    assert ext_view["conference"]["id"] == conf["id"]


def test_call_filter_boss_secretary(api):
    boss = api.user_with_line("Hanako", "Arasaka", "105")["user"]
    secretary = api.user_with_line("Evelyn", "Parker", "106")["user"]
    r = api.post("/callfilters", json={"name": "direction"})
    assert r.status_code == 400
    assert set(r.json()) == {"Input Error - source: ['Missing data for required field.']",
                             "Input Error - strategy: ['Missing data for required field.']"}
    cf = api.ok("POST", "/callfilters", 201, json={
        "name": "direction", "source": "all",
        "strategy": "all-recipients-then-linear-surrogates", "surrogates_timeout": 20})
    assert {"id", "name", "source", "strategy", "surrogates_timeout", "caller_id_mode",
            "caller_id_name", "description", "enabled", "recipients", "surrogates",
            "links"} <= set(cf)
    cid = cf["id"]
    r = api.put(f"/callfilters/{cid}/recipients/users",
                json={"users": [{"uuid": boss["uuid"]}, {"uuid": secretary["uuid"]}]})
    assert r.status_code == 400  # at most one recipient
    api.ok("PUT", f"/callfilters/{cid}/recipients/users", 204,
           json={"users": [{"uuid": boss["uuid"], "timeout": 15}]})
    r = api.put(f"/callfilters/{cid}/surrogates/users", json={"users": [{"uuid": boss["uuid"]}]})
    assert r.status_code == 400  # cannot be both
    api.ok("PUT", f"/callfilters/{cid}/surrogates/users", 204,
           json={"users": [{"uuid": secretary["uuid"]}]})
    got = api.ok("GET", f"/callfilters/{cid}", 200)
    rec = got["recipients"]["users"][0]
    sur = got["surrogates"]["users"][0]
    assert (rec["uuid"], rec["timeout"]) == (boss["uuid"], 15)
    assert {"uuid", "firstname", "lastname", "member_id"} <= set(sur)
    # handout §13: *372 = toggle for member #2, the secretary
    assert sur["member_id"] == 2
    # re-PUT keeps member ids (so the *37<id> codes stay valid)
    api.ok("PUT", f"/callfilters/{cid}/surrogates/users", 204,
           json={"users": [{"uuid": secretary["uuid"]}]})
    got = api.ok("GET", f"/callfilters/{cid}", 200)
    assert got["surrogates"]["users"][0]["member_id"] == 2
    # a BLF function key on the secretary's phone toggles her filtering (*372)
    key = {"blf": True, "label": "Filtrage",
           "destination": {"type": "bsfilter", "filter_member_id": 2}}
    api.ok("PUT", f"/users/{secretary['id']}/funckeys/1", 204, json=key)
    got = api.ok("GET", f"/users/{secretary['uuid']}/funckeys/1", 200)
    assert got["destination"]["exten"] == "*372" and got["label"] == "Filtrage"
    assert list(api.ok("GET", f"/users/{secretary['id']}/funckeys", 200)["keys"]) == ["1"]
    r = api.put(f"/users/{secretary['id']}/funckeys/2",
                json={"destination": {"type": "bsfilter", "filter_member_id": 99}})
    assert r.status_code == 400 and "FilterMember was not found" in r.json()[0]
    # the key survives a partial update of the user
    api.ok("PUT", f"/users/{secretary['id']}", 204, json={"description": "secrétaire"})
    assert api.get(f"/users/{secretary['id']}/funckeys/1").status_code == 200
    from toipkit.xivo import sandbox

    assert sandbox.directory(api.info.data_dir)["106"]["funckeys"][0]["exten"] == "*372"
    api.ok("DELETE", f"/users/{secretary['id']}/funckeys/1", 204)
    assert api.get(f"/users/{secretary['id']}/funckeys/1").status_code == 404


def test_moh_and_incalls(api):
    mohs = api.ok("GET", "/moh", 200)
    assert [m["name"] for m in mohs["items"]] == ["default"]
    moh = api.ok("POST", "/moh", 201, json={"name": "jazz", "label": "Jazz", "mode": "files"})
    assert {"uuid", "name", "label", "mode", "application", "sort", "files"} <= set(moh)
    api.ok("PUT", f"/moh/{moh['uuid']}/files/track1.wav", 204, content=b"RIFF....",
           headers={"Content-Type": "application/octet-stream"})
    api.ok("PUT", f"/moh/{moh['uuid']}/files/take%20five.wav", 204, content=b"RIFF")
    got = api.ok("GET", f"/moh/{moh['uuid']}", 200)
    assert got["files"] == [{"name": "take five.wav"}, {"name": "track1.wav"}]
    assert api.get(f"/moh/{moh['uuid']}/files/track1.wav").content == b"RIFF...."
    r = api.post("/moh", json={"name": "jazz"})
    assert r.status_code == 400 and "already exists" in r.json()[0]
    user = api.user_with_line("Geralt", "Deriv", "101")["user"]
    incall = api.ok("POST", "/incalls", 201, json={
        "destination": {"type": "user", "user_id": user["id"], "ring_time": 20}})
    ext = api.ok("POST", "/extensions", 201, json={"exten": "1101", "context": "from-extern"})
    api.ok("PUT", f"/incalls/{incall['id']}/extensions/{ext['id']}", 204)
    r = api.post("/incalls", json={"destination": {"type": "bogus"}})
    assert r.status_code == 400


def test_directory_follows_numbers(api):
    from toipkit.xivo import sandbox

    users = {n: api.user_with_line(f, last, n)["user"]
             for n, f, last in (("101", "Geralt", "Deriv"), ("102", "Yennefer", "Vengerberg"),
                                ("105", "Hanako", "Arasaka"), ("106", "Evelyn", "Parker"))}
    group = api.ok("POST", "/groups", 201, json={"name": "accueil"})
    api.ok("PUT", f"/groups/{group['id']}/members/users", 204,
           json={"users": [{"uuid": users["101"]["uuid"]}, {"uuid": users["102"]["uuid"]}]})
    ext = api.ok("POST", "/extensions", 201, json={"exten": "201", "context": "default"})
    api.ok("PUT", f"/groups/{group['id']}/extensions/{ext['id']}", 204)
    conf = api.ok("POST", "/conferences", 201, json={"name": "Afterlife"})
    ext = api.ok("POST", "/extensions", 201, json={"exten": "301", "context": "default"})
    api.ok("PUT", f"/conferences/{conf['id']}/extensions/{ext['id']}", 204)
    cf = api.ok("POST", "/callfilters", 201, json={"name": "direction", "source": "all",
                                                   "strategy": "all"})
    api.ok("PUT", f"/callfilters/{cf['id']}/recipients/users", 204,
           json={"users": [{"uuid": users["105"]["uuid"]}]})
    api.ok("PUT", f"/callfilters/{cf['id']}/surrogates/users", 204,
           json={"users": [{"uuid": users["106"]["uuid"]}]})
    d = sandbox.directory(api.info.data_dir)
    assert d["201"]["kind"] == "group" and d["201"]["members"] == ["101", "102"]
    assert d["201"]["label"] == "ring group accueil: 101, 102"
    assert d["101"]["kind"] == "user" and d["101"]["name"] == "Geralt Deriv"
    assert d["301"]["kind"] == "conference" and d["301"]["name"] == "Afterlife"
    assert d["105"]["callfilter"]["surrogates"] == ["106"]
    assert d["*372"]["kind"] == "callfilter" and d["*372"]["member"] == "106"
    assert d["*372"]["member_role"] == "secretary"
    assert api.http.get("/0.1/sandbox/directory").status_code == 401  # a token is needed
    over_http = api.http.get("/0.1/sandbox/directory", headers=api.headers).json()
    assert over_http == d
    secrets = [s["secret"] for s in api.ok("GET", "/endpoints/sip", 200)["items"]]
    assert len(secrets) == 4 and not any(secret in str(d) for secret in secrets)


def test_xivo_16_13_profile_hides_wazo_only_resources(api):
    """With api_profile="xivo-16.13" the sandbox answers like a XiVO whose confd lacks groups,
    conferences, call filters... so clients can test their capability detection."""
    from toipkit.xivo import sandbox

    sandbox.reset(api.info.data_dir, wizard={"api_profile": "xivo-16.13"})
    try:
        spec = api.http.get("/1.1/api/api.json").json()
        assert "/users" in spec["paths"] and "/lines_sip" in spec["paths"]
        assert "/users/import" in spec["paths"] and "/incalls" in spec["paths"]
        for path in ("/groups", "/conferences", "/callfilters", "/moh", "/schedules"):
            assert path not in spec["paths"]
            assert api.get(path).status_code == 404
        assert api.http.get("/1.1/api/api.yml").status_code == 404
        made = api.user_with_line("Geralt", "Deriv", "101")
        line = api.ok("GET", f"/lines/{made['line']['id']}", 200)
        assert "endpoint_sip" not in line and "extensions" not in line
        assert "lines" not in api.ok("GET", "/users", 200)["items"][0]
        # the 16.x ways to read the SIP credentials still work
        assert api.ok("GET", f"/lines/{line['id']}/endpoints/sip", 200)["endpoint_id"] == \
            made["sip"]["id"]
        assert api.ok("GET", f"/lines_sip/{line['id']}", 200)["secret"] == made["sip"]["secret"]
    finally:
        sandbox.reset(api.info.data_dir)
    assert api.http.get("/1.1/api/api.yml").status_code == 200


def test_installation_wizard(api):
    """A fresh XiVO (configured=False): the handout's §4 wizard values over POST /1.1/wizard."""
    from toipkit.xivo import sandbox

    sandbox.reset(api.info.data_dir, wizard={"configured": False})
    http = api.http  # no token needed while unconfigured
    assert http.get("/1.1/wizard").json() == {"configured": False}
    found = http.get("/1.1/wizard/discover").json()
    assert {"hostname", "domain", "timezone", "nameservers", "interfaces",
            "gateways"} <= set(found)
    assert api.ok("GET", "/contexts", 200)["total"] == 0
    body = {
        "admin_password": "Sup3rSecret", "license": True, "language": "fr_FR",
        "entity_name": "Badlands", "timezone": "Europe/Paris",
        "network": {"hostname": "XiVO", "domain": "xivo.local", "interface": "eth0",
                    "ip_address": "192.168.0.1", "netmask": "255.255.255.0",
                    "gateway": "192.168.0.2", "nameservers": ["8.8.8.8"]},
        "context_internal": {"number_start": "100", "number_end": "199"},
    }
    bad = {**body, "license": False, "context_internal": {"number_start": "100",
                                                          "number_end": "20"}}
    r = http.post("/1.1/wizard", json=bad)
    assert r.status_code == 400
    assert "Input Error - license: ['Must be equal to True.']" in r.json()
    assert any(m.startswith("Input Error - context_internal:") for m in r.json())
    r = http.post("/1.1/wizard", json={k: v for k, v in body.items() if k != "network"})
    assert r.json() == ["Input Error - network: ['Missing data for required field.']"]
    r = http.post("/1.1/wizard", json=body)
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["admin_username"] == "root" and done["entity_name"] == "Badlands"
    assert "admin_password" not in done and "Sup3rSecret" not in r.text
    assert http.get("/1.1/wizard").json() == {"configured": True}
    assert http.post("/1.1/wizard", json=body).status_code == 403
    assert http.get("/1.1/wizard/discover").status_code == 403
    ctx = api.ok("GET", "/contexts", 200, params={"name": "default"})["items"][0]
    assert ctx["label"] == "Default"
    assert ctx["user_ranges"] == [{"start": "100", "end": "199"}]
    assert api.ok("GET", "/entities", 200)["items"][0]["display_name"] == "Badlands"
    api.user_with_line("Geralt", "Deriv", "101")
