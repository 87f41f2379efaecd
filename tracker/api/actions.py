from flask import url_for
from flask.views import MethodView

from tracker.api.security import current_principal, login_required
from tracker.extensions import db
from tracker.schemas.assignment import ActionCreateSchema, ActionWriteSchema, GeneratedAssignmentsSchema
from tracker.schemas.plan import ActionSchema
from tracker.services import assignments, clock, planning
from tracker.web import LOCATION_HEADER, Blueprint

URL_PREFIX = ""
blp = Blueprint("actions", __name__, description="Nhiệm vụ: actions of a plan, and their finer splits")


@blp.route("/plans/<int:plan_id>/actions", methods=["POST"])
@login_required()
@blp.arguments(ActionCreateSchema)
@blp.response(201, ActionSchema, headers=LOCATION_HEADER)
@blp.alt_response(403, description="Only leaders of the issuing organisation, or admins")
@blp.alt_response(409, description="The ref is taken")
def create_action(data, plan_id):
    """Create an action, or split a bullet into a finer action (`parent_id`)"""
    action = planning.create_action(current_principal(), plan_id, data)
    db.session.commit()
    return action, 201, {"Location": url_for("actions.ActionDetail", action_id=action.id)}


@blp.route("/actions/<int:action_id>")
class ActionDetail(MethodView):
    @login_required()
    @blp.response(200, ActionSchema)
    @blp.alt_response(404, description="No such action")
    def get(self, action_id):
        """One action"""
        return planning.get_action(action_id)

    @login_required()
    @blp.arguments(ActionWriteSchema)
    @blp.response(200, ActionSchema)
    @blp.alt_response(403, description="Only leaders of the issuing organisation, or admins")
    def patch(self, data, action_id):
        """Edit an action (existing assignments keep their dates)"""
        action = planning.update_action(current_principal(), action_id, data)
        db.session.commit()
        return action


@blp.route("/actions/<int:action_id>/generate-assignments", methods=["POST"])
@login_required()
@blp.response(201, GeneratedAssignmentsSchema, description="Assignments were created: each with its `location`")
@blp.alt_response(200, schema=GeneratedAssignmentsSchema, success=True,
                 description="Nothing to create: every year is assigned (`created` 0)")
@blp.alt_response(403, description="Only leaders of the issuing organisation, or admins")
def generate(action_id):
    """A yearly action: create each missing year's assignment for every organisation that has it (idempotent)"""
    today = clock.today()
    principal = current_principal()
    created = planning.generate_recurring(principal, action_id, today=today)
    shown = assignments.for_caller(principal, created, today)  # read before the commit, as for a create
    db.session.commit()
    return {"created": len(shown), "assignments": shown}, 201 if shown else 200
