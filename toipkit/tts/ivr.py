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

from toipkit.errors import TTSError
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


def _load_dialplan(dialplan):
    """A Dialplan object from a Dialplan, a path, or extensions.conf text."""
    if hasattr(dialplan, "contexts"):
        return dialplan
    from toipkit.dialplan import parser

    if isinstance(dialplan, os.PathLike) or (
            isinstance(dialplan, str) and "\n" not in dialplan and Path(dialplan).exists()):
        return parser.parse_file(dialplan)
    if isinstance(dialplan, str):
        return parser.parse(dialplan)
    raise TTSError(f"from_dialplan expects a Dialplan, a path or extensions.conf text, "
                   f"not {type(dialplan).__name__}")


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
                             speed=speed))
    return calls


@dataclass
class DialplanPrompts:
    """Result of :func:`from_dialplan`."""

    dialplan: object            # the rewritten Dialplan
    original: object            # the Dialplan as read
    manifest: Manifest
    calls: list[TTSCall] = field(default_factory=list)

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
        """The rewritten dialplan as ``extensions.conf`` text."""
        return self.dialplan.to_text()

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
    original = _load_dialplan(dialplan)
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
        call = by_position.get((p.context, p.exten, p.number, p.file, p.line))
        if call is None:
            continue
        p.app = call.app
        p.data = call.sound
        if hasattr(p, "has_parens"):
            p.has_parens = True
    return DialplanPrompts(dialplan=rewritten, original=original, manifest=manifest, calls=calls)


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
    raise TTSError(f"cannot play a {type(sound).__name__}")
