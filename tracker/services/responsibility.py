"""Who is responsible for what: every action of a plan with its lead (chủ trì) and coordinating
(phối hợp) units, owners, deadline, expected output and where it stands as of a day.

Four statements whatever the plan's size: the plan, its actions, the units of its live
assignments, and the live assignments in the caller's scope (status, class, owner).

Scope: who leads and who coordinates an action is part of the plan and shown to everyone who may
read the plan (as in GET /plans/{id}); owners, statuses and classes come only from the
assignments in the caller's scope. A non-admin sees only the rows that involve an organisation in
their scope (an officer: their own unit; a leader or viewer: their subtree); an admin sees every
action, those not yet assigned included.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import select

from tracker.domain.access import Principal
from tracker.domain.classification import LABELS as CLASS_LABELS, TaskClass, classify
from tracker.domain.plans import deadline_wording
from tracker.errors import NotFound
from tracker.extensions import db
from tracker.models import Action, Assignment, Organization, Plan, TaskGroup, User
from tracker.services.access import visible_organizations

ROLES = ("lead", "coordinating")


def plan_units(plan_id: int) -> dict[int, dict[str, list[dict]]]:
    """The organisations of each action's live assignments, by role, in one statement:
    {action_id: {"lead": [{id, code, name}], "coordinating": [...]}}, ordered by code."""
    stmt = (
        select(Assignment.action_id, Assignment.role, Organization.id, Organization.code, Organization.name)
        .join(Action, Action.id == Assignment.action_id)
        .join(Organization, Organization.id == Assignment.organization_id)
        .where(Action.plan_id == plan_id, Assignment.status != "cancelled")
        .distinct()
        .order_by(Assignment.action_id, Assignment.role, Organization.code)
    )
    units: dict[int, dict[str, list[dict]]] = defaultdict(lambda: {role: [] for role in ROLES})
    for action_id, role, org_id, code, name in db.session.execute(stmt):
        listed = units[action_id][role]
        if not any(unit["id"] == org_id for unit in listed):  # one unit per role, whatever the cycles
            listed.append({"id": org_id, "code": code, "name": name})
    return units


def _in_tree_order(actions: list) -> list[tuple]:
    """Section III by group, then section IV; each split right under its parent. Returns
    (action row, depth) pairs."""
    ids = {row.id for row in actions}
    children: dict[int | None, list] = defaultdict(list)
    for row in actions:
        children[row.parent_id if row.parent_id in ids else None].append(row)
    ordered: list[tuple] = []

    def walk(parent_id: int | None, depth: int) -> None:
        rows = children.get(parent_id, [])
        if parent_id is None:
            rows = sorted(rows, key=lambda r: (r.group_number is None, r.group_number or 0, r.position, r.ref))
        else:
            rows = sorted(rows, key=lambda r: (r.position, r.ref))
        for row in rows:
            ordered.append((row, depth))
            walk(row.id, depth + 1)

    walk(None, 0)
    return ordered


def responsibility(principal: Principal, *, plan_id: int, as_of: dt.date) -> dict:
    """The plan's responsibility table as of `as_of` (see the module's docstring for scope).

    For a yearly action the status and class are those of the cycle of `as_of`'s year; an
    assignment given after `as_of` does not count yet."""
    plan = db.session.execute(
        select(Plan.id, Plan.code, Plan.title, Plan.issue_date, Organization.name.label("issuer_name"))
        .join(Organization, Organization.id == Plan.issuer_id).where(Plan.id == plan_id)
    ).first()
    if plan is None:
        raise NotFound(f"Không có kế hoạch {plan_id}. No plan with this id.", code="plan.not_found")

    actions = db.session.execute(
        select(Action.id, Action.parent_id, Action.ref, Action.section, Action.position, Action.title, Action.text,
               Action.expected_output, Action.due_date, Action.due_text, Action.recurrence_month, Action.recurrence_day,
               Action.recurrence_bound, Action.recurrence_from_year, Action.recurrence_until_year,
               TaskGroup.number.label("group_number"), TaskGroup.title.label("group_title"))
        .outerjoin(TaskGroup, TaskGroup.id == Action.group_id)
        .where(Action.plan_id == plan_id)
    ).all()
    units = plan_units(plan_id)
    scoped = db.session.execute(
        select(Assignment.action_id, Assignment.cycle, Assignment.status, Assignment.due_date, Assignment.completed_on,
               Assignment.assigned_on, User.full_name.label("owner_name"))
        .join(Action, Action.id == Assignment.action_id)
        .outerjoin(User, User.id == Assignment.owner_id)
        .where(Action.plan_id == plan_id, Assignment.status != "cancelled",
               visible_organizations(principal, Assignment.organization_id))
        .order_by(Assignment.action_id, Assignment.id)
    ).all()
    in_scope: dict[int, list] = defaultdict(list)
    for row in scoped:
        in_scope[row.action_id].append(row)

    rows = []
    for action, depth in _in_tree_order(actions):
        if not principal.is_admin and action.id not in in_scope:
            continue
        yearly = action.recurrence_month is not None
        cycle = as_of.year if yearly else 0
        if yearly and not (action.recurrence_from_year or 0) <= cycle <= (action.recurrence_until_year or 0):
            cycle = None  # no occurrence in as_of's year
        counted = [a for a in in_scope.get(action.id, [])
                   if a.cycle == cycle and (a.assigned_on is None or a.assigned_on <= as_of)]
        classes = [classify(a.status, a.due_date, a.completed_on, as_of) for a in counted]
        one = counted[0] if len(counted) == 1 else None
        action_units = units.get(action.id, {role: [] for role in ROLES})
        rows.append({
            "action_id": action.id,
            "ref": action.ref,
            "section": action.section,
            "group_number": action.group_number,
            "group_title": action.group_title,
            "parent_id": action.parent_id,
            "depth": depth,
            "title": action.title,
            "text": action.text,
            "expected_output": action.expected_output,
            "due_date": action.due_date,
            "recurrence": {"month": action.recurrence_month, "day": action.recurrence_day,
                           "bound": action.recurrence_bound or "by", "from_year": action.recurrence_from_year,
                           "until_year": action.recurrence_until_year} if yearly else None,
            "due_text": action.due_text,
            "deadline": deadline_wording(action.due_date, action.recurrence_month, action.recurrence_day,
                                         action.recurrence_bound),
            "lead": action_units["lead"],
            "coordinating": action_units["coordinating"],
            "owners": sorted({a.owner_name for a in counted if a.owner_name}),
            "cycle": cycle,
            "assignment_count": len(counted),
            "status": one.status if one else None,
            "classification": classes[0].value if one and classes[0] else None,
            "class_counts": {c.value: classes.count(c) for c in TaskClass},
        })
    return {
        "plan": {"id": plan.id, "code": plan.code, "title": plan.title, "issue_date": plan.issue_date,
                 "issuer_name": plan.issuer_name},
        "as_of": as_of,
        "labels": {c.value: CLASS_LABELS[c] for c in TaskClass},
        "rows": rows,
    }

