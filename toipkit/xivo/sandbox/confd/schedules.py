"""``/schedules`` and the user ↔ schedule association."""

from __future__ import annotations

from typing import Any

from toipkit.xivo.sandbox import schema as S
from toipkit.xivo.sandbox.confd.associations import _schedule_routes
from toipkit.xivo.sandbox.confd.common import (
    R_GROUP_SCHED,
    R_INCALL_SCHED,
    R_USER_SCHED,
    _body,
    _tx,
    _user_ref,
)
from toipkit.xivo.sandbox.confd.crud import Kind
from toipkit.xivo.sandbox.http import Request
from toipkit.xivo.sandbox.store import Tx

_schedule_routes("user", "users", R_USER_SCHED, by_user=True)


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


Kind("schedule", S.SCHEDULE, default_order="name", render=render_schedule,
     validate=_validate_schedule, on_delete=_delete_schedule).register()
