"""Import a whole plan from a `tracker-plan/1` file: validate everything, then write it all.

Services flush, never commit: the caller (one request, one CLI command) commits once, so an
import is all-or-nothing. Re-importing a plan (same issuer, code and issue date) updates it
in place; assignments that already exist are live work and are left as they are.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

import marshmallow as ma
import yaml
from sqlalchemy import select

from tracker.domain.indicators import Kind, Rollup
from tracker.domain.plans import cycle_falls_within, cycles, group_number_of, last_permitted_day, occurrence_due_date, parent_ref, section_of
from tracker.domain.text import fold
from tracker.errors import ValidationFailed, flatten_errors
from tracker.extensions import db
from tracker.models import (
    Action, Assignment, AssignmentEvent, Indicator, IndicatorTarget, IndicatorUnit, Organization, OrganizationLink, OrganizationVersion, Plan,
    TaskGroup,
)
from tracker.schemas.plan_file import PlanFileSchema

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_NODES = 200_000


def _fail(errors: dict[str, list[str]], code: str = "plan.invalid_file", detail: str | None = None):
    raise ValidationFailed(
        detail or "Tệp kế hoạch không hợp lệ, xem `errors`. The plan file is invalid; see `errors`.",
        code=code,
        errors=errors,
    )


class _PlanLoader(yaml.SafeLoader):
    """Safe YAML that leaves dates as text, so a bad date is a field error, not a crash."""


_PlanLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _plain(node: Any, budget: list[int]) -> Any:
    """Walk the parsed tree once, bounded so that YAML alias bombs cannot explode."""
    budget[0] -= 1
    if budget[0] < 0:
        _fail({"_file": [f"Tệp quá phức tạp (hơn {MAX_NODES} phần tử). File too complex."]}, code="plan.file_too_complex")
    if isinstance(node, dict):
        return {key: _plain(value, budget) for key, value in node.items()}
    if isinstance(node, list):
        return [_plain(value, budget) for value in node]
    return node


def parse_plan_file(raw: bytes | str, fmt: str) -> Any:
    """Parse YAML or JSON text into plain data; a syntax error names its line and column."""
    if isinstance(raw, bytes):
        if len(raw) > MAX_FILE_BYTES:
            _fail({"_file": [f"Tệp vượt quá {MAX_FILE_BYTES // 1024 // 1024} MiB. File too large."]}, code="plan.file_too_large")
        try:
            raw = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            _fail({"_file": [f"Tệp phải mã hóa UTF-8 (byte {exc.start}). The file must be UTF-8."]}, code="plan.malformed_file")
    try:
        if fmt == "json":
            data = json.loads(raw)
        else:
            data = yaml.load(raw, Loader=_PlanLoader)  # noqa: S506 - a SafeLoader subclass
    except json.JSONDecodeError as exc:
        _fail({"_file": [f"JSON lỗi ở dòng {exc.lineno}, cột {exc.colno}: {exc.msg}. "
                          f"Invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}."]}, code="plan.malformed_file")
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = (f" ở dòng {mark.line + 1}, cột {mark.column + 1}", f" at line {mark.line + 1}, column {mark.column + 1}") if mark else ("", "")
        reason = getattr(exc, "problem", None) or str(exc)
        _fail({"_file": [f"YAML lỗi{where[0]}: {reason}. Invalid YAML{where[1]}: {reason}."]}, code="plan.malformed_file")
    return _plain(data, [MAX_NODES])


def validate_plan_file(data: Any) -> dict:
    """Check the file's shape and its internal references; every error names its field path."""
    if not isinstance(data, dict):
        _fail({"_file": ["Tệp phải là một đối tượng (mapping) ở cấp ngoài cùng. The file must be a mapping."]})
    try:
        doc = PlanFileSchema().load(data)
    except ma.ValidationError as exc:
        _fail(flatten_errors(exc.messages))
    errors: dict[str, list[str]] = {}

    def add(path: str, message: str) -> None:
        errors.setdefault(path, []).append(message)

    in_file: dict[str, int] = {}
    for i, org in enumerate(doc["organizations"]):
        if org["code"] in in_file:
            add(f"organizations[{i}].code", f"Mã đơn vị {org['code']} bị trùng. Duplicate organisation code.")
        in_file.setdefault(org["code"], i)

    known_in_db = set(
        db.session.scalars(select(Organization.code).where(Organization.code.in_(_referenced_codes(doc) - in_file.keys())))
    )

    def known(code: str | None) -> bool:
        return code is None or code in in_file or code in known_in_db

    for i, org in enumerate(doc["organizations"]):
        parent = org["parent"]
        if parent is not None and not known(parent):
            add(f"organizations[{i}].parent", f"Không có đơn vị mã {parent}. Unknown organisation code.")
        elif parent is not None and in_file.get(parent, -1) >= i:
            add(f"organizations[{i}].parent", f"Đơn vị cha {parent} phải đứng trước. List a parent before its children.")
        if parent == org["code"]:
            add(f"organizations[{i}].parent", "Đơn vị không thể là cha của chính nó. An organisation cannot be its own parent.")
    for path, code in (("plan.issuer", doc["plan"]["issuer"]),) + (
        (("plan.parent.issuer", doc["plan"]["parent"]["issuer"]),) if doc["plan"]["parent"] else ()
    ):
        if not known(code):
            add(path, f"Không có đơn vị mã {code}. Unknown organisation code.")

    numbers: set[int] = set()
    refs: set[str] = set()
    for gi, group in enumerate(doc["groups"]):
        if group["number"] in numbers:
            add(f"groups[{gi}].number", f"Nhóm số {group['number']} bị trùng. Duplicate group number.")
        numbers.add(group["number"])
        for ai, action in enumerate(group["actions"]):
            path = f"groups[{gi}].actions[{ai}]"
            if group_number_of(action["ref"]) != group["number"]:
                add(f"{path}.ref", f"Mã {action['ref']} phải bắt đầu bằng III.{group['number']}. Ref must be III.{group['number']}.<n>.")
            _check_action(action, path, refs, known, add)
    for di, action in enumerate(doc["duties"]):
        path = f"duties[{di}]"
        if section_of(action["ref"]) == "III":
            add(f"{path}.ref", "Nhiệm vụ mục III phải nằm trong groups. Section III actions belong under groups.")
        _check_action(action, path, refs, known, add)
    _check_indicators(doc["indicators"], refs, known, add)
    if errors:
        _fail(errors)
    return doc


def _check_indicators(indicators: list[dict], refs: set[str], known, add) -> None:
    codes: set[str] = set()
    for i, entry in enumerate(indicators):
        path = f"indicators[{i}]"
        if entry["code"] in codes:
            add(f"{path}.code", f"Mã chỉ tiêu {entry['code']} bị trùng. Duplicate indicator code.")
        codes.add(entry["code"])
        if entry["action"] is not None and entry["action"] not in refs:
            add(f"{path}.action", f"Kế hoạch không có nhiệm vụ {entry['action']}. No action with this ref in the plan.")
        dates: set = set()
        for ti, target in enumerate(entry["targets"]):
            if target["date"] in dates:
                add(f"{path}.targets[{ti}].date", "Hai chỉ tiêu cùng một ngày. Two targets on the same date.")
            dates.add(target["date"])
            if entry["kind"] == Kind.MILESTONE and target["value"] not in (0, 1):
                add(f"{path}.targets[{ti}].value", "Chỉ tiêu dạng mốc (milestone) nhận 1 (hoàn thành) hoặc 0. A milestone's target is 1 (done) or 0.")
        baseline = entry["baseline"]
        if baseline is not None and entry["kind"] == Kind.MILESTONE and baseline["value"] not in (0, 1):
            add(f"{path}.baseline.value", "Mốc (milestone) nhận 1 (hoàn thành) hoặc 0. A milestone's value is 1 (done) or 0.")
        if baseline is not None and dates and baseline["date"] >= min(dates):
            add(f"{path}.baseline.date", "Số liệu gốc phải trước chỉ tiêu đầu tiên. The baseline must precede the first target.")
        seen: set[str] = set()
        for ui, code in enumerate(entry["units"]):
            if not known(code):
                add(f"{path}.units[{ui}]", f"Không có đơn vị mã {code}. Unknown organisation code.")
            elif code in seen:
                add(f"{path}.units[{ui}]", f"Đơn vị {code} được nêu hai lần. Organisation listed twice.")
            seen.add(code)
        if entry["rollup"] == Rollup.NONE and len(entry["units"]) > 1:
            add(f"{path}.rollup", "Nhiều đơn vị báo cáo cần cách tổng hợp sum, mean hoặc weighted_mean. "
                                  "Several reporting units need a roll-up: sum, mean or weighted_mean.")


def _referenced_codes(doc: dict) -> set[str]:
    codes = {doc["plan"]["issuer"]}
    if doc["plan"]["parent"]:
        codes.add(doc["plan"]["parent"]["issuer"])
    codes.update(org["parent"] for org in doc["organizations"] if org["parent"])
    for action in _all_actions(doc):
        codes.update(action["lead"])
        codes.update(action["coordinating"])
    for indicator in doc["indicators"]:
        codes.update(indicator["units"])
    return codes


def _all_actions(doc: dict):
    for group in doc["groups"]:
        yield from group["actions"]
    yield from doc["duties"]


def _check_action(action: dict, path: str, refs: set[str], known, add) -> None:
    if action["ref"] in refs:
        add(f"{path}.ref", f"Mã {action['ref']} bị trùng. Duplicate ref.")
    refs.add(action["ref"])
    seen: set[str] = set()
    for role in ("lead", "coordinating"):
        for i, code in enumerate(action[role]):
            if not known(code):
                add(f"{path}.{role}[{i}]", f"Không có đơn vị mã {code}. Unknown organisation code.")
            elif code in seen:
                add(f"{path}.{role}[{i}]", f"Đơn vị {code} được giao hai lần. Organisation assigned twice.")
            seen.add(code)


@dataclass
class Tally:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def count(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)


@dataclass
class ImportResult:
    plan: Plan
    plan_outcome: str
    organizations: Tally = field(default_factory=Tally)
    groups: Tally = field(default_factory=Tally)
    actions: Tally = field(default_factory=Tally)
    assignments: dict[str, int] = field(default_factory=lambda: {"created": 0, "kept": 0})
    actions_not_in_file: list[str] = field(default_factory=list)
    indicators: Tally = field(default_factory=Tally)
    indicators_not_in_file: list[str] = field(default_factory=list)


def _apply(obj: Any, values: dict) -> str:
    """Set attributes; say whether anything changed."""
    changed = False
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed = True
    return "updated" if changed else "unchanged"


def _upsert(model, key: dict, values: dict, tally: Tally | None = None, existing=None):
    obj = existing if existing is not None else db.session.scalar(select(model).filter_by(**key))
    if obj is None:
        obj = model(**key, **values)
        db.session.add(obj)
        outcome = "created"
    else:
        outcome = _apply(obj, values)
    if tally is not None:
        tally.count(outcome)
    return obj, outcome


def import_plan(doc: dict) -> ImportResult:
    """Write a validated plan document. Flushes; the caller commits."""
    orgs: dict[str, Organization] = {
        org.code: org for org in db.session.scalars(select(Organization).where(Organization.code.in_(_referenced_codes(doc) | {o["code"] for o in doc["organizations"]})))
    }
    org_tally = Tally()
    reorganised = _reorganised(orgs.values())
    for entry in doc["organizations"]:
        parent = orgs[entry["parent"]] if entry["parent"] else None
        values = {"name": entry["name"], "short_name": entry["short_name"], "kind": entry["kind"], "parent": parent, "is_demo": entry["demo"],
                  "search_key": fold(" ".join(filter(None, (entry["code"], entry["name"], entry["short_name"]))))}
        if entry["code"] in reorganised:
            # The file names the unit as it was when the plan was issued; its dated changes since
            # (rename, move, closure) are the record and stay.
            org_tally.count("unchanged")
            continue
        org, _ = _upsert(Organization, {"code": entry["code"]}, values, org_tally, existing=orgs.get(entry["code"]))
        orgs[entry["code"]] = org
    db.session.flush()
    _refuse_cycles(doc, orgs)

    meta = doc["plan"]
    parent_plan = None
    if meta["parent"]:
        p = meta["parent"]
        parent_plan, _ = _upsert(Plan, {"issuer": orgs[p["issuer"]], "code": p["code"], "issue_date": p["issue_date"]}, {"title": p["title"]})
    plan = db.session.scalar(
        select(Plan).filter_by(issuer_id=orgs[meta["issuer"]].id, code=meta["code"], issue_date=meta["issue_date"])
    )
    plan, plan_outcome = _upsert(
        Plan,
        {"issuer": orgs[meta["issuer"]], "code": meta["code"], "issue_date": meta["issue_date"]},
        {"title": meta["title"], "legal_basis": meta["legal_basis"], "timezone": meta["timezone"], "parent_plan": parent_plan},
        existing=plan,
    )
    db.session.flush()
    result = ImportResult(plan=plan, plan_outcome=plan_outcome, organizations=org_tally)

    groups = {g.number: g for g in plan.groups}
    for entry in doc["groups"]:
        group, _ = _upsert(TaskGroup, {"plan": plan, "number": entry["number"]}, {"title": entry["title"]}, result.groups, existing=groups.get(entry["number"]))
        groups[entry["number"]] = group

    actions = {a.ref: a for a in plan.actions}
    entries = [(e, groups[g["number"]]) for g in doc["groups"] for e in g["actions"]] + [(e, None) for e in doc["duties"]]
    for position, (entry, group) in enumerate(entries, start=1):
        recurrence = entry["recurrence"] or {}
        due_date = last_permitted_day(entry["due_before"], "before") if entry["due_before"] else entry["due_date"]
        action, _ = _upsert(
            Action,
            {"plan": plan, "ref": entry["ref"]},
            {
                "group": group,
                "section": section_of(entry["ref"]),
                "position": position,
                "title": entry["title"],
                "text": entry["text"],
                "expected_output": entry["expected_output"],
                "requires_evidence": entry["requires_evidence"],
                "due_date": due_date,
                "due_text": entry["due_text"],
                "recurrence_month": recurrence.get("month"),
                "recurrence_day": recurrence.get("day"),
                "recurrence_from_year": recurrence.get("from_year"),
                "recurrence_until_year": recurrence.get("until_year"),
                "recurrence_bound": recurrence.get("bound"),
                "report_period": entry["report"],
                "search_key": fold(" ".join(filter(None, (entry["ref"], entry["title"], entry["text"])))),
            },
            result.actions,
            existing=actions.get(entry["ref"]),
        )
        actions[entry["ref"]] = action
    db.session.flush()
    for entry, _ in entries:
        parent = actions.get(parent_ref(entry["ref"]) or "")
        if actions[entry["ref"]].parent_id != (parent.id if parent else None):
            actions[entry["ref"]].parent = parent
    file_refs = {entry["ref"] for entry, _ in entries}
    result.actions_not_in_file = sorted(ref for ref in actions if ref not in file_refs)

    _create_default_assignments(entries, actions, orgs, result, assigned_on=plan.issue_date)
    _import_indicators(doc["indicators"], plan, actions, orgs, result)
    db.session.flush()
    return result


def _import_indicators(entries: list[dict], plan: Plan, actions: dict[str, Action], orgs: dict[str, Organization],
                       result: ImportResult) -> None:
    """Upsert indicators by (plan, code); targets and units follow the file. Measurements are
    history and stay, whatever the file says now."""
    existing = {i.code: i for i in db.session.scalars(select(Indicator).where(Indicator.plan_id == plan.id))}
    for entry in entries:
        baseline = entry["baseline"] or {}
        reporting = entry["reporting"]
        action = actions.get(entry["action"] or entry["source"])
        indicator, outcome = _upsert(
            Indicator,
            {"plan": plan, "code": entry["code"]},
            {
                "name": entry["name"], "unit": entry["unit"], "kind": entry["kind"], "direction": entry["direction"],
                "source_ref": entry["source"], "action": action,
                "baseline_value": baseline.get("value"), "baseline_date": baseline.get("date"), "baseline_source": baseline.get("source"),
                "rollup": entry["rollup"], "report_month": reporting["month"], "report_day": reporting["day"],
                "report_bound": reporting["bound"], "note": entry["note"],
                "search_key": fold(" ".join(filter(None, (entry["code"], entry["name"], entry["source"])))),
            },
            existing=existing.get(entry["code"]),
        )
        targets = sorted((t["date"], t["value"]) for t in entry["targets"])
        if [(t.target_date, t.value) for t in indicator.targets] != targets:
            indicator.targets = []
            db.session.flush()  # the old rows go before new ones take their (indicator, date)
            indicator.targets = [IndicatorTarget(target_date=date, value=value) for date, value in targets]
            outcome = "updated" if outcome == "unchanged" else outcome
        unit_ids = list(dict.fromkeys(heir.id for heir in (_current_heir(orgs[code]) for code in entry["units"]) if heir is not None))
        if sorted(u.organization_id for u in indicator.units) != sorted(unit_ids):
            keep = {u.organization_id: u for u in indicator.units if u.organization_id in unit_ids}
            indicator.units = [keep.get(org_id) or IndicatorUnit(organization_id=org_id) for org_id in unit_ids]
            outcome = "updated" if outcome == "unchanged" else outcome
        result.indicators.count(outcome)
    file_codes = {entry["code"] for entry in entries}
    result.indicators_not_in_file = sorted(code for code in existing if code not in file_codes)


def _current_heir(org: Organization) -> Organization | None:
    """The unit that carries a closed unit's duties today: its successor, and theirs (None if the line ends)."""
    seen = set()
    while org is not None and org.valid_to is not None and org.id not in seen:
        seen.add(org.id)
        org = org.successor
    return org


def _reorganised(orgs) -> set[str]:
    """Codes of the organisations that a reorganisation has changed (closed, renamed, moved, linked)."""
    ids = [o.id for o in orgs]
    if not ids:
        return set()
    changed = set(db.session.scalars(select(OrganizationVersion.organization_id).where(
        OrganizationVersion.organization_id.in_(ids), OrganizationVersion.reorganization_id.is_not(None))))
    changed |= set(db.session.scalars(select(OrganizationLink.predecessor_id).where(OrganizationLink.predecessor_id.in_(ids))))
    return {o.code for o in orgs if o.id in changed or o.valid_to is not None}


def _refuse_cycles(doc: dict, orgs: dict[str, Organization]) -> None:
    for i, entry in enumerate(doc["organizations"]):
        seen = set()
        node = orgs[entry["code"]]
        while node is not None:
            if node.id in seen:
                _fail({f"organizations[{i}].parent": ["Cây đơn vị bị vòng lặp. The parent would create a cycle."]})
            seen.add(node.id)
            node = node.parent


def _create_default_assignments(entries, actions: dict[str, Action], orgs: dict[str, Organization], result: ImportResult,
                                assigned_on: dt.date) -> None:
    """The plan's own assignments were given the day it was issued, every year's cycle included."""
    action_ids = [a.id for a in actions.values()]
    existing = {
        (a.action_id, a.origin_organization_id, a.cycle)
        for a in db.session.execute(
            select(Assignment.action_id, Assignment.origin_organization_id, Assignment.cycle).where(Assignment.action_id.in_(action_ids))
        )
    }
    for entry, _ in entries:
        action = actions[entry["ref"]]
        for role in ("lead", "coordinating"):
            for code in entry[role]:
                org = orgs[code]
                for cycle in cycles(action.recurrence_from_year, action.recurrence_until_year):
                    if (action.id, org.id, cycle) in existing:
                        result.assignments["kept"] += 1
                        continue
                    due = action.due_date if cycle == 0 else occurrence_due_date(
                        cycle, action.recurrence_month, action.recurrence_day, action.recurrence_bound)
                    if org.valid_to is not None or (cycle and not cycle_falls_within(org, due)):
                        continue  # a closed unit takes no new work; a yearly duty only while the unit exists
                    assignment = Assignment(
                        action=action, organization=org, role=role, cycle=cycle, assigned_on=assigned_on,
                        due_date=due, original_due_date=due, status="not_started", progress=0,
                    )
                    assignment.events.append(
                        AssignmentEvent(
                            kind="assigned", effective_on=assigned_on,
                            new_value={"organization": org.code, "role": role, "due_date": due.isoformat() if due else None, "cycle": cycle,
                                       "assigned_on": assigned_on.isoformat()},
                            note="Phân công mặc định khi nhập kế hoạch. Default assignment from the plan file.",
                        )
                    )
                    db.session.add(assignment)
                    existing.add((action.id, org.id, cycle))
                    result.assignments["created"] += 1
