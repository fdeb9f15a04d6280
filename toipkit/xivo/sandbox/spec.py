"""A minimal Swagger 2.0 document listing the paths the sandbox implements.

confd serves its spec at ``/1.1/api/api.json`` (≤16.13) or ``/1.1/api/api.yml`` (16.15+), with
no auth; clients detect which resources exist from its ``paths``. The sandbox serves both.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from toipkit.xivo.sandbox.http import Route, Router


def build_spec(router: Router, visible: Callable[[Route], bool] | None = None) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for route in router.routes:
        if visible is not None and not visible(route):
            continue
        entry = paths.setdefault(route.template, {})
        params = [{"name": name, "in": "path", "required": True, "type": "string"}
                  for name in re.findall(r"\{(\w+)\}", route.template)]
        op: dict[str, Any] = {
            "summary": route.summary or f"{route.method} {route.template}",
            "tags": [route.tag],
            "responses": _responses(route.method),
        }
        if params:
            op["parameters"] = params
        if not route.auth:
            op["security"] = []
        entry[route.method.lower()] = op
    return {
        "swagger": "2.0",
        "info": {"title": "xivo-confd (toipkit sandbox)", "version": "1.1",
                 "description": "Subset of the XiVO/Wazo confd 1.1 API served by the toipkit "
                                "sandbox."},
        "basePath": "/1.1",
        "schemes": ["http"],
        "consumes": ["application/json"],
        "produces": ["application/json"],
        "securityDefinitions": {
            "xivo_auth_token": {"type": "apiKey", "name": "X-Auth-Token", "in": "header"},
        },
        "security": [{"xivo_auth_token": []}],
        "paths": dict(sorted(paths.items())),
    }


def _responses(method: str) -> dict[str, Any]:
    ok = {"GET": "200", "POST": "201", "PUT": "204", "DELETE": "204"}.get(method, "200")
    out: dict[str, Any] = {ok: {"description": "Success"}}
    out["400"] = {"description": "Invalid input (JSON list of messages)"}
    out["401"] = {"description": "Missing or invalid X-Auth-Token"}
    out["404"] = {"description": "Resource not found"}
    return out
