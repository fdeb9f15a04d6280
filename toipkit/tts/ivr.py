"""From a ``googletts.agi`` IVR to pre-rendered prompts: find, render, rewrite; listen in Jupyter.

``googletts.agi`` (zaf/asterisk-googletts) is called as
``agi(googletts.agi,"text",[language],[intkey],[speed])`` and fetches the audio from Google at
call time. :func:`from_dialplan` renders every such text once, offline, and replaces each call by
``Background(custom/<name>)`` when a key may interrupt (``intkey`` = ``any`` or a list of keys) or
``Playback(custom/<name>)`` otherwise. Only the application and its argument change: extensions,
priorities and labels are kept, so the control flow is the same.

Differences worth knowing (and shown in :attr:`TTSCall.note`):

* googletts with an explicit key list (``"12"``) only stops on those keys; ``Background`` stops on
  any key. On a key, googletts jumps to ``<key>,1`` even when that extension does not exist
  (hang-up); ``Background`` follows Asterisk's digit collection (``i`` for an invalid key).
* A text built from variables (``${...}``) cannot be rendered in advance: the call is kept.
"""

from __future__ import annotations

import copy
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from toipkit.errors import TTSError
from toipkit.i18n import _
from toipkit.tts.audio import DEFAULT_FORMATS, Audio, get_format, read_sound
from toipkit.tts.engines import ESPEAK_DEFAULT_RATE, Engine
from toipkit.tts.prompts import (
    DEFAULT_PROCESSING,
    Manifest,
    Processing,
    Prompt,
    PromptCache,
    clean_text,
    render_prompts,
    slugify,
)

if TYPE_CHECKING:
    from toipkit.dialplan.model import Dialplan

#: AGI scripts with googletts' argument convention ("text",[lang],[intkey],[speed]).
TTS_SCRIPTS = ("googletts.agi", "googletts-tiny.agi", "picotts.agi")
_LANG_RE = re.compile(r"^[a-zA-Z]{2}(-[a-zA-Z]{2,6})?$")
_KEYS_RE = re.compile(r"^[0-9*#]+$")


@dataclass
class TTSCall:
    """One ``agi(googletts.agi,...)`` step found in a dialplan, and what it became."""

    context: str
    exten: str
    priority: int
    label: str | None
    file: str
    line: int
    text: str
    lang: str
    intkey: str
    speed: float
    column: int = 0           # 1-based column of the application name on its line
    sound: str | None = None  # the sound name it plays now (None = left as is)
    app: str | None = None    # Background / Playback
    reason: str = ""          # why it was left as is
    note: str = ""            # behaviour difference worth knowing

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"

    @property
    def interruptible(self) -> bool:
        return bool(self.intkey)

    @property
    def rate(self) -> int | None:
        """espeak words per minute for googletts' speed factor (None = default)."""
        return None if self.speed == 1.0 else round(ESPEAK_DEFAULT_RATE * self.speed)


def parse_tts_args(args: list[str]) -> tuple[str, str, str, float] | None:
    """(text, lang, intkey, speed) of an ``agi()`` argument list if it calls a googletts script.

    Language and key rules follow googletts.agi: a language must look like ``fr`` or ``zh-CN``
    (else ``en``); ``any`` means every key ``0-9*#``; anything else keeps only ``[0-9*#]``.
    """
    if not args:
        return None
    script = args[0].strip().rsplit("/", 1)[-1].lower()
    if script not in TTS_SCRIPTS:
        return None
    text = args[1] if len(args) > 1 else ""
    lang = args[2].strip() if len(args) > 2 else ""
    if not _LANG_RE.match(lang):
        lang = "en"
    raw_key = args[3].strip() if len(args) > 3 else ""
    if raw_key.lower() == "any":
        intkey = "0123456789*#"
    else:
        intkey = "".join(c for c in raw_key if c in "0123456789*#")
    speed = 1.0
    if len(args) > 4 and args[4].strip():
        try:
            speed = float(args[4])
        except ValueError:
            speed = 1.0
        if speed <= 0:
            speed = 1.0
    return text, lang, intkey, speed


def _load_dialplan(dialplan, sources: dict[str, str] | None = None) -> Dialplan:
    """A Dialplan object from a Dialplan, a path, or extensions.conf text.

    When ``sources`` is given, the text read (path or string) is stored there by file name.
    """
    if hasattr(dialplan, "contexts"):
        return dialplan
    from toipkit.dialplan import parser

    looks_like_path = isinstance(dialplan, str) and "\n" not in dialplan and "=" not in dialplan
    if isinstance(dialplan, os.PathLike) or looks_like_path:
        dp = parser.parse_file(dialplan)
        if sources is not None:
            for name in dp.files:
                try:
                    sources[name] = Path(name).read_text(encoding="utf-8")
                except OSError:
                    pass
            sources.setdefault(str(dialplan), Path(dialplan).read_text(encoding="utf-8"))
        return dp
    if isinstance(dialplan, str):
        dp = parser.parse(dialplan)
        if sources is not None:
            sources["<string>"] = dialplan
        return dp
    raise TTSError(_("from_dialplan attend un Dialplan, un chemin ou le texte de "
                     "extensions.conf, pas {type}").format(type=type(dialplan).__name__))


def _comment_start(line: str) -> int:
    """Index of the ``;`` starting a comment (``\\;`` is a literal semicolon), or len(line)."""
    i = 0
    while i < len(line):
        if line[i] == "\\":
            i += 2
            continue
        if line[i] == ";":
            return i
        i += 1
    return len(line)


def _priorities_in_source_order(dp):
    steps = []
    for ctx in dp.contexts.values():
        for ext in ctx.extensions.values():
            for p in ext.priorities.values():
                steps.append(p)
    steps.sort(key=lambda p: (p.file, p.line, p.column))
    return steps


def find_tts_calls(dialplan) -> list[TTSCall]:
    """Every ``agi(googletts.agi,...)`` step of a dialplan, in file order."""
    dp = _load_dialplan(dialplan)
    calls = []
    for p in _priorities_in_source_order(dp):
        if p.app.strip().lower() != "agi":
            continue
        parsed = parse_tts_args(p.args)
        if parsed is None:
            continue
        text, lang, intkey, speed = parsed
        calls.append(TTSCall(context=p.context, exten=p.exten, priority=p.number, label=p.label,
                             file=p.file, line=p.line, text=text, lang=lang, intkey=intkey,
                             speed=speed, column=getattr(p, "app_column", 0)))
    return calls


@dataclass
class DialplanPrompts:
    """Result of :func:`from_dialplan`."""

    dialplan: Dialplan          # the rewritten Dialplan
    original: object            # the Dialplan as read
    manifest: Manifest
    calls: list[TTSCall] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def sounds_dir(self) -> Path | None:
        return self.manifest.root

    def to_frame(self):
        import pandas as pd

        rows = [{"context": c.context, "exten": c.exten, "priority": c.priority,
                 "text": c.text, "lang": c.lang, "keys": c.intkey or "-",
                 "now": f"{c.app}({c.sound})" if c.sound else f"(unchanged: {c.reason})"}
                for c in self.calls]
        return pd.DataFrame(rows, columns=["context", "exten", "priority", "text", "lang", "keys",
                                           "now"])

    def _repr_html_(self) -> str:
        return self.to_frame()._repr_html_()

    def to_text(self) -> str:
        """The rewritten dialplan as ``extensions.conf`` text (regenerated: comments dropped)."""
        return self.dialplan.to_text()

    def patched_text(self, text: str | None = None, file: str | None = None) -> str:
        """The original source with only the rewritten ``agi(...)`` calls replaced.

        Comments, blank lines, ``same =>`` and the author's layout are kept. ``text`` is the
        source of ``file`` (default: the first file of the dialplan); it is read from what
        :func:`from_dialplan` was given (path or text) or from disk when omitted.
        """
        files = list(getattr(self.original, "files", []) or [])
        file = file or (files[0] if files else "<string>")
        if text is None:
            text = self.sources.get(file)
            if text is None and "<string>" in self.sources and len(self.sources) == 1:
                text = self.sources["<string>"]
            if text is None:
                try:
                    text = Path(file).read_text(encoding="utf-8")
                except OSError as exc:
                    raise TTSError(_("pas de texte source pour {file} ; passez text=").format(
                        file=file)) from exc
        lines = text.split("\n")
        single_file = len({c.file for c in self.calls}) <= 1
        for call in self.calls:
            if not call.sound or (not single_file and call.file != file):
                continue
            i, col = call.line - 1, call.column - 1
            if not (0 <= i < len(lines)) or col < 0:
                raise TTSError(_("{where} : le texte source ne correspond pas au dialplan").format(
                    where=call.where))
            line = lines[i]
            end = _comment_start(line)
            head = line[col:end]
            if not head.lower().startswith("agi") or ")" not in head:
                raise TTSError(_("{where} : agi(...) attendu en colonne {column}, le texte "
                                 "source ne correspond pas au dialplan").format(
                                     where=call.where, column=call.column))
            close = col + head.rfind(")")
            lines[i] = f"{line[:col]}{call.app}({call.sound}){line[close + 1:]}"
        return "\n".join(lines)

    def __repr__(self) -> str:
        done = sum(1 for c in self.calls if c.sound)
        return (f"<DialplanPrompts {done}/{len(self.calls)} googletts call(s) rewritten, "
                f"{len(self.manifest)} sound(s)>")


def from_dialplan(dialplan, out_dir: str | os.PathLike | None = None, *,
                  formats=DEFAULT_FORMATS, folder: str = "custom", prefix: str | None = None,
                  engine: str | Engine = "auto", cache: PromptCache | bool | None = True,
                  processing: Processing = DEFAULT_PROCESSING) -> DialplanPrompts:
    """Render the googletts prompts of a dialplan and return it rewritten to play them.

    - ``dialplan``: a parsed ``Dialplan`` (``toipkit.dialplan.parse``), a path, or the text.
    - ``out_dir``: sounds folder (``<out_dir>/<lang>/<folder>/<name>.<ext>`` + manifest.json);
      default ``state_dir()/sounds``.
    - One sound per distinct (text, language, speed); its name is ``<folder>/<prefix><slug>``
      with ``prefix`` defaulting to the context of the first use and a dash (``custom/ivr-...``).

    The input dialplan is not modified.
    """
    sources: dict[str, str] = {}
    original = _load_dialplan(dialplan, sources)
    if out_dir is None:
        from toipkit.paths import state_dir

        out_dir = state_dir() / "sounds"
    formats = [get_format(f).name for f in formats]
    rewritten = copy.deepcopy(original)
    calls = find_tts_calls(rewritten)

    names: dict[tuple[str, str, float], str] = {}
    used: set[str] = set()
    prompts: list[Prompt] = []
    for call in calls:
        text = clean_text(call.text)
        if "${" in call.text or "$[" in call.text:
            call.reason = "text uses variables, cannot be rendered in advance"
            continue
        if not text:
            call.reason = "empty text"
            continue
        key = (text, call.lang.lower(), call.speed)
        if key not in names:
            pre = f"{call.context}-" if prefix is None else prefix
            base = f"{folder.strip('/')}/{pre}{slugify(text)}" if folder else f"{pre}{slugify(text)}"
            name, n = base, 2
            while name in used:
                name, n = f"{base}-{n}", n + 1
            used.add(name)
            names[key] = name
            prompts.append(Prompt(name=name, text=text, lang=call.lang, rate=call.rate))
        call.sound = names[key]
        call.app = "Background" if call.intkey else "Playback"
        if call.intkey and call.intkey != "0123456789*#":
            call.note = (f"googletts only stopped on {call.intkey}; Background stops on any key")

    manifest = render_prompts(prompts, out_dir, formats=formats, engine=engine, cache=cache,
                              folder=folder, processing=processing)

    by_position = {(c.context, c.exten, c.priority, c.file, c.line): c for c in calls if c.sound}
    for p in _priorities_in_source_order(rewritten):
        found = by_position.get((p.context, p.exten, p.number, p.file, p.line))
        if found is None:
            continue
        p.app = found.app
        p.data = found.sound
        if hasattr(p, "has_parens"):
            p.has_parens = True
    return DialplanPrompts(dialplan=rewritten, original=original, manifest=manifest, calls=calls,
                           sources=sources)


def listen(sound, fmt: str | None = None):
    """An ``IPython.display.Audio`` player for a prompt.

    ``sound`` may be an :class:`~toipkit.tts.audio.Audio`, a manifest entry, a file path, or a
    text (synthesised on the fly, nothing printed on stderr).
    """
    from toipkit.tts.prompts import PromptEntry, synthesize

    if isinstance(sound, Audio):
        return sound.to_ipython()
    if isinstance(sound, PromptEntry):
        pick = fmt or ("wav" if "wav" in sound.files else next(iter(sound.files)))
        return sound.audio(pick).to_ipython()
    if isinstance(sound, os.PathLike) or (isinstance(sound, str) and Path(sound).suffix
                                          and Path(sound).exists()):
        return read_sound(sound, fmt).to_ipython()
    if isinstance(sound, str):
        return synthesize(sound).to_ipython()
    raise TTSError(_("impossible de jouer un objet {type}").format(type=type(sound).__name__))
