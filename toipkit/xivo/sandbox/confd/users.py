"""``/users``: CRUD, the ``directory`` and ``summary`` views, search columns."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from toipkit.xivo.sandbox import schema as S
from toipkit.xivo.sandbox.confd.associations import _extensions_of, _line_name, _user_lines
from toipkit.xivo.sandbox.confd.common import (
    R_GROUP_MEMBER,
    R_LINE_EXT,
    R_LINE_SIP,
    R_USER_LINE,
    R_USER_SCHED,
    _body,
    _ext_ref,
    _fullname,
    _tx,
    get_user,
    router,
)
from toipkit.xivo.sandbox.confd.listing import paginate
from toipkit.xivo.sandbox.http import Request, Response, no_content
from toipkit.xivo.sandbox.store import Tx


def render_user(req: Request, u: dict) -> dict:
    tx = _tx(req)
    out: dict[str, Any] = {"id": u["id"], "uuid": u["uuid"], **_body(u, S.USER)}
    lines = []
    for line_id in _user_lines(tx, u["id"]):
        line = tx.ids("line").get(line_id)
        if line:
            lines.append({"id": line_id, "name": _line_name(tx, line_id),
                          "extensions": [_ext_ref(req, e)
                                         for e in _extensions_of(tx, R_LINE_EXT, line_id)],
                          "links": [req.link("lines", "lines", line_id)]})
    out["lines"] = lines
    groups = tx.ids("group")
    out["groups"] = [{"id": g, "name": groups[g]["name"], "links": [req.link("groups", "groups",
                                                                               g)]}
                     for g in tx.sources(R_GROUP_MEMBER, u["id"]) if g in groups]
    out["links"] = [req.link("users", "users", u["id"])]
    return out


USER_SEARCH = ("fullname", "caller_id", "description", "userfield", "email",
               "mobile_phone_number", "music_on_hold", "preprocess_subroutine",
               "outgoing_caller_id", "exten", "provisioning_code", "enabled")


# xivo-dao's user search columns (16.13): the only sort keys and exact filters.
USER_COLUMNS = {"id", "uuid", "firstname", "lastname", "fullname", "caller_id", "description",
                "userfield", "email", "mobile_phone_number", "music_on_hold",
                "outgoing_caller_id", "preprocess_subroutine", "entity", "voicemail_number",
                "provisioning_code", "exten", "extension", "context", "enabled"}


USER_DERIVED = {"fullname", "exten", "extension", "context", "provisioning_code", "entity",
                "voicemail_number"}


def _user_view(view: str | None, row: dict, render: Callable[[dict], dict]) -> dict:
    if view in (None, "", "default"):
        return render(row["_obj"])
    if view == "directory":
        keys = ("id", "uuid", "line_id", "firstname", "lastname", "email", "exten",
                "mobile_phone_number", "userfield", "description", "context")
        out = {k: row.get(k) for k in keys}
        out["agent_id"] = None
        out["voicemail_number"] = None
        return out
    if view == "summary":
        return {"id": row["id"], "uuid": row["uuid"], "firstname": row["firstname"],
                "lastname": row["lastname"], "email": row["email"], "extension": row["exten"],
                "context": row["context"], "provisioning_code": row["provisioning_code"],
                "entity": row["entity"], "protocol": row["protocol"], "enabled": row["enabled"]}
    raise S.input_error(f"view '{view}' does not exist")


@router.route("GET", "/users", summary="List users")
def list_users(req: Request) -> Response:
    tx = _tx(req)
    view = req.query.get("view")
    if view not in (None, "", "default", "directory", "summary"):
        raise S.input_error(f"view '{view}' does not exist")
    derived = USER_DERIVED
    needs_derived = bool(req.query.get("search") or req.query.get("q")) or \
        req.query.get("order") in derived or any(k in derived for k in req.query)
    if needs_derived:
        rows = _user_rows(tx, tx.all("user"))
    else:  # derived columns only for the page (cheap lists: ?limit=..., ?firstname=...)
        rows = tx.all("user")

    def render(row: dict) -> dict:
        if "_obj" not in row:
            row = _user_rows(tx, [row])[0]
        return _user_view(view, row, lambda u: render_user(req, u))

    return paginate(req, rows, columns=USER_COLUMNS, searchable=USER_SEARCH,
                    default_order="lastname", render=render, aliases={"extension": "exten"})


def _entity_names(tx: Tx) -> tuple[dict[Any, str], str | None]:
    """Entity names by id, and the default one (users created through the API get it)."""
    entities = tx.all("entity")
    names = {e["id"]: e["name"] for e in entities}
    return names, (entities[0]["name"] if entities else None)


def _user_rows(tx: Tx, users: list[dict]) -> list[dict]:
    """Users plus the derived columns confd can search and sort on, computed in bulk."""
    many = len(users) > 32
    user_lines = tx.index(R_USER_LINE)[0] if many else None
    line_exts = tx.index(R_LINE_EXT)[0] if many else None
    line_sips = tx.index(R_LINE_SIP)[0] if many else None
    lines = tx.by_id("line") if many else tx.ids("line")
    exts = tx.by_id("extension") if many else tx.ids("extension")
    entity_names, default_entity = _entity_names(tx)
    rows = []
    for u in users:
        uid = u["id"]
        line_ids = user_lines.get(uid, ()) if user_lines is not None else _user_lines(tx, uid)
        line_id = line_ids[0] if line_ids else None
        line = lines.get(line_id) if line_id is not None else None
        ext = None
        for lid in line_ids:
            ext_ids = (line_exts.get(lid, ()) if line_exts is not None
                       else tx.targets(R_LINE_EXT, lid))
            if ext_ids:
                ext = exts.get(ext_ids[0])
                if ext is not None:
                    break
        has_sip = line_id is not None and bool(
            line_sips.get(line_id) if line_sips is not None else tx.targets(R_LINE_SIP, line_id))
        rows.append({
            **u, "_obj": u,
            "fullname": " ".join(p for p in (u.get("firstname"), u.get("lastname")) if p),
            "exten": ext["exten"] if ext else None,
            "context": ext["context"] if ext else (line["context"] if line else None),
            "provisioning_code": line.get("provisioning_code") if line else None,
            "line_id": line_id,
            "protocol": "sip" if line is not None and has_sip else None,
            "entity": entity_names.get(u.get("_entity_id"), default_entity),
            "voicemail_number": None,  # voicemails are not modelled
        })
    return rows


def _check_user_unique(tx: Tx, doc: dict, current: dict | None) -> None:
    for name in ("email", "username"):
        if doc.get(name) is None:
            continue
        for other in tx.find("user", **{name: doc[name]}):
            if current is None or other["id"] != current["id"]:
                raise S.resource_exists("User", **{name: doc[name]})


def create_user_doc(tx: Tx, body: Any, entity_id: int | None = None) -> dict:
    doc = S.USER.load_create(body)
    if doc.get("caller_id") is None:
        doc["caller_id"] = f'"{_fullname(doc)}"'
    if entity_id is not None:
        doc["_entity_id"] = entity_id
    _check_user_unique(tx, doc, None)
    new_id = tx.insert("user", doc, uuid=tx.new_uuid("user"))
    user = tx.get("user", new_id)
    assert user is not None
    return user


@router.route("POST", "/users", summary="Create a user")
def create_user(req: Request) -> Response:
    user = create_user_doc(_tx(req), req.json())
    return Response(201, render_user(req, user),
                    headers={"Location": req.url("users", user["id"])})


@router.route("GET", "/users/{id}", summary="Get a user (id or uuid)")
def get_user_(req: Request, id: str) -> Response:
    return Response(200, render_user(req, get_user(_tx(req), id)))


@router.route("PUT", "/users/{id}", summary="Update a user (partial)")
def update_user(req: Request, id: str) -> Response:
    tx = _tx(req)
    user = get_user(tx, id)
    doc = S.USER.load_update(req.json(), user)
    _check_user_unique(tx, doc, user)
    tx.update("user", user["id"], doc)
    return no_content()


def delete_user_rows(tx: Tx, user: dict) -> None:
    lines = _user_lines(tx, user["id"])
    if lines:
        raise S.resource_associated("User", "Line", line_ids=tuple(lines))
    tx.unlink(R_GROUP_MEMBER, b=user["id"])
    tx.unlink(R_USER_SCHED, a=user["id"])
    for member in tx.find("callfilter_member", user_id=user["id"]):
        tx.delete("callfilter_member", member["id"])
    tx.delete("user", user["id"])


@router.route("DELETE", "/users/{id}", summary="Delete a user")
def delete_user(req: Request, id: str) -> Response:
    tx = _tx(req)
    delete_user_rows(tx, get_user(tx, id))
    return no_content()
