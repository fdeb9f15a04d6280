"""The legacy ``/lines_sip`` resource (a line and its SIP account in one)."""

from __future__ import annotations

from toipkit.xivo.sandbox import schema as S
from toipkit.xivo.sandbox.confd.associations import _line_sip
from toipkit.xivo.sandbox.confd.common import R_LINE_SIP, _body, _tx, router
from toipkit.xivo.sandbox.confd.endpoints_sip import _check_sip_unique, create_sip_doc
from toipkit.xivo.sandbox.confd.lines import create_line_doc, delete_line_rows
from toipkit.xivo.sandbox.confd.listing import paginate
from toipkit.xivo.sandbox.confd.ranges import require_context
from toipkit.xivo.sandbox.http import Request, Response, no_content
from toipkit.xivo.sandbox.schema import ApiError
from toipkit.xivo.sandbox.store import Tx


def render_line_sip(req: Request, line: dict) -> dict:
    tx = _tx(req)
    sip = _line_sip(tx, line["id"])
    return {"id": line["id"], "username": sip["username"] if sip else None,
            "secret": sip["secret"] if sip else None,
            "callerid": line.get("caller_id_name"), "device_slot": line.get("position", 1),
            "context": line["context"], "provisioning_extension": line.get("provisioning_code"),
            "links": [req.link("lines_sip", "lines_sip", line["id"])]}


@router.route("GET", "/lines_sip", summary="List SIP lines (legacy)")
def list_lines_sip(req: Request) -> Response:
    tx = _tx(req)
    rows = [render_line_sip(req, line) for line in tx.all("line")
            if tx.targets(R_LINE_SIP, line["id"])]
    return paginate(req, rows, columns={"id", "username", "context", "callerid", "device_slot",
                                        "provisioning_extension"},
                    searchable=("username", "context", "callerid"), default_order="id")


@router.route("POST", "/lines_sip", summary="Create a SIP line (legacy)")
def create_line_sip(req: Request) -> Response:
    tx = _tx(req)
    doc = S.LINE_SIP.load_create(req.json())
    line = create_line_doc(tx, {"context": doc["context"], "position": doc["device_slot"]})
    sip = create_sip_doc(tx, {k: doc[k] for k in ("username", "secret") if doc.get(k)})
    tx.link(R_LINE_SIP, line["id"], sip["id"])
    if doc.get("callerid") is not None:  # the caller id needs the endpoint
        line = {**line, "caller_id_name": doc["callerid"]}
        tx.update("line", line["id"], _body(line, S.LINE))
    return Response(201, render_line_sip(req, line),
                    headers={"Location": req.url("lines_sip", line["id"])})


def _line_sip_or_404(tx: Tx, id: str) -> dict:
    line = tx.get("line", int(id)) if S.is_id(id) else None
    if line is None or not tx.targets(R_LINE_SIP, line["id"]):
        raise S.not_found("LineSIP", id=int(id) if S.is_id(id) else id)
    return line


@router.route("GET", "/lines_sip/{id}", summary="Get a SIP line (legacy)")
def get_line_sip_legacy(req: Request, id: str) -> Response:
    return Response(200, render_line_sip(req, _line_sip_or_404(_tx(req), id)))


@router.route("PUT", "/lines_sip/{id}", summary="Update a SIP line (legacy)")
def update_line_sip_legacy(req: Request, id: str) -> Response:
    tx = _tx(req)
    line = _line_sip_or_404(tx, id)
    sip = _line_sip(tx, line["id"])
    assert sip is not None
    body = req.json()
    if not isinstance(body, dict):
        raise ApiError(400, "Input Error - _schema: ['Invalid input type.']")
    for name in ("username", "secret", "callerid", "device_slot", "context"):
        if name in body:
            S.LINE_SIP.by_name[name].check(body[name])
    if "context" in body:
        require_context(tx, body["context"])
    new_line = {**_body(line, S.LINE)}
    if "context" in body:
        new_line["context"] = body["context"]
    if "callerid" in body:
        new_line["caller_id_name"] = body["callerid"]
    if "device_slot" in body:
        new_line["position"] = body["device_slot"]
    tx.update("line", line["id"], new_line)
    new_sip = _body(sip, S.ENDPOINT_SIP)
    for name in ("username", "secret"):
        if body.get(name):
            new_sip[name] = body[name]
    _check_sip_unique(tx, new_sip["username"], sip["id"])
    tx.update("endpoint_sip", sip["id"], new_sip)
    return no_content()


@router.route("DELETE", "/lines_sip/{id}", summary="Delete a SIP line (legacy)")
def delete_line_sip_legacy(req: Request, id: str) -> Response:
    tx = _tx(req)
    delete_line_rows(tx, _line_sip_or_404(tx, id))
    return no_content()
