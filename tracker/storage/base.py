"""Evidence storage: content-addressed blobs behind one small interface.

An upload is first streamed to a staging file on local disk (hashed as it is written, never
held in memory); `put` then places the staged file under its SHA-256. Blobs are immutable,
so the same content uploaded twice is stored once.

A staging file is locked (`flock`) by its upload for as long as the upload lives, and removed
before the lock goes; the kernel drops the lock of a process that dies. So a staging file whose
lock can be taken belongs to no live upload, whatever its age, in any process: that is how
`remove_abandoned_staging` (at start-up and by `evidence-check --repair`) tells the dead from the
living.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import stat
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import IO

SHA256_HEX = re.compile(r"^[0-9a-f]{64}\Z")
HEAD_BYTES = 8192
STAGING_PREFIX, STAGING_SUFFIX = "upload-", ".part"


class StorageError(Exception):
    """The backend could not store, read or delete a blob."""


class StagedUpload:
    """A writable temporary file that hashes and measures what is written to it.

    Werkzeug's multipart parser writes the file part straight into it, chunk by chunk. Closing
    it deletes the file.
    """

    _file = None  # until __init__ has one: close() and __del__ must not reach __getattr__

    def __init__(self, directory: str):
        os.makedirs(directory, exist_ok=True)
        # Created and locked under the folder's shared lock: a clean-up (exclusive) never sees
        # this file between its creation and its lock.
        with _folder_lock(directory, fcntl.LOCK_SH):
            self._file = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed by close()
                dir=directory, prefix=STAGING_PREFIX, suffix=STAGING_SUFFIX, delete=False,
            )
            try:
                fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                self.close()
                raise
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

    def close(self) -> None:
        if self._file is None or self._file.closed:
            return
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._file.name)  # before the lock goes with the descriptor
        self._file.close()

    def __del__(self):
        self.close()

    def __getattr__(self, name):  # read, seek, tell, ... of the underlying file
        return getattr(self._file, name)


@contextlib.contextmanager
def _folder_lock(directory: str, operation: int) -> Iterator[None]:
    descriptor = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(descriptor, operation)
        yield
    finally:
        os.close(descriptor)  # releases the lock


def remove_abandoned_staging(directory: str, *, remove: bool = True) -> list[str]:
    """Staging files that no live upload holds (their upload's process died): removed, or only
    listed with `remove=False`. Files in use by uploads in flight, here or in any other process
    on this machine, are left alone; so is anything not named like a staging file."""
    if not os.path.isdir(directory):
        return []
    found = []
    with _folder_lock(directory, fcntl.LOCK_EX):
        for name in sorted(os.listdir(directory)):
            path = os.path.join(directory, name)
            if name.startswith(STAGING_PREFIX) and name.endswith(STAGING_SUFFIX) and _abandoned(path):
                found.append(path)
                if remove:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(path)
    return found


def _abandoned(path: str) -> bool:
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return False
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:  # gone meanwhile (its upload finished), or not ours to open
        return False
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # a live upload holds it
        # An upload removes its file before it lets the lock go: if the name still leads to
        # this file, its upload died.
        try:
            return os.path.samestat(os.fstat(descriptor), os.stat(path, follow_symlinks=False))
        except FileNotFoundError:
            return False
    finally:
        os.close(descriptor)


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
