from flask import request, url_for
from flask.views import MethodView

from tracker.api.security import admin_required, login_required
from tracker.extensions import db
from tracker.schemas.plan import ImportResultSchema, PlanDetailSchema, PlanSchema
from tracker.services import catalogue, plan_import
from tracker.services.pagination import SQLPage
from tracker.web import Blueprint, accepts

URL_PREFIX = "/plans"
blp = Blueprint("plans", __name__, description="Kế hoạch: plans with their task groups and actions")

YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")


@blp.route("")
class Plans(MethodView):
    @login_required()
    @blp.response(200, PlanSchema(many=True))
    @blp.paginate(SQLPage)
    def get(self):
        """List plans, newest first"""
        return catalogue.plans_query()


@blp.route("/<int:plan_id>")
class PlanDetail(MethodView):
    @login_required()
    @blp.response(200, PlanDetailSchema)
    @blp.alt_response(404, description="No such plan")
    def get(self, plan_id):
        """A plan with its task groups (numbered) and their actions, and its section IV duties"""
        return catalogue.get_plan_detail(plan_id)


_IMPORT_BODY = {
    "description": "A plan file in the `tracker-plan/1` format (see README, 'Importing a plan'), as JSON or YAML.",
    "required": True,
    "content": {
        "application/json": {"schema": {"type": "object"}},
        "application/yaml": {"schema": {"type": "object"}},
    },
}


@blp.route("/import")
class PlanImport(MethodView):
    @admin_required
    @accepts("application/json", *YAML_TYPES)
    @blp.doc(requestBody=_IMPORT_BODY)
    @blp.response(200, ImportResultSchema, description="The plan was updated, or was already as the file says")
    @blp.alt_response(201, schema=ImportResultSchema, description="A new plan was created (`plan_outcome: created`)",
                      headers={"Location": {"schema": {"type": "string"}, "description": "The new plan's URL"}}, success=True)
    @blp.alt_response(413, description="Larger than 5 MiB")
    @blp.alt_response(422, description="The file is invalid; `errors` names each field path")
    def post(self):
        """Import or update a whole plan, all-or-nothing: 201 with `Location` when it creates the plan, else 200"""
        fmt = "yaml" if request.mimetype in YAML_TYPES else "json"
        request.max_content_length = plan_import.MAX_FILE_BYTES  # refused before it is read
        doc = plan_import.validate_plan_file(plan_import.parse_plan_file(request.get_data(cache=False), fmt))
        result = plan_import.import_plan(doc)
        db.session.commit()
        if result.plan_outcome == "created":
            return result, 201, {"Location": url_for("plans.PlanDetail", plan_id=result.plan.id)}
        return result
