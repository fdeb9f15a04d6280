"""Official rules of lab 05a (teacher side: never shipped to students, applied by the grader).

The corrected circuit is exported as its text; the grader parses, lints and simulates it here.
"""

from toipkit.checks import Close, Equal, Judge, SameSet

DIRECTORY = {
    "101": {"kind": "user", "name": "Geralt Deriv"},
    "102": {"kind": "user", "name": "Yennefer Vengerberg"},
    "103": {"kind": "user", "name": "Triss Merigold"},
    "201": {"kind": "group", "name": "accueil", "members": ["101", "102"]},
}


def _plan(text):
    from toipkit.dialplan import parse

    return parse(text, "circuit_corrige.conf")


def _clean(text):
    from toipkit.dialplan import lint

    return not [f for f in lint(_plan(text)) if f.severity in ("error", "warning")]


def _call(text):
    from toipkit.dialplan import simulate

    trace = simulate(_plan(text), "default", "100", dtmf="#1", directory=DIRECTORY)
    return (trace.outcome == "dial" and "101 (Geralt Deriv)" in trace.target
            and "102 (Yennefer Vengerberg)" in trace.target)


def _invalid_key(text):
    from toipkit.dialplan import simulate

    return simulate(_plan(text), "default", "100", dtmf="#91", directory=DIRECTORY).outcome == "dial"


def _silence(text):
    from toipkit.dialplan import simulate

    trace = simulate(_plan(text), "default", "100", dtmf="")
    return trace.outcome == "hangup" and "t" in {step.exten for step in trace.steps}


RULES = {
    "05a-menu": SameSet({"s", "1", "2", "3"}),
    "05a-ordre": Equal("_64NX"),
    "05a-lint-lignes": SameSet({7, 15, 16, 17}),
    "05a-ligne-fatale": Equal(7),
    "05a-corrige-lint": Judge(_clean, text_answer=True),
    "05a-appel": Judge(_call, text_answer=True),
    "05a-invalide": Judge(_invalid_key, text_answer=True),
    "05a-silence": Judge(_silence, text_answer=True),
    "05a-delai": Close(9.2, tol=0.05),
    "05a-ivr-touches": SameSet({"1", "3", "4", "5"}),
}
