from flask.views import MethodView

from tracker.api.security import admin_required, current_principal, login_required
from tracker.extensions import db
from tracker.schemas.organization import (
    MemberSchema, OrganizationCloseSchema, OrganizationCreateSchema, OrganizationQuerySchema, OrganizationSchema,
    OrganizationUpdateSchema,
)
from tracker.services import organizations
from tracker.services.pagination import SQLPage
from tracker.web import Blueprint

URL_PREFIX = "/organizations"
blp = Blueprint("organizations", __name__, description="Cơ quan, đơn vị: the organisation tree")


@blp.route("")
class Organizations(MethodView):
    @login_required()
    @blp.arguments(OrganizationQuerySchema, location="query")
    @blp.response(200, OrganizationSchema(many=True))
    @blp.paginate(SQLPage)
    def get(self, args):
        """List organisations (with parent ids), filterable by parent"""
        return organizations.organizations_query(**args)

    @admin_required
    @blp.arguments(OrganizationCreateSchema)
    @blp.response(201, OrganizationSchema)
    @blp.alt_response(409, description="Code taken")
    def post(self, data):
        """Create an organisation"""
        org = organizations.create_organization(data)
        db.session.commit()
        return org


@blp.route("/<int:org_id>")
class OrganizationDetail(MethodView):
    @login_required()
    @blp.response(200, OrganizationSchema)
    @blp.alt_response(404, description="No such organisation")
    def get(self, org_id):
        """One organisation"""
        return organizations.get_organization(org_id)

    @admin_required
    @blp.arguments(OrganizationUpdateSchema)
    @blp.response(200, OrganizationSchema)
    @blp.alt_response(404, description="No such organisation")
    def patch(self, data, org_id):
        """Update or move an organisation (a move that would make a cycle is refused)"""
        org = organizations.update_organization(organizations.get_organization(org_id), data)
        db.session.commit()
        return org


@blp.route("/<int:org_id>/close", methods=["POST"])
@admin_required
@blp.arguments(OrganizationCloseSchema)
@blp.response(200, OrganizationSchema)
@blp.alt_response(404, description="No such organisation")
@blp.alt_response(409, description="Already closed")
def close(data, org_id):
    """Close an organisation (merger, rename), naming its successor; history stays"""
    org = organizations.close_organization(organizations.get_organization(org_id), data["valid_to"], data["successor_id"])
    db.session.commit()
    return org


@blp.route("/<int:org_id>/members")
@login_required()
@blp.response(200, MemberSchema(many=True))
@blp.alt_response(404, description="No such organisation in the caller's scope")
@blp.paginate(SQLPage)
def members(org_id):
    """Active members of an organisation in the caller's scope, e.g. to choose an assignment's owner"""
    return organizations.members_query(current_principal(), org_id)
