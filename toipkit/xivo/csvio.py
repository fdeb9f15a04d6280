"""Users CSV import/export (confd ``/users/import`` and ``/users/export``).

The import is all-or-nothing: when one row is wrong confd creates nothing and reports every
failing row; :func:`import_users` turns that into :class:`toipkit.errors.CSVImportError` whose
``rows`` maps the 1-based data row number to its messages.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from toipkit.errors import CSVImportError, XivoAPIError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from toipkit.xivo.resources import Users

#: Columns of the 16.13 export that a re-import does not need: provisioning data and internal
#: codes/ids (the server makes new ones), plus the secrets.
INTERNAL_COLUMNS = (
    "uuid", "entity_id", "provisioning_code", "sip_username", "sip_secret", "username",
    "password", "cti_profile_name", "cti_profile_enabled", "call_permission_password",
    "voicemail_password",
)


@dataclass
class ImportResult:
    """What ``POST /users/import`` created: one entry per row (``row_number``, ids...)."""

    created: list[dict[str, Any]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.created)

    def __repr__(self) -> str:
        return f"ImportResult(created={len(self.created)} rows)"

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(self.created)


def to_csv_text(rows: Any) -> str:
    """CSV text (comma, ``"`` quoting, header line) from a DataFrame or a list of dicts."""
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover
        pd = None
    if pd is not None and isinstance(rows, pd.DataFrame):
        frame = rows.astype(object).where(rows.notna(), "")
        frame = frame.map(_cell) if hasattr(frame, "map") else frame.applymap(_cell)
        return frame.to_csv(index=False, lineterminator="\n")
    rows = [dict(r) for r in rows]
    header: list[str] = []
    for row in rows:
        for key in row:
            if key not in header:
                header.append(key)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(v) for k, v in row.items()})
    return buf.getvalue()


def _cell(value: Any) -> Any:
    """CSV cell of the confd format: booleans as 1/0, None as empty."""
    if value is None:
        return ""
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return "1" if value else "0"
    return value


def read_csv_text(text: str) -> pd.DataFrame:
    """A CSV export as a DataFrame of strings (empty cells stay empty strings)."""
    import pandas as pd

    return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)


def drop_internal_columns(frame: pd.DataFrame,
                          columns: Iterable[str] = INTERNAL_COLUMNS) -> pd.DataFrame:
    """The export without provisioning/internal-code columns (those present are dropped)."""
    return frame.drop(columns=[c for c in columns if c in frame.columns])


def import_users(users: Users, data: Any, *, encoding: str = "utf-8",
                 timeout: float = 300.0, method: str = "POST") -> ImportResult:
    """POST CSV (text, bytes, DataFrame or list of dicts) to ``/users/import``.

    Raises :class:`CSVImportError` (nothing was created) with the failing rows.
    """
    if isinstance(data, bytes):
        raw = data
    else:
        raw = _encode(data if isinstance(data, str) else to_csv_text(data), encoding)
    users._require()
    try:
        resp = users._client.request(
            method, "users/import", content=raw, timeout=timeout,
            headers={"Content-Type": f"text/csv; charset={encoding}"},
        )
    except XivoAPIError as exc:
        rows = _error_rows(exc)
        if rows:
            n = len(rows)
            raise CSVImportError(
                f"CSV import refused, nothing was created ({n} row{'s' if n > 1 else ''} in error)",
                rows,
            ) from None
        raise
    body = resp.json() if resp.content else {}
    return ImportResult(created=[dict(c) for c in
                                 (body.get("created") or body.get("updated") or [])])


def _encode(text: str, encoding: str) -> bytes:
    """The CSV text in ``encoding``; a character it cannot hold is a row error, not a crash."""
    try:
        return text.encode(encoding)
    except LookupError:
        raise CSVImportError(f"unknown encoding {encoding!r}", {}) from None
    except UnicodeEncodeError as exc:
        row = text.count("\n", 0, exc.start)  # the header is line 0: data rows count from 1
        char = text[exc.start]
        raise CSVImportError(
            f"CSV import refused, nothing was sent: {char!r} cannot be written in {encoding}",
            {row: [f"le caractère {char!r} n'existe pas en {encoding} "
                   "(utilisez encoding=\"utf-8\")"]},
        ) from None


def _decode_for_count(data: bytes) -> str:
    """Bytes of unknown encoding, decoded well enough to count the CSV rows."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")  # every byte is a latin-1 character


def _error_rows(exc: XivoAPIError) -> dict[int, list[str]]:
    rows: dict[int, list[str]] = {}
    for message in exc.messages:
        if message.startswith("row ") and ": " in message:
            head, _, text = message.partition(": ")
            try:
                rows.setdefault(int(head[4:]), []).append(text)
                continue
            except ValueError:
                pass
    return rows


def missing_rows(frame: pd.DataFrame, existing: Iterable[Mapping[str, Any]],
                 keys: tuple[str, ...] = ("firstname", "lastname")) -> pd.DataFrame:
    """The rows of ``frame`` whose ``keys`` match no existing user (for re-runnable imports)."""
    have = {tuple(str(u.get(k) or "") for k in keys) for u in existing}
    mask = [tuple(str(r.get(k) or "") for k in keys) not in have
            for r in frame.to_dict("records")]
    return frame[mask].reset_index(drop=True)


@dataclass
class ImportOutcome:
    """The verdict of one import attempt, for notebooks (never raises, never shows secrets)."""

    attempted: int
    created: int
    rows: dict[int, list[str]] = field(default_factory=dict)
    message: str = ""

    @property
    def ok(self) -> bool:
        return not self.rows and not self.message

    def __str__(self) -> str:
        if self.ok:
            if not self.attempted:
                return "Rien à importer : tous ces utilisateurs existent déjà."
            return f"✅ Import réussi : {self.created} utilisateur(s) créé(s)."
        lines = ["❌ Import refusé : rien n'a été créé (tout ou rien)."]
        if self.message:
            lines.append(f"   {self.message}")
        for number, errors in sorted(self.rows.items()):
            for err in errors:
                lines.append(f"   ligne {number} : {err}")
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_markdown_(self) -> str:
        return "```\n" + str(self) + "\n```"


def import_report(users: Users, data: Any, *, encoding: str = "utf-8") -> ImportOutcome:
    """Try :func:`import_users` and describe the outcome (0 rows: nothing sent). Never
    raises for bad data: undecodable bytes, unencodable text and refused rows are reported."""
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover
        pd = None
    if pd is not None and isinstance(data, pd.DataFrame):
        attempted = len(data)
    elif isinstance(data, (str, bytes)):
        text = _decode_for_count(data) if isinstance(data, bytes) else data
        attempted = max(len(list(csv.reader(io.StringIO(text)))) - 1, 0)
    else:
        data = list(data)
        attempted = len(data)
    if attempted == 0:
        return ImportOutcome(0, 0)
    try:
        result = import_users(users, data, encoding=encoding)
    except CSVImportError as exc:
        return ImportOutcome(attempted, 0, dict(exc.rows), "" if exc.rows else str(exc))
    except XivoAPIError as exc:
        return ImportOutcome(attempted, 0, {}, "; ".join(exc.messages) or str(exc))
    return ImportOutcome(attempted, len(result.created))
