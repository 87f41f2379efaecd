"""Fixtures for the evidence storage backends: an in-process moto S3 server on loopback (one per
run), a fresh store of each kind per test, and a helper that stages bytes as an upload would."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from uuid import uuid4

import boto3
import pytest
from botocore.config import Config

from tracker.storage import StagedUpload, Storage
from tracker.storage.local import LocalStorage
from tracker.storage.s3 import S3Storage

FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_DEFAULT_REGION": "us-east-1",
    # Never look for credentials or a region anywhere else (no instance metadata, no ~/.aws).
    "AWS_EC2_METADATA_DISABLED": "true",
}
STAGE_CHUNK = 64 * 1024
SERVER_START_TIMEOUT = 15


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def s3_client(endpoint_url: str):
    """A plain boto3 client of the moto server, to look at buckets behind the storage's back."""
    return boto3.client("s3", endpoint_url=endpoint_url, region_name="us-east-1",
                        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """moto's S3 API, served in-process on 127.0.0.1; its URL. A server that does not start is
    an error of the run (never a skip): the S3 half of the suite must not silently vanish."""
    from moto.server import ThreadedMotoServer  # noqa: PLC0415 - only runs that need S3 import moto

    with pytest.MonkeyPatch.context() as patch:
        for name, value in FAKE_AWS_ENV.items():
            patch.setenv(name, value)
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
            patch.delenv(name, raising=False)
        werkzeug_log = logging.getLogger("werkzeug")  # the server logs every request at INFO
        werkzeug_level = werkzeug_log.level
        werkzeug_log.setLevel(logging.WARNING)
        port = _free_port()
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        try:
            # start() waits for a "ready" event that is never set if the server thread fails (say,
            # the port was taken meanwhile): start it from a helper thread so that we can give up.
            starter = threading.Thread(target=server.start, name="moto-start", daemon=True)
            starter.start()
            starter.join(SERVER_START_TIMEOUT)
            if starter.is_alive():
                raise RuntimeError(f"moto S3 server did not start on 127.0.0.1:{port} within {SERVER_START_TIMEOUT}s")
            endpoint = f"http://127.0.0.1:{port}"
            probe = s3_client(endpoint)
            try:
                probe.list_buckets()  # raises if nothing answers: the fixture fails
            finally:
                probe.close()
            yield endpoint
        finally:
            listener = getattr(server, "_server", None)
            if listener is not None and not starter.is_alive():
                server.stop()
                listener.server_close()  # stop() ends the serving loop but leaves the socket open
            werkzeug_log.setLevel(werkzeug_level)


def empty_and_remove_bucket(endpoint_url: str, bucket: str) -> None:
    client = s3_client(endpoint_url)
    try:
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for item in page.get("Contents", []):
                client.delete_object(Bucket=bucket, Key=item["Key"])
        client.delete_bucket(Bucket=bucket)
    finally:
        client.close()


def fresh_bucket_name() -> str:
    return f"t{uuid4().hex[:12]}"


@pytest.fixture(params=["local", "s3"])
def backend(request, tmp_path: Path) -> Iterator[Storage]:
    """A fresh, empty store of each kind: a folder, or a new bucket on the moto server."""
    if request.param == "local":
        yield LocalStorage(str(tmp_path / "store"))
        return
    endpoint = request.getfixturevalue("moto_endpoint")
    storage = S3Storage(bucket=fresh_bucket_name(), staging_dir=str(tmp_path / "staging"),
                        endpoint_url=endpoint, create_bucket=True)
    try:
        yield storage
    finally:
        storage.client.close()
        empty_and_remove_bucket(endpoint, storage.bucket)


@pytest.fixture
def stage() -> Iterator[Callable[..., StagedUpload]]:
    """stage(storage, content) -> a StagedUpload in the storage's staging folder holding `content`,
    written in chunks as the multipart parser does. Every staged file is closed after the test."""
    staged_files: list[StagedUpload] = []

    def make(storage: Storage, content: bytes, chunk_size: int = STAGE_CHUNK) -> StagedUpload:
        staged = StagedUpload(storage.staging_dir())
        staged_files.append(staged)
        for start in range(0, len(content), chunk_size):
            staged.write(content[start:start + chunk_size])
        return staged

    yield make
    for staged in staged_files:
        staged.close()
