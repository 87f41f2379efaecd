"""ZIP-based evidence (ZIP, OOXML, OpenDocument) within limits: member count, size once
decompressed, compression ratio; damaged, encrypted and lying archives are refused."""

import io
import zipfile

import pytest

from tests import evidence_files as files
from tests.evidence_files import MiB
from tracker.domain.archives import RATIO_GRACE_BYTES, ArchiveLimits, inspect_zip
from tracker.domain.evidence import EvidenceRejected

DEFAULTS = ArchiveLimits(max_uncompressed=200 * MiB, max_ratio=100, max_members=10_000)


@pytest.fixture
def inspect(tmp_path):
    def run(content: bytes, limits: ArchiveLimits = DEFAULTS):
        path = tmp_path / "upload.part"
        path.write_bytes(content)
        return inspect_zip(str(path), limits)

    return run


def refused(inspect, content: bytes, limits: ArchiveLimits = DEFAULTS) -> EvidenceRejected:
    with pytest.raises(EvidenceRejected) as caught:
        inspect(content, limits)
    return caught.value


@pytest.mark.parametrize("make", [files.docx, files.xlsx, files.odt, files.long_docx], ids=["docx", "xlsx", "odt", "long docx"])
def test_ordinary_documents_pass(inspect, make):
    facts = inspect(make())
    assert "[Content_Types].xml" in facts.members or facts.mimetype == b"application/vnd.oasis.opendocument.text"


def test_long_document_is_past_the_ratio_grace_but_within_the_ratio():
    content = files.long_docx()
    with zipfile.ZipFile(io.BytesIO(content)) as zipped:
        info = zipped.getinfo("word/document.xml")
    assert info.file_size > RATIO_GRACE_BYTES and info.file_size < DEFAULTS.max_ratio * info.compress_size


def test_small_members_compress_as_well_as_they_like(inspect):
    facts = inspect(files.docx_with("word/styles.xml", b"\0" * (RATIO_GRACE_BYTES // 2)))  # ratio ~500, but 512 KiB
    assert "word/styles.xml" in facts.members


def test_too_large_once_decompressed_by_its_headers(inspect):
    bomb = files.docx_with("word/media/zeros.bin", b"\0" * (16 * MiB))
    rejected = refused(inspect, bomb, ArchiveLimits(max_uncompressed=1 * MiB, max_ratio=10**6, max_members=100))
    assert rejected.code == "evidence.archive_too_large"
    assert rejected.extra["max_uncompressed_bytes"] == MiB


def test_too_large_with_headers_that_lie(inspect):
    """The headers say 1000 bytes; the member inflates to 16 MiB: seen while decompressing."""
    bomb = files.rewritten(files.docx_with("word/media/zeros.bin", b"\0" * (16 * MiB)), "word/media/zeros.bin", size=1000)
    assert refused(inspect, bomb, ArchiveLimits(max_uncompressed=1 * MiB, max_ratio=10**6, max_members=100)).code == "evidence.archive_too_large"


def test_ratio_by_its_headers(inspect):
    rejected = refused(inspect, files.docx_with("word/document.xml", b"\0" * (4 * MiB)))
    assert rejected.code == "evidence.archive_ratio"
    assert rejected.extra == {"member": "word/document.xml", "max_ratio": 100}


def test_ratio_with_headers_that_lie(inspect):
    bomb = files.rewritten(files.docx_with("word/media/zeros.bin", b"\0" * (16 * MiB)), "word/media/zeros.bin", size=1000)
    assert refused(inspect, bomb).code == "evidence.archive_ratio"


def test_recorded_size_that_is_not_the_real_one_is_corrupt(inspect):
    """Within every limit, but the headers say 1000 bytes for 300 KiB: no reader may be told one thing and get another."""
    lying = files.rewritten(files.docx_with("word/media/zeros.bin", b"\0" * (300 * 1024)), "word/media/zeros.bin", size=1000)
    assert refused(inspect, lying).code == "evidence.archive_corrupt"


def test_too_many_members(inspect):
    crowded = files.archive({**files.DOCX_SKELETON, **{f"word/media/{i}.bin": b"" for i in range(20)}})
    limits = ArchiveLimits(max_uncompressed=200 * MiB, max_ratio=100, max_members=10)
    rejected = refused(inspect, crowded, limits)
    assert rejected.code == "evidence.archive_too_many_members" and rejected.extra == {"max_members": 10}
    # the end record may say 2 members: the central directory itself is counted
    assert refused(inspect, files.rewritten(crowded, "word/document.xml", entries=2), limits).code == "evidence.archive_too_many_members"
    assert len(inspect(crowded).members) == 22


def test_a_lying_member_count_within_limits_is_harmless(inspect):
    crowded = files.archive({**files.DOCX_SKELETON, **{f"word/media/{i}.bin": b"" for i in range(20)}})
    assert len(inspect(files.rewritten(crowded, "word/document.xml", entries=2)).members) == 22


@pytest.mark.parametrize(
    "content",
    [
        b"PK\x03\x04" + b"\x00\xff" * 500,
        files.long_docx()[:20_000],  # cut off
        files.long_docx()[:-30],  # the end record cut
    ],
    ids=["garbage", "truncated", "end record cut"],
)
def test_corrupt(inspect, content):
    assert refused(inspect, content).code == "evidence.archive_corrupt"


def test_bad_crc_is_corrupt(inspect):
    content = bytearray(files.archive({**files.DOCX_SKELETON, "word/media/a.txt": b"nguyen ban " * 50}, zipfile.ZIP_STORED))
    at = content.index(b"nguyen ban ")
    content[at] ^= 0x20
    assert refused(inspect, bytes(content)).code == "evidence.archive_corrupt"


def test_encrypted(inspect):
    content = files.rewritten(files.docx(), "word/document.xml", flag_bits=0x1)
    assert refused(inspect, content).code == "evidence.archive_encrypted"


def test_opendocument_mimetype_is_read_from_the_member(inspect):
    assert inspect(files.odt()).mimetype == b"application/vnd.oasis.opendocument.text"


def test_zip64_end_record(inspect):
    many = files.archive({f"{i}.txt": b"" for i in range(70_000)})
    assert b"PK\x06\x06" in many[-200:]  # more members than the classic end record can count
    assert refused(inspect, many).code == "evidence.archive_too_many_members"
