from flask import url_for
from flask.views import MethodView

from tracker.api.security import admin_required, current_principal, login_required
from tracker.extensions import db
from tracker.schemas.organization import (
    LineageSchema, MemberSchema, OrganizationAsOfSchema, OrganizationCloseSchema, OrganizationCreateSchema, OrganizationQuerySchema,
    OrganizationSchema, OrganizationUpdateSchema, ReorganizationCreateSchema, ReorganizationQuerySchema, ReorganizationSchema,
)
from tracker.services import clock, org_tree, organizations, reorganization
from tracker.services.pagination import RowPage, SQLPage
from tracker.web import LOCATION_HEADER, Blueprint

URL_PREFIX = "/organizations"
blp = Blueprint("organizations", __name__, description="Cơ quan, đơn vị: the organisation tree, dated reorganisations and lineage")


@blp.route("")
class Organizations(MethodView):
    @login_required()
    @blp.arguments(OrganizationQuerySchema, location="query")
    @blp.response(200, OrganizationSchema(many=True))
    @blp.paginate(RowPage)
    def get(self, args):
        """List organisations (with parent ids), filterable by parent, and by the day they existed (`active_on`)"""
        return organizations.organizations_query(**args, today=clock.today())

    @admin_required
    @blp.arguments(OrganizationCreateSchema)
    @blp.response(201, OrganizationSchema, headers=LOCATION_HEADER)
    @blp.alt_response(409, description="Code taken")
    def post(self, data):
        """Create an organisation"""
        org = organizations.create_organization(data)
        db.session.commit()
        return org, 201, {"Location": url_for("organizations.OrganizationDetail", org_id=org.id)}


@blp.route("/<int:org_id>")
class OrganizationDetail(MethodView):
    @login_required()
    @blp.arguments(OrganizationAsOfSchema, location="query")
    @blp.response(200, OrganizationSchema)
    @blp.alt_response(404, description="No such organisation (or it did not exist on `as_of`)")
    def get(self, args, org_id):
        """One organisation; with `as_of`, its name and parent valid on that day"""
        if args.get("as_of") is not None:
            return organizations.organization_on(org_id, args["as_of"])
        return organizations.get_organization(org_id)

    @admin_required
    @blp.arguments(OrganizationUpdateSchema)
    @blp.response(200, OrganizationSchema)
    @blp.alt_response(404, description="No such organisation")
    def patch(self, data, org_id):
        """Update an organisation; a new name or parent is a dated rename or move (`effective_on`, default today), and a move that would make a cycle is refused"""
        org = organizations.update_organization(current_principal(), organizations.get_organization(org_id), data, today=clock.today())
        db.session.commit()
        return org


@blp.route("/<int:org_id>/close", methods=["POST"])
@admin_required
@blp.arguments(OrganizationCloseSchema)
@blp.response(200, OrganizationSchema)
@blp.alt_response(404, description="No such organisation")
@blp.alt_response(409, description="Already closed")
def close(data, org_id):
    """Close an organisation on `valid_to`: with a successor its open work passes on (a merger); history stays"""
    org = organizations.close_organization(current_principal(), organizations.get_organization(org_id), data, today=clock.today())
    db.session.commit()
    return org


@blp.route("/<int:org_id>/lineage")
@login_required()
@blp.response(200, LineageSchema)
@blp.alt_response(404, description="No such organisation")
def lineage(org_id):
    """Predecessors and successors across reorganisations, and the organisation's dated names and parents"""
    org = organizations.get_organization(org_id)
    return {"organization": org, "versions": reorganization.versions_of(org), **org_tree.lineage_of(org.id)}


@blp.route("/reorganizations")
class Reorganizations(MethodView):
    @login_required()
    @blp.arguments(ReorganizationQuerySchema, location="query")
    @blp.response(200, ReorganizationSchema(many=True))
    @blp.paginate(SQLPage)
    def get(self, args):
        """Reorganisations, latest first (optionally those that changed one organisation)"""
        return reorganization.reorganizations_query(**args)

    @admin_required
    @blp.arguments(ReorganizationCreateSchema)
    @blp.response(201, ReorganizationSchema, headers=LOCATION_HEADER)
    @blp.alt_response(409, description="A unit is closed, or a later change of it is recorded")
    def post(self, data):
        """Record a dated reorganisation: merge, split, rename, move or close. Open work passes to successors; past reports keep the old tree"""
        found = reorganization.reorganize(current_principal(), data, today=clock.today())
        db.session.commit()
        return found, 201, {"Location": url_for("organizations.reorganization_detail", reorganization_id=found.id)}


@blp.route("/reorganizations/<int:reorganization_id>")
@login_required()
@blp.response(200, ReorganizationSchema)
@blp.alt_response(404, description="No such reorganisation")
def reorganization_detail(reorganization_id):
    """One reorganisation, with its links and what it did"""
    return reorganization.get_reorganization(reorganization_id)


@blp.route("/<int:org_id>/members")
@login_required()
@blp.response(200, MemberSchema(many=True))
@blp.alt_response(404, description="No such organisation in the caller's scope")
@blp.paginate(SQLPage)
def members(org_id):
    """Active members of an organisation in the caller's scope, e.g. to choose an assignment's owner"""
    return organizations.members_query(current_principal(), org_id)
