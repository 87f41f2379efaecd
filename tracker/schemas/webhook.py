import marshmallow as ma
from marshmallow import fields, validate

from tracker.domain.webhooks import DELIVERY_STATUSES, EVENT_TYPES, MAX_URL_LENGTH, SECRET_PREFIX
from tracker.schemas.common import DateTime, single_line

URL = [validate.Length(min=1, max=MAX_URL_LENGTH),
       validate.Regexp(r"^https?://[^\s]+\Z", error="Phải bắt đầu bằng http:// hoặc https://. Must start with http:// or https://.")]
EVENTS_DOC = ("The event types it receives: " + ", ".join(f"`{kind}`" for kind in EVENT_TYPES)
              + ". `assignment.changed` is a change of owner, due date, progress, note, unit or role (a status move is "
              "`assignment.transitioned`); `extension.decided` also tells a request that lapsed with its work")


class WebhookSchema(ma.Schema):
    id = fields.Integer(dump_only=True)
    url = fields.String(required=True, validate=URL, metadata={"description": (
        "Where deliveries are POSTed (http or https). Private, loopback, link-local and reserved addresses are refused "
        "(422 `webhook.private_address`) unless the server allows them (WEBHOOKS_ALLOW_PRIVATE_ADDRESSES); host names "
        "are resolved and checked again at each delivery")})
    event_types = fields.List(fields.String(validate=validate.OneOf(EVENT_TYPES)), required=True,
                              validate=validate.Length(min=1, max=len(EVENT_TYPES)), metadata={"description": EVENTS_DOC})
    active = fields.Boolean(load_default=True, metadata={"description": "false: nothing is written or sent for it"})
    description = fields.String(allow_none=True, validate=[validate.Length(max=500), single_line])
    created_by_id = fields.Integer(dump_only=True, allow_none=True)
    created_at = DateTime(dump_only=True)
    updated_at = DateTime(dump_only=True)


class WebhookCreateSchema(WebhookSchema):
    secret = fields.String(load_only=True, validate=validate.Length(min=len(SECRET_PREFIX) + 32, max=100), metadata={
        "description": "The signing secret, `whsec_` and 24 to 64 bytes in base64; a new one is made when none is given"})


class WebhookCreatedSchema(WebhookSchema):
    secret = fields.String(dump_only=True, metadata={
        "description": "The signing secret (Standard Webhooks): shown in this answer only, keep it"})


class WebhookUpdateSchema(ma.Schema):
    url = fields.String(validate=URL)
    event_types = fields.List(fields.String(validate=validate.OneOf(EVENT_TYPES)), validate=validate.Length(min=1, max=len(EVENT_TYPES)),
                              metadata={"description": EVENTS_DOC})
    active = fields.Boolean()
    description = fields.String(allow_none=True, validate=[validate.Length(max=500), single_line])


class AttemptSchema(ma.Schema):
    attempted_at = DateTime()
    status_code = fields.Integer(allow_none=True, metadata={"description": "The receiver's answer; null when none came"})
    error = fields.String(allow_none=True, metadata={"description": "Why it failed (no answer, a non-2xx answer, an address refused)"})
    duration_ms = fields.Integer()


class DeliverySchema(ma.Schema):
    id = fields.Integer()
    endpoint_id = fields.Integer()
    message_id = fields.String(metadata={"description": "The `webhook-id` header: the same on every attempt"})
    event_type = fields.String(validate=validate.OneOf(EVENT_TYPES))
    payload = fields.Dict(metadata={"description": "The body sent: `type`, `timestamp`, `data`"})
    status = fields.String(validate=validate.OneOf(DELIVERY_STATUSES), metadata={"description": (
        "`pending` (retried with exponential backoff, 30 s doubling to at most 1 h), `delivered` (a 2xx answer), "
        "`failed` (no 2xx answer within 24 h; re-deliverable)")})
    attempts = fields.Integer(metadata={"description": "Attempts since it was queued or re-queued"})
    next_attempt_at = DateTime(allow_none=True)
    expires_at = DateTime(metadata={"description": "The end of its retry window"})
    last_status_code = fields.Integer(allow_none=True)
    last_error = fields.String(allow_none=True)
    created_at = DateTime()
    delivered_at = DateTime(allow_none=True)
    attempt_log = fields.List(fields.Nested(AttemptSchema), metadata={"description": "Every attempt, oldest first"})


class DeliveryQuerySchema(ma.Schema):
    status = fields.String(validate=validate.OneOf(DELIVERY_STATUSES))
