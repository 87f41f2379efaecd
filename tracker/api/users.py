from flask import url_for
from flask.views import MethodView

from tracker.api.security import admin_required
from tracker.extensions import db
from tracker.schemas.user import UserQuerySchema, UserSchema, UserUpdateSchema
from tracker.services import users
from tracker.services.pagination import SQLPage
from tracker.web import LOCATION_HEADER, Blueprint

URL_PREFIX = "/users"
blp = Blueprint("users", __name__, description="Người dùng: user administration (admins only)")


@blp.route("")
class Users(MethodView):
    @admin_required
    @blp.arguments(UserQuerySchema, location="query")
    @blp.response(200, UserSchema(many=True))
    @blp.paginate(SQLPage)
    def get(self, args):
        """List users"""
        return users.users_query(**args)

    @admin_required
    @blp.arguments(UserSchema)
    @blp.response(201, UserSchema, headers=LOCATION_HEADER)
    @blp.alt_response(409, description="Username taken")
    def post(self, data):
        """Create a user with memberships"""
        user = users.create_user(data)
        db.session.commit()
        return user, 201, {"Location": url_for("users.UserDetail", user_id=user.id)}


@blp.route("/<int:user_id>")
class UserDetail(MethodView):
    @admin_required
    @blp.response(200, UserSchema)
    @blp.alt_response(404, description="No such user")
    def get(self, user_id):
        """One user"""
        return users.get_user(user_id)

    @admin_required
    @blp.arguments(UserUpdateSchema)
    @blp.response(200, UserSchema)
    @blp.alt_response(404, description="No such user")
    def patch(self, data, user_id):
        """Update a user (memberships, when given, replace the current ones)

        A new password, deactivation or the loss of every membership ends all the user's sessions."""
        user = users.update_user(users.get_user(user_id), data)
        db.session.commit()
        return user

    @admin_required
    @blp.response(204)
    @blp.alt_response(404, description="No such user")
    def delete(self, user_id):
        """Deactivate a user: their sessions end and their tokens stop working at once; history keeps them"""
        users.deactivate_user(users.get_user(user_id))
        db.session.commit()
