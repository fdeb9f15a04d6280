"""Official rules of lab 05b (teacher side: never shipped to students, applied by the grader).

The rewritten IVR is exported as its text (linted here); the simulations as plain summaries; the
live call as what the IVR recorded and whether it agrees with the simulation.
"""

from toipkit.checks import Equal, Judge

DIRECTORY = {
    "101": {"kind": "user", "name": "Geralt Deriv"},
    "102": {"kind": "user", "name": "Yennefer Vengerberg"},
    "103": {"kind": "user", "name": "Triss Merigold"},
    "104": {"kind": "user", "name": "Evelyn Parker"},
    "105": {"kind": "user", "name": "Hanako Arasaka"},
    "201": {"kind": "group", "name": "accueil", "members": ["101", "102"]},
    "202": {"kind": "group", "name": "support", "members": ["101", "103"]},
    "203": {"kind": "group", "name": "communication", "members": ["102", "103"]},
    "301": {"kind": "conference", "name": "Afterlife"},
}
CHOICES = {"1": "201", "2": "202", "3": "203", "4": "104", "5": "105"}


def _lint_clean(text):
    from toipkit.dialplan import lint, parse, simulate

    plan = parse(text, "ivr-arasaka.conf")
    if [f for f in lint(plan, directory=DIRECTORY) if f.severity == "error"]:
        return False, "lint trouve encore des erreurs."
    # Any clean file would pass lint: the IVR must also answer on 500 and route key 1.
    trace = simulate(plan, "xivo-extrafeatures", "500", dtmf="1", directory=DIRECTORY)
    return trace.outcome == "dial", "le 500 de [xivo-extrafeatures] doit mener au SVI."


def _choices(traces):
    return set(traces) == set(CHOICES) and all(
        traces[key][0] == "dial" and (traces[key][1].startswith(number)
                                      or f"({number})" in traces[key][1])
        for key, number in CHOICES.items())


def _invalid_keys(traces):
    return set(traces) == set("06789*#") and all(
        outcome == "dial" and "(201)" in target and "say_invalid" in extens
        for outcome, target, extens in traces.values())


def _silence(value):
    outcome, steps = value
    return (outcome == "hangup" and sum(1 for exten, priority in steps
                                        if exten == "t" and priority == 1) == 3
            and any(exten == "fin" for exten, _ in steps))


RULES = {
    "05b-annonces": Equal(9),
    "05b-tailles": Equal((20000, 40044, 80000)),
    "05b-g711-silence": Equal((0xFF, 0xD5)),
    "05b-reecriture": Equal((9, 0)),
    "05b-decalage": Equal(("202", "203")),
    "05b-lint": Judge(_lint_clean, text_answer=True),
    "05b-choix": Judge(_choices),
    "05b-invalides": Judge(_invalid_keys),
    "05b-delai": Judge(_silence),
    # the live call to 500 with key 1: (outcome, keys received, same prompts, same outcome)
    "05b-direct": Equal(("dial", "1", True, True)),
    "05b-reload": Equal('asterisk -rx "dialplan reload"'),
}
