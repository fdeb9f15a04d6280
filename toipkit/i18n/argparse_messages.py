"""argparse's own messages ("usage:", "the following arguments are required"...) in French.

argparse looks its messages up at run time through its module-level ``_`` and ``ngettext``
(``gettext.gettext`` / ``gettext.ngettext``, English unless a system catalogue says otherwise).
:func:`install` replaces those two names, in the ``toipkit`` process only, by functions that
give the French below when :func:`toipkit.i18n.language` is ``fr`` and argparse's own text
otherwise. A message missing from the table passes through unchanged, and an argparse without
those names (a later Python) is left alone: its messages then stay in English.

Call :func:`install` before building the parsers: argparse translates the group titles
("positional arguments", "options") and the ``--help`` help when a parser is created.
"""

from __future__ import annotations

from collections.abc import Callable

from toipkit.i18n import language

# argparse's message (Python 3.11) -> French. Keep the %-placeholders identical.
FRENCH: dict[str, str] = {
    "usage: ": "utilisation : ",
    "positional arguments": "arguments positionnels",
    "options": "options",
    "optional arguments": "options",  # Python < 3.10
    "show this help message and exit": "afficher cette aide et quitter",
    "show program's version number and exit": "afficher la version du programme et quitter",
    "%(prog)s: error: %(message)s\n": "%(prog)s : erreur : %(message)s\n",
    "argument %(argument_name)s: %(message)s": "argument %(argument_name)s : %(message)s",
    "the following arguments are required: %s": "arguments obligatoires manquants : %s",
    "unrecognized arguments: %s": "arguments non reconnus : %s",
    "invalid choice: %(value)r (choose from %(choices)s)":
        "choix invalide : %(value)r (choisir parmi %(choices)s)",
    "expected one argument": "une valeur attendue",
    "expected at most one argument": "au plus une valeur attendue",
    "expected at least one argument": "au moins une valeur attendue",
    "invalid %(type)s value: %(value)r": "valeur invalide pour le type %(type)s : %(value)r",
    "one of the arguments %s is required": "l'un des arguments %s est obligatoire",
    "not allowed with argument %s": "incompatible avec l'argument %s",
    "ambiguous option: %(option)s could match %(matches)s":
        "option ambiguë : %(option)s peut désigner %(matches)s",
    "can't open '%(filename)s': %(error)s": "impossible d'ouvrir '%(filename)s' : %(error)s",
    "unknown parser %(parser_name)r (choices: %(choices)s)":
        "commande inconnue %(parser_name)r (choix : %(choices)s)",
    "ignored explicit argument %r": "valeur %r ignorée (cette option n'en prend pas)",
    "unexpected option string: %s": "option inattendue : %s",
}

# (singular, plural) -> French (singular, plural); French uses the singular for 0 and 1.
FRENCH_PLURALS: dict[tuple[str, str], tuple[str, str]] = {
    ("expected %s argument", "expected %s arguments"): ("%s valeur attendue",
                                                        "%s valeurs attendues"),
}


def translate(message: str, english: Callable[[str], str] | None = None) -> str:
    """``message`` (argparse's English) in the current language."""
    if language() == "fr" and message in FRENCH:
        return FRENCH[message]
    return english(message) if english is not None else message


def translate_plural(singular: str, plural: str, n: int,
                     english: Callable[[str, str, int], str] | None = None) -> str:
    """The singular or plural form of one of argparse's messages, in the current language."""
    french = FRENCH_PLURALS.get((singular, plural))
    if language() == "fr" and french is not None:
        return french[0] if abs(n) < 2 else french[1]
    if english is not None:
        return english(singular, plural, n)
    return singular if n == 1 else plural


def install() -> bool:
    """Route argparse's messages through :func:`translate`; idempotent.

    Returns False (and changes nothing) when this Python's argparse does not look its messages
    up through module-level ``_``/``ngettext`` functions.
    """
    import argparse

    gettext_function = getattr(argparse, "_", None)
    ngettext_function = getattr(argparse, "ngettext", None)
    if not callable(gettext_function) or not callable(ngettext_function):
        return False
    if getattr(gettext_function, "_toipkit", False):
        return True

    def french_gettext(message: str) -> str:
        return translate(message, gettext_function)

    def french_ngettext(singular: str, plural: str, n: int) -> str:
        return translate_plural(singular, plural, n, ngettext_function)

    french_gettext._toipkit = True  # type: ignore[attr-defined]
    try:
        argparse._ = french_gettext  # type: ignore[attr-defined]
        argparse.ngettext = french_ngettext  # type: ignore[attr-defined]
    except (AttributeError, TypeError):  # a read-only module: stay in English
        return False
    return True


__all__ = ["FRENCH", "FRENCH_PLURALS", "install", "translate", "translate_plural"]
