import datetime as dt

from sqlalchemy import event, JSON, Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.extensions import db
from tracker.models.base import Timestamped, UtcDateTime, utcnow
from tracker.models.organization import Organization
from tracker.models.plan import Action
from tracker.models.user import User

_STATUSES = "'not_started','in_progress','submitted','returned','completed','blocked','cancelled'"


class Assignment(Timestamped, db.Model):
    """An action given to one organisation as lead (chủ trì) or coordinating (phối hợp).

    `cycle` is 0 for a one-off action and the year for an occurrence of a yearly action,
    so that a recurring report is one assignment per organisation per year.
    """

    __tablename__ = "assignment"
    __table_args__ = (
        # One duty per (action, unit it was given to, year); after a merger the successor may hold
        # several inherited ones, each keeping the unit it was given to.
        UniqueConstraint("action_id", "origin_organization_id", "cycle"),
        CheckConstraint("role IN ('lead','coordinating')", name="role"),
        CheckConstraint(f"status IN ({_STATUSES})", name="status"),
        CheckConstraint("progress BETWEEN 0 AND 100", name="progress"),
        Index("ix_assignment_organization_status", "organization_id", "status"),
        Index("ix_assignment_status_due_date", "status", "due_date"),
        # Covering on PostgreSQL: yearly scorecards count a year's work per unit from the index alone.
        Index("ix_assignment_due_date", "due_date", postgresql_include=["organization_id", "status", "completed_on", "id"]),
        Index("ix_assignment_owner_id", "owner_id"),
        # One unit's work by due date: an officer's list, a scorecard page's units.
        Index("ix_assignment_organization_due_date", "organization_id", "due_date"),
        # The recently-changed sort, and its cursor pages.
        Index("ix_assignment_updated_at_id", "updated_at", "id"),
        # max(completed_on): whether maintained tallies answer for a day (tracker.services.tallies).
        Index("ix_assignment_completed_on", "completed_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("action.id", ondelete="RESTRICT"))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="RESTRICT"), active_history=True)
    # The unit the work was given to; differs from organization_id once a reorganisation passed it on.
    origin_organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="RESTRICT"))
    role: Mapped[str] = mapped_column(String(16))
    cycle: Mapped[int] = mapped_column(Integer, default=0)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="RESTRICT"))
    # The day the work was given (the plan's issue date for work imported with it): no fact about
    # the assignment can be dated before it.
    assigned_on: Mapped[dt.date | None] = mapped_column(Date)
    original_due_date: Mapped[dt.date | None] = mapped_column(Date)
    due_date: Mapped[dt.date | None] = mapped_column(Date, active_history=True)
    status: Mapped[str] = mapped_column(String(16), default="not_started", active_history=True)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    submitted_on: Mapped[dt.date | None] = mapped_column(Date)
    completed_on: Mapped[dt.date | None] = mapped_column(Date, active_history=True)
    note: Mapped[str | None] = mapped_column(Text)
    # fold(note): the assignment's own part of accent-insensitive search.
    search_key: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Đôn đốc: how many times leaders urged this work, and when last. Written by one UPDATE
    # (tracker.services.urging) that neither bumps `version` nor touches `updated_at`: urging is
    # not a change of the work, so an officer's If-Match stays good.
    urge_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_urged_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)

    action: Mapped[Action] = relationship()
    organization: Mapped[Organization] = relationship(foreign_keys=[organization_id])
    origin_organization: Mapped[Organization] = relationship(foreign_keys=[origin_organization_id])
    owner: Mapped[User | None] = relationship()
    events: Mapped[list["AssignmentEvent"]] = relationship(
        back_populates="assignment", order_by="AssignmentEvent.id", passive_deletes="all"
    )

    __mapper_args__ = {"version_id_col": version}


class AssignmentEvent(db.Model):
    """One change to an assignment. Append-only: never updated, never deleted."""

    __tablename__ = "assignment_event"
    __table_args__ = (
        Index("ix_assignment_event_assignment_id_id", "assignment_id", "id"),
        # Reports as of a day find the work a reorganisation ended after it (kind, effective_on).
        Index("ix_assignment_event_kind_effective_on", "kind", "effective_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignment.id", ondelete="RESTRICT"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="RESTRICT"))
    occurred_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)  # recorded at
    # The day the fact really happened (a report delivered on paper on 05/06 and typed in on
    # 12/06 has effective_on 05/06); verdicts use it, reports count back-dated facts.
    effective_on: Mapped[dt.date | None] = mapped_column(Date)
    # The day it was typed in, in the plan's time zone: effective_on < recorded_on is a back-dated fact.
    recorded_on: Mapped[dt.date | None] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(32))
    old_value: Mapped[dict | None] = mapped_column(JSON)
    new_value: Mapped[dict | None] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(Text)

    assignment: Mapped[Assignment] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()

    @property
    def recorded_at(self) -> dt.datetime:
        return self.occurred_at


class Extension(db.Model):
    """A request to move an assignment's due date (gia hạn), and the leader's decision.
    The assignment keeps its original due date; a granted request moves the current one."""

    __tablename__ = "extension"
    __table_args__ = (
        CheckConstraint("status IN ('pending','granted','refused','lapsed')", name="status"),
        Index("ix_extension_assignment_id", "assignment_id"),
        Index("ix_extension_status", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignment.id", ondelete="RESTRICT"))
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="RESTRICT"))
    requested_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    previous_due_date: Mapped[dt.date | None] = mapped_column(Date)
    new_due_date: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    # Asked on a day after the due date it would move: allowed, but reports count it.
    requested_after_due: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="RESTRICT"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    decision_note: Mapped[str | None] = mapped_column(Text)

    assignment: Mapped[Assignment] = relationship()
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])


@event.listens_for(Assignment, "before_insert")
def _origin(mapper, connection, assignment: Assignment) -> None:
    """Work is given to the unit that holds it when it is created."""
    if assignment.origin_organization_id is None:
        assignment.origin_organization_id = assignment.organization_id
