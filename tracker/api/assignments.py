from flask.views import MethodView

from tracker.api.security import current_principal, login_required
from tracker.schemas.assignment import AssignmentQuerySchema, AssignmentSchema
from tracker.services import assignments
from tracker.services.pagination import SQLPage
from tracker.web import Blueprint

URL_PREFIX = "/assignments"
blp = Blueprint("assignments", __name__, description="Phân công: assignments, limited to the caller's scope")


@blp.route("")
class Assignments(MethodView):
    @login_required()
    @blp.arguments(AssignmentQuerySchema, location="query")
    @blp.response(200, AssignmentSchema(many=True))
    @blp.paginate(SQLPage)
    def get(self, args):
        """Assignments in the caller's scope"""
        return assignments.assignments_query(current_principal(), **args)


@blp.route("/<int:assignment_id>")
class AssignmentDetail(MethodView):
    @login_required()
    @blp.response(200, AssignmentSchema)
    @blp.alt_response(404, description="No such assignment in the caller's scope")
    def get(self, assignment_id):
        """One assignment (404 outside the caller's scope)"""
        return assignments.get_assignment(current_principal(), assignment_id)
