import marshmallow as ma
from marshmallow import fields, validate

from tracker.schemas.common import DateTime, Id, PersonSchema
from tracker.domain.mail_kinds import MAIL_KINDS
from tracker.services.notices import KINDS


class NotificationSchema(ma.Schema):
    id = fields.Integer()
    kind = fields.String(validate=validate.OneOf(KINDS), metadata={"description": (
        "What happened: `urged` (a leader urged overdue work: to the unit's officers and the owner), `submitted` (work "
        "to approve: to the leaders over the unit), `returned` and `approved` (to the unit's officers and the owner), "
        "`extension_requested` (to the leaders over the unit), `extension_decided` (to the one who asked, the unit's "
        "officers and the owner). Nobody is told of what they did themselves")})
    title = fields.String()
    body = fields.String()
    assignment_id = fields.Integer(allow_none=True, metadata={"description": "The assignment it is about, if any"})
    actor = fields.Nested(PersonSchema, allow_none=True, metadata={"description": "Who caused it"})
    created_at = DateTime()
    read_at = DateTime(allow_none=True, metadata={"description": "When the user marked it read; null while unread"})


class NotificationQuerySchema(ma.Schema):
    unread = fields.Boolean(metadata={"description": "true: only the unread ones; false: only the read ones"})


class MarkReadSchema(ma.Schema):
    class Meta:
        json_schema = {"oneOf": [{"required": ["ids"]}, {"required": ["all"]}]}

    ids = fields.List(Id(), validate=validate.Length(min=1, max=500), metadata={"description": "These (the caller's own)"})
    all = fields.Boolean(metadata={"description": "true: every unread one (false: none)"})

    @ma.validates_schema
    def one_of(self, data, **kwargs):
        if ("ids" in data) == ("all" in data):
            raise ma.ValidationError("Cần đúng một trong hai: ids hoặc all. Give either ids or all.", "_schema")


class MarkedSchema(ma.Schema):
    marked = fields.Integer(metadata={"description": "How many were unread and are now read"})
    unread = fields.Integer(metadata={"description": "How many stay unread"})


def _kind_fields(**kwargs) -> dict:
    return {kind: fields.Boolean(metadata={"description": f"{label['en']} ({label['vi']})"}, **kwargs)
            for kind, label in MAIL_KINDS.items()}


MailKindsSchema = ma.Schema.from_dict(_kind_fields(required=True), name="MailKinds")
MailKindsPatchSchema = ma.Schema.from_dict(_kind_fields(), name="MailKindsPatch")


class MailKindLabelSchema(ma.Schema):
    vi = fields.String()
    en = fields.String()


class MailPreferencesSchema(ma.Schema):
    email = fields.String(allow_none=True, metadata={"description": "Where mails go (set by an administrator); none: no mail"})
    mail_configured = fields.Boolean(metadata={"description": "Whether this server sends mail at all (SMTP_HOST)"})
    email_preferences = fields.Nested(MailKindsSchema, metadata={"description": "Each kind of mail: wanted or not"})
    labels = fields.Dict(keys=fields.String(), values=fields.Nested(MailKindLabelSchema),
                         metadata={"description": "Each kind's name, in Vietnamese and English"})


class MailPreferencesPatchSchema(ma.Schema):
    email_preferences = fields.Nested(MailKindsPatchSchema, required=True,
                                      metadata={"description": "The kinds to change; the others stay as they are"})
