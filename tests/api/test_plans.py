import json

import pytest
import yaml

from tests.helpers import assert_problem, row_counts
from tests.source_plan import SOURCE, section_three
from tracker.cli import bundled_plan


@pytest.fixture
def client(client_as):
    """This module's requests are made as the demo admin."""
    return client_as("admin")

EXPECTED_REFS = (
    ["III.1.1", "III.1.2"]
    + [f"III.2.{i}" for i in range(1, 4)]
    + [f"III.3.{i}" for i in range(1, 5)]
    + ["III.4.1", "III.4.2"]
    + [f"III.5.{i}" for i in range(1, 5)]
    + [f"III.6.{i}" for i in range(1, 4)]
)


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
    for group in kim_dong["groups"]:
        assert all(a["ref"].startswith(f"III.{group['number']}.") for a in group["actions"])


@pytest.mark.skipif(not SOURCE.exists(), reason=f"source plan not found at {SOURCE}")
def test_texts_verbatim_from_source(kim_dong):
    titles, bullets = section_three()
    assert {g["number"]: g["title"] for g in kim_dong["groups"]} == titles
    served = {a["ref"]: a["text"] for g in kim_dong["groups"] for a in g["actions"]}
    assert served == bullets
    assert not any("\n" in text or "  " in text for text in served.values())
    # The two page-break artefacts are joined.
    assert "của Đảng, Nhà nước, của tỉnh" in served["III.1.1"]
    assert "dịch vụ số cho người dân và doanh nghiệp" in served["III.5.1"]


def test_section_four_duties(kim_dong):
    duties = {d["ref"]: d for d in kim_dong["duties"]}
    assert list(duties) == ["IV.1", "IV.2", "IV.3.1", "IV.3.2", "IV.3.3", "IV.4.1", "IV.4.2", "IV.4.3"]
    assert duties["IV.2"]["due_date"] == "2025-03-31"
    assert duties["IV.4.2"]["recurrence"] == {"month": 6, "day": 10, "from_year": 2025, "until_year": 2030}
    assert duties["IV.4.3"]["recurrence"] == {"month": 12, "day": 1, "from_year": 2025, "until_year": 2030}
    assert duties["IV.1"]["text"].startswith("HĐND huyện kịp thời cụ thể hóa")
    assert "**" not in duties["IV.2"]["text"]


def test_deadline_of_iii_5(kim_dong):
    group5 = next(g for g in kim_dong["groups"] if g["number"] == 5)
    assert group5["actions"][0]["due_date"] == "2025-06-30"


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
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["plan_outcome"] == "created"
    assert body["actions"]["created"] == 26
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
