"""CSV import/export and the lab-04 helpers against the sandbox (real HTTP, real SQLite)."""

from __future__ import annotations

import pandas as pd
import pytest

from toipkit import xivo
from toipkit.errors import CSVImportError
from toipkit.xivo.resources import MASK

TEAM = [("Geralt", "Deriv", "101"), ("Yennefer", "Vengerberg", "102"),
        ("Triss", "Merigold", "103")]
NEW = pd.DataFrame([
    {"firstname": "Evelyn", "lastname": "Parker", "exten": "104", "context": "default",
     "line_protocol": "sip", "language": "fr_FR"},
    {"firstname": "Hanako", "lastname": "Arasaka", "exten": "105", "context": "default",
     "line_protocol": "sip", "language": "fr_FR"},
])


@pytest.fixture
def team(client):
    return [xivo.create_user_with_line(client, *t) for t in TEAM]


def test_export_masks_secrets_and_drop_internal(client, team):
    raw = client.users.export_csv()
    secrets = {u.endpoint_sip["secret"] for u in team}
    assert all(s in raw for s in secrets)  # the raw export carries them...
    frame = client.users.export_frame()
    assert set(frame["sip_secret"]) == {MASK}  # ...the DataFrame does not show them
    assert list(frame.columns[:3]) == ["uuid", "entity_id", "firstname"]
    light = xivo.drop_internal_columns(frame)
    assert not {"uuid", "provisioning_code", "sip_secret", "sip_username"} & set(light.columns)
    assert {"firstname", "lastname", "exten", "context", "line_protocol"} <= set(light.columns)


def test_import_all_or_nothing_then_ok(client, team):
    bad = pd.concat([NEW.iloc[:1], pd.DataFrame([{
        "firstname": "Johnny", "lastname": "Silverhand", "exten": "2077", "context": "default",
        "line_protocol": "sip"}]), NEW.iloc[1:]], ignore_index=True)
    with pytest.raises(CSVImportError) as info:
        client.users.import_csv(bad)
    assert list(info.value.rows) == [2]
    assert "outside of range" in info.value.rows[2][0]
    assert client.users.list().total == 3  # nothing created
    outcome = xivo.import_report(client.users, bad)
    assert not outcome.ok and "ligne 2" in str(outcome)
    result = client.users.import_csv(NEW)
    assert len(result) == 2 and [c["row_number"] for c in result.created] == [1, 2]
    table = xivo.users_with_numbers(client)
    assert list(table["numéro"]) == ["101", "102", "103", "104", "105"]
    # Re-runnable: only missing rows are sent again (none).
    todo = xivo.missing_rows(NEW, client.users.all())
    assert len(todo) == 0
    assert str(xivo.import_report(client.users, todo)).startswith("Rien à importer")


def test_import_1000_rows_with_one_bad_row(client):
    rows = [{"firstname": f"U{i}", "lastname": "Bulk"} for i in range(1000)]
    rows[736]["firstname"] = ""
    with pytest.raises(CSVImportError) as info:
        client.users.import_csv(rows)
    assert list(info.value.rows) == [737]
    assert client.users.list().total == 0


def test_groups_conference_filter_idempotent(client, team):
    xivo.import_report(client.users, NEW)
    for _ in range(2):
        moh = xivo.ensure_moh(client, "badlands", "Musique Badlands")
        hours = xivo.ensure_schedule(client, "heures-ouvrables", open_periods=[
            {"hours_start": "09:00", "hours_end": "18:00", "week_days": [1, 2, 3, 4, 5]}])
        for name, exten, members in (("accueil", 201, ["101", "102"]),
                                     ("support", 202, ["103"]),
                                     ("communication", 203, ["102", "103"])):
            xivo.ensure_group(client, name, exten, members, music_on_hold=moh["name"],
                              schedule=hours)
        conf = xivo.ensure_conference(client, "Afterlife", 301)
        cf = xivo.ensure_call_filter(client, "filtrage-hanako", "105", ["104"])
    assert [r.list().total for r in (client.groups, client.conferences, client.call_filters,
                                     client.schedules)] == [3, 1, 1, 1]
    groups = xivo.groups_frame(client)
    assert groups.to_dict("list")["membres"] == ["101, 102", "103", "102, 103"]
    assert set(groups["musique d'attente"]) == {"badlands"}
    assert conf["pin"] is None and [e["exten"] for e in conf["extensions"]] == ["301"]
    codes = xivo.bsfilter_codes(cf)
    assert codes.to_dict("list")["code"] == ["*371", "*372"]
    assert codes["utilisateur"].tolist() == ["Hanako Arasaka", "Evelyn Parker"]


def test_numbering_plan_agrees_with_the_sandbox_directory(client, sandbox_dir, team):
    """The API view of lab 04 (xivo.numbering_plan) and the sandbox's derived directory (what
    the dialplan simulator follows) say the same thing."""
    from toipkit.xivo import sandbox

    xivo.import_report(client.users, NEW)
    xivo.ensure_group(client, "accueil", 201, ["101", "102"])
    xivo.ensure_group(client, "support", 202, ["101", "103"])
    xivo.ensure_conference(client, "Afterlife", 301)
    xivo.ensure_call_filter(client, "filtrage-hanako", "105", ["104"])
    plan = xivo.numbering_plan(client)
    kinds = {"utilisateur": "user", "groupe": "group", "conférence": "conference",
             "filtrage (bascule)": "callfilter"}
    book = sandbox.directory(sandbox_dir)
    ours = {(r["numéro"], kinds[r["type"]], r["nom"]) for r in plan.to_dict("records")}
    theirs = {(n, e["kind"], e["name"]) for n, e in book.items()
              if e["kind"] in kinds.values()}
    assert ours == theirs
    assert book["201"]["members"] == ["101", "102"]
    assert plan.loc[plan["numéro"] == "201", "détail"].item() == "101, 102"
