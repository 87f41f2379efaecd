"""Reorganisations (sáp nhập, chia tách, đổi tên, điều chuyển, giải thể) as dated changes.

A reorganisation effective on day D:
- closes the units it ends on D - 1 (valid_to) and records the lineage to their successors;
- versions names and parents, so that reports as of a day before D keep the old tree;
- passes the open work of each closed unit to its successor (one transfer and one `transferred`
  event per assignment; role, due date and ETag version kept; the owner too if still a member),
  while completed work stays with the unit that did it; a yearly duty falling due after the unit
  closed is superseded when the successor already has that year's duty;
- may move the closed units' memberships to the successor.
Every rule is checked before anything is written: a refused reorganisation changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import func, or_, select, update

from tracker.domain.access import Principal
from tracker.domain.vocabulary import Status
from tracker.errors import AppError, Conflict, NotFound
from tracker.extensions import db
from tracker.models import (
    Assignment, AssignmentTransfer, Extension, IndicatorUnit, Membership, Organization, OrganizationLink, OrganizationVersion, Reorganization,
)
from tracker.models.base import utcnow
from tracker.services import changes, history, tallies
from tracker.services.organizations import create_organization, refresh_search_key

OPEN_STATUSES = tuple(s.value for s in Status if s not in (Status.COMPLETED, Status.CANCELLED))
DAY = dt.timedelta(days=1)


def _refuse(code: str, detail: str, *, status: int = 422, field: str | None = None, **extra) -> AppError:
    return AppError(detail, code=code, status=status, errors={field: [detail]} if field else None, **extra)


def _unit(org_id: int, field: str) -> Organization:
    org = db.session.get(Organization, org_id)
    if org is None:
        raise _refuse("reorganization.unknown_organization", f"Không có đơn vị {org_id}. No such organisation.", field=field,
                      organization_id=org_id)
    return org


def _last_change(org: Organization) -> dt.date | None:
    """The latest day a recorded change of this unit took effect (its creation, a version, a link)."""
    days = [org.valid_from]
    days.append(db.session.scalar(select(func.max(OrganizationVersion.valid_from)).where(OrganizationVersion.organization_id == org.id)))
    days.append(db.session.scalar(select(func.max(OrganizationLink.effective_on)).where(
        or_(OrganizationLink.predecessor_id == org.id, OrganizationLink.successor_id == org.id))))
    days.append(db.session.scalar(select(func.max(AssignmentTransfer.effective_on)).where(
        or_(AssignmentTransfer.from_organization_id == org.id, AssignmentTransfer.to_organization_id == org.id))))
    known = [d for d in days if d is not None]
    return max(known) if known else None


def _check_changeable(org: Organization, day: dt.date, field: str, *, closing: bool) -> None:
    """The unit exists on `day` (and, if it closes, existed before it), is not closed, and has no
    change recorded after `day` (reorganisations of a unit are recorded in date order)."""
    if org.valid_to is not None:
        raise _refuse("reorganization.organization_closed",
                      f"Đơn vị {org.code} đã đóng từ {org.valid_to + DAY:%d/%m/%Y}. The organisation is already closed.",
                      status=409, field=field, organization_id=org.id)
    if org.valid_from is not None and (day <= org.valid_from if closing else day < org.valid_from):
        raise _refuse("reorganization.before_valid_from",
                      f"Đơn vị {org.code} chỉ có từ {org.valid_from:%d/%m/%Y}. The effective date is before the organisation existed.",
                      field="effective_on", organization_id=org.id)
    last = _last_change(org)
    if last is not None and (day <= last if closing else day < last):
        raise _refuse("reorganization.overlaps",
                      f"Đơn vị {org.code} đã có thay đổi từ {last:%d/%m/%Y}; ghi các thay đổi theo thứ tự ngày. "
                      "A later change of this organisation is already recorded; record changes in date order.",
                      status=409, field="effective_on", organization_id=org.id, last_change_on=last)


def _open_version(org: Organization) -> OrganizationVersion:
    return db.session.scalar(select(OrganizationVersion).where(
        OrganizationVersion.organization_id == org.id, OrganizationVersion.valid_to.is_(None)))


def _new_version(org: Organization, day: dt.date, reorganization: Reorganization, **changes) -> None:
    """Close the open version on `day` - 1 and open one from `day` with `changes` (the same day: amend it)."""
    current = _open_version(org)
    values = {"name": org.name, "short_name": org.short_name, "parent_id": org.parent_id, **changes}
    if current is not None and current.valid_from == day:
        for key, value in values.items():
            setattr(current, key, value)
        current.reorganization_id = reorganization.id
    else:
        if current is not None:
            current.valid_to = day - DAY
        db.session.add(OrganizationVersion(organization_id=org.id, valid_from=day, reorganization_id=reorganization.id, **values))
    db.session.flush()
    org.name, org.short_name, org.parent_id = values["name"], values["short_name"], values["parent_id"]
    refresh_search_key(org)


def _check_parent(org: Organization | None, parent_id: int | None, day: dt.date, field: str) -> Organization | None:
    if parent_id is None:
        return None
    parent = _unit(parent_id, field)
    if not parent.exists_on(day) or parent.valid_to is not None:
        raise _refuse("reorganization.parent_closed", f"Đơn vị cấp trên {parent.code} không còn hoặc chưa có vào ngày hiệu lực. "
                      "The new parent does not exist on the effective date.", field=field, organization_id=parent.id)
    if org is not None:
        node, seen = parent, set()
        while node is not None and node.id not in seen:
            if node.id == org.id:
                raise _refuse("organization.cycle", "Không thể chuyển đơn vị vào chính nó hoặc đơn vị con. "
                              "An organisation cannot move under itself or its descendants.", field=field)
            seen.add(node.id)
            node = node.parent
    return parent


def _begin(principal: Principal, kind: str, data: dict, today: dt.date) -> Reorganization:
    day = data["effective_on"]
    if day > today:
        raise _refuse("reorganization.effective_in_future",
                      f"Chỉ ghi nhận thay đổi đã có hiệu lực (đến {today:%d/%m/%Y}). Only changes in effect by today can be recorded.",
                      field="effective_on")
    reorganization = Reorganization(kind=kind, effective_on=day, decision=data.get("decision"), note=data.get("note"),
                                    recorded_by_id=principal.user_id, recorded_at=utcnow())
    db.session.add(reorganization)
    db.session.flush()
    return reorganization


# --- entry point -------------------------------------------------------------------------------


def reorganize(principal: Principal, data: dict, *, today: dt.date) -> Reorganization:
    """Record one reorganisation (see the module's docstring). Flushes; the caller commits."""
    kind = data["kind"]
    handler = {"merge": _merge, "split": _split, "rename": _rename, "move": _move, "close": _close}[kind]
    if kind == "rename":
        return handler(principal, data, today)
    before = tallies.nodes_above()
    reorganization = handler(principal, data, today)
    # The tree or the lineage changed, and transfers are plain UPDATEs: recount the tallies they touched.
    transfers = db.session.execute(select(AssignmentTransfer.from_organization_id, AssignmentTransfer.to_organization_id)
                                   .where(AssignmentTransfer.reorganization_id == reorganization.id).distinct()).all()
    tallies.rebuild_after_reorganization(before, [tuple(t) for t in transfers])
    return reorganization


def _rename(principal: Principal, data: dict, today: dt.date) -> Reorganization:
    org = _unit(_required(data, "organization_id"), "organization_id")
    day = data["effective_on"]
    if not data.get("name"):
        raise _refuse("reorganization.name_required", "Cần tên mới. A new name is required.", field="name")
    _check_changeable(org, day, "organization_id", closing=False)
    reorganization = _begin(principal, "rename", data, today)
    old = {"name": org.name, "short_name": org.short_name}
    _new_version(org, day, reorganization, name=data["name"], short_name=data.get("short_name", org.short_name))
    reorganization.outcome = {"organization_id": org.id, "old": old, "new": {"name": org.name, "short_name": org.short_name}}
    db.session.flush()
    return reorganization


def _move(principal: Principal, data: dict, today: dt.date) -> Reorganization:
    org = _unit(_required(data, "organization_id"), "organization_id")
    day = data["effective_on"]
    _check_changeable(org, day, "organization_id", closing=False)
    if "parent_id" not in data:
        raise _refuse("reorganization.parent_required", "Cần đơn vị cấp trên mới (parent_id). The new parent is required.", field="parent_id")
    parent = _check_parent(org, data["parent_id"], day, "parent_id")
    reorganization = _begin(principal, "move", data, today)
    old_parent = org.parent_id
    _new_version(org, day, reorganization, parent_id=parent.id if parent else None)
    reorganization.outcome = {"organization_id": org.id, "old_parent_id": old_parent, "new_parent_id": org.parent_id}
    db.session.flush()
    return reorganization


def _required(data: dict, name: str):
    if data.get(name) is None:
        raise _refuse("reorganization.field_required", f"Thiếu {name}. {name} is required for this kind.", field=name)
    return data[name]


# --- closing units -----------------------------------------------------------------------------


def _children_plan(closing: list[Organization], data: dict, day: dt.date) -> dict[int, dict]:
    """What happens to each open child of a closing unit: moved (`parent_id`), merged into a
    unit (`successor_id`) or closed. Every one must be named, or `children_parent_id` takes the rest."""
    closing_ids = {o.id for o in closing}
    listed = {c["organization_id"]: c for c in data.get("children") or []}
    plan: dict[int, dict] = {}
    frontier = list(closing_ids)
    unhandled = []
    while frontier:
        children = db.session.scalars(select(Organization).where(
            Organization.parent_id.in_(frontier), Organization.valid_to.is_(None))).all()
        frontier = []
        for child in children:
            if child.id in closing_ids or child.id in plan:
                continue
            entry = listed.get(child.id)
            if entry is None and data.get("children_parent_id") is not None:
                entry = {"organization_id": child.id, "parent_id": data["children_parent_id"]}
            if entry is None:
                unhandled.append(child)
                continue
            plan[child.id] = {**entry, "organization": child}
            if entry.get("close") or entry.get("successor_id") is not None:
                frontier.append(child.id)  # its own children must be handled too
    for entry_id in listed:
        if entry_id not in plan:
            raise _refuse("reorganization.not_a_child", f"Đơn vị {entry_id} không phải đơn vị trực thuộc của đơn vị đóng. "
                          "Listed child is not under a closing organisation.", field="children", organization_id=entry_id)
    if unhandled:
        raise _refuse("reorganization.children_unhandled",
                      "Các đơn vị trực thuộc phải được điều chuyển hoặc đóng trong cùng đợt sắp xếp: "
                      + ", ".join(c.code for c in unhandled)
                      + ". Children of a closing organisation must be moved or closed in the same reorganisation.",
                      field="children", children=[c.id for c in unhandled])
    return plan


def _open_work(org_ids: list[int]) -> list[Assignment]:
    return list(db.session.scalars(select(Assignment).where(
        Assignment.organization_id.in_(org_ids), Assignment.status.in_(OPEN_STATUSES)).order_by(Assignment.id)))


def _close_unit(org: Organization, day: dt.date, successors: list[Organization], reorganization: Reorganization) -> None:
    current = _open_version(org)
    if current is not None:
        current.valid_to = day - DAY
    org.valid_to = day - DAY
    org.successor_id = successors[0].id if successors else None
    if successors:
        _pass_indicator_units(org, successors[0])
    for successor in successors:
        db.session.add(OrganizationLink(reorganization_id=reorganization.id, predecessor_id=org.id, successor_id=successor.id,
                                        effective_on=day))
    db.session.flush()


class _WorkMover:
    """Passes open work to successors, supersedes duplicated yearly duties, counts what it did."""

    def __init__(self, principal: Principal, reorganization: Reorganization):
        self.principal = principal
        self.reorganization = reorganization
        self.day = reorganization.effective_on
        self.transferred: dict[tuple[int, int], int] = defaultdict(int)
        self.superseded = 0
        self.cancelled = 0
        self.held: dict[int, dict[tuple[int, int], int]] = {}
        self.members: dict[int, set[int]] = {}

    def _held_by(self, org_id: int) -> dict[tuple[int, int], int]:
        """The successor's live yearly duties: (action, year) -> assignment id."""
        if org_id not in self.held:
            self.held[org_id] = {(action_id, cycle): assignment_id for action_id, cycle, assignment_id in db.session.execute(
                select(Assignment.action_id, Assignment.cycle, Assignment.id).where(
                    Assignment.organization_id == org_id, Assignment.cycle != 0, Assignment.status != Status.CANCELLED)).all()}
        return self.held[org_id]

    def _members_of(self, org_id: int) -> set[int]:
        if org_id not in self.members:
            self.members[org_id] = set(db.session.scalars(select(Membership.user_id).where(Membership.organization_id == org_id)))
        return self.members[org_id]

    def move(self, assignment: Assignment, source: Organization, target: Organization) -> None:
        closed_on = self.day - DAY
        falls_after = assignment.cycle != 0 and assignment.due_date is not None and assignment.due_date > closed_on
        kept_id = self._held_by(target.id).get((assignment.action_id, assignment.cycle))
        if falls_after and kept_id is not None:
            kept = db.session.get(Assignment, kept_id)
            if assignment.role == "lead" and kept.role != "lead":
                # The successor now leads what a predecessor led: its own copy takes the lead role.
                history.record(kept, "role_changed", actor_id=self.principal.user_id, effective_on=self.day,
                               old={"role": kept.role}, new={"role": "lead", "reorganization_id": self.reorganization.id},
                               note=self._note(source, target))
                kept.role = "lead"
            self._end(assignment, "superseded",
                      f"Nhiệm vụ năm {assignment.cycle} do đơn vị kế thừa {target.code} thực hiện. "
                      f"Superseded: the successor {target.code} has this year's duty.", {"successor_id": target.id})
            self.superseded += 1
            return
        if assignment.cycle != 0:
            self._held_by(target.id)[(assignment.action_id, assignment.cycle)] = assignment.id
        owner_kept = assignment.owner_id is not None and assignment.owner_id in self._members_of(target.id)
        values = {"organization_id": target.id}
        if assignment.owner_id is not None and not owner_kept:
            values["owner_id"] = None
        # A plain UPDATE: the ETag version stays, so that a client's pending edit of the work is not refused.
        db.session.execute(update(Assignment.__table__).where(Assignment.__table__.c.id == assignment.id).values(**values))
        changes.moved(assignment.id, source.id)  # the UPDATE bypasses the change feed's hook
        db.session.add(AssignmentTransfer(assignment_id=assignment.id, reorganization_id=self.reorganization.id,
                                          from_organization_id=source.id, to_organization_id=target.id, effective_on=self.day))
        history.record(assignment, "transferred", actor_id=self.principal.user_id, effective_on=self.day,
                       old={"organization_id": source.id, "organization": source.code, "owner_id": assignment.owner_id},
                       new={"organization_id": target.id, "organization": target.code,
                            "owner_id": assignment.owner_id if owner_kept else None, "reorganization_id": self.reorganization.id},
                       note=self._note(source, target))
        self.transferred[(source.id, target.id)] += 1

    def cancel(self, assignment: Assignment, source: Organization) -> None:
        self._end(assignment, "cancelled_by_reorganization",
                  f"Đơn vị {source.code} giải thể, không có đơn vị kế thừa. The organisation closed without a successor.", {})
        self.cancelled += 1

    def _end(self, assignment: Assignment, kind: str, note: str, extra: dict) -> None:
        old = assignment.status
        assignment.status = Status.CANCELLED
        history.record(assignment, kind, actor_id=self.principal.user_id, effective_on=self.day,
                       old={"status": old}, new={"status": Status.CANCELLED, "reorganization_id": self.reorganization.id, **extra},
                       note=note)
        for extension in db.session.scalars(select(Extension).where(Extension.assignment_id == assignment.id, Extension.status == "pending")):
            extension.status = "lapsed"
            extension.decided_at = utcnow()
            extension.decision_note = "Tự hết hiệu lực do sắp xếp tổ chức. Lapsed: the organisation was reorganised."

    def _note(self, source: Organization, target: Organization) -> str:
        decision = f" ({self.reorganization.decision})" if self.reorganization.decision else ""
        return f"Chuyển từ {source.name} sang {target.name} do sắp xếp tổ chức{decision}. Passed on by a reorganisation."

    def summary(self) -> dict:
        return {
            "transferred": [{"from_organization_id": f, "to_organization_id": t, "assignments": n}
                            for (f, t), n in sorted(self.transferred.items())],
            "transferred_total": sum(self.transferred.values()),
            "superseded": self.superseded,
            "cancelled": self.cancelled,
        }


def _hand_over(model, key, source_ids: list[int], target: Organization) -> int:
    """Rows of `model` (unique per organisation and `key`) pass from the source units to `target`;
    one the target already has for the same key is dropped. Returns how many were handed over."""
    held = set(db.session.scalars(select(key).where(model.organization_id == target.id)))
    rows = db.session.scalars(select(model).where(model.organization_id.in_(source_ids))).all()
    for row in rows:
        if getattr(row, key.key) in held:
            db.session.delete(row)
        else:
            row.organization_id = target.id
            held.add(getattr(row, key.key))
    db.session.flush()
    return len(rows)


def _pass_indicator_units(source: Organization, target: Organization) -> int:
    """The indicators a closed unit reported are reported by its successor from now on (the
    measurements it recorded stay its own)."""
    return _hand_over(IndicatorUnit, IndicatorUnit.indicator_id, [source.id], target)


def _move_memberships(predecessors: list[Organization], successor: Organization) -> int:
    return _hand_over(Membership, Membership.user_id, [p.id for p in predecessors], successor)


def _apply_children(plan: dict[int, dict], day: dt.date, reorganization: Reorganization, mover: _WorkMover, data: dict) -> list[dict]:
    """Move, merge or close the children of closing units (parents first)."""
    done = []
    for entry in plan.values():
        child: Organization = entry["organization"]
        if entry.get("successor_id") is not None:
            successor = db.session.get(Organization, entry["successor_id"])
            for assignment in _open_work([child.id]):
                mover.move(assignment, child, successor)
            _close_unit(child, day, [successor], reorganization)
            done.append({"organization_id": child.id, "merged_into": successor.id})
        elif entry.get("close"):
            for assignment in _open_work([child.id]):
                mover.cancel(assignment, child)
            _close_unit(child, day, [], reorganization)
            done.append({"organization_id": child.id, "closed": True})
        else:
            _new_version(child, day, reorganization, parent_id=entry["parent_id"])
            done.append({"organization_id": child.id, "moved_to": entry["parent_id"]})
    return done


def _check_children(plan: dict[int, dict], day: dt.date, closing_ids: set[int], data: dict) -> None:
    for entry in plan.values():
        child = entry["organization"]
        _check_changeable(child, day, "children", closing=bool(entry.get("close") or entry.get("successor_id") is not None))
        if entry.get("successor_id") is not None:
            target = _unit(entry["successor_id"], "children")
            if target.id in closing_ids or target.id in plan or target.valid_to is not None or not target.exists_on(day):
                raise _refuse("reorganization.successor_closed", f"Đơn vị kế thừa {target.code} không hoạt động vào ngày hiệu lực. "
                              "The successor is closed or does not exist on the effective date.", field="children",
                              organization_id=target.id)
        elif entry.get("close"):
            if _open_work([child.id]) and not data.get("cancel_open_work"):
                raise _open_work_refused(child)
        else:
            if entry.get("parent_id") in closing_ids:
                raise _refuse("reorganization.parent_closed", "Không thể chuyển vào đơn vị đang đóng. Cannot move under a closing organisation.",
                              field="children", organization_id=entry.get("parent_id"))
            _check_parent(child, entry.get("parent_id"), day, "children")


def _open_work_refused(org: Organization) -> AppError:
    return _refuse("reorganization.open_work", f"Đơn vị {org.code} còn nhiệm vụ chưa hoàn thành mà không có đơn vị kế thừa; "
                   "chỉ định đơn vị kế thừa hoặc gửi cancel_open_work=true. The organisation has open work and no successor.",
                   field="cancel_open_work", organization_id=org.id)


def _new_successor(data: dict, day: dt.date, field: str) -> dict:
    spec = dict(data)
    if db.session.scalar(select(Organization.id).where(Organization.code == spec["code"])) is not None:
        raise Conflict(f"Mã đơn vị {spec['code']} đã tồn tại. Code taken.", code="organization.code_taken")
    _check_parent(None, spec.get("parent_id"), day, f"{field}.parent_id")
    spec["valid_from"] = day
    return spec


def _merge(principal: Principal, data: dict, today: dt.date) -> Reorganization:
    day = data["effective_on"]
    ids = list(dict.fromkeys(_required(data, "predecessor_ids")))
    predecessors = [_unit(i, "predecessor_ids") for i in ids]
    for org in predecessors:
        _check_changeable(org, day, "predecessor_ids", closing=True)
    successor = None
    if data.get("successor_id") is not None:
        successor = _unit(data["successor_id"], "successor_id")
        if successor.id in ids:
            raise _refuse("reorganization.successor_is_predecessor", "Đơn vị kế thừa không được nằm trong các đơn vị bị sáp nhập. "
                          "The successor cannot be one of the merged organisations.", field="successor_id")
        if successor.valid_to is not None or not successor.exists_on(day):
            raise _refuse("reorganization.successor_closed", f"Đơn vị kế thừa {successor.code} không hoạt động vào ngày hiệu lực. "
                          "The successor is closed or does not exist on the effective date.", field="successor_id",
                          organization_id=successor.id)
        _check_changeable(successor, day, "successor_id", closing=False)
    elif data.get("new_successor") is not None:
        spec = _new_successor(data["new_successor"], day, "new_successor")
        if spec.get("parent_id") in ids:
            raise _refuse("reorganization.parent_closed", "Đơn vị mới không thể trực thuộc đơn vị bị sáp nhập. "
                          "The new organisation cannot sit under a merged one.", field="new_successor.parent_id")
    else:
        raise _refuse("reorganization.field_required", "Cần successor_id hoặc new_successor. Name the successor.", field="successor_id")
    closing_ids = {o.id for o in predecessors}
    children = _children_plan(predecessors, data, day)
    _check_children(children, day, closing_ids, data)

    reorganization = _begin(principal, "merge", data, today)
    if successor is None:
        successor = create_organization(spec)
    mover = _WorkMover(principal, reorganization)
    memberships = _move_memberships(predecessors, successor) if data.get("move_memberships") else 0
    for org in predecessors:
        for assignment in _open_work([org.id]):
            mover.move(assignment, org, successor)
        _close_unit(org, day, [successor], reorganization)
    children_done = _apply_children(children, day, reorganization, mover, data)
    reorganization.outcome = {"predecessor_ids": ids, "successor_id": successor.id, "children": children_done,
                              "memberships_moved": memberships, **mover.summary()}
    db.session.flush()
    return reorganization


def _split(principal: Principal, data: dict, today: dt.date) -> Reorganization:
    day = data["effective_on"]
    org = _unit(_required(data, "organization_id"), "organization_id")
    _check_changeable(org, day, "organization_id", closing=True)
    successor_ids = list(dict.fromkeys(_required(data, "successor_ids")))
    if len(successor_ids) < 2:
        raise _refuse("reorganization.split_needs_two", "Chia tách cần ít nhất hai đơn vị kế thừa. A split needs at least two successors.",
                      field="successor_ids")
    successors = {}
    for successor_id in successor_ids:
        successor = _unit(successor_id, "successor_ids")
        if successor.id == org.id or successor.valid_to is not None or not successor.exists_on(day):
            raise _refuse("reorganization.successor_closed", f"Đơn vị kế thừa {successor.code} không hoạt động vào ngày hiệu lực. "
                          "The successor is closed or does not exist on the effective date.", field="successor_ids",
                          organization_id=successor.id)
        _check_changeable(successor, day, "successor_ids", closing=False)
        successors[successor.id] = successor
    open_work = _open_work([org.id])
    allocation = {item["assignment_id"]: item["organization_id"] for item in data.get("allocation") or []}
    default = data.get("default_successor_id")
    if default is not None and default not in successors:
        raise _refuse("reorganization.not_a_successor", "default_successor_id phải là một trong các đơn vị kế thừa. "
                      "The default must be one of the successors.", field="default_successor_id")
    open_ids = {a.id for a in open_work}
    for assignment_id, target in allocation.items():
        if assignment_id not in open_ids:
            raise _refuse("reorganization.not_open_work", f"Nhiệm vụ {assignment_id} không phải việc đang mở của đơn vị. "
                          "Not an open assignment of the organisation.", field="allocation", assignment_id=assignment_id)
        if target not in successors:
            raise _refuse("reorganization.not_a_successor", "Chỉ phân cho đơn vị kế thừa. Allocate to the successors only.",
                          field="allocation", assignment_id=assignment_id)
    unallocated = [a.id for a in open_work if a.id not in allocation and default is None]
    if unallocated:
        raise _refuse("reorganization.unallocated_work", f"Còn {len(unallocated)} nhiệm vụ đang mở chưa phân cho đơn vị kế thừa. "
                      "Allocate every open assignment (allocation) or name default_successor_id.",
                      field="allocation", assignment_ids=unallocated)
    children = _children_plan([org], data, day)
    _check_children(children, day, {org.id}, data)

    reorganization = _begin(principal, "split", data, today)
    mover = _WorkMover(principal, reorganization)
    for assignment in open_work:
        mover.move(assignment, org, successors[allocation.get(assignment.id, default)])
    heirs = sorted(successors.values(), key=lambda o: o.id != default)  # the default successor first: it is `successor_id`
    _close_unit(org, day, heirs, reorganization)
    children_done = _apply_children(children, day, reorganization, mover, data)
    reorganization.outcome = {"organization_id": org.id, "successor_ids": successor_ids, "children": children_done, **mover.summary()}
    db.session.flush()
    return reorganization


def _close(principal: Principal, data: dict, today: dt.date) -> Reorganization:
    day = data["effective_on"]
    org = _unit(_required(data, "organization_id"), "organization_id")
    _check_changeable(org, day, "organization_id", closing=True)
    if _open_work([org.id]) and not data.get("cancel_open_work"):
        raise _open_work_refused(org)
    children = _children_plan([org], data, day)
    _check_children(children, day, {org.id}, data)
    reorganization = _begin(principal, "close", data, today)
    mover = _WorkMover(principal, reorganization)
    for assignment in _open_work([org.id]):
        mover.cancel(assignment, org)
    _close_unit(org, day, [], reorganization)
    children_done = _apply_children(children, day, reorganization, mover, data)
    reorganization.outcome = {"organization_id": org.id, "children": children_done, **mover.summary()}
    db.session.flush()
    return reorganization


# --- reading -----------------------------------------------------------------------------------


def reorganizations_query(organization_id: int | None = None):
    stmt = select(Reorganization).order_by(Reorganization.effective_on.desc(), Reorganization.id.desc())
    if organization_id is not None:
        involved = select(OrganizationLink.reorganization_id).where(
            or_(OrganizationLink.predecessor_id == organization_id, OrganizationLink.successor_id == organization_id))
        versioned = select(OrganizationVersion.reorganization_id).where(OrganizationVersion.organization_id == organization_id,
                                                                         OrganizationVersion.reorganization_id.is_not(None))
        stmt = stmt.where(or_(Reorganization.id.in_(involved), Reorganization.id.in_(versioned)))
    return stmt


def get_reorganization(reorganization_id: int) -> Reorganization:
    found = db.session.get(Reorganization, reorganization_id)
    if found is None:
        raise NotFound(f"Không có đợt sắp xếp {reorganization_id}. No such reorganisation.", code="reorganization.not_found")
    return found


def versions_of(org: Organization) -> list[OrganizationVersion]:
    return list(db.session.scalars(select(OrganizationVersion).where(OrganizationVersion.organization_id == org.id)
                                   .order_by(OrganizationVersion.valid_from.is_not(None), OrganizationVersion.valid_from)))
