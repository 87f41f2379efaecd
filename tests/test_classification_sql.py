"""The classification rule in Python and in SQL agree, on the real database, over generated cases
(boundaries included: due today, completed on the due date, no due date, cancelled, extended)."""

import datetime as dt

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import Date, String, literal, select

from tracker.domain.classification import TaskClass, class_condition, class_expression, classify, due_soon_condition, is_due_soon

BASE = dt.date(2026, 6, 10)
STATUSES = ["not_started", "in_progress", "submitted", "returned", "completed", "blocked", "cancelled"]
near = st.integers(min_value=-3, max_value=3).map(lambda d: BASE + dt.timedelta(days=d))
dates = st.one_of(st.none(), near, st.dates(min_value=dt.date(2024, 1, 1), max_value=dt.date(2031, 12, 31)))
cases = st.tuples(st.sampled_from(STATUSES), dates, dates, near)

BOUNDARIES = [
    ("in_progress", BASE, None, BASE),  # due today
    ("completed", BASE, BASE, BASE),  # completed on the due date
    ("completed", BASE, BASE + dt.timedelta(days=1), BASE),  # completed after as_of
    ("blocked", None, None, BASE),  # no due date
    ("cancelled", BASE - dt.timedelta(days=1), None, BASE),  # cancelled
    ("completed", None, BASE, BASE),
    ("returned", BASE + dt.timedelta(days=7), None, BASE),  # due soon, edge
    ("returned", BASE + dt.timedelta(days=8), None, BASE),
]


def _sql_classes(session, batch):
    columns = []
    for status, due, completed_on, as_of in batch:
        s, d, c = literal(status, String), literal(due, Date), literal(completed_on, Date)
        columns.append(class_expression(s, d, c, as_of))
        columns.append(due_soon_condition(s, d, c, as_of))
        for task_class in TaskClass:
            columns.append(class_condition(task_class, s, d, c, as_of))
    return session.execute(select(*columns)).one()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(cases, min_size=40, max_size=60))
@example(BOUNDARIES)
def test_python_and_sql_agree(session, batch):
    row = _sql_classes(session, batch)
    width = 2 + len(TaskClass)
    for index, (status, due, completed_on, as_of) in enumerate(batch):
        expected = classify(status, due, completed_on, as_of)
        in_sql = row[index * width]
        assert in_sql == (expected.value if expected else None), (status, due, completed_on, as_of)
        assert bool(row[index * width + 1]) == is_due_soon(expected, due, as_of), (status, due, completed_on, as_of)
        flags = [bool(flag) for flag in row[index * width + 2:(index + 1) * width]]
        assert flags == [expected == task_class for task_class in TaskClass]
