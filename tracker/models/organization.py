import datetime as dt

from sqlalchemy import (
    JSON, Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, event, insert, inspect, update,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.extensions import db
from tracker.models.base import Timestamped, UtcDateTime, utcnow


class Organization(Timestamped, db.Model):
    """A node of the organisation tree; closed (valid_to) rather than deleted, with its successors
    in the lineage. `name`, `short_name` and `parent_id` are the current ones; what they were on a
    given day is in OrganizationVersion."""

    __tablename__ = "organization"
    __table_args__ = (
        CheckConstraint("parent_id IS NULL OR parent_id <> id", name="not_own_parent"),
        CheckConstraint("valid_to IS NULL OR valid_from IS NULL OR valid_to >= valid_from", name="valid_range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    short_name: Mapped[str | None] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(40))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id", ondelete="RESTRICT"), index=True)
    # First and last day the unit existed (both inclusive); NULL: since before the records / still open.
    valid_from: Mapped[dt.date | None] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    # The successor named when it closed (the first one, for a split); all of them are in the lineage.
    successor_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id", ondelete="RESTRICT"))
    # The official administrative-unit code (mã đơn vị hành chính), for units imported from the national list.
    admin_code: Mapped[str | None] = mapped_column(String(16))
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    # fold(code, name, short name): accent- and case-insensitive search on every database.
    search_key: Mapped[str] = mapped_column(String(600), default="")

    parent: Mapped["Organization | None"] = relationship(
        remote_side=[id], foreign_keys=[parent_id], back_populates="children"
    )
    children: Mapped[list["Organization"]] = relationship(foreign_keys=[parent_id], back_populates="parent")
    successor: Mapped["Organization | None"] = relationship(remote_side=[id], foreign_keys=[successor_id])
    versions: Mapped[list["OrganizationVersion"]] = relationship(
        back_populates="organization", order_by="OrganizationVersion.valid_from.nulls_first()",
        foreign_keys="OrganizationVersion.organization_id", cascade="all, delete-orphan",
    )

    def exists_on(self, day: dt.date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (self.valid_to is None or day <= self.valid_to)

    def closed_by(self, day: dt.date) -> bool:
        return self.valid_to is not None and self.valid_to < day

    def __repr__(self) -> str:
        return f"<Organization {self.code}>"


class OrganizationVersion(db.Model):
    """The name and parent an organisation had from `valid_from` to `valid_to` (both inclusive;
    NULL: open-ended). Versions of one organisation never overlap; reports as of a day group by
    the versions valid on that day, so a later rename or move never changes a past report."""

    __tablename__ = "organization_version"
    __table_args__ = (
        CheckConstraint("valid_to IS NULL OR valid_from IS NULL OR valid_to >= valid_from", name="valid_range"),
        CheckConstraint("parent_id IS NULL OR parent_id <> organization_id", name="not_own_parent"),
        Index("ix_organization_version_organization_id_valid_from", "organization_id", "valid_from"),
        Index("ix_organization_version_parent_id", "parent_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    valid_from: Mapped[dt.date | None] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    name: Mapped[str] = mapped_column(String(255))
    short_name: Mapped[str | None] = mapped_column(String(120))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id", ondelete="RESTRICT"))
    reorganization_id: Mapped[int | None] = mapped_column(ForeignKey("reorganization.id", ondelete="RESTRICT"))

    organization: Mapped[Organization] = relationship(back_populates="versions", foreign_keys=[organization_id])


REORGANIZATION_KINDS = ("merge", "split", "rename", "move", "close", "create")


class Reorganization(db.Model):
    """One dated change of the tree (sáp nhập, chia tách, đổi tên, điều chuyển, giải thể), with the
    decision that made it. Append-only: a mistaken one is corrected by another, not edited."""

    __tablename__ = "reorganization"
    __table_args__ = (
        CheckConstraint("kind IN ('merge','split','rename','move','close','create')", name="kind"),
        Index("ix_reorganization_effective_on", "effective_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    # The first day of the new structure; closed units' last day is the day before.
    effective_on: Mapped[dt.date] = mapped_column(Date)
    decision: Mapped[str | None] = mapped_column(String(255))  # e.g. "Nghị quyết 1666/NQ-UBTVQH15"
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="RESTRICT"))
    recorded_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    # What it did, for the record: organisations, transfers, memberships moved, cycles superseded.
    outcome: Mapped[dict | None] = mapped_column(JSON)

    links: Mapped[list["OrganizationLink"]] = relationship(back_populates="reorganization", order_by="OrganizationLink.id")


class OrganizationLink(db.Model):
    """A lineage edge: `successor` took over (part of) the work of `predecessor` on `effective_on`."""

    __tablename__ = "organization_link"
    __table_args__ = (
        UniqueConstraint("predecessor_id", "successor_id"),
        CheckConstraint("predecessor_id <> successor_id", name="not_own_successor"),
        Index("ix_organization_link_successor_id", "successor_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reorganization_id: Mapped[int] = mapped_column(ForeignKey("reorganization.id", ondelete="RESTRICT"))
    predecessor_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="RESTRICT"))
    successor_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="RESTRICT"))
    effective_on: Mapped[dt.date] = mapped_column(Date)

    reorganization: Mapped[Reorganization] = relationship(back_populates="links")
    predecessor: Mapped[Organization] = relationship(foreign_keys=[predecessor_id])
    successor: Mapped[Organization] = relationship(foreign_keys=[successor_id])


class AssignmentTransfer(db.Model):
    """An assignment passed from one organisation to another by a reorganisation: the assignment
    belonged to `from_organization` until the day before `effective_on`. Reports as of an earlier
    day count it there."""

    __tablename__ = "assignment_transfer"
    __table_args__ = (
        Index("ix_assignment_transfer_assignment_id_effective_on", "assignment_id", "effective_on"),
        Index("ix_assignment_transfer_effective_on", "effective_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignment.id", ondelete="RESTRICT"))
    reorganization_id: Mapped[int] = mapped_column(ForeignKey("reorganization.id", ondelete="RESTRICT"))
    from_organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="RESTRICT"))
    to_organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="RESTRICT"))
    effective_on: Mapped[dt.date] = mapped_column(Date)


# The open version mirrors the organisation's current name and parent: created with the
# organisation, and kept in step when something other than a reorganisation (the plan import, an
# administrator's correction) changes them. Reorganisations close the open version and open a new
# one themselves (tracker.services.reorganization), so a past version is never rewritten here.
_versioned = ("name", "short_name", "parent_id")


@event.listens_for(Organization, "after_insert")
def _first_version(mapper, connection, org: Organization) -> None:
    connection.execute(insert(OrganizationVersion.__table__).values(
        organization_id=org.id, valid_from=org.valid_from, valid_to=org.valid_to,
        name=org.name, short_name=org.short_name, parent_id=org.parent_id,
    ))


@event.listens_for(Organization, "after_update")
def _sync_open_version(mapper, connection, org: Organization) -> None:
    state = inspect(org)
    if not any(state.attrs[name].history.has_changes() for name in (*_versioned, "parent")):
        return
    table = OrganizationVersion.__table__
    connection.execute(
        update(table).where(table.c.organization_id == org.id, table.c.valid_to.is_(None))
        .values(name=org.name, short_name=org.short_name, parent_id=org.parent_id)
    )
