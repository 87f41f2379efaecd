"""Who may move an assignment from which status to which: PRODUCT.md's table, as data.

not_started → in_progress → submitted → completed (a leader approves)
                              submitted → returned (a leader, with a note) → in_progress | submitted
any open status → blocked (with a reason) → in_progress
any open status → cancelled (a leader, with a note; then left out of every count)
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from tracker.domain.vocabulary import Status


class Actor(StrEnum):
    """The capacity in which a caller acts on one assignment."""

    CONTRIBUTOR = "contributor"  # officers of the organisation (and leaders or admins acting for them)
    APPROVER = "approver"  # leaders over the organisation, and admins


@dataclass(frozen=True)
class Move:
    source: Status
    target: Status
    actor: Actor
    note_required: bool = False


OPEN = (Status.NOT_STARTED, Status.IN_PROGRESS, Status.SUBMITTED, Status.RETURNED)

MOVES: tuple[Move, ...] = (
    Move(Status.NOT_STARTED, Status.IN_PROGRESS, Actor.CONTRIBUTOR),
    Move(Status.IN_PROGRESS, Status.SUBMITTED, Actor.CONTRIBUTOR),
    Move(Status.RETURNED, Status.IN_PROGRESS, Actor.CONTRIBUTOR),
    Move(Status.RETURNED, Status.SUBMITTED, Actor.CONTRIBUTOR),
    Move(Status.SUBMITTED, Status.COMPLETED, Actor.APPROVER),
    Move(Status.SUBMITTED, Status.RETURNED, Actor.APPROVER, note_required=True),
    Move(Status.BLOCKED, Status.IN_PROGRESS, Actor.CONTRIBUTOR),
    *(Move(source, Status.BLOCKED, Actor.CONTRIBUTOR, note_required=True) for source in (Status.NOT_STARTED, Status.IN_PROGRESS, Status.RETURNED)),
    *(Move(source, Status.CANCELLED, Actor.APPROVER, note_required=True) for source in (*OPEN, Status.BLOCKED)),
)


def allowed_moves(source: str, capacities: set[Actor]) -> list[Move]:
    """The moves from `source` open to a caller with these capacities."""
    return [move for move in MOVES if move.source == source and move.actor in capacities]


def find_move(source: str, target: str, capacities: set[Actor]) -> Move | None:
    return next((move for move in allowed_moves(source, capacities) if move.target == target), None)


def needs_evidence(target: str, requires_evidence: bool) -> bool:
    """Work whose action requires evidence is submitted only with at least one file not withdrawn."""
    return target == Status.SUBMITTED and requires_evidence


def evidence_missing(target: str, requires_evidence: bool, evidence_count: int) -> bool:
    return needs_evidence(target, requires_evidence) and evidence_count == 0


def available_moves(source: str, capacities: set[Actor], *, requires_evidence: bool, evidence_count: int) -> list[Move]:
    """The moves this caller can make now: those open to them, less a submission still missing its evidence."""
    return [move for move in allowed_moves(source, capacities)
            if not evidence_missing(move.target, requires_evidence, evidence_count)]


# Statuses from which the work moves no more: nothing of it is changed.
CLOSED = (Status.COMPLETED, Status.CANCELLED)

# Who changes which field of an assignment (PATCH): leaders its owner and due date (an officer asks
# for an extension instead), the organisation's officers its progress and note.
FIELD_EDITORS: dict[str, Actor] = {
    "owner_id": Actor.APPROVER,
    "due_date": Actor.APPROVER,
    "progress": Actor.CONTRIBUTOR,
    "note": Actor.CONTRIBUTOR,
}


def fields_open_to(capacities: set[Actor]) -> list[str]:
    """The fields a caller with these capacities may change on open work, in FIELD_EDITORS' order."""
    return [name for name, actor in FIELD_EDITORS.items() if actor in capacities]


def editable_fields(source: str, capacities: set[Actor]) -> list[str]:
    """The fields the caller may change now: none once the work is closed."""
    return [] if source in CLOSED else fields_open_to(capacities)


# Where the work is back with the organisation after a return: out of `submitted` only a return
# leads to these, so from them no submission has been made since the latest return.
BACK_AFTER_RETURN = (Status.RETURNED, Status.IN_PROGRESS, Status.BLOCKED)


def shows_return_reason(source: str) -> bool:
    """Whether the latest return's reason still speaks of the work in this status (not once it is
    submitted again, approved or cancelled)."""
    return source in BACK_AFTER_RETURN


def capacities(*, contributor: bool, approver: bool) -> set[Actor]:
    found = set()
    if contributor:
        found.add(Actor.CONTRIBUTOR)
    if approver:
        found.add(Actor.APPROVER)
    return found
