"""ITU-T G.711 µ-law and A-law in numpy (``audioop`` left the standard library in Python 3.13).

The encoders follow the classic segment/mantissa formulation of G.711:

* µ-law works on the 14-bit uniform grid: a 16-bit sample is reduced with an arithmetic shift
  (``x >> 2``), the magnitude is clipped at 8159, biased by 33, and coded as 3 segment bits +
  4 mantissa bits, all bits inverted; sign bit set for positive values.
* A-law works on the 13-bit grid (``x >> 3``); negative values use the one's complement of the
  shifted value; the code is XORed with 0x55 (even bits inverted), sign bit set for positive values.

On the G.711 grids this is exactly the quantiser of the G.711 tables (nearest reconstruction level,
ties toward the larger magnitude), and it reproduces ``audioop.lin2ulaw``/``lin2alaw`` for all
65,536 inputs. The 16-bit → 14/13-bit reduction truncates (like ``audioop``); ``sox`` rounds to
nearest instead, so ``sox -D`` output equals these encoders applied to ``x + 2`` (µ-law) and
``x + 4`` (A-law).
"""

from __future__ import annotations

import numpy as np

__all__ = ["alaw_decode", "alaw_encode", "ulaw_decode", "ulaw_encode"]

_ULAW_CLIP = 8159
_ULAW_BIAS = 33
# Upper end of each µ-law segment on the biased 14-bit magnitude.
_ULAW_SEG_END = np.array([0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF], dtype=np.int32)
# Upper end of each A-law segment on the 13-bit magnitude.
_ALAW_SEG_END = np.array([0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF], dtype=np.int32)


def _as_int16(samples) -> np.ndarray:
    arr = np.asarray(samples)
    if arr.dtype != np.int16:
        if np.issubdtype(arr.dtype, np.floating):
            raise TypeError("G.711 encoders take int16 samples; convert floats with Audio.to_int16()")
        arr = np.clip(arr, -32768, 32767).astype(np.int16)
    return arr


def ulaw_encode(samples) -> np.ndarray:
    """16-bit linear PCM → G.711 µ-law bytes (uint8 array of the same shape)."""
    x = _as_int16(samples).astype(np.int32) >> 2
    negative = x < 0
    mask = np.where(negative, 0x7F, 0xFF).astype(np.int32)
    mag = np.minimum(np.abs(x), _ULAW_CLIP) + _ULAW_BIAS
    seg = np.searchsorted(_ULAW_SEG_END, mag, side="left").astype(np.int32)
    # seg == 8 cannot happen after clipping (8159 + 33 = 8192 > 0x1FFF would); keep the guard.
    code = np.where(seg >= 8, 0x7F, (seg << 4) | ((mag >> (seg + 1)) & 0x0F))
    return (code ^ mask).astype(np.uint8)


def alaw_encode(samples) -> np.ndarray:
    """16-bit linear PCM → G.711 A-law bytes (uint8 array of the same shape)."""
    x = _as_int16(samples).astype(np.int32) >> 3
    negative = x < 0
    mask = np.where(negative, 0x55, 0xD5).astype(np.int32)
    mag = np.where(negative, ~x, x)
    seg = np.searchsorted(_ALAW_SEG_END, mag, side="left").astype(np.int32)
    shift = np.where(seg < 2, 1, seg)
    code = np.where(seg >= 8, 0x7F, (seg << 4) | ((mag >> shift) & 0x0F))
    return (code ^ mask).astype(np.uint8)


def _build_ulaw_table() -> np.ndarray:
    u = ~np.arange(256, dtype=np.int32) & 0xFF
    t = (((u & 0x0F) << 3) + 0x84) << ((u & 0x70) >> 4)
    return np.where(u & 0x80, 0x84 - t, t - 0x84).astype(np.int16)


def _build_alaw_table() -> np.ndarray:
    a = np.arange(256, dtype=np.int32) ^ 0x55
    seg = (a & 0x70) >> 4
    t = (a & 0x0F) << 4
    t = np.where(seg == 0, t + 8, t + 0x108)
    t = np.where(seg > 1, t << np.maximum(seg - 1, 0), t)
    return np.where(a & 0x80, t, -t).astype(np.int16)


_ULAW_TABLE = _build_ulaw_table()
_ALAW_TABLE = _build_alaw_table()


def ulaw_decode(codes) -> np.ndarray:
    """G.711 µ-law bytes (bytes or uint8 array) → 16-bit linear PCM (int16 array)."""
    arr = np.frombuffer(codes, dtype=np.uint8) if isinstance(codes, (bytes, bytearray, memoryview)) \
        else np.asarray(codes, dtype=np.uint8)
    return _ULAW_TABLE[arr]


def alaw_decode(codes) -> np.ndarray:
    """G.711 A-law bytes (bytes or uint8 array) → 16-bit linear PCM (int16 array)."""
    arr = np.frombuffer(codes, dtype=np.uint8) if isinstance(codes, (bytes, bytearray, memoryview)) \
        else np.asarray(codes, dtype=np.uint8)
    return _ALAW_TABLE[arr]
