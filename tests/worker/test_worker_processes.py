"""Several workers at once against PostgreSQL: three `flask tracker worker` processes share one
outbox and nothing is mailed twice; three workers reaching the daily reminders at the same moment
make the day's digests once."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.conftest import scratch_app
from tests.helpers import HANOI
from tests.worker.smtp_server import SMTPServer
from tracker.domain import mail_kinds as kinds
from tracker.extensions import db
from tracker.models import OutboxMail, ScheduledRun, User
from tracker.jobs import reminders
from tracker.services import mail

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.no_transaction
MAILS_EACH = 10


@pytest.fixture
def pg_app(database_url, tmp_path):
    if not database_url.startswith("postgresql"):
        pytest.skip("several workers at once need PostgreSQL (FOR UPDATE SKIP LOCKED); on SQLite one worker runs")
    app, _target, _headers = scratch_app(database_url, tmp_path, "workers", username="admin", org_code="PNV-KD",
                                         SMTP_HOST="127.0.0.1", SMTP_TLS="none", HOLIDAYS=[])
    yield app
    with app.app_context():
        db.engine.dispose()


def test_three_worker_processes_send_each_mail_exactly_once(pg_app, tmp_path):
    smtp = SMTPServer(delay_seconds=0.02).start()
    try:
        with pg_app.app_context():
            pg_app.config["SMTP_PORT"] = smtp.port
            users = db.session.scalars(select(User).where(User.email.is_not(None)).order_by(User.id)).all()
            for n in range(MAILS_EACH):
                for user in users:
                    assert mail.enqueue(user, kinds.URGED, f"load:{n}:{user.id}", f"Đôn đốc lần {n + 1}", "Đôn đốc\n",
                                        "<p>Đôn đốc</p>") is not None
            db.session.commit()
            expected = MAILS_EACH * len(users)
            db.session.remove()
        env = {**os.environ, "DATABASE_URL": pg_app.config["SQLALCHEMY_DATABASE_URI"], "TRACKER_ENV": "testing",
               "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp.port), "SMTP_TLS": "none",
               # Not the daily digests: the run may fall on any day, at any hour.
               "REMINDER_TIME": "23:59", "HOLIDAYS": "", "LOG_LEVEL": "WARNING",
               "EVIDENCE_DIR": str(tmp_path / "evidence"), "EVIDENCE_STAGING_DIR": str(tmp_path / "staging")}
        workers = [subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "tracker", "worker", "--until-idle"],
                                    cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                   for _ in range(3)]
        outputs = [worker.communicate(timeout=300)[0] for worker in workers]
        assert [worker.returncode for worker in workers] == [0, 0, 0], outputs
        ids = smtp.inbox.message_ids()
        assert len(ids) == expected and len(set(ids)) == expected, "a mail was sent twice, or not at all"
        with pg_app.app_context():
            statuses = dict(db.session.execute(select(OutboxMail.status, func.count()).group_by(OutboxMail.status)).all())
            assert statuses == {"sent": expected}
    finally:
        smtp.stop()


def test_three_workers_at_the_daily_time_make_the_digests_once(pg_app):
    monday_7am = dt.datetime.combine(dt.date(2030, 3, 11), dt.time(7, 0), HANOI).astimezone(dt.UTC)
    start = threading.Barrier(3)
    made: list[int | None] = []

    def worker_round() -> None:
        with pg_app.app_context():
            start.wait()
            made.append(reminders.run_daily(monday_7am))
            db.session.remove()

    threads = [threading.Thread(target=worker_round) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    with pg_app.app_context():
        digests = db.session.scalar(select(func.count()).select_from(OutboxMail).where(OutboxMail.kind == "digest"))
        runs = db.session.scalar(select(func.count()).select_from(ScheduledRun))
    assert sorted(made, key=lambda value: value is not None) == [None, None, digests] and runs == 1
