"""One contract, two backends: every test taking `backend` runs against a local folder and against
an S3 bucket (moto on loopback). Backend-specific layout and failure tests come at the end."""

from __future__ import annotations

import hashlib
import io
import random
from pathlib import Path

import pytest

from tests.storage.conftest import fresh_bucket_name, s3_client
from tracker.storage import StorageError
from tracker.storage.local import LocalStorage
from tracker.storage.s3 import S3Storage

MiB = 1024 * 1024
VIETNAMESE = (
    "Báo cáo kết quả thực hiện Nghị quyết 57-NQ/TW về phát triển khoa học, công nghệ, "
    "đổi mới sáng tạo và chuyển đổi số — Ủy ban nhân dân huyện Kim Động, tỉnh Hưng Yên.\n"
    "Tiến độ: 80%; Đơn vị chủ trì: Phòng Văn hóa, Khoa học và Thông tin. ỹ ữ ẵ ậ ờ ợ đ Đ\n"
)


def sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def pseudo_random(size: int, seed: int = 57) -> bytes:
    return random.Random(seed).randbytes(size)


def read_all(storage, key: str, chunk_size: int = MiB) -> bytes:
    """The whole blob, read in chunks as hash_of and downloads do (see test_large_blob_round_trips)."""
    with storage.open(key) as reader:
        return b"".join(iter(lambda: reader.read(chunk_size), b""))


# --- the shared contract ------------------------------------------------------------------------

def test_put_then_read_back(backend, stage):
    content = b"%PDF-1.4\n" + pseudo_random(10_000)
    key = sha(content)
    staged = stage(backend, content)
    assert staged.hexdigest() == key and staged.size == len(content)  # hashed while written

    assert not backend.exists(key)
    assert backend.put(staged, key) is True
    assert backend.exists(key)
    assert backend.size(key) == len(content)
    with backend.open(key) as reader:
        assert reader.read() == content
    assert list(backend.keys()) == [key]
    assert backend.hash_of(key) == key


def test_same_content_is_stored_once(backend, stage):
    content = VIETNAMESE.encode("utf-8") * 3
    key = sha(content)
    assert backend.put(stage(backend, content), key) is True
    assert backend.put(stage(backend, content), key) is False  # a second upload of the same bytes
    assert backend.put(stage(backend, content, chunk_size=7), key) is False
    assert list(backend.keys()) == [key]
    assert read_all(backend, key) == content


def test_several_blobs_are_listed(backend, stage):
    contents = [f"minh chứng số {i}".encode() for i in range(5)]
    for content in contents:
        assert backend.put(stage(backend, content), sha(content)) is True
    assert sorted(backend.keys()) == sorted(sha(c) for c in contents)
    for content in contents:
        assert read_all(backend, sha(content)) == content


def test_open_is_seekable(backend, stage):
    content = pseudo_random(300_000, seed=1)
    key = sha(content)
    backend.put(stage(backend, content), key)
    with backend.open(key) as reader:
        assert reader.seekable()
        for offset, length in [(0, 10), (5, 10), (65_535, 3), (123_456, 4096), (299_990, 10), (17, 1)]:
            assert reader.seek(offset) == offset
            assert reader.read(length) == content[offset:offset + length]
            assert reader.tell() == offset + length
        reader.seek(-5, io.SEEK_END)
        assert reader.read() == content[-5:]
        reader.seek(299_995)
        assert reader.read(100) == content[299_995:]  # a read crossing the end stops at the end
        assert reader.read(100) == b""  # at the end
        reader.seek(len(content) + 1000)
        assert reader.read(10) == b""  # past the end
        assert reader.read() == b""
        reader.seek(10)
        reader.seek(20, io.SEEK_CUR)
        assert reader.read(5) == content[30:35]
        reader.seek(0)
        assert reader.read(3) == content[:3]  # backwards again


def test_large_blob_round_trips(backend, stage):
    """~5 MiB: several times the S3 reader's 1 MiB buffer, staged in 64 KiB chunks."""
    content = pseudo_random(5 * MiB + 12_345, seed=2)
    key = sha(content)
    staged = stage(backend, content)
    assert staged.hexdigest() == key and staged.size == len(content)
    assert backend.put(staged, key) is True
    assert backend.size(key) == len(content)
    assert backend.hash_of(key) == key
    # Read in 1 MiB chunks, as hash_of and the download do. (A bare read() also returns the whole
    # blob on S3, but io.RawIOBase.readall then fetches it in 8 KiB ranged GETs: slow, not wrong.)
    assert read_all(backend, key) == content
    with backend.open(key) as reader:  # slices across buffer boundaries
        for offset in (MiB - 3, 3 * MiB + 7, len(content) - 100):
            reader.seek(offset)
            assert reader.read(200) == content[offset:offset + 200]


def test_unicode_content_round_trips(backend, stage):
    for encoding in ("utf-8", "utf-16", "utf-32-be"):
        content = VIETNAMESE.encode(encoding)
        key = sha(content)
        assert backend.put(stage(backend, content, chunk_size=1001), key) is True  # chunks split characters
        assert read_all(backend, key).decode(encoding) == VIETNAMESE
        assert backend.hash_of(key) == key
    assert len(list(backend.keys())) == 3


def test_delete(backend, stage):
    keep, drop = b"%PDF-1.4 giu lai", b"%PDF-1.4 xoa di"
    backend.put(stage(backend, keep), sha(keep))
    backend.put(stage(backend, drop), sha(drop))
    backend.delete(sha(drop))
    assert not backend.exists(sha(drop))
    assert list(backend.keys()) == [sha(keep)]
    assert read_all(backend, sha(keep)) == keep
    with pytest.raises(StorageError):
        backend.open(sha(drop))
    with pytest.raises(StorageError):
        backend.size(sha(drop))
    backend.delete(sha(drop))  # already gone: not an error
    backend.delete("0" * 64)  # never stored: not an error
    assert backend.put(stage(backend, drop), sha(drop)) is True  # and it can come back
    assert sorted(backend.keys()) == sorted([sha(keep), sha(drop)])


def test_missing_blob(backend):
    missing = sha(b"never stored")
    assert not backend.exists(missing)
    with pytest.raises(StorageError):
        backend.size(missing)
    with pytest.raises(StorageError):
        backend.open(missing)
    assert list(backend.keys()) == []


INVALID_KEYS = {
    "traversal": "../x",
    "traversal, 64 chars": "../" + "a" * 61,
    "uppercase": "ABC",
    "uppercase, 64 chars": "A" * 64,
    "too short": "abc",
    "63 hex digits": "a" * 63,
    "65 hex digits": "a" * 65,
    "not hex": "g" * 64,
    "empty": "",
    "slash inside": "ab/" + "c" * 61,
    "leading newline": "\n" + "a" * 64,
}


@pytest.mark.parametrize("key", INVALID_KEYS.values(), ids=INVALID_KEYS.keys())
def test_invalid_keys_are_refused(backend, stage, key):
    """Every entry point validates the key before touching the store (both backends raise
    StorageError from their key check, before any I/O)."""
    for operation in (backend.exists, backend.size, backend.open, backend.delete, backend.hash_of):
        with pytest.raises(StorageError, match="not a SHA-256 key"):
            operation(key)
    with pytest.raises(StorageError, match="not a SHA-256 key"):
        backend.put(stage(backend, b"x"), key)
    assert list(backend.keys()) == []


def test_key_with_trailing_newline_is_refused(backend):
    with pytest.raises(StorageError, match="not a SHA-256 key"):
        backend.exists("a" * 64 + "\n")


def test_staged_upload_hashes_and_measures(backend, stage):
    content = VIETNAMESE.encode("utf-8") * 200
    staged = stage(backend, content, chunk_size=333)
    assert staged.hexdigest() == sha(content)
    assert staged.size == len(content)
    assert staged.head == content[:8192]
    assert Path(staged.path).parent == Path(backend.staging_dir())
    staged.flush()
    assert Path(staged.path).read_bytes() == content


# --- local folder only --------------------------------------------------------------------------

def test_local_layout_and_no_leftovers(tmp_path, stage):
    storage = LocalStorage(str(tmp_path / "store"))
    content = VIETNAMESE.encode("utf-8")
    key = sha(content)
    staged = stage(storage, content)
    assert storage.put(staged, key) is True
    path = tmp_path / "store" / "objects" / key[:2] / key[2:4] / key
    assert path.is_file() and path.read_bytes() == content
    files = [p for p in (tmp_path / "store").rglob("*") if p.is_file()]
    assert [p for p in files if p.name.endswith(".tmp")] == []
    assert [p for p in files if "objects" in p.parts] == [path]
    staged.close()
    assert path.read_bytes() == content  # closing (deleting) the staging file leaves the blob
    assert not any((tmp_path / "store" / "staging").iterdir())


def test_local_put_when_objects_cannot_be_created(tmp_path, stage):
    """`objects` is a regular file, so no directory can be made under it."""
    root = tmp_path / "store"
    root.mkdir()
    (root / "objects").write_bytes(b"not a folder")
    storage = LocalStorage(str(root))
    content = b"%PDF-1.4 khong luu duoc"
    with pytest.raises(StorageError, match="cannot store blob"):
        storage.put(stage(storage, content), sha(content))
    assert list(storage.keys()) == []
    assert not storage.exists(sha(content))
    assert (root / "objects").read_bytes() == b"not a folder"
    assert [p.name for p in root.rglob("*.tmp")] == []


# --- S3 only ------------------------------------------------------------------------------------

@pytest.fixture
def s3_storage(moto_endpoint, tmp_path):
    made = []

    def make(**options) -> S3Storage:
        options.setdefault("bucket", fresh_bucket_name())
        options.setdefault("create_bucket", True)
        storage = S3Storage(staging_dir=str(tmp_path / "staging"), endpoint_url=moto_endpoint, **options)
        made.append(storage)
        return storage

    yield make
    for storage in made:
        storage.client.close()


def test_s3_object_layout(s3_storage, moto_endpoint, stage):
    storage = s3_storage(prefix="minh-chung/")
    content = VIETNAMESE.encode("utf-8")
    key = sha(content)
    storage.put(stage(storage, content), key)
    client = s3_client(moto_endpoint)
    try:
        listed = client.list_objects_v2(Bucket=storage.bucket)["Contents"]
        assert [item["Key"] for item in listed] == [f"minh-chung/{key[:2]}/{key}"]
        head = client.head_object(Bucket=storage.bucket, Key=f"minh-chung/{key[:2]}/{key}")
        assert head["ContentLength"] == len(content) and head["Metadata"] == {"sha256": key}
        # An object outside the prefix, or not named by a hash, is not a blob.
        client.put_object(Bucket=storage.bucket, Key=f"other/{key[:2]}/{'b' * 64}", Body=b"x")
        client.put_object(Bucket=storage.bucket, Key=f"minh-chung/{key[:2]}/README.txt", Body=b"x")
    finally:
        client.close()
    assert list(storage.keys()) == [key]


def test_s3_reads_of_a_missing_bucket_fail_as_storage_errors(s3_storage):
    storage = s3_storage(create_bucket=False)  # the bucket was never made
    with pytest.raises(StorageError, match="cannot list blobs"):
        list(storage.keys())
    with pytest.raises(StorageError):
        storage.size("a" * 64)
    with pytest.raises(StorageError):
        storage.open("a" * 64)


def test_s3_put_into_a_missing_bucket_raises_storage_error(s3_storage, stage):
    storage = s3_storage(create_bucket=False)
    content = b"%PDF-1.4 khong co bucket"
    with pytest.raises(StorageError):
        storage.put(stage(storage, content), sha(content))


def test_s3_create_bucket_is_idempotent(s3_storage, stage):
    first = s3_storage()
    content = b"%PDF-1.4 mot lan"
    first.put(stage(first, content), sha(content))
    second = s3_storage(bucket=first.bucket)  # create_bucket=True on an existing bucket
    assert list(second.keys()) == [sha(content)]


def test_s3_create_bucket_outside_us_east_1(s3_storage, stage):
    storage = s3_storage(region="ap-southeast-1")
    content = b"%PDF-1.4 Ha Noi"
    assert storage.put(stage(storage, content), sha(content)) is True
