"""Whether an indicator (chỉ tiêu) is on track, and how units' values roll up: pure rules.

The rule, in PRODUCT.md's terms, as of a date D, on the accepted measurements up to D:
- `no_data`: no accepted measurement describes a day on or before D.
- `achieved`: the latest value meets the target that applies (the first target dated on or after
  D, or the last one when all have passed): for `at_least` value ≥ target, `more_than` >,
  `at_most` ≤, `less_than` <, `exactly` equal; `keep_above` / `keep_below` hold when the value is
  above / below it. A milestone is achieved when its latest value is 1 (done).
- otherwise, when the target's date has passed: `off_track`.
- otherwise the expected value on D lies on the straight line from the baseline (value, date) to the
  target (value, date); without a baseline, from the first accepted measurement. A latest value at
  or beyond the expected one (in the indicator's direction) is `on_track`; short of it by at most
  `tolerance` × the whole distance from baseline to target is `at_risk`; further short, `off_track`.
  A milestone not yet due is `on_track`; `keep_*` indicators not holding are `off_track`.
- `overdue_measurement` (a flag beside the status): a reporting due date (yearly, the indicator's
  written day and bound) has passed on or before D with no accepted measurement describing the
  year that ended there.
Deterministic for a given D: it reads no clock.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from enum import StrEnum

from tracker.domain.plans import occurrence_due_date


class Direction(StrEnum):
    AT_LEAST = "at_least"  # increase to at least (≥)
    MORE_THAN = "more_than"  # increase to more than (>)
    AT_MOST = "at_most"  # decrease to at most (≤)
    LESS_THAN = "less_than"  # decrease to less than (<)
    EXACTLY = "exactly"  # reach exactly (e.g. 100%)
    KEEP_ABOVE = "keep_above"  # maintain above
    KEEP_BELOW = "keep_below"  # maintain below


class Kind(StrEnum):
    NUMERIC = "numeric"
    MILESTONE = "milestone"  # yes/no: 1 = done


class Rollup(StrEnum):
    SUM = "sum"
    MEAN = "mean"
    WEIGHTED_MEAN = "weighted_mean"  # by the denominators: Σ numerators / Σ denominators
    NONE = "none"


class Status(StrEnum):
    ACHIEVED = "achieved"
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    OFF_TRACK = "off_track"
    NO_DATA = "no_data"


LABELS = {
    Status.ACHIEVED: {"vi": "Đã đạt", "en": "Achieved"},
    Status.ON_TRACK: {"vi": "Đúng tiến độ", "en": "On track"},
    Status.AT_RISK: {"vi": "Có nguy cơ chậm", "en": "At risk"},
    Status.OFF_TRACK: {"vi": "Chậm tiến độ", "en": "Off track"},
    Status.NO_DATA: {"vi": "Chưa có số liệu", "en": "No data"},
}

DEFAULT_TOLERANCE = 0.1
RISING = {Direction.AT_LEAST, Direction.MORE_THAN, Direction.KEEP_ABOVE}
EXACT_EPSILON = 1e-9


@dataclass(frozen=True)
class Target:
    date: dt.date
    value: float


@dataclass(frozen=True)
class Point:
    """An accepted value (rolled up across units) describing a day."""

    measured_on: dt.date
    value: float


@dataclass(frozen=True)
class Spec:
    kind: str
    direction: str
    targets: tuple[Target, ...]
    baseline_value: float | None = None
    baseline_date: dt.date | None = None
    report_month: int = 12
    report_day: int = 1
    report_bound: str = "before"
    starts_on: dt.date | None = None  # when reporting starts (the plan's issue date)


@dataclass(frozen=True)
class Standing:
    status: Status
    latest: Point | None
    target: Target | None
    expected: float | None  # on the straight line, as of the date
    progress: float | None  # share of the way from baseline to target, 0–1 (may exceed 1)
    overdue_measurement: bool
    last_due: dt.date | None  # the latest reporting due date on or before as_of


def meets(direction: str, value: float, target: float) -> bool:
    if direction in (Direction.AT_LEAST,):
        return value >= target - EXACT_EPSILON
    if direction in (Direction.MORE_THAN, Direction.KEEP_ABOVE):
        return value > target
    if direction in (Direction.AT_MOST,):
        return value <= target + EXACT_EPSILON
    if direction in (Direction.LESS_THAN, Direction.KEEP_BELOW):
        return value < target
    return abs(value - target) <= EXACT_EPSILON


def applicable_target(targets: tuple[Target, ...], as_of: dt.date) -> Target | None:
    """The first target dated on or after `as_of`; the last one when all have passed."""
    ordered = sorted(targets, key=lambda t: t.date)
    return next((t for t in ordered if t.date >= as_of), ordered[-1] if ordered else None)


def due_dates(spec: Spec, as_of: dt.date) -> list[dt.date]:
    """Yearly reporting due dates from the start of reporting to `as_of`."""
    start = spec.starts_on or (spec.baseline_date or dt.date(as_of.year, 1, 1))
    found = []
    for year in range(start.year, as_of.year + 1):
        due = occurrence_due_date(year, spec.report_month, spec.report_day, spec.report_bound)
        if start < due <= as_of:
            found.append(due)
    return found


def standing(spec: Spec, points: list[Point], as_of: dt.date, *, tolerance: float = DEFAULT_TOLERANCE) -> Standing:
    """The status of an indicator as of `as_of` from its accepted (rolled-up) values."""
    # Points are one per day once rolled up; should a day have two, the order is still fixed.
    known = sorted((p for p in points if p.measured_on <= as_of and math.isfinite(p.value)), key=lambda p: (p.measured_on, p.value))
    target = applicable_target(spec.targets, as_of)
    dues = due_dates(spec, as_of)
    last_due = dues[-1] if dues else None
    latest = known[-1] if known else None
    overdue = last_due is not None and not any(
        last_due - dt.timedelta(days=366) < p.measured_on <= last_due for p in known)
    if latest is None or target is None:
        return Standing(Status.NO_DATA, latest, target, None, None, overdue, last_due)
    if spec.kind == Kind.MILESTONE:
        done = latest.value >= 1 - EXACT_EPSILON
        status = Status.ACHIEVED if done else (Status.OFF_TRACK if as_of > target.date else Status.ON_TRACK)
        return Standing(status, latest, target, None, 1.0 if done else 0.0, overdue, last_due)
    if meets(spec.direction, latest.value, target.value):
        return Standing(Status.ACHIEVED, latest, target, target.value, _progress(spec, known, target, latest), overdue, last_due)
    if spec.direction in (Direction.KEEP_ABOVE, Direction.KEEP_BELOW) or as_of > target.date:
        return Standing(Status.OFF_TRACK, latest, target, target.value, _progress(spec, known, target, latest), overdue, last_due)
    start_value, start_date = _start(spec, known)
    expected = _on_line(start_value, start_date, target, as_of)
    distance = abs(target.value - start_value)
    rising = spec.direction in RISING or (spec.direction == Direction.EXACTLY and target.value >= start_value)
    shortfall = (expected - latest.value) if rising else (latest.value - expected)
    if shortfall <= EXACT_EPSILON:
        status = Status.ON_TRACK
    elif shortfall <= tolerance * distance + EXACT_EPSILON:
        status = Status.AT_RISK
    else:
        status = Status.OFF_TRACK
    return Standing(status, latest, target, expected, _progress(spec, known, target, latest), overdue, last_due)


def _start(spec: Spec, known: list[Point]) -> tuple[float, dt.date]:
    if spec.baseline_value is not None and spec.baseline_date is not None:
        return spec.baseline_value, spec.baseline_date
    return known[0].value, known[0].measured_on


def _on_line(start_value: float, start_date: dt.date, target: Target, day: dt.date) -> float:
    span = (target.date - start_date).days
    if span <= 0:
        return target.value
    elapsed = min(max((day - start_date).days, 0), span)
    return start_value + (target.value - start_value) * elapsed / span


def _progress(spec: Spec, known: list[Point], target: Target, latest: Point) -> float | None:
    start_value, _ = _start(spec, known)
    if target.value == start_value:
        return 1.0 if meets(spec.direction, latest.value, target.value) else 0.0
    return round((latest.value - start_value) / (target.value - start_value), 4)


def roll_up(method: str, parts: list[tuple[float | None, float | None, float | None]]) -> float | None:
    """One value from the units' (value, numerator, denominator): a rate from its parts rolls up as
    Σ numerators / Σ denominators × 100 (a weighted mean), never as a mean of percentages."""
    if not parts:
        return None
    if method == Rollup.WEIGHTED_MEAN:
        if any(n is None or d is None for _, n, d in parts):
            return None
        total = sum(d for _, _, d in parts)
        return sum(n for _, n, _ in parts) / total * 100 if total else None
    values = [v if v is not None else (n / d * 100 if n is not None and d else None) for v, n, d in parts]
    if any(v is None for v in values):
        return None
    if method == Rollup.SUM:
        return sum(values)
    if method == Rollup.MEAN:
        return sum(values) / len(values)
    return values[0] if len(values) == 1 else None
