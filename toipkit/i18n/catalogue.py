"""Extract, update, compile and check the catalogue with Babel (maintainers only)."""

from __future__ import annotations

import io
import re
from datetime import datetime, timezone
from pathlib import Path

from toipkit._fileio import atomic_write
from toipkit.i18n import DOMAIN, LOCALE_DIR

PACKAGE = Path(__file__).resolve().parent.parent
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}
TRANSLATED = ("en",)
_FIELD = re.compile(r"\{([^{}:!]*)")
# A fixed header date keeps the .po byte-stable across updates (no churn in diffs).
_FIXED_DATE = datetime(2026, 1, 1, tzinfo=timezone.utc)


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def mo_path(lang: str) -> Path:
    return po_path(lang).with_suffix(".mo")


def extract():
    """The texts marked in the package's code, as a Babel catalogue (French source texts)."""
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_dir

    catalog = Catalog(project="toipkit", locale=None, charset="utf-8")
    method_map = [("i18n/**.py", "ignore"), ("**.py", "python")]
    for filename, lineno, message, comments, context in extract_from_dir(
            str(PACKAGE), method_map=method_map, keywords=KEYWORDS):
        catalog.add(message, None, [(f"toipkit/{filename}", lineno)],
                    auto_comments=comments, context=context)
    return catalog


def _read(lang: str):
    from babel.messages.pofile import read_po

    path = po_path(lang)
    if not path.exists():
        from babel.messages.catalog import Catalog

        return Catalog(locale=lang, domain=DOMAIN)
    with open(path, "rb") as handle:
        return read_po(handle, locale=lang, domain=DOMAIN)


def _write_atomic(path: Path, data: bytes) -> None:
    atomic_write(path, data)


def _po_bytes(catalog) -> bytes:
    from babel.messages.pofile import write_po

    buffer = io.BytesIO()
    write_po(buffer, catalog, width=100, sort_output=False, omit_header=False,
             ignore_obsolete=True, include_previous=False, include_lineno=False)
    return buffer.getvalue()


def _mo_bytes(catalog) -> bytes:
    from babel.messages.mofile import write_mo

    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    return buffer.getvalue()


def _ids(catalog) -> set:
    return {message.id if isinstance(message.id, str) else tuple(message.id)
            for message in catalog if message.id}


def update() -> tuple[list, list]:
    """Merge the code's texts into each translated ``.po`` (translations kept, gone texts dropped)."""
    template = extract()
    added: list = []
    obsolete: list = []
    for lang in TRANSLATED:
        catalog = _read(lang)
        before = _ids(catalog)
        catalog.update(template, no_fuzzy_matching=True)
        added += sorted(map(str, _ids(template) - before))
        obsolete += list(catalog.obsolete)
        catalog.obsolete.clear()
        catalog.revision_date = catalog.creation_date = _FIXED_DATE
        catalog.project, catalog.version = "toipkit", ""
        catalog.copyright_holder = "toipkit developers"
        catalog.fuzzy = False
        _write_atomic(po_path(lang), _po_bytes(catalog))
    return added, obsolete


def compile_catalogue() -> None:
    for lang in TRANSLATED:
        _write_atomic(mo_path(lang), _mo_bytes(_read(lang)))


def _fields(text: str) -> set[str]:
    return set(_FIELD.findall(text.replace("{{", "").replace("}}", "")))


def check() -> list[str]:
    """Problems: a code text missing or untranslated in a ``.po``, differing ``{fields}``, a
    stale ``.mo``."""
    problems: list[str] = []
    template = extract()
    wanted = _ids(template)
    for lang in TRANSLATED:
        catalog = _read(lang)
        have = {}
        for message in catalog:
            if message.id:
                key = message.id if isinstance(message.id, str) else tuple(message.id)
                have[key] = message
        for key in sorted(wanted, key=str):
            message = have.get(key)
            if message is None:
                problems.append(f"{lang}: not in {po_path(lang).name} (run update): {key!r}")
                continue
            strings = message.string if isinstance(message.string, (list, tuple)) else [message.string]
            sources = key if isinstance(key, tuple) else (key,)
            if not all(strings) or message.fuzzy:
                problems.append(f"{lang}: untranslated: {key!r}")
                continue
            for text in strings:
                if _fields(text) != _fields(sources[0]) | (_fields(sources[-1])
                                                          if len(sources) > 1 else set()):
                    problems.append(f"{lang}: placeholders differ: {key!r} -> {text!r}")
        for key in sorted(set(have) - wanted, key=str):
            problems.append(f"{lang}: no longer in the code (run update): {key!r}")
        mo = mo_path(lang)
        if not mo.exists() or mo.read_bytes() != _mo_bytes(catalog):
            problems.append(f"{lang}: {mo.name} is out of date (run compile)")
    return problems

