"""The signed-in user's choice of mails (reminders, urgings)."""

from flask_jwt_extended import current_user

from tracker.api.security import login_required
from tracker.extensions import db
from tracker.schemas.notification import MailPreferencesPatchSchema, MailPreferencesSchema
from tracker.services import mail
from tracker.web import Blueprint

URL_PREFIX = "/me/preferences"
blp = Blueprint("preferences", __name__, description="Cài đặt thông báo: which mails the signed-in user wants")


@blp.route("", methods=["GET"])
@login_required()
@blp.response(200, MailPreferencesSchema)
def get_preferences():
    """The signed-in user's mail address and the kinds of mail they want"""
    return mail.preferences_of(current_user)


@blp.route("", methods=["PATCH"])
@login_required()
@blp.arguments(MailPreferencesPatchSchema)
@blp.response(200, MailPreferencesSchema)
def patch_preferences(data):
    """Turn kinds of mail on or off; kinds not named stay as they are"""
    result = mail.set_preferences(current_user, data["email_preferences"])
    db.session.commit()
    return result
