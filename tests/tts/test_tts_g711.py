"""G.711 against independent references: sox, audioop (when present) and the ITU-T tables."""

from __future__ import annotations

import shutil
import subprocess
import warnings

import numpy as np
import pytest

from toipkit.tts import g711


def need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.skip(f"{tool} is not installed")
    return path


ALL = np.arange(-32768, 32768, dtype=np.int64).astype(np.int16)


def _sox(tmp_path, data: bytes, in_args, out_args) -> bytes:
    src, dst = tmp_path / "in.raw", tmp_path / "out.raw"
    src.write_bytes(data)
    # -D: no dither (sox dithers by default when reducing to 14/13-bit G.711 precision).
    subprocess.run([need("sox"), "-D", "-q", *in_args, str(src), *out_args, str(dst)], check=True)
    return dst.read_bytes()


PCM16 = ["-t", "raw", "-e", "signed", "-b", "16", "-r", "8000", "-c", "1"]


@pytest.mark.parametrize("law,sox_enc,encoder,offset", [
    ("ulaw", "u-law", g711.ulaw_encode, 2),
    ("alaw", "a-law", g711.alaw_encode, 4),
])
def test_encoder_matches_sox_on_all_65536_inputs(tmp_path, law, sox_enc, encoder, offset):
    ref = np.frombuffer(_sox(tmp_path, ALL.astype("<i2").tobytes(), PCM16,
                             ["-t", "raw", "-e", sox_enc, "-b", "8"]), dtype=np.uint8)
    assert ref.shape == (65536,)
    ours = encoder(ALL)
    # On the G.711 grid (14-bit µ-law, 13-bit A-law) both reduce the same way: bit-exact.
    grid = (ALL.astype(np.int64) % (4 if law == "ulaw" else 8)) == 0
    assert np.array_equal(ours[grid], ref[grid])
    # Off the grid sox rounds to nearest where we truncate (like audioop / Sun g711.c):
    # sox(x) == ours(x + half a step), everywhere.
    shifted = np.clip(ALL.astype(np.int64) + offset, -32768, 32767).astype(np.int16)
    assert np.array_equal(encoder(shifted), ref)


@pytest.mark.parametrize("sox_enc,decoder", [("u-law", g711.ulaw_decode),
                                             ("a-law", g711.alaw_decode)])
def test_decoder_matches_sox_for_all_256_codes(tmp_path, sox_enc, decoder):
    codes = np.arange(256, dtype=np.uint8)
    ref = np.frombuffer(_sox(tmp_path, codes.tobytes(),
                             ["-t", "raw", "-e", sox_enc, "-b", "8", "-r", "8000", "-c", "1"],
                             ["-t", "raw", "-e", "signed", "-b", "16"]), dtype="<i2")
    assert np.array_equal(decoder(codes), ref)
    assert np.array_equal(decoder(codes.tobytes()), ref)


def _itu_levels(law: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(code, reconstruction magnitude, step) for the 128 positive codes on the law's grid,
    written from the G.711 segment structure: 8 segments × 16 steps, the step doubling from one
    segment to the next."""
    codes, mags, steps = [], [], []
    for seg in range(8):
        for m in range(16):
            if law == "ulaw":
                # µ-law, 14-bit grid: levels ((2m + 33) << seg) - 33, step 2 << seg.
                mag, step = ((2 * m + 33) << seg) - 33, 2 << seg
                code = 0xFF ^ ((seg << 4) | m)        # all bits inverted, sign bit 1 = positive
            else:
                # A-law, 13-bit grid: 2m + 1 in segment 0, (2m + 33) << (seg - 1) above.
                mag = 2 * m + 1 if seg == 0 else (2 * m + 33) << (seg - 1)
                step = 2 if seg == 0 else 1 << seg
                code = 0xD5 ^ ((seg << 4) | m)        # even bits inverted, sign bit 1 = positive
            codes.append(code)
            mags.append(mag)
            steps.append(step)
    return np.array(codes), np.array(mags), np.array(steps)


@pytest.mark.parametrize("law", ["ulaw", "alaw"])
def test_encoder_is_the_g711_quantiser(law):
    """Each level owns [level - step/2, level + step/2) (a value on a decision level goes up);
    inputs are reduced to the law's grid (µ-law: x >> 2 and |.|; A-law: x >> 3 with the one's
    complement for negatives), sign bit cleared for negative inputs."""
    codes, mags, steps = _itu_levels(law)
    decisions = mags - steps // 2
    assert np.all(np.diff(decisions) > 0)
    assert np.array_equal(decisions[1:], (mags + steps // 2)[:-1])  # intervals tile the range
    x = ALL.astype(np.int64)
    if law == "ulaw":
        v = x >> 2
        neg = v < 0
        mag = np.abs(v)
    else:
        v = x >> 3
        neg = v < 0
        mag = np.where(neg, ~v, v)
    idx = np.clip(np.searchsorted(decisions, mag, side="right") - 1, 0, 127)
    expected = np.where(neg, codes[idx] & 0x7F, codes[idx]).astype(np.uint8)
    encoder = g711.ulaw_encode if law == "ulaw" else g711.alaw_encode
    assert np.array_equal(encoder(ALL), expected)


def test_decoded_levels_are_the_itu_table_values():
    for law, decoder, scale in (("ulaw", g711.ulaw_decode, 4), ("alaw", g711.alaw_decode, 8)):
        codes, mags, _ = _itu_levels(law)
        assert np.array_equal(decoder(codes.astype(np.uint8)), mags * scale), law
        assert np.array_equal(decoder((codes & 0x7F).astype(np.uint8)), -mags * scale), law


def test_known_codes():
    # Silence and full scale, as every G.711 implementation has them.
    assert g711.ulaw_encode(np.array([0, 32767, -32768], np.int16)).tolist() == [0xFF, 0x80, 0x00]
    assert g711.alaw_encode(np.array([0, 32767, -32768], np.int16)).tolist() == [0xD5, 0xAA, 0x2A]
    assert g711.ulaw_decode(bytes([0xFF, 0x7F])).tolist() == [0, 0]
    assert g711.ulaw_decode(bytes([0x80, 0x00])).tolist() == [32124, -32124]
    assert g711.alaw_decode(bytes([0xD5, 0x55, 0xAA, 0x2A])).tolist() == [8, -8, 32256, -32256]


@pytest.mark.parametrize("law", ["ulaw", "alaw"])
def test_round_trip_within_quantisation(law):
    enc, dec = (g711.ulaw_encode, g711.ulaw_decode) if law == "ulaw" else \
        (g711.alaw_encode, g711.alaw_decode)
    x = ALL.astype(np.int64)
    y = dec(enc(ALL)).astype(np.int64)
    err = np.abs(y - x)
    # The error is at most one quantisation step of the segment the value falls in (plus the
    # grid reduction), i.e. about 1/16 of the magnitude, never more than half the top step.
    step = np.maximum(np.abs(x) / 16, 16 if law == "ulaw" else 16)
    assert np.all(err <= step + 8)
    # all 256 codes decode then re-encode to themselves (except µ-law's negative zero 0x7F)
    codes = np.arange(256, dtype=np.uint8)
    back = enc(dec(codes))
    if law == "ulaw":
        assert np.array_equal(back[codes != 0x7F], codes[codes != 0x7F])
        assert back[0x7F] == 0xFF
    else:
        assert np.array_equal(back, codes)


def test_audioop_when_available():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        audioop = pytest.importorskip("audioop")
    data = ALL.astype("<i2").tobytes()
    assert g711.ulaw_encode(ALL).tobytes() == audioop.lin2ulaw(data, 2)
    assert g711.alaw_encode(ALL).tobytes() == audioop.lin2alaw(data, 2)
    codes = bytes(range(256))
    assert g711.ulaw_decode(codes).astype("<i2").tobytes() == audioop.ulaw2lin(codes, 2)
    assert g711.alaw_decode(codes).astype("<i2").tobytes() == audioop.alaw2lin(codes, 2)


def test_rejects_floats():
    with pytest.raises(TypeError):
        g711.ulaw_encode(np.zeros(4))
