"""The indicator catalogue: the Kim Động plan's 16 measurable targets, filters, scope, status."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from tests.helpers import assert_problem
from tracker.models import Indicator, Measurement, Plan, User

API = "/api/v1/indicators"

# /work/shared/plan/indicators.md rows 1–16: code → (source, unit, direction, kind, final target value and date, units).
# "> 80" is more_than, "≥"/"đạt" at_least, "duy trì trên" keep_above; "done", "mức cao", "tốp đầu" are milestones (1 = yes).
EXPECTED = {
    "CT-01": ("II.1", "%", "more_than", "numeric", 80, "2030-12-31", ["VPUB-KD"]),
    "CT-02": ("II.1", "% số giao dịch", "more_than", "numeric", 80, "2030-12-31", ["PTCKH-KD"]),
    "CT-03": ("II.1", "% dân số từ 15 tuổi", "at_least", "numeric", 95, "2030-12-31", ["PTCKH-KD"]),
    "CT-04": ("II.1", "% giá trị các ngành kinh tế", "more_than", "numeric", 35, "2030-12-31", ["PTCKH-KD"]),
    "CT-05": ("II.1", "chỉ số (0–1)", "keep_above", "numeric", 0.7, "2030-12-31", ["PVHKHTT-KD"]),
    "CT-06": ("II.1", "% tổng chi ngân sách hằng năm", "at_least", "numeric", 3, "2030-12-31", ["PTCKH-KD"]),
    "CT-07": ("II.1", "hoàn thành (1 = có)", "at_least", "milestone", 1, "2030-12-31", ["PKTHT-KD"]),
    "CT-08": ("II.1", "hoàn thành (1 = có)", "at_least", "milestone", 1, "2030-12-31", ["PVHKHTT-KD"]),
    "CT-09": ("II.1", "đạt (1 = có)", "at_least", "milestone", 1, "2030-12-31", ["PVHKHTT-KD"]),
    "CT-10": ("II.2", "% giá trị các ngành kinh tế", "more_than", "numeric", 50, "2045-12-31", ["PTCKH-KD"]),
    "CT-11": ("II.2", "đạt (1 = có)", "at_least", "milestone", 1, "2045-12-31", ["PVHKHTT-KD"]),
    "CT-12": ("III.5.1", "%", "at_least", "numeric", 100, "2030-12-31", ["VPUB-KD"]),
    "CT-13": ("III.5.1", "%", "more_than", "numeric", 80, "2030-12-31", ["VPUB-KD"]),
    "CT-14": ("III.5.1", "% hồ sơ", "at_least", "numeric", 100, "2030-12-31", ["CA-KD"]),
    "CT-15": ("III.5.1", "% hồ sơ", "at_least", "numeric", 80, "2030-12-31", ["DB-LUONGBANG", "DB-TOANTHANG", "DB-NGHIADAN"]),
    "CT-16": ("III.5.1", "% cán bộ, công chức", "at_least", "numeric", 100, "2025-06-30", ["PNV-KD"]),
}


@pytest.fixture
def plan_id(session):
    return session.scalar(select(Plan.id).where(Plan.code == "KH-NQ57/HU"))


@pytest.fixture
def indicator_id(session, plan_id):
    def find(code: str) -> int:
        return session.scalar(select(Indicator.id).where(Indicator.plan_id == plan_id, Indicator.code == code))

    return find


@pytest.fixture
def accept(session, org, indicator_id):
    """An accepted measurement, written directly (the measurements API has its own tests)."""
    admin_id = session.scalar(select(User.id).where(User.username == "admin"))

    def record(code: str, unit: str, measured_on: str, value: float | None = None, numerator=None, denominator=None) -> None:
        session.add(Measurement(indicator_id=indicator_id(code), organization_id=org[unit], measured_on=dt.date.fromisoformat(measured_on),
                                value=value, numerator=numerator, denominator=denominator, source="Báo cáo năm", status="accepted",
                                recorded_by_id=admin_id, decided_by_id=admin_id))
        session.commit()

    return record


def listing(client, headers, **query) -> tuple[list[dict], dict]:
    response = client.get(API, query_string={"page_size": 200, **query}, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json(), json.loads(response.headers["X-Pagination"])


def codes(items: list[dict]) -> list[str]:
    return [item["code"] for item in items]


def test_the_sixteen_targets_of_the_plan(client, auth, plan_id):
    items, meta = listing(client, auth("admin"), plan_id=plan_id)
    assert meta["total"] == 16
    assert codes(items) == list(EXPECTED)
    for item in items:
        source, unit, direction, kind, value, date, units = EXPECTED[item["code"]]
        assert (item["source_ref"], item["unit"], item["direction"], item["kind"]) == (source, unit, direction, kind), item["code"]
        assert item["targets"][-1] == {"date": date, "value": value}, item["code"]
        assert [u["code"] for u in item["units"]] == units, item["code"]
        assert item["plan_id"] == plan_id and item["baseline"] is None  # the text gives no baselines
        assert item["reporting"] == {"month": 12, "day": 1, "bound": "before"}  # yearly, before 01/12
        assert item["name"]


def test_yearly_series_milestones_and_links(client, auth, indicator_id):
    budget = client.get(f"{API}/{indicator_id('CT-06')}", headers=auth("admin")).get_json()
    assert budget["targets"] == [{"date": f"{year}-12-31", "value": 3} for year in range(2025, 2031)]
    officials = client.get(f"{API}/{indicator_id('CT-16')}", headers=auth("admin")).get_json()
    assert (officials["source_ref"], officials["action_ref"]) == ("III.5.1", "III.5.1.1")
    online = client.get(f"{API}/{indicator_id('CT-12')}", headers=auth("admin")).get_json()
    assert (online["action_ref"], online["action_id"] is not None) == ("III.5.1", True)
    goal = client.get(f"{API}/{indicator_id('CT-01')}", headers=auth("admin")).get_json()
    assert goal["action_id"] is None  # II.1 is a goal, not an action
    communes = client.get(f"{API}/{indicator_id('CT-15')}", headers=auth("admin")).get_json()
    assert communes["rollup"] == "weighted_mean"
    for code in ("CT-07", "CT-08", "CT-09", "CT-11"):
        assert client.get(f"{API}/{indicator_id(code)}", headers=auth("admin")).get_json()["targets"][0]["value"] == 1


def test_without_measurements_everything_has_no_data(client, auth, plan_id):
    items, _ = listing(client, auth("admin"), plan_id=plan_id, as_of="2026-12-31")
    assert {item["status"] for item in items} == {"no_data"}
    assert all(item["latest"] is None and item["as_of"] == "2026-12-31" for item in items)
    assert items[0]["status_label"] == {"vi": "Chưa có số liệu", "en": "No data"}
    # Every unit's annual report (before 01/12) is overdue once 30/11/2026 has passed.
    assert all(item["overdue_measurement"] and item["last_report_due"] == "2026-11-30" for item in items)


def test_status_latest_value_and_series(client, auth, accept, indicator_id, plan_id):
    accept("CT-01", "VPUB-KD", "2025-11-20", 60)
    accept("CT-01", "VPUB-KD", "2026-11-20", 85)
    accept("CT-16", "PNV-KD", "2025-06-30", 92)
    detail = client.get(f"{API}/{indicator_id('CT-01')}", query_string={"as_of": "2026-12-01"}, headers=auth("admin")).get_json()
    assert detail["status"] == "achieved"
    assert detail["latest"] == {"measured_on": "2026-11-20", "value": 85}
    assert detail["series"] == [{"measured_on": "2025-11-20", "value": 60}, {"measured_on": "2026-11-20", "value": 85}]
    assert detail["target"] == {"date": "2030-12-31", "value": 80}
    earlier = client.get(f"{API}/{indicator_id('CT-01')}", query_string={"as_of": "2026-01-01"}, headers=auth("admin")).get_json()
    assert (earlier["latest"]["value"], len(earlier["series"])) == (60, 1)
    before = client.get(f"{API}/{indicator_id('CT-01')}", query_string={"as_of": "2025-06-01"}, headers=auth("admin")).get_json()
    assert (before["status"], before["series"]) == ("no_data", [])
    # 92% on 30/06/2025 against 100% by then: the date has passed, the target is missed.
    assert codes(listing(client, auth("admin"), plan_id=plan_id, status="achieved", as_of="2026-12-01")[0]) == ["CT-01"]
    assert codes(listing(client, auth("admin"), plan_id=plan_id, status="off_track", as_of="2026-12-01")[0]) == ["CT-16"]
    _, meta = listing(client, auth("admin"), plan_id=plan_id, status="no_data", as_of="2026-12-01")
    assert meta["total"] == 14


def test_communes_roll_up_by_their_parts(client, auth, accept, indicator_id):
    """CT-15 (cấp xã): Σ files handled online / Σ files, never a mean of the three percentages."""
    accept("CT-15", "DB-LUONGBANG", "2026-11-20", numerator=90, denominator=100)
    accept("CT-15", "DB-TOANTHANG", "2026-11-20", numerator=10, denominator=50)
    url = f"{API}/{indicator_id('CT-15')}?as_of=2026-11-25"
    assert client.get(url, headers=auth("admin")).get_json()["latest"] is None  # one commune has not reported
    accept("CT-15", "DB-NGHIADAN", "2026-11-25", numerator=50, denominator=50)
    detail = client.get(url, headers=auth("admin")).get_json()
    assert detail["latest"] == {"measured_on": "2026-11-25", "value": 75}  # 150 / 200, not (90 + 20 + 100) / 3


def test_filters(client, auth, org, plan_id):
    admin = auth("admin")
    assert codes(listing(client, admin, organization_id=org["PTCKH-KD"])[0]) == ["CT-02", "CT-03", "CT-04", "CT-06", "CT-10"]
    assert listing(client, admin, organization_id=org["UBND-KD"])[0] == []  # it reports none itself
    below_ubnd = codes(listing(client, admin, organization_id=org["UBND-KD"], include_descendants="true")[0])
    assert below_ubnd == [code for code in EXPECTED if code != "CT-15"]
    assert codes(listing(client, admin, organization_id=org["HU-KD"], include_descendants="true")[0]) == list(EXPECTED)
    assert codes(listing(client, admin, source="II.2")[0]) == ["CT-10", "CT-11"]
    assert len(listing(client, admin, source="II")[0]) == 11
    assert codes(listing(client, admin, source="III.5.1")[0]) == [f"CT-{n}" for n in range(12, 17)]
    assert listing(client, admin, source="III.5.1.1")[0] == []  # CT-16 comes from III.5.1, linked to III.5.1.1
    assert listing(client, admin, source="III")[0] == listing(client, admin, source="III.5")[0]
    assert listing(client, admin, plan_id=plan_id + 1000)[0] == []


def test_paged_like_other_lists(client, auth, plan_id):
    response = client.get(API, query_string={"plan_id": plan_id, "page_size": 5, "page": 2}, headers=auth("admin"))
    assert response.status_code == 200
    assert codes(response.get_json()) == ["CT-06", "CT-07", "CT-08", "CT-09", "CT-10"]
    assert json.loads(response.headers["X-Pagination"])["total"] == 16
    assert 'rel="next"' in response.headers["Link"] and 'rel="prev"' in response.headers["Link"]


def test_an_officer_sees_only_their_units_indicators(client, auth, org, indicator_id):
    assert codes(listing(client, auth("canbo.noivu"))[0]) == ["CT-16"]
    assert codes(listing(client, auth("canbo.vhkhtt"))[0]) == ["CT-05", "CT-08", "CT-09", "CT-11"]
    assert client.get(f"{API}/{indicator_id('CT-16')}", headers=auth("canbo.noivu")).status_code == 200
    assert_problem(client.get(f"{API}/{indicator_id('CT-01')}", headers=auth("canbo.noivu")), 404, "indicator.not_found")
    # Filtering by another agency finds nothing of it.
    assert listing(client, auth("canbo.noivu"), organization_id=org["VPUB-KD"])[0] == []


def test_leaders_and_viewers_see_their_subtree(client, auth, indicator_id):
    assert codes(listing(client, auth("lanhdao.ubnd"))[0]) == [code for code in EXPECTED if code != "CT-15"]
    assert_problem(client.get(f"{API}/{indicator_id('CT-15')}", headers=auth("lanhdao.ubnd")), 404, "indicator.not_found")
    assert codes(listing(client, auth("lanhdao.huyen"))[0]) == list(EXPECTED)
    assert codes(listing(client, auth("giamsat.tgdv"))[0]) == list(EXPECTED)
    assert client.get(API, headers={}).status_code == 401


def test_unknown_indicator_is_404(client, auth):
    assert_problem(client.get(f"{API}/999999", headers=auth("admin")), 404, "indicator.not_found")


@pytest.mark.parametrize(("field", "value"), [
    ("status", "late"),
    ("as_of", "2025-02-30"),
    ("as_of", "yesterday"),
    ("plan_id", "0"),
    ("organization_id", "VPUB-KD"),
    ("include_descendants", "maybe"),
    ("source", "II.x"),
    ("source", "%"),
])
def test_bad_query_names_the_field(client, auth, field, value):
    body = assert_problem(client.get(API, query_string={field: value}, headers=auth("admin")), 422, "request.validation_failed")
    assert list(body["errors"]) == [field]


def test_bad_as_of_on_the_detail(client, auth, indicator_id):
    body = assert_problem(client.get(f"{API}/{indicator_id('CT-01')}?as_of=31/12/2030", headers=auth("admin")), 422,
                          "request.validation_failed")
    assert list(body["errors"]) == ["as_of"]
