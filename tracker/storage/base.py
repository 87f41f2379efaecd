"""Evidence storage: content-addressed blobs behind one small interface.

An upload is first streamed to a staging file on local disk (hashed as it is written, never
held in memory); `put` then places the staged file under its SHA-256. Blobs are immutable,
so the same content uploaded twice is stored once.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import IO

SHA256_HEX = re.compile(r"^[0-9a-f]{64}\Z")
HEAD_BYTES = 8192


class StorageError(Exception):
    """The backend could not store, read or delete a blob."""


class StagedUpload:
    """A writable temporary file that hashes and measures what is written to it.

    Werkzeug's multipart parser writes the file part straight into it, chunk by chunk.
    """

    def __init__(self, directory: str):
        os.makedirs(directory, exist_ok=True)
        self._file = tempfile.NamedTemporaryFile(dir=directory, prefix="upload-", suffix=".part", delete=True)  # noqa: SIM115
        self._sha256 = hashlib.sha256()
        self.size = 0
        self.head = b""

    @property
    def path(self) -> str:
        return self._file.name

    def write(self, data: bytes) -> int:
        self._sha256.update(data)
        self.size += len(data)
        if len(self.head) < HEAD_BYTES:
            self.head += data[: HEAD_BYTES - len(self.head)]
        return self._file.write(data)

    def hexdigest(self) -> str:
        return self._sha256.hexdigest()

    def flush(self) -> None:
        self._file.flush()
        os.fsync(self._file.fileno())

    def __getattr__(self, name):  # read, seek, tell, close, ... of the underlying file
        return getattr(self._file, name)


class Storage(ABC):
    """Where evidence blobs live. Keys are SHA-256 hex digests."""

    name: str = "abstract"

    @abstractmethod
    def put(self, staged: StagedUpload, sha256: str) -> bool:
        """Store the staged file under `sha256`; return False if it was already there."""

    @abstractmethod
    def exists(self, sha256: str) -> bool: ...

    @abstractmethod
    def size(self, sha256: str) -> int: ...

    @abstractmethod
    def open(self, sha256: str) -> IO[bytes]:
        """A seekable binary reader of the blob."""

    @abstractmethod
    def delete(self, sha256: str) -> None: ...

    @abstractmethod
    def keys(self) -> Iterator[str]:
        """Every stored blob's key."""

    def staging_dir(self) -> str:
        raise NotImplementedError

    def hash_of(self, sha256: str) -> str:
        """Recompute a stored blob's SHA-256, streaming."""
        digest = hashlib.sha256()
        with self.open(sha256) as reader:
            for chunk in iter(lambda: reader.read(1024 * 1024), b""):
                digest.update(chunk)
        return digest.hexdigest()
