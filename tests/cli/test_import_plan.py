"""`flask tracker import-plan` and `seed-demo`: idempotent, all-or-nothing, precise errors."""

import datetime as dt
import json

import pytest
import yaml

from tests.helpers import row_counts
from tracker.cli import bundled_plan


@pytest.fixture
def client(client_as):
    """This module's requests are made as the demo admin."""
    return client_as("admin")


@pytest.fixture
def demo_doc():
    return yaml.safe_load(bundled_plan())


# Positions of the bundled plan's duties, so that the cases below name the right field path.
DUTY = {duty["ref"]: i for i, duty in enumerate(yaml.safe_load(bundled_plan())["duties"])}
IV_2, IV_4_2 = DUTY["IV.2"], DUTY["IV.4.2"]


def write(tmp_path, doc, name="plan.yaml"):
    path = tmp_path / name
    if name.endswith(".json"):
        path.write_text(json.dumps(doc, default=str, ensure_ascii=False), encoding="utf-8")
    else:
        path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_seed_demo_twice_changes_nothing(runner, session):
    before = row_counts()
    result = runner.invoke(args=["tracker", "seed-demo"])
    assert result.exit_code == 0, result.output
    assert "unchanged" in result.output
    assert row_counts() == before
    assert before["assignment"] > 200


def test_import_same_plan_twice(runner, session, tmp_path, demo_doc):
    demo_doc["plan"]["code"] = "12-KH/HU"
    path = write(tmp_path, demo_doc, "plan.json")
    first = runner.invoke(args=["tracker", "import-plan", str(path)])
    assert first.exit_code == 0, first.output
    after_first = row_counts()
    second = runner.invoke(args=["tracker", "import-plan", str(path)])
    assert second.exit_code == 0, second.output
    assert row_counts() == after_first
    assert "0 created" in second.output


def _edit(doc, change):
    change(doc)
    return doc


CASES = {
    "unknown organisation code": (
        lambda d: d["groups"][0]["actions"][0]["lead"].append("NO-SUCH-ORG"),
        "groups[0].actions[0].lead[1]",
    ),
    "bad date": (lambda d: d["plan"].__setitem__("issue_date", "2025-02-30"), "plan.issue_date"),
    "bad due date": (lambda d: d["duties"][IV_2].__setitem__("due_date", "31/03/2025"), f"duties[{IV_2}].due_date"),
    "missing title": (lambda d: d["plan"].pop("title"), "plan.title"),
    "empty group title": (lambda d: d["groups"][3].__setitem__("title", ""), "groups[3].title"),
    "duplicate group number": (lambda d: d["groups"][4].__setitem__("number", 4), "groups[4].number"),
    "duplicate ref": (lambda d: d["groups"][1]["actions"][2].__setitem__("ref", "III.2.1"), "groups[1].actions[2].ref"),
    "ref outside its group": (lambda d: d["groups"][1]["actions"][0].__setitem__("ref", "III.3.9"), "groups[1].actions[0].ref"),
    "unknown key": (lambda d: d["organizations"][0].__setitem__("colour", "red"), "organizations[0].colour"),
    "unknown kind": (lambda d: d["organizations"][2].__setitem__("kind", "ministry"), "organizations[2].kind"),
    "due date and recurrence": (lambda d: d["duties"][IV_4_2].__setitem__("due_date", "2025-06-10"), f"duties[{IV_4_2}].recurrence"),
    "impossible recurrence day": (lambda d: d["duties"][IV_4_2]["recurrence"].__setitem__("day", 31), f"duties[{IV_4_2}].recurrence.day"),
    "due date and due before": (lambda d: d["duties"][IV_2].__setitem__("due_before", "2025-04-01"), f"duties[{IV_2}].due_before"),
    "bad due before": (lambda d: d["duties"][IV_2].__setitem__("due_before", "10/06/2025"), f"duties[{IV_2}].due_before"),
    "due before and recurrence": (lambda d: d["duties"][IV_4_2].__setitem__("due_before", "2025-06-10"), f"duties[{IV_4_2}].recurrence"),
    "unknown bound": (lambda d: d["duties"][IV_4_2]["recurrence"].__setitem__("bound", "after"), f"duties[{IV_4_2}].recurrence.bound"),
    "report without recurrence": (lambda d: d["duties"][IV_2].__setitem__("report", "annual"), f"duties[{IV_2}].report"),
    "unknown report period": (lambda d: d["duties"][IV_4_2].__setitem__("report", "quarterly"), f"duties[{IV_4_2}].report"),
    "due text too long": (lambda d: d["duties"][IV_2].__setitem__("due_text", "trước ngày " * 30), f"duties[{IV_2}].due_text"),
    "same organisation twice": (
        lambda d: d["groups"][0]["actions"][0]["coordinating"].append(d["groups"][0]["actions"][0]["lead"][0]),
        "groups[0].actions[0].coordinating",
    ),
    "parent listed after child": (lambda d: d["organizations"].insert(0, d["organizations"].pop(2)), "organizations[0].parent"),
    "wrong format version": (lambda d: d.__setitem__("format", "tracker-plan/9"), "format"),
    # Indicators (chỉ tiêu): CT-01 is indicators[0], CT-07 (a milestone) [6], CT-15 (three communes) [14], CT-16 [15].
    "unknown indicator unit": (lambda d: d["indicators"][3]["units"].append("NO-SUCH-ORG"), "indicators[3].units[1]"),
    "indicator unit twice": (lambda d: d["indicators"][14]["units"].append("DB-NGHIADAN"), "indicators[14].units[3]"),
    "bad direction": (lambda d: d["indicators"][0].__setitem__("direction", "upwards"), "indicators[0].direction"),
    "unknown indicator kind": (lambda d: d["indicators"][0].__setitem__("kind", "ratio"), "indicators[0].kind"),
    "duplicate indicator code": (lambda d: d["indicators"][2].__setitem__("code", "CT-01"), "indicators[2].code"),
    "bad indicator code": (lambda d: d["indicators"][2].__setitem__("code", "ct 03"), "indicators[2].code"),
    "milestone target other than 0/1": (lambda d: d["indicators"][6]["targets"][0].__setitem__("value", 80), "indicators[6].targets[0].value"),
    "no targets": (lambda d: d["indicators"][1].__setitem__("targets", []), "indicators[1].targets"),
    "no units": (lambda d: d["indicators"][1].__setitem__("units", []), "indicators[1].units"),
    "target value not a number": (lambda d: d["indicators"][3]["targets"][0].__setitem__("value", "trên 35"), "indicators[3].targets[0].value"),
    "bad target date": (lambda d: d["indicators"][5]["targets"][2].__setitem__("date", "31/12/2027"), "indicators[5].targets[2].date"),
    "two targets on one date": (lambda d: d["indicators"][5]["targets"][2].__setitem__("date", "2026-12-31"), "indicators[5].targets[2].date"),
    "unknown indicator action": (lambda d: d["indicators"][15].__setitem__("action", "III.5.1.9"), "indicators[15].action"),
    "bad indicator source": (lambda d: d["indicators"][15].__setitem__("source", "mục 5"), "indicators[15].source"),
    "unknown rollup": (lambda d: d["indicators"][14].__setitem__("rollup", "median"), "indicators[14].rollup"),
    "many units without a rollup": (lambda d: d["indicators"][14].__setitem__("rollup", "none"), "indicators[14].rollup"),
    "impossible reporting day": (lambda d: d["indicators"][0].__setitem__("reporting", {"month": 2, "day": 30}), "indicators[0].reporting.day"),
    "baseline after the first target": (
        lambda d: d["indicators"][0].__setitem__("baseline", {"value": 40, "date": "2031-01-01"}), "indicators[0].baseline.date"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_invalid_file_names_the_field_and_writes_nothing(runner, session, tmp_path, demo_doc, case):
    change, field = CASES[case]
    demo_doc["plan"]["code"] = "77-KH/HU"  # would be a new plan: nothing of it may be written
    demo_doc["organizations"].append({"code": "BRAND-NEW", "name": "Đơn vị mới", "kind": "department", "parent": "UBND-KD"})
    path = write(tmp_path, _edit(demo_doc, change))
    before = row_counts()
    result = runner.invoke(args=["tracker", "import-plan", str(path)])
    assert result.exit_code != 0
    assert field in result.output, result.output
    # Each key the format knows is refused for what is wrong with it, not as an unknown key.
    assert ("Unknown field" in result.output) == (case == "unknown key"), result.output
    assert row_counts() == before


def test_malformed_yaml(runner, session, tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("format: tracker-plan/1\nplan:\n  code: [unclosed\n", encoding="utf-8")
    before = row_counts()
    result = runner.invoke(args=["tracker", "import-plan", str(path)])
    assert result.exit_code != 0
    assert "plan.malformed_file" in result.output and "_file" in result.output and "dòng" in result.output
    assert row_counts() == before


def test_not_utf8(runner, session, tmp_path):
    path = tmp_path / "latin.yaml"
    path.write_bytes("format: tracker-plan/1\nplan: {title: 'Kế hoạch'}\n".encode("utf-16"))
    result = runner.invoke(args=["tracker", "import-plan", str(path)])
    assert result.exit_code != 0 and "UTF-8" in result.output


def test_alias_bomb_is_refused(runner, session, tmp_path):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = runner.invoke(args=["tracker", "import-plan", str(path)])
    assert result.exit_code != 0 and "plan.file_too_complex" in result.output


def test_decomposed_vietnamese_is_stored_composed(runner, session, tmp_path, demo_doc, client):
    import unicodedata

    demo_doc["plan"]["code"] = "NFD-KH/HU"
    demo_doc["plan"]["title"] = unicodedata.normalize("NFD", "Kế hoạch chuyển đổi số")
    path = write(tmp_path, demo_doc)
    assert runner.invoke(args=["tracker", "import-plan", str(path)]).exit_code == 0
    titles = [p["title"] for p in client.get("/api/v1/plans").get_json()]
    assert unicodedata.normalize("NFC", "Kế hoạch chuyển đổi số") in titles


def test_reimport_keeps_live_assignments_and_adds_new_ones(runner, session, tmp_path, demo_doc):
    from sqlalchemy import select

    from tracker.models import Assignment, Organization

    demo_doc["groups"][0]["actions"][1]["coordinating"].append("HND-KD")  # III.1.2, a one-off bullet
    demo_doc["groups"][0]["actions"][0]["coordinating"].append("HND-KD")  # III.1.1, yearly 2025-2030
    path = write(tmp_path, demo_doc)
    before = row_counts()
    result = runner.invoke(args=["tracker", "import-plan", str(path)])
    assert result.exit_code == 0, result.output
    after = row_counts()
    assert after["assignment"] == before["assignment"] + 1 + 6
    assert after["assignment_event"] == before["assignment_event"] + 1 + 6
    org_id = session.scalar(select(Organization.id).where(Organization.code == "HND-KD"))
    new = session.scalars(select(Assignment).where(Assignment.organization_id == org_id, Assignment.role == "coordinating")
                          .order_by(Assignment.cycle)).all()
    assert [a.cycle for a in new] == [0, 2025, 2026, 2027, 2028, 2029, 2030]
    assert all(a.status == "not_started" and [e.kind for e in a.events] == ["assigned"] for a in new)
    # Work that comes with the plan was given on the plan's issue date, every year's cycle too.
    assert {a.assigned_on for a in new} == {dt.date(2025, 2, 25)}


def test_import_refuses_missing_file(runner):
    result = runner.invoke(args=["tracker", "import-plan", "/nonexistent/plan.yaml"])
    assert result.exit_code != 0 and "does not exist" in result.output


def test_unquoted_impossible_date(runner, session, tmp_path):
    text = bundled_plan().decode().replace("issue_date: 2025-02-25", "issue_date: 2025-13-01", 1)
    path = tmp_path / "date.yaml"
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(args=["tracker", "import-plan", str(path)])
    assert result.exit_code != 0 and "plan.issue_date" in result.output


def test_deadlines_as_written(runner, session, tmp_path):
    """`due_before` and `bound: before` store the day before the written one as `due_date`; the
    wording is kept in `due_text`; `report` marks a periodic report duty; work imported with the
    plan was assigned on its issue date."""
    from sqlalchemy import select

    from tracker.models import Action, Assignment, Plan

    doc = {
        "format": "tracker-plan/1",
        "plan": {"code": "HAN-KH/HU", "title": "Kế hoạch thử thời hạn", "issuer": "HU-KD", "issue_date": "2025-02-25"},
        "duties": [
            {"ref": "IV.1", "text": "Nộp trước ngày 10/6/2025.", "due_before": "2025-06-10", "due_text": "trước ngày 10/6/2025",
             "lead": ["PNV-KD"]},
            {"ref": "IV.2", "text": "Xong đến 30/6/2025.", "due_date": "2025-06-30", "due_text": "Đến 30/6/2025", "lead": ["PNV-KD"]},
            {"ref": "IV.3", "text": "Báo cáo năm trước ngày 01/3.", "due_text": "trước ngày 01/3", "report": "annual",
             "recurrence": {"month": 3, "day": 1, "bound": "before", "from_year": 2027, "until_year": 2028}, "lead": ["PNV-KD"]},
            {"ref": "IV.4", "text": "Báo cáo đến ngày 10/6.", "recurrence": {"month": 6, "day": 10, "from_year": 2027, "until_year": 2027},
             "lead": ["PNV-KD"]},
        ],
    }
    result = runner.invoke(args=["tracker", "import-plan", str(write(tmp_path, doc, "plan.json"))])
    assert result.exit_code == 0, result.output
    plan = session.scalar(select(Plan).where(Plan.code == "HAN-KH/HU"))
    actions = {a.ref: a for a in plan.actions}
    assert (actions["IV.1"].due_date, actions["IV.1"].due_text) == (dt.date(2025, 6, 9), "trước ngày 10/6/2025")
    assert (actions["IV.2"].due_date, actions["IV.2"].due_text) == (dt.date(2025, 6, 30), "Đến 30/6/2025")
    yearly = actions["IV.3"]
    assert (yearly.recurrence_month, yearly.recurrence_day, yearly.recurrence_bound) == (3, 1, "before")
    assert (yearly.report_period, yearly.due_date) == ("annual", None)
    assert (actions["IV.4"].recurrence_bound, actions["IV.4"].report_period, actions["IV.4"].due_text) == ("by", None, None)
    due = {(a.action.ref, a.cycle): a.due_date for a in session.scalars(select(Assignment).join(Action).where(Action.plan_id == plan.id))}
    assert due == {
        ("IV.1", 0): dt.date(2025, 6, 9),
        ("IV.2", 0): dt.date(2025, 6, 30),
        ("IV.3", 2027): dt.date(2027, 2, 28),  # before 01/03 in a common year
        ("IV.3", 2028): dt.date(2028, 2, 29),  # and in a leap year
        ("IV.4", 2027): dt.date(2027, 6, 10),  # by 10/06 is the default
    }
    assert set(session.scalars(select(Assignment.assigned_on).join(Action).where(Action.plan_id == plan.id))) == {dt.date(2025, 2, 25)}


def test_reimport_updates_indicators_in_place_and_keeps_measurements(runner, session, tmp_path, demo_doc):
    """An indicator is keyed by (plan, code): a re-import changes its fields, targets and units in
    place; its measurements are history and stay."""
    from sqlalchemy import select

    from tracker.models import Indicator, IndicatorTarget, IndicatorUnit, Measurement, Organization, Plan, User

    plan_id = session.scalar(select(Plan.id).where(Plan.code == "KH-NQ57/HU"))
    indicator_id = session.scalar(select(Indicator.id).where(Indicator.plan_id == plan_id, Indicator.code == "CT-01"))
    orgs = dict(session.execute(select(Organization.code, Organization.id)).all())
    admin_id = session.scalar(select(User.id).where(User.username == "admin"))
    session.add(Measurement(indicator_id=indicator_id, organization_id=orgs["VPUB-KD"], measured_on=dt.date(2025, 11, 20), value=61.5,
                            source="Báo cáo năm 2025", status="accepted", recorded_by_id=admin_id))
    session.commit()
    path = write(tmp_path, demo_doc)
    unchanged = runner.invoke(args=["tracker", "import-plan", str(path)])
    assert unchanged.exit_code == 0, unchanged.output
    assert "indicators: 0 created, 0 updated, 16 unchanged" in unchanged.output

    entry = demo_doc["indicators"][0]
    entry["targets"] = [{"date": "2027-12-31", "value": 60}, {"date": "2030-12-31", "value": 85}]
    entry["units"] = ["VPUB-KD", "PVHKHTT-KD"]
    entry["rollup"] = "mean"
    entry["baseline"] = {"value": 45, "date": "2024-12-31", "source": "Báo cáo của tỉnh"}
    demo_doc["indicators"].pop(10)  # CT-11 leaves the file: kept, and said so
    before = row_counts()
    result = runner.invoke(args=["tracker", "import-plan", str(write(tmp_path, demo_doc))])
    assert result.exit_code == 0, result.output
    assert "indicators: 0 created, 1 updated, 14 unchanged" in result.output
    assert "indicators kept, not in file: CT-11" in result.output
    after = row_counts()
    assert after["indicator"] == before["indicator"] and after["indicator_target"] == before["indicator_target"] + 1
    assert after["indicator_unit"] == before["indicator_unit"] + 1
    session.expire_all()
    same = session.get(Indicator, indicator_id)
    assert [(t.target_date, t.value) for t in same.targets] == [(dt.date(2027, 12, 31), 60), (dt.date(2030, 12, 31), 85)]
    assert {u.organization_id for u in same.units} == {orgs["VPUB-KD"], orgs["PVHKHTT-KD"]}
    assert (same.rollup, same.baseline_value, same.baseline_date) == ("mean", 45, dt.date(2024, 12, 31))
    assert session.scalar(select(Measurement.value).where(Measurement.indicator_id == indicator_id)) == 61.5
    assert session.scalar(select(IndicatorUnit.id).where(IndicatorUnit.indicator_id == indicator_id,
                                                         IndicatorUnit.organization_id == orgs["VPUB-KD"])) is not None
    assert session.scalar(select(IndicatorTarget.id).where(IndicatorTarget.indicator_id == indicator_id,
                                                           IndicatorTarget.target_date == dt.date(2030, 12, 31))) is not None


def test_indicators_of_a_new_plan_via_the_api(client, session, demo_doc):
    """POST /plans/import takes the same format; a second identical import changes nothing."""
    demo_doc["plan"]["code"] = "CT-KH/HU"
    body = json.dumps(demo_doc, default=str, ensure_ascii=False)
    first = client.post("/api/v1/plans/import", data=body, content_type="application/json")
    assert first.status_code == 201, first.get_data(as_text=True)  # a new plan: created, with its Location
    assert first.get_json()["indicators"] == {"created": 16, "updated": 0, "unchanged": 0}
    counts = row_counts()
    second = client.post("/api/v1/plans/import", data=body, content_type="application/json")
    assert second.get_json()["indicators"] == {"created": 0, "updated": 0, "unchanged": 16}
    assert row_counts() == counts
    plan_id = first.get_json()["plan"]["id"]
    listed = client.get("/api/v1/indicators", query_string={"plan_id": plan_id, "page_size": 50}).get_json()
    assert [i["code"] for i in listed] == [f"CT-{n:02d}" for n in range(1, 17)]
    assert next(i for i in listed if i["code"] == "CT-16")["action_ref"] == "III.5.1.1"  # linked within its own plan
