"""The change feed's log: one row per entity changed, per transaction flush, per organisation concerned."""

import datetime as dt

from sqlalchemy import BigInteger, CheckConstraint, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tracker.extensions import db
from tracker.models.base import UtcDateTime, utcnow


class Change(db.Model):
    """An assignment, evidence or notification changed (written in the same transaction as the
    change, by `tracker.services.changes`). Append-only.

    `organization_id` is the unit the entity belonged to at that moment (an assignment passed on
    gives a row for the unit it left, op `delete`, and one for the unit it joined); `user_id` the
    recipient of a notification. `txid` is PostgreSQL's transaction id (0 on SQLite, whose writers
    are serialised): the feed reads in (txid, id) order and only rows of ended transactions, so
    that a slow transaction cannot commit a row behind a cursor already handed out."""

    __tablename__ = "change"
    __table_args__ = (
        CheckConstraint("kind IN ('assignment','evidence','notification')", name="kind"),
        CheckConstraint("op IN ('upsert','delete')", name="op"),
        Index("ix_change_txid_id", "txid", "id"),
        Index("ix_change_organization_id_txid_id", "organization_id", "txid", "id"),
        Index("ix_change_user_id_txid_id", "user_id", "txid", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    txid: Mapped[int] = mapped_column(BigInteger, default=0)
    kind: Mapped[str] = mapped_column(String(16))
    entity_id: Mapped[int] = mapped_column(Integer)
    # No foreign keys: a log row must never hold back (or vanish with) what it records.
    organization_id: Mapped[int | None] = mapped_column(Integer)
    user_id: Mapped[int | None] = mapped_column(Integer)
    op: Mapped[str] = mapped_column(String(8), default="upsert")
    changed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
