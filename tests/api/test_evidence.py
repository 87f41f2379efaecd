"""Evidence uploads and downloads through the API: types, limits, names, scope, withdrawal."""

import hashlib
import io
import json
from urllib.parse import unquote

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from tests import evidence_files as files
from tests.helpers import assert_problem
from tracker.models import Assignment, AssignmentEvent, Evidence, Organization

VN_NAME = "Báo cáo chuyển đổi số 6 tháng.pdf"


@pytest.fixture
def assignment_of(session):
    def find(org_code: str) -> int:
        return session.scalar(
            select(Assignment.id).join(Organization, Organization.id == Assignment.organization_id)
            .where(Organization.code == org_code).order_by(Assignment.id).limit(1)
        )

    return find


def upload(client, assignment_id, content, name, *, description=None, headers=None):
    """A multipart upload, encoded here in memory (the test client would spool big bodies to
    temporary files that it never closes)."""
    fields = {"file": FileStorage(io.BytesIO(content), filename=name, content_type="application/octet-stream")}
    if description is not None:
        fields["description"] = description
    boundary, body = encode_multipart(MultiDict(fields))
    return client.post(f"/api/v1/assignments/{assignment_id}/evidence", data=body, headers=headers or {},
                       content_type=f"multipart/form-data; boundary={boundary}")


def stored_objects(app) -> set[str]:
    from tracker.storage import make_storage

    return set(make_storage(app.config).keys())


def evidence_count(session) -> int:
    return session.scalar(select(func.count(Evidence.id)))


def test_upload_list_read_download(client, auth, assignment_of, session):
    target = assignment_of("PVHKHTT-KD")
    content = files.pdf()
    response = upload(client, target, content, VN_NAME, description="Báo cáo quý", headers=auth("canbo.vhkhtt"))
    assert response.status_code == 201, response.get_json()
    record = response.get_json()
    assert record["original_name"] == VN_NAME
    assert record["sha256"] == hashlib.sha256(content).hexdigest()
    assert record["size"] == len(content) and record["media_type"] == "application/pdf"
    assert record["uploaded_by"]["full_name"] == "Lê Thị Hoa" and record["withdrawn"] is False

    listed = client.get(f"/api/v1/assignments/{target}/evidence", headers=auth("canbo.vhkhtt"))
    assert [e["id"] for e in listed.get_json()] == [record["id"]]
    assert json.loads(listed.headers["X-Pagination"])["total"] == 1

    download = client.get(f"/api/v1/evidence/{record['id']}/content", headers=auth("lanhdao.ubnd"), buffered=True)
    assert download.status_code == 200
    assert download.data == content
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == VN_NAME
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["ETag"] == f'"{record["sha256"]}"'
    events = session.scalars(select(AssignmentEvent.kind).where(AssignmentEvent.assignment_id == target)).all()
    assert "evidence_added" in events


def test_conditional_and_range_requests(client, auth, assignment_of):
    content = files.pdf("x" * 2000)
    record = upload(client, assignment_of("PNV-KD"), content, "bien-ban.pdf", headers=auth("canbo.noivu")).get_json()
    url = f"/api/v1/evidence/{record['id']}/content"
    headers = auth("canbo.noivu")
    not_modified = client.get(url, headers={**headers, "If-None-Match": f'"{record["sha256"]}"'}, buffered=True)
    assert not_modified.status_code == 304 and not_modified.data == b""
    partial = client.get(url, headers={**headers, "Range": "bytes=5-14"}, buffered=True)
    assert partial.status_code == 206
    assert partial.data == content[5:15]
    assert partial.headers["Content-Range"] == f"bytes 5-14/{len(content)}"
    unsatisfiable = client.get(url, headers={**headers, "Range": f"bytes={len(content) + 10}-"}, buffered=True)
    assert unsatisfiable.status_code == 416


@pytest.mark.parametrize(
    ("content", "name", "kind"),
    [
        (files.docx(), "ke-hoach.docx", "wordprocessingml"),
        (files.odt(), "ke-hoach.odt", "opendocument.text"),
        (files.png(), "anh-chup.png", "image/png"),
        (files.CSV, "tien-do.csv", "text/csv"),
        (files.docx(), "goi-ho-so.zip", "wordprocessingml"),
    ],
)
def test_allowed_types(client, auth, assignment_of, content, name, kind):
    response = upload(client, assignment_of("PNV-KD"), content, name, headers=auth("canbo.noivu"))
    assert response.status_code == 201, response.get_json()
    assert kind in response.get_json()["media_type"]


def test_same_content_twice_is_stored_once_and_recorded_twice(client, app, auth, assignment_of, session):
    content = files.pdf("lần hai")
    sha = hashlib.sha256(content).hexdigest()
    first = upload(client, assignment_of("PNV-KD"), content, "a.pdf", headers=auth("canbo.noivu"))
    second = upload(client, assignment_of("PVHKHTT-KD"), content, "b.pdf", headers=auth("canbo.vhkhtt"))
    assert first.status_code == second.status_code == 201
    assert session.scalar(select(func.count(Evidence.id)).where(Evidence.sha256 == sha)) == 2
    assert sha in stored_objects(app)


REFUSED = [
    ("too large", lambda: b"%PDF-1.4\n" + b"0" * (1024 * 1024 + 1), "lon.pdf", 413, "evidence.too_large"),
    ("empty", lambda: b"", "rong.pdf", 422, "evidence.empty"),
    ("html renamed pdf", lambda: files.HTML, "bao-cao.pdf", 415, "evidence.active_content"),
    ("executable renamed docx", lambda: files.EXE, "ke-hoach.docx", 415, "evidence.executable"),
    ("svg", lambda: files.SVG, "logo.svg", 415, "evidence.active_content"),
    ("png renamed pdf", files.png, "anh.pdf", 415, "evidence.type_mismatch"),
    ("unknown extension", files.pdf, "tep.exe", 415, "evidence.type_not_allowed"),
    ("path traversal", files.pdf, "../../etc/passwd", 422, "evidence.filename_path"),
    ("nul in name", files.pdf, "bao\x00cao.pdf", 422, "evidence.filename_control_chars"),
    ("control char in name", files.pdf, "bao\x1bcao.pdf", 422, "evidence.filename_control_chars"),
    ("300-character name", files.pdf, "a" * 296 + ".pdf", 422, "evidence.filename_too_long"),
]


@pytest.mark.parametrize(("case", "make", "name", "status", "code"), REFUSED, ids=[r[0] for r in REFUSED])
def test_refused_uploads_store_nothing(client, app, auth, assignment_of, session, monkeypatch, case, make, name, status, code):
    monkeypatch.setitem(app.config, "EVIDENCE_MAX_BYTES", 1024 * 1024)
    before_objects, before_rows = stored_objects(app), evidence_count(session)
    response = upload(client, assignment_of("PNV-KD"), make(), name, headers=auth("canbo.noivu"))
    assert_problem(response, status, code)
    assert stored_objects(app) == before_objects
    assert evidence_count(session) == before_rows
    staging = app.config["EVIDENCE_STAGING_DIR"]
    import os

    assert not os.path.isdir(staging) or os.listdir(staging) == []


def test_no_file_part(client, auth, assignment_of):
    response = client.post(f"/api/v1/assignments/{assignment_of('PNV-KD')}/evidence", data={"description": "x"},
                           headers=auth("canbo.noivu"), content_type="multipart/form-data")
    assert_problem(response, 422, "evidence.file_missing")


def test_not_multipart(client, auth, assignment_of):
    response = client.post(f"/api/v1/assignments/{assignment_of('PNV-KD')}/evidence", json={"file": "x"}, headers=auth("canbo.noivu"))
    assert_problem(response, 415, "request.unsupported_media_type")
    raw = client.post(f"/api/v1/assignments/{assignment_of('PNV-KD')}/evidence", data=files.pdf(),
                      content_type="application/pdf", headers=auth("canbo.noivu"))
    assert_problem(raw, 415, "request.unsupported_media_type")


def test_request_over_the_limit_is_413_before_storing(client, app, auth, assignment_of, monkeypatch):
    monkeypatch.setitem(app.config, "EVIDENCE_MAX_BYTES", 1024)
    response = upload(client, assignment_of("PNV-KD"), b"%PDF-" + b"1" * 200_000, "x.pdf", headers=auth("canbo.noivu"))
    assert_problem(response, 413, "evidence.too_large")


def test_quota(client, app, auth, assignment_of, monkeypatch):
    monkeypatch.setitem(app.config, "EVIDENCE_QUOTA_BYTES", 1500)
    target = assignment_of("PNV-KD")
    assert upload(client, target, files.pdf("a" * 800), "a.pdf", headers=auth("canbo.noivu")).status_code == 201
    body = assert_problem(upload(client, target, files.pdf("b" * 800), "b.pdf", headers=auth("canbo.noivu")), 413, "evidence.quota_exceeded")
    assert body["quota_bytes"] == 1500
    # Another organisation has its own quota.
    assert upload(client, assignment_of("PVHKHTT-KD"), files.pdf("c" * 800), "c.pdf", headers=auth("canbo.vhkhtt")).status_code == 201


def test_other_agency_gets_404_for_metadata_content_and_upload(client, auth, assignment_of):
    target = assignment_of("PVHKHTT-KD")
    record = upload(client, target, files.pdf(), "a.pdf", headers=auth("canbo.vhkhtt")).get_json()
    other = auth("canbo.noivu")
    assert_problem(client.get(f"/api/v1/evidence/{record['id']}", headers=other), 404, "evidence.not_found")
    assert_problem(client.get(f"/api/v1/evidence/{record['id']}/content", headers=other), 404, "evidence.not_found")
    assert_problem(client.get(f"/api/v1/assignments/{target}/evidence", headers=other), 404, "assignment.not_found")
    assert_problem(upload(client, target, files.pdf(), "b.pdf", headers=other), 404, "assignment.not_found")
    assert_problem(client.post(f"/api/v1/evidence/{record['id']}/withdraw", json={"reason": "nhầm"}, headers=other), 404, "evidence.not_found")


def test_viewer_reads_but_cannot_upload(client, auth, assignment_of):
    target = assignment_of("PVHKHTT-KD")
    record = upload(client, target, files.pdf(), "a.pdf", headers=auth("canbo.vhkhtt")).get_json()
    assert client.get(f"/api/v1/evidence/{record['id']}/content", headers=auth("giamsat.tgdv"), buffered=True).status_code == 200
    assert_problem(upload(client, target, files.pdf(), "b.pdf", headers=auth("giamsat.tgdv")), 403, "evidence.forbidden")


def test_leader_in_scope_may_upload(client, auth, assignment_of):
    assert upload(client, assignment_of("PNV-KD"), files.pdf(), "a.pdf", headers=auth("lanhdao.ubnd")).status_code == 201
    assert_problem(upload(client, assignment_of("BTGDV-KD"), files.pdf(), "a.pdf", headers=auth("lanhdao.ubnd")), 404, "assignment.not_found")


def test_withdrawal(client, auth, assignment_of, session):
    target = assignment_of("PNV-KD")
    record = upload(client, target, files.pdf(), "a.pdf", headers=auth("canbo.noivu")).get_json()
    url = f"/api/v1/evidence/{record['id']}/withdraw"
    assert_problem(client.post(url, json={"reason": "x"}, headers=auth("canbo.noivu")), 422, "request.validation_failed")
    assert_problem(client.post(url, json={"reason": "không phải tôi"}, headers=auth("lanhdao.ubnd")), 403, "evidence.withdraw_forbidden")
    response = client.post(url, json={"reason": "Tải nhầm tệp"}, headers=auth("canbo.noivu"))
    assert response.status_code == 200
    body = response.get_json()
    assert body["withdrawn"] is True and body["withdrawal_reason"] == "Tải nhầm tệp"
    assert_problem(client.post(url, json={"reason": "lần nữa"}, headers=auth("canbo.noivu")), 409, "evidence.already_withdrawn")
    kinds = session.scalars(select(AssignmentEvent.kind).where(AssignmentEvent.assignment_id == target).order_by(AssignmentEvent.id)).all()
    assert kinds[-2:] == ["evidence_added", "evidence_withdrawn"]
    listed = client.get(f"/api/v1/assignments/{target}/evidence", headers=auth("canbo.noivu")).get_json()
    assert listed[0]["withdrawn"] is True  # history keeps it


def test_uploader_cannot_withdraw_after_approval(client, auth, assignment_of, session):
    target = assignment_of("PNV-KD")
    record = upload(client, target, files.pdf(), "a.pdf", headers=auth("canbo.noivu")).get_json()
    session.get(Assignment, target).status = "completed"
    session.commit()
    assert_problem(client.post(f"/api/v1/evidence/{record['id']}/withdraw", json={"reason": "muộn"}, headers=auth("canbo.noivu")),
                   409, "evidence.assignment_completed")
    assert client.post(f"/api/v1/evidence/{record['id']}/withdraw", json={"reason": "Quản trị rút"}, headers=auth("admin")).status_code == 200
