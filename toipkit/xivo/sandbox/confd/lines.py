"""``/lines`` (XiVO 16.x: the caller id lives on the endpoint; registrar ``default`` only)."""

from __future__ import annotations

from typing import Any

from toipkit.xivo.sandbox import schema as S
from toipkit.xivo.sandbox.confd.associations import (
    _extensions_of,
    _line_name,
    _line_sip,
    line_users,
)
from toipkit.xivo.sandbox.confd.common import (
    R_LINE_EXT,
    R_LINE_SIP,
    R_USER_LINE,
    _body,
    _ext_ref,
    _fullname,
    _tx,
    _user_ref,
    get_or_404,
    router,
)
from toipkit.xivo.sandbox.confd.listing import paginate
from toipkit.xivo.sandbox.confd.ranges import require_context
from toipkit.xivo.sandbox.http import Request, Response, no_content
from toipkit.xivo.sandbox.schema import ApiError
from toipkit.xivo.sandbox.store import Tx


def render_line(req: Request, line: dict) -> dict:
    tx = _tx(req)
    sip = _line_sip(tx, line["id"])
    exts = _extensions_of(tx, R_LINE_EXT, line["id"])
    users = tx.ids("user")
    user_ids = line_users(tx, line["id"])
    main_user = users.get(user_ids[0]) if user_ids else None
    out: dict[str, Any] = {
        "id": line["id"],
        "name": sip["username"] if sip else None,
        "protocol": "sip" if sip else None,
        "device_id": None,
        "device_slot": line.get("position", 1),
        "provisioning_extension": line.get("provisioning_code"),
        **_body(line, S.LINE),
    }
    # What XiVO shows once a user/extension is attached (unless set explicitly).
    if out["caller_id_name"] is None and main_user is not None:
        out["caller_id_name"] = _fullname(main_user)
    if out["caller_id_num"] is None and exts and S.is_digits(exts[0]["exten"]):
        out["caller_id_num"] = exts[0]["exten"]
    out["endpoint_sip"] = ({"id": sip["id"], "username": sip["username"],
                            "links": [req.link("endpoint_sip", "endpoints", "sip", sip["id"])]}
                           if sip else None)
    out["endpoint_sccp"] = None
    out["endpoint_custom"] = None
    out["extensions"] = [_ext_ref(req, e) for e in exts]
    out["users"] = [_user_ref(req, users[u]) for u in user_ids if u in users]
    out["links"] = [req.link("lines", "lines", line["id"])]
    return out


def _new_provisioning_code(tx: Tx) -> str:
    while True:
        code = "1" + tx.random_text("provisioning-code", 5, alphabet="0123456789")
        if not tx.find("line", provisioning_code=code):
            return code


REGISTRARS = ("default",)  # devices and registrars are not modelled: only XiVO's default


def _check_registrar(value: Any) -> None:
    if value not in REGISTRARS:
        raise S.param_not_found("registrar", "Registrar", registrar=value)


def _check_line_caller_id(tx: Tx, line_id: int | None, body: dict) -> None:
    """16.x keeps a line's caller id on its endpoint (xivo-dao's LineFeatures setters)."""
    has_endpoint = line_id is not None and bool(tx.targets(R_LINE_SIP, line_id))
    for key, none_error in (("caller_id_name", "Cannot set caller id to None"),
                            ("caller_id_num", "Cannot set caller id num to None")):
        if key not in body:
            continue
        if body[key] is None:
            if has_endpoint:
                raise ApiError(400, none_error)
        elif not has_endpoint:
            raise ApiError(400, "Unsupported caller id protocol")


def create_line_doc(tx: Tx, body: Any) -> dict:
    doc = S.LINE.load_create(body)
    require_context(tx, doc["context"])
    if doc.get("registrar") is None:
        doc["registrar"] = "default"
    _check_registrar(doc["registrar"])
    _check_line_caller_id(tx, None, body)
    if doc.get("provisioning_code") is None:
        doc["provisioning_code"] = _new_provisioning_code(tx)
    elif tx.find("line", provisioning_code=doc["provisioning_code"]):
        raise S.resource_exists("Line", provisioning_code=doc["provisioning_code"])
    new_id = tx.insert("line", doc)
    line = tx.get("line", new_id)
    assert line is not None
    return line


@router.route("GET", "/lines", summary="List lines")
def list_lines(req: Request) -> Response:
    tx = _tx(req)
    rows = []
    for line in tx.all("line"):
        name = _line_name(tx, line["id"])
        rows.append({**line, "name": name, "protocol": "sip" if name else None, "_obj": line,
                     "provisioning_extension": line.get("provisioning_code"),
                     "device_slot": line.get("position"), "device_id": None})
    # xivo-dao's line search columns (16.13): sort keys, exact filters and search terms
    columns = ("context", "provisioning_code", "provisioning_extension", "position",
               "device_slot", "protocol", "device_id", "name")
    return paginate(req, rows, columns=set(columns) | {"id"}, searchable=columns,
                    default_order="name", render=lambda r: render_line(req, r["_obj"]))


@router.route("POST", "/lines", summary="Create a line")
def create_line(req: Request) -> Response:
    line = create_line_doc(_tx(req), req.json())
    return Response(201, render_line(req, line), headers={"Location": req.url("lines", line["id"])})


@router.route("GET", "/lines/{id}", summary="Get a line")
def get_line(req: Request, id: str) -> Response:
    return Response(200, render_line(req, get_or_404(_tx(req), "line", id)))


@router.route("PUT", "/lines/{id}", summary="Update a line")
def update_line(req: Request, id: str) -> Response:
    tx = _tx(req)
    line = get_or_404(tx, "line", id)
    body = req.json()
    doc = S.LINE.load_update(body, line)
    require_context(tx, doc["context"])
    _check_registrar(doc["registrar"])
    _check_line_caller_id(tx, line["id"], body)
    code = doc.get("provisioning_code")
    if code is None:
        doc["provisioning_code"] = _new_provisioning_code(tx)
    elif any(o["id"] != line["id"] for o in tx.find("line", provisioning_code=code)):
        raise S.resource_exists("Line", provisioning_code=code)
    tx.update("line", line["id"], doc)
    return no_content()


def delete_line_rows(tx: Tx, line: dict) -> None:
    """Delete a line, its SIP endpoint (as 16.13 does) and its associations."""
    for sip_id in tx.targets(R_LINE_SIP, line["id"]):
        tx.delete("endpoint_sip", sip_id)
    tx.unlink(R_LINE_SIP, a=line["id"])
    tx.unlink(R_LINE_EXT, a=line["id"])
    tx.unlink(R_USER_LINE, b=line["id"])
    tx.delete("line", line["id"])


@router.route("DELETE", "/lines/{id}", summary="Delete a line (and its SIP endpoint)")
def delete_line(req: Request, id: str) -> Response:
    tx = _tx(req)
    delete_line_rows(tx, get_or_404(tx, "line", id))
    return no_content()
