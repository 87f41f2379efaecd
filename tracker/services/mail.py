"""E-mail through SMTP, by way of the outbox (tracker.models.outbox.OutboxMail).

A mail is written in the same transaction as what causes it (an urging, the day's digest) and sent
later by the worker: `send_due` claims one pending mail at a time (FOR UPDATE SKIP LOCKED on
PostgreSQL, so several workers never send one mail twice), sends it and marks it sent in the claim's
transaction. When the server cannot be reached the mail waits (backing off up to an hour) and goes
out once the server is back; the server's permanent refusal, or three days of trying, fails it.
No mail is made without SMTP_HOST, to anyone without an address, or of a kind the person turned off;
a mail made on a weekend or a holiday waits for the next working morning."""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formataddr, parseaddr
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from tracker.domain import workdays
from tracker.extensions import db
from tracker.models import OutboxMail, User
from tracker.services import clock

log = logging.getLogger("tracker.mail")

# The kinds of mail a person can turn off, with the words the preferences show.
DUE_SOON, OVERDUE, AWAITING_APPROVAL, EXTENSION_PENDING, URGED = (
    "due_soon", "overdue", "awaiting_approval", "extension_pending", "urged")
MAIL_KINDS = {
    DUE_SOON: {"vi": "Nhắc nhiệm vụ sắp đến hạn (trước 7, 3 và 1 ngày)", "en": "Work due in 7, 3 and 1 days"},
    OVERDUE: {"vi": "Nhắc nhiệm vụ quá hạn (ngày đầu, sau đó hằng tuần)", "en": "Overdue work (on day 1, then weekly)"},
    AWAITING_APPROVAL: {"vi": "Báo cáo hoàn thành chờ phê duyệt lâu", "en": "Submissions waiting long for approval"},
    EXTENSION_PENDING: {"vi": "Đề nghị gia hạn chờ quyết định", "en": "Extension requests waiting for a decision"},
    URGED: {"vi": "Văn bản đôn đốc của lãnh đạo", "en": "Urgings by leaders"},
}

RETRY_FIRST = dt.timedelta(minutes=1)
RETRY_MAX = dt.timedelta(hours=1)
GIVE_UP_AFTER = dt.timedelta(days=3)


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


# --- sending --------------------------------------------------------------------------------------


def message(mail: OutboxMail) -> EmailMessage:
    sender = current_app.config["MAIL_SENDER"]
    msg = EmailMessage()
    msg["Subject"] = mail.subject
    msg["From"] = formataddr(parseaddr(sender))
    msg["To"] = mail.to_address
    # One id per outbox row: a mail sent again after a lost acknowledgement is the same mail.
    msg["Message-ID"] = f"<tracker-mail-{mail.id}@{parseaddr(sender)[1].rpartition('@')[2] or 'localhost'}>"
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(mail.text_body)
    msg.add_alternative(mail.html_body, subtype="html")
    return msg


def _connect() -> smtplib.SMTP:
    config = current_app.config
    host, port, tls, timeout = config["SMTP_HOST"], config["SMTP_PORT"], config["SMTP_TLS"], config["SMTP_TIMEOUT_SECONDS"]
    if tls == "ssl":
        server: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
    else:
        server = smtplib.SMTP(host, port, timeout=timeout)
        if tls == "starttls":
            server.starttls(context=ssl.create_default_context())
    if config.get("SMTP_USERNAME"):
        server.login(config["SMTP_USERNAME"], config.get("SMTP_PASSWORD") or "")
    return server


def _claim(now: dt.datetime) -> OutboxMail | None:
    """The oldest due pending mail, locked for this worker (others skip it)."""
    return db.session.scalars(
        select(OutboxMail).where(OutboxMail.status == "pending", OutboxMail.next_attempt_at <= now)
        .order_by(OutboxMail.next_attempt_at, OutboxMail.id).limit(1)
        .with_for_update(skip_locked=True)).first()


def _backoff(attempts: int) -> dt.timedelta:
    return min(RETRY_MAX, RETRY_FIRST * (2 ** max(0, attempts - 1)))


def send_due(now: dt.datetime | None = None, limit: int = 200) -> dict[str, int]:
    """Send the pending mails that are due, each in its own transaction; how many went, waited, failed.
    A server that cannot be reached stops the round (the rest wait for the next)."""
    now = now or clock.now()
    done = {"sent": 0, "waiting": 0, "failed": 0}
    if not enabled():
        return done
    server: smtplib.SMTP | None = None
    try:
        for _ in range(limit):
            mail = _claim(now)
            if mail is None:
                break
            mail.attempts += 1
            try:
                if server is None:
                    server = _connect()
                server.send_message(message(mail))
            except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
                permanent = getattr(exc, "smtp_code", 0) >= 500 or isinstance(exc, smtplib.SMTPRecipientsRefused)
                _failed_attempt(mail, now, exc, permanent=permanent)
                done["failed" if mail.status == "failed" else "waiting"] += 1
                db.session.commit()
                continue
            except (OSError, smtplib.SMTPException) as exc:
                _failed_attempt(mail, now, exc, permanent=False)
                done["failed" if mail.status == "failed" else "waiting"] += 1
                db.session.commit()
                server = _close(server)
                log.warning("mail %s: the SMTP server is unreachable (%s); pending mails wait", mail.id, exc)
                break
            mail.status, mail.sent_at, mail.last_error = "sent", now, None
            db.session.commit()
            done["sent"] += 1
            log.info("mail %s sent (%s to user %s)", mail.id, mail.kind, mail.user_id)
    finally:
        db.session.rollback()
        _close(server)
    return done


def _failed_attempt(mail: OutboxMail, now: dt.datetime, exc: Exception, *, permanent: bool) -> None:
    mail.last_error = f"{type(exc).__name__}: {exc}"[:2000]
    if permanent or now - mail.created_at >= GIVE_UP_AFTER:
        mail.status = "failed"
        log.error("mail %s failed for good after %d attempt(s): %s", mail.id, mail.attempts, mail.last_error)
    else:
        mail.next_attempt_at = now + _backoff(mail.attempts)


def _close(server: smtplib.SMTP | None) -> None:
    if server is not None:
        try:
            server.quit()
        except (OSError, smtplib.SMTPException):
            server.close()
    return None


FOOTER = ("Thư này do hệ thống theo dõi nhiệm vụ gửi tự động, xin không trả lời thư. "
          "Có thể chọn loại thư muốn nhận trong mục Cài đặt thông báo.")


def plain_html(heading: str, paragraphs: list[str], url: str) -> str:
    """A short HTML mail: a heading, paragraphs (line breaks kept) and one link."""
    from html import escape  # noqa: PLC0415 - local: only mails need it

    body = "".join(f"<p>{escape(text).replace(chr(10), '<br>')}</p>" for text in paragraphs)
    return (f'<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8"><title>{escape(heading)}</title></head>'
            f'<body style="font-family:Arial,sans-serif;color:#1a1a1a;line-height:1.5">'
            f"<h2 style=\"font-size:18px\">{escape(heading)}</h2>{body}"
            f'<p><a href="{escape(url, quote=True)}">Mở trên hệ thống</a></p>'
            f'<p style="color:#555;font-size:12px">{escape(FOOTER)}</p></body></html>')


def preferences_of(user: User) -> dict:
    return {"email": user.email, "mail_configured": enabled(), "email_preferences": preferences(user), "labels": MAIL_KINDS}


def set_preferences(user: User, changes: dict[str, bool]) -> dict:
    """Change some kinds; the others keep their value."""
    user.email_preferences = {**preferences(user), **{kind: bool(value) for kind, value in changes.items() if kind in MAIL_KINDS}}
    return preferences_of(user)
