"""Who is responsible for what: the responsibility table of a plan (JSON, CSV, XLSX, DOCX), its
scope, and the lead and coordinating units in the plan detail."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict

import docx
import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from tests.helpers import assert_problem, counting
from tracker.models import Action, Assignment, Organization, Plan, User

URL = "/api/v1/reports/responsibility"
AS_OF = "2026-07-01"
BULLETS = (
    ["III.1.1", "III.1.2"] + [f"III.2.{i}" for i in range(1, 4)] + [f"III.3.{i}" for i in range(1, 5)]
    + ["III.4.1", "III.4.2"] + [f"III.5.{i}" for i in range(1, 5)] + [f"III.6.{i}" for i in range(1, 4)]
)
SECTION_III = BULLETS[:12] + ["III.5.1.1"] + BULLETS[12:]  # the split right under its parent
SECTION_IV = ["IV.1", "IV.2", "IV.2.1", "IV.2.2", "IV.3.1", "IV.3.1.1", "IV.3.1.2", "IV.3.2", "IV.3.3", "IV.4.1", "IV.4.2", "IV.4.3"]
APPENDIX_HEADINGS = ["STT", "Nhiệm vụ", "Cơ quan chủ trì", "Cơ quan phối hợp", "Thời gian hoàn thành", "Sản phẩm"]


@pytest.fixture
def plan_id(session) -> int:
    return session.scalar(select(Plan.id).where(Plan.code == "KH-NQ57/HU"))


def table(client_as, username: str, plan_id: int, **query) -> dict:
    response = client_as(username).get(URL, query_string={"plan_id": plan_id, "as_of": AS_OF, **query})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def assigned_units(session, plan_id: int, org_code: str | None = None) -> dict[str, dict[str, set[str]]]:
    """{ref: {role: {organisation codes}}} of the plan's live assignments, straight from the rows."""
    stmt = (select(Action.ref, Assignment.role, Organization.code)
            .join(Action, Action.id == Assignment.action_id).join(Organization, Organization.id == Assignment.organization_id)
            .where(Action.plan_id == plan_id, Assignment.status != "cancelled"))
    units: dict[str, dict[str, set[str]]] = defaultdict(lambda: {"lead": set(), "coordinating": set()})
    for ref, role, code in session.execute(stmt):
        units[ref][role].add(code)
    if org_code is not None:
        return {ref: roles for ref, roles in units.items() if org_code in roles["lead"] | roles["coordinating"]}
    return dict(units)


def codes(row: dict) -> dict[str, set[str]]:
    return {"lead": {u["code"] for u in row["lead"]}, "coordinating": {u["code"] for u in row["coordinating"]}}


def test_every_action_with_its_units_as_the_assignments_say(client_as, session, plan_id):
    result = table(client_as, "admin", plan_id)
    rows = result["rows"]
    assert [r["ref"] for r in rows] == SECTION_III + SECTION_IV
    assert len(BULLETS) == 18
    assert [r["group_number"] for r in rows[:len(SECTION_III)]] == [int(ref.split(".")[1]) for ref in SECTION_III]
    assert all(r["group_number"] is None for r in rows[len(SECTION_III):])
    split = next(r for r in rows if r["ref"] == "III.5.1.1")
    assert split["depth"] == 1 and split["parent_id"] == next(r["action_id"] for r in rows if r["ref"] == "III.5.1")
    expected = assigned_units(session, plan_id)
    assert {r["ref"]: codes(r) for r in rows} == expected
    by_ref = {r["ref"]: r for r in rows}
    assert codes(by_ref["III.3.4"]) == {"lead": {"PVHKHTT-KD"}, "coordinating": {"CA-KD"}}
    assert len(by_ref["IV.4.2"]["lead"]) == 20  # every reporting unit


def test_deadline_output_status_and_class(client_as, session, plan_id):
    by_ref = {r["ref"]: r for r in table(client_as, "admin", plan_id)["rows"]}
    assert by_ref["III.5.1.1"]["deadline"] == "30/06/2025" and by_ref["III.5.1.1"]["due_text"] == "Đến 30/6/2025"
    assert by_ref["IV.4.2"]["deadline"] == "hằng năm, trước ngày 10/6"
    assert by_ref["IV.4.3"]["deadline"] == "hằng năm, trước ngày 01/12"
    assert by_ref["III.1.1"]["deadline"] == "hằng năm, hạn 31/12"
    assert by_ref["III.1.2"]["deadline"] == "thường xuyên" and by_ref["III.1.2"]["due_date"] is None
    assert by_ref["IV.2"]["expected_output"] == "Kế hoạch của UBND huyện"
    # One assignment: its status and class. III.2.2 (Phòng Tư pháp alone) has no deadline.
    one = by_ref["III.2.2"]
    assert (one["assignment_count"], one["status"], one["classification"]) == (1, "not_started", "no_deadline")
    # A yearly duty of twenty units: this year's cycle (due 09/06/2026), counted per class.
    many = by_ref["IV.4.2"]
    assert many["cycle"] == 2026 and many["status"] is None and many["classification"] is None
    assert many["assignment_count"] == 20 and many["class_counts"]["overdue"] == 20
    assert by_ref["III.5.1.1"]["class_counts"]["overdue"] == 3  # one lead, two coordinating, due 30/06/2025


def test_an_owner_and_a_completed_cycle_count_as_of_the_day(client_as, session, plan_id, org):
    owner = session.scalar(select(User).where(User.username == "canbo.vhkhtt"))
    ours = session.scalar(select(Assignment).join(Action).where(Action.plan_id == plan_id, Action.ref == "IV.4.2",
                                                                 Assignment.organization_id == org["PVHKHTT-KD"],
                                                                 Assignment.cycle == 2026))
    ours.owner_id, ours.status, ours.completed_on, ours.progress = owner.id, "completed", dt.date(2026, 6, 5), 100
    session.flush()
    row = next(r for r in table(client_as, "canbo.vhkhtt", plan_id)["rows"] if r["ref"] == "IV.4.2")
    assert (row["assignment_count"], row["status"], row["classification"]) == (1, "completed", "completed_on_time")
    assert row["owners"] == [owner.full_name]
    before = next(r for r in table(client_as, "canbo.vhkhtt", plan_id, as_of="2026-06-04")["rows"] if r["ref"] == "IV.4.2")
    assert before["classification"] == "in_progress_on_time"  # completed after that day


def test_officer_sees_only_rows_that_involve_their_unit(client_as, session, plan_id):
    rows = table(client_as, "canbo.vhkhtt", plan_id)["rows"]
    expected = assigned_units(session, plan_id, "PVHKHTT-KD")
    assert rows and {r["ref"] for r in rows} == set(expected)
    assert all("PVHKHTT-KD" in codes(r)["lead"] | codes(r)["coordinating"] for r in rows)
    # Who else leads or coordinates is the plan's (as in GET /plans/{id}); where others stand is not theirs to see.
    by_ref = {r["ref"]: r for r in rows}
    assert codes(by_ref["III.3.4"]) == {"lead": {"PVHKHTT-KD"}, "coordinating": {"CA-KD"}}
    assert by_ref["III.3.4"]["assignment_count"] == 1
    assert by_ref["IV.4.2"]["assignment_count"] == 1
    assert "III.2.2" not in by_ref


def test_leader_sees_their_subtree_rows(client_as, session, plan_id):
    refs = {r["ref"] for r in table(client_as, "lanhdao.ubnd", plan_id)["rows"]}
    assert "III.1.1" in refs  # Phòng Nội vụ coordinates: under UBND-KD
    assert "IV.3.1" not in refs  # Ban Tuyên giáo alone: a party board, not under UBND-KD
    everything = {r["ref"] for r in table(client_as, "lanhdao.huyen", plan_id)["rows"]}
    assert everything == set(SECTION_III + SECTION_IV)


TRANSACTION_CONTROL = ("BEGIN", "SAVEPOINT", "RELEASE", "ROLLBACK")


def test_a_fixed_number_of_statements(app, client_as, session, plan_id, org):
    client = client_as("admin")

    def statements(path: str, query: dict) -> int:
        with counting(app, ignore=TRANSACTION_CONTROL) as seen:
            assert client.get(path, query_string=query).status_code == 200
        return len(seen)

    detail = f"/api/v1/plans/{plan_id}"
    before = statements(URL, {"plan_id": plan_id, "as_of": AS_OF}), statements(detail, {})
    for n in range(1, 31):  # thirty more actions, each with a lead and a coordinating unit
        action = Action(plan_id=plan_id, ref=f"IV.9.{n}", section="IV", position=100 + n, text=f"Việc thêm {n}", search_key="")
        session.add(action)
        session.flush()
        session.add_all([Assignment(action_id=action.id, organization_id=org["PNV-KD"], role="lead", cycle=0, search_key=""),
                         Assignment(action_id=action.id, organization_id=org["CA-KD"], role="coordinating", cycle=0, search_key="")])
    session.flush()
    after = statements(URL, {"plan_id": plan_id, "as_of": AS_OF}), statements(detail, {})
    assert after == before


def test_xlsx_is_the_plans_appendix(client_as, plan_id):
    result = table(client_as, "admin", plan_id)
    response = client_as("admin").get(URL, query_string={"plan_id": plan_id, "as_of": AS_OF, "format": "xlsx"}, buffered=True)
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    workbook = load_workbook(io.BytesIO(response.data), read_only=True)
    assert workbook.sheetnames == ["Phụ lục", "Ma trận"]
    values = [list(r) for r in workbook["Phụ lục"].iter_rows(values_only=True)]
    header = next(i for i, r in enumerate(values) if r[:6] == APPENDIX_HEADINGS)
    assert "KH-NQ57/HU" in values[0][0]
    body = values[header + 1:]
    headings = [r[1] for r in body if not r[0]]
    assert headings[:6] == [f"{n}. " + g for n, g in zip(range(1, 7), [r["group_title"] for r in _first_of_groups(result)], strict=True)]
    assert headings[6:] == ["Tổ chức thực hiện"]
    actions = [r for r in body if r[0]]
    assert len(actions) == len(result["rows"])
    stts = [r[0] for r in actions]
    assert stts[:13] == [str(n) for n in range(1, 13)] + ["12.1"]  # III.5.1.1 under III.5.1, the 12th
    for cells, row in zip(actions, result["rows"], strict=True):
        assert cells[2] == "; ".join(u["name"] for u in row["lead"])
        assert (cells[3] or "") == "; ".join(u["name"] for u in row["coordinating"])
        assert cells[4] == row["deadline"]
    matrix = [list(r) for r in workbook["Ma trận"].iter_rows(values_only=True)]
    matrix_header = next(i for i, r in enumerate(matrix) if r[:3] == ["STT", "Mục", "Nhiệm vụ"])
    columns = matrix[matrix_header]
    line = next(r for r in matrix[matrix_header + 1:] if r[1] == "III.3.4")
    lead_name = result["rows"][[r["ref"] for r in result["rows"]].index("III.3.4")]["lead"][0]["name"]
    coordinating_name = result["rows"][[r["ref"] for r in result["rows"]].index("III.3.4")]["coordinating"][0]["name"]
    assert line[columns.index(lead_name)] == "Chủ trì"
    assert line[columns.index(coordinating_name)] == "Phối hợp"


def _first_of_groups(result: dict) -> list[dict]:
    seen, firsts = set(), []
    for row in result["rows"]:
        if row["group_number"] is not None and row["group_number"] not in seen:
            seen.add(row["group_number"])
            firsts.append(row)
    return firsts


def test_docx_has_the_title_and_the_same_table(client_as, plan_id):
    client = client_as("admin")
    query = {"plan_id": plan_id, "as_of": AS_OF}
    response = client.get(URL, query_string={**query, "format": "docx"})
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert ".docx" in response.headers["Content-Disposition"]
    document = docx.Document(io.BytesIO(response.data))
    texts = [p.text for p in document.paragraphs]
    assert texts[0] == "PHỤ LỤC"
    assert texts[1] == "DANH MỤC NHIỆM VỤ THỰC HIỆN KẾ HOẠCH SỐ KH-NQ57/HU"
    assert "Kế hoạch thực hiện Kế hoạch số 386-KH/TU" in texts[2]
    section = document.sections[0]
    assert section.page_width > section.page_height  # landscape
    [grid] = document.tables
    cells = [[cell.text for cell in row.cells] for row in grid.rows]
    assert cells[0] == APPENDIX_HEADINGS
    workbook = load_workbook(io.BytesIO(client.get(URL, query_string={**query, "format": "xlsx"}, buffered=True).data), read_only=True)
    values = [list(r) for r in workbook["Phụ lục"].iter_rows(values_only=True)]
    header = next(i for i, r in enumerate(values) if r[:6] == APPENDIX_HEADINGS)
    xlsx_rows = [[c or "" for c in r[:6]] for r in values[header + 1:]]
    docx_rows = [[c for c in r] if r[0] != r[-1] else [""] + [r[0]] + [""] * 4 for r in cells[1:]]  # a merged heading row
    assert docx_rows == xlsx_rows


def test_csv_header_first_and_every_row(client_as, plan_id):
    result = table(client_as, "admin", plan_id)
    response = client_as("admin").get(URL, query_string={"plan_id": plan_id, "as_of": AS_OF, "format": "csv"}, buffered=True)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.data.decode("utf-8-sig")
    first = next(csv.reader(io.StringIO(text)))
    assert first[:3] == ["STT", "Mục", "Nhóm nhiệm vụ"] and "Cơ quan chủ trì" in first
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["Mục"] for r in rows] == [r["ref"] for r in result["rows"]]
    by_ref = {r["Mục"]: r for r in rows}
    assert by_ref["IV.4.2"]["Thời gian hoàn thành"] == "hằng năm, trước ngày 10/6"
    assert by_ref["III.1.1"]["Nhóm nhiệm vụ"].startswith("1. ")
    assert by_ref["IV.1"]["Nhóm nhiệm vụ"] == "Tổ chức thực hiện"
    assert by_ref["IV.4.2"]["Tình hình thực hiện"] == "Chưa hoàn thành, quá hạn: 20"
    assert by_ref["III.2.2"]["Tình hình thực hiện"] == "Thường xuyên / không thời hạn"
    assert by_ref["III.2.2"]["Trạng thái"] not in ("", "not_started")


def test_plan_detail_names_lead_and_coordinating_units(client_as, session, plan_id):
    detail = client_as("canbo.noivu").get(f"/api/v1/plans/{plan_id}").get_json()
    actions = [a for g in detail["groups"] for a in g["actions"]] + detail["duties"]
    expected = assigned_units(session, plan_id)
    assert {a["ref"]: codes(a) for a in actions} == expected
    iii_3_4 = next(a for a in actions if a["ref"] == "III.3.4")
    assert iii_3_4["lead"][0]["code"] == "PVHKHTT-KD" and iii_3_4["lead"][0]["name"]
    assert [u["code"] for u in iii_3_4["coordinating"]] == ["CA-KD"]


def test_bad_input_is_a_problem(client_as, plan_id):
    client = client_as("admin")
    body = assert_problem(client.get(URL), 422, "request.validation_failed")
    assert "plan_id" in str(body)
    assert_problem(client.get(URL, query_string={"plan_id": 999999}), 404, "plan.not_found")
    body = assert_problem(client.get(URL, query_string={"plan_id": plan_id, "format": "pdf"}), 422, "request.validation_failed")
    assert "format" in str(body)
