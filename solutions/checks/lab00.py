"""Official rules of lab 00 (teacher side: never shipped to students, applied by the grader)."""

from toipkit.checks import Close, Equal

RULES = {
    "00-debit-g711": Close(64, tol=0.01),
    "00-paquets-rtp": Equal(50),
}
