"""Sending the outbox's mails through SMTP (SMTP_HOST, SMTP_PORT, SMTP_TLS, credentials, MAIL_SENDER).

`send_due` claims one pending mail at a time (FOR UPDATE SKIP LOCKED on PostgreSQL, so several
workers never send one mail twice), sends it and marks it sent in the claim's transaction. When the
server cannot be reached the mail waits (backing off up to an hour) and goes out once the server is
back; the server's permanent refusal, or three days of trying, fails it."""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formataddr, parseaddr

from flask import current_app
from sqlalchemy import select

from tracker.extensions import db
from tracker.models import OutboxMail
from tracker.services import clock
from tracker.services.mail import enabled

log = logging.getLogger("tracker.mail")

RETRY_FIRST = dt.timedelta(minutes=1)
RETRY_MAX = dt.timedelta(hours=1)
GIVE_UP_AFTER = dt.timedelta(days=3)


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
