import datetime as dt

import pytest

from tracker.domain.plans import (
    REF_PATTERN, cycles, group_number_of, occurrence_due_date, parent_ref, section_of, valid_month_day,
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


def test_month_day():
    assert valid_month_day(2, 29)
    assert not valid_month_day(2, 30)
    assert not valid_month_day(4, 31)
    assert not valid_month_day(13, 1)


def test_cycles():
    assert cycles(None, None) == [0]
    assert cycles(2025, 2030) == [2025, 2026, 2027, 2028, 2029, 2030]
