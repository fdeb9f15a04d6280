"""Generic CRUD for plain resources: one :class:`Kind` per collection registers its five routes."""

from __future__ import annotations

from collections.abc import Callable

from toipkit.xivo.catalog import BY_KIND
from toipkit.xivo.sandbox import schema as S
from toipkit.xivo.sandbox.confd.common import NAMES, _tx, get_or_404, router
from toipkit.xivo.sandbox.confd.listing import paginate
from toipkit.xivo.sandbox.http import Request, Response, no_content
from toipkit.xivo.sandbox.store import Tx


class Kind:
    """CRUD routes for the store kind ``kind``: its collection and id key come from its row of
    :data:`toipkit.xivo.catalog.RESOURCES`; ``schema`` validates bodies, ``render`` makes the
    JSON of one object, ``validate``/``on_delete`` add the resource's own rules, ``unique``
    names fields two objects may not share."""

    def __init__(self, kind: str, schema: S.Schema, *, default_order: str,
                 render: Callable[[Request, dict], dict],
                 validate: Callable[[Tx, dict, dict | None], None] | None = None,
                 on_delete: Callable[[Tx, dict], None] | None = None,
                 unique: tuple[str, ...] = ()) -> None:
        spec = BY_KIND[kind]
        self.kind = kind
        self.collection = "/" + spec.collection
        key = spec.id_key
        self.schema = schema
        self.default_order = default_order
        self.render = render
        self.key = key
        self.validate = validate
        self.on_delete = on_delete
        self.unique = unique

    def fetch(self, tx: Tx, value: str) -> dict:
        if self.key == "uuid":
            obj = tx.get_by_uuid(self.kind, value)
            if obj is None:
                raise S.not_found(NAMES[self.kind], uuid=value)
            return obj
        return get_or_404(tx, self.kind, value)

    def check_unique(self, tx: Tx, doc: dict, current: dict | None) -> None:
        for name in self.unique:
            if doc.get(name) is None:
                continue
            for other in tx.find(self.kind, **{name: doc[name]}):
                if current is None or other["id"] != current["id"]:
                    raise S.resource_exists(NAMES[self.kind], **{name: doc[name]})

    def register(self) -> None:
        col, tag = self.collection, self.collection.strip("/")
        item = f"{col}/{{{self.key}}}"

        def list_(req: Request) -> Response:
            tx = _tx(req)
            columns = set(self.schema.names()) | {"id", "uuid"}
            searchable = [f.name for f in self.schema.fields if f.searchable and f.type == "str"]
            return paginate(req, tx.all(self.kind), columns=columns, searchable=searchable,
                            default_order=self.default_order,
                            render=lambda o: self.render(req, o))

        def create(req: Request) -> Response:
            tx = _tx(req)
            doc = self.schema.load_create(req.json())
            if self.validate:
                self.validate(tx, doc, None)
            self.check_unique(tx, doc, None)
            new_uuid = tx.new_uuid(self.kind) if self.key == "uuid" else None
            new_id = tx.insert(self.kind, doc, uuid=new_uuid)
            obj = tx.get(self.kind, new_id)
            assert obj is not None
            body = self.render(req, obj)
            return Response(201, body, headers={"Location": req.url(tag, obj[self.key])})

        def get(req: Request, **kw: str) -> Response:
            return Response(200, self.render(req, self.fetch(_tx(req), kw[self.key])))

        def update(req: Request, **kw: str) -> Response:
            tx = _tx(req)
            obj = self.fetch(tx, kw[self.key])
            doc = self.schema.load_update(req.json(), obj)
            if self.validate:
                self.validate(tx, doc, obj)
            self.check_unique(tx, doc, obj)
            tx.update(self.kind, obj["id"], doc)
            return no_content()

        def delete(req: Request, **kw: str) -> Response:
            tx = _tx(req)
            obj = self.fetch(tx, kw[self.key])
            if self.on_delete:
                self.on_delete(tx, obj)
            tx.delete(self.kind, obj["id"])
            return no_content()

        router.add("GET", col, list_, summary=f"List {tag}", tag=tag)
        router.add("POST", col, create, summary=f"Create a {NAMES[self.kind]}", tag=tag)
        router.add("GET", item, get, summary=f"Get a {NAMES[self.kind]}", tag=tag)
        router.add("PUT", item, update, summary=f"Update a {NAMES[self.kind]}", tag=tag)
        router.add("DELETE", item, delete, summary=f"Delete a {NAMES[self.kind]}", tag=tag)


def _keep_private(doc: dict, current: dict | None) -> None:
    """Carry hidden keys (``_...``) of the stored document over a PUT."""
    if current:
        for key, value in current.items():
            if key.startswith("_"):
                doc[key] = value
