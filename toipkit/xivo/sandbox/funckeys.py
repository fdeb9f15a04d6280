"""User function keys (``/users/{id}/funckeys``), enough for the boss/secretary lab.

A key is ``{"blf": bool, "label": str|null, "destination": {"type": ..., ...}}`` stored by
position; a ``bsfilter`` destination names a call-filter member (``filter_member_id``) and
dials ``*37<member id>`` (XiVO's bsfilter feature code).
"""

from __future__ import annotations

from typing import Any

from toipkit.xivo.sandbox import schema as S
from toipkit.xivo.sandbox.confd import get_user, router
from toipkit.xivo.sandbox.http import Request, Response, no_content
from toipkit.xivo.sandbox.schema import ApiError
from toipkit.xivo.sandbox.store import Tx

DESTINATION_TYPES = ("user", "group", "queue", "conference", "paging", "service", "forward",
                     "transfer", "park_position", "parking", "bsfilter", "custom", "agent",
                     "onlinerec", "groupmember")


def _position(value: str) -> int:
    if not S.is_id(value) or int(value) < 1:
        raise S.input_error(f"field 'position': '{value}' is not a valid position")
    return int(value)


def _validate_key(tx: Tx, body: Any) -> dict:
    if not isinstance(body, dict):
        raise ApiError(400, "Input Error - _schema: ['Invalid input type.']")
    if "destination" not in body:
        raise ApiError(400, ["Input Error - destination: ['Missing data for required field.']"])
    dest = body["destination"]
    if not isinstance(dest, dict) or dest.get("type") not in DESTINATION_TYPES:
        raise S.input_error(f"FuncKey destination type '{(dest or {}).get('type')}' "
                            "does not exist" if isinstance(dest, dict) else
                            "destination: ['Not a valid mapping type.']")
    blf = body.get("blf", True)
    if not isinstance(blf, bool):
        raise S.field_error("blf", "Not a valid boolean.")
    label = body.get("label")
    if label is not None and not isinstance(label, str):
        raise S.field_error("label", "Not a valid string.")
    if dest["type"] == "bsfilter":
        member_id = dest.get("filter_member_id")
        if isinstance(member_id, bool) or not isinstance(member_id, int) or \
                tx.get("callfilter_member", member_id) is None:
            raise S.param_not_found("filter_member_id", "FilterMember", id=member_id)
    return {"blf": blf, "label": label, "destination": dest}


def render_key(tx: Tx, key: dict) -> dict:
    dest = dict(key["destination"])
    if dest["type"] == "bsfilter":
        member = tx.get("callfilter_member", dest.get("filter_member_id") or 0)
        dest["filter_member_id"] = dest.get("filter_member_id")
        dest["exten"] = f"*37{member['id']}" if member else None
    return {"blf": key["blf"], "label": key["label"], "destination": dest,
            "inherited": False}


@router.route("GET", "/users/{user_id}/funckeys", summary="Function keys of a user")
def list_keys(req: Request, user_id: str) -> Response:
    tx = req.tx
    assert tx is not None
    user = get_user(tx, user_id)
    keys = user.get("_funckeys") or {}
    return Response(200, {"name": None, "keys": {
        pos: render_key(tx, key) for pos, key in sorted(keys.items(), key=lambda i: int(i[0]))}})


@router.route("GET", "/users/{user_id}/funckeys/{position}", summary="One function key")
def get_key(req: Request, user_id: str, position: str) -> Response:
    tx = req.tx
    assert tx is not None
    user = get_user(tx, user_id)
    key = (user.get("_funckeys") or {}).get(str(_position(position)))
    if key is None:
        raise S.not_found("FuncKey", user_id=user["id"], position=int(position))
    return Response(200, render_key(tx, key))


@router.route("PUT", "/users/{user_id}/funckeys/{position}", summary="Set a function key")
def put_key(req: Request, user_id: str, position: str) -> Response:
    tx = req.tx
    assert tx is not None
    user = get_user(tx, user_id)
    pos = _position(position)
    key = _validate_key(tx, req.json())
    doc = {k: v for k, v in user.items() if k not in ("id", "uuid")}
    doc["_funckeys"] = {**(user.get("_funckeys") or {}), str(pos): key}
    tx.update("user", user["id"], doc)
    return no_content()


@router.route("DELETE", "/users/{user_id}/funckeys/{position}", summary="Remove a function key")
def delete_key(req: Request, user_id: str, position: str) -> Response:
    tx = req.tx
    assert tx is not None
    user = get_user(tx, user_id)
    pos = str(_position(position))
    keys = dict(user.get("_funckeys") or {})
    if pos not in keys:
        raise S.not_found("FuncKey", user_id=user["id"], position=int(pos))
    del keys[pos]
    doc = {k: v for k, v in user.items() if k not in ("id", "uuid")}
    doc["_funckeys"] = keys
    tx.update("user", user["id"], doc)
    return no_content()
