"""Two clients change the same assignment with the same ETag, at the same moment, through two
real connections: exactly one succeeds and the other gets 412; nothing is lost or doubled."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from tests.conftest import scratch_app
from tracker.extensions import db
from tracker.models import Assignment, AssignmentEvent


@pytest.mark.no_transaction
@pytest.mark.parametrize("round_", range(3))
def test_same_etag_exactly_one_wins(database_url, tmp_path, round_):
    app, target, headers = scratch_app(database_url, tmp_path, "concurrency", username="canbo.noivu", org_code="PNV-KD")
    with app.app_context():
        events_before = db.session.scalar(select(func.count(AssignmentEvent.id)).where(AssignmentEvent.assignment_id == target))
        db.session.remove()

    url_ = f"/api/v1/assignments/{target}"
    etag = app.test_client().get(url_, headers=headers).headers["ETag"]
    barrier = threading.Barrier(2)
    statuses: dict[int, int] = {}

    def patch(progress: int) -> None:
        client = app.test_client()
        barrier.wait()
        statuses[progress] = client.patch(url_, headers={**headers, "If-Match": etag}, json={"progress": progress}).status_code

    threads = [threading.Thread(target=patch, args=(progress,)) for progress in (30, 70)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(statuses.values()) == [200, 412], statuses
    winner = next(progress for progress, status in statuses.items() if status == 200)
    with app.app_context():
        assignment = db.session.get(Assignment, target)
        assert assignment.progress == winner
        assert assignment.version == 2
        events = db.session.scalar(select(func.count(AssignmentEvent.id)).where(AssignmentEvent.assignment_id == target))
        assert events == events_before + 1
        db.session.remove()
        db.engine.dispose()
