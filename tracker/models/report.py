import datetime as dt

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.extensions import db
from tracker.models.base import UtcDateTime, utcnow
from tracker.models.organization import Organization
from tracker.models.user import User


class ReportSnapshot(db.Model):
    """A published report ("chốt số liệu"): the bytes of each format as they were served when it was
    published, with their SHA-256. Never updated or deleted (database triggers refuse both)."""

    __tablename__ = "report_snapshot"
    __table_args__ = (
        CheckConstraint("kind IN ('periodic','summary')", name="kind"),
        Index("ix_report_snapshot_organization_id", "organization_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    parameters: Mapped[dict] = mapped_column(JSON)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="RESTRICT"))
    as_of: Mapped[dt.date] = mapped_column(Date)
    title: Mapped[str] = mapped_column(Text)
    published_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="RESTRICT"))
    published_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    note: Mapped[str | None] = mapped_column(Text)
    json_body: Mapped[bytes] = mapped_column(LargeBinary)
    csv_body: Mapped[bytes] = mapped_column(LargeBinary)
    xlsx_body: Mapped[bytes] = mapped_column(LargeBinary)
    json_sha256: Mapped[str] = mapped_column(String(64))
    csv_sha256: Mapped[str] = mapped_column(String(64))
    xlsx_sha256: Mapped[str] = mapped_column(String(64))
    # The Word report (periodic reports only; none for those published before it existed).
    docx_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    docx_sha256: Mapped[str | None] = mapped_column(String(64))

    organization: Mapped[Organization] = relationship()
    published_by: Mapped[User] = relationship()
