"""``/groups``: CRUD, member users, extension, schedules, fallbacks (Wazo 16.15 rules)."""

from __future__ import annotations

from typing import Any

from toipkit.xivo.sandbox import schema as S
from toipkit.xivo.sandbox.confd.associations import (
    _extensions_of,
    _fallback_routes,
    _incalls_to,
    _not_permitted,
    _owner_extension_routes,
    _resolve_users,
    _schedule_routes,
    _user_lines,
    check_member_items,
)
from toipkit.xivo.sandbox.confd.common import (
    R_GROUP_EXT,
    R_GROUP_MEMBER,
    R_GROUP_SCHED,
    _body,
    _ext_ref,
    _tx,
    _user_ref,
    get_or_404,
    router,
)
from toipkit.xivo.sandbox.confd.crud import Kind, _keep_private
from toipkit.xivo.sandbox.http import Request, Response, no_content
from toipkit.xivo.sandbox.schema import ApiError
from toipkit.xivo.sandbox.store import Tx


def render_group(req: Request, g: dict) -> dict:
    tx = _tx(req)
    out: dict[str, Any] = {"id": g["id"], **_body(g, S.GROUP)}
    out["extensions"] = [_ext_ref(req, e) for e in _extensions_of(tx, R_GROUP_EXT, g["id"])]
    users = tx.ids("user")
    out["members"] = {"users": [_user_ref(req, users[u])
                                for u in tx.targets(R_GROUP_MEMBER, g["id"]) if u in users]}
    schedules = tx.ids("schedule")
    out["schedules"] = [{"id": s, "name": schedules[s].get("name"),
                         "links": [req.link("schedules", "schedules", s)]}
                        for s in tx.targets(R_GROUP_SCHED, g["id"]) if s in schedules]
    out["fallbacks"] = {"noanswer_destination": g.get("_noanswer_destination")}
    out["incalls"] = _incalls_to(req, "group", "group_id", g["id"])
    out["links"] = [req.link("groups", "groups", g["id"])]
    return out


def _delete_group(tx: Tx, g: dict) -> None:
    for rel in (R_GROUP_MEMBER, R_GROUP_EXT, R_GROUP_SCHED):
        tx.unlink(rel, a=g["id"])


def _validate_group(tx: Tx, doc: dict, current: dict | None) -> None:
    if doc.get("name") == "general":
        raise S.field_error("name", "Invalid value.")
    _keep_private(doc, current)


Kind("group", S.GROUP, default_order="name", render=render_group,
     validate=_validate_group, on_delete=_delete_group, unique=("name",)).register()


@router.route("PUT", "/groups/{id}/members/users", summary="Set the member users of a group")
def put_group_members(req: Request, id: str) -> Response:
    tx = _tx(req)
    group = get_or_404(tx, "group", id)
    body = req.json()
    if not isinstance(body, dict) or "users" not in body:
        raise ApiError(400, ["Input Error - users: ['Missing data for required field.']"])
    users = _resolve_users(tx, check_member_items(body["users"]), unknown_is_input_error=False)
    main_lines = []
    for user in users:
        lines = _user_lines(tx, user["id"])
        if not lines:
            raise S.missing_association("User", "Line", user_uuid=user["uuid"])
        main_lines.append(lines[0])
    if len({u["id"] for u in users}) != len(users):
        raise _not_permitted("Cannot associate same user more than once")
    for line_id in main_lines:
        if main_lines.count(line_id) > 1:
            raise _not_permitted("Cannot associate different users with the same line",
                                 line_id=line_id)
    tx.unlink(R_GROUP_MEMBER, a=group["id"])
    for pos, user in enumerate(users):
        tx.link(R_GROUP_MEMBER, group["id"], user["id"], pos=pos)
    return no_content()


_owner_extension_routes("group", "groups", R_GROUP_EXT, "group_ranges", "group")


_fallback_routes("group", "groups")


_schedule_routes("group", "groups", R_GROUP_SCHED)
