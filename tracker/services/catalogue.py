"""Read queries over plans."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from tracker.errors import NotFound
from tracker.extensions import db
from tracker.models import Plan, TaskGroup


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
    return plan
