"""What the app tells people when work moves: who hears of it and the words (Vietnamese, as the
offices write; stored as data in each notification). One place for every event that notifies:
an urging, a submission to approve, a return, an approval, an extension asked for and decided."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from tracker.domain.access import MemberRole
from tracker.domain import mail_kinds as kinds
from tracker.extensions import db
from tracker.models import Assignment, Extension, Membership, User
from tracker.services import mail, notifications
from tracker.services.access import ancestor_ids

URGED, SUBMITTED, RETURNED, APPROVED = "urged", "submitted", "returned", "approved"
EXTENSION_REQUESTED, EXTENSION_DECIDED = "extension_requested", "extension_decided"
KINDS = (URGED, SUBMITTED, RETURNED, APPROVED, EXTENSION_REQUESTED, EXTENSION_DECIDED)

# What an urging says when the leader adds no words of their own.
STANDARD_URGING = "Đề nghị đơn vị khẩn trương thực hiện, hoàn thành nhiệm vụ và báo cáo kết quả."


def _members(org_ids: list[int], role: MemberRole) -> set[int]:
    return set(db.session.scalars(
        select(Membership.user_id).join(User, User.id == Membership.user_id)
        .where(Membership.organization_id.in_(sorted(set(org_ids))), Membership.role == role.value, User.is_active.is_(True))))


def officers_of(org_id: int) -> set[int]:
    """The unit's active officers."""
    return _members([org_id], MemberRole.OFFICER)


def leaders_over(org_id: int) -> set[int]:
    """The active leaders of the unit and of every unit above it."""
    return _members([org_id, *ancestor_ids(org_id)], MemberRole.LEADER)


def unit_people(assignment: Assignment, officers: Callable[[int], set[int]] = officers_of) -> set[int]:
    """Who does the work: the unit's active officers and the owner (`officers` may be a memo of
    `officers_of`, for a run over many assignments)."""
    people = set(officers(assignment.organization_id))
    if assignment.owner is not None and assignment.owner.is_active:
        people.add(assignment.owner.id)
    return people


def approvers(assignment: Assignment, leaders: Callable[[int], set[int]] = leaders_over) -> set[int]:
    """Who decides on it: the active leaders of the unit and of every unit above it."""
    return set(leaders(assignment.organization_id))


def headline(title: str, assignment: Assignment) -> str:
    """A notification's title, and an urging mail's subject."""
    return f"{title}: {assignment.action.ref} – {assignment.organization.name}"


def _send(recipients: set[int], kind: str, assignment: Assignment, actor_id: int | None, title: str, body: str) -> int:
    recipients.discard(actor_id)  # nobody is told of what they did themselves
    return notifications.notify(recipients, kind=kind, title=headline(title, assignment),
                                body=body, assignment_id=assignment.id, actor_id=actor_id)


def _what(assignment: Assignment) -> str:
    action = assignment.action
    name = action.title or (action.text[:117] + "…" if len(action.text) > 120 else action.text)
    due = f", hạn {assignment.due_date:%d/%m/%Y}" if assignment.due_date else ""
    return f"Nhiệm vụ {action.ref} ({name}){due}"


def urge_label(count: int) -> str:
    """How the history and the notification name the n-th urging."""
    return f"Đôn đốc lần {count}"


def urged(assignment: Assignment, actor_id: int | None, count: int, message: str, days_overdue: int) -> int:
    """In-app to the unit's officers and the owner, and by e-mail to those of them who want it."""
    people = unit_people(assignment) - {actor_id}
    title, body = urge_label(count), f"{message}\n\n{_what(assignment)}, đã quá hạn {days_overdue} ngày."
    notified = _send(set(people), URGED, assignment, actor_id, title, body)
    subject = headline(title, assignment)
    url = mail.link(assignment.id)
    for user in db.session.scalars(select(User).where(User.id.in_(sorted(people))).order_by(User.id)):
        text = f"Kính gửi {user.full_name},\n\n{body}\n\nXem và cập nhật: {url}\n\n{mail.FOOTER}"
        mail.enqueue(user, kinds.URGED, f"urged:{assignment.id}:{count}:{user.id}", subject, text,
                     mail.plain_html(subject, [f"Kính gửi {user.full_name},", body], url))
    return notified


def status_changed(assignment: Assignment, actor_id: int | None, target: str, note: str | None) -> int:
    """A submission tells the approvers; a return or an approval tells the unit. Other moves tell nobody."""
    said = f"\n\n{note.strip()}" if note and note.strip() else ""
    if target == "submitted":
        return _send(approvers(assignment), SUBMITTED, assignment, actor_id, "Chờ duyệt",
                     f"{_what(assignment)} đã được báo cáo hoàn thành, đề nghị xem xét, phê duyệt.{said}")
    if target == "returned":
        return _send(unit_people(assignment), RETURNED, assignment, actor_id, "Bị trả lại",
                     f"{_what(assignment)} bị trả lại, đề nghị bổ sung.{said}")
    if target == "completed":
        return _send(unit_people(assignment), APPROVED, assignment, actor_id, "Đã duyệt hoàn thành",
                     f"{_what(assignment)} đã được duyệt hoàn thành.{said}")
    return 0


def extension_requested(assignment: Assignment, extension: Extension, actor_id: int | None) -> int:
    return _send(approvers(assignment), EXTENSION_REQUESTED, assignment, actor_id, "Đề nghị gia hạn",
                 f"{_what(assignment)}: đề nghị gia hạn đến {extension.new_due_date:%d/%m/%Y}.\n\nLý do: {extension.reason}")


def extension_decided(assignment: Assignment, extension: Extension, actor_id: int | None) -> int:
    granted = extension.status == "granted"
    said = f"\n\n{extension.decision_note.strip()}" if extension.decision_note and extension.decision_note.strip() else ""
    people = unit_people(assignment) | {extension.requested_by_id}
    return _send(people, EXTENSION_DECIDED, assignment, actor_id, "Gia hạn được chấp thuận" if granted else "Gia hạn bị từ chối",
                 f"{_what(assignment)}: đề nghị gia hạn đến {extension.new_due_date:%d/%m/%Y} "
                 f"{'được chấp thuận' if granted else 'bị từ chối'}.{said}")
