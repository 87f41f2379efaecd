from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.extensions import db
from tracker.models.base import Timestamped
from tracker.models.organization import Organization


class User(Timestamped, db.Model):
    """A person who signs in. Deactivated, never deleted: history points at users."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    # argon2id; never serialised, never logged.
    password_hash: Mapped[str] = mapped_column(String(255))
    full_name: Mapped[str] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Which mails the user wants, by kind (tracker.services.mail.MAIL_KINDS); a kind not named is wanted.
    email_preferences: Mapped[dict | None] = mapped_column(JSON)
    # fold(username, full name, email): accent- and case-insensitive search on every database.
    search_key: Mapped[str] = mapped_column(String(600), default="")

    memberships: Mapped[list["Membership"]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by="Membership.id"
    )

    def __repr__(self) -> str:
        return f"<User {self.username}>"


class Membership(db.Model):
    """A user's role in one organisation: admin, leader, officer or viewer."""

    __tablename__ = "membership"
    __table_args__ = (
        UniqueConstraint("user_id", "organization_id"),
        CheckConstraint("role IN ('admin','leader','officer','viewer')", name="role"),
        Index("ix_membership_organization_id", "organization_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="RESTRICT"))
    role: Mapped[str] = mapped_column(String(16))

    user: Mapped[User] = relationship(back_populates="memberships")
    organization: Mapped[Organization] = relationship()
