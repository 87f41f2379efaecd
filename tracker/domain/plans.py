"""Rules about plans and their actions that need neither Flask nor a database."""

from __future__ import annotations

import calendar
import datetime as dt
import re

# III.3.2 = section III, group 3, bullet 2; IV.4.1 = section IV, item 4, first duty.
REF_PATTERN = re.compile(r"^(?P<section>[IVX]+)(?:\.[1-9][0-9]{0,2}){1,4}\Z")
ORG_CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,63}\Z")


def section_of(ref: str) -> str:
    return ref.split(".", 1)[0]


def group_number_of(ref: str) -> int | None:
    """The group a section III ref belongs to (III.3.2 -> 3); None elsewhere."""
    parts = ref.split(".")
    return int(parts[1]) if parts[0] == "III" and len(parts) >= 3 else None


def parent_ref(ref: str) -> str | None:
    """III.3.2.1 -> III.3.2: a finer split keeps its bullet's ref as parent."""
    parts = ref.split(".")
    return ".".join(parts[:-1]) if len(parts) > 2 else None


def valid_month_day(month: int, day: int) -> bool:
    # A leap year, so that 29/02 is accepted (and clamped in other years).
    return 1 <= month <= 12 and 1 <= day <= calendar.monthrange(2024, month)[1]


# How a written date bounds a deadline: "by 30/6" (`by`: 30/6 is the last permitted day) or
# "trước ngày 10/6" (`before`: 10/6 is the first day too late, so 9/6 is the last).
BOUNDS = ("by", "before")
REPORT_PERIODS = ("six_month", "annual")


def last_permitted_day(written: dt.date, bound: str = "by") -> dt.date:
    """`due_date` is always the last permitted day: the written day, or the day before it."""
    return written - dt.timedelta(days=1) if bound == "before" else written


def occurrence_due_date(year: int, month: int, day: int, bound: str | None = "by") -> dt.date:
    """The last permitted day of a yearly duty in `year`.

    By 29/02 is 28/02 in common years. Before day d of a month is the day before it, counted from
    the month's start, so "before 01/03" is 29/02 in leap years and 28/02 in others, and "before
    29/02" in a common year is 28/02 (the first day too late being 01/03).
    """
    if bound == "before":
        return dt.date(year, month, 1) + dt.timedelta(days=day - 2)
    return dt.date(year, month, min(day, calendar.monthrange(year, month)[1]))


def cycles(from_year: int | None, until_year: int | None) -> list[int]:
    """Cycle keys of an action's assignments: [0] for one-off actions, each year otherwise."""
    if from_year is None or until_year is None:
        return [0]
    return list(range(from_year, until_year + 1))


def deadline_wording(due_date: dt.date | None, month: int | None, day: int | None, bound: str | None) -> str:
    """An action's deadline as a plan's appendix writes it: "30/06/2025", "hằng năm, trước ngày
    10/6" (a yearly duty bounded before the written day), "hằng năm, hạn 31/12", or "thường xuyên"
    (no deadline). The day is written as the plan writes it, not the last permitted day."""
    if due_date is not None:
        return due_date.strftime("%d/%m/%Y")
    if month is not None and day is not None:
        written = f"{day:02d}/{month}"
        return f"hằng năm, trước ngày {written}" if bound == "before" else f"hằng năm, hạn {written}"
    return "thường xuyên"


def cycle_falls_within(org, due: dt.date | None) -> bool:
    """Whether a yearly duty due on `due` falls on an organisation that existed from `org.valid_from`
    to `org.valid_to` (inclusive, None open): a unit is never given a year's duty due before it
    began (it would be overdue at once) or after it closed (its successor has that year)."""
    if due is None:
        return True
    return (org.valid_from is None or due >= org.valid_from) and (org.valid_to is None or due <= org.valid_to)
