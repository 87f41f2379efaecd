import datetime as dt

import pytest

from tracker.domain.classification import TaskClass, classify, days_overdue, is_due_soon

D = dt.date(2026, 11, 24)


@pytest.mark.parametrize(
    ("status", "due", "completed_on", "expected"),
    [
        ("completed", D, D, TaskClass.COMPLETED_ON_TIME),  # completed on the due date
        ("completed", D, D + dt.timedelta(days=1), TaskClass.IN_PROGRESS_ON_TIME),  # not yet completed as of D
        ("completed", D - dt.timedelta(days=5), D - dt.timedelta(days=1), TaskClass.COMPLETED_LATE),
        ("completed", None, D - dt.timedelta(days=3), TaskClass.COMPLETED_ON_TIME),
        ("in_progress", D, None, TaskClass.IN_PROGRESS_ON_TIME),  # due today is still on time
        ("in_progress", D - dt.timedelta(days=1), None, TaskClass.OVERDUE),
        ("submitted", D - dt.timedelta(days=1), None, TaskClass.OVERDUE),  # submitted but not approved
        ("blocked", None, None, TaskClass.NO_DEADLINE),
        ("cancelled", D - dt.timedelta(days=30), None, None),
    ],
)
def test_classify(status, due, completed_on, expected):
    assert classify(status, due, completed_on, D) == expected


def test_due_soon_and_days_overdue():
    assert is_due_soon(TaskClass.IN_PROGRESS_ON_TIME, D + dt.timedelta(days=7), D)
    assert not is_due_soon(TaskClass.IN_PROGRESS_ON_TIME, D + dt.timedelta(days=8), D)
    assert not is_due_soon(TaskClass.OVERDUE, D - dt.timedelta(days=1), D)
    assert days_overdue(D - dt.timedelta(days=3), D) == 3
    assert days_overdue(None, D) == 0
