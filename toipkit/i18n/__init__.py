"""The message catalogue of everything a student reads: French by default, English on request.

The course is written in French, so the French text *is* the source text (the gettext
``msgid``): French needs no catalogue and can never fall back to something else. English comes
from ``toipkit/i18n/locale/en/LC_MESSAGES/toipkit.po``, compiled to the ``.mo`` file next to it by
``python -m toipkit.i18n compile`` (both committed; a test keeps them in step with the code).

Choose the language with the ``TOIPKIT_LANG`` environment variable (``fr``, the default, or
``en``; ``en_US.UTF-8`` style values work too). It is read at each call, so a notebook can switch
with ``%env TOIPKIT_LANG=en``.

In code::

    from toipkit.i18n import _, ngettext

    _("Valeur incorrecte.")
    _("La variable {name} n'existe pas.").format(name=name)
    ngettext("{n} appel", "{n} appels", n).format(n=n)

``N_`` marks a text for the catalogue where it is defined (a table of labels) and ``_`` then
translates it where it is shown.
"""

from __future__ import annotations

import gettext
import os
from functools import cache
from pathlib import Path

DOMAIN = "toipkit"
LOCALE_DIR = Path(__file__).with_name("locale")
DEFAULT_LANGUAGE = "fr"
LANGUAGES = ("fr", "en")


def language() -> str:
    """The language of the messages: ``TOIPKIT_LANG`` (``fr`` or ``en``), French otherwise."""
    value = os.environ.get("TOIPKIT_LANG", "").strip().lower()
    code = value.replace("-", "_").split(".")[0].split("_")[0]
    return code if code in LANGUAGES else DEFAULT_LANGUAGE


class _French(gettext.NullTranslations):
    """The source text as it is, with French plural forms (0 and 1 are singular)."""

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        return msgid1 if abs(n) < 2 else msgid2


@cache
def translations(lang: str) -> gettext.NullTranslations:
    if lang == DEFAULT_LANGUAGE:
        return _French()
    # A missing or unreadable catalogue gives the French text, never an exception in a lab.
    try:
        return gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang], fallback=True)
    except OSError:
        return _French()


def _(message: str) -> str:
    """``message`` (French source text) in the current language."""
    return translations(language()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """Singular or plural form of a message for ``n`` in the current language."""
    return translations(language()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark ``message`` for the catalogue without translating it now (see ``_`` later)."""
    return message


__all__ = ["DOMAIN", "LANGUAGES", "LOCALE_DIR", "N_", "_", "language", "ngettext",
           "translations"]
