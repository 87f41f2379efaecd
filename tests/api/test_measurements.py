"""Measurements of indicators through the API: record, accept, return, correct, list, evidence,
and every bad input refused with problem+json and nothing stored."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import itertools
import json
from urllib.parse import unquote

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from tests import evidence_files as files
from tests.helpers import assert_problem
from tracker.models import Assignment, Indicator, IndicatorTarget, IndicatorUnit, Measurement, MeasurementEvidence, Organization, Plan
from tracker.services import evidence as evidence_service
from tracker.services import measurements as measurement_service
from tracker.storage import current_storage

_codes = itertools.count(1)
DAY = "2025-06-30"
VN_NAME = "Báo cáo số liệu dịch vụ công.pdf"


@pytest.fixture
def make_indicator(session):
    """A fresh indicator of the Kim Động plan, reported by the given units."""
    plan = session.scalar(select(Plan).where(Plan.code == "KH-NQ57/HU"))
    orgs = dict(session.execute(select(Organization.code, Organization.id)).all())

    def make(*unit_codes: str, unit: str = "%", kind: str = "numeric", rollup: str = "none", direction: str = "at_least") -> int:
        indicator = Indicator(plan=plan, code=f"T-MEAS-{next(_codes)}", name="Tỷ lệ hồ sơ trực tuyến (kiểm thử)", unit=unit,
                              kind=kind, direction=direction, source_ref="II.1", rollup=rollup)
        indicator.targets.append(IndicatorTarget(target_date=dt.date(2030, 12, 31), value=1 if kind == "milestone" else 80))
        for code in unit_codes or ("PVHKHTT-KD",):
            indicator.units.append(IndicatorUnit(organization_id=orgs[code]))
        session.add(indicator)
        session.commit()
        return indicator.id

    return make


def record(client, auth, indicator_id, user="canbo.vhkhtt", **body):
    payload = {"measured_on": DAY, "source": "Báo cáo thống kê của Phòng", **body}
    return client.post(f"/api/v1/indicators/{indicator_id}/measurements", json=payload, headers=auth(user))


def decide(client, auth, indicator_id, measurement_id, user="lanhdao.ubnd", **body):
    return client.post(f"/api/v1/indicators/{indicator_id}/measurements/{measurement_id}/decision", json=body, headers=auth(user))


def upload(client, auth, indicator_id, measurement_id, content, name, user="canbo.vhkhtt"):
    boundary, body = encode_multipart(MultiDict({"file": FileStorage(io.BytesIO(content), filename=name)}))
    return client.post(f"/api/v1/indicators/{indicator_id}/measurements/{measurement_id}/evidence", data=body,
                       headers=auth(user), content_type=f"multipart/form-data; boundary={boundary}")


def counts(session) -> tuple[int, int]:
    return (session.scalar(select(func.count(Measurement.id))), session.scalar(select(func.count(MeasurementEvidence.id))))


def test_record_accept(client, auth, make_indicator, org):
    indicator = make_indicator()
    response = record(client, auth, indicator, value=45.5, note="Số liệu quý II")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["status"] == "submitted" and body["organization"]["id"] == org["PVHKHTT-KD"]  # the officer's only unit
    assert body["value"] == 45.5 and body["effective_value"] == 45.5 and body["measured_on"] == DAY
    assert body["recorded_by"]["full_name"] and body["decided_by"] is None and body["evidence"] == []

    accepted = decide(client, auth, indicator, body["id"], decision="accept")
    assert accepted.status_code == 200, accepted.get_json()
    assert accepted.get_json()["status"] == "accepted" and accepted.get_json()["decided_at"].endswith("Z")
    assert_problem(decide(client, auth, indicator, body["id"], decision="return", note="Sai"), 409, "measurement.already_decided")
    assert_problem(decide(client, auth, indicator, body["id"], user="admin", decision="accept"), 409, "measurement.already_decided")
    with client.application.app_context():
        assert [m.id for m in measurement_service.accepted_series(indicator)] == [body["id"]]


def test_rate_by_its_parts(client, auth, make_indicator):
    indicator = make_indicator(rollup="weighted_mean")
    response = record(client, auth, indicator, numerator=3, denominator=4)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["effective_value"] == 75 and response.get_json()["value"] is None


def test_milestone_by_done_or_value(client, auth, make_indicator):
    indicator = make_indicator(unit="hoàn thành", kind="milestone", direction="exactly")
    done = record(client, auth, indicator, done=True)
    assert done.status_code == 201 and done.get_json()["value"] == 1
    not_yet = record(client, auth, indicator, value=0)
    assert not_yet.status_code == 201 and not_yet.get_json()["value"] == 0


def test_return_needs_a_note(client, auth, make_indicator, session):
    indicator = make_indicator()
    measurement = record(client, auth, indicator, value=30).get_json()["id"]
    for note in (None, "   "):
        body = {"decision": "return"} if note is None else {"decision": "return", "note": note}
        problem = assert_problem(decide(client, auth, indicator, measurement, **body), 422, "measurement.note_required")
        assert "note" in problem["errors"]
    assert session.get(Measurement, measurement).status == "submitted"
    returned = decide(client, auth, indicator, measurement, decision="return", note="Thiếu nguồn số liệu")
    assert returned.status_code == 200
    assert returned.get_json()["status"] == "returned" and returned.get_json()["decision_note"] == "Thiếu nguồn số liệu"
    with client.application.app_context():
        assert measurement_service.accepted_series(indicator) == []


@pytest.mark.parametrize(("user", "status", "code"), [
    ("canbo.vhkhtt", 403, "measurement.forbidden"),  # the unit's own officer records, never decides
    ("giamsat.tgdv", 403, "measurement.forbidden"),  # a monitor reads only
    ("canbo.noivu", 404, "indicator.not_found"),  # another agency: existence does not leak
])
def test_who_may_not_decide(client, auth, make_indicator, session, user, status, code):
    indicator = make_indicator()
    measurement = record(client, auth, indicator, value=30).get_json()["id"]
    assert_problem(decide(client, auth, indicator, measurement, user=user, decision="accept"), status, code)
    assert session.get(Measurement, measurement).status == "submitted"


def test_leader_of_another_branch_gets_404(client, auth, make_indicator):
    indicator = make_indicator("BTGDV-KD")  # a party board: under HU-KD, not UBND-KD
    measurement = record(client, auth, indicator, user="lanhdao.huyen", value=10)
    assert measurement.status_code == 201
    mid = measurement.get_json()["id"]
    assert_problem(decide(client, auth, indicator, mid, decision="accept"), 404, "indicator.not_found")
    assert_problem(client.get(f"/api/v1/indicators/{indicator}/measurements/{mid}", headers=auth("lanhdao.ubnd")), 404,
                   "indicator.not_found")
    assert decide(client, auth, indicator, mid, user="lanhdao.huyen", decision="accept").status_code == 200


def test_correction_is_a_new_measurement(client, auth, make_indicator, session):
    indicator = make_indicator()
    first = record(client, auth, indicator, value=40).get_json()["id"]
    assert decide(client, auth, indicator, first, decision="accept").status_code == 200
    correction = record(client, auth, indicator, value=42, corrects=first, note="Số liệu chính thức của Cục Thống kê")
    assert correction.status_code == 201, correction.get_json()
    second = correction.get_json()
    assert second["corrects_id"] == first and second["status"] == "submitted" and second["id"] != first
    kept = session.get(Measurement, first)
    session.refresh(kept)
    assert kept.value == 40 and kept.status == "accepted"  # history kept, never edited
    with client.application.app_context():
        assert [m.id for m in measurement_service.accepted_series(indicator)] == [first]  # until the correction is accepted
    assert decide(client, auth, indicator, second["id"], decision="accept").status_code == 200
    with client.application.app_context():
        assert [m.id for m in measurement_service.accepted_series(indicator)] == [second["id"]]


def test_series_newest_first_filtered_and_scoped(client, auth, make_indicator, org):
    indicator = make_indicator("PVHKHTT-KD", "PNV-KD", rollup="mean")
    ids = {}
    for user, day, value in (("canbo.vhkhtt", "2025-03-31", 20), ("canbo.vhkhtt", "2025-06-30", 30),
                             ("canbo.noivu", "2025-06-30", 35), ("canbo.vhkhtt", "2024-12-31", 10)):
        response = record(client, auth, indicator, user=user, measured_on=day, value=value)
        assert response.status_code == 201, response.get_json()
        ids[(user, day)] = response.get_json()["id"]
    decide(client, auth, indicator, ids[("canbo.vhkhtt", "2025-03-31")], decision="accept")

    listing = client.get(f"/api/v1/indicators/{indicator}/measurements", headers=auth("lanhdao.ubnd"))
    assert listing.status_code == 200
    assert [m["measured_on"] for m in listing.get_json()] == ["2025-06-30", "2025-06-30", "2025-03-31", "2024-12-31"]
    assert json.loads(listing.headers["X-Pagination"])["total"] == 4

    own = client.get(f"/api/v1/indicators/{indicator}/measurements", headers=auth("canbo.vhkhtt")).get_json()
    assert {m["organization"]["id"] for m in own} == {org["PVHKHTT-KD"]} and len(own) == 3

    by_unit = client.get(f"/api/v1/indicators/{indicator}/measurements?organization_id={org['PNV-KD']}", headers=auth("admin"))
    assert [m["id"] for m in by_unit.get_json()] == [ids[("canbo.noivu", "2025-06-30")]]
    accepted = client.get(f"/api/v1/indicators/{indicator}/measurements?status=accepted", headers=auth("admin"))
    assert [m["id"] for m in accepted.get_json()] == [ids[("canbo.vhkhtt", "2025-03-31")]]
    paged = client.get(f"/api/v1/indicators/{indicator}/measurements?page_size=2&page=2", headers=auth("admin"))
    assert [m["measured_on"] for m in paged.get_json()] == ["2025-03-31", "2024-12-31"]
    assert_problem(client.get(f"/api/v1/indicators/{indicator}/measurements?status=done", headers=auth("admin")), 422,
                   "request.validation_failed")

    # Two units: the admin must say which; an officer of one unit may not record for the other.
    assert_problem(record(client, auth, indicator, user="admin", value=5), 422, "measurement.organization_required")
    assert_problem(record(client, auth, indicator, value=5, organization_id=org["PNV-KD"]), 403, "measurement.forbidden")


def test_other_agency_reads_and_writes_are_404(client, auth, make_indicator, session):
    indicator = make_indicator("PVHKHTT-KD")
    measurement = record(client, auth, indicator, value=50).get_json()["id"]
    before = counts(session)
    other = auth("canbo.noivu")
    for response in (
        client.get(f"/api/v1/indicators/{indicator}/measurements", headers=other),
        client.get(f"/api/v1/indicators/{indicator}/measurements/{measurement}", headers=other),
        record(client, auth, indicator, user="canbo.noivu", value=60),
        decide(client, auth, indicator, measurement, user="canbo.noivu", decision="accept"),
        upload(client, auth, indicator, measurement, files.pdf(), VN_NAME, user="canbo.noivu"),
    ):
        assert_problem(response, 404, "indicator.not_found")
    assert counts(session) == before


def test_unknown_indicator_and_measurement(client, auth, make_indicator):
    assert_problem(record(client, auth, 2_000_000_000, value=5), 404, "indicator.not_found")
    indicator = make_indicator()
    other = make_indicator()
    measurement = record(client, auth, other, value=5).get_json()["id"]
    # A measurement of another indicator is not found under this one.
    assert_problem(decide(client, auth, indicator, measurement, decision="accept"), 404, "measurement.not_found")
    assert_problem(client.get(f"/api/v1/indicators/{indicator}/measurements/{measurement}", headers=auth("admin")), 404,
                   "measurement.not_found")


FUTURE = (dt.date.today() + dt.timedelta(days=3)).isoformat()

BAD_INPUTS = [
    # (indicator kind, body changes, status, code, field)
    ("percent", {"value": 101}, 422, "measurement.out_of_range", "value"),
    ("percent", {"value": -0.5}, 422, "measurement.out_of_range", "value"),
    ("percent", {"numerator": 5, "denominator": 4}, 422, "measurement.out_of_range", "numerator"),
    ("percent", {"numerator": 1, "denominator": 0}, 422, "measurement.out_of_range", "denominator"),
    ("percent", {"numerator": -1, "denominator": 4}, 422, "measurement.out_of_range", "numerator"),
    ("percent", {"value": 50, "numerator": 1, "denominator": 2}, 422, "measurement.wrong_value_kind", "value"),
    ("percent", {"numerator": 1}, 422, "measurement.value_required", "denominator"),
    ("percent", {}, 422, "measurement.value_required", "value"),
    ("percent", {"done": True}, 422, "measurement.wrong_value_kind", "done"),
    ("percent", {"value": "12"}, 422, "request.validation_failed", "value"),
    ("percent", {"value": True}, 422, "request.validation_failed", "value"),
    ("percent", {"value": [1]}, 422, "request.validation_failed", "value"),
    ("count", {"value": 1e13}, 422, "measurement.invalid_number", "value"),
    ("percent", {"value": 50, "measured_on": FUTURE}, 422, "measurement.in_future", "measured_on"),
    ("percent", {"value": 50, "measured_on": "30/06/2025"}, 422, "request.validation_failed", "measured_on"),
    ("percent", {"value": 50, "source": None}, 422, "request.validation_failed", "source"),
    ("percent", {"value": 50, "source": "   "}, 422, "request.validation_failed", "source"),
    ("percent", {"value": 50, "source": "a\x00b"}, 422, "request.validation_failed", "source"),
    ("percent", {"value": 50, "unexpected": 1}, 422, "request.validation_failed", "unexpected"),
    ("percent", {"value": 50, "corrects": 2_000_000_000}, 422, "measurement.invalid_correction", "corrects"),
    ("percent", {"value": 50, "corrects": 0}, 422, "request.validation_failed", "corrects"),
    ("percent", {"value": 50, "organization_id": "{PNV-KD}"}, 422, "measurement.not_reporting_unit", "organization_id"),
    ("weighted", {"value": 50}, 422, "measurement.parts_required", "numerator"),
    ("milestone", {"numerator": 1, "denominator": 1}, 422, "measurement.wrong_value_kind", "numerator"),
    ("milestone", {"value": 0.5}, 422, "measurement.wrong_value_kind", "value"),
    ("milestone", {"value": 1, "done": True}, 422, "measurement.wrong_value_kind", "done"),
    ("milestone", {"done": "yes"}, 422, "request.validation_failed", "done"),
]


@pytest.mark.parametrize(("kind", "changes", "status", "code", "field"), BAD_INPUTS,
                         ids=[f"{kind}-{'-'.join(map(str, changes)) or 'empty'}-{code}" for kind, changes, _, code, _ in BAD_INPUTS])
def test_bad_input_stores_nothing(client, auth, make_indicator, session, org, kind, changes, status, code, field):
    indicator = {
        "percent": lambda: make_indicator(),
        "count": lambda: make_indicator(unit="dịch vụ"),
        "weighted": lambda: make_indicator(rollup="weighted_mean"),
        "milestone": lambda: make_indicator(unit="hoàn thành", kind="milestone", direction="exactly"),
    }[kind]()
    body = {"measured_on": DAY, "source": "Báo cáo thống kê", **changes}
    if body.get("source") is None:
        del body["source"]
    if body.get("organization_id") == "{PNV-KD}":
        body["organization_id"] = org["PNV-KD"]
    before = counts(session)
    response = client.post(f"/api/v1/indicators/{indicator}/measurements", json=body, headers=auth("canbo.vhkhtt"))
    problem = assert_problem(response, status, code)
    assert field in problem["errors"], problem
    assert counts(session) == before


@pytest.mark.parametrize("raw", [b'{"measured_on": "2025-06-30", "source": "x", "value": NaN}',
                                 b'{"measured_on": "2025-06-30", "source": "x", "value": Infinity}',
                                 b'{"measured_on": "2025-06-30", "source": "x", "value": 1e400}'])
def test_non_finite_numbers_are_refused(client, auth, make_indicator, session, raw):
    indicator = make_indicator(unit="dịch vụ")
    before = counts(session)
    response = client.post(f"/api/v1/indicators/{indicator}/measurements", data=raw, content_type="application/json",
                           headers=auth("canbo.vhkhtt"))
    assert "value" in assert_problem(response, 422, "request.validation_failed")["errors"]
    assert counts(session) == before


def test_viewer_may_not_record(client, auth, make_indicator, session):
    indicator = make_indicator()
    before = counts(session)
    assert_problem(record(client, auth, indicator, user="giamsat.tgdv", value=10), 403, "measurement.forbidden")
    assert counts(session) == before


def test_correction_of_another_unit_or_indicator_is_refused(client, auth, make_indicator, session):
    indicator = make_indicator("PVHKHTT-KD", "PNV-KD")
    other_unit = record(client, auth, indicator, user="canbo.noivu", value=10).get_json()["id"]
    other_indicator = record(client, auth, make_indicator(), value=10).get_json()["id"]
    before = counts(session)
    for corrects in (other_unit, other_indicator):
        assert_problem(record(client, auth, indicator, value=11, corrects=corrects), 422, "measurement.invalid_correction")
    assert counts(session) == before


def test_evidence_upload_list_download(client, auth, make_indicator, session, app):
    indicator = make_indicator()
    measurement = record(client, auth, indicator, value=60).get_json()["id"]
    content = files.pdf()
    response = upload(client, auth, indicator, measurement, content, VN_NAME)
    assert response.status_code == 201, response.get_json()
    uploaded = response.get_json()
    assert uploaded["original_name"] == VN_NAME and uploaded["media_type"] == "application/pdf"
    assert uploaded["sha256"] == hashlib.sha256(content).hexdigest() and uploaded["measurement_id"] == measurement

    listed = client.get(f"/api/v1/indicators/{indicator}/measurements", headers=auth("lanhdao.huyen")).get_json()
    assert [e["id"] for e in listed[0]["evidence"]] == [uploaded["id"]]

    download = client.get(f"/api/v1/measurement-evidence/{uploaded['id']}/content", headers=auth("lanhdao.ubnd"), buffered=True)
    assert download.status_code == 200 and download.data == content
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and unquote(disposition.split("filename*=UTF-8''")[1]) == VN_NAME
    assert download.headers["ETag"] == f'"{uploaded["sha256"]}"'
    assert_problem(client.get(f"/api/v1/measurement-evidence/{uploaded['id']}/content", headers=auth("canbo.noivu")), 404,
                   "evidence.not_found")
    assert_problem(client.get("/api/v1/measurement-evidence/2000000000/content", headers=auth("admin")), 404, "evidence.not_found")

    # evidence-check counts it as referenced, not as an orphan.
    with app.app_context():
        report = evidence_service.check_store()
        assert uploaded["sha256"] not in report.orphans and uploaded["sha256"] not in report.missing

    # Decided: further evidence goes with a correction.
    assert decide(client, auth, indicator, measurement, decision="accept").status_code == 200
    before = counts(session)
    assert_problem(upload(client, auth, indicator, measurement, files.pdf(), "Thêm.pdf"), 409, "measurement.already_decided")
    assert counts(session) == before


@pytest.mark.parametrize(("user", "content", "name", "status", "code"), [
    ("canbo.vhkhtt", files.pdf(), "Báo cáo.exe", 415, "evidence.type_not_allowed"),
    ("canbo.vhkhtt", b"MZ\x90\x00" + b"\x00" * 64, "Báo cáo.pdf", 415, "evidence.executable"),
    ("canbo.vhkhtt", b"", "Rỗng.pdf", 422, "evidence.empty"),
    ("canbo.vhkhtt", files.pdf(), "../Báo cáo.pdf", 422, "evidence.filename_path"),
    ("giamsat.tgdv", files.pdf(), "Báo cáo.pdf", 403, "measurement.forbidden"),
])
def test_evidence_refused_stores_nothing(client, auth, make_indicator, session, app, user, content, name, status, code):
    indicator = make_indicator()
    measurement = record(client, auth, indicator, value=60).get_json()["id"]
    before = counts(session)
    with app.app_context():
        stored = set(current_storage().keys())
    assert_problem(upload(client, auth, indicator, measurement, content, name, user=user), status, code)
    assert counts(session) == before
    with app.app_context():
        assert set(current_storage().keys()) <= stored


def test_evidence_too_large(client, auth, make_indicator, session, app, monkeypatch):
    monkeypatch.setitem(app.config, "EVIDENCE_MAX_BYTES", 1024)
    indicator = make_indicator()
    measurement = record(client, auth, indicator, value=60).get_json()["id"]
    before = counts(session)
    assert_problem(upload(client, auth, indicator, measurement, b"a" * 4096, "Số liệu.txt"), 413, "evidence.too_large")
    assert counts(session) == before


def test_purge_keeps_content_a_measurement_uses(client, auth, make_indicator, session, app):
    """The same file as an assignment's withdrawn evidence and a measurement's: purging the first keeps the blob."""
    from tests.api.test_evidence import upload as upload_to_assignment

    content = files.pdf()
    assignment = _assignment_of(session, "PVHKHTT-KD")
    first = upload_to_assignment(client, assignment, content, "Biên bản.pdf", headers=auth("canbo.vhkhtt"))
    assert first.status_code == 201, first.get_json()
    indicator = make_indicator()
    measurement = record(client, auth, indicator, value=60).get_json()["id"]
    assert upload(client, auth, indicator, measurement, content, "Biên bản.pdf").status_code == 201
    withdrawn = client.post(f"/api/v1/evidence/{first.get_json()['id']}/withdraw", json={"reason": "Tải nhầm"},
                            headers=auth("canbo.vhkhtt"))
    assert withdrawn.status_code == 200
    with app.app_context():
        assert evidence_service.purge_withdrawn() == []
        assert first.get_json()["sha256"] in set(current_storage().keys())


def _assignment_of(session, code):
    return session.scalar(select(Assignment.id).join(Organization, Organization.id == Assignment.organization_id)
                          .where(Organization.code == code).order_by(Assignment.id).limit(1))



def test_measurement_evidence_counts_in_the_quota(client, auth, make_indicator, session, app, monkeypatch):
    """One store, one quota per organisation: a measurement's files count with its assignments' files."""
    from tests.api.test_evidence import upload as upload_to_assignment

    content = files.pdf()
    monkeypatch.setitem(app.config, "EVIDENCE_QUOTA_BYTES", len(content) + 10)
    indicator = make_indicator()
    measurement = record(client, auth, indicator, value=60).get_json()["id"]
    assert upload(client, auth, indicator, measurement, content, "Số liệu.pdf").status_code == 201
    refused = upload_to_assignment(client, _assignment_of(session, "PVHKHTT-KD"), content, "Biên bản.pdf",
                                   headers=auth("canbo.vhkhtt"))
    assert_problem(refused, 413, "evidence.quota_exceeded")
