"""Assignments as the caller may see them, and the changes leaders and officers make to them.

Every query is limited to the caller's scope in SQL; an assignment outside it answers 404.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import contains_eager, joinedload

from tracker.domain.access import Principal, can_approve_for, can_contribute_to
from tracker.domain.classification import TaskClass, class_condition, classify, days_overdue, is_due_soon
from tracker.domain.text import fold, like_pattern
from tracker.domain.vocabulary import Status
from tracker.errors import AppError, Forbidden, NotFound, PreconditionFailed, PreconditionRequired, ValidationFailed
from tracker.extensions import db
from tracker.models import Action, Assignment, AssignmentEvent, Membership, Organization, TaskGroup, User
from tracker.services import clock, history
from tracker.services.access import ancestor_ids, in_ids, subtree_ids, visible_organizations

SORTS = {
    # NULLS LAST rather than `due_date IS NULL` first: the same order, and an index on due_date can serve it.
    "due_date": (Assignment.due_date.asc().nulls_last(), Assignment.id),
    "-due_date": (Assignment.due_date.desc().nulls_last(), Assignment.id.desc()),
    "updated_at": (Assignment.updated_at, Assignment.id),
    "-updated_at": (Assignment.updated_at.desc(), Assignment.id.desc()),
    "organization": (Organization.code, Assignment.due_date, Assignment.id),
    "id": (Assignment.id,),
}


def _base(principal: Principal) -> Select:
    return (
        select(Assignment)
        .join(Assignment.action)
        .join(Assignment.organization)
        .options(contains_eager(Assignment.action), contains_eager(Assignment.organization), joinedload(Assignment.owner))
        .where(visible_organizations(principal, Assignment.organization_id))
    )


def apply_filters(stmt: Select, *, as_of: dt.date, organization_id: int | None = None, include_descendants: bool = False,
                  plan_id: int | None = None, group: int | None = None, action_id: int | None = None,
                  role: str | None = None, status: str | None = None, classification: str | None = None,
                  owner_id: int | None = None, due_from: dt.date | None = None, due_to: dt.date | None = None,
                  q: str | None = None) -> Select:
    """The /assignments filters, for any statement over Assignment joined with Action and Organization."""
    if organization_id is not None:
        if include_descendants:
            stmt = stmt.where(in_ids(Assignment.organization_id, db.session.scalars(subtree_ids({organization_id})).all()))
        else:
            stmt = stmt.where(Assignment.organization_id == organization_id)
    if plan_id is not None:
        stmt = stmt.where(Action.plan_id == plan_id)
    if group is not None:
        stmt = stmt.where(Action.group_id.in_(select(TaskGroup.id).where(TaskGroup.number == group)))
    if action_id is not None:
        stmt = stmt.where(or_(Assignment.action_id == action_id, Action.parent_id == action_id))
    for column, value in ((Assignment.role, role), (Assignment.status, status), (Assignment.owner_id, owner_id)):
        if value is not None:
            stmt = stmt.where(column == value)
    if classification is not None:
        stmt = stmt.where(class_condition(TaskClass(classification), Assignment.status, Assignment.due_date, Assignment.completed_on, as_of))
    if due_from is not None:
        stmt = stmt.where(Assignment.due_date >= due_from)
    if due_to is not None:
        stmt = stmt.where(Assignment.due_date <= due_to)
    if q:
        # Each condition on the assignment's own columns, so that the database can combine its
        # indexes (trigram indexes on PostgreSQL) instead of scanning every joined row.
        pattern = like_pattern(q)
        stmt = stmt.where(or_(
            Assignment.action_id.in_(select(Action.id).where(Action.search_key.like(pattern, escape="\\"))),
            Assignment.organization_id.in_(select(Organization.id).where(Organization.search_key.like(pattern, escape="\\"))),
            Assignment.search_key.like(pattern, escape="\\"),
        ))
    return stmt


def assignments_query(principal: Principal, *, as_of: dt.date, sort: str = "due_date", **filters) -> Select:
    """One SELECT (joined, scoped, filtered, sorted) that the pager limits and counts."""
    return apply_filters(_base(principal).order_by(*SORTS[sort]), as_of=as_of, **filters)


@dataclass(frozen=True)
class Classified:
    """An assignment with its class as of a date: what lists and details show."""

    assignment: Assignment
    as_of: dt.date

    def __getattr__(self, name):
        return getattr(self.assignment, name)

    @property
    def classification(self) -> str | None:
        found = classify(self.assignment.status, self.assignment.due_date, self.assignment.completed_on, self.as_of)
        return found.value if found else None

    @property
    def due_soon(self) -> bool:
        return is_due_soon(classify(self.assignment.status, self.assignment.due_date, self.assignment.completed_on, self.as_of),
                           self.assignment.due_date, self.as_of)

    @property
    def days_overdue(self) -> int:
        return days_overdue(self.assignment.due_date, self.as_of) if self.classification == TaskClass.OVERDUE else 0

    @property
    def extended(self) -> bool:
        return self.assignment.due_date != self.assignment.original_due_date

    @property
    def etag(self) -> str:
        return etag_of(self.assignment)


def etag_of(assignment: Assignment) -> str:
    return f"{assignment.id}.{assignment.version}"


def get_assignment(principal: Principal, assignment_id: int) -> Assignment:
    """The assignment, or 404 when it does not exist or lies outside the caller's scope."""
    assignment = db.session.scalar(_base(principal).where(Assignment.id == assignment_id))
    if assignment is None:
        raise NotFound(f"Không có nhiệm vụ được giao {assignment_id}. No such assignment.", code="assignment.not_found")
    return assignment


def check_writable(assignment: Assignment) -> None:
    """Work held by a closed organisation is history: read-only for everyone."""
    if assignment.organization.closed_by(clock.today()):
        raise Forbidden(f"Đơn vị {assignment.organization.name} đã giải thể hoặc sáp nhập từ "
                        f"{assignment.organization.valid_to + dt.timedelta(days=1):%d/%m/%Y}; nhiệm vụ của đơn vị chỉ được xem. "
                        "The organisation is closed; its work is read-only.", code="organization.closed",
                        successor_id=assignment.organization.successor_id)


def check_version(assignment: Assignment, if_match, *, required: bool) -> None:
    """Optimistic locking through ETags: If-Match must name the current version."""
    if not if_match:
        if required:
            raise PreconditionRequired(
                "Cần tiêu đề If-Match với ETag hiện tại. Send If-Match with the ETag you read.",
                code="assignment.precondition_required", etag=etag_of(assignment),
            )
        return
    if not if_match.contains(etag_of(assignment)) and not if_match.star_tag:
        raise PreconditionFailed(
            "Nhiệm vụ đã được người khác thay đổi; hãy tải lại. The assignment changed since you read it; reload it.",
            code="assignment.stale", etag=etag_of(assignment),
        )


def update(principal: Principal, assignment: Assignment, data: dict) -> Assignment:
    """Leaders set owner and due date; assigned officers report progress and notes. One event per change."""
    check_writable(assignment)
    org_id = assignment.organization_id
    ancestors = ancestor_ids(org_id)
    approver = can_approve_for(principal, org_id, ancestors)
    contributor = can_contribute_to(principal, org_id, ancestors)
    leader_fields = {"owner_id", "due_date"} & data.keys()
    officer_fields = {"progress", "note"} & data.keys()
    if (leader_fields and not approver) or (officer_fields and not contributor):
        raise Forbidden(
            "Lãnh đạo đổi người phụ trách và hạn; cán bộ được giao báo cáo tiến độ và ghi chú. "
            "Leaders change owner and due date; assigned officers report progress and notes.",
            code="assignment.forbidden", fields=sorted((leader_fields if not approver else set()) | (officer_fields if not contributor else set())),
        )
    if assignment.status in (Status.COMPLETED, Status.CANCELLED) and data:
        raise AppError("Nhiệm vụ đã kết thúc. The assignment is closed.", code="assignment.closed", status=409)
    if "owner_id" in data and data["owner_id"] is not None:
        check_owner(data["owner_id"], org_id)
    kinds = {"owner_id": "owner_changed", "due_date": "due_date_changed", "progress": "progress_reported", "note": "note_changed"}
    for name, kind in kinds.items():
        if name in data and getattr(assignment, name) != data[name]:
            old, new = getattr(assignment, name), data[name]
            setattr(assignment, name, new)
            history.record(assignment, kind, actor_id=principal.user_id, old={name: _plain(old)}, new={name: _plain(new)},
                           note=data.get("comment"))
    assignment.search_key = fold(assignment.note)
    db.session.flush()
    return assignment


def _plain(value):
    return value.isoformat() if isinstance(value, dt.date) else value


def check_owner(user_id: int, org_id: int) -> None:
    member = db.session.scalar(
        select(User.id).join(Membership, Membership.user_id == User.id)
        .where(User.id == user_id, User.is_active.is_(True), Membership.organization_id == org_id)
    )
    if member is None:
        raise ValidationFailed(
            "Người phụ trách phải là thành viên đang hoạt động của đơn vị được giao. The owner must be an active member of the assigned organisation.",
            code="assignment.owner_not_member", errors={"owner_id": ["Không thuộc đơn vị. Not a member of the organisation."]},
        )


def history_of(principal: Principal, assignment_id: int) -> Select:
    get_assignment(principal, assignment_id)
    return (
        select(AssignmentEvent).options(joinedload(AssignmentEvent.actor))
        .where(AssignmentEvent.assignment_id == assignment_id).order_by(AssignmentEvent.id)
    )
