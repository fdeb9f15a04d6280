"""Lab 04's ensure_* helpers converge to what is asked, whatever was there, and say so in French
(real sandbox server on loopback, real SQLite)."""

from __future__ import annotations

import pytest

from toipkit import xivo
from toipkit.errors import ToipkitError

USERS = [("Geralt", "Deriv", "101"), ("Yennefer", "Vengerberg", "102"),
         ("Triss", "Merigold", "103"), ("Evelyn", "Parker", "104"), ("Hanako", "Arasaka", "105")]
WEEK = [{"hours_start": "09:00", "hours_end": "18:00", "week_days": [1, 2, 3, 4, 5]}]


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    from toipkit.xivo.sandbox import stop

    home = tmp_path_factory.mktemp("home")
    patch = pytest.MonkeyPatch()
    patch.setenv("TOIPKIT_HOME", str(home))
    try:
        lab_client = xivo.connect_lab(None, interactive=False)
        for firstname, lastname, number in USERS:
            xivo.create_user_with_line(lab_client, firstname, lastname, number)
        yield lab_client
    finally:
        stop(home / "sandbox")
        patch.undo()


def _numbers(record):
    return [e["exten"] for e in record.get("extensions") or []]


def test_group_renumbered_by_schedule_name_and_said_in_french(client, capsys):
    xivo.ensure_moh(client, "badlands")
    xivo.ensure_schedule(client, "heures-ouvrables", open_periods=WEEK)
    capsys.readouterr()
    xivo.ensure_group(client, "accueil", "211", ["101"], music_on_hold="badlands",
                      schedule="heures-ouvrables")
    group = xivo.ensure_group(client, "accueil", "201", ["101", "102"],
                              music_on_hold="badlands", schedule="heures-ouvrables")
    said = capsys.readouterr().out
    assert _numbers(group) == ["201"]
    assert "Groupe accueil (201) : numéro 211 retiré ; numéro 201 ; membres : 101 Geralt Deriv, " \
           "102 Yennefer Vengerberg." in said
    assert xivo.lab._find_extension(client, "211", "default") is None  # no orphan left
    xivo.ensure_group(client, "accueil", "201", ["101", "102"], music_on_hold="badlands",
                      schedule="heures-ouvrables")
    assert "déjà comme demandé" in capsys.readouterr().out
    with pytest.raises(ToipkitError, match="aucune règle horaire nommée 'fermé'"):
        xivo.ensure_group(client, "support", "202", ["101"], schedule="fermé")


def test_conference_typo_leaves_no_orphan(client, capsys):
    xivo.ensure_conference(client, "Afterlife", "310")
    conference = xivo.ensure_conference(client, "Afterlife", "301")
    assert _numbers(conference) == ["301"]
    assert xivo.lab._find_extension(client, "310", "default") is None
    assert "numéro 310 retiré" in capsys.readouterr().out


def test_swapped_boss_and_secretary_can_be_corrected(client, capsys):
    xivo.ensure_call_filter(client, "filtrage-hanako", boss="104", secretaries=["105"])
    fixed = xivo.ensure_call_filter(client, "filtrage-hanako", boss="105", secretaries=["104"])
    roles = ([u["lastname"] for u in fixed["recipients"]["users"]],
             [u["lastname"] for u in fixed["surrogates"]["users"]])
    assert roles == (["Arasaka"], ["Parker"])
    assert "patron : 105 Hanako Arasaka ; secrétaire(s) : 104 Evelyn Parker" in capsys.readouterr().out
    codes = xivo.bsfilter_codes(fixed)
    assert list(codes["code"]) == [f"*37{m}" for m in codes["member_id"]]


def test_reset_removes_the_lab_objects(client, capsys):
    removed = xivo.lab.reset_lab04(client)
    assert "groupe accueil" in removed and "conférence Afterlife" in removed
    assert client.groups.find(name="accueil") is None
    assert client.users.find(lastname="Parker") is None
    assert xivo.lab.reset_lab04(client) == []
    assert "Rien à supprimer." in capsys.readouterr().out
