"""Line ↔ SIP endpoint association."""

from __future__ import annotations

from toipkit.xivo.sandbox import schema as S
from toipkit.xivo.sandbox.confd.associations import _line_of_sip
from toipkit.xivo.sandbox.confd.common import (
    R_LINE_EXT,
    R_LINE_SIP,
    R_USER_LINE,
    _tx,
    get_or_404,
    router,
)
from toipkit.xivo.sandbox.http import Request, Response, no_content
from toipkit.xivo.sandbox.store import Tx


def line_sip_body(req: Request, line_id: int, sip_id: int) -> dict:
    return {"line_id": line_id, "endpoint_id": sip_id, "endpoint": "sip",
            "links": [req.link("lines", "lines", line_id),
                      req.link("endpoint_sip", "endpoints", "sip", sip_id)]}


def associate_line_sip(tx: Tx, line: dict, sip: dict) -> None:
    current = tx.targets(R_LINE_SIP, line["id"])
    if current:
        raise S.resource_associated("Line", "Endpoint", line_id=line["id"],
                                    endpoint_id=current[0])
    other = _line_of_sip(tx, sip["id"])
    if other is not None:
        raise S.resource_associated("Line", "Endpoint", line_id=other, endpoint_id=sip["id"])
    tx.link(R_LINE_SIP, line["id"], sip["id"])


@router.route("PUT", "/lines/{line_id}/endpoints/sip/{sip_id}",
              summary="Associate a line and a SIP endpoint")
def put_line_sip(req: Request, line_id: str, sip_id: str) -> Response:
    tx = _tx(req)
    line = get_or_404(tx, "line", line_id)
    sip = get_or_404(tx, "endpoint_sip", sip_id)
    associate_line_sip(tx, line, sip)
    return no_content()


@router.route("DELETE", "/lines/{line_id}/endpoints/sip/{sip_id}",
              summary="Dissociate a line and a SIP endpoint")
def delete_line_sip(req: Request, line_id: str, sip_id: str) -> Response:
    tx = _tx(req)
    line = get_or_404(tx, "line", line_id)
    sip = get_or_404(tx, "endpoint_sip", sip_id)
    if sip["id"] not in tx.targets(R_LINE_SIP, line["id"]):
        raise S.resource_not_associated("Line", "Endpoint", line_id=line["id"],
                                        endpoint_id=sip["id"])
    if tx.sources(R_USER_LINE, line["id"]):
        raise S.resource_associated("Line", "User", line_id=line["id"])
    if tx.targets(R_LINE_EXT, line["id"]):
        raise S.resource_associated("Line", "Extension", line_id=line["id"])
    tx.unlink(R_LINE_SIP, line["id"], sip["id"])
    return no_content()


@router.route("GET", "/lines/{line_id}/endpoints/sip", summary="SIP endpoint of a line")
def get_line_sip(req: Request, line_id: str) -> Response:
    tx = _tx(req)
    line = get_or_404(tx, "line", line_id)
    sips = tx.targets(R_LINE_SIP, line["id"])
    if not sips:
        raise S.not_found("LineEndpoint", line_id=line["id"])
    return Response(200, line_sip_body(req, line["id"], sips[0]))


@router.route("GET", "/endpoints/sip/{sip_id}/lines", summary="Line of a SIP endpoint")
def get_sip_line(req: Request, sip_id: str) -> Response:
    tx = _tx(req)
    sip = get_or_404(tx, "endpoint_sip", sip_id)
    line_id = _line_of_sip(tx, sip["id"])
    if line_id is None:
        raise S.not_found("LineEndpoint", endpoint_id=sip["id"])
    return Response(200, line_sip_body(req, line_id, sip["id"]))
