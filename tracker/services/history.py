"""The append-only event history of assignments: the one way events are written."""

from __future__ import annotations

from typing import Any

from tracker.extensions import db
from tracker.models import Assignment, AssignmentEvent


def record(assignment: Assignment, kind: str, *, actor_id: int | None, old: dict[str, Any] | None = None,
           new: dict[str, Any] | None = None, note: str | None = None) -> AssignmentEvent:
    event = AssignmentEvent(assignment=assignment, kind=kind, actor_id=actor_id, old_value=old, new_value=new, note=note)
    db.session.add(event)
    return event
