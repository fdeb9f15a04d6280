"""Schedule states as XiVO computes them (exceptional periods first, then open periods)."""

from __future__ import annotations

import datetime as dt

from toipkit.phone.schedules import state

PARIS_OFFICE = {
    "timezone": "Europe/Paris",
    "open_periods": [{"hours_start": "08:30", "hours_end": "18:00", "week_days": [1, 2, 3, 4, 5],
                      "month_days": list(range(1, 32)), "months": list(range(1, 13))}],
    "exceptional_periods": [{"hours_start": "00:00", "hours_end": "23:59", "week_days": [],
                             "month_days": [25], "months": [12],
                             "destination": {"type": "user", "user_id": 7}}],
    "closed_destination": {"type": "group", "group_id": 3},
}


def utc(*args):
    return dt.datetime(*args, tzinfo=dt.timezone.utc)


def test_open_hours_in_the_schedules_time_zone():
    # Wednesday 2 December 2026, 07:30 UTC = 08:30 in Paris (UTC+1): open, ends included
    assert state(PARIS_OFFICE, utc(2026, 12, 2, 7, 30)) == (True, None)
    assert state(PARIS_OFFICE, utc(2026, 12, 2, 17, 0, 59)) == (True, None)  # 18:00 Paris
    assert state(PARIS_OFFICE, utc(2026, 12, 2, 7, 29)) == (False, {"type": "group",
                                                                   "group_id": 3})
    assert state(PARIS_OFFICE, utc(2026, 12, 2, 17, 1))[0] is False


def test_week_end_and_exceptional_day_are_closed():
    assert state(PARIS_OFFICE, utc(2026, 12, 5, 10, 0))[0] is False  # a Saturday
    # Friday 25 December during opening hours: the exceptional period wins, its destination
    assert state(PARIS_OFFICE, utc(2026, 12, 25, 10, 0)) == (False, {"type": "user",
                                                                    "user_id": 7})


def test_no_open_period_means_closed():
    assert state({"timezone": "UTC", "closed_destination": {"type": "hangup"}},
                 utc(2026, 1, 1, 12, 0)) == (False, {"type": "hangup"})
