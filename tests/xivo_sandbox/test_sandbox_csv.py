"""Users CSV import (all-or-nothing, confd's per-row errors) and export."""

from __future__ import annotations

import csv
import io

CSV_HEADERS = {"Content-Type": "text/csv; charset=utf-8"}


def _csv(rows: list[dict], columns: list[str]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def _rows(n: int, bad: int | None = None) -> list[dict]:
    rows = []
    for i in range(1, n + 1):
        rows.append({"entity_id": "1", "firstname": f"Prenom{i}", "lastname": f"Nom{i}",
                     "exten": str(10000 + i), "context": "default", "line_protocol": "sip",
                     "ring_seconds": "30", "enabled": "1"})
    if bad is not None:
        rows[bad - 1]["ring_seconds"] = "trente"
    return rows


COLUMNS = ["entity_id", "firstname", "lastname", "exten", "context", "line_protocol",
           "ring_seconds", "enabled"]


def _counts(api) -> tuple[int, ...]:
    return tuple(api.ok("GET", f"/{path}", 200, params={"limit": 1})["total"]
                 for path in ("users", "lines", "endpoints/sip", "extensions"))


def test_import_1000_rows_with_one_bad_row_creates_nothing(api):
    from toipkit.xivo import sandbox

    sandbox.reset(api.info.data_dir, wizard={"user_range": ("10000", "19999")})
    r = api.post("/users/import", content=_csv(_rows(1000, bad=637), COLUMNS),
                 headers=CSV_HEADERS, timeout=300)
    assert r.status_code == 400
    errors = r.json()["errors"]
    assert len(errors) == 1
    err = errors[0]
    assert set(err) == {"message", "timestamp", "details"}
    assert isinstance(err["timestamp"], int)
    assert err["details"]["row_number"] == 637
    assert err["details"]["row"]["firstname"] == "Prenom637"
    assert err["details"]["row"]["ring_seconds"] == "trente"
    assert err["message"].startswith("Input Error - ring_seconds")
    assert _counts(api) == (0, 0, 0, 0)


def test_import_reports_every_bad_row(api):
    rows = _rows(5)
    for row, number in zip(rows, ("101", "102", "103", "104", "105")):
        row["exten"] = number
    rows[1]["exten"] = "5000"        # outside the context's ranges
    rows[3]["firstname"] = ""        # required
    rows[4]["exten"] = "101"         # row 1's number: reused, but it belongs to another user
    r = api.post("/users/import", content=_csv(rows, COLUMNS), headers=CSV_HEADERS)
    assert r.status_code == 400
    by_row = {e["details"]["row_number"]: e["message"] for e in r.json()["errors"]}
    assert sorted(by_row) == [2, 4, 5]
    assert by_row[2] == "Input Error - Extension '5000' is outside of range for context 'default'"
    assert "firstname" in by_row[4]
    assert by_row[5].startswith("Resource Error - Line is associated with a Extension")
    assert _counts(api) == (0, 0, 0, 0)


def test_import_creates_users_with_lines_and_export_round_trip(api):
    rows = [
        {"firstname": "Geralt", "lastname": "Deriv", "exten": "101", "context": "default",
         "line_protocol": "sip", "sip_username": "geralt101", "sip_secret": "Secret101",
         "language": "fr_FR"},
        {"firstname": "Yennefer", "lastname": "Vengerberg", "exten": "102",
         "context": "default", "line_protocol": "sip", "incall_exten": "1102",
         "incall_context": "from-extern"},
        {"firstname": "Jaskier", "lastname": "", "exten": "", "context": "", "line_protocol": ""},
    ]
    columns = ["firstname", "lastname", "exten", "context", "line_protocol", "sip_username",
               "sip_secret", "language", "incall_exten", "incall_context", "unknown_column"]
    r = api.post("/users/import", content=_csv(rows, columns), headers=CSV_HEADERS)
    assert r.status_code == 201, r.text
    created = r.json()["created"]
    assert [c["row_number"] for c in created] == [1, 2, 3]
    assert {"row_number", "user_id", "user_uuid", "voicemail_id", "line_id", "sip_id",
            "sccp_id", "extension_id", "incall_extension_id", "cti_profile_id",
            "call_permission_ids"} <= set(created[0])
    assert created[2]["line_id"] is None and created[1]["incall_extension_id"] is not None
    sip = api.ok("GET", f"/endpoints/sip/{created[0]['sip_id']}", 200)
    assert (sip["username"], sip["secret"]) == ("geralt101", "Secret101")
    assert _counts(api) == (3, 2, 2, 3)

    r = api.get("/users/export", headers={"Accept": "text/csv; charset=utf-8"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    exported = list(csv.DictReader(io.StringIO(r.text)))
    assert list(exported[0])[:4] == ["uuid", "entity_id", "firstname", "lastname"]
    assert list(exported[0])[-3:] == ["incall_exten", "incall_context", "call_permissions"]
    by_name = {row["firstname"]: row for row in exported}
    assert by_name["Geralt"]["exten"] == "101" and by_name["Geralt"]["line_protocol"] == "sip"
    assert by_name["Geralt"]["sip_username"] == "geralt101"
    assert by_name["Yennefer"]["incall_exten"] == "1102"
    assert by_name["Jaskier"]["exten"] == "" and by_name["Geralt"]["enabled"] == "1"
    as_json = api.ok("GET", "/users/export", 200, headers={"Accept": "application/json"})
    assert as_json["headers"][0] == "uuid" and len(as_json["content"]) == 3

    # The lab's round trip: drop provisioning columns, change a field, update by uuid (PUT).
    for row in exported:
        row.pop("provisioning_code")
        row["mobile_phone_number"] = "+33600000000"
    body = _csv(exported, list(exported[0]))
    r = api.put("/users/import", content=body, headers=CSV_HEADERS)
    assert r.status_code == 201, r.text
    assert len(r.json()["updated"]) == 3
    users = api.ok("GET", "/users", 200)["items"]
    assert {u["mobile_phone_number"] for u in users} == {"+33600000000"}
    assert _counts(api) == (3, 2, 2, 3)
    # re-importing the same users as new ones collides on the numbers: nothing created
    r = api.post("/users/import", content=body, headers=CSV_HEADERS)
    assert r.status_code == 400
    assert [e["details"]["row_number"] for e in r.json()["errors"]] == [1, 2]
    assert _counts(api) == (3, 2, 2, 3)


def test_import_needs_csv_content_type(api):
    r = api.post("/users/import", content=b"firstname\nA\n",
                 headers={"Content-Type": "application/json"})
    assert r.status_code == 415
    r = api.post("/users/import", content="firstname,lastname\nÉlodie,Ñúñez\n".encode("latin-1"),
                 headers={"Content-Type": "text/csv; charset=iso-8859-1"})
    assert r.status_code == 201
    user = api.ok("GET", f"/users/{r.json()['created'][0]['user_id']}", 200)
    assert (user["firstname"], user["lastname"]) == ("Élodie", "Ñúñez")
