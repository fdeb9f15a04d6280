"""``/extensions`` and the read-only ``/extensions/features``."""

from __future__ import annotations

from typing import Any

from toipkit.xivo.sandbox import schema as S
from toipkit.xivo.sandbox.confd.associations import _OWNER_TYPES, _owner_of_extension
from toipkit.xivo.sandbox.confd.common import (
    R_CONF_EXT,
    R_GROUP_EXT,
    R_INCALL_EXT,
    R_LINE_EXT,
    _body,
    _tx,
    get_or_404,
    router,
)
from toipkit.xivo.sandbox.confd.listing import paginate
from toipkit.xivo.sandbox.confd.ranges import (
    check_extension_range,
    check_typed_range,
    require_context,
)
from toipkit.xivo.sandbox.http import Request, Response, no_content
from toipkit.xivo.sandbox.store import Tx


def render_extension(req: Request, e: dict) -> dict:
    tx = _tx(req)
    out: dict[str, Any] = {"id": e["id"], **_body(e, S.EXTENSION)}
    out["lines"] = [{"id": line_id, "links": [req.link("lines", "lines", line_id)]}
                    for line_id in tx.sources(R_LINE_EXT, e["id"])]
    out["incall"] = None
    out["group"] = None
    out["conference"] = None
    for rel, key, kind, coll in ((R_INCALL_EXT, "incall", "incall", "incalls"),
                                 (R_GROUP_EXT, "group", "group", "groups"),
                                 (R_CONF_EXT, "conference", "conference", "conferences")):
        owners = tx.sources(rel, e["id"])
        if owners:
            owner = tx.ids(kind).get(owners[0]) or {}
            ref = {"id": owners[0], "links": [req.link(coll, coll, owners[0])]}
            if "name" in owner:
                ref["name"] = owner["name"]
            out[key] = ref
    out["outcall"] = None
    out["links"] = [req.link("extensions", "extensions", e["id"])]
    return out


def _check_extension(tx: Tx, doc: dict, current_id: int | None) -> None:
    check_extension_range(tx, doc["exten"], doc["context"])
    for other in tx.find("extension", exten=doc["exten"], context=doc["context"]):
        if other["id"] != current_id:
            raise S.resource_exists("Extension", exten=doc["exten"], context=doc["context"])


def create_extension_doc(tx: Tx, body: Any) -> dict:
    doc = S.EXTENSION.load_create(body)
    require_context(tx, doc["context"])
    _check_extension(tx, doc, None)
    new_id = tx.insert("extension", doc)
    ext = tx.get("extension", new_id)
    assert ext is not None
    return ext


@router.route("GET", "/extensions", summary="List extensions")
def list_extensions(req: Request) -> Response:
    tx = _tx(req)
    rows = tx.all("extension")
    wanted = req.query.get("type")
    if wanted is not None:  # xivo-dao: the type of the extension's context
        types = {c["name"]: c["type"] for c in tx.all("context")}
        rows = [e for e in rows if types.get(e["context"]) == wanted]
    return paginate(req, rows,
                    columns={"id", "exten", "context", "commented"},
                    searchable=("exten", "context"), default_order="exten",
                    render=lambda e: render_extension(req, e))


@router.route("POST", "/extensions", summary="Create an extension")
def create_extension(req: Request) -> Response:
    ext = create_extension_doc(_tx(req), req.json())
    return Response(201, render_extension(req, ext),
                    headers={"Location": req.url("extensions", ext["id"])})


@router.route("GET", "/extensions/{id}", summary="Get an extension")
def get_extension(req: Request, id: str) -> Response:
    return Response(200, render_extension(req, get_or_404(_tx(req), "extension", id)))


@router.route("PUT", "/extensions/{id}", summary="Update an extension")
def update_extension(req: Request, id: str) -> Response:
    tx = _tx(req)
    ext = get_or_404(tx, "extension", id)
    doc = S.EXTENSION.load_update(req.json(), ext)
    require_context(tx, doc["context"])
    if (doc["exten"], doc["context"]) != (ext["exten"], ext["context"]):
        _check_extension(tx, doc, ext["id"])
        owner = _owner_of_extension(tx, ext["id"])
        if owner is not None:
            key = {"Line": "user_ranges", "Group": "group_ranges",
                   "Conference": "conference_room_ranges"}.get(owner[0])
            if key:
                check_typed_range(tx, doc, key, key.split("_")[0])
    tx.update("extension", ext["id"], doc)
    return no_content()


@router.route("DELETE", "/extensions/{id}", summary="Delete an extension")
def delete_extension(req: Request, id: str) -> Response:
    tx = _tx(req)
    ext = get_or_404(tx, "extension", id)
    owner = _owner_of_extension(tx, ext["id"])
    if owner is not None:
        if owner[0] == "Line":
            raise S.resource_associated("Extension", "Line", extension_id=ext["id"],
                                        line_id=owner[1])
        raise S.resource_associated("Extension", _OWNER_TYPES[owner[0]],
                                    extension_id=ext["id"], associated_id=owner[1])
    tx.delete("extension", ext["id"])
    return no_content()


FEATURES = (
    ("_*30.", "agentstaticlogtoggle", True), ("_*31.", "agentstaticlogin", True),
    ("_*32.", "agentstaticlogoff", True), ("*34", "calllistening", False),
    ("_*37.", "bsfilter", True), ("_*664.", "callgroup", True), ("_*665.", "callqueue", True),
    ("_*666.", "calluser", True), ("_*667.", "callmeetme", True), ("*20", "fwdundoall", True),
    ("_*21.", "fwdunc", True), ("_*22.", "fwdrna", True), ("_*23.", "fwdbusy", True),
    ("*25", "enablednd", True), ("*26", "callrecord", False), ("*27", "incallfilter", True),
    ("*36", "directoryaccess", True), ("*40", "cctoggle", True), ("*10", "phonestatus", True),
    ("*9", "recsnd", True), ("_*8.", "pickup", True), ("_*11.", "paging", True),
    ("*90", "enablevm", True), ("*98", "vmusermsg", True), ("*48378", "autoprov", True),
)


@router.route("GET", "/extensions/features", summary="Feature codes (read-only here)")
def list_features(req: Request) -> Response:
    rows = [{"id": i, "exten": exten, "context": "xivo-features", "feature": feature,
             "enabled": enabled, "links": [req.link("extensions_features", "extensions",
                                                    "features", i)]}
            for i, (exten, feature, enabled) in enumerate(FEATURES, start=1)]
    return paginate(req, rows, columns={"id", "exten", "context", "feature", "enabled"},
                    searchable=("exten", "feature"), default_order="exten")
