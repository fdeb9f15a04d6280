"""Association rules and factories: which object owns an extension, lines of a user, users of
a line, member lists, and the route factories for ``/{owner}/{id}/extensions/{ext}``,
``/fallbacks`` and ``/schedules/{id}``.
"""

from __future__ import annotations

from typing import Any

from toipkit.xivo.sandbox import schema as S
from toipkit.xivo.sandbox.confd.common import (
    EXT_OWNERS,
    NAMES,
    R_INCALL_EXT,
    R_LINE_EXT,
    R_LINE_SIP,
    R_USER_LINE,
    _ext_ref,
    _tx,
    get_or_404,
    get_user,
    router,
)
from toipkit.xivo.sandbox.confd.ranges import check_typed_range, require_context
from toipkit.xivo.sandbox.http import Request, Response, no_content
from toipkit.xivo.sandbox.schema import ApiError
from toipkit.xivo.sandbox.store import Tx


def _extensions_of(tx: Tx, rel: str, owner_id: int) -> list[dict]:
    exts = tx.ids("extension")
    return [exts[e] for e in tx.targets(rel, owner_id) if e in exts]


def _owner_of_extension(tx: Tx, ext_id: int) -> tuple[str, int] | None:
    for rel, label in EXT_OWNERS:
        owners = tx.sources(rel, ext_id)
        if owners:
            return label, owners[0]
    return None


def _user_lines(tx: Tx, user_id: int) -> list[int]:
    return tx.targets(R_USER_LINE, user_id)  # ordered by position: main line first


def _user_main_extension(tx: Tx, user_id: int) -> dict | None:
    for line_id in _user_lines(tx, user_id):
        exts = _extensions_of(tx, R_LINE_EXT, line_id)
        if exts:
            return exts[0]
    return None


def _line_of_sip(tx: Tx, sip_id: int) -> int | None:
    lines = tx.sources(R_LINE_SIP, sip_id)
    return lines[0] if lines else None


def _line_sip(tx: Tx, line_id: int) -> dict | None:
    sips = tx.ids("endpoint_sip")
    for sip_id in tx.targets(R_LINE_SIP, line_id):
        if sip_id in sips:
            return sips[sip_id]
    return None


def _line_name(tx: Tx, line_id: int) -> str | None:
    sip = _line_sip(tx, line_id)
    return sip["username"] if sip else None


# confd 16.x names the owner of an extension by its type column ("user", "group", ...)
_OWNER_TYPES = {"Line": "user", "Group": "group", "Conference": "conference",
                "Incall": "incall"}


def _check_extension_free(tx: Tx, ext: dict, lines_allowed: bool = False) -> None:
    owner = _owner_of_extension(tx, ext["id"])
    if owner is not None and not (lines_allowed and owner[0] == "Line"):
        raise S.resource_associated("Extension", _OWNER_TYPES[owner[0]], id=ext["id"],
                                    associated_id=owner[1])


def context_type_error(ctx: dict, ext: dict) -> ApiError:
    return ApiError(400, f"Resource Error - ContextType '{ctx['type']}' cannot be associated"
                         f" ('id': {ext['id']}, 'context': {ext['context']!r})")


def _check_internal(tx: Tx, ext: dict) -> None:
    ctx = require_context(tx, ext["context"])
    if ctx["type"] != "internal":
        raise context_type_error(ctx, ext)


def _main_user(tx: Tx, line_id: int) -> int | None:
    users = line_users(tx, line_id)
    return users[0] if users else None


def line_users(tx: Tx, line_id: int) -> list[int]:
    """Users of a line, main user (the first associated) first."""
    return tx.sources_by_pos(R_USER_LINE, line_id)


def _incalls_to(req: Request, dest_type: str, key: str, obj_id: int) -> list[dict]:
    tx = _tx(req)
    out = []
    for inc in tx.all("incall"):
        dest = inc.get("destination") or {}
        if dest.get("type") == dest_type and dest.get(key) == obj_id:
            out.append({"id": inc["id"], "extensions": [
                _ext_ref(req, e) for e in _extensions_of(tx, R_INCALL_EXT, inc["id"])],
                "links": [req.link("incalls", "incalls", inc["id"])]})
    return out


def check_member_items(items: Any, extra: dict[str, S.Field] | None = None,
                       field_name: str = "users") -> list[dict]:
    """Validate a ``{"users": [{"uuid": ...}, ...]}`` list like confd's nested marshmallow
    schema: every problem of every item in one ``Input Error - users: {index: {...}}``."""
    if not isinstance(items, list):
        raise S.field_error(field_name, "Not a valid list." if items is not None
                            else "Field may not be null.")
    problems: dict[int, dict[str, list[str]]] = {}
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            problems[index] = {"_schema": ["Invalid input type."]}
            continue
        errs: dict[str, list[str]] = {}
        if "uuid" not in item:
            errs["uuid"] = ["Missing data for required field."]
        elif item["uuid"] is None:
            errs["uuid"] = ["Field may not be null."]
        elif not isinstance(item["uuid"], str):
            errs["uuid"] = ["Not a valid string."]
        for name, spec in (extra or {}).items():
            if name in item:
                try:
                    spec.check(item[name])
                except ApiError as exc:
                    text = exc.messages[0]
                    errs[name] = [text[text.index("['") + 2:text.rindex("']")]]
        if errs:
            problems[index] = errs
    if problems:
        raise ApiError(400, f"Input Error - {field_name}: {problems!r}")
    return items


def _resolve_users(tx: Tx, items: list[dict], *, unknown_is_input_error: bool) -> list[dict]:
    """Users named by uuid. Groups (16.15) answer 404 for an unknown uuid; call filters
    (18.03) a 400 ``field 'users': User was not found``."""
    users = []
    for item in items:
        user = tx.get_by_uuid("user", item["uuid"])
        if user is None:
            if unknown_is_input_error:
                raise S.param_not_found("users", "User", uuid=item["uuid"])
            raise S.not_found("User", uuid=item["uuid"])
        users.append(user)
    return users


def _not_permitted(text: str, **metadata: Any) -> ApiError:
    return ApiError(400, f"Resource Error - Operation not permitted. {text}"
                         f"{S._meta(metadata)}")


def _owner_extension_routes(kind: str, coll: str, rel: str, range_key: str | None,
                            range_label: str, context_type: str = "internal") -> None:
    def put(req: Request, id: str, extension_id: str) -> Response:
        tx = _tx(req)
        owner = get_or_404(tx, kind, id)
        ext = get_or_404(tx, "extension", extension_id)
        current = tx.targets(rel, owner["id"])
        if current:
            raise S.resource_associated(NAMES[kind], "Extension", **{
                f"{kind}_id": owner["id"], "extension_id": current[0]})
        same_kind = tx.sources(rel, ext["id"])
        if same_kind:  # confd names the owner first: "Group is associated with a Extension"
            raise S.resource_associated(NAMES[kind], "Extension", **{
                f"{kind}_id": same_kind[0], "extension_id": ext["id"]})
        _check_extension_free(tx, ext)
        ctx = require_context(tx, ext["context"])
        if ctx["type"] != context_type:
            raise context_type_error(ctx, ext)
        if range_key:
            check_typed_range(tx, ext, range_key, range_label)
        tx.link(rel, owner["id"], ext["id"])
        return no_content()

    def delete(req: Request, id: str, extension_id: str) -> Response:
        tx = _tx(req)
        owner = get_or_404(tx, kind, id)
        ext = get_or_404(tx, "extension", extension_id)
        if ext["id"] not in tx.targets(rel, owner["id"]):
            raise S.not_found(f"{NAMES[kind]}Extension", **{
                f"{kind}_id": owner["id"], "extension_id": ext["id"]})
        tx.unlink(rel, owner["id"], ext["id"])
        return no_content()

    path = f"/{coll}/{{id}}/extensions/{{extension_id}}"
    router.add("PUT", path, put, summary=f"Associate a {NAMES[kind]} and an extension", tag=coll)
    router.add("DELETE", path, delete, summary=f"Dissociate a {NAMES[kind]} and an extension",
               tag=coll)


def _fallback_routes(kind: str, coll: str) -> None:
    def get(req: Request, id: str) -> Response:
        obj = get_or_404(_tx(req), kind, id)
        return Response(200, {"noanswer_destination": obj.get("_noanswer_destination")})

    def put(req: Request, id: str) -> Response:
        tx = _tx(req)
        obj = get_or_404(tx, kind, id)
        body = req.json()
        if not isinstance(body, dict):
            raise ApiError(400, "Input Error - _schema: ['Invalid input type.']")
        dest = body.get("noanswer_destination")
        if dest is not None:
            S.check_destination("noanswer_destination", dest)
        doc = {k: v for k, v in obj.items() if k not in ("id", "uuid")}
        doc["_noanswer_destination"] = dest
        tx.update(kind, obj["id"], doc)
        return no_content()

    router.add("GET", f"/{coll}/{{id}}/fallbacks", get, summary="Fallback destinations", tag=coll)
    router.add("PUT", f"/{coll}/{{id}}/fallbacks", put, summary="Set fallback destinations",
               tag=coll)


def _schedule_routes(kind: str, coll: str, rel: str, *, by_user: bool = False) -> None:
    def fetch(tx: Tx, value: str) -> dict:
        return get_user(tx, value) if by_user else get_or_404(tx, kind, value)

    def put(req: Request, id: str, schedule_id: str) -> Response:
        tx = _tx(req)
        owner = fetch(tx, id)
        sched = get_or_404(tx, "schedule", schedule_id)
        current = tx.targets(rel, owner["id"])
        if current:
            raise S.resource_associated(NAMES[kind], "Schedule", **{
                f"{kind}_id": owner["id"], "schedule_id": current[0]})
        tx.link(rel, owner["id"], sched["id"])
        return no_content()

    def delete(req: Request, id: str, schedule_id: str) -> Response:
        tx = _tx(req)
        owner = fetch(tx, id)
        sched = get_or_404(tx, "schedule", schedule_id)
        if sched["id"] not in tx.targets(rel, owner["id"]):
            raise S.resource_not_associated(NAMES[kind], "Schedule", **{
                f"{kind}_id": owner["id"], "schedule_id": sched["id"]})
        tx.unlink(rel, owner["id"], sched["id"])
        return no_content()

    path = f"/{coll}/{{id}}/schedules/{{schedule_id}}"
    router.add("PUT", path, put, summary=f"Associate a {NAMES[kind]} and a schedule", tag=coll)
    router.add("DELETE", path, delete, summary=f"Dissociate a {NAMES[kind]} and a schedule",
               tag=coll)
