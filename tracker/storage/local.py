"""Evidence in a local folder: objects/ab/cd/<sha256>, written via staging + link/rename."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from typing import IO

from tracker.storage.base import SHA256_HEX, StagedUpload, Storage, StorageError


class LocalStorage(Storage):
    name = "local"

    def __init__(self, root: str):
        self.root = os.path.abspath(root)
        self.objects = os.path.join(self.root, "objects")
        self.staging = os.path.join(self.root, "staging")

    def staging_dir(self) -> str:
        return self.staging

    def _path(self, sha256: str) -> str:
        if not SHA256_HEX.match(sha256):
            raise StorageError(f"not a SHA-256 key: {sha256!r}")
        return os.path.join(self.objects, sha256[:2], sha256[2:4], sha256)

    def put(self, staged: StagedUpload, sha256: str) -> bool:
        target = self._path(sha256)
        if os.path.exists(target):
            return False
        try:
            staged.flush()
            os.makedirs(os.path.dirname(target), exist_ok=True)
            temporary = f"{target}.{uuid.uuid4().hex}.tmp"  # unique: concurrent puts of one blob never share it
            try:
                os.link(staged.path, temporary)  # same filesystem: no copy
            except OSError:
                shutil.copyfile(staged.path, temporary)
                with open(temporary, "rb") as copied:
                    os.fsync(copied.fileno())
            os.replace(temporary, target)  # atomic: a reader never sees half a blob
            directory = os.open(os.path.dirname(target), os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
        except OSError as exc:
            raise StorageError(f"cannot store blob: {exc}") from exc
        return True

    def exists(self, sha256: str) -> bool:
        return os.path.exists(self._path(sha256))

    def size(self, sha256: str) -> int:
        try:
            return os.path.getsize(self._path(sha256))
        except OSError as exc:
            raise StorageError(f"cannot stat blob: {exc}") from exc

    def open(self, sha256: str) -> IO[bytes]:
        try:
            return open(self._path(sha256), "rb")  # noqa: SIM115 - the caller closes it
        except OSError as exc:
            raise StorageError(f"cannot open blob: {exc}") from exc

    def delete(self, sha256: str) -> None:
        try:
            os.remove(self._path(sha256))
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise StorageError(f"cannot delete blob: {exc}") from exc

    def keys(self) -> Iterator[str]:
        if not os.path.isdir(self.objects):
            return
        for _directory, _, files in os.walk(self.objects):
            for name in files:
                if SHA256_HEX.match(name):
                    yield name
