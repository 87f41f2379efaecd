"""How Vietnamese government reports classify tasks, written once in Python and once in SQL,
side by side, and tested against each other (tests/domain/test_classification.py).

As of a date D, each non-cancelled assignment is in exactly one class:
- completed_on_time     Hoàn thành đúng hạn: completed by D, on or before its due date (or no due date)
- completed_late        Hoàn thành quá hạn: completed by D, after its due date
- in_progress_on_time   Đang thực hiện trong hạn: not completed by D, due on or after D
- overdue               Chưa hoàn thành, quá hạn: not completed by D, due before D
- no_deadline           Thường xuyên / không thời hạn: not completed by D, no due date
An assignment completed after D counts as not completed as of D, so that a report for D can be
reproduced later. Cancelled assignments have no class and are left out of every count.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import and_, case, literal, or_
from sqlalchemy.sql.elements import ColumnElement


class TaskClass(StrEnum):
    COMPLETED_ON_TIME = "completed_on_time"
    COMPLETED_LATE = "completed_late"
    IN_PROGRESS_ON_TIME = "in_progress_on_time"
    OVERDUE = "overdue"
    NO_DEADLINE = "no_deadline"


LABELS = {
    TaskClass.COMPLETED_ON_TIME: {"vi": "Hoàn thành đúng hạn", "en": "Completed on time"},
    TaskClass.COMPLETED_LATE: {"vi": "Hoàn thành quá hạn", "en": "Completed late"},
    TaskClass.IN_PROGRESS_ON_TIME: {"vi": "Đang thực hiện trong hạn", "en": "In progress, on time"},
    TaskClass.OVERDUE: {"vi": "Chưa hoàn thành, quá hạn", "en": "Overdue"},
    TaskClass.NO_DEADLINE: {"vi": "Thường xuyên / không thời hạn", "en": "No deadline"},
}

DEFAULT_DUE_SOON_DAYS = 7


def classify(status: str, due_date: dt.date | None, completed_on: dt.date | None, as_of: dt.date) -> TaskClass | None:
    """The class of one assignment as of `as_of`; None for a cancelled one."""
    if status == "cancelled":
        return None
    if status == "completed" and completed_on is not None and completed_on <= as_of:
        if due_date is None or completed_on <= due_date:
            return TaskClass.COMPLETED_ON_TIME
        return TaskClass.COMPLETED_LATE
    if due_date is None:
        return TaskClass.NO_DEADLINE
    return TaskClass.IN_PROGRESS_ON_TIME if due_date >= as_of else TaskClass.OVERDUE


def is_due_soon(task_class: TaskClass | None, due_date: dt.date | None, as_of: dt.date, days: int = DEFAULT_DUE_SOON_DAYS) -> bool:
    """A flag on in-progress-on-time assignments due within `days` days of `as_of`."""
    return task_class == TaskClass.IN_PROGRESS_ON_TIME and due_date is not None and (due_date - as_of).days <= days


def days_overdue(due_date: dt.date | None, as_of: dt.date) -> int:
    return max(0, (as_of - due_date).days) if due_date else 0


# --- the same rules in SQL -------------------------------------------------------------------


def _completed_by(status, completed_on, as_of: dt.date) -> ColumnElement[bool]:
    return and_(status == "completed", completed_on.is_not(None), completed_on <= as_of)


def class_condition(task_class: TaskClass, status, due_date, completed_on, as_of: dt.date) -> ColumnElement[bool]:
    """A WHERE clause selecting the assignments of one class as of `as_of`."""
    live = status != "cancelled"
    done = _completed_by(status, completed_on, as_of)
    if task_class == TaskClass.COMPLETED_ON_TIME:
        return and_(live, done, or_(due_date.is_(None), completed_on <= due_date))
    if task_class == TaskClass.COMPLETED_LATE:
        return and_(live, done, due_date.is_not(None), completed_on > due_date)
    not_done = and_(live, ~done)
    if task_class == TaskClass.NO_DEADLINE:
        return and_(not_done, due_date.is_(None))
    if task_class == TaskClass.IN_PROGRESS_ON_TIME:
        return and_(not_done, due_date.is_not(None), due_date >= as_of)
    return and_(not_done, due_date.is_not(None), due_date < as_of)


def class_expression(status, due_date, completed_on, as_of: dt.date) -> ColumnElement[str]:
    """A column with the class name (NULL for cancelled), for GROUP BY and ORDER BY."""
    return case(
        *((class_condition(task_class, status, due_date, completed_on, as_of), literal(task_class.value)) for task_class in TaskClass),
        else_=None,
    )


def due_soon_condition(status, due_date, completed_on, as_of: dt.date, days: int = DEFAULT_DUE_SOON_DAYS) -> ColumnElement[bool]:
    return and_(
        class_condition(TaskClass.IN_PROGRESS_ON_TIME, status, due_date, completed_on, as_of),
        due_date <= as_of + dt.timedelta(days=days),
    )
