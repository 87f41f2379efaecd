"""E-mail, by way of the outbox (tracker.models.outbox.OutboxMail): a mail is written in the same
transaction as what causes it (an urging, the day's digest) and sent later by the worker
(tracker.jobs.mail). No mail is made without SMTP_HOST, to anyone without an address, or of a kind
the person turned off; a mail made on a weekend or a holiday waits for the next working morning."""

from __future__ import annotations

import datetime as dt
from html import escape
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from tracker.domain import workdays
from tracker.domain.mail_kinds import MAIL_KINDS
from tracker.extensions import db
from tracker.models import OutboxMail, User
from tracker.services import clock


def enabled() -> bool:
    return bool(current_app.config.get("SMTP_HOST"))


def holidays() -> set[dt.date]:
    return {dt.date.fromisoformat(day) for day in current_app.config.get("HOLIDAYS", ())}


def zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TRACKER_TIMEZONE"])


def reminder_time() -> dt.time:
    return dt.time.fromisoformat(current_app.config["REMINDER_TIME"])


def not_before(now: dt.datetime) -> dt.datetime:
    """When a mail made at `now` may go: at once on a working day, else the next working day at the
    reminder time (local)."""
    local = now.astimezone(zone())
    off = holidays()
    if workdays.is_working_day(local.date(), off):
        return now
    day = workdays.next_working_day(local.date(), off)
    return dt.datetime.combine(day, reminder_time(), tzinfo=zone()).astimezone(dt.UTC)


def preferences(user: User) -> dict[str, bool]:
    """Every kind, wanted or not (a kind the user never chose is wanted)."""
    chosen = user.email_preferences or {}
    return {kind: bool(chosen.get(kind, True)) for kind in MAIL_KINDS}


def wants(user: User, kind: str) -> bool:
    """A digest (made of kinds already chosen) is wanted by anyone active with an address."""
    return bool(user.is_active and user.email and preferences(user).get(kind, True))


def enqueue(user: User, kind: str, dedupe_key: str, subject: str, text: str, html: str,
            now: dt.datetime | None = None) -> OutboxMail | None:
    """Write one mail to the outbox, in the caller's transaction; None when no mail is to be made
    (no SMTP server configured, no address, the kind turned off, or this mail already made)."""
    if not enabled() or not wants(user, kind):
        return None
    if db.session.scalar(select(OutboxMail.id).where(OutboxMail.dedupe_key == dedupe_key)) is not None:
        return None
    now = now or clock.now()
    mail = OutboxMail(user_id=user.id, kind=kind, dedupe_key=dedupe_key, to_address=user.email, subject=subject,
                      text_body=text, html_body=html, status="pending", attempts=0, next_attempt_at=not_before(now),
                      created_at=now)
    db.session.add(mail)
    return mail


def link(assignment_id: int | None = None) -> str:
    """Where a mail's link leads in the front end (FRONTEND_URL)."""
    base = current_app.config["FRONTEND_URL"]
    return f"{base}#/assignments/{assignment_id}" if assignment_id is not None else base


FOOTER = ("Thư này do hệ thống theo dõi nhiệm vụ gửi tự động, xin không trả lời thư. "
          "Có thể chọn loại thư muốn nhận tại mục Thông báo của hệ thống (Cài đặt thông báo qua thư điện tử).")


def html_document(title: str, body: str) -> str:
    """A mail's HTML: `body` (already escaped) under the title, with the footer."""
    return (f'<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8"><title>{escape(title)}</title></head>'
            f'<body style="font-family:Arial,sans-serif;color:#1a1a1a;line-height:1.5">{body}'
            f'<p style="color:#555;font-size:12px">{escape(FOOTER)}</p></body></html>')


def plain_html(heading: str, paragraphs: list[str], url: str) -> str:
    """A short HTML mail: a heading, paragraphs (line breaks kept) and one link."""
    body = "".join(f"<p>{escape(text).replace(chr(10), '<br>')}</p>" for text in paragraphs)
    return html_document(heading, f'<h2 style="font-size:18px">{escape(heading)}</h2>{body}'
                                  f'<p><a href="{escape(url, quote=True)}">Mở trên hệ thống</a></p>')


def preferences_of(user: User) -> dict:
    return {"email": user.email, "mail_configured": enabled(), "email_preferences": preferences(user), "labels": MAIL_KINDS}


def set_preferences(user: User, changes: dict[str, bool]) -> dict:
    """Change some kinds; the others keep their value."""
    user.email_preferences = {**preferences(user), **{kind: bool(value) for kind, value in changes.items() if kind in MAIL_KINDS}}
    return preferences_of(user)
