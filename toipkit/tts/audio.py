"""Mono audio in numpy: resampling, level, silence trimming, and Asterisk sound formats.

Everything is int16 mono at the edges (what engines produce and what Asterisk plays) and float64
inside the processing steps. No ``audioop`` (removed in Python 3.13), no scipy: the resampler is a
Kaiser-windowed sinc in polyphase form, which is plenty for speech going to 8/16 kHz.

Asterisk formats (``formats/format_*.c``): ``wav`` = RIFF PCM 16-bit mono 8 kHz (``wav16`` at
16 kHz), ``sln`` raw signed 16-bit little-endian 8 kHz, ``sln16`` the same at 16 kHz, ``ulaw`` /
``alaw`` raw G.711 8 kHz, ``gsm`` raw GSM 06.10 frames (33 bytes / 20 ms, written with sox).
"""

from __future__ import annotations

import functools
import io
import math
import os
import shutil
import subprocess
import tempfile
import wave
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from toipkit._fileio import atomic_write
from toipkit.errors import TTSError
from toipkit.i18n import _
from toipkit.tts import g711


@dataclass(frozen=True)
class SoundFormat:
    """One Asterisk sound format: file extension, sample rate and how samples are stored."""

    name: str
    ext: str
    rate: int
    encoding: str  # "wav", "pcm16", "ulaw", "alaw", "gsm"
    description: str

    @property
    def bytes_per_second(self) -> float:
        if self.encoding in ("pcm16", "wav"):
            return 2.0 * self.rate
        if self.encoding in ("ulaw", "alaw"):
            return float(self.rate)
        return 33.0 / 0.020  # gsm: 33-byte frame every 20 ms


FORMATS: dict[str, SoundFormat] = {
    f.name: f
    for f in (
        SoundFormat("wav", "wav", 8000, "wav", "RIFF PCM 16-bit mono 8 kHz"),
        SoundFormat("wav16", "wav16", 16000, "wav", "RIFF PCM 16-bit mono 16 kHz"),
        SoundFormat("sln", "sln", 8000, "pcm16", "raw signed linear 16-bit LE 8 kHz"),
        SoundFormat("sln16", "sln16", 16000, "pcm16", "raw signed linear 16-bit LE 16 kHz"),
        SoundFormat("ulaw", "ulaw", 8000, "ulaw", "raw G.711 µ-law 8 kHz"),
        SoundFormat("alaw", "alaw", 8000, "alaw", "raw G.711 A-law 8 kHz"),
        SoundFormat("gsm", "gsm", 8000, "gsm", "raw GSM 06.10 8 kHz (needs sox)"),
    )
}
#: What a prompt is rendered to by default: G.711 for calls, wideband and a WAV fallback.
DEFAULT_FORMATS = ("wav", "ulaw", "alaw", "sln16")
_EXT_TO_FORMAT = {f.ext: f for f in FORMATS.values()}
# Aliases Asterisk accepts for the same formats.
_EXT_TO_FORMAT.update({"ul": FORMATS["ulaw"], "mu": FORMATS["ulaw"], "pcm": FORMATS["ulaw"],
                       "al": FORMATS["alaw"], "raw": FORMATS["sln"], "slin": FORMATS["sln"]})


def formats_frame():
    """The Asterisk sound formats as a table (name, extension, rate, bytes per second)."""
    import pandas as pd

    french = {"wav": "WAV PCM 16 bits mono", "pcm16": "brut, linéaire 16 bits (petit-boutiste)",
              "ulaw": "brut, G.711 loi µ (PCMU)", "alaw": "brut, G.711 loi A (PCMA)",
              "gsm": "brut, GSM 06.10 (trames de 33 octets / 20 ms, via sox)"}
    rows = [{"format": f.name, "extension": f".{f.ext}", "fréquence (Hz)": f.rate,
             "octets par seconde": int(f.bytes_per_second), "contenu": french[f.encoding]}
            for f in FORMATS.values()]
    return pd.DataFrame(rows)


def get_format(name: str) -> SoundFormat:
    """The :class:`SoundFormat` for a name or an extension (``"ulaw"``, ``".ul"``, ``"sln16"``)."""
    key = name.lower().lstrip(".")
    fmt = FORMATS.get(key) or _EXT_TO_FORMAT.get(key)
    if fmt is None:
        raise TTSError(
            _("format de son inconnu : {name} ; choisissez parmi : {formats}").format(
                name=repr(name), formats=", ".join(FORMATS))
        )
    return fmt


def format_for_path(path: str | os.PathLike) -> SoundFormat:
    """The format implied by a file name's extension."""
    suffix = Path(path).suffix
    if not suffix:
        raise TTSError(_("{path} : pas d'extension, impossible de savoir le format du son "
                         "(utilisez --format)").format(path=path))
    return get_format(suffix)


@dataclass
class Audio:
    """Mono int16 samples at a sample rate. Shows as a player in Jupyter."""

    samples: np.ndarray
    rate: int

    def __post_init__(self) -> None:
        arr = np.asarray(self.samples)
        if arr.ndim != 1:
            raise TTSError(_("le son doit être mono (1 dimension), pas de forme {shape}").format(
                shape=arr.shape))
        if arr.dtype != np.int16:
            arr = to_int16(arr) if np.issubdtype(arr.dtype, np.floating) else \
                np.clip(arr, -32768, 32767).astype(np.int16)
        self.samples = arr
        self.rate = int(self.rate)

    # -- measurements -------------------------------------------------------------------------
    @property
    def duration(self) -> float:
        """Length in seconds."""
        return len(self.samples) / self.rate if self.rate else 0.0

    @property
    def peak(self) -> int:
        return int(np.max(np.abs(self.samples.astype(np.int32)))) if len(self.samples) else 0

    @property
    def rms(self) -> float:
        """Root mean square on the int16 scale (0 … 32768)."""
        if not len(self.samples):
            return 0.0
        x = self.samples.astype(np.float64)
        return float(np.sqrt(np.mean(x * x)))

    @property
    def rms_dbfs(self) -> float:
        r = self.rms
        return 20 * math.log10(r / 32768.0) if r > 0 else -math.inf

    # -- processing ---------------------------------------------------------------------------
    def resample(self, rate: int) -> Audio:
        return Audio(to_int16(resample(self.samples.astype(np.float64), self.rate, rate)), rate)

    def trim(self, threshold_db: float = -40.0, pad: float = 0.05) -> Audio:
        return Audio(trim_silence(self.samples, self.rate, threshold_db, pad), self.rate)

    def normalise(self, peak_dbfs: float = -3.0) -> Audio:
        return Audio(to_int16(normalise(self.samples.astype(np.float64), peak_dbfs)), self.rate)

    # -- output -------------------------------------------------------------------------------
    def encode(self, fmt: str | SoundFormat) -> bytes:
        """The file content for an Asterisk format (resampled to the format's rate if needed)."""
        fmt = fmt if isinstance(fmt, SoundFormat) else get_format(fmt)
        audio = self if self.rate == fmt.rate else self.resample(fmt.rate)
        return _encode(audio.samples, fmt)

    def save(self, path: str | os.PathLike, fmt: str | SoundFormat | None = None) -> Path:
        """Write the file atomically (temp file + ``os.replace``); format from the extension."""
        fmt = format_for_path(path) if fmt is None else (
            fmt if isinstance(fmt, SoundFormat) else get_format(fmt))
        data = self.encode(fmt)
        return atomic_write(path, data)

    def wav_bytes(self) -> bytes:
        """A RIFF WAV (16-bit mono, this audio's own rate) in memory."""
        return _wav_bytes(self.samples, self.rate)

    def to_ipython(self):
        """``IPython.display.Audio`` for this sound (a WAV at its own rate, no rescaling)."""
        from IPython.display import Audio as IPyAudio

        return IPyAudio(data=self.wav_bytes(), rate=None)

    def _repr_html_(self) -> str:
        return self.to_ipython()._repr_html_()

    def __repr__(self) -> str:
        return f"Audio({len(self.samples)} samples, {self.rate} Hz, {self.duration:.2f} s)"


# ---------------------------------------------------------------------------------------------
# processing primitives


def to_int16(x: np.ndarray) -> np.ndarray:
    """Round and clip float samples (int16 scale) to int16."""
    return np.clip(np.rint(np.asarray(x, dtype=np.float64)), -32768, 32767).astype(np.int16)


def _kaiser_sinc(t: np.ndarray, cutoff: float, half_width: float, beta: float) -> np.ndarray:
    """Low-pass kernel at times ``t`` (input samples); cutoff as a fraction of the input rate."""
    h = 2 * cutoff * np.sinc(2 * cutoff * t)
    ratio = np.clip(t / half_width, -1.0, 1.0)
    w = np.i0(beta * np.sqrt(1.0 - ratio * ratio)) / np.i0(beta)
    return np.where(np.abs(t) < half_width, h * w, 0.0)


@functools.lru_cache(maxsize=16)
def _polyphase(rate_in: int, rate_out: int, zero_crossings: int, beta: float):
    """(up, down, k, table): one row of filter taps per output phase, computed once per ratio."""
    ratio = Fraction(rate_out, rate_in)
    up, down = ratio.numerator, ratio.denominator
    cutoff = 0.47 * min(rate_in, rate_out) / rate_in  # fraction of the input rate
    half_width = zero_crossings / (2 * cutoff)        # in input samples
    k = int(math.ceil(half_width))
    taps = np.arange(-k + 1, k + 1)                   # offsets relative to floor(position)
    phases = np.arange(up) / up
    table = _kaiser_sinc(phases[:, None] - taps[None, :], cutoff, half_width, beta)
    table.setflags(write=False)
    return up, down, k, table


def resample(x: np.ndarray, rate_in: int, rate_out: int, *, zero_crossings: int = 24,
             beta: float = 8.6) -> np.ndarray:
    """Band-limited resampling of a float signal (rational ratio, polyphase windowed sinc).

    The anti-aliasing cut-off is 0.47 × the lower of the two rates (3.76 kHz when going to 8 kHz,
    above the 3.4 kHz telephone band); stop band better than 90 dB.
    """
    x = np.asarray(x, dtype=np.float64)
    if rate_in == rate_out or len(x) == 0:
        return x.copy()
    if rate_in <= 0 or rate_out <= 0:
        raise TTSError(_("fréquences d'échantillonnage invalides : {rate_in} → {rate_out}").format(
            rate_in=rate_in, rate_out=rate_out))
    up, down, k, table = _polyphase(int(rate_in), int(rate_out), zero_crossings, float(beta))
    ntaps = table.shape[1]
    n_out = int(math.ceil(len(x) * up / down))
    padded = np.concatenate([np.zeros(k), x, np.zeros(k + 1)])
    windows = np.lib.stride_tricks.sliding_window_view(padded, ntaps)  # zero-copy
    out = np.empty(n_out)
    # Outputs r, r + up, r + 2·up... share one filter phase and step by `down` input samples.
    for r in range(min(up, n_out)):
        pos = r * down
        base, phase = pos // up, pos % up
        count = (n_out - 1 - r) // up + 1
        out[r::up] = windows[base + 1: base + 1 + count * down: down] @ table[phase]
    return out


def normalise(x: np.ndarray, peak_dbfs: float = -3.0) -> np.ndarray:
    """Scale so the absolute peak sits at ``peak_dbfs`` (silence is returned unchanged)."""
    x = np.asarray(x, dtype=np.float64)
    peak = float(np.max(np.abs(x))) if len(x) else 0.0
    if peak <= 0:
        return x.copy()
    return x * (32767.0 * 10 ** (peak_dbfs / 20.0) / peak)


def trim_silence(samples: np.ndarray, rate: int, threshold_db: float = -40.0,
                 pad: float = 0.05) -> np.ndarray:
    """Drop leading/trailing samples quieter than ``threshold_db`` below the peak, keeping ``pad`` s."""
    x = np.asarray(samples)
    if len(x) == 0:
        return x.copy()
    mag = np.abs(x.astype(np.float64))
    peak = mag.max()
    if peak <= 0:
        return x[:0].copy()
    loud = np.nonzero(mag >= peak * 10 ** (threshold_db / 20.0))[0]
    keep = int(round(pad * rate))
    start = max(0, int(loud[0]) - keep)
    end = min(len(x), int(loud[-1]) + 1 + keep)
    return x[start:end].copy()


# ---------------------------------------------------------------------------------------------
# encoders / decoders


def _wav_bytes(samples: np.ndarray, rate: int) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.asarray(samples, dtype="<i2").tobytes())
    return buf.getvalue()


def _encode(samples: np.ndarray, fmt: SoundFormat) -> bytes:
    if fmt.encoding == "wav":
        return _wav_bytes(samples, fmt.rate)
    if fmt.encoding == "pcm16":
        return np.asarray(samples, dtype="<i2").tobytes()
    if fmt.encoding == "ulaw":
        return g711.ulaw_encode(samples).tobytes()
    if fmt.encoding == "alaw":
        return g711.alaw_encode(samples).tobytes()
    if fmt.encoding == "gsm":
        return _sox_convert(np.asarray(samples, dtype="<i2").tobytes(),
                            ["-t", "raw", "-e", "signed-integer", "-b", "16", "-r", "8000", "-c", "1"],
                            ["-t", "gsm"])
    raise TTSError(f"no encoder for {fmt.name}")  # pragma: no cover


def sox_available() -> bool:
    return shutil.which("sox") is not None


def _sox_convert(data: bytes, in_args: list[str], out_args: list[str]) -> bytes:
    sox = shutil.which("sox")
    if sox is None:
        raise TTSError(_("le format .gsm a besoin de sox (apt-get install sox) ; les autres "
                         "formats non"))
    with tempfile.TemporaryDirectory(prefix="toipkit-sox-") as tmp:
        src, dst = Path(tmp, "in"), Path(tmp, "out")
        src.write_bytes(data)
        proc = subprocess.run([sox, "-D", "-q", *in_args, str(src), *out_args, str(dst)],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise TTSError(_("échec de sox ({code}) : {error}").format(
                code=proc.returncode, error=proc.stderr.strip()))
        return dst.read_bytes()


def decode(data: bytes, fmt: str | SoundFormat) -> Audio:
    """Decode the content of an Asterisk sound file."""
    fmt = fmt if isinstance(fmt, SoundFormat) else get_format(fmt)
    if fmt.encoding == "wav":
        with wave.open(io.BytesIO(data), "rb") as w:
            if w.getnchannels() != 1 or w.getsampwidth() != 2 or w.getcomptype() != "NONE":
                raise TTSError(_("seul le WAV PCM 16 bits mono est pris en charge (ce que joue "
                                 "Asterisk)"))
            rate = w.getframerate()
            frames = w.readframes(w.getnframes())
        return Audio(np.frombuffer(frames, dtype="<i2").astype(np.int16), rate)
    if fmt.encoding == "pcm16":
        if len(data) % 2:
            raise TTSError(_("{format} : nombre d'octets impair ({count}), pas des échantillons "
                             "16 bits").format(format=fmt.name, count=len(data)))
        return Audio(np.frombuffer(data, dtype="<i2").astype(np.int16), fmt.rate)
    if fmt.encoding == "ulaw":
        return Audio(g711.ulaw_decode(data), fmt.rate)
    if fmt.encoding == "alaw":
        return Audio(g711.alaw_decode(data), fmt.rate)
    if fmt.encoding == "gsm":
        raw = _sox_convert(data, ["-t", "gsm"],
                           ["-t", "raw", "-e", "signed-integer", "-b", "16", "-r", "8000", "-c", "1"])
        return Audio(np.frombuffer(raw, dtype="<i2").astype(np.int16), 8000)
    raise TTSError(f"no decoder for {fmt.name}")  # pragma: no cover


def read_sound(path: str | os.PathLike, fmt: str | SoundFormat | None = None) -> Audio:
    """Read an Asterisk sound file back (format from the extension unless given)."""
    path = Path(path)
    fmt = format_for_path(path) if fmt is None else fmt
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TTSError(_("{path} : lecture impossible ({error})").format(
            path=path, error=exc.strerror)) from exc
    try:
        return decode(data, fmt)
    except (wave.Error, EOFError) as exc:
        raise TTSError(_("{path} : fichier WAV invalide ({error})").format(
            path=path, error=exc)) from exc


def sound_duration(path: str | os.PathLike, fmt: str | SoundFormat | None = None) -> float:
    """Duration of an Asterisk sound file in seconds, from its size (or header for WAV)."""
    path = Path(path)
    fmt = format_for_path(path) if fmt is None else (
        fmt if isinstance(fmt, SoundFormat) else get_format(fmt))
    if fmt.encoding == "wav":
        with wave.open(str(path), "rb") as w:
            return w.getnframes() / w.getframerate()
    size = path.stat().st_size
    if fmt.encoding == "gsm":
        return (size // 33) * 0.020
    return size / fmt.bytes_per_second


def plot_waveform(audio: Audio, ax=None, title: str | None = None):
    """Waveform of a sound (matplotlib); returns the figure."""
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=(8, 2.2))
    else:
        fig = ax.figure
    t = np.arange(len(audio.samples)) / audio.rate
    ax.plot(t, audio.samples / 32768.0, linewidth=0.5)
    ax.set_xlim(0, max(audio.duration, 1e-3))
    ax.set_ylim(-1, 1)
    ax.set_xlabel("temps (s)")
    ax.set_ylabel("amplitude")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig
