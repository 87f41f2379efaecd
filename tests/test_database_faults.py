"""A real PostgreSQL cluster of the test's own is restarted and then killed (`kill -9`) under load
from clients that retry with `Idempotency-Key`: only 503 answers (never another 5xx, never
HTML), the API recovers by itself, and no acknowledged write is lost or doubled. The full-size
run (100 clients × 60 s) is `python bench/faults.py`; its figures are in the README."""

from __future__ import annotations

import os

import pytest

from bench import faults
from bench.pgcluster import find_bin

pytestmark = pytest.mark.no_transaction


@pytest.fixture(scope="module")
def postgres_binaries():
    if find_bin() is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL's initdb/pg_ctl are missing: .ci/run installs Debian's `postgresql` package")
        pytest.skip("PostgreSQL's initdb/pg_ctl are not installed here (Debian package `postgresql`)")


def test_restart_and_crash_under_load(postgres_binaries):
    result = faults.fault_run(clients=6, seconds=12, workers=2, faults=("restart", "kill"), retry_seconds=30)
    print(result)
    assert result["server_errors_not_503"] == 0, result
    assert result["html_bodies"] == 0, result
    assert result["unanswered_writes"] == 0, result
    writes = result["writes"]
    assert sum(w["acknowledged"] for w in writes.values()) > 0, result
    assert result["lost"] == 0 and result["doubled"] == 0, result
    # The API answered readiness again once the database accepted connections (a bounded wait).
    assert all(seconds != float("inf") for seconds in result["recovery_seconds"].values()), result
