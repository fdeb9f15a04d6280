"""``/endpoints/sip`` and the softphone credentials of a user's line."""

from __future__ import annotations

from typing import Any

from toipkit.xivo.sandbox import schema as S
from toipkit.xivo.sandbox.confd.associations import _line_of_sip, _line_sip, _user_lines
from toipkit.xivo.sandbox.confd.common import R_LINE_SIP, _body, _int_id, _tx, get_or_404, router
from toipkit.xivo.sandbox.confd.listing import paginate
from toipkit.xivo.sandbox.http import Request, Response, no_content
from toipkit.xivo.sandbox.store import Tx


def render_sip(req: Request, s: dict) -> dict:
    tx = _tx(req)
    out: dict[str, Any] = {"id": s["id"], **_body(s, S.ENDPOINT_SIP)}
    line_id = _line_of_sip(tx, s["id"])
    out["line"] = ({"id": line_id, "links": [req.link("lines", "lines", line_id)]}
                   if line_id else None)
    out["trunk"] = None
    out["links"] = [req.link("endpoint_sip", "endpoints", "sip", s["id"])]
    return out


def _check_sip_unique(tx: Tx, username: str, current_id: int | None) -> None:
    for other in tx.find("endpoint_sip", username=username):
        if other["id"] != current_id:
            raise S.resource_exists("SIPEndpoint", username=username)


def create_sip_doc(tx: Tx, body: Any) -> dict:
    doc = S.ENDPOINT_SIP.load_create(body)
    if not doc.get("username"):
        doc["username"] = tx.random_text("sip-username")
        while tx.find("endpoint_sip", username=doc["username"]):
            doc["username"] = tx.random_text("sip-username")
    if not doc.get("secret"):
        doc["secret"] = tx.random_text("sip-secret")
    _check_sip_unique(tx, doc["username"], None)
    new_id = tx.insert("endpoint_sip", doc)
    sip = tx.get("endpoint_sip", new_id)
    assert sip is not None
    return sip


@router.route("GET", "/endpoints/sip", summary="List SIP endpoints")
def list_sip(req: Request) -> Response:
    return paginate(req, _tx(req).all("endpoint_sip"),
                    columns={"id", "username", "type", "host"},
                    searchable=("username", "type", "host"), default_order="username",
                    render=lambda o: render_sip(req, o))


@router.route("POST", "/endpoints/sip", summary="Create a SIP endpoint")
def create_sip(req: Request) -> Response:
    sip = create_sip_doc(_tx(req), req.json(required=False) or {})
    return Response(201, render_sip(req, sip),
                    headers={"Location": req.url("endpoints", "sip", sip["id"])})


@router.route("GET", "/endpoints/sip/{id}", summary="Get a SIP endpoint")
def get_sip(req: Request, id: str) -> Response:
    return Response(200, render_sip(req, get_or_404(_tx(req), "endpoint_sip", id)))


@router.route("PUT", "/endpoints/sip/{id}", summary="Update a SIP endpoint")
def update_sip(req: Request, id: str) -> Response:
    tx = _tx(req)
    sip = get_or_404(tx, "endpoint_sip", id)
    doc = S.ENDPOINT_SIP.load_update(req.json(), sip)
    if not doc.get("username"):
        raise S.field_error("username", "Field may not be null.")
    if not doc.get("secret"):
        raise S.field_error("secret", "Field may not be null.")
    _check_sip_unique(tx, doc["username"], sip["id"])
    tx.update("endpoint_sip", sip["id"], doc)
    return no_content()


@router.route("DELETE", "/endpoints/sip/{id}", summary="Delete a SIP endpoint")
def delete_sip(req: Request, id: str) -> Response:
    tx = _tx(req)
    sip = get_or_404(tx, "endpoint_sip", id)
    # confd dissociates the endpoint from its line (the line stays, without protocol)
    tx.unlink(R_LINE_SIP, b=sip["id"])
    tx.delete("endpoint_sip", sip["id"])
    return no_content()


@router.route("GET", "/users/{user_uuid}/lines/{line_id}/associated/endpoints/sip",
              summary="SIP endpoint of a user's line (line id or 'main')")
def get_user_line_sip(req: Request, user_uuid: str, line_id: str) -> Response:
    tx = _tx(req)
    user = tx.get_by_uuid("user", user_uuid)
    if user is None:
        raise S.not_found("User", uuid=user_uuid)
    lines = _user_lines(tx, user["id"])
    if line_id == "main":
        if not lines:
            raise S.not_found("UserLine", user_id=user["id"])
        target = lines[0]
    else:
        target = _int_id(line_id, "line")
        if target not in lines:
            raise S.not_found("UserLine", user_id=user["id"], line_id=target)
    sip = _line_sip(tx, target)
    if sip is None:
        raise S.not_found("LineEndpoint", line_id=target)
    return Response(200, render_sip(req, sip))
