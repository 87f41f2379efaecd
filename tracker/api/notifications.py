"""The signed-in user's in-app notifications (an urging of their unit's work, for now)."""

from flask_jwt_extended import current_user

from tracker.api.security import login_required
from tracker.extensions import db
from tracker.schemas.notification import MarkedSchema, MarkReadSchema, NotificationQuerySchema, NotificationSchema
from tracker.services import notifications
from tracker.services.pagination import SQLPage
from tracker.web import Blueprint

URL_PREFIX = "/me/notifications"
blp = Blueprint("notifications", __name__, description="Thông báo: the signed-in user's notifications")

UNREAD_HEADER = {"X-Unread-Count": {"schema": {"type": "string", "pattern": "^[0-9]+$"},
                                    "description": "How many of the user's notifications are unread (all pages)"}}


@blp.route("", methods=["GET"])
@login_required()
@blp.arguments(NotificationQuerySchema, location="query")
@blp.response(200, NotificationSchema(many=True), headers=UNREAD_HEADER)
@blp.paginate(SQLPage)
def list_notifications(args):
    """The signed-in user's notifications, newest first; the unread count in X-Unread-Count"""
    return notifications.notifications_query(current_user.id, **args), {"X-Unread-Count": str(notifications.unread_count(current_user.id))}


@blp.route("/read", methods=["POST"])
@login_required()
@blp.arguments(MarkReadSchema)
@blp.response(200, MarkedSchema)
@blp.alt_response(404, description="An id that is not one of the caller's notifications (`notification.not_found`): "
                                   "nothing is marked")
def mark_read(data):
    """Mark notifications read: some (`ids`) or all (`all: true`)"""
    ids = data.get("ids")
    marked = notifications.mark_read(current_user.id, ids) if ids is not None or data.get("all") else 0
    db.session.commit()
    return {"marked": marked, "unread": notifications.unread_count(current_user.id)}
