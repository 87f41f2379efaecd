"""Mails leave through a real SMTP server on loopback (aiosmtpd): in Vietnamese, plain text and
HTML; each once; while the server is down they wait, and they go out once it is back."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from tests.worker.smtp_server import SMTPServer
from tracker.models import User
from tracker.domain import mail_kinds as kinds
from tracker.jobs import mail as sending, worker
from tracker.services import mail

NOW = dt.datetime(2030, 3, 10, 23, 30, tzinfo=dt.UTC)  # Monday 06:30 in Hanoi, before the digests (07:00)


@pytest.fixture
def smtp():
    server = SMTPServer().start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _mail_on(app, monkeypatch, smtp):
    for key, value in {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp.port, "SMTP_TLS": "none", "HOLIDAYS": [],
                       "MAIL_SENDER": "Theo dõi nhiệm vụ Kim Động <no-reply@kimdong.example.vn>", "CLOCK": lambda: NOW}.items():
        monkeypatch.setitem(app.config, key, value)


def queue(session, usernames, kind="urged"):
    made = []
    for name in usernames:
        user = session.scalar(select(User).where(User.username == name))
        made.append(mail.enqueue(user, kind, f"test:{name}", f"Đôn đốc lần 1: nhiệm vụ của {user.full_name}",
                                 f"Kính gửi {user.full_name},\n\nĐề nghị khẩn trương hoàn thành.\n",
                                 mail.plain_html("Đôn đốc lần 1", ["Đề nghị khẩn trương hoàn thành."], mail.link(1)), now=NOW))
    session.commit()  # as the request that made them does
    return made


def test_a_mail_goes_out_once_in_vietnamese_with_text_and_html(app, session, smtp):
    with app.app_context():
        [made] = queue(session, ["canbo.noivu"])
        assert worker.run_once(NOW)["mail_sent"] == 1
        assert worker.run_once(NOW)["mail_sent"] == 0
        [received] = smtp.inbox.messages
        assert smtp.inbox.recipients == [["duc.noivu@kimdong.example.vn"]]
        assert received["Subject"] == "Đôn đốc lần 1: nhiệm vụ của Nguyễn Văn Đức" or received["Subject"].startswith("Đôn đốc lần 1")
        assert "Theo dõi nhiệm vụ Kim Động" in str(received["From"])
        assert received["Message-ID"] == f"<tracker-mail-{made.id}@kimdong.example.vn>"
        text = received.get_body(("plain",)).get_content()
        html = received.get_body(("html",)).get_content()
        assert "Đề nghị khẩn trương hoàn thành." in text and "Đề nghị khẩn trương hoàn thành." in html
        assert '<a href="http://127.0.0.1:5000/app/#/assignments/1">' in html
        session.refresh(made)
        assert made.status == "sent" and made.sent_at == NOW and made.attempts == 1


def test_with_the_server_down_mails_wait_and_go_out_once_it_is_back(app, session, smtp):
    smtp.stop()
    with app.app_context():
        made = queue(session, ["canbo.noivu", "canbo.vhkhtt", "lanhdao.ubnd"])
        done = worker.run_once(NOW)
        assert done["mail_sent"] == 0 and done["mail_waiting"] == 1  # the round stops at the first refusal
        for row in made:
            session.refresh(row)
        assert [row.status for row in made] == ["pending"] * 3
        assert made[0].attempts == 1 and made[0].next_attempt_at == NOW + dt.timedelta(minutes=1)
        assert "ConnectionRefusedError" in made[0].last_error
        assert worker.run_once(NOW + dt.timedelta(minutes=1))["mail_waiting"] == 1  # still down: one more try
        assert worker.run_once(NOW + dt.timedelta(minutes=1))["mail_waiting"] == 1
        for row in made:
            session.refresh(row)
        assert [row.attempts for row in made] == [1, 1, 1] and {row.status for row in made} == {"pending"}
        assert worker.run_once(NOW + dt.timedelta(minutes=1))["mail_waiting"] == 1  # the first, again: it waits longer
        session.refresh(made[0])
        assert made[0].attempts == 2 and made[0].next_attempt_at == NOW + dt.timedelta(minutes=3)

        smtp.start()
        later = NOW + dt.timedelta(minutes=5)
        assert worker.run_once(later)["mail_sent"] == 3
        assert worker.run_once(later + dt.timedelta(minutes=20))["mail_sent"] == 0
        assert sorted(r[0] for r in smtp.inbox.recipients) == sorted(
            ["duc.noivu@kimdong.example.vn", "hoa.vhkhtt@kimdong.example.vn", "ubnd@kimdong.example.vn"])
        assert len(set(smtp.inbox.message_ids())) == 3


def test_a_mail_waits_for_a_working_morning(app, session, smtp, monkeypatch):
    saturday = dt.datetime(2030, 3, 9, 3, 0, tzinfo=dt.UTC)
    monkeypatch.setitem(app.config, "HOLIDAYS", ["2030-03-11"])
    with app.app_context():
        user = session.scalar(select(User).where(User.username == "canbo.noivu"))
        made = mail.enqueue(user, kinds.URGED, "test:weekend", "Đôn đốc", "Đôn đốc\n", "<p>Đôn đốc</p>", now=saturday)
        session.commit()
        # Monday is a holiday: Tuesday at 07:00 in Hanoi.
        assert made.next_attempt_at == dt.datetime(2030, 3, 12, 0, 0, tzinfo=dt.UTC)
        assert sending.send_due(dt.datetime(2030, 3, 11, 23, 59, tzinfo=dt.UTC))["sent"] == 0
        assert sending.send_due(dt.datetime(2030, 3, 12, 0, 0, tzinfo=dt.UTC))["sent"] == 1


def test_a_permanent_refusal_fails_the_mail_and_the_others_go(app, session, smtp):
    with app.app_context():
        made = queue(session, ["canbo.noivu", "canbo.vhkhtt"])
        made[0].to_address = "nobody@refused.example"
        session.commit()
        done = worker.run_once(NOW)
        session.refresh(made[0])
        session.refresh(made[1])
        assert made[1].status == "sent" and done["mail_sent"] == 1 and done["mail_failed"] == 1
        assert made[0].status == "failed" and "550" in made[0].last_error  # refused for good: not tried again
        assert [r[0] for r in smtp.inbox.recipients] == ["hoa.vhkhtt@kimdong.example.vn"]
