"""The sandbox's SIP registrar/proxy: kamailio on loopback, provisioned from confd's database.

The XiVO sandbox starts it next to its HTTP server (see ``toipkit.xivo.sandbox.__main__``) and
stops it with the server. kamailio reads the sandbox's SQLite database on every request
(read-only), so a line created through confd registers at once with its own username and secret;
it writes the current registrations (``location``) to its own database,
``<data_dir>/registrar/registrar.sqlite3``, and the call records (``acc``, ``missed_calls``) to
``calls.sqlite3`` next to it, that :func:`registrations` and :func:`call_records` read back.

State of a running registrar: ``<data_dir>/registrar/registrar.json`` (host, port, pid).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from toipkit.errors import ToipkitError
from toipkit.phone import ports, sipprobe
from toipkit.phone.processes import die_with_parent, pid_alive

CONFIG_TEMPLATE = Path(__file__).resolve().parent / "data" / "kamailio-sandbox.cfg"
KAMAILIO_SCHEMAS = Path("/usr/share/kamailio/db_sqlite")
FOLDER = "registrar"
STATE_FILE = "registrar.json"
DB_FILE = "registrar.sqlite3"
#: call records (acc) in a database of their own: kamailio's SQLite driver does not wait for a
#: lock, so a record written while a REGISTER writes the registrations would be lost
CALLS_DB_FILE = "calls.sqlite3"
LOG_FILE = "registrar.log"
REALM = "xivo"
#: How long the proxy lets a phone ring before answering 408 to the caller (XiVO: 30 s).
RING_TIMEOUT_S = 30
START_TIMEOUT = 15.0


class RegistrarError(ToipkitError):
    """The SIP registrar could not be started or reached."""


@dataclass(frozen=True)
class RegistrarInfo:
    """A running registrar: SIP on ``host:port`` (UDP and TCP)."""

    host: str
    port: int
    pid: int
    realm: str
    folder: Path

    @property
    def db_path(self) -> Path:
        return self.folder / DB_FILE

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def _repr_markdown_(self) -> str:
        return f"**Registrar SIP** (kamailio) sur `{self.address}`, domaine `{self.realm}`"


def kamailio_path() -> str | None:
    for candidate in (shutil.which("kamailio"), "/usr/sbin/kamailio"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def available() -> bool:
    """True when kamailio (and its SQLite module) is installed."""
    exe = kamailio_path()
    return exe is not None and (KAMAILIO_SCHEMAS / "usrloc-create.sql").exists()


def _folder(data_dir: Path) -> Path:
    return Path(data_dir) / FOLDER


def config_text(*, host: str, port: int, confd_db: Path, registrar_db: Path,
                realm: str = REALM, ring_timeout_s: int = RING_TIMEOUT_S) -> str:
    """kamailio.cfg for a registrar on ``host:port`` reading confd's database ``confd_db``
    (the call records go to :data:`CALLS_DB_FILE` next to ``registrar_db``)."""
    calls_db = registrar_db.with_name(CALLS_DB_FILE)
    for path in (confd_db, registrar_db, calls_db):
        if '"' in str(path) or "\n" in str(path):
            raise RegistrarError(f"unsupported character in the path {path}")
    return (CONFIG_TEMPLATE.read_text(encoding="utf-8")
            .replace("__HOST__", host).replace("__PORT__", str(port))
            .replace("__CONFD_DB__", str(confd_db))
            .replace("__REGISTRAR_DB__", str(registrar_db))
            .replace("__CALLS_DB__", str(calls_db))
            .replace("__REALM__", realm)
            .replace("__RING_TIMEOUT_S__", str(int(ring_timeout_s))))


# Columns added to kamailio's acc tables (db_extra in the configuration).
_ACC_EXTRA = ("caller", "callee", "caller_user", "callee_user")


def _new_database(path: Path, build) -> None:
    """Create ``path`` from scratch (WAL, kamailio's ``version`` table, then ``build(conn)``),
    written whole or not at all, readable by its owner only."""
    tmp = path.with_suffix(".tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    conn = sqlite3.connect(tmp)
    try:
        # WAL: kamailio's workers read (auth, routing) while another one writes.
        conn.execute("PRAGMA journal_mode=WAL")
        conn.executescript("CREATE TABLE version (table_name VARCHAR(32) NOT NULL, "
                           "table_version INTEGER DEFAULT 0 NOT NULL, "
                           "CONSTRAINT version_table_name_idx UNIQUE (table_name));")
        build(conn)
        conn.commit()
    finally:
        conn.close()
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def init_database(path: Path) -> None:
    """Create (from scratch) the registrar's own databases: ``path`` (kamailio's registrations
    plus our tables) and, next to it, the call records (:data:`CALLS_DB_FILE`)."""

    def registrations(conn: sqlite3.Connection) -> None:
        conn.executescript((KAMAILIO_SCHEMAS / "usrloc-create.sql").read_text(encoding="utf-8"))
        conn.execute("CREATE TABLE media_relay (phone_port INTEGER PRIMARY KEY, "
                     "relay_port INTEGER NOT NULL)")
        # Media endpoints (live IVR...) that answer a number: SIP accounts outside confd.
        conn.execute("CREATE TABLE services (username TEXT PRIMARY KEY, secret TEXT NOT NULL, "
                     "context TEXT NOT NULL, exten TEXT NOT NULL, position INTEGER NOT NULL)")
        # Numbers whose schedule is closed right now, and where their calls go ("" = hang up):
        # kept up to date by the sandbox's media services (toipkit.phone.schedules).
        conn.execute("CREATE TABLE schedule_closed (context TEXT NOT NULL, exten TEXT NOT NULL, "
                     "destination TEXT NOT NULL, PRIMARY KEY (context, exten))")
        # Boss/secretary filters switched on or off with *37<member> during this run.
        conn.execute("CREATE TABLE filter_state (callfilter_id INTEGER PRIMARY KEY, "
                     "active INTEGER NOT NULL)")

    def call_records(conn: sqlite3.Connection) -> None:
        conn.executescript((KAMAILIO_SCHEMAS / "acc-create.sql").read_text(encoding="utf-8"))
        for table in ("acc", "missed_calls"):
            for column in _ACC_EXTRA:
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} VARCHAR(64)")

    _new_database(path, registrations)
    _new_database(path.with_name(CALLS_DB_FILE), call_records)


# Read-only views on confd's tables that kamailio queries on every call (``toipkit_*``). They
# are plain SQL over the sandbox's ``objects``/``links`` tables, so they always reflect what the
# API wrote, without any copy to keep in step.
#
# A routing *plan* is what the proxy rings, stage after stage: ``"T:u1,u2;T:u3"`` rings SIP users
# u1 and u2 together for T seconds, then (no answer, busy...) u3 for T seconds.
RING_SECONDS = RING_TIMEOUT_S
ROUTING_VIEWS = f"""
DROP VIEW IF EXISTS toipkit_user_sip;
CREATE VIEW toipkit_user_sip AS
SELECT ul.a AS user_id, sip.body->>'username' AS username, line.body->>'context' AS context
FROM links AS ul
JOIN links AS ls ON ls.rel = 'line_endpoint_sip' AND ls.a = ul.b
JOIN objects AS sip ON sip.kind = 'endpoint_sip' AND sip.id = ls.b
JOIN objects AS line ON line.kind = 'line' AND line.id = ul.b
WHERE ul.rel = 'user_line' AND ul.pos = (SELECT min(pos) FROM links AS first
                                          WHERE first.rel = 'user_line' AND first.a = ul.a);

DROP VIEW IF EXISTS toipkit_routes;
CREATE VIEW toipkit_routes AS
SELECT ext.body->>'context' AS context, ext.body->>'exten' AS exten, 'user' AS kind,
       ul.a AS user_id, '{RING_SECONDS}:' || (sip.body->>'username') AS plan
FROM objects AS ext
JOIN links AS le ON le.rel = 'line_extension' AND le.b = ext.id
JOIN links AS ls ON ls.rel = 'line_endpoint_sip' AND ls.a = le.a
JOIN objects AS sip ON sip.kind = 'endpoint_sip' AND sip.id = ls.b
LEFT JOIN links AS ul ON ul.rel = 'user_line' AND ul.b = le.a
WHERE ext.kind = 'extension' AND coalesce(ext.body->>'commented', 0) IN (0, 'false')
UNION ALL
SELECT context, exten, 'group', NULL,
       CASE WHEN strategy IN ('all', 'ringall')
            THEN coalesce(timeout, {RING_SECONDS}) || ':' || group_concat(username, ',')
            ELSE group_concat(coalesce(user_timeout, 15) || ':' || username, ';') END
FROM (SELECT ext.body->>'context' AS context, ext.body->>'exten' AS exten, g.id AS group_id,
             g.body->>'ring_strategy' AS strategy, g.body->>'timeout' AS timeout,
             g.body->>'user_timeout' AS user_timeout, us.username AS username
      FROM objects AS ext
      JOIN links AS ge ON ge.rel = 'group_extension' AND ge.b = ext.id
      JOIN objects AS g ON g.kind = 'group' AND g.id = ge.a
      JOIN links AS gm ON gm.rel = 'group_member_user' AND gm.a = g.id
      JOIN toipkit_user_sip AS us ON us.user_id = gm.b
      WHERE ext.kind = 'extension' AND coalesce(g.body->>'enabled', 1) IN (1, 'true')
      ORDER BY g.id, gm.pos)
GROUP BY group_id;

DROP VIEW IF EXISTS toipkit_filters;
CREATE VIEW toipkit_filters AS
SELECT boss.username AS boss, cf.id AS callfilter_id,
       cf.body->>'strategy' AS strategy,
       coalesce(cf.body->>'surrogates_timeout', 20) AS surrogates_timeout,
       coalesce(bm.body->>'timeout', 20) AS boss_timeout,
       (SELECT group_concat(username, ',') FROM (
            SELECT us.username FROM objects AS sm
            JOIN toipkit_user_sip AS us ON us.user_id = sm.body->>'user_id'
            WHERE sm.kind = 'callfilter_member' AND sm.body->>'callfilter_id' = cf.id
              AND sm.body->>'bstype' = 'secretary'
            ORDER BY sm.body->>'position', sm.id)) AS secretaries,
       (SELECT group_concat(coalesce(sm.body->>'timeout', 20) || ':' || us.username, ';') FROM (
            SELECT sm.body, sm.id FROM objects AS sm
            WHERE sm.kind = 'callfilter_member' AND sm.body->>'callfilter_id' = cf.id
              AND sm.body->>'bstype' = 'secretary'
            ORDER BY sm.body->>'position', sm.id) AS sm
            JOIN toipkit_user_sip AS us ON us.user_id = sm.body->>'user_id') AS secretaries_linear,
       (SELECT group_concat(m.id, ',') FROM objects AS m WHERE m.kind = 'callfilter_member'
            AND m.body->>'callfilter_id' = cf.id) AS member_ids,
       (SELECT max(coalesce(m.body->>'active', 0) IN (1, 'true')) FROM objects AS m
            WHERE m.kind = 'callfilter_member' AND m.body->>'callfilter_id' = cf.id) AS active
FROM objects AS cf
JOIN objects AS bm ON bm.kind = 'callfilter_member' AND bm.body->>'callfilter_id' = cf.id
                   AND bm.body->>'bstype' = 'boss'
JOIN toipkit_user_sip AS boss ON boss.user_id = bm.body->>'user_id'
WHERE cf.kind = 'callfilter' AND coalesce(cf.body->>'enabled', 1) IN (1, 'true');

DROP VIEW IF EXISTS toipkit_filter_members;
CREATE VIEW toipkit_filter_members AS
SELECT m.id AS member_id, m.body->>'callfilter_id' AS callfilter_id,
       coalesce(m.body->>'active', 0) IN (1, 'true') AS active
FROM objects AS m WHERE m.kind = 'callfilter_member';
"""


def install_views(confd_db: Path) -> None:
    """(Re)create the routing views in the sandbox's database (they change no table)."""
    conn = sqlite3.connect(confd_db, timeout=30, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        for statement in ROUTING_VIEWS.split(";\n"):
            if statement.strip():
                conn.execute(statement)
        conn.execute("COMMIT")
    finally:
        conn.close()


def start(data_dir: str | os.PathLike, confd_db: str | os.PathLike, *, host: str = "127.0.0.1",
          port: int | None = None, tie_to_parent: bool = True) -> RegistrarInfo:
    """Start kamailio for this sandbox data directory and wait until it answers OPTIONS.

    ``tie_to_parent`` makes kamailio stop when the calling process dies (the sandbox server).
    Any registrar left by a previous run of the same data directory is stopped first.
    """
    exe = kamailio_path()
    if exe is None or not available():
        raise RegistrarError("kamailio n'est pas installé (paquets Debian kamailio et "
                             "kamailio-sqlite-modules) : pas de réseau SIP dans le bac à sable")
    stop(data_dir)
    folder = _folder(Path(data_dir))
    folder.mkdir(parents=True, exist_ok=True)
    db_path = folder / DB_FILE
    init_database(db_path)
    install_views(Path(confd_db))
    port = port or ports.free_port(host, udp=True, tcp=True)
    cfg = folder / "kamailio.cfg"
    cfg.write_text(config_text(host=host, port=port, confd_db=Path(confd_db).resolve(),
                               registrar_db=db_path.resolve()), encoding="utf-8")
    log = open(folder / LOG_FILE, "ab")  # noqa: SIM115 - handed to the child
    try:
        child = subprocess.Popen(  # noqa: S603 - fixed arguments
            [exe, "-DD", "-E", "-f", str(cfg), "-Y", str(folder), "-m", "32", "-M", "8"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, close_fds=True,
            cwd=str(folder), preexec_fn=die_with_parent if tie_to_parent else os.setpgrp,
        )
    finally:
        log.close()
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if child.poll() is not None:
            raise RegistrarError(f"kamailio exited with code {child.returncode}; last lines of "
                                 f"{folder / LOG_FILE}:\n{_tail(folder / LOG_FILE)}")
        if sipprobe.options_ping(host, port, timeout=0.2):
            break
        if time.monotonic() > deadline:
            _kill_group(child.pid)
            raise RegistrarError(f"kamailio did not answer on {host}:{port} within "
                                 f"{START_TIMEOUT:.0f} s:\n{_tail(folder / LOG_FILE)}")
    info = RegistrarInfo(host, port, child.pid, REALM, folder.resolve())
    state = {"host": host, "port": port, "pid": child.pid, "realm": REALM}
    tmp = folder / (STATE_FILE + ".tmp")
    tmp.write_text(json.dumps(state), encoding="utf-8")
    os.replace(tmp, folder / STATE_FILE)
    _started[child.pid] = child
    return info


_started: dict[int, subprocess.Popen] = {}


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text("utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _alive(pid: int) -> bool:
    return pid_alive(pid, _started.get(pid), others_count=False)


def _is_our_kamailio(pid: int, folder: Path) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return bool(cmdline) and cmdline[0].endswith(b"kamailio") and \
        str(folder / "kamailio.cfg").encode() in cmdline


def _kill_group(pid: int, timeout: float = 5.0) -> None:
    """SIGTERM kamailio's process group (it forks workers), then SIGKILL what remains."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, sig)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            child = _started.get(pid)
            if child is not None:
                child.poll()
            if not _alive(pid) and not _group_alive(pid):
                _started.pop(pid, None)
                return
            time.sleep(0.05)
    _started.pop(pid, None)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def _read_state(folder: Path) -> dict | None:
    try:
        return json.loads((folder / STATE_FILE).read_text("utf-8"))
    except (OSError, ValueError):
        return None


def status(data_dir: str | os.PathLike) -> RegistrarInfo | None:
    """The running registrar of this sandbox data directory, or None."""
    folder = _folder(Path(data_dir)).resolve()
    state = _read_state(folder)
    if not state or not _alive(int(state["pid"])) or not _is_our_kamailio(int(state["pid"]),
                                                                            folder):
        return None
    return RegistrarInfo(state["host"], int(state["port"]), int(state["pid"]),
                         state.get("realm", REALM), folder)


def stop(data_dir: str | os.PathLike) -> bool:
    """Stop the registrar of this data directory. False when none was running."""
    folder = _folder(Path(data_dir)).resolve()
    state = _read_state(folder)
    stopped = False
    if state and _is_our_kamailio(int(state["pid"]), folder):
        _kill_group(int(state["pid"]))
        stopped = True
    with contextlib.suppress(FileNotFoundError):
        (folder / STATE_FILE).unlink()
    return stopped


@contextlib.contextmanager
def _db(info_or_dir: RegistrarInfo | str | os.PathLike, name: str = DB_FILE):
    folder = (info_or_dir.folder if isinstance(info_or_dir, RegistrarInfo)
              else _folder(Path(info_or_dir)))
    path = folder / name
    if not path.exists():
        raise RegistrarError("le registrar SIP du bac à sable n'a jamais démarré "
                             "(`toipkit sandbox start`)")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    conn.row_factory = sqlite3.Row
    try:
        yield conn
    finally:
        conn.close()


def registrations(where: RegistrarInfo | str | os.PathLike) -> list[dict[str, Any]]:
    """Current registrations: SIP username, contact, expiry, user agent."""
    with _db(where) as conn:
        rows = conn.execute("SELECT username, contact, received, expires, user_agent, callid "
                            "FROM location ORDER BY username, id").fetchall()
    return [dict(r) for r in rows]


def call_records(where: RegistrarInfo | str | os.PathLike) -> list[dict[str, Any]]:
    """Calls seen by the proxy, oldest first: one row per call attempt.

    ``outcome`` is ``answered`` (200 to the INVITE) or the failure code (404, 480, 486, 487...);
    ``ended`` is set when a BYE closed an answered call.
    """
    with _db(where, CALLS_DB_FILE) as conn:
        acc = conn.execute("SELECT method, callid, sip_code, sip_reason, time, caller, callee, "
                           "caller_user, callee_user FROM acc ORDER BY id").fetchall()
        missed = conn.execute("SELECT method, callid, sip_code, sip_reason, time, caller, "
                              "callee, caller_user, callee_user FROM missed_calls "
                              "ORDER BY id").fetchall()
    calls: dict[str, dict[str, Any]] = {}
    for row in sorted([*acc, *missed], key=lambda r: r["time"]):
        if row["method"] == "INVITE":
            call = calls.setdefault(row["callid"], {
                "call_id": row["callid"], "caller": row["caller"], "callee": row["callee"],
                "caller_user": row["caller_user"], "callee_user": row["callee_user"],
                "started": row["time"], "outcome": None, "code": None, "reason": None,
                "ended": None})
            answered = row["sip_code"] == "200"
            if call["outcome"] != "answered":
                call["outcome"] = "answered" if answered else row["sip_code"]
                call["code"] = int(row["sip_code"]) if row["sip_code"].isdigit() else None
                call["reason"] = row["sip_reason"]
        elif row["method"] == "BYE" and row["callid"] in calls:
            calls[row["callid"]]["ended"] = row["time"]
    return list(calls.values())


def set_media_relay(where: RegistrarInfo, phone_port: int, relay_port: int) -> None:
    """Announce the media of the phone on ``phone_port`` at ``relay_port`` in the next SDPs."""
    conn = sqlite3.connect(where.db_path, timeout=10)
    try:
        with conn:
            conn.execute("INSERT OR REPLACE INTO media_relay(phone_port, relay_port) "
                         "VALUES (?, ?)", (int(phone_port), int(relay_port)))
    finally:
        conn.close()


def clear_media_relay(where: RegistrarInfo, phone_port: int) -> None:
    conn = sqlite3.connect(where.db_path, timeout=10)
    try:
        with conn:
            conn.execute("DELETE FROM media_relay WHERE phone_port = ?", (int(phone_port),))
    finally:
        conn.close()


def sandbox_data_dir(client: Any) -> str | None:
    """The data directory of the sandbox a confd client talks to; None for a real XiVO.

    The sandbox tells it on ``/0.1/sandbox/status``; a real XiVO has no such page.
    """
    import httpx

    url = httpx.URL(client.confd_url)
    if url.host not in ("127.0.0.1", "localhost", "::1"):
        return None
    try:
        answer = httpx.get(str(url.copy_with(path="/0.1/sandbox/status", query=None)),
                           timeout=5.0, verify=False)  # noqa: S501 - loopback sandbox
        return answer.json().get("data_dir") if answer.status_code == 200 else None
    except (httpx.HTTPError, ValueError, AttributeError):
        return None


def for_client(client: Any) -> RegistrarInfo | None:
    """The running registrar of the sandbox this client talks to (None for a real XiVO)."""
    data_dir = sandbox_data_dir(client)
    return status(data_dir) if data_dir else None
