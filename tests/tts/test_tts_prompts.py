"""Rendering through the cache, manifests, batches from CSV/YAML, ``say``."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from toipkit.errors import TTSError
from toipkit.tts import (
    Manifest,
    Prompt,
    PromptCache,
    VoiceSettings,
    clean_text,
    get_engine,
    get_format,
    load_prompts,
    read_sound,
    render_batch,
    render_prompts,
    render_text,
    say,
    slugify,
    synthesize,
    tts_duration,
)


def test_second_rendering_comes_from_the_cache(tmp_path):
    cache = PromptCache(tmp_path / "cache")
    first = render_text("Entrée invalide", ["ulaw", "sln16"], cache=cache)
    assert not first.cached
    stamps = {f: p.stat().st_mtime_ns for f, p in first.files.items()}
    second = render_text("Entrée invalide", ["ulaw", "sln16"], cache=cache)
    assert second.cached
    assert second.files == first.files
    assert {f: p.stat().st_mtime_ns for f, p in second.files.items()} == stamps
    assert all(str(p).startswith(str(cache.root)) for p in first.files.values())


def test_cache_key_covers_every_setting():
    engine = get_engine("espeak-lib")
    base = dict(text="Bonjour", settings=VoiceSettings(), fmt=get_format("ulaw"), engine=engine)
    key = PromptCache.key(**base)
    variants = [
        dict(base, text="Bonjour."),
        dict(base, settings=VoiceSettings(lang="fr-be")),
        dict(base, settings=VoiceSettings(voice="f3")),
        dict(base, settings=VoiceSettings(rate=150)),
        dict(base, settings=VoiceSettings(pitch=40)),
        dict(base, settings=VoiceSettings(volume=80)),
        dict(base, fmt=get_format("alaw")),
        dict(base, engine=get_engine_cli_or_skip()),
    ]
    keys = {PromptCache.key(**v) for v in variants}
    assert key not in keys and len(keys) == len(variants)
    assert PromptCache.key(**base) == key


def get_engine_cli_or_skip():
    try:
        return get_engine("espeak-cli")
    except TTSError:
        pytest.skip("espeak-ng command not installed")


def test_rendered_audio_is_telephone_ready():
    audio = synthesize("Pour joindre le service technique, tapez 2.")
    assert audio.rate == 8000
    assert abs(audio.peak - 32767 * 10 ** (-3 / 20)) <= 1
    # trimmed: no long silence at either end (50 ms kept)
    lead = np.argmax(np.abs(audio.samples) > audio.peak * 0.01) / audio.rate
    tail = (len(audio.samples) - np.max(np.nonzero(np.abs(audio.samples) > audio.peak * 0.01))) \
        / audio.rate
    assert lead < 0.1 and tail < 0.1
    assert synthesize("Bonjour", sample_rate=16000).rate == 16000


def test_say_writes_the_requested_format(tmp_path):
    wav = say("Bienvenue chez Arasaka", tmp_path / "bienvenue.wav")
    back = read_sound(wav)
    assert back.rate == 8000 and back.duration > 0.8
    raw = say("Bienvenue chez Arasaka", tmp_path / "bienvenue", format="ulaw")
    assert read_sound(raw, "ulaw").duration == pytest.approx(back.duration, abs=0.001)
    with pytest.raises(TTSError, match="pas d'extension"):
        say("x", tmp_path / "noext")
    with pytest.raises(TTSError, match="rien à dire : le texte"):
        say("  ", tmp_path / "x.wav")


def test_tts_duration_for_the_simulator():
    short, long = tts_duration("Oui"), tts_duration("Pour joindre madame Hanako Arasaka, tapez 5.")
    assert 0.1 < short < long < 6
    assert tts_duration("Pour joindre madame Hanako Arasaka, tapez 5.", speed=1.5) < long


def test_clean_text_and_slugify():
    assert clean_text('  Tapez *  (étoile)\n ') == "Tapez étoile"
    assert slugify("Entrée invalide") == "entree-invalide"
    assert slugify("Pour joindre l'accueil, tapez 1.") == "pour-joindre-l-accueil-tapez-1"
    assert slugify("!!!") == "prompt"
    assert len(slugify("mot " * 40)) <= 48


def test_render_prompts_layout_and_manifest(tmp_path):
    prompts = [Prompt("ivr-accueil", "Pour joindre l'accueil, tapez 1."),
               Prompt("custom/ivr-diese", "dièse"),
               Prompt("annonces/belge", "Septante", lang="fr-be")]
    manifest = render_prompts(prompts, tmp_path / "sounds", formats=["wav", "ulaw"])
    root = tmp_path / "sounds"
    assert (root / "fr/custom/ivr-accueil.wav").exists()
    assert (root / "fr/custom/ivr-diese.ulaw").exists()
    assert (root / "fr_BE/annonces/belge.wav").exists()
    data = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    assert [p["name"] for p in data["prompts"]] == \
        ["custom/ivr-accueil", "custom/ivr-diese", "annonces/belge"]
    loaded = Manifest.load(root)
    assert list(loaded) == list(manifest)
    entry = loaded["custom/ivr-accueil"]
    assert entry.text == "Pour joindre l'accueil, tapez 1."
    assert entry.duration == pytest.approx(read_sound(entry.path("wav")).duration, abs=1e-3)
    # the simulator asks with the names a dialplan uses
    for name in ("custom/ivr-accueil", "fr/custom/ivr-accueil",
                 "/usr/share/asterisk/sounds/fr/custom/ivr-accueil", "custom/ivr-accueil.ulaw"):
        assert loaded(name) is entry, name
        assert name in loaded
    assert loaded("custom/nothing") is None
    with pytest.raises(KeyError):
        loaded["custom/nothing"]
    frame = loaded.to_frame()
    assert list(frame.columns) == ["name", "text", "lang", "duration_s", "formats"]
    assert len(frame) == 3


def test_render_prompts_merges_and_refuses_name_clashes(tmp_path):
    render_prompts([Prompt("a", "Un")], tmp_path, formats=["sln"])
    manifest = render_prompts([Prompt("b", "Deux")], tmp_path, formats=["sln"])
    assert list(manifest) == ["custom/a", "custom/b"]
    with pytest.raises(TTSError, match="deux messages différents"):
        render_prompts([Prompt("c", "Trois"), Prompt("c", "Quatre")], tmp_path, formats=["sln"])
    assert not (tmp_path / "fr/custom/c.sln").exists()  # nothing written when refused
    assert list(Manifest.load(tmp_path)) == ["custom/a", "custom/b"]


def test_no_cache_leaves_nothing_behind(tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    say("Sans cache", tmp_path / "x.wav", cache=False)
    render_prompts([Prompt("a", "Un")], tmp_path / "out", formats=["ulaw"], cache=False)
    assert read_sound(tmp_path / "x.wav").duration > 0.3
    assert (tmp_path / "out/fr/custom/a.ulaw").exists()
    assert list((tmp_path / "tmp").iterdir()) == []


def test_batch_from_csv_and_yaml(tmp_path):
    csv_file = tmp_path / "prompts.csv"
    csv_file.write_text("name;text;lang;rate\nivr-un;Tapez un;fr;\nivr-deux;Tapez deux;fr-ch;150\n",
                        encoding="utf-8")
    prompts = load_prompts(csv_file)
    assert [(p.name, p.lang, p.rate) for p in prompts] == \
        [("ivr-un", "fr", None), ("ivr-deux", "fr-ch", 150)]
    yaml_file = tmp_path / "prompts.yaml"
    yaml_file.write_text("lang: fr\nprompts:\n  ivr-un: Tapez un\n  ivr-trois: Tapez trois\n",
                         encoding="utf-8")
    assert [p.text for p in load_prompts(yaml_file)] == ["Tapez un", "Tapez trois"]
    listed = tmp_path / "list.yml"
    listed.write_text("- {name: a, text: Alpha, pitch: 60}\n- {name: b, text: Bravo}\n",
                      encoding="utf-8")
    assert [p.pitch for p in load_prompts(listed)] == [60, None]
    manifest = render_batch(csv_file, tmp_path / "out", formats=["wav"])
    assert sorted(manifest) == ["custom/ivr-deux", "custom/ivr-un"]
    assert (tmp_path / "out/fr_CH/custom/ivr-deux.wav").exists()


def test_batch_errors_name_the_row(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("name,text,rate\nok,Bonjour,\nko,,\n", encoding="utf-8")
    with pytest.raises(TTSError, match=r"bad.csv:3 : 'text' manquant"):
        load_prompts(bad)
    bad.write_text("name,text,rate\nok,Bonjour,vite\n", encoding="utf-8")
    with pytest.raises(TTSError, match=r"bad.csv:2 : rate doit être un entier"):
        load_prompts(bad)
    bad.write_text("nom,texte\nx,y\n", encoding="utf-8")
    with pytest.raises(TTSError, match="les colonnes 'name' et 'text'"):
        load_prompts(bad)
    yml = tmp_path / "bad.yaml"
    yml.write_text("prompts: [a, b\n", encoding="utf-8")
    with pytest.raises(TTSError, match="YAML invalide"):
        load_prompts(yml)


def test_default_cache_lives_in_the_state_dir():
    assert PromptCache().root == Path(os.environ["TOIPKIT_HOME"]) / "tts-cache"
