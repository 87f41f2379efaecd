"""The evidence API with the S3 backend (moto on loopback), through the test client.

Each test gets an app of its own (EVIDENCE_BACKEND=s3, a fresh bucket) on the run's database.
It runs inside the test's rolled-back transaction like the rest of the suite: `_transaction`
swaps `db.session` itself, so this second app's requests and CLI commands use that session too
(their commits become savepoints). Committing for real is not an option: the history is
append-only in the database (migration 0004's triggers refuse DELETE on assignment_event), so
the `evidence_added` events an upload writes could never be cleaned up afterwards. A bonus:
`evidence-check`, which compares ALL live records with the bucket, sees only this test's records.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from urllib.parse import unquote

import pytest
from sqlalchemy import Connection, func, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from tests import evidence_files as files
from tests.conftest import app_config
from tests.helpers import assert_problem
from tests.storage.conftest import empty_and_remove_bucket, fresh_bucket_name, s3_client
from tracker import create_app
from tracker.extensions import db
from tracker.models import Assignment, AssignmentEvent, Evidence, Organization

VN_NAME = "Báo cáo chuyển đổi số 6 tháng.pdf"
UPLOADER = "canbo.vhkhtt"
ORGANIZATION = "PVHKHTT-KD"
CONSISTENT = "evidence store is consistent"


def make_s3_app(database_url: str, root: Path, endpoint: str, bucket: str, *, create_bucket: bool = True):
    return create_app(app_config(
        database_url, root, EVIDENCE_BACKEND="s3", S3_ENDPOINT_URL=endpoint, S3_BUCKET=bucket,
        S3_CREATE_BUCKET=create_bucket,
    ))


def close_app(instance) -> None:
    instance.extensions["tracker.storage"].client.close()
    with instance.app_context():
        db.engine.dispose()


@pytest.fixture
def s3_app(app, database_url, tmp_path, moto_endpoint):
    """An app storing evidence in a fresh bucket. `app` comes first: it loads the baseline."""
    bound_to = db.session.session_factory.kw.get("bind")
    assert isinstance(bound_to, Connection), "must run inside conftest's rolled-back transaction (see above)"
    bucket = fresh_bucket_name()
    instance = make_s3_app(database_url, tmp_path, moto_endpoint, bucket)
    try:
        yield instance
    finally:
        close_app(instance)
        empty_and_remove_bucket(moto_endpoint, bucket)


@pytest.fixture
def target(session) -> int:
    """An assignment of the uploader's organisation."""
    return session.scalar(
        select(Assignment.id).join(Organization, Organization.id == Assignment.organization_id)
        .where(Organization.code == ORGANIZATION).order_by(Assignment.id).limit(1)
    )


@pytest.fixture
def post_file(s3_app, auth, target):
    """post_file(content, name) -> the upload's response."""

    def post(content: bytes, name: str = VN_NAME, *, instance=None):
        fields = {"file": FileStorage(io.BytesIO(content), filename=name, content_type="application/octet-stream")}
        boundary, body = encode_multipart(MultiDict(fields))
        response = (instance or s3_app).test_client().post(
            f"/api/v1/assignments/{target}/evidence", data=body, headers=auth(UPLOADER),
            content_type=f"multipart/form-data; boundary={boundary}",
        )
        return response

    return post


def bucket_keys(endpoint: str, bucket: str) -> list[str]:
    client = s3_client(endpoint)
    try:
        return [item["Key"] for item in client.list_objects_v2(Bucket=bucket).get("Contents", [])]
    finally:
        client.close()


def staging_is_empty(instance) -> bool:
    staging = Path(instance.config["EVIDENCE_STAGING_DIR"])
    return not staging.exists() or not any(staging.iterdir())


def test_upload_and_download(s3_app, auth, post_file, moto_endpoint):
    content = files.pdf("Báo cáo 6 tháng đầu năm về chuyển đổi số")
    sha = hashlib.sha256(content).hexdigest()
    response = post_file(content)
    assert response.status_code == 201, response.get_json()
    record = response.get_json()
    assert record["original_name"] == VN_NAME and record["sha256"] == sha
    assert record["size"] == len(content) and record["media_type"] == "application/pdf"
    assert bucket_keys(moto_endpoint, s3_app.config["S3_BUCKET"]) == [f"evidence/{sha[:2]}/{sha}"]
    assert staging_is_empty(s3_app)

    download = s3_app.test_client().get(f"/api/v1/evidence/{record['id']}/content", headers=auth(UPLOADER), buffered=True)
    assert download.status_code == 200
    assert download.data == content
    assert download.headers["Content-Length"] == str(len(content))
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["ETag"] == f'"{sha}"'
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert unquote(disposition.split("filename*=UTF-8''")[1], encoding="utf-8", errors="strict") == VN_NAME


def test_range_and_conditional_requests(s3_app, auth, post_file):
    # 3 MiB: ranges that start in one 1 MiB read buffer of the S3 reader and end in the next.
    content = files.pdf("Biên bản kiểm tra " + "x" * (3 * 1024 * 1024))
    response = post_file(content, "bien-ban-kiem-tra.pdf")
    assert response.status_code == 201, response.get_json()
    record = response.get_json()
    url = f"/api/v1/evidence/{record['id']}/content"
    client, headers = s3_app.test_client(), auth(UPLOADER)

    partial = client.get(url, headers={**headers, "Range": "bytes=5-14"}, buffered=True)
    assert partial.status_code == 206
    assert partial.data == content[5:15]
    assert partial.headers["Content-Range"] == f"bytes 5-14/{len(content)}"

    start, end = 1024 * 1024 - 10, 1024 * 1024 + 9
    across = client.get(url, headers={**headers, "Range": f"bytes={start}-{end}"}, buffered=True)
    assert across.status_code == 206 and across.data == content[start:end + 1]

    tail = client.get(url, headers={**headers, "Range": "bytes=-12"}, buffered=True)
    assert tail.status_code == 206 and tail.data == content[-12:]
    assert tail.headers["Content-Range"] == f"bytes {len(content) - 12}-{len(content) - 1}/{len(content)}"

    unsatisfiable = client.get(url, headers={**headers, "Range": f"bytes={len(content) + 10}-"}, buffered=True)
    assert unsatisfiable.status_code == 416
    not_modified = client.get(url, headers={**headers, "If-None-Match": f'"{record["sha256"]}"'}, buffered=True)
    assert not_modified.status_code == 304 and not_modified.data == b""


def test_same_content_twice_is_stored_once_and_recorded_twice(s3_app, post_file, session, moto_endpoint):
    content = files.pdf("Nộp lại lần hai")
    sha = hashlib.sha256(content).hexdigest()
    first = post_file(content, "lan-mot.pdf")
    second = post_file(content, VN_NAME)
    assert first.status_code == second.status_code == 201
    assert first.get_json()["id"] != second.get_json()["id"]
    assert first.get_json()["sha256"] == second.get_json()["sha256"] == sha
    assert bucket_keys(moto_endpoint, s3_app.config["S3_BUCKET"]) == [f"evidence/{sha[:2]}/{sha}"]
    ids = [first.get_json()["id"], second.get_json()["id"]]
    assert session.scalar(select(func.count(Evidence.id)).where(Evidence.id.in_(ids), Evidence.sha256 == sha)) == 2
    events = session.scalars(select(AssignmentEvent).where(AssignmentEvent.kind == "evidence_added")).all()
    assert sorted(e.new_value["evidence_id"] for e in events if e.new_value["evidence_id"] in ids) == sorted(ids)


def run_evidence_check(instance, *options: str):
    result = instance.test_cli_runner().invoke(args=["tracker", "evidence-check", *options])
    return result, result.output.splitlines()


def other_live_shas(ours: set[str]) -> set[str]:
    """Live evidence records that this test did not create (normally none: tests roll back)."""
    return set(db.session.scalars(select(Evidence.sha256).where(Evidence.content_purged_at.is_(None)))) - ours


def assert_consistent_for(instance, ours: set[str], *options: str) -> None:
    """evidence-check compares ALL live records with the bucket. The bucket is this test's alone,
    so any orphan is ours to explain; records committed by others (there should be none) can
    only show up as missing objects, which are tolerated for their hashes only."""
    others = other_live_shas(ours)
    result, lines = run_evidence_check(instance, *options)
    assert not any(sha in line for line in lines for sha in ours), result.output
    assert not any(line.startswith(("orphaned object", "bad hash", "stale staging")) for line in lines), result.output
    if not others:
        assert result.exit_code == 0, result.output
        assert lines == [CONSISTENT]
    else:
        problems = [line for line in lines if line.startswith("missing object")]
        assert {line.rsplit(": ", 1)[1] for line in problems} <= others, result.output


def test_evidence_check_reports_a_consistent_store(s3_app, post_file):
    contents = [files.pdf("Kế hoạch"), files.pdf("Báo cáo"), files.pdf("Kế hoạch")]  # one twice
    for content in contents:
        assert post_file(content).status_code == 201
    ours = {hashlib.sha256(c).hexdigest() for c in contents}
    assert len(ours) == 2
    assert_consistent_for(s3_app, ours)
    assert_consistent_for(s3_app, ours, "--verify-hashes")


def test_evidence_check_finds_orphans_and_missing_objects(s3_app, auth, post_file, moto_endpoint):
    content = files.pdf("Minh chứng sẽ mất")
    response = post_file(content)
    assert response.status_code == 201
    sha = response.get_json()["sha256"]
    bucket = s3_app.config["S3_BUCKET"]
    orphan = hashlib.sha256(b"an object no record uses").hexdigest()
    client = s3_client(moto_endpoint)
    try:
        client.put_object(Bucket=bucket, Key=f"evidence/{orphan[:2]}/{orphan}", Body=b"an object no record uses")
        result, lines = run_evidence_check(s3_app)
        assert result.exit_code == 1
        assert f"orphaned object (no record): {orphan}" in lines
        result, lines = run_evidence_check(s3_app, "--repair")
        assert f"repaired: {orphan}" in lines
        assert sorted(bucket_keys(moto_endpoint, bucket)) == [f"evidence/{sha[:2]}/{sha}"]
        assert_consistent_for(s3_app, {sha})

        client.delete_object(Bucket=bucket, Key=f"evidence/{sha[:2]}/{sha}")  # lost behind the app's back
    finally:
        client.close()
    result, lines = run_evidence_check(s3_app)
    assert result.exit_code == 1
    assert f"missing object (record without its file): {sha}" in lines
    gone = s3_app.test_client().get(f"/api/v1/evidence/{response.get_json()['id']}/content", headers=auth(UPLOADER), buffered=True)
    assert_problem(gone, 503, "evidence.storage_unavailable")
    assert gone.headers["Retry-After"] == "30"


def test_upload_when_the_bucket_is_gone_is_503(app, database_url, tmp_path, moto_endpoint, post_file):
    broken = make_s3_app(database_url, tmp_path / "broken", moto_endpoint, fresh_bucket_name(), create_bucket=False)
    try:
        response = post_file(files.pdf("Không có bucket"), instance=broken)
        if not staging_is_empty(broken):  # not an AssertionError: must not pass as the expected failure
            pytest.fail("a staging file was left behind")
        assert_problem(response, 503, "evidence.storage_unavailable")
    finally:
        close_app(broken)
