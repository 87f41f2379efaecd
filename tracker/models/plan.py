import datetime as dt

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.extensions import db
from tracker.models.base import Timestamped
from tracker.models.organization import Organization


class Plan(Timestamped, db.Model):
    """A plan (kế hoạch). A number alone is not unique: it is keyed by issuer, code and date."""

    __tablename__ = "plan"
    __table_args__ = (UniqueConstraint("issuer_id", "code", "issue_date"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="RESTRICT"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(Text)
    issue_date: Mapped[dt.date] = mapped_column(Date)
    legal_basis: Mapped[str | None] = mapped_column(Text)
    parent_plan_id: Mapped[int | None] = mapped_column(ForeignKey("plan.id", ondelete="RESTRICT"), index=True)
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Ho_Chi_Minh")

    issuer: Mapped[Organization] = relationship()
    parent_plan: Mapped["Plan | None"] = relationship(remote_side=[id])
    groups: Mapped[list["TaskGroup"]] = relationship(
        back_populates="plan", order_by="TaskGroup.number", cascade="all, delete-orphan"
    )
    actions: Mapped[list["Action"]] = relationship(
        back_populates="plan", order_by="Action.position", cascade="all, delete-orphan"
    )

    @property
    def duties(self) -> list["Action"]:
        """Actions outside the numbered groups: section IV's duties."""
        return [action for action in self.actions if action.group_id is None]


class TaskGroup(db.Model):
    """A numbered task group (nhóm nhiệm vụ) of a plan's section III."""

    __tablename__ = "task_group"
    __table_args__ = (UniqueConstraint("plan_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)

    plan: Mapped[Plan] = relationship(back_populates="groups")
    actions: Mapped[list["Action"]] = relationship(back_populates="group", order_by="Action.position")


class Action(Timestamped, db.Model):
    """An assignable task (nhiệm vụ), traceable to the plan's item by its `ref` (e.g. III.3.2)."""

    __tablename__ = "action"
    __table_args__ = (
        UniqueConstraint("plan_id", "ref"),
        CheckConstraint(
            "(recurrence_month IS NULL AND recurrence_day IS NULL AND recurrence_from_year IS NULL "
            "AND recurrence_until_year IS NULL) OR (recurrence_month BETWEEN 1 AND 12 AND "
            "recurrence_day BETWEEN 1 AND 31 AND recurrence_from_year <= recurrence_until_year "
            "AND due_date IS NULL)",
            name="recurrence_shape",
        ),
        CheckConstraint("recurrence_bound IS NULL OR recurrence_bound IN ('by','before')", name="recurrence_bound"),
        CheckConstraint("report_period IS NULL OR report_period IN ('six_month','annual')", name="report_period"),
        Index("ix_action_group_id", "group_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("task_group.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("action.id", ondelete="RESTRICT"))
    section: Mapped[str] = mapped_column(String(8))
    ref: Mapped[str] = mapped_column(String(32))
    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str | None] = mapped_column(String(255))
    text: Mapped[str] = mapped_column(Text)
    expected_output: Mapped[str | None] = mapped_column(String(255))
    requires_evidence: Mapped[bool] = mapped_column(Boolean, default=True)
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    recurrence_month: Mapped[int | None] = mapped_column(Integer)
    recurrence_day: Mapped[int | None] = mapped_column(Integer)
    recurrence_from_year: Mapped[int | None] = mapped_column(Integer)
    recurrence_until_year: Mapped[int | None] = mapped_column(Integer)
    # "by" (the written day is the last permitted day) or "before" ("trước ngày 10/6": the day
    # before is); for a yearly action the written month/day above, shifted per year.
    recurrence_bound: Mapped[str | None] = mapped_column(String(8))
    # The deadline as the source document words it ("trước ngày 10/6", "hoàn thành trong tháng 3/2025").
    due_text: Mapped[str | None] = mapped_column(String(255))
    # A periodic report duty: "six_month" or "annual" (the organisation's own report of that period).
    report_period: Mapped[str | None] = mapped_column(String(16))
    # fold(ref, title, text): accent- and case-insensitive search on every database.
    search_key: Mapped[str] = mapped_column(Text, default="")

    plan: Mapped[Plan] = relationship(back_populates="actions")
    group: Mapped[TaskGroup | None] = relationship(back_populates="actions")
    parent: Mapped["Action | None"] = relationship(remote_side=[id])

    @property
    def is_recurring(self) -> bool:
        return self.recurrence_month is not None
