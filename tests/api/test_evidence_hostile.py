"""Hostile evidence uploads through the API: zip bombs (honest and lying headers), archives
with too many members or damaged, a PDF that is also an HTML page, two files in one request.
Each is refused with its code, and nothing is stored: no blob, no record, no history event,
no staging file left."""

import io
import os

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from tests import evidence_files as files
from tests.evidence_files import MiB
from tests.helpers import assert_problem
from tracker.models import Assignment, AssignmentEvent, Evidence, Organization
from tracker.storage import make_storage

BOMB_MEMBER = "word/media/image1.bin"


@pytest.fixture
def target(session) -> int:
    return session.scalar(
        select(Assignment.id).join(Organization, Organization.id == Assignment.organization_id)
        .where(Organization.code == "PNV-KD").order_by(Assignment.id).limit(1)
    )


@pytest.fixture
def officer(auth) -> dict[str, str]:
    return auth("canbo.noivu")


def post_parts(client, assignment_id, parts: list[tuple[str, bytes, str]], headers):
    """A multipart body with these (field, content, file name) file parts, encoded in memory."""
    fields = MultiDict([(field, FileStorage(io.BytesIO(content), filename=name)) for field, content, name in parts])
    boundary, body = encode_multipart(fields)
    return client.post(f"/api/v1/assignments/{assignment_id}/evidence", data=body, headers=headers,
                       content_type=f"multipart/form-data; boundary={boundary}")


def upload(client, assignment_id, content, name, headers):
    return post_parts(client, assignment_id, [("file", content, name)], headers)


@pytest.fixture
def nothing_stored(app, session):
    """Asserts, after the test's request, that the store, the records and the history are as before."""
    storage = make_storage(app.config)
    staging = app.config["EVIDENCE_STAGING_DIR"]

    def state():
        return (
            session.scalar(select(func.count(Evidence.id))),
            session.scalar(select(func.count(AssignmentEvent.id))),
            set(storage.keys()),
        )

    before = state()

    def check():
        assert state() == before
        assert not os.path.isdir(staging) or os.listdir(staging) == []

    return check


REFUSED_ARCHIVES = [
    ("bomb by its headers", lambda: files.docx_with(BOMB_MEMBER, b"\0" * (16 * MiB)),
     {"EVIDENCE_ARCHIVE_MAX_UNCOMPRESSED_BYTES": MiB, "EVIDENCE_ARCHIVE_MAX_RATIO": 10**6}, 413, "evidence.archive_too_large"),
    ("bomb with lying headers", lambda: files.rewritten(files.docx_with(BOMB_MEMBER, b"\0" * (16 * MiB)), BOMB_MEMBER, size=1000),
     {"EVIDENCE_ARCHIVE_MAX_UNCOMPRESSED_BYTES": MiB, "EVIDENCE_ARCHIVE_MAX_RATIO": 10**6}, 413, "evidence.archive_too_large"),
    ("ratio", lambda: files.docx_with(BOMB_MEMBER, b"\0" * (4 * MiB)), {}, 422, "evidence.archive_ratio"),
    ("ratio with lying headers", lambda: files.rewritten(files.docx_with(BOMB_MEMBER, b"\0" * (16 * MiB)), BOMB_MEMBER, size=1000),
     {}, 422, "evidence.archive_ratio"),
    ("too many members", lambda: files.archive({**files.DOCX_SKELETON, **{f"word/media/{i}.png": b"" for i in range(20)}}),
     {"EVIDENCE_ARCHIVE_MAX_MEMBERS": 10}, 422, "evidence.archive_too_many_members"),
    ("corrupt", lambda: b"PK\x03\x04" + b"\x14\x00" * 600, {}, 422, "evidence.archive_corrupt"),
    ("truncated", lambda: files.long_docx()[:50_000], {}, 422, "evidence.archive_corrupt"),
    ("encrypted", lambda: files.rewritten(files.docx(), "word/document.xml", flag_bits=0x1), {}, 422, "evidence.archive_encrypted"),
]


@pytest.mark.parametrize(("case", "make", "config", "status", "code"), REFUSED_ARCHIVES, ids=[r[0] for r in REFUSED_ARCHIVES])
def test_hostile_archives_are_refused_and_nothing_is_stored(client, app, target, officer, nothing_stored, monkeypatch,
                                                            case, make, config, status, code):
    for key, value in config.items():
        monkeypatch.setitem(app.config, key, value)
    assert_problem(upload(client, target, make(), "bao-cao.docx", officer), status, code)
    nothing_stored()


def test_a_bomb_is_refused_under_the_default_limits(client, target, officer, nothing_stored):
    """256 MiB of zeros (~250 KiB on the wire): past the default 200 MiB, and 1000:1."""
    bomb = files.docx_with(BOMB_MEMBER, b"\0" * (256 * MiB))
    assert len(bomb) < MiB
    assert_problem(upload(client, target, bomb, "ke-hoach.docx", officer), 413, "evidence.archive_too_large")
    nothing_stored()


def test_a_bomb_named_zip_is_refused_too(client, target, officer, nothing_stored):
    bomb = files.archive({"du-lieu.bin": b"\0" * (4 * MiB)})
    body = assert_problem(upload(client, target, bomb, "ho-so.zip", officer), 422, "evidence.archive_ratio")
    assert body["member"] == "du-lieu.bin" and body["max_ratio"] == 100
    nothing_stored()


@pytest.mark.parametrize(
    ("make", "name", "media_type"),
    [
        (files.docx, "ke-hoach.docx", "wordprocessingml"),
        (files.xlsx, "tien-do.xlsx", "spreadsheetml"),
        (files.long_docx, "bao-cao-dai.docx", "wordprocessingml"),
        (files.odt, "ke-hoach.odt", "opendocument.text"),
    ],
)
def test_ordinary_office_files_are_still_accepted(client, target, officer, make, name, media_type):
    response = upload(client, target, make(), name, officer)
    assert response.status_code == 201, response.get_json()
    assert media_type in response.get_json()["media_type"]


def test_a_text_file_starting_with_pk_is_not_an_archive(client, target, officer):
    response = upload(client, target, "PKT Phòng Nội vụ: 80%\n".encode(), "ghi-chu.txt", officer)
    assert response.status_code == 201, response.get_json()


@pytest.mark.parametrize(
    "content",
    [
        b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n<html><script>alert(1)</script></html>\n%%EOF\n",
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n<!DOCTYPE html><BODY onload=alert(document.domain)>\n%%EOF\n",
    ],
    ids=["html and script", "doctype and body"],
)
def test_pdf_that_is_also_a_web_page_is_refused(client, target, officer, nothing_stored, content):
    body = assert_problem(upload(client, target, content, "bao-cao.pdf", officer), 415, "evidence.polyglot")
    assert body["detected"] == "polyglot"
    nothing_stored()


def test_ordinary_pdf_is_accepted(client, target, officer):
    response = upload(client, target, files.pdf("Báo cáo <quý> II"), "bao-cao.pdf", officer)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["media_type"] == "application/pdf"


@pytest.mark.parametrize(
    "parts",
    [
        [("file", files.pdf("một"), "mot.pdf"), ("file", files.pdf("hai"), "hai.pdf")],
        [("file", files.pdf("một"), "mot.pdf"), ("attachment", files.EXE, "x.pdf")],
        [("attachment", files.pdf("một"), "mot.pdf"), ("file", files.pdf("hai"), "hai.pdf"), ("file", files.CSV, "c.csv")],
    ],
    ids=["two files", "a second part under another name", "three parts"],
)
def test_more_than_one_file_part_is_refused(client, target, officer, nothing_stored, parts):
    assert_problem(post_parts(client, target, parts, officer), 400, "evidence.multiple_files")
    nothing_stored()
