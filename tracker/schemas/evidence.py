import marshmallow as ma
from marshmallow import fields, validate

from tracker.schemas.common import DateTime, PersonSchema


class EvidenceSchema(ma.Schema):
    id = fields.Integer()
    assignment_id = fields.Integer()
    original_name = fields.String(metadata={"description": "The uploaded file's name, for display only"})
    media_type = fields.String(metadata={"description": "Detected from the content, not from the client"})
    size = fields.Integer()
    sha256 = fields.String()
    description = fields.String(allow_none=True)
    uploaded_by = fields.Nested(PersonSchema)
    uploaded_at = DateTime()
    withdrawn = fields.Boolean(attribute="is_withdrawn")
    withdrawn_at = DateTime(allow_none=True)
    withdrawn_by = fields.Nested(PersonSchema, allow_none=True)
    withdrawal_reason = fields.String(allow_none=True)
    content_available = fields.Function(lambda e: e.content_purged_at is None, metadata={
        "description": "false once withdrawn evidence has been purged", "returns": fields.Boolean()})


class WithdrawSchema(ma.Schema):
    reason = fields.String(required=True, validate=validate.Length(min=3, max=2000))


UPLOAD_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {"type": "string", "format": "binary", "description": (
                        "PDF, Word/Excel/PowerPoint (old and OOXML), OpenDocument, JPEG/PNG/WebP, text, CSV or ZIP; "
                        "the content must match the extension")},
                    "description": {"type": "string", "maxLength": 2000},
                },
            }
        }
    },
}


class EvidenceLinkSchema(ma.Schema):
    url = fields.String(metadata={"description": (
        "Absolute-path URL (`/api/v1/evidence/{id}/signed-content?sig=...`) that works without an Authorization "
        "header until `expires_at`, for the user who asked only; put it in <img src> or <a href>")})
    expires_at = DateTime(metadata={"description": "When the link stops working (410 `evidence.link_expired` after)"})
    disposition = fields.String(metadata={"description": "`inline` for images and PDFs, `attachment` otherwise"})


class SignedContentQuerySchema(ma.Schema):
    sig = fields.String(required=True, validate=validate.Length(min=1, max=1000), metadata={
        "description": "The signature the link came with (binds evidence, user, session and expiry)"})
