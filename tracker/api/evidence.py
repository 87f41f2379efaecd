from flask import Response, request, url_for
from flask.views import MethodView
from flask_jwt_extended import current_user
from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge
from werkzeug.wsgi import wrap_file

from tracker.api.security import current_principal, current_session, login_required
from tracker.errors import BadRequest, ValidationFailed
from tracker.extensions import db
from tracker.schemas.evidence import UPLOAD_BODY, EvidenceLinkSchema, EvidenceSchema, SignedContentQuerySchema, WithdrawSchema
from tracker.services import clock, evidence
from tracker.services.pagination import SQLPage
from tracker.web import LOCATION_HEADER, Blueprint, accepts, content_disposition

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
    @blp.response(201, EvidenceSchema, headers=LOCATION_HEADER)
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
        created = evidence.commit_upload(result)
        return created, 201, {"Location": url_for("evidence.evidence_detail", evidence_id=created.id)}


@blp.route("/evidence/<int:evidence_id>")
@login_required()
@blp.response(200, EvidenceSchema)
@blp.alt_response(404, description="No such evidence in the caller's scope")
def evidence_detail(evidence_id):
    """Evidence metadata"""
    return evidence.get_evidence(current_principal(), evidence_id)


_DOWNLOAD_PARAMETERS = [
    {"in": "header", "name": "If-None-Match", "required": False, "schema": {"type": "string"},
     "description": "The ETag (the SHA-256 of the content) of a copy you hold: 304 without a body"},
    {"in": "header", "name": "Range", "required": False, "schema": {"type": "string"}, "description": "e.g. `bytes=0-1023`: 206"},
]


@blp.route("/evidence/<int:evidence_id>/content")
@login_required()
@blp.doc(parameters=_DOWNLOAD_PARAMETERS)
@blp.response(200, description="The file, as an attachment (range and conditional requests work)")
@blp.alt_response(206, description="The range asked for")
@blp.alt_response(304, description="Not Modified: If-None-Match named the content's ETag")
@blp.alt_response(404, description="No such evidence in the caller's scope")
@blp.alt_response(410, description="Withdrawn and purged")
@blp.alt_response(416, description="The range lies outside the file")
def evidence_content(evidence_id):
    """Download evidence: always an attachment, never rendered inline"""
    return download_response(evidence.open_content(current_principal(), evidence_id))


@blp.route("/evidence/<int:evidence_id>/link")
@login_required()
@blp.response(200, EvidenceLinkSchema)
@blp.alt_response(404, description="No such evidence in the caller's scope")
@blp.alt_response(410, description="Withdrawn (`evidence.withdrawn`): no link is made to withdrawn evidence")
def evidence_link(evidence_id):
    """A short-lived signed link to the file, for <img src> and <a href> (no Authorization header)

    The URL works for EVIDENCE_LINK_SECONDS (default 300) and only as long as the one who asked
    may still read the evidence: each use checks again that their session is open (signing out
    ends their links), that their account is active, that the evidence is in their scope and not
    withdrawn. Images and PDFs come `inline`, anything else as an attachment. Treat the URL as a
    secret while it lasts: whoever holds it can fetch the file until it expires."""
    link = evidence.make_link(current_principal(), current_session().id, evidence_id)
    url = url_for("evidence.evidence_signed_content", evidence_id=link.evidence.id, sig=link.token)
    body = {"url": url, "expires_at": link.expires_at, "disposition": evidence.disposition_of(link.evidence)}
    return body, 200, {"Cache-Control": "private, no-store"}


@blp.route("/evidence/<int:evidence_id>/signed-content")
@blp.arguments(SignedContentQuerySchema, location="query")
@blp.response(200, description="The file: `inline` for images and PDFs, else an attachment; ranges and If-None-Match work. "
                               "`Cache-Control: private, max-age` at most until the link expires; `Referrer-Policy: no-referrer`")
@blp.alt_response(206, description="The range asked for")
@blp.alt_response(304, description="Not Modified: If-None-Match named the content's ETag")
@blp.alt_response(403, description="A bad or altered signature, or one made for another evidence id (`evidence.link_invalid`); "
                                   "the one who made the link signed out, was deactivated or lost the evidence from their scope "
                                   "(`evidence.link_revoked`)")
@blp.alt_response(410, description="The link expired (`evidence.link_expired`), or the evidence was withdrawn (`evidence.withdrawn`)")
@blp.alt_response(416, description="The range lies outside the file")
def evidence_signed_content(args, evidence_id):
    """Evidence by a signed link from GET /evidence/{id}/link: no Authorization header needed

    `Range` and `If-None-Match` (the content's SHA-256 as ETag) work as on /content."""
    content, expires_at = evidence.open_link(evidence_id, args["sig"])
    remaining = max(0, int((expires_at - clock.now()).total_seconds()))
    return download_response(content, disposition=evidence.disposition_of(content.evidence), max_age=remaining)


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



def download_response(content: evidence.Content, *, disposition: str = "attachment", max_age: int = 0):
    """The file (an attachment unless told `inline`) with an RFC 6266/8187 file name, a strong
    ETag from the hash, and ranges; sandboxed, so that even a file a browser renders runs nothing."""
    record = content.evidence
    response = Response(wrap_file(request.environ, content.reader), mimetype=record.media_type, direct_passthrough=True)
    response.content_length = content.size
    response.call_on_close(content.reader.close)  # also when a 304 or 416 drops the body
    response.headers["Content-Disposition"] = content_disposition(record.original_name, disposition)
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = f"private, max-age={max_age}, must-revalidate"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.set_etag(record.sha256)
    response.last_modified = record.uploaded_at
    try:
        return response.make_conditional(request, accept_ranges=True, complete_length=content.size)
    except Exception:  # e.g. 416: the response is dropped, so close the reader here
        response.close()
        raise
