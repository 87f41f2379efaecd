"""Status transitions and deadline extensions, with PRODUCT.md's rules (tracker.domain.workflow)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from tracker.domain.access import Principal, can_approve_for, can_contribute_to
from tracker.domain.vocabulary import Status
from tracker.domain.workflow import Actor, allowed_moves, find_move, needs_evidence
from tracker.errors import AppError, Conflict, Forbidden, NotFound, ValidationFailed
from tracker.extensions import db
from tracker.models import Assignment, AssignmentEvent, Evidence, Extension
from tracker.models.base import utcnow
from tracker.services import history, notices
from tracker.services.access import ancestor_ids
from tracker.services.assignments import capacities_for, check_version, check_writable, get_assignment

DEFAULT_BACKDATE_MAX_DAYS = 7


def _capacities(principal: Principal, assignment: Assignment):
    check_writable(assignment)
    return capacities_for(principal, assignment, ancestor_ids(assignment.organization_id))


def transition(principal: Principal, assignment_id: int, target: str, *, today: dt.date, note: str | None = None,
               progress: int | None = None, if_match=None, effective_on: dt.date | None = None,
               backdate_max_days: int = DEFAULT_BACKDATE_MAX_DAYS) -> Assignment:
    """Move an assignment to `target`, if PRODUCT.md's table lets this caller; one event records it.

    `effective_on` is the day the move really happened (a report delivered on paper on 05/06 and
    typed in on 12/06); verdicts use it, and the event keeps the day it was recorded too."""
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
    if needs_evidence(target, assignment.action.requires_evidence) and _evidence_count(assignment.id) == 0:
        raise Conflict(
            "Nhiệm vụ cần ít nhất một minh chứng trước khi báo cáo hoàn thành. Upload evidence before submitting.",
            code="assignment.evidence_required",
        )
    effective = _check_effective_on(assignment, effective_on, today=today, caller=caller, note=note,
                                    backdate_max_days=backdate_max_days)
    old = {"status": assignment.status, "progress": assignment.progress}
    assignment.status = target
    if progress is not None:
        assignment.progress = progress
    if target == Status.SUBMITTED:
        assignment.submitted_on = effective
    elif target == Status.COMPLETED:
        # The date of the approved submission: a slow reviewer does not make the agency late.
        assignment.completed_on = assignment.submitted_on or effective
        assignment.progress = 100
    new = {"status": assignment.status, "progress": assignment.progress}
    if effective != today:
        new["backdated_days"] = (today - effective).days
    history.record(assignment, "status_changed", actor_id=principal.user_id, old=old, new=new, note=note,
                   effective_on=effective)
    if target in (Status.COMPLETED, Status.CANCELLED):
        _lapse_pending_extensions(principal, assignment)
    notices.status_changed(assignment, principal.user_id, target, note)
    db.session.flush()
    return assignment


def _check_effective_on(assignment: Assignment, effective_on: dt.date | None, *, today: dt.date, caller, note: str | None,
                        backdate_max_days: int) -> dt.date:
    """The day a move takes effect: today, or a day in the past that the rules allow."""
    if effective_on is None:
        return today

    def refuse(message: str, code: str, status: int = 422, field: str = "effective_on") -> AppError:
        return AppError(message, code=code, status=status, errors={field: [message]})

    if effective_on > today:
        raise refuse(f"Ngày hiệu lực không được sau hôm nay ({today:%d/%m/%Y}). effective_on cannot be in the future.",
                     "transition.effective_in_future")
    if assignment.assigned_on is not None and effective_on < assignment.assigned_on:
        raise refuse(f"Ngày hiệu lực không được trước ngày giao việc ({assignment.assigned_on:%d/%m/%Y}). "
                     "effective_on cannot be before the assignment was given.", "transition.effective_before_assigned")
    previous = db.session.scalar(select(func.max(AssignmentEvent.effective_on)).where(
        AssignmentEvent.assignment_id == assignment.id, AssignmentEvent.kind == "status_changed"))
    if previous is not None and effective_on < previous:
        raise refuse(f"Ngày hiệu lực không được trước lần chuyển trạng thái trước ({previous:%d/%m/%Y}). "
                     "effective_on cannot be before the previous status change took effect.", "transition.effective_before_previous")
    days_back = (today - effective_on).days
    if days_back > backdate_max_days:
        if Actor.APPROVER not in caller:
            raise AppError(f"Cán bộ chỉ được ghi lùi ngày tối đa {backdate_max_days} ngày; đề nghị lãnh đạo ghi nhận. "
                           f"Officers may date a fact back by at most {backdate_max_days} days; ask a leader to record it.",
                           code="transition.backdate_limit", status=403, max_days=backdate_max_days)
        if not (note and note.strip()):
            raise refuse(f"Ghi lùi ngày quá {backdate_max_days} ngày cần ghi rõ lý do. "
                         f"Dating a fact back more than {backdate_max_days} days needs a note.", "transition.backdate_note_required",
                         field="note")
    return effective_on


def _lapse_pending_extensions(principal: Principal, assignment: Assignment) -> None:
    """A request still pending when the work ends lapses: the verdict on closed work never moves."""
    pending = db.session.scalars(select(Extension).where(Extension.assignment_id == assignment.id, Extension.status == "pending"))
    for extension in pending:
        extension.status = "lapsed"
        extension.decided_at = utcnow()
        extension.decision_note = "Tự hết hiệu lực vì nhiệm vụ đã kết thúc. Lapsed: the assignment was closed."
        history.record(assignment, "extension_lapsed", actor_id=principal.user_id,
                       new={"extension_id": extension.id, "assignment_status": assignment.status},
                       note=extension.decision_note)


def _evidence_count(assignment_id: int) -> int:
    return db.session.scalar(select(func.count(Evidence.id)).where(
        Evidence.assignment_id == assignment_id, Evidence.withdrawn_at.is_(None)
    ))


def _item_detail(error: AppError) -> str:
    """A message for a failed item, always: the error's own, else its field messages, else its status's."""
    if error.detail:
        return error.detail
    if error.errors:
        return "Dữ liệu không hợp lệ. Invalid data: " + "; ".join(
            f"{field}: {' '.join(messages)}" for field, messages in error.errors.items())
    return f"Không thực hiện được. {HTTPStatus(error.status).phrase}."


def run_each(items: list[dict], operation: Callable[[dict], Any]) -> list[dict]:
    """Apply `operation` to each item inside its own savepoint of the one transaction: an item
    that fails is undone alone and reported, always with a message (`detail`) and, for bad
    fields, its `errors`; the caller commits the rest once."""
    results = []
    for index, item in enumerate(items):
        savepoint = db.session.begin_nested()
        try:
            outcome = operation(item)
            savepoint.commit()
            results.append({"index": index, "status": 200, **outcome})
        except AppError as error:
            savepoint.rollback()
            results.append({"index": index, "status": error.status, "code": error.code, "detail": _item_detail(error),
                            **({"errors": error.errors} if error.errors else {}),
                            **{k: v for k, v in error.extra.items() if k in ("allowed", "current", "classification")}})
    return results


def bulk_transition(principal: Principal, items: list[dict], *, today: dt.date,
                    backdate_max_days: int = DEFAULT_BACKDATE_MAX_DAYS) -> list[dict]:
    def one(item: dict) -> dict:
        assignment = transition(principal, item["assignment_id"], item["to"], today=today, note=item.get("note"),
                                progress=item.get("progress"), effective_on=item.get("effective_on"),
                                backdate_max_days=backdate_max_days)
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


def get_extension(principal: Principal, assignment_id: int, extension_id: int) -> Extension:
    """One extension request of an assignment in the caller's scope, else 404."""
    get_assignment(principal, assignment_id)
    extension = db.session.scalar(
        select(Extension).options(joinedload(Extension.requested_by), joinedload(Extension.decided_by))
        .where(Extension.id == extension_id, Extension.assignment_id == assignment_id))
    if extension is None:
        raise NotFound("Không có đề nghị gia hạn này. No such extension request.", code="extension.not_found")
    return extension


def request_extension(principal: Principal, assignment_id: int, new_due_date: dt.date, reason: str, *, today: dt.date) -> Extension:
    """Ask for a later due date while the work is open; a request made after the due date is allowed
    but flagged (`requested_after_due`) and counted in the periodic report."""
    assignment = get_assignment(principal, assignment_id)
    check_writable(assignment)
    if not can_contribute_to(principal, assignment.organization_id, ancestor_ids(assignment.organization_id)):
        raise Forbidden("Chỉ đơn vị được giao được xin gia hạn. Only the assigned organisation may ask.", code="extension.forbidden")
    if assignment.status in (Status.COMPLETED, Status.CANCELLED):
        raise Conflict("Nhiệm vụ đã kết thúc. The assignment is closed.", code="assignment.closed")
    if assignment.due_date is not None and new_due_date <= assignment.due_date:
        raise ValidationFailed("Hạn mới phải sau hạn hiện tại. The new date must be after the current due date.",
                               code="extension.not_later", errors={"new_due_date": [f"Phải sau {assignment.due_date:%d/%m/%Y}. Must be after {assignment.due_date}."]})
    pending = db.session.scalar(select(Extension.id).where(Extension.assignment_id == assignment.id, Extension.status == "pending"))
    if pending is not None:
        raise Conflict("Đã có một đề nghị gia hạn đang chờ. A request is already pending.", code="extension.already_pending",
                       extension_id=pending)
    after_due = assignment.due_date is not None and today > assignment.due_date
    extension = Extension(assignment=assignment, requested_by_id=principal.user_id, previous_due_date=assignment.due_date,
                          new_due_date=new_due_date, reason=reason, status="pending", requested_after_due=after_due)
    db.session.add(extension)
    db.session.flush()
    history.record(assignment, "extension_requested", actor_id=principal.user_id,
                   new={"extension_id": extension.id, "new_due_date": new_due_date.isoformat(), "requested_after_due": after_due},
                   note=reason)
    notices.extension_requested(assignment, extension, principal.user_id)
    db.session.flush()
    return extension


def decide_extension(principal: Principal, assignment_id: int, extension_id: int, decision: str, note: str | None) -> Extension:
    assignment = get_assignment(principal, assignment_id)
    extension = db.session.scalar(select(Extension).where(Extension.id == extension_id, Extension.assignment_id == assignment.id))
    if extension is None:
        raise NotFound("Không có đề nghị gia hạn này. No such extension request.", code="extension.not_found")
    check_writable(assignment)
    if not can_approve_for(principal, assignment.organization_id, ancestor_ids(assignment.organization_id)):
        raise Forbidden("Chỉ lãnh đạo được quyết định gia hạn. Only a leader may decide.", code="extension.forbidden")
    if assignment.status in (Status.COMPLETED, Status.CANCELLED):
        raise Conflict("Nhiệm vụ đã kết thúc; đề nghị gia hạn đã hết hiệu lực. The assignment is closed; the request lapsed.",
                       code="extension.assignment_closed", extension_status=extension.status)
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
    notices.extension_decided(assignment, extension, principal.user_id)
    db.session.flush()
    return extension
