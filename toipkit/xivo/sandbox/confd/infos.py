"""``/infos`` and ``/entities``."""

from __future__ import annotations

from toipkit.xivo.sandbox.confd.common import _tx, get_or_404, router
from toipkit.xivo.sandbox.confd.listing import paginate
from toipkit.xivo.sandbox.http import Request, Response


@router.route("GET", "/infos", summary="XiVO UUID")
def infos(req: Request) -> Response:
    return Response(200, {"uuid": _tx(req).meta("xivo_uuid")})


def render_entity(req: Request, e: dict) -> dict:
    return {"id": e["id"], "name": e["name"], "display_name": e.get("display_name"),
            "description": e.get("description"), "links": [req.link("entities", "entities",
                                                                     e["id"])]}


@router.route("GET", "/entities", summary="List entities")
def list_entities(req: Request) -> Response:
    rows = [render_entity(req, e) for e in _tx(req).all("entity")]
    return paginate(req, rows, columns={"id", "name", "display_name"},
                    searchable=["name", "display_name"], default_order="name")


@router.route("GET", "/entities/{id}", summary="Get an entity")
def get_entity(req: Request, id: str) -> Response:
    return Response(200, render_entity(req, get_or_404(_tx(req), "entity", id)))
