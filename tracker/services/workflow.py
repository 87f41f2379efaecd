"""Status transitions and deadline extensions, with PRODUCT.md's rules (tracker.domain.workflow)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from tracker.domain.access import Principal, can_approve_for, can_contribute_to
from tracker.domain.vocabulary import Status
from tracker.domain.workflow import allowed_moves, capacities, find_move
from tracker.errors import AppError, Conflict, Forbidden, NotFound, ValidationFailed
from tracker.extensions import db
from tracker.models import Assignment, Evidence, Extension
from tracker.models.base import utcnow
from tracker.services import history
from tracker.services.access import ancestor_ids
from tracker.services.assignments import check_version, get_assignment


def _capacities(principal: Principal, assignment: Assignment):
    ancestors = ancestor_ids(assignment.organization_id)
    return capacities(
        contributor=can_contribute_to(principal, assignment.organization_id, ancestors),
        approver=can_approve_for(principal, assignment.organization_id, ancestors),
    )


def transition(principal: Principal, assignment_id: int, target: str, *, today: dt.date, note: str | None = None,
               progress: int | None = None, if_match=None) -> Assignment:
    """Move an assignment to `target`, if PRODUCT.md's table lets this caller; one event records it."""
    assignment = get_assignment(principal, assignment_id)
    check_version(assignment, if_match, required=False)
    caller = _capacities(principal, assignment)
    if not caller:
        raise Forbidden("Bạn chỉ có quyền xem nhiệm vụ này. You may only read this assignment.", code="assignment.read_only")
    move = find_move(assignment.status, target, caller)
    if move is None:
        allowed = [m.target.value for m in allowed_moves(assignment.status, caller)]
        raise Conflict(
            f"Không thể chuyển từ {assignment.status} sang {target}. This move is not allowed from the current status.",
            code="assignment.invalid_transition", current=assignment.status, allowed=allowed,
        )
    if move.note_required and not (note and note.strip()):
        raise ValidationFailed("Cần ghi rõ lý do. A note (reason) is required for this move.", code="assignment.note_required",
                               errors={"note": ["Bắt buộc. Required."]})
    if target == Status.SUBMITTED and assignment.action.requires_evidence and not _has_evidence(assignment.id):
        raise Conflict(
            "Nhiệm vụ cần ít nhất một minh chứng trước khi báo cáo hoàn thành. Upload evidence before submitting.",
            code="assignment.evidence_required",
        )
    old = {"status": assignment.status, "progress": assignment.progress}
    assignment.status = target
    if progress is not None:
        assignment.progress = progress
    if target == Status.SUBMITTED:
        assignment.submitted_on = today
    elif target == Status.COMPLETED:
        # The date of the approved submission: a slow reviewer does not make the agency late.
        assignment.completed_on = assignment.submitted_on or today
        assignment.progress = 100
    history.record(assignment, "status_changed", actor_id=principal.user_id, old=old,
                   new={"status": assignment.status, "progress": assignment.progress}, note=note)
    db.session.flush()
    return assignment


def _has_evidence(assignment_id: int) -> bool:
    return bool(db.session.scalar(select(func.count(Evidence.id)).where(
        Evidence.assignment_id == assignment_id, Evidence.withdrawn_at.is_(None)
    )))


def run_each(items: list[dict], operation: Callable[[dict], Any]) -> list[dict]:
    """Apply `operation` to each item inside its own savepoint of the one transaction: an item
    that fails is undone alone and reported; the caller commits the rest once."""
    results = []
    for index, item in enumerate(items):
        savepoint = db.session.begin_nested()
        try:
            outcome = operation(item)
            savepoint.commit()
            results.append({"index": index, "status": 200, **outcome})
        except AppError as error:
            savepoint.rollback()
            results.append({"index": index, "status": error.status, "code": error.code, "detail": error.detail,
                            **{k: v for k, v in error.extra.items() if k in ("allowed", "current")}})
    return results


def bulk_transition(principal: Principal, items: list[dict], *, today: dt.date) -> list[dict]:
    def one(item: dict) -> dict:
        assignment = transition(principal, item["assignment_id"], item["to"], today=today, note=item.get("note"),
                                progress=item.get("progress"))
        return {"assignment_id": assignment.id, "new_status": assignment.status, "version": assignment.version}

    results = run_each(items, one)
    for result, item in zip(results, items, strict=True):
        result.setdefault("assignment_id", item["assignment_id"])
    return results


# --- extensions ------------------------------------------------------------------------------


def extensions_of(principal: Principal, assignment_id: int):
    get_assignment(principal, assignment_id)
    return (select(Extension).options(joinedload(Extension.requested_by), joinedload(Extension.decided_by))
            .where(Extension.assignment_id == assignment_id).order_by(Extension.id))


def request_extension(principal: Principal, assignment_id: int, new_due_date: dt.date, reason: str) -> Extension:
    assignment = get_assignment(principal, assignment_id)
    if not can_contribute_to(principal, assignment.organization_id, ancestor_ids(assignment.organization_id)):
        raise Forbidden("Chỉ đơn vị được giao được xin gia hạn. Only the assigned organisation may ask.", code="extension.forbidden")
    if assignment.status in (Status.COMPLETED, Status.CANCELLED):
        raise Conflict("Nhiệm vụ đã kết thúc. The assignment is closed.", code="assignment.closed")
    if assignment.due_date is not None and new_due_date <= assignment.due_date:
        raise ValidationFailed("Hạn mới phải sau hạn hiện tại. The new date must be after the current due date.",
                               code="extension.not_later", errors={"new_due_date": [f"Phải sau {assignment.due_date:%d/%m/%Y}."]})
    pending = db.session.scalar(select(Extension.id).where(Extension.assignment_id == assignment.id, Extension.status == "pending"))
    if pending is not None:
        raise Conflict("Đã có một đề nghị gia hạn đang chờ. A request is already pending.", code="extension.already_pending",
                       extension_id=pending)
    extension = Extension(assignment=assignment, requested_by_id=principal.user_id, previous_due_date=assignment.due_date,
                          new_due_date=new_due_date, reason=reason, status="pending")
    db.session.add(extension)
    db.session.flush()
    history.record(assignment, "extension_requested", actor_id=principal.user_id,
                   new={"extension_id": extension.id, "new_due_date": new_due_date.isoformat()}, note=reason)
    db.session.flush()
    return extension


def decide_extension(principal: Principal, assignment_id: int, extension_id: int, decision: str, note: str | None) -> Extension:
    assignment = get_assignment(principal, assignment_id)
    extension = db.session.scalar(select(Extension).where(Extension.id == extension_id, Extension.assignment_id == assignment.id))
    if extension is None:
        raise NotFound("Không có đề nghị gia hạn này. No such extension request.", code="extension.not_found")
    if not can_approve_for(principal, assignment.organization_id, ancestor_ids(assignment.organization_id)):
        raise Forbidden("Chỉ lãnh đạo được quyết định gia hạn. Only a leader may decide.", code="extension.forbidden")
    if extension.status != "pending":
        raise Conflict("Đề nghị đã được quyết định. Already decided.", code="extension.already_decided")
    if decision == "refuse" and not (note and note.strip()):
        raise ValidationFailed("Cần ghi lý do từ chối. A reason is required to refuse.", code="extension.note_required",
                               errors={"note": ["Bắt buộc. Required."]})
    extension.status = "granted" if decision == "grant" else "refused"
    extension.decided_by_id, extension.decided_at, extension.decision_note = principal.user_id, utcnow(), note
    if extension.status == "granted":
        old = assignment.due_date
        assignment.due_date = extension.new_due_date
        history.record(assignment, "extension_granted", actor_id=principal.user_id,
                       old={"due_date": old.isoformat() if old else None},
                       new={"due_date": extension.new_due_date.isoformat(), "extension_id": extension.id}, note=note)
    else:
        history.record(assignment, "extension_refused", actor_id=principal.user_id, new={"extension_id": extension.id}, note=note)
    db.session.flush()
    return extension
