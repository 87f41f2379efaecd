"""`flask tracker worker` and `send-reminders` from the command line, on the test database."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.worker.smtp_server import SMTPServer
from tracker.models import OutboxMail


def test_without_a_mail_server_the_worker_says_so_and_stops_after_one_round(runner, app, monkeypatch):
    monkeypatch.setitem(app.config, "SMTP_HOST", None)
    result = runner.invoke(args=["tracker", "worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "SMTP_HOST is not set" in result.output and "worker stopped after 1 round(s)" in result.output


def test_send_reminders_makes_a_days_digests_once_and_the_worker_sends_them(runner, app, session, monkeypatch):
    smtp = SMTPServer().start()
    try:
        for key, value in {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp.port, "SMTP_TLS": "none", "HOLIDAYS": [],
                           "REMINDER_TIME": "23:59"}.items():
            monkeypatch.setitem(app.config, key, value)
        # A Monday on which the demo plan's work (due in 2025-2030) is overdue for many units.
        first = runner.invoke(args=["tracker", "send-reminders", "--day", "02/12/2030"])
        assert first.exit_code == 0, first.output
        made = int(first.output.split()[0])
        assert made > 0
        again = runner.invoke(args=["tracker", "send-reminders", "--day", "2030-12-02"])
        assert again.output.startswith("0 digest(s)")
        sent = runner.invoke(args=["tracker", "worker", "--until-idle", "--poll-seconds", "0.1"])
        assert sent.exit_code == 0, sent.output
        assert len(smtp.inbox.messages) == made
        assert session.scalar(select(func.count()).select_from(OutboxMail).where(OutboxMail.status == "sent")) == made
    finally:
        smtp.stop()


@pytest.mark.parametrize("day", ["2030-13-01", "hôm nay"])
def test_a_bad_day_is_refused(runner, day):
    result = runner.invoke(args=["tracker", "send-reminders", "--day", day])
    assert result.exit_code == 2 and "--day" in result.output


@pytest.mark.no_transaction
def test_a_running_worker_stops_cleanly_on_sigterm(app, database_url, tmp_path):
    import os  # noqa: PLC0415
    import signal  # noqa: PLC0415
    import subprocess  # noqa: PLC0415
    import sys  # noqa: PLC0415
    from pathlib import Path  # noqa: PLC0415

    env = {**os.environ, "DATABASE_URL": database_url, "TRACKER_ENV": "testing", "SMTP_HOST": "", "WORKER_POLL_SECONDS": "3600",
           "EVIDENCE_DIR": str(tmp_path / "evidence"), "EVIDENCE_STAGING_DIR": str(tmp_path / "staging")}
    worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "tracker", "worker"], cwd=Path(__file__).parents[2],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = worker.stderr.readline()
        assert first.startswith("worker started"), first + worker.stderr.read()  # it handles SIGTERM; idle for an hour
        worker.send_signal(signal.SIGTERM)
        out, _ = worker.communicate(timeout=60)
    finally:
        worker.kill()
    assert worker.returncode == 0 and out.startswith("worker stopped after ")  # 0 or 1 round(s): when the signal came
