"""``extensions.conf`` reader with source positions.

Two layers, like Asterisk: the generic config reader (comments, ``[category](options)``,
``#include``) builds categories of ``name = value`` items; the pbx_config layer turns them into
contexts, extensions and priorities. Fatal problems (those that make Asterisk reject the file, or
skip a line) raise :class:`DialplanSyntaxError`; in lenient mode they are collected in
``Dialplan.errors`` and parsing goes on. Softer load warnings go to ``Dialplan.issues``.
"""

from __future__ import annotations

import gc
import glob
import os
import re
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path

from toipkit.dialplan.model import (
    HINT,
    Context,
    Dialplan,
    Extension,
    IgnorePattern,
    Include,
    LoadIssue,
    Priority,
    Setting,
    Switch,
)
from toipkit.dialplan.patterns import shrink_phone_number, sort_key
from toipkit.errors import DialplanSyntaxError
from toipkit.i18n import _

__all__ = ["parse", "parse_file", "LoadError"]

_MAX_INCLUDE_DEPTH = 32
_MAX_FILE_READS = 2000  # double #includes nested n deep read 2**n files
_MAX_FILE_BYTES = 64 * 2**20


class _Item(tuple):
    """One ``name = value`` line: (name, value, file, line, col, vcol, cols, voff, source).

    ``col``/``vcol``: 1-based columns of the name and the value; ``cols`` maps offsets of the
    comment-stripped line to original columns (None when they are the same).
    """

    __slots__ = ()
    name = property(itemgetter(0))
    value = property(itemgetter(1))
    file = property(itemgetter(2))
    line = property(itemgetter(3))
    col = property(itemgetter(4))
    vcol = property(itemgetter(5))
    cols = property(itemgetter(6))
    voff = property(itemgetter(7))
    source = property(itemgetter(8))

    def col_at(self, offset_in_value: int) -> int:
        cols = self[6]
        o = self[7] + offset_in_value
        if cols is None:
            return o + 1
        if not cols:
            return 1
        return cols[min(o, len(cols) - 1)] + 1


_new_item = tuple.__new__


def _as_item(it):
    """The ``_Item`` the general path makes of a line. Lines read by ``_FAST_PRIO`` are kept as
    plain tuples (match, file, line): the loader builds their Priority straight from the match,
    and anything unusual turns them back into an ``_Item``."""
    if it.__class__ is not tuple:
        return it
    raw = it[0].string
    m = _FAST_LINE.match(raw)
    assert m is not None  # the fast path only takes lines this pattern matched
    lead, name, value = m.groups()
    vstart = m.start(3)
    return _new_item(_Item, (name, value.rstrip(), it[1], it[2], len(lead) + 1, vstart + 1, None,
                             vstart, raw))
# name =>? value, for lines without comments (the common case)
_FAST_LINE = re.compile(r"(\s*)([A-Za-z_][A-Za-z0-9_]*)\s*=>?\s*(.*)", re.S)
# The everyday priority line, whole: "exten => EXT,1|n|hint[(label)],App(data)" or
# "same => n,App(data)". Groups: lead, ext (exten only), priority, label, then either app and
# data (name up to the first '(', data up to the last ')') or an app without parentheses.
# Anything else (comments, caller IDs, ${...} in names, odd blanks...) takes the general path.
_FAST_PRIO = re.compile(
    r"([ \t]*)(?:exten[ \t]*=>?[ \t]*([^,\[\\/$\s]+),|same[ \t]*=>?)[ \t]*"
    r"([1-9][0-9]{0,8}|n|hint)[ \t]*(?:\(([^()\[\],\\]*)\))?[ \t]*,\s*"
    r"(?:([^($]*)\((.*)\)|([^(]*?)\s*\Z)", re.S)


@dataclass
class _Category:
    name: str
    file: str
    line: int
    column: int
    template: bool = False
    items: list = field(default_factory=list)  # _Item, or a tuple for everyday priority lines
    plain: bool = True  # not [general]/[globals]: priority lines may take the fast path

    def __post_init__(self):
        self.plain = self.name.lower() not in ("general", "globals")


class _Reader:
    """The generic config layer."""

    def __init__(self, lenient: bool, dialplan: Dialplan):
        self.lenient = lenient
        self.dp = dialplan
        self.pattern_names: dict[tuple, str] = {}
        self.reads = 0
        self.categories: list[_Category] = []
        self.by_name: dict[str, _Category] = {}
        self.current: _Category | None = None
        self.stack: list[str] = []

    def error(self, message, file, line, column=None, source=None, hint=None, asterisk=None,
              fatal=False):
        """A line Asterisk rejects. ``asterisk``: its own log message (``{line}`` and ``{file}``
        filled in here); ``fatal``: its config layer then refuses the whole file (main/config.c
        process_text_line returns -1, and pbx_config.c:1704 loads nothing)."""
        err = LoadError(message, file=file, line=line, column=column, source_line=source,
                        hint=hint)
        if asterisk is not None:
            err.asterisk = asterisk.format(line=line, file=file)
        err.fatal = fatal
        if not self.lenient:
            raise err
        self.dp.errors.append(err)

    def warn(self, code, message, file, line, column, hint=None, context=None, **params):
        self.dp.issues.append(LoadIssue(code, message, file, line, column, context, hint,
                                        params))

    def read_text(self, text: str, filename: str, basedir: Path, depth: int = 0) -> None:
        self.dp.files.append(filename)
        if text.startswith("\ufeff"):
            text = text[1:]
        depth_comment = 0
        pending: list[str] = []
        pending_cols: list[int] = []
        pending_line = 0
        pending_src = ""
        if "\r" in text:
            text = text.replace("\r\n", "\n")
        lines = text.split("\n")
        if "toipkit:" in text:
            self._pragmas(lines, filename)
        fast_line = _FAST_LINE.match
        fast_prio = _FAST_PRIO.match
        new_item = _new_item
        # Where the fast path appends: the current category's items (only _line changes it).
        cur = self.current
        fast_append = cur.items.append if cur is not None and cur.plain else None
        for lineno, raw in enumerate(lines, 1):
            if depth_comment == 0 and ";" not in raw:
                if fast_append is not None:
                    m = fast_prio(raw)
                    if m is not None:
                        fast_append((m, filename, lineno))
                        continue
                m = fast_line(raw)
                if m is not None and cur is not None:
                    lead, name, value = m.groups()
                    vstart = m.start(3)
                    cur.items.append(new_item(_Item, (
                        name, value.rstrip(), filename, lineno, len(lead) + 1, vstart + 1, None,
                        vstart, raw)))
                    continue
                processed, cols = raw, None
            else:
                processed, cols, depth_comment = _strip_comments(raw, depth_comment)
                if depth_comment > 0:
                    # A block comment goes on: keep the text outside it and join it later.
                    if not pending:
                        pending_line, pending_src = lineno, raw
                    if processed.strip():
                        pending.append(processed)
                        pending_cols.extend(cols if cols is not None else range(len(processed)))
                    continue
                if pending:
                    processed = "".join(pending) + processed
                    cols = pending_cols + (cols if cols is not None else list(range(len(raw))))
                    lineno_eff, src = pending_line, pending_src
                    pending, pending_cols = [], []
                    self._line(processed, cols, filename, lineno_eff, src, basedir, depth)
                    cur = self.current
                    fast_append = cur.items.append if cur is not None and cur.plain else None
                    continue
            self._line(processed, cols, filename, lineno, raw, basedir, depth)
            cur = self.current
            fast_append = cur.items.append if cur is not None and cur.plain else None
        if depth_comment > 0:
            self.warn("unterminated-comment", _("le commentaire de bloc ';--' n'est jamais fermé "
                                                 "par '--;'"),
                      filename, pending_line or len(lines), 1)

    def _pragmas(self, lines: list[str], filename: str) -> None:
        """``; toipkit: apps=AppA,AppB contexts=parkinglot asterisk=13`` comments: what the
        dialplan relies on that Asterisk's stock modules do not provide."""
        for lineno, raw in enumerate(lines, 1):
            m = _PRAGMA.search(raw)
            if m is None:
                continue
            for key, value in _PRAGMA_ITEM.findall(m.group(1)):
                key = key.lower()
                if key not in ("apps", "contexts", "asterisk"):
                    self.warn("directive", _("réglage toipkit '{key}' inconnu (attendu : apps=, "
                                            "contexts= ou asterisk=)").format(key=key),
                              filename, lineno, m.start(1) + 1)
                    continue
                old = self.dp.pragmas.get(key)
                self.dp.pragmas[key] = f"{old},{value}" if old and key != "asterisk" else value

    def _line(self, text, cols, filename, lineno, source, basedir, depth):
        # Leading/trailing whitespace removal, keeping track of the offset.
        stripped = text.strip()
        if not stripped:
            return
        lead = len(text) - len(text.lstrip())
        first = stripped[0]

        def col(off: int) -> int:
            o = lead + off
            if cols is None:
                return o + 1
            if not cols:
                return 1
            return cols[min(o, len(cols) - 1)] + 1

        if first == "[":
            self._category(stripped, col, filename, lineno, source)
        elif first == "#":
            self._directive(stripped, col, filename, lineno, source, basedir, depth)
        else:
            eq = stripped.find("=")
            if eq < 0:
                self.error(_("ligne sans '=' (Asterisk l'ignore)"), filename, lineno, col(0),
                           source, hint=_("écrivez 'exten => EXT,PRIO,App(args)' ou "
                                          "'nom = valeur'"),
                           asterisk="WARNING: config.c: No '=' (equal sign) in line {line} of "
                                    "{file}")
                return
            name_end = eq
            if eq > 0 and stripped[eq - 1] == "+":
                name_end = eq - 1
                appending = True
            else:
                appending = False
            vstart = eq + 1
            if vstart < len(stripped) and stripped[vstart] == ">":
                vstart += 1
            name = stripped[:name_end].strip()
            rest = stripped[vstart:]
            value = rest.strip()
            voff = lead + vstart + (len(rest) - len(rest.lstrip()))
            if self.current is None:
                self.error(_("pas de [contexte] avant cette ligne (ligne {line})").format(line=lineno),
                           filename, lineno, col(0), source,
                           hint=_("commencez le fichier par un en-tête [contexte]"),
                           asterisk="WARNING: config.c: parse error: No category context for "
                                    "line {line} of {file}", fatal=True)
                return
            items = self.current.items
            if appending:
                for k in range(len(items) - 1, -1, -1):
                    if _as_item(items[k])[0] == name:
                        it = _as_item(items[k])
                        items[k] = _new_item(_Item, (it[0], it[1] + value) + tuple(it[2:]))
                        return
            items.append(_new_item(_Item, (name, value, filename, lineno, col(0),
                                           col(voff - lead), cols, voff, source)))

    def _category(self, stripped, col, filename, lineno, source):
        close = stripped.find("]")
        if close < 0:
            self.error(_("pas de ']' fermant dans l'en-tête de contexte"), filename, lineno, col(0),
                       source, hint=_("écrivez [nom]"), fatal=True,
                       asterisk="WARNING: config.c: parse error: no closing ']', line {line} of "
                                "{file}")
            self.current = None
            return
        name = stripped[1:close]
        options: list[str] = []
        if close + 1 < len(stripped) and stripped[close + 1] == "(":
            end = stripped.find(")", close + 2)
            if end < 0:
                self.error(_("pas de ')' fermante après les options de l'en-tête de contexte"),
                           filename, lineno, col(close + 1), source,
                           hint=_("écrivez [nom](!) ou [nom](base1,base2)"),
                           fatal=True, asterisk="WARNING: config.c: parse error: no closing ')', "
                                                "line {line} of {file}")
                self.current = None
                return
            options = [o.strip() for o in stripped[close + 2:end].split(",")]
        template = "!" in options
        if "+" in options:
            target = self.by_name.get(name)
            if target is None:
                self.error(_("[{name}](+) complète un contexte qui n'existe pas encore").format(
                    name=name), filename, lineno, col(0), source,
                           hint=_("définissez [{name}] avant de le compléter").format(name=name),
                           fatal=True, asterisk="WARNING: config.c: Category addition requested, "
                           f"but category '{_braces(name)}' does not exist, line {{line}} of "
                           "{file}")
                self.current = None
                return
            self.current = target
            return
        cat = _Category(name, filename, lineno, col(1), template)
        for base in options:
            if base in ("!", "+", ""):
                continue
            b = self.by_name.get(base)
            if b is None:
                self.error(_("héritage demandé, mais la catégorie '{base}' n'existe pas").format(
                    base=base), filename, lineno, col(0), source,
                           hint=_("définissez le modèle [{base}](!) au-dessus de ce "
                                  "contexte").format(base=base), fatal=True,
                           asterisk="WARNING: config.c: Inheritance requested, but category "
                                    f"'{_braces(base)}' does not exist, line {{line}} of {{file}}")
                continue
            cat.items.extend(b.items)
        self.categories.append(cat)
        self.by_name[name] = cat
        self.current = cat

    def _directive(self, stripped, col, filename, lineno, source, basedir, depth):
        parts = stripped[1:].split(None, 1)
        kind = parts[0].lower() if parts else ""
        arg = parts[1].strip() if len(parts) > 1 else ""
        if len(arg) >= 2 and ((arg[0] == '"' and arg[-1] == '"') or
                              (arg[0] == "<" and arg[-1] == ">")):
            arg = arg[1:-1]
        if kind == "exec":
            self.warn("exec", _("#exec ne s'exécute qu'avec execincludes=yes dans asterisk.conf ; "
                                "ignoré ici"), filename, lineno, col(0))
            return
        if kind not in ("include", "tryinclude"):
            self.warn("directive", _("directive '#{kind}' inconnue, ignorée").format(kind=kind),
                      filename, lineno, col(0))
            return
        if not arg:
            self.error(_("#{kind} a besoin d'un nom de fichier").format(kind=kind), filename, lineno,
                       col(0), source,
                       asterisk=f"WARNING: config.c: Directive '#{kind}' needs an argument "
                                "(filename) at line {line} of {file}")
            return
        path = Path(arg)
        if not path.is_absolute():
            path = basedir / path
        if any(ch in arg for ch in "*?["):
            matches = sorted(glob.glob(str(path)))
        else:
            matches = [str(path)] if path.exists() else []
        if not matches:
            if kind == "include":
                self.error(_("le fichier '{file}' est cité dans un #include mais n'existe pas").format(
                    file=arg), filename, lineno, col(0), source,
                           hint=_("vérifiez le chemin (relatif au dossier de configuration, celui "
                                  "du fichier principal) ou utilisez #tryinclude"), fatal=True,
                           asterisk=f"ERROR: config.c: The file '{_braces(arg)}' was listed as a "
                                    "#include but it does not exist.")
            return
        for m in matches:
            real = os.path.realpath(m)
            if real in self.stack or depth >= _MAX_INCLUDE_DEPTH:
                self.error(_("cycle de #include : '{file}' est déjà en cours de lecture").format(
                    file=arg), filename, lineno, col(0), source,
                           hint=_("supprimez le #include qui reboucle"),
                           fatal=kind == "include",
                           asterisk="WARNING: config.c: Maximum Include level (10) exceeded")
                continue
            if not os.path.isfile(m):
                self.error(_("#{kind} '{file}' : ce n'est pas un fichier ordinaire").format(
                    kind=kind, file=arg), filename, lineno, col(0), source,
                           hint=_("incluez un fichier de configuration (pas un périphérique ni "
                                  "un tube)"),
                           asterisk=f"WARNING: config.c: '{_braces(m)}' is not a regular file, "
                                    "ignoring")
                continue
            self.reads += 1
            if self.reads > _MAX_FILE_READS or os.path.getsize(m) > _MAX_FILE_BYTES:
                self.error(_("#{kind} '{file}' : fichiers inclus trop nombreux ou trop gros (plus de "
                             "{reads} lectures ou {size} Mio)").format(
                    kind=kind, file=arg, reads=_MAX_FILE_READS, size=_MAX_FILE_BYTES // 2**20),
                           filename, lineno, col(0), source, fatal=True,
                           hint=_("les mêmes fichiers sont sans doute inclus encore et encore"))
                continue
            try:
                text = _read(Path(m))
            except OSError as exc:
                self.error(_("impossible de lire le fichier inclus '{file}' : {error}").format(
                    file=arg, error=exc), filename, lineno, col(0), source,
                           fatal=kind == "include")
                continue
            self.stack.append(real)
            try:
                # Relative #include paths are relative to Asterisk's configuration folder, not
                # to the including file (config_text_file_load, main/config.c): here, the folder
                # of the file parsing started from.
                self.read_text(text, m, basedir, depth + 1)
            finally:
                self.stack.pop()


def _strip_comments(line: str, depth: int):
    """Remove ``;`` comments and ``;-- --;`` block comments; ``\\;`` is a literal ``;``.

    Returns (text, columns, depth) where ``columns[i]`` is the original column of ``text[i]``.
    """
    out: list[str] = []
    cols: list[int] = []
    i = 0
    n = len(line)
    min_close = 0
    while i < n:
        c = line[i]
        if depth > 0:
            if c == ";":
                if i >= 2 and i - 2 >= min_close and line[i - 2:i] == "--":
                    depth -= 1
                    i += 1
                    continue
                if line.startswith("--", i + 1) and not line.startswith("---", i + 1):
                    depth += 1
                    i += 3
                    min_close = i
                    continue
            i += 1
            continue
        if c == ";":
            if out and out[-1] == "\\":
                out[-1] = ";"
                cols[-1] = i
                i += 1
                continue
            if line.startswith("--", i + 1) and not line.startswith("---", i + 1):
                depth += 1
                i += 3
                min_close = i
                continue
            break
        out.append(c)
        cols.append(i)
        i += 1
    text = "".join(out)
    return text, cols, depth


# ------------------------------------------------------------------------------------------
# pbx_config layer

_CONTEXT_KEYS = ("exten", "same", "include", "ignorepat", "switch", "lswitch", "eswitch",
                 "autohints")


def _strsep(s: str, start: int) -> tuple[str, int]:
    """Bracket-aware split at the next ',' (``pbx_strsep``); returns (field, next_start)."""
    square = 0
    i = start
    n = len(s)
    while i < n:
        c = s[i]
        if c == "[":
            square += 1
        elif c == "]":
            if square:
                square -= 1
        elif c == "\\":
            i += 1
        elif c == "," and not square:
            return s[start:i], i + 1
        i += 1
    return s[start:], -1


class _Loader:
    def __init__(self, reader: _Reader, dp: Dialplan):
        self.r = reader
        self.dp = dp

    def load(self) -> None:
        cats = [c for c in self.r.categories if not c.template]
        self.dp.templates = [c.name for c in self.r.categories if c.template]
        for cat in cats:
            if cat.name.lower() == "general":
                for it in map(_as_item, cat.items):
                    self.dp.general[it.name] = Setting(it.name, it.value, it.file, it.line, it.col)
        for cat in cats:
            if cat.name.lower() == "globals":
                for it in map(_as_item, cat.items):
                    value = self._subst_globals(it.value)
                    self.dp.globals[it.name] = Setting(it.name, value, it.file, it.line, it.col)
        for cat in cats:
            if cat.name.lower() in ("general", "globals"):
                continue
            self._context(cat)

    def _pattern_name(self, context: str, ext: str, cid: str | None) -> str:
        """Patterns equal under ext_cmp (``_5xx`` and ``_5XX``, ``_N`` and ``_[2-9]``) are one
        extension: ast_add_extension2 (main/pbx.c) finds the existing one with ext_cmp."""
        return self.r.pattern_names.setdefault((context, sort_key(ext), cid), ext)

    def _subst_globals(self, text: str) -> str:
        if "${" not in text:
            return text
        from toipkit.dialplan.expr import substitute

        return substitute(text, lambda name: (self.dp.globals[name].value
                                              if name in self.dp.globals else ""))

    def _context(self, cat: _Category) -> None:
        ctx = self.dp.contexts.get(cat.name)
        if ctx is None:
            ctx = Context(cat.name, cat.file, cat.line, cat.column)
            self.dp.contexts[cat.name] = ctx
        lastpri = -2
        last_ext: str | None = None
        last_cid: str | None = None
        last_ext_set = False
        name = cat.name
        exts = ctx.extensions
        new_priority = Priority
        for it in cat.items:
            if it.__class__ is tuple:
                # Everyday line: everything but the context's state came from _FAST_PRIO.
                m, file, line = it
                lead, ext, prs, label, app, data, bare = m.groups()
                col = len(lead) + 1
                if ext is not None:
                    keyword, cid = "exten", None
                    if ext[:1] == "_":
                        ext = self._pattern_name(name, ext, None)
                    fast = True
                else:
                    keyword, ext, cid, fast = "same", last_ext, last_cid, last_ext_set
                if fast and prs == "hint":
                    ex = exts.get((ext, cid))
                    if keyword == "exten" and (ex is None or ex.hint is None):
                        start = m.start(5) if app is not None else m.start(7)
                        if ex is None:
                            ex = exts[(ext, cid)] = Extension(ext, cid, name, file, line, col)
                        ex.hint = new_priority(name, ext, cid, HINT, label,
                                               m.string[start:].strip(), "", file, line, col,
                                               "hint", start + 1, keyword, False)
                        lastpri = HINT
                        last_ext, last_cid, last_ext_set = ext, cid, True
                        continue
                elif fast and (prs != "n" or lastpri >= 1):
                    number = lastpri + 1 if prs == "n" else int(prs)
                    ex = exts.get((ext, cid))
                    if ex is None or number not in ex.priorities:
                        if app is None:
                            app, data, parens, start = bare, "", False, m.start(7)
                        else:
                            parens, start = True, m.start(5)
                        p = new_priority(name, ext, cid, number, label, app, data, file, line, col,
                                         prs if label is None else f"{prs}({label})", start + 1,
                                         keyword, parens)
                        if ex is None:
                            ex = exts[(ext, cid)] = Extension(ext, cid, name, file, line, col)
                        ex.priorities[number] = p
                        if label is not None:
                            if label in ex.labels:
                                self.r.warn("duplicate-label", f"label '{label}' already "
                                            f"defined in extension '{ext}'", file, line, col,
                                            context=name, label=label, ext=ext)
                            else:
                                ex.labels[label] = number
                        lastpri = number
                        last_ext, last_cid, last_ext_set = ext, cid, True
                        continue
                it = _as_item(it)  # the general path below says what is wrong
            key = it[0].lower()
            if key == "exten" or key.startswith("same"):
                is_same = key != "exten"
                value = it.value
                if is_same:
                    if not last_ext_set:
                        self.r.error(_("'same =>' sans 'exten =>' avant lui dans ce contexte"),
                                     it.file, it.line, it.col, it.source,
                                     hint=_("commencez l'extension par 'exten => EXT,1,...'"),
                                     asterisk="ERROR: pbx_config.c: No previous pattern in the "
                                     f"first entry of context '{_braces(name)}' to match "
                                     f"'{_braces(it.name)}' at line {{line}} of {{file}}!")
                        continue
                    ext, cid = last_ext, last_cid
                    pri_start = 0
                else:
                    c1 = value.find(",")
                    if c1 >= 0 and "[" not in value[:c1] and "\\" not in value[:c1]:
                        ext = value[:c1]
                        pri_start = c1 + 1
                    else:
                        ext, pri_start = _strsep(value, 0)
                    cid = None
                    slash = ext.find("/")
                    if slash >= 0:
                        cid = shrink_phone_number(ext[slash + 1:])
                        ext = ext[:slash]
                    if "${" in ext:
                        ext = self._subst_globals(ext)
                    if ext[:1] == "_":
                        ext = self._pattern_name(name, ext, cid)
                    # pbx_config remembers the extension for 'same' before checking the rest
                    last_ext, last_cid, last_ext_set = ext, cid, ext != ""
                    if ext == "" or pri_start < 0:
                        self.r.error(_("ligne d'extension incomplète : attendu EXT,PRIORITÉ,App(...)"),
                                     it.file, it.line, it.vcol, it.source,
                                     hint=_("par exemple exten => 100,1,Answer()"))
                        continue
                if pri_start < 0:
                    self.r.error(_("priorité manquante"), it.file, it.line, it.vcol, it.source,
                                 hint=_("par exemple same => n,Hangup()"))
                    continue
                c2 = value.find(",", pri_start)
                if c2 >= 0 and "[" not in value[pri_start:c2] and "\\" not in value[pri_start:c2]:
                    pri_raw = value[pri_start:c2]
                    app_start = c2 + 1
                else:
                    pri_raw, app_start = _strsep(value, pri_start)
                pri = pri_raw.strip()
                pri_text = pri
                label = None
                lp = pri.find("(")
                if lp >= 0:
                    rp = pri.find(")", lp)
                    if rp < 0:
                        self.r.error(_("il manque la ')' fermante du label '{label}'").format(
                            label=pri[lp + 1:]), it.file, it.line, it.col_at(pri_start),
                                     it.source, hint=_("écrivez n(label)"),
                                     asterisk="WARNING: pbx_config.c: Label missing trailing ')' "
                                              "at line {line} of {file}")
                        continue
                    label = pri[lp + 1:rp]
                    pri = pri[:lp]
                plus = 0
                pp = pri.find("+")
                if pp >= 0:
                    plus = _leading_int(pri[pp + 1:]) or 0
                    pri = pri[:pp]
                pri = pri.strip()
                if pri == "hint":
                    number = HINT
                elif pri in ("n", "next"):
                    if lastpri <= -2:
                        self.r.error(_("priorité 'next' impossible sur la première entrée d'un contexte"),
                                     it.file, it.line, it.col_at(pri_start), it.source,
                                     hint=_("la première ligne d'un contexte a besoin de la "
                                            "priorité 1"),
                                     asterisk="WARNING: pbx_config.c: Can't use 'next' priority "
                                              "on the first entry at line {line} of {file}!")
                        continue
                    number = lastpri + 1
                elif pri in ("s", "same"):
                    if lastpri <= -2:
                        self.r.error(_("priorité 'same' impossible sur la première entrée d'un contexte"),
                                     it.file, it.line, it.col_at(pri_start), it.source,
                                     hint=_("la première ligne d'un contexte a besoin de la "
                                            "priorité 1"),
                                     asterisk="WARNING: pbx_config.c: Can't use 'same' priority "
                                              "on the first entry at line {line} of {file}!")
                        continue
                    number = lastpri
                else:
                    found = _leading_int(pri)
                    if found is None:
                        ex = ctx.extensions.get((ext, cid))
                        found = ex.labels.get(pri) if ex is not None else None
                        if found is None:
                            self.r.error(_("priorité/label invalide '{priority}'").format(
                                priority=_clip(pri)), it.file, it.line,
                                         it.col_at(pri_start), it.source,
                                         hint=_("utilisez un nombre >= 1, n, s, hint ou un label "
                                                "défini plus haut dans la même extension"),
                                         asterisk="WARNING: pbx_config.c: Invalid priority/label "
                                         f"'{_braces(pri)}' at line {{line}} of {{file}}")
                            continue
                    elif found < 1:
                        self.r.error(_("priorité invalide '{priority}' (doit être >= 1)").format(
                            priority=pri), it.file, it.line, it.col_at(pri_start), it.source,
                                     hint=_("les priorités commencent à 1"),
                                     asterisk="WARNING: pbx_config.c: Invalid priority "
                                              f"'{_braces(pri)}' at line {{line}} of {{file}}")
                        continue
                    number = found
                if number != HINT:
                    number += plus
                if number == 0:  # 'n' right after a hint: pbx_config drops the line silently
                    self.r.error(_("la priorité 'n' après un hint donne 0 : Asterisk ignore cette ligne"),
                                 it.file, it.line, it.col_at(pri_start), it.source,
                                 hint=_("commencez l'extension par la priorité 1 après son "
                                        "hint"))
                    continue
                appl = value[app_start:] if app_start >= 0 else ""
                self._add(ctx, it, ext, cid, number, label, appl, app_start, pri_text,
                          "same" if is_same else "exten")
                lastpri = number
                last_ext, last_cid, last_ext_set = ext, cid, True
            elif key == "include":
                v = it.value
                parts = v.replace("|", ",").split(",", 1)
                inc_name = parts[0].strip()
                ctx.includes.append(Include(inc_name, parts[1].strip() if len(parts) > 1
                                            else None, name, it.file, it.line, it.vcol))
            elif key == "ignorepat":
                ctx.ignorepats.append(IgnorePattern(it.value, name, it.file, it.line, it.vcol))
            elif key in ("switch", "lswitch", "eswitch"):
                mod, _slash, data = it.value.partition("/")
                ctx.switches.append(Switch(key, mod, data, name, it.file, it.line, it.vcol))
            elif key == "autohints":
                pass
            else:
                self.r.warn("unknown-directive", _("directive '{name}' inconnue dans le contexte "
                                                 "[{context}], ignorée").format(
                                name=it.name, context=name), it.file, it.line, it.col,
                            hint=_("utilisez exten =>, same =>, include =>, switch => ou "
                                   "ignorepat =>"),
                            context=name)

    def _add(self, ctx, it, ext, cid, number, label, appl, app_start, pri_text, keyword):
        # Application: name up to the first '(', data up to the last ')'.
        lead = len(appl) - len(appl.lstrip())
        a = appl.strip()
        app_col = it.col_at(app_start + lead) if app_start >= 0 else it.vcol
        has_parens = True
        lpar = a.find("(")
        if number == HINT:
            app, data, has_parens = a, "", False  # a hint's text is not App(data)
        elif lpar < 0:
            app, data = a, ""
            has_parens = False
        else:
            head = a[:lpar]
            if "${" in head or "$[" in head:
                app, data = a, ""
            else:
                app = head  # leading blanks were stripped; trailing ones stay, as in Asterisk
                rpar = a.rfind(")")
                if rpar < lpar:
                    self.r.warn("no-closing-paren", "no closing parenthesis found? (Asterisk "
                                "keeps the rest as the arguments)", it.file, it.line, app_col,
                                hint="add the missing ')'", context=ctx.name)
                    data = a[lpar + 1:]
                else:
                    data = a[lpar + 1:rpar]
        p = Priority(ctx.name, ext, cid, number, label, app, data, it.file, it.line, it.col,
                     pri_text, app_col, keyword, has_parens)
        key = (ext, cid)
        ex = ctx.extensions.get(key)
        if ex is None:
            ex = Extension(ext, cid, ctx.name, it.file, it.line, it.col)
            ctx.extensions[key] = ex
        if number == HINT:
            if ex.hint is not None:
                self.r.warn("duplicate-hint", f"extension '{ext}' already has a hint",
                            it.file, it.line, it.col, context=ctx.name, ext=ext)
                return
            ex.hint = p
            return
        old = ex.priorities.get(number)
        if old is not None:
            self.r.warn("duplicate-priority",
                        f"unable to register extension '{ext}' priority {number} in "
                        f"'{ctx.name}', already in use (line {old.line})", it.file, it.line,
                        it.col, hint="give this line another priority, or use 'n'",
                        context=ctx.name, ext=ext, prio=number, other=old.line)
            return
        ex.priorities[number] = p
        if label is not None:
            if label in ex.labels:
                self.r.warn("duplicate-label", f"label '{label}' already defined in extension "
                            f"'{ext}'", it.file, it.line, it.col, context=ctx.name, label=label,
                            ext=ext)
            else:
                ex.labels[label] = number


_PRAGMA = re.compile(r";+\s*toipkit:\s*(.*)$")
_PRAGMA_ITEM = re.compile(r"([A-Za-z]+)\s*=\s*([^\s;]+)")


def _leading_int(s: str) -> int | None:
    """``sscanf("%d")``: optional sign and leading digits, else None."""
    s = s.lstrip()
    i = 0
    if s[:1] in ("+", "-"):
        i = 1
    j = i
    while j < len(s) and s[j].isdigit() and s[j].isascii():
        j += 1
    if j == i or j - i > 30:  # %30d; longer numbers overflow an int anyway
        return None
    value = int(s[:j])
    return value if -2**31 <= value < 2**31 else None  # beyond an int: not a priority


def _read(path: Path) -> str:
    """File text: UTF-8, or Latin-1 (byte for byte, as Asterisk reads bytes) when not UTF-8."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def parse(text: str, filename: str | os.PathLike | None = None, lenient: bool = False) -> Dialplan:
    """Parse ``extensions.conf`` text.

    ``filename`` is used for positions and to resolve ``#include`` (relative to its folder;
    to the current folder without it). In ``lenient`` mode errors are collected in
    ``Dialplan.errors`` instead of raised.
    """
    if not isinstance(text, str):
        raise TypeError("parse() expects the text of extensions.conf; use parse_file() for a path")
    name = str(filename) if filename is not None else "<string>"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate: no file can hold it
        line = text.count("\n", 0, exc.start) + 1
        column = exc.start - (text.rfind("\n", 0, exc.start) + 1) + 1
        raise DialplanSyntaxError(
            _("le caractère U+{code} est un demi-code de substitution isolé (surrogate), pas "
              "de l'Unicode valide").format(code=f"{ord(text[exc.start]):04X}"),
            file=name, line=line, column=column,
            hint=_("le texte a sans doute été mal décodé ; lisez le fichier avec "
                   "parse_file()")) from None
    dp = Dialplan()
    reader = _Reader(lenient, dp)
    basedir = Path(filename).parent if filename is not None else Path.cwd()
    if filename is not None:
        reader.stack.append(os.path.realpath(str(filename)))
    # Many small objects: the cyclic GC would rescan them again and again (they hold no cycles
    # worth collecting while we build), so pause it.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        reader.read_text(text, name, basedir)
        _Loader(reader, dp).load()
        # Free the per-line records while the GC is off: otherwise its first pass after we
        # turn it back on walks every one of them once more.
        reader.categories.clear()
        reader.by_name.clear()
        reader.current = None
    finally:
        if gc_was_enabled:
            gc.enable()
    order = {f: i for i, f in enumerate(dp.files)}
    dp.errors.sort(key=lambda e: (order.get(e.file, len(order)), e.line or 0, e.column or 0))
    dp.issues.sort(key=lambda e: (order.get(e.file, len(order)), e.line or 0, e.column or 0))
    return dp


def parse_file(path: str | os.PathLike, lenient: bool = False) -> Dialplan:
    """Parse an ``extensions.conf`` file (and the files it ``#include``\\ s)."""
    p = Path(path)
    if p.exists() and not p.is_file():
        raise DialplanSyntaxError(_("impossible de lire le dialplan : ce n'est pas un fichier "
                                    "ordinaire"), file=str(p),
                                  hint=_("donnez le chemin de extensions.conf"))
    if p.is_file() and p.stat().st_size > _MAX_FILE_BYTES:
        raise DialplanSyntaxError(_("impossible de lire le dialplan : plus de {size} Mio").format(
            size=_MAX_FILE_BYTES // 2**20), file=str(p))
    try:
        text = _read(p)
    except OSError as exc:
        raise DialplanSyntaxError(_("impossible de lire le dialplan : {error}").format(
            error=exc.strerror or exc), file=str(p), hint=_("vérifiez le chemin")) from exc
    return parse(text, filename=str(p), lenient=lenient)


def _braces(text: str) -> str:
    """``text`` inside a ``str.format`` template, as is."""
    return text.replace("{", "{{").replace("}", "}}")


class LoadError(DialplanSyntaxError):
    """A line Asterisk rejects while loading. ``asterisk``: what Asterisk logs for it, in its
    words (``WARNING: pbx_config.c: Can't use 'next' priority on the first entry at line 2 of
    extensions.conf!``), None when it says nothing; ``fatal``: Asterisk then loads nothing of the
    file (its config layer refuses it)."""

    asterisk: str | None = None
    fatal: bool = False


def _clip(text: str, width: int = 40) -> str:
    """A piece of the user's text short enough for a message."""
    return text if len(text) <= width else text[:width] + "…"
