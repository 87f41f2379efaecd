"""Properties over generated cases: a completed verdict never moves, whatever happens after; the
periodic report's totals equal its lists and its five classes partition the live assignments."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import delete, select

from tests.helpers import TODAY, clock_held_to
from tracker.domain.classification import classify
from tracker.models import Action, Assignment
from tracker.services import tallies

_refs = itertools.count(1)

@pytest.fixture(autouse=True)
def _today_held(app, monkeypatch):
    """Dates here are computed from TODAY at collection; the app's day is held to it."""
    monkeypatch.setitem(app.config, "CLOCK", clock_held_to(TODAY))

FAR = "2031-01-01"
SETTINGS = settings(max_examples=25, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

OPERATIONS = st.lists(st.sampled_from([
    "request_extension", "grant_lapsed", "refuse_lapsed", "patch_due_date", "patch_note", "patch_progress", "edit_action_due",
    "rename_organization", "cancel", "return", "reopen", "close_organization",
]), max_size=6)


def day(n: int) -> dt.date:
    return TODAY + dt.timedelta(days=n)


@SETTINGS
@given(due_offset=st.integers(-30, 30), submitted_offset=st.integers(-7, 0), pending_first=st.booleans(), operations=OPERATIONS)
def test_completed_class_never_changes_after_the_fact(client, auth, session, make_assignment, org,
                                                      due_offset, submitted_offset, pending_first, operations):
    officer, leader, planner, admin = auth("canbo.noivu"), auth("lanhdao.ubnd"), auth("lanhdao.huyen"), auth("admin")
    target = make_assignment(due=day(due_offset), assigned_on=day(-60))
    base = f"/api/v1/assignments/{target}"
    extension_id = None
    if pending_first:
        asked = client.post(f"{base}/extensions", headers=officer, json={"new_due_date": day(due_offset + 45).isoformat(),
                                                                           "reason": "Chờ hướng dẫn của cấp trên"})
        assert asked.status_code == 201
        extension_id = asked.get_json()["id"]
    submitted_on = {"effective_on": day(submitted_offset).isoformat()}
    for to, headers, extra in (("in_progress", officer, submitted_on), ("submitted", officer, submitted_on),
                               ("completed", leader, {})):
        response = client.post(f"{base}/transitions", headers=headers, json={"to": to, **extra})
        assert response.status_code == 200, response.get_json()

    def verdict():
        far = client.get(base, headers=leader, query_string={"as_of": FAR}).get_json()
        now = client.get(base, headers=leader).get_json()
        return far["classification"], now["classification"], far["completed_on"], far["days_overdue"], now["due_date"]

    expected = verdict()
    assert expected[0] == ("completed_on_time" if submitted_offset <= due_offset else "completed_late")
    action_id = session.get(Assignment, target).action_id
    for operation in operations:
        etag = client.get(base, headers=leader).headers["ETag"]
        if operation == "request_extension":
            response = client.post(f"{base}/extensions", headers=officer, json={"new_due_date": day(90).isoformat(), "reason": "Xin thêm"})
        elif operation in ("grant_lapsed", "refuse_lapsed") and extension_id is not None:
            decision = {"decision": "grant" if operation == "grant_lapsed" else "refuse", "note": "Quyết định muộn"}
            response = client.post(f"{base}/extensions/{extension_id}/decision", headers=leader, json=decision)
        elif operation == "patch_due_date":
            response = client.patch(base, headers={**leader, "If-Match": etag}, json={"due_date": day(200).isoformat()})
        elif operation == "patch_note":
            response = client.patch(base, headers={**officer, "If-Match": etag}, json={"note": "Bổ sung"})
        elif operation == "patch_progress":
            response = client.patch(base, headers={**officer, "If-Match": etag}, json={"progress": 10})
        elif operation == "edit_action_due":
            response = client.patch(f"/api/v1/actions/{action_id}", headers=planner, json={"due_date": day(-300).isoformat()})
            assert response.status_code == 200, response.get_json()
            continue
        elif operation == "rename_organization":
            response = client.patch(f"/api/v1/organizations/{org['PNV-KD']}", headers=admin, json={"name": "Phòng Nội vụ (đổi tên)"})
            assert response.status_code == 200, response.get_json()
            continue
        elif operation == "close_organization":
            response = client.post(f"/api/v1/organizations/{org['PNV-KD']}/close", headers=admin,
                                   json={"valid_to": TODAY.isoformat(), "successor_id": org["VPUB-KD"]})
            continue
        else:
            target_status = {"cancel": "cancelled", "return": "returned", "reopen": "in_progress"}.get(operation, "cancelled")
            response = client.post(f"{base}/transitions", headers=leader, json={"to": target_status, "note": "Thử sau khi xong"})
        assert response.status_code == 409, (operation, response.get_json())
        assert verdict() == expected, operation
    assert verdict() == expected


ROWS = st.lists(st.tuples(
    st.sampled_from(["V-ROOT", "V-A", "V-B"]),
    st.sampled_from(["not_started", "in_progress", "submitted", "returned", "blocked", "completed", "cancelled"]),
    st.one_of(st.none(), st.dates(dt.date(2025, 1, 1), dt.date(2027, 6, 30))),  # due
    st.integers(0, 500),  # completion: days after 01/01/2025
    st.dates(dt.date(2024, 6, 1), dt.date(2026, 12, 31)),  # assigned on
    st.sampled_from([0, 2025, 2026, 2027]),  # cycle: 0 one-off, else the year of a yearly duty
), min_size=1, max_size=25)


@settings(max_examples=15, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(rows=ROWS)
def test_periodic_totals_equal_lists_and_classes_partition_live_work(client, auth, session, tree, rows):
    admin = auth("admin")
    ids = {"V-ROOT": tree["root"], "V-A": tree["a"], "V-B": tree["b"]}
    group = session.scalar(select(Action.group_id).where(Action.ref == "III.2.1"))
    plan_id = session.scalar(select(Action.plan_id).where(Action.ref == "III.2.1"))
    created = []
    for org_code, status, due, completion, assigned_on, cycle in rows:
        n = next(_refs)
        completed_on = dt.date(2025, 1, 1) + dt.timedelta(days=completion) if status == "completed" else None
        action = Action(plan_id=plan_id, group_id=group, ref=f"III.2.8.{n}", section="III", position=5000 + n, text=f"Việc sinh {n}",
                        requires_evidence=False, search_key="")
        assignment = Assignment(action=action, organization_id=ids[org_code], role="lead", cycle=cycle, status=status,
                                due_date=due, original_due_date=due, completed_on=completed_on, submitted_on=completed_on,
                                progress=100 if completed_on else 0, search_key="", assigned_on=assigned_on)
        session.add_all([action, assignment])
        created.append(assignment)
    session.commit()
    facts = [(a.id, a.action_id, a.status, a.due_date, a.completed_on, a.assigned_on, a.cycle) for a in created]
    for label, end in (("2025-H1", dt.date(2025, 6, 30)), ("2025", dt.date(2025, 12, 31)), ("2026-H1", dt.date(2026, 6, 30))):
        report = client.get("/api/v1/reports/periodic", headers=admin,
                            query_string={"organization_id": tree["root"], "period": label}).get_json()
        as_of = min(end, TODAY)
        year = int(label[:4])
        live = [f for f in facts if f[2] != "cancelled" and f[5] <= as_of and (f[6] == 0 or f[6] <= year)]
        expected: dict[str, int] = {}
        for _, _, status, due, completed_on, _, _ in live:
            klass = classify(status, due, completed_on, as_of)
            expected[klass.value] = expected.get(klass.value, 0) + 1
        counts = {k: v for k, v in report["summary"]["counts"].items() if v}
        assert counts == expected, label
        assert report["summary"]["total"] == len(live)
        listed = [r["id"] for name in ("completed", "overdue", "in_progress", "no_deadline") for r in report[name]]
        assert sorted(listed) == sorted(f[0] for f in live)
        for name in ("completed", "overdue", "in_progress", "no_deadline"):
            assert report[f"{name}_total"] == len(report[name])
    session.execute(delete(Assignment).where(Assignment.id.in_([f[0] for f in facts])))
    session.execute(delete(Action).where(Action.id.in_([f[1] for f in facts])))
    tallies.rebuild()  # bulk SQL bypasses the session hook that keeps them
    session.commit()
