import datetime as dt

import pytest

from tracker.domain.plans import (
    REF_PATTERN, cycles, group_number_of, last_permitted_day, occurrence_due_date, parent_ref, section_of, valid_month_day,
)


@pytest.mark.parametrize("ref", ["III.1.1", "III.6.3", "IV.1", "IV.4.2", "III.3.2.1"])
def test_valid_refs(ref):
    assert REF_PATTERN.match(ref)


@pytest.mark.parametrize("ref", ["", "III", "III.", "iii.1.1", "III.0.1", "III.1.1.", "V 1", "III.1.01", "X.1.1.1.1.1"])
def test_invalid_refs(ref):
    assert not REF_PATTERN.match(ref)


def test_ref_parts():
    assert section_of("III.3.2") == "III"
    assert group_number_of("III.3.2") == 3
    assert group_number_of("IV.4.1") is None
    assert parent_ref("III.3.2.1") == "III.3.2"
    assert parent_ref("III.3.2") == "III.3"
    assert parent_ref("IV.1") is None


def test_occurrence_due_dates():
    assert occurrence_due_date(2026, 6, 10) == dt.date(2026, 6, 10)
    assert occurrence_due_date(2025, 12, 1) == dt.date(2025, 12, 1)
    assert occurrence_due_date(2025, 2, 29) == dt.date(2025, 2, 28)
    assert occurrence_due_date(2028, 2, 29) == dt.date(2028, 2, 29)
    assert occurrence_due_date(2026, 6, 10, "by") == occurrence_due_date(2026, 6, 10, None) == dt.date(2026, 6, 10)


@pytest.mark.parametrize(("year", "month", "day", "due"), [
    (2026, 6, 10, dt.date(2026, 6, 9)),    # "trước ngày 10/6": 9/6 is the last day
    (2025, 12, 1, dt.date(2025, 11, 30)),  # "trước ngày 01/12"
    (2028, 3, 1, dt.date(2028, 2, 29)),    # before 01/03 in a leap year
    (2027, 3, 1, dt.date(2027, 2, 28)),    # and in a common year
    (2027, 2, 29, dt.date(2027, 2, 28)),   # before 29/02 when there is none: 01/03 is too late
    (2028, 2, 29, dt.date(2028, 2, 28)),
    (2027, 1, 1, dt.date(2026, 12, 31)),   # the year's first day: the last day of the year before
    (2026, 7, 31, dt.date(2026, 7, 30)),
])
def test_occurrence_due_dates_before_the_written_day(year, month, day, due):
    assert occurrence_due_date(year, month, day, "before") == due


def test_every_day_before_is_the_day_before_by():
    """Wherever the written day exists, `before` is exactly one day earlier than `by`."""
    for year in (2025, 2028):
        for month in range(1, 13):
            for day in range(1, 32):
                if valid_month_day(month, day) and not (month == 2 and day == 29 and year % 4):
                    by = occurrence_due_date(year, month, day, "by")
                    assert occurrence_due_date(year, month, day, "before") == by - dt.timedelta(days=1)


def test_last_permitted_day():
    assert last_permitted_day(dt.date(2025, 6, 30)) == dt.date(2025, 6, 30)
    assert last_permitted_day(dt.date(2025, 6, 10), "before") == dt.date(2025, 6, 9)
    assert last_permitted_day(dt.date(2025, 3, 1), "before") == dt.date(2025, 2, 28)


def test_month_day():
    assert valid_month_day(2, 29)
    assert not valid_month_day(2, 30)
    assert not valid_month_day(4, 31)
    assert not valid_month_day(13, 1)


def test_cycles():
    assert cycles(None, None) == [0]
    assert cycles(2025, 2030) == [2025, 2026, 2027, 2028, 2029, 2030]
