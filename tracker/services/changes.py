"""The change feed's log (read by `tracker.services.feed`). Every change to an assignment, an
evidence or a notification logs a `change` row in the same transaction, from this module alone: a session hook (after each flush) sees the ORM's new,
changed and deleted objects, so that services need no call. It also counts as a change of an
assignment what its GET shows beside it: a new history event (an urging, a transfer), an evidence
added or withdrawn (the evidence count), an extension request or decision (the pending one).
Writes that bypass the ORM call `touched` (or `moved`, for an assignment passed to another unit): the
reorganisation's transfer UPDATE, marking notifications read. Each row names the unit the entity
belonged to then (a notification: its user); an assignment passed to another unit logs a row for
the unit it left too, so that whoever lost it gets a tombstone. Tallies are counters, not
entities of the feed. Urging counts with an UPDATE too, but writes a history event, which logs.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import event, insert, inspect, select, text
from sqlalchemy.orm import Session

from tracker.extensions import db
from tracker.models import Assignment, AssignmentEvent, Change, Evidence, Extension, Notification
from tracker.models.base import utcnow

ASSIGNMENT, EVIDENCE, NOTIFICATION = "assignment", "evidence", "notification"
KINDS = (ASSIGNMENT, EVIDENCE, NOTIFICATION)
UPSERT, DELETE = "upsert", "delete"
_OWNER = {ASSIGNMENT: Assignment.organization_id, EVIDENCE: Evidence.organization_id, NOTIFICATION: Notification.user_id}
_MODEL = {ASSIGNMENT: Assignment, EVIDENCE: Evidence, NOTIFICATION: Notification}


def _committed(obj, name: str):
    """The attribute's value before this flush's change (its current value when unchanged)."""
    history = inspect(obj).attrs[name].history
    if history.deleted:
        return history.deleted[0]
    return getattr(obj, name)


def _txid(connection) -> Any:
    return text("pg_current_xact_id()::text::bigint") if connection.dialect.name == "postgresql" else 0


def _write(connection, touched: dict[str, set[int]], extra: list[dict]) -> None:
    """One row per entity touched, naming its unit (or user) as it now stands; plus `extra` rows."""
    rows = list(extra)
    for kind, ids in touched.items():
        if ids:
            owner = _OWNER[kind]
            model = _MODEL[kind]
            for entity_id, owner_id in connection.execute(select(model.id, owner).where(model.id.in_(sorted(ids))).order_by(model.id)):
                rows.append({"kind": kind, "entity_id": entity_id, owner.key: owner_id, "op": UPSERT})
    if not rows:
        return
    now = utcnow()
    connection.execute(insert(Change).values(txid=_txid(connection), changed_at=now),
                       [{"organization_id": None, "user_id": None, **row} for row in rows])


def _changed(session: Session, obj) -> bool:
    return obj in session.new or session.is_modified(obj, include_collections=False)


@event.listens_for(Session, "after_flush")
def _log(session: Session, _context) -> None:
    touched: dict[str, set[int]] = defaultdict(set)
    extra: list[dict] = []
    for obj in session.deleted:
        if isinstance(obj, (Assignment, Evidence, Notification)):
            kind = _kind_of(obj)
            owner = _OWNER[kind].key
            extra.append({"kind": kind, "entity_id": obj.id, owner: _committed(obj, owner), "op": DELETE})
    for obj in list(session.new) + list(session.dirty):
        if obj in session.deleted or not _changed(session, obj):
            continue
        if isinstance(obj, Assignment):
            touched[ASSIGNMENT].add(obj.id)
            left = _committed(obj, "organization_id")
            if left is not None and left != obj.organization_id:
                extra.append({"kind": ASSIGNMENT, "entity_id": obj.id, "organization_id": left, "op": DELETE})
        elif isinstance(obj, Evidence):
            touched[EVIDENCE].add(obj.id)
            touched[ASSIGNMENT].add(obj.assignment_id)
        elif isinstance(obj, Notification):
            touched[NOTIFICATION].add(obj.id)
        elif isinstance(obj, (AssignmentEvent, Extension)):
            touched[ASSIGNMENT].add(obj.assignment_id)
    if touched or extra:
        _write(session.connection(), touched, extra)


def _kind_of(obj) -> str:
    return next(kind for kind, model in _MODEL.items() if isinstance(obj, model))


def touched(kind: str, ids) -> None:
    """Log a change of these entities made without the ORM (a bulk UPDATE), in the current transaction."""
    _write(db.session.connection(), {kind: set(ids)}, [])


def moved(assignment_id: int, organization_id: int) -> None:
    """Log that an assignment passed from `organization_id` to the unit it now has, by an UPDATE
    without the ORM: a tombstone for those who saw it only in the unit it left."""
    _write(db.session.connection(), {ASSIGNMENT: {assignment_id}},
           [{"kind": ASSIGNMENT, "entity_id": assignment_id, "organization_id": organization_id, "op": DELETE}])
