"""Speech engines. All return :class:`~toipkit.tts.audio.Audio` (int16 mono at the engine's rate).

* ``espeak-lib`` (default): the eSpeak NG shared library and voice data bundled in the
  ``espeakng-loader`` wheel, driven through ctypes, synthesising into memory through the
  synthesis callback. Nothing to install besides the wheel; no network.
* ``espeak-cli``: the ``espeak-ng`` command (Debian package ``espeak-ng``) writing a WAV file.
* Optional: ``piper`` (offline neural voices; the user supplies the ``.onnx`` model),
  ``gtts`` (Google Translate endpoint) and ``edge-tts`` (Microsoft Edge read-aloud service).
  The last two need the network at synthesis time. None of them is required or used by tests.

``get_engine("auto")`` picks ``espeak-lib`` when the wheel is importable, otherwise ``espeak-cli``.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from toipkit.errors import TTSError
from toipkit.i18n import _
from toipkit.tts.audio import Audio, read_sound

ESPEAK_DEFAULT_RATE = 175  # words per minute, espeak's default


@dataclass(frozen=True)
class VoiceSettings:
    """What shapes the sound besides the text. ``None`` means the engine's default.

    - ``lang``: language code (``fr``, ``fr-be``, ``fr-ch``, ``en``...).
    - ``voice``: engine-specific voice. For espeak a variant name (``f3``, ``m2``, ``Annie``...)
      appended as ``lang+variant``, or a full espeak voice name containing ``+``.
      For piper the path of the ``.onnx`` model; for edge-tts a voice name (``fr-FR-DeniseNeural``).
    - ``rate``: speaking rate in words per minute (espeak: 80–450, default 175).
    - ``pitch``: 0–99 (espeak default 50).
    - ``volume``: 0–200 (espeak default 100). The rendering pipeline normalises the level anyway.
    """

    lang: str = "fr"
    voice: str | None = None
    rate: int | None = None
    pitch: int | None = None
    volume: int | None = None

    def key(self) -> dict:
        return {"lang": self.lang.lower(), "voice": self.voice, "rate": self.rate,
                "pitch": self.pitch, "volume": self.volume}


class Engine:
    """Base class: ``name``, ``version`` (part of the cache key) and ``synthesize``."""

    name = "engine"
    offline = True

    @property
    def version(self) -> str:  # pragma: no cover - overridden
        return "0"

    @property
    def identity(self) -> str:
        """Name and version: two renderings with the same identity sound the same."""
        return f"{self.name}/{self.version}"

    def synthesize(self, text: str, settings: VoiceSettings) -> Audio:  # pragma: no cover
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.identity}>"


# ---------------------------------------------------------------------------------------------
# silencing C-level stderr (espeak prints warnings with fprintf)


@contextlib.contextmanager
def quiet_stderr(capture: list[str] | None = None):
    """Redirect file descriptor 2 to a temp file while the block runs (C library chatter).

    Jupyter forwards fd-level output to the notebook, so Python's ``redirect_stderr`` is not
    enough. What was written is appended to ``capture`` (for error messages).
    """
    fd = 2  # the C library writes to fd 2 whatever sys.stderr is
    try:
        sys.stderr.flush()
    except Exception:  # noqa: BLE001 - best effort
        pass
    saved = os.dup(fd)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), fd)
        try:
            yield
        finally:
            os.dup2(saved, fd)
            os.close(saved)
            if capture is not None:
                sink.seek(0)
                capture.append(sink.read().decode("utf-8", "replace"))


# ---------------------------------------------------------------------------------------------
# espeak-ng through ctypes (espeakng-loader wheel)

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_PARAM_RATE, _PARAM_VOLUME, _PARAM_PITCH = 1, 2, 3
_SYNTH_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                                   ctypes.c_void_p)


def espeak_voice_name(settings: VoiceSettings) -> str:
    """espeak voice identifier for the settings: ``fr``, ``fr-be``, ``fr+f3``..."""
    lang = settings.lang.strip().lower().replace("_", "-")
    voice = settings.voice
    if not voice:
        return lang
    if "+" in voice:
        return voice
    return f"{lang}+{voice}"


class EspeakLibEngine(Engine):
    """eSpeak NG from the ``espeakng-loader`` wheel, in memory through ctypes.

    The library keeps synthesis state in C statics (pitch flutter position, AGC...), so the same
    text can come out a few samples different depending on what was said before. To make a
    rendering depend only on its inputs, each synthesis loads the library, runs, and unloads it
    (``dlclose``); that costs a few milliseconds.
    """

    name = "espeak-lib"
    _lock = threading.Lock()

    def __init__(self, library_path: str | None = None, data_path: str | None = None) -> None:
        try:
            import espeakng_loader
        except ImportError as exc:
            raise TTSError(_("le paquet espeakng-loader n'est pas installé "
                             "(pip install espeakng-loader)")) from exc
        self.library_path = library_path or espeakng_loader.get_library_path()
        self.data_path = data_path or espeakng_loader.get_data_path()
        if not Path(self.library_path).exists():
            raise TTSError(_("bibliothèque espeak-ng introuvable : {path}").format(
                path=self.library_path))
        self._callback = _SYNTH_CALLBACK(self._on_samples)
        self._chunks: list[np.ndarray] = []

    @property
    def version(self) -> str:
        return _espeak_lib_version(self.library_path)

    def _on_samples(self, wav, numsamples, events) -> int:
        if numsamples > 0 and wav:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(numsamples,)).copy())
        return 0

    def synthesize(self, text: str, settings: VoiceSettings) -> Audio:
        data = text.encode("utf-8")
        errors: list[str] = []
        try:
            chunks, rate = self._run(data, settings, errors)
        except TTSError as exc:
            said = " ".join("".join(errors).split())
            raise TTSError(f"{exc} (espeak-ng: {said})" if said else str(exc)) from None
        samples = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16)
        return Audio(samples.astype(np.int16), rate)

    def _run(self, data: bytes, settings: VoiceSettings, errors: list[str]):
        with self._lock, quiet_stderr(errors):
            lib = ctypes.CDLL(self.library_path)
            rate = 0
            try:
                _declare(lib)
                rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0,
                                             self.data_path.encode(), _INITIALIZE_DONT_EXIT)
                if rate <= 0:
                    raise TTSError(_("espeak-ng n'a pas pu démarrer (dossier de données "
                                     "{path})").format(path=self.data_path))
                lib.espeak_SetSynthCallback(self._callback)
                name = espeak_voice_name(settings)
                if lib.espeak_SetVoiceByName(name.encode()) != 0:
                    raise TTSError(_("espeak-ng n'a pas de voix {name} (voix françaises : fr, "
                                     "fr-be, fr-ch)").format(name=repr(name)))
                for param, value in ((_PARAM_RATE, settings.rate), (_PARAM_PITCH, settings.pitch),
                                     (_PARAM_VOLUME, settings.volume)):
                    if value is not None:
                        lib.espeak_SetParameter(param, int(value), 0)
                self._chunks = []
                status = lib.espeak_Synth(data, len(data) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8,
                                          None, None)
                lib.espeak_Synchronize()
                if status != 0:
                    raise TTSError(_("échec de la synthèse espeak-ng (statut {status})").format(
                        status=status))
                chunks, self._chunks = self._chunks, []
            finally:
                if rate > 0:
                    lib.espeak_Terminate()
                _unload(lib)
        return chunks, rate


def _declare(lib) -> None:
    lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    lib.espeak_Initialize.restype = ctypes.c_int
    lib.espeak_SetSynthCallback.argtypes = [_SYNTH_CALLBACK]
    lib.espeak_SetSynthCallback.restype = None
    lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
    lib.espeak_SetVoiceByName.restype = ctypes.c_int
    lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
    lib.espeak_SetParameter.restype = ctypes.c_int
    lib.espeak_Synth.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
                                 ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
    lib.espeak_Synth.restype = ctypes.c_int
    lib.espeak_Synchronize.restype = ctypes.c_int
    lib.espeak_Terminate.restype = ctypes.c_int


def _unload(lib) -> None:
    handle = getattr(lib, "_handle", None)
    if handle is None:
        return
    try:
        import _ctypes

        unload = getattr(_ctypes, "dlclose", None) or getattr(_ctypes, "FreeLibrary", None)
        if unload is not None:
            unload(handle)
    except (ImportError, OSError):  # pragma: no cover - best effort
        pass


@functools.cache
def _espeak_lib_version(library_path: str) -> str:
    """Version from the library file name (``libespeak-ng.so.1.52.0``) and the wheel's version.

    Read without loading the library so that a warm-cache lookup stays cheap.
    """
    from importlib import metadata

    folder = Path(library_path).parent
    versions = sorted(p.name.split(".so.", 1)[1] for p in folder.glob("libespeak-ng.so.*.*.*"))
    versions += sorted(p.name[len("libespeak-ng."):-len(".dylib")]
                       for p in folder.glob("libespeak-ng.*.*.*.dylib"))
    lib_version = versions[-1] if versions else "unknown"
    try:
        wheel = metadata.version("espeakng-loader")
    except metadata.PackageNotFoundError:  # pragma: no cover
        wheel = "unknown"
    return f"{lib_version}+espeakng-loader.{wheel}"


# ---------------------------------------------------------------------------------------------
# espeak-ng command


class EspeakCliEngine(Engine):
    """The ``espeak-ng`` command (system package), writing a temporary WAV."""

    name = "espeak-cli"

    def __init__(self, command: str | None = None) -> None:
        found = command or shutil.which("espeak-ng")
        if not found:
            raise TTSError(_("la commande espeak-ng n'est pas installée "
                             "(apt-get install espeak-ng)"))
        self.command: str = found

    @property
    def version(self) -> str:
        return _espeak_cli_version(self.command)

    def argv(self, text: str, settings: VoiceSettings, wav_path: str) -> list[str]:
        args = [self.command, "-v", espeak_voice_name(settings), "-w", wav_path]
        if settings.rate is not None:
            args += ["-s", str(int(settings.rate))]
        if settings.pitch is not None:
            args += ["-p", str(int(settings.pitch))]
        if settings.volume is not None:
            args += ["-a", str(int(settings.volume))]
        return [*args, "--", text]

    def synthesize(self, text: str, settings: VoiceSettings) -> Audio:
        with tempfile.TemporaryDirectory(prefix="toipkit-espeak-") as tmp:
            wav = os.path.join(tmp, "out.wav")
            proc = subprocess.run(self.argv(text, settings, wav), capture_output=True, text=True)
            if proc.returncode != 0 or not os.path.exists(wav):
                raise TTSError(_("échec de espeak-ng ({code}) : {error}").format(
                    code=proc.returncode, error=proc.stderr.strip()))
            return read_sound(wav)


@functools.cache
def _espeak_cli_version(command: str) -> str:
    proc = subprocess.run([command, "--version"], capture_output=True, text=True)
    words = proc.stdout.split()
    for i, word in enumerate(words):
        if word.endswith(":") and i + 1 < len(words) and words[i + 1][:1].isdigit():
            return words[i + 1]
    return proc.stdout.strip() or "unknown"


# ---------------------------------------------------------------------------------------------
# optional engines (extras): never needed by the labs or the tests


def _decode_mp3(data: bytes) -> Audio:
    """MP3 → Audio with ffmpeg (or sox built with MP3 support)."""
    with tempfile.TemporaryDirectory(prefix="toipkit-mp3-") as tmp:
        src, dst = os.path.join(tmp, "in.mp3"), os.path.join(tmp, "out.wav")
        with open(src, "wb") as f:
            f.write(data)
        if shutil.which("ffmpeg"):
            cmd = ["ffmpeg", "-loglevel", "error", "-y", "-i", src, "-ac", "1", "-c:a", "pcm_s16le",
                   dst]
        elif shutil.which("sox"):
            cmd = ["sox", "-q", src, "-c", "1", "-b", "16", "-e", "signed-integer", dst]
        else:
            raise TTSError(_("décoder du MP3 demande ffmpeg ou sox avec la prise en charge du MP3"))
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise TTSError(_("échec du décodage MP3 : {error}").format(error=proc.stderr.strip()))
        return read_sound(dst)


class GTTSEngine(Engine):
    """Google Translate TTS through ``gTTS`` (extra ``tts-online``). Needs the network."""

    name = "gtts"
    offline = False

    def __init__(self) -> None:
        if importlib.util.find_spec("gtts") is None:
            raise TTSError(_("gTTS n'est pas installé (pip install 'toipkit[tts-online]')"))

    @property
    def version(self) -> str:
        from importlib import metadata

        return metadata.version("gTTS")

    def synthesize(self, text: str, settings: VoiceSettings) -> Audio:
        import io

        from gtts import gTTS

        buf = io.BytesIO()
        gTTS(text=text, lang=settings.lang.split("-")[0]).write_to_fp(buf)
        return _decode_mp3(buf.getvalue())


class EdgeTTSEngine(Engine):
    """Microsoft Edge read-aloud voices through ``edge-tts`` (extra ``tts-online``). Network."""

    name = "edge-tts"
    offline = False

    def __init__(self) -> None:
        if importlib.util.find_spec("edge_tts") is None:
            raise TTSError(_("edge-tts n'est pas installé (pip install 'toipkit[tts-online]')"))

    @property
    def version(self) -> str:
        from importlib import metadata

        return metadata.version("edge-tts")

    def synthesize(self, text: str, settings: VoiceSettings) -> Audio:
        voice = settings.voice or "fr-FR-DeniseNeural"
        with tempfile.TemporaryDirectory(prefix="toipkit-edge-") as tmp:
            out = os.path.join(tmp, "out.mp3")
            cmd = [sys.executable, "-m", "edge_tts", "--voice", voice, "--text", text,
                   "--write-media", out]
            if settings.rate is not None:
                pct = round(100 * settings.rate / ESPEAK_DEFAULT_RATE) - 100
                cmd += [f"--rate={pct:+d}%"]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode != 0:
                raise TTSError(_("échec de edge-tts : {error}").format(error=proc.stderr.strip()))
            with open(out, "rb") as f:
                return _decode_mp3(f.read())


class PiperEngine(Engine):
    """Piper neural voices (extra ``tts-piper``), offline; ``voice`` = path of the .onnx model.

    French models (e.g. ``fr_FR-siwis-medium.onnx``) are downloaded by the user from the
    ``rhasspy/piper-voices`` collection; toipkit never downloads them.
    """

    name = "piper"

    def __init__(self) -> None:
        if importlib.util.find_spec("piper") is None:
            raise TTSError(_("piper-tts n'est pas installé (pip install 'toipkit[tts-piper]')"))

    @property
    def version(self) -> str:
        from importlib import metadata

        return metadata.version("piper-tts")

    def synthesize(self, text: str, settings: VoiceSettings) -> Audio:
        model = settings.voice
        if not model or not Path(model).exists():
            raise TTSError(_("le moteur piper a besoin de voice=<chemin d'un modèle de voix "
                             ".onnx>"))
        with tempfile.TemporaryDirectory(prefix="toipkit-piper-") as tmp:
            out = os.path.join(tmp, "out.wav")
            proc = subprocess.run([sys.executable, "-m", "piper", "-m", model, "-f", out],
                                  input=text, capture_output=True, text=True)
            if proc.returncode != 0 or not os.path.exists(out):
                raise TTSError(_("échec de piper : {error}").format(error=proc.stderr.strip()))
            return read_sound(out)


ENGINES: dict[str, type[Engine]] = {
    "espeak-lib": EspeakLibEngine,
    "espeak-cli": EspeakCliEngine,
    "piper": PiperEngine,
    "gtts": GTTSEngine,
    "edge-tts": EdgeTTSEngine,
}
_instances: dict[str, Engine] = {}


def available_engines() -> list[str]:
    """Names of the engines usable here (without synthesising anything)."""
    names = []
    if importlib.util.find_spec("espeakng_loader") is not None:
        names.append("espeak-lib")
    if shutil.which("espeak-ng"):
        names.append("espeak-cli")
    for name, module in (("piper", "piper"), ("gtts", "gtts"), ("edge-tts", "edge_tts")):
        if importlib.util.find_spec(module) is not None:
            names.append(name)
    return names


def get_engine(name: str | Engine | None = "auto") -> Engine:
    """An engine by name: ``auto`` (default), ``espeak-lib``, ``espeak-cli``, ``piper``, ``gtts``,
    ``edge-tts``; an :class:`Engine` instance is returned as is."""
    if isinstance(name, Engine):
        return name
    name = (name or "auto").lower()
    if name in ("espeak", "espeak-ng"):
        name = "auto"
    if name == "auto":
        errors = []
        for candidate in ("espeak-lib", "espeak-cli"):
            try:
                return get_engine(candidate)
            except TTSError as exc:
                errors.append(str(exc))
        raise TTSError(_("aucun moteur de synthèse vocale hors ligne : {errors}").format(
            errors=" ; ".join(errors)))
    if name not in ENGINES:
        raise TTSError(_("moteur de synthèse vocale inconnu : {name} ; choisissez parmi : auto, "
                         "{engines}").format(name=repr(name), engines=", ".join(ENGINES)))
    if name not in _instances:
        _instances[name] = ENGINES[name]()
    return _instances[name]
