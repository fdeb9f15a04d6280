"""Prompts: render text to Asterisk sound files through a content-addressed cache; manifests.

A rendering is identified by everything that shapes its bytes: text, language, voice, rate, pitch,
volume, format, engine name + version and the processing pipeline. That identity is hashed
(SHA-256) into the cache file name under ``toipkit.paths.state_dir()/tts-cache``; rendering the
same prompt again copies the cached file (no synthesis).

Output layout follows Asterisk's sounds folder: ``<out>/<lang>/<folder>/<name>.<ext>``
(``sounds/fr/custom/ivr-accueil.ulaw``), played by ``Background(custom/ivr-accueil)`` on a channel
whose language is ``fr`` (or ``fr_FR``). A ``manifest.json`` next to the language folders lists
each prompt: sound name → text → files → duration.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import os
import re
import shutil
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

from toipkit._fileio import atomic_path, atomic_write
from toipkit.errors import TTSError
from toipkit.i18n import _
from toipkit.tts.audio import (
    DEFAULT_FORMATS,
    FORMATS,
    Audio,
    SoundFormat,
    get_format,
    read_sound,
    sound_duration,
    trim_silence,
)
from toipkit.tts.engines import Engine, VoiceSettings, get_engine

#: Bump when the processing (trim, resampling, level) changes: old cache entries stop matching.
PIPELINE_VERSION = "1"
MANIFEST_NAME = "manifest.json"
MANIFEST_VERSION = 1


# ---------------------------------------------------------------------------------------------
# processing


@dataclass(frozen=True)
class Processing:
    """How the engine's output is prepared: trim silence, then resample, then set the peak."""

    trim: bool = True
    trim_threshold_db: float = -40.0
    trim_pad: float = 0.05
    peak_dbfs: float = -3.0

    def key(self) -> dict:
        return {"pipeline": PIPELINE_VERSION, **asdict(self)}


DEFAULT_PROCESSING = Processing()


def process(audio: Audio, rate: int, processing: Processing = DEFAULT_PROCESSING) -> Audio:
    """Engine output → telephone-ready samples at ``rate``."""
    samples = audio.samples
    if processing.trim:
        samples = trim_silence(samples, audio.rate, processing.trim_threshold_db,
                               processing.trim_pad)
    out = Audio(samples, audio.rate)
    if out.rate != rate:
        out = out.resample(rate)
    return out.normalise(processing.peak_dbfs)


# ---------------------------------------------------------------------------------------------
# cache


def _slug_lang(lang: str) -> str:
    """Asterisk language folder for a language code: ``fr`` → ``fr``, ``fr-be`` → ``fr_BE``."""
    parts = re.split(r"[-_]", lang.strip())
    if len(parts) == 1:
        return parts[0].lower()
    return parts[0].lower() + "_" + "_".join(p.upper() for p in parts[1:])


class PromptCache:
    """Content-addressed store of rendered prompt files (one file per text/settings/format)."""

    def __init__(self, root: str | os.PathLike | None = None) -> None:
        if root is None:
            from toipkit.paths import state_dir

            root = state_dir() / "tts-cache"
        self.root = Path(root)

    @staticmethod
    def key(text: str, settings: VoiceSettings, fmt: SoundFormat, engine: Engine,
            processing: Processing = DEFAULT_PROCESSING) -> str:
        ident = {"text": text, **settings.key(), "format": fmt.name, "rate_hz": fmt.rate,
                 "engine": engine.identity, **processing.key()}
        blob = json.dumps(ident, sort_keys=True, ensure_ascii=False).encode("utf-8")
        return hashlib.sha256(blob).hexdigest()

    def path(self, key: str, fmt: SoundFormat) -> Path:
        return self.root / key[:2] / f"{key}.{fmt.ext}"

    def get(self, key: str, fmt: SoundFormat) -> Path | None:
        p = self.path(key, fmt)
        return p if p.exists() else None

    def put(self, key: str, fmt: SoundFormat, data: bytes) -> Path:
        return atomic_write(self.path(key, fmt), data)

    def clear(self) -> int:
        """Delete every cached file; returns how many were removed."""
        n = 0
        if self.root.exists():
            for p in self.root.glob("*/*"):
                if p.is_file():
                    p.unlink()
                    n += 1
        return n

    def __repr__(self) -> str:
        return f"PromptCache({str(self.root)!r})"


# ---------------------------------------------------------------------------------------------
# rendering one text


@dataclass
class Rendering:
    """Files of one text rendered in several formats (paths inside the cache, or written)."""

    text: str
    settings: VoiceSettings
    engine: str
    files: dict[str, Path]
    duration: float
    cached: bool

    def audio(self, fmt: str | None = None) -> Audio:
        """Decoded samples of one of the files (the first format by default)."""
        name = fmt or next(iter(self.files))
        return read_sound(self.files[name], name)


def render_text(text: str, formats: Iterable[str] = DEFAULT_FORMATS, *,
                settings: VoiceSettings | None = None, engine: str | Engine = "auto",
                cache: PromptCache | bool | None = True,
                processing: Processing = DEFAULT_PROCESSING) -> Rendering:
    """Render ``text`` in each format, going through the cache. Returns paths in the cache.

    With ``cache=False`` a throw-away cache in a temporary folder is used (nothing kept).
    """
    text = clean_text(text)
    if not text:
        raise TTSError(_("rien à dire : le texte du message est vide"))
    settings = settings or VoiceSettings()
    fmts = [get_format(f) for f in formats]
    if not fmts:
        raise TTSError(_("aucun format de sortie demandé"))
    eng = get_engine(engine)
    store = _resolve_cache(cache)
    keys = {f.name: PromptCache.key(text, settings, f, eng, processing) for f in fmts}
    files: dict[str, Path] = {}
    missing: list[SoundFormat] = []
    for f in fmts:
        hit = store.get(keys[f.name], f)
        if hit is None:
            missing.append(f)
        else:
            files[f.name] = hit
    if missing:
        raw = eng.synthesize(text, settings)
        if len(raw.samples) == 0:
            raise TTSError(_("le moteur {engine} n'a produit aucun son pour {text}").format(
                engine=eng.identity, text=repr(text)))
        by_rate: dict[int, Audio] = {}
        for f in missing:
            if f.rate not in by_rate:
                by_rate[f.rate] = process(raw, f.rate, processing)
            files[f.name] = store.put(keys[f.name], f, by_rate[f.rate].encode(f))
    ordered = {f.name: files[f.name] for f in fmts}
    return Rendering(text=text, settings=settings, engine=eng.identity, files=ordered,
                     duration=round(sound_duration(ordered[fmts[0].name]), 3),
                     cached=not missing)


@contextlib.contextmanager
def _cache_for(cache: PromptCache | bool | None):
    """The cache to use for one operation; ``False`` = a temporary one, deleted afterwards."""
    if cache is False:
        import tempfile

        with tempfile.TemporaryDirectory(prefix="toipkit-tts-nocache-") as tmp:
            yield PromptCache(tmp)
    else:
        yield _resolve_cache(cache)


def _resolve_cache(cache: PromptCache | bool | None) -> PromptCache:
    if isinstance(cache, PromptCache):
        return cache
    if cache is False:
        import tempfile

        return PromptCache(tempfile.mkdtemp(prefix="toipkit-tts-nocache-"))
    return PromptCache()


_GOOGLETTS_STRIP = re.compile(r"[\\|*~<>^()\[\]{}\x00-\x1f\x7f]")


def clean_text(text: str) -> str:
    """Text as a prompt: characters googletts.agi also drops become spaces; spaces collapsed."""
    return " ".join(_GOOGLETTS_STRIP.sub(" ", str(text)).split())


def synthesize(text: str, lang: str = "fr", *, voice: str | None = None, rate: int | None = None,
               pitch: int | None = None, volume: int | None = None,
               sample_rate: int = 8000, engine: str | Engine = "auto",
               processing: Processing = DEFAULT_PROCESSING) -> Audio:
    """Speak ``text`` and return telephone-ready audio (trimmed, resampled, normalised).

    No cache, no file: for listening in a notebook (``Audio`` shows as a player).
    """
    text = clean_text(text)
    if not text:
        raise TTSError(_("rien à dire : le texte est vide"))
    settings = VoiceSettings(lang=lang, voice=voice, rate=rate, pitch=pitch, volume=volume)
    return process(get_engine(engine).synthesize(text, settings), sample_rate, processing)


def say(text: str, output: str | os.PathLike, *, format: str | None = None, lang: str = "fr",
        voice: str | None = None, rate: int | None = None, pitch: int | None = None,
        volume: int | None = None, engine: str | Engine = "auto",
        cache: PromptCache | bool | None = True) -> Path:
    """Write ``text`` spoken to ``output`` (format from ``format`` or the file extension).

    ``say("Bienvenue", "bienvenue.wav")`` → 8 kHz 16-bit mono WAV; ``format="ulaw"`` → raw µ-law.
    """
    output = Path(output)
    if format is None:
        if not output.suffix:
            raise TTSError(_("{path} : pas d'extension, impossible de savoir le format du son "
                             "(utilisez format=)").format(path=output))
        fmt = get_format(output.suffix)
    else:
        fmt = get_format(format)
    settings = VoiceSettings(lang=lang, voice=voice, rate=rate, pitch=pitch, volume=volume)
    with _cache_for(cache) as store:
        rendering = render_text(text, [fmt.name], settings=settings, engine=engine, cache=store)
        _copy_atomic(rendering.files[fmt.name], output)
    return output


def tts_duration(text: str, lang: str = "fr", *, engine: str | Engine = "auto",
                 speed: float | None = None) -> float:
    """Seconds the prompt lasts once rendered (cached 8 kHz rendering).

    Made for the dialplan simulator's ``tts_duration`` hook (``agi(googletts.agi,...)`` steps).
    """
    rate = None if not speed or float(speed) == 1.0 else round(175 * float(speed))
    rendering = render_text(text, ["sln"], settings=VoiceSettings(lang=lang or "fr", rate=rate),
                            engine=engine)
    return rendering.duration


def _copy_atomic(src: Path, dst: Path) -> None:
    """Put the cached file ``src`` at ``dst`` atomically.

    A hard link when possible (cache and output on the same file system): no data copied, and a
    destination already linked to the same cache entry is left alone, so re-rendering a sounds
    folder costs a ``stat`` per file. Cache entries are never modified in place (new content
    gets a new key), so sharing the inode is safe as long as nobody edits the output in place.
    """
    try:
        if dst.exists() and os.path.samefile(src, dst):
            return
    except OSError:
        pass
    with atomic_path(dst) as tmp:
        try:
            os.link(src, tmp)
        except OSError:
            shutil.copyfile(src, tmp)


# ---------------------------------------------------------------------------------------------
# prompts, batches and manifests


@dataclass
class Prompt:
    """A prompt to render: Asterisk sound name (``custom/ivr-accueil``) and its text."""

    name: str
    text: str
    lang: str = "fr"
    voice: str | None = None
    rate: int | None = None
    pitch: int | None = None
    volume: int | None = None

    @property
    def settings(self) -> VoiceSettings:
        return VoiceSettings(lang=self.lang, voice=self.voice, rate=self.rate, pitch=self.pitch,
                             volume=self.volume)


@dataclass
class PromptEntry:
    """One line of a manifest: what the simulator and the teacher need to know about a prompt."""

    name: str
    text: str
    lang: str
    duration: float
    files: dict[str, str]
    engine: str
    voice: str | None = None
    rate: int | None = None
    pitch: int | None = None
    volume: int | None = None
    root: Path | None = field(default=None, repr=False, compare=False)

    def path(self, fmt: str | None = None) -> Path:
        """Absolute path of one of the files (first format by default)."""
        rel = self.files[fmt] if fmt else next(iter(self.files.values()))
        return (self.root / rel) if self.root else Path(rel)

    def audio(self, fmt: str | None = None) -> Audio:
        name = fmt or next(iter(self.files))
        return read_sound(self.path(name), name)

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("root")
        return d

    def _repr_html_(self) -> str:
        return self.audio("wav" if "wav" in self.files else None)._repr_html_()


class Manifest(Mapping):
    """Prompts rendered into a sounds folder: sound name → :class:`PromptEntry`.

    It is also the ``sounds`` provider of the dialplan simulator: ``manifest["custom/x"]`` (or
    ``manifest("custom/x")``, ``None`` when unknown) has ``.text`` and ``.duration``. Names may be
    given with a language folder, an absolute ``.../sounds/fr/`` prefix or an extension.
    """

    def __init__(self, entries: Iterable[PromptEntry] = (), root: str | os.PathLike | None = None):
        self.root = Path(root) if root is not None else None
        self._entries: dict[str, PromptEntry] = {}
        for e in entries:
            self.add(e)

    # -- Mapping ---------------------------------------------------------------------------
    def add(self, entry: PromptEntry) -> None:
        entry.root = self.root
        self._entries[entry.name] = entry

    def _resolve(self, name: str) -> str | None:
        if name in self._entries:
            return name
        n = str(name).strip().replace("\\", "/")
        if "/sounds/" in n:
            n = n.split("/sounds/", 1)[1]
        n = n.lstrip("/")
        stem, dot, ext = n.rpartition(".")
        if dot and "/" not in ext:
            try:
                get_format(ext)
                n = stem
            except TTSError:
                pass
        if n in self._entries:
            return n
        first, _, rest = n.partition("/")
        langs = {_slug_lang(e.lang) for e in self._entries.values()}
        if rest and (first in langs or first.split("_")[0] in langs) and rest in self._entries:
            return rest
        return None

    def __getitem__(self, name: str) -> PromptEntry:
        key = self._resolve(name)
        if key is None:
            raise KeyError(name)
        return self._entries[key]

    def __call__(self, name: str) -> PromptEntry | None:
        key = self._resolve(name)
        return None if key is None else self._entries[key]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._resolve(name) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    # -- files -----------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {"toipkit_tts_manifest": MANIFEST_VERSION,
                "prompts": [e.to_dict() for e in self._entries.values()]}

    def save(self, path: str | os.PathLike | None = None) -> Path:
        if path is None:
            if self.root is None:
                raise TTSError(_("ce manifeste n'a pas de dossier ; donnez un chemin pour "
                                 "l'enregistrer"))
            path = self.root / MANIFEST_NAME
        text = json.dumps(self.to_dict(), ensure_ascii=False, indent=2) + "\n"
        return atomic_write(path, text.encode("utf-8"))

    @classmethod
    def load(cls, path: str | os.PathLike) -> Manifest:
        """Read ``manifest.json`` (or the folder holding it)."""
        path = Path(path)
        if path.is_dir():
            path = path / MANIFEST_NAME
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise TTSError(_("{path} : pas de manifeste de messages ici").format(
                path=path)) from exc
        except json.JSONDecodeError as exc:
            raise TTSError(_("{path}:{line} : JSON invalide ({error})").format(
                path=path, line=exc.lineno, error=exc.msg)) from exc
        if not isinstance(data, dict) or "prompts" not in data:
            raise TTSError(_("{path} : pas un manifeste de messages toipkit (pas de liste "
                             "'prompts')").format(path=path))
        fields = set(PromptEntry.__dataclass_fields__) - {"root"}
        entries = [PromptEntry(**{k: v for k, v in p.items() if k in fields})
                   for p in data["prompts"]]
        return cls(entries, root=path.parent)

    # -- display ---------------------------------------------------------------------------
    def to_frame(self):
        import pandas as pd

        rows = [{"name": e.name, "text": e.text, "lang": e.lang, "duration_s": e.duration,
                 "formats": ", ".join(e.files)} for e in self._entries.values()]
        return pd.DataFrame(rows, columns=["name", "text", "lang", "duration_s", "formats"])

    def _repr_html_(self) -> str:
        return self.to_frame()._repr_html_()

    def __repr__(self) -> str:
        return f"<Manifest {len(self)} prompt(s) in {self.root}>"


def render_prompts(prompts: Iterable[Prompt], out_dir: str | os.PathLike, *,
                   formats: Iterable[str] = DEFAULT_FORMATS, engine: str | Engine = "auto",
                   cache: PromptCache | bool | None = True, folder: str = "custom",
                   processing: Processing = DEFAULT_PROCESSING, merge: bool = True) -> Manifest:
    """Render prompts into an Asterisk sounds folder and write its ``manifest.json``.

    ``out_dir/<lang>/<name>.<ext>``; a name without ``/`` goes under ``folder`` (``custom``).
    With ``merge`` the entries of an existing manifest in ``out_dir`` are kept (same names are
    replaced).
    """
    out = Path(out_dir)
    formats = [get_format(f).name for f in formats]
    manifest = Manifest(root=out)
    if merge and (out / MANIFEST_NAME).exists():
        for entry in Manifest.load(out).values():
            manifest.add(entry)
    # Validate everything before writing anything.
    named: dict[str, Prompt] = {}
    for p in prompts:
        name = sound_name(p.name, folder)
        if name in named and (named[name].text, named[name].lang) != (p.text, p.lang):
            raise TTSError(_("deux messages différents s'appellent tous deux {name}").format(
                name=repr(name)))
        if not clean_text(p.text):
            raise TTSError(_("message {name} : le texte est vide").format(name=repr(name)))
        named[name] = p
    with _cache_for(cache) as store:
        for name, p in named.items():
            rendering = render_text(p.text, formats, settings=p.settings, engine=engine,
                                    cache=store, processing=processing)
            files: dict[str, str] = {}
            for fmt_name, src in rendering.files.items():
                rel = Path(_slug_lang(p.lang)) / f"{name}.{get_format(fmt_name).ext}"
                _copy_atomic(src, out / rel)
                files[fmt_name] = rel.as_posix()
            manifest.add(PromptEntry(name=name, text=rendering.text, lang=p.lang,
                                     duration=rendering.duration, files=files,
                                     engine=rendering.engine, voice=p.voice, rate=p.rate,
                                     pitch=p.pitch, volume=p.volume))
    manifest.save()
    return manifest


def sound_name(name: str, folder: str = "custom") -> str:
    """Normalise a prompt name to an Asterisk sound name (no extension, inside ``folder``)."""
    n = str(name).strip().replace("\\", "/").strip("/")
    if not n or n.startswith("..") or "/../" in f"/{n}/":
        raise TTSError(_("nom de message invalide : {name}").format(name=repr(name)))
    stem, dot, ext = n.rpartition(".")
    if dot and "/" not in ext and ext.lower() in {f.ext for f in FORMATS.values()}:
        n = stem
    if "/" not in n and folder:
        n = f"{folder.strip('/')}/{n}"
    return n


def slugify(text: str, max_length: int = 48) -> str:
    """ASCII file-name stem for a text: ``"Entrée invalide"`` → ``"entree-invalide"``."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if len(slug) > max_length:
        cut = slug[:max_length]
        slug = cut.rsplit("-", 1)[0] if "-" in cut else cut
    return slug or "prompt"


def load_prompts(path: str | os.PathLike) -> list[Prompt]:
    """Read a batch of prompts from CSV or YAML.

    CSV: header with ``name`` and ``text`` (optional ``lang``, ``voice``, ``rate``, ``pitch``,
    ``volume``); ``;`` or ``,`` separated. YAML: a list of such mappings, or a mapping
    ``name: text`` (optionally under a ``prompts:`` key with ``lang:`` default beside it).
    Errors name the row (CSV line number) or the entry.
    """
    path = Path(path)
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise TTSError(_("{path} : lecture impossible ({error})").format(
            path=path, error=exc.strerror)) from exc
    if path.suffix.lower() in (".yaml", ".yml"):
        return _prompts_from_yaml(raw, path)
    if path.suffix.lower() in (".csv", ".tsv", ".txt"):
        return _prompts_from_csv(raw, path)
    raise TTSError(_("{path} : les fichiers de lot sont en .csv ou .yaml").format(path=path))


def _prompt_from_row(row: Mapping, where: str, default_lang: str = "fr") -> Prompt:
    def opt_int(key):
        value = row.get(key)
        if value in (None, ""):
            return None
        try:
            return int(value)
        except (TypeError, ValueError) as exc:
            raise TTSError(_("{where} : {key} doit être un entier, pas {value}").format(
                where=where, key=key, value=repr(value))) from exc

    name = str(row.get("name") or "").strip()
    text = str(row.get("text") or "").strip()
    if not name:
        raise TTSError(_("{where} : 'name' manquant").format(where=where))
    if not text:
        raise TTSError(_("{where} : 'text' manquant pour le message {name}").format(
            where=where, name=repr(name)))
    return Prompt(name=name, text=text, lang=str(row.get("lang") or default_lang).strip(),
                  voice=(str(row["voice"]).strip() or None) if row.get("voice") else None,
                  rate=opt_int("rate"), pitch=opt_int("pitch"), volume=opt_int("volume"))


def _prompts_from_csv(raw: str, path: Path) -> list[Prompt]:
    first = raw.splitlines()[0] if raw else ""
    delimiter = "\t" if "\t" in first else (";" if first.count(";") > first.count(",") else ",")
    reader = csv.DictReader(raw.splitlines(), delimiter=delimiter)
    fields = [f.strip().lower() for f in (reader.fieldnames or [])]
    if "name" not in fields or "text" not in fields:
        raise TTSError(_("{path}:1 : l'en-tête doit avoir les colonnes 'name' et 'text' (trouvé "
                         "{fields})").format(path=path, fields=fields))
    prompts = []
    for i, row in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "") for k, v in row.items()}
        if not any(v.strip() for v in row.values()):
            continue
        prompts.append(_prompt_from_row(row, f"{path}:{i}"))
    return prompts


def _prompts_from_yaml(raw: str, path: Path) -> list[Prompt]:
    import yaml

    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        raise TTSError(_("{where} : YAML invalide ({error})").format(
            where=f"{path}{line}", error=getattr(exc, "problem", exc))) from exc
    default_lang = "fr"
    if isinstance(data, dict) and "prompts" in data:
        default_lang = str(data.get("lang") or "fr")
        data = data["prompts"]
    if isinstance(data, dict):
        return [_prompt_from_row({"name": k, "text": v}, f"{path}: {k}", default_lang)
                for k, v in data.items()]
    if isinstance(data, list):
        out = []
        for i, item in enumerate(data, start=1):
            if not isinstance(item, dict):
                raise TTSError(_("{path} : l'entrée {n} n'est pas une table avec name/text").format(
                    path=path, n=i))
            out.append(_prompt_from_row(item, _("{path} : entrée {n}").format(path=path, n=i),
                                       default_lang))
        return out
    raise TTSError(_("{path} : il faut une liste de messages ou une table nom → texte").format(
        path=path))


def render_batch(path: str | os.PathLike, out_dir: str | os.PathLike, **kwargs) -> Manifest:
    """:func:`load_prompts` + :func:`render_prompts`."""
    return render_prompts(load_prompts(path), out_dir, **kwargs)
