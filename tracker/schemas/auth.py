import marshmallow as ma
from marshmallow import fields, validate

from tracker.schemas.common import printable, single_line


class LoginSchema(ma.Schema):
    username = fields.String(required=True, validate=[validate.Length(min=1, max=64), single_line])
    password = fields.String(required=True, load_only=True, validate=[validate.Length(min=1, max=256), printable])


class TokenPairSchema(ma.Schema):
    access_token = fields.String()
    refresh_token = fields.String()
    token_type = fields.Constant("Bearer")


class AccessTokenSchema(ma.Schema):
    access_token = fields.String()
    token_type = fields.Constant("Bearer")


class ScopeSchema(ma.Schema):
    all = fields.Boolean(metadata={"description": "Admin: sees every organisation's work"})
    subtree_roots = fields.List(fields.Integer(), metadata={"description": "Leader/viewer: these organisations and their subtrees"})
    own_organizations = fields.List(fields.Integer(), metadata={"description": "Officer: these organisations' own work"})
