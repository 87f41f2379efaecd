"""Assignments as the caller may see them, and the changes leaders and officers make to them.

Every query is limited to the caller's scope in SQL; an assignment outside it answers 404.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import contains_eager, joinedload

from tracker.domain import workflow as rules
from tracker.domain.access import MemberRole, Principal, can_approve_for, can_contribute_to
from tracker.domain.classification import TaskClass, class_condition, classify, days_overdue, is_due_soon
from tracker.domain.text import fold, like_pattern
from tracker.domain.vocabulary import Status
from tracker.errors import AppError, Forbidden, NotFound, PreconditionFailed, PreconditionRequired, ValidationFailed
from tracker.extensions import db
from tracker.models import Action, Assignment, AssignmentEvent, Evidence, Extension, Membership, Organization, TaskGroup, User
from tracker.services import clock, history
from tracker.services.access import ancestor_ids, in_ids, subtree_ids, visible_organizations
from tracker.services.filters import FilterValues, any_of, filter_values

SORTS = {
    # NULLS LAST rather than `due_date IS NULL` first: the same order, and an index on due_date can serve it.
    "due_date": (Assignment.due_date.asc().nulls_last(), Assignment.id),
    "-due_date": (Assignment.due_date.desc().nulls_last(), Assignment.id.desc()),
    "updated_at": (Assignment.updated_at, Assignment.id),
    "-updated_at": (Assignment.updated_at.desc(), Assignment.id.desc()),
    "organization": (Organization.code, Assignment.due_date, Assignment.id),
    "id": (Assignment.id,),
}


def scoped(principal: Principal) -> Select:
    """The assignments the principal sees, with what their answers show loaded."""
    return (
        select(Assignment)
        .join(Assignment.action)
        .join(Assignment.organization)
        .options(contains_eager(Assignment.action), contains_eager(Assignment.organization), joinedload(Assignment.owner))
        .where(visible_organizations(principal, Assignment.organization_id))
    )


# A filter's value: one value, or several (any of them matches); None: no filter.
def apply_filters(stmt: Select, *, as_of: dt.date, organization_id: FilterValues = None, include_descendants: bool = False,
                  plan_id: FilterValues = None, group: FilterValues = None, action_id: FilterValues = None,
                  role: FilterValues = None, status: FilterValues = None, classification: FilterValues = None,
                  owner_id: FilterValues = None, due_from: dt.date | None = None, due_to: dt.date | None = None,
                  q: str | None = None) -> Select:
    """The /assignments filters, for any statement over Assignment joined with Action and Organization.
    Each filter takes one value or several (any of them); `include_descendants`: the union of the
    organisations' subtrees."""
    organization_ids = filter_values(organization_id)
    if organization_ids is not None:
        if include_descendants:
            stmt = stmt.where(in_ids(Assignment.organization_id, db.session.scalars(subtree_ids(set(organization_ids))).all()))
        else:
            stmt = stmt.where(any_of(Assignment.organization_id, organization_ids))
    if (plans := filter_values(plan_id)) is not None:
        stmt = stmt.where(any_of(Action.plan_id, plans))
    if (groups := filter_values(group)) is not None:
        stmt = stmt.where(Action.group_id.in_(select(TaskGroup.id).where(any_of(TaskGroup.number, groups))))
    if (actions := filter_values(action_id)) is not None:
        stmt = stmt.where(or_(any_of(Assignment.action_id, actions), any_of(Action.parent_id, actions)))
    for column, value in ((Assignment.role, role), (Assignment.status, status), (Assignment.owner_id, owner_id)):
        if (values := filter_values(value)) is not None:
            stmt = stmt.where(any_of(column, values))
    if (classes := filter_values(classification)) is not None:
        stmt = stmt.where(or_(*(class_condition(TaskClass(c), Assignment.status, Assignment.due_date, Assignment.completed_on, as_of)
                                for c in classes)))
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
    return apply_filters(scoped(principal).order_by(*SORTS[sort]), as_of=as_of, **filters)


@dataclass(frozen=True)
class CallerView:
    """What one caller may do with an assignment now, and what a screen shows beside it."""

    allowed_transitions: list[str]
    editable_fields: list[str]
    last_return_reason: str | None
    pending_extension: Extension | None
    evidence_count: int


@dataclass(frozen=True)
class Classified:
    """An assignment with its class as of a date, and what the caller may do with it
    (`for_caller`): what lists and details show."""

    assignment: Assignment
    as_of: dt.date
    caller: CallerView | None = None

    def __getattr__(self, name):
        if name in CallerView.__dataclass_fields__:
            # Every answer builds its assignments with `for_caller`; a bare Classified has none.
            return getattr(self.caller, name) if self.caller is not None else None
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


def for_caller(principal: Principal, items: list[Assignment], as_of: dt.date) -> list[Classified]:
    """The assignments classified as of `as_of`, each with what the caller may do with it now.

    Batch-loaded for the whole page, so that a page costs the same number of statements whatever
    its size: one each for the evidence counts, the pending extensions and the latest returns, and
    one for the organisations' ancestors when the caller leads somewhere (an admin approves
    everywhere, an officer or viewer nowhere: their capacities need no ancestors)."""
    if not items:
        return []
    ids = [a.id for a in items]
    counts = _evidence_counts(ids)
    pending = _pending_extensions(ids)
    reasons = _last_return_reasons(ids)
    needs_tree = not principal.is_admin and bool(principal.writable_organizations_with(MemberRole.LEADER))
    ancestors = _ancestors_of({a.organization_id for a in items}) if needs_tree else {}
    result = []
    for a in items:
        caller = capacities_for(principal, a, ancestors.get(a.organization_id, []))
        count = counts.get(a.id, 0)
        moves = rules.available_moves(a.status, caller, requires_evidence=a.action.requires_evidence, evidence_count=count)
        view = CallerView(
            allowed_transitions=[move.target.value for move in moves],
            editable_fields=rules.editable_fields(a.status, caller),
            last_return_reason=reasons.get(a.id) if rules.shows_return_reason(a.status) else None,
            pending_extension=pending.get(a.id),
            evidence_count=count,
        )
        result.append(Classified(a, as_of, view))
    return result


def capacities_for(principal: Principal, assignment: Assignment, ancestors: list[int]) -> set[rules.Actor]:
    """The capacities in which the caller acts on the assignment now (`ancestors`: its
    organisation's): none on the work of a closed organisation, which is read-only."""
    if not writable(assignment):
        return set()
    org_id = assignment.organization_id
    return rules.capacities(contributor=can_contribute_to(principal, org_id, ancestors),
                            approver=can_approve_for(principal, org_id, ancestors))


def _ancestors_of(org_ids: set[int]) -> dict[int, list[int]]:
    """Each organisation's ancestors (unordered), for many organisations in one statement."""
    up = (select(Organization.id.label("org_id"), Organization.parent_id.label("id"))
          .where(Organization.id.in_(sorted(org_ids))).cte("ancestors_of", recursive=True))
    up = up.union(select(up.c.org_id, Organization.parent_id).where(Organization.id == up.c.id))
    found: dict[int, list[int]] = {}
    for org_id, ancestor in db.session.execute(select(up.c.org_id, up.c.id).where(up.c.id.is_not(None))):
        found.setdefault(org_id, []).append(ancestor)
    return found


def _evidence_counts(ids: list[int]) -> dict[int, int]:
    """Evidence files not withdrawn, per assignment."""
    return dict(db.session.execute(
        select(Evidence.assignment_id, func.count(Evidence.id))
        .where(Evidence.assignment_id.in_(ids), Evidence.withdrawn_at.is_(None))
        .group_by(Evidence.assignment_id)
    ).all())


def _pending_extensions(ids: list[int]) -> dict[int, Extension]:
    """The extension request pending on each assignment (at most one is), with who asked."""
    found = db.session.scalars(
        select(Extension).options(joinedload(Extension.requested_by))
        .where(Extension.assignment_id.in_(ids), Extension.status == "pending").order_by(Extension.id)
    )
    return {extension.assignment_id: extension for extension in found}


def _last_return_reasons(ids: list[int]) -> dict[int, str | None]:
    """The note (the reason) of each assignment's latest return."""
    latest = (
        select(func.max(AssignmentEvent.id))
        .where(AssignmentEvent.assignment_id.in_(ids), AssignmentEvent.kind == "status_changed",
               AssignmentEvent.new_value["status"].as_string() == Status.RETURNED.value)
        .group_by(AssignmentEvent.assignment_id)
    )
    return dict(db.session.execute(
        select(AssignmentEvent.assignment_id, AssignmentEvent.note).where(AssignmentEvent.id.in_(latest))
    ).all())


def etag_of(assignment: Assignment) -> str:
    """The version tag `<id>.<version>`: what If-Match is compared with. A GET of the assignment
    sends it completed with a digest of the answer, `<id>.<version>.<digest>` (tracker.web.versioned_etag),
    so that If-None-Match answers 304 only for the very same body; If-Match reads only the version."""
    return f"{assignment.id}.{assignment.version}"


def _version_of(tag: str | None) -> str:
    """The `<id>.<version>` a tag sent back in If-Match names, with or without its digest (an
    empty tag, `""`, which werkzeug reads as None, names none)."""
    return ".".join((tag or "").split(".")[:2])


def _version_error(error: AppError, assignment: Assignment) -> AppError:
    # The view may name in `etag` the tag a GET gives now (digest included) instead of the version tag.
    error.assignment = assignment
    return error


def get_assignment(principal: Principal, assignment_id: int) -> Assignment:
    """The assignment, or 404 when it does not exist or lies outside the caller's scope."""
    assignment = db.session.scalar(scoped(principal).where(Assignment.id == assignment_id))
    if assignment is None:
        raise NotFound(f"Không có nhiệm vụ được giao {assignment_id}. No such assignment.", code="assignment.not_found")
    return assignment


def writable(assignment: Assignment) -> bool:
    """Work held by a closed organisation is history: read-only for everyone."""
    return not assignment.organization.closed_by(clock.today())


def check_writable(assignment: Assignment) -> None:
    """Work held by a closed organisation is history: read-only for everyone."""
    if not writable(assignment):
        raise Forbidden(f"Đơn vị {assignment.organization.name} đã giải thể hoặc sáp nhập từ "
                        f"{assignment.organization.valid_to + dt.timedelta(days=1):%d/%m/%Y}; nhiệm vụ của đơn vị chỉ được xem. "
                        "The organisation is closed; its work is read-only.", code="organization.closed",
                        successor_id=assignment.organization.successor_id)


def check_version(assignment: Assignment, if_match, *, required: bool) -> None:
    """Optimistic locking through ETags: If-Match must name the current version.

    Only the `<id>.<version>` part of each tag is compared (see `etag_of`): a tag read yesterday
    still allows a change today if nobody changed the assignment since, though its digest differs
    now. Strong comparison, as RFC 9110 wants for If-Match: a weak tag `W/"..."` never matches."""
    if not if_match:
        if required:
            raise _version_error(PreconditionRequired(
                "Cần tiêu đề If-Match với ETag hiện tại. Send If-Match with the ETag you read.",
                code="assignment.precondition_required", etag=etag_of(assignment),
            ), assignment)
        return
    if not if_match.star_tag and etag_of(assignment) not in {_version_of(tag) for tag in if_match.as_set()}:
        raise _version_error(PreconditionFailed(
            "Nhiệm vụ đã được người khác thay đổi; hãy tải lại. The assignment changed since you read it; reload it.",
            code="assignment.stale", etag=etag_of(assignment),
        ), assignment)


def update(principal: Principal, assignment: Assignment, data: dict) -> Assignment:
    """Leaders set owner and due date; assigned officers report progress and notes. One event per change."""
    check_writable(assignment)
    org_id = assignment.organization_id
    open_fields = rules.fields_open_to(capacities_for(principal, assignment, ancestor_ids(org_id)))
    refused = (rules.FIELD_EDITORS.keys() & data.keys()) - set(open_fields)
    if refused:
        raise Forbidden(
            "Lãnh đạo đổi người phụ trách và hạn; cán bộ được giao báo cáo tiến độ và ghi chú. "
            "Leaders change owner and due date; assigned officers report progress and notes.",
            code="assignment.forbidden", fields=sorted(refused),
        )
    if assignment.status in rules.CLOSED and data:
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
