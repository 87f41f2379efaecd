"""Leaders' views: overdue list, summary, scorecard and what needs attention (the periodic report,
built on these, is in tracker.services.periodic).

Every report is limited to the caller's scope in SQL, takes `as_of` so that it can be reproduced,
and runs a fixed number of statements whatever the number of assignments: counts are grouped in
the database, lists are paged or streamed.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import Select, and_, case, exists, func, or_, select
from sqlalchemy.orm import aliased

from tracker.domain.access import Principal
from tracker.domain.classification import (
    LABELS as CLASS_LABELS, TaskClass, class_condition, class_expression, days_overdue, due_soon_condition,
)
from tracker.extensions import db
from tracker.models import Action, Assignment, Evidence, Extension, Organization, Plan, TaskGroup, User
from tracker.services.access import approvable_organizations, visible_organizations
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


def counts_row(key: dict, label: str, counts: dict[str, int], due_soon: int) -> dict:
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
            counts_row({"plan_id": plan_id, "plan_code": code, "group": number},
                 f"{code} – {number}. {title}" if number is not None else f"{code} – Tổ chức thực hiện (mục IV)",
                 counts, soon_by_key[(plan_id, code, number, title)])
            for (plan_id, code, number, title), counts in sorted(grouped.items(), key=lambda kv: (kv[0][1], kv[0][2] or 99))
        ]
    elif by == "plan":
        rows = [counts_row({"plan_id": plan_id}, f"{code} – {title}", counts, soon_by_key[(plan_id, code, title)])
                for (plan_id, code, title), counts in sorted(grouped.items(), key=lambda kv: kv[0][1])]
    else:
        rows = [counts_row({"owner_id": owner_id}, name or "Chưa phân công người phụ trách", counts, soon_by_key[(owner_id, name)])
                for (owner_id, name), counts in sorted(grouped.items(), key=lambda kv: (kv[0][1] is None, kv[0][1] or ""))]
    return {
        "as_of": as_of, "by": by, "rate_bases": RATE_BASES,
        "labels": {c.value: CLASS_LABELS[c] for c in TaskClass},
        "totals": counts_row({}, "Tổng cộng", totals, total_soon),
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
            row = counts_row({"organization_id": org_id, "organization_code": visible[org_id], "parent_id": tree.get(org_id)},
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


def iter_rows(stmt: Select, as_of: dt.date, size: int = 2000, *, make_row=None) -> Iterable[dict]:
    """Stream a report's rows from the database without loading them all (exports)."""
    make_row = make_row or overdue_row
    for row in db.session.execute(stmt.execution_options(yield_per=size)):
        yield make_row(row, as_of)
