"""Read queries over plans and organisations."""

from __future__ import annotations

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import selectinload

from tracker.errors import NotFound
from tracker.extensions import db
from tracker.models import Organization, Plan, TaskGroup


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


def organizations_query(*, parent_id: int | None = None, roots: bool = False, kind: str | None = None, q: str | None = None) -> Select:
    stmt = select(Organization).order_by(Organization.parent_id.is_not(None), Organization.code)
    if parent_id is not None:
        stmt = stmt.where(Organization.parent_id == parent_id)
    if roots:
        stmt = stmt.where(Organization.parent_id.is_(None))
    if kind:
        stmt = stmt.where(Organization.kind == kind)
    if q:
        pattern = f"%{q}%"
        stmt = stmt.where(or_(Organization.code.ilike(pattern), Organization.name.ilike(pattern)))
    return stmt
