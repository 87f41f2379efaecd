"""Working days: Monday to Friday, less the holidays an office configures (Tết, 30/4, 1/5, 2/9...,
which move with the lunar calendar and the government's decisions, so they are a list, not a rule)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

# Far enough back to cross Tết (up to nine days off in a row) with weekends on both sides.
_MAX_GAP_DAYS = 31


def is_working_day(day: dt.date, holidays: Iterable[dt.date] = ()) -> bool:
    return day.weekday() < 5 and day not in set(holidays)


def previous_working_day(day: dt.date, holidays: Iterable[dt.date] = ()) -> dt.date:
    """The last working day before `day` (at most a month back)."""
    off = set(holidays)
    for back in range(1, _MAX_GAP_DAYS + 1):
        candidate = day - dt.timedelta(days=back)
        if is_working_day(candidate, off):
            return candidate
    return day - dt.timedelta(days=_MAX_GAP_DAYS)


def next_working_day(day: dt.date, holidays: Iterable[dt.date] = ()) -> dt.date:
    """`day` itself when it is a working day, else the next one."""
    off = set(holidays)
    for ahead in range(_MAX_GAP_DAYS + 1):
        candidate = day + dt.timedelta(days=ahead)
        if is_working_day(candidate, off):
            return candidate
    return day + dt.timedelta(days=_MAX_GAP_DAYS)


def days_since(previous: dt.date, day: dt.date) -> list[dt.date]:
    """The days after `previous` up to and including `day`: what a digest on `day` covers."""
    return [previous + dt.timedelta(days=n) for n in range(1, (day - previous).days + 1)]
