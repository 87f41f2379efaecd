"""`flask tracker import-plan` and `seed-demo`: idempotent, all-or-nothing, precise errors."""

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
    "bad due date": (lambda d: d["duties"][1].__setitem__("due_date", "31/03/2025"), "duties[1].due_date"),
    "missing title": (lambda d: d["plan"].pop("title"), "plan.title"),
    "empty group title": (lambda d: d["groups"][3].__setitem__("title", ""), "groups[3].title"),
    "duplicate group number": (lambda d: d["groups"][4].__setitem__("number", 4), "groups[4].number"),
    "duplicate ref": (lambda d: d["groups"][1]["actions"][2].__setitem__("ref", "III.2.1"), "groups[1].actions[2].ref"),
    "ref outside its group": (lambda d: d["groups"][1]["actions"][0].__setitem__("ref", "III.3.9"), "groups[1].actions[0].ref"),
    "unknown key": (lambda d: d["organizations"][0].__setitem__("colour", "red"), "organizations[0].colour"),
    "unknown kind": (lambda d: d["organizations"][2].__setitem__("kind", "ministry"), "organizations[2].kind"),
    "due date and recurrence": (lambda d: d["duties"][6].__setitem__("due_date", "2025-06-10"), "duties[6].recurrence"),
    "impossible recurrence day": (lambda d: d["duties"][6]["recurrence"].__setitem__("day", 31), "duties[6].recurrence.day"),
    "same organisation twice": (
        lambda d: d["groups"][0]["actions"][0]["coordinating"].append(d["groups"][0]["actions"][0]["lead"][0]),
        "groups[0].actions[0].coordinating",
    ),
    "parent listed after child": (lambda d: d["organizations"].insert(0, d["organizations"].pop(2)), "organizations[0].parent"),
    "wrong format version": (lambda d: d.__setitem__("format", "tracker-plan/9"), "format"),
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

    demo_doc["groups"][0]["actions"][0]["coordinating"].append("HND-KD")
    path = write(tmp_path, demo_doc)
    before = row_counts()
    result = runner.invoke(args=["tracker", "import-plan", str(path)])
    assert result.exit_code == 0, result.output
    after = row_counts()
    assert after["assignment"] == before["assignment"] + 1
    assert after["assignment_event"] == before["assignment_event"] + 1
    org_id = session.scalar(select(Organization.id).where(Organization.code == "HND-KD"))
    new = session.scalar(select(Assignment).where(Assignment.organization_id == org_id, Assignment.role == "coordinating"))
    assert new.status == "not_started" and [e.kind for e in new.events] == ["assigned"]


def test_import_refuses_missing_file(runner):
    result = runner.invoke(args=["tracker", "import-plan", "/nonexistent/plan.yaml"])
    assert result.exit_code != 0 and "does not exist" in result.output


def test_unquoted_impossible_date(runner, session, tmp_path):
    text = bundled_plan().decode().replace("issue_date: 2025-02-25", "issue_date: 2025-13-01", 1)
    path = tmp_path / "date.yaml"
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(args=["tracker", "import-plan", str(path)])
    assert result.exit_code != 0 and "plan.issue_date" in result.output
