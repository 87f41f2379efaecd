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
    content_available = fields.Function(lambda e: e.content_purged_at is None)


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
