"""The message catalogue: French by default, English with TOIPKIT_LANG=en, nothing untranslated,
the committed .mo in step with its .po."""

from __future__ import annotations

import subprocess
import sys

import pytest

from toipkit import checks
from toipkit.checks import Close, Equal, SameSet
from toipkit.i18n import _, language, ngettext


def test_the_catalogue_covers_every_marked_text_and_its_mo_is_compiled():
    pytest.importorskip("babel")
    from toipkit.i18n.catalogue import check

    assert check() == []


def test_french_is_the_default_and_unknown_languages_fall_back_to_it(monkeypatch):
    monkeypatch.delenv("TOIPKIT_LANG", raising=False)
    assert language() == "fr"
    monkeypatch.setenv("TOIPKIT_LANG", "de")
    assert language() == "fr"
    assert Equal(64).judge(64.5).error == "Valeur incorrecte."


@pytest.mark.parametrize("value", ["en", "EN", "en_US.UTF-8", "en-GB"])
def test_english_on_request(monkeypatch, value):
    monkeypatch.setenv("TOIPKIT_LANG", value)
    assert language() == "en"
    assert Equal(64).judge("64").error == "Expected type: number; got: text (str)."
    assert SameSet({1, 2}).judge({"$set": [1]}).error == "1 element(s) missing, 0 element(s) too many."
    assert Close(9.2, tol=0.1).judge(True).error.startswith("Expected type: number")


def test_the_language_is_read_at_each_call(monkeypatch):
    monkeypatch.setenv("TOIPKIT_LANG", "en")
    english = str(checks.summary({"00-x": 1}))
    monkeypatch.setenv("TOIPKIT_LANG", "fr")
    french = str(checks.summary({"00-x": 1}))
    assert english != french and "Le noyau a redémarré" in french and "kernel restarted" in english


def test_french_plural_counts_zero_and_one_as_singular(monkeypatch):
    monkeypatch.delenv("TOIPKIT_LANG", raising=False)
    forms = [ngettext("{n} appel", "{n} appels", n).format(n=n) for n in (0, 1, 2)]
    assert forms == ["0 appel", "1 appel", "2 appels"]


def test_an_untranslated_text_stays_french_in_english(monkeypatch):
    monkeypatch.setenv("TOIPKIT_LANG", "en")
    assert _("Texte qui n'est pas au catalogue") == "Texte qui n'est pas au catalogue"


def test_the_compiled_catalogue_is_installed_with_the_package():
    # The .mo is package data: found through the installed package, not the source tree only.
    code = ("import importlib.resources as r; "
            "print(r.files('toipkit.i18n').joinpath('locale/en/LC_MESSAGES/toipkit.mo').is_file())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"
