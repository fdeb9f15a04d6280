"""Official rules of lab 02 (teacher side: never shipped to students, applied by the grader)."""

from toipkit.checks import Equal, SameSet

TEAM = [("Geralt", "Deriv", "101"), ("Triss", "Merigold", "103"), ("Yennefer", "Vengerberg", "102")]

RULES = {
    "02-utilisateurs": Equal(sorted(TEAM)),
    "02-langue-fuseau": Equal([("fr_FR", "Europe/Paris")]),
    "02-sans-doublon": Equal(3),
    "02-softphone": Equal([True, True, True]),
    "02-enregistrement": Equal(["101", "102", "103"]),
    "02-appels": SameSet({("101", "102"), ("102", "103")}),
}
