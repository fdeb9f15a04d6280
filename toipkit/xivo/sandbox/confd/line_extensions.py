"""Line ↔ extension association (one extension per line; an extension shared by the lines
of one user), with 16.x's deprecated singular routes.
"""

from __future__ import annotations

from typing import Any

from toipkit.xivo.sandbox import schema as S
from toipkit.xivo.sandbox.confd.associations import (
    _check_extension_free,
    _check_internal,
    _main_user,
)
from toipkit.xivo.sandbox.confd.common import R_LINE_EXT, R_LINE_SIP, _tx, get_or_404, router
from toipkit.xivo.sandbox.confd.ranges import check_typed_range
from toipkit.xivo.sandbox.http import Request, Response, no_content
from toipkit.xivo.sandbox.store import Tx


def associate_line_extension(tx: Tx, line: dict, ext: dict) -> None:
    """XiVO 16.x rules: one internal extension per line; an extension can be shared by
    several lines as long as they belong to the same (main) user."""
    if not tx.targets(R_LINE_SIP, line["id"]):
        raise S.missing_association("Line", "Endpoint", line_id=line["id"])
    current = tx.targets(R_LINE_EXT, line["id"])
    if current:
        raise S.resource_associated("Line", "Extension", line_id=line["id"],
                                    extension_id=current[0])
    _check_extension_free(tx, ext, lines_allowed=True)
    _check_internal(tx, ext)
    check_typed_range(tx, ext, "user_ranges", "user")
    owner = _main_user(tx, line["id"])
    if owner is not None:
        for other_line in tx.sources(R_LINE_EXT, ext["id"]):
            other_owner = _main_user(tx, other_line)
            if other_owner is not None and other_owner != owner:
                raise S.resource_associated("User", "Line", user_id=other_owner,
                                            line_id=other_line)
    tx.link(R_LINE_EXT, line["id"], ext["id"])


def line_ext_body(req: Request, line_id: int, ext_id: int) -> dict:
    return {"line_id": line_id, "extension_id": ext_id,
            "links": [req.link("lines", "lines", line_id),
                      req.link("extensions", "extensions", ext_id)]}


@router.route("PUT", "/lines/{line_id}/extensions/{extension_id}",
              summary="Associate a line and an extension")
def put_line_ext(req: Request, line_id: str, extension_id: str) -> Response:
    tx = _tx(req)
    line = get_or_404(tx, "line", line_id)
    ext = get_or_404(tx, "extension", extension_id)
    associate_line_extension(tx, line, ext)
    return no_content()


@router.route("POST", "/lines/{line_id}/extensions",
              summary="Associate a line and an extension (legacy)")
def post_line_ext(req: Request, line_id: str) -> Response:
    tx = _tx(req)
    line = get_or_404(tx, "line", line_id)
    body = req.json()
    ext = _legacy_extension_id(tx, body)
    associate_line_extension(tx, line, ext)
    return Response(201, line_ext_body(req, line["id"], ext["id"]),
                    headers={"Location": req.url("lines", line["id"], "extensions")})


def _legacy_extension_id(tx: Tx, body: Any) -> dict:
    ext_id = body.get("extension_id") if isinstance(body, dict) else None
    if not isinstance(ext_id, int) or isinstance(ext_id, bool):
        raise S.field_error("extension_id", "Not a valid integer.")
    ext = tx.get("extension", ext_id)
    if ext is None:
        raise S.param_not_found("extension_id", "Extension")
    return ext


@router.route("POST", "/lines/{line_id}/extension",
              summary="Associate a line and an extension (deprecated singular route)")
def post_line_extension_singular(req: Request, line_id: str) -> Response:
    tx = _tx(req)
    line = get_or_404(tx, "line", line_id)
    ext = _legacy_extension_id(tx, req.json())
    associate_line_extension(tx, line, ext)
    return Response(201, line_ext_body(req, line["id"], ext["id"]),
                    headers={"Location": req.url("lines", line["id"], "extension")})


@router.route("GET", "/lines/{line_id}/extension",
              summary="Extension of a line (deprecated singular route)")
def get_line_extension_singular(req: Request, line_id: str) -> Response:
    tx = _tx(req)
    line = get_or_404(tx, "line", line_id)
    exts = tx.targets(R_LINE_EXT, line["id"])
    if not exts:
        raise S.not_found("LineExtension", line_id=line["id"])
    return Response(200, line_ext_body(req, line["id"], exts[0]))


@router.route("DELETE", "/lines/{line_id}/extension",
              summary="Dissociate a line and its extension (deprecated singular route)")
def delete_line_extension_singular(req: Request, line_id: str) -> Response:
    tx = _tx(req)
    line = get_or_404(tx, "line", line_id)
    exts = tx.targets(R_LINE_EXT, line["id"])
    if not exts:
        raise S.not_found("LineExtension", line_id=line["id"])
    dissociate_line_extension(tx, line, get_or_404(tx, "extension", exts[0]))
    return no_content()


@router.route("GET", "/extensions/{extension_id}/line",
              summary="Line of an extension (deprecated singular route)")
def get_extension_line_singular(req: Request, extension_id: str) -> Response:
    tx = _tx(req)
    ext = get_or_404(tx, "extension", extension_id)
    lines = tx.sources(R_LINE_EXT, ext["id"])
    if not lines:
        raise S.not_found("LineExtension", extension_id=ext["id"])
    return Response(200, line_ext_body(req, lines[0], ext["id"]))


@router.route("DELETE", "/lines/{line_id}/extensions/{extension_id}",
              summary="Dissociate a line and an extension")
def delete_line_ext(req: Request, line_id: str, extension_id: str) -> Response:
    tx = _tx(req)
    line = get_or_404(tx, "line", line_id)
    ext = get_or_404(tx, "extension", extension_id)
    dissociate_line_extension(tx, line, ext)
    return no_content()


def dissociate_line_extension(tx: Tx, line: dict, ext: dict) -> None:
    if ext["id"] not in tx.targets(R_LINE_EXT, line["id"]):
        raise S.not_found("LineExtension", line_id=line["id"], extension_id=ext["id"])
    tx.unlink(R_LINE_EXT, line["id"], ext["id"])


@router.route("GET", "/lines/{line_id}/extensions", summary="Extensions of a line")
def get_line_exts(req: Request, line_id: str) -> Response:
    tx = _tx(req)
    line = get_or_404(tx, "line", line_id)
    items = [line_ext_body(req, line["id"], e) for e in tx.targets(R_LINE_EXT, line["id"])]
    return Response(200, {"total": len(items), "items": items})


@router.route("GET", "/extensions/{extension_id}/lines", summary="Lines of an extension")
def get_ext_lines(req: Request, extension_id: str) -> Response:
    tx = _tx(req)
    ext = get_or_404(tx, "extension", extension_id)
    items = [line_ext_body(req, line_id, ext["id"])
             for line_id in tx.sources(R_LINE_EXT, ext["id"])]
    return Response(200, {"total": len(items), "items": items})
