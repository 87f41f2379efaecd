"""The append-only event history of assignments: the one way events are written."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tracker.extensions import db
from tracker.models import Assignment, AssignmentEvent
from tracker.services import clock


def record(assignment: Assignment, kind: str, *, actor_id: int | None, old: dict[str, Any] | None = None,
           new: dict[str, Any] | None = None, note: str | None = None, effective_on: dt.date | None = None) -> AssignmentEvent:
    """One event, recorded today (in the plan's zone) and effective on `effective_on` (default: today)."""
    recorded_on = clock.today()
    event = AssignmentEvent(assignment=assignment, kind=kind, actor_id=actor_id, old_value=old, new_value=new, note=note,
                            recorded_on=recorded_on, effective_on=effective_on or recorded_on)
    db.session.add(event)
    return event
