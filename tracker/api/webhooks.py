"""Webhooks for other systems: endpoints, their delivery log, redelivery (admins only)."""

from flask import url_for
from flask.views import MethodView

from tracker.api.security import admin_required, current_principal
from tracker.extensions import db
from tracker.schemas.webhook import (
    DeliveryQuerySchema, DeliverySchema, WebhookCreatedSchema, WebhookCreateSchema, WebhookSchema, WebhookUpdateSchema,
)
from tracker.services import webhooks
from tracker.services.pagination import SQLPage
from tracker.web import LOCATION_HEADER, Blueprint

URL_PREFIX = "/webhooks"
blp = Blueprint("webhooks", __name__, description=(
    "Webhook: events sent to other systems (admins only). Each delivery is a POST signed as Standard Webhooks asks "
    "(`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256 of id.timestamp.body>`), "
    "retried with exponential backoff for 24 hours, then kept as failed and re-deliverable"))


@blp.route("")
class Webhooks(MethodView):
    @admin_required
    @blp.response(200, WebhookSchema(many=True))
    @blp.paginate(SQLPage)
    def get(self):
        """List webhook endpoints (their secrets are not shown)"""
        return webhooks.endpoints_query()

    @admin_required
    @blp.arguments(WebhookCreateSchema)
    @blp.response(201, WebhookCreatedSchema, headers=LOCATION_HEADER)
    @blp.alt_response(422, description="A URL that is not http(s) (`webhook.invalid_url`), names a private or loopback "
                                       "address (`webhook.private_address`), or a secret that is not whsec_ base64 "
                                       "(`webhook.invalid_secret`)")
    def post(self, data):
        """Register an endpoint; the answer shows its signing secret, once"""
        endpoint = webhooks.create_endpoint(data, current_principal().user_id)
        db.session.commit()
        return endpoint, 201, {"Location": url_for("webhooks.WebhookDetail", endpoint_id=endpoint.id)}


@blp.route("/<int:endpoint_id>")
class WebhookDetail(MethodView):
    @admin_required
    @blp.response(200, WebhookSchema)
    @blp.alt_response(404, description="No such webhook (`webhook.not_found`)")
    def get(self, endpoint_id):
        """One endpoint"""
        return webhooks.get_endpoint(endpoint_id)

    @admin_required
    @blp.arguments(WebhookUpdateSchema)
    @blp.response(200, WebhookSchema)
    @blp.alt_response(404, description="No such webhook (`webhook.not_found`)")
    @blp.alt_response(422, description="A URL refused as at registration")
    def patch(self, data, endpoint_id):
        """Change an endpoint's URL, event types, description, or turn it off and on"""
        endpoint = webhooks.update_endpoint(webhooks.get_endpoint(endpoint_id), data)
        db.session.commit()
        return endpoint

    @admin_required
    @blp.response(204)
    @blp.alt_response(404, description="No such webhook (`webhook.not_found`)")
    def delete(self, endpoint_id):
        """Remove an endpoint and its delivery log"""
        webhooks.delete_endpoint(webhooks.get_endpoint(endpoint_id))
        db.session.commit()


@blp.route("/<int:endpoint_id>/deliveries", methods=["GET"])
@admin_required
@blp.arguments(DeliveryQuerySchema, location="query")
@blp.response(200, DeliverySchema(many=True))
@blp.alt_response(404, description="No such webhook (`webhook.not_found`)")
@blp.paginate(SQLPage)
def list_deliveries(args, endpoint_id):
    """An endpoint's delivery log, newest first, each with its attempts"""
    return webhooks.deliveries_query(endpoint_id, **args)


@blp.route("/deliveries/<int:delivery_id>/redeliver", methods=["POST"])
@admin_required
@blp.response(200, DeliverySchema)
@blp.alt_response(404, description="No such delivery (`webhook.delivery_not_found`)")
@blp.alt_response(409, description="The delivery is pending already (`webhook.delivery_pending`)")
def redeliver(delivery_id):
    """Send a failed or delivered delivery again: pending, due now, with a fresh 24-hour window"""
    delivery = webhooks.redeliver(delivery_id)
    db.session.commit()
    return delivery
