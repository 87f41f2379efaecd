import marshmallow as ma
from marshmallow import fields, validate

from tracker.schemas.common import DateTime, Id, MultiValue, printable, single_line

from tracker.domain.plans import ORG_CODE_PATTERN
from tracker.domain.access import MemberRole
from tracker.domain.vocabulary import OrganizationKind


class OrganizationSchema(ma.Schema):
    id = fields.Integer(dump_only=True)
    code = fields.String()
    name = fields.String()
    short_name = fields.String(allow_none=True)
    kind = fields.String(validate=validate.OneOf([k.value for k in OrganizationKind]))
    parent_id = fields.Integer(allow_none=True)
    valid_from = fields.Date(allow_none=True)
    valid_to = fields.Date(allow_none=True)
    successor_id = fields.Integer(allow_none=True)
    is_demo = fields.Boolean(metadata={"description": "Representative demo data, not named by a plan"})
    admin_code = fields.String(allow_none=True, metadata={"description": "Official administrative-unit code (mã ĐVHC), for imported units"})


class OrganizationQuerySchema(ma.Schema):
    parent_id = MultiValue(Id(), metadata={"description": "Only the direct children of this organisation"})
    roots = fields.Boolean(load_default=False, metadata={"description": "Only organisations without a parent"})
    kind = MultiValue(fields.String(validate=validate.OneOf([k.value for k in OrganizationKind])),
                      metadata={"description": "Only this kind, e.g. `department`"})
    q = fields.String(validate=[ma.validate.Length(min=1, max=100), single_line], metadata={"description": "Code or name contains"})
    active_on = fields.Date(metadata={"description": "Only the units that existed on this day, with the names and parents of that day"})
    active = fields.Boolean(metadata={"description": "true: only units open today; false: only closed ones"})


class OrganizationAsOfSchema(ma.Schema):
    as_of = fields.Date(metadata={"description": "The name and parent valid on this day (404 if the unit did not exist then)"})


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
    effective_on = fields.Date(metadata={"description": "A new name or parent is a dated change (rename, move) from this day; default today. "
                                                        "Reports as of earlier days keep the old name and parent."})
    note = fields.String(validate=[validate.Length(max=2000), printable])


class OrganizationCloseSchema(ma.Schema):
    valid_to = fields.Date(required=True, metadata={"description": "Last day the unit existed"})
    successor_id = Id(allow_none=True, load_default=None, metadata={"description": "The unit that took over (merger, rename); its open work passes to it"})
    decision = fields.String(validate=[validate.Length(min=1, max=255), single_line], metadata={"description": "The decision that made the change"})
    note = fields.String(validate=[validate.Length(max=2000), printable])
    children_parent_id = Id(metadata={"description": "Move every open child not listed in `children` under this unit"})
    children = fields.List(fields.Nested(lambda: ChildPlanSchema()), validate=validate.Length(max=1000))
    cancel_open_work = fields.Boolean(load_default=False, metadata={"description": "Without a successor: cancel the open work (required when there is any)"})
    move_memberships = fields.Boolean(load_default=False, metadata={"description": "Move the unit's members to the successor"})


class ChildPlanSchema(ma.Schema):
    """What happens to a child of a closing unit: moved, merged into a unit, or closed."""

    organization_id = Id(required=True)
    parent_id = Id(metadata={"description": "Move under this unit"})
    successor_id = Id(metadata={"description": "Merge into this unit (its open work passes on)"})
    close = fields.Boolean(metadata={"description": "Close without successor"})

    @ma.validates_schema
    def _one_fate(self, data, **kwargs):
        fates = [name for name in ("parent_id", "successor_id", "close") if data.get(name) not in (None, False)]
        if len(fates) != 1:
            raise ma.ValidationError("Chọn đúng một trong parent_id, successor_id, close. Give exactly one of parent_id, successor_id, close.",
                                     "organization_id")


class AllocationSchema(ma.Schema):
    assignment_id = Id(required=True)
    organization_id = Id(required=True, metadata={"description": "The successor that takes this open assignment"})


class NewSuccessorSchema(ma.Schema):
    code = fields.String(required=True, validate=validate.Regexp(ORG_CODE_PATTERN, error="Mã chỉ gồm A-Z, 0-9 và '-'. Codes use A-Z, 0-9 and '-'."))
    name = fields.String(required=True, validate=[validate.Length(min=1, max=255), single_line])
    short_name = fields.String(allow_none=True, validate=[validate.Length(max=120), single_line])
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in OrganizationKind]))
    parent_id = Id(allow_none=True)


KINDS = ("merge", "split", "rename", "move", "close")


class ReorganizationCreateSchema(ma.Schema):
    """One dated reorganisation. Fields by kind:
    merge: predecessor_ids and successor_id or new_successor; split: organization_id, successor_ids,
    allocation and/or default_successor_id; rename: organization_id, name (short_name); move:
    organization_id, parent_id; close: organization_id (cancel_open_work). Closing kinds take
    children / children_parent_id for the children of the closing units."""

    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    effective_on = fields.Date(required=True, metadata={"description": "First day of the new structure; closed units' last day is the day before"})
    decision = fields.String(validate=[validate.Length(min=1, max=255), single_line], metadata={"description": "e.g. Nghị quyết 1666/NQ-UBTVQH15"})
    note = fields.String(validate=[validate.Length(max=2000), printable])
    organization_id = Id()
    predecessor_ids = fields.List(Id(), validate=validate.Length(min=1, max=500))
    successor_id = Id()
    new_successor = fields.Nested(NewSuccessorSchema)
    successor_ids = fields.List(Id(), validate=validate.Length(min=1, max=500))
    allocation = fields.List(fields.Nested(AllocationSchema), validate=validate.Length(max=100_000))
    default_successor_id = Id()
    name = fields.String(validate=[validate.Length(min=1, max=255), single_line])
    short_name = fields.String(allow_none=True, validate=[validate.Length(max=120), single_line])
    parent_id = Id(allow_none=True)
    children = fields.List(fields.Nested(ChildPlanSchema), validate=validate.Length(max=1000))
    children_parent_id = Id()
    cancel_open_work = fields.Boolean(load_default=False)
    move_memberships = fields.Boolean(load_default=False, metadata={"description": "Merge: move the members of the closed units to the successor"})


class LinkSchema(ma.Schema):
    predecessor_id = fields.Integer()
    successor_id = fields.Integer()
    effective_on = fields.Date()


class ReorganizationSchema(ma.Schema):
    id = fields.Integer()
    kind = fields.String(validate=validate.OneOf(KINDS))
    effective_on = fields.Date()
    decision = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    recorded_by_id = fields.Integer(allow_none=True)
    recorded_at = DateTime()
    links = fields.List(fields.Nested(LinkSchema))
    outcome = fields.Dict(allow_none=True, metadata={"description": "What it did: transfers per unit, superseded and cancelled work, children, memberships moved"})


class ReorganizationQuerySchema(ma.Schema):
    organization_id = Id(metadata={"description": "Only reorganisations that changed this unit"})


class VersionSchema(ma.Schema):
    valid_from = fields.Date(allow_none=True)
    valid_to = fields.Date(allow_none=True)
    name = fields.String()
    short_name = fields.String(allow_none=True)
    parent_id = fields.Integer(allow_none=True)
    reorganization_id = fields.Integer(allow_none=True)


class LineageEntrySchema(ma.Schema):
    organization_id = fields.Integer()
    code = fields.String()
    name = fields.String()
    valid_from = fields.Date(allow_none=True)
    valid_to = fields.Date(allow_none=True)
    via_organization_id = fields.Integer(metadata={"description": "The unit this one is linked to (the organisation itself at depth 1)"})
    depth = fields.Integer()
    reorganization_id = fields.Integer()
    effective_on = fields.Date()


class LineageSchema(ma.Schema):
    organization = fields.Nested(OrganizationSchema)
    versions = fields.List(fields.Nested(VersionSchema))
    predecessors = fields.List(fields.Nested(LineageEntrySchema))
    successors = fields.List(fields.Nested(LineageEntrySchema))


class MemberSchema(ma.Schema):
    """A member as colleagues see them: no account details beyond contact."""

    user_id = fields.Integer()
    full_name = fields.String(attribute="user.full_name")
    phone = fields.String(attribute="user.phone", allow_none=True)
    email = fields.String(attribute="user.email", allow_none=True)
    role = fields.String(validate=validate.OneOf([r.value for r in MemberRole]))
