"""Evidence in any S3-compatible object store (AWS S3, MinIO, Ceph, ...), through boto3."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from typing import IO

import boto3
from boto3.exceptions import S3UploadFailedError
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from tracker.storage.base import SHA256_HEX, StagedUpload, Storage, StorageError

_TRANSFER = TransferConfig(multipart_threshold=16 * 1024 * 1024, multipart_chunksize=16 * 1024 * 1024, max_concurrency=2)
_READ_BUFFER = 1024 * 1024


class _RangeReader(io.RawIOBase):
    """A seekable reader of one object: each buffered read is one ranged GET."""

    def __init__(self, client, bucket: str, key: str, size: int):
        self._client, self._bucket, self._key, self._size = client, bucket, key, size
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readall(self) -> bytes:
        """The rest of the object in one ranged GET (not in small default-sized pieces)."""
        if self._pos >= self._size:
            return b""
        buffer = bytearray(self._size - self._pos)
        view = memoryview(buffer)
        while view:
            count = self.readinto(view)
            if not count:
                break
            view = view[count:]
        return bytes(buffer[: len(buffer) - len(view)])

    def readinto(self, buffer) -> int:
        if self._pos >= self._size:
            return 0
        end = min(self._pos + len(buffer), self._size) - 1
        try:
            body = self._client.get_object(Bucket=self._bucket, Key=self._key, Range=f"bytes={self._pos}-{end}")["Body"]
            data = body.read()
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(f"cannot read blob: {exc}") from exc
        buffer[: len(data)] = data
        self._pos += len(data)
        return len(data)


class S3Storage(Storage):
    name = "s3"

    def __init__(self, *, bucket: str, staging_dir: str, endpoint_url: str | None = None, region: str | None = None,
                 prefix: str = "evidence/", create_bucket: bool = False):
        self.bucket = bucket
        self.prefix = prefix
        self.staging = staging_dir
        self.client = boto3.client(
            "s3", endpoint_url=endpoint_url or None, region_name=region or "us-east-1",
            config=Config(retries={"max_attempts": 3, "mode": "standard"}, s3={"addressing_style": "path"}),
        )
        if create_bucket:
            self._ensure_bucket(region or "us-east-1")

    def _ensure_bucket(self, region: str) -> None:
        try:
            self.client.head_bucket(Bucket=self.bucket)
            return
        except ClientError:
            pass
        options = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        try:
            self.client.create_bucket(Bucket=self.bucket, **options)
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(f"cannot create bucket {self.bucket}: {exc}") from exc

    def staging_dir(self) -> str:
        return self.staging

    def _key(self, sha256: str) -> str:
        if not SHA256_HEX.match(sha256):
            raise StorageError(f"not a SHA-256 key: {sha256!r}")
        return f"{self.prefix}{sha256[:2]}/{sha256}"

    def put(self, staged: StagedUpload, sha256: str) -> bool:
        if self.exists(sha256):
            return False
        try:
            staged.flush()
            self.client.upload_file(staged.path, self.bucket, self._key(sha256), Config=_TRANSFER,
                                    ExtraArgs={"Metadata": {"sha256": sha256}})
        except (BotoCoreError, ClientError, S3UploadFailedError, OSError) as exc:
            raise StorageError(f"cannot store blob: {exc}") from exc
        return True

    def _head(self, sha256: str):
        try:
            return self.client.head_object(Bucket=self.bucket, Key=self._key(sha256))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return None
            raise StorageError(f"cannot stat blob: {exc}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"cannot stat blob: {exc}") from exc

    def exists(self, sha256: str) -> bool:
        return self._head(sha256) is not None

    def size(self, sha256: str) -> int:
        head = self._head(sha256)
        if head is None:
            raise StorageError(f"no blob {sha256}")
        return int(head["ContentLength"])

    def open(self, sha256: str) -> IO[bytes]:
        return io.BufferedReader(_RangeReader(self.client, self.bucket, self._key(sha256), self.size(sha256)), _READ_BUFFER)

    def delete(self, sha256: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._key(sha256))
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(f"cannot delete blob: {exc}") from exc

    def keys(self) -> Iterator[str]:
        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix):
                for item in page.get("Contents", []):
                    name = os.path.basename(item["Key"])
                    if SHA256_HEX.match(name):
                        yield name
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(f"cannot list blobs: {exc}") from exc
