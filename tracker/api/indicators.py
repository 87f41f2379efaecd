from flask.views import MethodView

from tracker.api.security import current_principal, login_required
from tracker.schemas.indicator import IndicatorAsOfSchema, IndicatorDetailSchema, IndicatorQuerySchema, IndicatorSchema
from tracker.services import clock, indicators
from tracker.services.pagination import SQLPage
from tracker.web import Blueprint

URL_PREFIX = "/indicators"
blp = Blueprint("indicators", __name__, description="Chỉ tiêu: a plan's measurable targets, limited to the caller's scope")


@blp.route("")
class Indicators(MethodView):
    @login_required()
    @blp.arguments(IndicatorQuerySchema, location="query")
    @blp.response(200, IndicatorSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """Indicators one of whose reporting units is in the caller's scope, each judged as of `as_of`"""
        as_of = args.pop("as_of", None) or clock.today()
        status = args.pop("status", None)
        stmt = indicators.indicators_query(current_principal(), **args)
        if status is not None:
            stmt = indicators.with_status(stmt, status, as_of)
        page = SQLPage(stmt, pagination_parameters)  # sets pagination_parameters.item_count (one COUNT)
        return indicators.views(page.items, as_of)


@blp.route("/<int:indicator_id>")
class IndicatorDetail(MethodView):
    @login_required()
    @blp.arguments(IndicatorAsOfSchema, location="query")
    @blp.response(200, IndicatorDetailSchema)
    @blp.alt_response(404, description="No such indicator, or none of its units is in the caller's scope")
    def get(self, args, indicator_id):
        """One indicator: targets, units, baseline, latest accepted value, status and series as of `as_of`"""
        return indicators.indicator_detail(current_principal(), indicator_id, args.get("as_of") or clock.today())
