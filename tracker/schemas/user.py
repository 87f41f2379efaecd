import marshmallow as ma
from marshmallow import fields, validate

from tracker.schemas.common import Id, MultiValue, printable, single_line

from tracker.domain.access import MemberRole

USERNAME = validate.Regexp(r"^[A-Za-z0-9._-]{3,64}\Z", error="3–64 ký tự A-Z, 0-9, '.', '_' hoặc '-'. 3–64 characters of A-Z, 0-9, . _ -")
PASSWORD = [validate.Length(min=10, max=256, error="Mật khẩu dài 10–256 ký tự. Passwords have 10–256 characters."), printable]


class MembershipSchema(ma.Schema):
    organization_id = Id(required=True)
    organization_code = fields.String(attribute="organization.code", dump_only=True)
    organization_name = fields.String(attribute="organization.name", dump_only=True)
    role = fields.String(required=True, validate=validate.OneOf([r.value for r in MemberRole]))


class UserSchema(ma.Schema):
    id = fields.Integer(dump_only=True)
    username = fields.String(required=True, validate=USERNAME)
    password = fields.String(required=True, load_only=True, validate=PASSWORD)
    full_name = fields.String(required=True, validate=[validate.Length(min=1, max=255), single_line])
    phone = fields.String(allow_none=True, validate=validate.Regexp(r"^\+?[0-9 .()-]{6,32}\Z"))
    email = fields.Email(allow_none=True, validate=validate.Length(max=255))
    is_active = fields.Boolean(dump_only=True)
    memberships = fields.List(fields.Nested(MembershipSchema), load_default=list)


class UserUpdateSchema(ma.Schema):
    password = fields.String(load_only=True, validate=PASSWORD)
    full_name = fields.String(validate=[validate.Length(min=1, max=255), single_line])
    phone = fields.String(allow_none=True, validate=validate.Regexp(r"^\+?[0-9 .()-]{6,32}\Z"))
    email = fields.Email(allow_none=True, validate=validate.Length(max=255))
    is_active = fields.Boolean()
    memberships = fields.List(fields.Nested(MembershipSchema))


class UserQuerySchema(ma.Schema):
    q = fields.String(validate=[validate.Length(min=1, max=100), single_line])
    organization_id = MultiValue(Id(), metadata={"description": "Members of this organisation"})
    active = fields.Boolean()


class MeSchema(ma.Schema):
    user = fields.Nested(UserSchema)
    scope = fields.Dict()
