from flask_jwt_extended import current_user, get_jwt

from tracker.api.security import admin_required, client_address, current_principal, current_session, login_required, user_agent
from tracker.domain.sign_in import EndReason
from tracker.errors import AppError
from tracker.extensions import db
from tracker.schemas.auth import (
    LoginSchema, PasswordChangeSchema, RefreshSchema, SignInQuerySchema, SignInSchema, TokenPairSchema,
)
from tracker.schemas.user import MeSchema
from tracker.services import auth, sessions
from tracker.services.pagination import SQLPage
from tracker.web import Blueprint

URL_PREFIX = "/auth"
blp = Blueprint("auth", __name__, description="Đăng nhập: sign-in with bearer JWTs, one session per sign-in")


def _answer(outcome):
    """Commit what the service recorded (a failed attempt, an ended session), then answer."""
    db.session.commit()
    if isinstance(outcome, AppError):
        raise outcome
    return outcome


@blp.route("/login", methods=["POST"])
@blp.arguments(LoginSchema)
@blp.response(200, TokenPairSchema)
@blp.alt_response(401, description="Wrong username or password (the same for an unknown user)")
@blp.alt_response(429, description="Too many failed sign-ins for this account from this address, or from this address; see Retry-After")
def login(credentials):
    """Sign in: a new session, with an access token (short-lived) and a refresh token"""
    return _answer(auth.login(credentials["username"], credentials["password"], client_address(), user_agent()))


@blp.route("/refresh", methods=["POST"])
@login_required(refresh=True, locations=["headers", "json"])
@blp.arguments(RefreshSchema, required=False)
@blp.response(200, TokenPairSchema)
def refresh(_body):
    """A new access token and a new refresh token, for the refresh token presented (header or body)

    The refresh token presented is spent: presenting it again ends the session (401 `auth.refresh_reused`)."""
    return _answer(sessions.rotate(current_session(), get_jwt()["jti"]))


@blp.route("/logout", methods=["POST"])
@login_required(verify_type=False)
@blp.response(204)
def logout():
    """End the session of the presented token (access or refresh): both its tokens stop working"""
    sessions.end_session(current_session().id, EndReason.LOGOUT)
    db.session.commit()


@blp.route("/password", methods=["POST"])
@login_required()
@blp.arguments(PasswordChangeSchema)
@blp.response(200, TokenPairSchema)
@blp.alt_response(403, description="The current password is wrong")
@blp.alt_response(429, description="Too many wrong passwords; see Retry-After")
def change_password(data):
    """Change your own password: every session of yours ends, and the answer starts a new one"""
    return _answer(auth.change_password(current_user, data["current_password"], data["new_password"], client_address(),
                                        user_agent()))


@blp.route("/sign-ins", methods=["GET"])
@admin_required
@blp.arguments(SignInQuerySchema, location="query")
@blp.response(200, SignInSchema(many=True))
@blp.paginate(SQLPage)
def sign_ins(args):
    """Sign-in attempts, newest first: who, from where, with what outcome and why (admins)"""
    return auth.sign_ins_query(**args)


@blp.route("/me", methods=["GET"])
@login_required()
@blp.response(200, MeSchema)
def me():
    """The signed-in user, their memberships and their scope"""
    principal = current_principal()
    return {
        "user": current_user,
        "scope": {
            "all": principal.is_admin,
            "subtree_roots": sorted(principal.subtree_roots),
            "own_organizations": sorted(principal.own_organizations),
        },
    }
