"""The change feed under concurrent writes (PostgreSQL, where writers run in parallel): every change
comes exactly once across pages, however the writing transactions interleave with the reader and
whatever order they commit in. SQLite serialises writers; its id order is the commit order."""

from __future__ import annotations

import io
import threading
import time

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import scratch_app
from tracker.extensions import db
from tracker.models import Assignment, Organization

CHANGES = "/api/v1/changes"
# A change shows once every transaction that was running when it began has ended, in the whole
# PostgreSQL cluster (transaction ids are the cluster's): other databases' long transactions on a
# shared test server delay it. Readers page until they have what they wait for, within this bound.
PATIENCE_SECONDS = 120


@pytest.fixture
def postgresql_only(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite serialises writers, so no transaction can commit behind a cursor: run with TEST_DATABASE_URL "
                    "set to PostgreSQL for this test")


def page(client, headers, since, limit=3) -> dict:
    response = client.get(CHANGES, headers=headers, query_string={"since": since, "limit": limit})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def read_until(client, headers, cursor, enough, limit=3) -> tuple[list[dict], str]:
    """Page from `cursor`, collecting items, until `enough(items)` and no page is waiting."""
    items: list[dict] = []
    deadline = time.monotonic() + PATIENCE_SECONDS
    while True:
        body = page(client, headers, cursor, limit)
        items += body["items"]
        cursor = body["next_cursor"]
        if body["has_more"]:
            continue
        if enough(items) or time.monotonic() > deadline:
            return items, cursor
        time.sleep(0.05)  # the condition is other transactions ending; polled, within the bound


def upload(client, headers, assignment_id: int, content: bytes) -> int:
    response = client.post(f"/api/v1/assignments/{assignment_id}/evidence", headers=headers, content_type="multipart/form-data",
                           data={"file": (io.BytesIO(content), "bao-cao.txt")})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def unit_work(app, code: str) -> list[int]:
    with app.app_context():
        ids = db.session.scalars(select(Assignment.id).join(Organization, Organization.id == Assignment.organization_id)
                                 .where(Organization.code == code).order_by(Assignment.id)).all()
        db.session.remove()
    return list(ids)


@pytest.mark.no_transaction
def test_a_transaction_that_commits_late_is_not_skipped(database_url, tmp_path, postgresql_only):
    """A transaction takes its txid (and logs its change) first, another commits after it and
    before it: the reader holds the later one back until the first ends, then gets both, once."""
    app, target, headers = scratch_app(database_url, tmp_path, "feedlate", username="canbo.noivu", org_code="PNV-KD")
    slow_id = next(i for i in unit_work(app, "PNV-KD") if i != target)
    client = app.test_client()
    cursor = page(client, headers, "now")["next_cursor"]
    with app.app_context():
        slow = Session(db.engine)
        slow.get(Assignment, slow_id).note = "Ghi chậm"
        slow.flush()  # its change row is written with its txid, the smaller one
        try:
            evidence_id = upload(client, headers, target, b"bao cao tien do\n")  # commits first, with a larger txid
            held = page(client, headers, cursor)
            assert held["items"] == [] and held["has_more"] is False
            slow.commit()
        finally:
            slow.close()
    expected = sorted([("assignment", slow_id), ("assignment", target), ("evidence", evidence_id)])
    items, cursor = read_until(client, headers, held["next_cursor"], lambda items: len(items) >= len(expected), limit=100)
    rest = page(client, headers, cursor)
    with app.app_context():
        db.engine.dispose()
    assert sorted((i["kind"], i["id"]) for i in items) == expected
    assert {i["id"]: i["data"]["note"] for i in items if i["kind"] == "assignment"}[slow_id] == "Ghi chậm"
    assert rest["items"] == []


@pytest.mark.no_transaction
def test_every_change_exactly_once_under_concurrent_writers(database_url, tmp_path, postgresql_only):
    app, target, headers = scratch_app(database_url, tmp_path, "feedrace", username="canbo.noivu", org_code="PNV-KD")
    work = unit_work(app, "PNV-KD")[:4]
    reader = app.test_client()
    cursor = page(reader, headers, "now")["next_cursor"]
    created: list[int] = []
    failures: list[BaseException] = []
    start = threading.Barrier(len(work) + 1)

    def write(n: int, assignment_id: int) -> None:
        client = app.test_client()
        start.wait()
        try:
            for k in range(6):
                created.append(upload(client, headers, assignment_id, f"minh chung {n}-{k}\n".encode()))
        except BaseException as error:  # noqa: BLE001  (reported by the main thread)
            failures.append(error)

    writers = [threading.Thread(target=write, args=(n, assignment_id)) for n, assignment_id in enumerate(work)]
    for thread in writers:
        thread.start()
    start.wait()
    # Read while the writers write, then until every upload has come (or the bound passes).
    items, cursor = read_until(reader, headers, cursor, lambda items: not any(t.is_alive() for t in writers) and
                               len({i["id"] for i in items if i["kind"] == "evidence"}) >= len(created))
    items += page(reader, headers, cursor, limit=500)["items"]  # and nothing comes again after
    seen = [item["id"] for item in items if item["kind"] == "evidence"]
    for thread in writers:
        thread.join(timeout=60)
    with app.app_context():
        db.engine.dispose()
    assert not failures, failures
    assert len(created) == 6 * len(work)
    assert sorted(seen) == sorted(created), "every evidence once: none missing, none twice"
