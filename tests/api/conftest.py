"""Fixtures for API tests that need work of their own: fresh assignments and a small tree."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from sqlalchemy import select

from tracker.models import Action, Assignment, Membership, Organization, Plan, TaskGroup, User

_refs = itertools.count(1)


@pytest.fixture
def make_assignment(session):
    """A fresh assignment of a new action that needs no evidence, due when asked."""
    plan = session.scalar(select(Plan).where(Plan.code == "KH-NQ57/HU"))
    group = session.scalar(select(TaskGroup).where(TaskGroup.plan_id == plan.id, TaskGroup.number == 2))

    def make(org_code: str = "PNV-KD", due: dt.date | None = None, assigned_on: dt.date = dt.date(2025, 2, 25), **values) -> int:
        n = next(_refs)
        org_id = session.scalar(select(Organization.id).where(Organization.code == org_code))
        action = Action(plan=plan, group=group, ref=f"III.2.9.{n}", section="III", position=1000 + n, text=f"Việc kiểm thử {n}",
                        requires_evidence=False, search_key=f"viec kiem thu {n}")
        fields = {"status": "not_started", "progress": 0, **values}
        assignment = Assignment(action=action, organization_id=org_id, role="lead", cycle=0, due_date=due,
                                original_due_date=due, search_key="", assigned_on=assigned_on, **fields)
        session.add_all([action, assignment])
        session.commit()
        return assignment.id

    return make


@pytest.fixture
def tree(session):
    """A small tree under HU-KD: ROOT with children A and B, and one officer in A."""
    hu = session.scalar(select(Organization).where(Organization.code == "HU-KD"))
    root = Organization(code="V-ROOT", name="Đơn vị kiểm thử", kind="department", parent=hu, search_key="v-root")
    a = Organization(code="V-A", name="Phòng kiểm thử A", kind="department", parent=root, search_key="v-a")
    b = Organization(code="V-B", name="Phòng kiểm thử B", kind="department", parent=root, search_key="v-b")
    officer = User(username="test.verdicts", password_hash="x", full_name="Cán bộ kiểm thử", search_key="")
    session.add_all([root, a, b, officer, Membership(user=officer, organization=a, role="officer")])
    session.commit()
    return {"root": root.id, "a": a.id, "b": b.id, "officer": officer.id}


class FakeClock:
    """The moment the app takes for now (`tracker.services.clock.now`); it moves only when told."""

    def __init__(self, start: dt.datetime):
        self.moment = start

    def __call__(self) -> dt.datetime:
        return self.moment

    def advance(self, seconds: float) -> None:
        self.moment += dt.timedelta(seconds=seconds)


@pytest.fixture
def clock(app, monkeypatch) -> FakeClock:
    """Stop the app's clock for this test: throttling and session times follow `clock.advance`,
    never the speed of the machine."""
    fake = FakeClock(dt.datetime.now(dt.UTC).replace(microsecond=0))
    monkeypatch.setitem(app.config, "CLOCK", fake)
    return fake
