"""Leaders' views: overdue list, summary, scorecard, periodic report and what needs attention.

Every report is limited to the caller's scope in SQL, takes `as_of` so that it can be reproduced,
and runs a fixed number of statements whatever the number of assignments: counts are grouped in
the database, lists are paged or streamed.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, case, exists, func, or_, select
from sqlalchemy.orm import aliased, joinedload

from tracker.domain.access import Principal
from tracker.domain.classification import (
    LABELS as CLASS_LABELS, TaskClass, class_condition, class_expression, days_overdue, due_soon_condition,
)
from tracker.errors import NotFound, ValidationFailed
from tracker.extensions import db
from tracker.models import Action, Assignment, AssignmentEvent, Evidence, Extension, Organization, Plan, TaskGroup, User
from tracker.services.access import approvable_organizations, subtree_ids, visible_organizations
from tracker.services.assignments import apply_filters
from tracker.services.sql import days_between

RATE_BASES = {
    "completion_rate": "completed / total (completed = completed_on_time + completed_late)",
    "on_time_rate": "completed_on_time / (completed + overdue): of the tasks already due, as in the Government Office's reports",
    "overdue_rate": "overdue / total",
    "completion_rate_of_due": "completed / (completed + overdue): the Government Office's headline rate (report 1270/BC-TCTTTg), of the tasks already due",
    "overdue_rate_of_due": "overdue / (completed + overdue): the Government Office's overdue share of the tasks already due",
    "total": "all assignments in scope except cancelled ones",
}

_Parent = aliased(Organization, name="parent_organization")
_Owner = aliased(User, name="owner")


def _live(stmt: Select) -> Select:
    return stmt.where(Assignment.status != "cancelled")


# --- overdue -----------------------------------------------------------------------------------


def _scoped_from_assignments(stmt: Select, principal: Principal) -> Select:
    """Assignments with their action, plan, group, organisation (and parent) and owner, in scope."""
    return (
        stmt.select_from(Assignment)
        .join(Action, Action.id == Assignment.action_id)
        .join(Plan, Plan.id == Action.plan_id)
        .outerjoin(TaskGroup, TaskGroup.id == Action.group_id)
        .join(Organization, Organization.id == Assignment.organization_id)
        .outerjoin(_Parent, _Parent.id == Organization.parent_id)
        .outerjoin(_Owner, _Owner.id == Assignment.owner_id)
        .where(visible_organizations(principal, Assignment.organization_id))
    )


def report_rows(principal: Principal) -> Select:
    """The columns every assignment list of the reports shows, joined and scoped, unfiltered."""
    return _scoped_from_assignments(
        select(
            Assignment.id.label("assignment_id"),
            Plan.id.label("plan_id"), Plan.code.label("plan_code"),
            TaskGroup.number.label("group_number"), TaskGroup.title.label("group_title"),
            Action.ref.label("action_ref"), Action.title.label("action_title"), Action.text.label("action_text"),
            Organization.id.label("organization_id"), Organization.code.label("organization_code"),
            Organization.name.label("organization_name"),
            _Parent.id.label("parent_organization_id"), _Parent.name.label("parent_organization_name"),
            Assignment.role, Assignment.cycle,
            _Owner.id.label("owner_id"), _Owner.full_name.label("owner_name"), _Owner.phone.label("owner_phone"),
            _Owner.email.label("owner_email"),
            Assignment.original_due_date, Assignment.due_date, Assignment.status, Assignment.progress,
            Assignment.submitted_on, Assignment.completed_on,
            Assignment.updated_at.label("last_updated_at"),
        ),
        principal,
    )


def overdue_query(principal: Principal, *, as_of: dt.date, **filters) -> Select:
    """Assignments not completed whose due date is before `as_of`, most overdue first."""
    stmt = (
        report_rows(principal)
        .where(class_condition(TaskClass.OVERDUE, Assignment.status, Assignment.due_date, Assignment.completed_on, as_of))
        .order_by(Assignment.due_date, Organization.code, Assignment.id)
    )
    return apply_filters(stmt, as_of=as_of, **filters)


def overdue_row(row, as_of: dt.date) -> dict:
    item = dict(row._mapping)
    item["days_overdue"] = days_overdue(item["due_date"], as_of)
    item["extended"] = item["due_date"] != item["original_due_date"]
    return item


# --- summary -----------------------------------------------------------------------------------


def _rates(counts: dict[str, int]) -> dict:
    on_time, late = counts.get(TaskClass.COMPLETED_ON_TIME, 0), counts.get(TaskClass.COMPLETED_LATE, 0)
    overdue = counts.get(TaskClass.OVERDUE, 0)
    total = sum(counts.get(c, 0) for c in TaskClass)
    completed = on_time + late
    due = completed + overdue
    return {
        "total": total,
        "completed": completed,
        "due": due,
        "completion_rate": _ratio(completed, total),
        "on_time_rate": _ratio(on_time, due),
        "overdue_rate": _ratio(overdue, total),
        "completion_rate_of_due": _ratio(completed, due),
        "overdue_rate_of_due": _ratio(overdue, due),
    }


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _row(key: dict, label: str, counts: dict[str, int], due_soon: int) -> dict:
    return {"key": key, "label": label, "counts": {c.value: counts.get(c, 0) for c in TaskClass}, "due_soon": due_soon, **_rates(counts)}


SUMMARY_KEYS = ("organization", "group", "plan", "owner")


def summary(principal: Principal, *, as_of: dt.date, by: str, **filters) -> dict:
    """Counts of each class, due-soon count and rates per key; by=organization rolls subtrees up."""
    task_class = class_expression(Assignment.status, Assignment.due_date, Assignment.completed_on, as_of).label("task_class")
    soon = func.sum(case((due_soon_condition(Assignment.status, Assignment.due_date, Assignment.completed_on, as_of), 1), else_=0))
    keys = {
        "organization": [Assignment.organization_id],
        "group": [Plan.id, Plan.code, TaskGroup.number, TaskGroup.title],
        "plan": [Plan.id, Plan.code, Plan.title],
        "owner": [_Owner.id, _Owner.full_name],
    }[by]
    stmt = _scoped_from_assignments(select(*keys, task_class, func.count(Assignment.id), soon), principal).group_by(*keys, task_class)
    stmt = apply_filters(_live(stmt), as_of=as_of, **filters)
    grouped: dict[tuple, dict[str, int]] = defaultdict(dict)
    soon_by_key: dict[tuple, int] = defaultdict(int)
    totals: dict[str, int] = defaultdict(int)
    total_soon = 0
    for *key, klass, count, due_soon in db.session.execute(stmt):
        grouped[tuple(key)][klass] = grouped[tuple(key)].get(klass, 0) + count
        soon_by_key[tuple(key)] += due_soon or 0
        totals[klass] += count
        total_soon += due_soon or 0

    if by == "organization":
        rows = _organization_rows(principal, grouped, soon_by_key, filters.get("organization_id"))
    elif by == "group":
        rows = [
            _row({"plan_id": plan_id, "plan_code": code, "group": number},
                 f"{code} – {number}. {title}" if number is not None else f"{code} – Tổ chức thực hiện (mục IV)",
                 counts, soon_by_key[(plan_id, code, number, title)])
            for (plan_id, code, number, title), counts in sorted(grouped.items(), key=lambda kv: (kv[0][1], kv[0][2] or 99))
        ]
    elif by == "plan":
        rows = [_row({"plan_id": plan_id}, f"{code} – {title}", counts, soon_by_key[(plan_id, code, title)])
                for (plan_id, code, title), counts in sorted(grouped.items(), key=lambda kv: kv[0][1])]
    else:
        rows = [_row({"owner_id": owner_id}, name or "Chưa phân công người phụ trách", counts, soon_by_key[(owner_id, name)])
                for (owner_id, name), counts in sorted(grouped.items(), key=lambda kv: (kv[0][1] is None, kv[0][1] or ""))]
    return {
        "as_of": as_of, "by": by, "rate_bases": RATE_BASES,
        "labels": {c.value: CLASS_LABELS[c] for c in TaskClass},
        "totals": _row({}, "Tổng cộng", totals, total_soon),
        "rows": rows,
    }


def _organization_rows(principal: Principal, grouped: dict[tuple, dict[str, int]], soon: dict[tuple, int],
                       root: int | None) -> list[dict]:
    """One row per visible organisation with work in its subtree; a parent's row includes its subtree.
    With an organisation filter, the rows stop at that organisation (its ancestors are not shown)."""
    tree = {org_id: parent_id for org_id, parent_id in db.session.execute(select(Organization.id, Organization.parent_id))}
    visible = dict(db.session.execute(
        select(Organization.id, Organization.code).where(visible_organizations(principal, Organization.id))
    ).all())
    names = dict(db.session.execute(select(Organization.id, Organization.name).where(Organization.id.in_(list(visible)))).all())
    rolled: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    rolled_soon: dict[int, int] = defaultdict(int)
    for (org_id,), counts in grouped.items():
        node, seen = org_id, set()
        while node is not None and node not in seen:  # up the tree: every ancestor's row includes it
            seen.add(node)
            for klass, count in counts.items():
                rolled[node][klass] += count
            rolled_soon[node] += soon[(org_id,)]
            node = None if node == root else tree.get(node)
    rows = []
    for org_id in sorted(rolled, key=lambda o: visible.get(o, "")):
        if org_id in visible:
            row = _row({"organization_id": org_id, "organization_code": visible[org_id], "parent_id": tree.get(org_id)},
                       names[org_id], rolled[org_id], rolled_soon[org_id])
            row["own"] = {c.value: grouped.get((org_id,), {}).get(c, 0) for c in TaskClass}
            rows.append(row)
    return rows


# --- scorecard ---------------------------------------------------------------------------------


def scorecard(principal: Principal, *, year: int, as_of: dt.date) -> dict:
    """Per organisation, for the yearly evaluation: its own assignments due in `year`."""
    on_time = class_condition(TaskClass.COMPLETED_ON_TIME, Assignment.status, Assignment.due_date, Assignment.completed_on, as_of)
    late = class_condition(TaskClass.COMPLETED_LATE, Assignment.status, Assignment.due_date, Assignment.completed_on, as_of)
    overdue = class_condition(TaskClass.OVERDUE, Assignment.status, Assignment.due_date, Assignment.completed_on, as_of)
    has_evidence = exists().where(Evidence.assignment_id == Assignment.id, Evidence.withdrawn_at.is_(None))

    def count_if(condition):
        return func.sum(case((condition, 1), else_=0))

    stmt = (
        select(
            Organization.id, Organization.code, Organization.name,
            func.count(Assignment.id),
            count_if(on_time), count_if(late), count_if(overdue),
            func.sum(case((late, days_between(Assignment.completed_on, Assignment.due_date)), else_=0)),
            count_if(and_(or_(on_time, late), has_evidence)),
        )
        .select_from(Assignment)
        .join(Organization, Organization.id == Assignment.organization_id)
        .where(visible_organizations(principal, Assignment.organization_id))
        .where(Assignment.status != "cancelled")
        .where(Assignment.due_date.between(dt.date(year, 1, 1), dt.date(year, 12, 31)))
        .group_by(Organization.id, Organization.code, Organization.name)
    )
    rows = []
    for org_id, code, name, assigned, n_on_time, n_late, n_overdue, late_days, with_evidence in db.session.execute(stmt):
        completed = (n_on_time or 0) + (n_late or 0)
        rows.append({
            "organization_id": org_id, "organization_code": code, "organization_name": name,
            "assigned": assigned, "completed_on_time": n_on_time or 0, "completed_late": n_late or 0, "overdue": n_overdue or 0,
            "in_progress": assigned - completed - (n_overdue or 0),
            "on_time_rate": _ratio(n_on_time or 0, completed + (n_overdue or 0)),
            "completion_rate_of_due": _ratio(completed, completed + (n_overdue or 0)),
            "overdue_rate_of_due": _ratio(n_overdue or 0, completed + (n_overdue or 0)),
            "average_days_late": round((late_days or 0) / n_late, 1) if n_late else None,
            "evidence_rate": _ratio(with_evidence or 0, completed),
        })
    rows.sort(key=lambda r: (-(r["on_time_rate"] if r["on_time_rate"] is not None else -1), r["overdue"], -r["assigned"], r["organization_code"]))
    previous, rank = None, 0
    for position, row in enumerate(rows, start=1):
        standing = (row["on_time_rate"], row["overdue"])
        if standing != previous:
            rank, previous = position, standing
        row["rank"] = rank
    return {
        "year": year, "as_of": as_of,
        "rate_bases": {
            "on_time_rate": RATE_BASES["on_time_rate"],
            "completion_rate_of_due": RATE_BASES["completion_rate_of_due"],
            "overdue_rate_of_due": RATE_BASES["overdue_rate_of_due"],
            "evidence_rate": "completed items with at least one evidence file not withdrawn / completed items",
            "average_days_late": "mean of (completion date - due date) over items completed late",
            "rank": "by on-time rate (highest first), then fewest overdue; equal standings share a rank",
        },
        "rows": rows,
    }


# --- periodic report -------------------------------------------------------------------------

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
            lists[name] = iter_rows(stmt, as_of, period=period)
        else:
            lists[name] = [list_row(row, as_of, period=period) for row in db.session.execute(stmt.limit(PERIODIC_LIST_LIMIT))]
    summary_row = _row({"organization_id": org.id}, org.name, counts, due_soon)
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
        "groups": [_row({"plan_code": code, "group": number}, f"{number}. {title}" if number is not None else "Tổ chức thực hiện (mục IV)",
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


# --- attention ---------------------------------------------------------------------------------


def attention(principal: Principal, *, today: dt.date, due_within_days: int = 7, limit: int = 50) -> dict:
    """What needs the caller now: submissions to approve, extension requests, overdue work, work due soon."""

    def listing(stmt: Select) -> list[dict]:
        return [overdue_row(row, today) for row in db.session.execute(stmt.limit(limit))]

    def count(stmt: Select) -> int:
        return db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))

    rows = report_rows(principal).order_by(Assignment.due_date, Assignment.id)
    overdue = overdue_query(principal, as_of=today)
    awaiting = rows.where(Assignment.status == "submitted", approvable_organizations(principal, Assignment.organization_id))
    returned = rows.where(Assignment.status == "returned")
    soon = rows.where(due_soon_condition(Assignment.status, Assignment.due_date, Assignment.completed_on, today, due_within_days))
    extensions = (
        select(Extension.id.label("extension_id"), Extension.assignment_id, Action.ref.label("action_ref"),
               Organization.code.label("organization_code"), Organization.name.label("organization_name"),
               Extension.previous_due_date, Extension.new_due_date, Extension.reason, Extension.requested_at)
        .join(Assignment, Assignment.id == Extension.assignment_id)
        .join(Action, Action.id == Assignment.action_id)
        .join(Organization, Organization.id == Assignment.organization_id)
        .where(Extension.status == "pending", approvable_organizations(principal, Assignment.organization_id))
        .order_by(Extension.requested_at)
    )
    return {
        "as_of": today,
        "awaiting_approval": {"count": count(awaiting), "items": listing(awaiting)},
        "extension_requests": {"count": count(extensions),
                               "items": [dict(r._mapping) for r in db.session.execute(extensions.limit(limit))]},
        "returned": {"count": count(returned), "items": listing(returned)},
        "overdue": {"count": count(overdue), "items": listing(overdue)},
        "due_soon": {"count": count(soon), "items": listing(soon), "within_days": due_within_days},
    }


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


def iter_rows(stmt: Select, as_of: dt.date, size: int = 2000, *, period: Period | None = None) -> Iterable[dict]:
    """Stream a report's rows from the database without loading them all (exports)."""
    for row in db.session.execute(stmt.execution_options(yield_per=size)):
        yield list_row(row, as_of, period=period) if period is not None else overdue_row(row, as_of)
