"""What XiVO derives from its configuration: number → user, group, conference, call filter...

This is what the generated dialplan would do with ``Goto(default,201,1)``: ring group
"accueil" (members 101, 102). The dialplan simulator reads it through
:func:`toipkit.xivo.sandbox.directory` or ``GET /0.1/sandbox/directory?context=default``.
Secrets (SIP secrets, PINs, passwords) are never part of it.
"""

from __future__ import annotations

from typing import Any

from toipkit.xivo.sandbox import confd as C
from toipkit.xivo.sandbox.store import Tx

STRATEGY_LABELS = {
    "all-recipients-then-linear-surrogates": "boss first, then secretaries one by one",
    "all-recipients-then-all-surrogates": "boss first, then all secretaries",
    "linear-surrogates-then-all-recipients": "secretaries one by one, then the boss",
    "all-surrogates-then-all-recipients": "all secretaries, then the boss",
    "all": "boss and secretaries together",
}


def _user_number(tx: Tx, user_id: int, context: str | None = None) -> str | None:
    ext = C._user_main_extension(tx, user_id)
    if ext is None or (context is not None and ext["context"] != context):
        return None
    return ext["exten"]


def build(tx: Tx, context: str = "default") -> dict[str, dict[str, Any]]:
    """Number → description, for one context."""
    out: dict[str, dict[str, Any]] = {}
    users = tx.by_id("user")
    exts = tx.by_id("extension")
    filters_by_boss: dict[int, dict] = {}
    callfilters = tx.by_id("callfilter")
    members = tx.all("callfilter_member")
    for cf in callfilters.values():
        cf_members = sorted((m for m in members if m["callfilter_id"] == cf["id"]),
                            key=lambda m: (m["bstype"] != "boss", m.get("position", 0), m["id"]))
        for m in cf_members:
            if m["bstype"] == "boss":
                filters_by_boss[m["user_id"]] = cf

    def numbers(user_ids: list[int]) -> list[str]:
        return [n for n in (_user_number(tx, u, None) for u in user_ids) if n]

    for (line_id, ext_id, _p, _e) in tx.links(C.R_LINE_EXT):
        ext = exts.get(ext_id)
        if ext is None or ext["context"] != context:
            continue
        user_ids = tx.sources(C.R_USER_LINE, line_id)
        user = users.get(user_ids[0]) if user_ids else None
        sip = C._line_sip(tx, line_id)
        entry: dict[str, Any] = {
            "kind": "user", "context": context, "exten": ext["exten"],
            "name": C._fullname(user) if user else None,
            "user_uuid": user["uuid"] if user else None,
            "line_id": line_id, "sip_username": sip["username"] if sip else None,
            "members": [], "enabled": bool(user.get("enabled", True)) if user else True,
        }
        keys = (user or {}).get("_funckeys") or {}
        if keys:
            entry["funckeys"] = [
                {"position": int(pos), "label": key.get("label"),
                 "type": key["destination"].get("type"),
                 "exten": (f"*37{key['destination'].get('filter_member_id')}"
                           if key["destination"].get("type") == "bsfilter" else None)}
                for pos, key in sorted(keys.items(), key=lambda i: int(i[0]))]
        label = f"user {entry['name']}" if user else f"line {line_id} (no user)"
        if user and user["id"] in filters_by_boss:
            cf = filters_by_boss[user["id"]]
            secretaries = [m["user_id"] for m in members
                           if m["callfilter_id"] == cf["id"] and m["bstype"] == "secretary"]
            entry["callfilter"] = {"name": cf["name"], "strategy": cf["strategy"],
                                   "surrogates": numbers(secretaries)}
            label += (f" (filtered by {cf['name']}: "
                      f"{STRATEGY_LABELS.get(cf['strategy'], cf['strategy'])})")
        entry["label"] = label
        out[ext["exten"]] = entry

    groups = tx.by_id("group")
    for (group_id, ext_id, _p, _e) in tx.links(C.R_GROUP_EXT):
        ext, group = exts.get(ext_id), groups.get(group_id)
        if ext is None or group is None or ext["context"] != context:
            continue
        member_numbers = numbers(tx.targets(C.R_GROUP_MEMBER, group_id))
        schedules = tx.by_id("schedule")
        out[ext["exten"]] = {
            "kind": "group", "context": context, "exten": ext["exten"], "name": group["name"],
            "group_id": group_id, "members": member_numbers,
            "ring_strategy": group.get("ring_strategy"), "timeout": group.get("timeout"),
            "music_on_hold": group.get("music_on_hold"), "enabled": group.get("enabled", True),
            "schedules": [schedules[s].get("name") for s in tx.targets(C.R_GROUP_SCHED, group_id)
                          if s in schedules],
            "label": f"ring group {group['name']}: {', '.join(member_numbers) or '(no member)'}",
        }

    conferences = tx.by_id("conference")
    for (conf_id, ext_id, _p, _e) in tx.links(C.R_CONF_EXT):
        ext, conf = exts.get(ext_id), conferences.get(conf_id)
        if ext is None or conf is None or ext["context"] != context:
            continue
        open_access = not conf.get("pin")
        out[ext["exten"]] = {
            "kind": "conference", "context": context, "exten": ext["exten"],
            "name": conf.get("name"), "conference_id": conf_id, "members": [],
            "pin_required": not open_access, "max_users": conf.get("max_users"),
            "label": f"conference room {conf.get('name')}"
                     + (" (open access)" if open_access else " (PIN required)"),
        }

    incalls = tx.by_id("incall")
    for (incall_id, ext_id, _p, _e) in tx.links(C.R_INCALL_EXT):
        ext, incall = exts.get(ext_id), incalls.get(incall_id)
        if ext is None or incall is None or ext["context"] != context:
            continue
        dest = incall.get("destination") or {}
        out[ext["exten"]] = {
            "kind": "incall", "context": context, "exten": ext["exten"],
            "name": incall.get("description"), "incall_id": incall_id, "members": [],
            "destination": dest, "label": f"incoming call → {_describe(tx, dest)}",
        }

    # Boss/secretary toggles: *37<member id> (feature bsfilter, reachable from internal contexts)
    ctx = C.get_context(tx, context)
    if ctx is not None and ctx.get("type") == "internal":
        for m in members:
            toggled = callfilters.get(m["callfilter_id"])
            user = users.get(m["user_id"])
            if toggled is None or user is None:
                continue
            cf_users = [x["user_id"] for x in members if x["callfilter_id"] == toggled["id"]]
            role = "boss" if m["bstype"] == "boss" else "secretary"
            code = f"*37{m['id']}"
            out[code] = {
                "kind": "callfilter", "context": "xivo-features", "exten": code,
                "name": toggled["name"], "callfilter_id": toggled["id"], "member_id": m["id"],
                "member_role": role, "member": _user_number(tx, user["id"]),
                "member_name": C._fullname(user), "members": numbers(cf_users),
                "strategy": toggled["strategy"],
                "label": f"toggle call filter {toggled['name']} for {role} {C._fullname(user)}",
            }
    return dict(sorted(out.items()))


def _describe(tx: Tx, dest: dict) -> str:
    kind = dest.get("type")
    if kind == "user":
        user = tx.get("user", dest.get("user_id") or 0)
        return f"user {C._fullname(user)}" if user else "user (missing)"
    if kind == "group":
        group = tx.get("group", dest.get("group_id") or 0)
        return f"group {group['name']}" if group else "group (missing)"
    if kind == "conference":
        conf = tx.get("conference", dest.get("conference_id") or 0)
        return f"conference {conf.get('name')}" if conf else "conference (missing)"
    if kind == "ivr":
        ivr = tx.get("ivr", dest.get("ivr_id") or 0)
        return f"IVR {ivr['name']}" if ivr else "IVR (missing)"
    if kind == "extension":
        return f"Goto({dest.get('context')},{dest.get('exten')},1)"
    if kind == "custom":
        return str(dest.get("command"))
    return str(kind)
