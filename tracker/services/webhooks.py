"""Webhooks for other systems: endpoints that admins register, the events written for them in the
same transaction as the change that causes them, and their delivery, signed as Standard Webhooks
asks and retried with exponential backoff for 24 hours.

Events are captured here alone, from the session's flushes (`_capture`), whatever service made the
change: an assignment inserted (`assignment.created`) or changed in its owner, due date, progress,
note, unit or role (`assignment.changed`); a history event that moves a status
(`assignment.transitioned`: a transition, or a reorganisation ending the work) or urges it
(`urge.sent`); evidence inserted or withdrawn; an extension requested or decided (granted, refused,
or lapsed with the work it would have moved); a report published. A delivery row is written for
each active endpoint subscribed to the event's type, in the flush's own transaction: a change that
is rolled back sends nothing.

Delivery is the worker's (tracker.jobs.webhooks): `flask tracker worker` in its loop, `flask
tracker deliver-webhooks` once.
"""

from __future__ import annotations

import datetime as dt
import logging

from flask import current_app, has_app_context
from sqlalchemy import delete, event, insert, inspect, select
from sqlalchemy.orm import Session, selectinload

from tracker.domain import webhooks as rules
from tracker.errors import Conflict, NotFound, ValidationFailed
from tracker.extensions import db
from tracker.models import (
    Assignment, AssignmentEvent, Evidence, Extension, Organization, ReportSnapshot, WebhookAttempt, WebhookDelivery, WebhookEndpoint,
)
from tracker.models.base import utcnow
from tracker.services import clock

log = logging.getLogger("tracker.webhooks")

URGED = "urged"  # the history kind of an urging (tracker.services.notices.URGED)
_CHANGE_FIELDS = ("owner_id", "due_date", "progress", "note", "organization_id", "role")
_TRACKED = (Assignment, AssignmentEvent, Evidence, Extension, ReportSnapshot)


# --- capture ---------------------------------------------------------------------------------


def _iso(value: dt.date | dt.datetime | None) -> str | None:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    return value.isoformat() if value is not None else None


def _assignment_data(assignment: Assignment) -> dict:
    return {"assignment_id": assignment.id, "action_id": assignment.action_id, "organization_id": assignment.organization_id,
            "role": assignment.role, "status": assignment.status, "progress": assignment.progress,
            "due_date": _iso(assignment.due_date), "owner_id": assignment.owner_id, "version": assignment.version}


def _status_move(entry: AssignmentEvent) -> tuple[str, str] | None:
    old, new = entry.old_value or {}, entry.new_value or {}
    if "status" in old and "status" in new and old["status"] != new["status"]:
        return old["status"], new["status"]
    return None


def _changed(obj, name: str) -> bool:
    return inspect(obj).attrs[name].history.has_changes()


def _events_of(session: Session) -> list[tuple[str, dict]]:
    """(type, data) of each event the flush carries."""
    found: list[tuple[str, dict]] = []
    for obj in session.new:
        if isinstance(obj, Assignment):
            found.append((rules.ASSIGNMENT_CREATED, _assignment_data(obj)))
        elif isinstance(obj, AssignmentEvent):
            move = _status_move(obj)
            if move is not None:
                found.append((rules.ASSIGNMENT_TRANSITIONED, {
                    **_assignment_data(obj.assignment), "event_id": obj.id, "from_status": move[0], "to_status": move[1],
                    "effective_on": _iso(obj.effective_on)}))
            elif obj.kind == URGED:
                found.append((rules.URGE_SENT, {**_assignment_data(obj.assignment), "event_id": obj.id,
                                                "urge_count": (obj.new_value or {}).get("urge_count")}))
        elif isinstance(obj, Evidence):
            found.append((rules.EVIDENCE_ADDED, _evidence_data(obj)))
        elif isinstance(obj, Extension):
            found.append((rules.EXTENSION_REQUESTED, _extension_data(obj)))
        elif isinstance(obj, ReportSnapshot):
            found.append((rules.REPORT_PUBLISHED, {
                "snapshot_id": obj.id, "kind": obj.kind, "organization_id": obj.organization_id, "as_of": _iso(obj.as_of),
                "published_at": _iso(obj.published_at), "json_sha256": obj.json_sha256}))
    changes: list[tuple[str, dict]] = []
    for obj in session.dirty:
        if isinstance(obj, Assignment) and not _changed(obj, "status"):  # a status move is told by its event
            changed = [name for name in _CHANGE_FIELDS if _changed(obj, name)]
            if changed:
                changes.append((rules.ASSIGNMENT_CHANGED, {**_assignment_data(obj), "changed": changed}))
        elif isinstance(obj, Evidence) and obj.withdrawn_at is not None and _changed(obj, "withdrawn_at"):
            changes.append((rules.EVIDENCE_WITHDRAWN, {**_evidence_data(obj), "withdrawn_at": _iso(obj.withdrawn_at)}))
        elif isinstance(obj, Extension) and obj.status != "pending" and _changed(obj, "status"):
            changes.append((rules.EXTENSION_DECIDED, {**_extension_data(obj), "decided_at": _iso(obj.decided_at)}))
    # The session's sets do not keep the order of the changes: one fixed order instead (by type,
    # then by the id each event is about).
    return sorted(found + changes, key=lambda event: (rules.EVENT_TYPES.index(event[0]), next(iter(event[1].values()))))


def _evidence_data(evidence: Evidence) -> dict:
    return {"evidence_id": evidence.id, "assignment_id": evidence.assignment_id, "organization_id": evidence.organization_id,
            "sha256": evidence.sha256, "size": evidence.size, "media_type": evidence.media_type}


def _extension_data(extension: Extension) -> dict:
    return {"extension_id": extension.id, "assignment_id": extension.assignment_id,
            "organization_id": extension.assignment.organization_id, "status": extension.status,
            "previous_due_date": _iso(extension.previous_due_date), "new_due_date": _iso(extension.new_due_date),
            "requested_after_due": extension.requested_after_due}


def _now() -> dt.datetime:
    return clock.now() if has_app_context() else utcnow()


@event.listens_for(Session, "after_flush")
def _capture(session: Session, _context) -> None:
    if not any(isinstance(obj, _TRACKED) for obj in (*session.new, *session.dirty)):
        return
    connection = session.connection()
    endpoints = connection.execute(select(WebhookEndpoint.id, WebhookEndpoint.event_types)
                                   .where(WebhookEndpoint.active.is_(True)).order_by(WebhookEndpoint.id)).all()
    if not endpoints:
        return
    events = _events_of(session)
    if not events:
        return
    org_ids = {data["organization_id"] for _, data in events}
    codes = dict(connection.execute(select(Organization.id, Organization.code).where(Organization.id.in_(sorted(org_ids)))).all())
    now = _now()
    rows = []
    for kind, data in events:
        data["organization_code"] = codes.get(data["organization_id"])
        payload = {"type": kind, "timestamp": _iso(now), "data": data}
        rows.extend({"endpoint_id": endpoint_id, "message_id": rules.new_message_id(), "event_type": kind, "payload": payload,
                     "status": "pending", "attempts": 0, "next_attempt_at": now, "expires_at": now + rules.RETRY_WINDOW,
                     "created_at": now}
                    for endpoint_id, kinds in endpoints if kind in kinds)
    if rows:
        connection.execute(insert(WebhookDelivery.__table__), rows)


# --- endpoints -------------------------------------------------------------------------------


def allow_private() -> bool:
    return bool(current_app.config.get("WEBHOOKS_ALLOW_PRIVATE_ADDRESSES"))


def _check_url(url: str) -> None:
    problem = rules.url_problem(url, allow_private())
    if problem == "private":
        message = ("Địa chỉ thuộc mạng nội bộ hoặc loopback không được phép (WEBHOOKS_ALLOW_PRIVATE_ADDRESSES). "
                   "Private, loopback and link-local addresses are refused unless WEBHOOKS_ALLOW_PRIVATE_ADDRESSES is set.")
        raise ValidationFailed(message, code="webhook.private_address", errors={"url": [message]})
    if problem is not None:
        message = ("URL phải là http hoặc https, có tên máy và không kèm tài khoản. "
                   "The URL must be http or https, name a host and carry no credentials.")
        raise ValidationFailed(message, code="webhook.invalid_url", errors={"url": [message]})


def _check_secret(secret: str) -> None:
    if rules.secret_key(secret) is None:
        message = (f"Khóa bí mật phải có dạng whsec_ và {rules.SECRET_MIN_BYTES}-{rules.SECRET_MAX_BYTES} byte mã hóa base64. "
                   f"The secret must be whsec_ followed by {rules.SECRET_MIN_BYTES} to {rules.SECRET_MAX_BYTES} bytes in base64.")
        raise ValidationFailed(message, code="webhook.invalid_secret", errors={"secret": [message]})


def endpoints_query():
    return select(WebhookEndpoint).order_by(WebhookEndpoint.id)


def get_endpoint(endpoint_id: int) -> WebhookEndpoint:
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise NotFound("Không có webhook này. No such webhook.", code="webhook.not_found")
    return endpoint


def create_endpoint(data: dict, actor_id: int) -> WebhookEndpoint:
    """A new endpoint; its secret is the one given, or a new one (shown once, in the answer)."""
    _check_url(data["url"])
    secret = data.get("secret") or rules.new_secret()
    _check_secret(secret)
    endpoint = WebhookEndpoint(url=data["url"], secret=secret, event_types=_unique(data["event_types"]),
                               active=data.get("active", True), description=data.get("description"), created_by_id=actor_id)
    db.session.add(endpoint)
    db.session.flush()
    return endpoint


def update_endpoint(endpoint: WebhookEndpoint, data: dict) -> WebhookEndpoint:
    if "url" in data:
        _check_url(data["url"])
    if "event_types" in data:
        data = {**data, "event_types": _unique(data["event_types"])}
    for name in ("url", "event_types", "active", "description"):
        if name in data:
            setattr(endpoint, name, data[name])
    db.session.flush()
    return endpoint


def delete_endpoint(endpoint: WebhookEndpoint) -> None:
    """The endpoint and its delivery log go (deleted here too, not left to ON DELETE CASCADE: a
    SQLite connection may run without foreign keys)."""
    logged = select(WebhookDelivery.id).where(WebhookDelivery.endpoint_id == endpoint.id)
    db.session.execute(delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(logged)).execution_options(synchronize_session=False))
    db.session.execute(delete(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
                       .execution_options(synchronize_session=False))
    db.session.delete(endpoint)
    db.session.flush()


def _unique(kinds: list[str]) -> list[str]:
    return [kind for kind in rules.EVENT_TYPES if kind in set(kinds)]


# --- the delivery log ------------------------------------------------------------------------


def deliveries_query(endpoint_id: int, *, status: str | None = None):
    """An endpoint's deliveries, newest first, with their attempts."""
    get_endpoint(endpoint_id)
    stmt = (select(WebhookDelivery).options(selectinload(WebhookDelivery.attempt_log))
            .where(WebhookDelivery.endpoint_id == endpoint_id))
    if status is not None:
        stmt = stmt.where(WebhookDelivery.status == status)
    return stmt.order_by(WebhookDelivery.id.desc())


def redeliver(delivery_id: int) -> WebhookDelivery:
    """A delivered or failed delivery goes back to pending, due now, with a fresh 24-hour window."""
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        raise NotFound("Không có lần gửi này. No such delivery.", code="webhook.delivery_not_found")
    if delivery.status == "pending":
        raise Conflict("Lần gửi này đang chờ gửi. This delivery is pending already.", code="webhook.delivery_pending",
                       next_attempt_at=_iso(delivery.next_attempt_at))
    now = clock.now()
    delivery.status, delivery.attempts, delivery.delivered_at = "pending", 0, None
    delivery.next_attempt_at, delivery.expires_at = now, now + rules.RETRY_WINDOW
    db.session.flush()
    return delivery
