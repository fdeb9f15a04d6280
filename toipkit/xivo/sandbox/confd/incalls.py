"""``/incalls``: CRUD, extension and schedule associations."""

from __future__ import annotations

from typing import Any

from toipkit.xivo.sandbox import schema as S
from toipkit.xivo.sandbox.confd.associations import (
    _extensions_of,
    _owner_extension_routes,
    _schedule_routes,
)
from toipkit.xivo.sandbox.confd.common import R_INCALL_EXT, R_INCALL_SCHED, _body, _ext_ref, _tx
from toipkit.xivo.sandbox.confd.crud import Kind
from toipkit.xivo.sandbox.http import Request
from toipkit.xivo.sandbox.store import Tx

_owner_extension_routes("incall", "incalls", R_INCALL_EXT, None, "incall", context_type="incall")


_schedule_routes("incall", "incalls", R_INCALL_SCHED)


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


Kind("incall", S.INCALL, default_order="id", render=render_incall,
     validate=_validate_incall, on_delete=_delete_incall).register()
