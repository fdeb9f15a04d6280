"""``/contexts`` (number ranges edited the way the web UI does)."""

from __future__ import annotations

from toipkit.xivo.sandbox import schema as S
from toipkit.xivo.sandbox.confd.common import _body
from toipkit.xivo.sandbox.confd.crud import Kind
from toipkit.xivo.sandbox.http import Request
from toipkit.xivo.sandbox.store import Tx


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


Kind("context", S.CONTEXT, default_order="name", render=render_context,
     validate=validate_context, on_delete=delete_context, unique=("name",)).register()
