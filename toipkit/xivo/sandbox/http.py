"""Transport-independent request/response objects and a small path router."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from toipkit.xivo.sandbox.schema import ApiError
from toipkit.xivo.sandbox.store import Tx


@dataclass
class Request:
    method: str
    path: str  # inside the API version prefix, e.g. "/users/3"
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes
    base: str  # absolute URL of the API root, e.g. "http://127.0.0.1:8000/1.1"
    tx: Tx | None = None

    def json(self, required: bool = True) -> Any:
        if not self.body.strip():
            if required:
                raise ApiError(400, "Input Error - _schema: ['Invalid input type.']")
            return None
        try:
            value = json.loads(self.body.decode(self.charset()))
        except RecursionError:
            raise ApiError(400, "Failed to decode JSON object: nested too deeply") from None
        except (ValueError, UnicodeDecodeError, LookupError) as exc:
            raise ApiError(400, f"Failed to decode JSON object: {exc}") from None
        try:  # lone surrogates ("\ud800") would poison every later UTF-8 answer
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise ApiError(400, "Failed to decode JSON object: invalid Unicode "
                                "(lone surrogate)") from None
        except RecursionError:
            raise ApiError(400, "Failed to decode JSON object: nested too deeply") from None
        return value

    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def charset(self) -> str:
        for part in self.headers.get("content-type", "").split(";")[1:]:
            key, _, value = part.partition("=")
            if key.strip().lower() == "charset" and value.strip():
                return value.strip().strip('"')
        return "utf-8"

    def accepts(self, mime: str) -> bool:
        return mime in self.headers.get("accept", "").lower()

    def url(self, *parts: Any) -> str:
        return self.base + "/" + "/".join(str(p) for p in parts)

    def link(self, rel: str, *parts: Any) -> dict:
        return {"rel": rel, "href": self.url(*parts)}


@dataclass
class Response:
    status: int = 200
    body: Any = None  # JSON-serialisable, or bytes (sent as is)
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)

    def payload(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        return json.dumps(self.body).encode("utf-8")


def no_content() -> Response:
    return Response(204, None, content_type="")


@dataclass
class Route:
    method: str
    template: str
    handler: Callable[..., Response]
    regex: re.Pattern[str]
    auth: bool = True
    summary: str = ""
    tag: str = ""


class Router:
    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, method: str, template: str, handler: Callable[..., Response], *,
            auth: bool = True, summary: str = "", tag: str = "") -> None:
        pattern = "^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template) + "/?$"
        self.routes.append(Route(method, template, handler, re.compile(pattern), auth, summary,
                                 tag or template.strip("/").split("/")[0]))

    def route(self, method: str, template: str, **kw: Any) -> Callable:
        def deco(fn: Callable[..., Response]) -> Callable[..., Response]:
            self.add(method, template, fn, **kw)
            return fn
        return deco

    def match(self, method: str, path: str,
              visible: Callable[[Route], bool] | None = None) -> tuple[Route, dict[str, str]]:
        allowed = False
        best: tuple[int, Route, dict[str, str]] | None = None
        for route in self.routes:
            if visible is not None and not visible(route):
                continue
            m = route.regex.match(path)
            if m:
                if route.method == method or (method == "HEAD" and route.method == "GET"):
                    # Literal segments win over parameters: /users/export before /users/{id}.
                    score = len(m.groupdict())
                    if best is None or score < best[0]:
                        best = (score, route, m.groupdict())
                else:
                    allowed = True
        if best is not None:
            return best[1], {k: unquote(v) for k, v in best[2].items()}
        if allowed:
            raise ApiError(405, "The method is not allowed for the requested URL.")
        raise ApiError(
            404,
            "The requested URL was not found on the server. If you entered the URL manually "
            "please check your spelling and try again.",
        )
