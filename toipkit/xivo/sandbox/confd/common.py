"""Shared pieces of the confd sandbox: the router, API profiles, confd's resource names,
the link relations, id lookups and small renderers.
"""

from __future__ import annotations

from typing import Any

from toipkit.xivo.catalog import RESOURCES
from toipkit.xivo.sandbox import schema as S
from toipkit.xivo.sandbox.http import Request, Router
from toipkit.xivo.sandbox.store import Tx

router = Router()


# API profiles: "full" serves everything below; "xivo-16.13" hides what confd 16.13 lacks
# (groups, conferences, call filters, MOH, schedules, IVR, contexts, feature codes: web-UI
# features there) and the read-only relations added in 16.14, so that clients can test their
# capability detection (docs/sandbox.md, "XiVO 16.x behaviour").
API_PROFILES = ("full", "xivo-16.13")


# Collections confd 16.13 did not serve yet (web-UI features there), from the resource table.
WAZO_ONLY = tuple("/" + r.collection for r in RESOURCES if not r.in_16_13)


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


# Store kind -> confd's resource name in messages ("Group was not found")
NAMES = {r.kind: r.confd_name for r in RESOURCES if r.kind and r.confd_name}


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


def _ext_ref(req: Request, ext: dict) -> dict:
    return {"id": ext["id"], "exten": ext["exten"], "context": ext["context"],
            "links": [req.link("extensions", "extensions", ext["id"])]}


def _user_ref(req: Request, user: dict) -> dict:
    return {"uuid": user["uuid"], "firstname": user["firstname"], "lastname": user["lastname"],
            "links": [req.link("users", "users", user["uuid"])]}


def _fullname(user: dict) -> str:
    return " ".join(p for p in (user.get("firstname"), user.get("lastname")) if p)
