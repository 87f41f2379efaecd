"""Staging files of dead uploads (a worker killed mid-upload) are removed at start-up and by
`evidence-check --repair`, whatever their age; those of uploads in flight, held by their lock,
are left alone. Nothing here waits or looks at clocks: the lock alone tells dead from alive."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, app_config
from tracker import create_app
from tracker.extensions import db
from tracker.storage import StagedUpload, remove_abandoned_staging


@pytest.fixture
def staging(tmp_path) -> Path:
    folder = tmp_path / "evidence" / "staging"  # where app_config(..., tmp_path) puts it
    folder.mkdir(parents=True)
    return folder


def left_by_a_killed_upload(staging: Path, name: str = "upload-killed.part") -> Path:
    """What a dead upload leaves: a staging file, just written, that nobody holds."""
    path = staging / name
    path.write_bytes(b"%PDF-1.7\n" + b"x" * 4096)
    return path


@pytest.fixture
def held(staging):
    """A staging file locked as an upload in flight holds it (another open file description, as in
    another process); released at the end of the test."""
    path = staging / "upload-in-flight.part"
    with open(path, "wb") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        yield path


@pytest.fixture
def started(database_url, tmp_path):
    """start(): an app on this test's evidence folder, created now (its start-up runs now)."""
    apps = []

    def start():
        apps.append(create_app(app_config(database_url, tmp_path)))
        return apps[-1]

    yield start
    for app in apps:
        with app.app_context():
            db.engine.dispose()


def test_dead_upload_file_is_removed_and_live_ones_are_kept(staging, held):
    dead = left_by_a_killed_upload(staging)
    other = staging / "notes.txt"  # not a staging file: never touched
    other.write_text("giữ lại")
    live = StagedUpload(str(staging))
    try:
        live.write(b"%PDF-1.7\n")
        assert remove_abandoned_staging(str(staging), remove=False) == [str(dead)]
        assert dead.exists()  # only listed
        assert remove_abandoned_staging(str(staging)) == [str(dead)]
        assert not dead.exists()
        assert held.exists() and other.exists() and os.path.exists(live.path)
    finally:
        live.close()
    assert not os.path.exists(live.path)  # closing removes it, as before
    assert sorted(p.name for p in staging.iterdir()) == ["notes.txt", "upload-in-flight.part"]


def test_symlink_named_like_a_staging_file_is_not_followed(staging, tmp_path):
    precious = tmp_path / "precious.pdf"
    precious.write_bytes(b"%PDF-1.7\n")
    (staging / "upload-link.part").symlink_to(precious)
    assert remove_abandoned_staging(str(staging)) == []
    assert precious.exists()


def test_file_of_a_process_killed_mid_upload_is_removed(staging):
    """A real upload in another process, killed with SIGKILL while it holds its staging file."""
    child = subprocess.Popen(
        [sys.executable, "-c", (
            "import sys\n"
            "from tracker.storage.base import StagedUpload\n"
            "staged = StagedUpload(sys.argv[1])\n"
            "staged.write(b'%PDF-1.7\\n' + b'x' * 65536)\n"
            "print(staged.path, flush=True)\n"
            "sys.stdin.read()\n"  # in flight until killed
        ), str(staging)],
        cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        path = Path(child.stdout.readline().strip())
        assert path.parent == staging and path.exists()
        assert remove_abandoned_staging(str(staging)) == []  # alive: its lock is held
        assert path.exists()
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=30)
        child.stdin.close()
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    assert path.exists()  # the killed upload left it
    assert remove_abandoned_staging(str(staging)) == [str(path)]
    assert not path.exists()


def test_start_up_removes_dead_staging_files_only(staging, held, started):
    dead = left_by_a_killed_upload(staging)
    started()
    assert not dead.exists()
    assert held.exists()


def test_evidence_check_reports_and_repair_removes_dead_staging_files(staging, held, started):
    app = started()
    dead = left_by_a_killed_upload(staging)
    runner = app.test_cli_runner()

    checked = runner.invoke(args=["tracker", "evidence-check"])
    assert checked.exit_code != 0
    assert f"stale staging file: {dead}" in checked.output
    assert str(held) not in checked.output
    assert dead.exists()

    repaired = runner.invoke(args=["tracker", "evidence-check", "--repair"])
    assert repaired.exit_code == 0, repaired.output
    assert f"repaired: {dead}" in repaired.output
    assert not dead.exists()
    assert held.exists()
