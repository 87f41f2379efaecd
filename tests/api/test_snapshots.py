"""Published reports ("chốt số liệu"): frozen bytes with their SHA-256, served unchanged after any
later change, refused UPDATE and DELETE by the database, scoped like the organisation they report on."""

from __future__ import annotations

import base64
import hashlib
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError

from tests.helpers import assert_problem
from tracker.models import Assignment, ReportSnapshot

URL = "/api/v1/reports/snapshots"


def publish(client, headers, **body):
    return client.post(URL, headers=headers, json=body)


def fetch(client, headers, snapshot_id, fmt="json"):
    response = client.get(f"{URL}/{snapshot_id}", headers=headers, query_string={"format": fmt})
    data = response.data
    response.close()
    return response, data


def snapshot_count(session) -> int:
    return session.scalar(select(func.count()).select_from(ReportSnapshot))


@pytest.fixture
def published(client, auth, org):
    response = publish(client, auth("lanhdao.ubnd"), kind="periodic", organization_id=org["PNV-KD"], period="2026",
                       note="Số liệu báo cáo năm")
    assert response.status_code == 201, response.get_json()
    return response


def test_publish_and_serve_byte_identical(client, auth, session, org, published):
    leader = auth("lanhdao.ubnd")
    meta = published.get_json()
    assert published.headers["Location"].endswith(f"{URL}/{meta['id']}")
    assert meta["kind"] == "periodic" and meta["parameters"]["period"] == "2026" and meta["organization"]["code"] == "PNV-KD"
    assert meta["published_by"]["full_name"] and meta["published_at"].endswith("Z")
    bodies = {}
    for fmt in ("json", "csv", "xlsx"):
        response, data = fetch(client, leader, meta["id"], fmt)
        assert response.status_code == 200
        digest = hashlib.sha256(data).hexdigest()
        assert digest == meta["sha256"][fmt] == response.headers["X-Content-SHA256"]
        assert response.headers["ETag"] == f'"{digest}"'
        assert response.headers["Repr-Digest"] == f"sha-256=:{base64.b64encode(bytes.fromhex(digest)).decode()}:"
        bodies[fmt] = data
    document = published.get_json() and __import__("json").loads(bodies["json"])
    assert document["snapshot"]["published_by"]["full_name"] == meta["published_by"]["full_name"]
    assert document["report"]["organization"]["code"] == "PNV-KD"
    assert bodies["csv"].startswith("\ufeff".encode()) and bodies["csv"].decode("utf-8-sig").startswith("Phần,")  # the header first
    book = load_workbook(io.BytesIO(bodies["xlsx"]), read_only=True)
    assert "Tổng hợp" in book.sheetnames and "số liệu đã chốt" in book["Tổng hợp"]["A1"].value

    # Work moves on: a submission is approved, the live report changes, the published one does not.
    target = session.scalar(select(Assignment.id).where(Assignment.organization_id == org["PNV-KD"], Assignment.cycle == 2026)
                            .order_by(Assignment.id).limit(1))
    session.get(Assignment, target).action.requires_evidence = False
    session.commit()
    officer = auth("canbo.noivu")
    for to, headers in (("in_progress", officer), ("submitted", officer), ("completed", leader)):
        assert client.post(f"/api/v1/assignments/{target}/transitions", headers=headers, json={"to": to}).status_code == 200
    for fmt, before in bodies.items():
        assert fetch(client, leader, meta["id"], fmt)[1] == before
    live = client.get("/api/v1/reports/periodic", headers=leader, query_string={
        "organization_id": org["PNV-KD"], "period": "2026", "since_snapshot": meta["id"]}).get_json()
    changes = live["changes_since_snapshot"]
    assert changes["snapshot_id"] == meta["id"] and changes["unchanged"] is False
    assert target in changes["lists"]["completed"]["entered"]
    assert sum(c["delta"] for c in changes["counts"].values()) == 0  # moved between classes, none added
    assert any(c["delta"] == 1 for name, c in changes["counts"].items() if name.startswith("completed"))


def test_snapshots_cannot_be_changed_or_deleted(session, published):
    snapshot_id = published.get_json()["id"]
    for statement in (f"UPDATE report_snapshot SET title = 'sửa' WHERE id = {snapshot_id}",
                      f"UPDATE report_snapshot SET json_body = csv_body WHERE id = {snapshot_id}",
                      f"DELETE FROM report_snapshot WHERE id = {snapshot_id}"):
        savepoint = session.begin_nested()
        with pytest.raises(DatabaseError, match="append-only"):
            session.execute(text(statement))
        savepoint.rollback()
    assert session.get(ReportSnapshot, snapshot_id).title.startswith("Báo cáo năm 2026")


def test_summary_snapshot_and_changes(client, auth, org, session):
    leader = auth("lanhdao.ubnd")
    response = publish(client, leader, kind="summary", by="organization", organization_id=org["UBND-KD"], as_of="2026-11-01")
    assert response.status_code == 201, response.get_json()
    meta = response.get_json()
    assert meta["parameters"] == {"by": "organization", "organization_id": org["UBND-KD"], "include_descendants": True,
                                  "as_of": "2026-11-01"}
    live = client.get("/api/v1/reports/summary", headers=leader, query_string={
        "by": "organization", "organization_id": org["UBND-KD"], "include_descendants": "true", "as_of": "2026-11-01",
        "since_snapshot": meta["id"]}).get_json()
    assert live["changes_since_snapshot"]["unchanged"] is True
    # A periodic report cannot be compared with a summary snapshot.
    assert_problem(client.get("/api/v1/reports/periodic", headers=leader, query_string={
        "organization_id": org["UBND-KD"], "period": "2026", "since_snapshot": meta["id"]}), 422, "snapshot.mismatch")


def test_who_publishes_and_who_sees(client, auth, org, session, published):
    meta = published.get_json()
    before = snapshot_count(session)
    body = assert_problem(publish(client, auth("canbo.noivu"), kind="periodic", organization_id=org["PNV-KD"], period="2026"),
                          403, "snapshot.forbidden")
    assert body["detail"]
    assert_problem(publish(client, auth("canbo.vhkhtt"), kind="periodic", organization_id=org["PNV-KD"], period="2026"),
                   404, "organization.not_found")
    assert_problem(publish(client, auth("lanhdao.ubnd"), kind="periodic", organization_id=org["BTGDV-KD"], period="2026"),
                   404, "organization.not_found")
    assert snapshot_count(session) == before
    # The organisation's own officer reads it; another agency's officer neither reads nor lists it.
    assert fetch(client, auth("canbo.noivu"), meta["id"])[0].status_code == 200
    assert_problem(client.get(f"{URL}/{meta['id']}", headers=auth("canbo.vhkhtt")), 404, "snapshot.not_found")
    assert meta["id"] not in [s["id"] for s in client.get(URL, headers=auth("canbo.vhkhtt")).get_json()]
    assert meta["id"] in [s["id"] for s in client.get(URL, headers=auth("giamsat.tgdv")).get_json()]
    listed = client.get(URL, headers=auth("lanhdao.ubnd"), query_string={"kind": "periodic", "organization_id": org["PNV-KD"]})
    assert [s["id"] for s in listed.get_json()] == [meta["id"]]
    assert client.get(URL, headers={}).status_code == 401


@pytest.mark.parametrize("body, field", [
    ({"organization_id": 1, "period": "2026"}, "kind"),
    ({"kind": "quarterly", "organization_id": 1, "period": "2026"}, "kind"),
    ({"kind": "periodic", "period": "2026"}, "organization_id"),
    ({"kind": "periodic", "organization_id": 1}, "period"),
    ({"kind": "periodic", "organization_id": 1, "period": "2026-Q1"}, "period"),
    ({"kind": "periodic", "organization_id": 1, "period": "2026", "by": "group"}, "by"),
    ({"kind": "summary", "organization_id": 1}, "by"),
    ({"kind": "summary", "organization_id": 1, "by": "organization", "period": "2026"}, "period"),
    ({"kind": "summary", "organization_id": 1, "by": "organization", "note": "a\u0000b"}, "note"),
    ({"kind": "summary", "organization_id": 2**40, "by": "organization"}, "organization_id"),
    ({"kind": "periodic", "organization_id": 1, "period": "2026", "as_of": "2027-01-05"}, "as_of"),
])
def test_bad_publications_change_nothing(client, auth, session, org, body, field):
    before = snapshot_count(session)
    if body.get("organization_id") == 1:
        body = {**body, "organization_id": org["PNV-KD"]}
    problem = assert_problem(publish(client, auth("admin"), **body), 422, "request.validation_failed")
    assert field in problem["errors"]
    assert snapshot_count(session) == before


def test_bad_snapshot_requests(client, auth, published):
    leader = auth("lanhdao.ubnd")
    assert_problem(client.get(f"{URL}/999999", headers=leader), 404, "snapshot.not_found")
    assert_problem(client.get(f"{URL}/{published.get_json()['id']}", headers=leader, query_string={"format": "pdf"}),
                   422, "request.validation_failed")
    assert_problem(client.get("/api/v1/reports/summary", headers=leader, query_string={"by": "organization", "since_snapshot": 999999}),
                   404, "snapshot.not_found")
