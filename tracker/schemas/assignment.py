import marshmallow as ma
from marshmallow import fields, validate

from tracker.schemas.common import DateTime, Id, PersonSchema, printable, single_line

from tracker.domain.classification import TaskClass
from tracker.domain.plans import BOUNDS, REPORT_PERIODS
from tracker.domain.vocabulary import AssignmentRole, Status
from tracker.schemas.plan_file import RecurrenceSchema as RecurrenceFileSchema
from tracker.services.assignments import SORTS

_STATUSES = [s.value for s in Status]
_ROLES = [r.value for r in AssignmentRole]

CURSOR_DESCRIPTION = (
    "Keyset paging: the opaque `next_cursor` a previous page gave (in `X-Pagination`, `X-Next-Cursor` and, on "
    "pages read by cursor, `Link` rel=\"next\"); the page is the `page_size` rows after it, as fast deep in the "
    "list as at its start. Keep the same filters and sort. Not with `page` (400 `pagination.cursor_with_page`); "
    "a malformed or altered cursor, or one made for another sort, is a 400 `pagination.invalid_cursor`."
)


class ActionRefSchema(ma.Schema):
    id = fields.Integer()
    ref = fields.String()
    title = fields.String(allow_none=True)
    plan_id = fields.Integer()
    requires_evidence = fields.Boolean()


class OrganizationRefSchema(ma.Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    parent_id = fields.Integer(allow_none=True)


class OwnerSchema(ma.Schema):
    id = fields.Integer()
    full_name = fields.String()
    phone = fields.String(allow_none=True)
    email = fields.String(allow_none=True)


class AssignmentSchema(ma.Schema):
    id = fields.Integer()
    action = fields.Nested(ActionRefSchema)
    organization = fields.Nested(OrganizationRefSchema)
    role = fields.String(metadata={"description": "lead (chủ trì) or coordinating (phối hợp)"})
    cycle = fields.Integer(metadata={"description": "0 for a one-off action, else the year of a yearly duty"})
    owner = fields.Nested(OwnerSchema, allow_none=True)
    assigned_on = fields.Date(allow_none=True, metadata={"description": "The day the work was given (the plan's issue date for work imported with it)"})
    original_due_date = fields.Date(allow_none=True, metadata={"description": "The due date first given; kept after extensions"})
    due_date = fields.Date(allow_none=True, metadata={"description": "The current due date: the last permitted day"})
    due_text = fields.String(attribute="action.due_text", allow_none=True, metadata={
        "description": "The deadline as the plan words it, e.g. \"trước ngày 10/6\" (due_date 09/06 then)"})
    extended = fields.Boolean(metadata={"description": "The due date differs from the original one"})
    status = fields.String()
    progress = fields.Integer()
    note = fields.String(allow_none=True)
    submitted_on = fields.Date(allow_none=True)
    completed_on = fields.Date(allow_none=True, metadata={"description": "The date of the approved submission"})
    classification = fields.String(allow_none=True, metadata={"description": "As of `as_of`; null when cancelled"})
    due_soon = fields.Boolean()
    days_overdue = fields.Integer()
    as_of = fields.Date()
    version = fields.Integer()
    updated_at = DateTime()


class AssignmentQuerySchema(ma.Schema):
    organization_id = Id()
    include_descendants = fields.Boolean(load_default=False, metadata={"description": "With organization_id: its whole subtree"})
    plan_id = Id()
    group = fields.Integer(validate=validate.Range(1, 99), metadata={"description": "Task group number"})
    action_id = Id(metadata={"description": "The action, or actions split from it"})
    role = fields.String(validate=validate.OneOf(_ROLES))
    status = fields.String(validate=validate.OneOf(_STATUSES))
    classification = fields.String(validate=validate.OneOf([c.value for c in TaskClass]))
    owner_id = Id()
    due_from = fields.Date()
    due_to = fields.Date()
    q = fields.String(validate=[validate.Length(min=1, max=200), single_line], metadata={"description": "Accent-insensitive search: action text, organisation, note"})
    as_of = fields.Date(metadata={"description": "Classify as of this date (default: today in Asia/Ho_Chi_Minh)"})
    sort = fields.String(load_default="due_date", validate=validate.OneOf(list(SORTS)))
    cursor = fields.String(metadata={"description": CURSOR_DESCRIPTION})


class AsOfSchema(ma.Schema):
    as_of = fields.Date()


class AssignmentCreateSchema(ma.Schema):
    action_id = Id(required=True)
    organization_id = Id(required=True)
    role = fields.String(required=True, validate=validate.OneOf(_ROLES))
    owner_id = Id(allow_none=True)
    due_date = fields.Date(allow_none=True, metadata={"description": "The last permitted day (one-off actions)"})
    assigned_on = fields.Date(allow_none=True, metadata={
        "description": "The day the work was given, when entering historical data (default today; not in the future: "
                       "422 `assignment.invalid_assigned_on`)"})


class BulkAssignSchema(ma.Schema):
    action_id = Id(required=True)
    organization_ids = fields.List(Id(), required=True, validate=validate.Length(min=1, max=500))
    role = fields.String(required=True, validate=validate.OneOf(_ROLES))
    due_date = fields.Date(allow_none=True, metadata={"description": "The last permitted day (one-off actions)"})
    assigned_on = fields.Date(allow_none=True, metadata={
        "description": "The day the work was given, for every organisation (default today; not in the future: "
                       "422 `assignment.invalid_assigned_on`, nothing created)"})


class ItemResultSchema(ma.Schema):
    index = fields.Integer()
    status = fields.Integer(metadata={"description": "HTTP-like status of this item: 200, or the error's status"})
    code = fields.String(metadata={"description": "The error's code, when it failed"})
    detail = fields.String()
    organization_id = Id()
    assignment_id = Id()
    assignment_ids = fields.List(fields.Integer())
    new_status = fields.String()
    version = fields.Integer()
    allowed = fields.List(fields.String())
    current = fields.String()


class BulkResultSchema(ma.Schema):
    succeeded = fields.Integer()
    failed = fields.Integer()
    results = fields.List(fields.Nested(ItemResultSchema))


class AssignmentPatchSchema(ma.Schema):
    owner_id = Id(allow_none=True, metadata={"description": "Leaders"})
    due_date = fields.Date(allow_none=True, metadata={"description": "Leaders (an officer asks for an extension instead)"})
    progress = fields.Integer(validate=validate.Range(0, 100), metadata={"description": "Assigned officers"})
    note = fields.String(allow_none=True, validate=[validate.Length(max=4000), printable], metadata={"description": "Assigned officers"})
    comment = fields.String(validate=validate.Length(max=2000), metadata={"description": "Recorded in the history with the change"})


class TransitionSchema(ma.Schema):
    to = fields.String(required=True, validate=validate.OneOf(_STATUSES))
    note = fields.String(allow_none=True, validate=validate.Length(max=4000))
    progress = fields.Integer(allow_none=True, validate=validate.Range(0, 100))
    effective_on = fields.Date(allow_none=True, metadata={
        "description": "The day the move really happened (default today): not in the future, not before the assignment "
                       "was given or the previous status change; officers at most BACKDATE_MAX_DAYS back, leaders further with a note"})


class BulkTransitionItemSchema(TransitionSchema):
    assignment_id = Id(required=True)


class BulkTransitionSchema(ma.Schema):
    items = fields.List(fields.Nested(BulkTransitionItemSchema), required=True, validate=validate.Length(min=1, max=500))


class EventSchema(ma.Schema):
    id = fields.Integer()
    kind = fields.String()
    effective_on = fields.Date(allow_none=True, metadata={"description": "The day the fact took effect (verdicts use it)"})
    recorded_on = fields.Date(allow_none=True, metadata={"description": "The day it was recorded, in the plan's time zone"})
    recorded_at = DateTime(metadata={"description": "When it was recorded (same as occurred_at)"})
    occurred_at = DateTime()
    actor = fields.Nested(PersonSchema, allow_none=True, metadata={"description": "Who recorded it; null: the system (e.g. a plan import)"})
    old_value = fields.Dict(allow_none=True)
    new_value = fields.Dict(allow_none=True)
    note = fields.String(allow_none=True)


class ExtensionRequestSchema(ma.Schema):
    new_due_date = fields.Date(required=True)
    reason = fields.String(required=True, validate=[validate.Length(min=5, max=4000), printable])


class ExtensionDecisionSchema(ma.Schema):
    decision = fields.String(required=True, validate=validate.OneOf(["grant", "refuse"]))
    note = fields.String(allow_none=True, validate=validate.Length(max=4000))


class ExtensionSchema(ma.Schema):
    id = fields.Integer()
    assignment_id = fields.Integer()
    status = fields.String(metadata={"description": "pending, granted, refused, or lapsed (the assignment was completed or cancelled while it was pending)"})
    requested_after_due = fields.Boolean(metadata={"description": "Asked after the due date it would move"})
    previous_due_date = fields.Date(allow_none=True)
    new_due_date = fields.Date()
    reason = fields.String()
    requested_by = fields.Nested(PersonSchema)
    requested_at = DateTime()
    decided_by = fields.Nested(PersonSchema, allow_none=True)
    decided_at = DateTime(allow_none=True)
    decision_note = fields.String(allow_none=True)


class RecurrenceInputSchema(RecurrenceFileSchema):
    """A yearly due date: month and day, from one year until another; `bound: before` when the
    written day is the first day too late ("trước ngày 10/6")."""

    bound = fields.String(validate=validate.OneOf(BOUNDS), metadata={
        "description": "by: the written day is the last permitted day; before: the day before it is (\"trước ngày 10/6\"). "
                       "Omitted: the action's current bound, or by for a new recurrence"})


class ActionWriteSchema(ma.Schema):
    title = fields.String(allow_none=True, validate=[validate.Length(max=255), single_line])
    text = fields.String(validate=[validate.Length(min=1, max=10000), printable])
    expected_output = fields.String(allow_none=True, validate=[validate.Length(max=255), single_line])
    requires_evidence = fields.Boolean()
    due_date = fields.Date(allow_none=True, metadata={"description": "The last permitted day"})
    due_text = fields.String(allow_none=True, validate=[validate.Length(max=255), single_line], metadata={
        "description": "The deadline as the plan words it (\"trước ngày 10/6\", \"hoàn thành trong tháng 3/2025\")"})
    recurrence = fields.Nested(RecurrenceInputSchema(), allow_none=True)
    report_period = fields.String(allow_none=True, validate=validate.OneOf(REPORT_PERIODS), metadata={
        "description": "six_month or annual: the organisation's own periodic report duty (needs a recurrence)"})


class ActionCreateSchema(ActionWriteSchema):
    text = fields.String(required=True, validate=[validate.Length(min=1, max=10000), printable])
    parent_id = Id(allow_none=True, metadata={"description": "Split this bullet: the new ref extends the parent's"})
    ref = fields.String(validate=validate.Length(max=32), metadata={"description": "Required without parent_id, e.g. III.3.5"})
    group = fields.Integer(allow_none=True, validate=validate.Range(1, 99), metadata={"description": "Task group number, without parent_id"})
