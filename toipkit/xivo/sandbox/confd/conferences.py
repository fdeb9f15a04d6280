"""``/conferences`` and their extension (Wazo 16.16)."""

from __future__ import annotations

from typing import Any

from toipkit.xivo.sandbox import schema as S
from toipkit.xivo.sandbox.confd.associations import (
    _extensions_of,
    _incalls_to,
    _owner_extension_routes,
)
from toipkit.xivo.sandbox.confd.common import R_CONF_EXT, _body, _ext_ref, _tx
from toipkit.xivo.sandbox.confd.crud import Kind
from toipkit.xivo.sandbox.http import Request

_owner_extension_routes("conference", "conferences", R_CONF_EXT, "conference_room_ranges",
                        "conference room")


def render_conference(req: Request, c: dict) -> dict:
    tx = _tx(req)
    out: dict[str, Any] = {"id": c["id"], **_body(c, S.CONFERENCE)}
    out["extensions"] = [_ext_ref(req, e) for e in _extensions_of(tx, R_CONF_EXT, c["id"])]
    out["incalls"] = _incalls_to(req, "conference", "conference_id", c["id"])
    out["links"] = [req.link("conferences", "conferences", c["id"])]
    return out


Kind("conference", S.CONFERENCE, default_order="name", render=render_conference,
     on_delete=lambda tx, c: tx.unlink(R_CONF_EXT, a=c["id"])).register()
