"""Extension lookup with Asterisk's rules (``pbx_find_extension``, old sorted-list matcher).

Search order: the context's own extensions in ``ext_cmp`` order (a matching extension that lacks
the wanted priority lets the search go on to the next matching one), then its switches (not
simulated), then its includes in order, depth first; a context already visited is skipped.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field

from toipkit.dialplan.model import Dialplan, Priority
from toipkit.dialplan.patterns import MATCH_EARLY, match, match_cid, match_more

__all__ = ["find_priority", "Lookup", "exists", "matches_more", "timespec_matches"]

NO_CONTEXT, NO_EXTENSION, NO_PRIORITY, NO_LABEL, SUCCESS = range(5)


@dataclass
class Lookup:
    status: int = NO_CONTEXT
    found_context: str | None = None
    visited: list[str] = field(default_factory=list)
    switch_seen: bool = False


def _search(dp, q: Lookup, context, exten, priority, label, callerid, mode, now):
    if context in q.visited or len(q.visited) >= 128:
        return None
    first = not q.visited
    ctx = dp.contexts.get(context)
    q.visited.append(context)
    if ctx is None:
        return None
    if first:
        q.status = NO_EXTENSION
    for ex in (ctx.sorted_extensions() if mode == "matchmore" else ctx.candidates(exten)):
        if mode == "matchmore":
            m = match_more(ex.name, exten)
        else:
            m = match(ex.name, exten)
        if not m:
            continue
        if ex.cid is not None and not match_cid(ex.cid, callerid):
            continue
        if m == MATCH_EARLY and mode == "matchmore":
            q.status = NO_EXTENSION
            return False  # final: an early-match '!' pattern stops digit collection
        if q.status < NO_PRIORITY:
            q.status = NO_PRIORITY
        if label is not None:
            if q.status < NO_LABEL:
                q.status = NO_LABEL
            num = ex.labels.get(label)
            p = ex.priorities.get(num) if num is not None else None
        else:
            p = ex.priorities.get(priority)
        if p is not None:
            q.status = SUCCESS
            q.found_context = context
            return p
    if ctx.switches:
        q.switch_seen = True
    for inc in ctx.includes:
        if inc.timespec and now is not None and not timespec_matches(inc.timespec, now):
            continue
        r = _search(dp, q, inc.name, exten, priority, label, callerid, mode, now)
        if r is not None:
            return r
    return None


def find_priority(dp: Dialplan, context: str, exten: str, priority: int = 1,
                  callerid: str | None = None, label: str | None = None,
                  now: _dt.datetime | None = None, lookup: Lookup | None = None
                  ) -> Priority | None:
    """The priority Asterisk would run for (context, exten, priority), or None.

    With ``label``, finds the priority carrying that label instead. ``now`` filters timed
    includes (None: every include counts). Pass a :class:`Lookup` to get the failure reason.
    """
    q = lookup if lookup is not None else Lookup()
    r = _search(dp, q, context, exten, priority, label, callerid, "match", now)
    return r if isinstance(r, Priority) else None


def exists(dp, context, exten, priority=1, callerid=None, now=None) -> bool:
    return find_priority(dp, context, exten, priority, callerid=callerid, now=now) is not None


def matches_more(dp, context, exten, callerid=None, now=None) -> bool:
    """``ast_matchmore_extension``: could more digits still lead to an extension?"""
    q = Lookup()
    r = _search(dp, q, context, exten, 1, None, callerid, "matchmore", now)
    return isinstance(r, Priority)


# -- timed includes (times, weekdays, month days, months) ---------------------------------------

_DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]


def _in_range(spec: str, value: int, names: list[str] | None, lo: int, hi: int) -> bool:
    spec = spec.strip().lower()
    if spec in ("", "*"):
        return True
    for part in spec.split("&"):
        a, _, b = part.partition("-")

        def conv(x):
            x = x.strip()
            if names is not None and x[:3] in names:
                return names.index(x[:3]) + (lo if names is _MONTHS else 0)
            return int(x)

        try:
            start = conv(a)
            end = conv(b) if b else start
        except ValueError:
            return True
        if start <= end:
            if start <= value <= end:
                return True
        elif value >= start or value <= end:
            return True
    return False


def timespec_matches(spec: str, now: _dt.datetime) -> bool:
    """Does an include time spec ``times,weekdays,mdays,months`` cover ``now``?"""
    parts = [p.strip() for p in spec.replace("|", ",").split(",")]
    parts += ["*"] * (4 - len(parts))
    times, wdays, mdays, months = parts[:4]
    if times not in ("", "*"):
        ok = False
        for rng in times.split("&"):
            a, _, b = rng.partition("-")
            try:
                h1, m1 = (int(x) for x in a.split(":"))
                h2, m2 = (int(x) for x in (b or a).split(":"))
            except ValueError:
                ok = True
                break
            t = now.hour * 60 + now.minute
            s, e = h1 * 60 + m1, h2 * 60 + m2
            if (s <= t <= e) if s <= e else (t >= s or t <= e):
                ok = True
                break
        if not ok:
            return False
    weekday = (now.weekday() + 1) % 7  # Sunday = 0
    return (_in_range(wdays, weekday, _DAYS, 0, 6) and _in_range(mdays, now.day, None, 1, 31)
            and _in_range(months, now.month, _MONTHS, 1, 12))
