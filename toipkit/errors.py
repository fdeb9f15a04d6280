"""One error family for the whole library.

Every error says what is wrong, where, and (when we know) what to do about it.
"""

from __future__ import annotations

from toipkit.i18n import N_, _


class ToipkitError(Exception):
    """Base class of every error raised on purpose by toipkit."""


class DialplanSyntaxError(ToipkitError):
    """An ``extensions.conf`` that cannot be parsed: file, line, column, the line, a hint."""

    def __init__(
        self,
        message: str,
        file: str | None = None,
        line: int | None = None,
        column: int | None = None,
        source_line: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.file = file
        self.line = line
        self.column = column
        self.source_line = source_line
        self.hint = hint
        super().__init__(self._render())

    def _render(self) -> str:
        where = f"{self.file or '<string>'}:{self.line or '?'}"
        if self.column:
            where += f":{self.column}"
        text = f"{where}: {self.message}"
        if self.source_line is not None:
            text += f"\n    {self.source_line}"
            if self.column:
                text += "\n    " + " " * (self.column - 1) + "^"
        if self.hint:
            text += "\n  " + _("conseil : {hint}").format(hint=self.hint)
        return text


class CaptureFormatError(ToipkitError):
    """A capture file that cannot be read: frame number and/or byte offset of the problem."""

    def __init__(
        self, message: str, frame: int | None = None, offset: int | None = None,
        path: str | None = None,
    ) -> None:
        self.message = message
        self.frame = frame
        self.offset = offset
        self.path = path
        parts = []
        if path:
            parts.append(str(path))
        if frame is not None:
            parts.append(_("trame {n}").format(n=frame))
        if offset is not None:
            parts.append(_("octet {n}").format(n=offset))
        prefix = ", ".join(parts)
        super().__init__(f"{prefix}: {message}" if prefix else message)


class XivoAPIError(ToipkitError):
    """An HTTP error from XiVO (or the sandbox): status code and confd's messages."""

    def __init__(
        self, status: int, messages: list[str] | None = None, method: str | None = None,
        url: str | None = None, hint: str | None = None,
    ) -> None:
        self.status = status
        self.messages = list(messages or [])
        self.method = method
        self.url = url
        self.hint = hint
        super().__init__(self._render())

    def _render(self) -> str:
        # A French sentence (student's language); the server's own words stay as they are.
        meaning = _(_HTTP_MEANINGS.get(self.status)
                    or _HTTP_MEANINGS.get(self.status // 100 * 100, _HTTP_MEANINGS[200]))
        if self.method and self.url:
            text = _("{method} {url} refusé par le serveur : HTTP {status}, {meaning}").format(
                method=self.method, url=self.url, status=self.status, meaning=meaning)
        else:
            text = _("Refusé par le serveur : HTTP {status}, {meaning}").format(
                status=self.status, meaning=meaning)
        if self.messages:
            text += " (" + _("message du serveur : {messages}").format(
                messages="; ".join(self.messages)) + ")"
        if self.hint:
            text += ". " + self.hint
        return text


# What an HTTP status means for the one who sent the request (translated when shown).
_HTTP_MEANINGS = {
    400: N_("données refusées"),
    401: N_("authentification refusée"),
    403: N_("droits insuffisants"),
    404: N_("introuvable"),
    409: N_("conflit avec ce qui existe déjà"),
    500: N_("erreur du serveur"),
    300: N_("redirection inattendue"),
    200: N_("réponse inattendue"),
}


class CSVImportError(ToipkitError):
    """A CSV import refused as a whole; ``rows`` maps row numbers to what is wrong."""

    def __init__(self, message: str, rows: dict[int, list[str]] | None = None) -> None:
        self.message = message
        self.rows = dict(rows or {})
        detail = "; ".join(f"row {n}: {', '.join(errs)}" for n, errs in sorted(self.rows.items()))
        super().__init__(f"{message}: {detail}" if detail else message)


class TTSError(ToipkitError):
    """Speech synthesis or audio conversion failed."""


class GradingError(ToipkitError):
    """A grading run could not be set up (bad submission folder, unknown lab, ...)."""


class CourseError(ToipkitError):
    """A course notebook breaks a convention (parameters cell, kernelspec, lab id, sync)."""
