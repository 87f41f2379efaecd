"""A 200 MiB upload to a real server process: its memory stays flat (measured from /proc),
and the stored object's SHA-256 equals the source's."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import subprocess
import sys
import time
import uuid

import pytest

from tests.conftest import REPO, scratch_app
from tests.helpers import memory_kib, reset_peak
from tracker.extensions import db
from tracker.storage import make_storage

MiB = 1024 * 1024
SIZE = 200 * MiB


@pytest.mark.no_transaction
@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs /proc to read a process's memory")
def test_200_mib_upload_keeps_server_memory_flat(database_url, tmp_path):
    setup, target, headers = scratch_app(database_url, tmp_path, "memory", username="canbo.noivu", org_code="PNV-KD")
    url = setup.config["SQLALCHEMY_DATABASE_URI"]
    with setup.app_context():
        db.engine.dispose()

    server = subprocess.Popen([sys.executable, "-m", "tests.memory_server", url, str(tmp_path)], cwd=REPO,
                              stdout=subprocess.PIPE, text=True)
    try:
        port = int(server.stdout.readline())
        warm = _upload(port, target, headers, 64 * 1024)  # load every code path once
        assert warm[0] == 201, warm
        reset_peak(server.pid)
        before = memory_kib(server.pid)["VmRSS"]

        started = time.perf_counter()
        status, body, source_sha = _upload(port, target, headers, SIZE)
        elapsed = time.perf_counter() - started
        peak = memory_kib(server.pid)["VmHWM"]
    finally:
        server.terminate()
        server.wait(timeout=30)
        server.stdout.close()

    assert status == 201, body
    record = json.loads(body)
    assert record["size"] == SIZE + len(b"%PDF-1.7\n")
    assert record["sha256"] == source_sha
    storage = make_storage(setup.config)
    assert storage.hash_of(source_sha) == source_sha
    growth_mib = (peak - before) / 1024
    print(f"\n200 MiB upload: {elapsed:.1f} s, server RSS before {before / 1024:.0f} MiB, peak {peak / 1024:.0f} MiB, growth {growth_mib:.1f} MiB")
    assert growth_mib < 64


def _upload(port: int, assignment_id: int, headers: dict, size: int) -> tuple[int, str, str]:
    """Stream a multipart body of `size` random bytes after a PDF header; return status, body, SHA-256."""
    boundary = uuid.uuid4().hex
    head = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"Báo cáo lớn.pdf\"\r\n"
        "Content-Type: application/pdf\r\n\r\n"
    ).encode("utf-8")
    tail = f"\r\n--{boundary}--\r\n".encode("ascii")
    magic = b"%PDF-1.7\n"
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    connection.putrequest("POST", f"/api/v1/assignments/{assignment_id}/evidence")
    connection.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
    connection.putheader("Content-Length", str(len(head) + len(magic) + size + len(tail)))
    for name, value in headers.items():
        connection.putheader(name, value)
    connection.endheaders()
    digest = hashlib.sha256(magic)
    connection.send(head + magic)
    remaining = size
    while remaining:
        chunk = os.urandom(min(MiB, remaining))
        digest.update(chunk)
        connection.send(chunk)
        remaining -= len(chunk)
    connection.send(tail)
    response = connection.getresponse()
    body = response.read().decode()
    connection.close()
    return response.status, body, digest.hexdigest()
