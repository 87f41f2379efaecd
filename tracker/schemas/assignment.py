import marshmallow as ma
from flask import url_for
from marshmallow import fields, validate

from tracker.schemas.common import DateTime, Id, MultiValue, PersonSchema, printable, required_when, single_line

from tracker.domain.classification import TaskClass
from tracker.domain.plans import BOUNDS, REPORT_PERIODS
from tracker.domain.vocabulary import AssignmentRole, Status
from tracker.domain.workflow import FIELD_EDITORS, MOVES
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


class PendingExtensionSchema(ma.Schema):
    id = fields.Integer(metadata={"description": "Decide it at /assignments/{id}/extensions/{extension_id}/decision"})
    previous_due_date = fields.Date(allow_none=True, metadata={"description": "The due date it would move"})
    new_due_date = fields.Date(metadata={"description": "The due date asked for"})
    reason = fields.String()
    requested_after_due = fields.Boolean(metadata={"description": "Asked after the due date it would move"})
    requested_at = DateTime()
    requested_by = fields.Nested(PersonSchema)


class AssignmentSchema(ma.Schema):
    """An assignment, the same wherever it appears (the reports' rows use the same objects and names)."""

    id = fields.Integer()
    action = fields.Nested(ActionRefSchema)
    organization = fields.Nested(OrganizationRefSchema)
    role = fields.String(validate=validate.OneOf([r.value for r in AssignmentRole]),
                         metadata={"description": "lead (chủ trì) or coordinating (phối hợp)"})
    cycle = fields.Integer(metadata={"description": "0 for a one-off action, else the year of a yearly duty"})
    owner = fields.Nested(OwnerSchema, allow_none=True)
    assigned_on = fields.Date(allow_none=True, metadata={"description": "The day the work was given (the plan's issue date for work imported with it)"})
    original_due_date = fields.Date(allow_none=True, metadata={"description": "The due date first given; kept after extensions"})
    due_date = fields.Date(allow_none=True, metadata={"description": "The current due date: the last permitted day"})
    due_text = fields.String(attribute="action.due_text", allow_none=True, metadata={
        "description": "The deadline as the plan words it, e.g. \"trước ngày 10/6\" (due_date 09/06 then)"})
    extended = fields.Boolean(metadata={"description": "The due date differs from the original one"})
    status = fields.String(validate=validate.OneOf(_STATUSES))
    progress = fields.Integer()
    note = fields.String(allow_none=True)
    submitted_on = fields.Date(allow_none=True)
    completed_on = fields.Date(allow_none=True, metadata={"description": "The date of the approved submission"})
    classification = fields.String(allow_none=True, validate=validate.OneOf([c.value for c in TaskClass]),
                                   metadata={"description": "As of `as_of`; null when cancelled"})
    due_soon = fields.Boolean()
    days_overdue = fields.Integer()
    as_of = fields.Date()
    version = fields.Integer()
    updated_at = DateTime()
    # For the caller, now: what a screen shows and which buttons it offers.
    allowed_transitions = fields.List(fields.String(validate=validate.OneOf(_STATUSES)), metadata={
        "description": "The statuses this caller may move the assignment to now (POST .../transitions `to`), by the rules the "
                       "move itself is checked against: empty for a viewer, for closed work and for work of a closed "
                       "organisation. `returned`, `blocked` and `cancelled` need a `note`; `submitted` is left out while the "
                       "action requires evidence and none is uploaded (see `evidence_count`)"})
    editable_fields = fields.List(fields.String(validate=validate.OneOf(list(FIELD_EDITORS))), metadata={
        "description": "The PATCH fields this caller may change now: leaders over the organisation (and admins) `owner_id` "
                       "and `due_date`, its officers (and leaders and admins) `progress` and `note`; empty for a viewer and "
                       "once the work is completed or cancelled"})
    last_return_reason = fields.String(allow_none=True, metadata={
        "description": "Why the latest submission was returned (the leader's note), while the work is back with the "
                       "organisation (returned, or in progress or blocked after the return); null once it is submitted "
                       "again, completed or cancelled, and when it was never returned. Every return stays in /history"})
    pending_extension = fields.Nested(PendingExtensionSchema, allow_none=True, metadata={
        "description": "The extension request awaiting a leader's decision, or null"})
    evidence_count = fields.Integer(metadata={"description": "Evidence files not withdrawn"})
    urge_count = fields.Integer(metadata={"description": "How many times leaders urged this work (đôn đốc); each is in /history"})
    last_urged_at = DateTime(allow_none=True, metadata={"description": "When it was last urged, or null"})


class CreatedAssignmentSchema(AssignmentSchema):
    location = fields.Function(lambda a: url_for("assignments.AssignmentDetail", assignment_id=a.id), metadata={
        "description": "The assignment's URL (GET, PATCH with its ETag)", "returns": fields.String()})


class GeneratedAssignmentsSchema(ma.Schema):
    created = fields.Integer(metadata={"description": "How many assignments were created (0 when every year was there)"})
    assignments = fields.List(fields.Nested(CreatedAssignmentSchema), metadata={
        "description": "The assignments created, each with its `location`"})


class WorkFilterSchema(ma.Schema):
    """The filters of /assignments, which the reports take too (tracker.services.assignments.apply_filters)."""

    organization_id = MultiValue(Id(), metadata={"description": "The organisation holding the work"})
    include_descendants = fields.Boolean(load_default=False, metadata={
        "description": "With organization_id: its whole subtree (several: the union of their subtrees)"})
    plan_id = MultiValue(Id())
    group = MultiValue(fields.Integer(validate=validate.Range(1, 99)), metadata={"description": "Task group number"})
    action_id = MultiValue(Id(), metadata={"description": "The action, or actions split from it"})
    role = MultiValue(fields.String(validate=validate.OneOf(_ROLES)))
    status = MultiValue(fields.String(validate=validate.OneOf(_STATUSES)))
    owner_id = MultiValue(Id())
    due_from = fields.Date()
    due_to = fields.Date()
    q = fields.String(validate=[validate.Length(min=1, max=200), single_line], metadata={"description": "Accent-insensitive search: action text, organisation, note"})


class AssignmentQuerySchema(WorkFilterSchema):
    classification = MultiValue(fields.String(validate=validate.OneOf([c.value for c in TaskClass])), metadata={
        "description": "The class as of `as_of`"})
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
    index = fields.Integer(metadata={"description": "The item's position in the request, from 0"})
    status = fields.Integer(metadata={"description": "HTTP-like status of this item: 201 for an assignment created, 200 for "
                                                     "a transition made or an urging sent, or the error's status"})
    code = fields.String(metadata={"optional": True, "description": "The error's code, when it failed"})
    detail = fields.String(metadata={"optional": True, "description": "Why the item failed, for people (Vietnamese, then "
                                                                      "English): every failed item has it, a successful one not"})
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()), metadata={
        "optional": True, "description": "When it failed on a field (e.g. an unknown organisation): the messages by field"})
    organization_id = Id(metadata={"optional": True, "description": "Bulk assign: the organisation of this item"})
    assignment_id = Id(metadata={"optional": True, "description": "Bulk transitions: the assignment of this item"})
    assignment_ids = fields.List(fields.Integer(), metadata={"optional": True, "description": "Bulk assign: the assignments "
                                                                                             "created (a yearly action: one per year)"})
    locations = fields.List(fields.String(), metadata={"optional": True, "description": "Bulk assign: the URL of each assignment "
                                                                                        "created, in the order of `assignment_ids`"})
    new_status = fields.String(validate=validate.OneOf(_STATUSES), metadata={"optional": True, "description": "A transition made: the status now"})
    urge_count = fields.Integer(metadata={"optional": True, "description": "An urging sent: the assignment's urge count now"})
    last_urged_at = DateTime(metadata={"optional": True, "description": "An urging sent: when"})
    notified = fields.Integer(metadata={"optional": True, "description": "An urging sent: how many people were notified "
                                                                       "(the unit's officers and the owner)"})
    version = fields.Integer(metadata={"optional": True, "description": "A transition made: the assignment's version now"})
    allowed = fields.List(fields.String(validate=validate.OneOf(_STATUSES)), metadata={
        "optional": True, "description": "A move not allowed from the current status: the statuses reachable"})
    current = fields.String(validate=validate.OneOf(_STATUSES), metadata={"optional": True, "description": "A move not allowed: the current status"})
    classification = fields.String(allow_none=True, validate=validate.OneOf([c.value for c in TaskClass]), metadata={
        "optional": True, "description": "An urging refused as not overdue (`urge.not_overdue`): the class today (null: cancelled)"})


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
    class Meta:
        json_schema = required_when("to", sorted({move.target.value for move in MOVES if move.note_required}), "note")

    to = fields.String(required=True, validate=validate.OneOf(_STATUSES))
    note = fields.String(allow_none=True, validate=validate.Length(max=4000), metadata={
        "description": "Required (not blank) to return, block or cancel"})
    progress = fields.Integer(allow_none=True, validate=validate.Range(0, 100))
    effective_on = fields.Date(allow_none=True, metadata={
        "description": "The day the move really happened (default today): not in the future, not before the assignment "
                       "was given or the previous status change; officers at most BACKDATE_MAX_DAYS back, leaders further with a note"})


class BulkTransitionItemSchema(TransitionSchema):
    assignment_id = Id(required=True)


class BulkTransitionSchema(ma.Schema):
    items = fields.List(fields.Nested(BulkTransitionItemSchema), required=True, validate=validate.Length(min=1, max=500))


class UrgeSchema(ma.Schema):
    assignment_ids = fields.List(Id(), required=True, validate=validate.Length(min=1, max=200), metadata={
        "description": "The overdue assignments to urge (at most 200)"})
    message = fields.String(validate=[validate.Length(max=2000), printable], metadata={
        "description": "The leader's words to the unit; without them (or blank), the usual request to act and report"})


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
    class Meta:
        json_schema = required_when("decision", ["refuse"], "note")

    decision = fields.String(required=True, validate=validate.OneOf(["grant", "refuse"]))
    note = fields.String(allow_none=True, validate=validate.Length(max=4000), metadata={"description": "Required (not blank) to refuse"})


class ExtensionSchema(ma.Schema):
    id = fields.Integer()
    assignment_id = fields.Integer()
    status = fields.String(validate=validate.OneOf(["pending", "granted", "refused", "lapsed"]), metadata={
        "description": "pending, granted, refused, or lapsed (the assignment was completed or cancelled while it was pending)"})
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
