import marshmallow as ma
from marshmallow import fields, validate

from tracker.schemas.common import Id, single_line

from tracker.domain.plans import ORG_CODE_PATTERN
from tracker.domain.vocabulary import OrganizationKind


class OrganizationSchema(ma.Schema):
    id = fields.Integer(dump_only=True)
    code = fields.String()
    name = fields.String()
    short_name = fields.String(allow_none=True)
    kind = fields.String()
    parent_id = fields.Integer(allow_none=True)
    valid_from = fields.Date(allow_none=True)
    valid_to = fields.Date(allow_none=True)
    successor_id = fields.Integer(allow_none=True)
    is_demo = fields.Boolean(metadata={"description": "Representative demo data, not named by a plan"})


class OrganizationQuerySchema(ma.Schema):
    parent_id = Id(
        metadata={"description": "Only the direct children of this organisation"},
    )
    roots = fields.Boolean(load_default=False, metadata={"description": "Only organisations without a parent"})
    kind = fields.String(metadata={"description": "Only this kind, e.g. `department`"})
    q = fields.String(validate=[ma.validate.Length(min=1, max=100), single_line], metadata={"description": "Code or name contains"})


class OrganizationCreateSchema(ma.Schema):
    code = fields.String(required=True, validate=validate.Regexp(ORG_CODE_PATTERN, error="Mã chỉ gồm A-Z, 0-9 và '-'. Codes use A-Z, 0-9 and '-'."))
    name = fields.String(required=True, validate=[validate.Length(min=1, max=255), single_line])
    short_name = fields.String(allow_none=True, validate=[validate.Length(max=120), single_line])
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in OrganizationKind]))
    parent_id = Id(allow_none=True)
    valid_from = fields.Date(allow_none=True)


class OrganizationUpdateSchema(ma.Schema):
    name = fields.String(validate=[validate.Length(min=1, max=255), single_line])
    short_name = fields.String(allow_none=True, validate=[validate.Length(max=120), single_line])
    kind = fields.String(validate=validate.OneOf([k.value for k in OrganizationKind]))
    parent_id = Id(allow_none=True, metadata={"description": "Move under another parent (null: make a root)"})
    valid_from = fields.Date(allow_none=True)


class OrganizationCloseSchema(ma.Schema):
    valid_to = fields.Date(required=True, metadata={"description": "Last day the unit existed"})
    successor_id = Id(allow_none=True, load_default=None, metadata={"description": "The unit that took over (merger, rename)"})


class MemberSchema(ma.Schema):
    """A member as colleagues see them: no account details beyond contact."""

    user_id = fields.Integer()
    full_name = fields.String(attribute="user.full_name")
    phone = fields.String(attribute="user.phone", allow_none=True)
    email = fields.String(attribute="user.email", allow_none=True)
    role = fields.String()
