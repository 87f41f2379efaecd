"""What a measurement of an indicator may hold: pure rules, no Flask, no database.

- A milestone (done or not) is `value` 0 or 1, or `done` true/false; never a rate's parts.
- A numeric indicator takes `value`, or `numerator` and `denominator` (denominator > 0), never
  both: a rate sent by its parts rolls up as Σ numerators / Σ denominators. Indicators rolled up
  by a weighted mean need the parts.
- Values are finite and within ±MAX_MAGNITUDE; parts are not negative.
- An indicator in "%" takes values within 0–100, and a numerator no larger than its denominator.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from enum import StrEnum

from tracker.domain.indicators import Kind, Rollup

MAX_MAGNITUDE = 1e12
PERCENT_UNITS = frozenset({"%"})


class MeasurementStatus(StrEnum):
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    RETURNED = "returned"


class Decision(StrEnum):
    ACCEPT = "accept"
    RETURN = "return"


DECIDED_STATUS = {Decision.ACCEPT: MeasurementStatus.ACCEPTED, Decision.RETURN: MeasurementStatus.RETURNED}


class MeasurementRejected(Exception):
    """A value refused: a stable code, the field at fault, and a Vietnamese then English message."""

    def __init__(self, code: str, field: str, detail: str):
        super().__init__(detail)
        self.code, self.field, self.detail = code, field, detail


@dataclass(frozen=True)
class Reading:
    value: float | None
    numerator: float | None
    denominator: float | None


def is_percent(unit: str) -> bool:
    return unit.strip() in PERCENT_UNITS


def check_reading(kind: str, unit: str, rollup: str, *, value: float | None = None, numerator: float | None = None,
                  denominator: float | None = None, done: bool | None = None) -> Reading:
    """The reading to store, or MeasurementRejected."""
    for name, number in (("value", value), ("numerator", numerator), ("denominator", denominator)):
        if number is not None and not (math.isfinite(number) and abs(number) <= MAX_MAGNITUDE):
            raise MeasurementRejected("measurement.invalid_number", name,
                                      f"Giá trị phải là số hữu hạn, tối đa {MAX_MAGNITUDE:.0e}. Must be a finite number "
                                      f"within ±{MAX_MAGNITUDE:.0e}.")
    has_parts = numerator is not None or denominator is not None
    if kind == Kind.MILESTONE:
        return _milestone(value, done, has_parts)
    if done is not None:
        raise MeasurementRejected("measurement.wrong_value_kind", "done",
                                  "Chỉ tiêu định lượng không nhận `done`; gửi `value`. A numeric indicator takes `value`, not `done`.")
    if value is not None and has_parts:
        raise MeasurementRejected("measurement.wrong_value_kind", "value",
                                  "Gửi `value` hoặc `numerator` và `denominator`, không cả hai. Send `value` or the parts, not both.")
    if has_parts:
        return _parts(unit, numerator, denominator)
    if value is None:
        raise MeasurementRejected("measurement.value_required", "value",
                                  "Thiếu giá trị (`value`, hoặc `numerator` và `denominator`). A value is required.")
    if rollup == Rollup.WEIGHTED_MEAN:
        raise MeasurementRejected("measurement.parts_required", "numerator",
                                  "Chỉ tiêu này cộng dồn theo tử số và mẫu số; gửi `numerator` và `denominator`. "
                                  "This rate rolls up by its parts: send `numerator` and `denominator`.")
    if is_percent(unit) and not 0 <= value <= 100:
        raise MeasurementRejected("measurement.out_of_range", "value",
                                  "Tỷ lệ phần trăm phải trong khoảng 0–100. A percentage must be within 0–100.")
    return Reading(value, None, None)


def _milestone(value: float | None, done: bool | None, has_parts: bool) -> Reading:
    if has_parts:
        raise MeasurementRejected("measurement.wrong_value_kind", "numerator",
                                  "Chỉ tiêu dạng hoàn thành/chưa không nhận tử số, mẫu số. A milestone takes `value` 0 or 1, or `done`.")
    if value is not None and done is not None:
        raise MeasurementRejected("measurement.wrong_value_kind", "done",
                                  "Gửi `value` hoặc `done`, không cả hai. Send `value` or `done`, not both.")
    if done is not None:
        return Reading(1.0 if done else 0.0, None, None)
    if value is None:
        raise MeasurementRejected("measurement.value_required", "value",
                                  "Thiếu giá trị (`value` 0 hoặc 1, hoặc `done`). A value is required: `value` 0 or 1, or `done`.")
    if value not in (0, 1):
        raise MeasurementRejected("measurement.wrong_value_kind", "value",
                                  "Chỉ tiêu dạng hoàn thành/chưa chỉ nhận 0 hoặc 1. A milestone's value is 0 or 1.")
    return Reading(float(value), None, None)


def _parts(unit: str, numerator: float | None, denominator: float | None) -> Reading:
    if numerator is None or denominator is None:
        missing = "numerator" if numerator is None else "denominator"
        raise MeasurementRejected("measurement.value_required", missing,
                                  "Cần cả tử số và mẫu số. Both `numerator` and `denominator` are required.")
    if denominator <= 0:
        raise MeasurementRejected("measurement.out_of_range", "denominator", "Mẫu số phải lớn hơn 0. The denominator must be above 0.")
    if numerator < 0:
        raise MeasurementRejected("measurement.out_of_range", "numerator", "Tử số không được âm. The numerator cannot be negative.")
    if is_percent(unit) and numerator > denominator:
        raise MeasurementRejected("measurement.out_of_range", "numerator",
                                  "Tử số không được lớn hơn mẫu số (tỷ lệ quá 100%). The numerator cannot exceed the denominator.")
    return Reading(None, numerator, denominator)


def check_measured_on(measured_on: dt.date, today: dt.date) -> None:
    if measured_on > today:
        raise MeasurementRejected("measurement.in_future", "measured_on",
                                  f"Ngày số liệu không được sau hôm nay ({today:%d/%m/%Y}). measured_on cannot be in the future.")
