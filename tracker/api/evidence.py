from flask import Response, request
from flask.views import MethodView
from flask_jwt_extended import current_user
from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge
from werkzeug.wsgi import wrap_file

from tracker.api.security import current_principal, login_required
from tracker.errors import BadRequest, ValidationFailed
from tracker.extensions import db
from tracker.schemas.evidence import UPLOAD_BODY, EvidenceSchema, WithdrawSchema
from tracker.services import evidence
from tracker.services.pagination import SQLPage
from tracker.web import Blueprint, accepts, content_disposition

URL_PREFIX = ""
blp = Blueprint("evidence", __name__, description="Minh chứng: evidence files of assignments")

MULTIPART_OVERHEAD = 64 * 1024


@blp.route("/assignments/<int:assignment_id>/evidence")
class AssignmentEvidence(MethodView):
    @login_required()
    @blp.response(200, EvidenceSchema(many=True))
    @blp.paginate(SQLPage)
    def get(self, assignment_id):
        """Evidence of an assignment, withdrawn ones included (flagged)"""
        return evidence.evidence_of(current_principal(), assignment_id)

    @login_required()
    @accepts("multipart/form-data")
    @blp.doc(requestBody=UPLOAD_BODY)
    @blp.response(201, EvidenceSchema)
    @blp.alt_response(400, description="More than one file part (`evidence.multiple_files`), or a cut-off body")
    @blp.alt_response(403, description="Read-only access to this assignment")
    @blp.alt_response(404, description="No such assignment in the caller's scope")
    @blp.alt_response(413, description="Too large (`evidence.too_large`), over the organisation's quota (`evidence.quota_exceeded`), "
                                       "or an archive too large once decompressed (`evidence.archive_too_large`)")
    @blp.alt_response(415, description="Type refused: `evidence.type_not_allowed`, `evidence.type_mismatch`, `evidence.executable`, "
                                       "`evidence.active_content`, `evidence.polyglot` (a PDF holding HTML), or not multipart")
    @blp.alt_response(422, description="Empty file, no file part, a bad file name, or an archive refused: `evidence.archive_ratio`, "
                                       "`evidence.archive_too_many_members`, `evidence.archive_corrupt`, `evidence.archive_encrypted`")
    def post(self, assignment_id):
        """Upload evidence (multipart `file`, optional `description`), streamed to storage"""
        assignment = evidence.assignment_for_upload(current_principal(), assignment_id)
        request.max_content_length = evidence.upload_limit() + MULTIPART_OVERHEAD
        try:
            upload = evidence.only_file(request.files)
            description = request.form.get("description") or None
        except RequestEntityTooLarge:
            raise evidence.too_large() from None
        except (ClientDisconnected, ValueError):
            raise BadRequest("Nội dung tải lên không đầy đủ hoặc sai định dạng multipart. The upload was cut off or is not valid multipart.",
                             code="request.incomplete_body") from None
        if description and len(description) > 2000:
            raise ValidationFailed(errors={"description": ["Tối đa 2000 ký tự. At most 2000 characters."]})
        staged = upload.stream if upload is not None else None
        result = evidence.add_evidence(assignment, staged, upload.filename if upload else None, description, current_user.id)
        return evidence.commit_upload(result)


@blp.route("/evidence/<int:evidence_id>")
@login_required()
@blp.response(200, EvidenceSchema)
@blp.alt_response(404, description="No such evidence in the caller's scope")
def evidence_detail(evidence_id):
    """Evidence metadata"""
    return evidence.get_evidence(current_principal(), evidence_id)


@blp.route("/evidence/<int:evidence_id>/content")
@login_required()
@blp.response(200, description="The file, as an attachment (range and conditional requests work)")
@blp.alt_response(404, description="No such evidence in the caller's scope")
@blp.alt_response(410, description="Withdrawn and purged")
def evidence_content(evidence_id):
    """Download evidence: always an attachment, never rendered inline"""
    return download_response(evidence.open_content(current_principal(), evidence_id))


@blp.route("/evidence/<int:evidence_id>/withdraw", methods=["POST"])
@login_required()
@blp.arguments(WithdrawSchema)
@blp.response(200, EvidenceSchema)
@blp.alt_response(403, description="Only the uploader (before approval) or an admin")
@blp.alt_response(409, description="Already withdrawn, or the assignment is approved")
def withdraw(data, evidence_id):
    """Withdraw evidence with a reason; history keeps it"""
    withdrawn = evidence.withdraw(current_principal(), evidence_id, data["reason"])
    db.session.commit()
    return withdrawn



def download_response(content: evidence.Content):
    """An attachment with an RFC 6266/5987 file name, a strong ETag from the hash, and ranges."""
    record = content.evidence
    response = Response(wrap_file(request.environ, content.reader), mimetype=record.media_type, direct_passthrough=True)
    response.content_length = content.size
    response.call_on_close(content.reader.close)  # also when a 304 or 416 drops the body
    response.headers["Content-Disposition"] = content_disposition(record.original_name)
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, max-age=0, must-revalidate"
    response.set_etag(record.sha256)
    response.last_modified = record.uploaded_at
    try:
        return response.make_conditional(request, accept_ranges=True, complete_length=content.size)
    except Exception:  # e.g. 416: the response is dropped, so close the reader here
        response.close()
        raise
