"""Đôn đốc: leaders urge overdue work. Each urging counts on the assignment (`urge_count`,
`last_urged_at`), is written in its history ("Đôn đốc lần 2") and notifies the unit's officers and
the owner, all in one transaction; several at once give a result each."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update
from sqlalchemy.orm.attributes import set_committed_value

from tracker.domain.access import Principal, can_approve_for
from tracker.domain.classification import TaskClass, classify, days_overdue
from tracker.errors import Conflict, Forbidden
from tracker.extensions import db
from tracker.models import Assignment
from tracker.services import clock, history, notices
from tracker.services.access import ancestor_ids
from tracker.services.assignments import check_writable, get_assignment
from tracker.services.workflow import run_each


def urge(principal: Principal, assignment_id: int, message: str | None, *, today: dt.date) -> dict:
    """Urge one overdue assignment: 404 outside the caller's scope, 403 `urge.forbidden` for
    anyone but a leader over its unit (or an admin), 403 `organization.closed` for a closed
    unit's work, 409 `urge.not_overdue` for work that is not overdue today."""
    assignment = get_assignment(principal, assignment_id)
    if not can_approve_for(principal, assignment.organization_id, ancestor_ids(assignment.organization_id)):
        raise Forbidden("Chỉ lãnh đạo cấp trên của đơn vị (hoặc quản trị) được đôn đốc. Only leaders over the organisation urge its work.",
                        code="urge.forbidden")
    check_writable(assignment)
    found = classify(assignment.status, assignment.due_date, assignment.completed_on, today)
    if found != TaskClass.OVERDUE:
        raise Conflict("Chỉ đôn đốc nhiệm vụ đã quá hạn. Only overdue work is urged.", code="urge.not_overdue",
                       classification=found.value if found else None)
    message = message.strip() if message and message.strip() else notices.STANDARD_URGING
    now = clock.now()
    # One UPDATE that counts atomically (two leaders urging at once both count) and leaves the
    # work's version and updated_at alone: an officer's If-Match stays good. The change feed's
    # hook does not see it; the history event recorded below logs it (tracker.services.changes).
    count = db.session.execute(
        update(Assignment).where(Assignment.id == assignment.id)
        .values(urge_count=Assignment.urge_count + 1, last_urged_at=now, updated_at=Assignment.updated_at)
        .returning(Assignment.urge_count).execution_options(synchronize_session=False)).scalar_one()
    set_committed_value(assignment, "urge_count", count)
    set_committed_value(assignment, "last_urged_at", now)
    label = notices.urge_label(count)
    history.record(assignment, notices.URGED, actor_id=principal.user_id, new={"urge_count": count, "label": label}, note=message)
    notified = notices.urged(assignment, principal.user_id, count, message, days_overdue(assignment.due_date, today))
    return {"assignment_id": assignment.id, "urge_count": count, "last_urged_at": now, "notified": notified}


def urge_many(principal: Principal, assignment_ids: list[int], message: str | None, *, today: dt.date) -> list[dict]:
    """Urge each assignment named, each in its own savepoint: a result each (`run_each`)."""
    results = run_each([{"assignment_id": i} for i in assignment_ids],
                       lambda item: urge(principal, item["assignment_id"], message, today=today))
    for result, assignment_id in zip(results, assignment_ids, strict=True):
        result.setdefault("assignment_id", assignment_id)
    return results
