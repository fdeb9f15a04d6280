"""One error family for the whole library.

Every error says what is wrong, where, and (when we know) what to do about it.
"""

from __future__ import annotations


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
            text += f"\n  hint: {self.hint}"
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
            parts.append(f"frame {frame}")
        if offset is not None:
            parts.append(f"offset {offset}")
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
        text = f"HTTP {status}"
        if method and url:
            text += f" on {method} {url}"
        if self.messages:
            text += ": " + "; ".join(self.messages)
        if hint:
            text += f" ({hint})"
        super().__init__(text)


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
