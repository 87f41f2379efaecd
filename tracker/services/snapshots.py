"""Published reports ("chốt số liệu"): a leader freezes a periodic report or a summary; its bytes in
each format are stored with their SHA-256 and served unchanged forever (the database refuses any
UPDATE or DELETE of a snapshot). A live report can say what changed since a snapshot."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

import orjson
from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload

from tracker.domain.access import Principal, can_approve_for
from tracker.errors import Forbidden, NotFound, ValidationFailed
from tracker.extensions import db
from tracker.models import Organization, ReportSnapshot, User
from tracker.models.base import utcnow
from tracker.services.access import ancestor_ids, visible_organizations
from tracker.services.periodic import PERIODIC_LISTS

FORMATS = ("json", "csv", "xlsx", "docx")


@dataclass(frozen=True)
class Rendered:
    """A report as people and programs get it: its JSON, CSV and XLSX bytes (and, for a periodic
    report, its Word document)."""

    title: str
    as_of: dt.date
    json_body: bytes
    csv_body: bytes
    xlsx_body: bytes
    docx_body: bytes | None = None


def check_publisher(principal: Principal, organization_id: int) -> Organization:
    """Leaders over the organisation (and admins) publish its reports."""
    org = db.session.scalar(select(Organization).where(
        Organization.id == organization_id, visible_organizations(principal, Organization.id)))
    if org is None:
        raise NotFound("Không có đơn vị này trong phạm vi của bạn. No such organisation in your scope.", code="organization.not_found")
    if not can_approve_for(principal, org.id, ancestor_ids(org.id)):
        raise Forbidden("Chỉ lãnh đạo của đơn vị (hoặc cấp trên) được chốt số liệu. Only leaders over the organisation publish its reports.",
                        code="snapshot.forbidden")
    return org


def publisher(principal: Principal) -> dict:
    user = db.session.get(User, principal.user_id)
    return {"id": user.id, "full_name": user.full_name}


def store(principal: Principal, *, kind: str, parameters: dict, organization_id: int, rendered: Rendered,
          published_at: dt.datetime, note: str | None) -> ReportSnapshot:
    snapshot = ReportSnapshot(
        kind=kind, parameters=parameters, organization_id=organization_id, as_of=rendered.as_of, title=rendered.title,
        published_by_id=principal.user_id, published_at=published_at, note=note,
        json_body=rendered.json_body, csv_body=rendered.csv_body, xlsx_body=rendered.xlsx_body,
        json_sha256=sha256(rendered.json_body), csv_sha256=sha256(rendered.csv_body), xlsx_sha256=sha256(rendered.xlsx_body),
        docx_body=rendered.docx_body, docx_sha256=None if rendered.docx_body is None else sha256(rendered.docx_body),
    )
    db.session.add(snapshot)
    db.session.flush()
    return snapshot


def publication_time() -> dt.datetime:
    """The moment of publishing, to the second, so that the stored document and the record agree."""
    return utcnow().replace(microsecond=0)


def sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def snapshots_query(principal: Principal, *, kind: str | None = None, organization_id: int | None = None) -> Select:
    stmt = (select(ReportSnapshot).options(joinedload(ReportSnapshot.organization), joinedload(ReportSnapshot.published_by))
            .where(visible_organizations(principal, ReportSnapshot.organization_id)).order_by(ReportSnapshot.id.desc()))
    if kind is not None:
        stmt = stmt.where(ReportSnapshot.kind == kind)
    if organization_id is not None:
        stmt = stmt.where(ReportSnapshot.organization_id == organization_id)
    return stmt


def get_snapshot(principal: Principal, snapshot_id: int) -> ReportSnapshot:
    snapshot = db.session.scalar(snapshots_query(principal).where(ReportSnapshot.id == snapshot_id))
    if snapshot is None:
        raise NotFound(f"Không có báo cáo đã chốt {snapshot_id}. No such published report.", code="snapshot.not_found")
    return snapshot


def body_of(snapshot: ReportSnapshot, fmt: str) -> tuple[bytes, str]:
    body = getattr(snapshot, f"{fmt}_body")
    if body is None:  # a summary, or a periodic report published before Word documents were kept
        raise NotFound(f"Báo cáo đã chốt {snapshot.id} không có định dạng {fmt}. This published report has no {fmt} document.",
                       code="snapshot.format_unavailable")
    return body, getattr(snapshot, f"{fmt}_sha256")


def _published_report(principal: Principal, snapshot_id: int, kind: str, expected: dict) -> tuple[ReportSnapshot, dict]:
    snapshot = get_snapshot(principal, snapshot_id)
    mismatched = [name for name, value in expected.items() if snapshot.parameters.get(name) != value]
    if snapshot.kind != kind or mismatched:
        raise ValidationFailed(
            "Báo cáo đã chốt này không cùng loại hoặc tham số với báo cáo đang xem. The snapshot is not of this report.",
            code="snapshot.mismatch", errors={"since_snapshot": [f"Khác ở: {', '.join(mismatched) or 'kind'}. Differs in: {', '.join(mismatched) or 'kind'}."]},
        )
    return snapshot, orjson.loads(snapshot.json_body)["report"]


def _count_changes(then: dict[str, int], now: dict[str, int]) -> dict:
    return {key: {"then": then.get(key, 0), "now": now.get(key, 0), "delta": now.get(key, 0) - then.get(key, 0)}
            for key in sorted(set(then) | set(now))}


def periodic_changes(principal: Principal, snapshot_id: int, live: dict) -> dict:
    """What moved between a published periodic report and the live one: counts per class, and
    which assignments entered or left each list."""
    snapshot, then = _published_report(principal, snapshot_id, "periodic",
                                       {"organization_id": live["organization"]["id"], "period": live["period"]["label"]})
    now_counts = live["summary"]["counts"]
    counts = _count_changes(then["summary"]["counts"], now_counts)
    lists = {}
    for name in PERIODIC_LISTS:
        # Published as the JSON answer was: `id` since the one assignment shape, `assignment_id` before it.
        before = {row.get("id", row.get("assignment_id")) for row in then.get(name, [])}
        after = {row["assignment_id"] for row in live[name]}
        lists[name] = {"entered": sorted(after - before), "left": sorted(before - after)}
    unchanged = all(c["delta"] == 0 for c in counts.values()) and not any(v["entered"] or v["left"] for v in lists.values())
    return {"snapshot_id": snapshot.id, "published_at": snapshot.published_at, "as_of": snapshot.as_of,
            "counts": counts, "lists": lists, "unchanged": unchanged}


def summary_changes(principal: Principal, snapshot_id: int, live: dict, parameters: dict) -> dict:
    """Counts per row (and in total) of a published summary beside the live one."""
    snapshot, then = _published_report(principal, snapshot_id, "summary",
                                       {name: parameters.get(name) for name in ("by", "organization_id")})

    def by_row(report: dict) -> dict[str, dict[str, int]]:
        rows = {orjson.dumps(row["key"], option=orjson.OPT_SORT_KEYS).decode(): row["counts"] for row in report["rows"]}
        rows["totals"] = report["totals"]["counts"]
        return rows

    before, after = by_row(then), by_row(live)
    counts = {}
    for key in sorted(set(before) | set(after)):
        changes = _count_changes(before.get(key, {}), after.get(key, {}))
        if any(c["delta"] for c in changes.values()):
            counts[key] = changes
    return {"snapshot_id": snapshot.id, "published_at": snapshot.published_at, "as_of": snapshot.as_of,
            "counts": counts, "lists": {}, "unchanged": not counts}
