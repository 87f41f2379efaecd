"""The indicator catalogue (chỉ tiêu) as the caller may see it, each judged as of a date.

Scope: an indicator is visible when one of its reporting units is (officers: their organisation;
leaders and viewers: their subtree; admins: all); outside the scope it answers 404. Status and
series come from tracker.services.indicator_status and the rules in tracker.domain.indicators.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import Select, exists, or_, select

from tracker.domain.access import Principal
from tracker.domain.indicators import LABELS, Point, Standing
from tracker.errors import NotFound
from tracker.extensions import db
from tracker.models import Indicator, IndicatorUnit
from tracker.services.access import subtree_ids
from tracker.services.filters import FilterValues, any_of, filter_values
from tracker.services.indicator_status import series, standings, visible_indicators


@dataclass
class IndicatorView:
    """An indicator with where it stands as of `as_of` (and, for the detail, its series)."""

    indicator: Indicator
    standing: Standing
    as_of: dt.date
    series: list[Point] = field(default_factory=list)

    @property
    def status_label(self) -> dict[str, str]:
        return LABELS[self.standing.status]


def indicators_query(principal: Principal, *, plan_id: FilterValues = None, organization_id: FilterValues = None,
                     include_descendants: bool = False, source: str | None = None) -> Select:
    """The visible indicators, filtered (`plan_id`, `organization_id`: one value or several); ordered by plan and code."""
    stmt = visible_indicators(principal)
    if (plans := filter_values(plan_id)) is not None:
        stmt = stmt.where(any_of(Indicator.plan_id, plans))
    if (organization_ids := filter_values(organization_id)) is not None:
        units = (IndicatorUnit.organization_id.in_(subtree_ids(set(organization_ids))) if include_descendants
                 else any_of(IndicatorUnit.organization_id, organization_ids))
        stmt = stmt.where(exists(select(IndicatorUnit.id).where(IndicatorUnit.indicator_id == Indicator.id, units)))
    if source is not None:
        # A ref and the items below it: II finds II.1 and II.2; III.5.1 finds III.5.1 only (and III.5.1.x).
        stmt = stmt.where(or_(Indicator.source_ref == source, Indicator.source_ref.startswith(source + ".", autoescape=True)))
    return stmt


def with_status(stmt: Select, status: FilterValues, as_of: dt.date) -> Select:
    """Keep the indicators whose status as of `as_of` is `status` (one of them). The status is computed (it is not
    stored), so the candidates are judged here and the page is then taken in SQL over their ids;
    a plan has dozens of indicators, not millions."""
    candidates = list(db.session.scalars(stmt).unique())
    results = standings(candidates, as_of)
    statuses = set(filter_values(status) or ())
    keep = [i.id for i in candidates if results[i.id].status in statuses]
    return stmt.where(Indicator.id.in_(keep))


def views(indicators: list[Indicator], as_of: dt.date) -> list[IndicatorView]:
    results = standings(indicators, as_of)
    return [IndicatorView(i, results[i.id], as_of) for i in indicators]


def get_indicator(principal: Principal, indicator_id: int) -> Indicator:
    """The indicator, or 404 when it does not exist or none of its units is in the caller's scope."""
    indicator = db.session.scalars(visible_indicators(principal).where(Indicator.id == indicator_id)).unique().one_or_none()
    if indicator is None:
        raise NotFound(f"Không có chỉ tiêu {indicator_id}. No such indicator.", code="indicator.not_found")
    return indicator


def indicator_detail(principal: Principal, indicator_id: int, as_of: dt.date) -> IndicatorView:
    """One indicator with its standing and its series of accepted values, rolled up across its units."""
    indicator = get_indicator(principal, indicator_id)
    view = views([indicator], as_of)[0]
    view.series = series([indicator], as_of).get(indicator.id, [])
    return view
