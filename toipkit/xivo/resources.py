"""One object per confd collection: list (search/order/paging), get, create, update, delete.

The shapes follow xivo-confd 1.1: lists come back as ``{"total": N, "items": [...]}``, creations
as the created object (201), updates and deletes as 204. Relations (line ↔ SIP endpoint,
line ↔ extension, user ↔ line, group members...) are methods of the parent resource.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from toipkit.errors import XivoAPIError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from toipkit.xivo.client import XivoClient

#: Field names whose values are secrets: masked in reprs and DataFrames.
SECRET_KEYS = frozenset(
    {"secret", "password", "sip_secret", "voicemail_password", "call_permission_password",
     "token", "pin", "admin_pin"}
)
MASK = "********"


def mask_secrets(value: Any) -> Any:
    """A copy of ``value`` (dict/list, nested) where every secret field is replaced by a mask."""
    if isinstance(value, Mapping):
        return {
            k: (MASK if k in SECRET_KEYS and v not in (None, "") else mask_secrets(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [mask_secrets(v) for v in value]
    if isinstance(value, tuple) and len(value) == 2 and value[0] in SECRET_KEYS:
        return (value[0], MASK)  # sip "options" pairs like ["secret", "..."]
    return value


class Record(dict):
    """A confd object: a plain ``dict`` whose printed form never shows secrets."""

    def __repr__(self) -> str:
        return repr(mask_secrets(dict(self)))

    __str__ = __repr__

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(repr(self))

    @property
    def id(self) -> Any:
        return self.get("id", self.get("uuid"))


def _record(obj: Any) -> Any:
    if isinstance(obj, dict):
        return Record(obj)
    return obj


@dataclass
class Page:
    """One page of a confd list: ``total`` (before paging) and ``items``."""

    total: int
    items: list[Record] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[Record]:
        return iter(self.items)

    def __getitem__(self, index: int) -> Record:
        return self.items[index]

    def __repr__(self) -> str:
        return f"Page(total={self.total}, items={len(self.items)})"

    def to_frame(self, columns: Iterable[str] | None = None, *, mask: bool = True) -> pd.DataFrame:
        """The items as a DataFrame (``links`` dropped, secrets masked unless ``mask=False``)."""
        import pandas as pd

        rows = [mask_secrets(dict(it)) if mask else dict(it) for it in self.items]
        for row in rows:
            row.pop("links", None)
        frame = pd.DataFrame(rows)
        if columns is not None:
            cols = list(columns)
            for col in cols:
                if col not in frame.columns:
                    frame[col] = None
            frame = frame[cols]
        return frame

    def _repr_html_(self) -> str:
        return self.to_frame()._repr_html_()


class XivoUnsupportedError(XivoAPIError):
    """The server's API has no such resource (older XiVO): do it in the web UI instead."""

    def __init__(self, resource: str, ui_menu: str | None, url: str | None = None) -> None:
        from toipkit.i18n import _

        hint = _("l'API de ce XiVO n'a pas de ressource « {resource} »").format(resource=resource)
        if ui_menu:
            hint += _(" : faites-le dans l'interface web ({menu})").format(menu=ui_menu)
        super().__init__(404, [], method=None, url=url, hint=hint)
        self.resource = resource
        self.ui_menu = ui_menu


def _ident(obj: Any, key: str = "id") -> Any:
    """Accept an id/uuid or a record (dict) and return the identifier to put in a URL."""
    if isinstance(obj, Mapping):
        for k in (key, "id", "uuid"):
            if obj.get(k) is not None:
                return obj[k]
        raise ValueError(f"record has no {key!r}: {mask_secrets(dict(obj))!r}")
    if obj is None:
        raise ValueError("an id is required, got None")
    return obj


_ALREADY = re.compile(r"already associated|is associated with", re.IGNORECASE)


class Resource:
    """A confd collection such as ``/1.1/users``.

    ``ui_menu`` names the web-UI menu that manages the same objects on a XiVO whose API lacks
    this collection (given in the error raised then).
    """

    def __init__(
        self, client: XivoClient, name: str, path: str, *, id_key: str = "id",
        ui_menu: str | None = None,
    ) -> None:
        self._client = client
        self.name = name
        self.path = path.strip("/")
        self.id_key = id_key
        self.ui_menu = ui_menu

    def __repr__(self) -> str:
        return f"<{type(self).__name__} /1.1/{self.path}>"

    # -- plumbing -------------------------------------------------------------------------
    def _url(self, *parts: Any) -> str:
        return "/".join([self.path, *(str(p) for p in parts)])

    def _require(self) -> None:
        self._client.require(self.path, self.name, self.ui_menu)

    def _json(self, method: str, *parts: Any, **kw: Any) -> Any:
        self._require()
        resp = self._client.request(method, self._url(*parts), **kw)
        if resp.status_code == 204 or not resp.content:
            return None
        return resp.json()

    # -- CRUD -------------------------------------------------------------------------------
    def list(
        self, search: str | None = None, *, order: str | None = None,
        direction: str | None = None, limit: int | None = None, offset: int | None = None,
        **filters: Any,
    ) -> Page:
        """GET the collection; ``filters`` are confd's exact-match column filters."""
        params: dict[str, Any] = {}
        for key, value in (("search", search), ("order", order), ("direction", direction),
                           ("limit", limit), ("offset", offset), *filters.items()):
            if value is not None:
                params[key] = _param(value)
        body = self._json("GET", params=params)
        return _page(body)

    def iter(self, page_size: int = 100, **params: Any) -> Iterator[Record]:
        """Every item, fetched ``page_size`` at a time (``limit``/``offset`` paging)."""
        offset = int(params.pop("offset", 0) or 0)
        while True:
            page = self.list(limit=page_size, offset=offset, **params)
            yield from page.items
            offset += len(page.items)
            if not page.items or offset >= page.total:
                return

    def all(self, **params: Any) -> Page:
        """All items in one :class:`Page` (paged underneath)."""
        items = list(self.iter(**params))
        return Page(total=len(items), items=items)

    def find(self, **fields: Any) -> Record | None:
        """The first item whose fields equal ``fields`` exactly (server filter + local check)."""
        for item in self.iter(**fields):
            if all(_same(item.get(k), v) for k, v in fields.items()):
                return item
        return None

    def get(self, ident: Any) -> Record:
        return _record(self._json("GET", _ident(ident, self.id_key)))

    def create(self, body: Mapping[str, Any] | None = None, **fields: Any) -> Record:
        data = {**(dict(body) if body else {}), **fields}
        return _record(self._json("POST", json=data))

    def update(self, ident: Any, body: Mapping[str, Any] | None = None, **fields: Any) -> None:
        """PUT a partial update. ``update(record)`` sends the record back (minus ``links``)."""
        if body is None and isinstance(ident, Mapping):
            body = ident
        data = {k: v for k, v in {**dict(body or {}), **fields}.items() if k != "links"}
        self._json("PUT", _ident(ident, self.id_key), json=data)

    def delete(self, ident: Any) -> None:
        self._json("DELETE", _ident(ident, self.id_key))

    # -- relations ----------------------------------------------------------------------
    def _associate(self, parent: Any, child_path: str, child: Any, check: Any = None) -> None:
        """PUT ``/{self}/{parent}/{child_path}/{child}``; an existing association is fine."""
        try:
            self._json("PUT", _ident(parent, self.id_key), child_path, _ident(child))
        except XivoAPIError as exc:
            # XiVO 16.x answers 400 "... is associated with ..." when it already exists.
            if not (exc.status == 400 and any(_ALREADY.search(m) for m in exc.messages)):
                raise
            if check is not None and not check():
                raise

    def _dissociate(self, parent: Any, child_path: str, child: Any) -> None:
        self._json("DELETE", _ident(parent, self.id_key), child_path, _ident(child))


def _has_schedule(owner: Mapping[str, Any], schedule: Any) -> bool:
    wanted = _ident(schedule)
    return any(_same(s.get("id"), wanted) for s in owner.get("schedules") or [])


def _param(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _same(a: Any, b: Any) -> bool:
    if isinstance(b, bool) or isinstance(a, bool):
        return a == b
    return str(a) == str(b)


def _page(body: Any) -> Page:
    if isinstance(body, Mapping) and "items" in body:
        items = [_record(i) for i in body.get("items") or []]
        return Page(total=int(body.get("total", len(items))), items=items)
    if isinstance(body, list):
        items = [_record(i) for i in body]
        return Page(total=len(items), items=items)
    raise XivoAPIError(200, [f"unexpected list body: {type(body).__name__}"])


# --------------------------------------------------------------------------------------
# Collections with relations
# --------------------------------------------------------------------------------------

class Users(Resource):
    def add_line(self, user: Any, line: Any) -> None:
        """Associate a line to a user (``PUT /users/{id}/lines/{line_id}``)."""
        line_id = _ident(line)
        self._associate(user, "lines", line_id,
                        check=lambda: any(_same(a.get("line_id"), line_id)
                                          for a in self.lines(user)))

    def remove_line(self, user: Any, line: Any) -> None:
        self._dissociate(user, "lines", line)

    def lines(self, user: Any) -> Page:
        """The user's line associations: items ``{user_id, line_id, main_user, main_line}``."""
        return _page(self._json("GET", _ident(user, self.id_key), "lines"))

    def main_endpoint_sip(self, user: Any) -> Record:
        """The SIP account (username, secret...) of the user's main line (by user UUID)."""
        uuid = _ident(user, "uuid")
        return _record(self._json("GET", uuid, "lines", "main", "associated", "endpoints", "sip"))

    def import_csv(self, data: Any, *, encoding: str = "utf-8", timeout: float = 300.0):
        """POST ``/users/import``: all rows or none. See :func:`toipkit.xivo.csvio.import_users`."""
        from toipkit.xivo.csvio import import_users

        return import_users(self, data, encoding=encoding, timeout=timeout)

    def update_csv(self, data: Any, *, encoding: str = "utf-8", timeout: float = 300.0):
        """PUT ``/users/import``: mass update by ``uuid`` column (XiVO 16.x; gone in Wazo 19.06)."""
        from toipkit.xivo.csvio import import_users

        return import_users(self, data, encoding=encoding, timeout=timeout, method="PUT")

    def export_csv(self) -> str:
        """GET ``/users/export`` as CSV text (contains SIP secrets: don't print it)."""
        self._require()
        resp = self._client.request(
            "GET", self._url("export"), headers={"Accept": "text/csv; charset=utf-8"})
        return resp.content.decode(resp.encoding or "utf-8")

    def export_frame(self, *, mask: bool = True) -> pd.DataFrame:
        """The CSV export as a DataFrame (every column as text; secrets masked by default)."""
        from toipkit.xivo.csvio import read_csv_text

        frame = read_csv_text(self.export_csv())
        if mask:
            for col in frame.columns:
                if col in SECRET_KEYS:
                    frame[col] = frame[col].where(frame[col].isna() | (frame[col] == ""), MASK)
        return frame


class Lines(Resource):
    def add_endpoint_sip(self, line: Any, endpoint: Any) -> None:
        endpoint_id = _ident(endpoint)
        self._associate(line, "endpoints/sip", endpoint_id,
                        check=lambda: _same((self.endpoint_sip(line) or Record()).get("endpoint_id"),
                                            endpoint_id))

    def remove_endpoint_sip(self, line: Any, endpoint: Any) -> None:
        self._dissociate(line, "endpoints/sip", endpoint)

    def endpoint_sip(self, line: Any) -> Record | None:
        """``{line_id, endpoint_id, endpoint}`` for the line's SIP endpoint, or None."""
        try:
            body = self._json("GET", _ident(line), "endpoints", "sip")
        except XivoAPIError as exc:
            if exc.status not in (404, 405):
                raise
            # Wazo 20.07+ dropped this route: the line itself carries ``endpoint_sip``.
            try:
                record = self.get(line)
            except XivoAPIError as exc2:
                if exc2.status == 404:
                    raise exc from None
                raise
            sip = record.get("endpoint_sip")
            if not sip:
                return None
            return Record({"line_id": record.get("id"), "endpoint_id": sip.get("id"),
                           "endpoint": "sip"})
        if isinstance(body, Mapping) and "items" in body:
            items = body.get("items") or []
            return _record(items[0]) if items else None
        return _record(body) if body else None

    def add_extension(self, line: Any, extension: Any) -> None:
        ext_id = _ident(extension)
        self._associate(line, "extensions", ext_id,
                        check=lambda: any(_same(a.get("extension_id"), ext_id)
                                          for a in self.extensions(line)))

    def remove_extension(self, line: Any, extension: Any) -> None:
        self._dissociate(line, "extensions", extension)

    def extensions(self, line: Any) -> Page:
        """Items ``{line_id, extension_id}``."""
        return _page(self._json("GET", _ident(line), "extensions"))

    def users(self, line: Any) -> Page:
        return _page(self._json("GET", _ident(line), "users"))


class Groups(Resource):
    def update_user_members(self, group: Any, users: Iterable[Any]) -> None:
        """Replace the member list (order matters for the ``linear`` strategy)."""
        body = {"users": [{"uuid": _ident(u, "uuid")} for u in users]}
        self._json("PUT", _ident(group), "members", "users", json=body)

    def update_extension_members(self, group: Any, extensions: Iterable[Mapping[str, Any]]
                                 ) -> None:
        """Replace the extension members ``[{"exten", "context"}, ...]`` (Wazo 17.16+)."""
        body = {"extensions": [dict(e) for e in extensions]}
        self._json("PUT", _ident(group), "members", "extensions", json=body)

    def add_extension(self, group: Any, extension: Any) -> None:
        self._associate(group, "extensions", extension,
                        check=lambda: _has_extension(self.get(group), extension))

    def remove_extension(self, group: Any, extension: Any) -> None:
        self._dissociate(group, "extensions", extension)

    def add_schedule(self, group: Any, schedule: Any) -> None:
        # "Group is associated with a Schedule" also means *another* schedule: check which
        self._associate(group, "schedules", schedule,
                        check=lambda: _has_schedule(self.get(group), schedule))

    def remove_schedule(self, group: Any, schedule: Any) -> None:
        self._dissociate(group, "schedules", schedule)


class Conferences(Resource):
    def add_extension(self, conference: Any, extension: Any) -> None:
        self._associate(conference, "extensions", extension,
                        check=lambda: _has_extension(self.get(conference), extension))

    def remove_extension(self, conference: Any, extension: Any) -> None:
        self._dissociate(conference, "extensions", extension)


class Incalls(Resource):
    def add_extension(self, incall: Any, extension: Any) -> None:
        self._associate(incall, "extensions", extension,
                        check=lambda: _has_extension(self.get(incall), extension))

    def remove_extension(self, incall: Any, extension: Any) -> None:
        self._dissociate(incall, "extensions", extension)

    def add_schedule(self, incall: Any, schedule: Any) -> None:
        self._associate(incall, "schedules", schedule,
                        check=lambda: _has_schedule(self.get(incall), schedule))


class CallFilters(Resource):
    def update_user_recipients(self, call_filter: Any, users: Iterable[Any],
                               timeout: int | None = None) -> None:
        """Set the boss (at most one recipient)."""
        body = {"users": [{"uuid": _ident(u, "uuid"), "timeout": timeout} for u in users]}
        self._json("PUT", _ident(call_filter), "recipients", "users", json=body)

    def update_user_surrogates(self, call_filter: Any, users: Iterable[Any]) -> None:
        """Set the secretaries."""
        body = {"users": [{"uuid": _ident(u, "uuid")} for u in users]}
        self._json("PUT", _ident(call_filter), "surrogates", "users", json=body)

    def fallbacks(self, call_filter: Any) -> Record:
        return _record(self._json("GET", _ident(call_filter), "fallbacks"))

    def update_fallbacks(self, call_filter: Any, fallbacks: Mapping[str, Any]) -> None:
        self._json("PUT", _ident(call_filter), "fallbacks", json=dict(fallbacks))


class Moh(Resource):
    def upload_file(self, moh: Any, filename: str, content: bytes) -> None:
        """PUT an audio file into a music-on-hold category (raw body)."""
        self._json("PUT", _ident(moh, "uuid"), "files", filename, content=content,
                   headers={"Content-Type": "application/octet-stream"})


def _has_extension(obj: Mapping[str, Any], extension: Any) -> bool:
    ext_id = _ident(extension)
    return any(_same(e.get("id"), ext_id) for e in obj.get("extensions") or [])
