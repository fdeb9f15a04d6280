"""Resampling, level, trimming and Asterisk file formats, read back with sox and ``wave``."""

from __future__ import annotations

import shutil
import subprocess
import wave

import numpy as np
import pytest

from toipkit.errors import TTSError
from toipkit.tts.audio import (
    FORMATS,
    Audio,
    get_format,
    normalise,
    read_sound,
    resample,
    sound_duration,
    trim_silence,
)


def _tone(freq, rate, seconds=1.0, amp=10000.0):
    t = np.arange(int(rate * seconds)) / rate
    return amp * np.sin(2 * np.pi * freq * t)


def _dominant(x, rate):
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return np.fft.rfftfreq(len(x), 1 / rate)[np.argmax(spec)]


@pytest.mark.parametrize("rate_in,rate_out", [(22050, 8000), (22050, 16000), (16000, 8000),
                                              (8000, 16000), (24000, 8000)])
def test_resample_keeps_in_band_tones(rate_in, rate_out):
    for freq in (300, 1000, 3000):
        y = resample(_tone(freq, rate_in), rate_in, rate_out)
        assert len(y) == int(np.ceil(rate_in * 1.0 * rate_out / rate_in))
        mid = y[len(y) // 4: 3 * len(y) // 4]
        assert abs(_dominant(mid, rate_out) - freq) < 3
        gain = np.sqrt(np.mean(mid ** 2)) / (10000 / np.sqrt(2))
        assert 0.98 < gain < 1.02


def test_resample_removes_what_would_alias():
    # 5 kHz at 22.05 kHz would fold to 3 kHz at 8 kHz: the filter must remove it (> 60 dB).
    y = resample(_tone(5000, 22050), 22050, 8000)
    mid = y[len(y) // 4: 3 * len(y) // 4]
    assert np.sqrt(np.mean(mid ** 2)) < 10000 * 1e-3


def test_normalise_and_trim():
    x = np.concatenate([np.zeros(8000), _tone(440, 8000, 0.5, 1000.0), np.zeros(4000)])
    y = normalise(x, -3.0)
    assert abs(np.max(np.abs(y)) - 32767 * 10 ** (-3 / 20)) < 1e-6
    trimmed = trim_silence(x, 8000, -40.0, pad=0.05)
    # 0.5 s of tone plus at most 50 ms each side
    assert 0.5 * 8000 <= len(trimmed) <= 0.6 * 8000 + 2
    assert len(trim_silence(np.zeros(100), 8000)) == 0


def test_formats_table():
    assert get_format(".ul") is FORMATS["ulaw"]
    assert get_format("SLN16").rate == 16000
    with pytest.raises(TTSError, match="format de son inconnu"):
        get_format("mp3")


def _speech_like(rate=8000):
    rng = np.random.default_rng(1)
    env = np.abs(np.sin(np.linspace(0, 6 * np.pi, rate)))
    return Audio(np.clip(env * rng.normal(0, 6000, rate), -32768, 32767).astype(np.int16), rate)


@pytest.mark.parametrize("fmt", ["wav", "wav16", "sln", "sln16", "ulaw", "alaw", "gsm"])
def test_write_and_read_back_every_format(tmp_path, fmt):
    if fmt == "gsm" and shutil.which("sox") is None:
        pytest.skip("sox is not installed")
    audio = _speech_like()
    f = FORMATS[fmt]
    path = audio.save(tmp_path / f"x.{f.ext}")
    back = read_sound(path)
    assert back.rate == f.rate
    assert abs(back.duration - 1.0) < 0.03
    assert abs(sound_duration(path) - back.duration) < 0.021
    if f.rate == 8000 and fmt in ("wav", "sln"):
        assert np.array_equal(back.samples, audio.samples)
    if fmt in ("ulaw", "alaw"):
        # decode within G.711 quantisation of the original
        err = np.abs(back.samples.astype(int) - audio.samples.astype(int))
        assert np.all(err <= np.maximum(np.abs(audio.samples.astype(int)) / 16, 16) + 8)
    assert back.rms > 0.5 * audio.rms
    assert not list(tmp_path.glob(".*.tmp"))


def test_wav_header_is_what_asterisk_reads(tmp_path):
    path = _speech_like().save(tmp_path / "x.wav")
    with wave.open(str(path)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getcomptype()) == \
            (1, 2, 8000, "NONE")
    if shutil.which("soxi"):
        out = subprocess.run(["soxi", str(path)], capture_output=True, text=True).stdout
        assert "Channels       : 1" in out and "Sample Rate    : 8000" in out
        assert "16-bit Signed Integer PCM" in out


def test_raw_formats_match_sox_decoding(tmp_path):
    sox = shutil.which("sox")
    if sox is None:
        pytest.skip("sox is not installed")
    audio = _speech_like()
    for fmt, sox_in in (("ulaw", ["-e", "u-law", "-b", "8"]), ("alaw", ["-e", "a-law", "-b", "8"]),
                        ("sln", ["-e", "signed", "-b", "16"])):
        path = audio.save(tmp_path / f"x.{fmt}")
        out = tmp_path / f"{fmt}.s16"
        subprocess.run([sox, "-t", "raw", "-r", "8000", "-c", "1", *sox_in, str(path),
                        "-t", "raw", "-e", "signed", "-b", "16", str(out)], check=True)
        assert np.array_equal(np.fromfile(out, "<i2"), read_sound(path).samples), fmt


def test_bad_files_raise_clear_errors(tmp_path):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not a wav")
    with pytest.raises(TTSError, match="bad.wav"):
        read_sound(bad)
    odd = tmp_path / "odd.sln"
    odd.write_bytes(b"\x00\x01\x02")
    with pytest.raises(TTSError, match="nombre d'octets impair"):
        read_sound(odd)
    with pytest.raises(TTSError, match="missing.wav : lecture impossible"):
        read_sound(tmp_path / "missing.wav")
    with pytest.raises(TTSError, match="mono"):
        Audio(np.zeros((2, 10), np.int16), 8000)


def test_audio_errors_in_english_on_request(tmp_path, monkeypatch):
    monkeypatch.setenv("TOIPKIT_LANG", "en")
    odd = tmp_path / "odd.sln"
    odd.write_bytes(b"\x00\x01\x02")
    with pytest.raises(TTSError, match=r"^sln: odd number of bytes \(3\), not 16-bit samples$"):
        read_sound(odd)
    with pytest.raises(TTSError, match="unknown sound format 'mp3'; choose one of: "):
        get_format("mp3")


def test_audio_displays_in_jupyter():
    html = _speech_like()._repr_html_()
    assert "<audio" in html and "data:audio/wav;base64," in html
