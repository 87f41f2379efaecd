"""`Idempotency-Key`: a retry returns the first outcome and changes nothing more; a key is the
user's own, kept 24 hours; an outcome that cannot be stored undoes the change with it."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import func, select, text

from tests.conftest import scratch_app
from tests.helpers import assert_problem
from tracker.extensions import db
from tracker.models import Assignment, AssignmentEvent, IdempotencyKey


def key() -> str:
    return f"test-{uuid.uuid4()}"


def events_of(session, assignment_id: int) -> int:
    return session.scalar(select(func.count()).select_from(AssignmentEvent).where(AssignmentEvent.assignment_id == assignment_id))


def test_a_retried_transition_is_applied_once(client, auth, session, make_assignment):
    officer = auth("canbo.noivu")
    target = make_assignment(due=dt.date(2030, 1, 1))
    headers = {**officer, "Idempotency-Key": key()}
    first = client.post(f"/api/v1/assignments/{target}/transitions", headers=headers, json={"to": "in_progress", "progress": 5})
    assert first.status_code == 200 and "Idempotency-Replayed" not in first.headers
    count = events_of(session, target)
    again = client.post(f"/api/v1/assignments/{target}/transitions", headers=headers, json={"to": "in_progress", "progress": 5})
    assert again.status_code == 200 and again.headers["Idempotency-Replayed"] == "true"
    assert again.get_json() == first.get_json() and again.headers["ETag"] == first.headers["ETag"]
    assert events_of(session, target) == count
    # Without the key the same move is a new request, and now an invalid one.
    assert_problem(client.post(f"/api/v1/assignments/{target}/transitions", headers=officer, json={"to": "in_progress"}),
                   409, "assignment.invalid_transition")


def test_a_retried_patch_and_create(client, auth, session, make_assignment, org, action_ref):
    officer, leader = auth("canbo.noivu"), auth("lanhdao.ubnd")
    target = make_assignment(due=dt.date(2030, 1, 1))
    etag = client.get(f"/api/v1/assignments/{target}", headers=officer).headers["ETag"]
    headers = {**officer, "If-Match": etag, "Idempotency-Key": key()}
    first = client.patch(f"/api/v1/assignments/{target}", headers=headers, json={"progress": 40})
    again = client.patch(f"/api/v1/assignments/{target}", headers=headers, json={"progress": 40})
    assert first.status_code == again.status_code == 200 and again.get_json()["version"] == first.get_json()["version"]

    body = {"action_id": action_ref("III.6.3"), "organization_id": org["PNV-KD"], "role": "coordinating"}
    headers = {**leader, "Idempotency-Key": key()}
    created = client.post("/api/v1/assignments", headers=headers, json=body)
    assert created.status_code == 201, created.get_json()
    replayed = client.post("/api/v1/assignments", headers=headers, json=body)
    assert replayed.status_code == 201 and replayed.get_json() == created.get_json()
    assert session.scalar(select(func.count()).select_from(Assignment).where(
        Assignment.action_id == body["action_id"], Assignment.organization_id == org["PNV-KD"])) == 1


def test_error_outcomes_are_replayed_and_keys_are_per_user(client, auth, session, make_assignment):
    officer = auth("canbo.noivu")
    target = make_assignment(due=dt.date(2030, 1, 1))
    shared = key()
    refused = client.post(f"/api/v1/assignments/{target}/transitions", headers={**officer, "Idempotency-Key": shared},
                          json={"to": "completed"})
    assert_problem(refused, 409, "assignment.invalid_transition")
    replay = client.post(f"/api/v1/assignments/{target}/transitions", headers={**officer, "Idempotency-Key": shared},
                         json={"to": "completed"})
    assert replay.status_code == 409 and replay.headers["Idempotency-Replayed"] == "true"
    # Another user's request with the same key is theirs alone.
    leader = client.post(f"/api/v1/assignments/{target}/transitions", headers={**auth("lanhdao.ubnd"), "Idempotency-Key": shared},
                         json={"to": "in_progress"})
    assert leader.status_code == 200 and "Idempotency-Replayed" not in leader.headers


@pytest.mark.parametrize("bad", ["", "x" * 256, "khóa-tiếng-việt", "a b"])
def test_bad_keys_change_nothing(client, auth, session, make_assignment, bad):
    target = make_assignment(due=dt.date(2030, 1, 1))
    count = events_of(session, target)
    response = client.post(f"/api/v1/assignments/{target}/transitions",
                           headers={**auth("canbo.noivu"), "Idempotency-Key": bad.encode().decode("latin-1")},
                           json={"to": "in_progress"})
    assert_problem(response, 400, "idempotency.invalid_key")
    assert events_of(session, target) == count


def test_a_key_reused_for_another_request_changes_nothing(client, auth, session, make_assignment):
    officer = auth("canbo.noivu")
    first_target, other = make_assignment(due=dt.date(2030, 1, 1)), make_assignment(due=dt.date(2030, 1, 1))
    shared = key()
    assert client.post(f"/api/v1/assignments/{first_target}/transitions", headers={**officer, "Idempotency-Key": shared},
                       json={"to": "in_progress"}).status_code == 200
    count = events_of(session, other)
    assert_problem(client.post(f"/api/v1/assignments/{other}/transitions", headers={**officer, "Idempotency-Key": shared},
                               json={"to": "in_progress"}), 422, "idempotency.key_reused")
    assert events_of(session, other) == count


def test_keys_expire_after_a_day(client, auth, session, make_assignment):
    officer = auth("canbo.noivu")
    target = make_assignment(due=dt.date(2030, 1, 1))
    shared = key()
    assert client.post(f"/api/v1/assignments/{target}/transitions", headers={**officer, "Idempotency-Key": shared},
                       json={"to": "in_progress"}).status_code == 200
    record = session.scalar(select(IdempotencyKey).where(IdempotencyKey.key == shared))
    assert record.expires_at - record.created_at == dt.timedelta(hours=24)
    record.expires_at = record.created_at  # as a day later
    session.commit()
    again = client.post(f"/api/v1/assignments/{target}/transitions", headers={**officer, "Idempotency-Key": shared},
                        json={"to": "in_progress"})
    assert_problem(again, 409, "assignment.invalid_transition")  # processed anew, not replayed


@pytest.mark.no_transaction
def test_an_outcome_that_cannot_be_stored_undoes_the_change(database_url, tmp_path):
    """The change and its recorded outcome commit together: when the database refuses the outcome
    (a real trigger), the transition is not applied either, and a retry applies it once."""
    app, target, headers = scratch_app(database_url, tmp_path, "idempotency", username="canbo.noivu", org_code="PNV-KD")
    postgres = database_url.startswith("postgresql")
    with app.app_context():
        if postgres:
            db.session.execute(text("CREATE FUNCTION refuse_key() RETURNS trigger LANGUAGE plpgsql AS "
                                    "$$ BEGIN RAISE EXCEPTION 'refused' USING ERRCODE = 'check_violation'; END $$"))
            db.session.execute(text("CREATE TRIGGER refuse_key BEFORE INSERT ON idempotency_key FOR EACH ROW EXECUTE FUNCTION refuse_key()"))
        else:
            db.session.execute(text("CREATE TRIGGER refuse_key BEFORE INSERT ON idempotency_key BEGIN SELECT RAISE(ABORT, 'refused'); END"))
        db.session.commit()
        before = db.session.scalar(select(Assignment.status).where(Assignment.id == target))
        db.session.remove()
    client = app.test_client()
    shared = {**headers, "Idempotency-Key": key()}
    refused = client.post(f"/api/v1/assignments/{target}/transitions", headers=shared, json={"to": "in_progress"})
    assert refused.status_code in (409, 503) and refused.mimetype == "application/problem+json"
    with app.app_context():
        assert db.session.scalar(select(Assignment.status).where(Assignment.id == target)) == before
        db.session.execute(text("DROP TRIGGER refuse_key" + (" ON idempotency_key" if postgres else "")))
        db.session.commit()
        db.session.remove()
    assert client.post(f"/api/v1/assignments/{target}/transitions", headers=shared, json={"to": "in_progress"}).status_code == 200
    assert client.post(f"/api/v1/assignments/{target}/transitions", headers=shared, json={"to": "in_progress"}).headers[
        "Idempotency-Replayed"] == "true"
    with app.app_context():
        db.engine.dispose()
