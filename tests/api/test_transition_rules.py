"""Every move from every status, for every role: allowed moves succeed; every other one answers
409 (with the moves that are allowed), 403 (read-only) or 404 (another agency's), and changes
nothing: the version and the history stay as they were.

The expected table is written out here by hand from PRODUCT.md, not taken from the code."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tracker.models import Action, Assignment, AssignmentEvent, Organization

STATUSES = ["not_started", "in_progress", "submitted", "returned", "completed", "blocked", "cancelled"]

# Officers of the assigned organisation.
CONTRIBUTOR = {
    "not_started": {"in_progress", "blocked"},
    "in_progress": {"submitted", "blocked"},
    "returned": {"in_progress", "submitted", "blocked"},
    "blocked": {"in_progress"},
}
# Leaders over it (and admins) may also approve, return and cancel.
APPROVER_ONLY = {
    "submitted": {"completed", "returned", "cancelled"},
    "not_started": {"cancelled"}, "in_progress": {"cancelled"}, "returned": {"cancelled"}, "blocked": {"cancelled"},
}


def allowed_for(role: str, source: str) -> set[str]:
    moves = set(CONTRIBUTOR.get(source, set()))
    if role in ("admin", "lanhdao.huyen", "lanhdao.ubnd"):
        moves |= APPROVER_ONLY.get(source, set())
    return moves


@pytest.fixture
def target(session):
    assignment = session.scalar(
        select(Assignment).join(Organization, Organization.id == Assignment.organization_id)
        .where(Organization.code == "PVHKHTT-KD").order_by(Assignment.id).limit(1)
    )
    session.get(Action, assignment.action_id).requires_evidence = False  # the evidence rule has its own tests
    session.commit()
    return assignment.id


def set_status(session, assignment_id: int, status: str) -> tuple[int, int]:
    assignment = session.get(Assignment, assignment_id)
    assignment.status = status
    assignment.submitted_on = None
    assignment.completed_on = None
    session.commit()
    return state(session, assignment_id)


def state(session, assignment_id: int) -> tuple[int, int]:
    session.expire_all()
    version = session.get(Assignment, assignment_id).version
    events = session.scalar(select(func.count(AssignmentEvent.id)).where(AssignmentEvent.assignment_id == assignment_id))
    return version, events


@pytest.mark.parametrize("source", STATUSES)
@pytest.mark.parametrize("role", ["admin", "lanhdao.huyen", "lanhdao.ubnd", "canbo.vhkhtt", "canbo.noivu", "giamsat.tgdv", "anonymous"])
def test_every_move(client, auth, session, target, role, source):
    headers = {} if role == "anonymous" else auth(role)
    for destination in STATUSES:
        before = set_status(session, target, source)
        response = client.post(f"/api/v1/assignments/{target}/transitions", headers=headers,
                               json={"to": destination, "note": "Ghi chú kiểm thử"})
        expected_moves = allowed_for(role, source)
        if role == "anonymous":
            assert response.status_code == 401
        elif role == "canbo.noivu":
            assert response.status_code == 404 and response.get_json()["code"] == "assignment.not_found"
        elif role == "giamsat.tgdv":
            assert response.status_code == 403 and response.get_json()["code"] == "assignment.read_only"
        elif destination in expected_moves:
            assert response.status_code == 200, (source, destination, response.get_json())
            assert response.get_json()["status"] == destination
            continue
        else:
            body = response.get_json()
            assert response.status_code == 409, (source, destination, body)
            assert body["code"] == "assignment.invalid_transition"
            assert set(body["allowed"]) == expected_moves and body["current"] == source
        assert state(session, target) == before, (role, source, destination)
