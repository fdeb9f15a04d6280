"""``/1.1/wizard``: XiVO's installation wizard over the API (16.13 field names and rules).

A sandbox reset with ``wizard={"configured": False}`` behaves like a fresh XiVO:
``GET /1.1/wizard`` → ``{"configured": false}``, ``GET /1.1/wizard/discover`` describes the
(pretend) machine, and ``POST /1.1/wizard`` creates the entity and the contexts with the user
number range — what lab 01 does in the web UI. No token is needed while unconfigured; once
configured, POST and discover answer 403. The admin password is checked, never stored or
echoed. As the lab also adds group and conference-room ranges to ``default`` (IPBX
configuration → Contexts), the sandbox adds the default ones at the same time.
"""

from __future__ import annotations

import json
import re
from typing import Any

from toipkit.xivo.sandbox import wizard
from toipkit.xivo.sandbox.confd import router
from toipkit.xivo.sandbox.http import Request, Response
from toipkit.xivo.sandbox.schema import ApiError

ADMIN_PASSWORD_RE = r"[a-zA-Z0-9/:;<=>?@\[\\\]^_`{|}-]{4,64}"
IP_RE = r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}"
_LABEL = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
HOSTNAME_RE = _LABEL
DOMAIN_RE = rf"(?:{_LABEL}\.)*{_LABEL}"
INTERFACE_RE = r"[\w\-:.]{1,64}"

MISSING = "Missing data for required field."
PATTERN = "String does not match expected pattern."

DISCOVER = {
    "hostname": "xivo",
    "domain": "localdomain",
    "timezone": "Europe/Paris",
    "nameservers": ["192.168.0.2"],
    "interfaces": [{"interface": "eth0", "ip_address": "192.168.0.1", "netmask": "255.255.255.0"}],
    "gateways": [{"gateway": "192.168.0.2", "interface": "eth0"}],
}


def _configured(req: Request) -> bool:
    assert req.tx is not None
    return req.tx.meta("configured") == "1"


def _string(errors: dict, data: dict, name: str, *, required: bool = False,
            regex: str | None = None, max_len: int | None = None, min_len: int | None = None,
            digits: bool = False) -> str | None:
    if name not in data or data[name] is None:
        if required:
            errors[name] = [MISSING]
        return None
    value = data[name]
    if not isinstance(value, str):
        errors[name] = ["Not a valid string."]
        return None
    problems = []
    if regex and not re.fullmatch(regex, value):
        problems.append(PATTERN)
    if digits and not value.isdigit():
        problems.append("Invalid value.")
    if max_len is not None and len(value) > max_len:
        problems.append(f"Longer than maximum length {max_len}.")
    if min_len is not None and len(value) < min_len:
        problems.append(f"Shorter than minimum length {min_len}.")
    if problems:
        errors[name] = problems
        return None
    return value


def _numbers(errors: dict, data: dict, required: bool) -> tuple[str, str] | None:
    start = _string(errors, data, "number_start", required=required, digits=True, max_len=16)
    end = _string(errors, data, "number_end", required=required, digits=True, max_len=16)
    if errors or (not start and not end):
        return None
    if not start or not end:
        errors["_schema"] = ["Both numbers, number_start and number_end, must be set"]
    elif len(start) != len(end):
        errors["_schema"] = ["Numbers do not have de same length"]
    elif int(start) > int(end):
        errors["_schema"] = ["It is not a valid interval"]
    else:
        return start, end
    return None


def _nested(errors: dict, body: dict, name: str, required: bool) -> dict | None:
    value = body.get(name)
    if value is None:
        if required:
            errors[name] = [MISSING]
        return None
    if not isinstance(value, dict):
        errors[name] = {"_schema": ["Invalid input type."]}
        return None
    return value


def _validate(body: Any) -> dict:
    if not isinstance(body, dict):
        raise ApiError(400, "Input Error - _schema: ['Invalid input type.']")
    errors: dict[str, Any] = {}
    out: dict[str, Any] = {}
    _string(errors, body, "admin_password", required=True, regex=ADMIN_PASSWORD_RE)
    if "license" not in body:
        errors["license"] = [MISSING]
    elif body["license"] is not True:
        errors["license"] = ["Must be equal to True."]
    out["language"] = body.get("language", "en_US")
    if out["language"] not in ("en_US", "fr_FR"):
        errors["language"] = ["Not a valid choice."]
    entity = _string(errors, body, "entity_name", required=True, min_len=3, max_len=64)
    if entity is not None and sum(ch.isalnum() for ch in entity) < 3:
        errors["entity_name"] = ["Shorter than alphanumeric minimum length 3."]
    out["entity_name"] = entity
    out["timezone"] = _string(errors, body, "timezone", required=True, max_len=128)

    net_errors: dict[str, Any] = {}
    network = _nested(errors, body, "network", required=True)
    if network is not None:
        net = {
            "hostname": _string(net_errors, network, "hostname", required=True,
                                regex=HOSTNAME_RE, max_len=63),
            "ip_address": _string(net_errors, network, "ip_address", required=True,
                                  regex=IP_RE),
            "domain": _string(net_errors, network, "domain", required=True, regex=DOMAIN_RE,
                              max_len=255),
            "interface": _string(net_errors, network, "interface", required=True,
                                 regex=INTERFACE_RE),
            "netmask": _string(net_errors, network, "netmask", required=True, regex=IP_RE),
            "gateway": _string(net_errors, network, "gateway", required=True, regex=IP_RE),
        }
        servers = network.get("nameservers")
        if servers is None:
            net_errors["nameservers"] = [MISSING]
        elif not isinstance(servers, list) or not all(
                isinstance(x, str) and re.fullmatch(IP_RE, x) for x in servers):
            net_errors["nameservers"] = ["Not a valid list of IP addresses."]
        elif len(servers) > 3:
            net_errors["nameservers"] = ["Longer than maximum length 3."]
        net["nameservers"] = servers
        if net_errors:
            errors["network"] = net_errors
        out["network"] = net

    for key, label, required in (("context_internal", "Default", True),
                                 ("context_incall", "Incalls", False),
                                 ("context_outcall", "Outcalls", False)):
        ctx = _nested(errors, body, key, required)
        if ctx is None and key in errors:
            continue
        ctx = ctx or {}
        ctx_errors: dict[str, Any] = {}
        item: dict[str, Any] = {
            "display_name": _string(ctx_errors, ctx, "display_name", min_len=3, max_len=128)
            or label}
        if key != "context_outcall":
            numbers = _numbers(ctx_errors, ctx, required=key == "context_internal")
            if numbers:
                item["number_start"], item["number_end"] = numbers
            if key == "context_incall":
                did = ctx.get("did_length")
                if did is not None and (isinstance(did, bool) or not isinstance(did, int)
                                        or not 0 <= did <= 20):
                    ctx_errors["did_length"] = ["Must be between 0 and 20."]
                elif numbers and not did:
                    ctx_errors["did_length"] = [MISSING]
                item["did_length"] = did
        if ctx_errors:
            errors[key] = ctx_errors
        out[key] = item
    if errors:
        raise ApiError(400, [f"Input Error - {k}: {v!r}" for k, v in errors.items()])
    return out


@router.route("GET", "/wizard", auth=False, summary="Is the XiVO configured?")
def get_wizard(req: Request) -> Response:
    return Response(200, {"configured": _configured(req)})


@router.route("GET", "/wizard/discover", auth=False,
              summary="Network settings found on the machine (before the wizard)")
def discover(req: Request) -> Response:
    if _configured(req):
        raise ApiError(403, "XiVO is already configured")
    return Response(200, DISCOVER)


@router.route("POST", "/wizard", auth=False, summary="Run the installation wizard")
def post_wizard(req: Request) -> Response:
    tx = req.tx
    assert tx is not None
    if _configured(req):
        raise ApiError(403, "XiVO is already configured")
    data = _validate(req.json())
    internal, incall = data["context_internal"], data["context_incall"]
    cfg = wizard.wizard_config({
        "entity": data["entity_name"],
        "user_range": (internal["number_start"], internal["number_end"]),
        "incall_range": ((incall["number_start"], incall["number_end"])
                         if incall.get("number_start") else None),
        "did_length": incall.get("did_length") or 4,
        "api_profile": tx.meta("api_profile") or "full",
        "context_labels": {"default": internal["display_name"],
                           "from-extern": incall["display_name"],
                           "to-extern": data["context_outcall"]["display_name"]},
    })
    wizard.apply_wizard(tx, cfg)
    tx.set_meta("wizard", json.dumps(data))  # no admin password in here
    return Response(200, {"xivo_uuid": tx.meta("xivo_uuid"), "admin_username": "root", **data})
