import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tracker.domain.sign_in import EndReason, SignInOutcome, SignInReason
from tracker.extensions import db
from tracker.models.base import UtcDateTime


def _one_of(column: str, values, *, nullable: bool = False) -> str:
    listed = ",".join(f"'{value}'" for value in values)
    return f"{column} IS NULL OR {column} IN ({listed})" if nullable else f"{column} IN ({listed})"


class AuthSession(db.Model):
    """One sign-in, to which an access and a refresh token belong (their `sid` claim). Ending it
    refuses both at once, in every process: each request reads it with the user."""

    __tablename__ = "auth_session"
    __table_args__ = (
        CheckConstraint(_one_of("end_reason", EndReason, nullable=True), name="end_reason"),
        CheckConstraint("(ended_at IS NULL) = (end_reason IS NULL)", name="ended"),
        Index("ix_auth_session_user_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    # The sign-in or the last refresh (requests themselves write nothing).
    last_used_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    # When the current refresh token expires: the session cannot go on after it.
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    end_reason: Mapped[str | None] = mapped_column(String(32))
    # The only refresh token that may be used; an older one coming back ends the session.
    refresh_jti: Mapped[str] = mapped_column(String(64))
    client_address: Mapped[str] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(255))


class SignIn(db.Model):
    """A sign-in attempt, good or bad: the audit trail admins read, and what throttling counts."""

    __tablename__ = "sign_in"
    __table_args__ = (
        CheckConstraint(_one_of("outcome", SignInOutcome), name="outcome"),
        CheckConstraint(_one_of("reason", SignInReason, nullable=True), name="reason"),
        Index("ix_sign_in_username_client_address_occurred_at", "username", "client_address", "occurred_at"),
        Index("ix_sign_in_client_address_occurred_at", "client_address", "occurred_at"),
        Index("ix_sign_in_user_id_occurred_at", "user_id", "occurred_at"),
        Index("ix_sign_in_occurred_at", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    occurred_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    # As typed (trimmed, lower case), also for unknown accounts: throttling must not tell them apart.
    username: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    client_address: Mapped[str] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(255))
    outcome: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(32))
    session_id: Mapped[int | None] = mapped_column(ForeignKey("auth_session.id", ondelete="SET NULL"))
