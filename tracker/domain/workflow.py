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


def capacities(*, contributor: bool, approver: bool) -> set[Actor]:
    found = set()
    if contributor:
        found.add(Actor.CONTRIBUTOR)
    if approver:
        found.add(Actor.APPROVER)
    return found
