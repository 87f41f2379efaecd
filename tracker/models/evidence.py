import datetime as dt

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.extensions import db
from tracker.models.assignment import Assignment
from tracker.models.base import UtcDateTime, utcnow
from tracker.models.user import User


class Evidence(db.Model):
    """A file (minh chứng) attached to an assignment. Immutable: withdrawal marks it, and only
    an administrator's purge removes its content, never its record."""

    __tablename__ = "evidence"
    __table_args__ = (
        CheckConstraint("size > 0", name="size_positive"),
        Index("ix_evidence_assignment_id", "assignment_id"),
        Index("ix_evidence_sha256", "sha256"),
        Index("ix_evidence_organization_id", "organization_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignment.id", ondelete="RESTRICT"))
    # The assignment's organisation, kept here for the storage quota.
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="RESTRICT"))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(160))
    original_name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="RESTRICT"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="RESTRICT"))
    withdrawal_reason: Mapped[str | None] = mapped_column(Text)
    content_purged_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)

    assignment: Mapped[Assignment] = relationship()
    uploaded_by: Mapped[User] = relationship(foreign_keys=[uploaded_by_id])
    withdrawn_by: Mapped[User | None] = relationship(foreign_keys=[withdrawn_by_id])

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawn_at is not None
