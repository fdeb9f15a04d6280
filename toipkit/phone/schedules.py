"""Schedules (opening hours) applied to the lab network's routing, as XiVO applies them.

XiVO computes a schedule's state when a call reaches what it is attached to (its ``agid``
module ``check_schedule``): an exceptional period that holds *now* closes it (with that period's
destination), else an open period that holds opens it, else it is closed with the schedule's
``closed_destination``. A period holds when every field it sets matches the schedule's local
time: ``hours_start``–``hours_end`` (minutes, both ends included), ``week_days`` (1 = Monday),
``month_days``, ``months``.

The sandbox's supervisor computes, twice a second, which numbers of users and groups are closed
right now and where their calls go (:func:`closed_numbers`), and writes them to the registrar's
``schedule_closed`` table, which kamailio reads on every call.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

#: the registrar's table: (context, exten) → destination number ("" = hang up)
TABLE = "schedule_closed"
#: while this file exists in the sandbox's data directory, every schedule counts as open
#: (:func:`toipkit.phone.lab.schedules_ignored`)
IGNORED_FLAG = "schedules-ignored"


def _period_holds(period: dict[str, Any], now: dt.datetime) -> bool:
    start, end = period.get("hours_start"), period.get("hours_end")
    minute = (now.hour, now.minute)
    if start and minute < tuple(int(x) for x in str(start).split(":")):
        return False
    if end and minute > tuple(int(x) for x in str(end).split(":")):
        return False
    for key, value in (("week_days", now.isoweekday()), ("month_days", now.day),
                       ("months", now.month)):
        allowed = period.get(key)
        if allowed and value not in allowed:
            return False
    return True


def state(schedule: dict[str, Any], now: dt.datetime | None = None
          ) -> tuple[bool, dict[str, Any] | None]:
    """(open?, destination when closed) of a confd schedule body at ``now`` (aware; UTC now
    by default), in the schedule's time zone."""
    try:
        zone = ZoneInfo(str(schedule.get("timezone") or "UTC"))
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    local = (now or dt.datetime.now(dt.timezone.utc)).astimezone(zone)
    for period in schedule.get("exceptional_periods") or []:
        if _period_holds(period, local):
            return False, period.get("destination")
    for period in schedule.get("open_periods") or []:
        if _period_holds(period, local):
            return True, None
    return False, schedule.get("closed_destination")


def _destination_number(conn: sqlite3.Connection, destination: dict[str, Any] | None
                        ) -> str | None:
    """The number a closed destination rings ("" = hang up; None = not reachable here)."""
    if not destination:
        return ""
    kind = destination.get("type")
    if kind in ("none", "hangup"):
        return ""
    if kind == "extension":
        return str(destination.get("exten") or "") or None
    targets = {"user": ("user_line", "user_id"), "group": ("group_extension", "group_id"),
               "conference": ("conference_extension", "conference_id")}
    if kind not in targets or destination.get(targets[kind][1]) is None:
        return None
    rel, key = targets[kind]
    if kind == "user":
        row = conn.execute(
            "SELECT ext.body->>'exten' FROM links AS ul "
            "JOIN links AS le ON le.rel = 'line_extension' AND le.a = ul.b "
            "JOIN objects AS ext ON ext.kind = 'extension' AND ext.id = le.b "
            "WHERE ul.rel = 'user_line' AND ul.a = ? ORDER BY ul.pos LIMIT 1",
            (int(destination[key]),)).fetchone()
    else:
        row = conn.execute(
            "SELECT ext.body->>'exten' FROM links AS l "
            "JOIN objects AS ext ON ext.kind = 'extension' AND ext.id = l.b "
            "WHERE l.rel = ? AND l.a = ? LIMIT 1", (rel, int(destination[key]))).fetchone()
    return str(row[0]) if row and row[0] is not None else None


def closed_numbers(confd_db: Path, now: dt.datetime | None = None
                   ) -> dict[tuple[str, str], str]:
    """(context, number) of every user or group whose schedule is closed now → the number its
    calls go to instead ("" = hang up)."""
    conn = sqlite3.connect(f"file:{confd_db}?mode=ro", uri=True, timeout=10)
    try:
        rows = conn.execute(
            "SELECT ext.body->>'context', ext.body->>'exten', s.body FROM objects AS s "
            "JOIN links AS gs ON gs.rel = 'group_schedule' AND gs.b = s.id "
            "JOIN links AS ge ON ge.rel = 'group_extension' AND ge.a = gs.a "
            "JOIN objects AS ext ON ext.kind = 'extension' AND ext.id = ge.b "
            "WHERE s.kind = 'schedule' "
            "UNION ALL "
            "SELECT ext.body->>'context', ext.body->>'exten', s.body FROM objects AS s "
            "JOIN links AS us ON us.rel = 'user_schedule' AND us.b = s.id "
            "JOIN links AS ul ON ul.rel = 'user_line' AND ul.a = us.a "
            "JOIN links AS le ON le.rel = 'line_extension' AND le.a = ul.b "
            "JOIN objects AS ext ON ext.kind = 'extension' AND ext.id = le.b "
            "WHERE s.kind = 'schedule'").fetchall()
        closed = {}
        for context, exten, body in rows:
            schedule = json.loads(body)
            if schedule.get("enabled") is False:
                continue
            is_open, destination = state(schedule, now)
            if not is_open:
                number = _destination_number(conn, destination)
                closed[(str(context), str(exten))] = "" if number is None else number
        return closed
    finally:
        conn.close()


def publish(registrar_db: Path, closed: dict[tuple[str, str], str]) -> None:
    """Replace the registrar's table of closed numbers (one short transaction)."""
    conn = sqlite3.connect(registrar_db, timeout=10)
    try:
        with conn:
            conn.execute(f"DELETE FROM {TABLE}")
            conn.executemany(f"INSERT INTO {TABLE} (context, exten, destination) "
                             "VALUES (?, ?, ?)",
                             [(c, e, d) for (c, e), d in closed.items()])
    finally:
        conn.close()


def wait_all_open(registrar_db: Path, timeout: float) -> bool:
    """Wait until the registrar's table of closed numbers is empty."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        conn = sqlite3.connect(registrar_db, timeout=10)
        try:
            left = conn.execute(f"SELECT count(*) FROM {TABLE}").fetchone()[0]
        finally:
            conn.close()
        if not left:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
