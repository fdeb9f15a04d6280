"""The confd 1.1 subset served by the sandbox: resources, associations, validation.

Behaviour follows the reference note (``reference-xivo-api.md``): XiVO 16.x rules where they
exist (400 on re-association, "Line must be associated with a Endpoint", delete preconditions,
number ranges of the context), Wazo shapes for the resources 16.13 lacks (groups, conferences,
call filters, music on hold, schedules, IVR, contexts).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from toipkit.xivo.sandbox import schema as S
from toipkit.xivo.sandbox.http import Request, Response, Router, no_content
from toipkit.xivo.sandbox.schema import ApiError
from toipkit.xivo.sandbox.store import Tx

router = Router()

# API profiles: "full" serves everything below; "xivo-16.13" hides what confd 16.13 lacks
# (groups, conferences, call filters, MOH, schedules, IVR, contexts, feature codes: web-UI
# features there) and the read-only relations added in 16.14, so that clients can test their
# capability detection (reference note §0, §5, §6).
API_PROFILES = ("full", "xivo-16.13")
WAZO_ONLY = ("/groups", "/conferences", "/callfilters", "/moh", "/schedules", "/ivr",
             "/contexts", "/extensions/features")
NEWER_FIELDS = {
    "lines": ("endpoint_sip", "endpoint_sccp", "endpoint_custom", "extensions", "users"),
    "users": ("lines", "groups"),
}


def route_visible(route, profile: str) -> bool:
    if profile != "xivo-16.13":
        return True
    template = route.template
    # /users/{}/lines/{}/associated/endpoints/sip arrived in 16.15
    return not (template.startswith(WAZO_ONLY) or "/schedules/" in template
                or "/associated/" in template)


def strip_newer_fields(route, profile: str, body: Any) -> Any:
    """Remove the 16.14+ relations from line/user bodies under the 16.13 profile."""
    if profile != "xivo-16.13" or not isinstance(body, dict):
        return body
    parts = route.template.strip("/").split("/")
    if len(parts) > 2 or parts[0] not in NEWER_FIELDS:
        return body
    drop = NEWER_FIELDS[parts[0]]
    items = body["items"] if isinstance(body.get("items"), list) else [body]
    for item in items:
        if isinstance(item, dict):
            for key in drop:
                item.pop(key, None)
    return body

# Resource kinds: store kind -> (URL collection, confd's resource name in messages)
NAMES = {
    "user": "User", "line": "Line", "endpoint_sip": "SIPEndpoint", "extension": "Extension",
    "group": "Group", "conference": "Conference", "callfilter": "CallFilter", "moh": "MOH",
    "schedule": "Schedule", "incall": "Incall", "ivr": "IVR", "context": "Context",
    "entity": "Entity",
}

# Association relations stored in ``links`` (a -> b)
R_LINE_SIP = "line_endpoint_sip"
R_LINE_EXT = "line_extension"
R_USER_LINE = "user_line"
R_GROUP_MEMBER = "group_member_user"
R_GROUP_EXT = "group_extension"
R_CONF_EXT = "conference_extension"
R_INCALL_EXT = "incall_extension"
R_GROUP_SCHED = "group_schedule"
R_USER_SCHED = "user_schedule"
R_INCALL_SCHED = "incall_schedule"
EXT_OWNERS = ((R_LINE_EXT, "Line"), (R_GROUP_EXT, "Group"), (R_CONF_EXT, "Conference"),
              (R_INCALL_EXT, "Incall"))

def _tx(req: Request) -> Tx:
    assert req.tx is not None
    return req.tx


def _int_id(value: str, kind: str, key: str = "id") -> int:
    if not S.is_id(value):
        raise S.not_found(NAMES[kind], **{key: value})
    return int(value)


def get_or_404(tx: Tx, kind: str, value: str | int) -> dict:
    obj = tx.get(kind, int(value)) if S.is_id(str(value)) else None
    if obj is None:
        raise S.not_found(NAMES[kind], id=int(value) if S.is_id(str(value)) else value)
    return obj


def get_user(tx: Tx, value: str) -> dict:
    """A user by integer id or UUID, as confd accepts both."""
    obj = tx.get("user", int(value)) if S.is_id(value) else tx.get_by_uuid("user", value)
    if obj is None:
        key = "id" if S.is_id(value) else "uuid"
        raise S.not_found("User", **{key: int(value) if S.is_id(value) else value})
    return obj


def _body(obj: dict, schema: S.Schema) -> dict:
    return {k: obj.get(k) for k in schema.names()}


# --------------------------------------------------------------------------------------------
# Lists: search / order / direction / limit / offset / exact filters


def _parse_paging(req: Request) -> tuple[int | None, int]:
    values: dict[str, int | None] = {}
    for name in ("limit", "offset", "skip"):
        raw = req.query.get(name)
        if raw in (None, ""):
            values[name] = None
            continue
        if not S.is_digits(raw):
            raise S.input_error(f"field '{name}': wrong type. Should be a positive number")
        values[name] = int(raw)
    if values["limit"] == 0:  # xivo-dao: limit must be > 0
        raise S.input_error("field 'limit': wrong type. Should be a positive number")
    offset = values["offset"] if values["offset"] is not None else (values["skip"] or 0)
    return values["limit"], offset


def _sort_key(value: Any) -> tuple:
    if value is None:
        return (1, 0, "")
    if isinstance(value, bool):
        return (0, 0, int(value))
    if isinstance(value, (int, float)):
        return (0, 0, value)
    return (0, 1, str(value).lower())


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


CONTROL_PARAMS = {"search", "order", "direction", "limit", "offset", "skip", "view", "q",
                  "recurse"}


def paginate(req: Request, rows: list[dict], *, columns: Iterable[str], searchable: Iterable[str],
             default_order: str, render: Callable[[dict], dict] | None = None,
             aliases: dict[str, str] | None = None) -> Response:
    """confd list semantics over ``rows`` (flat dicts with every searchable/sortable column).

    ``columns`` are xivo-dao's search columns: the only ones a list can be sorted or
    exact-filtered on (other query parameters are ignored, as confd does); ``aliases`` maps
    a column name to the row key holding its value (users: ``extension`` → ``exten``).
    """
    columns = set(columns)
    aliases = aliases or {}
    searchable = list(searchable)
    order = req.query.get("order") or default_order
    if order not in columns:
        raise S.input_error(f"order: column '{order}' was not found")
    direction = req.query.get("direction") or "asc"
    if direction not in ("asc", "desc"):
        raise S.input_error("direction: must be 'asc' or 'desc'")
    limit, offset = _parse_paging(req)
    for name, value in req.query.items():
        if name in CONTROL_PARAMS or name not in columns:
            continue
        key = aliases.get(name, name)
        rows = [r for r in rows if _as_text(r.get(key)) == value]
    term = req.query.get("search", req.query.get("q"))
    if term:
        needle = term.lower()
        rows = [r for r in rows
                if needle in "\x1f".join([_as_text(r.get(c)) for c in searchable]).lower()]
    order_key = aliases.get(order, order)
    rows = sorted(rows, key=lambda r: (_sort_key(r.get(order_key)), r.get("id") or 0),
                  reverse=direction == "desc")
    total = len(rows)
    page = rows[offset:] if limit is None else rows[offset:offset + limit]
    items = [render(r) if render else r for r in page]
    return Response(200, {"total": total, "items": items})


# --------------------------------------------------------------------------------------------
# Contexts and number ranges


def get_context(tx: Tx, name: str | None) -> dict | None:
    if name is None:
        return None
    for ctx in tx.all("context"):  # a handful, cached across requests
        if ctx["name"] == name:
            return ctx
    return None


def require_context(tx: Tx, name: str) -> dict:
    ctx = get_context(tx, name)
    if ctx is None:
        raise S.param_not_found("context", "Context", name=name)
    return ctx


def _in_ranges(exten: str, ranges: list[dict]) -> bool:
    if not S.is_digits(exten):
        return False
    for r in ranges:
        start, end = str(r["start"]), str(r.get("end") or r["start"])
        if len(exten) == len(start) and int(start) <= int(exten) <= int(end):
            return True
        did = int(r.get("did_length") or 0)
        # xivo-dao (16.x) compares the number with the last ``did_length`` digits of the bounds
        if did and int(start[-did:]) <= int(exten) <= int(end[-did:]):
            return True
    return False


def check_extension_range(tx: Tx, exten: str, context_name: str) -> None:
    """XiVO 16.x: the exten must lie in one of the context's ranges (patterns are exempt)."""
    if exten.startswith("_"):
        return
    ctx = require_context(tx, context_name)
    ranges = [r for key in S.RANGE_KEYS for r in ctx.get(key) or []]
    if not _in_ranges(exten, ranges):
        raise S.outside_range(exten, context_name)


def check_typed_range(tx: Tx, extension: dict, key: str, label: str) -> None:
    """Wazo 20.01: line/group/conference numbers must be in the matching range."""
    exten = extension["exten"]
    if exten.startswith("_"):
        return
    ctx = require_context(tx, extension["context"])
    if not _in_ranges(exten, ctx.get(key) or []):
        raise S.input_error(
            f"Extension '{exten}' is outside of {label} range for context '{extension['context']}'"
        )


# --------------------------------------------------------------------------------------------
# Rendering helpers


def _ext_ref(req: Request, ext: dict) -> dict:
    return {"id": ext["id"], "exten": ext["exten"], "context": ext["context"],
            "links": [req.link("extensions", "extensions", ext["id"])]}


def _user_ref(req: Request, user: dict) -> dict:
    return {"uuid": user["uuid"], "firstname": user["firstname"], "lastname": user["lastname"],
            "links": [req.link("users", "users", user["uuid"])]}


def _extensions_of(tx: Tx, rel: str, owner_id: int) -> list[dict]:
    exts = tx.ids("extension")
    return [exts[e] for e in tx.targets(rel, owner_id) if e in exts]


def _owner_of_extension(tx: Tx, ext_id: int) -> tuple[str, int] | None:
    for rel, label in EXT_OWNERS:
        owners = tx.sources(rel, ext_id)
        if owners:
            return label, owners[0]
    return None


def _fullname(user: dict) -> str:
    return " ".join(p for p in (user.get("firstname"), user.get("lastname")) if p)


# --------------------------------------------------------------------------------------------
# Generic CRUD for plain resources (groups, conferences, call filters, schedules, incalls, IVR,
# contexts, MOH). Users, lines, SIP endpoints and extensions have their own handlers below.


class Kind:
    def __init__(self, kind: str, collection: str, schema: S.Schema, *, default_order: str,
                 render: Callable[[Request, dict], dict], key: str = "id",
                 validate: Callable[[Tx, dict, dict | None], None] | None = None,
                 on_delete: Callable[[Tx, dict], None] | None = None,
                 unique: tuple[str, ...] = ()) -> None:
        self.kind = kind
        self.collection = collection
        self.schema = schema
        self.default_order = default_order
        self.render = render
        self.key = key
        self.validate = validate
        self.on_delete = on_delete
        self.unique = unique

    def fetch(self, tx: Tx, value: str) -> dict:
        if self.key == "uuid":
            obj = tx.get_by_uuid(self.kind, value)
            if obj is None:
                raise S.not_found(NAMES[self.kind], uuid=value)
            return obj
        return get_or_404(tx, self.kind, value)

    def check_unique(self, tx: Tx, doc: dict, current: dict | None) -> None:
        for name in self.unique:
            if doc.get(name) is None:
                continue
            for other in tx.find(self.kind, **{name: doc[name]}):
                if current is None or other["id"] != current["id"]:
                    raise S.resource_exists(NAMES[self.kind], **{name: doc[name]})

    def register(self) -> None:
        col, tag = self.collection, self.collection.strip("/")
        item = f"{col}/{{{self.key}}}"

        def list_(req: Request) -> Response:
            tx = _tx(req)
            columns = set(self.schema.names()) | {"id", "uuid"}
            searchable = [f.name for f in self.schema.fields if f.searchable and f.type == "str"]
            return paginate(req, tx.all(self.kind), columns=columns, searchable=searchable,
                            default_order=self.default_order,
                            render=lambda o: self.render(req, o))

        def create(req: Request) -> Response:
            tx = _tx(req)
            doc = self.schema.load_create(req.json())
            if self.validate:
                self.validate(tx, doc, None)
            self.check_unique(tx, doc, None)
            new_uuid = tx.new_uuid(self.kind) if self.key == "uuid" else None
            new_id = tx.insert(self.kind, doc, uuid=new_uuid)
            obj = tx.get(self.kind, new_id)
            assert obj is not None
            body = self.render(req, obj)
            return Response(201, body, headers={"Location": req.url(tag, obj[self.key])})

        def get(req: Request, **kw: str) -> Response:
            return Response(200, self.render(req, self.fetch(_tx(req), kw[self.key])))

        def update(req: Request, **kw: str) -> Response:
            tx = _tx(req)
            obj = self.fetch(tx, kw[self.key])
            doc = self.schema.load_update(req.json(), obj)
            if self.validate:
                self.validate(tx, doc, obj)
            self.check_unique(tx, doc, obj)
            tx.update(self.kind, obj["id"], doc)
            return no_content()

        def delete(req: Request, **kw: str) -> Response:
            tx = _tx(req)
            obj = self.fetch(tx, kw[self.key])
            if self.on_delete:
                self.on_delete(tx, obj)
            tx.delete(self.kind, obj["id"])
            return no_content()

        router.add("GET", col, list_, summary=f"List {tag}", tag=tag)
        router.add("POST", col, create, summary=f"Create a {NAMES[self.kind]}", tag=tag)
        router.add("GET", item, get, summary=f"Get a {NAMES[self.kind]}", tag=tag)
        router.add("PUT", item, update, summary=f"Update a {NAMES[self.kind]}", tag=tag)
        router.add("DELETE", item, delete, summary=f"Delete a {NAMES[self.kind]}", tag=tag)


# --------------------------------------------------------------------------------------------
# Infos, wizard, entities


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


# --------------------------------------------------------------------------------------------
# Contexts


def render_context(req: Request, c: dict) -> dict:
    out = {"id": c["id"], **_body(c, S.CONTEXT)}
    out["links"] = [req.link("contexts", "contexts", c["id"])]
    return out


def validate_context(tx: Tx, doc: dict, current: dict | None) -> None:
    S.check_ranges(doc)


def delete_context(tx: Tx, ctx: dict) -> None:
    if tx.find("extension", context=ctx["name"]):
        raise S.resource_associated("Context", "Extension", name=ctx["name"])
    if tx.find("line", context=ctx["name"]):
        raise S.resource_associated("Context", "Line", name=ctx["name"])


Kind("context", "/contexts", S.CONTEXT, default_order="name", render=render_context,
     validate=validate_context, on_delete=delete_context, unique=("name",)).register()


# --------------------------------------------------------------------------------------------
# Users


def _user_lines(tx: Tx, user_id: int) -> list[int]:
    return tx.targets(R_USER_LINE, user_id)  # ordered by position: main line first


def _user_main_extension(tx: Tx, user_id: int) -> dict | None:
    for line_id in _user_lines(tx, user_id):
        exts = _extensions_of(tx, R_LINE_EXT, line_id)
        if exts:
            return exts[0]
    return None


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


def _entity_names(tx: Tx) -> tuple[dict[int, str], str | None]:
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
        has_sip = bool(line_sips.get(line_id) if line_sips is not None
                       else line_id is not None and tx.targets(R_LINE_SIP, line_id))
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


# --------------------------------------------------------------------------------------------
# SIP endpoints


def _line_of_sip(tx: Tx, sip_id: int) -> int | None:
    lines = tx.sources(R_LINE_SIP, sip_id)
    return lines[0] if lines else None


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


# --------------------------------------------------------------------------------------------
# Lines


def _line_sip(tx: Tx, line_id: int) -> dict | None:
    sips = tx.ids("endpoint_sip")
    for sip_id in tx.targets(R_LINE_SIP, line_id):
        if sip_id in sips:
            return sips[sip_id]
    return None


def _line_name(tx: Tx, line_id: int) -> str | None:
    sip = _line_sip(tx, line_id)
    return sip["username"] if sip else None


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


# line <-> SIP endpoint


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


# line <-> extension


# confd 16.x names the owner of an extension by its type column ("user", "group", ...)
_OWNER_TYPES = {"Line": "user", "Group": "group", "Conference": "conference",
                "Incall": "incall"}


def _check_extension_free(tx: Tx, ext: dict, lines_allowed: bool = False) -> None:
    owner = _owner_of_extension(tx, ext["id"])
    if owner is not None and not (lines_allowed and owner[0] == "Line"):
        raise S.resource_associated("Extension", _OWNER_TYPES[owner[0]], id=ext["id"],
                                    associated_id=owner[1])


def context_type_error(ctx: dict, ext: dict) -> ApiError:
    return ApiError(400, f"Resource Error - ContextType '{ctx['type']}' cannot be associated"
                         f" ('id': {ext['id']}, 'context': {ext['context']!r})")


def _check_internal(tx: Tx, ext: dict) -> None:
    ctx = require_context(tx, ext["context"])
    if ctx["type"] != "internal":
        raise context_type_error(ctx, ext)


def _main_user(tx: Tx, line_id: int) -> int | None:
    users = line_users(tx, line_id)
    return users[0] if users else None


def line_users(tx: Tx, line_id: int) -> list[int]:
    """Users of a line, main user (the first associated) first."""
    return tx.sources_by_pos(R_USER_LINE, line_id)


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


# user <-> line


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


# --------------------------------------------------------------------------------------------
# Legacy lines_sip (line + SIP account in one resource)


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


# --------------------------------------------------------------------------------------------
# Extensions


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


# --------------------------------------------------------------------------------------------
# Groups


def render_group(req: Request, g: dict) -> dict:
    tx = _tx(req)
    out: dict[str, Any] = {"id": g["id"], **_body(g, S.GROUP)}
    out["extensions"] = [_ext_ref(req, e) for e in _extensions_of(tx, R_GROUP_EXT, g["id"])]
    users = tx.ids("user")
    out["members"] = {"users": [_user_ref(req, users[u])
                                for u in tx.targets(R_GROUP_MEMBER, g["id"]) if u in users]}
    schedules = tx.ids("schedule")
    out["schedules"] = [{"id": s, "name": schedules[s].get("name"),
                         "links": [req.link("schedules", "schedules", s)]}
                        for s in tx.targets(R_GROUP_SCHED, g["id"]) if s in schedules]
    out["fallbacks"] = {"noanswer_destination": g.get("_noanswer_destination")}
    out["incalls"] = _incalls_to(req, "group", "group_id", g["id"])
    out["links"] = [req.link("groups", "groups", g["id"])]
    return out


def _incalls_to(req: Request, dest_type: str, key: str, obj_id: int) -> list[dict]:
    tx = _tx(req)
    out = []
    for inc in tx.all("incall"):
        dest = inc.get("destination") or {}
        if dest.get("type") == dest_type and dest.get(key) == obj_id:
            out.append({"id": inc["id"], "extensions": [
                _ext_ref(req, e) for e in _extensions_of(tx, R_INCALL_EXT, inc["id"])],
                "links": [req.link("incalls", "incalls", inc["id"])]})
    return out


def _delete_group(tx: Tx, g: dict) -> None:
    for rel in (R_GROUP_MEMBER, R_GROUP_EXT, R_GROUP_SCHED):
        tx.unlink(rel, a=g["id"])


def _keep_private(doc: dict, current: dict | None) -> None:
    """Carry hidden keys (``_...``) of the stored document over a PUT."""
    if current:
        for key, value in current.items():
            if key.startswith("_"):
                doc[key] = value


def _validate_group(tx: Tx, doc: dict, current: dict | None) -> None:
    if doc.get("name") == "general":
        raise S.field_error("name", "Invalid value.")
    _keep_private(doc, current)


Kind("group", "/groups", S.GROUP, default_order="name", render=render_group,
     validate=_validate_group, on_delete=_delete_group, unique=("name",)).register()


def check_member_items(items: Any, extra: dict[str, S.Field] | None = None,
                       field_name: str = "users") -> list[dict]:
    """Validate a ``{"users": [{"uuid": ...}, ...]}`` list like confd's nested marshmallow
    schema: every problem of every item in one ``Input Error - users: {index: {...}}``."""
    if not isinstance(items, list):
        raise S.field_error(field_name, "Not a valid list." if items is not None
                            else "Field may not be null.")
    problems: dict[int, dict[str, list[str]]] = {}
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            problems[index] = {"_schema": ["Invalid input type."]}
            continue
        errs: dict[str, list[str]] = {}
        if "uuid" not in item:
            errs["uuid"] = ["Missing data for required field."]
        elif item["uuid"] is None:
            errs["uuid"] = ["Field may not be null."]
        elif not isinstance(item["uuid"], str):
            errs["uuid"] = ["Not a valid string."]
        for name, spec in (extra or {}).items():
            if name in item:
                try:
                    spec.check(item[name])
                except ApiError as exc:
                    text = exc.messages[0]
                    errs[name] = [text[text.index("['") + 2:text.rindex("']")]]
        if errs:
            problems[index] = errs
    if problems:
        raise ApiError(400, f"Input Error - {field_name}: {problems!r}")
    return items


def _resolve_users(tx: Tx, items: list[dict], *, unknown_is_input_error: bool) -> list[dict]:
    """Users named by uuid. Groups (16.15) answer 404 for an unknown uuid; call filters
    (18.03) a 400 ``field 'users': User was not found``."""
    users = []
    for item in items:
        user = tx.get_by_uuid("user", item["uuid"])
        if user is None:
            if unknown_is_input_error:
                raise S.param_not_found("users", "User", uuid=item["uuid"])
            raise S.not_found("User", uuid=item["uuid"])
        users.append(user)
    return users


def _not_permitted(text: str, **metadata: Any) -> ApiError:
    return ApiError(400, f"Resource Error - Operation not permitted. {text}"
                         f"{S._meta(metadata)}")


@router.route("PUT", "/groups/{id}/members/users", summary="Set the member users of a group")
def put_group_members(req: Request, id: str) -> Response:
    tx = _tx(req)
    group = get_or_404(tx, "group", id)
    body = req.json()
    if not isinstance(body, dict) or "users" not in body:
        raise ApiError(400, ["Input Error - users: ['Missing data for required field.']"])
    users = _resolve_users(tx, check_member_items(body["users"]), unknown_is_input_error=False)
    main_lines = []
    for user in users:
        lines = _user_lines(tx, user["id"])
        if not lines:
            raise S.missing_association("User", "Line", user_uuid=user["uuid"])
        main_lines.append(lines[0])
    if len({u["id"] for u in users}) != len(users):
        raise _not_permitted("Cannot associate same user more than once")
    for line_id in main_lines:
        if main_lines.count(line_id) > 1:
            raise _not_permitted("Cannot associate different users with the same line",
                                 line_id=line_id)
    tx.unlink(R_GROUP_MEMBER, a=group["id"])
    for pos, user in enumerate(users):
        tx.link(R_GROUP_MEMBER, group["id"], user["id"], pos=pos)
    return no_content()


def _owner_extension_routes(kind: str, coll: str, rel: str, range_key: str | None,
                            range_label: str, context_type: str = "internal") -> None:
    def put(req: Request, id: str, extension_id: str) -> Response:
        tx = _tx(req)
        owner = get_or_404(tx, kind, id)
        ext = get_or_404(tx, "extension", extension_id)
        current = tx.targets(rel, owner["id"])
        if current:
            raise S.resource_associated(NAMES[kind], "Extension", **{
                f"{kind}_id": owner["id"], "extension_id": current[0]})
        same_kind = tx.sources(rel, ext["id"])
        if same_kind:  # confd names the owner first: "Group is associated with a Extension"
            raise S.resource_associated(NAMES[kind], "Extension", **{
                f"{kind}_id": same_kind[0], "extension_id": ext["id"]})
        _check_extension_free(tx, ext)
        ctx = require_context(tx, ext["context"])
        if ctx["type"] != context_type:
            raise context_type_error(ctx, ext)
        if range_key:
            check_typed_range(tx, ext, range_key, range_label)
        tx.link(rel, owner["id"], ext["id"])
        return no_content()

    def delete(req: Request, id: str, extension_id: str) -> Response:
        tx = _tx(req)
        owner = get_or_404(tx, kind, id)
        ext = get_or_404(tx, "extension", extension_id)
        if ext["id"] not in tx.targets(rel, owner["id"]):
            raise S.not_found(f"{NAMES[kind]}Extension", **{
                f"{kind}_id": owner["id"], "extension_id": ext["id"]})
        tx.unlink(rel, owner["id"], ext["id"])
        return no_content()

    path = f"/{coll}/{{id}}/extensions/{{extension_id}}"
    router.add("PUT", path, put, summary=f"Associate a {NAMES[kind]} and an extension", tag=coll)
    router.add("DELETE", path, delete, summary=f"Dissociate a {NAMES[kind]} and an extension",
               tag=coll)


_owner_extension_routes("group", "groups", R_GROUP_EXT, "group_ranges", "group")
_owner_extension_routes("conference", "conferences", R_CONF_EXT, "conference_room_ranges",
                        "conference room")
_owner_extension_routes("incall", "incalls", R_INCALL_EXT, None, "incall", context_type="incall")


def _fallback_routes(kind: str, coll: str) -> None:
    def get(req: Request, id: str) -> Response:
        obj = get_or_404(_tx(req), kind, id)
        return Response(200, {"noanswer_destination": obj.get("_noanswer_destination")})

    def put(req: Request, id: str) -> Response:
        tx = _tx(req)
        obj = get_or_404(tx, kind, id)
        body = req.json()
        if not isinstance(body, dict):
            raise ApiError(400, "Input Error - _schema: ['Invalid input type.']")
        dest = body.get("noanswer_destination")
        if dest is not None:
            S.check_destination("noanswer_destination", dest)
        doc = {k: v for k, v in obj.items() if k not in ("id", "uuid")}
        doc["_noanswer_destination"] = dest
        tx.update(kind, obj["id"], doc)
        return no_content()

    router.add("GET", f"/{coll}/{{id}}/fallbacks", get, summary="Fallback destinations", tag=coll)
    router.add("PUT", f"/{coll}/{{id}}/fallbacks", put, summary="Set fallback destinations",
               tag=coll)


_fallback_routes("group", "groups")
_fallback_routes("callfilter", "callfilters")


def _schedule_routes(kind: str, coll: str, rel: str, *, by_user: bool = False) -> None:
    def fetch(tx: Tx, value: str) -> dict:
        return get_user(tx, value) if by_user else get_or_404(tx, kind, value)

    def put(req: Request, id: str, schedule_id: str) -> Response:
        tx = _tx(req)
        owner = fetch(tx, id)
        sched = get_or_404(tx, "schedule", schedule_id)
        current = tx.targets(rel, owner["id"])
        if current:
            raise S.resource_associated(NAMES[kind], "Schedule", **{
                f"{kind}_id": owner["id"], "schedule_id": current[0]})
        tx.link(rel, owner["id"], sched["id"])
        return no_content()

    def delete(req: Request, id: str, schedule_id: str) -> Response:
        tx = _tx(req)
        owner = fetch(tx, id)
        sched = get_or_404(tx, "schedule", schedule_id)
        if sched["id"] not in tx.targets(rel, owner["id"]):
            raise S.resource_not_associated(NAMES[kind], "Schedule", **{
                f"{kind}_id": owner["id"], "schedule_id": sched["id"]})
        tx.unlink(rel, owner["id"], sched["id"])
        return no_content()

    path = f"/{coll}/{{id}}/schedules/{{schedule_id}}"
    router.add("PUT", path, put, summary=f"Associate a {NAMES[kind]} and a schedule", tag=coll)
    router.add("DELETE", path, delete, summary=f"Dissociate a {NAMES[kind]} and a schedule",
               tag=coll)


_schedule_routes("group", "groups", R_GROUP_SCHED)
_schedule_routes("user", "users", R_USER_SCHED, by_user=True)
_schedule_routes("incall", "incalls", R_INCALL_SCHED)


# --------------------------------------------------------------------------------------------
# Conferences


def render_conference(req: Request, c: dict) -> dict:
    tx = _tx(req)
    out: dict[str, Any] = {"id": c["id"], **_body(c, S.CONFERENCE)}
    out["extensions"] = [_ext_ref(req, e) for e in _extensions_of(tx, R_CONF_EXT, c["id"])]
    out["incalls"] = _incalls_to(req, "conference", "conference_id", c["id"])
    out["links"] = [req.link("conferences", "conferences", c["id"])]
    return out


Kind("conference", "/conferences", S.CONFERENCE, default_order="name", render=render_conference,
     on_delete=lambda tx, c: tx.unlink(R_CONF_EXT, a=c["id"])).register()


# --------------------------------------------------------------------------------------------
# Call filters (boss / secretary)


def _members(tx: Tx, filter_id: int, role: str) -> list[dict]:
    rows = [m for m in tx.all("callfilter_member")
            if m["callfilter_id"] == filter_id and m["bstype"] == role]
    return sorted(rows, key=lambda m: (m.get("position", 0), m["id"]))


def render_callfilter(req: Request, f: dict) -> dict:
    tx = _tx(req)
    users = tx.ids("user")
    out: dict[str, Any] = {"id": f["id"], **_body(f, S.CALLFILTER)}
    recipients = []
    for m in _members(tx, f["id"], "boss"):
        user = users.get(m["user_id"])
        if user:
            recipients.append({**_user_ref(req, user), "timeout": m.get("timeout"),
                               "member_id": m["id"]})
    surrogates = []
    for m in _members(tx, f["id"], "secretary"):
        user = users.get(m["user_id"])
        if user:
            surrogates.append({**_user_ref(req, user), "member_id": m["id"]})
    out["recipients"] = {"users": recipients}
    out["surrogates"] = {"users": surrogates}
    out["fallbacks"] = {"noanswer_destination": f.get("_noanswer_destination")}
    out["links"] = [req.link("callfilters", "callfilters", f["id"])]
    return out


def _delete_callfilter(tx: Tx, f: dict) -> None:
    for m in tx.find("callfilter_member", callfilter_id=f["id"]):
        tx.delete("callfilter_member", m["id"])


Kind("callfilter", "/callfilters", S.CALLFILTER, default_order="name", render=render_callfilter,
     validate=lambda tx, doc, cur: _keep_private(doc, cur), on_delete=_delete_callfilter,
     unique=("name",)).register()


def _set_members(tx: Tx, filter_id: int, role: str, users: list[dict],
                 timeouts: list[int | None] | None = None) -> None:
    """Replace one role's members, keeping the member id of users who stay (``*37<id>``)."""
    existing = {m["user_id"]: m for m in _members(tx, filter_id, role)}
    keep = {u["id"] for u in users}
    for user_id, m in existing.items():
        if user_id not in keep:
            tx.delete("callfilter_member", m["id"])
    for pos, user in enumerate(users):
        doc = {"callfilter_id": filter_id, "user_id": user["id"], "bstype": role,
               "timeout": timeouts[pos] if timeouts else None, "position": pos,
               "active": existing[user["id"]].get("active", False)
               if user["id"] in existing else False}
        if user["id"] in existing:
            tx.update("callfilter_member", existing[user["id"]]["id"], doc)
        else:
            tx.insert("callfilter_member", doc)


@router.route("PUT", "/callfilters/{id}/recipients/users",
              summary="Set the recipient (boss) of a call filter")
def put_recipients(req: Request, id: str) -> Response:
    tx = _tx(req)
    cf = get_or_404(tx, "callfilter", id)
    body = req.json()
    if not isinstance(body, dict) or "users" not in body:
        raise ApiError(400, ["Input Error - users: ['Missing data for required field.']"])
    items = check_member_items(body["users"], {"timeout": S.Field("timeout", "int", min=0)})
    users = _resolve_users(tx, items, unknown_is_input_error=True)
    if len(users) > 1:
        raise _not_permitted("Cannot associate more than one recipient")
    timeouts = [item.get("timeout") for item in items]
    surrogate_ids = {m["user_id"] for m in _members(tx, cf["id"], "secretary")}
    for user in users:
        if user["id"] in surrogate_ids:  # xivo-dao's template, as 18.03 fills it
            raise S.resource_associated("CallFilter", str(cf["id"]),
                                        surrogate_user_uuid=user["uuid"])
    _set_members(tx, cf["id"], "boss", users, timeouts)
    return no_content()


@router.route("PUT", "/callfilters/{id}/surrogates/users",
              summary="Set the surrogates (secretaries) of a call filter")
def put_surrogates(req: Request, id: str) -> Response:
    tx = _tx(req)
    cf = get_or_404(tx, "callfilter", id)
    body = req.json()
    if not isinstance(body, dict) or "users" not in body:
        raise ApiError(400, ["Input Error - users: ['Missing data for required field.']"])
    users = _resolve_users(tx, check_member_items(body["users"]), unknown_is_input_error=True)
    if len({u["id"] for u in users}) != len(users):
        raise _not_permitted("Cannot associate same user more than once")
    boss_ids = {m["user_id"] for m in _members(tx, cf["id"], "boss")}
    for user in users:
        if user["id"] in boss_ids:
            raise S.resource_associated("CallFilter", str(cf["id"]),
                                        recipient_user_uuid=user["uuid"])
    _set_members(tx, cf["id"], "secretary", users)
    return no_content()


# --------------------------------------------------------------------------------------------
# Music on hold (keyed by UUID)


def render_moh(req: Request, m: dict) -> dict:
    tx = _tx(req)
    out: dict[str, Any] = {"uuid": m["uuid"], **_body(m, S.MOH)}
    out["files"] = [{"name": n} for n in tx.blob_names("moh:" + m["uuid"])]
    out["links"] = [req.link("moh", "moh", m["uuid"])]
    return out


def _delete_moh(tx: Tx, m: dict) -> None:
    tx.delete_blobs("moh:" + m["uuid"])


Kind("moh", "/moh", S.MOH, default_order="name", render=render_moh, key="uuid",
     on_delete=_delete_moh, unique=("name",)).register()


def _moh_file(tx: Tx, uuid: str, filename: str) -> dict:
    moh = tx.get_by_uuid("moh", uuid)
    if moh is None:
        raise S.not_found("MOH", uuid=uuid)
    if "/" in filename or filename.startswith("."):
        raise S.input_error(f"field 'filename': invalid file name '{filename}'")
    return moh


@router.route("PUT", "/moh/{uuid}/files/{filename}", summary="Upload a hold-music file")
def put_moh_file(req: Request, uuid: str, filename: str) -> Response:
    tx = _tx(req)
    moh = _moh_file(tx, uuid, filename)
    tx.put_blob("moh:" + moh["uuid"], filename, req.body)
    return no_content()


@router.route("GET", "/moh/{uuid}/files/{filename}", summary="Download a hold-music file")
def get_moh_file(req: Request, uuid: str, filename: str) -> Response:
    tx = _tx(req)
    moh = _moh_file(tx, uuid, filename)
    data = tx.get_blob("moh:" + moh["uuid"], filename)
    if data is None:
        raise S.not_found("File", name=filename)
    return Response(200, data, content_type="application/octet-stream")


@router.route("DELETE", "/moh/{uuid}/files/{filename}", summary="Delete a hold-music file")
def delete_moh_file(req: Request, uuid: str, filename: str) -> Response:
    tx = _tx(req)
    moh = _moh_file(tx, uuid, filename)
    if not tx.delete_blobs("moh:" + moh["uuid"], filename):
        raise S.not_found("File", name=filename)
    return no_content()


# --------------------------------------------------------------------------------------------
# Schedules, incalls, IVR


def render_schedule(req: Request, s: dict) -> dict:
    tx = _tx(req)
    out: dict[str, Any] = {"id": s["id"], **_body(s, S.SCHEDULE)}
    groups, users = tx.ids("group"), tx.ids("user")
    out["groups"] = [{"id": g, "name": groups[g]["name"], "links": [req.link("groups", "groups",
                                                                               g)]}
                     for g in tx.sources(R_GROUP_SCHED, s["id"]) if g in groups]
    out["users"] = [_user_ref(req, users[u]) for u in tx.sources(R_USER_SCHED, s["id"])
                    if u in users]
    out["incalls"] = [{"id": i, "links": [req.link("incalls", "incalls", i)]}
                      for i in tx.sources(R_INCALL_SCHED, s["id"])]
    out["outcalls"] = []
    out["links"] = [req.link("schedules", "schedules", s["id"])]
    return out


def _validate_schedule(tx: Tx, doc: dict, current: dict | None) -> None:
    S.check_destination("closed_destination", doc["closed_destination"])
    doc["open_periods"] = S.check_periods("open_periods", doc.get("open_periods") or [])
    doc["exceptional_periods"] = S.check_periods(
        "exceptional_periods", doc.get("exceptional_periods") or [], with_destination=True)


def _delete_schedule(tx: Tx, s: dict) -> None:
    for rel in (R_GROUP_SCHED, R_USER_SCHED, R_INCALL_SCHED):
        tx.unlink(rel, b=s["id"])


Kind("schedule", "/schedules", S.SCHEDULE, default_order="name", render=render_schedule,
     validate=_validate_schedule, on_delete=_delete_schedule).register()


def render_incall(req: Request, i: dict) -> dict:
    tx = _tx(req)
    out: dict[str, Any] = {"id": i["id"], **_body(i, S.INCALL)}
    out["extensions"] = [_ext_ref(req, e) for e in _extensions_of(tx, R_INCALL_EXT, i["id"])]
    schedules = tx.ids("schedule")
    out["schedules"] = [{"id": s, "name": schedules[s].get("name"),
                         "links": [req.link("schedules", "schedules", s)]}
                        for s in tx.targets(R_INCALL_SCHED, i["id"]) if s in schedules]
    out["links"] = [req.link("incalls", "incalls", i["id"])]
    return out


def _validate_incall(tx: Tx, doc: dict, current: dict | None) -> None:
    S.check_destination("destination", doc["destination"])


def _delete_incall(tx: Tx, i: dict) -> None:
    tx.unlink(R_INCALL_EXT, a=i["id"])
    tx.unlink(R_INCALL_SCHED, a=i["id"])


Kind("incall", "/incalls", S.INCALL, default_order="id", render=render_incall,
     validate=_validate_incall, on_delete=_delete_incall).register()


def render_ivr(req: Request, v: dict) -> dict:
    out: dict[str, Any] = {"id": v["id"], **_body(v, S.IVR)}
    out["incalls"] = _incalls_to(req, "ivr", "ivr_id", v["id"])
    out["links"] = [req.link("ivr", "ivr", v["id"])]
    return out


def _validate_ivr(tx: Tx, doc: dict, current: dict | None) -> None:
    for key in ("invalid_destination", "timeout_destination", "abort_destination"):
        if doc.get(key) is not None:
            S.check_destination(key, doc[key])
    for choice in doc.get("choices") or []:
        if not isinstance(choice, dict) or not isinstance(choice.get("exten"), str):
            raise S.field_error("choices", "Each choice needs an 'exten' and a 'destination'.")
        S.check_destination("choices", choice.get("destination"))


Kind("ivr", "/ivr", S.IVR, default_order="name", render=render_ivr,
     validate=_validate_ivr).register()
