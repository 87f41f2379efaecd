"""The indicators report and the periodic report's indicators: statuses from accepted values
only, rates rolled up from their parts across communes, scope, exports with Vietnamese intact."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from tests.helpers import assert_problem
from tracker.models import Indicator, IndicatorTarget, IndicatorUnit, Measurement, Organization, Plan, User

AS_OF = "2027-06-30"


@pytest.fixture
def indicators(session):
    """Two indicators of the Kim Động plan with known values: a rate reported by three party bodies
    (rolled up from numerators and denominators) and a milestone of Phòng Nội vụ."""
    plan = session.scalar(select(Plan).where(Plan.code == "KH-NQ57/HU"))
    orgs = dict(session.execute(select(Organization.code, Organization.id)).all())
    recorder = session.scalar(select(User.id).where(User.username == "admin"))
    rate = Indicator(plan=plan, code="T-RATE", name="Tỷ lệ hồ sơ xử lý trực tuyến (kiểm thử)", unit="%", kind="numeric",
                     direction="at_least", source_ref="III.5.1", baseline_value=20.0, baseline_date=dt.date(2025, 1, 1),
                     rollup="weighted_mean", search_key="ty le ho so")
    rate.targets = [IndicatorTarget(target_date=dt.date(2030, 12, 31), value=80.0)]
    rate.units = [IndicatorUnit(organization_id=orgs[code]) for code in ("DB-LUONGBANG", "DB-TOANTHANG", "DB-NGHIADAN")]
    milestone = Indicator(plan=plan, code="T-DONE", name="Hoàn thành kết nối cơ sở dữ liệu (kiểm thử)", unit="có/không",
                          kind="milestone", direction="exactly", source_ref="II.1", rollup="none", search_key="ket noi")
    milestone.targets = [IndicatorTarget(target_date=dt.date(2026, 12, 31), value=1.0)]
    milestone.units = [IndicatorUnit(organization_id=orgs["PNV-KD"])]
    session.add_all([rate, milestone])
    session.flush()

    def measure(indicator, code, day, status="accepted", **values):
        session.add(Measurement(indicator=indicator, organization_id=orgs[code], measured_on=day, source="Thống kê",
                                status=status, recorded_by_id=recorder, **values))

    for code, numerator, denominator in (("DB-LUONGBANG", 450, 500), ("DB-TOANTHANG", 90, 300), ("DB-NGHIADAN", 80, 200)):
        measure(rate, code, dt.date(2026, 11, 20), numerator=numerator, denominator=denominator)
    measure(rate, "DB-NGHIADAN", dt.date(2027, 1, 10), status="submitted", numerator=200, denominator=200)  # not accepted
    measure(milestone, "PNV-KD", dt.date(2026, 6, 1), value=0.0)
    session.commit()
    return {"rate": rate.id, "milestone": milestone.id, "orgs": orgs}


def rows_by_code(body):
    return {row["code"]: row for row in body["rows"]}


def test_statuses_from_accepted_values_rolled_up(client, auth, indicators):
    body = client.get(f"/api/v1/reports/indicators?as_of={AS_OF}", headers=auth("admin")).get_json()
    rows = rows_by_code(body)
    rate = rows["T-RATE"]
    # (450 + 90 + 80) / (500 + 300 + 200) = 62%; the submitted 200/200 is not counted.
    assert rate["latest_value"] == pytest.approx(62.0) and rate["latest_on"] == "2026-11-20"
    # On 30/06/2027 the line from 20% (01/01/2025) to 80% (31/12/2030) stands at about 35.4%: 62% is ahead.
    assert rate["status"] == "on_track" and rate["expected_value"] == pytest.approx(20 + 60 * 910 / 2190, abs=0.01)
    assert rate["units"] == "DB-LUONGBANG, DB-TOANTHANG, DB-NGHIADAN"
    assert rate["overdue_measurement"] is False  # the 2026 report (before 01/12) came on 20/11
    assert rows["T-DONE"]["status"] == "off_track" and rows["T-DONE"]["status_label"] == "Chậm tiến độ"
    assert body["counts"]["on_track"] >= 1 and "tolerance" in body and body["rule"]
    later = rows_by_code(client.get("/api/v1/reports/indicators?as_of=2027-12-05", headers=auth("admin")).get_json())
    assert later["T-RATE"]["overdue_measurement"] is True  # no accepted value for the year to 30/11/2027


def test_scope_and_bad_input(client, auth, indicators):
    officer = rows_by_code(client.get(f"/api/v1/reports/indicators?as_of={AS_OF}", headers=auth("canbo.noivu")).get_json())
    assert "T-DONE" in officer and "T-RATE" not in officer
    assert "T-DONE" not in rows_by_code(client.get(f"/api/v1/reports/indicators?as_of={AS_OF}", headers=auth("canbo.vhkhtt")).get_json())
    assert_problem(client.get(f"/api/v1/reports/indicators?organization_id={indicators['orgs']['PNV-KD']}",
                              headers=auth("canbo.vhkhtt")), 404, "organization.not_found")
    for query in ("format=pdf", "as_of=31/12/2026", "organization_id=0", "plan_id=abc"):
        assert_problem(client.get(f"/api/v1/reports/indicators?{query}", headers=auth("admin")), 422, "request.validation_failed")
    # One commune's own view rolls up its units only.
    own = rows_by_code(client.get(f"/api/v1/reports/indicators?as_of={AS_OF}&organization_id={indicators['orgs']['DB-TOANTHANG']}",
                                  headers=auth("admin")).get_json())
    assert own["T-RATE"]["latest_value"] == pytest.approx(30.0)


def test_exports_and_the_periodic_report(client, auth, indicators):
    response = client.get(f"/api/v1/reports/indicators?as_of={AS_OF}&format=xlsx", headers=auth("admin"))
    data = response.data
    response.close()
    sheet = load_workbook(io.BytesIO(data), read_only=True)["Chỉ tiêu"]
    cells = [cell for row in sheet.iter_rows(values_only=True) for cell in row if cell is not None]
    assert "Tỷ lệ hồ sơ xử lý trực tuyến (kiểm thử)" in cells and "Đúng tiến độ" in cells and "Chậm tiến độ" in cells
    csv = client.get(f"/api/v1/reports/indicators?as_of={AS_OF}&format=csv", headers=auth("admin"))
    text = csv.get_data(as_text=True)
    csv.close()
    assert "Hoàn thành kết nối cơ sở dữ liệu (kiểm thử)" in text and "62" in text
    report = client.get("/api/v1/reports/periodic", headers=auth("lanhdao.ubnd"),
                        query_string={"organization_id": indicators["orgs"]["PNV-KD"], "period": "2026", "as_of": "2026-12-31"}).get_json()
    codes = rows_by_code(report["indicators"])
    assert report["indicators"]["as_of"] == report["as_of"] == "2026-12-31"
    assert codes["T-DONE"]["status"] == "on_track"  # not done yet, due that very day
    assert "T-RATE" not in codes  # reported by the communes, not by this department


def test_an_accepted_correction_replaces_the_value_it_corrects(client, auth, session, indicators):
    milestone = session.get(Indicator, indicators["milestone"])
    unit = indicators["orgs"]["PNV-KD"]
    recorder = session.scalar(select(User.id).where(User.username == "admin"))
    # The unit first reported "done" on 01/03/2027 by mistake; a correction dated earlier says it was not.
    mistaken = Measurement(indicator=milestone, organization_id=unit, measured_on=dt.date(2027, 3, 1), value=1.0,
                           source="Báo cáo nhầm", status="accepted", recorded_by_id=recorder)
    session.add(mistaken)
    session.commit()
    mistaken_id = mistaken.id
    assert rows_by_code(client.get(f"/api/v1/reports/indicators?as_of={AS_OF}", headers=auth("admin")).get_json())[
        "T-DONE"]["status"] == "achieved"
    session.add(Measurement(indicator_id=indicators["milestone"], organization_id=unit, measured_on=dt.date(2027, 2, 1), value=0.0,
                            source="Đính chính", status="accepted", recorded_by_id=recorder, corrects_id=mistaken_id))
    session.commit()
    row = rows_by_code(client.get(f"/api/v1/reports/indicators?as_of={AS_OF}", headers=auth("admin")).get_json())["T-DONE"]
    assert row["status"] == "off_track" and row["latest_on"] == "2027-02-01"
