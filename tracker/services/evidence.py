"""Evidence (minh chứng): accept an upload, list, read, withdraw, purge, and check the store.

Order of writes, so that a failure never leaves a record without its object: the blob is
stored first, then the record; if the record cannot be written, the blob is removed again
(unless another record uses the same content). Orphaned blobs that a crash might still leave
are found and removed by `check_store(repair=True)`.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import Select, func, select
from sqlalchemy.orm import joinedload
from werkzeug.datastructures import FileStorage, MultiDict

from tracker.domain.access import Principal, can_contribute_to, can_withdraw_evidence
from tracker.domain.archives import ArchiveLimits, inspect_zip
from tracker.domain.evidence import JPEG, PDF, PNG, WEBP, ZIP_MAGIC, EvidenceRejected, check_content, check_filename, sniff
from tracker.domain.vocabulary import Status
from tracker.errors import AppError, Conflict, Forbidden, NotFound
from tracker.extensions import db
from tracker.models import Assignment, AuthSession, Evidence, MeasurementEvidence, User
from tracker.models.base import utcnow
from tracker.services import clock, history
from tracker.services.access import ancestor_ids, principal_of, visible_organizations
from tracker.services.assignments import check_writable, get_assignment
from tracker.storage import StagedUpload, StorageError, current_storage, remove_abandoned_staging

log = logging.getLogger("tracker.evidence")

_STATUS_FOR = {
    "evidence.too_large": 413, "evidence.quota_exceeded": 413, "evidence.empty": 422, "evidence.file_missing": 422,
    "evidence.filename_missing": 422, "evidence.filename_control_chars": 422, "evidence.filename_too_long": 422,
    "evidence.filename_path": 422, "evidence.multiple_files": 400,
    "evidence.archive_too_large": 413, "evidence.archive_ratio": 422, "evidence.archive_too_many_members": 422,
    "evidence.archive_corrupt": 422, "evidence.archive_encrypted": 422,
}


class EvidenceError(AppError):
    status = 415
    code = "evidence.invalid"


def _reject(code: str, detail: str, **extra) -> EvidenceError:
    return EvidenceError(detail, code=code, status=_STATUS_FOR.get(code, 415), **extra)


def upload_limit() -> int:
    return current_app.config["EVIDENCE_MAX_BYTES"]


def too_large() -> EvidenceError:
    return _reject("evidence.too_large", f"Tệp vượt quá {upload_limit() // 1048576} MiB. The file is too large.", max_bytes=upload_limit())


def archive_limits() -> ArchiveLimits:
    config = current_app.config
    return ArchiveLimits(max_uncompressed=config["EVIDENCE_ARCHIVE_MAX_UNCOMPRESSED_BYTES"],
                         max_ratio=config["EVIDENCE_ARCHIVE_MAX_RATIO"], max_members=config["EVIDENCE_ARCHIVE_MAX_MEMBERS"])


def only_file(files: MultiDict) -> FileStorage | None:
    """The `file` part of an upload form. One upload is one file: a second file part, whatever
    its name, is refused rather than silently dropped."""
    if len(list(files.items(multi=True))) > 1:
        raise _reject("evidence.multiple_files", "Mỗi lần tải lên chỉ một tệp. Send one file part per upload.")
    return files.get("file")


def assignment_for_upload(principal: Principal, assignment_id: int) -> Assignment:
    """The assignment, if the caller may add evidence to it (404 outside scope, 403 read-only)."""
    assignment = get_assignment(principal, assignment_id)
    check_writable(assignment)
    if not can_contribute_to(principal, assignment.organization_id, ancestor_ids(assignment.organization_id)):
        raise Forbidden("Bạn chỉ có quyền xem nhiệm vụ này. You may only read this assignment.", code="evidence.forbidden")
    if assignment.status == Status.CANCELLED:
        raise Conflict("Nhiệm vụ đã hủy. The assignment is cancelled.", code="assignment.cancelled")
    return assignment


def _quota_check(organization_id: int, size: int) -> None:
    quota = current_app.config["EVIDENCE_QUOTA_BYTES"]
    if quota <= 0:
        return
    used = db.session.scalar(
        select(func.coalesce(func.sum(Evidence.size), 0)).where(
            Evidence.organization_id == organization_id, Evidence.content_purged_at.is_(None)
        )
    ) + db.session.scalar(  # measurements' evidence lives in the same store
        select(func.coalesce(func.sum(MeasurementEvidence.size), 0)).where(MeasurementEvidence.organization_id == organization_id)
    )
    if used + size > quota:
        raise _reject(
            "evidence.quota_exceeded",
            f"Đơn vị đã dùng {used // 1048576} MiB trên hạn mức {quota // 1048576} MiB. "
            "The organisation's evidence storage quota would be exceeded.",
            quota_bytes=quota, used_bytes=used,
        )


@dataclass
class Upload:
    evidence: Evidence | MeasurementEvidence
    blob_created: bool  # this request stored the content: undo it if the commit fails


@dataclass
class StoredBlob:
    """An upload that passed every check and is in the store, not yet recorded."""

    sha256: str
    size: int
    media_type: str
    name: str
    created: bool  # this request stored the content: undo it if recording fails


def store_upload(staged: StagedUpload | None, filename: str | None, organization_id: int, context: str) -> StoredBlob:
    """Check a staged upload (name, size, type by content, archives, the organisation's quota) and
    put its content in the store. The caller records it, and calls `discard_if_unreferenced` if
    that fails. `context` names the owner in the log."""
    if staged is None:
        raise _reject("evidence.file_missing", "Thiếu tệp (trường `file`). No file part named `file`.")
    try:
        name, extension = check_filename(filename)
        if staged.size == 0:
            raise EvidenceRejected("evidence.empty", "Tệp rỗng. The file is empty.")
        if staged.size > upload_limit():
            raise too_large()
        # ZIP, OOXML and OpenDocument: counted and inflated once within limits, before anything is stored
        facts = inspect_zip(staged.path, archive_limits()) if staged.head.startswith(ZIP_MAGIC) else None
        kind = check_content(extension, sniff(staged.head, facts.members if facts else None, facts.mimetype if facts else None))
    except EvidenceRejected as rejected:
        raise _reject(rejected.code, rejected.detail, **rejected.extra) from None
    _quota_check(organization_id, staged.size)

    sha256 = staged.hexdigest()
    storage = current_storage()
    try:
        created = storage.put(staged, sha256)
    except StorageError:
        log.exception("evidence storage failed for %s", context)
        raise AppError("Kho lưu trữ minh chứng tạm thời không ghi được; vui lòng thử lại. Evidence storage is unavailable; try again.",
                       code="evidence.storage_unavailable", status=503, headers={"Retry-After": "30"}) from None
    return StoredBlob(sha256, staged.size, kind.media_type, name, created)


def add_evidence(assignment: Assignment, staged: StagedUpload | None, filename: str | None,
                 description: str | None, actor_id: int) -> Upload:
    """Check the staged upload, store its content, and record it (flushed, not committed)."""
    blob = store_upload(staged, filename, assignment.organization_id, f"assignment {assignment.id}")
    sha256, name, created = blob.sha256, blob.name, blob.created
    try:
        evidence = Evidence(
            assignment=assignment, organization_id=assignment.organization_id, sha256=sha256, size=blob.size,
            media_type=blob.media_type, original_name=name, description=description, uploaded_by_id=actor_id,
        )
        db.session.add(evidence)
        db.session.flush()
        history.record(
            assignment, "evidence_added", actor_id=actor_id,
            new={"evidence_id": evidence.id, "name": name, "sha256": sha256, "size": blob.size}, note=description,
        )
        db.session.flush()
    except Exception:
        discard_if_unreferenced(sha256, created)
        raise
    return Upload(evidence, created)


def discard_if_unreferenced(sha256: str, created: bool) -> None:
    """After a failed write: remove a blob this request created, unless a record uses it."""
    db.session.rollback()
    if not created:
        return
    if not _referenced(sha256):
        try:
            current_storage().delete(sha256)
        except StorageError:
            log.exception("could not remove blob %s after a failed upload; evidence-check will", sha256)
    db.session.rollback()


def _referenced(sha256: str) -> bool:
    """Whether any record, of an assignment's or a measurement's evidence, uses this content."""
    return any(
        db.session.scalar(select(model.id).where(model.sha256 == sha256).limit(1)) is not None
        for model in (Evidence, MeasurementEvidence)
    )


def commit_upload(upload: Upload) -> Evidence | MeasurementEvidence:
    """The request's one commit; if it fails, the new blob goes too."""
    sha256 = upload.evidence.sha256
    try:
        db.session.commit()
    except Exception:
        discard_if_unreferenced(sha256, upload.blob_created)
        raise
    return upload.evidence


def scoped(principal: Principal) -> Select:
    """The evidence the principal sees: by the unit it was uploaded for."""
    return (
        select(Evidence)
        .options(joinedload(Evidence.uploaded_by), joinedload(Evidence.withdrawn_by), joinedload(Evidence.assignment))
        .where(visible_organizations(principal, Evidence.organization_id))
    )


def evidence_of(principal: Principal, assignment_id: int) -> Select:
    get_assignment(principal, assignment_id)
    return scoped(principal).where(Evidence.assignment_id == assignment_id).order_by(Evidence.id)


def get_evidence(principal: Principal, evidence_id: int) -> Evidence:
    evidence = db.session.scalar(scoped(principal).where(Evidence.id == evidence_id))
    if evidence is None:
        raise NotFound(f"Không có minh chứng {evidence_id}. No such evidence.", code="evidence.not_found")
    return evidence


@dataclass
class Content:
    evidence: Evidence
    size: int
    reader: object


def open_content(principal: Principal, evidence_id: int) -> Content:
    evidence = get_evidence(principal, evidence_id)
    if evidence.content_purged_at is not None:
        raise AppError("Nội dung minh chứng đã bị xóa sau khi rút. The content was purged after withdrawal.",
                       code="evidence.purged", status=410)
    return open_stored(evidence, f"evidence {evidence_id}")


def open_stored(record, context: str) -> Content:
    """The stored content of a record (an assignment's or a measurement's evidence), for download."""
    try:
        storage = current_storage()
        return Content(record, storage.size(record.sha256), storage.open(record.sha256))
    except StorageError:
        log.exception("%s content unreadable", context)
        raise AppError("Không đọc được nội dung minh chứng. The content cannot be read now.",
                       code="evidence.storage_unavailable", status=503, headers={"Retry-After": "30"}) from None


# Signed links (`GET /evidence/{id}/link`): a URL that works for a few minutes without a bearer
# header, so that a browser can show evidence in <img> or open it from <a>. The signature (HMAC of
# SECRET_KEY) binds the evidence id, the user, the session the link was made in and the expiry; on
# use everything is checked again: the session still open, the user still active, the evidence still
# in their scope and not withdrawn. The signature alone never grants more than the bearer token did.
LINK_SALT = "tracker.evidence-link"
INLINE_MEDIA_TYPES = frozenset(kind.media_type for kind in (PDF, JPEG, PNG, WEBP))  # what browsers show by themselves


@dataclass(frozen=True)
class Link:
    evidence: Evidence
    token: str
    expires_at: dt.datetime


def disposition_of(evidence: Evidence) -> str:
    """`inline` for images and PDFs (shown in <img> or a tab), `attachment` for anything else."""
    return "inline" if evidence.media_type in INLINE_MEDIA_TYPES else "attachment"


def _signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=LINK_SALT)


def _check_linkable(evidence: Evidence) -> None:
    if evidence.is_withdrawn:
        raise AppError("Minh chứng đã được rút; không tạo hay mở liên kết được. The evidence was withdrawn: no link to it works.",
                       code="evidence.withdrawn", status=410)


def make_link(principal: Principal, session_id: int, evidence_id: int) -> Link:
    """A signed link to evidence in the caller's scope (404 outside it, 410 once withdrawn), valid
    for EVIDENCE_LINK_SECONDS from now."""
    evidence = get_evidence(principal, evidence_id)
    _check_linkable(evidence)
    expires_at = clock.now().replace(microsecond=0) + dt.timedelta(seconds=current_app.config["EVIDENCE_LINK_SECONDS"])
    token = _signer().dumps([evidence.id, principal.user_id, session_id, int(expires_at.timestamp())])
    return Link(evidence, token, expires_at)


def _link_invalid() -> AppError:
    return AppError("Liên kết không hợp lệ hoặc đã bị sửa. The link is invalid or was altered.", code="evidence.link_invalid", status=403)


def _link_revoked() -> AppError:
    return AppError("Người tạo liên kết không còn quyền xem minh chứng này (tài khoản bị khóa, phiên đã đăng xuất hoặc hết phạm vi). "
                    "Whoever made the link may no longer read this evidence (account deactivated, signed out, or out of scope).",
                    code="evidence.link_revoked", status=403)


def open_link(evidence_id: int, token: str | None) -> tuple[Content, dt.datetime]:
    """The content a signed link names, and when the link expires; every check made again now."""
    try:
        payload = _signer().loads(token or "")
    except BadSignature:
        raise _link_invalid() from None
    if not (isinstance(payload, list) and len(payload) == 4 and all(type(item) is int for item in payload)):
        raise _link_invalid()  # signed by us, so never seen; but a key shared with another use must not confuse it
    linked_id, user_id, session_id, expires = payload
    if linked_id != evidence_id:
        raise _link_invalid()
    expires_at = dt.datetime.fromtimestamp(expires, dt.UTC)
    if clock.now() >= expires_at:
        raise AppError("Liên kết đã hết hạn; hãy lấy liên kết mới. The link has expired; ask for a new one.",
                       code="evidence.link_expired", status=410)
    user = db.session.scalar(
        select(User).join(AuthSession, AuthSession.user_id == User.id)
        .where(User.id == user_id, User.is_active.is_(True), AuthSession.id == session_id, AuthSession.ended_at.is_(None))
    )
    if user is None:
        raise _link_revoked()
    evidence = db.session.scalar(scoped(principal_of(user)).where(Evidence.id == evidence_id))
    if evidence is None:
        raise _link_revoked()
    _check_linkable(evidence)
    return open_stored(evidence, f"evidence {evidence_id}"), expires_at


def withdraw(principal: Principal, evidence_id: int, reason: str) -> Evidence:
    evidence = get_evidence(principal, evidence_id)
    if evidence.is_withdrawn:
        raise Conflict("Minh chứng đã được rút. Already withdrawn.", code="evidence.already_withdrawn")
    completed = evidence.assignment.status == Status.COMPLETED
    if not can_withdraw_evidence(principal, evidence.uploaded_by_id, completed):
        if completed and principal.user_id == evidence.uploaded_by_id:
            raise Conflict("Nhiệm vụ đã được duyệt hoàn thành. The assignment is already approved.", code="evidence.assignment_completed")
        raise Forbidden("Chỉ người tải lên (trước khi duyệt) hoặc quản trị viên được rút. Only the uploader or an admin may withdraw.",
                        code="evidence.withdraw_forbidden")
    evidence.withdrawn_at = utcnow()
    evidence.withdrawn_by_id = principal.user_id
    evidence.withdrawal_reason = reason
    history.record(evidence.assignment, "evidence_withdrawn", actor_id=principal.user_id,
                   old={"evidence_id": evidence.id, "name": evidence.original_name}, note=reason)
    db.session.flush()
    return evidence


def purge_withdrawn(older_than_days: int = 0) -> list[str]:
    """Mark withdrawn evidence purged (committed), then delete blobs no live record uses."""
    cutoff = utcnow().timestamp() - older_than_days * 86400
    candidates = [
        e for e in db.session.scalars(select(Evidence).where(Evidence.withdrawn_at.is_not(None), Evidence.content_purged_at.is_(None)))
        if _timestamp(e.withdrawn_at) <= cutoff
    ]
    for evidence in candidates:
        evidence.content_purged_at = utcnow()
    db.session.commit()
    shas = {e.sha256 for e in candidates}
    live = set(db.session.scalars(select(Evidence.sha256).where(Evidence.sha256.in_(shas), Evidence.content_purged_at.is_(None))))
    live |= set(db.session.scalars(select(MeasurementEvidence.sha256).where(MeasurementEvidence.sha256.in_(shas))))
    removed = sorted(shas - live)
    for sha256 in removed:
        current_storage().delete(sha256)
    return removed


def _timestamp(moment: dt.datetime) -> float:
    return (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).timestamp()


@dataclass
class StoreReport:
    missing: list[str] = field(default_factory=list)  # a live record whose blob is gone
    orphans: list[str] = field(default_factory=list)  # a blob no live record uses
    bad_hashes: list[str] = field(default_factory=list)  # a blob whose content is not its name
    stale_staging: list[str] = field(default_factory=list)  # left by an upload whose process died
    repaired: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.missing or self.orphans or self.bad_hashes or self.stale_staging)


def check_store(*, verify_hashes: bool = False, repair: bool = False) -> StoreReport:
    storage = current_storage()
    live = set(db.session.scalars(select(Evidence.sha256).where(Evidence.content_purged_at.is_(None)).distinct()))
    live |= set(db.session.scalars(select(MeasurementEvidence.sha256).distinct()))
    stored = set(storage.keys())
    report = StoreReport(missing=sorted(live - stored), orphans=sorted(stored - live))
    if verify_hashes:
        report.bad_hashes = sorted(sha for sha in live & stored if storage.hash_of(sha) != sha)
    # Whatever their age: a staging file no live upload holds (see tracker.storage.base) is dead.
    report.stale_staging = remove_abandoned_staging(storage.staging_dir(), remove=repair)
    if repair:
        for sha256 in report.orphans:
            storage.delete(sha256)
            report.repaired.append(sha256)
        report.repaired.extend(report.stale_staging)
        report.orphans, report.stale_staging = [], []
    return report
