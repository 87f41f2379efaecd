"""The six-month and annual report of an organisation (báo cáo 6 tháng / năm): every live
assignment of its subtree as of a day, one list per class, extension requests, back-dated facts,
and whether its own report was on time.

The subtree and the names are those of the report's day (as_of), and each assignment counts where
it was held that day (tracker.services.reports.TreeOn), so a later rename, move or merger does not
change a report of an earlier day."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.orm import aliased

from tracker.domain.access import Principal
from tracker.domain.classification import TaskClass, class_condition, class_expression, days_overdue, due_soon_condition
from tracker.errors import NotFound, ValidationFailed
from tracker.extensions import db
from tracker.models import Action, Assignment, AssignmentEvent, AssignmentTransfer, Extension, Organization, Plan, TaskGroup, User
from tracker.services.access import visible_organizations
from tracker.services.reports import RATE_BASES, TreeOn, as_dict, counts_row, held_versions, iter_rows, report_rows, version_or_current


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
            raise ValidationFailed(errors={"period": ["Kỳ báo cáo có dạng 2026-H1 (6 tháng đầu năm) hoặc 2026 (cả năm). "
                                                    "A period is written 2026-H1 (the first half-year) or 2026 (the year)."]})
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
                   at: str = "period_end", principal: Principal | None = None) -> dt.date:
    """The day a periodic report is taken: the period's end (or today, if earlier), a given day
    within the period, or (`at=due_date`) the due date of the organisation's own report duty (the
    one it held on that day). With `principal`, an organisation outside their scope is 404 first."""
    if as_of is not None:
        if not period.start <= as_of <= period.end:
            raise ValidationFailed(errors={"as_of": [f"Phải trong kỳ báo cáo {period.start:%d/%m/%Y}–{period.end:%d/%m/%Y}. Must lie within the period."]})
        return as_of
    if at == "due_date":
        duty = _report_duty(select(Assignment.due_date), organization_id, period).scalar_subquery()
        if principal is None:
            due = db.session.scalar(select(duty))
        else:  # one statement: in scope, and the due date
            found = db.session.execute(select(Organization.id, duty).where(
                Organization.id == organization_id, visible_organizations(principal, Organization.id))).first()
            if found is None:
                raise _not_found()
            due = found[1]
        if due is None:
            raise ValidationFailed("Đơn vị không có nhiệm vụ báo cáo cho kỳ này nên không có hạn báo cáo. "
                                   "The organisation has no report duty for this period, so no due date.",
                                   code="report.no_report_duty", errors={"at": ["Không có hạn báo cáo. No report due date."]})
        return due
    return min(period.end, today)


def _held_at_due_date(organization_id: int) -> ColumnElement[bool]:
    """The assignment was the organisation's on its own due date: it holds it now and no transfer
    dated after the due date took it from another unit, or such a transfer took it from this one."""
    first_later = (
        select(AssignmentTransfer.from_organization_id)
        .where(AssignmentTransfer.assignment_id == Assignment.id, AssignmentTransfer.effective_on > Assignment.due_date)
        .order_by(AssignmentTransfer.effective_on, AssignmentTransfer.id)
        .limit(1)
        .correlate(Assignment)
        .scalar_subquery()
    )
    passed_on = select(AssignmentTransfer.assignment_id).where(AssignmentTransfer.from_organization_id == organization_id)
    touched = or_(Assignment.organization_id == organization_id, Assignment.id.in_(passed_on))
    return and_(touched, func.coalesce(first_later, Assignment.organization_id) == organization_id)


def _report_duty(stmt: Select, organization_id: int, period: Period) -> Select:
    """The organisation's own report duty for the period (the plan marks it `report: six_month` or
    `report: annual`, for that year): the one it held on its due date."""
    return (
        stmt.select_from(Assignment).join(Action, Action.id == Assignment.action_id)
        .where(_held_at_due_date(organization_id), Assignment.cycle == period.year,
               Action.report_period == ("six_month" if period.half_year else "annual"), Assignment.status != "cancelled")
        .order_by(Assignment.id).limit(1)
    )


def periodic_population(in_subtree: ColumnElement[bool], period: Period, as_of: dt.date, tree: TreeOn) -> list:
    """Who the periodic report counts (the caller's scope is applied beside it): every assignment
    live and held on `as_of` in the subtree of that day (`in_subtree`: `tree.in_subtree`), those
    without a deadline included; a yearly duty counts from its own year on."""
    return [
        in_subtree,
        tree.status != "cancelled",
        or_(Assignment.assigned_on.is_(None), Assignment.assigned_on <= as_of),
        or_(Assignment.cycle == 0, Assignment.cycle <= period.year),
    ]


def periodic_list_query(principal: Principal, population: list, name: str, as_of: dt.date, tree: TreeOn) -> Select:
    classes = PERIODIC_LISTS[name]
    condition = or_(*(class_condition(c, tree.status, Assignment.due_date, Assignment.completed_on, as_of) for c in classes))
    order = {
        "completed": (Assignment.completed_on, Assignment.id),
        "no_deadline": (Organization.code, Action.ref, Assignment.id),
    }.get(name, (Assignment.due_date, Organization.code, Assignment.id))
    task_class = class_expression(tree.status, Assignment.due_date, Assignment.completed_on, as_of).label("classification")
    return report_rows(principal, tree).add_columns(task_class).where(*population, condition).order_by(*order)


def periodic(principal: Principal, *, organization_id: int, period: Period, today: dt.date, full_lists: bool = False,
             as_of: dt.date | None = None, at: str = "period_end", zone: str = "Asia/Ho_Chi_Minh") -> dict:
    """The six-month or annual report of an organisation (with its subtree), as of the period's end.

    Its summary counts every live assignment of the population; each class has its list, so that
    the totals equal the lists' lengths. In JSON a list holds its first PERIODIC_LIST_LIMIT rows
    (`*_total` says how many there are); with `full_lists`, for exports, they are streams of every row.
    `groups` has the counts per plan group (for the Word report; not in the JSON schema)."""
    as_of = periodic_as_of(period, organization_id, today=today, as_of=as_of, at=at, principal=principal)
    org = _organization_on(principal, organization_id, as_of)
    tree = TreeOn.of(as_of)
    in_subtree = tree.in_subtree(organization_id)
    population = periodic_population(in_subtree, period, as_of, tree)
    task_class = class_expression(tree.status, Assignment.due_date, Assignment.completed_on, as_of)
    soon = func.sum(case((due_soon_condition(tree.status, Assignment.due_date, Assignment.completed_on, as_of), 1), else_=0))
    in_period = func.sum(case((and_(Assignment.completed_on >= period.start, Assignment.completed_on <= as_of,
                                    Assignment.status == "completed"), 1), else_=0))
    counts: dict[str, int] = defaultdict(int)
    group_keys = (Plan.code, TaskGroup.number, TaskGroup.title)
    by_group: dict[tuple, dict[str, int]] = defaultdict(dict)
    soon_by_group: dict[tuple, int] = defaultdict(int)
    due_soon = completed_in_period = 0
    # One statement, counted per plan group too (the Word report's results by task group).
    for code, number, title, klass, count, n_soon, n_in_period in db.session.execute(
            tree.join_status(select(*group_keys, task_class, func.count(Assignment.id), soon, in_period).select_from(Assignment))
            .join(Action, Action.id == Assignment.action_id).join(Plan, Plan.id == Action.plan_id)
            .outerjoin(TaskGroup, TaskGroup.id == Action.group_id)
            .where(visible_organizations(principal, tree.holder), *population).group_by(*group_keys, task_class)):
        counts[klass] += count
        by_group[(code, number, title)][klass] = count
        soon_by_group[(code, number, title)] += n_soon or 0
        due_soon += n_soon or 0
        completed_in_period += n_in_period or 0
    counts = dict(counts)
    lists: dict[str, Iterable[dict] | list[dict]] = {}
    for name in PERIODIC_LISTS:
        stmt = periodic_list_query(principal, population, name, as_of, tree)
        if full_lists:
            lists[name] = iter_rows(stmt, as_of, make_row=partial(list_row, period=period))
        else:
            lists[name] = [list_row(row, as_of, period=period) for row in db.session.execute(stmt.limit(PERIODIC_LIST_LIMIT))]
    summary_row = counts_row({"organization_id": org["id"]}, org["name"], counts, due_soon)
    summary_row["completed_in_period"] = completed_in_period
    bounds = period.instants(zone)
    extensions = [dict(row._mapping) for row in db.session.execute(_extensions_granted(in_subtree, tree, bounds))]
    return {
        "organization": org,
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
        "extension_requests": _extension_requests(in_subtree, bounds),
        "backdated_facts": _backdated_facts(in_subtree, tree, period),
        "own_report": _own_report(organization_id, period, as_of),
    }


def _not_found() -> NotFound:
    return NotFound("Không có đơn vị này trong phạm vi của bạn. No such organisation in your scope.", code="organization.not_found")


def _organization_on(principal: Principal, organization_id: int, day: dt.date) -> dict:
    """The organisation (in the caller's scope, else 404) with its name and parent as on `day`
    (for a unit closed by then its last ones; the current ones for a unit not yet created). One statement."""
    parent = aliased(Organization, name="parent_organization")
    version, parent_version = held_versions(day, "organization_on"), held_versions(day, "parent_organization_on")
    stmt = (
        select(Organization.id, Organization.code, version_or_current(version, "name", Organization.name),
               version_or_current(version, "short_name", Organization.short_name), Organization.kind,
               parent.id, parent.code, version_or_current(parent_version, "name", parent.name), parent.kind)
        .outerjoin(version, version.c.organization_id == Organization.id)
        .outerjoin(parent, parent.id == version_or_current(version, "parent_id", Organization.parent_id))
        .outerjoin(parent_version, parent_version.c.organization_id == parent.id)
    )
    row = db.session.execute(stmt.where(Organization.id == organization_id, visible_organizations(principal, Organization.id))).first()
    if row is None:
        raise _not_found()
    org_id, code, name, short_name, kind, parent_id, parent_code, parent_name, parent_kind = row
    return {"id": org_id, "code": code, "name": name, "short_name": short_name, "kind": kind,
            "parent": None if parent_id is None else {"id": parent_id, "code": parent_code, "name": parent_name, "kind": parent_kind}}


def _extension_requests(in_subtree: ColumnElement[bool], bounds: tuple[dt.datetime, dt.datetime]) -> dict:
    """Extension requests made in the period in the subtree, and how many came after the due date."""
    total, after_due = db.session.execute(
        select(func.count(Extension.id), func.sum(case((Extension.requested_after_due.is_(True), 1), else_=0)))
        .join(Assignment, Assignment.id == Extension.assignment_id)
        .where(in_subtree, Extension.requested_at >= bounds[0], Extension.requested_at < bounds[1])
    ).one()
    return {"count": total or 0, "requested_after_due": after_due or 0}


BACKDATED_LIST_LIMIT = 200


def _backdated_facts(in_subtree: ColumnElement[bool], tree: TreeOn, period: Period) -> dict:
    """Status changes recorded in the period with an earlier effective day: nobody quietly fixes a late record.
    One statement: the count of them all rides on the listed rows (a window over the whole result)."""
    stmt = (
        select(AssignmentEvent.id.label("event_id"), AssignmentEvent.assignment_id, Action.ref.label("action_ref"),
               Organization.code.label("organization_code"), AssignmentEvent.new_value, AssignmentEvent.effective_on,
               AssignmentEvent.recorded_on, AssignmentEvent.occurred_at.label("recorded_at"),
               User.full_name.label("recorded_by"), AssignmentEvent.note, func.count().over().label("total_count"))
        .select_from(AssignmentEvent)
        .join(Assignment, Assignment.id == AssignmentEvent.assignment_id)
        .join(Action, Action.id == Assignment.action_id)
        .join(Organization, Organization.id == tree.holder)
        .outerjoin(User, User.id == AssignmentEvent.actor_id)
        .where(in_subtree, AssignmentEvent.kind == "status_changed",
               AssignmentEvent.effective_on < AssignmentEvent.recorded_on,
               AssignmentEvent.recorded_on.between(period.start, period.end))
        .order_by(AssignmentEvent.id)
    )
    count, items = 0, []
    for row in db.session.execute(stmt.limit(BACKDATED_LIST_LIMIT)):
        item = dict(row._mapping)
        count = item.pop("total_count")
        new_value = item.pop("new_value") or {}
        item["status"] = new_value.get("status")
        item["days_back"] = (item["recorded_on"] - item["effective_on"]).days
        items.append(item)
    return {"count": count, "items": items, "list_limit": BACKDATED_LIST_LIMIT}


def _extensions_granted(in_subtree: ColumnElement[bool], tree: TreeOn, bounds: tuple[dt.datetime, dt.datetime]) -> Select:
    return (
        select(Extension.id.label("extension_id"), Extension.assignment_id, Action.ref.label("action_ref"),
               Organization.code.label("organization_code"), Extension.previous_due_date, Extension.new_due_date,
               Extension.reason, Extension.decided_at)
        .select_from(Extension)
        .join(Assignment, Assignment.id == Extension.assignment_id)
        .join(Action, Action.id == Assignment.action_id)
        .join(Organization, Organization.id == tree.holder)
        .where(in_subtree, Extension.status == "granted")
        .where(Extension.decided_at >= bounds[0], Extension.decided_at < bounds[1])
        .order_by(Extension.decided_at)
    )


def _own_report(organization_id: int, period: Period, as_of: dt.date) -> dict:
    """Whether the organisation's own report for the period was submitted on time: its report
    duty of that kind (the plan marks it `report: six_month` or `report: annual`) for that year."""
    row = db.session.execute(_report_duty(
        select(Assignment.id, Action.ref, Assignment.status, Assignment.due_date, Assignment.submitted_on, Assignment.completed_on),
        organization_id, period)).first()
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
    item = as_dict(row)
    klass = item.get("classification")
    item["days_overdue"] = days_overdue(item["due_date"], as_of) if klass == TaskClass.OVERDUE else 0
    item["days_late"] = (item["completed_on"] - item["due_date"]).days if klass == TaskClass.COMPLETED_LATE else 0
    item["extended"] = item["due_date"] != item["original_due_date"]
    if period is not None and item["completed_on"] is not None and klass in (TaskClass.COMPLETED_ON_TIME, TaskClass.COMPLETED_LATE):
        item["in_period"] = item["completed_on"] >= period.start
    return item
