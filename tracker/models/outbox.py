"""The outbox: work for the worker (`flask tracker worker`), written in the same transaction as
the change that causes it, so that nothing is lost when a process dies. A mail is claimed by one
worker at a time (FOR UPDATE SKIP LOCKED on PostgreSQL) and marked sent in the claim's transaction."""

import datetime as dt

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.extensions import db
from tracker.models.base import UtcDateTime, utcnow
from tracker.models.user import User


class OutboxMail(db.Model):
    """One e-mail to one person: a day's digest of reminders, or an urging."""

    __tablename__ = "outbox_mail"
    __table_args__ = (
        # What makes a mail the same mail: one digest per person per day, one mail per urging and person.
        UniqueConstraint("dedupe_key", name="uq_outbox_mail_dedupe_key"),
        CheckConstraint("status IN ('pending','sent','failed')", name="status"),
        # The worker's claim: the pending mails that are due, oldest first.
        Index("ix_outbox_mail_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_outbox_mail_user_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))  # digest, urged
    dedupe_key: Mapped[str] = mapped_column(String(160))
    to_address: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(Text)
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Not before: a mail made on a weekend or a holiday waits for the next working morning.
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)

    user: Mapped[User | None] = relationship()


class ScheduledRun(db.Model):
    """A daily job that ran (or is running) for one day: the unique key lets exactly one of several
    workers run it, and a worker that starts late still runs the day's job once."""

    __tablename__ = "scheduled_run"
    __table_args__ = (UniqueConstraint("job", "day", name="uq_scheduled_run_job_day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job: Mapped[str] = mapped_column(String(32))
    day: Mapped[dt.date] = mapped_column(Date)
    started_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    result: Mapped[str | None] = mapped_column(Text)
