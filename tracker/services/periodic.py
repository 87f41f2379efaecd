"""The six-month and annual report of an organisation (báo cáo 6 tháng / năm): every live
assignment of its subtree as of a day, one list per class, extension requests, back-dated facts,
and whether its own report was on time."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.orm import joinedload

from tracker.domain.access import Principal
from tracker.domain.classification import TaskClass, class_condition, class_expression, days_overdue, due_soon_condition
from tracker.errors import NotFound, ValidationFailed
from tracker.extensions import db
from tracker.models import Action, Assignment, AssignmentEvent, Extension, Organization, Plan, TaskGroup, User
from tracker.services.access import subtree_ids, visible_organizations
from tracker.services.reports import RATE_BASES, counts_row, iter_rows, report_rows


PERIOD = re.compile(r"^(?P<year>20\d\d)(?:-(?P<half>H1))?\Z")


@dataclass(frozen=True)
class Period:
    label: str
    year: int
    start: dt.date
    end: dt.date
    half_year: bool

    def instants(self, zone: str) -> tuple[dt.datetime, dt.datetime]:
        """The period as [first instant, instant after the last) in UTC, days taken in `zone`."""
        tz = ZoneInfo(zone)
        start = dt.datetime.combine(self.start, dt.time(), tz)
        end = dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time(), tz)
        return start.astimezone(dt.UTC), end.astimezone(dt.UTC)

    @classmethod
    def parse(cls, text: str) -> Period:
        match = PERIOD.match(text or "")
        if match is None:
            raise ValidationFailed(errors={"period": ["Dạng 2026-H1 (6 tháng) hoặc 2026 (cả năm). Use 2026-H1 or 2026."]})
        year = int(match["year"])
        if match["half"]:
            return cls(text, year, dt.date(year, 1, 1), dt.date(year, 6, 30), True)
        return cls(text, year, dt.date(year, 1, 1), dt.date(year, 12, 31), False)


PERIODIC_LIST_LIMIT = 1000

# The periodic report's lists, one per class, so that each count has its list.
PERIODIC_LISTS = {
    "completed": (TaskClass.COMPLETED_ON_TIME, TaskClass.COMPLETED_LATE),
    "overdue": (TaskClass.OVERDUE,),
    "in_progress": (TaskClass.IN_PROGRESS_ON_TIME,),
    "no_deadline": (TaskClass.NO_DEADLINE,),
}


def periodic_as_of(period: Period, organization_id: int, *, today: dt.date, as_of: dt.date | None = None,
                   at: str = "period_end") -> dt.date:
    """The day a periodic report is taken: the period's end (or today, if earlier), a given day
    within the period, or (`at=due_date`) the organisation's own report duty's due date."""
    if as_of is not None:
        if not period.start <= as_of <= period.end:
            raise ValidationFailed(errors={"as_of": [f"Phải trong kỳ báo cáo {period.start:%d/%m/%Y}–{period.end:%d/%m/%Y}. Must lie within the period."]})
        return as_of
    if at == "due_date":
        due = db.session.scalar(
            select(Assignment.due_date).join(Action, Action.id == Assignment.action_id)
            .where(Assignment.organization_id == organization_id, Assignment.cycle == period.year,
                   Action.report_period == ("six_month" if period.half_year else "annual"), Assignment.status != "cancelled")
            .order_by(Assignment.id).limit(1))
        if due is None:
            raise ValidationFailed("Đơn vị không có nhiệm vụ báo cáo cho kỳ này nên không có hạn báo cáo. "
                                   "The organisation has no report duty for this period, so no due date.",
                                   code="report.no_report_duty", errors={"at": ["Không có hạn báo cáo. No report due date."]})
        return due
    return min(period.end, today)


def periodic_population(principal: Principal, organization_id: int, period: Period, as_of: dt.date) -> list:
    """Who the periodic report counts: every live assignment of the subtree given by `as_of`,
    those without a deadline included; a yearly duty counts from its own year on."""
    return [
        visible_organizations(principal, Assignment.organization_id),
        Assignment.organization_id.in_(subtree_ids({organization_id})),
        Assignment.status != "cancelled",
        or_(Assignment.assigned_on.is_(None), Assignment.assigned_on <= as_of),
        or_(Assignment.cycle == 0, Assignment.cycle <= period.year),
    ]


def periodic_list_query(principal: Principal, population: list, name: str, as_of: dt.date) -> Select:
    classes = PERIODIC_LISTS[name]
    condition = or_(*(class_condition(c, Assignment.status, Assignment.due_date, Assignment.completed_on, as_of) for c in classes))
    order = {
        "completed": (Assignment.completed_on, Assignment.id),
        "no_deadline": (Organization.code, Action.ref, Assignment.id),
    }.get(name, (Assignment.due_date, Organization.code, Assignment.id))
    task_class = class_expression(Assignment.status, Assignment.due_date, Assignment.completed_on, as_of).label("classification")
    return report_rows(principal).add_columns(task_class).where(*population, condition).order_by(*order)


def periodic(principal: Principal, *, organization_id: int, period: Period, today: dt.date, full_lists: bool = False,
             as_of: dt.date | None = None, at: str = "period_end", zone: str = "Asia/Ho_Chi_Minh") -> dict:
    """The six-month or annual report of an organisation (with its subtree), as of the period's end.

    Its summary counts every live assignment of the population; each class has its list, so that
    the totals equal the lists' lengths. In JSON a list holds its first PERIODIC_LIST_LIMIT rows
    (`*_total` says how many there are); with `full_lists`, for exports, they are streams of every row.
    `groups` has the counts per plan group (for the Word report; not in the JSON schema)."""
    org = db.session.scalar(select(Organization).options(joinedload(Organization.parent)).where(
        Organization.id == organization_id, visible_organizations(principal, Organization.id)))
    if org is None:
        raise NotFound("Không có đơn vị này trong phạm vi của bạn. No such organisation in your scope.", code="organization.not_found")
    as_of = periodic_as_of(period, organization_id, today=today, as_of=as_of, at=at)
    population = periodic_population(principal, organization_id, period, as_of)
    task_class = class_expression(Assignment.status, Assignment.due_date, Assignment.completed_on, as_of)
    soon = func.sum(case((due_soon_condition(Assignment.status, Assignment.due_date, Assignment.completed_on, as_of), 1), else_=0))
    in_period = func.sum(case((and_(Assignment.completed_on >= period.start, Assignment.completed_on <= as_of,
                                    Assignment.status == "completed"), 1), else_=0))
    counts: dict[str, int] = defaultdict(int)
    group_keys = (Plan.code, TaskGroup.number, TaskGroup.title)
    by_group: dict[tuple, dict[str, int]] = defaultdict(dict)
    soon_by_group: dict[tuple, int] = defaultdict(int)
    due_soon = completed_in_period = 0
    # One statement, counted per plan group too (the Word report's results by task group).
    for code, number, title, klass, count, n_soon, n_in_period in db.session.execute(
            select(*group_keys, task_class, func.count(Assignment.id), soon, in_period)
            .join(Action, Action.id == Assignment.action_id).join(Plan, Plan.id == Action.plan_id)
            .outerjoin(TaskGroup, TaskGroup.id == Action.group_id)
            .where(*population).group_by(*group_keys, task_class)):
        counts[klass] += count
        by_group[(code, number, title)][klass] = count
        soon_by_group[(code, number, title)] += n_soon or 0
        due_soon += n_soon or 0
        completed_in_period += n_in_period or 0
    counts = dict(counts)
    lists: dict[str, Iterable[dict] | list[dict]] = {}
    for name in PERIODIC_LISTS:
        stmt = periodic_list_query(principal, population, name, as_of)
        if full_lists:
            lists[name] = iter_rows(stmt, as_of, make_row=partial(list_row, period=period))
        else:
            lists[name] = [list_row(row, as_of, period=period) for row in db.session.execute(stmt.limit(PERIODIC_LIST_LIMIT))]
    summary_row = counts_row({"organization_id": org.id}, org.name, counts, due_soon)
    summary_row["completed_in_period"] = completed_in_period
    bounds = period.instants(zone)
    extensions = [dict(row._mapping) for row in db.session.execute(_extensions_granted(organization_id, bounds))]
    return {
        "organization": {"id": org.id, "code": org.code, "name": org.name, "short_name": org.short_name, "kind": org.kind,
                         "parent": None if org.parent is None else {"id": org.parent.id, "code": org.parent.code,
                                                                    "name": org.parent.name, "kind": org.parent.kind}},
        "period": {"label": period.label, "start": period.start, "end": period.end,
                   "kind": "six_month" if period.half_year else "annual"},
        "as_of": as_of,
        "summary": summary_row,
        "groups": [counts_row({"plan_code": code, "group": number}, f"{number}. {title}" if number is not None else "Tổ chức thực hiện (mục IV)",
                        group_counts, soon_by_group[(code, number, title)]) | {"plan_code": code}
                   for (code, number, title), group_counts in sorted(by_group.items(), key=lambda kv: (kv[0][0], kv[0][1] or 99))],
        "rate_bases": {**RATE_BASES, "total": "every live assignment of the organisation's subtree given by as_of "
                                                "(those without a deadline included; a yearly duty from its own year on)"},
        **lists,
        **{f"{name}_total": sum(counts.get(c.value, 0) for c in classes) for name, classes in PERIODIC_LISTS.items()},
        "list_limit": None if full_lists else PERIODIC_LIST_LIMIT,
        "extensions_granted": extensions,
        "extension_requests": _extension_requests(organization_id, bounds),
        "backdated_facts": _backdated_facts(organization_id, period),
        "own_report": _own_report(org.id, period, as_of),
    }


def _extension_requests(organization_id: int, bounds: tuple[dt.datetime, dt.datetime]) -> dict:
    """Extension requests made in the period in the subtree, and how many came after the due date."""
    total, after_due = db.session.execute(
        select(func.count(Extension.id), func.sum(case((Extension.requested_after_due.is_(True), 1), else_=0)))
        .join(Assignment, Assignment.id == Extension.assignment_id)
        .where(Assignment.organization_id.in_(subtree_ids({organization_id})),
               Extension.requested_at >= bounds[0], Extension.requested_at < bounds[1])
    ).one()
    return {"count": total or 0, "requested_after_due": after_due or 0}


BACKDATED_LIST_LIMIT = 200


def _backdated_facts(organization_id: int, period: Period) -> dict:
    """Status changes recorded in the period with an earlier effective day: nobody quietly fixes a late record."""
    stmt = (
        select(AssignmentEvent.id.label("event_id"), AssignmentEvent.assignment_id, Action.ref.label("action_ref"),
               Organization.code.label("organization_code"), AssignmentEvent.new_value, AssignmentEvent.effective_on,
               AssignmentEvent.recorded_on, AssignmentEvent.occurred_at.label("recorded_at"),
               User.full_name.label("recorded_by"), AssignmentEvent.note)
        .join(Assignment, Assignment.id == AssignmentEvent.assignment_id)
        .join(Action, Action.id == Assignment.action_id)
        .join(Organization, Organization.id == Assignment.organization_id)
        .outerjoin(User, User.id == AssignmentEvent.actor_id)
        .where(Assignment.organization_id.in_(subtree_ids({organization_id})), AssignmentEvent.kind == "status_changed",
               AssignmentEvent.effective_on < AssignmentEvent.recorded_on,
               AssignmentEvent.recorded_on.between(period.start, period.end))
        .order_by(AssignmentEvent.id)
    )
    count = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    items = []
    for row in db.session.execute(stmt.limit(BACKDATED_LIST_LIMIT)):
        item = dict(row._mapping)
        new_value = item.pop("new_value") or {}
        item["status"] = new_value.get("status")
        item["days_back"] = (item["recorded_on"] - item["effective_on"]).days
        items.append(item)
    return {"count": count, "items": items, "list_limit": BACKDATED_LIST_LIMIT}


def _extensions_granted(organization_id: int, bounds: tuple[dt.datetime, dt.datetime]) -> Select:
    return (
        select(Extension.id.label("extension_id"), Extension.assignment_id, Action.ref.label("action_ref"),
               Organization.code.label("organization_code"), Extension.previous_due_date, Extension.new_due_date,
               Extension.reason, Extension.decided_at)
        .join(Assignment, Assignment.id == Extension.assignment_id)
        .join(Action, Action.id == Assignment.action_id)
        .join(Organization, Organization.id == Assignment.organization_id)
        .where(Assignment.organization_id.in_(subtree_ids({organization_id})), Extension.status == "granted")
        .where(Extension.decided_at >= bounds[0], Extension.decided_at < bounds[1])
        .order_by(Extension.decided_at)
    )


def _own_report(organization_id: int, period: Period, as_of: dt.date) -> dict:
    """Whether the organisation's own report for the period was submitted on time: its report
    duty of that kind (the plan marks it `report: six_month` or `report: annual`) for that year."""
    row = db.session.execute(
        select(Assignment.id, Action.ref, Assignment.status, Assignment.due_date, Assignment.submitted_on, Assignment.completed_on)
        .join(Action, Action.id == Assignment.action_id)
        .where(Assignment.organization_id == organization_id, Assignment.cycle == period.year,
               Action.report_period == ("six_month" if period.half_year else "annual"), Assignment.status != "cancelled")
        .order_by(Assignment.id).limit(1)
    ).first()
    if row is None:
        return {"required": False, "state": "not_required"}
    assignment_id, ref, status, due, submitted_on, completed_on = row
    if status == "completed" and completed_on is not None and completed_on <= as_of:
        state = "on_time" if completed_on <= due else "late"
    elif submitted_on is not None and status == "submitted":
        state = "submitted_on_time" if submitted_on <= due else "submitted_late"
    else:
        state = "overdue" if due < as_of else "pending"
    return {"required": True, "assignment_id": assignment_id, "action_ref": ref, "due_date": due,
            "submitted_on": submitted_on, "completed_on": completed_on, "state": state}


def list_row(row, as_of: dt.date, *, period: Period | None = None) -> dict:
    """A row of a periodic list: days overdue only for overdue work, days late for late work."""
    item = dict(row._mapping)
    klass = item.get("classification")
    item["days_overdue"] = days_overdue(item["due_date"], as_of) if klass == TaskClass.OVERDUE else 0
    item["days_late"] = (item["completed_on"] - item["due_date"]).days if klass == TaskClass.COMPLETED_LATE else 0
    item["extended"] = item["due_date"] != item["original_due_date"]
    if period is not None and item["completed_on"] is not None and klass in (TaskClass.COMPLETED_ON_TIME, TaskClass.COMPLETED_LATE):
        item["in_period"] = item["completed_on"] >= period.start
    return item
