"""SQLite persistence of the sandbox: objects as JSON documents, associations as links.

One database file per data directory (``sandbox.sqlite3``). Every HTTP request runs in one
transaction (:meth:`Store.transaction`); write transactions are serialised by a process-wide
lock *and* ``BEGIN IMMEDIATE`` (so a second process on the same file cannot interleave), reads
run concurrently on their own WAL snapshot.

Tables
- ``objects(kind, id, uuid, body)``: one row per resource (user, line, endpoint_sip, ...);
  ``body`` is the JSON of its writable fields. Ids count per kind, like confd's tables.
- ``links(rel, a, b, pos, extra)``: associations (line↔endpoint, user↔line, group members...).
- ``counters(kind, next)``: next id per kind (reset puts them back to 1).
- ``tokens``: auth tokens (kept across restarts and resets).
- ``blobs``: music-on-hold files.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import random
import secrets
import sqlite3
import threading
import uuid as uuidlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

DB_NAME = "sandbox.sqlite3"
_SYSTEM_RANDOM = random.SystemRandom()  # os.urandom-backed, like the secrets module
# Auth tokens live in their own file: a login is a write, and must not queue behind a long
# confd write (a 10,000-row CSV import holds the main database's write lock).
AUTH_DB_NAME = "auth.sqlite3"
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS counters (kind TEXT PRIMARY KEY, next INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS objects (
    kind TEXT NOT NULL,
    id INTEGER NOT NULL,
    uuid TEXT,
    body TEXT NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE UNIQUE INDEX IF NOT EXISTS ux_objects_uuid ON objects(kind, uuid) WHERE uuid IS NOT NULL;
-- Defence in depth behind the confd-style checks done in Python.
CREATE UNIQUE INDEX IF NOT EXISTS ux_extension ON objects(
    json_extract(body, '$.context'), json_extract(body, '$.exten')) WHERE kind = 'extension';
-- Point lookups done by Tx.find() (uniqueness checks, extension by number). Partial indexes,
-- one per kind that needs it: a row only feeds the indexes of its own kind (every index of
-- every kind on every insert made large imports slow). find() writes the kind literally so
-- that SQLite can use them.
DROP INDEX IF EXISTS ix_obj_username;
DROP INDEX IF EXISTS ix_obj_email;
DROP INDEX IF EXISTS ix_obj_name;
DROP INDEX IF EXISTS ix_obj_exten;
DROP INDEX IF EXISTS ix_obj_provcode;
CREATE INDEX IF NOT EXISTS ix_user_username ON objects(json_extract(body, '$.username'))
    WHERE kind = 'user';
CREATE INDEX IF NOT EXISTS ix_user_email ON objects(json_extract(body, '$.email'))
    WHERE kind = 'user';
CREATE INDEX IF NOT EXISTS ix_sip_username ON objects(json_extract(body, '$.username'))
    WHERE kind = 'endpoint_sip';
CREATE INDEX IF NOT EXISTS ix_extension_exten ON objects(json_extract(body, '$.exten'))
    WHERE kind = 'extension';
CREATE INDEX IF NOT EXISTS ix_line_provcode ON objects(json_extract(body, '$.provisioning_code'))
    WHERE kind = 'line';
CREATE INDEX IF NOT EXISTS ix_group_name ON objects(json_extract(body, '$.name'))
    WHERE kind = 'group';
CREATE INDEX IF NOT EXISTS ix_callfilter_name ON objects(json_extract(body, '$.name'))
    WHERE kind = 'callfilter';
CREATE INDEX IF NOT EXISTS ix_context_name ON objects(json_extract(body, '$.name'))
    WHERE kind = 'context';
CREATE INDEX IF NOT EXISTS ix_moh_name ON objects(json_extract(body, '$.name'))
    WHERE kind = 'moh';
CREATE TABLE IF NOT EXISTS links (
    rel TEXT NOT NULL,
    a INTEGER NOT NULL,
    b INTEGER NOT NULL,
    pos INTEGER NOT NULL DEFAULT 0,
    extra TEXT,
    PRIMARY KEY (rel, a, b)
);
CREATE INDEX IF NOT EXISTS ix_links_b ON links(rel, b);
CREATE TABLE IF NOT EXISTS tokens (
    token TEXT PRIMARY KEY,
    auth_id TEXT NOT NULL,
    backend TEXT NOT NULL,
    issued_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    acls TEXT NOT NULL
);
-- A random stamp per object kind / relation, changed by every write: lets readers reuse
-- parsed rows across requests while the data did not change.
CREATE TABLE IF NOT EXISTS versions (name TEXT PRIMARY KEY, v INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS blobs (
    owner TEXT NOT NULL,
    name TEXT NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (owner, name)
);
"""

_write_locks: dict[str, threading.Lock] = {}
_write_locks_guard = threading.Lock()


def _write_lock(path: Path) -> threading.Lock:
    with _write_locks_guard:
        return _write_locks.setdefault(str(path.resolve()), threading.Lock())


class Store:
    """A pool of SQLite connections on one database file."""

    def __init__(self, data_dir: Path, pool_size: int = 16, db_name: str = DB_NAME) -> None:
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.path = self.data_dir / db_name
        # The database holds SIP secrets and tokens: owner-only, like credentials.json.
        if not self.path.exists():
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
        self._pool: queue.LifoQueue[sqlite3.Connection] = queue.LifoQueue()
        self._pool_size = pool_size
        self._all: list[sqlite3.Connection] = []
        self._all_guard = threading.Lock()
        self._lock = _write_lock(self.path)
        self._shared: dict[str, tuple[int, Any]] = {}
        conn = self._connect()
        with self._lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                for stmt in _SCHEMA.split(";"):
                    if stmt.strip():
                        conn.execute(stmt)
                row = conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
                if row is None:
                    conn.execute(
                        "INSERT INTO meta(key, value) VALUES ('schema', ?)", (str(SCHEMA_VERSION),)
                    )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        self._release(conn)

    # -- connections -------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path, timeout=30.0, isolation_level=None, check_same_thread=False
        )
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=30000")
        conn.execute("PRAGMA foreign_keys=ON")
        with self._all_guard:
            self._all.append(conn)
        return conn

    def _acquire(self) -> sqlite3.Connection:
        try:
            return self._pool.get_nowait()
        except queue.Empty:
            return self._connect()

    def _release(self, conn: sqlite3.Connection) -> None:
        if self._pool.qsize() < self._pool_size:
            self._pool.put(conn)
        else:
            with self._all_guard:
                if conn in self._all:
                    self._all.remove(conn)
            conn.close()

    def close(self) -> None:
        with self._all_guard:
            conns, self._all = self._all, []
        for conn in conns:
            try:
                conn.close()
            except sqlite3.Error:
                pass
        while not self._pool.empty():
            self._pool.get_nowait()

    @contextmanager
    def transaction(self, write: bool = False) -> Iterator[Tx]:
        """One transaction; commits on normal exit, rolls back on any exception."""
        conn = self._acquire()
        lock = self._lock if write else None
        if lock:
            lock.acquire()
        try:
            conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            tx = Tx(conn, self._shared)
            try:
                yield tx
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            else:
                if tx.rollback_only:
                    conn.execute("ROLLBACK")
                else:
                    tx.flush_versions()
                    conn.execute("COMMIT")
        finally:
            if lock:
                lock.release()
            self._release(conn)


class Tx:
    """Helpers over one open transaction."""

    def __init__(self, conn: sqlite3.Connection,
                 shared: dict[str, tuple[int, Any]] | None = None) -> None:
        self.conn = conn
        self.rollback_only = False
        self._cache: dict[str, Any] = {}
        self._shared = shared if shared is not None else {}
        self.wrote = False  # after a write, point lookups go to SQLite instead of reloading
        self._dirty: set[str] = set()  # version stamps to renew at commit

    def _bump(self, name: str) -> None:
        # Renewed once at commit rather than at every write (a 10,000-row import writes
        # 80,000 times); until then this transaction bypasses the shared cache for ``name``.
        self.wrote = True
        self._dirty.add(name)

    def flush_versions(self) -> None:
        if self._dirty:
            self.conn.executemany("INSERT OR REPLACE INTO versions(name, v) VALUES (?, ?)",
                                  [(name, secrets.randbits(62)) for name in sorted(self._dirty)])
            self._dirty.clear()

    def _cached(self, key: str, version_name: str, load: Callable[[], Any]) -> Any:
        """Per-transaction cache, backed by a cross-request cache keyed by data version.

        Cached values are shared between requests: callers must not mutate them.
        """
        if key in self._cache:
            return self._cache[key]
        if version_name in self._dirty:  # changed by this transaction: the shared copy is stale
            value = load()
            self._cache[key] = value
            return value
        row = self.conn.execute("SELECT v FROM versions WHERE name=?", (version_name,)).fetchone()
        version = row[0] if row else None
        hit = self._shared.get(key)
        if version is not None and hit is not None and hit[0] == version:
            value = hit[1]
        else:
            value = load()
            if version is not None:
                self._shared[key] = (version, value)
        self._cache[key] = value
        return value

    def _forget(self, kind: str) -> None:
        self._cache.pop("all:" + kind, None)
        self._cache.pop("byid:" + kind, None)
        self._cache.pop("ver:" + kind, None)
        self._bump("kind:" + kind)

    def _forget_rel(self, rel: str) -> None:
        self._cache.pop("links:" + rel, None)
        self._cache.pop("index:" + rel, None)
        self._bump("rel:" + rel)

    def forget_all(self) -> None:
        self._cache.clear()

    # -- meta --------------------------------------------------------------------------------
    def meta(self, key: str, default: str | None = None) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        self._cache.pop(key, None)
        self.conn.execute(
            "INSERT INTO meta(key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
            (key, value),
        )

    # -- generated values ----------------------------------------------------------------
    def random_text(self, purpose: str, n: int = 8,
                    alphabet: str = "abcdefghijklmnopqrstuvwxyz0123456789") -> str:
        """Random text like XiVO's generated SIP usernames/secrets. With a ``seed`` set by
        :func:`toipkit.xivo.sandbox.reset` the sequence is reproducible (stable notebook
        outputs); without it, it comes from :mod:`secrets`."""
        if "seed" not in self._cache:
            self._cache["seed"] = self.meta("seed")
        seed = self._cache["seed"]
        if not seed:
            return "".join(_SYSTEM_RANDOM.choices(alphabet, k=n))
        counter = self.next_id("gen:" + purpose)
        out: list[str] = []
        block = 0
        while len(out) < n:
            digest = hashlib.sha256(f"{seed}|{purpose}|{counter}|{block}".encode()).digest()
            out.extend(alphabet[b % len(alphabet)] for b in digest)
            block += 1
        return "".join(out[:n])

    def new_uuid(self, purpose: str) -> str:
        seed = self.meta("seed")
        if not seed:
            return str(uuidlib.uuid4())
        counter = self.next_id("gen:" + purpose)
        digest = hashlib.sha256(f"{seed}|uuid|{purpose}|{counter}".encode()).digest()
        return str(uuidlib.UUID(bytes=digest[:16], version=4))

    # -- objects -----------------------------------------------------------------------------
    def next_id(self, kind: str) -> int:
        row = self.conn.execute(
            "INSERT INTO counters(kind, next) VALUES (?, 2) "
            "ON CONFLICT(kind) DO UPDATE SET next=next + 1 RETURNING next", (kind,)).fetchone()
        return row[0] - 1

    def insert(self, kind: str, body: dict, uuid: str | None = None) -> int:
        new_id = self.next_id(kind)
        self.conn.execute(
            "INSERT INTO objects(kind, id, uuid, body) VALUES (?, ?, ?, ?)",
            (kind, new_id, uuid, json.dumps(body)),
        )
        self._forget(kind)
        return new_id

    def update(self, kind: str, obj_id: int, body: dict) -> None:
        self.conn.execute(
            "UPDATE objects SET body=? WHERE kind=? AND id=?", (json.dumps(body), kind, obj_id)
        )
        self._forget(kind)

    def delete(self, kind: str, obj_id: int) -> None:
        self.conn.execute("DELETE FROM objects WHERE kind=? AND id=?", (kind, obj_id))
        self._forget(kind)

    def get(self, kind: str, obj_id: int) -> dict | None:
        if not -(2 ** 63) <= obj_id < 2 ** 63:  # beyond SQLite integers: cannot exist
            return None
        row = self.conn.execute(
            "SELECT id, uuid, body FROM objects WHERE kind=? AND id=?", (kind, obj_id)
        ).fetchone()
        return _row(row)

    def get_by_uuid(self, kind: str, uuid: str) -> dict | None:
        row = self.conn.execute(
            "SELECT id, uuid, body FROM objects WHERE kind=? AND uuid=?", (kind, uuid)
        ).fetchone()
        return _row(row)

    def all(self, kind: str) -> list[dict]:
        """Every object of a kind, by id (shared, read-only dicts)."""
        def load() -> list[dict]:
            rows = self.conn.execute(
                "SELECT id, uuid, body FROM objects WHERE kind=? ORDER BY id", (kind,)
            ).fetchall()
            # Reuse the parsed dict of rows whose JSON text did not change.
            parsed = self._shared.get("parsed:" + kind)
            old = parsed[1] if parsed else {}
            new: dict[int, tuple[str, dict]] = {}
            out = []
            for r in rows:
                hit = old.get(r["id"])
                if hit is not None and hit[0] == r["body"] and hit[1].get("uuid") == r["uuid"]:
                    obj = hit[1]
                else:
                    obj = _row(r)
                new[r["id"]] = (r["body"], obj)
                out.append(obj)
            self._shared["parsed:" + kind] = (0, new)
            return out
        return self._cached("all:" + kind, "kind:" + kind, load)

    def by_id(self, kind: str) -> dict[int, dict]:
        return self._cached("byid:" + kind, "kind:" + kind,
                            lambda: {o["id"]: o for o in self.all(kind)})

    def lookup(self, kind: str, obj_id: int) -> dict | None:
        """One object by id, cheaply: from a valid cache, else SQLite (a few times), else a
        full load once many lookups were needed in this transaction."""
        key = "byid:" + kind
        cached = self._cache.get(key)
        if cached is not None:
            return cached.get(obj_id)
        if self.wrote:  # a writing transaction (CSV import) would reload the kind after each write
            return self.get(kind, obj_id)
        ver_key = "ver:" + kind
        if ver_key not in self._cache:
            row = self.conn.execute("SELECT v FROM versions WHERE name=?",
                                    ("kind:" + kind,)).fetchone()
            self._cache[ver_key] = row[0] if row else None
        version = self._cache[ver_key]
        hit = self._shared.get(key)
        if version is not None and hit is not None and hit[0] == version:
            self._cache[key] = hit[1]
            return hit[1].get(obj_id)
        count = self._cache.get("n:" + kind, 0) + 1
        self._cache["n:" + kind] = count
        if count > 32:
            return self.by_id(kind).get(obj_id)
        return self.get(kind, obj_id)

    def ids(self, kind: str) -> _Lookup:
        """A read-only mapping id → object backed by :meth:`lookup`."""
        return _Lookup(self, kind)

    def find(self, kind: str, **fields: Any) -> list[dict]:
        """Objects whose body fields equal the given values (evaluated by SQLite)."""
        if ("all:" + kind) in self._cache:
            return [o for o in self.all(kind) if all(o.get(k) == v for k, v in fields.items())]
        if not kind.isidentifier():
            raise ValueError(kind)
        # the kind as a literal, so that SQLite may use the partial ix_<kind>_* indexes
        sql = f"SELECT id, uuid, body FROM objects WHERE kind='{kind}'"  # noqa: S608
        args: list[Any] = []
        for name, value in fields.items():
            if not name.isidentifier():
                raise ValueError(name)
            if value is None:
                sql += f" AND json_extract(body, '$.{name}') IS NULL"
            else:
                sql += f" AND json_extract(body, '$.{name}') = ?"
                args.append(value)
        # No ORDER BY: it would make SQLite walk the primary key instead of the ix_obj_*
        # expression indexes (quadratic imports); the few matches are sorted here.
        rows = self.conn.execute(sql, args).fetchall()
        found = [o for o in (_row(r) for r in rows)
                 if o is not None and all(o.get(k) == v for k, v in fields.items())]
        found.sort(key=lambda o: o["id"])
        return found

    def count(self, kind: str) -> int:
        return self.conn.execute("SELECT COUNT(*) FROM objects WHERE kind=?", (kind,)).fetchone()[0]

    # -- links -------------------------------------------------------------------------------
    def link(self, rel: str, a: int, b: int, pos: int = 0, extra: dict | None = None) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO links(rel, a, b, pos, extra) VALUES (?, ?, ?, ?, ?)",
            (rel, a, b, pos, json.dumps(extra) if extra is not None else None),
        )
        self._forget_rel(rel)

    def unlink(self, rel: str, a: int | None = None, b: int | None = None) -> None:
        if a is not None and b is not None:
            self.conn.execute("DELETE FROM links WHERE rel=? AND a=? AND b=?", (rel, a, b))
        elif a is not None:
            self.conn.execute("DELETE FROM links WHERE rel=? AND a=?", (rel, a))
        elif b is not None:
            self.conn.execute("DELETE FROM links INDEXED BY ix_links_b WHERE rel=? AND b=?", (rel, b))
        self._forget_rel(rel)

    def links(self, rel: str) -> list[tuple[int, int, int, dict | None]]:
        """All links of one relation as (a, b, pos, extra), ordered by a, pos."""
        def load() -> list[tuple[int, int, int, dict | None]]:
            rows = self.conn.execute(
                "SELECT a, b, pos, extra FROM links WHERE rel=? ORDER BY a, pos, b", (rel,)
            ).fetchall()
            return [(r[0], r[1], r[2], json.loads(r[3]) if r[3] else None) for r in rows]
        return self._cached("links:" + rel, "rel:" + rel, load)

    def _index(self, rel: str) -> tuple[dict[int, list[int]], dict[int, list[int]]]:
        def load() -> tuple[dict[int, list[int]], dict[int, list[int]]]:
            fwd: dict[int, list[int]] = {}
            back: dict[int, list[int]] = {}
            for a, b, _p, _e in self.links(rel):
                fwd.setdefault(a, []).append(b)
                back.setdefault(b, []).append(a)
            return fwd, back
        return self._cached("index:" + rel, "rel:" + rel, load)

    def index(self, rel: str) -> tuple[dict[int, list[int]], dict[int, list[int]]]:
        """(a → [b...], b → [a...]) for one relation (shared, read-only)."""
        return self._index(rel)

    def targets(self, rel: str, a: int) -> list[int]:
        if self.wrote and ("index:" + rel) not in self._cache:
            rows = self.conn.execute(
                "SELECT b FROM links WHERE rel=? AND a=? ORDER BY pos, b", (rel, a)).fetchall()
            return [r[0] for r in rows]
        return list(self._index(rel)[0].get(a, ()))

    def sources(self, rel: str, b: int) -> list[int]:
        if self.wrote and ("index:" + rel) not in self._cache:
            # sorted here: ORDER BY a would walk the primary key instead of ix_links_b
            rows = self.conn.execute(
                "SELECT a FROM links INDEXED BY ix_links_b WHERE rel=? AND b=?", (rel, b)).fetchall()
            return sorted(r[0] for r in rows)
        return list(self._index(rel)[1].get(b, ()))

    def sources_by_pos(self, rel: str, b: int) -> list[int]:
        """Sources of ``b`` in link-position order (e.g. a line's users, main user first)."""
        rows = self.conn.execute(
            "SELECT a, pos FROM links INDEXED BY ix_links_b WHERE rel=? AND b=?", (rel, b)).fetchall()
        return [a for a, _pos in sorted(rows, key=lambda r: (r[1], r[0]))]

    def link_extra(self, rel: str, a: int, b: int) -> dict | None:
        for x, y, _p, extra in self.links(rel):
            if x == a and y == b:
                return extra or {}
        return None

    # -- blobs -------------------------------------------------------------------------------
    def put_blob(self, owner: str, name: str, data: bytes) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO blobs(owner, name, data) VALUES (?, ?, ?)", (owner, name, data)
        )

    def get_blob(self, owner: str, name: str) -> bytes | None:
        row = self.conn.execute(
            "SELECT data FROM blobs WHERE owner=? AND name=?", (owner, name)
        ).fetchone()
        return bytes(row[0]) if row else None

    def blob_names(self, owner: str) -> list[str]:
        rows = self.conn.execute(
            "SELECT name FROM blobs WHERE owner=? ORDER BY name", (owner,)
        ).fetchall()
        return [r[0] for r in rows]

    def delete_blobs(self, owner: str, name: str | None = None) -> int:
        if name is None:
            cur = self.conn.execute("DELETE FROM blobs WHERE owner=?", (owner,))
        else:
            cur = self.conn.execute("DELETE FROM blobs WHERE owner=? AND name=?", (owner, name))
        return cur.rowcount

    # -- whole-state operations --------------------------------------------------------------
    def wipe(self) -> None:
        """Delete every resource (tokens are kept: connected clients stay logged in)."""
        for table in ("objects", "links", "counters", "blobs", "versions"):
            self.conn.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
        self.conn.execute("DELETE FROM meta WHERE key != 'schema'")
        self._cache.clear()


class _Lookup:
    def __init__(self, tx: Tx, kind: str) -> None:
        self._tx = tx
        self._kind = kind

    def get(self, obj_id: int, default: Any = None) -> Any:
        found = self._tx.lookup(self._kind, obj_id)
        return default if found is None else found

    def __getitem__(self, obj_id: int) -> dict:
        found = self._tx.lookup(self._kind, obj_id)
        if found is None:
            raise KeyError(obj_id)
        return found

    def __contains__(self, obj_id: object) -> bool:
        return isinstance(obj_id, int) and self._tx.lookup(self._kind, obj_id) is not None


def _row(row: sqlite3.Row | None) -> dict | None:
    if row is None:
        return None
    obj = json.loads(row["body"])
    obj["id"] = row["id"]
    if row["uuid"] is not None:
        obj["uuid"] = row["uuid"]
    return obj
