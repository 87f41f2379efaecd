"""Where indicators stand as of a date: the accepted measurements of many indicators in one query,
rolled up across their units per day, judged by tracker.domain.indicators."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import Select, exists, select
from sqlalchemy.orm import aliased, joinedload

from tracker.domain.access import Principal
from tracker.domain.indicators import DEFAULT_TOLERANCE, LABELS, Point, Rollup, Spec, Standing, Target, roll_up, standing
from tracker.errors import NotFound
from tracker.extensions import db
from tracker.models import Indicator, IndicatorUnit, Measurement, Organization
from tracker.services.access import subtree_ids, visible_organizations


_Correction = aliased(Measurement, name="correction")


def visible_indicators(principal: Principal, unit_ids: list[int] | None = None) -> Select:
    """Indicators with a reporting unit the caller sees (one of `unit_ids` if given), with their
    plan, targets and units, in one statement."""
    unit = select(IndicatorUnit.id).where(IndicatorUnit.indicator_id == Indicator.id,
                                          visible_organizations(principal, IndicatorUnit.organization_id))
    if unit_ids is not None:
        unit = unit.where(IndicatorUnit.organization_id.in_(unit_ids))
    return (select(Indicator).where(exists(unit))
            .options(joinedload(Indicator.plan), joinedload(Indicator.targets),
                     joinedload(Indicator.units).joinedload(IndicatorUnit.organization))
            .order_by(Indicator.plan_id, Indicator.code))


def spec_of(indicator: Indicator) -> Spec:
    return Spec(
        kind=indicator.kind, direction=indicator.direction,
        targets=tuple(Target(t.target_date, t.value) for t in indicator.targets),
        baseline_value=indicator.baseline_value, baseline_date=indicator.baseline_date,
        report_month=indicator.report_month, report_day=indicator.report_day, report_bound=indicator.report_bound,
        starts_on=indicator.plan.issue_date if indicator.plan is not None else None,
    )


def series(indicators: list[Indicator], as_of: dt.date, unit_ids: set[int] | None = None) -> dict[int, list[Point]]:
    """Accepted values per indicator, one point per day: each unit's latest accepted value on or
    before that day, rolled up with the indicator's rule (only days every unit has reported by).
    A value corrected by an accepted correction no longer counts."""
    if not indicators:
        return {}
    by_id = {i.id: i for i in indicators}
    rows = db.session.execute(
        select(Measurement.indicator_id, Measurement.organization_id, Measurement.measured_on, Measurement.value,
               Measurement.numerator, Measurement.denominator)
        .where(Measurement.indicator_id.in_(list(by_id)), Measurement.status == "accepted", Measurement.measured_on <= as_of,
               ~exists().where(_Correction.corrects_id == Measurement.id, _Correction.status == "accepted"))
        .order_by(Measurement.indicator_id, Measurement.measured_on, Measurement.id)
    ).all()
    grouped: dict[int, list] = defaultdict(list)
    for row in rows:
        if unit_ids is None or row.organization_id in unit_ids:
            grouped[row.indicator_id].append(row)
    result: dict[int, list[Point]] = {}
    for indicator_id, measurements in grouped.items():
        indicator = by_id[indicator_id]
        units = {u.organization_id for u in indicator.units if unit_ids is None or u.organization_id in unit_ids}
        current: dict[int, tuple] = {}
        points = []
        for day in sorted({m.measured_on for m in measurements}):
            for m in measurements:
                if m.measured_on == day:
                    current[m.organization_id] = (m.value, m.numerator, m.denominator)  # later ids correct earlier ones
            if units <= current.keys():
                # One unit's value is its own, whatever the roll-up rule.
                value = roll_up(indicator.rollup if len(units) > 1 else Rollup.NONE, [current[u] for u in sorted(units)])
                if value is not None:
                    points.append(Point(day, value))
        result[indicator_id] = points
    return result


def standings(indicators: list[Indicator], as_of: dt.date, *, tolerance: float = DEFAULT_TOLERANCE,
              unit_ids: set[int] | None = None) -> dict[int, Standing]:
    points = series(indicators, as_of, unit_ids)
    return {i.id: standing(spec_of(i), points.get(i.id, []), as_of, tolerance=tolerance) for i in indicators}


def report_row(indicator: Indicator, result: Standing) -> dict:
    """An indicator as reports list it: what it is, its target, where it stands."""
    return {
        "indicator_id": indicator.id, "code": indicator.code, "name": indicator.name, "unit": indicator.unit,
        "kind": indicator.kind, "direction": indicator.direction, "source_ref": indicator.source_ref,
        "units": ", ".join(u.organization.code for u in indicator.units),
        "target_date": result.target.date if result.target else None,
        "target_value": result.target.value if result.target else None,
        "latest_on": result.latest.measured_on if result.latest else None,
        "latest_value": round(result.latest.value, 4) if result.latest else None,
        "expected_value": round(result.expected, 4) if result.expected is not None else None, "progress": result.progress,
        "status": result.status.value, "status_label": LABELS[result.status]["vi"],
        "overdue_measurement": result.overdue_measurement, "last_due": result.last_due,
    }


def indicators_report(principal: Principal, *, as_of: dt.date, tolerance: float = DEFAULT_TOLERANCE,
                      organization_id: int | None = None, plan_id: int | None = None) -> dict:
    """Every indicator in scope (reported by `organization_id`'s subtree, with those units' values
    only, if given): three statements whatever the number of indicators and measurements."""
    unit_ids = None
    if organization_id is not None:
        unit_ids = list(db.session.scalars(select(Organization.id).where(
            Organization.id.in_(subtree_ids({organization_id})), visible_organizations(principal, Organization.id))))
        if organization_id not in unit_ids:
            raise NotFound("Không có đơn vị này trong phạm vi của bạn. No such organisation in your scope.", code="organization.not_found")
    stmt = visible_indicators(principal, unit_ids)
    if plan_id is not None:
        stmt = stmt.where(Indicator.plan_id == plan_id)
    indicators = list(db.session.scalars(stmt).unique())
    results = standings(indicators, as_of, tolerance=tolerance, unit_ids=set(unit_ids) if unit_ids is not None else None)
    rows = [report_row(i, results[i.id]) for i in indicators]
    counts: dict[str, int] = defaultdict(int)
    for row in rows:
        counts[row["status"]] += 1
    return {
        "as_of": as_of, "tolerance": tolerance,
        "rule": "Straight line from the baseline (or the first accepted value) to the target applying on as_of; "
                "on_track at or beyond it, at_risk short by at most tolerance × the baseline-to-target distance, "
                "off_track further short or past the target date; achieved when the latest accepted value meets the target.",
        "labels": {status: label for status, label in ((s.value, LABELS[s]) for s in LABELS)},
        "counts": dict(counts), "overdue_measurements": sum(1 for r in rows if r["overdue_measurement"]),
        "rows": rows,
    }
