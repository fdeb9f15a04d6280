"""Official rules of lab 03 (teacher side: never shipped to students, applied by the grader).

Exercises on a capture that changes (the student's live call, or the ``capture`` parameter that
grading may point to a hidden capture) export ``(answer, reference)``: the official check cell
reads the reference from that capture itself, and the rule compares the two here.
"""

from toipkit.checks import Equal, Judge, SameSet

NUMBER = (int, float)


def _same(value):
    answer, reference = value
    if type(answer) is not type(reference) and not (
            type(answer) in NUMBER and type(reference) in NUMBER):
        return False, "Le type de la réponse ne convient pas (texte, entier, liste ?)."
    return answer == reference, "Valeur incorrecte."


def _close(tol):
    def judge(value):
        answer, reference = value
        if type(answer) not in NUMBER:
            return False, "Type attendu : nombre."
        return abs(answer - reference) <= tol, "Valeur incorrecte."
    return judge


def _all_close(value):
    answers, references = value
    if len(answers) != len(references) or any(type(a) not in NUMBER for a in answers):
        return False, "Trois nombres attendus."
    return all(abs(a - b) <= 0.01 for a, b in zip(answers, references)), "Valeur incorrecte."


def _handout_order(steps):
    remaining = iter(steps)
    return all(step in remaining for step in ["INVITE", "100", "180", "200", "ACK", "BYE"])


RULES = {
    # the student's own live call (or its recorded fallback)
    "03-invite-champs": Judge(_same),
    "03-sdp": Judge(_same),
    "03-flux-appel": Judge(_same),
    "03-degradation": Judge(_all_close),
    # the parameterised capture (the sample, or a hidden capture at grading)
    "03-filtre-sip": Judge(_same),
    "03-filtre-rtp": Judge(_same),
    "03-filtre-5060": Judge(_same),
    "03-sequence": Judge(_same),
    "03-sequence-polycopie": Judge(_handout_order),
    "03-etablissement": Judge(_close(1)),
    "03-nb-flux": Judge(_same),
    "03-deux-sens": Judge(lambda v: v[0] == 2 and v[1] == 2),
    "03-codec": Judge(_same),
    "03-gigue-max": Judge(_close(0.001)),
    "03-pertes": Judge(_same),
    "03-delta": Judge(_close(0.01)),
    "03-mos": Judge(_close(0.01)),
    "03-dtmf": Judge(_same),
    # fixed captures
    "03-echecs": Equal({"103": 486, "102": 487}),
    "03-enregistres": SameSet({"101", "102", "103"}),
    # HA1 (needs the password), HA2 and response of the REGISTER of 101 in register.pcap
    "03-digest": Equal(["9675c4f69e1075589232f4486a513eb2", "c5e70b20707f3c7a59bc68029711c19f",
                        "9acb6806c366ec1635f7e115325f872b"]),
    "03-chiffrement": SameSet({"adresses IP et ports", "en-têtes RTP (SSRC, séquence, horodatage)",
                               "pertes et gigue"}),
}
