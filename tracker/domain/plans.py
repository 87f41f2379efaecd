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


def occurrence_due_date(year: int, month: int, day: int) -> dt.date:
    """The due date of a yearly duty in `year`; 29/02 becomes 28/02 in common years."""
    return dt.date(year, month, min(day, calendar.monthrange(year, month)[1]))


def cycles(from_year: int | None, until_year: int | None) -> list[int]:
    """Cycle keys of an action's assignments: [0] for one-off actions, each year otherwise."""
    if from_year is None or until_year is None:
        return [0]
    return list(range(from_year, until_year + 1))
