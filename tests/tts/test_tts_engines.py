"""The offline engines: bundled espeak-ng library (ctypes) and the espeak-ng command."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from toipkit.errors import TTSError
from toipkit.tts.engines import (
    EspeakCliEngine,
    VoiceSettings,
    available_engines,
    espeak_voice_name,
    get_engine,
    quiet_stderr,
)

TEXT = "Pour joindre l'accueil, tapez 1."


def _plausible(audio, text):
    """Speech at espeak's default rate: roughly 40–150 ms per character, clearly not silent."""
    per_char = audio.duration / len(text)
    return 0.04 < per_char < 0.15 and audio.rms_dbfs > -35


def test_bundled_library_speaks_french():
    engine = get_engine("espeak-lib")
    audio = engine.synthesize(TEXT, VoiceSettings(lang="fr"))
    assert audio.rate == 22050
    assert _plausible(audio, TEXT)
    assert engine.version.startswith("1.52")


def test_bundled_library_is_deterministic_whatever_was_said_before():
    engine = get_engine("espeak-lib")
    first = engine.synthesize(TEXT, VoiceSettings())
    engine.synthesize("Autre chose, pour changer l'état du synthétiseur.", VoiceSettings())
    again = engine.synthesize(TEXT, VoiceSettings())
    assert np.array_equal(first.samples, again.samples)


@pytest.mark.parametrize("lang", ["fr", "fr-be", "fr-ch"])
def test_french_voices(lang):
    audio = get_engine("espeak-lib").synthesize("Bonjour et bienvenue.", VoiceSettings(lang=lang))
    assert _plausible(audio, "Bonjour et bienvenue.")


def test_rate_pitch_and_variant_change_the_sound():
    engine = get_engine("espeak-lib")
    normal = engine.synthesize(TEXT, VoiceSettings())
    slow = engine.synthesize(TEXT, VoiceSettings(rate=120))
    assert slow.duration > normal.duration * 1.2
    high = engine.synthesize(TEXT, VoiceSettings(pitch=90))
    female = engine.synthesize(TEXT, VoiceSettings(voice="f3"))
    assert not np.array_equal(high.samples[:5000], normal.samples[:5000])
    assert not np.array_equal(female.samples[:5000], normal.samples[:5000])
    assert espeak_voice_name(VoiceSettings(lang="fr_BE", voice="m2")) == "fr-be+m2"


def test_unknown_voice_is_a_clear_error():
    with pytest.raises(TTSError, match="pas de voix 'xx-yy'"):
        get_engine("espeak-lib").synthesize("x", VoiceSettings(lang="xx-yy"))
    with pytest.raises(TTSError, match="moteur de synthèse vocale inconnu"):
        get_engine("festival")


def test_command_line_fallback():
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng command not installed")
    engine = get_engine("espeak-cli")
    audio = engine.synthesize(TEXT, VoiceSettings(rate=160, pitch=40))
    assert audio.rate == 22050
    assert _plausible(audio, TEXT)
    assert engine.version[0].isdigit()
    assert "espeak-cli" in available_engines()
    with pytest.raises(TTSError, match="échec de espeak-ng"):
        EspeakCliEngine(command="/bin/false").synthesize("x", VoiceSettings())


def test_auto_falls_back_to_the_command_without_the_wheel():
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng command not installed")
    code = ("import sys; sys.modules['espeakng_loader'] = None\n"
            "from toipkit.tts.engines import get_engine, available_engines, VoiceSettings\n"
            "e = get_engine('auto'); a = e.synthesize('Bonjour', VoiceSettings())\n"
            "print(e.name, 'espeak-lib' in available_engines(), a.duration > 0.3)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.stdout.split() == ["espeak-cli", "False", "True"], proc.stderr


def test_quiet_stderr_silences_the_file_descriptor(capfd):
    captured: list[str] = []
    with quiet_stderr(captured):
        os.write(2, b"noise from C\n")
    out, err = capfd.readouterr()
    assert err == ""
    assert captured == ["noise from C\n"]


_OFFLINE_SCRIPT = textwrap.dedent("""
    import socket, sys
    attempts = []

    class NoNetwork(socket.socket):
        def __init__(self, family=-1, *args, **kwargs):
            if family in (socket.AF_INET, socket.AF_INET6):
                attempts.append(family)
                raise OSError("network disabled by the test")
            super().__init__(family, *args, **kwargs)

    def no_dns(*args, **kwargs):
        attempts.append("dns")
        raise socket.gaierror("DNS disabled by the test")

    socket.socket = NoNetwork
    socket.getaddrinfo = no_dns
    socket.gethostbyname = no_dns

    from toipkit import tts
    from toipkit.tts.audio import read_sound
    out = sys.argv[1]
    for engine in sys.argv[2:]:
        path = tts.say("Bonjour et bienvenue chez Arasaka.", f"{out}/{engine}.ulaw", engine=engine)
        audio = read_sound(path)
        assert audio.duration > 1.0 and audio.rms_dbfs > -30, (engine, audio)
    assert not attempts, attempts
    print("OFFLINE-OK", len(sys.argv) - 2)
""")


def test_works_with_the_network_unreachable(tmp_path):
    """Run the engines in a child with no network namespace (when possible), no proxies, and
    sockets/DNS disabled: rendering must not need the network."""
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["TOIPKIT_HOME"] = str(tmp_path / "home")
    engines = ["espeak-lib"] + (["espeak-cli"] if shutil.which("espeak-ng") else [])
    cmd = [sys.executable, "-c", _OFFLINE_SCRIPT, str(tmp_path), *engines]
    unshare = shutil.which("unshare")
    if unshare and os.geteuid() == 0 and \
            subprocess.run([unshare, "-n", "true"], capture_output=True).returncode == 0:
        cmd = [unshare, "-n", *cmd]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert f"OFFLINE-OK {len(engines)}" in proc.stdout
