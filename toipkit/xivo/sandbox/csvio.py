"""Users CSV import (all-or-nothing) and export, with confd 16.x columns and error format.

- ``POST /users/import``: every row is attempted (each in a SAVEPOINT so a failed row leaves no
  trace that could confuse later rows); if any row fails the whole transaction is rolled back and
  the answer is 400 ``{"errors": [{message, timestamp, details: {row, row_number}}]}``; otherwise
  201 ``{"created": [...]}``.
- ``PUT /users/import``: mass update keyed by ``uuid`` (201 ``{"updated": [...]}``, as 16.13).
- ``GET /users/export``: CSV (``Accept: text/csv``) in 16.13's column order, or
  ``{"headers", "content"}`` when only JSON is accepted.
"""

from __future__ import annotations

import csv
import io
import time
from typing import Any

from toipkit.xivo.sandbox import confd as C
from toipkit.xivo.sandbox import schema as S
from toipkit.xivo.sandbox.http import Request, Response
from toipkit.xivo.sandbox.schema import ApiError
from toipkit.xivo.sandbox.store import Tx

EXPORT_COLUMNS = (
    "uuid", "entity_id", "firstname", "lastname", "email", "mobile_phone_number",
    "outgoing_caller_id", "language", "call_permission_password", "enabled", "ring_seconds",
    "simultaneous_calls", "supervision_enabled", "call_transfer_enabled", "dtmf_hangup_enabled",
    "call_record_enabled", "online_call_record_enabled", "userfield", "username", "password",
    "cti_profile_name", "cti_profile_enabled", "voicemail_name", "voicemail_number",
    "voicemail_context", "voicemail_password", "voicemail_email", "voicemail_attach_audio",
    "voicemail_delete_messages", "voicemail_ask_password", "line_protocol", "provisioning_code",
    "context", "sip_username", "sip_secret", "exten", "incall_exten", "incall_context",
    "call_permissions",
)

USER_COLUMNS = (
    "firstname", "lastname", "email", "language", "mobile_phone_number", "outgoing_caller_id",
    "enabled", "supervision_enabled", "call_transfer_enabled", "dtmf_hangup_enabled",
    "call_record_enabled", "online_call_record_enabled", "simultaneous_calls", "ring_seconds",
    "call_permission_password", "userfield", "username", "password", "timezone", "description",
)
VOICEMAIL_COLUMNS = ("voicemail_name", "voicemail_number", "voicemail_context")


class RowError(Exception):
    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


def _convert(field: S.Field, raw: str) -> Any:
    if field.type == "bool":
        if raw not in ("0", "1"):
            raise RowError(f"Input Error - {field.name}: ['Not a valid boolean.']")
        return raw == "1"
    if field.type == "int":
        if not S.is_digits(raw):
            raise RowError(f"Input Error - {field.name}: ['Not a valid integer.']")
        return int(raw)
    return raw


def _cell(row: dict[str, str], name: str) -> str | None:
    value = row.get(name)
    if value is None:
        return None
    value = value.strip()
    return value or None


def _user_body(row: dict[str, str]) -> dict:
    body: dict[str, Any] = {}
    for name in USER_COLUMNS:
        raw = _cell(row, name)
        if raw is not None:
            body[name] = _convert(S.USER.by_name[name], raw)
    return body


def _decode(req: Request) -> list[dict[str, str]]:
    if req.content_type() != "text/csv":
        raise ApiError(415, f"Bad Content-Type '{req.content_type() or '(none)'}': "
                            "expected 'text/csv; charset=utf-8'")
    try:
        text = req.body.decode(req.charset())
    except (UnicodeDecodeError, LookupError) as exc:
        raise ApiError(400, f"Input Error - cannot decode the CSV body: {exc}") from None
    text = text.lstrip("\ufeff")
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        raise ApiError(400, "Input Error - the CSV body has no header row")
    return [{k: (v or "") for k, v in row.items() if k is not None} for row in reader]


def _row_error(message: str, row: dict, row_number: int) -> dict:
    return {"message": message, "timestamp": int(time.time()),
            "details": {"row": row, "row_number": row_number}}


def _entity_id(tx: Tx, row: dict[str, str]) -> int | None:
    entity = _cell(row, "entity_id")
    if entity is None:
        return None
    if not S.is_id(entity) or tx.get("entity", int(entity)) is None:
        raise RowError(f"Input Error - field 'entity_id': Entity was not found "
                       f"('id': {entity!r})")
    return int(entity)


def _sip_for_row(tx: Tx, row: dict[str, str]) -> dict:
    """confd 16.13 reuses an existing SIP endpoint named in ``sip_username`` (if free)."""
    username = _cell(row, "sip_username")
    if username:
        existing = tx.find("endpoint_sip", username=username)
        if existing:
            line_id = C._line_of_sip(tx, existing[0]["id"])
            if line_id is not None:
                raise RowError(f"Resource Error - Line is associated with a Endpoint "
                               f"('line_id': {line_id}, 'endpoint_id': {existing[0]['id']})")
            return existing[0]
    body = {k: v for k, v in (("username", username),
                              ("secret", _cell(row, "sip_secret"))) if v}
    return C.create_sip_doc(tx, body)


def _extension_for_row(tx: Tx, exten: str, context: str) -> dict:
    """An existing extension with this number is reused (confd 16.13 associates it)."""
    existing = tx.find("extension", exten=exten, context=context)
    if existing:
        return existing[0]
    return C.create_extension_doc(tx, {"exten": exten, "context": context})


def _add_incall(tx: Tx, row: dict[str, str], user: dict) -> int | None:
    """An incall to the user for the ``incall_*`` columns; its extension id."""
    incall_exten, incall_context = _cell(row, "incall_exten"), _cell(row, "incall_context")
    if not (incall_exten and incall_context):
        return None
    ring = _cell(row, "incall_ring_seconds")
    if ring is not None and not S.is_digits(ring):
        raise RowError("Input Error - incall_ring_seconds: ['Not a valid integer.']")
    ext = _extension_for_row(tx, incall_exten, incall_context)
    ctx = C.require_context(tx, incall_context)
    if ctx["type"] != "incall":
        raise RowError(C.context_type_error(ctx, ext).messages[0])
    C._check_extension_free(tx, ext)
    dest = {"type": "user", "user_id": user["id"], "ring_time": int(ring) if ring else None}
    incall_id = tx.insert("incall", {**S.INCALL.load_create({"destination": dest})})
    tx.link(C.R_INCALL_EXT, incall_id, ext["id"])
    return ext["id"]


def _user_incall(tx: Tx, user_id: int) -> tuple[dict, dict] | None:
    """(incall, extension) of the first incall that rings this user."""
    for inc in tx.all("incall"):
        dest = inc.get("destination") or {}
        if dest.get("type") == "user" and dest.get("user_id") == user_id:
            for ext_id in tx.targets(C.R_INCALL_EXT, inc["id"]):
                ext = tx.get("extension", ext_id)
                if ext is not None:
                    return inc, ext
    return None


def _import_row(tx: Tx, row: dict[str, str], row_number: int) -> dict:
    entity_id = _entity_id(tx, row)
    if all(_cell(row, c) for c in VOICEMAIL_COLUMNS):
        raise RowError("Input Error - voicemails are not supported by the toipkit sandbox")
    if _cell(row, "call_permissions"):
        raise RowError("Input Error - call permissions are not supported by the toipkit sandbox")
    result: dict[str, Any] = {
        "row_number": row_number, "user_id": None, "user_uuid": None, "voicemail_id": None,
        "line_id": None, "sip_id": None, "sccp_id": None, "extension_id": None,
        "incall_extension_id": None, "cti_profile_id": None, "call_permission_ids": [],
    }
    user = C.create_user_doc(tx, _user_body(row), entity_id=entity_id)
    result["user_id"], result["user_uuid"] = user["id"], user["uuid"]
    context, protocol = _cell(row, "context"), _cell(row, "line_protocol")
    line = None
    if context and protocol:
        if protocol != "sip":
            raise RowError(f"Input Error - line_protocol: '{protocol}' is not supported by the "
                           "toipkit sandbox (only 'sip')")
        line = C.create_line_doc(tx, {"context": context})
        sip = _sip_for_row(tx, row)
        C.associate_line_sip(tx, line, sip)
        result["line_id"], result["sip_id"] = line["id"], sip["id"]
    exten = _cell(row, "exten")
    if exten and context:
        ext = _extension_for_row(tx, exten, context)
        result["extension_id"] = ext["id"]
        if line is not None:
            C.associate_line_extension(tx, line, ext)
    if line is not None:
        C.associate_user_line(tx, user, line)
    result["incall_extension_id"] = _add_incall(tx, row, user)
    return result


def _run_rows(tx: Tx, rows: list[dict[str, str]], fn) -> tuple[list[dict], list[dict]]:
    done, errors = [], []
    for number, row in enumerate(rows, start=1):
        tx.conn.execute("SAVEPOINT csv_row")
        try:
            done.append(fn(tx, row, number))
        except (ApiError, RowError) as exc:
            tx.conn.execute("ROLLBACK TO SAVEPOINT csv_row")
            tx.forget_all()
            message = exc.message if isinstance(exc, RowError) else "; ".join(exc.messages)
            errors.append(_row_error(message, row, number))
        finally:
            tx.conn.execute("RELEASE SAVEPOINT csv_row")
    return done, errors


@C.router.route("POST", "/users/import", summary="Import users from CSV (all-or-nothing)")
def import_users(req: Request) -> Response:
    return _apply_csv(req, _import_row, "created")


def _update_row(tx: Tx, row: dict[str, str], row_number: int) -> dict:
    uuid = _cell(row, "uuid")
    if not uuid:
        raise RowError("Input Error - uuid: ['Missing data for required field.']")
    user = tx.get_by_uuid("user", uuid)
    if user is None:
        raise RowError(f"Resource Not Found - User was not found ('uuid': '{uuid}')")
    entity_id = _entity_id(tx, row)
    body: dict[str, Any] = {}
    for name in USER_COLUMNS:
        if name in row:  # columns absent from the header are not touched; "" unsets
            raw = _cell(row, name)
            body[name] = None if raw is None else _convert(S.USER.by_name[name], raw)
    doc = S.USER.load_update(body, user)
    if entity_id is not None:
        doc["_entity_id"] = entity_id
    C._check_user_unique(tx, doc, user)
    tx.update("user", user["id"], doc)
    result: dict[str, Any] = {"row_number": row_number, "user_id": user["id"],
                              "user_uuid": user["uuid"], "line_id": None, "sip_id": None,
                              "extension_id": None, "incall_extension_id": None}
    lines = C._user_lines(tx, user["id"])
    line = tx.get("line", lines[0]) if lines else None
    protocol = _cell(row, "line_protocol")
    if line is not None and protocol and protocol != "sip":
        raise RowError(f"Input Error - endpoint: the line protocol cannot be changed "
                       f"to '{protocol}'")
    if line is None and protocol:  # confd 16.13 adds the line to an existing user
        if protocol != "sip":
            raise RowError(f"Input Error - line_protocol: '{protocol}' is not supported by "
                           "the toipkit sandbox (only 'sip')")
        context = _cell(row, "context") or _first_internal_context(tx)
        line = C.create_line_doc(tx, {"context": context})
        sip = _sip_for_row(tx, row)
        C.associate_line_sip(tx, line, sip)
        C.associate_user_line(tx, user, line)
        result["line_id"], result["sip_id"] = line["id"], sip["id"]
    elif line is not None:
        result["line_id"] = line["id"]
        current_sip = C._line_sip(tx, line["id"])
        if current_sip is not None:
            new_sip = C._body(current_sip, S.ENDPOINT_SIP)
            problems = []
            for column, key in (("sip_username", "username"), ("sip_secret", "secret")):
                if column not in row:
                    continue
                value = _cell(row, column)
                if value is None:  # an empty cell would blank the account: confd refuses
                    problems.append(f"Input Error - {key}: ['Field may not be null.']")
                    continue
                try:
                    new_sip[key] = S.ENDPOINT_SIP.by_name[key].check(value)
                except ApiError as exc:
                    problems.extend(exc.messages)
            if problems:
                raise RowError("; ".join(problems))
            C._check_sip_unique(tx, new_sip["username"], current_sip["id"])
            tx.update("endpoint_sip", current_sip["id"], new_sip)
            result["sip_id"] = current_sip["id"]
        exten = _cell(row, "exten")
        if exten:
            exts = C._extensions_of(tx, C.R_LINE_EXT, line["id"])
            if exts:
                doc_ext = {"exten": exten, "context": exts[0]["context"],
                           "commented": exts[0].get("commented", False)}
                if exten != exts[0]["exten"]:
                    C._check_extension(tx, doc_ext, exts[0]["id"])
                    C.check_typed_range(tx, doc_ext, "user_ranges", "user")
                    tx.update("extension", exts[0]["id"], doc_ext)
                result["extension_id"] = exts[0]["id"]
            else:
                ext = _extension_for_row(tx, exten, _cell(row, "context") or line["context"])
                C.associate_line_extension(tx, line, ext)
                result["extension_id"] = ext["id"]
    result["incall_extension_id"] = _update_incall(tx, row, user)
    return result


def _first_internal_context(tx: Tx) -> str:
    for ctx in tx.all("context"):
        if ctx["type"] == "internal":
            return ctx["name"]
    raise RowError("Input Error - context: ['Missing data for required field.']")


def _update_incall(tx: Tx, row: dict[str, str], user: dict) -> int | None:
    """``incall_*`` columns on an update: renumber the user's incall, or add one."""
    exten, context = _cell(row, "incall_exten"), _cell(row, "incall_context")
    if not (exten and context):
        return None
    current = _user_incall(tx, user["id"])
    if current is None:
        return _add_incall(tx, row, user)
    incall, ext = current
    ring = _cell(row, "incall_ring_seconds")
    if ring is not None:
        if not S.is_digits(ring):
            raise RowError("Input Error - incall_ring_seconds: ['Not a valid integer.']")
        dest = {**incall["destination"], "ring_time": int(ring)}
        tx.update("incall", incall["id"], {**C._body(incall, S.INCALL), "destination": dest})
    if (exten, context) != (ext["exten"], ext["context"]):
        ctx = C.require_context(tx, context)
        if ctx["type"] != "incall":
            raise RowError(C.context_type_error(ctx, ext).messages[0])
        doc = {"exten": exten, "context": context, "commented": ext.get("commented", False)}
        C._check_extension(tx, doc, ext["id"])
        tx.update("extension", ext["id"], doc)
    return ext["id"]


@C.router.route("PUT", "/users/import", summary="Update users from CSV (uuid column)")
def update_users(req: Request) -> Response:
    return _apply_csv(req, _update_row, "updated")


def _apply_csv(req: Request, row_function, result_key: str) -> Response:
    """Run every CSV row; any error rolls the whole request back (confd's all-or-nothing)."""
    tx = req.tx
    assert tx is not None
    done, errors = _run_rows(tx, _decode(req), row_function)
    if errors:
        tx.rollback_only = True
        return Response(400, {"errors": errors})
    return Response(201, {result_key: done})


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def export_rows(tx: Tx) -> list[dict[str, str]]:
    rows = []
    incalls_by_user: dict[int | None, list[tuple[str, str]]] = {}
    exts = tx.by_id("extension")
    for inc in tx.all("incall"):
        dest = inc.get("destination") or {}
        if dest.get("type") == "user":
            for ext_id in tx.targets(C.R_INCALL_EXT, inc["id"]):
                if ext_id in exts:
                    incalls_by_user.setdefault(dest.get("user_id"), []).append(
                        (exts[ext_id]["exten"], exts[ext_id]["context"]))
    entities = tx.all("entity")
    default_entity = entities[0]["id"] if entities else 1
    for user in sorted(tx.all("user"), key=lambda u: u["id"]):
        row = {c: "" for c in EXPORT_COLUMNS}
        row["uuid"] = user["uuid"]
        row["entity_id"] = str(user.get("_entity_id") or default_entity)
        for name in USER_COLUMNS:
            if name in row:
                row[name] = _csv_value(user.get(name))
        row["cti_profile_enabled"] = "0"
        lines = C._user_lines(tx, user["id"])
        if lines:
            line = tx.get("line", lines[0])
            assert line is not None
            sip = C._line_sip(tx, line["id"])
            row["line_protocol"] = "sip" if sip else ""
            row["provisioning_code"] = _csv_value(line.get("provisioning_code"))
            row["context"] = line["context"]
            if sip:
                row["sip_username"] = sip["username"]
                row["sip_secret"] = sip["secret"]
            line_exts = C._extensions_of(tx, C.R_LINE_EXT, line["id"])
            if line_exts:
                row["exten"] = line_exts[0]["exten"]
        incalls = incalls_by_user.get(user["id"], [])
        row["incall_exten"] = ";".join(e for e, _c in incalls)
        row["incall_context"] = ";".join(c for _e, c in incalls)
        rows.append(row)
    return rows


@C.router.route("GET", "/users/export", summary="Export users as CSV")
def export_users(req: Request) -> Response:
    tx = req.tx
    assert tx is not None
    rows = export_rows(tx)
    if req.accepts("application/json") and not req.accepts("text/csv"):
        return Response(200, {"headers": list(EXPORT_COLUMNS), "content": rows})
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(EXPORT_COLUMNS), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    # errors="replace": a lone surrogate stored by an older sandbox must not break the export
    return Response(200, out.getvalue().encode("utf-8", errors="replace"),
                    content_type="text/csv; charset=utf-8")
