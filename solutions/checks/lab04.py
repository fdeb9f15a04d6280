"""Official rules of lab 04 (teacher side: never shipped to students, applied by the grader)."""

from toipkit.checks import Equal, Judge, SameSet

REMOVED = {"uuid", "provisioning_code", "sip_username", "sip_secret", "password"}
KEPT = {"firstname", "lastname", "exten", "context", "line_protocol"}
NEW_USERS = {("Evelyn", "Parker", "104"), ("Hanako", "Arasaka", "105")}


def _filter_code(value):
    code, member_id = value
    return type(code) is str and code == f"*37{member_id}"


def _imported(value):
    accepted, rows = value
    if not accepted:
        return False, "L'import a été refusé : lisez le message, corrigez puis relancez la cellule."
    return NEW_USERS <= {tuple(r) for r in rows}, "Evelyn Parker (104) et Hanako Arasaka (105) manquent."


RULES = {
    "04-csv-colonnes": Judge(lambda columns: not REMOVED & set(columns) and KEPT <= set(columns)),
    "04-csv-nouveaux": SameSet(NEW_USERS),
    "04-csv-tout-ou-rien": Equal(([1], True)),
    "04-csv-import": Judge(_imported),
    "04-horaires": Equal([("09:00", "18:00", [1, 2, 3, 4, 5])]),
    "04-groupes": SameSet([("accueil", "201", "101, 102"), ("support", "202", "101, 103"),
                           ("communication", "203", "102, 103")]),
    "04-groupes-options": Equal((["badlands"], ["heures-ouvrables"])),
    "04-conference": Equal(("Afterlife", ["301"], None)),
    "04-filtrage": Equal((["Arasaka"], ["Parker"])),
    "04-code-filtrage": Judge(_filter_code),
    # live calls on the lab network: what the phones saw, not what the student typed
    "04-groupe-sonne": Equal((["101", "102"], True)),
    "04-conference-ecoute": Equal((True, False)),
    "04-filtrage-appel": Equal((["104"], "103")),
}
