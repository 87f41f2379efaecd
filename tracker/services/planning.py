"""Planning work: leaders create and split actions, and assign them to organisations."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, or_, select

from tracker.domain.access import Principal, can_approve_for
from tracker.domain.plans import REF_PATTERN, cycle_falls_within, cycles, occurrence_due_date, section_of, valid_month_day
from tracker.domain.text import fold
from tracker.errors import AppError, Conflict, Forbidden, NotFound, ValidationFailed
from tracker.extensions import db
from tracker.models import Action, Assignment, Organization, Plan, TaskGroup
from tracker.services import history
from tracker.services.access import ancestor_ids
from tracker.services.assignments import check_owner
from tracker.services.workflow import run_each


def get_action(action_id: int) -> Action:
    action = db.session.get(Action, action_id)
    if action is None:
        raise NotFound(f"Không có nhiệm vụ {action_id}. No such action.", code="action.not_found")
    return action


def _named_action(action_id: int) -> Action:
    """The action a request body names: one that does not exist is a bad field (422 naming
    `action_id`), as an unknown organisation is, not a 404 of the URL."""
    action = db.session.get(Action, action_id)
    if action is None:
        raise ValidationFailed(errors={"action_id": ["Không có nhiệm vụ này. No such action."]})
    return action


def _require_planner(principal: Principal, plan: Plan) -> None:
    if not can_approve_for(principal, plan.issuer_id, ancestor_ids(plan.issuer_id)):
        raise Forbidden("Chỉ lãnh đạo cơ quan ban hành kế hoạch (hoặc quản trị) được sửa nhiệm vụ. "
                        "Only leaders of the issuing organisation (or admins) edit actions.", code="action.forbidden")


def _check_schedule(due_date, recurrence, report_period=None) -> None:
    if due_date is not None and recurrence is not None:
        raise ValidationFailed(errors={"recurrence": ["Chỉ dùng một trong due_date và recurrence. Use one of due_date or recurrence."]})
    if report_period is not None and recurrence is None:
        raise ValidationFailed(errors={"report_period": ["Nhiệm vụ báo cáo định kỳ cần recurrence. A periodic report duty needs a recurrence."]})
    if recurrence is not None:
        if not valid_month_day(recurrence["month"], recurrence["day"]):
            raise ValidationFailed(errors={"recurrence.day": ["Ngày không tồn tại. No such day in that month."]})
        if recurrence["from_year"] > recurrence["until_year"]:
            raise ValidationFailed(errors={"recurrence.until_year": ["Phải ≥ from_year. Must not be before from_year."]})


def _apply_fields(action: Action, data: dict) -> None:
    previous_bound = action.recurrence_bound if action.is_recurring else None
    for name in ("title", "text", "expected_output", "requires_evidence", "due_date", "due_text", "report_period"):
        if name in data:
            setattr(action, name, data[name])
    if "recurrence" in data:
        recurrence = data["recurrence"] or {}
        action.recurrence_month = recurrence.get("month")
        action.recurrence_day = recurrence.get("day")
        action.recurrence_from_year = recurrence.get("from_year")
        action.recurrence_until_year = recurrence.get("until_year")
        # A new recurrence is "by" unless it says otherwise; an edited one keeps its bound unless it says.
        action.recurrence_bound = (recurrence.get("bound") or previous_bound or "by") if recurrence else None
    action.search_key = fold(" ".join(filter(None, (action.ref, action.title, action.text))))


def create_action(principal: Principal, plan_id: int, data: dict) -> Action:
    """A new action of the plan; with `parent_id`, a finer split of that bullet (ref III.3.2.1 …)."""
    plan = db.session.get(Plan, plan_id)
    if plan is None:
        raise NotFound(f"Không có kế hoạch {plan_id}. No such plan.", code="plan.not_found")
    _require_planner(principal, plan)
    _check_schedule(data.get("due_date"), data.get("recurrence"), data.get("report_period"))
    parent = None
    if data.get("parent_id") is not None:
        parent = db.session.get(Action, data["parent_id"])
        if parent is None or parent.plan_id != plan.id:
            raise ValidationFailed(errors={"parent_id": ["Không có nhiệm vụ này trong kế hoạch. No such action in this plan."]})
        siblings = db.session.scalar(select(func.count(Action.id)).where(Action.parent_id == parent.id))
        ref = data.get("ref") or f"{parent.ref}.{siblings + 1}"
        if not ref.startswith(parent.ref + "."):
            raise ValidationFailed(errors={"ref": [f"Phải bắt đầu bằng {parent.ref}. Must start with {parent.ref}."]})
        group_id = parent.group_id
    else:
        ref = data.get("ref")
        if not ref:
            raise ValidationFailed(errors={"ref": ["Bắt buộc khi không có parent_id. Required without parent_id."]})
        group_id = None
        if data.get("group") is not None:
            group_id = db.session.scalar(select(TaskGroup.id).where(TaskGroup.plan_id == plan.id, TaskGroup.number == data["group"]))
            if group_id is None:
                raise ValidationFailed(errors={"group": ["Không có nhóm này. No such group."]})
    if not REF_PATTERN.match(ref):
        raise ValidationFailed(errors={"ref": ["Mã mục không hợp lệ (ví dụ III.3.2.1). Invalid ref."]})
    if db.session.scalar(select(Action.id).where(Action.plan_id == plan.id, Action.ref == ref)) is not None:
        raise Conflict(f"Mã {ref} đã có trong kế hoạch. The ref is taken.", code="action.ref_taken")
    position = (db.session.scalar(select(func.max(Action.position)).where(Action.plan_id == plan.id)) or 0) + 1
    action = Action(plan=plan, ref=ref, section=section_of(ref), group_id=group_id, parent=parent, position=position,
                    requires_evidence=True, text=data["text"])
    _apply_fields(action, data)
    db.session.add(action)
    db.session.flush()
    return action


def update_action(principal: Principal, action_id: int, data: dict) -> Action:
    action = get_action(action_id)
    _require_planner(principal, action.plan)
    due = data["due_date"] if "due_date" in data else action.due_date
    recurrence = data["recurrence"] if "recurrence" in data else (
        {"month": action.recurrence_month, "day": action.recurrence_day, "from_year": action.recurrence_from_year,
         "until_year": action.recurrence_until_year} if action.is_recurring else None)
    _check_schedule(due, recurrence, data["report_period"] if "report_period" in data else action.report_period)
    _apply_fields(action, data)
    db.session.flush()
    return action


def _check_assigned_on(assigned_on: dt.date | None, today: dt.date) -> None:
    if assigned_on is not None and assigned_on > today:
        raise ValidationFailed("Ngày giao việc không được ở tương lai. The day the work was given cannot be in the future.",
                               code="assignment.invalid_assigned_on",
                               errors={"assigned_on": [f"Phải ≤ {today:%d/%m/%Y}. Must not be after today."]})


def assign(principal: Principal, data: dict, *, today: dt.date) -> list[Assignment]:
    """Give an action to one organisation; a yearly action gets one assignment per year.

    The work was given `today`, or on `assigned_on` when historical data is entered."""
    action = _named_action(data["action_id"])
    org = db.session.get(Organization, data["organization_id"])
    if org is None:
        raise ValidationFailed(errors={"organization_id": ["Không có đơn vị này. No such organisation."]})
    if not can_approve_for(principal, org.id, ancestor_ids(org.id)):
        raise Forbidden("Chỉ lãnh đạo cấp trên của đơn vị (hoặc quản trị) được giao việc. Only leaders over the organisation assign it work.",
                        code="assignment.forbidden")
    if org.valid_to is not None:
        raise AppError("Đơn vị đã giải thể hoặc sáp nhập; giao cho đơn vị kế thừa. The organisation is closed; assign its successor.",
                       code="assignment.organization_closed", status=422, successor_id=org.successor_id)
    if action.is_recurring and data.get("due_date") is not None:
        raise ValidationFailed(errors={"due_date": ["Nhiệm vụ định kỳ tự tính hạn theo năm. Yearly actions take their dates from the recurrence."]})
    _check_assigned_on(data.get("assigned_on"), today)
    if data.get("owner_id") is not None:
        check_owner(data["owner_id"], org.id)
    existing = set(db.session.scalars(select(Assignment.cycle).where(
        Assignment.action_id == action.id, or_(Assignment.organization_id == org.id, Assignment.origin_organization_id == org.id))))
    if existing and not action.is_recurring:
        raise Conflict("Đơn vị đã được giao nhiệm vụ này. Already assigned.", code="assignment.exists")
    created = _create_cycles(action, org, data["role"], data.get("due_date"), data.get("owner_id"), existing, principal.user_id,
                             assigned_on=data.get("assigned_on") or today)
    if not created:
        raise Conflict("Đơn vị đã được giao đủ các năm (trong thời gian đơn vị tồn tại). "
                       "Already assigned for every year the organisation exists.", code="assignment.exists")
    return created


def _create_cycles(action: Action, org: Organization, role: str, due_date: dt.date | None, owner_id: int | None,
                   existing: set[int], actor_id: int | None, *, assigned_on: dt.date) -> list[Assignment]:
    created = []
    for cycle in cycles(action.recurrence_from_year, action.recurrence_until_year):
        if cycle in existing:
            continue
        due = (occurrence_due_date(cycle, action.recurrence_month, action.recurrence_day, action.recurrence_bound) if cycle
               else (due_date or action.due_date))
        if cycle and not cycle_falls_within(org, due):
            continue  # a yearly duty falls on a unit only while it exists: never before it began or after it closed
        assignment = Assignment(action=action, organization=org, role=role, cycle=cycle, owner_id=owner_id, assigned_on=assigned_on,
                                due_date=due, original_due_date=due, status="not_started", progress=0, search_key="")
        db.session.add(assignment)
        history.record(assignment, "assigned", actor_id=actor_id, effective_on=assigned_on,
                       new={"organization": org.code, "role": role, "due_date": due.isoformat() if due else None, "cycle": cycle,
                            "assigned_on": assigned_on.isoformat()})
        created.append(assignment)
    db.session.flush()
    return created


def bulk_assign(principal: Principal, data: dict, *, today: dt.date) -> list[dict]:
    """One action to many organisations (e.g. every department reports before 10/06), a result each."""
    _check_assigned_on(data.get("assigned_on"), today)  # the same for every item: refuse the whole request
    _named_action(data["action_id"])

    def one(item: dict) -> dict:
        created = assign(principal, {**data, "organization_id": item["organization_id"]}, today=today)
        return {"assignment_ids": [a.id for a in created]}

    items = [{"organization_id": org_id} for org_id in data["organization_ids"]]
    results = run_each(items, one)
    for result, item in zip(results, items, strict=True):
        result["organization_id"] = item["organization_id"]
    return results


def generate_recurring(principal: Principal | None, action_id: int, *, today: dt.date) -> list[Assignment]:
    """Every organisation that has a yearly action gets its assignment for each year (given `today`): idempotent. The assignments created (none on a second call)."""
    action = get_action(action_id)
    if principal is not None:
        _require_planner(principal, action.plan)
    if not action.is_recurring:
        return []
    rows = db.session.execute(select(Assignment.organization_id, Assignment.origin_organization_id, Assignment.role, Assignment.cycle)
                              .where(Assignment.action_id == action.id)).all()
    by_org: dict[int, tuple[str, set[int]]] = {}
    for org_id, origin_id, role, cycle in rows:
        by_org.setdefault(org_id, (role, set()))[1].add(cycle)
        by_org.setdefault(origin_id, (role, set()))[1].add(cycle)
    created: list[Assignment] = []
    for org_id, (role, existing) in by_org.items():
        org = db.session.get(Organization, org_id)
        if org.valid_to is None:
            created += _create_cycles(action, org, role, None, None, existing, principal.user_id if principal else None,
                                      assigned_on=today)
    return created
