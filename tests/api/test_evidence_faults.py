"""Faults injected for real (a broken store, a database that refuses the commit, a client that
goes away mid-upload), each on a database and a store of its own: afterwards nothing is
orphaned, and `flask tracker evidence-check` finds nothing to repair."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from tests import evidence_files as files
from tests.conftest import scratch_app
from tests.helpers import assert_problem
from tracker.extensions import db
from tracker.models import Evidence
from tracker.storage import make_storage

pytestmark = pytest.mark.no_transaction


@pytest.fixture
def isolated(database_url, tmp_path):
    """An app on a fresh database and a fresh evidence folder, with the baseline loaded."""
    app, target, headers = scratch_app(database_url, tmp_path, "faults", username="canbo.noivu", org_code="PNV-KD")
    yield app, target, headers
    with app.app_context():
        db.engine.dispose()


def multipart(content: bytes, name: str, description: str | None = None) -> tuple[bytes, str]:
    fields = {"file": FileStorage(io.BytesIO(content), filename=name)}
    if description:
        fields["description"] = description
    boundary, body = encode_multipart(MultiDict(fields))
    return body, f"multipart/form-data; boundary={boundary}"


def post(app, target, headers, content, name, description=None):
    body, content_type = multipart(content, name, description)
    return app.test_client().post(f"/api/v1/assignments/{target}/evidence", data=body, content_type=content_type, headers=headers)


def evidence_rows(app) -> int:
    with app.app_context():
        count = db.session.scalar(select(func.count(Evidence.id)))
        db.session.remove()
        return count


def assert_store_clean(app) -> None:
    result = app.test_cli_runner().invoke(args=["tracker", "evidence-check", "--verify-hashes"])
    assert result.exit_code == 0, result.output
    assert "consistent" in result.output
    staging = Path(app.config["EVIDENCE_STAGING_DIR"])
    assert not staging.exists() or list(staging.iterdir()) == []


def test_storage_write_fails(isolated):
    app, target, headers = isolated
    objects = Path(app.config["EVIDENCE_DIR"], "objects")
    objects.parent.mkdir(parents=True, exist_ok=True)
    objects.write_text("not a folder")  # every write under objects/ now fails with a real OSError
    response = post(app, target, headers, files.pdf("lỗi kho"), "bao-cao.pdf")
    assert_problem(response, 503, "evidence.storage_unavailable")
    assert response.headers["Retry-After"] == "30"
    assert evidence_rows(app) == 0
    objects.unlink()
    assert_store_clean(app)


def _install_commit_failure(app) -> None:
    """A real database refusal of evidence rows described 'fail-commit': at COMMIT on PostgreSQL
    (a deferred constraint trigger), at INSERT on SQLite (which has no deferred triggers)."""
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text(
                "CREATE FUNCTION fail_evidence() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'injected commit failure'; END $$"
            ))
            db.session.execute(text(
                "CREATE CONSTRAINT TRIGGER fail_evidence AFTER INSERT ON evidence DEFERRABLE INITIALLY DEFERRED "
                "FOR EACH ROW WHEN (NEW.description = 'fail-commit') EXECUTE FUNCTION fail_evidence()"
            ))
        else:
            db.session.execute(text(
                "CREATE TRIGGER fail_evidence BEFORE INSERT ON evidence WHEN NEW.description = 'fail-commit' "
                "BEGIN SELECT RAISE(ABORT, 'injected commit failure'); END"
            ))
        db.session.commit()
        db.session.remove()


def test_database_commit_fails_after_the_object_is_stored(isolated):
    app, target, headers = isolated
    _install_commit_failure(app)
    content = files.pdf("commit thất bại")
    response = post(app, target, headers, content, "bao-cao.pdf", description="fail-commit")
    assert_problem(response, 500, "server.internal_error")
    assert evidence_rows(app) == 0
    assert list(make_storage(app.config).keys()) == []
    assert_store_clean(app)


def test_failed_commit_keeps_content_that_another_record_uses(isolated):
    app, target, headers = isolated
    _install_commit_failure(app)
    content = files.pdf("dùng chung")
    assert post(app, target, headers, content, "lan-1.pdf").status_code == 201
    assert_problem(post(app, target, headers, content, "lan-2.pdf", description="fail-commit"), 500, "server.internal_error")
    assert evidence_rows(app) == 1
    assert len(list(make_storage(app.config).keys())) == 1
    assert_store_clean(app)


def test_upload_cut_off_halfway(isolated):
    app, target, headers = isolated
    body, content_type = multipart(files.pdf("x" * 3_000_000), "lon.pdf")
    response = app.test_client().post(
        f"/api/v1/assignments/{target}/evidence", input_stream=io.BytesIO(body[: len(body) // 2]),
        content_length=len(body), content_type=content_type, headers=headers,
    )
    assert_problem(response, 400, "request.incomplete_body")
    assert evidence_rows(app) == 0
    assert list(make_storage(app.config).keys()) == []
    assert_store_clean(app)


def test_evidence_check_finds_and_repairs(isolated):
    app, target, headers = isolated
    first = post(app, target, headers, files.pdf("một"), "mot.pdf").get_json()
    second = post(app, target, headers, files.pdf("hai"), "hai.pdf").get_json()
    storage = make_storage(app.config)
    runner = app.test_cli_runner()

    orphan = files.pdf("mồ côi")
    import hashlib

    from tracker.storage import StagedUpload

    staged = StagedUpload(storage.staging_dir())
    staged.write(orphan)
    storage.put(staged, hashlib.sha256(orphan).hexdigest())
    staged.close()
    result = runner.invoke(args=["tracker", "evidence-check"])
    assert result.exit_code != 0 and "orphaned object" in result.output
    repaired = runner.invoke(args=["tracker", "evidence-check", "--repair"])
    assert repaired.exit_code == 0 and "repaired" in repaired.output

    blob = Path(app.config["EVIDENCE_DIR"], "objects", second["sha256"][:2], second["sha256"][2:4], second["sha256"])
    blob.write_bytes(b"%PDF-tampered")
    tampered = runner.invoke(args=["tracker", "evidence-check", "--verify-hashes"])
    assert tampered.exit_code != 0 and f"bad hash: {second['sha256']}" in tampered.output

    storage.delete(first["sha256"])
    missing = runner.invoke(args=["tracker", "evidence-check"])
    assert missing.exit_code != 0 and f"missing object (record without its file): {first['sha256']}" in missing.output


def test_purge_removes_content_of_withdrawn_evidence_only(isolated):
    app, target, headers = isolated
    kept = post(app, target, headers, files.pdf("giữ"), "giu.pdf").get_json()
    shared = files.pdf("chung")
    gone = post(app, target, headers, shared, "bo.pdf").get_json()
    twin = post(app, target, headers, shared, "ban-sao.pdf").get_json()
    client = app.test_client()
    assert client.post(f"/api/v1/evidence/{gone['id']}/withdraw", json={"reason": "Tải nhầm"}, headers=headers).status_code == 200
    result = app.test_cli_runner().invoke(args=["tracker", "evidence-purge"])
    assert result.exit_code == 0 and "0 blobs removed" in result.output  # the twin still uses the content
    assert client.get(f"/api/v1/evidence/{gone['id']}/content", headers=headers).status_code == 410
    assert client.get(f"/api/v1/evidence/{twin['id']}/content", headers=headers, buffered=True).data == shared
    assert client.post(f"/api/v1/evidence/{twin['id']}/withdraw", json={"reason": "Trùng"}, headers=headers).status_code == 200
    result = app.test_cli_runner().invoke(args=["tracker", "evidence-purge"])
    assert "1 blobs removed" in result.output
    assert client.get(f"/api/v1/evidence/{kept['id']}/content", headers=headers, buffered=True).status_code == 200
    assert_store_clean(app)
    assert os.path.isdir(app.config["EVIDENCE_DIR"])
