"""``/callfilters`` (boss/secretary): recipients, surrogates, fallbacks (Wazo 18.03)."""

from __future__ import annotations

from typing import Any

from toipkit.xivo.sandbox import schema as S
from toipkit.xivo.sandbox.confd.associations import (
    _fallback_routes,
    _not_permitted,
    _resolve_users,
    check_member_items,
)
from toipkit.xivo.sandbox.confd.common import _body, _tx, _user_ref, get_or_404, router
from toipkit.xivo.sandbox.confd.crud import Kind, _keep_private
from toipkit.xivo.sandbox.http import Request, Response, no_content
from toipkit.xivo.sandbox.schema import ApiError
from toipkit.xivo.sandbox.store import Tx

_fallback_routes("callfilter", "callfilters")


def _members(tx: Tx, filter_id: int, role: str) -> list[dict]:
    rows = [m for m in tx.all("callfilter_member")
            if m["callfilter_id"] == filter_id and m["bstype"] == role]
    return sorted(rows, key=lambda m: (m.get("position", 0), m["id"]))


def render_callfilter(req: Request, f: dict) -> dict:
    tx = _tx(req)
    users = tx.ids("user")
    out: dict[str, Any] = {"id": f["id"], **_body(f, S.CALLFILTER)}
    recipients = []
    for m in _members(tx, f["id"], "boss"):
        user = users.get(m["user_id"])
        if user:
            recipients.append({**_user_ref(req, user), "timeout": m.get("timeout"),
                               "member_id": m["id"]})
    surrogates = []
    for m in _members(tx, f["id"], "secretary"):
        user = users.get(m["user_id"])
        if user:
            surrogates.append({**_user_ref(req, user), "member_id": m["id"]})
    out["recipients"] = {"users": recipients}
    out["surrogates"] = {"users": surrogates}
    out["fallbacks"] = {"noanswer_destination": f.get("_noanswer_destination")}
    out["links"] = [req.link("callfilters", "callfilters", f["id"])]
    return out


def _delete_callfilter(tx: Tx, f: dict) -> None:
    for m in tx.find("callfilter_member", callfilter_id=f["id"]):
        tx.delete("callfilter_member", m["id"])


Kind("callfilter", S.CALLFILTER, default_order="name", render=render_callfilter,
     validate=lambda tx, doc, cur: _keep_private(doc, cur), on_delete=_delete_callfilter,
     unique=("name",)).register()


def _set_members(tx: Tx, filter_id: int, role: str, users: list[dict],
                 timeouts: list[int | None] | None = None) -> None:
    """Replace one role's members, keeping the member id of users who stay (``*37<id>``)."""
    existing = {m["user_id"]: m for m in _members(tx, filter_id, role)}
    keep = {u["id"] for u in users}
    for user_id, m in existing.items():
        if user_id not in keep:
            tx.delete("callfilter_member", m["id"])
    for pos, user in enumerate(users):
        doc = {"callfilter_id": filter_id, "user_id": user["id"], "bstype": role,
               "timeout": timeouts[pos] if timeouts else None, "position": pos,
               "active": existing[user["id"]].get("active", False)
               if user["id"] in existing else False}
        if user["id"] in existing:
            tx.update("callfilter_member", existing[user["id"]]["id"], doc)
        else:
            tx.insert("callfilter_member", doc)


@router.route("PUT", "/callfilters/{id}/recipients/users",
              summary="Set the recipient (boss) of a call filter")
def put_recipients(req: Request, id: str) -> Response:
    tx = _tx(req)
    cf = get_or_404(tx, "callfilter", id)
    body = req.json()
    if not isinstance(body, dict) or "users" not in body:
        raise ApiError(400, ["Input Error - users: ['Missing data for required field.']"])
    items = check_member_items(body["users"], {"timeout": S.Field("timeout", "int", min=0)})
    users = _resolve_users(tx, items, unknown_is_input_error=True)
    if len(users) > 1:
        raise _not_permitted("Cannot associate more than one recipient")
    timeouts = [item.get("timeout") for item in items]
    surrogate_ids = {m["user_id"] for m in _members(tx, cf["id"], "secretary")}
    for user in users:
        if user["id"] in surrogate_ids:  # xivo-dao's template, as 18.03 fills it
            raise S.resource_associated("CallFilter", str(cf["id"]),
                                        surrogate_user_uuid=user["uuid"])
    _set_members(tx, cf["id"], "boss", users, timeouts)
    return no_content()


@router.route("PUT", "/callfilters/{id}/surrogates/users",
              summary="Set the surrogates (secretaries) of a call filter")
def put_surrogates(req: Request, id: str) -> Response:
    tx = _tx(req)
    cf = get_or_404(tx, "callfilter", id)
    body = req.json()
    if not isinstance(body, dict) or "users" not in body:
        raise ApiError(400, ["Input Error - users: ['Missing data for required field.']"])
    users = _resolve_users(tx, check_member_items(body["users"]), unknown_is_input_error=True)
    if len({u["id"] for u in users}) != len(users):
        raise _not_permitted("Cannot associate same user more than once")
    boss_ids = {m["user_id"] for m in _members(tx, cf["id"], "boss")}
    for user in users:
        if user["id"] in boss_ids:
            raise S.resource_associated("CallFilter", str(cf["id"]),
                                        recipient_user_uuid=user["uuid"])
    _set_members(tx, cf["id"], "secretary", users)
    return no_content()
