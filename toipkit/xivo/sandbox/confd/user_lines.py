"""User ↔ line association (several lines per user, secondary users of a line)."""

from __future__ import annotations

from toipkit.xivo.sandbox import schema as S
from toipkit.xivo.sandbox.confd.associations import _main_user, _user_lines, line_users
from toipkit.xivo.sandbox.confd.common import (
    R_LINE_EXT,
    R_LINE_SIP,
    R_USER_LINE,
    _tx,
    get_or_404,
    get_user,
    router,
)
from toipkit.xivo.sandbox.http import Request, Response, no_content
from toipkit.xivo.sandbox.schema import ApiError
from toipkit.xivo.sandbox.store import Tx


def user_line_items(req: Request, *, user_id: int | None = None,
                    line_id: int | None = None) -> list[dict]:
    tx = _tx(req)
    if user_id is not None:
        pairs = [(user_id, b) for b in _user_lines(tx, user_id)]
    else:
        assert line_id is not None
        pairs = [(a, line_id) for a in line_users(tx, line_id)]
    items = []
    for a, b in pairs:
        items.append({
            "user_id": a, "line_id": b,
            "main_user": _main_user(tx, b) == a,
            "main_line": _user_lines(tx, a)[0] == b,
            "links": [req.link("users", "users", a), req.link("lines", "lines", b)],
        })
    return items


def associate_user_line(tx: Tx, user: dict, line: dict) -> None:
    """XiVO 16.x: the line needs its endpoint; a user can have several lines and a line
    several users (the first one is its main user), but an extension shared by several
    lines must stay with one user."""
    if not tx.targets(R_LINE_SIP, line["id"]):
        raise S.missing_association("Line", "Endpoint", line_id=line["id"])
    if line["id"] in _user_lines(tx, user["id"]):
        raise S.resource_associated("User", "Line", user_id=user["id"], line_id=line["id"])
    exts = tx.targets(R_LINE_EXT, line["id"])
    if exts:
        sharing = tx.sources(R_LINE_EXT, exts[0])
        owners = {u for other in sharing for u in line_users(tx, other)[:1]} | {user["id"]}
        if len(owners) > 1 and len(sharing) > 1:
            faulty = [other for other in sharing if other != line["id"]][0]
            raise S.resource_associated("Line", "Extension", line_id=faulty,
                                        extension_id=exts[0])
    # The position orders both sides: a user's lines (main line first) and a line's
    # users (main user first).
    tx.link(R_USER_LINE, user["id"], line["id"], pos=tx.next_id("seq:" + R_USER_LINE))


@router.route("PUT", "/users/{user_id}/lines/{line_id}", summary="Associate a user and a line")
def put_user_line(req: Request, user_id: str, line_id: str) -> Response:
    tx = _tx(req)
    user = get_user(tx, user_id)
    line = get_or_404(tx, "line", line_id)
    associate_user_line(tx, user, line)
    return no_content()


@router.route("POST", "/users/{user_id}/lines",
              summary="Associate a user and a line (legacy)")
def post_user_line(req: Request, user_id: str) -> Response:
    tx = _tx(req)
    user = get_user(tx, user_id)
    body = req.json()
    line_id = body.get("line_id") if isinstance(body, dict) else None
    if not isinstance(line_id, int) or isinstance(line_id, bool):
        raise S.field_error("line_id", "Not a valid integer.")
    line = tx.get("line", line_id)
    if line is None:
        raise S.param_not_found("line_id", "Line", id=line_id)
    associate_user_line(tx, user, line)
    item = [i for i in user_line_items(req, user_id=user["id"]) if i["line_id"] == line["id"]]
    return Response(201, item[0], headers={"Location": req.url("users", user["id"], "lines")})


@router.route("DELETE", "/users/{user_id}/lines/{line_id}", summary="Dissociate a user and a line")
def delete_user_line(req: Request, user_id: str, line_id: str) -> Response:
    tx = _tx(req)
    user = get_user(tx, user_id)
    line = get_or_404(tx, "line", line_id)
    users = line_users(tx, line["id"])
    if len(users) > 1 and users[0] == user["id"] or \
            (users and user["id"] not in users and len(users) > 1):
        raise ApiError(400, "Resource Error - There are secondary users associated to the line"
                            f" ('line_id': {line['id']})")
    if line["id"] not in _user_lines(tx, user["id"]):
        raise S.not_found("UserLine", user_id=user["id"], line_id=line["id"])
    tx.unlink(R_USER_LINE, user["id"], line["id"])
    return no_content()


@router.route("GET", "/users/{user_id}/lines", summary="Lines of a user")
def get_user_lines(req: Request, user_id: str) -> Response:
    user = get_user(_tx(req), user_id)
    items = user_line_items(req, user_id=user["id"])
    return Response(200, {"total": len(items), "items": items})


@router.route("GET", "/lines/{line_id}/users", summary="Users of a line")
def get_line_users(req: Request, line_id: str) -> Response:
    line = get_or_404(_tx(req), "line", line_id)
    items = user_line_items(req, line_id=line["id"])
    return Response(200, {"total": len(items), "items": items})
