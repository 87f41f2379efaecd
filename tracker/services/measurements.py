"""Measurements of indicators (số liệu chỉ tiêu): record, accept or return, list, and their evidence.

Scope is the indicator's reporting units: a principal sees an indicator (and its measurements)
when one of its units is in their scope, and outside it gets 404 so that existence does not leak.
A measurement is never edited: a correction is a new measurement that names the one it corrects,
and once accepted it supersedes it in the accepted series.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Select, exists, select
from sqlalchemy.orm import aliased, joinedload, selectinload

from tracker.domain.access import Principal, can_approve_for, can_contribute_to
from tracker.domain.measurements import (
    DECIDED_STATUS, MeasurementRejected, MeasurementStatus, check_measured_on, check_reading,
)
from tracker.errors import Conflict, Forbidden, NotFound, ValidationFailed
from tracker.extensions import db
from tracker.models import Indicator, Measurement, MeasurementEvidence
from tracker.models.base import utcnow
from tracker.services import evidence as evidence_store
from tracker.services import indicators
from tracker.services.access import ancestor_ids, visible_organizations
from tracker.services.filters import FilterValues, any_of, filter_values
from tracker.storage import StagedUpload


def _invalid(field: str, code: str, detail: str) -> ValidationFailed:
    return ValidationFailed(detail, code=code, errors={field: [detail]})


# --- scope ----------------------------------------------------------------------------------


def get_indicator(principal: Principal, indicator_id: int) -> Indicator:
    """The indicator in the caller's scope (404 `indicator.not_found`), by the catalogue's rule."""
    return indicators.get_indicator(principal, indicator_id)


def _measurements(principal: Principal) -> Select:
    return (select(Measurement)
            .options(joinedload(Measurement.organization), joinedload(Measurement.recorded_by), joinedload(Measurement.decided_by),
                     selectinload(Measurement.evidence).joinedload(MeasurementEvidence.uploaded_by))
            .where(visible_organizations(principal, Measurement.organization_id)))


def get_measurement(principal: Principal, indicator_id: int, measurement_id: int) -> Measurement:
    get_indicator(principal, indicator_id)
    measurement = db.session.scalar(
        _measurements(principal).where(Measurement.id == measurement_id, Measurement.indicator_id == indicator_id))
    if measurement is None:
        raise NotFound(f"Không có số liệu {measurement_id} của chỉ tiêu này. No such measurement.", code="measurement.not_found")
    return measurement


def measurements_of(principal: Principal, indicator_id: int, *, organization_id: FilterValues = None,
                    status: FilterValues = None) -> Select:
    """The indicator's measurements in the caller's scope, newest first (by the date they describe);
    each filter takes one value or several."""
    get_indicator(principal, indicator_id)
    stmt = _measurements(principal).where(Measurement.indicator_id == indicator_id)
    if (organization_ids := filter_values(organization_id)) is not None:
        stmt = stmt.where(any_of(Measurement.organization_id, organization_ids))
    if (statuses := filter_values(status)) is not None:
        stmt = stmt.where(any_of(Measurement.status, statuses))
    return stmt.order_by(Measurement.measured_on.desc(), Measurement.id.desc())


# --- recording ------------------------------------------------------------------------------


def _forbidden_to_record() -> Forbidden:
    return Forbidden("Chỉ cán bộ của đơn vị, lãnh đạo cấp trên hoặc quản trị viên được nhập số liệu. "
                     "Only the unit's officers, leaders over it, or admins may record.", code="measurement.forbidden")


def _reporting_unit(principal: Principal, indicator: Indicator, organization_id: int | None) -> int:
    """The unit a measurement is for: the one given, or the caller's only reporting unit."""
    unit_ids = [unit.organization_id for unit in indicator.units]
    if organization_id is None:
        mine = [org_id for org_id in unit_ids if can_contribute_to(principal, org_id, ancestor_ids(org_id))]
        if not mine:
            raise _forbidden_to_record()
        if len(mine) > 1:
            raise _invalid("organization_id", "measurement.organization_required",
                           "Cần chọn đơn vị báo cáo (`organization_id`). Name the reporting unit: `organization_id`.")
        return mine[0]
    if organization_id not in unit_ids:
        raise _invalid("organization_id", "measurement.not_reporting_unit",
                       "Đơn vị này không báo cáo chỉ tiêu này. This organisation does not report this indicator.")
    return organization_id


def record(principal: Principal, indicator_id: int, data: dict[str, Any], *, today: dt.date) -> Measurement:
    """A new measurement, `submitted` (flushed, not committed)."""
    indicator = get_indicator(principal, indicator_id)
    organization_id = _reporting_unit(principal, indicator, data.get("organization_id"))
    if not can_contribute_to(principal, organization_id, ancestor_ids(organization_id)):
        raise _forbidden_to_record()
    try:
        check_measured_on(data["measured_on"], today)
        reading = check_reading(indicator.kind, indicator.unit, indicator.rollup, value=data.get("value"),
                                numerator=data.get("numerator"), denominator=data.get("denominator"), done=data.get("done"))
    except MeasurementRejected as rejected:
        raise _invalid(rejected.field, rejected.code, rejected.detail) from None
    corrects_id = data.get("corrects")
    if corrects_id is not None:
        corrected = db.session.get(Measurement, corrects_id)
        if corrected is None or corrected.indicator_id != indicator.id or corrected.organization_id != organization_id:
            raise _invalid("corrects", "measurement.invalid_correction",
                           "Chỉ sửa được số liệu trước đó của cùng chỉ tiêu và đơn vị. "
                           "`corrects` must name an earlier measurement of the same indicator and unit.")
    measurement = Measurement(
        indicator_id=indicator.id, organization_id=organization_id, measured_on=data["measured_on"], value=reading.value,
        numerator=reading.numerator, denominator=reading.denominator, source=data["source"], note=data.get("note"),
        status=MeasurementStatus.SUBMITTED, corrects_id=corrects_id, recorded_by_id=principal.user_id,
    )
    db.session.add(measurement)
    db.session.flush()
    return measurement


def decide(principal: Principal, indicator_id: int, measurement_id: int, decision: str, note: str | None) -> Measurement:
    """Accept, or return with a reason, a submitted measurement (leaders over the unit, admins)."""
    measurement = get_measurement(principal, indicator_id, measurement_id)
    if not can_approve_for(principal, measurement.organization_id, ancestor_ids(measurement.organization_id)):
        raise Forbidden("Chỉ lãnh đạo cấp trên của đơn vị được duyệt số liệu. Only leaders over the unit may decide.",
                        code="measurement.forbidden")
    if measurement.status != MeasurementStatus.SUBMITTED:
        raise Conflict("Số liệu đã được quyết định. This measurement was already decided.", code="measurement.already_decided",
                       current=measurement.status)
    if decision == "return" and not (note and note.strip()):
        raise _invalid("note", "measurement.note_required", "Cần ghi lý do trả lại. A reason is required to return.")
    measurement.status = DECIDED_STATUS[decision]
    measurement.decided_by_id, measurement.decided_at, measurement.decision_note = principal.user_id, utcnow(), note
    db.session.flush()
    return measurement


def accepted_series(indicator_id: int, organization_ids: list[int] | None = None) -> list[Measurement]:
    """Accepted measurements that count: an accepted one is superseded by an accepted correction of it."""
    correction = aliased(Measurement)
    superseded = exists(select(correction.id).where(
        correction.corrects_id == Measurement.id, correction.status == MeasurementStatus.ACCEPTED))
    stmt = select(Measurement).where(
        Measurement.indicator_id == indicator_id, Measurement.status == MeasurementStatus.ACCEPTED, ~superseded)
    if organization_ids is not None:
        stmt = stmt.where(Measurement.organization_id.in_(organization_ids))
    return list(db.session.scalars(stmt.order_by(Measurement.measured_on, Measurement.id)))


# --- evidence -------------------------------------------------------------------------------


def measurement_for_upload(principal: Principal, indicator_id: int, measurement_id: int) -> Measurement:
    """The measurement, if the caller may add evidence to it: while it awaits a decision."""
    measurement = get_measurement(principal, indicator_id, measurement_id)
    if not can_contribute_to(principal, measurement.organization_id, ancestor_ids(measurement.organization_id)):
        raise Forbidden("Bạn chỉ có quyền xem số liệu này. You may only read this measurement.", code="measurement.forbidden")
    if measurement.status != MeasurementStatus.SUBMITTED:
        raise Conflict("Số liệu đã được quyết định; hãy nhập số liệu sửa đổi kèm minh chứng. "
                       "The measurement was decided; record a correction with its evidence.", code="measurement.already_decided",
                       current=measurement.status)
    return measurement


def add_evidence(measurement: Measurement, staged: StagedUpload | None, filename: str | None,
                 actor_id: int) -> evidence_store.Upload:
    """Check and store an upload under the evidence rules, and record it (flushed, not committed)."""
    blob = evidence_store.store_upload(staged, filename, measurement.organization_id, f"measurement {measurement.id}")
    try:
        record_ = MeasurementEvidence(
            measurement=measurement, organization_id=measurement.organization_id, sha256=blob.sha256, size=blob.size,
            media_type=blob.media_type, original_name=blob.name, uploaded_by_id=actor_id,
        )
        db.session.add(record_)
        db.session.flush()
    except Exception:
        evidence_store.discard_if_unreferenced(blob.sha256, blob.created)
        raise
    return evidence_store.Upload(record_, blob.created)


def get_evidence(principal: Principal, evidence_id: int) -> MeasurementEvidence:
    found = db.session.scalar(select(MeasurementEvidence).where(
        MeasurementEvidence.id == evidence_id, visible_organizations(principal, MeasurementEvidence.organization_id)))
    if found is None:
        raise NotFound(f"Không có minh chứng {evidence_id}. No such measurement evidence.", code="evidence.not_found")
    return found


def open_content(principal: Principal, evidence_id: int) -> evidence_store.Content:
    return evidence_store.open_stored(get_evidence(principal, evidence_id), f"measurement evidence {evidence_id}")

