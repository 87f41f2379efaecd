from flask.views import MethodView

from tracker.schemas.organization import OrganizationQuerySchema, OrganizationSchema
from tracker.services import catalogue
from tracker.services.pagination import SQLPage
from tracker.web import Blueprint

URL_PREFIX = "/organizations"
blp = Blueprint("organizations", __name__, description="Cơ quan, đơn vị: the organisation tree")


@blp.route("")
class Organizations(MethodView):
    @blp.arguments(OrganizationQuerySchema, location="query")
    @blp.response(200, OrganizationSchema(many=True))
    @blp.paginate(SQLPage)
    def get(self, args):
        """List organisations (with parent ids), filterable by parent"""
        return catalogue.organizations_query(**args)
