"""Reports: every count and rate on a dataset of known classes, the demo's overdue list, the
exports people open (CSV and Excel), and scope in every report and export."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from tests.helpers import assert_problem
from tracker.models import Action, Assignment, Evidence, Membership, Organization, Plan, TaskGroup, User

D = dt.date(2026, 11, 24)
AS_OF = f"as_of={D.isoformat()}"


def days(n: int) -> dt.date:
    return D + dt.timedelta(days=n)


@pytest.fixture
def known(session):
    """A small tree (ROOT → A, B) with a plan of its own and assignments of known classes as of D."""
    hu = session.scalar(select(Organization).where(Organization.code == "HU-KD"))
    root = Organization(code="T-ROOT", name="Đơn vị thử nghiệm", kind="department", parent=hu, search_key="t-root")
    a = Organization(code="T-A", name="Phòng thử A", kind="department", parent=root, search_key="t-a")
    b = Organization(code="T-B", name="Phòng thử B", kind="department", parent=root, search_key="t-b")
    plan = Plan(issuer=root, code="1-KH/TEST", title="Kế hoạch thử nghiệm", issue_date=dt.date(2026, 1, 5))
    g1, g2 = TaskGroup(plan=plan, number=1, title="Nhóm một"), TaskGroup(plan=plan, number=2, title="Nhóm hai")
    actions = {
        "a1": Action(plan=plan, group=g1, ref="III.1.1", section="III", position=1, text="Việc một", search_key="viec mot"),
        "a2": Action(plan=plan, group=g2, ref="III.2.1", section="III", position=2, text="Việc hai", search_key="viec hai"),
        "a3": Action(plan=plan, ref="IV.1", section="IV", position=3, text="Việc ba", search_key="viec ba"),
    }
    x = User(username="test.x", password_hash="x", full_name="Người X", search_key="")
    y = User(username="test.y", password_hash="x", full_name="Người Y", search_key="")
    session.add_all([root, a, b, plan, g1, g2, *actions.values(), x, y,
                     Membership(user=x, organization=a, role="officer"), Membership(user=y, organization=root, role="officer")])
    rows = [
        (a, "a1", "completed", days(-10), days(-12), x),
        (a, "a2", "completed", days(-10), days(-5), x),
        (a, "a3", "in_progress", days(3), None, x),
        (b, "a1", "in_progress", days(-1), None, None),
        (b, "a2", "not_started", None, None, None),
        (b, "a3", "cancelled", days(-20), None, None),
        (root, "a1", "submitted", days(-2), None, y),
        (root, "a2", "completed", None, days(-1), None),
        (root, "a3", "blocked", days(30), None, None),
    ]
    created = {}
    for org, action, status, due, completed_on, owner in rows:
        assignment = Assignment(action=actions[action], organization=org, role="lead", cycle=0, owner=owner, status=status,
                                due_date=due, original_due_date=due, completed_on=completed_on, submitted_on=completed_on,
                                progress=100 if status == "completed" else 0, search_key="")
        session.add(assignment)
        created[(org.code, action)] = assignment
    session.commit()
    return {"root": root.id, "a": a.id, "b": b.id, "plan": plan.id, "x": x.id, "y": y.id,
            "assignments": {key: value.id for key, value in created.items()}}


def counts(row):
    return row["counts"]


def test_summary_by_organization(client, auth, known):
    response = client.get(f"/api/v1/reports/summary?by=organization&organization_id={known['root']}&include_descendants=true&{AS_OF}",
                          headers=auth("admin"))
    assert response.status_code == 200
    body = response.get_json()
    rows = {row["key"]["organization_code"]: row for row in body["rows"]}
    assert set(rows) == {"T-ROOT", "T-A", "T-B"}  # ancestors outside the filter are not shown
    root, a, b = rows["T-ROOT"], rows["T-A"], rows["T-B"]
    assert counts(root) == {"completed_on_time": 2, "completed_late": 1, "in_progress_on_time": 2, "overdue": 2, "no_deadline": 1}
    assert (root["total"], root["completed"], root["due_soon"]) == (8, 3, 1)
    assert (root["completion_rate"], root["on_time_rate"], root["overdue_rate"]) == (0.375, 0.4, 0.25)
    assert root["own"] == {"completed_on_time": 1, "completed_late": 0, "in_progress_on_time": 1, "overdue": 1, "no_deadline": 0}
    assert counts(a) == {"completed_on_time": 1, "completed_late": 1, "in_progress_on_time": 1, "overdue": 0, "no_deadline": 0}
    assert (a["total"], a["completion_rate"], a["on_time_rate"], a["overdue_rate"]) == (3, 0.6667, 0.5, 0.0)
    assert counts(b) == {"completed_on_time": 0, "completed_late": 0, "in_progress_on_time": 0, "overdue": 1, "no_deadline": 1}
    assert (b["total"], b["completion_rate"], b["on_time_rate"], b["overdue_rate"]) == (2, 0.0, 0.0, 0.5)
    assert body["totals"]["total"] == 8 and body["totals"]["counts"] == root["counts"]
    assert "completed + overdue" in body["rate_bases"]["on_time_rate"]


def test_summary_by_group_plan_and_owner(client, auth, known):
    base = f"/api/v1/reports/summary?plan_id={known['plan']}&{AS_OF}"
    groups = client.get(f"{base}&by=group", headers=auth("admin")).get_json()["rows"]
    assert [(r["key"]["group"], r["total"]) for r in groups] == [(1, 3), (2, 3), (None, 2)]
    assert counts(groups[0]) == {"completed_on_time": 1, "completed_late": 0, "in_progress_on_time": 0, "overdue": 2, "no_deadline": 0}
    assert groups[0]["on_time_rate"] == round(1 / 3, 4)
    assert counts(groups[1]) == {"completed_on_time": 1, "completed_late": 1, "in_progress_on_time": 0, "overdue": 0, "no_deadline": 1}
    assert groups[2]["label"].endswith("Tổ chức thực hiện (mục IV)") and groups[2]["due_soon"] == 1

    plans = client.get(f"{base}&by=plan", headers=auth("admin")).get_json()["rows"]
    assert len(plans) == 1 and plans[0]["total"] == 8 and plans[0]["overdue_rate"] == 0.25

    owners = {r["key"]["owner_id"]: r for r in client.get(f"{base}&by=owner", headers=auth("admin")).get_json()["rows"]}
    assert owners[known["x"]]["total"] == 3 and owners[known["x"]]["label"] == "Người X"
    assert counts(owners[known["y"]])["overdue"] == 1
    assert owners[None]["total"] == 4 and owners[None]["label"] == "Chưa phân công người phụ trách"


def test_as_of_makes_reports_reproducible(client, auth, known):
    url = f"/api/v1/reports/summary?by=plan&plan_id={known['plan']}"
    earlier = client.get(f"{url}&as_of={days(-20).isoformat()}", headers=auth("admin")).get_json()["rows"][0]
    # Twenty days earlier nothing was completed yet and only nothing was past due.
    assert counts(earlier)["completed_on_time"] == 0 and counts(earlier)["completed_late"] == 0
    assert counts(earlier)["overdue"] == 0


def test_overdue_report_rows(client, auth, known):
    response = client.get(f"/api/v1/reports/overdue?organization_id={known['root']}&include_descendants=true&{AS_OF}",
                          headers=auth("admin"))
    rows = response.get_json()
    assert [(r["organization"]["code"], r["days_overdue"]) for r in rows] == [("T-ROOT", 2), ("T-B", 1)]
    first = rows[0]
    assert first["plan"]["code"] == "1-KH/TEST" and first["group"] == {"number": 1, "title": "Nhóm một"}
    assert first["action"]["ref"] == "III.1.1" and first["parent_organization"]["name"] == "Huyện ủy Kim Động"
    assert first["owner"]["full_name"] == "Người Y" and first["status"] == "submitted"
    assert response.headers["X-Pagination"]


def test_demo_overdue_list_as_of_2026_11_24(client, auth, session):
    rows, page = [], 1
    while True:
        response = client.get(f"/api/v1/reports/overdue?{AS_OF}&page_size=200&page={page}", headers=auth("lanhdao.huyen"))
        rows += response.get_json()
        if 'rel="next"' not in response.headers.get("Link", ""):
            break
        page += 1
    refs = {(r["action"]["ref"], r["organization"]["code"], r["due_date"]) for r in rows}
    assert ("IV.2", "UBND-KD", "2025-03-31") in refs  # UBND's detailed plan, due 31/03/2025
    six_month_2026 = {(code) for ref, code, due in refs if ref == "IV.4.2" and due == "2026-06-09"}  # "trước ngày 10/6"
    reporters = set(session.scalars(
        select(Organization.code).join(Assignment, Assignment.organization_id == Organization.id)
        .join(Action, Action.id == Assignment.action_id).where(Action.ref == "IV.4.2", Assignment.cycle == 2026)
    ))
    assert six_month_2026 == reporters and len(reporters) >= 15
    assert ("IV.2.1", "UBND-KD", "2026-06-09") in refs  # UBND's own six-month report
    assert rows == sorted(rows, key=lambda r: -r["days_overdue"])  # most overdue first
    iv2 = next(r for r in rows if r["action"]["ref"] == "IV.2")
    assert iv2["days_overdue"] == (D - dt.date(2025, 3, 31)).days


def test_csv_export(client, auth, known):
    response = client.get(f"/api/v1/reports/overdue?format=csv&organization_id={known['root']}&include_descendants=true&{AS_OF}",
                          headers=auth("admin"), buffered=True)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.data.startswith(b"\xef\xbb\xbf")
    assert "nhiem-vu-qua-han_2026-11-24.csv" in response.headers["Content-Disposition"]
    lines = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    header = lines[0]  # the header first: the title and as_of are in the file name
    assert header[0] == "Mã phân công" and "Hạn hiện tại" in header and "Số ngày quá hạn" in header
    data = lines[1:]
    assert len(data) == 2
    assert data[0][header.index("Hạn hiện tại")] == days(-2).strftime("%d/%m/%Y")
    assert data[0][header.index("Đơn vị")] == "Đơn vị thử nghiệm"


def test_xlsx_export(client, auth, known, tmp_path):
    response = client.get(f"/api/v1/reports/overdue?format=xlsx&organization_id={known['root']}&include_descendants=true&{AS_OF}",
                          headers=auth("admin"), buffered=True)
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    path = tmp_path / "report.xlsx"
    path.write_bytes(response.data)
    workbook = load_workbook(path)
    sheet = workbook.active
    assert sheet.title == "Quá hạn"
    assert sheet["A1"].value == "Danh sách nhiệm vụ chưa hoàn thành, quá hạn"
    assert sheet["A2"].value == "Tính đến ngày: 24/11/2026"
    assert sheet.freeze_panes == "A4"
    header = [cell.value for cell in sheet[3]]
    assert header[:3] == ["Mã phân công", "Kế hoạch", "Nhóm"]
    rows = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=4)]
    assert len(rows) == 2
    due = rows[0][header.index("Hạn hiện tại")]
    assert isinstance(due, dt.datetime) and due.date() == days(-2)
    assert sheet.cell(row=4, column=header.index("Hạn hiện tại") + 1).number_format == "DD/MM/YYYY"
    assert rows[0][header.index("Đơn vị")] == "Đơn vị thử nghiệm"
    assert sheet.column_dimensions["E"].width == 40


def test_summary_and_scorecard_exports(client, auth, known, tmp_path):
    summary = client.get(f"/api/v1/reports/summary?by=organization&organization_id={known['root']}&include_descendants=true&{AS_OF}&format=xlsx",
                         headers=auth("admin"), buffered=True)
    path = tmp_path / "s.xlsx"
    path.write_bytes(summary.data)
    sheet = load_workbook(path).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    header_index = next(i for i, row in enumerate(values) if row[0] == "Đơn vị")
    header = values[header_index]
    by_label = {row[0]: row for row in values[header_index + 1:]}
    subtree = header.index("Tổng cả đơn vị trực thuộc")
    assert by_label["Đơn vị thử nghiệm"][subtree] == 8  # the root with its subtree, apart from the columns that add up
    assert by_label["Tổng cộng"][subtree] == 8
    assert by_label["Tổng cộng"][1] == sum(row[1] for label, row in by_label.items() if label != "Tổng cộng") == 8
    rate = header.index("Tỷ lệ đúng hạn – cả đơn vị trực thuộc") + 1
    assert sheet.cell(row=header_index + 2, column=rate).number_format == "0.0%"
    card = client.get("/api/v1/reports/scorecard?year=2026&format=csv&as_of=2026-11-24", headers=auth("admin"), buffered=True)
    assert card.data.startswith(b"\xef\xbb\xbf") and "Xếp hạng" in card.data.decode("utf-8-sig")


def test_scorecard(client, auth, known, session):
    # One of A's completed items carries evidence.
    session.add(Evidence(assignment_id=known["assignments"][("T-A", "a1")], organization_id=known["a"], sha256="0" * 64, size=1,
                         media_type="application/pdf", original_name="a.pdf", uploaded_by_id=known["x"]))
    session.commit()
    body = client.get(f"/api/v1/reports/scorecard?year=2026&{AS_OF}", headers=auth("admin")).get_json()
    rows = {r["organization"]["code"]: r for r in body["rows"]}
    a, b, root = rows["T-A"], rows["T-B"], rows["T-ROOT"]
    assert (a["assigned"], a["completed_on_time"], a["completed_late"], a["overdue"]) == (3, 1, 1, 0)
    assert a["on_time_rate"] == 0.5 and a["average_days_late"] == 5.0 and a["evidence_rate"] == 0.5
    assert (b["assigned"], b["overdue"], b["on_time_rate"]) == (1, 1, 0.0)  # no-deadline and cancelled ones are not due in 2026
    assert (root["assigned"], root["overdue"], root["on_time_rate"]) == (2, 1, 0.0)
    assert a["rank"] < b["rank"]
    ranks = [r["rank"] for r in body["rows"]]
    assert ranks == sorted(ranks) and ranks[0] == 1


def test_periodic_report(client, auth, session):
    org = session.scalar(select(Organization).where(Organization.code == "PNV-KD"))
    officer = auth("canbo.noivu")
    report = client.get(f"/api/v1/reports/periodic?organization_id={org.id}&period=2026-H1", headers=officer).get_json()
    assert report["period"] == {"label": "2026-H1", "start": "2026-01-01", "end": "2026-06-30", "kind": "six_month"}
    assert report["as_of"] == "2026-06-30"
    assert report["own_report"]["state"] == "overdue" and report["own_report"]["action_ref"] == "IV.4.2"
    assert report["overdue_total"] == len(report["overdue"]) and report["list_limit"] == 1000
    assert report["own_report"]["due_date"] == "2026-06-09"
    assert any(r["action"]["ref"] == "IV.4.2" and r["due_date"] == "2026-06-09" for r in report["overdue"])
    # Submitted and approved before 10/06: on time.
    assignment = session.scalar(select(Assignment).join(Action).where(
        Assignment.organization_id == org.id, Action.ref == "IV.4.2", Assignment.cycle == 2026))
    assignment.status, assignment.submitted_on, assignment.completed_on = "completed", dt.date(2026, 6, 8), dt.date(2026, 6, 8)
    session.commit()
    report = client.get(f"/api/v1/reports/periodic?organization_id={org.id}&period=2026-H1", headers=officer).get_json()
    assert report["own_report"]["state"] == "on_time"
    assert any(r["action"]["ref"] == "IV.4.2" for r in report["completed"])
    annual = client.get(f"/api/v1/reports/periodic?organization_id={org.id}&period=2026", headers=officer).get_json()
    assert annual["own_report"]["action_ref"] == "IV.4.3" and annual["period"]["kind"] == "annual"
    workbook = client.get(f"/api/v1/reports/periodic?organization_id={org.id}&period=2026-H1&format=xlsx", headers=officer, buffered=True)
    assert workbook.status_code == 200 and "bao-cao-6-thang-2026-PNV-KD_2026-06-30.xlsx" in workbook.headers["Content-Disposition"]


def test_attention(client, auth, session):
    target = session.scalar(select(Assignment.id).join(Organization, Organization.id == Assignment.organization_id)
                            .where(Organization.code == "PNV-KD").order_by(Assignment.id).limit(1))
    session.get(Assignment, target).status = "submitted"
    session.commit()
    client.post(f"/api/v1/assignments/{target}/extensions", headers=auth("canbo.noivu"),
                json={"new_due_date": "2031-01-01", "reason": "Chờ kinh phí"})
    leader = client.get("/api/v1/reports/attention?as_of=2026-11-24", headers=auth("lanhdao.ubnd")).get_json()
    assert target in [i["id"] for i in leader["awaiting_approval"]["items"]]
    assert leader["extension_requests"]["count"] == 1
    assert leader["overdue"]["count"] > 0
    officer = client.get("/api/v1/reports/attention?as_of=2026-11-24", headers=auth("canbo.noivu")).get_json()
    assert officer["awaiting_approval"]["count"] == 0 and officer["extension_requests"]["count"] == 0
    soon = client.get("/api/v1/reports/attention?as_of=2026-06-05", headers=auth("canbo.noivu")).get_json()["due_soon"]
    assert soon["count"] >= 1 and all(i["due_date"] <= "2026-06-12" for i in soon["items"])


def _row_codes(url: str, body) -> set[str]:
    if "overdue" in url:
        return {r["organization"]["code"] for r in body}
    if "by=organization" in url:
        return {r["key"]["organization_code"] for r in body["rows"]}
    if "scorecard" in url:
        return {r["organization"]["code"] for r in body["rows"]}
    if "attention" in url:
        return {i["organization"]["code"] for section in ("awaiting_approval", "returned", "overdue", "due_soon")
                for i in body[section]["items"]}
    return set()


REPORTS = [
    "/api/v1/reports/overdue?as_of=2026-11-24&page_size=200",
    "/api/v1/reports/summary?by=organization&as_of=2026-11-24",
    "/api/v1/reports/summary?by=group&as_of=2026-11-24",
    "/api/v1/reports/scorecard?year=2026&as_of=2026-11-24",
    "/api/v1/reports/attention?as_of=2026-11-24",
]


@pytest.mark.parametrize("url", REPORTS)
def test_officer_sees_only_own_agency(client, auth, session, url):
    own = session.scalar(select(Organization).where(Organization.code == "PVHKHTT-KD"))
    own_total = len(session.scalars(select(Assignment.id).where(Assignment.organization_id == own.id, Assignment.status != "cancelled")).all())
    body = client.get(url, headers=auth("canbo.vhkhtt")).get_json()
    codes = _row_codes(url, body)
    assert codes <= {"PVHKHTT-KD"}
    if "summary" in url:
        assert body["totals"]["total"] == own_total
    elif "attention" not in url:
        assert codes == {"PVHKHTT-KD"}
    for fmt in ("csv", "xlsx"):
        exported = client.get(f"{url}&format={fmt}", headers=auth("canbo.vhkhtt"), buffered=True)
        assert exported.status_code == 200
        if fmt == "csv":
            lines = [line for line in csv.reader(io.StringIO(exported.data.decode("utf-8-sig"))) if line]
            header_rows = [i for i, line in enumerate(lines) if "Đơn vị" in line or "Đơn vị / nhóm" in line]
            for i in header_rows:
                column = lines[i].index("Đơn vị") if "Đơn vị" in lines[i] else lines[i].index("Đơn vị / nhóm")
                for line in lines[i + 1:]:
                    if len(line) != len(lines[i]):
                        break
                    assert line[column] in (own.name, "Tổng cộng", "PVHKHTT-KD") or "by=group" in url, line


def test_officer_periodic_for_another_agency_is_404(client, auth, session):
    other = session.scalar(select(Organization.id).where(Organization.code == "PNV-KD"))
    assert_problem(client.get(f"/api/v1/reports/periodic?organization_id={other}&period=2026", headers=auth("canbo.vhkhtt")),
                   404, "organization.not_found")


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/v1/reports/summary?by=colour", "by"),
        ("/api/v1/reports/summary", "by"),
        ("/api/v1/reports/overdue?format=pdf", "format"),
        ("/api/v1/reports/overdue?as_of=24/11/2026", "as_of"),
        ("/api/v1/reports/scorecard?year=20x6", "year"),
        ("/api/v1/reports/periodic?organization_id=1&period=2026-H3", "period"),
        ("/api/v1/reports/periodic?period=2026", "organization_id"),
    ],
)
def test_bad_report_parameters(client, auth, url, field):
    body = assert_problem(client.get(url, headers=auth("admin")), 422, "request.validation_failed")
    assert field in body["errors"]


def test_excel_export_survives_control_characters_in_data(client, auth, known, session, tmp_path):
    # Data imported before validation existed (or written by another tool) may hold them.
    session.get(Organization, known["root"]).name = "Đơn vị\x0b thử"
    session.commit()
    response = client.get(f"/api/v1/reports/overdue?format=xlsx&organization_id={known['root']}&include_descendants=true&{AS_OF}",
                          headers=auth("admin"), buffered=True)
    assert response.status_code == 200
    path = tmp_path / "r.xlsx"
    path.write_bytes(response.data)
    names = {row[5] for row in load_workbook(path).active.iter_rows(min_row=4, values_only=True)}
    assert "Đơn vị thử" in names
