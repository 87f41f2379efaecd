import marshmallow as ma
from marshmallow import fields, validate

from tracker.schemas.assignment import AssignmentSchema
from tracker.schemas.evidence import EvidenceSchema
from tracker.schemas.notification import NotificationSchema
from tracker.services.changes import ASSIGNMENT, EVIDENCE, KINDS, NOTIFICATION
from tracker.services.feed import DEFAULT_LIMIT, MAX_LIMIT

_SHOWN_AS = {ASSIGNMENT: AssignmentSchema(), EVIDENCE: EvidenceSchema(), NOTIFICATION: NotificationSchema()}


class ChangeQuerySchema(ma.Schema):
    since = fields.String(validate=validate.Length(min=1, max=2000), metadata={"description": (
        "Where to go on from: the `next_cursor` of the previous answer. Without it the feed starts from the beginning "
        "(everything in the caller's scope); `now`: no items, and a cursor from which only what changes from now on comes")})
    limit = fields.Integer(load_default=DEFAULT_LIMIT, validate=validate.Range(min=1, max=MAX_LIMIT), metadata={
        "description": "At most this many changes read per page (an entity changed several times is one item)"})


class ChangeSchema(ma.Schema):
    kind = fields.String(validate=validate.OneOf(KINDS))
    id = fields.Integer(metadata={"description": "The id of the assignment, evidence or notification"})
    deleted = fields.Boolean(metadata={"description": (
        "true: a tombstone: the caller no longer sees this object (deleted, or its work passed to a unit outside the "
        "caller's scope); drop it. false: `data` holds it as it is now")})
    data = fields.Method("_shown", metadata={
        "description": "The object as its own GET shows it now (assignments classified as of today); null for a tombstone",
        "anyOf": [{"$ref": "#/components/schemas/Assignment"}, {"$ref": "#/components/schemas/Evidence"},
                  {"$ref": "#/components/schemas/Notification"}, {"type": "null"}]})

    def _shown(self, item):
        return None if item.data is None else _SHOWN_AS[item.kind].dump(item.data)


class ChangesSchema(ma.Schema):
    items = fields.List(fields.Nested(ChangeSchema), metadata={
        "description": "What changed, in the order it changed, each object at most once (its latest state)"})
    next_cursor = fields.String(metadata={"description": "The `since` of the next call (also when there were no items)"})
    has_more = fields.Boolean(metadata={"description": "true: more changes wait; call again at once with next_cursor"})
