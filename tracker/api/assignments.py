from flask import current_app, request, url_for
from flask.views import MethodView

from tracker import i18n
from tracker.api.security import current_principal, login_required
from tracker.errors import AppError, PreconditionFailed, PreconditionRequired, handle_app_error, localized_errors, request_language
from tracker.extensions import db
from tracker.schemas.assignment import (
    AsOfSchema, AssignmentCreateSchema, AssignmentPatchSchema, AssignmentQuerySchema, AssignmentSchema, BulkAssignSchema,
    BulkResultSchema, BulkTransitionSchema, CreatedAssignmentSchema, EventSchema, ExtensionDecisionSchema, ExtensionRequestSchema,
    ExtensionSchema, TransitionSchema, UrgeSchema,
)
from tracker.services import assignments, clock, planning, tallies, urging, workflow
from tracker.services.pagination import CURSOR_HEADERS, SQLPage, cursor_paging
from tracker.web import LOCATION_HEADER, Blueprint, representation_etag, versioned_etag

URL_PREFIX = "/assignments"
blp = Blueprint("assignments", __name__, description="Phân công: assignments, limited to the caller's scope")


def _summary(results: list[dict]) -> dict:
    """Counts and results; each failed item's messages in the language asked for, as a problem's."""
    language = request_language()
    for result in results:
        if result.get("detail"):
            result["detail"] = i18n.localize(result["detail"], language)
        if result.get("errors"):
            result["errors"] = localized_errors(result["errors"], language)
    failed = sum(1 for r in results if r["status"] >= 400)
    return {"succeeded": len(results) - failed, "failed": failed, "results": results}


def _with_etag(classified: assignments.Classified):
    """The answer with the assignment's version tag; a GET completes it with a digest of the body."""
    return classified, 200, versioned_etag(classified.etag)


def _detail(assignment, as_of) -> assignments.Classified:
    """The assignment as its GET shows it to the caller."""
    return assignments.for_caller(current_principal(), [assignment], as_of)[0]


def _precondition_problem(error: AppError):
    """A 412 or 428 of If-Match names in `etag` the tag a GET of the assignment gives now (version
    and digest), the very value of that GET's ETag header."""
    assignment = getattr(error, "assignment", None)
    if assignment is not None:
        shown = current_app.json.response(AssignmentSchema().dump(_detail(assignment, clock.today())))
        error.extra["etag"] = representation_etag(assignments.etag_of(assignment), shown)
    return handle_app_error(error)


blp.register_error_handler(PreconditionFailed, _precondition_problem)
blp.register_error_handler(PreconditionRequired, _precondition_problem)

ETAG_HEADER = {"ETag": {"schema": {"type": "string"}, "description": (
    "`\"<id>.<version>.<digest>\"`: send it back in If-Match to change the assignment (only its "
    "`<id>.<version>` part is compared, so it stays good until someone changes the assignment), or in "
    "If-None-Match to get a 304 while the answer is byte-identical (the digest covers the whole body, "
    "which also changes with the day, `as_of`, the caller and what they may do)")}}


def _location(assignment_id: int) -> str:
    return url_for("assignments.AssignmentDetail", assignment_id=assignment_id)


CHANGED_ETAG_HEADER = {"ETag": {"schema": {"type": "string"}, "description": (
    "The new version tag `\"<id>.<version>\"`: send it in If-Match for the next change")}}
CREATED_HEADERS = {**LOCATION_HEADER, "ETag": {"schema": {"type": "string"}, "description": (
    "When one assignment is created: its version tag `\"<id>.<version>\"`, good for If-Match as a GET's ETag is "
    "(a GET's adds a digest of its body)")}}


@blp.route("")
class Assignments(MethodView):
    @login_required()
    @blp.arguments(AssignmentQuerySchema, location="query")
    @cursor_paging
    @blp.response(200, AssignmentSchema(many=True), headers=CURSOR_HEADERS)
    @blp.alt_response(400, description="`cursor` with `page` (`pagination.cursor_with_page`), or a malformed or altered "
                                       "cursor, or one made for another sort (`pagination.invalid_cursor`)")
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """Assignments in the caller's scope, filtered, sorted, paged, each classified as of `as_of`

        Two ways to page: `page` and `page_size` (any page directly; deep pages of a big list are
        slow), or `cursor` and `page_size` (keyset paging: the rows after the previous page's last,
        as fast deep in the list as at its start). Every page that has a next one gives its cursor:
        `next_cursor` in `X-Pagination` and the `X-Next-Cursor` header; a page read by cursor also
        links to the next by `Link: <...?cursor=...>; rel="next"`, and its `X-Pagination` has the
        exact `total` and `last_page` but no page number. Keep the filters and `sort` while walking:
        a cursor made for another sort is a 400 `pagination.invalid_cursor`."""
        as_of = args.pop("as_of", None) or clock.today()
        cursor = args.pop("cursor", None)
        principal = current_principal()
        stmt = assignments.assignments_query(principal, as_of=as_of, **args)
        filters = {name: value for name, value in args.items() if name != "sort"}
        # The total from the maintained tallies when they can answer exactly, else one COUNT.
        page = SQLPage(stmt, pagination_parameters, count=lambda: tallies.total(principal, as_of=as_of, **filters),
                       ordering=args["sort"], cursor=cursor)
        return assignments.for_caller(principal, page.items, as_of), page.headers

    @login_required()
    @blp.arguments(AssignmentCreateSchema)
    @blp.response(201, CreatedAssignmentSchema(many=True), headers=CREATED_HEADERS)
    @blp.alt_response(403, description="Not a leader over this organisation")
    @blp.alt_response(409, description="Already assigned (`assignment.exists`)")
    def post(self, data):
        """Assign an action to one organisation (a yearly action: one assignment per year)

        Always a list of the assignments created, each with its `location`. A one-off action creates
        one: the `Location` and `ETag` headers then name it; a yearly action creates one per year
        (then no such headers: each item's `location` names it)."""
        today = clock.today()
        created = planning.assign(current_principal(), data, today=today)
        # Read before the commit: a change that is saved is answered as saved, even if the
        # database goes away right after (the outage tests).
        shown = assignments.for_caller(current_principal(), created, today)
        db.session.commit()
        if len(shown) != 1:
            return shown, 201
        return shown, 201, {"Location": _location(shown[0].id), **versioned_etag(shown[0].etag)}


@blp.route("/bulk", methods=["POST"])
@login_required()
@blp.arguments(BulkAssignSchema)
@blp.response(200, BulkResultSchema)
def bulk_assign(data):
    """Assign one action to many organisations in one request: a result per organisation

    Each organisation's result is `status` 201 with the `assignment_ids` created and their
    `locations`, or the error's status, `code` and `detail` (and `errors` for a bad field, e.g. an
    unknown organisation); the organisations that succeed are assigned, the others not."""
    results = planning.bulk_assign(current_principal(), data, today=clock.today())
    db.session.commit()
    for result in results:
        if result["status"] < 400:
            result["status"] = 201
            result["locations"] = [_location(assignment_id) for assignment_id in result["assignment_ids"]]
    return _summary(results)


@blp.route("/transitions", methods=["POST"])
@login_required()
@blp.arguments(BulkTransitionSchema)
@blp.response(200, BulkResultSchema)
def bulk_transition(data):
    """Many transitions (e.g. approve many submissions) in one transaction: a result per item"""
    results = workflow.bulk_transition(current_principal(), data["items"], today=clock.today(),
                                       backdate_max_days=current_app.config["BACKDATE_MAX_DAYS"])
    db.session.commit()
    return _summary(results)


@blp.route("/urge", methods=["POST"])
@login_required()
@blp.arguments(UrgeSchema)
@blp.response(200, BulkResultSchema)
def urge(data):
    """Urge overdue work (đôn đốc): a result per assignment

    Each assignment urged counts (`urge_count`, `last_urged_at`), gets a history event ("Đôn đốc lần
    2", the message as its note) and notifies the unit's officers and the owner (GET
    /me/notifications); it keeps its version, so an officer's If-Match stays good. An item fails
    alone: 404 outside the caller's scope, 403 `urge.forbidden` for anyone but a leader over the
    unit (or an admin), 409 `urge.not_overdue` for work not overdue today."""
    results = urging.urge_many(current_principal(), data["assignment_ids"], data.get("message"), today=clock.today())
    db.session.commit()
    return _summary(results)


@blp.route("/<int:assignment_id>")
class AssignmentDetail(MethodView):
    @login_required()
    @blp.arguments(AsOfSchema, location="query")
    @blp.response(200, AssignmentSchema, headers=ETAG_HEADER)
    @blp.alt_response(404, description="No such assignment in the caller's scope")
    def get(self, args, assignment_id):
        """One assignment (404 outside the caller's scope), with its ETag

        The ETag `"<id>.<version>.<digest>"` serves both conditional requests: If-Match (PATCH,
        transitions) compares only the version part, If-None-Match compares the whole tag and
        answers 304 without a body only when this answer would be byte-identical. An answer of
        PATCH or of a transition carries the bare version tag `"<id>.<version>"`: good for
        If-Match, never a match for If-None-Match."""
        as_of = args.get("as_of") or clock.today()
        return _with_etag(_detail(assignments.get_assignment(current_principal(), assignment_id), as_of))

    @login_required()
    @blp.arguments(AssignmentPatchSchema)
    @blp.response(200, AssignmentSchema, headers=CHANGED_ETAG_HEADER)
    @blp.alt_response(403, description="Leaders change owner and due date; assigned officers progress and note")
    @blp.alt_response(412, description="Stale: the If-Match ETag is not the current one (`assignment.stale`)")
    @blp.alt_response(428, description="If-Match is required (`assignment.precondition_required`)")
    @blp.doc(parameters=[{"in": "header", "name": "If-Match", "required": True, "schema": {"type": "string"},
                          "description": "The ETag of the assignment as last read (GET, or the answer of a change)"}])
    def patch(self, data, assignment_id):
        """Change owner, due date, progress or note; needs If-Match with the current ETag"""
        principal = current_principal()
        assignment = assignments.get_assignment(principal, assignment_id)
        assignments.check_version(assignment, request.if_match, required=True)
        assignments.update(principal, assignment, data)
        shown = _detail(assignment, clock.today())  # read before the commit, as for a create
        db.session.commit()
        return _with_etag(shown)


@blp.route("/<int:assignment_id>/transitions", methods=["POST"])
@login_required()
@blp.arguments(TransitionSchema)
@blp.response(200, AssignmentSchema, headers=CHANGED_ETAG_HEADER)
@blp.alt_response(403, description="Read-only access")
@blp.alt_response(409, description="Not allowed from the current status (`assignment.invalid_transition`, with `allowed`), or evidence missing")
@blp.alt_response(412, description="If-Match given and stale (`assignment.stale`, with the current `etag`)")
@blp.doc(parameters=[{"in": "header", "name": "If-Match", "required": False, "schema": {"type": "string"},
                      "description": "Optional: the ETag of the assignment as last read; the move is refused (412) if it changed since"}])
def transition(data, assignment_id):
    """Move the assignment: start, submit, approve, return, block, resume, cancel.

    `effective_on` records a fact that happened earlier (a report delivered on paper): not in the
    future, not before the work was assigned or the previous status change took effect; officers may
    date back at most BACKDATE_MAX_DAYS days (default 7), leaders further with a note. Completing or
    cancelling lets any pending extension request lapse."""
    assignment = workflow.transition(current_principal(), assignment_id, data["to"], today=clock.today(),
                                     note=data.get("note"), progress=data.get("progress"), if_match=request.if_match,
                                     effective_on=data.get("effective_on"), backdate_max_days=current_app.config["BACKDATE_MAX_DAYS"])
    shown = _detail(assignment, clock.today())  # read before the commit, as for a create
    db.session.commit()
    return _with_etag(shown)


@blp.route("/<int:assignment_id>/history")
@login_required()
@blp.response(200, EventSchema(many=True))
@blp.paginate(SQLPage)
def history(assignment_id):
    """Every event, in order: actor, time, kind, old and new values, note"""
    return assignments.history_of(current_principal(), assignment_id)


@blp.route("/<int:assignment_id>/extensions")
class Extensions(MethodView):
    @login_required()
    @blp.response(200, ExtensionSchema(many=True))
    @blp.paginate(SQLPage)
    def get(self, assignment_id):
        """Extension requests of the assignment"""
        return workflow.extensions_of(current_principal(), assignment_id)

    @login_required()
    @blp.arguments(ExtensionRequestSchema)
    @blp.response(201, ExtensionSchema, headers=LOCATION_HEADER)
    @blp.alt_response(409, description="A request is already pending, or the assignment is closed")
    def post(self, data, assignment_id):
        """Ask for a later due date, with a reason"""
        extension = workflow.request_extension(current_principal(), assignment_id, data["new_due_date"], data["reason"],
                                               today=clock.today())
        db.session.commit()
        return extension, 201, {"Location": url_for("assignments.extension_detail", assignment_id=assignment_id,
                                                    extension_id=extension.id)}


@blp.route("/<int:assignment_id>/extensions/<int:extension_id>")
@login_required()
@blp.response(200, ExtensionSchema)
@blp.alt_response(404, description="No such assignment in the caller's scope, or no such request of it (`extension.not_found`)")
def extension_detail(assignment_id, extension_id):
    """One extension request of the assignment"""
    return workflow.get_extension(current_principal(), assignment_id, extension_id)


@blp.route("/<int:assignment_id>/extensions/<int:extension_id>/decision", methods=["POST"])
@login_required()
@blp.arguments(ExtensionDecisionSchema)
@blp.response(200, ExtensionSchema)
@blp.alt_response(403, description="Only leaders over the organisation decide")
@blp.alt_response(409, description="Already decided (`extension.already_decided`), or the assignment is closed and the request lapsed (`extension.assignment_closed`)")
def decide_extension(data, assignment_id, extension_id):
    """Grant (the due date moves; the original stays) or refuse (with a reason)"""
    extension = workflow.decide_extension(current_principal(), assignment_id, extension_id, data["decision"], data.get("note"))
    db.session.commit()
    return extension
