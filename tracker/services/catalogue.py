"""Read queries over plans."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from tracker.errors import NotFound
from tracker.extensions import db
from tracker.models import Plan, TaskGroup
from tracker.services.responsibility import plan_units


def plans_query() -> Select:
    return select(Plan).options(selectinload(Plan.issuer), selectinload(Plan.parent_plan)).order_by(Plan.issue_date.desc(), Plan.id)


def get_plan_detail(plan_id: int) -> Plan:
    plan = db.session.scalar(
        select(Plan)
        .where(Plan.id == plan_id)
        .options(
            selectinload(Plan.issuer),
            selectinload(Plan.parent_plan),
            selectinload(Plan.groups).selectinload(TaskGroup.actions),
            selectinload(Plan.actions),
        )
    )
    if plan is None:
        raise NotFound(f"Không có kế hoạch {plan_id}. No plan with this id.", code="plan.not_found")
    # Who leads and who coordinates each action, for every action in one statement (not per action):
    # kept on the loaded objects for this response only, never stored.
    units = plan_units(plan.id)
    for action in plan.actions:
        action.lead_units = units[action.id]["lead"] if action.id in units else []
        action.coordinating_units = units[action.id]["coordinating"] if action.id in units else []
    return plan
