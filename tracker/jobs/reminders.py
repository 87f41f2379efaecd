"""The daily reminders: one digest per person per working day, made by the worker at REMINDER_TIME.

A digest on day D covers the days since the previous working day P (so a Monday's holds what fell
due on the weekend, and the first day after Tết what fell in it):
- due_soon           to the unit's officers and the owner: open work whose due date was 7, 3 or 1
                     days away on one of the days covered;
- overdue            to the same people: open work that became overdue on one of those days (day 1
                     overdue), and then weekly (days 8, 15, 22 ...);
- awaiting_approval  to the leaders over the unit: submissions waiting more than
                     APPROVAL_REMINDER_DAYS days for approval (each working day until decided);
- extension_pending  to the leaders over the unit: extension requests not decided yet.
Open work is work neither completed, cancelled nor submitted (submitted work waits on the leaders,
and is put to them), of units still open. Each person gets only the kinds they want."""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from html import escape

from flask import current_app
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from tracker.domain import workdays
from tracker.domain import mail_kinds as kinds
from tracker.extensions import db
from tracker.models import Assignment, Extension, Organization, ScheduledRun, User
from tracker.services import clock, mail, notices

log = logging.getLogger("tracker.reminders")

DUE_SOON_DAYS = (7, 3, 1)
OVERDUE_EVERY_DAYS = 7
OPEN_STATUSES = ("not_started", "in_progress", "returned", "blocked")
DIGEST_JOB = "digest"

HEADINGS = {
    kinds.DUE_SOON: "Nhiệm vụ sắp đến hạn",
    kinds.OVERDUE: "Nhiệm vụ quá hạn",
    kinds.AWAITING_APPROVAL: "Báo cáo hoàn thành chờ phê duyệt",
    kinds.EXTENSION_PENDING: "Đề nghị gia hạn chờ quyết định",
}


@dataclass(frozen=True)
class Item:
    """One line of a digest."""

    kind: str
    assignment_id: int
    ref: str
    name: str
    unit: str
    detail: str

    def line(self) -> str:
        return f"[{self.ref}] {self.name} – {self.unit}: {self.detail}"


def _name(assignment: Assignment) -> str:
    action = assignment.action
    text = action.title or action.text
    return text if len(text) <= 120 else text[:117] + "…"


def _item(kind: str, assignment: Assignment, detail: str) -> Item:
    return Item(kind, assignment.id, assignment.action.ref, _name(assignment), assignment.organization.name, detail)


def _open_units(day: dt.date):
    return or_(Organization.valid_to.is_(None), Organization.valid_to >= day)


def _work(*conditions) -> list[Assignment]:
    return list(db.session.scalars(
        select(Assignment).join(Organization, Organization.id == Assignment.organization_id).where(*conditions)
        .options(joinedload(Assignment.action), joinedload(Assignment.organization), joinedload(Assignment.owner))
        .order_by(Assignment.due_date, Assignment.id)).unique())


def _overdue_days(covered: list[dt.date], open_work) -> list[dt.date]:
    """The due dates whose work became overdue, or another week overdue, on one of the days covered:
    the day before each, and every 7 days back to the oldest open due date (so that the database
    picks the rows, however many are overdue)."""
    oldest = db.session.scalar(select(func.min(Assignment.due_date)).join(Organization, Organization.id == Assignment.organization_id)
                               .where(*open_work))
    if oldest is None:
        return []
    days = set()
    for covered_day in covered:
        due = covered_day - dt.timedelta(days=1)
        while due >= oldest:
            days.add(due)
            due -= dt.timedelta(days=OVERDUE_EVERY_DAYS)
    return sorted(days)


def collect(day: dt.date, previous: dt.date, approval_days: int) -> dict[int, list[Item]]:
    """Each person's items for a digest on `day` covering the days after `previous`."""
    covered = workdays.days_since(previous, day)
    # Memos: the same units' members are asked for by many assignments.
    officers, leaders = cache(notices.officers_of), cache(notices.leaders_over)

    def unit_people(assignment: Assignment) -> set[int]:
        return notices.unit_people(assignment, officers)

    def approvers(assignment: Assignment) -> set[int]:
        return notices.approvers(assignment, leaders)

    found: dict[int, list[Item]] = defaultdict(list)
    open_work = (Assignment.status.in_(OPEN_STATUSES), _open_units(day))

    due_days = sorted({covered_day + dt.timedelta(days=ahead) for covered_day in covered for ahead in DUE_SOON_DAYS})
    for assignment in _work(*open_work, Assignment.due_date.in_(due_days), Assignment.due_date >= day):
        left = (assignment.due_date - day).days
        item = _item(kinds.DUE_SOON, assignment, f"hạn {assignment.due_date:%d/%m/%Y}, "
                                                 + ("đến hạn hôm nay" if left == 0 else f"còn {left} ngày"))
        for person in unit_people(assignment):
            found[person].append(item)

    for assignment in _work(*open_work, Assignment.due_date.in_(_overdue_days(covered, open_work))):
        urged = f", đã đôn đốc {assignment.urge_count} lần" if assignment.urge_count else ""
        item = _item(kinds.OVERDUE, assignment, f"hạn {assignment.due_date:%d/%m/%Y}, "
                                                f"quá hạn {(day - assignment.due_date).days} ngày{urged}")
        for person in unit_people(assignment):
            found[person].append(item)

    waited_since = day - dt.timedelta(days=approval_days)
    for assignment in _work(Assignment.status == "submitted", _open_units(day), Assignment.submitted_on.is_not(None),
                            Assignment.submitted_on < waited_since):
        item = _item(kinds.AWAITING_APPROVAL, assignment, f"báo cáo hoàn thành ngày {assignment.submitted_on:%d/%m/%Y}, "
                                                          f"đã chờ {(day - assignment.submitted_on).days} ngày")
        for person in approvers(assignment):
            found[person].append(item)

    pending = db.session.scalars(
        select(Extension).join(Assignment, Assignment.id == Extension.assignment_id)
        .join(Organization, Organization.id == Assignment.organization_id)
        .where(Extension.status == "pending", _open_units(day))
        .options(joinedload(Extension.assignment).joinedload(Assignment.action),
                 joinedload(Extension.assignment).joinedload(Assignment.organization))
        .order_by(Extension.requested_at, Extension.id)).unique()
    for extension in pending:
        assignment = extension.assignment
        before = f" từ {extension.previous_due_date:%d/%m/%Y}" if extension.previous_due_date else ""
        item = _item(kinds.EXTENSION_PENDING, assignment, f"đề nghị gia hạn{before} đến {extension.new_due_date:%d/%m/%Y}")
        for person in approvers(assignment):
            found[person].append(item)
    return found


def render(user: User, day: dt.date, items: list[Item]) -> tuple[str, str, str]:
    """Subject, plain text and HTML of one person's digest."""
    subject = f"Nhắc việc ngày {day:%d/%m/%Y}: {len(items)} nhiệm vụ cần chú ý"
    groups = [(kind, [item for item in items if item.kind == kind]) for kind in HEADINGS]
    groups = [(kind, chosen) for kind, chosen in groups if chosen]
    text = [f"Kính gửi {user.full_name},", "", f"Hệ thống theo dõi nhiệm vụ xin nhắc các việc cần chú ý ngày {day:%d/%m/%Y}:"]
    html = [f"<p>Kính gửi {escape(user.full_name)},</p>",
            f"<p>Hệ thống theo dõi nhiệm vụ xin nhắc các việc cần chú ý ngày {day:%d/%m/%Y}:</p>"]
    for kind, chosen in groups:
        text += ["", f"{HEADINGS[kind]} ({len(chosen)})"]
        html.append(f'<h3 style="font-size:16px;margin-bottom:4px">{escape(HEADINGS[kind])} ({len(chosen)})</h3><ul>')
        for item in chosen:
            url = mail.link(item.assignment_id)
            text += [f"- {item.line()}", f"  {url}"]
            html.append(f'<li><a href="{escape(url, quote=True)}">[{escape(item.ref)}] {escape(item.name)}</a> – '
                        f"{escape(item.unit)}: {escape(item.detail)}</li>")
        html.append("</ul>")
    text += ["", mail.FOOTER]
    return subject, "\n".join(text) + "\n", mail.html_document(subject, "".join(html))


def make_digests(day: dt.date, now: dt.datetime | None = None) -> int:
    """Write the day's digests to the outbox (in the caller's transaction); how many (none on a
    weekend or holiday: its items go into the next working day's digest)."""
    off = mail.holidays()
    if not workdays.is_working_day(day, off):
        return 0
    found = collect(day, workdays.previous_working_day(day, off), current_app.config["APPROVAL_REMINDER_DAYS"])
    made = 0
    users = db.session.scalars(select(User).where(User.id.in_(sorted(found)))) if found else []
    for user in sorted(users, key=lambda person: person.id):
        wanted = [item for item in found[user.id] if mail.wants(user, item.kind)]
        if not wanted:
            continue
        subject, text, html = render(user, day, wanted)
        if mail.enqueue(user, "digest", f"digest:{day.isoformat()}:{user.id}", subject, text, html, now=now) is not None:
            made += 1
    return made


def run_daily(now: dt.datetime | None = None) -> int | None:
    """Make today's digests once, at or after REMINDER_TIME local: the first worker to get here does
    it (a unique row per day), every other finds the row and does nothing. How many mails, or None
    when it was not time, not a working day, or already done. Commits."""
    if not mail.enabled():
        return None
    now = now or clock.now()
    local = now.astimezone(mail.zone())
    day = local.date()
    if local.time() < mail.reminder_time() or not workdays.is_working_day(day, mail.holidays()):
        return None
    if db.session.scalar(select(ScheduledRun.id).where(ScheduledRun.job == DIGEST_JOB, ScheduledRun.day == day)):
        return None
    try:
        run = ScheduledRun(job=DIGEST_JOB, day=day, started_at=now)
        db.session.add(run)
        db.session.flush()
    except IntegrityError:
        db.session.rollback()  # another worker has it
        return None
    made = make_digests(day, now)
    run.result = f"{made} mail(s)"
    db.session.commit()
    log.info("digests of %s: %d mail(s)", day.isoformat(), made)
    return made
