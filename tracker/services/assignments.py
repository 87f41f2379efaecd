"""Assignments as the caller may see them: every query is limited to the caller's scope in SQL."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload

from tracker.domain.access import Principal
from tracker.errors import NotFound
from tracker.extensions import db
from tracker.models import Action, Assignment
from tracker.services.access import visible_organizations


def _scoped(principal: Principal) -> Select:
    return (
        select(Assignment)
        .options(joinedload(Assignment.action), joinedload(Assignment.organization))
        .where(visible_organizations(principal, Assignment.organization_id))
    )


def assignments_query(principal: Principal, *, organization_id: int | None = None, plan_id: int | None = None, status: str | None = None) -> Select:
    stmt = _scoped(principal).order_by(Assignment.due_date.is_(None), Assignment.due_date, Assignment.id)
    if organization_id is not None:
        stmt = stmt.where(Assignment.organization_id == organization_id)
    if plan_id is not None:
        stmt = stmt.where(Assignment.action_id.in_(select(Action.id).where(Action.plan_id == plan_id)))
    if status is not None:
        stmt = stmt.where(Assignment.status == status)
    return stmt


def get_assignment(principal: Principal, assignment_id: int) -> Assignment:
    """The assignment, or 404 when it does not exist or lies outside the caller's scope."""
    assignment = db.session.scalar(_scoped(principal).where(Assignment.id == assignment_id))
    if assignment is None:
        raise NotFound(f"Không có nhiệm vụ được giao {assignment_id}. No such assignment.", code="assignment.not_found")
    return assignment
