"""Each user chooses which mails they get (GET/PATCH /me/preferences), for themselves alone; an
urging mails the unit's officers and the owner who want it, and only when a server is configured."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from tests.helpers import TODAY, assert_problem, clock_held_to
from tracker.models import OutboxMail, User

PREFERENCES = "/api/v1/me/preferences"
KINDS = {"due_soon", "overdue", "awaiting_approval", "extension_pending", "urged"}


@pytest.fixture(autouse=True)
def _today_held(app, monkeypatch):
    monkeypatch.setitem(app.config, "CLOCK", clock_held_to(TODAY))
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "HOLIDAYS", [])


def test_every_kind_is_wanted_until_turned_off_and_only_for_the_caller(client, auth):
    got = client.get(PREFERENCES, headers=auth("canbo.noivu")).get_json()
    assert got["email"] == "duc.noivu@kimdong.example.vn" and got["mail_configured"] is True
    assert got["email_preferences"] == {kind: True for kind in KINDS}
    assert set(got["labels"]) == KINDS and got["labels"]["overdue"]["vi"].startswith("Nhắc nhiệm vụ quá hạn")
    changed = client.patch(PREFERENCES, json={"email_preferences": {"overdue": False}}, headers=auth("canbo.noivu"))
    assert changed.status_code == 200
    assert changed.get_json()["email_preferences"] == {**{kind: True for kind in KINDS}, "overdue": False}
    assert client.get(PREFERENCES, headers=auth("canbo.noivu")).get_json()["email_preferences"]["overdue"] is False
    assert client.get(PREFERENCES, headers=auth("canbo.vhkhtt")).get_json()["email_preferences"]["overdue"] is True


@pytest.mark.parametrize("body", [{"email_preferences": {"weekly_gossip": True}}, {"email_preferences": {"overdue": "maybe"}},
                                  {}, {"email_preferences": {"overdue": False}, "email": "x@example.com"}])
def test_bad_preferences_are_refused_and_change_nothing(client, auth, body):
    assert_problem(client.patch(PREFERENCES, json=body, headers=auth("canbo.noivu")), 422, "request.validation_failed")
    assert client.get(PREFERENCES, headers=auth("canbo.noivu")).get_json()["email_preferences"] == {kind: True for kind in KINDS}


def test_an_urging_mails_those_who_want_it(client, auth, make_assignment, session):
    owner = session.scalar(select(User).where(User.username == "canbo.vhkhtt"))
    overdue = make_assignment("PNV-KD", TODAY - dt.timedelta(days=12), status="in_progress", owner_id=owner.id)
    client.patch(PREFERENCES, json={"email_preferences": {"urged": False}}, headers=auth("canbo.vhkhtt"))
    response = client.post("/api/v1/assignments/urge", json={"assignment_ids": [overdue], "message": "Đề nghị báo cáo ngay."},
                           headers=auth("lanhdao.huyen"))
    assert response.status_code == 200, response.get_json()
    mails = session.scalars(select(OutboxMail).where(OutboxMail.kind == "urged")).all()
    assert [m.to_address for m in mails] == ["duc.noivu@kimdong.example.vn"]  # the owner turned urgings off
    [sent] = mails
    assert sent.subject.startswith("Đôn đốc lần 1: ") and "Đề nghị báo cáo ngay." in sent.text_body
    assert f"#/assignments/{overdue}" in sent.text_body and f"#/assignments/{overdue}" in sent.html_body


def test_no_mail_without_a_server(client, auth, make_assignment, session, app, monkeypatch):
    monkeypatch.setitem(app.config, "SMTP_HOST", None)
    overdue = make_assignment("PNV-KD", TODAY - dt.timedelta(days=3), status="in_progress")
    assert client.post("/api/v1/assignments/urge", json={"assignment_ids": [overdue]}, headers=auth("lanhdao.huyen")).status_code == 200
    assert session.scalar(select(OutboxMail.id)) is None
    assert client.get(PREFERENCES, headers=auth("canbo.noivu")).get_json()["mail_configured"] is False
