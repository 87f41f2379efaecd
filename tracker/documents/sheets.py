"""The shape of a document for people: sheets of columns and rows, and how one value reads.

A report builds `Sheet`s from its data; `xlsx` and `csv_file` turn them into files. Codes (roles,
statuses) become Vietnamese labels here, in one place, for every format."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from tracker.models.base import as_utc


@dataclass(frozen=True)
class Column:
    key: str
    heading: str  # Vietnamese, as people read it
    kind: str = "text"  # text, int, date, datetime, rate
    width: int = 14
    labels: Mapping[str, str] | None = None  # code -> Vietnamese label (roles, statuses, ...)
    sums: bool = False  # the totals row adds this column up


@dataclass
class Sheet:
    title: str  # also the sheet's name (cut to 31 characters)
    columns: list[Column]
    rows: Iterable[dict]
    notes: list[str] = field(default_factory=list)
    total_label: str | None = None  # with a label, the workbook ends the sheet with a totals row
    totals: dict = field(default_factory=dict)  # the totals row's values for columns that are not summed


def local(moment: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """A stored moment (UTC; naive means UTC) as the wall-clock time in `zone`, without a zone:
    Excel keeps no time zones."""
    return as_utc(moment).astimezone(zone).replace(tzinfo=None)


class LocalTime:
    """`local` for the many moments of an export: the zone's offset from UTC is looked up once per
    UTC day, and moment by moment only on a day when it changes."""

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self._offsets: dict[int, dt.timedelta | None] = {}

    def __call__(self, moment: dt.datetime) -> dt.datetime:
        if moment.tzinfo is not None:  # to naive UTC by its own offset (the driver's UTC is not dt.UTC)
            offset = moment.utcoffset()
            moment = moment.replace(tzinfo=None) - offset if offset else moment.replace(tzinfo=None)
        day = moment.toordinal()
        if day not in self._offsets:
            start = dt.datetime.combine(moment.date(), dt.time(), dt.UTC)
            first, last = (instant.astimezone(self.zone).utcoffset() for instant in (start, start + dt.timedelta(days=1, microseconds=-1)))
            self._offsets[day] = first if first == last else None
        offset = self._offsets[day]
        return moment + offset if offset is not None else local(moment, self.zone)


def labelled(value, column: Column):
    """The value as people read it: a code becomes its label (an unknown code stays as it is)."""
    if column.labels is not None and isinstance(value, str):
        return column.labels.get(value, value)
    return value
