"""Conference room "Afterlife" (301) on the lab network: three phones, each hears the others.

Each phone plays its own test tone; each recording must carry the two other tones and not its
own (energy in each tone's band, measured with an FFT on what the phone really received).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time

import numpy as np
import pytest
from labnet import lab_sandbox

from toipkit.phone import registrar
from toipkit.phone.baresip import available as baresip_available

pytestmark = [
    pytest.mark.skipif(not (registrar.available() and baresip_available()),
                       reason="kamailio (+ kamailio-sqlite-modules) and baresip-core are needed"),
    pytest.mark.skipif(shutil.which("sox") is None, reason="sox is needed"),
]

TONES = {"101": 500.0, "102": 900.0, "103": 1400.0}


@pytest.fixture(scope="module")
def network(tmp_path_factory):
    from toipkit.phone.lab import LabPhones
    from toipkit.xivo import lab

    os.environ["TOIPKIT_HOME"] = str(tmp_path_factory.mktemp("home"))
    try:
        with lab_sandbox(tmp_path_factory, "conf") as (client, _data_dir):
            lab.ensure_conference(client, "Afterlife", 301)
            with LabPhones(client, list(TONES), auto_answer=False) as team:
                yield client, team
    finally:
        os.environ.pop("TOIPKIT_HOME", None)


def _tone(path, frequency):
    subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", "-b", "16", str(path), "synth", "20",
                    "sine", str(frequency), "vol", "0.3"], check=True)
    return path


def _band_energy(samples: np.ndarray, frequency: float, width: float = 60.0) -> float:
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64))) ** 2
    freqs = np.fft.rfftfreq(len(samples), 1 / 8000)
    band = (freqs > frequency - width) & (freqs < frequency + width)
    return float(spectrum[band].sum() / spectrum.sum())


def _wait_room(team, number="301", timeout=10.0):
    """The sandbox opens the room by itself once confd has it: wait until it answers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        probe = team["103"].call(number, wait_answer=3)
        if probe.answered:
            team["103"].hangup()
            return
        time.sleep(0.3)
    raise AssertionError(f"room {number} never answered")


def test_three_participants_hear_each_other_not_themselves(network, tmp_path):
    client, team = network
    _wait_room(team)
    calls = {}
    for number, frequency in TONES.items():
        calls[number] = team[number].call("301", wait_answer=10,
                                          play=_tone(tmp_path / f"{number}.wav", frequency))
        assert calls[number].answered, calls[number].end_reason
    time.sleep(6)
    for number in TONES:
        team[number].hangup()
    for number, own in TONES.items():
        heard = calls[number].recording().samples
        last = heard[-4 * 8000:]  # everybody is in the room during the last seconds
        for frequency in [f for n, f in TONES.items() if n != number]:
            assert _band_energy(last, frequency) > 0.15, (number, frequency)
        assert _band_energy(last, own) < 0.01, (number, own)


def _prompt(text):
    from toipkit.tts import synthesize

    return synthesize(text, "fr")


def test_alone_in_the_room_hears_the_prompt(network):
    from toipkit.phone.phone import audio_similarity

    _client, team = network
    _wait_room(team)
    call = team["102"].call("301", duration=4.5)
    assert call.answered
    deadline = time.monotonic() + 3
    while call.recording_path is None and time.monotonic() < deadline:
        time.sleep(0.1)
    alone = _prompt("Vous êtes le seul participant de la conférence.")
    assert audio_similarity(alone, call.recording()) >= 0.9


def test_room_with_a_pin_admits_after_the_right_code(network):
    from toipkit.phone.phone import audio_similarity

    client, team = network
    conf = client.conferences.find(name="Afterlife")
    client.conferences.update(conf["id"], {"pin": "4321"})
    try:
        time.sleep(1.5)  # the sandbox reopens the room with its PIN
        phone = team["101"]
        call = phone.call("301", wait_answer=10)
        assert call.answered
        time.sleep(4.0)  # "veuillez saisir le code…"
        phone.send_dtmf("1111#")
        time.sleep(1.5)  # "code incorrect"
        phone.send_dtmf("4321#")
        time.sleep(4.0)  # admitted, alone: "vous êtes le seul participant"
        phone.hangup()
        deadline = time.monotonic() + 3
        while call.recording_path is None and time.monotonic() < deadline:
            time.sleep(0.1)
        heard = call.recording()
        assert audio_similarity(_prompt("Veuillez saisir le code de la conférence, suivi de "
                                        "dièse."), heard) >= 0.9
        assert audio_similarity(_prompt("Code incorrect."), heard) >= 0.9
        assert audio_similarity(_prompt("Vous êtes le seul participant de la conférence."),
                                heard) >= 0.9
    finally:
        client.conferences.update(conf["id"], {"pin": None})


def test_wrong_code_only_keeps_the_caller_out(network):
    from toipkit.phone.phone import audio_similarity

    client, team = network
    conf = client.conferences.find(name="Afterlife")
    client.conferences.update(conf["id"], {"pin": "4321"})
    try:
        time.sleep(1.5)
        phone = team["102"]
        call = phone.call("301", wait_answer=10)
        time.sleep(4.0)
        phone.send_dtmf("9999#")
        time.sleep(4.0)
        phone.hangup()
        deadline = time.monotonic() + 3
        while call.recording_path is None and time.monotonic() < deadline:
            time.sleep(0.1)
        alone = _prompt("Vous êtes le seul participant de la conférence.")
        assert audio_similarity(alone, call.recording()) < 0.5
    finally:
        client.conferences.update(conf["id"], {"pin": None})
