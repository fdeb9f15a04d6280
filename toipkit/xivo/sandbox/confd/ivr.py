"""``/ivr``."""

from __future__ import annotations

from typing import Any

from toipkit.xivo.sandbox import schema as S
from toipkit.xivo.sandbox.confd.associations import _incalls_to
from toipkit.xivo.sandbox.confd.common import _body
from toipkit.xivo.sandbox.confd.crud import Kind
from toipkit.xivo.sandbox.http import Request
from toipkit.xivo.sandbox.store import Tx


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


Kind("ivr", S.IVR, default_order="name", render=render_ivr,
     validate=_validate_ivr).register()
