import json

import pytest
import yaml

from tests.helpers import assert_problem, row_counts
from tests.source_plan import SOURCE, is_split_of, section_four, section_three
from tracker.cli import bundled_plan


@pytest.fixture
def client(client_as):
    """This module's requests are made as the demo admin."""
    return client_as("admin")

EXPECTED_BULLETS = (
    ["III.1.1", "III.1.2"]
    + [f"III.2.{i}" for i in range(1, 4)]
    + [f"III.3.{i}" for i in range(1, 5)]
    + ["III.4.1", "III.4.2"]
    + [f"III.5.{i}" for i in range(1, 5)]
    + [f"III.6.{i}" for i in range(1, 4)]
)
# III.5.1's one dated target ("Đến 30/6/2025, …") is split out under it.
EXPECTED_REFS = EXPECTED_BULLETS[:12] + ["III.5.1.1"] + EXPECTED_BULLETS[12:]
EXPECTED_DUTIES = ["IV.1", "IV.2", "IV.2.1", "IV.2.2", "IV.3.1", "IV.3.1.1", "IV.3.1.2", "IV.3.2", "IV.3.3",
                   "IV.4.1", "IV.4.2", "IV.4.3"]


@pytest.fixture
def kim_dong(client):
    plans = client.get("/api/v1/plans").get_json()
    plan = next(p for p in plans if p["code"] == "KH-NQ57/HU")
    response = client.get(f"/api/v1/plans/{plan['id']}")
    assert response.status_code == 200
    return response.get_json()


def test_plan_list_has_kim_dong(client):
    response = client.get("/api/v1/plans")
    assert response.status_code == 200
    plans = {p["code"]: p for p in response.get_json()}
    assert plans["KH-NQ57/HU"]["issuer_code"] == "HU-KD"
    assert plans["KH-NQ57/HU"]["parent_plan"]["code"] == "386-KH/TU"
    assert json.loads(response.headers["X-Pagination"])["total"] == 2


def test_groups_and_refs(kim_dong):
    assert [g["number"] for g in kim_dong["groups"]] == [1, 2, 3, 4, 5, 6]
    refs = [a["ref"] for g in kim_dong["groups"] for a in g["actions"]]
    assert refs == EXPECTED_REFS
    assert len(EXPECTED_BULLETS) == 18
    for group in kim_dong["groups"]:
        assert all(a["ref"].startswith(f"III.{group['number']}.") for a in group["actions"])


@pytest.mark.skipif(not SOURCE.exists(), reason=f"source plan not found at {SOURCE}")
def test_texts_verbatim_from_source(kim_dong):
    titles, bullets = section_three()
    assert {g["number"]: g["title"] for g in kim_dong["groups"]} == titles
    served = {a["ref"]: a["text"] for g in kim_dong["groups"] for a in g["actions"]}
    # The 18 bullets are verbatim; a finer split is a verbatim sentence of its bullet.
    assert {ref: text for ref, text in served.items() if ref.count(".") == 2} == bullets
    splits = {ref: text for ref, text in served.items() if ref.count(".") > 2}
    assert list(splits) == ["III.5.1.1"]
    for ref, text in splits.items():
        assert is_split_of(text, bullets[ref.rsplit(".", 1)[0]]), ref
    assert splits["III.5.1.1"] == "Đến 30/6/2025, 100% cán bộ, công chức xử lý công việc trên môi trường mạng."
    assert not any("\n" in text or "  " in text for text in served.values())
    # The two page-break artefacts are joined.
    assert "của Đảng, Nhà nước, của tỉnh" in served["III.1.1"]
    assert "dịch vụ số cho người dân và doanh nghiệp" in served["III.5.1"]


@pytest.mark.skipif(not SOURCE.exists(), reason=f"source plan not found at {SOURCE}")
def test_duty_texts_verbatim_from_source(kim_dong):
    """Section IV: an item of the source is served verbatim; a split of an item (IV.2.1 from IV.2,
    IV.4.2 from item 4) is, verbatim, a whole sentence or clause of it."""
    items = section_four()
    served = {d["ref"]: d["text"] for d in kim_dong["duties"]}
    assert list(served) == EXPECTED_DUTIES
    for ref, text in served.items():
        if ref in items:
            assert text == items[ref], ref
        else:
            parent = ref.rsplit(".", 1)[0]
            assert is_split_of(text, items[parent]), (ref, text)
    assert not is_split_of("định kỳ báo cáo Ban Thường vụ Huyện ủy", items["IV.2"])  # a fragment is no split
    assert served["IV.2.1"] == served["IV.2.2"] == "định kỳ báo cáo Ban Thường vụ Huyện ủy kết quả thực hiện theo quy định."
    assert served["IV.3.1.1"].startswith("tổng hợp, báo cáo kết quả quán triệt")
    assert "6 tháng (trước ngày 10/6), 01 năm (trước ngày 01/12)" in served["IV.4.2"]


def yearly(month, day, bound):
    return {"month": month, "day": day, "bound": bound, "from_year": 2025, "until_year": 2030}


def test_section_four_duties(kim_dong):
    duties = {d["ref"]: d for d in kim_dong["duties"]}
    assert list(duties) == EXPECTED_DUTIES
    assert (duties["IV.2"]["due_date"], duties["IV.2"]["due_text"]) == ("2025-03-31", "hoàn thành trong tháng 3/2025")
    assert duties["IV.2"]["recurrence"] is None and duties["IV.2"]["report_period"] is None
    # "trước ngày 10/6", "trước ngày 01/12": the written day is the first day too late.
    assert duties["IV.4.2"]["recurrence"] == yearly(6, 10, "before") and duties["IV.4.2"]["due_text"] == "trước ngày 10/6"
    assert duties["IV.4.3"]["recurrence"] == yearly(12, 1, "before") and duties["IV.4.3"]["due_text"] == "trước ngày 01/12"
    assert duties["IV.4.2"]["due_date"] is None and duties["IV.4.1"]["recurrence"] is None
    # The duties the text calls "hằng năm" / "định kỳ" recur every year until 2030.
    assert duties["IV.1"]["recurrence"] == yearly(12, 31, "by") and "hằng năm" in duties["IV.1"]["due_text"]
    assert duties["IV.2.1"]["recurrence"] == yearly(6, 10, "before")
    assert duties["IV.2.2"]["recurrence"] == yearly(12, 1, "before")
    assert duties["IV.3.1.1"]["recurrence"] == yearly(6, 30, "by")
    assert duties["IV.3.1.2"]["recurrence"] == yearly(12, 31, "by")
    assert duties["IV.3.1"]["recurrence"] is None and duties["IV.3.1"]["due_date"] is None
    # Each organisation's own periodic report duty.
    assert {ref: d["report_period"] for ref, d in duties.items() if d["report_period"]} == {
        "IV.2.1": "six_month", "IV.2.2": "annual", "IV.3.1.1": "six_month", "IV.3.1.2": "annual",
        "IV.4.2": "six_month", "IV.4.3": "annual"}
    assert duties["IV.2.1"]["parent_id"] == duties["IV.2"]["id"] and duties["IV.3.1.2"]["parent_id"] == duties["IV.3.1"]["id"]
    assert duties["IV.1"]["text"].startswith("HĐND huyện kịp thời cụ thể hóa")
    assert "**" not in duties["IV.2"]["text"]


def test_deadline_of_iii_5_1_is_its_dated_target_only(kim_dong):
    """Measured: the 30/6/2025 of one target was given to the whole of III.5.1, so its five undated
    targets were overdue from 01/07/2025. The dated target is its own action now."""
    actions = {a["ref"]: a for a in next(g for g in kim_dong["groups"] if g["number"] == 5)["actions"]}
    assert actions["III.5.1"]["due_date"] is None and actions["III.5.1"]["due_text"] is None
    split = actions["III.5.1.1"]
    assert (split["due_date"], split["due_text"], split["recurrence"]) == ("2025-06-30", "Đến 30/6/2025", None)
    assert split["parent_id"] == actions["III.5.1"]["id"]


def test_iii_1_1_recurs_yearly(kim_dong):
    first = kim_dong["groups"][0]["actions"][0]
    assert first["ref"] == "III.1.1"
    assert first["recurrence"] == yearly(12, 31, "by") and first["due_text"] == "hằng năm" and first["due_date"] is None


def test_unknown_plan_is_404(client):
    assert_problem(client.get("/api/v1/plans/999999"), 404, "plan.not_found")


def test_plan_id_must_be_a_number(client):
    assert_problem(client.get("/api/v1/plans/abc"), 404, "request.not_found")


def test_organizations_filter_by_parent(client):
    everything = client.get("/api/v1/organizations?page_size=200").get_json()
    by_code = {o["code"]: o for o in everything}
    ubnd = by_code["UBND-KD"]
    children = client.get(f"/api/v1/organizations?parent_id={ubnd['id']}&page_size=200").get_json()
    assert children and all(o["parent_id"] == ubnd["id"] for o in children)
    assert {"PNV-KD", "PVHKHTT-KD", "CA-KD"} <= {o["code"] for o in children}
    roots = client.get("/api/v1/organizations?roots=true").get_json()
    assert [o["code"] for o in roots] == ["TU-HY"]
    assert by_code["PNV-KD"]["is_demo"] is True and by_code["UBND-KD"]["is_demo"] is False


def test_organizations_bad_filter(client):
    body = assert_problem(client.get("/api/v1/organizations?parent_id=abc"), 422, "request.validation_failed")
    assert "parent_id" in body["errors"]


def test_page_size_is_bounded(client):
    body = assert_problem(client.get("/api/v1/organizations?page_size=100000"), 422, "request.validation_failed")
    assert "page_size" in body["errors"]


def test_pagination_links(client):
    response = client.get("/api/v1/organizations?page_size=5&page=2")
    meta = json.loads(response.headers["X-Pagination"])
    assert meta["total"] == 26 and meta["page"] == 2 and meta["next_page"] == 3
    assert len(response.get_json()) == 5
    assert 'rel="next"' in response.headers["Link"] and 'rel="prev"' in response.headers["Link"]


def _demo_document() -> dict:
    return yaml.safe_load(bundled_plan())


def _json_body(doc) -> str:
    return json.dumps(doc, default=str, ensure_ascii=False)


def test_import_via_api_is_idempotent(client, session):
    before = row_counts()
    response = client.post("/api/v1/plans/import", data=bundled_plan(), content_type="application/yaml")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["plan_outcome"] == "unchanged"
    assert body["assignments"] == {"created": 0, "kept": before["assignment"]}
    assert row_counts() == before


def test_import_json_creates_and_updates(client, session):
    doc = _demo_document()
    doc["plan"]["code"] = "99-KH/HU"
    doc["plan"]["title"] = "Kế hoạch thử nghiệm"
    response = client.post("/api/v1/plans/import", data=_json_body(doc), content_type="application/json")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["plan_outcome"] == "created"
    assert response.headers["Location"] == f"/api/v1/plans/{body['plan']['id']}"
    assert body["actions"]["created"] == 31  # 18 bullets, III.5.1.1, and 12 section IV duties
    doc["groups"][0]["title"] = "Tiêu đề mới"
    response = client.post("/api/v1/plans/import", data=_json_body(doc), content_type="application/json")
    body = response.get_json()
    assert body["plan_outcome"] == "unchanged"
    assert body["groups"] == {"created": 0, "updated": 1, "unchanged": 5}
    assert body["assignments"]["created"] == 0


def test_import_error_names_field_path_and_writes_nothing(client, session):
    before = row_counts()
    doc = _demo_document()
    doc["groups"][2]["actions"][1]["ref"] = "III.3.1"
    doc["organizations"].append({"code": "NEW-ORG", "name": "Đơn vị mới", "kind": "department", "parent": "UBND-KD"})
    response = client.post("/api/v1/plans/import", data=_json_body(doc), content_type="application/json")
    body = assert_problem(response, 422, "plan.invalid_file")
    assert "groups[2].actions[1].ref" in body["errors"]
    assert row_counts() == before


def test_import_refuses_contradictory_deadlines_naming_each_path(client, session):
    before = row_counts()
    doc = _demo_document()
    duty = {d["ref"]: i for i, d in enumerate(doc["duties"])}
    doc["plan"]["code"] = "98-KH/HU"  # a new plan: nothing of it may be written
    doc["duties"][duty["IV.2"]]["due_before"] = "2025-04-01"  # with its due_date
    doc["duties"][duty["IV.4.1"]]["report"] = "six_month"  # without a recurrence
    doc["duties"][duty["IV.4.2"]]["recurrence"]["bound"] = "on"
    response = client.post("/api/v1/plans/import", data=_json_body(doc), content_type="application/json")
    body = assert_problem(response, 422, "plan.invalid_file")
    assert set(body["errors"]) == {f"duties[{duty['IV.2']}].due_before", f"duties[{duty['IV.4.1']}].report",
                                   f"duties[{duty['IV.4.2']}].recurrence.bound"}
    assert row_counts() == before


def test_import_malformed_yaml(client):
    response = client.post("/api/v1/plans/import", data="plan: [unclosed", content_type="application/yaml")
    body = assert_problem(response, 422, "plan.malformed_file")
    assert "dòng" in body["errors"]["_file"][0]


def test_import_wrong_content_type(client):
    response = client.post("/api/v1/plans/import", data="format: x", content_type="text/plain")
    body = assert_problem(response, 415, "request.unsupported_media_type")
    assert "application/yaml" in body["accepted"]


def test_import_larger_than_the_limit_is_413(client):
    body = b"format: tracker-plan/1\n" + b"#" * (5 * 1024 * 1024)
    assert_problem(client.post("/api/v1/plans/import", data=body, content_type="application/yaml"), 413, "request.too_large")
