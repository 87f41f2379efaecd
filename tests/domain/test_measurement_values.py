"""What a measurement may hold (tracker.domain.measurements), without an app or a database."""

import datetime as dt
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracker.domain.measurements import MAX_MAGNITUDE, MeasurementRejected, Reading, check_measured_on, check_reading


def code_of(**kwargs) -> str:
    with pytest.raises(MeasurementRejected) as refused:
        check_reading(**{"kind": "numeric", "unit": "%", "rollup": "none", **kwargs})
    return refused.value.code


def test_accepted_readings():
    assert check_reading("numeric", "%", "none", value=80) == Reading(80, None, None)
    assert check_reading("numeric", "%", "weighted_mean", numerator=3, denominator=4) == Reading(None, 3, 4)
    assert check_reading("numeric", "dịch vụ", "sum", value=-5) == Reading(-5, None, None)  # only % is bounded
    assert check_reading("milestone", "hoàn thành", "none", done=True) == Reading(1.0, None, None)
    assert check_reading("milestone", "hoàn thành", "none", value=0) == Reading(0.0, None, None)


@pytest.mark.parametrize(("kwargs", "code"), [
    ({"value": 100.01}, "measurement.out_of_range"),
    ({"value": -1}, "measurement.out_of_range"),
    ({"numerator": 5, "denominator": 4}, "measurement.out_of_range"),
    ({"numerator": 1, "denominator": 0}, "measurement.out_of_range"),
    ({"numerator": 1}, "measurement.value_required"),
    ({}, "measurement.value_required"),
    ({"value": 1, "numerator": 1, "denominator": 1}, "measurement.wrong_value_kind"),
    ({"done": False}, "measurement.wrong_value_kind"),
    ({"value": 50, "rollup": "weighted_mean"}, "measurement.parts_required"),
    ({"value": math.nan}, "measurement.invalid_number"),
    ({"value": math.inf, "unit": "người"}, "measurement.invalid_number"),
    ({"kind": "milestone", "value": 2}, "measurement.wrong_value_kind"),
    ({"kind": "milestone", "numerator": 1, "denominator": 1}, "measurement.wrong_value_kind"),
    ({"kind": "milestone"}, "measurement.value_required"),
])
def test_refused_readings(kwargs, code):
    assert code_of(**kwargs) == code


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_a_percentage_is_stored_only_within_0_to_100(value):
    try:
        reading = check_reading("numeric", "%", "none", value=value)
    except MeasurementRejected:
        assert not (0 <= value <= 100)
    else:
        assert 0 <= reading.value <= 100 and abs(reading.value) <= MAX_MAGNITUDE


def test_measured_on_not_in_the_future():
    today = dt.date(2026, 6, 1)
    check_measured_on(today, today)
    with pytest.raises(MeasurementRejected) as refused:
        check_measured_on(dt.date(2026, 6, 2), today)
    assert refused.value.field == "measured_on"
