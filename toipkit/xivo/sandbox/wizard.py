"""The state right after XiVO's installation wizard, as the lab configures it.

Handout §4: entity "Badlands", users in 100–…; the lab also adds group and conference-room
ranges to ``default`` (XiVO 16.x: IPBX configuration → Contexts). Change them with
``PUT /1.1/contexts/{id}`` or by passing ``wizard=`` to :func:`toipkit.xivo.sandbox.reset`.
"""

from __future__ import annotations

import copy
from typing import Any

from toipkit.xivo.sandbox import schema as S
from toipkit.xivo.sandbox.store import Tx

WIZARD_DEFAULTS: dict[str, Any] = {
    "entity": "Badlands",
    "context": "default",
    "user_range": ("100", "199"),
    "group_range": ("200", "299"),
    "conference_range": ("300", "399"),
    "queue_range": None,
    "incall_context": "from-extern",
    "incall_range": ("1000", "1999"),
    "did_length": 4,
    "outcall_context": "to-extern",
    "moh": ["default"],
    # "full" (default) or "xivo-16.13": hide what confd 16.13 lacks (see confd.API_PROFILES)
    "api_profile": "full",
    # False: a fresh XiVO before its wizard (POST /1.1/wizard configures it, as in lab 01)
    "configured": True,
    "context_labels": {"default": "Default", "from-extern": "Incalls", "to-extern": "Outcalls"},
    # A text makes generated values (UUIDs, SIP usernames/secrets, provisioning codes)
    # reproducible after each reset: stable notebook outputs for nbval. None = random.
    "seed": None,
}


def wizard_config(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    config = copy.deepcopy(WIZARD_DEFAULTS)
    for key, value in (overrides or {}).items():
        if key not in config:
            raise ValueError(f"unknown wizard setting {key!r}; known: {', '.join(config)}")
        config[key] = value
    if config["api_profile"] not in ("full", "xivo-16.13"):
        raise ValueError(f"unknown api_profile {config['api_profile']!r}: "
                         "'full' or 'xivo-16.13'")
    return config


def _range(pair: Any) -> list[dict]:
    if not pair:
        return []
    start, end = (str(pair[0]), str(pair[1]))
    return [{"start": start, "end": end}]


def seed(tx: Tx, overrides: dict[str, Any] | None = None) -> None:
    """Fill an empty database: MOH "default", and what the wizard creates unless
    ``configured`` is False (then ``POST /1.1/wizard`` does it)."""
    cfg = wizard_config(overrides)
    if cfg["seed"]:
        tx.set_meta("seed", str(cfg["seed"]))  # before anything is generated
    for name in cfg["moh"]:
        tx.insert("moh", S.MOH.load_create({"name": name, "label": name.capitalize(),
                                            "mode": "files"}), uuid=tx.new_uuid("moh"))
    tx.set_meta("api_profile", cfg["api_profile"])
    tx.set_meta("xivo_uuid", tx.new_uuid("xivo"))
    tx.set_meta("seeded", "1")
    if cfg["configured"]:
        apply_wizard(tx, cfg)
    else:
        tx.set_meta("configured", "0")


def apply_wizard(tx: Tx, cfg: dict[str, Any]) -> None:
    """Entity, contexts ``default`` (with its number ranges), incall and outcall contexts."""
    display = cfg["entity"]
    labels = cfg.get("context_labels") or {}
    tx.insert("entity", {"name": "".join(ch for ch in display if ch.isalnum()).lower(),
                         "display_name": display, "description": ""})
    internal = S.CONTEXT.load_create({
        "name": cfg["context"], "label": labels.get(cfg["context"], cfg["context"].capitalize()),
        "type": "internal",
        "user_ranges": _range(cfg["user_range"]), "group_ranges": _range(cfg["group_range"]),
        "queue_ranges": _range(cfg["queue_range"]),
        "conference_room_ranges": _range(cfg["conference_range"]),
    })
    S.check_ranges(internal)
    tx.insert("context", internal)
    incall_ranges = _range(cfg["incall_range"])
    for r in incall_ranges:
        r["did_length"] = cfg["did_length"]
    incall = S.CONTEXT.load_create({"name": cfg["incall_context"],
                                    "label": labels.get(cfg["incall_context"], "Incalls"),
                                    "type": "incall", "incall_ranges": incall_ranges})
    S.check_ranges(incall)
    tx.insert("context", incall)
    tx.insert("context", S.CONTEXT.load_create({
        "name": cfg["outcall_context"], "label": labels.get(cfg["outcall_context"], "Outcalls"),
        "type": "outcall"}))
    tx.set_meta("configured", "1")


def ensure_seeded(tx: Tx) -> None:
    if tx.meta("seeded") != "1":
        seed(tx)


def reset(tx: Tx, overrides: dict[str, Any] | None = None) -> None:
    tx.wipe()
    seed(tx, overrides)
