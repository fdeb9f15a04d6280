"""confd list semantics: ``search``, ``order``, ``direction``, ``limit``, ``offset`` and exact
filters on xivo-dao's search columns.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from toipkit.xivo.sandbox import schema as S
from toipkit.xivo.sandbox.http import Request, Response


def _parse_paging(req: Request) -> tuple[int | None, int]:
    values: dict[str, int | None] = {}
    for name in ("limit", "offset", "skip"):
        raw = req.query.get(name)
        if raw in (None, ""):
            values[name] = None
            continue
        if not S.is_digits(raw):
            raise S.input_error(f"field '{name}': wrong type. Should be a positive number")
        values[name] = int(raw)
    if values["limit"] == 0:  # xivo-dao: limit must be > 0
        raise S.input_error("field 'limit': wrong type. Should be a positive number")
    offset = values["offset"] if values["offset"] is not None else (values["skip"] or 0)
    return values["limit"], offset


def _sort_key(value: Any) -> tuple:
    if value is None:
        return (1, 0, "")
    if isinstance(value, bool):
        return (0, 0, int(value))
    if isinstance(value, (int, float)):
        return (0, 0, value)
    return (0, 1, str(value).lower())


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


# Sorted copies of the shared, read-only lists the store caches between requests (e.g. all
# users): a paged read of 10,000 users then costs no sort. Keyed by the list's identity, which
# stays valid while the list is referenced here.
_SORTED: dict[tuple[int, str, bool], tuple[list, list]] = {}
_SORTED_LOCK = threading.Lock()


def _sorted(rows: list[dict], key: str, reverse: bool) -> list[dict]:
    cache_key = (id(rows), key, reverse)
    hit = _SORTED.get(cache_key)
    if hit is not None and hit[0] is rows:
        return hit[1]
    result = sorted(rows, key=lambda r: (_sort_key(r.get(key)), r.get("id") or 0),
                    reverse=reverse)
    if len(rows) >= 200:  # worth keeping; small lists sort in microseconds
        with _SORTED_LOCK:
            if len(_SORTED) >= 32:
                _SORTED.clear()
            _SORTED[cache_key] = (rows, result)
    return result


CONTROL_PARAMS = {"search", "order", "direction", "limit", "offset", "skip", "view", "q",
                  "recurse"}


def paginate(req: Request, rows: list[dict], *, columns: Iterable[str], searchable: Iterable[str],
             default_order: str, render: Callable[[dict], dict] | None = None,
             aliases: dict[str, str] | None = None) -> Response:
    """confd list semantics over ``rows`` (flat dicts with every searchable/sortable column).

    ``columns`` are xivo-dao's search columns: the only ones a list can be sorted or
    exact-filtered on (other query parameters are ignored, as confd does); ``aliases`` maps
    a column name to the row key holding its value (users: ``extension`` → ``exten``).
    """
    columns = set(columns)
    aliases = aliases or {}
    searchable = list(searchable)
    order = req.query.get("order") or default_order
    if order not in columns:
        raise S.input_error(f"order: column '{order}' was not found")
    direction = req.query.get("direction") or "asc"
    if direction not in ("asc", "desc"):
        raise S.input_error("direction: must be 'asc' or 'desc'")
    limit, offset = _parse_paging(req)
    for name, value in req.query.items():
        if name in CONTROL_PARAMS or name not in columns:
            continue
        key = aliases.get(name, name)
        rows = [r for r in rows if _as_text(r.get(key)) == value]
    term = req.query.get("search", req.query.get("q"))
    if term:
        needle = term.lower()
        rows = [r for r in rows
                if needle in "\x1f".join([_as_text(r.get(c)) for c in searchable]).lower()]
    order_key = aliases.get(order, order)
    rows = _sorted(rows, order_key, direction == "desc")
    total = len(rows)
    page = rows[offset:] if limit is None else rows[offset:offset + limit]
    items = [render(r) if render else r for r in page]
    return Response(200, {"total": total, "items": items})
