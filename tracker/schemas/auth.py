import marshmallow as ma
from marshmallow import fields, validate

from tracker.domain.sign_in import SignInOutcome, SignInReason
from tracker.schemas.common import DateTime, Id, printable, single_line
from tracker.schemas.user import PASSWORD


class LoginSchema(ma.Schema):
    username = fields.String(required=True, validate=[validate.Length(min=1, max=64), single_line])
    password = fields.String(required=True, load_only=True, validate=[validate.Length(min=1, max=256), printable])


class TokenPairSchema(ma.Schema):
    access_token = fields.String()
    refresh_token = fields.String(metadata={"description": "Use once: refreshing answers a new one, and the old one "
                                                           "coming back ends the session"})
    token_type = fields.Constant("Bearer")
    expires_in = fields.Integer(metadata={"description": "Seconds the access token lives"})
    refresh_expires_in = fields.Integer(metadata={"description": "Seconds the refresh token lives"})


class RefreshSchema(ma.Schema):
    refresh_token = fields.String(
        load_only=True, validate=validate.Length(min=1, max=4096),
        metadata={"description": "The refresh token, when not sent as `Authorization: Bearer`"},
    )


class PasswordChangeSchema(ma.Schema):
    current_password = fields.String(required=True, load_only=True, validate=[validate.Length(min=1, max=256), printable])
    new_password = fields.String(required=True, load_only=True, validate=PASSWORD)


class SignInSchema(ma.Schema):
    id = fields.Integer()
    occurred_at = DateTime()
    username = fields.String(metadata={"description": "As typed (trimmed, lower case), also when no such user exists"})
    user_id = fields.Integer(allow_none=True)
    client_address = fields.String()
    user_agent = fields.String(allow_none=True)
    outcome = fields.String(metadata={"enum": [o.value for o in SignInOutcome]})
    reason = fields.String(allow_none=True, metadata={"enum": [r.value for r in SignInReason]})
    session_id = fields.Integer(allow_none=True)


class SignInQuerySchema(ma.Schema):
    user_id = Id()
    username = fields.String(validate=[validate.Length(min=1, max=64), single_line])
    client_address = fields.String(validate=[validate.Length(min=1, max=64), single_line])
    outcome = fields.String(validate=validate.OneOf([o.value for o in SignInOutcome]))


class ScopeSchema(ma.Schema):
    all = fields.Boolean(metadata={"description": "Admin: sees every organisation's work"})
    subtree_roots = fields.List(fields.Integer(), metadata={"description": "Leader/viewer: these organisations and their subtrees"})
    own_organizations = fields.List(fields.Integer(), metadata={"description": "Officer: these organisations' own work"})
