"""Indicators (chỉ tiêu): a plan's measurable targets, the units that report them, and their
measurements. Values are floats: percentages, counts and indices, shown rounded to people."""

import datetime as dt

from sqlalchemy import BigInteger, CheckConstraint, Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.extensions import db
from tracker.models.base import Timestamped, UtcDateTime, utcnow
from tracker.models.organization import Organization
from tracker.models.plan import Action, Plan
from tracker.models.user import User

_DIRECTIONS = "'at_least','more_than','at_most','less_than','exactly','keep_above','keep_below'"


class Indicator(Timestamped, db.Model):
    __tablename__ = "indicator"
    __table_args__ = (
        UniqueConstraint("plan_id", "code"),
        CheckConstraint("kind IN ('numeric','milestone')", name="kind"),
        CheckConstraint(f"direction IN ({_DIRECTIONS})", name="direction"),
        CheckConstraint("rollup IN ('sum','mean','weighted_mean','none')", name="rollup"),
        CheckConstraint("report_bound IN ('by','before')", name="report_bound"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(Text)
    unit: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16), default="numeric")
    direction: Mapped[str] = mapped_column(String(16))
    # The plan item it comes from (II.1, III.5.1…), and the action when the item is one.
    source_ref: Mapped[str] = mapped_column(String(32))
    action_id: Mapped[int | None] = mapped_column(ForeignKey("action.id", ondelete="SET NULL"))
    baseline_value: Mapped[float | None] = mapped_column(Float)
    baseline_date: Mapped[dt.date | None] = mapped_column(Date)
    baseline_source: Mapped[str | None] = mapped_column(Text)
    rollup: Mapped[str] = mapped_column(String(16), default="none")
    # When each unit reports: yearly, on this written day with its bound (default before 01/12).
    report_month: Mapped[int] = mapped_column(Integer, default=12)
    report_day: Mapped[int] = mapped_column(Integer, default=1)
    report_bound: Mapped[str] = mapped_column(String(8), default="before")
    note: Mapped[str | None] = mapped_column(Text)
    search_key: Mapped[str] = mapped_column(Text, default="")

    plan: Mapped[Plan] = relationship()
    action: Mapped[Action | None] = relationship()
    targets: Mapped[list["IndicatorTarget"]] = relationship(
        back_populates="indicator", order_by="IndicatorTarget.target_date", cascade="all, delete-orphan")
    units: Mapped[list["IndicatorUnit"]] = relationship(
        back_populates="indicator", order_by="IndicatorUnit.id", cascade="all, delete-orphan")


class IndicatorTarget(db.Model):
    """A dated target: a yearly series to 2030, or one final target (a milestone's is 1: done)."""

    __tablename__ = "indicator_target"
    __table_args__ = (UniqueConstraint("indicator_id", "target_date"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicator.id", ondelete="CASCADE"))
    target_date: Mapped[dt.date] = mapped_column(Date)
    value: Mapped[float] = mapped_column(Float)
    note: Mapped[str | None] = mapped_column(Text)

    indicator: Mapped[Indicator] = relationship(back_populates="targets")


class IndicatorUnit(db.Model):
    """An organisation that reports the indicator (a province-wide one has many)."""

    __tablename__ = "indicator_unit"
    __table_args__ = (UniqueConstraint("indicator_id", "organization_id"), Index("ix_indicator_unit_organization_id", "organization_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicator.id", ondelete="CASCADE"))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="RESTRICT"))

    indicator: Mapped[Indicator] = relationship(back_populates="units")
    organization: Mapped[Organization] = relationship()


class Measurement(db.Model):
    """A value a unit reports for a date; accepted or returned by a leader. Never edited: a
    correction is a new measurement pointing at the one it corrects."""

    __tablename__ = "measurement"
    __table_args__ = (
        CheckConstraint("status IN ('submitted','accepted','returned')", name="status"),
        CheckConstraint("value IS NOT NULL OR (numerator IS NOT NULL AND denominator IS NOT NULL)", name="has_value"),
        CheckConstraint("denominator IS NULL OR denominator > 0", name="denominator_positive"),
        Index("ix_measurement_indicator_unit_date", "indicator_id", "organization_id", "measured_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicator.id", ondelete="RESTRICT"))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="RESTRICT"))
    measured_on: Mapped[dt.date] = mapped_column(Date)
    value: Mapped[float | None] = mapped_column(Float)
    numerator: Mapped[float | None] = mapped_column(Float)
    denominator: Mapped[float | None] = mapped_column(Float)
    source: Mapped[str] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="submitted")
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("measurement.id", ondelete="RESTRICT"))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="RESTRICT"))
    recorded_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="RESTRICT"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    decision_note: Mapped[str | None] = mapped_column(Text)

    indicator: Mapped[Indicator] = relationship()
    organization: Mapped[Organization] = relationship()
    corrects: Mapped["Measurement | None"] = relationship(remote_side=[id])
    recorded_by: Mapped[User] = relationship(foreign_keys=[recorded_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    evidence: Mapped[list["MeasurementEvidence"]] = relationship(back_populates="measurement", order_by="MeasurementEvidence.id")

    @property
    def effective_value(self) -> float | None:
        """The value, or numerator / denominator for a rate reported by its parts (as a percentage
        when the parts are counts of a whole: numerator / denominator × 100)."""
        if self.value is not None:
            return self.value
        if self.numerator is not None and self.denominator:
            return self.numerator / self.denominator * 100
        return None


class MeasurementEvidence(db.Model):
    """A file backing a measurement, in the same content-addressed store and under the same rules
    as assignment evidence."""

    __tablename__ = "measurement_evidence"
    __table_args__ = (
        CheckConstraint("size > 0", name="size_positive"),
        Index("ix_measurement_evidence_measurement_id", "measurement_id"),
        Index("ix_measurement_evidence_sha256", "sha256"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    measurement_id: Mapped[int] = mapped_column(ForeignKey("measurement.id", ondelete="RESTRICT"))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="RESTRICT"))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(160))
    original_name: Mapped[str] = mapped_column(String(255))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="RESTRICT"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)

    measurement: Mapped[Measurement] = relationship(back_populates="evidence")
    uploaded_by: Mapped[User] = relationship()
