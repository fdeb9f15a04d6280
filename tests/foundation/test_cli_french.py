"""The command line speaks French by default (help, usage, argparse's errors), English on request.

Each case runs the real ``toipkit`` command in a fresh interpreter, as a student would.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

from toipkit.i18n import argparse_messages

REPO = Path(__file__).resolve().parents[2]
ENGLISH_ONLY = ("usage:", "show this help", "positional arguments", "error:", "required")


def toipkit(*args: str, lang: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    env.pop("TOIPKIT_LANG", None)
    if lang is not None:
        env["TOIPKIT_LANG"] = lang
    return subprocess.run([sys.executable, "-m", "toipkit.cli", *args], capture_output=True,
                          text=True, env=env, cwd=REPO, timeout=120)


def test_main_help_is_french_by_default():
    done = toipkit("--help")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.startswith("utilisation : toipkit ")
    assert "arguments positionnels" in out and "afficher cette aide et quitter" in out
    assert "afficher la version du programme et quitter" in out
    assert "analyser des captures SIP/RTP" in out and "bac à sable" in out
    for english in ENGLISH_ONLY + ("show program's version", "analyse SIP/RTP captures"):
        assert english not in out, english


def test_main_help_is_english_with_toipkit_lang_en():
    out = toipkit("--help", lang="en").stdout
    assert out.startswith("usage: toipkit ")
    assert "show this help message and exit" in out and "show program's version number" in out
    assert "analyse SIP/RTP captures (tshark-identical numbers)" in out
    assert "utilisation" not in out and "afficher" not in out


def test_pcap_help_in_both_languages():
    french = toipkit("pcap", "summary", "--help").stdout
    assert french.startswith("utilisation : toipkit pcap summary")
    assert "capture à lire" in french and "sans barre de progression" in french
    assert "décoder aussi le port UDP PORT comme du RTP" in french
    assert not any(english in french for english in ENGLISH_ONLY + ("no progress bar",))
    english = toipkit("pcap", "summary", "--help", lang="en_US.UTF-8").stdout
    assert english.startswith("usage: toipkit pcap summary")
    assert "no progress bar" in english and "also decode UDP port PORT as RTP" in english


def test_missing_argument_is_a_french_error_naming_it():
    done = toipkit("pcap", "summary")
    assert done.returncode == 2 and done.stdout == ""
    last = done.stderr.strip().splitlines()[-1]
    assert last == "toipkit pcap summary : erreur : arguments obligatoires manquants : file"
    assert done.stderr.startswith("utilisation : toipkit pcap summary")
    english = toipkit("pcap", "summary", lang="en")
    assert english.returncode == 2
    assert english.stderr.strip().splitlines()[-1] == (
        "toipkit pcap summary: error: the following arguments are required: file")


def test_invalid_choice_and_invalid_value_are_french():
    done = toipkit("dialplan", "lint", "x.conf", "--lang", "de")
    assert done.returncode == 2
    assert ("toipkit dialplan lint : erreur : argument --lang : choix invalide : 'de' "
            "(choisir parmi 'fr', 'en')") in done.stderr
    done = toipkit("pcap", "nope")
    assert done.returncode == 2 and "argument ACTION : choix invalide : 'nope'" in done.stderr
    done = toipkit("dialplan", "simulate", "x.conf", "--context", "c", "--max-steps", "dix")
    assert done.returncode == 2
    assert "argument --max-steps : valeur invalide pour le type int : 'dix'" in done.stderr
    done = toipkit("pcap", "ladder", "x.pcap", "--call")
    assert "argument --call : une valeur attendue" in done.stderr
    done = toipkit("--help-me")
    assert done.returncode == 2 and "arguments non reconnus : --help-me" in done.stderr


def test_sandbox_module_help_is_french():
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env.pop("TOIPKIT_LANG", None)
    done = subprocess.run([sys.executable, "-m", "toipkit.xivo.sandbox", "--help"],
                          capture_output=True, text=True, env=env, cwd=REPO, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("utilisation : python -m toipkit.xivo.sandbox")
    assert "Lancer le bac à sable XiVO compatible confd." in done.stdout
    assert "TOIPKIT_SANDBOX_IDLE_MINUTES" in done.stdout and "show this help" not in done.stdout


def test_plural_and_unknown_messages(monkeypatch):
    monkeypatch.setenv("TOIPKIT_LANG", "fr")
    assert argparse_messages.translate_plural("expected %s argument",
                                              "expected %s arguments", 2) == "%s valeurs attendues"
    assert argparse_messages.translate("a message argparse may add later") == (
        "a message argparse may add later")
    monkeypatch.setenv("TOIPKIT_LANG", "en")
    assert argparse_messages.translate("usage: ") == "usage: "
    assert argparse_messages.translate_plural("expected %s argument",
                                              "expected %s arguments", 1) == "expected %s argument"


def test_every_french_message_keeps_argparse_placeholders():
    import re

    fields = re.compile(r"%(?:\(\w+\))?[sr]")
    for english, french in argparse_messages.FRENCH.items():
        assert sorted(fields.findall(english)) == sorted(fields.findall(french)), english
    for english_pair, french_pair in argparse_messages.FRENCH_PLURALS.items():
        for english, french in zip(english_pair, french_pair):
            assert fields.findall(english) == fields.findall(french)


def test_an_argparse_without_gettext_hooks_stays_english(monkeypatch):
    # A later Python may translate differently: without the module-level hooks, change nothing.
    monkeypatch.delattr(argparse, "ngettext")
    gettext_before = argparse._  # type: ignore[attr-defined]
    assert argparse_messages.install() is False
    assert argparse._ is gettext_before  # type: ignore[attr-defined]


def test_install_is_idempotent(monkeypatch):
    monkeypatch.setattr(argparse, "_", argparse._)  # type: ignore[attr-defined]
    monkeypatch.setattr(argparse, "ngettext", argparse.ngettext)  # type: ignore[attr-defined]
    assert argparse_messages.install() is True
    installed = argparse._  # type: ignore[attr-defined]
    assert argparse_messages.install() is True
    assert argparse._ is installed  # type: ignore[attr-defined]
    monkeypatch.setenv("TOIPKIT_LANG", "fr")
    assert installed("options") == "options" and installed("usage: ") == "utilisation : "
    monkeypatch.setenv("TOIPKIT_LANG", "en")
    assert installed("usage: ") == "usage: "


@pytest.mark.parametrize("lang,expected", [
    ("fr", ["Appels (1) :", "Flux RTP (2) :", "paquets", "gigue moyenne"]),
    ("en", ["Calls (1):", "RTP streams (2):", "packets", "mean jitter"]),
])
def test_pcap_summary_output_follows_the_language(lang, expected):
    capture = REPO / "data" / "captures" / "call-101-102.pcapng"
    done = toipkit("pcap", "summary", str(capture), "--no-progress", lang=lang)
    assert done.returncode == 0, done.stderr
    for text in expected:
        assert text in done.stdout, done.stdout
