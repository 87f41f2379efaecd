"""The daily digest: on a given day each person's mail holds exactly the work that concerns them
(due in 7, 3 and 1 days; overdue on day 1 and then weekly; submissions waiting for approval; pending
extension requests), on working days only, covering the days since the last working day, and only
the kinds each person wants."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select, update

from tests.helpers import HANOI
from tracker.models import Assignment, Extension, Organization, OutboxMail, ScheduledRun, User
from tracker.jobs import reminders
from tracker.services import mail

MONDAY = dt.date(2030, 3, 11)
FRONTEND = "https://theodoi.kimdong.example.vn/app/"


def at(day: dt.date, hour: int = 7, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), HANOI).astimezone(dt.UTC)


@pytest.fixture(autouse=True)
def _mail_on(app, monkeypatch):
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "FRONTEND_URL", FRONTEND)
    monkeypatch.setitem(app.config, "HOLIDAYS", [])
    monkeypatch.setitem(app.config, "APPROVAL_REMINDER_DAYS", 3)
    monkeypatch.setitem(app.config, "CLOCK", lambda: at(MONDAY, 8))


def user_id(session, username: str) -> int:
    return session.scalar(select(User.id).where(User.username == username))


@pytest.fixture
def work(app, session):
    """Every assignment cancelled but the ones below, whose dates are set around MONDAY (D):
    PNV-KD a0..a11, PVHKHTT-KD b0, b1."""
    with app.app_context():
        pnv, vh = (session.scalars(select(Assignment.id).join(Organization, Organization.id == Assignment.organization_id)
                                   .where(Organization.code == code).order_by(Assignment.id)).all() for code in ("PNV-KD", "PVHKHTT-KD"))
        session.execute(update(Assignment).values(status="cancelled"))
        session.execute(update(Extension).values(status="refused"))
        d = MONDAY

        def put(assignment_id, due, status="in_progress", **more):
            session.execute(update(Assignment).where(Assignment.id == assignment_id)
                            .values(due_date=due, status=status, **more))
            return assignment_id

        ids = {
            "a0": put(pnv[0], d), "a1": put(pnv[1], d + dt.timedelta(days=1), owner_id=user_id(session, "canbo.vhkhtt")),
            "a2": put(pnv[2], d + dt.timedelta(days=4)), "a3": put(pnv[3], d + dt.timedelta(days=5)),
            "a4": put(pnv[4], d + dt.timedelta(days=8)), "a5": put(pnv[5], d - dt.timedelta(days=1)),
            "a6": put(pnv[6], d - dt.timedelta(days=3)), "a7": put(pnv[7], d - dt.timedelta(days=4)),
            "a8": put(pnv[8], d - dt.timedelta(days=9), urge_count=2),
            "a9": put(pnv[9], d + dt.timedelta(days=1), status="completed", completed_on=d - dt.timedelta(days=2)),
            "a10": put(pnv[10], d - dt.timedelta(days=1), status="submitted", submitted_on=d - dt.timedelta(days=5)),
            "a11": put(pnv[11], None),
            "b0": put(vh[0], d + dt.timedelta(days=30), status="submitted", submitted_on=d - dt.timedelta(days=3)),
            "b1": put(vh[1], d + dt.timedelta(days=20)),
        }
        session.add(Extension(assignment_id=ids["b1"], requested_by_id=user_id(session, "canbo.vhkhtt"), status="pending",
                              previous_due_date=d + dt.timedelta(days=20), new_due_date=d + dt.timedelta(days=50),
                              reason="Chờ kinh phí", requested_at=at(d - dt.timedelta(days=4))))
        session.flush()
        yield ids


def digest_of(found, session, username):
    return sorted((item.kind, item.assignment_id) for item in found.get(user_id(session, username), []))


def test_a_mondays_digest_holds_exactly_the_expected_items(app, session, work):
    with app.app_context():
        found = reminders.collect(MONDAY, MONDAY - dt.timedelta(days=3), 3)  # covers Saturday, Sunday, Monday
        unit = sorted([("due_soon", work[k]) for k in ("a0", "a1", "a3")] + [("overdue", work[k]) for k in ("a5", "a6", "a8")])
        assert digest_of(found, session, "canbo.noivu") == unit
        assert digest_of(found, session, "canbo.vhkhtt") == [("due_soon", work["a1"])]  # the owner, from another unit
        leaders = sorted([("awaiting_approval", work["a10"]), ("extension_pending", work["b1"])])
        assert digest_of(found, session, "lanhdao.ubnd") == leaders
        assert digest_of(found, session, "lanhdao.huyen") == leaders
        people = {user_id(session, name) for name in ("canbo.noivu", "canbo.vhkhtt", "lanhdao.ubnd", "lanhdao.huyen")}
        assert set(found) == people  # not the admin, the viewer or other units' officers


def test_the_digest_mail_lists_each_item_once_with_its_link_in_text_and_html(app, session, work):
    with app.app_context():
        assert reminders.make_digests(MONDAY, at(MONDAY)) == 4
        mails = {m.user_id: m for m in session.scalars(select(OutboxMail).where(OutboxMail.kind == "digest"))}
        officer = mails[user_id(session, "canbo.noivu")]
        assert officer.subject == "Nhắc việc ngày 11/03/2030: 6 nhiệm vụ cần chú ý"
        assert officer.dedupe_key == f"digest:2030-03-11:{officer.user_id}"
        assert officer.to_address == "duc.noivu@kimdong.example.vn" and officer.status == "pending"
        lines = [line for line in officer.text_body.splitlines() if line.startswith("- [")]
        assert len(lines) == 6
        linked = set(re.findall(r"#/assignments/(\d+)", officer.text_body))
        assert linked == {str(work[k]) for k in ("a0", "a1", "a3", "a5", "a6", "a8")}
        assert f"{FRONTEND}#/assignments/{work['a0']}" in officer.text_body
        assert "Nhiệm vụ sắp đến hạn (3)" in officer.text_body and "Nhiệm vụ quá hạn (3)" in officer.text_body
        assert "hạn 11/03/2030, đến hạn hôm nay" in officer.text_body
        assert "hạn 02/03/2030, quá hạn 9 ngày, đã đôn đốc 2 lần" in officer.text_body
        assert set(re.findall(r'href="[^"]*#/assignments/(\d+)"', officer.html_body)) == linked
        assert officer.html_body.count("<li>") == 6 and 'lang="vi"' in officer.html_body
        leader = mails[user_id(session, "lanhdao.ubnd")]
        assert "báo cáo hoàn thành ngày 06/03/2030, đã chờ 5 ngày" in leader.text_body
        assert "đề nghị gia hạn từ 31/03/2030 đến 30/04/2030" in leader.text_body
        # Made once a day: a second run writes nothing.
        assert reminders.make_digests(MONDAY, at(MONDAY)) == 0


def test_each_person_gets_only_the_kinds_they_want(app, session, work):
    with app.app_context():
        officer = session.get(User, user_id(session, "canbo.noivu"))
        mail.set_preferences(officer, {"overdue": False})
        leader = session.get(User, user_id(session, "lanhdao.ubnd"))
        mail.set_preferences(leader, {"awaiting_approval": False, "extension_pending": False})
        nobody = session.get(User, user_id(session, "lanhdao.huyen"))
        nobody.email = None
        session.flush()
        assert reminders.make_digests(MONDAY, at(MONDAY)) == 2
        mails = {m.user_id: m for m in session.scalars(select(OutboxMail))}
        assert set(mails) == {officer.id, user_id(session, "canbo.vhkhtt")}
        assert mails[officer.id].subject.endswith(": 3 nhiệm vụ cần chú ý") and "quá hạn" not in mails[officer.id].text_body


def test_no_digest_on_a_holiday_and_the_next_day_covers_it(app, session, work, monkeypatch):
    monkeypatch.setitem(app.config, "HOLIDAYS", [MONDAY.isoformat()])
    with app.app_context():
        assert reminders.make_digests(MONDAY, at(MONDAY)) == 0
        assert reminders.make_digests(MONDAY - dt.timedelta(days=2), at(MONDAY - dt.timedelta(days=2))) == 0  # a Saturday
        tuesday = MONDAY + dt.timedelta(days=1)
        assert reminders.make_digests(tuesday, at(tuesday)) == 4
        officer = session.scalar(select(OutboxMail).where(OutboxMail.user_id == user_id(session, "canbo.noivu")))
        # a5 became overdue on the holiday (day 1): Tuesday's digest has it, at two days.
        assert f"#/assignments/{work['a5']}" in officer.text_body and "quá hạn 2 ngày" in officer.text_body
        # a4 is due in 7 days from Tuesday.
        assert f"#/assignments/{work['a4']}" in officer.text_body


def test_the_daily_run_waits_for_its_time_and_runs_once_a_day(app, session, work):
    with app.app_context():
        assert reminders.run_daily(at(MONDAY, 6, 59)) is None
        assert reminders.run_daily(at(MONDAY, 7, 0)) == 4
        assert reminders.run_daily(at(MONDAY, 15, 0)) is None
        assert session.scalars(select(ScheduledRun.day).where(ScheduledRun.job == "digest")).all() == [MONDAY]
        assert reminders.run_daily(at(MONDAY - dt.timedelta(days=1), 9)) is None  # a Sunday


def test_no_mail_is_made_without_an_smtp_server(app, session, work, monkeypatch):
    monkeypatch.setitem(app.config, "SMTP_HOST", None)
    with app.app_context():
        assert reminders.run_daily(at(MONDAY, 9)) is None
        assert reminders.make_digests(MONDAY, at(MONDAY)) == 0
        assert session.scalar(select(OutboxMail.id)) is None
